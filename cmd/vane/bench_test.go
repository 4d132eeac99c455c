package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane/bench"
)

const benchName = "/myapp/prod/tuning/http_timeout_ms"

// openBenchMain runs the whole server in-process as `vane serve` does
// (SQLite, index, metrics, access log at the default info level discarded)
// with one parameter, and returns it with the exact body of its GET.
func openBenchMain(b *testing.B) (*Main, []byte) {
	b.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = b.TempDir()
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	url := m.HTTP.URL() + "/v1/parameters" + benchName
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader([]byte(`{"value":"2500","type":"String","description":"upstream HTTP timeout"}`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return m, body
}

// BenchmarkGet compares a GET of one parameter from the full server with a
// bare net/http handler returning the same bytes, both on loopback in one
// run, so their ratio is meaningful on a noisy machine. Each reports req/s
// and the p99 latency seen by the client.
func BenchmarkGet(b *testing.B) {
	b.Run("vane", func(b *testing.B) {
		m, body := openBenchMain(b)
		loadGets(b, m.HTTP.URL()+"/v1/parameters"+benchName, len(body))
	})
	b.Run("baseline", func(b *testing.B) {
		_, body := openBenchMain(b)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: bench.BaselineHandler(body)}
		go srv.Serve(ln)
		defer srv.Close()
		loadGets(b, "http://"+ln.Addr().String()+"/v1/parameters"+benchName, len(body))
	})
}

// loadGets issues b.N GETs from parallel keep-alive clients and reports
// throughput and the 99th percentile latency.
func loadGets(b *testing.B, url string, wantLen int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var all []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			start := time.Now()
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(start))
			if resp.StatusCode != http.StatusOK || int(n) != wantLen {
				b.Errorf("GET: status %d, %d bytes", resp.StatusCode, n)
				return
			}
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
