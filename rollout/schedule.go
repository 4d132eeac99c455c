package rollout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/metrics"
)

// Audit actions of scheduled changes.
const (
	ActionScheduleChange        = "vane:ScheduleChange"
	ActionCancelScheduledChange = "vane:CancelScheduledChange"
)

// LateAfter is how long after its time a scheduled change counts as late:
// it ran, but not on time, because no node was up (or able) to run it.
const LateAfter = 2 * time.Second

// MaxScheduleAhead bounds how far ahead a change may be scheduled.
const MaxScheduleAhead = 5 * 365 * 24 * time.Hour

// Scheduler keeps and runs scheduled changes: a put, a label move or the
// start of a rollout at a given time. Each runs once, on the node holding
// the "schedules" lease, late (and recorded as late) rather than never
// when no node was up at its time. A change that fails (the value no
// longer validates, the name was deleted, the version moved on when the
// schedule expected it not to) is recorded as failed with the reason and
// not retried; one that met an unavailable database is retried.
//
// Running once: the change is marked as started (compare-and-set) before
// it is made, and its write carries the principal schedule:ID; a node
// that finds a started change not marked done looks in the name's history
// for that principal before making it again.
type Scheduler struct {
	// Store is the checked write path (a guard.Store).
	Store     vane.Store
	Schedules vane.ScheduleStore
	// Rollouts starts the rollouts of rollout schedules.
	Rollouts *Engine
	Audit    vane.AuditLog
	Metrics  *metrics.Jobs
	Now      func() time.Time
	Logger   *slog.Logger
	// Wake, if set, is called when a change was scheduled, so the job
	// runner on this node plans its next tick again.
	Wake func()
	// NewID returns a new ID; nil means "sc-" and 12 random hex digits.
	NewID func() string
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func scheduleContext(ctx context.Context, id string) context.Context {
	p := vane.SchedulePrincipal(id)
	ctx = vane.NewContextWithPrincipal(ctx, p)
	return vane.NewContextWithRequest(ctx, vane.RequestInfo{Source: "vane", RequestID: p})
}

// Create schedules a change. It checks now what can be checked now (the
// name, the action's fields, a flag document's validity, a rollout spec)
// so that mistakes surface when scheduling rather than at the time.
// Errors: EINVALID naming the field.
func (s *Scheduler) Create(ctx context.Context, in *vane.Schedule) (*vane.Schedule, error) {
	sc := *in
	name, err := vane.ValidateName(sc.Name)
	if err != nil {
		return nil, err
	}
	sc.Name = name
	now := s.now()
	switch {
	case sc.At.IsZero():
		return nil, scheduleInvalidf("at, the time to make the change, is required (RFC 3339, such as 2026-12-24T18:00:00Z)")
	case !sc.At.After(now):
		return nil, scheduleInvalidf("at %s is not in the future (now is %s)", sc.At.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	case sc.At.Sub(now) > MaxScheduleAhead:
		return nil, scheduleInvalidf("at %s is more than five years ahead", sc.At.UTC().Format(time.RFC3339))
	}
	if err := s.checkAction(ctx, &sc); err != nil {
		return nil, err
	}
	if sc.ID == "" {
		sc.ID = randomID("sc-")
		if s.NewID != nil {
			sc.ID = s.NewID()
		}
	}
	sc.At = sc.At.UTC()
	sc.State, sc.Result, sc.Ran, sc.Late, sc.Started = vane.SchedulePending, "", time.Time{}, 0, time.Time{}
	sc.CreatedBy, sc.Created, sc.Updated = vane.PrincipalFromContext(ctx), now, now
	if err := s.Schedules.CreateSchedule(ctx, &sc); err != nil {
		return nil, err
	}
	s.audit(ctx, &sc, ActionScheduleChange, vane.AuditOK, "scheduled "+sc.Summary()+" at "+sc.At.Format(time.RFC3339))
	if s.Wake != nil {
		s.Wake()
	}
	return &sc, nil
}

// checkAction validates the action of a scheduled change.
func (s *Scheduler) checkAction(ctx context.Context, sc *vane.Schedule) error {
	putOnly := sc.Value != nil || sc.Type != "" || sc.Description != nil
	labelOnly := sc.Version != 0 || len(sc.Labels) > 0
	switch sc.Action {
	case vane.ScheduleActionPut:
		if sc.Value == nil {
			return scheduleInvalidf("value is required for a scheduled put")
		}
		if labelOnly || sc.Rollout != nil {
			return scheduleInvalidf("a scheduled put takes value, type, description and expect_version only")
		}
		if sc.Type == vane.TypeSecureString {
			return scheduleInvalidf("a SecureString cannot be scheduled: its value would wait in the schedule unencrypted")
		}
		if sc.Type != "" && !sc.Type.Valid() {
			return scheduleInvalidf("type %q is not String or StringList", sc.Type)
		}
		if cur, err := s.Store.Get(ctx, sc.Name); err == nil && cur.Type == vane.TypeSecureString {
			return scheduleInvalidf("%s is a SecureString: its value would wait in the schedule unencrypted", sc.Name)
		}
		return guard.CheckPut(&vane.PutInput{Name: sc.Name, Value: *sc.Value, Type: sc.Type})
	case vane.ScheduleActionLabel:
		if putOnly || sc.Rollout != nil {
			return scheduleInvalidf("a scheduled label move takes labels, version and expect_version only")
		}
		if len(sc.Labels) == 0 || len(sc.Labels) > vane.MaxLabelsPerRequest {
			return scheduleInvalidf("labels: give 1 to %d labels to move", vane.MaxLabelsPerRequest)
		}
		for _, l := range sc.Labels {
			if !vane.ValidLabel(l) {
				return scheduleInvalidf("label %q breaks the label rules: 1 to 100 letters, digits, '.', '_' and '-', not beginning with a digit, aws or ssm", l)
			}
		}
		if sc.Version < 0 {
			return scheduleInvalidf("version %d: give a version number, or 0 for the latest when the change runs", sc.Version)
		}
	case vane.ScheduleActionRollout:
		if putOnly || labelOnly {
			return scheduleInvalidf("a scheduled rollout takes rollout (the spec) and expect_version only")
		}
		if sc.Rollout == nil {
			return scheduleInvalidf("rollout, the spec of the rollout to start, is required")
		}
		spec := *sc.Rollout
		if err := checkSpec(&spec); err != nil {
			return err
		}
		sc.Rollout = &spec
	case "":
		return scheduleInvalidf("action is required: put, label or rollout")
	default:
		return scheduleInvalidf("action %q is not put, label or rollout", sc.Action)
	}
	return nil
}

func scheduleInvalidf(format string, args ...any) error {
	return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "schedule: %s", fmt.Sprintf(format, args...))
}

// Get returns a scheduled change by ID.
func (s *Scheduler) Get(ctx context.Context, id string) (*vane.Schedule, error) {
	return s.Schedules.Schedule(ctx, id)
}

// List lists scheduled changes by time.
func (s *Scheduler) List(ctx context.Context, q *vane.ScheduleQuery) (*vane.SchedulePage, error) {
	return s.Schedules.Schedules(ctx, q)
}

// Cancel cancels a pending scheduled change. Errors: ENOTFOUND, ECONFLICT
// when it already ran or was cancelled.
func (s *Scheduler) Cancel(ctx context.Context, id string) (*vane.Schedule, error) {
	for range maxRetries {
		sc, err := s.Schedules.Schedule(ctx, id)
		if err != nil {
			return nil, err
		}
		if sc.State != vane.SchedulePending || !sc.Started.IsZero() {
			return nil, vane.Errorf(vane.ECONFLICT, "cannot cancel scheduled change %s: it is %s", id, stateText(sc))
		}
		now := s.now()
		sc.State, sc.Result, sc.Updated = vane.ScheduleCancelled, "cancelled by "+vane.PrincipalFromContext(ctx), now
		err = s.Schedules.UpdateSchedule(ctx, sc)
		if vane.ErrorCode(err) == vane.ECONFLICT {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.audit(ctx, sc, ActionCancelScheduledChange, vane.AuditOK, "cancelled "+sc.Summary())
		return sc, nil
	}
	return nil, vane.Errorf(vane.EUNAVAILABLE, "scheduled change %s kept changing; try again", id)
}

func stateText(sc *vane.Schedule) string {
	if sc.State == vane.SchedulePending && !sc.Started.IsZero() {
		return "running"
	}
	return string(sc.State)
}

// Changes implements job.Job; scheduled changes need nothing from the
// change log.
func (s *Scheduler) Changes(context.Context, []vane.Change) error { return nil }

// Tick runs the changes due at now, earliest first, and returns when the
// next one is due.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	var errs []error
	for {
		page, err := s.Schedules.Schedules(ctx, &vane.ScheduleQuery{State: vane.SchedulePending, DueBy: now, Limit: 100})
		if err != nil {
			return time.Time{}, err
		}
		ran := 0
		for _, sc := range page.Schedules {
			if err := s.run(ctx, sc, now); err != nil {
				errs = append(errs, fmt.Errorf("scheduled change %s: %w", sc.ID, err))
				continue
			}
			ran++
		}
		if page.NextToken == "" || ran == 0 {
			break
		}
	}
	next, err := s.Schedules.Schedules(ctx, &vane.ScheduleQuery{State: vane.SchedulePending, Limit: 1})
	if err != nil {
		return time.Time{}, err
	}
	var at time.Time
	if len(next.Schedules) > 0 {
		at = next.Schedules[0].At
		if len(errs) > 0 && at.Before(now.Add(time.Second)) {
			at = now.Add(time.Second)
		}
	}
	return at, errors.Join(errs...)
}

// run makes one due change and records its outcome. It returns an error
// only for a failure worth retrying (an unavailable database).
func (s *Scheduler) run(ctx context.Context, sc *vane.Schedule, now time.Time) error {
	wctx := scheduleContext(ctx, sc.ID)
	if !sc.Started.IsZero() {
		// An earlier attempt was cut short: it may have made the change.
		if done, result, err := s.madeBefore(ctx, sc); err != nil {
			return err
		} else if done {
			return s.finish(ctx, sc, vane.ScheduleDone, result, now)
		}
	} else {
		sc.Started, sc.Updated = now, now
		if err := s.Schedules.UpdateSchedule(ctx, sc); err != nil {
			return err
		}
	}
	result, err := s.make(wctx, sc)
	switch vane.ErrorCode(err) {
	case "":
		return s.finish(ctx, sc, vane.ScheduleDone, result, now)
	case vane.EUNAVAILABLE, vane.EINTERNAL:
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return err
		}
		if vane.ErrorCode(err) == vane.EUNAVAILABLE {
			return err
		}
	}
	return s.finish(ctx, sc, vane.ScheduleFailed, vane.ErrorMessage(err), now)
}

