package vane

import "context"

// PathTagger is implemented by stores that read the tags of every
// parameter under a path in one read, which an export of a whole subtree
// needs: a Tags call per parameter costs a read transaction each (some
// 70 us on SQLite, a network round trip or more on PostgreSQL; see
// BenchmarkExport100k in cmd/vane).
type PathTagger interface {
	// TagsByPath returns the tags of every parameter under a canonical
	// path (see ValidatePath; recursive, "/" for all), by name, each
	// list sorted by key as Tags sorts it; parameters without tags are
	// left out. Errors: EINVALID for a path that is not canonical.
	TagsByPath(ctx context.Context, path string) (map[string][]Tag, error)
}

// TagsByPath returns the tags of every parameter under a canonical path,
// as PathTagger does: from the first store in the chain from s (see
// StoreAs) that is a PathTagger, else by a Tags call per parameter.
func TagsByPath(ctx context.Context, s Store, path string) (map[string][]Tag, error) {
	if _, err := checkCanonicalPath(path); err != nil {
		return nil, err
	}
	if t, ok := StoreAs[PathTagger](s); ok {
		return t.TagsByPath(ctx, path)
	}
	ps, err := AllUnder(ctx, s, path, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]Tag{}
	for _, p := range ps {
		tags, err := s.Tags(ctx, p.Name)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			// Deleted since it was listed.
		case err != nil:
			return nil, err
		case len(tags) > 0:
			out[p.Name] = tags
		}
	}
	return out, nil
}

// checkCanonicalPath checks that path is what ValidatePath returns for it.
func checkCanonicalPath(path string) (string, error) {
	c, err := ValidatePath(path)
	if err == nil && c != path {
		err = DetailErrorf(EINVALID, DetailValidation, "path %q is not canonical: use %q", path, c)
	}
	return c, err
}
