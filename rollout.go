package vane

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// RolloutState is where a rollout stands.
type RolloutState string

// Rollout states. Running, baking and paused rollouts are active: a name
// has at most one active rollout.
const (
	// RolloutRunning: stepping towards the target share.
	RolloutRunning RolloutState = "running"
	// RolloutBaking: at the target, its monitors watching until the bake
	// time ends.
	RolloutBaking RolloutState = "baking"
	// RolloutPaused: no step is taken until it is resumed; monitors
	// still watch, since the change is live.
	RolloutPaused RolloutState = "paused"
	// RolloutCompleted: the target was reached and baked (or completed
	// on request).
	RolloutCompleted RolloutState = "completed"
	// RolloutCancelled: stopped on request where it stood.
	RolloutCancelled RolloutState = "cancelled"
	// RolloutRolledBack: the name was returned to its value from before
	// the rollout, on request or because a monitor fired.
	RolloutRolledBack RolloutState = "rolled_back"
	// RolloutStopped: another writer changed or deleted the name, and
	// the rollout stopped where it stood (the person wins).
	RolloutStopped RolloutState = "stopped"
	// RolloutFailed: a step could not be written (the document no
	// longer validates, for example); it stopped where it stood.
	RolloutFailed RolloutState = "failed"
)

// Active reports whether a rollout in state s may still write.
func (s RolloutState) Active() bool {
	return s == RolloutRunning || s == RolloutBaking || s == RolloutPaused
}

// Rollout strategies.
const (
	StrategyAllAtOnce   = "all-at-once" // the target share at once, then the bake
	StrategyLinear      = "linear"      // Step more every Every
	StrategyExponential = "exponential" // Step, then × Factor every Every
	StrategyCanary      = "canary"      // Step, Every later the target
	StrategySteps       = "steps"       // the shares of Steps, one every Every
)

// Monitor kinds.
const (
	MonitorHTTP       = "http"       // a URL must answer 2xx
	MonitorPrometheus = "prometheus" // a PromQL query must stay under a threshold
	MonitorErrors     = "errors"     // the flag's evaluation error rate must stay under a threshold
)

// Duration is a time.Duration written in JSON as a Go duration string
// ("5m", "1h30m"). It also accepts a number of seconds.
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("a duration must be a string such as \"5m\" or a number of seconds")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s, 5m or 1h30m", s)
	}
	*d = Duration(v)
	return nil
}

// Monitor is a health signal watched while a rollout runs and bakes; when
// it fires, the rollout is rolled back.
type Monitor struct {
	// Name identifies the monitor in the rollout's status and in the
	// reason of a rollback; default: the kind and its position.
	Name string `json:"name,omitempty"`
	Kind string `json:"kind"`
	// URL is the address an http monitor calls (GET), or the base URL
	// of a Prometheus-compatible API (the query goes to URL/api/v1/query).
	URL string `json:"url,omitempty"`
	// Query is a prometheus monitor's PromQL expression.
	Query string `json:"query,omitempty"`
	// Threshold: a prometheus monitor fires when a result exceeds it (or,
	// without one, when the query returns anything); an errors monitor
	// fires when the share of evaluations that erred, from 0 to 1,
	// exceeds it.
	Threshold *float64 `json:"threshold,omitempty"`
	// Failures is how many checks in a row must fail for the monitor to
	// fire: an http check that is not answered 2xx, a query Prometheus
	// does not answer, usage counts that cannot be read. A breach (a
	// query result or an error rate over the threshold) fires at once.
	Failures int `json:"failures,omitempty"`
	// Timeout bounds one check.
	Timeout Duration `json:"timeout,omitempty"`
	// Window is the span an errors monitor computes its rate over.
	Window Duration `json:"window,omitempty"`
	// MinEvaluations is how many evaluations an errors monitor needs in
	// its window before it judges the rate.
	MinEvaluations int64 `json:"min_evaluations,omitempty"`
}

// RolloutSpec is what a rollout is asked to do.
type RolloutSpec struct {
	// Strategy is one of the Strategy constants; "" is all-at-once.
	Strategy string `json:"strategy,omitempty"`
	// Step is the increment of a linear rollout, the first share of an
	// exponential one and the canary's share, in percent.
	Step float64 `json:"step,omitempty"`
	// Factor is an exponential rollout's growth factor (step n is
	// min(target, Step × Factor^n)).
	Factor float64 `json:"factor,omitempty"`
	// Steps are the shares, in percent, of a steps rollout.
	Steps []float64 `json:"steps,omitempty"`
	// Every is the time between steps.
	Every Duration `json:"every,omitempty"`
	// Bake is how long monitors watch after the last step before the
	// rollout completes; nil takes the default.
	Bake *Duration `json:"bake,omitempty"`
	// Target is the share, in percent, a flag rollout ends at (default
	// 100).
	Target *float64 `json:"target,omitempty"`
	// Rule names the rule of the flag document whose rollout_percentage
	// is stepped; "" steps the flag's own.
	Rule string `json:"rule,omitempty"`
	// Value is, for a flag, the document to roll out (default: the
	// current one) and, for any other parameter, the new value.
	Value *string `json:"value,omitempty"`
	// Monitors are watched while the rollout runs and bakes.
	Monitors []Monitor `json:"monitors,omitempty"`
	// CheckEvery is how often monitors are checked.
	CheckEvery Duration `json:"check_every,omitempty"`
}

