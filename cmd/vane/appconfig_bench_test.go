package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppConfigPoll measures AppConfig's GetLatestConfiguration over
// HTTP on loopback, as Powertools and the AppConfig agent poll, next to
// the native snapshot endpoint and a bare net/http handler, in one run.
// The server holds 100 flags under /bench/prod/features/ (half of them
// with rollouts, which the feature-flags document leaves out) and a
// freeform JSON parameter.
//
//   - appconfig/features-unchanged and appconfig/freeform-unchanged: each
//     parallel client follows its own session, spending each token on the
//     next poll; the configuration does not change, so every poll after
//     the first has an empty body, as nearly every poll does in use;
//   - snapshot/not-modified: GET /v1/snapshot of the same path with the
//     ETag of the last answer (304), the native way to ask "anything new?";
//   - snapshot/full: the same GET without the ETag (200, every flag);
//   - baseline/empty: a bare handler answering 200 with an empty body.
func BenchmarkAppConfigPoll(b *testing.B) {
	m, _ := openBenchMain(b)
	base := m.HTTP.URL()
	putBenchFlags(b, base, 100)
	put(b, base+"/v1/parameters/bench/prod/tuning/limits", `{"type":"String","value":"{\"max_items\": 50, \"timeout_ms\": 2500}","overwrite":true}`)

	b.Run("appconfig/features-unchanged", func(b *testing.B) { benchPolls(b, base, "features") })
	b.Run("appconfig/freeform-unchanged", func(b *testing.B) { benchPolls(b, base, "tuning/limits") })

	snapshot := base + "/v1/snapshot?path=" + url.QueryEscape("/bench/prod/features/")
	resp, err := http.Get(snapshot)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET snapshot: %v %v", err, resp)
	}
	full, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	b.Run("snapshot/not-modified", func(b *testing.B) {
		loadStatus(b, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, snapshot, nil)
			req.Header.Set("If-None-Match", etag)
			return req
		}, http.StatusNotModified, 0)
	})
	b.Run("snapshot/full", func(b *testing.B) {
		loadStatus(b, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, snapshot, nil)
			return req
		}, http.StatusOK, len(full))
	})
	b.Run("baseline/empty", func(b *testing.B) {
		bare := baselineServer(b, nil)
		loadStatus(b, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, bare+"/configuration", nil)
			return req
		}, http.StatusOK, 0)
	})
}

// put PUTs a JSON body and fails the benchmark unless it is stored.
func put(b *testing.B, url, body string) {
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader([]byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated) {
		b.Fatalf("PUT %s: %v %v", url, err, resp)
	}
	resp.Body.Close()
}

// benchPolls runs parallel clients, each following its own configuration
// session of a profile of /bench/prod, and reports req/s and the p99 of
// the polls after each session's first.
func benchPolls(b *testing.B, base, profile string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	defer client.CloseIdleConnections()
	start := func() string {
		body, _ := json.Marshal(map[string]string{"ApplicationIdentifier": "bench", "EnvironmentIdentifier": "prod", "ConfigurationProfileIdentifier": profile})
		resp, err := client.Post(base+"/configurationsessions", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ InitialConfigurationToken string }
		if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&out) != nil {
			b.Fatalf("StartConfigurationSession: %d", resp.StatusCode)
		}
		return out.InitialConfigurationToken
	}
	poll := func(token string) (next string, n int64, err error) {
		resp, err := client.Get(base + "/configuration?configuration_token=" + url.QueryEscape(token))
		if err != nil {
			return "", 0, err
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GetLatestConfiguration: %d", resp.StatusCode)
		}
		return resp.Header.Get("Next-Poll-Configuration-Token"), n, nil
	}
	// Each client's session is started and polled once (the poll that
	// carries the configuration) before the clock starts.
	const sessions = 256
	tokens := make(chan string, sessions)
	for range sessions {
		token, _, err := poll(start())
		if err != nil {
			b.Fatal(err)
		}
		tokens <- token
	}
	var mu sync.Mutex
	var all []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		token := <-tokens
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			next, n, err := poll(token)
			lat = append(lat, time.Since(t0))
			if err != nil || n != 0 || next == "" {
				b.Errorf("poll: %v, %d bytes (want an empty body), next token %q", err, n, next)
				return
			}
			token = next
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	reportThroughput(b, all)
}

// loadStatus runs parallel requests made by newReq, each of which must
// be answered with status and wantLen bytes, and reports req/s and p99.
func loadStatus(b *testing.B, newReq func() *http.Request, status, wantLen int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var all []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			req := newReq()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(t0))
			if resp.StatusCode != status || int(n) != wantLen {
				b.Errorf("%s %s: status %d, %d bytes, want %d and %d", req.Method, req.URL, resp.StatusCode, n, status, wantLen)
				return
			}
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	reportThroughput(b, all)
}

// reportThroughput reports the p50 and p99 of the latencies and the
// request rate.
func reportThroughput(b *testing.B, all []time.Duration) {
	if len(all) > 0 {
		reportLatency(b, all)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
