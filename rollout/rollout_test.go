package rollout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/job"
	"github.com/vanehq/vane/monitor"
	"github.com/vanehq/vane/rollout"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/storetest"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// fixture is one node: a SQLite file, the index, the checked write path,
// and the rollout engine and scheduler over them, on an injected clock.
type fixture struct {
	db    *sqlite.Store
	ix    *index.Store
	g     *guard.Store
	clock *storetest.Clock
	e     *rollout.Engine
	s     *rollout.Scheduler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(t0)
	db.Now = clock.Now
	ix := index.New(db)
	if err := ix.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return newNode(db, ix, clock)
}

// newNode returns another node over the same database.
func newNode(db *sqlite.Store, ix *index.Store, clock *storetest.Clock) *fixture {
	g := guard.New(ix)
	n := 0
	e := &rollout.Engine{Store: g, Rollouts: db, Audit: db, Now: clock.Now,
		Monitors: &monitor.Checker{Usage: db, Now: clock.Now},
		NewID:    func() string { n++; return fmt.Sprintf("ro-%d", n) }}
	s := &rollout.Scheduler{Store: g, Schedules: db, Rollouts: e, Audit: db, Now: clock.Now}
	return &fixture{db: db, ix: ix, g: g, clock: clock, e: e, s: s}
}

// as returns a context of a person, as the API gives the engine.
func as(t *testing.T, who string) context.Context {
	return vane.NewContextWithPrincipal(t.Context(), who)
}

func (f *fixture) put(t *testing.T, name, value string) *vane.Parameter {
	t.Helper()
	p, err := f.g.Put(as(t, "alice"), &vane.PutInput{Name: name, Type: vane.TypeString, Value: value, Overwrite: true})
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return p
}

