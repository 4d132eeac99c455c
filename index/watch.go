package index

import (
	"sync"
	"sync/atomic"

	"github.com/vanehq/vane"
)

// DefaultSubscribeBuffer is a reasonable buffer for Subscribe: how many
// changes a subscriber may fall behind before it is dropped.
const DefaultSubscribeBuffer = 1024

// queueKeep is the capacity of a queue's array that a subscription keeps
// once its records are taken; a larger one, grown by a burst, is released.
const queueKeep = 16

// watchers is the index's broadcaster: it hands the change-log records
// CatchUp applied, in sequence order, to every subscriber, after the state
// reflecting them is published. Sends never block: a subscriber that has
// fallen too far behind is dropped (its channel closed, or its queue
// ended), so a slow consumer never holds up CatchUp, the writers behind it
// or other subscribers.
//
// Subscribe hands records over a channel, whose buffer is allocated whole
// up front. SubscribeQueue holds them in a queue that grows as they arrive
// and shrinks once they are taken, so that the thousands of idle
// subscribers of a server's watch streams cost a few hundred bytes each
// rather than a buffer of pointers each (9.5 KB at the default 1,024), with
// the same bound and the same drop.
type watchers struct {
	n       atomic.Int32 // len(subs), read without mu by stage
	mu      sync.Mutex
	subs    map[subscriber]struct{}
	pending []vane.Change // applied, not yet published; the writer's (Store.mu)
	staged  int64         // highest sequence in pending or already sent
}

// subscriber is one receiver of the broadcast; its methods are called
// with watchers.mu held.
type subscriber interface {
	// send hands over the records of a batch in order, and reports
	// false at the first one that does not fit: the subscriber is then
	// dropped without it.
	send(batch []vane.Change) bool
	// end tells the subscriber no record will follow; called once.
	end()
}

// chanSubscriber is a subscriber of Subscribe. Its channel holds
// pointers, shared by all subscribers, so that a slot costs 8 bytes, not
// a whole Change.
type chanSubscriber struct {
	ch chan *vane.Change
}

func (s *chanSubscriber) send(batch []vane.Change) bool {
	for i := range batch {
		select {
		case s.ch <- &batch[i]:
		default:
			return false
		}
	}
	return true
}

func (s *chanSubscriber) end() { close(s.ch) }

// queueSubscriber is a subscriber of SubscribeQueue.
type queueSubscriber struct {
	max   int
	ready chan struct{} // holds a token when there is something to take
	mu    sync.Mutex
	queue []*vane.Change // nil while idle
	ended bool
}

func (q *queueSubscriber) send(batch []vane.Change) bool {
	q.mu.Lock()
	ok := true
	for i := range batch {
		if len(q.queue) >= q.max {
			ok = false
			break
		}
		q.queue = append(q.queue, &batch[i])
	}
	q.mu.Unlock()
	q.wake()
	return ok
}

func (q *queueSubscriber) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	q.wake()
}

func (q *queueSubscriber) wake() {
	select {
	case q.ready <- struct{}{}:
	default: // a token is already waiting
	}
}

// next appends the queued records to buf; more is false once the
// subscriber has ended and buf holds its last records.
func (q *queueSubscriber) next(buf []*vane.Change) (_ []*vane.Change, more bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	buf = append(buf, q.queue...)
	clear(q.queue)
	if cap(q.queue) > queueKeep {
		q.queue = nil
	} else {
		q.queue = q.queue[:0]
	}
	return buf, !q.ended
}

// Subscribe registers a subscriber that receives every change-log record
// the index applies after seq, the sequence of the state published when it
// subscribed, in sequence order and each once. A record is sent only after
// the state reflecting it is published, so a Get made on receipt sees it
// (or something newer).
//
// The records are shared by every subscriber: read them, never modify
// them. buf bounds how many records may wait unread; when a record finds the
// buffer full, the subscriber is dropped instead: ch is closed without
// that record, and the subscriber must start over (from a snapshot, or
// from the change log after the last record it handled). ch is also closed
// by cancel, which the caller must call when done; it is idempotent.
// Subscribe waits for a CatchUp in progress to finish.
//
// The channel's buffer is allocated whole; SubscribeQueue suits
// subscribers that are idle most of the time.
func (s *Store) Subscribe(buf int) (ch <-chan *vane.Change, seq int64, cancel func()) {
	sub := &chanSubscriber{ch: make(chan *vane.Change, max(buf, 1))}
	seq, cancel = s.subscribe(sub)
	return sub.ch, seq, cancel
}