// make makes the change of sc in the context of its principal.
func (s *Scheduler) make(ctx context.Context, sc *vane.Schedule) (string, error) {
	cur, err := s.Store.Get(ctx, sc.Name)
	exists := err == nil
	if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
		return "", err
	}
	if sc.ExpectVersion != nil {
		have := int64(0)
		if exists {
			have = cur.Version
		}
		if have != *sc.ExpectVersion {
			return "", vane.Errorf(vane.ECONFLICT, "the schedule expected %s at version %d, but it is at version %d", sc.Name, *sc.ExpectVersion, have)
		}
	}
	switch sc.Action {
	case vane.ScheduleActionPut:
		in := &vane.PutInput{Name: sc.Name, Value: *sc.Value, Type: sc.Type, Description: sc.Description, Overwrite: true}
		if !exists && in.Type == "" {
			in.Type = vane.TypeString
		}
		if exists {
			v := cur.Version
			in.ExpectVersion = &v
		}
		p, err := s.Store.Put(ctx, in)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("put version %d", p.Version), nil
	case vane.ScheduleActionLabel:
		if !exists {
			return "", vane.NotFoundError(sc.Name)
		}
		res, err := s.Store.Label(ctx, &vane.LabelInput{Name: sc.Name, Version: sc.Version, Labels: sc.Labels})
		if err != nil {
			return "", err
		}
		if len(res.InvalidLabels) > 0 {
			return "", vane.Errorf(vane.EINVALID, "labels %v could not be moved to version %d", res.InvalidLabels, res.Version)
		}
		return fmt.Sprintf("labelled version %d %v", res.Version, sc.Labels), nil
	case vane.ScheduleActionRollout:
		r, err := s.Rollouts.Start(ctx, sc.Name, *sc.Rollout)
		if err != nil {
			return "", err
		}
		return "started rollout " + r.ID, nil
	}
	return "", vane.Errorf(vane.EINVALID, "unknown action %q", sc.Action)
}

