package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// MaxUsageRows bounds the rows of one POST /v1/usage.
const MaxUsageRows = 1000

// usageRowJSON is one count of POST and GET /v1/usage.
type usageRowJSON struct {
	Name    string    `json:"name"`
	Day     string    `json:"day,omitempty"`
	Variant string    `json:"variant"`
	Count   int64     `json:"count"`
	Last    time.Time `json:"last"`
}

type usageJSON struct {
	Usage []usageRowJSON `json:"usage"`
}

// usageAnswerJSON is the answer of POST /v1/usage when the server asks
// SDKs to report more often: a Go duration such as "5s".
type usageAnswerJSON struct {
	ReportInterval string `json:"report_interval"`
}

// registerUsageRoutes adds the flag usage routes.
func (s *Server) registerUsageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/usage", s.handlePostUsage)
	mux.HandleFunc("GET /v1/usage", s.handleGetUsage)
}

// usageStore returns Usage, or an error saying usage tracking is off.
func (s *Server) usageStore() (vane.UsageStore, error) {
	if s.Usage == nil {
		return nil, vane.Errorf(vane.EUNAVAILABLE, "flag usage tracking is turned off on this server")
	}
	return s.Usage, nil
}

// FlushUsage writes the evaluation counts the server has made since the
// last flush to Usage. vane serve calls it periodically and at shutdown.
func (s *Server) FlushUsage(ctx context.Context) error {
	if s.Usage == nil {
		return nil
	}
	counts := s.usage.Drain(s.now())
	if len(counts) == 0 {
		return nil
	}
	rows := make([]vane.FlagUsage, len(counts))
	for i, c := range counts {
		rows[i] = vane.FlagUsage{Name: c.Name, Day: c.Last.UTC().Format(time.DateOnly), Variant: c.Variant, Count: c.Count, Last: c.Last}
	}
	return s.Usage.AddUsage(ctx, rows)
}

// handlePostUsage serves POST /v1/usage: counts of evaluations an SDK made
// locally, added to the store. The day of each row is the UTC date of its
// last evaluation. The answer is 204, or 200 with the interval at which
// UsageReportInterval asks SDKs to report meanwhile.
func (s *Server) handlePostUsage(w http.ResponseWriter, r *http.Request) {
	us, err := s.usageStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req usageJSON
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.Usage) > MaxUsageRows {
		s.writeError(w, r, invalidf("field \"usage\" has %d rows; send at most %d per request", len(req.Usage), MaxUsageRows))
		return
	}
	rows := make([]vane.FlagUsage, len(req.Usage))
	for i, u := range req.Usage {
		if !flag.IsFlagName(u.Name) {
			s.writeError(w, r, invalidf("usage row %d: %q is not a flag name", i, u.Name))
			return
		}
		if err := s.allow(r.Context(), auth.ActionEvaluate, u.Name); err != nil {
			s.writeError(w, r, err)
			return
		}
		if u.Last.IsZero() {
			s.writeError(w, r, invalidf("usage row %d: field \"last\" (the time of the latest evaluation) is required", i))
			return
		}
		rows[i] = vane.FlagUsage{Name: u.Name, Day: u.Last.UTC().Format(time.DateOnly), Variant: u.Variant, Count: u.Count, Last: u.Last}
	}
	if err := us.AddUsage(r.Context(), rows); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.UsageReportInterval != nil {
		if d := s.UsageReportInterval(); d > 0 {
			writeJSON(w, http.StatusOK, &usageAnswerJSON{ReportInterval: d.String()})
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleGetUsage serves GET /v1/usage?path=PATH&since=DAY: the counts of
// the flags under the path, by day and variant.
func (s *Server) handleGetUsage(w http.ResponseWriter, r *http.Request) {
	us, err := s.usageStore()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r, "path", "since")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := q.one("path")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	path := "/"
	if p != "" {
		if path, err = vane.ValidatePath(p); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	since, err := q.one("since")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if since != "" {
		if _, err := time.Parse(time.DateOnly, since); err != nil {
			s.writeError(w, r, invalidf("query parameter \"since\" must be a date such as 2026-11-01, not %q", since))
			return
		}
	}
	// The path may name a flag, whose rows are under its own name: read
	// by the plain prefix, then keep that name and the names below it.
	name := strings.TrimSuffix(path, "/")
	rows, err := us.Usage(r.Context(), name, since)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	visible := s.visible(r.Context(), auth.ActionDescribeParameters)
	kept := rows[:0]
	for _, u := range rows {
		if (u.Name == name || strings.HasPrefix(u.Name, path)) && (visible == nil || visible(u.Name)) {
			kept = append(kept, u)
		}
	}
	rows = kept
	out := usageJSON{Usage: make([]usageRowJSON, len(rows))}
	for i, u := range rows {
		out.Usage[i] = usageRowJSON{Name: u.Name, Day: u.Day, Variant: u.Variant, Count: u.Count, Last: u.Last}
	}
	writeJSON(w, http.StatusOK, &out)
}
