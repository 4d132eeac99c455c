package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlstore"
)

// queueWrites starts each write in its own goroutine while s holds its
// groups, waits until all are queued, then releases them as one group
// and returns their errors in order.
func queueWrites(t *testing.T, s *sqlstore.Store, writes []func() error) []error {
	t.Helper()
	queued, release := sqlstore.HoldGroups(s)
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Go(func() { errs[i] = w() })
	}
	deadline := time.Now().Add(10 * time.Second)
	for queued() < len(writes) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", queued(), len(writes))
		}
		time.Sleep(time.Millisecond)
	}
	before, _ := s.GroupCommits()
	release()
	wg.Wait()
	if after, _ := s.GroupCommits(); after != before+1 {
		t.Fatalf("%d writes ran in %d transactions, want one group", len(writes), after-before)
	}
	return errs
}

func put(ctx context.Context, s *sqlstore.Store, name, value string, expect *int64) func() error {
	return func() error {
		_, err := s.Put(ctx, &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true, ExpectVersion: expect})
		return err
	}
}

// TestGroupCommitFailsAWriteAlone: writes committed as one group each get
// their own outcome; the ones that fail leave nothing, the others are all
// written, with one change-log record each, in order.
func TestGroupCommitFailsAWriteAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, ctx := b.store, t.Context()
		if err := put(ctx, s, "/g/shared", "0", nil)(); err != nil {
			t.Fatal(err)
		}
		seq, err := s.Changes(ctx, 0, "", vane.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		start := seq[len(seq)-1].Seq
		stale := int64(7)
		var writes []func() error
		for i := range 12 {
			switch i % 3 {
			case 0:
				writes = append(writes, put(ctx, s, fmt.Sprintf("/g/new/%d", i), "x", nil))
			case 1:
				writes = append(writes, put(ctx, s, "/g/shared", fmt.Sprint(i), &stale)) // conflicts
			case 2:
				writes = append(writes, put(ctx, s, "/g/shared", fmt.Sprint(i), nil))
			}
		}
		// A batch whose first item is written before its second fails:
		// its savepoint takes the first back.
		writes = append(writes, func() error {
			_, err := s.Batch(ctx, &vane.BatchInput{Items: []vane.BatchItem{
				{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/g/partial", Value: "x", Type: vane.TypeString}},
				{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/g/shared", Value: "y", ExpectVersion: &stale}},
			}})
			return err
		})
		errs := queueWrites(t, s, writes)
		for i, err := range errs {
			if wantFail := i%3 == 1 || i == 12; wantFail != (err != nil) || wantFail && vane.ErrorCode(err) != vane.ECONFLICT {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if _, err := s.Get(ctx, "/g/partial"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("the failed batch's first item is stored: %v", err)
		}
		p, err := s.Get(ctx, "/g/shared")
		if err != nil || p.Version != 5 {
			t.Fatalf("/g/shared after 4 good puts in the group: %+v, %v", p, err)
		}
		cs, err := s.Changes(ctx, start, "", vane.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 8 {
			t.Fatalf("%d change-log records for 8 good writes", len(cs))
		}
		// Sequences increase (PostgreSQL's may skip the numbers a
		// rolled-back write drew, as outside a group).
		for i := 1; i < len(cs); i++ {
			if cs[i].Seq <= cs[i-1].Seq {
				t.Errorf("record %d has sequence %d after %d", i, cs[i].Seq, cs[i-1].Seq)
			}
		}
	})
}

// TestGroupCommitFailedCommitFailsTheGroup: when the group's commit fails,
// every write of the group fails and none of them is stored; the next
// write works.
func TestGroupCommitFailedCommitFailsTheGroup(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, ctx := b.store, t.Context()
		saved := s.Dialect.Notify
		s.Dialect.Notify = func(context.Context, *sql.Tx) error { return errors.New("injected: the commit cannot be made") }
		var writes []func() error
		for i := range 10 {
			writes = append(writes, put(ctx, s, fmt.Sprintf("/g/lost/%d", i), "x", nil))
		}
		for i, err := range queueWrites(t, s, writes) {
			if err == nil {
				t.Errorf("write %d of a group whose commit failed succeeded", i)
			}
		}
		s.Dialect.Notify = saved
		for i := range 10 {
			if _, err := s.Get(ctx, fmt.Sprintf("/g/lost/%d", i)); vane.ErrorCode(err) != vane.ENOTFOUND {
				t.Fatalf("/g/lost/%d after a failed commit: %v", i, err)
			}
		}
		if err := put(ctx, s, "/g/after", "x", nil)(); err != nil {
			t.Fatalf("a write after the failed group: %v", err)
		}
	})
}

// TestGroupCommitCancelledWhileQueued: a write whose context ends while it
// waits leaves the queue and is not made.
func TestGroupCommitCancelledWhileQueued(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := b.store
		queued, release := sqlstore.HoldGroups(s)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- put(ctx, s, "/g/cancelled", "x", nil)() }()
		for queued() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled queued write: %v", err)
		}
		release()
		if _, err := s.Get(t.Context(), "/g/cancelled"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Fatalf("the cancelled write was made: %v", err)
		}
	})
}
