package index_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
)

// TestFollowAppliesOtherWritersChanges writes behind the index's back (as
// another node would) and checks that a wake-up, and failing that the
// timer, brings the change into the index; a failing store does not stop
// the loop.
func TestFollowAppliesOtherWritersChanges(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	s := index.New(m.store())
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { s.Follow(ctx, wake, time.Hour); close(done) }()

	m.put("/a/x", "1") // another node's write
	wake <- struct{}{}
	waitFor(t, func() bool { _, err := s.Get(ctx, "/a/x"); return err == nil })

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after its context ended")
	}
}

func TestFollowTimerAndFailures(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	var fail atomic.Bool
	st := m.store()
	changes := st.ChangesFunc
	st.ChangesFunc = func(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
		if fail.Load() {
			return nil, errors.New("database down")
		}
		return changes(ctx, after, prefix, limit)
	}
	s := index.New(st)
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail.Store(true)
	go s.Follow(ctx, nil, 10*time.Millisecond)
	m.put("/a/y", "1")
	time.Sleep(50 * time.Millisecond) // several failing ticks
	if _, err := s.Get(ctx, "/a/y"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Fatalf("while the store fails the index must keep its last state, got %v", err)
	}
	fail.Store(false)
	waitFor(t, func() bool { _, err := s.Get(ctx, "/a/y"); return err == nil })
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
