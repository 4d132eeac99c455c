package rollout_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/job"
)

func (f *fixture) schedule(t *testing.T, sc vane.Schedule) *vane.Schedule {
	t.Helper()
	got, err := f.s.Create(as(t, "alice"), &sc)
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	return got
}

func (f *fixture) runSchedules(t *testing.T, at time.Time) time.Time {
	t.Helper()
	f.clock.Set(at)
	next, err := f.s.Tick(t.Context(), at)
	if err != nil {
		t.Fatalf("scheduler tick at +%s: %v", at.Sub(t0), err)
	}
	return next
}

func (f *fixture) scheduled(t *testing.T, id string) *vane.Schedule {
	t.Helper()
	sc, err := f.s.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestScheduledPutRunsOnceOnTime(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	sc := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("true")})
	if next := f.runSchedules(t, t0.Add(time.Hour-time.Second)); !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next due %s, want +1h", next)
	}
	if p := f.get(t, flagName); p.Value != "false" {
		t.Fatal("ran early")
	}
	if next := f.runSchedules(t, t0.Add(time.Hour)); !next.IsZero() {
		t.Fatalf("next due %s after the only change ran", next)
	}
	p := f.get(t, flagName)
	if p.Value != "true" || p.Version != 2 || p.LastModifiedUser != vane.SchedulePrincipal(sc.ID) {
		t.Fatalf("after its time: %q v%d by %s", p.Value, p.Version, p.LastModifiedUser)
	}
	got := f.scheduled(t, sc.ID)
	if got.State != vane.ScheduleDone || got.Result != "put version 2" || got.Late != 0 {
		t.Fatalf("schedule %+v", got)
	}
	f.runSchedules(t, t0.Add(2*time.Hour))
	if p := f.get(t, flagName); p.Version != 2 {
		t.Fatalf("ran twice: v%d", p.Version)
	}
}

func TestScheduleMissedRunsLate(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	sc := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("true")})
	// Nothing ran between now and three hours later (the server was down).
	f.runSchedules(t, t0.Add(3*time.Hour))
	got := f.scheduled(t, sc.ID)
	if got.State != vane.ScheduleDone || time.Duration(got.Late) != 2*time.Hour || !strings.Contains(got.Result, "2h0m0s late") {
		t.Fatalf("late schedule %+v", got)
	}
	if p := f.get(t, flagName); p.Value != "true" {
		t.Fatalf("value %q", p.Value)
	}
}

func TestScheduledChangesThatFail(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	f.put(t, "/shop/prod/tuning/ttl", "300")
	expect := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("true"), ExpectVersion: ptr(int64(1))})
	gone := f.schedule(t, vane.Schedule{Name: "/shop/prod/tuning/ttl", Action: vane.ScheduleActionLabel, At: t0.Add(time.Hour), Labels: []string{"stable"}})
	f.put(t, flagName, `{"rollout_percentage": 5}`) // the version moves on
	if err := f.g.Delete(as(t, "alice"), &vane.DeleteInput{Name: "/shop/prod/tuning/ttl"}); err != nil {
		t.Fatal(err)
	}
	f.runSchedules(t, t0.Add(time.Hour))
	if got := f.scheduled(t, expect.ID); got.State != vane.ScheduleFailed || !strings.Contains(got.Result, "expected") || !strings.Contains(got.Result, "version 2") {
		t.Fatalf("expect-version schedule: %s %q", got.State, got.Result)
	}
	if got := f.scheduled(t, gone.ID); got.State != vane.ScheduleFailed || !strings.Contains(got.Result, "not found") {
		t.Fatalf("label of a deleted name: %s %q", got.State, got.Result)
	}
	if p := f.get(t, flagName); p.Version != 2 {
		t.Fatalf("a failed schedule wrote: v%d", p.Version)
	}
	// Failed changes are not retried.
	f.runSchedules(t, t0.Add(2*time.Hour))
	if got := f.scheduled(t, expect.ID); got.Ran != t0.Add(time.Hour) {
		t.Fatalf("retried: ran %s", got.Ran)
	}
}

func TestScheduleCreateRefusals(t *testing.T) {
	f := newFixture(t)
	f.put(t, "/shop/prod/db/password", "x")
	for _, tc := range []struct {
		name string
		sc   vane.Schedule
		want string
	}{
		{"ErrPast", vane.Schedule{Name: flagName, Action: "put", At: t0.Add(-time.Second), Value: ptr("true")}, "not in the future"},
		{"ErrNoAt", vane.Schedule{Name: flagName, Action: "put", Value: ptr("true")}, "at, the time"},
		{"ErrNoAction", vane.Schedule{Name: flagName, At: t0.Add(time.Hour)}, "action is required"},
		{"ErrPutWithoutValue", vane.Schedule{Name: flagName, Action: "put", At: t0.Add(time.Hour)}, "value is required"},
		{"ErrBadFlag", vane.Schedule{Name: flagName, Action: "put", At: t0.Add(time.Hour), Value: ptr("maybe")}, flagName},
		{"ErrSecure", vane.Schedule{Name: "/x", Action: "put", At: t0.Add(time.Hour), Value: ptr("s"), Type: vane.TypeSecureString}, "SecureString"},
		{"ErrBadLabel", vane.Schedule{Name: flagName, Action: "label", At: t0.Add(time.Hour), Labels: []string{"1bad"}}, "1bad"},
		{"ErrMixed", vane.Schedule{Name: flagName, Action: "label", At: t0.Add(time.Hour), Labels: []string{"ok"}, Value: ptr("x")}, "labels, version and expect_version only"},
		{"ErrRolloutSpec", vane.Schedule{Name: flagName, Action: "rollout", At: t0.Add(time.Hour), Rollout: &vane.RolloutSpec{Strategy: "linear"}}, "step"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Create(as(t, "alice"), &tc.sc)
			if vane.ErrorCode(err) != vane.EINVALID || !strings.Contains(vane.ErrorMessage(err), tc.want) {
				t.Fatalf("Create: %v; want invalid naming %q", err, tc.want)
			}
		})
	}
}

