package http

import (
	"net/http"
	"strconv"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// exportFlushBytes is how much of an export is buffered before it is sent:
// large enough that a write to the connection carries many parameters,
// small enough that the first bytes leave early.
const exportFlushBytes = 64 << 10

// registerExportRoutes adds GET /v1/export.
func (s *Server) registerExportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/export", s.handleExport)
}

// handleExport serves GET /v1/export?path=P[&with_decryption=true]: every
// parameter under P (recursively) that the caller may read by path and
// whose tags it may list, latest versions in name order, each with its
// labels and tags, in one streamed response. It is what `vane export`,
// `vane import`, `vane diff` and `vane promote` read, so that a subtree of
// 100,000 parameters is one request.
//
// Values, versions and labels come from one consistent state of the store
// (Snapshot, served by the index from memory), whose change-log sequence
// the response names; the tags are read right after it, in one read
// (vane.TagsByPath: a read per parameter made an export of 100,000 take
// 8 s on SQLite, almost all of it in those reads). Everything that can
// fail is done before the first byte is sent; an encoding failure after
// that (a bug) aborts the response, so a client never takes a truncated
// export for a whole one.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "path", "with_decryption")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	raw, err := q.one("path")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if raw == "" {
		s.writeError(w, r, invalidf("query parameter \"path\" is required, such as path=/myapp/prod (\"/\" for everything)"))
		return
	}
	path, err := vane.ValidatePath(raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	all, seq, err := s.Store.Snapshot(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	under := make([]*vane.Parameter, 0, 64)
	for _, p := range all {
		if vane.UnderPath(p.Name, path, true) {
			under = append(under, p)
		}
	}
	all = nil
	// An export is a listing and a read of tags: a name is in it only if
	// the caller may do both, so that an import never takes tags it could
	// not see for tags to remove.
	under = s.filterParameters(ctx, auth.ActionGetParametersByPath, under)
	if tagsOK := s.visible(ctx, auth.ActionListTagsForResource); tagsOK != nil {
		kept := under[:0:0]
		for _, p := range under {
			if tagsOK(p.Name) {
				kept = append(kept, p)
			}
		}
		under = kept
	}
	if under, err = s.decrypted(ctx, q, under...); err != nil {
		s.writeError(w, r, err)
		return
	}

	tags, err := vane.TagsByPath(ctx, s.Store, path)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	h := w.Header()
	h["Content-Type"] = jsonContentType
	// Plaintext secrets, and each key's own subset: never for a shared cache.
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	b := make([]byte, 0, 4096)
	b = append(b, `{"path":`...)
	b = appendString(b, path)
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"parameters":[`...)
	for i, p := range under {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendExported(b, p, tags[p.Name]); err != nil {
			s.logger().Error("export: encode", "request_id", RequestID(ctx), "name", p.Name, "error", err.Error())
			panic(http.ErrAbortHandler)
		}
		if len(b) >= exportFlushBytes {
			if _, err := w.Write(b); err != nil {
				return // the client went away
			}
			b = b[:0]
		}
	}
	b = append(b, "]}\n"...)
	w.Write(b)
}

// appendExported appends one parameter of an export: the parameter object
// of the other routes with its "tags" (an object, left out when empty).
func appendExported(b []byte, p *vane.Parameter, tags []vane.Tag) ([]byte, error) {
	b, err := newParameterJSON(p).appendJSON(b)
	if err != nil || len(tags) == 0 {
		return b, err
	}
	b = append(b[:len(b)-1], `,"tags":{`...)
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, t.Key)
		b = append(b, ':')
		b = appendString(b, t.Value)
	}
	return append(b, "}}"...), nil
}
