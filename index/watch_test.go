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

// recv reads one change or fails after a deadline.
func recv(t *testing.T, ch <-chan *vane.Change) (vane.Change, bool) {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			return vane.Change{}, false
		}
		return *c, true
	case <-time.After(5 * time.Second):
		t.Fatal("no change received within 5s")
		return vane.Change{}, false
	}
}

func TestSubscribeOrderAndValues(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	m.put("/a/old", "0")
	s := index.New(m.store())
	s.BatchSize = 2 // several batches per CatchUp
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ch, seq, cancel := s.Subscribe(16)
	defer cancel()
	if seq != s.Seq() || seq != 1 {
		t.Fatalf("Subscribe seq = %d, want %d", seq, s.Seq())
	}
	m.put("/a/x", "1")
	m.put("/b/y", "2")
	m.put("/a/x", "3")
	m.delete("/b/y")
	m.put("/a/z", "4")
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		op   vane.Op
		name string
	}{{vane.OpPut, "/a/x"}, {vane.OpPut, "/b/y"}, {vane.OpPut, "/a/x"}, {vane.OpDelete, "/b/y"}, {vane.OpPut, "/a/z"}}
	for i, w := range want {
		c, ok := recv(t, ch)
		if !ok {
			t.Fatalf("channel closed at change %d", i)
		}
		if c.Seq != seq+int64(i)+1 || c.Op != w.op || c.Name != w.name {
			t.Fatalf("change %d = %d %s %s, want %d %s %s", i, c.Seq, c.Op, c.Name, seq+int64(i)+1, w.op, w.name)
		}
		// Sent after publishing: the index already reflects it.
		if s.Seq() < c.Seq {
			t.Fatalf("change %d received before the index reached it (index at %d)", c.Seq, s.Seq())
		}
	}
	if p, err := s.Get(ctx, "/a/x"); err != nil || p.Value != "3" {
		t.Fatalf("Get /a/x = %v, %v", p, err)
	}
	select {
	case c := <-ch:
		t.Fatalf("unexpected change %+v", c)
	default:
	}
}

func TestSubscribeSlowSubscriberDropped(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	s := index.New(m.store())
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	slow, _, cancelSlow := s.Subscribe(2)
	defer cancelSlow()
	fast, _, cancelFast := s.Subscribe(100)
	defer cancelFast()

	for i := range 5 {
		m.put("/a/x", string(rune('a'+i)))
	}
	done := make(chan error, 1)
	go func() { done <- s.CatchUp(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CatchUp blocked on a slow subscriber")
	}
	// The slow one got what fit, then its channel was closed.
	n := 0
	for {
		if _, ok := recv(t, slow); !ok {
			break
		}
		n++
	}
	if n != 2 {
		t.Fatalf("slow subscriber got %d changes before being dropped, want 2", n)
	}
	// The fast one got everything.
	for i := range 5 {
		if c, ok := recv(t, fast); !ok || c.Seq != int64(i+1) {
			t.Fatalf("fast subscriber: change %d = %+v, %v", i, c, ok)
		}
	}
	if got := s.Subscribers(); got != 1 {
		t.Fatalf("Subscribers = %d, want 1", got)
	}
	cancelSlow() // no panic after a drop
}

func TestSubscribeCancel(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	s := index.New(m.store())
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ch, _, cancel := s.Subscribe(4)
	if s.Subscribers() != 1 {
		t.Fatalf("Subscribers = %d", s.Subscribers())
	}
	cancel()
	cancel() // idempotent
	if _, ok := recv(t, ch); ok {
		t.Fatal("channel open after cancel")
	}
	if s.Subscribers() != 0 {
		t.Fatalf("Subscribers = %d after cancel", s.Subscribers())
	}
	m.put("/a/x", "1")
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}

// A CatchUp that fails after applying a batch re-reads it next time: the
// subscriber still gets each record once, and only once published.
func TestSubscribeFailedCatchUpNoDuplicates(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	st := m.store()
	changes := st.ChangesFunc
	var calls, failAt atomic.Int32
	st.ChangesFunc = func(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
		if n := calls.Add(1); n == failAt.Load() {
			return nil, errors.New("database down")
		}
		return changes(ctx, after, prefix, limit)
	}
	s := index.New(st)
	s.BatchSize = 1
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ch, _, cancel := s.Subscribe(16)
	defer cancel()
	m.put("/a/x", "1")
	m.put("/a/y", "2")
	calls.Store(0)
	failAt.Store(2) // the first batch applies, the second read fails
	if err := s.CatchUp(ctx); err == nil {
		t.Fatal("CatchUp did not fail")
	}
	select {
	case c := <-ch:
		t.Fatalf("change %d sent before it was published", c.Seq)
	default:
	}
	failAt.Store(0)
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if c, ok := recv(t, ch); !ok || c.Seq != int64(i+1) {
			t.Fatalf("change %d = %+v, %v", i, c, ok)
		}
	}
	select {
	case c := <-ch:
		t.Fatalf("duplicate change %d", c.Seq)
	default:
	}
}

