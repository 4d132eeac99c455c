package monitor_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/monitor"
	"github.com/vanehq/vane/sqlite"
)

// fakeUsage is a vane.UsageStore whose methods are function fields.
type fakeUsage struct {
	AddUsageFn func(ctx context.Context, rows []vane.FlagUsage) error
	UsageFn    func(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error)
}

var _ vane.UsageStore = (*fakeUsage)(nil)

func (f *fakeUsage) AddUsage(ctx context.Context, rows []vane.FlagUsage) error {
	return f.AddUsageFn(ctx, rows)
}

func (f *fakeUsage) Usage(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
	return f.UsageFn(ctx, prefix, since)
}

func (f *fakeUsage) UsageTotals(ctx context.Context, prefix, since string) ([]vane.UsageTotal, error) {
	panic("the monitor does not read usage totals")
}

const flagName = "/shop/prod/features/checkout"

// counters is a flag's evaluation counts as a usage store would hold
// them, and a clock; checks read both.
type counters struct {
	now  time.Time
	rows []vane.FlagUsage
}

// add counts n evaluations of name to variant on day ("" counts errors).
func (s *counters) add(name, day, variant string, n int64) {
	for i := range s.rows {
		if r := &s.rows[i]; r.Name == name && r.Day == day && r.Variant == variant {
			r.Count += n
			return
		}
	}
	s.rows = append(s.rows, vane.FlagUsage{Name: name, Day: day, Variant: variant, Count: n})
}

// checker returns a Checker reading s, with s's clock.
func (s *counters) checker() *monitor.Checker {
	return &monitor.Checker{
		Now: func() time.Time { return s.now },
		Usage: &fakeUsage{UsageFn: func(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
			var out []vane.FlagUsage
			for _, r := range s.rows {
				if r.Day >= since {
					out = append(out, r)
				}
			}
			return out, nil
		}},
	}
}

// errorsMonitor is an errors monitor firing over 5%, with the default
// window (5m) and minimum (20 evaluations).
var errorsMonitor = vane.Monitor{Kind: vane.MonitorErrors, Threshold: ptr(0.05)}

func check(c *monitor.Checker, key string) monitor.Result {
	return c.Check(context.Background(), key, flagName, errorsMonitor)
}

// wantResult fails the test unless got is want.
func wantResult(tb testing.TB, step string, got, want monitor.Result) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s: Check() = %+v\nwant %+v", step, got, want)
	}
}

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const day = "2026-03-10"