// MonitorStatus is the state of one monitor of a rollout.
type MonitorStatus struct {
	Name      string    `json:"name"`
	State     string    `json:"state"` // MonitorOK, MonitorFailing, MonitorFired, or MonitorPending before the first check
	Failures  int       `json:"failures,omitempty"`
	LastCheck time.Time `json:"last_check,omitzero"`
	Detail    string    `json:"detail,omitempty"` // what the last check saw
}

// Monitor states.
const (
	MonitorPending = "pending"
	MonitorOK      = "ok"
	MonitorFailing = "failing"
	MonitorFired   = "fired"
)

// Rollout is a staged change of one parameter. Its steps are ordinary
// versioned writes made by the principal RolloutPrincipal(ID).
type Rollout struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	Kind  string       `json:"kind"` // RolloutFlag or RolloutValue
	Spec  RolloutSpec  `json:"spec"`
	State RolloutState `json:"state"`
	// Plan is the share, in percent, of each step; a value rollout has
	// one step of 100.
	Plan []float64 `json:"plan"`
	// Step is how many steps of Plan have been written.
	Step int `json:"step"`
	// Share is the share, in percent, written last (StartShare before
	// the first step).
	Share      float64 `json:"share"`
	StartShare float64 `json:"start_share"`
	// Target is the value the last step writes: a flag document whose
	// share is set at each step, or the new value.
	Target string `json:"target"`
	// BaseVersion, BaseValue and BaseType are the name's latest version
	// before the rollout, which a roll back writes again.
	BaseVersion int64  `json:"base_version"`
	BaseValue   string `json:"base_value"`
	BaseType    Type   `json:"base_type"`
	// LastVersion is the version the rollout wrote last (BaseVersion
	// before its first step). A write of another version by anyone else
	// stops the rollout.
	LastVersion int64 `json:"last_version"`
	// NextAt is when the next step is due (running), when the bake ends
	// (baking); zero otherwise.
	NextAt time.Time `json:"next_at,omitzero"`
	// Remaining is, while paused, the time that was left until NextAt,
	// and PausedState the state a resume returns to.
	Remaining   Duration     `json:"remaining,omitempty"`
	PausedState RolloutState `json:"paused_state,omitempty"`
	// Pending is the write the rollout is making, recorded before it is
	// made: if the node making it dies half-way, the next node to look
	// finishes the record (the write was made) or makes the write again
	// (it was not), rather than losing or repeating it.
	Pending *RolloutWrite `json:"pending,omitempty"`
	// NextCheck is when monitors are checked next.
	NextCheck time.Time       `json:"next_check,omitzero"`
	Monitors  []MonitorStatus `json:"monitors,omitempty"`
	// Reason says why the rollout ended, for every end state but
	// completed by its plan.
	Reason    string    `json:"reason,omitempty"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Ended     time.Time `json:"ended,omitzero"`
	// Revision counts the rollout's updates; UpdateRollout checks it.
	Revision int64 `json:"revision"`
}

// RolloutWrite is a write a rollout is making, and what the rollout
// becomes once it is made.
type RolloutWrite struct {
	Action  string `json:"action"`  // "step", "rollback" or "complete"
	Version int64  `json:"version"` // the version the write creates
	Value   string `json:"value"`
	Type    Type   `json:"type,omitempty"` // "" keeps the type
	// The rollout after the write.
	State  RolloutState `json:"state"`
	Step   int          `json:"step"`
	Share  float64      `json:"share"`
	NextAt time.Time    `json:"next_at,omitzero"`
	Reason string       `json:"reason,omitempty"`
}

// Rollout kinds.
const (
	RolloutFlag  = "flag"  // steps a flag document's rollout_percentage
	RolloutValue = "value" // writes a new value at once, then bakes
)

// RolloutPrincipal is the principal of the writes a rollout makes.
func RolloutPrincipal(id string) string { return "rollout:" + id }

// RolloutQuery selects rollouts, newest first.
type RolloutQuery struct {
	Prefix    string // a name: it and the names below it ("" or "/" for all)
	Active    bool   // only running, baking and paused rollouts
	Limit     int    // 0 means DefaultPageSize; at most MaxPageSize
	NextToken string
}

// RolloutPage is a page of rollouts.
type RolloutPage struct {
	Rollouts  []*Rollout
	NextToken string
}

// DetailRolloutInProgress is the detail of the ECONFLICT refusing a second
// active rollout on a name.
const DetailRolloutInProgress = "RolloutInProgress"

// RolloutStore keeps rollouts. Their state changes are compare-and-set on
// Revision, so two nodes can never both apply a change.
type RolloutStore interface {
	// CreateRollout stores a new rollout with Revision 1. Errors:
	// EINVALID (no ID or name); ECONFLICT (RolloutInProgress) when the
	// name has an active rollout, or the ID is taken.
	CreateRollout(ctx context.Context, r *Rollout) error
	// Rollout returns a rollout by ID. Errors: ENOTFOUND.
	Rollout(ctx context.Context, id string) (*Rollout, error)
	// Rollouts lists rollouts, newest first. Errors: EINVALID.
	Rollouts(ctx context.Context, q *RolloutQuery) (*RolloutPage, error)
	// UpdateRollout replaces the stored rollout if its revision is still
	// r.Revision, and increments r.Revision. Errors: ENOTFOUND; ECONFLICT
	// when the revision moved on (someone else changed it first).
	UpdateRollout(ctx context.Context, r *Rollout) error
}

// ScheduleState is where a scheduled change stands.
type ScheduleState string

// Scheduled change states.
const (
	SchedulePending   ScheduleState = "pending"
	ScheduleDone      ScheduleState = "done"
	ScheduleFailed    ScheduleState = "failed"
	ScheduleCancelled ScheduleState = "cancelled"
)

// Scheduled change actions.
const (
	ScheduleActionPut     = "put"     // put Value as a new version
	ScheduleActionLabel   = "label"   // move Labels to Version
	ScheduleActionRollout = "rollout" // start the rollout Rollout
)

// Schedule is a change to make at a future time: a put, a label move or
// the start of a rollout. Its write is made by the principal
// SchedulePrincipal(ID).
type Schedule struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Action string    `json:"action"`
	At     time.Time `json:"at"`
	// Value and Type are a put's (an empty Type keeps the current one).
	Value       *string `json:"value,omitempty"`
	Type        Type    `json:"type,omitempty"`
	Description *string `json:"description,omitempty"`
	// Version and Labels are a label move's (Version 0: the latest at
	// the time it runs).
	Version int64    `json:"version,omitempty"`
	Labels  []string `json:"labels,omitempty"`
	// Rollout is the spec of the rollout to start.
	Rollout *RolloutSpec `json:"rollout,omitempty"`
	// ExpectVersion, when set, makes the change fail unless the name's
	// latest version is then still this one (0: it must not exist).
	ExpectVersion *int64 `json:"expect_version,omitempty"`

	State ScheduleState `json:"state"`
	// Result says what the change did (the version written, the rollout
	// started) or why it failed.
	Result string `json:"result,omitempty"`
	// Started is when a node began making the change, recorded before it
	// is made: a node finding it set on a pending change knows an
	// attempt may have made it already.
	Started time.Time `json:"started,omitzero"`
	// Ran is when it ran; Late is how far after At, when it ran late
	// because no node was up (or able) to run it on time.
	Ran       time.Time `json:"ran,omitzero"`
	Late      Duration  `json:"late,omitempty"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Revision  int64     `json:"revision"`
}

