package sqlstore_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlstore"
)

// TestSnapshotInParts: a snapshot read in parts holds what one read in a
// single query does, and, with writes going on, every snapshot is one
// state: pairs of names written together in one batch, one at each end of
// the name range (so in different parts), always agree.
func TestSnapshotInParts(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: snapshots are read in one part")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		s, ctx := b.store, t.Context()
		var items []vane.BatchItem
		for i := range 2000 {
			items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: fmt.Sprintf("/m/p%04d", i), Value: "x", Type: vane.TypeString}})
		}
		for _, n := range []string{"/a/pair", "/z/pair"} {
			items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: n, Value: "0", Type: vane.TypeString}})
		}
		if _, err := s.Batch(ctx, &vane.BatchInput{Items: items}); err != nil {
			t.Fatal(err)
		}
		whole, seq, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sqlstore.SetSnapshotPartRows(s, 100)
		parts, seq2, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seq != seq2 || len(parts) != len(whole) {
			t.Fatalf("in parts: %d parameters at %d, in one: %d at %d", len(parts), seq2, len(whole), seq)
		}
		for i := range whole {
			if a, b := storeString(whole[i]), storeString(parts[i]); a != b {
				t.Fatalf("parameter %d: in parts %s, in one %s", i, b, a)
			}
		}

		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 1; !stop.Load(); i++ {
				v := fmt.Sprint(i)
				_, err := s.Batch(ctx, &vane.BatchInput{Items: []vane.BatchItem{
					{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/a/pair", Value: v, Overwrite: true}},
					{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/z/pair", Value: v, Overwrite: true}},
				}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
		for range 30 {
			ps, _, err := s.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			first, last := ps[0], ps[len(ps)-1]
			if first.Name != "/a/pair" || last.Name != "/z/pair" || first.Value != last.Value {
				t.Fatalf("a snapshot mixes states: %s=%s, %s=%s", first.Name, first.Value, last.Name, last.Value)
			}
		}
		stop.Store(true)
		wg.Wait()
	})
}

func storeString(p *vane.Parameter) string {
	return fmt.Sprintf("%s v%d %s %q %v %s %s %s %s %s", p.Name, p.Version, p.Type, p.Value, p.Labels, p.Tier, p.DataType,
		p.KeyID, p.LastModifiedUser, p.LastModified)
}
