package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// seedBatch writes n parameters under prefix through POST /v1/batch, in
// batches of vane.MaxBatchItems: a tenth of them flags, a tenth tagged.
func seedBatch(tb testing.TB, url, prefix string, n int) {
	tb.Helper()
	for start := 0; start < n; start += vane.MaxBatchItems {
		var items []map[string]any
		for i := start; i < min(n, start+vane.MaxBatchItems); i++ {
			it := map[string]any{"op": "put", "name": fmt.Sprintf("%s/tuning/p%06d", prefix, i), "type": "String", "value": strconv.Itoa(i)}
			if i%10 == 0 {
				it["name"] = fmt.Sprintf("%s/features/f%06d", prefix, i)
				it["value"] = `{"enabled": true, "rollout_percentage": 25}`
			}
			if i%10 == 1 {
				it["tags"] = map[string]string{"team": "pay"}
			}
			items = append(items, it)
		}
		body, _ := json.Marshal(map[string]any{"items": items})
		resp, err := http.Post(url+"/v1/batch", "application/json", bytes.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("seeding: %d %s", resp.StatusCode, out)
		}
	}
}

// BenchmarkExport100k is one GET /v1/export of 100,000 parameters (a tenth
// of them tagged) from a full server on SQLite, over loopback, with the
// body read whole; it reports parameters per second.
func BenchmarkExport100k(b *testing.B) {
	const n = 100_000
	m, _ := openBenchMain(b)
	url := m.HTTP.URL()
	seedBatch(b, url, "/big", n)
	client := &http.Client{Timeout: 5 * time.Minute}
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(url + "/v1/export?path=/big")
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Parameters []json.RawMessage `json:"parameters"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || len(out.Parameters) != n {
			b.Fatalf("export: %v, %d parameters", err, len(out.Parameters))
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "params/s")
}
