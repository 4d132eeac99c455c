package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// JobStore is what the background jobs keep in a store: leases with their
// change-log cursors, rollouts and scheduled changes.
type JobStore interface {
	vane.LeaseStore
	vane.RolloutStore
	vane.ScheduleStore
}

// Clock is a settable clock for the lease tests.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// RunJobs runs the conformance tests of the job stores: the one lease
// mechanism every background job shares, and the compare-and-set updates
// of rollouts and scheduled changes. open returns a new, empty store whose
// clock is now (the tests close it).
func RunJobs(t *testing.T, open func(t *testing.T, now func() time.Time) JobStore) {
	t.Helper()
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	t.Run("Lease", func(t *testing.T) {
		for _, tc := range leaseTests {
			t.Run(tc.name, func(t *testing.T) {
				clock := NewClock(start)
				tc.fn(t, open(t, clock.Now), clock)
			})
		}
	})
	t.Run("Rollout", func(t *testing.T) {
		for _, tc := range rolloutTests {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t, NewClock(start).Now)) })
		}
	})
	t.Run("Schedule", func(t *testing.T) {
		for _, tc := range scheduleTests {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t, NewClock(start).Now)) })
		}
	})
}

var leaseTests = []struct {
	name string
	fn   func(t *testing.T, s JobStore, clock *Clock)
}{
	{"OneHolderAtATime", func(t *testing.T, s JobStore, clock *Clock) {
		ctx := t.Context()
		l, ok, err := s.AcquireLease(ctx, "rollouts", "node-a", 10*time.Second)
		must(t, err)
		if !ok || l.Holder != "node-a" || !l.Expires.Equal(clock.Now().Add(10*time.Second)) || l.Cursor != vane.NoCursor {
			t.Fatalf("first acquire = %+v, %v; want node-a's until now+10s with no cursor", l, ok)
		}
		l, ok, err = s.AcquireLease(ctx, "rollouts", "node-b", 10*time.Second)
		must(t, err)
		if ok || l.Holder != "node-a" {
			t.Fatalf("acquire of a held lease = %+v, %v; want node-a's, not ok", l, ok)
		}
		// Another job's lease is independent.
		if _, ok, err := s.AcquireLease(ctx, "schedules", "node-b", 10*time.Second); err != nil || !ok {
			t.Fatalf("acquire of another job: %v, %v", ok, err)
		}
	}},
	{"RenewalExtends", func(t *testing.T, s JobStore, clock *Clock) {
		ctx := t.Context()
		_, _, err := s.AcquireLease(ctx, "j", "node-a", 10*time.Second)
		must(t, err)
		clock.Add(8 * time.Second)
		l, ok, err := s.AcquireLease(ctx, "j", "node-a", 10*time.Second)
		must(t, err)
		if !ok || !l.Expires.Equal(clock.Now().Add(10*time.Second)) {
			t.Fatalf("renewal = %+v, %v", l, ok)
		}
		clock.Add(8 * time.Second) // 16s after the first acquire, 8s after the renewal
		if _, ok, _ := s.AcquireLease(ctx, "j", "node-b", 10*time.Second); ok {
			t.Fatal("node-b took a renewed lease before it expired")
		}
	}},
	{"ExpiredIsTakenOver", func(t *testing.T, s JobStore, clock *Clock) {
		ctx := t.Context()
		_, _, err := s.AcquireLease(ctx, "j", "node-a", 10*time.Second)
		must(t, err)
		must(t, s.SaveCursor(ctx, "j", "node-a", 42))
		clock.Add(10 * time.Second)
		l, ok, err := s.AcquireLease(ctx, "j", "node-b", 10*time.Second)
		must(t, err)
		if !ok || l.Holder != "node-b" || l.Cursor != 42 {
			t.Fatalf("take-over of an expired lease = %+v, %v; want node-b's, keeping cursor 42", l, ok)
		}
		// The old holder lost it: it can neither renew nor move the cursor.
		if _, ok, _ := s.AcquireLease(ctx, "j", "node-a", 10*time.Second); ok {
			t.Fatal("node-a renewed a lease node-b holds")
		}
		if err := s.SaveCursor(ctx, "j", "node-a", 50); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("SaveCursor by the old holder: %v; want conflict", err)
		}
	}},
	{"ReleaseFreesAtOnce", func(t *testing.T, s JobStore, clock *Clock) {
		ctx := t.Context()
		_, _, err := s.AcquireLease(ctx, "j", "node-a", time.Minute)
		must(t, err)
		must(t, s.ReleaseLease(ctx, "j", "node-b")) // not node-b's: nothing happens
		if _, ok, _ := s.AcquireLease(ctx, "j", "node-b", time.Minute); ok {
			t.Fatal("a release by another node freed the lease")
		}
		must(t, s.ReleaseLease(ctx, "j", "node-a"))
		if _, ok, err := s.AcquireLease(ctx, "j", "node-b", time.Minute); err != nil || !ok {
			t.Fatalf("acquire after release: %v, %v", ok, err)
		}
	}},
	{"SaveCursor", func(t *testing.T, s JobStore, clock *Clock) {
		ctx := t.Context()
		if err := s.SaveCursor(ctx, "j", "node-a", 1); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("SaveCursor without a lease: %v; want conflict", err)
		}
		_, _, err := s.AcquireLease(ctx, "j", "node-a", time.Minute)
		must(t, err)
		must(t, s.SaveCursor(ctx, "j", "node-a", 0))
		if l, _, _ := s.AcquireLease(ctx, "j", "node-a", time.Minute); l.Cursor != 0 {
			t.Fatalf("cursor = %d, want 0", l.Cursor)
		}
		must(t, s.SaveCursor(ctx, "j", "node-a", 7))
		l, _, err := s.AcquireLease(ctx, "j", "node-a", time.Minute)
		must(t, err)
		if l.Cursor != 7 {
			t.Fatalf("cursor = %d, want 7", l.Cursor)
		}
		clock.Add(time.Minute)
		if err := s.SaveCursor(ctx, "j", "node-a", 8); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("SaveCursor on an expired lease: %v; want conflict", err)
		}
	}},
	{"ErrInvalid", func(t *testing.T, s JobStore, clock *Clock) {
		for _, c := range []struct {
			job, holder string
			ttl         time.Duration
		}{{"", "a", time.Second}, {"j", "", time.Second}, {"j", "a", 0}} {
			if _, _, err := s.AcquireLease(t.Context(), c.job, c.holder, c.ttl); vane.ErrorCode(err) != vane.EINVALID {
				t.Errorf("AcquireLease(%q, %q, %v): %v; want invalid", c.job, c.holder, c.ttl, err)
			}
		}
	}},
	{"ConcurrentAcquireHasOneWinner", func(t *testing.T, s JobStore, clock *Clock) {
		const nodes = 8
		var wg sync.WaitGroup
		var won atomic.Int32
		for i := range nodes {
			wg.Go(func() {
				_, ok, err := s.AcquireLease(t.Context(), "j", fmt.Sprintf("node-%d", i), time.Minute)
				if err != nil && vane.ErrorCode(err) != vane.EUNAVAILABLE {
					t.Errorf("node-%d: %v", i, err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d nodes acquired the lease at once; want 1", won.Load())
		}
	}},
}

// NewRollout returns a rollout of the flag name in state, as the job store
// tests and the copy tests store it.
func NewRollout(id, name string, state vane.RolloutState) *vane.Rollout {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	return &vane.Rollout{ID: id, Name: name, Kind: vane.RolloutFlag, State: state, Plan: []float64{10, 50, 100},
		Spec:   vane.RolloutSpec{Strategy: vane.StrategySteps, Steps: []float64{10, 50, 100}, Every: vane.Duration(time.Minute)},
		Target: `{"rollout_percentage": 100}`, BaseVersion: 1, BaseValue: "false", BaseType: vane.TypeString,
		CreatedBy: "storetest", Created: now, Updated: now, NextAt: now.Add(time.Minute)}
}

var rolloutTests = []struct {
	name string
	fn   func(t *testing.T, s JobStore)
}{
	{"CreateAndRead", func(t *testing.T, s JobStore) {
		r := NewRollout("ro-1", "/a/features/x", vane.RolloutRunning)
		must(t, s.CreateRollout(t.Context(), r))
		if r.Revision != 1 {
			t.Fatalf("revision after create = %d, want 1", r.Revision)
		}
		got, err := s.Rollout(t.Context(), "ro-1")
		must(t, err)
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, *r)
		}
		if _, err := s.Rollout(t.Context(), "ro-2"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Fatalf("missing rollout: %v; want not found", err)
		}
	}},
	{"OneActivePerName", func(t *testing.T, s JobStore) {
		ctx := t.Context()
		must(t, s.CreateRollout(ctx, NewRollout("ro-1", "/a/features/x", vane.RolloutRunning)))
		err := s.CreateRollout(ctx, NewRollout("ro-2", "/a/features/x", vane.RolloutRunning))
		if vane.ErrorCode(err) != vane.ECONFLICT || vane.ErrorDetail(err) != vane.DetailRolloutInProgress {
			t.Fatalf("second active rollout: %v; want conflict RolloutInProgress", err)
		}
		must(t, s.CreateRollout(ctx, NewRollout("ro-3", "/a/features/y", vane.RolloutRunning)))
		// Once the first ends, the name is free again.
		r, err := s.Rollout(ctx, "ro-1")
		must(t, err)
		r.State = vane.RolloutCompleted
		must(t, s.UpdateRollout(ctx, r))
		must(t, s.CreateRollout(ctx, NewRollout("ro-2", "/a/features/x", vane.RolloutRunning)))
		if err := s.CreateRollout(ctx, NewRollout("ro-2", "/a/features/z", vane.RolloutRunning)); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("duplicate id: %v; want conflict", err)
		}
	}},
	{"UpdateIsCompareAndSet", func(t *testing.T, s JobStore) {
		ctx := t.Context()
		must(t, s.CreateRollout(ctx, NewRollout("ro-1", "/a/features/x", vane.RolloutRunning)))
		a, err := s.Rollout(ctx, "ro-1")
		must(t, err)
		b, err := s.Rollout(ctx, "ro-1")
		must(t, err)
		a.Step, a.Share = 1, 10
		must(t, s.UpdateRollout(ctx, a))
		if a.Revision != 2 {
			t.Fatalf("revision after update = %d, want 2", a.Revision)
		}
		b.State = vane.RolloutCancelled
		if err := s.UpdateRollout(ctx, b); vane.ErrorCode(err) != vane.ECONFLICT || b.Revision != 1 {
			t.Fatalf("stale update: %v (revision %d); want conflict, revision kept at 1", err, b.Revision)
		}
		got, err := s.Rollout(ctx, "ro-1")
		must(t, err)
		if got.Step != 1 || got.State != vane.RolloutRunning || got.Revision != 2 {
			t.Fatalf("after a refused stale update: %+v", got)
		}
		missing := NewRollout("ro-9", "/a/features/x", vane.RolloutRunning)
		if err := s.UpdateRollout(ctx, missing); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Fatalf("update of a missing rollout: %v; want not found", err)
		}
	}},
	{"ListNewestFirst", func(t *testing.T, s JobStore) {
		ctx := t.Context()
		for i, n := range []string{"/a/features/x", "/a/features/y", "/b/features/x", "/a/features/xy"} {
			r := NewRollout(fmt.Sprintf("ro-%d", i), n, vane.RolloutRunning)
			if i == 1 {
				r.State = vane.RolloutCompleted
			}
			must(t, s.CreateRollout(ctx, r))
		}
		ids := func(q vane.RolloutQuery) (out []string, next string) {
			p, err := s.Rollouts(ctx, &q)
			must(t, err)
			for _, r := range p.Rollouts {
				out = append(out, r.ID)
			}
			return out, p.NextToken
		}
		if got, _ := ids(vane.RolloutQuery{}); fmt.Sprint(got) != "[ro-3 ro-2 ro-1 ro-0]" {
			t.Errorf("all: %v", got)
		}
		if got, _ := ids(vane.RolloutQuery{Active: true}); fmt.Sprint(got) != "[ro-3 ro-2 ro-0]" {
			t.Errorf("active: %v", got)
		}
		if got, _ := ids(vane.RolloutQuery{Prefix: "/a/features/x"}); fmt.Sprint(got) != "[ro-0]" {
			t.Errorf("prefix /a/features/x: %v", got)
		}
		if got, _ := ids(vane.RolloutQuery{Prefix: "/a"}); fmt.Sprint(got) != "[ro-3 ro-1 ro-0]" {
			t.Errorf("prefix /a: %v", got)
		}
		first, next := ids(vane.RolloutQuery{Limit: 3})
		second, last := ids(vane.RolloutQuery{Limit: 3, NextToken: next})
		if fmt.Sprint(first, second) != "[ro-3 ro-2 ro-1] [ro-0]" || next == "" || last != "" {
			t.Errorf("pages: %v %q, %v %q", first, next, second, last)
		}
		if _, err := s.Rollouts(ctx, &vane.RolloutQuery{NextToken: "bogus"}); vane.ErrorCode(err) != vane.EINVALID {
			t.Errorf("bad token: %v", err)
		}
	}},
}

