package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/bench"
)

const benchName = "/myapp/prod/tuning/http_timeout_ms"

// openBenchMain runs the whole server in-process as `vane serve` does
// (SQLite, index, metrics, access log at the default info level discarded)
// with one parameter, and returns it with the exact body of its GET.
func openBenchMain(b *testing.B) (*Main, []byte) {
	return openBenchMainOn(b, "")
}

// openBenchMainOn is openBenchMain on a given store URL ("" for SQLite in
// a temporary directory).
func openBenchMainOn(b *testing.B, store string) (*Main, []byte) {
	b.Helper()
	m := NewMain()
	m.Config.Dev = true // measured without access control, as the figures say
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = b.TempDir()
	m.Config.Store = store
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	url := m.HTTP.URL() + "/v1/parameters" + benchName
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader([]byte(`{"value":"2500","type":"String","description":"upstream HTTP timeout","overwrite":true}`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || (resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK) {
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
// throughput and the latencies.
func loadGets(b *testing.B, url string, wantLen int) {
	loadStatus(b, func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		return req
	}, http.StatusOK, wantLen)
}

// benchStores runs fn once per backend: SQLite, and PostgreSQL when
// VANE_TEST_POSTGRES is set (a fresh schema each).
func benchStores(b *testing.B, fn func(b *testing.B, store string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, "") })
	b.Run("postgres", func(b *testing.B) { fn(b, postgresURL(b)) })
}

// BenchmarkBackendGet is a loopback GET of one parameter from a full
// server on each backend; reads come from the index either way.
func BenchmarkBackendGet(b *testing.B) {
	benchStores(b, func(b *testing.B, store string) {
		m, body := openBenchMainOn(b, store)
		loadGets(b, m.HTTP.URL()+"/v1/parameters"+benchName, len(body))
	})
}

// BenchmarkBackendPut is a durable PUT (overwrite) over loopback HTTP from
// parallel clients on each backend: the response comes after the commit
// and the index catch-up.
func BenchmarkBackendPut(b *testing.B) {
	benchStores(b, func(b *testing.B, store string) {
		m, _ := openBenchMainOn(b, store)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				name := fmt.Sprintf("/bench/put/p%d", n.Add(1)%100)
				if _, err := putOverwrite(context.Background(), client, m.HTTP.URL(), name, "value"); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
	})
}

// BenchmarkPropagation measures how long a write on one node takes to reach
// another node's index on a shared PostgreSQL database: from the start of
// the put on node A to the moment node B's index serves the new version.
func BenchmarkPropagation(b *testing.B) {
	store := postgresURL(b)
	a, _ := openBenchMainOn(b, store)
	c, _ := openBenchMainOn(b, store)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		began := time.Now()
		p, err := a.Index.Put(ctx, &vane.PutInput{Name: "/bench/propagation", Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if q, err := c.Index.Get(ctx, "/bench/propagation"); err == nil && q.Version >= p.Version {
				break
			}
			if time.Since(began) > 10*time.Second {
				b.Fatalf("version %d not on the other node after 10s", p.Version)
			}
			runtime.Gosched()
		}
		lat = append(lat, time.Since(began))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkGetAuth measures what access control costs a GET: the full
// server in-process with an admin bearer token (a cached key, a SHA-256
// and a policy decision per request) next to the same server with --dev,
// in one run.
func BenchmarkGetAuth(b *testing.B) {
	for _, mode := range []string{"dev", "bearer"} {
		b.Run(mode, func(b *testing.B) {
			m := NewMain()
			m.Config.Addr, m.Config.DataDir, m.Config.Dev = "127.0.0.1:0", b.TempDir(), mode == "dev"
			if err := m.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { m.Close() })
			token := ""
			if mode == "bearer" {
				raw, err := os.ReadFile(filepath.Join(m.Config.DataDir, AdminKeyFile))
				if err != nil {
					b.Fatal(err)
				}
				token = strings.TrimSpace(string(raw))
			}
			url := m.HTTP.URL() + "/v1/parameters" + benchName
			newReq := func(method string, body []byte) *http.Request {
				req, _ := http.NewRequest(method, url, bytes.NewReader(body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				return req
			}
			resp, err := http.DefaultClient.Do(newReq(http.MethodPut, []byte(`{"value":"2500","type":"String","overwrite":true}`)))
			if err != nil || resp.StatusCode >= 300 {
				b.Fatalf("PUT: %v %v", err, resp)
			}
			resp.Body.Close()
			resp, err = http.DefaultClient.Do(newReq(http.MethodGet, nil))
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loadRequests(b, func() *http.Request { return newReq(http.MethodGet, nil) }, len(body))
		})
	}
}
