package monitor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/monitor"
)

// newServer starts a test server for handler, closed when the test ends.
func newServer(tb testing.TB, handler http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(handler)
	tb.Cleanup(srv.Close)
	return srv
}

// blockUntilDone is a handler that answers nothing until its request ends
// or the test does (its cleanup runs before the server's Close, which
// would otherwise wait for it).
func blockUntilDone(tb testing.TB) http.HandlerFunc {
	done := make(chan struct{})
	tb.Cleanup(func() { close(done) }) // runs before the server's Close
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func TestCheck_HTTP(t *testing.T) {
	mux := http.NewServeMux()
	srv := newServer(t, mux)
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("all good"))
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("secret-body " + strings.Repeat("x", 1<<20)))
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/slow", blockUntilDone(t))

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		healthy bool
		detail  string
	}{
		{"OKIsHealthy", srv.URL + "/ok", 0, true, "GET " + srv.URL + "/ok: 200"},
		{"NoContentIsHealthy", srv.URL + "/created", 0, true, "GET " + srv.URL + "/created: 204"},
		{"ServiceUnavailableIsUnhealthy", srv.URL + "/down", 0, false, "GET " + srv.URL + "/down: 503"},
		{"NotFoundIsUnhealthy", srv.URL + "/missing", 0, false, "GET " + srv.URL + "/missing: 404"},
		{"RedirectIsNotFollowed", srv.URL + "/moved", 0, false, "GET " + srv.URL + "/moved: 302"},
		{"TimeoutIsUnhealthy", srv.URL + "/slow", 50 * time.Millisecond, false, "GET " + srv.URL + "/slow: timeout after 50ms"},
		{"PasswordIsRedacted", strings.Replace(srv.URL, "://", "://probe:hunter2@", 1) + "/down", 0, false,
			"GET " + strings.Replace(srv.URL, "://", "://probe:xxxxx@", 1) + "/down: 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &monitor.Checker{}
			m := vane.Monitor{Kind: vane.MonitorHTTP, URL: tt.url, Timeout: vane.Duration(tt.timeout)}
			got := c.Check(context.Background(), "r1/http-1", "/app/prod/features/checkout", m)
			want := monitor.Result{Healthy: tt.healthy, Detail: tt.detail}
			if got != want {
				t.Errorf("Check() = %+v\nwant      %+v", got, want)
			}
		})
	}

	t.Run("UnreachableIsUnhealthy", func(t *testing.T) {
		c := &monitor.Checker{}
		got := c.Check(context.Background(), "k", "/n", vane.Monitor{Kind: vane.MonitorHTTP, URL: closed.URL + "/health"})
		prefix := "GET " + closed.URL + "/health: "
		if got.Healthy || got.Breach || !strings.HasPrefix(got.Detail, prefix) || len(got.Detail) == len(prefix) {
			t.Errorf("Check() = %+v, want unhealthy with a detail after %q", got, prefix)
		}
		if strings.Contains(got.Detail, "timeout") || strings.Count(got.Detail, closed.URL) != 1 {
			t.Errorf("Detail = %q, want the transport error once, without the URL net/http repeats", got.Detail)
		}
	})

	t.Run("CancelledCheckIsUnhealthy", func(t *testing.T) {
		c := &monitor.Checker{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		got := c.Check(ctx, "k", "/n", vane.Monitor{Kind: vane.MonitorHTTP, URL: srv.URL + "/ok"})
		want := monitor.Result{Detail: "GET " + srv.URL + "/ok: check cancelled"}
		if got != want {
			t.Errorf("Check() = %+v, want %+v", got, want)
		}
	})

	t.Run("GivenClientIsUsed", func(t *testing.T) {
		// The default http.Client follows redirects.
		c := &monitor.Checker{Client: &http.Client{}}
		got := c.Check(context.Background(), "k", "/n", vane.Monitor{Kind: vane.MonitorHTTP, URL: srv.URL + "/moved"})
		want := monitor.Result{Healthy: true, Detail: "GET " + srv.URL + "/moved: 200"}
		if got != want {
			t.Errorf("Check() = %+v, want %+v", got, want)
		}
	})
}

func TestCheck_UnknownKindIsUnhealthy(t *testing.T) {
	c := &monitor.Checker{}
	got := c.Check(context.Background(), "k", "/n", vane.Monitor{Kind: "datadog"})
	want := monitor.Result{Detail: `unknown monitor kind "datadog"`}
	if got != want {
		t.Errorf("Check() = %+v, want %+v", got, want)
	}
}
