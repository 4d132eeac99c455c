package rollout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/monitor"
)

// ReportIntervalDuringRollouts is how often SDKs are asked to report flag
// usage while a rollout watches a flag's error rate (see ReportInterval).
const ReportIntervalDuringRollouts = 5 * time.Second

// reportIntervalCache is how long ReportInterval reuses its answer.
const reportIntervalCache = 5 * time.Second

// active lists every active rollout.
func (e *Engine) active(ctx context.Context) ([]*vane.Rollout, error) {
	var out []*vane.Rollout
	q := &vane.RolloutQuery{Active: true, Limit: vane.MaxPageSize}
	for {
		page, err := e.Rollouts.Rollouts(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Rollouts...)
		if page.NextToken == "" {
			return out, nil
		}
		q.NextToken = page.NextToken
	}
}

// Changes stops the active rollouts whose names someone else wrote or
// deleted: the person wins. It is the change-log side of the job.
func (e *Engine) Changes(ctx context.Context, cs []vane.Change) error {
	var rs []*vane.Rollout
	loaded := false
	for _, c := range cs {
		if c.Op != vane.OpPut && c.Op != vane.OpDelete {
			continue
		}
		if !loaded {
			var err error
			if rs, err = e.active(ctx); err != nil {
				return err
			}
			loaded = true
		}
		for _, r := range rs {
			if r.Name != c.Name || !r.State.Active() || c.Principal == vane.RolloutPrincipal(r.ID) {
				continue
			}
			if c.Op == vane.OpPut && c.Version <= r.LastVersion {
				continue // before the rollout's own last write
			}
			why := fmt.Sprintf("%s wrote version %d of %s", c.Principal, c.Version, c.Name)
			if c.Op == vane.OpDelete {
				why = fmt.Sprintf("%s deleted %s", c.Principal, c.Name)
			}
			if err := e.stopFor(ctx, r.ID, c, why); err != nil {
				return err
			}
			r.State = vane.RolloutStopped
		}
	}
	return nil
}

// stopFor stops rollout id because of change c, unless the rollout has
// since written past it.
func (e *Engine) stopFor(ctx context.Context, id string, c vane.Change, why string) error {
	for range maxRetries {
		r, err := e.load(ctx, id)
		if err != nil {
			return err
		}
		if !r.State.Active() || (c.Op == vane.OpPut && c.Version <= r.LastVersion) {
			return nil
		}
		stop(r, why, e.now())
		r.Updated = e.now()
		err = e.Rollouts.UpdateRollout(ctx, r)
		if vane.ErrorCode(err) == vane.ECONFLICT {
			continue
		}
		if err != nil {
			return err
		}
		e.ended(r)
		e.auditAs(ctx, r, ActionUpdateRollout, "stopped: "+r.Reason)
		e.logger().Warn("rollout stopped: its name was changed by someone else", "rollout", r.ID, "name", r.Name, "by", c.Principal, "version", c.Version)
		return nil
	}
	return vane.Errorf(vane.EUNAVAILABLE, "rollout %s kept changing", id)
}

// Tick does the timed work of every active rollout due at now: checks
// monitors (rolling back when one fires), takes steps, ends bakes. It
// returns when the next such work is due.
func (e *Engine) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	rs, err := e.active(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	due := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	counts := map[string]int{}
	var errs []error
	for _, r := range rs {
		id := r.ID
		r, err := e.tickOne(ctx, r, now)
		if err != nil || r == nil {
			errs = append(errs, fmt.Errorf("rollout %s: %w", id, err))
			due(now.Add(time.Second))
			continue
		}
		if r.State.Active() {
			counts[string(r.State)]++
			if r.State != vane.RolloutPaused {
				due(r.NextAt)
			}
			due(r.NextCheck)
		}
	}
	e.Metrics.SetActive(counts)
	return next, errors.Join(errs...)
}

