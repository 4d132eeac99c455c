package http

import (
	"net/http"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// registerMetadataRoutes adds the route that lists parameter metadata.
func (s *Server) registerMetadataRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/metadata", s.handleMetadata)
}

// handleMetadata serves GET /v1/metadata: the metadata (no value, no
// labels) of latest versions, filtered.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "path", "recursive", "name", "name_prefix", "name_contains",
		"type", "key_id", "tier", "data_type", "tag", "limit", "next_token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := describeInput(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.Store.Describe(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page.Parameters = s.filterParameters(r.Context(), auth.ActionDescribeParameters, page.Parameters)
	writeJSON(w, http.StatusOK, newPageJSON(page))
}

// describeInput turns the query of /v1/metadata into store filters. Each
// parameter may repeat; its values are alternatives.
func describeInput(q query) (*vane.DescribeInput, error) {
	in := &vane.DescribeInput{}
	var err error
	if in.Limit, err = q.limit(); err != nil {
		return nil, err
	}
	if in.NextToken, err = q.one("next_token"); err != nil {
		return nil, err
	}

	recursive, err := q.boolean("recursive")
	if err != nil {
		return nil, err
	}
	if paths := q.all("path"); len(paths) > 0 {
		opt := vane.OptionOneLevel
		if recursive {
			opt = vane.OptionRecursive
		}
		in.Filters = append(in.Filters, vane.Filter{Key: vane.FilterPath, Option: opt, Values: paths})
	} else if q.has("recursive") {
		return nil, invalidf("query parameter \"recursive\" needs \"path\"")
	}

	// The store takes one Name filter, so only one of the name forms.
	var nameParam string
	for _, f := range []struct{ param, option string }{
		{"name", vane.OptionEquals},
		{"name_prefix", vane.OptionBeginsWith},
		{"name_contains", vane.OptionContains},
	} {
		vs := q.all(f.param)
		if len(vs) == 0 {
			continue
		}
		if nameParam != "" {
			return nil, invalidf("query parameters %q and %q can't be combined", nameParam, f.param)
		}
		nameParam = f.param
		in.Filters = append(in.Filters, vane.Filter{Key: vane.FilterName, Option: f.option, Values: vs})
	}

	for _, f := range []struct{ param, key string }{
		{"type", vane.FilterType},
		{"key_id", vane.FilterKeyID},
		{"tier", vane.FilterTier},
		{"data_type", vane.FilterDataType},
	} {
		if vs := q.all(f.param); len(vs) > 0 {
			in.Filters = append(in.Filters, vane.Filter{Key: f.key, Option: vane.OptionEquals, Values: vs})
		}
	}

	tags, err := tagFilters(q.all("tag"))
	if err != nil {
		return nil, err
	}
	in.Filters = append(in.Filters, tags...)
	return in, nil
}

// tagFilters turns tag=KEY (the tag exists) and tag=KEY=VALUE (it has that
// value) parameters into filters, one per key; values given for one key
// are alternatives, and a bare KEY for that key matches any value. The key
// ends at the first '=', so a key holding '=' can't be filtered on.
func tagFilters(params []string) ([]vane.Filter, error) {
	var (
		keys     []string
		values   = map[string][]string{}
		anyValue = map[string]bool{}
	)
	for _, p := range params {
		key, value, hasValue := strings.Cut(p, "=")
		if key == "" {
			return nil, invalidf("query parameter \"tag\" must be KEY or KEY=VALUE, not %q", p)
		}
		if _, seen := values[key]; !seen && !anyValue[key] {
			keys = append(keys, key)
		}
		if !hasValue {
			anyValue[key] = true
			continue
		}
		if value == "" {
			return nil, invalidf("query parameter \"tag\" %q has an empty value: use tag=%s to match any value", p, key)
		}
		values[key] = append(values[key], value)
	}
	out := make([]vane.Filter, 0, len(keys))
	for _, key := range keys {
		f := vane.Filter{Key: vane.FilterTagPre + key, Option: vane.OptionEquals}
		if !anyValue[key] {
			f.Values = values[key]
		}
		out = append(out, f)
	}
	return out, nil
}
