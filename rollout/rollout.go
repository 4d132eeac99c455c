// Package rollout runs staged rollouts and scheduled changes: the
// background jobs that change parameters over time, without an HTTP
// request, through the same checked write path as the API (package guard).
//
// # Rollouts
//
// A rollout takes one parameter from its current value to a new one. For
// a flag it steps a rollout_percentage (the flag's own, or one rule's)
// from the share the flag serves now up to a target share, following a
// strategy (all at once, linear, exponential, canary, or a list of
// steps: see Plan); any other parameter gets its new value at once, since
// SDK clients have no percentage of their own for plain values. Every
// rollout then bakes: its monitors (package monitor) keep watching for
// the bake time before it completes. A monitor that fires at any point
// rolls the parameter back to its value from before the rollout.
//
// Each step is an ordinary versioned write made by the principal
// rollout:ID, so history, audit, watch streams, SDKs and webhooks see it.
// A write by anyone else (a person, a script, a scheduled change) stops
// the rollout where it stands: the person wins. The Engine notices such
// writes in two ways: as a consumer of the change log (Changes, under the
// job runner's durable cursor), and because its own writes are
// compare-and-set on the version it wrote last, so a step can never
// overwrite a write it has not seen.
//
// # Durability and several nodes
//
// A rollout is a record in the store (vane.RolloutStore) changed only by
// compare-and-set on its revision. A step is recorded as pending before
// it is written (vane.RolloutWrite) and settled after, so a node that
// dies between the two leaves enough behind for the next to finish the
// record or make the write. The timed work (steps coming due, bakes
// ending, monitor checks) runs on the one node holding the "rollouts"
// lease (package job); the operations people call (start, pause, resume,
// cancel, roll back, complete) run on whichever node serves the request,
// safely beside it, since both sides change records by compare-and-set
// and retry on conflict.
package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/metrics"
	"github.com/vanehq/vane/monitor"
)

// Audit actions of rollouts, named as the IAM actions that allow them.
const (
	ActionStartRollout  = "vane:StartRollout"
	ActionUpdateRollout = "vane:UpdateRollout"
)

// Write actions of a rollout (vane.RolloutWrite.Action).
const (
	writeStep     = "step"
	writeRollback = "rollback"
	writeComplete = "complete"
)

// maxRetries bounds the retries of an operation that lost a
// compare-and-set race.
const maxRetries = 5

// Engine starts, controls and drives rollouts. Set its fields before use;
// it is safe for concurrent use. Its Changes and Tick make it a job.Job.
type Engine struct {
	// Store is the checked write path (a guard.Store) that steps and
	// roll backs write through.
	Store    vane.Store
	Rollouts vane.RolloutStore
	// Audit, if set, records operations and the rollouts' own decisions
	// (a monitor firing, a stop); the writes themselves are audited by
	// the store.
	Audit vane.AuditLog
	// Monitors checks monitors; nil refuses rollouts that have any.
	Monitors *monitor.Checker
	// Metrics, if set, counts steps, roll backs and ends.
	Metrics *metrics.Jobs
	// Now returns the current time; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Wake, if set, is called when an operation changed what the driving
	// node should do next (a rollout started, paused or resumed), so the
	// job runner on this node looks again at once.
	Wake func()
	// NewID returns a new rollout ID; nil means "ro-" and 12 random hex
	// digits.
	NewID func() string

	reportMu    sync.Mutex
	reportAt    time.Time     // when reportEvery was computed
	reportEvery time.Duration // see ReportInterval
}

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now().UTC()
	}
	return e.Now().UTC()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e *Engine) newID() string {
	if e.NewID != nil {
		return e.NewID()
	}
	return randomID("ro-")
}

