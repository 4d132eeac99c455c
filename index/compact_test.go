package index_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/sqlite"
)

// wantClosed fails unless ch is closed without delivering another change.
func wantClosed(t *testing.T, what string, ch <-chan *vane.Change) {
	t.Helper()
	if c, ok := recv(t, ch); ok {
		t.Fatalf("%s: received change %+v, want the channel closed", what, c)
	}
}

// TestCatchUpReloadsWhenCompactedPast follows a node that fell behind past
// the change log's compaction: other writers' changes were committed to
// the shared store and then compacted away before the index read them.
func TestCatchUpReloadsWhenCompactedPast(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := index.New(db)
	s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := s.Open(ctx); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	put := func(st vane.Store, name, value string) {
		t.Helper()
		if _, err := st.Put(ctx, &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	put(s, "/a", "1")
	put(s, "/c", "1")
	behind := s.Seq()
	first, _, cancel1 := s.Subscribe(16)
	defer cancel1()
	second, _, cancel2 := s.Subscribe(16)
	defer cancel2()
	third, _ := subscribeQueue(s, 16)
	defer third.cancel()

	// Another node's writes, below the index, then a compaction that
	// removes all but the newest record.
	put(db, "/a", "2")
	put(db, "/b", "1")
	if err := db.Delete(ctx, &vane.DeleteInput{Name: "/c"}); err != nil {
		t.Fatal(err)
	}
	put(db, "/d", "1")
	if n, err := db.Compact(ctx, time.Now()); err != nil || n != 5 {
		t.Fatalf("Compact = %d, %v; want 5 removed", n, err)
	}
	if _, err := db.Changes(ctx, behind, "", 10); vane.ErrorCode(err) != vane.EGONE {
		t.Fatalf("Changes after %d: %v, want %s", behind, err, vane.EGONE)
	}

	t.Run("ReloadsTheSnapshot", func(t *testing.T) {
		if err := s.CatchUp(ctx); err != nil {
			t.Fatalf("CatchUp: %v", err)
		}
		_, seq, err := db.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Seq() != seq {
			t.Errorf("Seq = %d, want the snapshot's %d", s.Seq(), seq)
		}
		wantValue(t, s, "/a", "2")
		wantValue(t, s, "/b", "1")
		wantValue(t, s, "/d", "1")
		wantAbsent(t, s, "/c")
		if n, _ := s.Stats(); n != 3 {
			t.Errorf("Stats: %d parameters, want 3", n)
		}
		if !strings.Contains(logs.String(), "reloaded the snapshot") {
			t.Errorf("no warning logged:\n%s", logs.String())
		}
	})
	t.Run("DropsEverySubscriber", func(t *testing.T) {
		wantClosed(t, "first subscriber", first)
		wantClosed(t, "second subscriber", second)
		if c, ok := third.recv(t); ok {
			t.Fatalf("queue subscriber: received change %+v, want the queue ended", c)
		}
		if n := s.Subscribers(); n != 0 {
			t.Errorf("Subscribers = %d, want 0", n)
		}
		cancel1() // no panic after the drop
	})
	t.Run("FollowsOnAfterwards", func(t *testing.T) {
		ch, seq, cancel := s.Subscribe(16)
		defer cancel()
		put(db, "/a", "3")
		if err := s.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if c, ok := recv(t, ch); !ok || c.Seq <= seq || c.Name != vane.CanonicalName("/a") {
			t.Fatalf("new subscriber: %+v, %v; want the put of /a after %d", c, ok, seq)
		}
		wantValue(t, s, "/a", "3")
	})
}

// TestCatchUpCompactedMidway loses the log between two batches of one
// CatchUp: what the first batch applied is neither published nor sent,
// and the reloaded state is.
func TestCatchUpCompactedMidway(t *testing.T) {
	ctx := context.Background()
	p := func(name, value string, version int64) *vane.Parameter {
		return &vane.Parameter{Name: name, Value: value, Version: version, Type: vane.TypeString}
	}
	snapshots := [][]*vane.Parameter{{p("/a", "1", 1)}, {p("/a", "9", 9), p("/z", "1", 1)}}
	snapshotSeqs := []int64{1, 20}
	loads := 0
	f := &fakeStore{
		SnapshotFunc: func(context.Context) ([]*vane.Parameter, int64, error) {
			i := min(loads, len(snapshots)-1)
			loads++
			return snapshots[i], snapshotSeqs[i], nil
		},
		ChangesFunc: func(_ context.Context, after int64, _ string, limit int) ([]vane.Change, error) {
			if after == 1 {
				return []vane.Change{{Seq: 2, Op: vane.OpPut, Name: "/a", Version: 2}}, nil
			}
			return nil, vane.CompactedError(10)
		},
		GetFunc: func(_ context.Context, name string) (*vane.Parameter, error) {
			return p("/a", "2", 2), nil
		},
	}
	s := MustOpen(t, f)
	ch, _, cancel := s.Subscribe(16)
	defer cancel()
	if err := s.CatchUp(ctx); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if s.Seq() != 20 {
		t.Errorf("Seq = %d, want the reloaded snapshot's 20", s.Seq())
	}
	wantValue(t, s, "/a", "9")
	wantValue(t, s, "/z", "1")
	wantClosed(t, "subscriber", ch)
}

// TestCatchUpReloadFails keeps the last state and the subscribers when the
// snapshot can't be read either; the next CatchUp tries again.
func TestCatchUpReloadFails(t *testing.T) {
	ctx := context.Background()
	down := true
	loads := 0
	f := &fakeStore{
		SnapshotFunc: func(context.Context) ([]*vane.Parameter, int64, error) {
			loads++
			if loads > 1 && down {
				return nil, 0, vane.Errorf(vane.EUNAVAILABLE, "down")
			}
			if loads > 1 {
				return []*vane.Parameter{{Name: "/a", Value: "2", Version: 2}}, 8, nil
			}
			return []*vane.Parameter{{Name: "/a", Value: "1", Version: 1}}, 3, nil
		},
		ChangesFunc: func(context.Context, int64, string, int) ([]vane.Change, error) {
			return nil, vane.CompactedError(7)
		},
	}
	s := MustOpen(t, f)
	ch, _, cancel := s.Subscribe(16)
	defer cancel()
	if err := s.CatchUp(ctx); vane.ErrorCode(err) != vane.EUNAVAILABLE {
		t.Fatalf("CatchUp: %v, want the snapshot's %s", err, vane.EUNAVAILABLE)
	}
	if s.Seq() != 3 || s.Subscribers() != 1 {
		t.Fatalf("after a failed reload: Seq %d, %d subscribers; want 3 and 1", s.Seq(), s.Subscribers())
	}
	wantValue(t, s, "/a", "1")
	down = false
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Seq() != 8 {
		t.Errorf("Seq = %d, want the reloaded snapshot's 8", s.Seq())
	}
	wantValue(t, s, "/a", "2")
	wantClosed(t, "subscriber", ch)
}
