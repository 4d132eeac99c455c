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
		// Some names with several versions, labels on old and new ones,
		// and a deleted name.
		for i := 0; i < 2000; i += 7 {
			for v := range 3 {
				if _, err := s.Put(ctx, &vane.PutInput{Name: fmt.Sprintf("/m/p%04d", i), Value: fmt.Sprint("v", v), Overwrite: true}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Label(ctx, &vane.LabelInput{Name: fmt.Sprintf("/m/p%04d", i), Version: 1 + int64(i%2)*3, Labels: []string{"l"}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(ctx, &vane.DeleteInput{Name: "/m/p0010"}); err != nil {
			t.Fatal(err)
		}
		sqlstore.SetSnapshotScan(s, -1)
		whole, seq, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, way := range []struct {
			name      string
			scan      int
			partsRows int
		}{{"JoinInParts", -1, 100}, {"ScanInOne", 1, 0}, {"ScanInParts", 1, 100}} {
			sqlstore.SetSnapshotScan(s, way.scan)
			sqlstore.SetSnapshotPartRows(s, way.partsRows)
			got, seq2, err := s.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seq != seq2 || len(got) != len(whole) {
				t.Fatalf("%s: %d parameters at %d, through the join in one part: %d at %d", way.name, len(got), seq2, len(whole), seq)
			}
			for i := range whole {
				if a, b := storeString(whole[i]), storeString(got[i]); a != b {
					t.Fatalf("%s: parameter %d: %s, through the join in one part %s", way.name, i, b, a)
				}
			}
		}
		sqlstore.SetSnapshotScan(s, 0)
		sqlstore.SetSnapshotPartRows(s, 100)

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
