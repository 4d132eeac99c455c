package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane/sdk"
)

// BenchmarkSDKPropagation measures, with 1, 100 and 1,000 SDK clients
// following one `vane serve` process (SQLite) on loopback, the time from a
// put to the change callback in every client (p50 and
// p99 over all clients and puts), and the server's memory per watcher
// (growth of its Go heap in use and of its RSS from before the clients
// connect to after). The baseline is the same fan-out through a bare
// net/http Server-Sent Events handler with the same number of streams.
// Latencies run from the start of the put, since a callback may come before
// the client has read the put's response.
func BenchmarkSDKPropagation(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchSDKPropagation(b, n) })
	}
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("BaselineBareSSE/clients=%d", n), func(b *testing.B) { benchBareSSE(b, n) })
	}
}

func benchSDKPropagation(b *testing.B, n int) {
	srv := startServeProcess(b, vaneBinary(b), "--addr", "127.0.0.1:0", "--data", b.TempDir())
	b.Cleanup(func() { srv.cmd.Process.Kill() })
	client := &http.Client{Timeout: 10 * time.Second}
	const name = "/bench/sdk/x"
	if _, err := putOverwrite(context.Background(), client, srv.url, name, "0"); err != nil {
		b.Fatal(err)
	}
	heap0, rss0 := serverMemory(b, client, srv)

	var mu sync.Mutex
	var cond = sync.NewCond(&mu)
	got := map[int64]int{}        // version → clients called back
	at := map[int64][]time.Time{} // version → callback times
	for i := 0; i < n; i++ {
		c, err := sdk.Open(context.Background(), sdk.Config{
			Server: srv.url, Paths: []string{"/bench/sdk/"}, Logger: slog.New(slog.DiscardHandler),
			HTTPClient: &http.Client{Transport: &http.Transport{}},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		c.OnChange(name, func(ch sdk.Change) {
			now := time.Now()
			mu.Lock()
			got[ch.Version]++
			at[ch.Version] = append(at[ch.Version], now)
			mu.Unlock()
			cond.Broadcast()
		})
		deadline := time.Now().Add(10 * time.Second)
		for !c.Status().Connected {
			if time.Now().After(deadline) {
				b.Fatalf("client %d did not connect", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	heap1, rss1 := serverMemory(b, client, srv)

	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		began := time.Now()
		v, err := putOverwrite(context.Background(), client, srv.url, name, strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		for got[v] < n {
			cond.Wait()
		}
		for _, t := range at[v] {
			lat = append(lat, t.Sub(began))
		}
		delete(at, v)
		mu.Unlock()
	}
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(float64(heap1-heap0)/float64(n), "server-heap-B/watcher")
	b.ReportMetric(float64(rss1-rss0)/float64(n), "server-rss-B/watcher")
}

// serverMemory returns the server's Go heap in use (from /metrics) and its
// resident set size (from /proc), in bytes.
func serverMemory(b *testing.B, client *http.Client, srv *crashServer) (heap, rss float64) {
	b.Helper()
	time.Sleep(200 * time.Millisecond) // let the connections settle
	resp, err := client.Get(srv.url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			heap, _ = strconv.ParseFloat(v, 64)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			rss = kb * 1024
		}
	}
	if heap == 0 || rss == 0 {
		b.Fatalf("could not read the server's memory (heap %v, rss %v)", heap, rss)
	}
	return heap, rss
}

// benchBareSSE is the baseline: a net/http handler that writes each
// published line to every open stream, and n readers that parse lines.
func benchBareSSE(b *testing.B, n int) {
	var mu sync.Mutex
	streams := map[chan string]struct{}{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch := make(chan string, 16)
		mu.Lock()
		streams[ch] = struct{}{}
		mu.Unlock()
		defer func() { mu.Lock(); delete(streams, ch); mu.Unlock() }()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rc.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case line := <-ch:
				fmt.Fprintf(w, "data: %s\n\n", line)
				rc.Flush()
			}
		}
	})}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })

	var rmu sync.Mutex
	cond := sync.NewCond(&rmu)
	got := map[string][]time.Time{}
	for i := 0; i < n; i++ {
		resp, err := (&http.Client{Transport: &http.Transport{}}).Get("http://" + l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { resp.Body.Close() })
		go func() {
			r := bufio.NewReader(resp.Body)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
					now := time.Now()
					rmu.Lock()
					got[v] = append(got[v], now)
					rmu.Unlock()
					cond.Broadcast()
				}
			}
		}()
	}
	for {
		mu.Lock()
		k := len(streams)
		mu.Unlock()
		if k == n {
			break
		}
		time.Sleep(time.Millisecond)
	}

	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := strconv.Itoa(i)
		sent := time.Now()
		mu.Lock()
		for ch := range streams {
			ch <- v
		}
		mu.Unlock()
		rmu.Lock()
		for len(got[v]) < n {
			cond.Wait()
		}
		for _, t := range got[v] {
			lat = append(lat, t.Sub(sent))
		}
		delete(got, v)
		rmu.Unlock()
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// reportLatency reports the p50 and p99 of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