// randomID returns prefix and 12 random hex digits.
func randomID(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (e *Engine) wake() {
	if e.Wake != nil {
		e.Wake()
	}
}

// rolloutContext is the context of the writes a rollout makes: its own
// principal, and its ID as the request ID in the audit history.
func rolloutContext(ctx context.Context, id string) context.Context {
	p := vane.RolloutPrincipal(id)
	ctx = vane.NewContextWithPrincipal(ctx, p)
	return vane.NewContextWithRequest(ctx, vane.RequestInfo{Source: "vane", RequestID: p})
}

// Start starts a rollout of name and takes its first step at once. The
// caller's principal (in ctx) is recorded as its creator. Errors: EINVALID
// for a spec that does not apply (naming the field), ENOTFOUND when name
// does not exist, ECONFLICT (RolloutInProgress) when name has an active
// rollout, and what the first write returns.
func (e *Engine) Start(ctx context.Context, name string, spec vane.RolloutSpec) (*vane.Rollout, error) {
	if _, err := vane.ValidateName(name); err != nil {
		return nil, err
	}
	if err := checkSpec(&spec); err != nil {
		return nil, err
	}
	if len(spec.Monitors) > 0 && e.Monitors == nil {
		return nil, vane.Errorf(vane.EUNAVAILABLE, "this server does not check monitors")
	}
	cur, err := e.Store.Get(ctx, name)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return nil, vane.DetailErrorf(vane.ENOTFOUND, vane.DetailParameterNotFound, "rollout: %s does not exist: create it first (a flag switched off, or the current value)", name)
	}
	if err != nil {
		return nil, err
	}
	if cur.Type == vane.TypeSecureString {
		return nil, invalidf("%s is a SecureString: rollouts would keep its values in the rollout's record, so they are not offered for secrets", name)
	}
	now := e.now()
	r := &vane.Rollout{
		ID: e.newID(), Name: cur.Name, Spec: spec, State: vane.RolloutRunning,
		BaseVersion: cur.Version, BaseValue: cur.Value, BaseType: cur.Type, LastVersion: cur.Version,
		CreatedBy: vane.PrincipalFromContext(ctx), Created: now, Updated: now, NextAt: now,
	}
	if err := e.plan(r, cur); err != nil {
		return nil, err
	}
	for _, m := range spec.Monitors {
		r.Monitors = append(r.Monitors, vane.MonitorStatus{Name: m.Name, State: vane.MonitorPending})
	}
	if len(spec.Monitors) > 0 {
		r.NextCheck = now
	}
	if err := e.Rollouts.CreateRollout(ctx, r); err != nil {
		return nil, err
	}
	e.audit(ctx, r, ActionStartRollout, fmt.Sprintf("%s rollout of %s: %s", spec.Strategy, r.Kind, planText(r)))
	e.logger().Info("rollout started", "rollout", r.ID, "name", r.Name, "strategy", spec.Strategy, "plan", planText(r))
	id := r.ID
	r, err = e.step(ctx, r, now)
	if vane.ErrorCode(err) == vane.ECONFLICT {
		// The node driving rollouts took the first step meanwhile.
		r, err = e.Rollouts.Rollout(ctx, id)
	}
	e.wake()
	return r, err
}

// plan fills in the kind, the target value and the plan of a new rollout
// of the parameter cur.
func (e *Engine) plan(r *vane.Rollout, cur *vane.Parameter) error {
	spec := &r.Spec
	if !flag.IsFlagName(cur.Name) {
		r.Kind = vane.RolloutValue
		switch {
		case spec.Value == nil:
			return invalidf("value is required: the new value of %s", cur.Name)
		case spec.Strategy != vane.StrategyAllAtOnce:
			return invalidf("%s is not a flag, so it has no percentage to step: its rollout writes the new value at once and bakes (strategy all-at-once)", cur.Name)
		case spec.Target != nil || spec.Rule != "":
			return invalidf("target and rule apply to flags only; %s is not a flag", cur.Name)
		}
		r.Target, r.Plan, r.StartShare = *spec.Value, []float64{100}, 0
		return guard.CheckPut(&vane.PutInput{Name: cur.Name, Value: r.Target, Type: cur.Type})
	}
	r.Kind = vane.RolloutFlag
	r.Target = cur.Value
	if spec.Value != nil {
		if _, err := flag.Parse(cur.Name, *spec.Value); err != nil {
			return invalidf("value: %v", err)
		}
		r.Target = *spec.Value
	}
	start, err := flag.Share(cur.Value, spec.Rule)
	if err != nil {
		return invalidf("the current value of %s: %v", cur.Name, err)
	}
	target := 100.0
	if spec.Target != nil {
		target = *spec.Target
	}
	if r.Plan, err = Plan(spec, start, target); err != nil {
		return err
	}
	r.StartShare, r.Share = start, start
	// The first step must be writable now; later steps differ only in
	// the share.
	first, err := flag.WithRollout(r.Target, spec.Rule, r.Plan[0])
	if err != nil {
		return invalidf("%v", err)
	}
	return guard.CheckPut(&vane.PutInput{Name: cur.Name, Value: first, Type: cur.Type})
}

