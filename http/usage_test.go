package http_test

import (
	"context"
	"testing"

	vanehttp "github.com/vanehq/vane/http"
)

func TestUsage(t *testing.T) {
	var srv *vanehttp.Server
	s := MustOpen(t, func(h *vanehttp.Server) {
		h.Usage = MustOpenStore(t)
		srv = h
	})
	putFlag(t, s, "/app/prod/features/a", `{"rollout_percentage": 50}`)
	for _, user := range []string{"u1", "u2", "u3", "u4"} {
		s.Do(t, "POST", "/v1/evaluate/app/prod/features/a", `{"context": {"targetingKey": "`+user+`"}}`).Want(t, 200, nil)
	}
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/a", `{}`).Want(t, 200, nil) // an error: no key
	s.Do(t, "POST", "/ofrep/v1/evaluate/flags/app/prod/features/a", `{"context": {"targetingKey": "u1"}}`).Want(t, 200, nil)
	if err := srv.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	// An SDK's report.
	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/a", "variant": "on", "count": 10, "last": "2026-11-20T23:59:00Z"}]}`).Want(t, 204, nil)

	var got struct {
		Usage []struct {
			Name, Day, Variant string
			Count              int64
		} `json:"usage"`
	}
	s.Do(t, "GET", "/v1/usage?path=/app/", "").Want(t, 200, &got)
	total := map[string]int64{}
	for _, u := range got.Usage {
		total[u.Day+" "+u.Variant] += u.Count
	}
	if total["2026-11-20 on"] != 10 {
		t.Errorf("the SDK's report: %v", got.Usage)
	}
	var server int64
	for k, n := range total {
		if k != "2026-11-20 on" {
			server += n
		}
	}
	if server != 6 {
		t.Errorf("server evaluations counted %d, want 6 (4 native, 1 error, 1 OFREP): %v", server, got.Usage)
	}
	if total[""] != 0 {
		t.Errorf("rows without a day: %v", got.Usage)
	}

	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/tuning/x", "count": 1, "last": "2026-11-20T00:00:00Z"}]}`).WantError(t, 400, "invalid", "", "not a flag name")
	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/a", "count": -1, "last": "2026-11-20T00:00:00Z"}]}`).WantError(t, 400, "invalid", "", "negative")
	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/a", "count": 1}]}`).WantError(t, 400, "invalid", "", `"last"`)
	s.Do(t, "GET", "/v1/usage?since=yesterday", "").WantError(t, 400, "invalid", "", "since")

	off := MustOpen(t)
	off.Do(t, "GET", "/v1/usage", "").WantError(t, 503, "unavailable", "", "turned off")
}
