package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// FuzzParseMonitor: any --monitor spec either parses into a monitor of a
// known kind (whose query, when given in KEY=VALUE form, is the rest of
// the spec after "query=") or is refused with an error; it never panics.
func FuzzParseMonitor(f *testing.F) {
	for _, s := range []string{
		"http,url=https://shop.internal/healthz,failures=3,timeout=2s",
		`prometheus,url=http://prom:9090,threshold=5,query=sum(rate(x{code=~"5.."}[1m]))`,
		"errors,threshold=0.02,window=5m,min_evaluations=10",
		`{"kind":"http","url":"http://x"}`,
		"http,,url=x", "http,url", "errors,threshold=NaN", "http,url=a,url=b", "ftp,url=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMonitor(s)
		if err != nil {
			return
		}
		switch m.Kind {
		case vane.MonitorHTTP, vane.MonitorPrometheus, vane.MonitorErrors:
		default:
			if !strings.HasPrefix(strings.TrimSpace(s), "{") {
				t.Fatalf("parseMonitor(%q) gave kind %q", s, m.Kind)
			}
		}
		if i := strings.Index(s, ",query="); i >= 0 && !strings.HasPrefix(strings.TrimSpace(s), "{") && !strings.Contains(s[:i], "query=") {
			if m.Query != s[i+len(",query="):] {
				t.Fatalf("parseMonitor(%q): query %q, want the rest of the spec", s, m.Query)
			}
		}
	})
}

// FuzzParseAt: --at either gives a UTC time or an error; never a panic.
func FuzzParseAt(f *testing.F) {
	for _, s := range []string{"2026-12-24T18:00:00Z", "2026-12-24T18:00:00+01:00", "2026-12-24 18:00", "+90m", "+1s", "+-1h", "tomorrow", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseAt(s, now, time.UTC)
		if err == nil && at.Location() != time.UTC {
			t.Fatalf("parseAt(%q) = %v, not UTC", s, at)
		}
	})
}
