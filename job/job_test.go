package job_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/job"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/storetest"
)

// fakeJob records what it was handed; its fields decide its answers.
type fakeJob struct {
	mu        sync.Mutex
	seen      []int64 // sequences handed to Changes
	ticks     []time.Time
	changeErr error
	next      time.Time
}

func (j *fakeJob) Changes(_ context.Context, cs []vane.Change) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.changeErr != nil {
		return j.changeErr
	}
	for _, c := range cs {
		j.seen = append(j.seen, c.Seq)
	}
	return nil
}

func (j *fakeJob) Tick(_ context.Context, now time.Time) (time.Time, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ticks = append(j.ticks, now)
	return j.next, nil
}

// node is one node's runner of the job over a shared store.
type node struct {
	runner *job.Runner
	job    *fakeJob
}

type fixture struct {
	db    *sqlite.Store
	ix    *index.Store
	clock *storetest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	db.Now = clock.Now
	ix := index.New(db)
	if err := ix.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return &fixture{db: db, ix: ix, clock: clock}
}

func (f *fixture) node(name string) *node {
	j := &fakeJob{}
	return &node{job: j, runner: &job.Runner{Name: "test-job", Job: j, Leases: f.db, Log: f.ix, Holder: name,
		LeaseTTL: 10 * time.Second, Now: f.clock.Now}}
}

func (f *fixture) put(t *testing.T, name string) int64 {
	t.Helper()
	if _, err := f.ix.Put(t.Context(), &vane.PutInput{Name: name, Type: vane.TypeString, Value: "v", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	return f.ix.Seq()
}

func runOnce(t *testing.T, n *node) {
	t.Helper()
	if _, err := n.runner.RunOnce(t.Context()); err != nil {
		t.Fatalf("%s: %v", n.runner.Holder, err)
	}
}

func TestOneNodeRunsTheJobAndAnotherTakesOver(t *testing.T) {
	f := newFixture(t)
	a, b := f.node("node-a"), f.node("node-b")
	f.put(t, "/before") // history before the job first ran is not replayed

	runOnce(t, a)
	runOnce(t, b)
	if !a.runner.Held() || b.runner.Held() || len(a.job.ticks) != 1 || len(b.job.ticks) != 0 {
		t.Fatalf("after one pass each: a held=%v ticks=%d, b held=%v ticks=%d; want only a", a.runner.Held(), len(a.job.ticks), b.runner.Held(), len(b.job.ticks))
	}
	s1 := f.put(t, "/x")
	s2 := f.put(t, "/y")
	runOnce(t, a)
	if fmt.Sprint(a.job.seen) != fmt.Sprint([]int64{s1, s2}) {
		t.Fatalf("a saw %v; want %v", a.job.seen, []int64{s1, s2})
	}
	// a renews after a third of the lease, saving its cursor.
	f.clock.Add(4 * time.Second)
	runOnce(t, a)

	// Then a stops renewing (it died). b takes over at its first try
	// after the lease expires, from a's saved cursor: it sees only what
	// came after.
	s3 := f.put(t, "/z")
	f.clock.Add(9 * time.Second)
	runOnce(t, b)
	if b.runner.Held() {
		t.Fatal("b took the lease before it expired")
	}
	f.clock.Add(time.Second)
	runOnce(t, b)
	if b.runner.Held() {
		t.Fatal("b tried again before a third of the lease passed")
	}
	f.clock.Add(3 * time.Second)
	runOnce(t, b)
	if !b.runner.Held() || fmt.Sprint(b.job.seen) != fmt.Sprint([]int64{s3}) {
		t.Fatalf("b after take-over: held=%v saw %v; want held, %v", b.runner.Held(), b.job.seen, []int64{s3})
	}
	// a comes back: at its renewal it finds the lease taken, and stops.
	runOnce(t, a)
	if a.runner.Held() || len(a.job.ticks) != 3 {
		t.Fatalf("a after b took over: held=%v ticks=%d", a.runner.Held(), len(a.job.ticks))
	}
}

func TestChangesRedeliveredAfterAnError(t *testing.T) {
	f := newFixture(t)
	a := f.node("node-a")
	runOnce(t, a)
	s1 := f.put(t, "/x")
	a.job.changeErr = errors.New("receiver down")
	if _, err := a.runner.RunOnce(t.Context()); err == nil {
		t.Fatal("RunOnce hid the job's error")
	}
	a.job.changeErr = nil
	runOnce(t, a)
	if fmt.Sprint(a.job.seen) != fmt.Sprint([]int64{s1}) {
		t.Fatalf("saw %v after the retry; want %v", a.job.seen, []int64{s1})
	}
}

func TestCursorBelowCompactionFloorStartsAtTheNewest(t *testing.T) {
	f := newFixture(t)
	a := f.node("node-a")
	runOnce(t, a)
	f.put(t, "/x")
	f.put(t, "/y")
	f.clock.Add(time.Hour)
	last := f.put(t, "/z")
	// The job was away; the log forgot /x and /y.
	if _, err := f.ix.Compact(t.Context(), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(5 * time.Second)
	runOnce(t, a)
	next := f.put(t, "/after")
	runOnce(t, a)
	if fmt.Sprint(a.job.seen) != fmt.Sprint([]int64{next}) || last >= next {
		t.Fatalf("saw %v; want only %d (from the newest sequence on)", a.job.seen, next)
	}
}

func TestRunReleasesTheLeaseWhenItStops(t *testing.T) {
	f := newFixture(t)
	a, b := f.node("node-a"), f.node("node-b")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	wake := make(chan struct{}, 1)
	go func() {
		a.runner.Run(ctx, wake)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.job.mu.Lock()
		n := len(a.job.ticks)
		a.job.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run never ticked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	// No waiting for expiry: the lease was released.
	runOnce(t, b)
	if !b.runner.Held() {
		t.Fatal("b could not take the lease a released")
	}
}

// TestChangesAtLeastOnceAcrossTakeOver: a holder that dies between
// renewals has not saved the cursor of its last passes; the next holder
// hands those changes to the job again rather than losing them.
func TestChangesAtLeastOnceAcrossTakeOver(t *testing.T) {
	f := newFixture(t)
	a, b := f.node("node-a"), f.node("node-b")
	runOnce(t, a)
	s1 := f.put(t, "/x")
	runOnce(t, a) // a handles s1, and dies before its next renewal
	f.clock.Add(10 * time.Second)
	runOnce(t, b)
	if fmt.Sprint(a.job.seen, b.job.seen) != fmt.Sprint([]int64{s1}, []int64{s1}) {
		t.Fatalf("a saw %v, b saw %v; want both to see %d", a.job.seen, b.job.seen, s1)
	}
}

// TestStartCursor: a job with Start begins after the sequence it gives
// (an event rule's creation), not at the newest: the changes between the
// two are handed over.
func TestStartCursor(t *testing.T) {
	f := newFixture(t)
	created := f.put(t, "/before")
	s1 := f.put(t, "/after-1")
	s2 := f.put(t, "/after-2")
	a := f.node("node-a")
	a.runner.Start = func() int64 { return created }
	runOnce(t, a) // takes the lease and sets the cursor
	runOnce(t, a)
	if fmt.Sprint(a.job.seen) != fmt.Sprint([]int64{s1, s2}) {
		t.Fatalf("saw %v; want the changes after the start, %v", a.job.seen, []int64{s1, s2})
	}
}
