package index

import (
	"testing"

	"github.com/vanehq/vane"
)

// An idle queue holds no array; a burst grows one, which is released once
// taken, and a small one is kept for the next records.
func TestQueueGrowsAndShrinks(t *testing.T) {
	q := &queueSubscriber{max: 1000, ready: make(chan struct{}, 1)}
	if q.queue != nil {
		t.Fatalf("a new queue holds an array of %d", cap(q.queue))
	}
	batch := make([]vane.Change, 200)
	for i := range batch {
		batch[i].Seq = int64(i + 1)
	}
	if !q.send(batch) {
		t.Fatal("200 records did not fit in a queue of 1,000")
	}
	if cap(q.queue) < 200 {
		t.Fatalf("200 records wait in an array of %d", cap(q.queue))
	}
	<-q.ready
	got, more := q.next(nil)
	if len(got) != 200 || !more || got[199] != &batch[199] {
		t.Fatalf("next: %d records, more %v; want the 200 sent, true", len(got), more)
	}
	if q.queue != nil {
		t.Fatalf("after a burst is taken, the queue keeps an array of %d", cap(q.queue))
	}

	one := []vane.Change{{Seq: 201}}
	q.send(one)
	<-q.ready
	if got, _ = q.next(got[:0]); len(got) != 1 || got[0] != &one[0] {
		t.Fatalf("next: %v, want the record sent", got)
	}
	if c := cap(q.queue); c == 0 || c > queueKeep {
		t.Fatalf("after one record is taken, the queue keeps an array of %d, want 1 to %d", c, queueKeep)
	}

	// Past the limit: the records that fit, and the send fails.
	if q.send(make([]vane.Change, 1001)) {
		t.Fatal("1,001 records fit in a queue of 1,000")
	}
	if got, _ = q.next(got[:0]); len(got) != 1000 {
		t.Fatalf("next: %d records, want the 1,000 that fit", len(got))
	}
}