// planText describes a rollout's plan for logs and the audit history.
func planText(r *vane.Rollout) string {
	if r.Kind == vane.RolloutValue {
		return "new value, bake " + time.Duration(*r.Spec.Bake).String()
	}
	shares := make([]string, len(r.Plan))
	for i, p := range r.Plan {
		shares[i] = formatShare(p)
	}
	s := formatShare(r.StartShare) + " → " + strings.Join(shares, ", ")
	if r.Spec.Rule != "" {
		s = "rule " + r.Spec.Rule + " " + s
	}
	if len(r.Plan) > 1 {
		s += " every " + time.Duration(r.Spec.Every).String()
	}
	return s + ", bake " + time.Duration(*r.Spec.Bake).String()
}

// Rollout returns a rollout by ID.
func (e *Engine) Rollout(ctx context.Context, id string) (*vane.Rollout, error) {
	return e.Rollouts.Rollout(ctx, id)
}

// List lists rollouts, newest first.
func (e *Engine) List(ctx context.Context, q *vane.RolloutQuery) (*vane.RolloutPage, error) {
	return e.Rollouts.Rollouts(ctx, q)
}

// Pause stops a running or baking rollout from taking further steps (or
// from completing) until Resume; its monitors still watch. Errors:
// ENOTFOUND, ECONFLICT when it is not running or baking.
func (e *Engine) Pause(ctx context.Context, id string) (*vane.Rollout, error) {
	return e.update(ctx, id, "pause", func(r *vane.Rollout, now time.Time) error {
		if r.State != vane.RolloutRunning && r.State != vane.RolloutBaking {
			return stateError(r, "pause", "running or baking")
		}
		r.PausedState, r.State = r.State, vane.RolloutPaused
		r.Remaining, r.NextAt = vane.Duration(max(0, r.NextAt.Sub(now)).Round(time.Millisecond)), time.Time{}
		return nil
	})
}

// Resume resumes a paused rollout: its next step (or the end of its bake)
// comes as long after now as was left when it was paused. Errors:
// ENOTFOUND, ECONFLICT when it is not paused.
func (e *Engine) Resume(ctx context.Context, id string) (*vane.Rollout, error) {
	return e.update(ctx, id, "resume", func(r *vane.Rollout, now time.Time) error {
		if r.State != vane.RolloutPaused {
			return stateError(r, "resume", "paused")
		}
		r.State, r.PausedState = r.PausedState, ""
		r.NextAt, r.Remaining = now.Add(time.Duration(r.Remaining)), 0
		return nil
	})
}

// Cancel ends an active rollout where it stands: the parameter keeps its
// current value. Errors: ENOTFOUND, ECONFLICT when it is not active.
func (e *Engine) Cancel(ctx context.Context, id string) (*vane.Rollout, error) {
	who := vane.PrincipalFromContext(ctx)
	return e.update(ctx, id, "cancel", func(r *vane.Rollout, now time.Time) error {
		if !r.State.Active() {
			return stateError(r, "cancel", "active")
		}
		reason := "cancelled by " + who
		if r.Kind == vane.RolloutFlag {
			reason += " at " + formatShare(r.Share)
		}
		end(r, vane.RolloutCancelled, reason, now)
		return nil
	})
}