func (f *fixture) get(t *testing.T, name string) *vane.Parameter {
	t.Helper()
	p, err := f.g.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) start(t *testing.T, name string, spec vane.RolloutSpec) *vane.Rollout {
	t.Helper()
	r, err := f.e.Start(as(t, "alice"), name, spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return r
}

// tickAt moves the clock to at and runs the engine's timed work.
func (f *fixture) tickAt(t *testing.T, at time.Time) {
	t.Helper()
	f.clock.Set(at)
	if _, err := f.e.Tick(t.Context(), at); err != nil {
		t.Fatalf("tick at %s: %v", at.Sub(t0), err)
	}
}

func (f *fixture) rollout(t *testing.T, id string) *vane.Rollout {
	t.Helper()
	r, err := f.e.Rollout(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dur(d time.Duration) *vane.Duration { v := vane.Duration(d); return &v }

func share(t *testing.T, p *vane.Parameter, rule string) float64 {
	t.Helper()
	s, err := flag.Share(p.Value, rule)
	if err != nil {
		t.Fatalf("share of %q: %v", p.Value, err)
	}
	return s
}

const flagName = "/shop/prod/features/checkout"

// TestStrategiesStepOnTime runs each strategy on the injected clock and
// checks each step's share and time, that nothing is written a moment
// before a step is due, and the bake before completion.
func TestStrategiesStepOnTime(t *testing.T) {
	every := 5 * time.Minute
	for _, tc := range []struct {
		name    string
		initial string
		spec    vane.RolloutSpec
		rule    string
		want    []float64
	}{
		{"AllAtOnce", "false", vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce}, "", []float64{100}},
		{"Linear", "false", vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25}, "", []float64{25, 50, 75, 100}},
		{"LinearFromCurrentShare", `{"rollout_percentage": 20}`, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25}, "", []float64{45, 70, 95, 100}},
		{"LinearToTarget", "false", vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 10, Target: ptr(30.0)}, "", []float64{10, 20, 30}},
		{"Exponential", "false", vane.RolloutSpec{Strategy: vane.StrategyExponential, Step: 1}, "", []float64{1, 2, 4, 8, 16, 32, 64, 100}},
		{"ExponentialFactor3", `{"enabled": false}`, vane.RolloutSpec{Strategy: vane.StrategyExponential, Step: 5, Factor: 3}, "", []float64{5, 15, 45, 100}},
		{"Canary", "false", vane.RolloutSpec{Strategy: vane.StrategyCanary, Step: 2.5}, "", []float64{2.5, 100}},
		{"Steps", "false", vane.RolloutSpec{Strategy: vane.StrategySteps, Steps: []float64{1, 10, 50, 100}}, "", []float64{1, 10, 50, 100}},
		{"RuleShare", `{"default": false, "rules": [{"name": "beta", "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}], "when_match": true, "rollout_percentage": 10}]}`,
			vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 30, Rule: "beta"}, "beta", []float64{40, 70, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			base := f.put(t, flagName, tc.initial)
			spec := tc.spec
			if spec.Strategy != vane.StrategyAllAtOnce {
				spec.Every = vane.Duration(every)
			}
			spec.Bake = dur(30 * time.Minute)
			r := f.start(t, flagName, spec)
			if fmt.Sprint(r.Plan) != fmt.Sprint(tc.want) {
				t.Fatalf("plan %v, want %v", r.Plan, tc.want)
			}
			for i, want := range tc.want {
				at := t0.Add(time.Duration(i) * every)
				if i > 0 {
					f.tickAt(t, at.Add(-time.Second))
					if v := f.get(t, flagName).Version; v != base.Version+int64(i) {
						t.Fatalf("step %d written early: version %d a second before its time", i+1, v)
					}
					f.tickAt(t, at)
				}
				p := f.get(t, flagName)
				if p.Version != base.Version+int64(i)+1 || p.LastModifiedUser != vane.RolloutPrincipal(r.ID) {
					t.Fatalf("step %d: version %d by %s; want version %d by the rollout", i+1, p.Version, p.LastModifiedUser, base.Version+int64(i)+1)
				}
				if got := share(t, p, tc.rule); got != want {
					t.Fatalf("step %d at +%s: share %v, want %v (value %s)", i+1, at.Sub(t0), got, want, p.Value)
				}
			}
			last := t0.Add(time.Duration(len(tc.want)-1) * every)
			if got := f.rollout(t, r.ID); got.State != vane.RolloutBaking || !got.NextAt.Equal(last.Add(30*time.Minute)) {
				t.Fatalf("after the last step: %s until %s; want baking until %s", got.State, got.NextAt, last.Add(30*time.Minute))
			}
			f.tickAt(t, last.Add(30*time.Minute-time.Second))
			if got := f.rollout(t, r.ID); got.State != vane.RolloutBaking {
				t.Fatalf("completed before its bake ended: %s", got.State)
			}
			f.tickAt(t, last.Add(30*time.Minute))
			if got := f.rollout(t, r.ID); got.State != vane.RolloutCompleted || got.Share != tc.want[len(tc.want)-1] {
				t.Fatalf("after the bake: %s at %v", got.State, got.Share)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestStartRefusals(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	f.put(t, "/shop/prod/tuning/ttl", "300")
	for _, tc := range []struct {
		name, param string
		spec        vane.RolloutSpec
		code, want  string
	}{
		{"ErrUnknownStrategy", flagName, vane.RolloutSpec{Strategy: "gradual"}, vane.EINVALID, `"gradual"`},
		{"ErrLinearWithoutStep", flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Every: vane.Duration(time.Minute)}, vane.EINVALID, "needs step"},
		{"ErrWithoutEvery", flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 10}, vane.EINVALID, "every"},
		{"ErrFactor", flagName, vane.RolloutSpec{Strategy: vane.StrategyExponential, Step: 1, Factor: 1, Every: vane.Duration(time.Minute)}, vane.EINVALID, "factor"},
		{"ErrStepsFall", flagName, vane.RolloutSpec{Strategy: vane.StrategySteps, Steps: []float64{10, 5}, Every: vane.Duration(time.Minute)}, vane.EINVALID, "steps[1]"},
		{"ErrTooManySteps", flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 0.5, Every: vane.Duration(time.Minute)}, vane.EINVALID, "more than 100 steps"},
		{"ErrNotFound", "/shop/prod/features/nope", vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce}, vane.ENOTFOUND, "create it first"},
		{"ErrBadDocument", flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Value: ptr(`{"enabeld": true}`)}, vane.EINVALID, "$.enabeld"},
		{"ErrNoSuchRule", flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Rule: "beta"}, vane.EINVALID, "beta"},
		{"ErrValueNeedsValue", "/shop/prod/tuning/ttl", vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce}, vane.EINVALID, "value is required"},
		{"ErrValueCannotStep", "/shop/prod/tuning/ttl", vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 10, Every: vane.Duration(time.Minute), Value: ptr("600")}, vane.EINVALID, "no percentage"},
		{"ErrMonitor", flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Monitors: []vane.Monitor{{Kind: "http", URL: "ftp://x"}}}, vane.EINVALID, "monitor 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.e.Start(as(t, "alice"), tc.param, tc.spec)
			if vane.ErrorCode(err) != tc.code || !strings.Contains(vane.ErrorMessage(err), tc.want) {
				t.Fatalf("Start: %v; want %s naming %q", err, tc.code, tc.want)
			}
		})
	}
	t.Run("ErrSecondRolloutOnTheName", func(t *testing.T) {
		f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyCanary, Step: 5, Every: vane.Duration(time.Minute)})
		_, err := f.e.Start(as(t, "bob"), flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce})
		if vane.ErrorCode(err) != vane.ECONFLICT || vane.ErrorDetail(err) != vane.DetailRolloutInProgress {
			t.Fatalf("second rollout: %v; want conflict RolloutInProgress", err)
		}
	})
	t.Run("ErrAlreadyAtTarget", func(t *testing.T) {
		f.put(t, "/shop/prod/features/on", "true")
		_, err := f.e.Start(as(t, "alice"), "/shop/prod/features/on", vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce})
		if vane.ErrorCode(err) != vane.EINVALID || !strings.Contains(err.Error(), "nothing to roll out") {
			t.Fatalf("rollout of a flag at 100%%: %v", err)
		}
	})
}