func TestCheck_Errors(t *testing.T) {
	t.Run("FirstSampleIsHealthy", func(t *testing.T) {
		s := &counters{now: t0}
		s.add(flagName, day, "", 1000)
		wantResult(t, "first", check(s.checker(), "r1/errors-1"), monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"})
	})

	t.Run("RateOverThresholdBreaches", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 88)
		s.add(flagName, day, "", 12)
		wantResult(t, "second", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 12.0% (12 of 100 evaluations in 1m0s) > 5.0%"})
	})

	t.Run("RateAtThresholdIsHealthy", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 60)
		s.add(flagName, day, "off", 35)
		s.add(flagName, day, "", 5)
		wantResult(t, "second", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "error rate 5.0% (5 of 100 evaluations in 1m0s) <= 5.0%"})
	})

	t.Run("FewerThanMinEvaluationsIsNotJudged", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "", 19)
		wantResult(t, "19 errors", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "19 evaluations in the window, fewer than 20: not judged"})
		s.now = t0.Add(2 * time.Minute)
		s.add(flagName, day, "", 1)
		wantResult(t, "20 errors", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 100.0% (20 of 20 evaluations in 2m0s) > 5.0%"})
	})

	t.Run("OnlyTheFlagItselfCounts", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 100)
		s.add(flagName+"-v2", day, "", 100)
		s.add(flagName+"/beta", day, "", 100)
		wantResult(t, "second", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "error rate 0.0% (0 of 100 evaluations in 1m0s) <= 5.0%"})
	})

	t.Run("UsageIsReadFromTheDayBeforeTheWindow", func(t *testing.T) {
		var prefixes, sinces []string
		c := &monitor.Checker{
			Now: func() time.Time { return time.Date(2026, 3, 11, 0, 30, 0, 0, time.FixedZone("CET", 3600)) },
			Usage: &fakeUsage{UsageFn: func(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
				prefixes, sinces = append(prefixes, prefix), append(sinces, since)
				return nil, nil
			}},
		}
		check(c, "r1/errors-1")
		// 23:30 UTC on the 10th, less 5m and 24h: 23:25 UTC on the 9th
		// (00:25 on the 10th in CET).
		if len(sinces) != 1 || prefixes[0] != flagName || sinces[0] != "2026-03-09" {
			t.Errorf("Usage called with prefixes %q, since %q; want %q, %q", prefixes, sinces, flagName, "2026-03-09")
		}
	})

	t.Run("OldSamplesLeaveTheWindow", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		// A burst of errors in the first minute, then none.
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 50)
		s.add(flagName, day, "", 50)
		wantResult(t, "1m", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 50.0% (50 of 100 evaluations in 1m0s) > 5.0%"})
		for m := 2; m <= 5; m++ {
			s.now = t0.Add(time.Duration(m) * time.Minute)
			s.add(flagName, day, "on", 100)
			check(c, "r1/errors-1")
		}
		s.now = t0.Add(5*time.Minute + 30*time.Second)
		wantResult(t, "5m30s: the burst is in the window", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 10.0% (50 of 500 evaluations in 5m30s) > 5.0%"})
		s.now = t0.Add(6 * time.Minute)
		s.add(flagName, day, "on", 100)
		wantResult(t, "6m: the burst left the window", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "error rate 0.0% (0 of 500 evaluations in 5m0s) <= 5.0%"})
	})

	t.Run("BaselineOlderThanWindowIsKept", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		// Checks every 4m with a 5m window: the sample before the window
		// is the baseline, so the window is always covered.
		for m := 0; m <= 8; m += 4 {
			s.now = t0.Add(time.Duration(m) * time.Minute)
			s.add(flagName, day, "on", 90)
			s.add(flagName, day, "", 10)
			check(c, "r1/errors-1")
		}
		s.now = t0.Add(12 * time.Minute)
		s.add(flagName, day, "on", 100)
		wantResult(t, "12m", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "error rate 5.0% (10 of 200 evaluations in 8m0s) <= 5.0%"})
	})

	t.Run("CountsGoingDownStartOver", func(t *testing.T) {
		s := &counters{now: t0}
		s.add(flagName, day, "on", 1000)
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = t0.Add(time.Minute)
		s.rows = nil
		s.add(flagName, day, "on", 400)
		wantResult(t, "lower", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "evaluation counts went down; starting over: the rate needs two checks"})
		s.now = t0.Add(2 * time.Minute)
		s.add(flagName, day, "on", 50)
		s.add(flagName, day, "", 50)
		wantResult(t, "after", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 50.0% (50 of 100 evaluations in 1m0s) > 5.0%"})
	})

	t.Run("ClockGoingBackStartsOver", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = t0.Add(-time.Minute)
		s.add(flagName, day, "", 100)
		wantResult(t, "back", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "the clock went back; starting over: the rate needs two checks"})
	})

	t.Run("SecondReadAtOneInstantReplacesTheFirst", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		check(c, "r1/errors-1")
		s.add(flagName, day, "", 1000)
		wantResult(t, "same instant", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"})
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 100)
		wantResult(t, "1m", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "error rate 0.0% (0 of 100 evaluations in 1m0s) <= 5.0%"})
	})

	t.Run("DayLeavingTheRangeIsNotACountGoingDown", func(t *testing.T) {
		// At 00:04 on the 12th the range read starts on the 10th (at
		// 23:59); at 00:06 it starts on the 11th, and the 10th's counts
		// leave what Usage returns.
		s := &counters{now: time.Date(2026, 3, 12, 0, 4, 0, 0, time.UTC)}
		s.add(flagName, "2026-03-10", "", 5000)
		s.add(flagName, "2026-03-11", "on", 10000)
		s.add(flagName, "2026-03-12", "on", 10)
		c := s.checker()
		wantResult(t, "first", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"})
		s.now = s.now.Add(2 * time.Minute)
		s.add(flagName, "2026-03-12", "on", 95)
		s.add(flagName, "2026-03-12", "", 5)
		wantResult(t, "second", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "error rate 5.0% (5 of 100 evaluations in 2m0s) <= 5.0%"})
	})

	t.Run("NewDayCountsFromZero", func(t *testing.T) {
		s := &counters{now: time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC)}
		s.add(flagName, "2026-03-10", "on", 1000)
		c := s.checker()
		check(c, "r1/errors-1")
		s.now = s.now.Add(2 * time.Minute)
		s.add(flagName, "2026-03-10", "on", 10)
		s.add(flagName, "2026-03-11", "on", 81)
		s.add(flagName, "2026-03-11", "", 9)
		wantResult(t, "after midnight", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 9.0% (9 of 100 evaluations in 2m0s) > 5.0%"})
	})

	t.Run("UsageErrorIsUnhealthy", func(t *testing.T) {
		s := &counters{now: t0}
		var fail error = vane.Errorf(vane.EUNAVAILABLE, "the database is busy")
		c := s.checker()
		read := c.Usage.(*fakeUsage).UsageFn
		c.Usage.(*fakeUsage).UsageFn = func(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
			if fail != nil {
				return nil, fail
			}
			return read(ctx, prefix, since)
		}
		wantResult(t, "vane error", check(c, "r1/errors-1"), monitor.Result{Detail: "usage: the database is busy"})
		fail = errors.New("sqlite: open /var/lib/vane/secret.db: permission denied")
		wantResult(t, "other error", check(c, "r1/errors-1"), monitor.Result{Detail: "usage: Internal error."})
		fail = nil
		// Failed reads recorded no sample.
		wantResult(t, "read", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"})
	})

	t.Run("UsageTimeoutIsUnhealthy", func(t *testing.T) {
		c := &monitor.Checker{Usage: &fakeUsage{UsageFn: func(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}}
		m := errorsMonitor
		m.Timeout = vane.Duration(20 * time.Millisecond)
		got := c.Check(context.Background(), "r1/errors-1", flagName, m)
		wantResult(t, "slow", got, monitor.Result{Detail: "usage: timeout after 20ms"})
	})

	t.Run("NoUsageStoreIsUnhealthy", func(t *testing.T) {
		c := &monitor.Checker{}
		wantResult(t, "nil Usage", check(c, "r1/errors-1"), monitor.Result{Detail: "usage: no usage store to read evaluation counts from"})
	})

	t.Run("NormalizedSettingsAreUsed", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		m := vane.Monitor{Kind: vane.MonitorErrors, Threshold: ptr(0.2), MinEvaluations: 5, Window: vane.Duration(time.Minute)}
		if err := monitor.Normalize(&m, 0); err != nil {
			t.Fatal(err)
		}
		c.Check(context.Background(), "r1/errors-1", flagName, m)
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 4)
		s.add(flagName, day, "", 1)
		wantResult(t, "1m", c.Check(context.Background(), "r1/errors-1", flagName, m), monitor.Result{Healthy: true, Detail: "error rate 20.0% (1 of 5 evaluations in 1m0s) <= 20.0%"})
		s.now = t0.Add(2 * time.Minute)
		s.add(flagName, day, "on", 3)
		s.add(flagName, day, "", 2)
		wantResult(t, "2m", c.Check(context.Background(), "r1/errors-1", flagName, m), monitor.Result{Breach: true, Detail: "error rate 40.0% (2 of 5 evaluations in 1m0s) > 20.0%"})
	})

	t.Run("SmallThresholdIsShownExactly", func(t *testing.T) {
		s := &counters{now: t0}
		c := s.checker()
		m := vane.Monitor{Kind: vane.MonitorErrors, Threshold: ptr(0.0005)}
		c.Check(context.Background(), "r1/errors-1", flagName, m)
		s.now = t0.Add(time.Minute)
		s.add(flagName, day, "on", 9999)
		s.add(flagName, day, "", 1)
		wantResult(t, "1m", c.Check(context.Background(), "r1/errors-1", flagName, m), monitor.Result{Healthy: true, Detail: "error rate 0.01% (1 of 10000 evaluations in 1m0s) <= 0.05%"})
	})
}

