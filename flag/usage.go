package flag

import (
	"sync"
	"sync/atomic"
	"time"
)

// Usage is a count of one flag's evaluations to one variant ("" for
// evaluations that erred, with or without a fallback_on_error served:
// callers Add "" for every Result with ReasonError). Last is when the
// count was drained: the latest evaluation happened before it, by at most
// the drain interval (counting reads no clock, which costs more than the
// count).
type Usage struct {
	Name    string
	Variant string
	Count   int64
	Last    time.Time
}

// Recorder collects evaluation counts from many Tallies without locks on
// the counting path, for a reporter to Drain periodically.
type Recorder struct {
	mu    sync.Mutex
	dirty []*Tally // tallies counted since the last Drain
}

// Tally counts the evaluations of one compiled flag by variant.
type Tally struct {
	r        *Recorder
	name     string
	counts   map[string]*atomic.Int64 // fixed at creation: never written after
	isDirty  atomic.Bool
	variants []string
}

// Tally returns a tally for the flag f named name (f may be nil for a
// flag that does not compile: only errors are counted then).
func (r *Recorder) Tally(name string, f *Flag) *Tally {
	t := &Tally{r: r, name: name, counts: map[string]*atomic.Int64{"": new(atomic.Int64)}, variants: []string{""}}
	if f != nil {
		for _, v := range f.order {
			t.counts[v] = new(atomic.Int64)
			t.variants = append(t.variants, v)
		}
	}
	return t
}

// AddResult counts one evaluation with reason and variant: under "" when
// it erred, even when it served the document's fallback_on_error, so that
// a flag's error rate shows in its usage; else under its variant.
func (t *Tally) AddResult(reason Reason, variant string) {
	if reason == ReasonError {
		variant = ""
	}
	t.Add(variant)
}

// Add counts one evaluation to variant, or to "" (evaluations that erred)
// for a variant the flag does not have. It never blocks on a lock except,
// once per Drain interval, to register the tally as counted.
func (t *Tally) Add(variant string) {
	c, ok := t.counts[variant]
	if !ok {
		c = t.counts[""]
	}
	c.Add(1)
	if !t.isDirty.Load() && t.isDirty.CompareAndSwap(false, true) {
		t.r.mu.Lock()
		t.r.dirty = append(t.r.dirty, t)
		t.r.mu.Unlock()
	}
}

// Drain returns the counts made since the previous Drain, with Last set
// to now, and resets them.
func (r *Recorder) Drain(now time.Time) []Usage {
	r.mu.Lock()
	tallies := r.dirty
	r.dirty = nil
	r.mu.Unlock()
	var out []Usage
	for _, t := range tallies {
		// Unmark first: a count made after this registers the tally
		// again, so nothing falls between two Drains.
		t.isDirty.Store(false)
		last := now.UTC()
		for _, v := range t.variants {
			if n := t.counts[v].Swap(0); n > 0 {
				out = append(out, Usage{Name: t.name, Variant: v, Count: n, Last: last})
			}
		}
	}
	return out
}