func TestPauseAndResume(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25, Every: vane.Duration(10 * time.Minute)})
	f.clock.Set(t0.Add(4 * time.Minute))
	p, err := f.e.Pause(as(t, "bob"), r.ID)
	if err != nil || p.State != vane.RolloutPaused || time.Duration(p.Remaining) != 6*time.Minute {
		t.Fatalf("pause: %v %+v; want paused with 6m left", err, p)
	}
	f.tickAt(t, t0.Add(20*time.Minute))
	if got := share(t, f.get(t, flagName), ""); got != 25 {
		t.Fatalf("a paused rollout stepped: share %v", got)
	}
	if _, err := f.e.Pause(as(t, "bob"), r.ID); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Fatalf("pausing twice: %v; want conflict", err)
	}
	f.clock.Set(t0.Add(30 * time.Minute))
	if p, err = f.e.Resume(as(t, "bob"), r.ID); err != nil || p.State != vane.RolloutRunning || !p.NextAt.Equal(t0.Add(36*time.Minute)) {
		t.Fatalf("resume: %v %+v; want running, next step at +36m", err, p)
	}
	f.tickAt(t, t0.Add(36*time.Minute-time.Second))
	if got := share(t, f.get(t, flagName), ""); got != 25 {
		t.Fatalf("stepped early after resume: %v", got)
	}
	f.tickAt(t, t0.Add(36*time.Minute))
	if got := share(t, f.get(t, flagName), ""); got != 50 {
		t.Fatalf("after resume: share %v, want 50", got)
	}
}

func TestCancelRollBackComplete(t *testing.T) {
	t.Run("CancelStaysWhereItIs", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, flagName, "false")
		r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25, Every: vane.Duration(time.Minute)})
		c, err := f.e.Cancel(as(t, "bob"), r.ID)
		if err != nil || c.State != vane.RolloutCancelled || !strings.Contains(c.Reason, "bob") {
			t.Fatalf("cancel: %v %+v", err, c)
		}
		f.tickAt(t, t0.Add(time.Hour))
		if p := f.get(t, flagName); share(t, p, "") != 25 || p.Version != 2 {
			t.Fatalf("after cancel: %s v%d", p.Value, p.Version)
		}
	})
	t.Run("RollBackWritesTheOldValue", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, flagName, `{"enabled": false, "description": "new checkout"}`)
		r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25, Every: vane.Duration(time.Minute)})
		f.tickAt(t, t0.Add(time.Minute))
		rb, err := f.e.RollBack(as(t, "bob"), r.ID)
		if err != nil || rb.State != vane.RolloutRolledBack {
			t.Fatalf("rollback: %v %+v", err, rb)
		}
		p := f.get(t, flagName)
		if p.Value != `{"enabled": false, "description": "new checkout"}` || p.Version != 4 || p.LastModifiedUser != vane.RolloutPrincipal(r.ID) {
			t.Fatalf("after rollback: %q v%d by %s", p.Value, p.Version, p.LastModifiedUser)
		}
		if _, err := f.e.RollBack(as(t, "bob"), r.ID); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Fatalf("second rollback: %v", err)
		}
	})
	t.Run("RollBackAfterCompletionWhileUntouched", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, flagName, "false")
		r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Bake: dur(0)})
		f.tickAt(t, t0)
		if got := f.rollout(t, r.ID); got.State != vane.RolloutCompleted {
			t.Fatalf("bake 0: %s", got.State)
		}
		if _, err := f.e.RollBack(as(t, "bob"), r.ID); err != nil {
			t.Fatalf("rollback of a completed rollout nobody touched since: %v", err)
		}
		if p := f.get(t, flagName); p.Value != "false" {
			t.Fatalf("value %q", p.Value)
		}
		r2 := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Bake: dur(0)})
		f.tickAt(t, t0)
		f.put(t, flagName, `{"rollout_percentage": 50}`)
		if _, err := f.e.RollBack(as(t, "bob"), r2.ID); vane.ErrorCode(err) != vane.ECONFLICT || !strings.Contains(err.Error(), "alice") {
			t.Fatalf("rollback over a later write: %v; want conflict naming alice", err)
		}
	})
	t.Run("CompleteNow", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, flagName, "false")
		r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 10, Every: vane.Duration(time.Hour)})
		c, err := f.e.Complete(as(t, "bob"), r.ID)
		if err != nil || c.State != vane.RolloutCompleted || c.Share != 100 {
			t.Fatalf("complete: %v %+v", err, c)
		}
		if got := share(t, f.get(t, flagName), ""); got != 100 {
			t.Fatalf("share %v after complete", got)
		}
	})
}