// Summary says what a scheduled change does, for people: "put of NAME",
// "label move of stable to version 3 of NAME", "linear rollout of NAME".
func (s *Schedule) Summary() string {
	switch s.Action {
	case ScheduleActionPut:
		return "put of " + s.Name
	case ScheduleActionLabel:
		v := "the latest version"
		if s.Version > 0 {
			v = fmt.Sprintf("version %d", s.Version)
		}
		return fmt.Sprintf("label move of %s to %s of %s", strings.Join(s.Labels, ", "), v, s.Name)
	case ScheduleActionRollout:
		strategy := StrategyAllAtOnce
		if s.Rollout != nil && s.Rollout.Strategy != "" {
			strategy = s.Rollout.Strategy
		}
		return strategy + " rollout of " + s.Name
	}
	return s.Action + " of " + s.Name
}

// SchedulePrincipal is the principal of the write a scheduled change makes.
func SchedulePrincipal(id string) string { return "schedule:" + id }

// ScheduleQuery selects scheduled changes, the earliest At first.
type ScheduleQuery struct {
	Prefix string // a name: it and the names below it ("" or "/" for all)
	// State selects one state; "" selects all.
	State ScheduleState
	// DueBy, when set, selects those whose At is not after it.
	DueBy     time.Time
	Limit     int
	NextToken string
}

// SchedulePage is a page of scheduled changes.
type SchedulePage struct {
	Schedules []*Schedule
	NextToken string
}

// ScheduleStore keeps scheduled changes, compare-and-set on Revision like
// RolloutStore.
type ScheduleStore interface {
	// CreateSchedule stores a new scheduled change with Revision 1.
	// Errors: EINVALID; ECONFLICT when the ID is taken.
	CreateSchedule(ctx context.Context, s *Schedule) error
	// Schedule returns a scheduled change by ID. Errors: ENOTFOUND.
	Schedule(ctx context.Context, id string) (*Schedule, error)
	// Schedules lists scheduled changes by At, then ID. Errors: EINVALID.
	Schedules(ctx context.Context, q *ScheduleQuery) (*SchedulePage, error)
	// UpdateSchedule replaces the stored change if its revision is still
	// s.Revision, and increments s.Revision. Errors: ENOTFOUND, ECONFLICT.
	UpdateSchedule(ctx context.Context, s *Schedule) error
}
