package rollout_test

import (
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// TestClockSteppingBackwards: when the clock steps back (an NTP
// correction, a restored VM), versions and change-log sequences keep
// counting up, a scheduled change that ran does not run again when its
// time comes round a second time, and a rollout step already written is
// not written again.
func TestClockSteppingBackwards(t *testing.T) {
	f := newFixture(t)
	f.put(t, flagName, "false")
	sc := f.schedule(t, vane.Schedule{Name: "/shop/prod/tuning/limit", Action: vane.ScheduleActionPut, At: t0.Add(time.Hour), Value: ptr("20"), Type: vane.TypeString})
	r := f.start(t, flagName, vane.RolloutSpec{Strategy: vane.StrategyLinear, Step: 50, Every: vane.Duration(10 * time.Minute), Bake: dur(time.Hour)})

	f.tickAt(t, t0.Add(10*time.Minute)) // the rollout's second step: 100%
	f.runSchedules(t, t0.Add(time.Hour))
	flagAfter, limitAfter := f.get(t, flagName), f.get(t, "/shop/prod/tuning/limit")
	seq := f.ix.Seq()

	// The clock steps back two hours, then walks forward through the
	// same times again.
	for _, at := range []time.Time{t0.Add(-time.Hour), t0.Add(10 * time.Minute), t0.Add(time.Hour)} {
		f.tickAt(t, at)
		f.runSchedules(t, at)
	}
	if p := f.get(t, flagName); p.Version != flagAfter.Version {
		t.Errorf("the rollout wrote again after the clock stepped back: version %d, was %d", p.Version, flagAfter.Version)
	}
	if p := f.get(t, "/shop/prod/tuning/limit"); p.Version != limitAfter.Version {
		t.Errorf("the scheduled put ran again after the clock stepped back: version %d, was %d", p.Version, limitAfter.Version)
	}
	if got := f.scheduled(t, sc.ID); got.State != vane.ScheduleDone {
		t.Errorf("schedule state %s", got.State)
	}
	if got := f.rollout(t, r.ID); got.Step != 2 {
		t.Errorf("rollout at step %d, want 2", got.Step)
	}

	// A write made an hour "earlier" than the last one still gets the
	// next version and the next sequence.
	f.clock.Set(t0.Add(-2 * time.Hour))
	p := f.put(t, "/shop/prod/tuning/limit", "30")
	if p.Version != limitAfter.Version+1 || !p.LastModified.Before(limitAfter.LastModified) {
		t.Fatalf("a put under a clock gone back: version %d at %s (previous version %d at %s)", p.Version, p.LastModified, limitAfter.Version, limitAfter.LastModified)
	}
	if s := f.ix.Seq(); s <= seq {
		t.Fatalf("change-log sequence %d after %d", s, seq)
	}
	h, err := f.db.History(t.Context(), &vane.HistoryInput{Name: "/shop/prod/tuning/limit"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(h.Parameters); i++ {
		if h.Parameters[i].Version <= h.Parameters[i-1].Version {
			t.Fatalf("history out of order: %d after %d", h.Parameters[i].Version, h.Parameters[i-1].Version)
		}
	}
}