// TestManualWriteStopsTheRollout: a person's write wins, whether the
// change log reports it first or the next step finds it.
func TestManualWriteStopsTheRollout(t *testing.T) {
	t.Run("SeenInTheChangeLog", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, flagName, "false")
		runner := &job.Runner{Name: "rollouts", Job: f.e, Leases: f.db, Log: f.ix, Holder: "node-a", Now: f.clock.Now}
		if _, err := runner.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25, Every: vane.Duration(time.Minute)})
		if _, err := runner.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := f.rollout(t, r.ID); got.State != vane.RolloutRunning {
			t.Fatalf("the rollout's own step stopped it: %s %s", got.State, got.Reason)
		}
		f.put(t, flagName, "true")
		if _, err := runner.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := f.rollout(t, r.ID)
		if got.State != vane.RolloutStopped || !strings.Contains(got.Reason, "alice wrote version 3") {
			t.Fatalf("after alice's write: %s %q", got.State, got.Reason)
		}
		f.clock.Set(t0.Add(time.Hour))
		if _, err := runner.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if p := f.get(t, flagName); p.Value != "true" || p.Version != 3 {
			t.Fatalf("the stopped rollout wrote: %q v%d", p.Value, p.Version)
		}
		page, err := f.db.Audit(t.Context(), &vane.AuditQuery{Prefix: flagName, Action: rollout.ActionUpdateRollout})
		if err != nil || len(page.Entries) != 1 || !strings.Contains(page.Entries[0].Detail, "stopped") {
			t.Fatalf("audit of the stop: %v %+v", err, page)
		}
	})
	t.Run("FoundByTheNextStep", func(t *testing.T) {
		f := newFixture(t)
		f.put(t, flagName, "false")
		r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25, Every: vane.Duration(time.Minute)})
		f.put(t, flagName, "false")
		f.tickAt(t, t0.Add(time.Minute))
		if got := f.rollout(t, r.ID); got.State != vane.RolloutStopped {
			t.Fatalf("state %s; want stopped", got.State)
		}
		if p := f.get(t, flagName); p.Value != "false" || p.Version != 3 {
			t.Fatalf("the step overwrote alice: %q v%d", p.Value, p.Version)
		}
	})
}