// SubscribeQueue is Subscribe with a queue in place of the channel: the
// records wait in a queue that grows as they arrive and is released once
// they are taken, so an idle subscriber holds no buffer. ready receives a
// value whenever records (or the end) may be waiting; next then appends
// the waiting records to buf, in order, and reports in more whether others
// may follow. When more than limit records would wait (a limit below 1
// counts as 1), the subscriber is dropped as Subscribe's is: next returns the
// records that fit, and more false. cancel ends the queue the same way; the
// caller must call it when done, and it is idempotent. Records, as for
// Subscribe, are shared: read them, never modify them.
func (s *Store) SubscribeQueue(limit int) (ready <-chan struct{}, next func(buf []*vane.Change) ([]*vane.Change, bool), seq int64, cancel func()) {
	sub := &queueSubscriber{max: max(limit, 1), ready: make(chan struct{}, 1)}
	seq, cancel = s.subscribe(sub)
	return sub.ready, sub.next, seq, cancel
}

// subscribe registers sub and returns the published sequence it follows
// from and the function that cancels it.
func (s *Store) subscribe(sub subscriber) (seq int64, cancel func()) {
	// Holding the writer's lock, no CatchUp is between reading the log
	// and broadcasting it: every record after seq is still to be sent.
	s.mu.Lock()
	seq = s.Seq()
	w := &s.watch
	w.mu.Lock()
	if w.subs == nil {
		w.subs = make(map[subscriber]struct{})
	}
	if len(w.subs) == 0 {
		// Nothing was staged while nobody listened: stage from the
		// published state on.
		clear(w.pending)
		w.pending, w.staged = w.pending[:0], seq
	}
	w.subs[sub] = struct{}{}
	w.n.Store(int32(len(w.subs)))
	w.mu.Unlock()
	s.mu.Unlock()
	return seq, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.drop(sub)
	}
}

// Subscribers returns the number of current subscribers.
func (s *Store) Subscribers() int { return int(s.watch.n.Load()) }

// drop removes a subscriber and ends it, unless it is gone already; w.mu
// is held.
func (w *watchers) drop(sub subscriber) {
	if _, ok := w.subs[sub]; !ok {
		return
	}
	delete(w.subs, sub)
	w.n.Store(int32(len(w.subs)))
	sub.end()
}

// dropAll drops every subscriber and forgets the records staged for them,
// returning how many it dropped. It is called with Store.mu held.
func (w *watchers) dropAll() int {
	w.mu.Lock()
	n := len(w.subs)
	for sub := range w.subs {
		w.drop(sub)
	}
	w.mu.Unlock()
	clear(w.pending)
	w.pending = w.pending[:0]
	return n
}

// stage keeps a batch CatchUp applied for the next broadcast. Records
// already staged (a CatchUp that failed after applying them re-reads them)
// are skipped. It is called with Store.mu held.
func (w *watchers) stage(cs []vane.Change) {
	if w.n.Load() == 0 {
		// Nobody listens; the first subscriber resets what is staged.
		return
	}
	for _, c := range cs {
		if c.Seq > w.staged {
			w.pending = append(w.pending, c)
			w.staged = c.Seq
		}
	}
}

// broadcast sends the staged records to every subscriber, after the state
// reflecting them has been published. It is called with Store.mu held and
// never blocks.
func (w *watchers) broadcast() {
	if len(w.pending) == 0 {
		return
	}
	// The batch is handed out by pointer, so the next one needs a new
	// slice.
	batch := w.pending
	w.pending = nil
	w.mu.Lock()
	for sub := range w.subs {
		if !sub.send(batch) {
			w.drop(sub)
		}
	}
	w.mu.Unlock()
}
