package index_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vanehq/vane"
)

// TestConcurrentReadsAndWrites hammers Get, ByPath and Snapshot from several
// readers while two writers change the store: one through the index (each
// write catches up before returning) and one behind its back, as another
// node would, followed by CatchUp calls that race with the first writer's.
// Run it with -race. Readers check what they can see at any instant: values
// only grow per name, listings are sorted, under their path and page
// correctly, snapshots are sorted and their sequence never goes back. At
// the end the index must equal the store.
func TestConcurrentReadsAndWrites(t *testing.T) {
	ctx := context.Background()
	const (
		names   = 300
		writes  = 1500 // per writer
		readers = 4
	)
	name := func(i int) string { return fmt.Sprintf("/app%d/env%d/features/flag%d", i%3, i%5, i) }
	m := newMemBackend()
	var counter atomic.Int64 // values only grow, across deletes too
	next := func() string { return strconv.FormatInt(counter.Add(1), 10) }
	for i := range names {
		m.put(name(i), next())
	}
	s := MustOpen(t, m.store())

	var stop atomic.Bool
	var readOps atomic.Int64
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			seen := map[string]int64{}
			var lastSeq int64
			for !stop.Load() {
				readOps.Add(1)
				switch op := rng.IntN(10); {
				case op < 7:
					n := name(rng.IntN(names))
					p, err := s.Get(ctx, n)
					if vane.ErrorCode(err) == vane.ENOTFOUND {
						continue
					} else if err != nil {
						t.Errorf("Get(%q): %v", n, err)
						return
					}
					v, _ := strconv.ParseInt(p.Value, 10, 64)
					if p.Name != n || v < seen[n] {
						t.Errorf("Get(%q) = %s=%s after seeing value %d", n, p.Name, p.Value, seen[n])
						return
					}
					seen[n] = v
				case op < 9:
					path := fmt.Sprintf("/app%d/env%d", rng.IntN(3), rng.IntN(5))
					in := vane.ByPathInput{Path: path, Recursive: true, Limit: 1 + rng.IntN(20)}
					prev := ""
					for {
						page, err := s.ByPath(ctx, &in)
						if err != nil {
							t.Errorf("ByPath(%q): %v", path, err)
							return
						}
						for _, p := range page.Parameters {
							if p.Name <= prev || !strings.HasPrefix(p.Name, path+"/") {
								t.Errorf("ByPath(%q): %q after %q", path, p.Name, prev)
								return
							}
							prev = p.Name
						}
						if page.NextToken == "" {
							break
						}
						in.NextToken = page.NextToken
					}
				default:
					ps, seq, err := s.Snapshot(ctx)
					if err != nil || seq < lastSeq {
						t.Errorf("Snapshot: sequence %d after %d, %v", seq, lastSeq, err)
						return
					}
					lastSeq = seq
					for i := 1; i < len(ps); i++ {
						if ps[i-1].Name >= ps[i].Name {
							t.Errorf("Snapshot: %q before %q", ps[i-1].Name, ps[i].Name)
							return
						}
					}
				}
			}
		})
	}

	var writers sync.WaitGroup
	// Through the index, on the even names: every write is readable as
	// soon as it returns.
	writers.Go(func() {
		rng := rand.New(rand.NewPCG(100, 1))
		for range writes {
			n := name(2 * rng.IntN(names/2))
			switch rng.IntN(6) {
			case 0:
				if err := s.Delete(ctx, &vane.DeleteInput{Name: n}); err == nil {
					if _, err := s.Get(ctx, n); vane.ErrorCode(err) != vane.ENOTFOUND {
						t.Errorf("Get(%q) after Delete: %v, want not found", n, err)
						return
					}
				}
			case 1:
				if _, err := s.Label(ctx, &vane.LabelInput{Name: n, Labels: []string{"live"}}); err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
					t.Errorf("Label(%q): %v", n, err)
					return
				}
			default:
				v := next()
				if _, err := s.Put(ctx, &vane.PutInput{Name: n, Value: v, Type: vane.TypeString, Overwrite: true}); err != nil {
					t.Errorf("Put(%q): %v", n, err)
					return
				}
				p, err := s.Get(ctx, n)
				if err != nil {
					t.Errorf("Get(%q) after Put: %v", n, err)
					return
				}
				if p.Value != v {
					t.Errorf("Get(%q) after Put of %s = %s", n, v, p.Value)
					return
				}
			}
		}
	})
	// Behind the index's back, on the odd names, then CatchUp as a
	// notification would.
	writers.Go(func() {
		rng := rand.New(rand.NewPCG(200, 1))
		for i := range writes {
			n := name(2*rng.IntN(names/2) + 1)
			if rng.IntN(6) == 0 {
				m.delete(n)
			} else {
				m.put(n, next())
			}
			if i%3 == 0 {
				if err := s.CatchUp(ctx); err != nil {
					t.Errorf("CatchUp: %v", err)
					return
				}
			}
		}
	})
	writers.Wait()
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	mustCatchUp(t, s)
	got, seq, _ := s.Snapshot(ctx)
	want, wseq, _ := m.store().Snapshot(ctx)
	if seq != wseq {
		t.Errorf("final sequence %d, want %d", seq, wseq)
	}
	if g, w := render(&vane.Page{Parameters: got}), render(&vane.Page{Parameters: want}); g != w {
		t.Errorf("final index differs from the store:\ngot  %s\nwant %s", g, w)
	}
	entries, _ := s.Stats()
	if entries != len(want) {
		t.Errorf("Stats() = %d entries, want %d", entries, len(want))
	}
	t.Logf("%d reads during %d writes", readOps.Load(), 2*writes)
}