// update applies change to a rollout by compare-and-set, retrying when
// another node changed it first, and audits it.
func (e *Engine) update(ctx context.Context, id, what string, change func(r *vane.Rollout, now time.Time) error) (*vane.Rollout, error) {
	for range maxRetries {
		r, err := e.load(ctx, id)
		if err != nil {
			return nil, err
		}
		now := e.now()
		if err := change(r, now); err != nil {
			return nil, err
		}
		r.Updated = now
		err = e.Rollouts.UpdateRollout(ctx, r)
		if vane.ErrorCode(err) == vane.ECONFLICT {
			continue
		}
		if err != nil {
			return nil, err
		}
		e.ended(r)
		e.audit(ctx, r, ActionUpdateRollout, what)
		e.logger().Info("rollout "+what, "rollout", r.ID, "name", r.Name, "state", r.State)
		e.wake()
		return r, nil
	}
	return nil, vane.Errorf(vane.EUNAVAILABLE, "rollout %s kept changing; try again", id)
}

// load reads a rollout and settles a write left pending.
func (e *Engine) load(ctx context.Context, id string) (*vane.Rollout, error) {
	r, err := e.Rollouts.Rollout(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Pending != nil {
		return e.settle(ctx, r)
	}
	return r, nil
}

func stateError(r *vane.Rollout, op, want string) error {
	return vane.Errorf(vane.ECONFLICT, "cannot %s rollout %s: it is %s, not %s", op, r.ID, r.State, want)
}

// end moves a rollout to a final state.
func end(r *vane.Rollout, state vane.RolloutState, reason string, now time.Time) {
	r.State, r.Reason, r.Ended = state, reason, now
	r.NextAt, r.NextCheck, r.Remaining, r.PausedState = time.Time{}, time.Time{}, 0, ""
}

// ended counts a rollout that reached its final state and drops what its
// monitors kept.
func (e *Engine) ended(r *vane.Rollout) {
	if r.State.Active() {
		return
	}
	e.Metrics.RolloutEnded(string(r.State))
	if e.Monitors != nil {
		e.Monitors.Forget(r.ID + "/")
	}
}

// RollBack writes the parameter's value from before the rollout as a new
// version and ends the rollout rolled back. An active rollout can always
// be rolled back; an ended one only while nobody has written the name
// since (a completed or cancelled rollout undone later). Errors:
// ENOTFOUND, ECONFLICT.
func (e *Engine) RollBack(ctx context.Context, id string) (*vane.Rollout, error) {
	reason := "rolled back by " + vane.PrincipalFromContext(ctx)
	r, err := e.rollBack(ctx, id, reason, "request")
	if err == nil {
		e.audit(ctx, r, ActionUpdateRollout, "rollback")
	}
	return r, err
}

func (e *Engine) rollBack(ctx context.Context, id, reason, metric string) (*vane.Rollout, error) {
	for range maxRetries {
		r, err := e.load(ctx, id)
		if err != nil {
			return nil, err
		}
		switch r.State {
		case vane.RolloutRolledBack:
			return nil, vane.Errorf(vane.ECONFLICT, "cannot roll back rollout %s: it was rolled back already (%s)", r.ID, r.Reason)
		case vane.RolloutStopped:
			return nil, vane.Errorf(vane.ECONFLICT, "cannot roll back rollout %s: %s; write the value you want instead", r.ID, r.Reason)
		}
		if !r.State.Active() {
			cur, err := e.Store.Get(ctx, r.Name)
			if err != nil {
				return nil, err
			}
			if cur.Version != r.LastVersion {
				return nil, vane.Errorf(vane.ECONFLICT, "cannot roll back rollout %s: %s has changed since (version %d, by %s); write the value you want instead",
					r.ID, r.Name, cur.Version, cur.LastModifiedUser)
			}
		}
		w := &vane.RolloutWrite{Action: writeRollback, Version: r.LastVersion + 1, Value: r.BaseValue, Type: r.BaseType,
			State: vane.RolloutRolledBack, Step: r.Step, Share: r.StartShare, Reason: reason}
		r, err = e.write(ctx, r, w)
		if vane.ErrorCode(err) == vane.ECONFLICT && r == nil {
			continue
		}
		if err == nil && r.State == vane.RolloutRolledBack {
			e.Metrics.RolloutRollback(metric)
		}
		return r, err
	}
	return nil, vane.Errorf(vane.EUNAVAILABLE, "rollout %s kept changing; try again", id)
}

// Complete takes an active rollout to its target at once (the last step,
// if it is not there yet) and ends it completed, skipping the rest of its
// plan and its bake. Errors: ENOTFOUND, ECONFLICT when it is not active.
func (e *Engine) Complete(ctx context.Context, id string) (*vane.Rollout, error) {
	who := vane.PrincipalFromContext(ctx)
	for range maxRetries {
		r, err := e.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if !r.State.Active() {
			return nil, stateError(r, "complete", "active")
		}
		reason := "completed early by " + who
		if r.Step == len(r.Plan) {
			r, err = e.update(ctx, id, "complete", func(r *vane.Rollout, now time.Time) error {
				if !r.State.Active() {
					return stateError(r, "complete", "active")
				}
				end(r, vane.RolloutCompleted, reason, now)
				return nil
			})
			return r, err
		}
		value, err := e.stepValue(r, len(r.Plan)-1)
		if err != nil {
			return nil, err
		}
		w := &vane.RolloutWrite{Action: writeComplete, Version: r.LastVersion + 1, Value: value,
			State: vane.RolloutCompleted, Step: len(r.Plan), Share: r.Plan[len(r.Plan)-1], Reason: reason}
		r, err = e.write(ctx, r, w)
		if vane.ErrorCode(err) == vane.ECONFLICT && r == nil {
			continue
		}
		if err == nil {
			e.audit(ctx, r, ActionUpdateRollout, "complete")
		}
		return r, err
	}
	return nil, vane.Errorf(vane.EUNAVAILABLE, "rollout %s kept changing; try again", id)
}

// stepValue is the value step i (0-based) of r writes.
func (e *Engine) stepValue(r *vane.Rollout, i int) (string, error) {
	if r.Kind == vane.RolloutValue {
		return r.Target, nil
	}
	return flag.WithRollout(r.Target, r.Spec.Rule, r.Plan[i])
}

// step takes the next step of a running rollout at now: a write of the
// next share, after which the rollout runs on (the next step Every from
// now) or, after the last, bakes.
func (e *Engine) step(ctx context.Context, r *vane.Rollout, now time.Time) (*vane.Rollout, error) {
	i := r.Step
	value, err := e.stepValue(r, i)
	if err != nil {
		end(r, vane.RolloutFailed, fmt.Sprintf("step %d (%s) could not be made: %v", i+1, formatShare(r.Plan[i]), err), now)
		r.Updated = now
		if uerr := e.Rollouts.UpdateRollout(ctx, r); uerr != nil {
			return nil, uerr
		}
		e.ended(r)
		return r, nil
	}
	w := &vane.RolloutWrite{Action: writeStep, Version: r.LastVersion + 1, Value: value,
		State: vane.RolloutRunning, Step: i + 1, Share: r.Plan[i], NextAt: now.Add(time.Duration(r.Spec.Every))}
	if i == len(r.Plan)-1 {
		w.State, w.NextAt = vane.RolloutBaking, now.Add(time.Duration(*r.Spec.Bake))
	}
	return e.write(ctx, r, w)
}

// write makes a rollout's write: it records w as pending (compare-and-set),
// writes the value, and settles. A nil rollout with an ECONFLICT error
// means the record changed first: the caller reads it again.
func (e *Engine) write(ctx context.Context, r *vane.Rollout, w *vane.RolloutWrite) (*vane.Rollout, error) {
	r.Pending = w
	r.Updated = e.now()
	if err := e.Rollouts.UpdateRollout(ctx, r); err != nil {
		return nil, err
	}
	return e.settle(ctx, r)
}

// settle makes or finishes r's pending write and applies its outcome:
// the write is made with the version r wrote last as the expected one,
// so it happens once whoever settles, and a write by anyone else since
// stops the rollout.
func (e *Engine) settle(ctx context.Context, r *vane.Rollout) (*vane.Rollout, error) {
	w := r.Pending
	principal := vane.RolloutPrincipal(r.ID)
	expect := r.LastVersion
	_, err := e.Store.Put(rolloutContext(ctx, r.ID), &vane.PutInput{Name: r.Name, Value: w.Value, Type: w.Type, Overwrite: true, ExpectVersion: &expect})
	now := e.now()
	switch vane.ErrorCode(err) {
	case "":
	case vane.ECONFLICT, vane.ENOTFOUND:
		cur, gerr := e.Store.Get(ctx, r.Name)
		switch {
		case gerr == nil && cur.Version == w.Version && cur.LastModifiedUser == principal:
			// Another node (or an earlier attempt) made this write.
		case gerr == nil:
			stop(r, fmt.Sprintf("%s wrote version %d of %s", cur.LastModifiedUser, cur.Version, r.Name), now)
		case vane.ErrorCode(gerr) == vane.ENOTFOUND:
			stop(r, r.Name+" was deleted", now)
		default:
			return nil, gerr
		}
	case vane.EINVALID, vane.ETOOLARGE, vane.ELIMIT, vane.EFORBIDDEN:
		r.Pending = nil
		end(r, vane.RolloutFailed, fmt.Sprintf("the %s write was refused: %s", w.Action, vane.ErrorMessage(err)), now)
	default:
		// Unavailable: the pending write stays for the next attempt.
		return nil, err
	}
	if r.Pending != nil {
		r.LastVersion, r.State, r.Step, r.Share, r.NextAt = w.Version, w.State, w.Step, w.Share, w.NextAt
		if !w.State.Active() {
			end(r, w.State, w.Reason, now)
		}
		r.Pending = nil
	}
	r.Updated = now
	if err := e.Rollouts.UpdateRollout(ctx, r); err != nil {
		if vane.ErrorCode(err) != vane.ECONFLICT {
			return nil, err
		}
		// Another node settled it first; its record is the truth.
		return e.Rollouts.Rollout(ctx, r.ID)
	}
	if w.Action == writeStep || w.Action == writeComplete {
		if r.LastVersion == w.Version {
			e.Metrics.RolloutStep()
		}
	}
	e.ended(r)
	if r.State == vane.RolloutStopped || r.State == vane.RolloutFailed {
		e.auditAs(ctx, r, ActionUpdateRollout, string(r.State)+": "+r.Reason)
	}
	e.logger().Info("rollout "+w.Action, "rollout", r.ID, "name", r.Name, "version", r.LastVersion, "share", r.Share, "state", r.State)
	return r, nil
}

// stop ends a rollout stopped because someone else wrote the name.
func stop(r *vane.Rollout, why string, now time.Time) {
	r.Pending = nil
	end(r, vane.RolloutStopped, why+": a write by anyone but the rollout stops it where it stands", now)
}

// audit records an operation on r by the caller in ctx.
func (e *Engine) audit(ctx context.Context, r *vane.Rollout, action, detail string) {
	if e.Audit == nil {
		return
	}
	req := vane.RequestFromContext(ctx)
	entry := vane.AuditEntry{Time: e.now(), Principal: vane.PrincipalFromContext(ctx), Source: req.Source, RequestID: req.RequestID,
		Action: action, Name: r.Name, OldVersion: r.BaseVersion, NewVersion: r.LastVersion, Result: vane.AuditOK,
		Detail: "rollout " + r.ID + ": " + detail}
	if err := e.Audit.AppendAudit(context.WithoutCancel(ctx), []vane.AuditEntry{entry}); err != nil {
		e.logger().Error("audit rollout", "rollout", r.ID, "error", err.Error())
	}
}

// auditAs records a decision the rollout made itself, as its principal.
func (e *Engine) auditAs(ctx context.Context, r *vane.Rollout, action, detail string) {
	e.audit(rolloutContext(ctx, r.ID), r, action, detail)
}
