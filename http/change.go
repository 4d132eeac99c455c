package http

import (
	"net/http"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// changeJSON is the wire form of a vane.Change.
type changeJSON struct {
	Seq       int64    `json:"seq"`
	Op        string   `json:"op"`
	Name      string   `json:"name"`
	Version   int64    `json:"version,omitempty"`
	Type      string   `json:"type,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	TagKeys   []string `json:"tag_keys,omitempty"`
	Time      string   `json:"time"`
	Principal string   `json:"principal"`
	Batch     string   `json:"batch,omitempty"` // the batch it was part of
}

// changesResponse is the result of GET /v1/changes.
type changesResponse struct {
	Changes []changeJSON `json:"changes"`
	// LastSeq is the sequence of the last change returned, or the
	// requested "after" when there is none: the next request's "after".
	LastSeq int64 `json:"last_seq"`
}

// registerChangeRoutes adds the route that reads the change log.
func (s *Server) registerChangeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/changes", s.handleChanges)
}

// handleChanges serves GET /v1/changes?after=SEQ&prefix=/a/&limit=N.
func (s *Server) handleChanges(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "after", "prefix", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after, _, err := q.number("after", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	prefix, err := q.one("prefix")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := q.limit()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if limit == 0 {
		limit = vane.DefaultPageSize
	}
	changes, err := s.Store.Changes(r.Context(), after, prefix, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := changesResponse{Changes: make([]changeJSON, 0, len(changes)), LastSeq: after}
	visible := s.visible(r.Context(), auth.ActionWatch)
	for _, c := range changes {
		out.LastSeq = c.Seq
		if visible != nil && !visible(c.Name) {
			continue
		}
		out.Changes = append(out.Changes, changeJSON{
			Seq:       c.Seq,
			Op:        string(c.Op),
			Name:      c.Name,
			Version:   c.Version,
			Type:      string(c.Type),
			Labels:    c.Labels,
			TagKeys:   c.TagKeys,
			Time:      formatTime(c.Time),
			Principal: c.Principal,
			Batch:     c.Batch,
		})
		out.LastSeq = c.Seq
	}
	writeJSON(w, http.StatusOK, &out)
}