func TestScheduledLabelAndRollout(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	f.put(t, flagName, `{"rollout_percentage": 1}`)
	lab := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionLabel, At: t0.Add(time.Hour), Version: 1, Labels: []string{"stable"}})
	ro := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionRollout, At: t0.Add(2 * time.Hour),
		Rollout: &vane.RolloutSpec{Strategy: vane.StrategyCanary, Step: 10, Every: vane.Duration(time.Hour)}})
	if next := f.runSchedules(t, t0.Add(time.Hour)); !next.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("next %s", next)
	}
	if p, err := f.g.Get(t.Context(), flagName+":stable"); err != nil || p.Version != 1 {
		t.Fatalf("label: %v %+v", err, p)
	}
	f.runSchedules(t, t0.Add(2*time.Hour))
	got := f.scheduled(t, ro.ID)
	if got.State != vane.ScheduleDone || !strings.HasPrefix(got.Result, "started rollout ro-") {
		t.Fatalf("rollout schedule: %+v", got)
	}
	r := f.rollout(t, strings.TrimPrefix(got.Result, "started rollout "))
	if r.CreatedBy != vane.SchedulePrincipal(ro.ID) || r.Share != 10 {
		t.Fatalf("rollout %+v", r)
	}
	if lab.State != vane.SchedulePending {
		t.Fatalf("returned state %s", lab.State)
	}
}

func TestCancelSchedule(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	sc := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("true")})
	got, err := f.s.Cancel(as(t, "bob"), sc.ID)
	if err != nil || got.State != vane.ScheduleCancelled || !strings.Contains(got.Result, "bob") {
		t.Fatalf("cancel: %v %+v", err, got)
	}
	f.runSchedules(t, t0.Add(time.Hour))
	if p := f.get(t, flagName); p.Value != "false" {
		t.Fatal("a cancelled change ran")
	}
	if _, err := f.s.Cancel(as(t, "bob"), sc.ID); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Fatalf("second cancel: %v", err)
	}
}

// TestInterruptedScheduleIsNotMadeTwice: a node died after making the
// change and before recording it; the next node finds the write by the
// schedule's principal and records it done.
func TestInterruptedScheduleIsNotMadeTwice(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	sc := f.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("true")})
	sc.Started = t0.Add(time.Hour)
	if err := f.db.UpdateSchedule(t.Context(), sc); err != nil {
		t.Fatal(err)
	}
	ctx := vane.NewContextWithPrincipal(t.Context(), vane.SchedulePrincipal(sc.ID))
	if _, err := f.ix.Put(ctx, &vane.PutInput{Name: flagName, Value: "true", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	f.put(t, flagName, "false") // and someone wrote after it
	f.runSchedules(t, t0.Add(time.Hour+time.Minute))
	got := f.scheduled(t, sc.ID)
	if got.State != vane.ScheduleDone || !strings.HasPrefix(got.Result, "put version 2") {
		t.Fatalf("%+v", got)
	}
	if p := f.get(t, flagName); p.Version != 3 || p.Value != "false" {
		t.Fatalf("made twice: v%d %q", p.Version, p.Value)
	}
}

// TestScheduleRunsOnceAcrossTwoNodes: two nodes over one database, each
// with a runner for the schedules job; the change is made once.
func TestScheduleRunsOnceAcrossTwoNodes(t *testing.T) {
	a := newFixture(t)
	ixB := index.New(a.db)
	if err := ixB.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	b := newNode(a.db, ixB, a.clock)
	a.put(t, flagName, "false")
	sc := a.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("true")})
	runners := []*job.Runner{
		{Name: "schedules", Job: a.s, Leases: a.db, Log: a.ix, Holder: "node-a", Now: a.clock.Now},
		{Name: "schedules", Job: b.s, Leases: a.db, Log: ixB, Holder: "node-b", Now: a.clock.Now},
	}
	a.clock.Set(t0.Add(time.Hour))
	for range 3 {
		for _, r := range runners {
			if _, err := r.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	h, err := a.g.History(t.Context(), &vane.HistoryInput{Name: flagName})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Parameters) != 2 || h.Parameters[1].LastModifiedUser != vane.SchedulePrincipal(sc.ID) {
		t.Fatalf("history has %d versions; want the original and one scheduled put", len(h.Parameters))
	}
	// The node holding the lease dies: the other runs the next change.
	sc2 := a.schedule(t, vane.Schedule{Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(2 * time.Hour), Value: ptr("false")})
	holder, other := runners[0], runners[1]
	if !holder.Held() {
		holder, other = other, holder
	}
	a.clock.Set(t0.Add(2*time.Hour + job.DefaultLeaseTTL))
	if _, err := other.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := a.scheduled(t, sc2.ID); got.State != vane.ScheduleDone {
		t.Fatalf("after the holder died: %s", got.State)
	}
}
