package index_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
)

const benchParams = 100_000

// benchFlags returns how many flags /app{a}/env{e}/features holds: between
// 20 and 180, 100 on average, and exactly 100 for app0/env0, the path the
// listing benchmarks read.
func benchFlags(a, e int) int {
	if a == 0 && e == 0 {
		return 100
	}
	return 20 + (a*37+e*11)%161
}

// benchBackend returns a fake backend holding benchParams flags named
// /app{a}/env{e}/features/flag{f}, five environments per app, with
// flag-document-sized values, and their names in random order: the read
// benchmarks look up every parameter as often, the worst case for caches.
func benchBackend() (*memBackend, []string) {
	m := newMemBackend()
	names := make([]string, 0, benchParams)
	for a := 0; len(names) < benchParams; a++ {
		for e := 0; e < 5 && len(names) < benchParams; e++ {
			for f := 0; f < benchFlags(a, e) && len(names) < benchParams; f++ {
				n := fmt.Sprintf("/app%d/env%d/features/flag%d", a, e, f)
				m.put(n, fmt.Sprintf(`{"enabled":true,"variants":{"on":true,"off":false},"defaultVariant":"on","rules":[{"percentage":%d}]}`, f%100))
				names = append(names, n)
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	// A server looks up a name it has just parsed from a request, so its
	// bytes are in cache: the lookups read fresh copies of the names, laid
	// out in lookup order, rather than the strings the store holds.
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
	}
	all, off := b.String(), 0
	for i, n := range names {
		names[i] = all[off : off+len(n)]
		off += len(n)
	}
	return m, names
}

// benchIndex is one opened index over benchBackend, shared by the read
// benchmarks, which don't change it.
var benchIndex = sync.OnceValues(func() (*index.Store, []string) {
	m, names := benchBackend()
	s := index.New(m.store())
	if err := s.Open(context.Background()); err != nil {
		panic(err)
	}
	return s, names
})

func loadedIndex(b *testing.B) (*index.Store, []string) {
	b.Helper()
	s, names := benchIndex()
	if n, _ := s.Stats(); n != benchParams {
		b.Fatalf("index holds %d parameters, want %d", n, benchParams)
	}
	return s, names
}

// BenchmarkGet reads the latest version of a parameter by name, each of the
// 100,000 in turn in random order, so that most reads miss the caches.
func BenchmarkGet(b *testing.B) {
	s, names := loadedIndex(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGetPlainMap is BenchmarkGet's floor: the same lookups in one
// Go map of all the parameters, which the index can't use, since copying it
// on every write would be O(n).
func BenchmarkGetPlainMap(b *testing.B) {
	s, names := loadedIndex(b)
	ps, _, err := s.Snapshot(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	m := make(map[string]*vane.Parameter, len(ps))
	for _, p := range ps {
		m[p.Name] = p
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if m[names[i%len(names)]] == nil {
			b.Fatalf("%q is missing", names[i%len(names)])
		}
		i++
	}
}

// BenchmarkGetHot reads the latest versions of 1,000 of the parameters,
// round robin: the common case of a service reading its own flags, whose
// index entries stay in cache.
func BenchmarkGetHot(b *testing.B) {
	s, names := loadedIndex(b)
	hot := names[:1000]
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, hot[i%len(hot)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGetParallel reads latest versions from GOMAXPROCS goroutines.
func BenchmarkGetParallel(b *testing.B) {
	s, names := loadedIndex(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var seed sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		seed.Lock()
		i := next * 7919
		next++
		seed.Unlock()
		for pb.Next() {
			if _, err := s.Get(ctx, names[i%len(names)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func benchByPath(b *testing.B, in vane.ByPathInput) {
	s, _ := loadedIndex(b)
	ctx := context.Background()
	page, err := s.ByPath(ctx, &in)
	if err != nil || len(page.Parameters) != 100 || page.NextToken != "" {
		b.Fatalf("ByPath(%q) = %d parameters, token %q, %v; want 100, none", in.Path, len(page.Parameters), page.NextToken, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ByPath(ctx, &in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkByPath100 lists one level of a path with 100 children.
func BenchmarkByPath100(b *testing.B) {
	benchByPath(b, vane.ByPathInput{Path: "/app0/env0/features", Limit: 100})
}

// BenchmarkByPathRecursive100 lists a subtree of 100 parameters.
func BenchmarkByPathRecursive100(b *testing.B) {
	benchByPath(b, vane.ByPathInput{Path: "/app0/env0", Recursive: true, Limit: 100})
}

// BenchmarkApply measures one put by another writer applied by CatchUp:
// two reads of the fake's change log, one re-read of the parameter and the
// copy-on-write update of the index. The fake's own work (recording the
// put, copying the change and the parameter it returns) is included.
func BenchmarkApply(b *testing.B) {
	m, names := benchBackend()
	s := index.New(m.store())
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.put(names[i%len(names)], "changed")
		if err := s.CatchUp(ctx); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if s.Seq() != m.seq() {
		b.Fatalf("Seq() = %d, want %d", s.Seq(), m.seq())
	}
}