func TestChecker_Forget(t *testing.T) {
	s := &counters{now: t0}
	c := s.checker()
	keys := []string{"r1/errors-1", "r1/errors-2", "r10/errors-1"}
	for _, k := range keys {
		check(c, k)
	}
	s.now = t0.Add(time.Minute)
	s.add(flagName, day, "on", 100)
	c.Forget("r1/")

	first := monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"}
	judged := monitor.Result{Healthy: true, Detail: "error rate 0.0% (0 of 100 evaluations in 1m0s) <= 5.0%"}
	wantResult(t, "r1/errors-1", check(c, "r1/errors-1"), first)
	wantResult(t, "r1/errors-2", check(c, "r1/errors-2"), first)
	wantResult(t, "r10/errors-1", check(c, "r10/errors-1"), judged)
}

func TestChecker_IdleKeysAreDropped(t *testing.T) {
	s := &counters{now: t0}
	c := s.checker()
	check(c, "r1/errors-1")
	// A rollout that ended on another node is never forgotten here; a
	// day later another check drops its samples.
	s.now = t0.Add(25 * time.Hour)
	check(c, "r2/errors-1")
	s.now = s.now.Add(time.Minute)
	wantResult(t, "r1", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"})
}

func TestCheck_ErrorsWithSQLite(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	add := func(rows ...vane.FlagUsage) {
		t.Helper()
		if err := store.AddUsage(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}

	now := t0
	c := &monitor.Checker{Usage: store, Now: func() time.Time { return now }}
	add(
		vane.FlagUsage{Name: flagName, Day: "2026-03-09", Variant: "on", Count: 5000, Last: t0.Add(-24 * time.Hour)},
		vane.FlagUsage{Name: flagName, Day: day, Variant: "on", Count: 900, Last: t0},
		vane.FlagUsage{Name: flagName, Day: day, Variant: "", Count: 3, Last: t0},
	)
	wantResult(t, "first", check(c, "r1/errors-1"), monitor.Result{Healthy: true, Detail: "first sample; the rate needs two checks"})

	now = t0.Add(time.Minute)
	add(
		vane.FlagUsage{Name: flagName, Day: day, Variant: "on", Count: 80, Last: now},
		vane.FlagUsage{Name: flagName, Day: day, Variant: "", Count: 20, Last: now},
		vane.FlagUsage{Name: flagName + "-v2", Day: day, Variant: "", Count: 1000, Last: now},
	)
	wantResult(t, "second", check(c, "r1/errors-1"), monitor.Result{Breach: true, Detail: "error rate 20.0% (20 of 100 evaluations in 1m0s) > 5.0%"})
}

func TestChecker_ConcurrentUse(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var mu sync.Mutex
	var count int64
	c := &monitor.Checker{Usage: &fakeUsage{UsageFn: func(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
		mu.Lock()
		defer mu.Unlock()
		count += 10
		return []vane.FlagUsage{{Name: prefix, Day: time.Now().UTC().Format(time.DateOnly), Variant: "on", Count: count}}, nil
	}}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				switch i % 5 {
				case 0:
					c.Check(context.Background(), "r1/http-1", flagName, vane.Monitor{Kind: vane.MonitorHTTP, URL: srv.URL})
				case 4:
					c.Forget("r1/")
				default:
					key := []string{"r1/errors-1", "r1/errors-2", "r2/errors-1"}[(g+i)%3]
					if got := check(c, key); got.Breach || !got.Healthy {
						t.Errorf("Check(%s) = %+v, want healthy", key, got)
					}
				}
			}
		})
	}
	wg.Wait()
}