// tickOne does r's work due at now and returns r as it is after.
func (e *Engine) tickOne(ctx context.Context, r *vane.Rollout, now time.Time) (*vane.Rollout, error) {
	var err error
	if r.Pending != nil {
		if r, err = e.settle(ctx, r); err != nil {
			return r, err
		}
	}
	if r.State.Active() && !r.NextCheck.IsZero() && !now.Before(r.NextCheck) {
		fired, err := e.check(ctx, r, now)
		if err != nil || fired {
			return r, err
		}
	}
	switch {
	case r.State == vane.RolloutRunning && !now.Before(r.NextAt):
		return e.step(ctx, r, now)
	case r.State == vane.RolloutBaking && !now.Before(r.NextAt):
		end(r, vane.RolloutCompleted, "", now)
		r.Updated = now
		if err := e.Rollouts.UpdateRollout(ctx, r); err != nil {
			return r, err
		}
		e.ended(r)
		e.auditAs(ctx, r, ActionUpdateRollout, "completed: baked "+time.Duration(*r.Spec.Bake).String()+" at "+formatShare(r.Share))
		e.logger().Info("rollout completed", "rollout", r.ID, "name", r.Name, "version", r.LastVersion)
	}
	return r, nil
}

// check checks r's monitors at now, records their state, and rolls r back
// when one fires. It reports whether one fired.
func (e *Engine) check(ctx context.Context, r *vane.Rollout, now time.Time) (bool, error) {
	results := make([]monitor.Result, len(r.Spec.Monitors))
	var wg sync.WaitGroup
	for i, m := range r.Spec.Monitors {
		wg.Go(func() { results[i] = e.Monitors.Check(ctx, r.ID+"/"+m.Name, r.Name, m) })
	}
	wg.Wait()
	var fired *vane.Monitor
	var firedDetail string
	for i, m := range r.Spec.Monitors {
		st := &r.Monitors[i]
		res := results[i]
		st.LastCheck, st.Detail = now, res.Detail
		switch {
		case res.Breach:
			st.State = vane.MonitorFired
		case res.Healthy:
			st.State, st.Failures = vane.MonitorOK, 0
		default:
			st.Failures++
			st.State = vane.MonitorFailing
			if st.Failures >= m.Failures {
				st.State = vane.MonitorFired
			}
		}
		if st.State == vane.MonitorFired && fired == nil {
			fired, firedDetail = &r.Spec.Monitors[i], res.Detail
		}
	}
	r.NextCheck = now.Add(time.Duration(r.Spec.CheckEvery))
	r.Updated = now
	if err := e.Rollouts.UpdateRollout(ctx, r); err != nil {
		return false, err
	}
	if fired == nil {
		return false, nil
	}
	reason := fmt.Sprintf("monitor %s (%s) fired: %s", fired.Name, fired.Kind, firedDetail)
	e.logger().Warn("rollout monitor fired; rolling back", "rollout", r.ID, "name", r.Name, "monitor", fired.Name, "detail", firedDetail)
	rctx := rolloutContext(ctx, r.ID)
	rb, err := e.rollBack(rctx, r.ID, reason, "monitor_"+fired.Kind)
	if err != nil {
		return true, err
	}
	if rb.State == vane.RolloutRolledBack {
		e.audit(rctx, rb, ActionUpdateRollout, "rolled back: "+reason)
	}
	*r = *rb
	return true, nil
}

// ReportInterval returns how often SDKs should report flag usage now:
// ReportIntervalDuringRollouts while an active rollout has an errors
// monitor (so its error rate is fed), else 0 (their own interval). The
// answer is cached for a few seconds, since SDKs ask with every report.
func (e *Engine) ReportInterval() time.Duration {
	e.reportMu.Lock()
	defer e.reportMu.Unlock()
	now := e.now()
	if !e.reportAt.IsZero() && now.Sub(e.reportAt) < reportIntervalCache && !now.Before(e.reportAt) {
		return e.reportEvery
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rs, err := e.active(ctx)
	if err != nil {
		return e.reportEvery
	}
	e.reportAt, e.reportEvery = now, 0
	for _, r := range rs {
		for _, m := range r.Spec.Monitors {
			if m.Kind == vane.MonitorErrors {
				e.reportEvery = ReportIntervalDuringRollouts
			}
		}
	}
	return e.reportEvery
}

// normalizeMonitor validates a monitor of a spec and fills in defaults.
func normalizeMonitor(m *vane.Monitor, i int) error {
	return monitor.Normalize(m, i)
}
