package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane/event"
	"github.com/vanehq/vane/job"
)

// benchReceiver counts the events it gets and when each arrived, by the
// parameter version in its detail.
type benchReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	arrived map[string]time.Time // name@version → first arrival
	n       atomic.Int64
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	r := &benchReceiver{arrived: map[string]time.Time{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var e event.Event
		if err := json.NewDecoder(req.Body).Decode(&e); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		key := fmt.Sprintf("%s@%d", e.Detail.Name, e.Detail.Version)
		r.mu.Lock()
		if _, ok := r.arrived[key]; !ok {
			r.arrived[key] = time.Now()
			r.n.Add(1)
		}
		r.mu.Unlock()
	}))
	b.Cleanup(r.Close)
	return r
}

func (r *benchReceiver) waitFor(b *testing.B, key string, within time.Duration) time.Time {
	deadline := time.Now().Add(within)
	for {
		r.mu.Lock()
		at, ok := r.arrived[key]
		r.mu.Unlock()
		if ok {
			return at
		}
		if time.Now().After(deadline) {
			b.Fatalf("event %s not received within %s", key, within)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// benchRules creates n webhook rules on a server, all selecting /bench/.
func benchRules(b *testing.B, url, target string, n int) {
	for i := range n {
		benchPost(b, url+"/v1/event-rules", map[string]any{"name": fmt.Sprint("rule-", i), "path": "/bench/", "target": "webhook", "url": target},
			http.StatusCreated, nil)
	}
}

// benchPut writes a value and returns its version.
func benchPut(b *testing.B, client *http.Client, url, name, value string) int64 {
	body, _ := json.Marshal(map[string]any{"value": value, "type": "String", "overwrite": true})
	req, _ := http.NewRequest(http.MethodPut, url+"/v1/parameters"+name, bytes.NewReader(body))
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Version int64 `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode >= 300 {
		b.Fatalf("PUT %s: %d %v", name, resp.StatusCode, err)
	}
	return p.Version
}

// BenchmarkEventDelivery measures, with the whole server in-process
// (SQLite, --dev) and a webhook receiver on loopback:
//   - latency: one put at a time after a quiet 25 ms, from the PUT's start
//     to the receiver having the event (p50, p99);
//   - throughput: puts from 8 writers as fast as they go, and the rate at
//     which one rule delivers them (events/s);
//   - writes: PUT throughput from 8 writers with 10 rules selecting every
//     write, next to the same server with none, in the same run.
func BenchmarkEventDelivery(b *testing.B) {
	client := &http.Client{Timeout: 10 * time.Second}
	b.Run("latency", func(b *testing.B) {
		m, _ := openBenchMain(b)
		r := newBenchReceiver(b)
		benchRules(b, m.HTTP.URL(), r.URL, 1)
		var lat, puts []time.Duration
		for i := 0; i < b.N; i++ {
			// A change after a quiet moment: a rule's job reads the log at
			// most every job.MinWakeInterval (20 ms), so back-to-back
			// changes wait for that instead.
			time.Sleep(job.MinWakeInterval + 5*time.Millisecond)
			start := time.Now()
			v := benchPut(b, client, m.HTTP.URL(), "/bench/latency", fmt.Sprint(i))
			puts = append(puts, time.Since(start))
			lat = append(lat, r.waitFor(b, fmt.Sprintf("/bench/latency@%d", v), 10*time.Second).Sub(start))
		}
		// The baseline: the PUT alone, acknowledged once durable.
		slices.Sort(puts)
		b.ReportMetric(float64(puts[len(puts)/2].Microseconds())/1000, "put-p50-ms")
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
	b.Run("throughput", func(b *testing.B) {
		m, _ := openBenchMain(b)
		r := newBenchReceiver(b)
		benchRules(b, m.HTTP.URL(), r.URL, 1)
		n := max(b.N, 200)
		start := time.Now()
		concurrentPuts(b, client, m.HTTP.URL(), n, 8)
		for r.n.Load() < int64(n) {
			if time.Since(start) > time.Minute {
				b.Fatalf("%d of %d events delivered in a minute", r.n.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	})
	for _, rules := range []int{0, 10} {
		b.Run(fmt.Sprintf("writes-%d-rules", rules), func(b *testing.B) {
			m, _ := openBenchMain(b)
			r := newBenchReceiver(b)
			benchRules(b, m.HTTP.URL(), r.URL, rules)
			n := max(b.N, 200)
			start := time.Now()
			concurrentPuts(b, client, m.HTTP.URL(), n, 8)
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "puts/s")
		})
	}
}

// concurrentPuts writes n versions from workers writers, each to its own
// names.
func concurrentPuts(b *testing.B, client *http.Client, url string, n, workers int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				benchPut(b, client, url, fmt.Sprintf("/bench/w%d/k%d", w, i%16), fmt.Sprint(i))
			}
		})
	}
	wg.Wait()
}