// madeBefore reports whether an interrupted attempt made sc's change:
// a version of the name written by its principal, or a rollout it started.
// A label move is made again: moving labels twice is the same as once.
func (s *Scheduler) madeBefore(ctx context.Context, sc *vane.Schedule) (bool, string, error) {
	principal := vane.SchedulePrincipal(sc.ID)
	switch sc.Action {
	case vane.ScheduleActionPut:
		in := &vane.HistoryInput{Name: sc.Name, Limit: vane.MaxPageSize}
		for {
			page, err := s.Store.History(ctx, in)
			if vane.ErrorCode(err) == vane.ENOTFOUND {
				return false, "", nil
			}
			if err != nil {
				return false, "", err
			}
			if i := slices.IndexFunc(page.Parameters, func(p *vane.Parameter) bool { return p.LastModifiedUser == principal }); i >= 0 {
				return true, fmt.Sprintf("put version %d", page.Parameters[i].Version), nil
			}
			if page.NextToken == "" {
				return false, "", nil
			}
			in.NextToken = page.NextToken
		}
	case vane.ScheduleActionRollout:
		page, err := s.Rollouts.List(ctx, &vane.RolloutQuery{Prefix: sc.Name, Limit: vane.MaxPageSize})
		if err != nil {
			return false, "", err
		}
		for _, r := range page.Rollouts {
			if r.Name == sc.Name && r.CreatedBy == principal {
				return true, "started rollout " + r.ID, nil
			}
		}
	}
	return false, "", nil
}