// NewSchedule returns a pending scheduled put of name at at.
func NewSchedule(id, name string, at time.Time) *vane.Schedule {
	v := "true"
	return &vane.Schedule{ID: id, Name: name, Action: vane.ScheduleActionPut, At: at, Value: &v,
		State: vane.SchedulePending, CreatedBy: "storetest", Created: at.Add(-time.Hour), Updated: at.Add(-time.Hour)}
}

var scheduleTests = []struct {
	name string
	fn   func(t *testing.T, s JobStore)
}{
	{"CreateReadUpdate", func(t *testing.T, s JobStore) {
		ctx := t.Context()
		at := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
		sc := NewSchedule("sc-1", "/a/features/x", at)
		must(t, s.CreateSchedule(ctx, sc))
		got, err := s.Schedule(ctx, "sc-1")
		must(t, err)
		if !reflect.DeepEqual(got, sc) || got.Revision != 1 {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, *sc)
		}
		stale := *got
		got.State, got.Result = vane.ScheduleDone, "put version 2"
		must(t, s.UpdateSchedule(ctx, got))
		stale.State = vane.ScheduleCancelled
		if err := s.UpdateSchedule(ctx, &stale); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("stale update: %v; want conflict", err)
		}
		if _, err := s.Schedule(ctx, "nope"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Fatalf("missing: %v", err)
		}
		if err := s.CreateSchedule(ctx, NewSchedule("sc-1", "/a/y", at)); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("duplicate id: %v; want conflict", err)
		}
	}},
	{"DueFirst", func(t *testing.T, s JobStore) {
		ctx := t.Context()
		base := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
		for i, d := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour, time.Hour} {
			must(t, s.CreateSchedule(ctx, NewSchedule(fmt.Sprintf("sc-%d", i), fmt.Sprintf("/a/p%d", i), base.Add(d))))
		}
		done, err := s.Schedule(ctx, "sc-2")
		must(t, err)
		done.State = vane.ScheduleDone
		must(t, s.UpdateSchedule(ctx, done))
		ids := func(q vane.ScheduleQuery) (out []string, next string) {
			p, err := s.Schedules(ctx, &q)
			must(t, err)
			for _, sc := range p.Schedules {
				out = append(out, sc.ID)
			}
			return out, p.NextToken
		}
		if got, _ := ids(vane.ScheduleQuery{}); fmt.Sprint(got) != "[sc-1 sc-3 sc-2 sc-0]" {
			t.Errorf("all by time: %v", got)
		}
		if got, _ := ids(vane.ScheduleQuery{State: vane.SchedulePending, DueBy: base.Add(2 * time.Hour)}); fmt.Sprint(got) != "[sc-1 sc-3]" {
			t.Errorf("pending due by +2h: %v", got)
		}
		if got, _ := ids(vane.ScheduleQuery{Prefix: "/a/p0"}); fmt.Sprint(got) != "[sc-0]" {
			t.Errorf("prefix: %v", got)
		}
		first, next := ids(vane.ScheduleQuery{Limit: 2})
		second, last := ids(vane.ScheduleQuery{Limit: 2, NextToken: next})
		if fmt.Sprint(first, second) != "[sc-1 sc-3] [sc-2 sc-0]" || last != "" {
			t.Errorf("pages: %v %q, %v %q", first, next, second, last)
		}
	}},
}
