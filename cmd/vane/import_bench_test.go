package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkImport10k compares, in one run, an import of 10,000 new
// parameters by `vane import` (one export read, one batch) with 10,000
// single PUTs by one client over loopback, on a full server on SQLite.
func BenchmarkImport10k(b *testing.B) {
	const n = 10_000
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			m, _ := openBenchMain(b)
			url := m.HTTP.URL()
			// The file: an export of the same tree from another server.
			src, _ := openBenchMain(b)
			seedBatch(b, src.HTTP.URL(), "/app/staging", n)
			file := filepath.Join(b.TempDir(), "app.yaml")
			var stdout, stderr bytes.Buffer
			c := &cli{stdin: bytes.NewReader(nil), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
				http: &http.Client{Timeout: 5 * time.Minute}}
			if err := c.export(context.Background(), []string{"--server", src.HTTP.URL(), "/app/staging", "--out", file}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := c.importFile(context.Background(), []string{"--server", url, file, "--to", "/app/prod"}); err != nil {
				b.Fatalf("import: %v\n%s", err, stderr.String())
			}
			b.StopTimer()
			m.Close()
			src.Close()
			os.Remove(file)
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "params/s")
	})
	b.Run("single-puts", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			m, _ := openBenchMain(b)
			url := m.HTTP.URL()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			b.StartTimer()
			for i := range n {
				name := fmt.Sprintf("/app/prod/tuning/p%06d", i)
				value := strconv.Itoa(i)
				if i%10 == 0 {
					name = fmt.Sprintf("/app/prod/features/f%06d", i)
					value = `{"enabled": true, "rollout_percentage": 25}`
				}
				if _, err := putOverwrite(context.Background(), client, url, name, value); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			m.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "params/s")
	})
}
