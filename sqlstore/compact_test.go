package sqlstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/sqlstore"
)

// clock is a test clock that moves on by a second at each reading.
type clock struct{ t time.Time }

func (c *clock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

// fillChanges writes n changes, a second apart from start on, straight
// into the change log (much faster than n puts).
func fillChanges(t *testing.T, s *sqlite.Store, start time.Time, n int) {
	t.Helper()
	_, err := s.Store.DB.ExecContext(t.Context(), `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?)
		INSERT INTO changes (op, name, version, type, at, principal) SELECT 'put', '/fill/p' || n, 1, 'String', ? + n * 1000000000, 'test' FROM i`,
		n, start.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
}

// TestCompactManyBatches compacts a log longer than several of Compact's
// batches, and stops where the records become too recent.
func TestCompactManyBatches(t *testing.T) {
	s := MustOpen(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 23456
	fillChanges(t, s, start, n) // record i (from 1) at start + i seconds
	for _, tt := range []struct {
		name    string
		cut     int // records before start + cut seconds are old
		removed int64
		floor   int64
	}{
		{"NothingOldEnough", 1, 0, 0},
		{"WithinTheFirstBatch", 101, 100, 100},
		{"AcrossBatches", 17001, 16900, 17000},
		{"AllButTheNewest", n + 1000, n - 17001, n - 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			removed, err := s.Compact(t.Context(), start.Add(time.Duration(tt.cut)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if removed != tt.removed {
				t.Errorf("removed %d records, want %d", removed, tt.removed)
			}
			if tt.floor > 0 {
				if _, err := s.Changes(t.Context(), tt.floor-1, "", 1); vane.ErrorCode(err) != vane.EGONE {
					t.Errorf("Changes(%d) below the floor: %v, want %s", tt.floor-1, err, vane.EGONE)
				}
			}
			cs, err := s.Changes(t.Context(), tt.floor, "", 1)
			if err != nil || len(cs) != 1 || cs[0].Seq != tt.floor+1 {
				t.Errorf("Changes(%d) at the floor = %+v, %v; want the record %d", tt.floor, cs, err, tt.floor+1)
			}
		})
	}
}

// TestCompactClockStepBack leaves behind, below the floor, a record
// written with a later time than the ones after it (the clock stepped
// back), and never returns it.
func TestCompactClockStepBack(t *testing.T) {
	s := MustOpen(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.Now = c.now
	put := func(name string) {
		t.Helper()
		if _, err := s.Put(t.Context(), &vane.PutInput{Name: name, Value: "x", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
	}
	put("/a") // seq 1 at +1s
	put("/b") // seq 2 at +2s
	c.t = c.t.Add(time.Hour)
	put("/late") // seq 3 at +1h+3s
	c.t = c.t.Add(-time.Hour)
	put("/c") // seq 4 at +4s
	put("/d") // seq 5 at +5s
	removed, err := s.Compact(t.Context(), time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC))
	if err != nil || removed != 3 {
		t.Fatalf("Compact = %d, %v; want 3 removed: the old records but the newest", removed, err)
	}
	cs, err := s.Changes(t.Context(), 4, "", 10)
	if err != nil || len(cs) != 1 || cs[0].Name != vane.CanonicalName("/d") {
		t.Fatalf("Changes(4) = %+v, %v; want the one put of /d", cs, err)
	}
	if _, err := s.Changes(t.Context(), 3, "", 10); vane.ErrorCode(err) != vane.EGONE {
		t.Fatalf("Changes(3) below the floor: %v, want %s", err, vane.EGONE)
	}
}

func TestCopyCompacted(t *testing.T) {
	src, dst := MustOpen(t), MustOpen(t)
	fill(t, src)
	if _, err := src.Compact(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	stats, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sqlstore.CopyStats{Parameters: 8, Versions: 14, Labels: 4, Tags: 8, Changes: 1, Audit: 25, MaxSeq: 25, MaxAuditID: 25, Floor: 24} // the audit history is not compacted
	if *stats != want {
		t.Errorf("stats = %+v, want %+v", *stats, want)
	}
	for _, s := range []*sqlite.Store{src, dst} {
		_, err := s.Changes(t.Context(), 23, "", 10)
		if vane.ErrorCode(err) != vane.EGONE || !strings.Contains(vane.ErrorMessage(err), "24") {
			t.Errorf("Changes(23) below the floor: %v, want %s naming 24", err, vane.EGONE)
		}
	}
	wantChanges, err := src.Changes(t.Context(), 24, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	gotChanges, err := dst.Changes(t.Context(), 24, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "Changes from the floor", gotChanges, wantChanges)

	t.Run("ErrVerifyFloor", func(t *testing.T) {
		dst := MustOpen(t)
		if _, err := dst.Store.DB.ExecContext(t.Context(), `CREATE TRIGGER tamper AFTER UPDATE ON change_floor
			BEGIN UPDATE change_floor SET seq = 3 WHERE id = 1 AND seq <> 3; END`); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err == nil || !strings.Contains(err.Error(), "change_floor: 24 in the source, 3 in the destination") {
			t.Fatalf("err = %v, want a verification failure naming the floor", err)
		}
	})
}

// BenchmarkCompact measures compacting a log of 100,000 records, all old.
func BenchmarkCompact(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		s := MustOpen(b)
		_, err := s.Store.DB.ExecContext(b.Context(), `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 100000)
			INSERT INTO changes (op, name, version, type, at, principal) SELECT 'put', '/fill/p' || n, 1, 'String', ?, 'test' FROM i`, start.UnixNano())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := s.Compact(b.Context(), start.Add(time.Hour)); err != nil || n != 99999 {
			b.Fatalf("Compact = %d, %v; want 99999 removed", n, err)
		}
	}
}