// queue is a subscription of SubscribeQueue read one record at a time,
// as recv reads a channel.
type queue struct {
	ready  <-chan struct{}
	next   func([]*vane.Change) ([]*vane.Change, bool)
	cancel func()
	got    []*vane.Change // taken, not yet read
	ended  bool
}

func subscribeQueue(s *index.Store, limit int) (*queue, int64) {
	ready, next, seq, cancel := s.SubscribeQueue(limit)
	return &queue{ready: ready, next: next, cancel: cancel}, seq
}

// recv returns the next record; ok is false once the queue has ended and
// every record before the end was read. It fails after a deadline.
func (q *queue) recv(t *testing.T) (vane.Change, bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(q.got) == 0 && !q.ended {
		select {
		case <-q.ready:
		case <-deadline:
			t.Fatal("no change received within 5s")
		}
		var more bool
		q.got, more = q.next(q.got)
		q.ended = !more
	}
	if len(q.got) == 0 {
		return vane.Change{}, false
	}
	c := *q.got[0]
	q.got = q.got[1:]
	return c, true
}

// idle reports whether nothing waits to be read.
func (q *queue) idle() bool {
	select {
	case <-q.ready:
		var more bool
		q.got, more = q.next(q.got)
		q.ended = !more
	default:
	}
	return len(q.got) == 0 && !q.ended
}

func TestSubscribeQueueOrderAndValues(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	m.put("/a/old", "0")
	s := index.New(m.store())
	s.BatchSize = 2 // several batches per CatchUp
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	q, seq := subscribeQueue(s, 16)
	defer q.cancel()
	if !q.idle() {
		t.Fatal("a new queue has something to read")
	}
	m.put("/a/x", "1")
	m.put("/b/y", "2")
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	m.put("/a/x", "3")
	m.delete("/b/y")
	if err := s.CatchUp(ctx); err != nil { // a second broadcast before the first is read
		t.Fatal(err)
	}
	want := []struct {
		op   vane.Op
		name string
	}{{vane.OpPut, "/a/x"}, {vane.OpPut, "/b/y"}, {vane.OpPut, "/a/x"}, {vane.OpDelete, "/b/y"}}
	for i, w := range want {
		c, ok := q.recv(t)
		if !ok {
			t.Fatalf("queue ended at change %d", i)
		}
		if c.Seq != seq+int64(i)+1 || c.Op != w.op || c.Name != w.name {
			t.Fatalf("change %d = %d %s %s, want %d %s %s", i, c.Seq, c.Op, c.Name, seq+int64(i)+1, w.op, w.name)
		}
		if s.Seq() < c.Seq {
			t.Fatalf("change %d received before the index reached it (index at %d)", c.Seq, s.Seq())
		}
	}
	if !q.idle() {
		t.Fatalf("unexpected change %+v", q.got)
	}
}

// A queue that would hold more than its limit is dropped as a channel
// subscriber is: it gets the records that fit, then its end.
func TestSubscribeQueueSlowSubscriberDropped(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	s := index.New(m.store())
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	slow, _ := subscribeQueue(s, 2)
	defer slow.cancel()
	fast, _ := subscribeQueue(s, 100)
	defer fast.cancel()

	for i := range 5 {
		m.put("/a/x", string(rune('a'+i)))
	}
	done := make(chan error, 1)
	go func() { done <- s.CatchUp(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CatchUp blocked on a slow subscriber")
	}
	n := 0
	for {
		if _, ok := slow.recv(t); !ok {
			break
		}
		n++
	}
	if n != 2 {
		t.Fatalf("slow queue got %d changes before being dropped, want 2", n)
	}
	for i := range 5 {
		if c, ok := fast.recv(t); !ok || c.Seq != int64(i+1) {
			t.Fatalf("fast queue: change %d = %+v, %v", i, c, ok)
		}
	}
	if got := s.Subscribers(); got != 1 {
		t.Fatalf("Subscribers = %d, want 1", got)
	}
	slow.cancel() // no panic after a drop

	// A queue read as fast as it fills is never dropped, however many
	// records pass through it.
	for i := range 10 {
		for j := range 2 {
			m.put("/a/y", string(rune('a'+i+j)))
		}
		if err := s.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, ok := fast.recv(t); !ok {
				t.Fatalf("fast queue dropped after %d rounds", i)
			}
		}
	}
}

func TestSubscribeQueueCancel(t *testing.T) {
	m := newMemBackend()
	ctx := context.Background()
	s := index.New(m.store())
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	q, _ := subscribeQueue(s, 4)
	if s.Subscribers() != 1 {
		t.Fatalf("Subscribers = %d", s.Subscribers())
	}
	q.cancel()
	q.cancel() // idempotent
	if _, ok := q.recv(t); ok {
		t.Fatal("queue goes on after cancel")
	}
	if s.Subscribers() != 0 {
		t.Fatalf("Subscribers = %d after cancel", s.Subscribers())
	}
	m.put("/a/x", "1")
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}
