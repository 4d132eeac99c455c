package index

import (
	"sync"
	"sync/atomic"

	"github.com/vanehq/vane"
)

// DefaultSubscribeBuffer is a reasonable buffer for Subscribe: how many
// changes a subscriber may fall behind before it is dropped.
const DefaultSubscribeBuffer = 1024

// watchers is the index's broadcaster: it hands the change-log records
// CatchUp applied, in sequence order, to every subscriber, after the state
// reflecting them is published. Sends never block: a subscriber whose
// buffer is full is dropped (its channel closed), so a slow consumer never
// holds up CatchUp, the writers behind it or other subscribers.
type watchers struct {
	n       atomic.Int32 // len(subs), read without mu by stage
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	pending []vane.Change // applied, not yet published; the writer's (Store.mu)
	staged  int64         // highest sequence in pending or already sent
}

type subscriber struct {
	// ch holds pointers, shared by all subscribers, so that an idle
	// subscriber's buffer costs 8 bytes a slot, not a whole Change.
	ch     chan *vane.Change
	closed bool // under watchers.mu
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
func (s *Store) Subscribe(buf int) (ch <-chan *vane.Change, seq int64, cancel func()) {
	if buf < 1 {
		buf = 1
	}
	sub := &subscriber{ch: make(chan *vane.Change, buf)}
	// Holding the writer's lock, no CatchUp is between reading the log
	// and broadcasting it: every record after seq is still to be sent.
	s.mu.Lock()
	seq = s.Seq()
	w := &s.watch
	w.mu.Lock()
	if w.subs == nil {
		w.subs = make(map[*subscriber]struct{})
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
	var once sync.Once
	return sub.ch, seq, func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.drop(sub)
		})
	}
}

// Subscribers returns the number of current subscribers.
func (s *Store) Subscribers() int { return int(s.watch.n.Load()) }

// drop removes a subscriber and closes its channel; w.mu is held.
func (w *watchers) drop(sub *subscriber) {
	if sub.closed {
		return
	}
	sub.closed = true
	close(sub.ch)
	delete(w.subs, sub)
	w.n.Store(int32(len(w.subs)))
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
		for i := range batch {
			select {
			case sub.ch <- &batch[i]:
				continue
			default:
			}
			w.drop(sub)
			break
		}
	}
	w.mu.Unlock()
}
