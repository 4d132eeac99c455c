package bench_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane/bench"
)

// countingServer serves the baseline handler on loopback and counts the
// requests it receives.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRunCountsMaxRequestsExactly(t *testing.T) {
	srv, served := countingServer(t, bench.BaselineHandler([]byte(`{"ok":true}`)))
	res, err := bench.Run(context.Background(), bench.Config{
		URL:         srv.URL,
		Concurrency: 4,
		Duration:    5 * time.Second,
		MaxRequests: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 300 || served.Load() != 300 || res.Errors != 0 {
		t.Fatalf("Requests=%d Errors=%d served=%d, want 300, 0, 300", res.Requests, res.Errors, served.Load())
	}
	if res.Duration >= 5*time.Second || res.RPS <= 0 {
		t.Fatalf("run was not bounded by MaxRequests: %v", res)
	}
}

func TestRunCountsDurationBounded(t *testing.T) {
	srv, served := countingServer(t, bench.BaselineHandler([]byte(`{"ok":true}`)))
	const conc = 4
	start := time.Now()
	res, err := bench.Run(context.Background(), bench.Config{
		URL:         srv.URL,
		Concurrency: conc,
		Duration:    200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Run took %v for a 200ms window", el)
	}
	// Requests abandoned at the end of the window (at most one per worker)
	// may have reached the server without being counted by Run.
	if n := served.Load(); res.Requests == 0 || n < res.Requests || n > res.Requests+conc {
		t.Fatalf("Requests=%d served=%d (concurrency %d)", res.Requests, n, conc)
	}
	if res.Errors != 0 {
		t.Fatalf("Errors=%d, want 0", res.Errors)
	}
	if res.Duration < 200*time.Millisecond || res.Duration > time.Second {
		t.Fatalf("Duration=%v, want about 200ms", res.Duration)
	}
	t.Log(res)
}

func TestRunWarmupNotRecorded(t *testing.T) {
	srv, served := countingServer(t, bench.BaselineHandler([]byte(`{}`)))
	res, err := bench.Run(context.Background(), bench.Config{
		URL:         srv.URL,
		Concurrency: 2,
		Duration:    5 * time.Second,
		Warmup:      100 * time.Millisecond,
		MaxRequests: 50,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || served.Load() <= 50 {
		t.Fatalf("Requests=%d served=%d, want 50 and more than 50 served", res.Requests, served.Load())
	}
}

func TestRunCountsErrors(t *testing.T) {
	srv, served := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	res, err := bench.Run(context.Background(), bench.Config{
		URL:         srv.URL,
		Concurrency: 2,
		Duration:    200 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want an all-failed error mentioning 500", err)
	}
	if res.Requests == 0 || res.Errors != res.Requests || served.Load() < res.Requests {
		t.Fatalf("Requests=%d Errors=%d served=%d", res.Requests, res.Errors, served.Load())
	}
	if res.RPS != 0 || res.P50 != 0 || res.Max != 0 {
		t.Fatalf("failed requests must not count as throughput or latency: %v", res)
	}
}

func TestRunCountsSomeErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusNotFound)
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	res, err := bench.Run(context.Background(), bench.Config{
		URL: srv.URL, Concurrency: 1, Duration: 5 * time.Second, MaxRequests: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || res.Errors != 50 {
		t.Fatalf("Requests=%d Errors=%d, want 100 and 50", res.Requests, res.Errors)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{
		"http://10.0.0.1/",
		"http://192.168.1.1:8080/x",
		"http://example.com/",
		"http://localhost.example.com/",
		"http://[2001:db8::1]/",
		"ftp://127.0.0.1/",
		"",
	} {
		start := time.Now()
		_, err := bench.Run(context.Background(), bench.Config{URL: u, Duration: 200 * time.Millisecond})
		if err == nil {
			t.Errorf("Run(%q) succeeded, want refusal", u)
		}
		if el := time.Since(start); el > 100*time.Millisecond {
			t.Errorf("Run(%q) took %v; it must refuse before sending anything", u, el)
		}
	}
}

func TestRunDoesNotFollowRedirects(t *testing.T) {
	srv, _ := countingServer(t, http.RedirectHandler("http://10.0.0.1/", http.StatusFound))
	res, err := bench.Run(context.Background(), bench.Config{
		URL: srv.URL, Concurrency: 1, Duration: 5 * time.Second, MaxRequests: 10,
	})
	if err == nil || res.Requests != 10 || res.Errors != 10 {
		t.Fatalf("err=%v %+v, want 10 requests, all errors", err, res)
	}
}

func TestRunAcceptsLocalhost(t *testing.T) {
	srv, served := countingServer(t, bench.BaselineHandler([]byte(`{}`)))
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	res, err := bench.Run(context.Background(), bench.Config{
		URL: u, Concurrency: 1, Duration: 5 * time.Second, MaxRequests: 10,
	})
	if err != nil || res.Requests != 10 || served.Load() != 10 {
		t.Fatalf("err=%v Requests=%d served=%d", err, res.Requests, served.Load())
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	srv, _ := countingServer(t, bench.BaselineHandler([]byte(`{}`)))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := bench.Run(ctx, bench.Config{URL: srv.URL, Concurrency: 2, Duration: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Run took %v after cancel", el)
	}
	if res.Requests == 0 {
		t.Fatalf("want a partial result, got %v", res)
	}
}

func TestRunPercentilesOrdered(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%10 == 0 {
			time.Sleep(2 * time.Millisecond) // a slow tail
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	res, err := bench.Run(context.Background(), bench.Config{
		URL:         srv.URL,
		Method:      http.MethodPost,
		Body:        []byte(`{"q":1}`),
		Header:      http.Header{"Content-Type": {"application/json"}},
		Concurrency: 3,
		Duration:    200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !(0 < res.P50 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
		t.Fatalf("percentiles not ordered: %v", res)
	}
	if res.P99 < 2*time.Millisecond {
		t.Fatalf("P99=%v, want the 2ms tail of every 10th request to show", res.P99)
	}
	if s := res.String(); !strings.Contains(s, "req/s") || !strings.Contains(s, "p99=") || strings.Contains(s, "\n") {
		t.Fatalf("String() = %q", s)
	}
}

func TestRunSendsMethodBodyHeader(t *testing.T) {
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPut || string(b) != "payload" || r.Header.Get("X-Test") != "yes" {
			bad.Add(1)
		}
	}))
	defer srv.Close()
	res, err := bench.Run(context.Background(), bench.Config{
		URL: srv.URL, Method: http.MethodPut, Body: []byte("payload"),
		Header:      http.Header{"X-Test": {"yes"}},
		Concurrency: 2, Duration: 5 * time.Second, MaxRequests: 20,
	})
	if err != nil || res.Requests != 20 || bad.Load() != 0 {
		t.Fatalf("err=%v Requests=%d bad=%d", err, res.Requests, bad.Load())
	}
}

func TestBaselineHandler(t *testing.T) {
	body := []byte(`{"hello":"world"}`)
	rec := httptest.NewRecorder()
	bench.BaselineHandler(body).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != string(body) {
		t.Fatalf("got %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
}

func TestRunReusesConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(bench.BaselineHandler([]byte(`{}`)))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	const conc = 4
	res, err := bench.Run(context.Background(), bench.Config{
		URL: srv.URL, Concurrency: conc, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n > conc {
		t.Fatalf("%d connections for %d requests with concurrency %d; keep-alive not reused", n, res.Requests, conc)
	}
}
