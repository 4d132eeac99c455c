package postgres_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// TestNodesCompactWhileWriting compacts the whole log over and over on one
// node while two others write and a fourth follows the log, in small pages
// and letting a compaction pass between them, so that it falls behind. Compaction
// takes the write lock, so the follower either reads the records after its
// cursor without a gap (writers that don't fail leave none in the
// sequence) or is told they are gone, and then starts over from a
// snapshot.
func TestNodesCompactWhileWriting(t *testing.T) {
	_, dsn := NewSchema(t)
	writers := []vane.Store{OpenDSN(t, dsn), OpenDSN(t, dsn)}
	compactor, follower := OpenDSN(t, dsn), OpenDSN(t, dsn)
	ctx := t.Context()
	const writes = 100 // per writer

	var errs errorList
	var wg sync.WaitGroup
	var writing atomic.Int32
	writing.Store(int32(len(writers)))
	for w, s := range writers {
		wg.Go(func() {
			defer writing.Add(-1)
			for i := range writes {
				in := &vane.PutInput{Name: fmt.Sprintf("/w%d/p%d", w, i%7), Value: fmt.Sprint(i), Type: vane.TypeString, Overwrite: true}
				if _, err := s.Put(ctx, in); err != nil {
					errs.add(fmt.Errorf("writer %d: %w", w, err))
					return
				}
			}
		})
	}
	var removed, compactions atomic.Int64
	wg.Go(func() {
		for writing.Load() > 0 {
			n, err := compactor.Compact(ctx, time.Now())
			if err != nil {
				errs.add(fmt.Errorf("compact: %w", err))
				return
			}
			removed.Add(n)
			compactions.Add(1)
		}
	})
	var gone, read int
	wg.Go(func() {
		cursor := int64(0)
		for {
			stopped := writing.Load() == 0 // then one more pass reads the rest
			cs, err := follower.Changes(ctx, cursor, "", 5)
			if vane.ErrorCode(err) == vane.EGONE {
				gone++
				_, seq, err := follower.Snapshot(ctx)
				if err != nil {
					errs.add(fmt.Errorf("snapshot: %w", err))
					return
				}
				if seq < cursor {
					errs.add(fmt.Errorf("snapshot at %d, behind the cursor %d", seq, cursor))
					return
				}
				cursor = seq
				continue
			}
			if err != nil {
				errs.add(fmt.Errorf("changes after %d: %w", cursor, err))
				return
			}
			for _, c := range cs {
				if c.Seq != cursor+1 {
					errs.add(fmt.Errorf("changes after %d: got %d, a gap no EGONE reported", cursor, c.Seq))
					return
				}
				cursor = c.Seq
				read++
			}
			if stopped && len(cs) == 0 {
				return
			}
			// Lag behind: let two compactions pass, and writes between
			// them, before the next read.
			for c := compactions.Load(); compactions.Load() < c+2 && writing.Load() > 0; {
				runtime.Gosched()
			}
		}
	})
	wg.Wait()
	errs.report(t)

	_, seq, err := follower.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(writers) * writes); seq != want {
		t.Errorf("the last sequence is %d, want %d", seq, want)
	}
	if removed.Load() == 0 {
		t.Error("the compactor removed nothing")
	}
	t.Logf("compactions removed %d records; the follower read %d and was sent back to a snapshot %d times", removed.Load(), read, gone)
}