// TestInterruptedStepIsSettledOnce: a node that died between recording a
// step and finishing it leaves a pending write; the next node finishes it
// without writing twice, or makes it when it was not made.
func TestInterruptedStepIsSettledOnce(t *testing.T) {
	for _, written := range []bool{true, false} {
		t.Run(fmt.Sprintf("Written=%v", written), func(t *testing.T) {
			f := newFixture(t)
			f.put(t, flagName, "false")
			r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 50, Every: vane.Duration(time.Minute)})
			// What a node that died half-way through step 2 leaves.
			r = f.rollout(t, r.ID)
			value, _ := flag.WithRollout(r.Target, "", 100)
			r.Pending = &vane.RolloutWrite{Action: "step", Version: r.LastVersion + 1, Value: value, State: vane.RolloutBaking,
				Step: 2, Share: 100, NextAt: t0.Add(time.Minute + 5*time.Minute)}
			if err := f.db.UpdateRollout(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			if written {
				ctx := vane.NewContextWithPrincipal(t.Context(), vane.RolloutPrincipal(r.ID))
				if _, err := f.ix.Put(ctx, &vane.PutInput{Name: flagName, Value: value, Overwrite: true}); err != nil {
					t.Fatal(err)
				}
			}
			f.tickAt(t, t0.Add(time.Minute))
			got := f.rollout(t, r.ID)
			p := f.get(t, flagName)
			if got.Pending != nil || got.State != vane.RolloutBaking || got.LastVersion != 3 || p.Version != 3 || share(t, p, "") != 100 {
				t.Fatalf("after settling: %s pending=%v last=%d; flag v%d %s", got.State, got.Pending, got.LastVersion, p.Version, p.Value)
			}
		})
	}
}

// TestNoWriteTheAPIWouldRefuse: rollouts and schedules write through the
// guard, so a record made by an older server, or tampered with, whose
// value no longer validates fails instead of being written.
func TestNoWriteTheAPIWouldRefuse(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 50, Every: vane.Duration(time.Minute)})
	r = f.rollout(t, r.ID)
	r.Target = `{"rollout_percentage": 5, "variants": {"a": 1}}` // variants without on_variant: refused
	if err := f.db.UpdateRollout(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	f.tickAt(t, t0.Add(time.Minute))
	if got := f.rollout(t, r.ID); got.State != vane.RolloutFailed || !strings.Contains(got.Reason, "on_variant") {
		t.Fatalf("rollout with a target the API refuses: %s %q", got.State, got.Reason)
	}
	if p := f.get(t, flagName); p.Version != 2 {
		t.Fatalf("a refused value was written: v%d %s", p.Version, p.Value)
	}

	sc := &vane.Schedule{ID: "sc-bad", Name: flagName, Action: vane.ScheduleActionPut, At: t0.Add(2 * time.Minute),
		Value: ptr(`{"rollout_percentage": 120}`), State: vane.SchedulePending}
	if err := f.db.CreateSchedule(t.Context(), sc); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(2 * time.Minute))
	if _, err := f.s.Tick(t.Context(), f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ := f.s.Get(t.Context(), "sc-bad")
	if got.State != vane.ScheduleFailed || !strings.Contains(got.Result, "$.rollout_percentage") {
		t.Fatalf("schedule with a value the API refuses: %s %q", got.State, got.Result)
	}
	if p := f.get(t, flagName); p.Version != 2 {
		t.Fatalf("a refused scheduled value was written: v%d", p.Version)
	}
}

// healthServer is a real local HTTP server whose health a test sets.
func healthServer(t *testing.T) (*httptest.Server, *atomic.Bool) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &healthy
}

func TestHTTPMonitorRollsBack(t *testing.T) {
	f := newFixture(t)
	srv, healthy := healthServer(t)
	f.put(t, flagName, "false")
	r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 25, Every: vane.Duration(time.Minute),
		CheckEvery: vane.Duration(10 * time.Second),
		Monitors:   []vane.Monitor{{Kind: vane.MonitorHTTP, URL: srv.URL + "/healthz", Failures: 2}}})
	f.tickAt(t, t0)
	if got := f.rollout(t, r.ID); got.Monitors[0].State != vane.MonitorOK {
		t.Fatalf("monitor %+v; want ok", got.Monitors[0])
	}
	healthy.Store(false)
	f.tickAt(t, t0.Add(10*time.Second))
	if got := f.rollout(t, r.ID); got.State != vane.RolloutRunning || got.Monitors[0].State != vane.MonitorFailing {
		t.Fatalf("after one failure: %s, monitor %+v", got.State, got.Monitors[0])
	}
	f.tickAt(t, t0.Add(20*time.Second))
	got := f.rollout(t, r.ID)
	if got.State != vane.RolloutRolledBack || !strings.Contains(got.Reason, "http-1") || !strings.Contains(got.Reason, "503") {
		t.Fatalf("after two failures: %s %q; want rolled back naming the monitor", got.State, got.Reason)
	}
	if p := f.get(t, flagName); p.Value != "false" || p.Version != 3 {
		t.Fatalf("after the rollback: %q v%d", p.Value, p.Version)
	}
	page, err := f.db.Audit(t.Context(), &vane.AuditQuery{Prefix: flagName, Principal: vane.RolloutPrincipal(r.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range page.Entries {
		details = append(details, e.Action+" "+e.Detail)
	}
	if !strings.Contains(strings.Join(details, "\n"), "rolled back: monitor http-1") {
		t.Fatalf("audit does not record the rollback's reason:\n%s", strings.Join(details, "\n"))
	}
}

// promServer stands in for a Prometheus-compatible API: /api/v1/query
// answers the vector value a test sets.
func promServer(t *testing.T) (*httptest.Server, *atomic.Value) {
	var value atomic.Value
	value.Store("0")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.URL.Query().Get("query") == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
			"resultType": "vector",
			"result":     []any{map[string]any{"metric": map[string]string{"job": "shop"}, "value": []any{1764590400.0, value.Load()}}},
		}})
	}))
	t.Cleanup(srv.Close)
	return srv, &value
}

