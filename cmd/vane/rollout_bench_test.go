package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sdk"
)

const benchFlag = "/bench/prod/features/checkout"

// callbackTimes opens an SDK client on the server of m and records when
// its OnChange callback saw each version of benchFlag.
func callbackTimes(b *testing.B, m *Main) func(version int64, within time.Duration) time.Time {
	b.Helper()
	c, err := sdk.Open(context.Background(), sdk.Config{Server: m.HTTP.URL(), Paths: []string{"/bench/prod/"}, DisableUsage: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	var mu sync.Mutex
	seen := map[int64]time.Time{}
	wake := make(chan struct{}, 1)
	c.OnChange(benchFlag, func(ch sdk.Change) {
		mu.Lock()
		seen[ch.Version] = time.Now()
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	return func(version int64, within time.Duration) time.Time {
		deadline := time.After(within)
		for {
			mu.Lock()
			at, ok := seen[version]
			mu.Unlock()
			if ok {
				return at
			}
			select {
			case <-wake:
			case <-deadline:
				b.Fatalf("the SDK saw no version %d within %s", version, within)
			}
		}
	}
}

// benchPost posts body and decodes the answer into out.
func benchPost(b *testing.B, url string, body any, want int, out any) {
	b.Helper()
	buf, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(buf))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var raw json.RawMessage
		json.NewDecoder(resp.Body).Decode(&raw)
		b.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
}

// reportLatencies reports the p50 and max of lat in milliseconds.
func reportLatencies(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, prefix+"max-ms")
}

// BenchmarkRolloutStepToSDK measures how long a rollout step takes to reach
// an SDK client's OnChange callback, from the commit of the step's version
// (its LastModified) to the callback, next to an ordinary put measured the
// same way in the same run: a step is an ordinary write, so the two should
// match. The whole server runs in-process (SQLite, --dev); the SDK client
// follows it over a watch stream on loopback. "put" and "start-step" time
// one write per iteration; "timed-steps" runs a rollout of ten steps one
// second apart per iteration, the nine after the first taken by the node
// driving rollouts.
func BenchmarkRolloutStepToSDK(b *testing.B) {
	m, _ := openBenchMain(b)
	seen := callbackTimes(b, m)
	ctx := context.Background()
	put := func(value string) *vane.Parameter {
		p, err := m.Guard.Put(ctx, &vane.PutInput{Name: benchFlag, Value: value, Type: vane.TypeString, Overwrite: true})
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	put("false")
	b.Run("put", func(b *testing.B) {
		var lat []time.Duration
		for i := 0; b.Loop(); i++ {
			p := put(strconv.FormatBool(i%2 == 0))
			lat = append(lat, seen(p.Version, 10*time.Second).Sub(p.LastModified))
		}
		reportLatencies(b, "", lat)
	})
	b.Run("start-step", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			put("false")
			var r vane.Rollout
			benchPost(b, m.HTTP.URL()+"/v1/rollouts", map[string]any{"name": benchFlag, "strategy": "all-at-once", "bake": "1h"}, http.StatusCreated, &r)
			p, err := m.Index.Get(ctx, benchFlag+":"+strconv.FormatInt(r.LastVersion, 10))
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, seen(p.Version, 10*time.Second).Sub(p.LastModified))
			benchPost(b, m.HTTP.URL()+"/v1/rollouts/"+r.ID+"/cancel", nil, http.StatusOK, nil)
		}
		reportLatencies(b, "", lat)
	})
	b.Run("timed-steps", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			base := put("false")
			var r vane.Rollout
			benchPost(b, m.HTTP.URL()+"/v1/rollouts", map[string]any{"name": benchFlag, "strategy": "linear", "step": 10, "every": "1s", "bake": "0s"}, http.StatusCreated, &r)
			for v := base.Version + 2; v <= base.Version+10; v++ { // the steps after the first
				at := seen(v, 10*time.Second)
				p, err := m.Index.Get(ctx, benchFlag+":"+strconv.FormatInt(v, 10))
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, at.Sub(p.LastModified))
			}
			for { // bake 0: it completes at the driver's next look
				cur, err := m.Rollouts.Rollout(ctx, r.ID)
				if err != nil {
					b.Fatal(err)
				}
				if !cur.State.Active() {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		reportLatencies(b, "", lat)
	})
}

// BenchmarkMonitorRollback measures how long a fired monitor takes to roll
// a flag back: from the moment a health endpoint starts failing to the
// commit of the rollback's version, with an http monitor checked every
// second that fires on its first failure. The bound is one check period
// plus one write.
func BenchmarkMonitorRollback(b *testing.B) {
	m, _ := openBenchMain(b)
	var failingSince atomic.Int64 // unix nanoseconds; 0 while healthy
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failingSince.Load() != 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	b.Cleanup(health.Close)
	ctx := context.Background()
	var lat []time.Duration
	for b.Loop() {
		failingSince.Store(0)
		if _, err := m.Guard.Put(ctx, &vane.PutInput{Name: benchFlag, Value: "false", Type: vane.TypeString, Overwrite: true}); err != nil {
			b.Fatal(err)
		}
		var r vane.Rollout
		benchPost(b, m.HTTP.URL()+"/v1/rollouts", map[string]any{"name": benchFlag, "strategy": "linear", "step": 10, "every": "1h",
			"check_every": "1s", "monitors": []map[string]any{{"kind": "http", "url": health.URL, "failures": 1}}}, http.StatusCreated, &r)
		for { // the first check has passed
			cur, err := m.Rollouts.Rollout(ctx, r.ID)
			if err != nil {
				b.Fatal(err)
			}
			if cur.Monitors[0].State == vane.MonitorOK {
				break
			}
			time.Sleep(time.Millisecond)
		}
		began := time.Now()
		failingSince.Store(began.UnixNano())
		for {
			cur, err := m.Rollouts.Rollout(ctx, r.ID)
			if err != nil {
				b.Fatal(err)
			}
			if cur.State == vane.RolloutRolledBack {
				p, err := m.Index.Get(ctx, benchFlag+":"+strconv.FormatInt(cur.LastVersion, 10))
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, p.LastModified.Sub(began))
				break
			}
			if time.Since(began) > 10*time.Second {
				b.Fatalf("not rolled back 10s after the monitor began failing: %+v", cur)
			}
			time.Sleep(time.Millisecond)
		}
	}
	reportLatencies(b, "", lat)
}
