package http

import (
	"net/http"
	"time"
)

// compactRequest is the body of POST /v1/compact.
type compactRequest struct {
	// OlderThan is a Go duration ("168h", "30m"): change-log records older
	// than it are removed, the newest record excepted. Required; "0s"
	// removes all but the newest.
	OlderThan *string `json:"older_than"`
}

// compactResponse is the result of POST /v1/compact.
type compactResponse struct {
	Removed int64 `json:"removed"`
}

// registerCompactRoutes adds the change-log administration route.
func (s *Server) registerCompactRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/compact", s.admin(s.handleCompact))
}

// handleCompact serves POST /v1/compact: it removes the change-log records
// older than older_than (never the newest) and says how many it removed.
// Watchers and followers behind the records removed start over from a
// snapshot.
func (s *Server) handleCompact(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req compactRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.OlderThan == nil {
		s.writeError(w, r, invalidf(`field "older_than" is required: a duration such as "168h" (change-log records older than it are removed)`))
		return
	}
	d, err := time.ParseDuration(*req.OlderThan)
	if err != nil || d < 0 {
		s.writeError(w, r, invalidf(`field "older_than" must be a duration of 0 or more, such as "168h", "30m" or "0s", not %q`, *req.OlderThan))
		return
	}
	n, err := s.Store.Compact(r.Context(), s.now().Add(-d))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, compactResponse{Removed: n})
}
