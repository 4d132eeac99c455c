package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlite"
)

// MustOpen opens a store on a new file in a temporary directory and closes
// it when the test ends.
func MustOpen(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "vane.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vane.db")
	ctx := context.Background()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Put(ctx, &vane.PutInput{Name: "/a/b", Value: fmt.Sprint(i), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening runs the migrations again; they must be skipped.
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Get(ctx, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 3 || p.Value != "2" {
		t.Fatalf("after reopen got version %d value %q, want 3 \"2\"", p.Version, p.Value)
	}
	changes, err := s.Changes(ctx, 0, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || changes[2].Seq != 3 {
		t.Fatalf("after reopen got %d changes, want 3 ending at seq 3: %+v", len(changes), changes)
	}
}

// BenchmarkPut measures durable puts: each is one transaction fsynced to
// the WAL before it returns (no batching).
func BenchmarkPut(b *testing.B) {
	s := MustOpen(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Put(ctx, &vane.PutInput{Name: fmt.Sprintf("/bench/p%d", i%1000), Value: "value", Type: vane.TypeString, Overwrite: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkPutParallel measures durable puts from concurrent callers; the
// single writer connection serializes them, one fsync each.
func BenchmarkPutParallel(b *testing.B) {
	s := MustOpen(b)
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.Put(ctx, &vane.PutInput{Name: fmt.Sprintf("/bench/p%d", i%1000), Value: "value", Type: vane.TypeString, Overwrite: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}
