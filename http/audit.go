package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/vanehq/vane"
)

// auditEntryJSON is the wire form of a vane.AuditEntry.
type auditEntryJSON struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Principal  string    `json:"principal"`
	Source     string    `json:"source,omitempty"`
	RequestID  string    `json:"request_id,omitempty"`
	Action     string    `json:"action"`
	Name       string    `json:"name,omitempty"`
	OldVersion int64     `json:"old_version"`
	NewVersion int64     `json:"new_version"`
	Result     string    `json:"result"`
	Detail     string    `json:"detail,omitempty"`
	Batch      string    `json:"batch,omitempty"`
}

func newAuditEntryJSON(e *vane.AuditEntry) auditEntryJSON {
	return auditEntryJSON{ID: e.ID, Time: e.Time.UTC(), Principal: e.Principal, Source: e.Source, RequestID: e.RequestID,
		Action: e.Action, Name: e.Name, OldVersion: e.OldVersion, NewVersion: e.NewVersion, Result: e.Result, Detail: e.Detail, Batch: e.Batch}
}

// registerAuditRoutes adds the audit history route.
func (s *Server) registerAuditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/audit", s.admin(s.handleAudit))
}

// handleAudit serves GET /v1/audit?path=&principal=&action=&since=&until=
// &limit=&next_token=, oldest first; with format=jsonl it streams every
// matching entry as JSON Lines instead of one page.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	if s.Audit == nil {
		s.writeError(w, r, vane.Errorf(vane.EUNAVAILABLE, "this server keeps no audit history"))
		return
	}
	q, err := parseQuery(r, "path", "principal", "action", "since", "until", "limit", "next_token", "format")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var aq vane.AuditQuery
	for _, f := range []struct {
		key string
		dst *string
	}{{"path", &aq.Prefix}, {"principal", &aq.Principal}, {"action", &aq.Action}, {"next_token", &aq.NextToken}} {
		if *f.dst, err = q.one(f.key); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if aq.Prefix != "" && aq.Prefix[0] != '/' {
		s.writeError(w, r, invalidf("query parameter \"path\" must begin with /, not %q", aq.Prefix))
		return
	}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"since", &aq.Since}, {"until", &aq.Until}} {
		v, err := q.one(f.key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				s.writeError(w, r, invalidf("query parameter %q must be an RFC 3339 time or a date, not %q", f.key, v))
				return
			}
		}
		*f.dst = t
	}
	if aq.Limit, err = q.limit(); err != nil {
		s.writeError(w, r, err)
		return
	}
	format, err := q.one("format")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch format {
	case "", "json":
		page, err := s.Audit.Audit(r.Context(), &aq)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := struct {
			Entries   []auditEntryJSON `json:"entries"`
			NextToken string           `json:"next_token,omitempty"`
		}{Entries: make([]auditEntryJSON, len(page.Entries)), NextToken: page.NextToken}
		for i := range page.Entries {
			out.Entries[i] = newAuditEntryJSON(&page.Entries[i])
		}
		writeJSON(w, http.StatusOK, &out)
	case "jsonl":
		s.exportAudit(w, r, aq)
	default:
		s.writeError(w, r, invalidf("query parameter \"format\" must be json or jsonl, not %q", format))
	}
}

// exportAudit streams every entry matching aq as JSON Lines.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, aq vane.AuditQuery) {
	aq.Limit = vane.MaxPageSize
	page, err := s.Audit.Audit(r.Context(), &aq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for {
		for i := range page.Entries {
			if err := enc.Encode(newAuditEntryJSON(&page.Entries[i])); err != nil {
				return
			}
		}
		if page.NextToken == "" {
			return
		}
		aq.NextToken = page.NextToken
		if page, err = s.Audit.Audit(r.Context(), &aq); err != nil {
			// The status is sent; end the stream early, and log why.
			s.logger().Error("audit export", "request_id", RequestID(r.Context()), "error", err.Error())
			return
		}
	}
}
