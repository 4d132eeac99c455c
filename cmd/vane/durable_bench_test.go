package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkDurablePuts measures acknowledged puts over loopback HTTP on
// each backend, from 1 and from 32 concurrent writers (each writer its own
// names, a keep-alive connection each), next to the disk's own rate of
// synchronous 4 KiB writes in the same data directory: the rate a store
// that fsyncs every write on its own could not beat. It reports puts/s,
// the client-side p99 and, for the backends, the mean number of writes
// per transaction (group commit).
//
//	go test ./cmd/vane -run '^$' -bench BenchmarkDurablePuts -benchtime 5s -count 3
func BenchmarkDurablePuts(b *testing.B) {
	b.Run("disk-fsync-4k", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		block := make([]byte, 4096)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			began := time.Now()
			if _, err := f.WriteAt(block, int64(i%256)*4096); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(began))
		}
		b.StopTimer()
		reportRate(b, lat, "writes/s")
	})
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers-%d", writers), func(b *testing.B) {
			benchStores(b, func(b *testing.B, store string) {
				m, _ := openBenchMainOn(b, store)
				st := sqlStore(m.Store)
				url := m.HTTP.URL()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writers}}
				defer client.CloseIdleConnections()
				per := make([][]time.Duration, writers)
				tx0, w0 := st.GroupCommits()
				b.ResetTimer()
				var wg sync.WaitGroup
				for w := range writers {
					n := b.N / writers
					if w < b.N%writers {
						n++
					}
					wg.Go(func() {
						lat := make([]time.Duration, 0, n)
						for i := range n {
							began := time.Now()
							name := fmt.Sprintf("/bench/durable/w%d/p%d", w, i%50)
							if _, err := putOverwrite(context.Background(), client, url, name, "value"); err != nil {
								b.Error(err)
								return
							}
							lat = append(lat, time.Since(began))
						}
						per[w] = lat
					})
				}
				wg.Wait()
				b.StopTimer()
				reportRate(b, slices.Concat(per...), "puts/s")
				if tx, w := st.GroupCommits(); tx > tx0 {
					b.ReportMetric(float64(w-w0)/float64(tx-tx0), "writes/tx")
				}
			})
		})
	}
}

// reportRate reports the rate of b.N operations over the elapsed time,
// and the p99 of their latencies in milliseconds.
func reportRate(b *testing.B, lat []time.Duration, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
