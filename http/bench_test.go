package http_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/bench"
	vanehttp "github.com/vanehq/vane/http"
)

// benchParameter is the parameter both GET benchmarks serve.
const (
	benchName  = "/myapp/prod/tuning/http_timeout_ms"
	benchValue = "2500"
)

// openBenchServer starts a server as vane serve would run it (metrics on,
// logs discarded) holding benchName, and returns the server and the exact
// body a GET of benchName returns.
func openBenchServer(b *testing.B) (*Server, []byte) {
	b.Helper()
	s := MustOpen(b, func(s *vanehttp.Server) { s.Logger = slog.New(slog.DiscardHandler) })
	s.Do(b, "PUT", "/v1/parameters"+benchName,
		`{"value":"`+benchValue+`","type":"String","description":"upstream HTTP timeout"}`).Want(b, 201, nil)
	body := s.Do(b, "GET", "/v1/parameters"+benchName, "").Want(b, 200, nil).Body
	return s, body
}

// benchClient returns a keep-alive client with enough idle connections for
// every RunParallel goroutine.
func benchClient() *nethttp.Client {
	return &nethttp.Client{Transport: &nethttp.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// runGets issues GETs of url from b.RunParallel over loopback and checks
// each answer is 200 with a body of wantLen bytes.
func runGets(b *testing.B, url string, wantLen int) {
	b.Helper()
	client := benchClient()
	defer client.CloseIdleConnections()
	b.SetBytes(int64(wantLen))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || int(n) != wantLen {
				b.Errorf("GET %s: status %d, %d bytes, error %v", url, resp.StatusCode, n, err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkGetParameter measures a GET of one parameter end to end on
// loopback: real server (SQLite store, metrics, request ids, access-log
// calls), real http.Client, parallel keep-alive connections.
func BenchmarkGetParameter(b *testing.B) {
	s, body := openBenchServer(b)
	runGets(b, s.URL()+"/v1/parameters"+benchName, len(body))
}

// BenchmarkBaselineGet serves the exact bytes of BenchmarkGetParameter's
// response from a bare net/http handler on loopback, driven the same way:
// the floor the Vane GET is compared against.
func BenchmarkBaselineGet(b *testing.B) {
	_, body := openBenchServer(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &nethttp.Server{Handler: bench.BaselineHandler(body)}
	go srv.Serve(ln)
	defer srv.Close()
	runGets(b, "http://"+ln.Addr().String()+"/v1/parameters"+benchName, len(body))
}

// BenchmarkGetParameterMemStore is BenchmarkGetParameter with a store whose
// Get returns a fixed parameter from memory, isolating the cost of the HTTP
// layer (routing, JSON, request ids, metrics) from the storage backend's.
func BenchmarkGetParameterMemStore(b *testing.B) {
	s, body := openBenchServer(b)
	p, err := s.Store.Get(context.Background(), benchName)
	if err != nil {
		b.Fatal(err)
	}
	mem := MustOpen(b, func(srv *vanehttp.Server) {
		srv.Logger = slog.New(slog.DiscardHandler)
		srv.Store = &fakeStore{Store: srv.Store, GetFn: func(context.Context, string) (*vane.Parameter, error) {
			return p, nil
		}}
	})
	runGets(b, mem.URL()+"/v1/parameters"+benchName, len(body))
}