func TestPrometheusMonitorRollsBackAValue(t *testing.T) {
	f := newFixture(t)
	srv, value := promServer(t)
	f.put(t, "/shop/prod/tuning/pool-size", "10")
	r := f.start(t, "/shop/prod/tuning/pool-size", vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce, Value: ptr("40"),
		Bake: dur(30 * time.Minute), CheckEvery: vane.Duration(time.Minute),
		Monitors: []vane.Monitor{{Kind: vane.MonitorPrometheus, URL: srv.URL, Query: `sum(rate(http_errors_total[1m]))`, Threshold: ptr(5.0)}}})
	if p := f.get(t, "/shop/prod/tuning/pool-size"); p.Value != "40" || r.State != vane.RolloutBaking {
		t.Fatalf("value rollout: %q, %s; want 40 at once, baking", p.Value, r.State)
	}
	f.tickAt(t, t0.Add(time.Minute))
	value.Store("7.5")
	f.tickAt(t, t0.Add(2*time.Minute))
	got := f.rollout(t, r.ID)
	if got.State != vane.RolloutRolledBack || !strings.Contains(got.Reason, "7.5") {
		t.Fatalf("%s %q; want rolled back over 7.5", got.State, got.Reason)
	}
	if p := f.get(t, "/shop/prod/tuning/pool-size"); p.Value != "10" {
		t.Fatalf("value after rollback %q, want 10", p.Value)
	}
}

func TestErrorRateMonitorRollsBack(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 10, Every: vane.Duration(time.Hour),
		CheckEvery: vane.Duration(30 * time.Second),
		Monitors:   []vane.Monitor{{Kind: vane.MonitorErrors, Threshold: ptr(0.05), Window: vane.Duration(5 * time.Minute), MinEvaluations: 10}}})
	report := func(variant string, n int64) {
		day := f.clock.Now().Format(time.DateOnly)
		if err := f.db.AddUsage(t.Context(), []vane.FlagUsage{{Name: flagName, Day: day, Variant: variant, Count: n, Last: f.clock.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	report("on", 100)
	f.tickAt(t, t0)
	report("on", 95)
	report("", 5) // 5%: not over the threshold
	f.tickAt(t, t0.Add(30*time.Second))
	if got := f.rollout(t, r.ID); got.State != vane.RolloutRunning {
		t.Fatalf("rolled back at 5%%: %q", got.Reason)
	}
	report("on", 80)
	report("", 20)
	f.tickAt(t, t0.Add(time.Minute))
	got := f.rollout(t, r.ID)
	if got.State != vane.RolloutRolledBack || !strings.Contains(got.Reason, "errors-1") {
		t.Fatalf("%s %q; want rolled back by the error rate", got.State, got.Reason)
	}
	if interval := f.e.ReportInterval(); interval != 0 {
		t.Fatalf("ReportInterval %s after the rollout ended (cached answers last 5s of the clock)", interval)
	}
}

func TestReportIntervalWhileErrorsAreWatched(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	if d := f.e.ReportInterval(); d != 0 {
		t.Fatalf("no rollout: %s", d)
	}
	f.clock.Add(time.Minute)
	f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyAllAtOnce,
		Monitors: []vane.Monitor{{Kind: vane.MonitorErrors, Threshold: ptr(0.01)}}})
	if d := f.e.ReportInterval(); d != rollout.ReportIntervalDuringRollouts {
		t.Fatalf("rollout watching errors: %s, want %s", d, rollout.ReportIntervalDuringRollouts)
	}
}
