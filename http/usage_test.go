package http_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

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
	// A path may name one flag: its rows, not those of a flag whose name
	// merely begins with it.
	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/ab", "variant": "on", "count": 5, "last": "2026-11-20T23:59:00Z"}]}`).Want(t, 204, nil)
	var one struct {
		Usage []struct{ Name string } `json:"usage"`
	}
	s.Do(t, "GET", "/v1/usage?path=/app/prod/features/a", "").Want(t, 200, &one)
	if len(one.Usage) == 0 {
		t.Error("GET /v1/usage?path=NAME: no rows for the flag NAME")
	}
	for _, u := range one.Usage {
		if u.Name != "/app/prod/features/a" {
			t.Errorf("GET /v1/usage?path=/app/prod/features/a returned a row of %s", u.Name)
		}
	}

	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/tuning/x", "count": 1, "last": "2026-11-20T00:00:00Z"}]}`).WantError(t, 400, "invalid", "", "not a flag name")
	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/a", "count": -1, "last": "2026-11-20T00:00:00Z"}]}`).WantError(t, 400, "invalid", "", "negative")
	s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/a", "count": 1}]}`).WantError(t, 400, "invalid", "", `"last"`)
	s.Do(t, "GET", "/v1/usage?since=yesterday", "").WantError(t, 400, "invalid", "", "since")

	off := MustOpen(t)
	off.Do(t, "GET", "/v1/usage", "").WantError(t, 503, "unavailable", "", "turned off")
}

func TestUsageCountsErrorsServedWithFallback(t *testing.T) {
	var srv *vanehttp.Server
	s := MustOpen(t, func(h *vanehttp.Server) {
		h.Usage = MustOpenStore(t)
		srv = h
	})
	putFlag(t, s, "/app/prod/features/a", `{"rollout_percentage": 100, "fallback_on_error": false}`)
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/a", `{"context": {"targetingKey": "u1"}}`).Want(t, 200, nil)
	// Without a targeting key: an error, served the fallback (off).
	var e evaluation
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/a", `{}`).Want(t, 200, &e)
	if e.Value != false || e.Variant != "off" || e.Reason != "ERROR" || e.ErrorCode != "TARGETING_KEY_MISSING" {
		t.Errorf("native evaluation without a key: %+v", e)
	}
	var o ofrepResult
	s.Do(t, "POST", "/ofrep/v1/evaluate/flags/app/prod/features/a", `{"context": {}}`).Want(t, 200, &o)
	if o.Value != false || o.Variant != "off" || o.Reason != "ERROR" {
		t.Errorf("OFREP evaluation without a key: %+v", o)
	}
	var all struct {
		Flags []evaluation `json:"flags"`
	}
	s.Do(t, "POST", "/v1/evaluate", `{"path": "/app/prod/", "context": {}}`).Want(t, 200, &all)
	if len(all.Flags) != 1 || all.Flags[0].Reason != "ERROR" || all.Flags[0].Value != false {
		t.Errorf("bulk evaluation without a key: %+v", all.Flags)
	}
	if err := srv.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Usage []struct {
			Variant string
			Count   int64
		} `json:"usage"`
	}
	s.Do(t, "GET", "/v1/usage?path=/app/", "").Want(t, 200, &got)
	counts := map[string]int64{}
	for _, u := range got.Usage {
		counts[u.Variant] += u.Count
	}
	if counts[""] != 3 || counts["on"] != 1 || counts["off"] != 0 {
		t.Errorf("counts by variant %v, want 3 errors under \"\" (native, OFREP, bulk), 1 on, 0 off", counts)
	}
}

func TestUsageReportInterval(t *testing.T) {
	var interval atomic.Int64
	s := MustOpen(t, func(h *vanehttp.Server) {
		h.Usage = MustOpenStore(t)
		h.UsageReportInterval = func() time.Duration { return time.Duration(interval.Load()) }
	})
	report := `{"usage": [{"name": "/app/prod/features/a", "variant": "on", "count": 1, "last": "2026-11-20T23:59:00Z"}]}`

	t.Run("NoContentWhenNotShortened", func(t *testing.T) {
		if r := s.Do(t, "POST", "/v1/usage", report).Want(t, 204, nil); len(r.Body) != 0 {
			t.Errorf("body %q", r.Body)
		}
	})
	t.Run("IntervalWhileShortened", func(t *testing.T) {
		for _, tt := range []struct {
			d    time.Duration
			want string
		}{{5 * time.Second, "5s"}, {90 * time.Second, "1m30s"}, {1500 * time.Millisecond, "1.5s"}} {
			interval.Store(int64(tt.d))
			var got map[string]any
			s.Do(t, "POST", "/v1/usage", report).Want(t, 200, &got)
			if len(got) != 1 || got["report_interval"] != tt.want {
				t.Errorf("interval %s: answer %v, want {\"report_interval\": %q}", tt.d, got, tt.want)
			}
		}
	})
	t.Run("ErrorsUnchanged", func(t *testing.T) {
		interval.Store(int64(5 * time.Second))
		s.Do(t, "POST", "/v1/usage", `{"usage": [{"name": "/app/prod/features/a", "count": 1}]}`).WantError(t, 400, "invalid", "", `"last"`)
	})
	t.Run("NoContentAfterwards", func(t *testing.T) {
		interval.Store(0)
		s.Do(t, "POST", "/v1/usage", report).Want(t, 204, nil)
		interval.Store(int64(-time.Second))
		s.Do(t, "POST", "/v1/usage", report).Want(t, 204, nil)
	})
	var got struct {
		Usage []struct{ Count int64 } `json:"usage"`
	}
	s.Do(t, "GET", "/v1/usage?path=/app/", "").Want(t, 200, &got)
	if len(got.Usage) != 1 || got.Usage[0].Count != 6 {
		t.Errorf("usage %+v, want the 6 accepted reports counted", got.Usage)
	}
}