// finish records the outcome of a change that ran at now.
func (s *Scheduler) finish(ctx context.Context, sc *vane.Schedule, state vane.ScheduleState, result string, now time.Time) error {
	sc.State, sc.Result, sc.Ran, sc.Updated = state, result, now, now
	lag := now.Sub(sc.At)
	if lag > LateAfter {
		sc.Late = vane.Duration(lag)
		sc.Result += fmt.Sprintf(" (ran %s late: no node ran it at its time)", lag.Round(100*time.Millisecond))
	}
	if err := s.Schedules.UpdateSchedule(ctx, sc); err != nil {
		return err
	}
	s.Metrics.ScheduleRan(string(state), lag)
	level, auditResult := slog.LevelInfo, vane.AuditOK
	if state == vane.ScheduleFailed {
		level, auditResult = slog.LevelWarn, "failed"
	}
	s.audit(scheduleContext(ctx, sc.ID), sc, ActionScheduleChange, auditResult, string(state)+": "+sc.Summary()+": "+sc.Result)
	s.logger().Log(ctx, level, "scheduled change ran", "schedule", sc.ID, "name", sc.Name, "state", state, "result", sc.Result)
	return nil
}

// audit records an event of a scheduled change.
func (s *Scheduler) audit(ctx context.Context, sc *vane.Schedule, action, result, detail string) {
	if s.Audit == nil {
		return
	}
	req := vane.RequestFromContext(ctx)
	entry := vane.AuditEntry{Time: s.now(), Principal: vane.PrincipalFromContext(ctx), Source: req.Source, RequestID: req.RequestID,
		Action: action, Name: sc.Name, Result: result, Detail: "schedule " + sc.ID + ": " + detail}
	if err := s.Audit.AppendAudit(context.WithoutCancel(ctx), []vane.AuditEntry{entry}); err != nil {
		s.logger().Error("audit schedule", "schedule", sc.ID, "error", err.Error())
	}
}
