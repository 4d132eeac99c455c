package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// Deployments (strategies are in appconfig_strategy.go).
//
// A deployment copies a hosted version into an environment. Vane's means
// of changing a parameter over time is a rollout (package rollout), so a
// deployment of a profile that serves one parameter is a rollout of that
// parameter whenever the server runs the rollout engine:
//
//   - a flag (a profile under "features/") is stepped towards the new
//     document by its rollout_percentage, following the strategy: LINEAR
//     G% over D minutes is a linear rollout of step G every
//     D/ceil(100/G); EXPONENTIAL is an exponential rollout of first step G
//     and factor 2 (AWS's G×2^n) every D/(its number of steps); D = 0 or
//     G = 100 is all at once. The bake is FinalBakeTimeInMinutes. The
//     rollout ends at the document's own rollout_percentage, or at 100
//     for a document that serves its on variant to everyone;
//   - a flag document that a share can't express (rules or user lists
//     deciding without a rollout_percentage, a default that is not the on
//     variant, a switched-off flag) or that serves no larger share than
//     the flag does now is written at once, without a bake;
//   - any other parameter gets a value rollout: the new value at once,
//     then the bake.
//
// A parameter that does not exist yet in the environment is created at
// once, and without a rollout engine every deployment is written at once.
// The features profile is written at once too, one write per feature
// whose document differs (flags the document does not name are left
// alone): a rollout changes one name, and the features of a document are
// many. Writes made at once go in one batch with the deployment's record,
// so a deployment is written whole or not at all.
//
// A deployment is recorded as the parameter
// /vane/appconfig/deployments/{app}/{env}/{n} (JSON): what was deployed,
// with which strategy, by whom, and the rollout or the writes that did it.
// Its state, percentage and event log are derived from the rollout when
// read, so they are the same on every node and need no job of their own.

// deploymentRoot is where deployment records are kept.
const deploymentRoot = "/vane/appconfig/deployments/"

// deploymentsPath is the path of an environment's deployment records.
func deploymentsPath(app, env string) string { return deploymentRoot + app + "/" + env + "/" }

// deploymentRecord is a deployment as kept. Its state is derived (status).
type deploymentRecord struct {
	Number       int        `json:"number"`
	Profile      string     `json:"profile"`
	Version      int64      `json:"version"`
	VersionLabel string     `json:"version_label,omitempty"`
	Strategy     acStrategy `json:"strategy"`
	Description  string     `json:"description,omitempty"`
	StartedAt    time.Time  `json:"started_at"`
	StartedBy    string     `json:"started_by"`
	// Plan says how the deployment was made, for the event log.
	Plan string `json:"plan"`
	// Rollout is the Vane rollout that deploys it; "" when it was
	// written at once, by Writes.
	Rollout string        `json:"rollout,omitempty"`
	Writes  []deployWrite `json:"writes,omitempty"`
	// Ended is set by StopDeployment: ROLLED_BACK or REVERTED, at EndedAt.
	Ended   string        `json:"ended,omitempty"`
	EndedAt time.Time     `json:"ended_at,omitzero"`
	Events  []deployEvent `json:"events,omitempty"`

	version int64 // of the record's parameter, for compare-and-set
}

// deployWrite is a write a deployment made at once: the name, relative
// to /{app}/{env}/, from version From (0: it created the name) to To.
type deployWrite struct {
	Name string `json:"n"`
	From int64  `json:"f"`
	To   int64  `json:"t"`
}

// deployEvent is an entry of a deployment's event log.
type deployEvent struct {
	Type        string    `json:"type"`
	By          string    `json:"by"`
	Description string    `json:"description"`
	At          time.Time `json:"at"`
}

// Deployment states and events, as the model names them.
const (
	stateDeploying  = "DEPLOYING"
	stateBaking     = "BAKING"
	stateComplete   = "COMPLETE"
	stateRolledBack = "ROLLED_BACK"
	stateReverted   = "REVERTED"
	stateReady      = "READY_FOR_DEPLOYMENT"

	eventStarted          = "DEPLOYMENT_STARTED"
	eventPercentage       = "PERCENTAGE_UPDATED"
	eventBakeStarted      = "BAKE_TIME_STARTED"
	eventCompleted        = "DEPLOYMENT_COMPLETED"
	eventRollbackStarted  = "ROLLBACK_STARTED"
	eventRollbackComplete = "ROLLBACK_COMPLETED"
	eventReverted         = "REVERT_COMPLETED"

	byUser      = "USER"
	byAppConfig = "APPCONFIG"
	byError     = "INTERNAL_ERROR"
)

// maxRevertAge is how long after it completed a deployment may be
// reverted, as AWS allows.
const maxRevertAge = 72 * time.Hour

// deploySubject is the name a deployment's access checks are made on: the
// parameter of its profile (for features, /{app}/{env}/features).
func deploySubject(app, env, profile string) string { return "/" + app + "/" + env + "/" + profile }

// records returns the deployment records of an environment, by number.
func (ac *appConfig) records(ctx context.Context, app, env string) ([]*deploymentRecord, error) {
	ps, err := vane.AllUnder(ctx, ac.s.Store, deploymentsPath(app, env), nil)
	if err != nil {
		return nil, err
	}
	var out []*deploymentRecord
	for _, p := range ps {
		if d, err := parseRecord(p); err == nil {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *deploymentRecord) int { return a.Number - b.Number })
	return out, nil
}

// parseRecord reads a deployment record, which must be numbered as its
// name is.
func parseRecord(p *vane.Parameter) (*deploymentRecord, error) {
	var d deploymentRecord
	if err := json.Unmarshal([]byte(p.Value), &d); err != nil {
		return nil, err
	}
	if n, err := strconv.Atoi(p.Name[strings.LastIndexByte(p.Name, '/')+1:]); err != nil || n != d.Number {
		return nil, fmt.Errorf("record %s is numbered %d", p.Name, d.Number)
	}
	d.version = p.Version
	return &d, nil
}

// record reads deployment n of an environment.
func (ac *appConfig) record(ctx context.Context, app, env, n string) (*deploymentRecord, error) {
	if v, err := strconv.Atoi(n); err != nil || v < 1 {
		return nil, badRequest("DeploymentNumber must be a number from 1, not " + strconv.Quote(n))
	}
	p, err := ac.s.Store.Get(ctx, deploymentsPath(app, env)+n)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return nil, notFound("Deployment", "environment "+env+" of application "+app+" has no deployment "+n)
	}
	if err != nil {
		return nil, err
	}
	d, err := parseRecord(p)
	if err != nil {
		return nil, vane.Errorf(vane.EINTERNAL, "deployment record %s: %v", p.Name, err)
	}
	return d, nil
}

// saveRecord creates a deployment record, numbered one above the highest
// number of the environment, in one batch after items (the writes of a
// deployment made at once), so that the writes and their record are made
// together or not at all. Two nodes racing for a number are told apart
// by the record's create, which fails for the second: it takes the next.
func (ac *appConfig) saveRecord(ctx context.Context, app, env string, d *deploymentRecord, items []vane.BatchItem) error {
	for range 10 {
		ds, err := ac.records(ctx, app, env)
		if err != nil {
			return err
		}
		d.Number = 1
		if len(ds) > 0 {
			d.Number = ds[len(ds)-1].Number + 1
		}
		value, _ := json.Marshal(d)
		batch := &vane.BatchInput{Items: append(slices.Clip(items), vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{
			Name: deploymentsPath(app, env) + strconv.Itoa(d.Number), Value: string(value), Type: vane.TypeString, Tier: vane.TierIntelligent}})}
		res, err := ac.s.Store.Batch(ctx, batch)
		var be *vane.BatchError
		if errors.As(err, &be) && be.Index == len(items) && vane.ErrorDetail(err) == vane.DetailParameterAlreadyExists {
			continue
		}
		if err != nil {
			return deploymentBatchError(err)
		}
		d.version = res.Items[len(items)].Parameter.Version
		return nil
	}
	return vane.Errorf(vane.EUNAVAILABLE, "deployments of %s/%s kept being created; try again", app, env)
}

// deploymentBatchError words the failure of an item of a deployment's batch: a
// compare-and-set that failed means someone wrote the name meanwhile.
func deploymentBatchError(err error) error {
	var be *vane.BatchError
	if errors.As(err, &be) && vane.ErrorDetail(err) == vane.DetailVersionMismatch {
		return &appConfigError{Type: "ConflictException", Status: http.StatusConflict,
			msg: be.Name + " was written by someone else meanwhile; nothing was written: " + vane.ErrorMessage(err)}
	}
	return err
}

// updateRecord writes a changed record, compare-and-set on the version
// read.
func (ac *appConfig) updateRecord(ctx context.Context, app, env string, d *deploymentRecord) error {
	value, _ := json.Marshal(d)
	expect := d.version
	p, err := ac.s.Store.Put(ctx, &vane.PutInput{Name: deploymentsPath(app, env) + strconv.Itoa(d.Number), Value: string(value),
		Tier: vane.TierIntelligent, Overwrite: true, ExpectVersion: &expect})
	if vane.ErrorDetail(err) == vane.DetailVersionMismatch {
		return &appConfigError{Type: "ConflictException", Status: http.StatusConflict,
			msg: fmt.Sprintf("deployment %d was changed by another request meanwhile; try again", d.Number)}
	}
	if err == nil {
		d.version = p.Version
	}
	return err
}

// deploymentStatus is a deployment's state as derived when read.
type deploymentStatus struct {
	state     string
	percent   float64
	completed time.Time
	events    []deployEvent
}

// status derives a deployment's state, progress and event log from its
// record and, for a rollout, the rollout as it stands.
func (ac *appConfig) status(ctx context.Context, d *deploymentRecord) (*deploymentStatus, error) {
	if d.Ended != "" {
		// Its history was kept when it was stopped or reverted (end).
		st := &deploymentStatus{state: d.Ended, completed: d.EndedAt, events: slices.Clone(d.Events)}
		slices.SortStableFunc(st.events, func(a, b deployEvent) int { return a.At.Compare(b.At) })
		return st, nil
	}
	st := &deploymentStatus{events: []deployEvent{{Type: eventStarted, By: byUser, At: d.StartedAt,
		Description: "Deployment started by " + d.StartedBy + ": " + d.Plan}}}
	if d.Rollout == "" {
		st.state, st.percent, st.completed = stateComplete, 100, d.StartedAt
		st.events = append(st.events, deployEvent{Type: eventCompleted, By: byAppConfig, At: d.StartedAt, Description: "Written at once"})
	} else if err := ac.rolloutStatus(ctx, d, st); err != nil {
		return nil, err
	}
	st.events = append(st.events, d.Events...)
	slices.SortStableFunc(st.events, func(a, b deployEvent) int { return a.At.Compare(b.At) })
	return st, nil
}

// rolloutStatus fills in st from the rollout of d. A rollout that
// stopped without being rolled back (cancelled, stopped by another
// writer, failed) is ROLLED_BACK too, since the model has no state for a
// deployment that ended half-way; its event says what happened.
func (ac *appConfig) rolloutStatus(ctx context.Context, d *deploymentRecord, st *deploymentStatus) error {
	var r *vane.Rollout
	var err error = vane.Errorf(vane.ENOTFOUND, "this server does not run rollouts")
	if ac.s.Rollouts != nil {
		r, err = ac.s.Rollouts.Rollout(ctx, d.Rollout)
	}
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		st.state = stateRolledBack
		st.events = append(st.events, deployEvent{Type: eventRollbackComplete, By: byError, At: d.StartedAt,
			Description: "rollout " + d.Rollout + " can't be read: " + vane.ErrorMessage(err)})
		return nil
	}
	if err != nil {
		return err
	}
	switch r.State {
	case vane.RolloutRunning, vane.RolloutPaused:
		st.state = stateDeploying
	case vane.RolloutBaking:
		st.state = stateBaking
	case vane.RolloutCompleted:
		st.state, st.completed = stateComplete, r.Ended
	default:
		st.state, st.completed = stateRolledBack, r.Ended
	}
	st.percent = rolloutProgress(r)
	every, bake := time.Duration(r.Spec.Every), time.Duration(0)
	if r.Spec.Bake != nil {
		bake = time.Duration(*r.Spec.Bake)
	}
	// A rollout keeps when it started and when it is next due, not when
	// each step was taken: steps are logged at the times its plan put
	// them at.
	for i := range r.Step {
		what := formatPercent(r.Plan[i]) + " of subjects get the new flag document"
		if r.Kind == vane.RolloutValue {
			what = "the new value is written"
		}
		st.events = append(st.events, deployEvent{Type: eventPercentage, By: byAppConfig, At: r.Created.Add(time.Duration(i) * every), Description: what})
	}
	if r.Step == len(r.Plan) && (r.State == vane.RolloutBaking || r.State == vane.RolloutCompleted && r.Reason == "") {
		at := r.Created.Add(time.Duration(len(r.Plan)-1) * every)
		if r.State == vane.RolloutBaking {
			at = r.NextAt.Add(-bake)
		}
		st.events = append(st.events, deployEvent{Type: eventBakeStarted, By: byAppConfig, At: at, Description: "baking for " + bake.String()})
	}
	if r.State.Active() {
		return nil
	}
	switch r.State {
	case vane.RolloutCompleted:
		why := "baked " + bake.String()
		if r.Reason != "" {
			why = r.Reason
		}
		st.events = append(st.events, deployEvent{Type: eventCompleted, By: byAppConfig, At: r.Ended, Description: why})
	default:
		by := byAppConfig
		switch {
		case r.State == vane.RolloutFailed:
			by = byError
		case r.State == vane.RolloutStopped || r.State == vane.RolloutCancelled || strings.HasPrefix(r.Reason, "rolled back by "):
			by = byUser
		}
		what := "rollout " + r.ID + " " + strings.ReplaceAll(string(r.State), "_", " ") + ": " + r.Reason
		if r.State != vane.RolloutRolledBack {
			what += "; the parameter keeps the value it had then"
		}
		st.events = append(st.events, deployEvent{Type: eventRollbackComplete, By: by, At: r.Ended, Description: what})
	}
	return nil
}

// rolloutProgress is how far a rollout has gone from its start share to
// its target, in percent.
func rolloutProgress(r *vane.Rollout) float64 {
	if len(r.Plan) == 0 {
		return 0
	}
	last := r.Plan[len(r.Plan)-1]
	if last <= r.StartShare {
		return 100
	}
	p := (r.Share - r.StartShare) / (last - r.StartShare) * 100
	return math.Round(min(100, max(0, p))*100) / 100
}

// formatPercent writes a share as the shortest decimal, "12.5%".
func formatPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// acTime formats a time as the model's iso8601 timestamps.
func acTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// The shapes of a deployment.
type (
	acEvent struct {
		EventType, TriggeredBy, Description string
		ActionInvocations                   []struct{}
		OccurredAt                          string
	}
	acDeployment struct {
		ApplicationId, EnvironmentId, DeploymentStrategyId, ConfigurationProfileId string
		DeploymentNumber                                                           int
		ConfigurationName, ConfigurationLocationUri, ConfigurationVersion          string
		Description                                                                string `json:",omitempty"`
		DeploymentDurationInMinutes                                                int
		GrowthType                                                                 string
		GrowthFactor                                                               float64
		FinalBakeTimeInMinutes                                                     int
		State                                                                      string
		EventLog                                                                   []acEvent
		PercentageComplete                                                         float64
		StartedAt                                                                  string
		CompletedAt                                                                string `json:",omitempty"`
		AppliedExtensions                                                          []struct{}
		VersionLabel                                                               string `json:",omitempty"`
	}
	// acDeploymentSummary has the members of newer models too
	// (ConfigurationProfileId, and Type: USER for a deployment someone
	// started).
	acDeploymentSummary struct {
		DeploymentNumber                                                int
		ConfigurationName, ConfigurationProfileId, ConfigurationVersion string
		Type                                                            string
		DeploymentDurationInMinutes                                     int
		GrowthType                                                      string
		GrowthFactor                                                    float64
		FinalBakeTimeInMinutes                                          int
		State                                                           string
		PercentageComplete                                              float64
		StartedAt                                                       string
		CompletedAt                                                     string `json:",omitempty"`
		VersionLabel                                                    string `json:",omitempty"`
	}
)

// deploymentView is a deployment as AppConfig shows it.
func deploymentView(app, env string, d *deploymentRecord, st *deploymentStatus) *acDeployment {
	v := &acDeployment{ApplicationId: appConfigID("application", app), EnvironmentId: appConfigID("environment", app+"/"+env),
		DeploymentStrategyId: d.Strategy.Id, ConfigurationProfileId: appConfigID("profile", app+"/"+d.Profile), DeploymentNumber: d.Number,
		ConfigurationName: d.Profile, ConfigurationLocationUri: hostedLocation, ConfigurationVersion: strconv.FormatInt(d.Version, 10),
		Description: d.Description, DeploymentDurationInMinutes: d.Strategy.DeploymentDurationInMinutes, GrowthType: d.Strategy.GrowthType,
		GrowthFactor: d.Strategy.GrowthFactor, FinalBakeTimeInMinutes: d.Strategy.FinalBakeTimeInMinutes, State: st.state,
		EventLog: []acEvent{}, PercentageComplete: st.percent, StartedAt: acTime(d.StartedAt), AppliedExtensions: []struct{}{},
		VersionLabel: d.VersionLabel}
	if st.state != stateDeploying && st.state != stateBaking {
		v.CompletedAt = acTime(st.completed)
	}
	// AWS lists the newest event first.
	for _, e := range slices.Backward(st.events) {
		v.EventLog = append(v.EventLog, acEvent{EventType: e.Type, TriggeredBy: e.By, Description: e.Description,
			ActionInvocations: []struct{}{}, OccurredAt: acTime(e.At)})
	}
	return v
}

// environmentState is an environment's State: DEPLOYING while a rollout
// of a name under it (an AppConfig deployment's or any other) is active
// or its last deployment is in progress, ROLLED_BACK or REVERTED when its
// last deployment was, READY_FOR_DEPLOYMENT otherwise.
func (ac *appConfig) environmentState(ctx context.Context, app, env string) (string, error) {
	if ro := ac.s.Rollouts; ro != nil {
		page, err := ro.List(ctx, &vane.RolloutQuery{Prefix: "/" + app + "/" + env, Active: true, Limit: 1})
		if err != nil {
			return "", err
		}
		if len(page.Rollouts) > 0 {
			return stateDeploying, nil
		}
	}
	ds, err := ac.records(ctx, app, env)
	if err != nil || len(ds) == 0 {
		return stateReady, err
	}
	st, err := ac.status(ctx, ds[len(ds)-1])
	if err != nil {
		return "", err
	}
	switch st.state {
	case stateDeploying, stateBaking:
		return stateDeploying, nil
	case stateRolledBack, stateReverted:
		return st.state, nil
	}
	return stateReady, nil
}

// startDeploymentRequest is the body of StartDeployment.
type startDeploymentRequest struct {
	DeploymentStrategyId       string
	ConfigurationProfileId     string
	ConfigurationVersion       string
	Description                string
	Tags                       map[string]string
	KmsKeyIdentifier           string
	DynamicExtensionParameters map[string]string
}

// deployPlan is how a deployment will be made: a rollout of target with
// spec, or writes made at once.
type deployPlan struct {
	text   string
	target string // relative to /{app}/{env}/
	spec   *vane.RolloutSpec
	writes []plannedWrite
}

// plannedWrite is a write a deployment will make at once.
type plannedWrite struct {
	name  string // relative to /{app}/{env}/
	value string
	from  int64 // the version it replaces; 0 when it creates the name
}

// startDeployment serves StartDeployment. The caller needs, on every
// name the deployment writes (and on /{app}/{env}/features for the
// features profile), vane:StartRollout and ssm:PutParameter, as POST
// /v1/rollouts asks, since the deployment writes on its behalf; and
// ssm:GetParameter on the staging parameter of the version it deploys.
// The request's Tags are accepted and not kept: a deployment has no
// parameter of its own to carry them.
func (ac *appConfig) startDeployment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, env, err := ac.environment(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	var req startDeploymentRequest
	if err := decodeAppConfigJSON(w, r, &req); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	switch {
	case req.DeploymentStrategyId == "" || req.ConfigurationProfileId == "" || req.ConfigurationVersion == "":
		err = badRequest("DeploymentStrategyId, ConfigurationProfileId and ConfigurationVersion are required")
	case utf8.RuneCountInString(req.Description) > vane.MaxDescriptionLength:
		err = badRequest("Description is longer than 1024 characters")
	case req.KmsKeyIdentifier != "":
		err = badRequest("KmsKeyIdentifier is not supported: Vane does not encrypt String parameters; deploy to a SecureString parameter with SSM instead")
	case len(req.DynamicExtensionParameters) > 0:
		err = badRequest("DynamicExtensionParameters are not supported: Vane has no AppConfig extensions")
	case flag.IsFlagName(deploymentsPath(app, env) + "1"):
		err = badRequest("environment " + env + " of application " + app + " can't be deployed to through AppConfig: its deployment records, under " +
			deploymentsPath(app, env) + ", would be flags, since the path has a \"features\" segment")
	}
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	profile, err := ac.resolveAppProfile(ctx, app, req.ConfigurationProfileId)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	strategy, err := ac.strategy(ctx, req.DeploymentStrategyId)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	version, err := ac.hostedVersion(ctx, app, profile, req.ConfigurationVersion)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if err := ac.noActiveDeployment(ctx, app, env); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	plan, err := ac.plan(ctx, app, env, profile, version.Value, strategy)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	names := []string{deploySubject(app, env, profile)}
	for _, pw := range plan.writes {
		names = append(names, deploySubject(app, env, pw.name))
	}
	for _, name := range slices.Compact(names) {
		for _, action := range []string{auth.ActionStartRollout, auth.ActionPutParameter} {
			if err := ac.s.allow(ctx, action, name); err != nil {
				ac.s.writeAppConfigError(w, r, err)
				return
			}
		}
	}
	d := &deploymentRecord{Profile: profile, Version: version.Version, VersionLabel: versionLabel(version.Labels), Strategy: *strategy,
		Description: req.Description, StartedAt: ac.s.now().UTC(), StartedBy: vane.PrincipalFromContext(ctx), Plan: plan.text}
	if err := checkRecordSize(d, plan); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if err := ac.deploy(ctx, app, env, plan, d); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	st, err := ac.status(ctx, d)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, deploymentView(app, env, d, st))
}

// noActiveDeployment refuses a deployment while another of the same
// environment is in progress, as AWS does. Only the last one can be: a
// deployment starts only when none is, and one that ended stays ended.
func (ac *appConfig) noActiveDeployment(ctx context.Context, app, env string) error {
	ds, err := ac.records(ctx, app, env)
	if err != nil || len(ds) == 0 {
		return err
	}
	last := ds[len(ds)-1]
	st, err := ac.status(ctx, last)
	if err != nil {
		return err
	}
	if st.state == stateDeploying || st.state == stateBaking {
		return &appConfigError{Type: "ConflictException", Status: http.StatusConflict,
			msg: fmt.Sprintf("deployment %d of environment %s is %s: an environment has one deployment at a time; stop it with StopDeployment or wait until it completes",
				last.Number, env, st.state)}
	}
	return nil
}

// plan decides how content is deployed to profile in an environment (see
// the comment at the top of this file).
func (ac *appConfig) plan(ctx context.Context, app, env, profile, content string, s *acStrategy) (*deployPlan, error) {
	base := "/" + app + "/" + env + "/"
	current := func(name string) (*vane.Parameter, error) {
		p, err := ac.s.Store.Get(ctx, base+name)
		if vane.ErrorCode(err) == vane.ENOTFOUND {
			return nil, nil
		}
		if err == nil && p.Type != vane.TypeString && (p.Type != vane.TypeStringList || flag.IsFlagName(p.Name)) {
			return nil, badRequest(p.Name + " is a " + string(p.Type) + " parameter: AppConfig deploys to String and StringList parameters, and flags are String")
		}
		return p, err
	}
	if profile == featuresProfile {
		docs, err := featureDocuments(app, content)
		if err != nil {
			return nil, err
		}
		plan := &deployPlan{}
		var changed []string
		for _, n := range slices.Sorted(maps.Keys(docs)) {
			cur, err := current(featuresProfile + "/" + n)
			if err != nil {
				return nil, err
			}
			if cur != nil && compactDocument(cur.Value) == docs[n] {
				continue
			}
			pw := plannedWrite{name: featuresProfile + "/" + n, value: docs[n]}
			if cur != nil {
				pw.from = cur.Version
			}
			plan.writes = append(plan.writes, pw)
			changed = append(changed, n)
		}
		plan.text = fmt.Sprintf("%d of the document's %d features differ from the flags under %sfeatures/ and are written at once", len(changed), len(docs), base)
		if len(changed) > 0 {
			plan.text += " (" + strings.Join(changed, ", ") + ")"
		}
		return plan, nil
	}
	name := base + profile
	cur, err := current(profile)
	if err != nil {
		return nil, err
	}
	isFlag := flag.IsFlagName(name)
	if isFlag {
		if _, err := flag.Parse(name, content); err != nil {
			d := flagProblem("$", err)
			return nil, invalidConfiguration(name+" is a flag, and the version is not a flag document: "+d.Location+": "+d.Reason, []invalidDetail{d})
		}
	}
	once := func(why string) *deployPlan {
		pw := plannedWrite{name: profile, value: content}
		if cur != nil {
			pw.from = cur.Version
		}
		return &deployPlan{text: name + " is written at once: " + why, writes: []plannedWrite{pw}}
	}
	switch {
	case cur == nil:
		return once("it does not exist yet"), nil
	case ac.s.Rollouts == nil:
		return once("this server runs no rollouts"), nil
	}
	spec := rolloutSpec(s, isFlag)
	spec.Value = &content
	if !isFlag {
		if cur.Tier == vane.TierStandard && utf8.RuneCountInString(content) > vane.MaxStandardValueLength {
			return nil, badRequest(fmt.Sprintf("%s is in the Standard tier, which holds %d characters, and the version has more: move it to the Advanced tier first",
				name, vane.MaxStandardValueLength))
		}
		return &deployPlan{target: profile, spec: &spec,
			text: fmt.Sprintf("a Vane rollout writes the new value of %s at once, then bakes %s", name, time.Duration(*spec.Bake))}, nil
	}
	target, ok := flagTarget(name, content)
	if !ok {
		return once("its share of subjects can't express the new document (rules or lists that decide without a rollout_percentage, a default other than the on variant, or a switched-off flag)"), nil
	}
	start, err := flag.Share(cur.Value, "")
	if err != nil {
		return once("its current value is not a flag document a rollout can read: " + err.Error()), nil
	}
	if start >= target {
		return once(fmt.Sprintf("the new document serves %s of subjects, no more than the flag serves now", formatPercent(target))), nil
	}
	spec.Target = &target
	text := fmt.Sprintf("a Vane rollout steps the rollout_percentage of %s from %s to %s", name, formatPercent(start), formatPercent(target))
	if spec.Strategy == vane.StrategyAllAtOnce {
		text += " at once"
	} else {
		text += fmt.Sprintf(" (%s, step %s, every %s)", spec.Strategy, formatPercent(spec.Step), time.Duration(spec.Every))
	}
	return &deployPlan{target: profile, spec: &spec, text: text + ", then bakes " + time.Duration(*spec.Bake).String()}, nil
}

// flagTarget returns the share a stepped rollout of a flag document ends
// at, and whether stepping the flag's rollout_percentage up to it leads
// to that document: it has a rollout_percentage above 0 (the rollout
// ends there), or it serves its on variant to everyone (the rollout ends
// at 100).
func flagTarget(name, doc string) (float64, bool) {
	f, err := flag.Parse(name, doc)
	if err != nil || !f.Enabled() {
		return 0, false
	}
	if p := f.Rollout(); p >= 0 {
		return p, p > 0
	}
	v, ok := f.Uniform()
	if !ok {
		return 0, false
	}
	full, err := flag.WithRollout(doc, "", 100)
	if err != nil {
		return 0, false
	}
	g, err := flag.Parse(name, full)
	if err != nil {
		return 0, false
	}
	on, ok := g.Uniform()
	return 100, ok && on == v
}

// checkRecordSize refuses a deployment whose record would not fit a
// parameter value, before anything is written.
func checkRecordSize(d *deploymentRecord, plan *deployPlan) error {
	c := *d
	c.Rollout = "ro-000000000000"
	for _, pw := range plan.writes {
		c.Writes = append(c.Writes, deployWrite{Name: pw.name, From: pw.from, To: pw.from + 1})
	}
	c.Number, c.Ended, c.EndedAt = 1<<20, stateRolledBack, d.StartedAt
	c.Events = make([]deployEvent, 2)
	b, _ := json.Marshal(c)
	if n := utf8.RuneCount(b); n > vane.MaxAdvancedValueLength {
		return &appConfigError{Type: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired,
			msg: fmt.Sprintf("the deployment's record would take %d characters, and Vane keeps it as a parameter value of at most %d: deploy fewer changed features at a time",
				n, vane.MaxAdvancedValueLength)}
	}
	return nil
}

// deploy makes a plan and records it in d, which it saves: a rollout is
// started, then recorded (and rolled back if the record can't be
// saved, since a deployment without its record can't be seen or
// stopped); writes made at once are made in one batch with their record.
func (ac *appConfig) deploy(ctx context.Context, app, env string, plan *deployPlan, d *deploymentRecord) error {
	base := "/" + app + "/" + env + "/"
	if plan.spec != nil {
		r, err := ac.s.Rollouts.Start(ctx, base+plan.target, *plan.spec)
		if err != nil {
			return err
		}
		d.Rollout = r.ID
		if err := ac.saveRecord(ctx, app, env, d, nil); err != nil {
			if _, rerr := ac.s.Rollouts.RollBack(context.WithoutCancel(ctx), r.ID); rerr != nil {
				ac.s.logger().Error("appconfig: the rollout of a deployment that could not be recorded was not rolled back",
					"rollout", r.ID, "error", rerr.Error())
			}
			return err
		}
		return nil
	}
	items := make([]vane.BatchItem, 0, len(plan.writes)+1)
	for _, pw := range plan.writes {
		from := pw.from
		in := &vane.PutInput{Name: base + pw.name, Value: pw.value, Tier: vane.TierIntelligent, Overwrite: from > 0, ExpectVersion: &from}
		if from == 0 {
			in.Type = vane.TypeString
		}
		items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: in})
		// The put is compare-and-set on from, so it writes from+1.
		d.Writes = append(d.Writes, deployWrite{Name: pw.name, From: from, To: from + 1})
	}
	return ac.saveRecord(ctx, app, env, d, items)
}

// listDeployments serves ListDeployments: newest first, those the caller
// may describe (vane:DescribeRollouts on the profile's name).
func (ac *appConfig) listDeployments(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, env, err := ac.environment(r)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	ds, err := ac.records(ctx, app, env)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	ok := ac.s.visible(ctx, auth.ActionDescribeRollouts)
	var keep []*deploymentRecord
	var keys []string
	for _, d := range slices.Backward(ds) {
		if ok == nil || ok(deploySubject(app, env, d.Profile)) {
			keep = append(keep, d)
			keys = append(keys, descendingKey(int64(d.Number)))
		}
	}
	lo, hi, next, err := ac.page(r, "ListDeployments", app+"/"+env, keys)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	out := acList[acDeploymentSummary]{Items: []acDeploymentSummary{}, NextToken: next}
	for _, d := range keep[lo:hi] {
		st, err := ac.status(ctx, d)
		if err != nil {
			ac.s.writeAppConfigError(w, r, err)
			return
		}
		v := deploymentView(app, env, d, st)
		out.Items = append(out.Items, acDeploymentSummary{DeploymentNumber: v.DeploymentNumber, ConfigurationName: v.ConfigurationName,
			ConfigurationProfileId: v.ConfigurationProfileId, Type: "USER", ConfigurationVersion: v.ConfigurationVersion, DeploymentDurationInMinutes: v.DeploymentDurationInMinutes, GrowthType: v.GrowthType,
			GrowthFactor: v.GrowthFactor, FinalBakeTimeInMinutes: v.FinalBakeTimeInMinutes, State: v.State, PercentageComplete: v.PercentageComplete,
			StartedAt: v.StartedAt, CompletedAt: v.CompletedAt, VersionLabel: v.VersionLabel})
	}
	writeJSON(w, http.StatusOK, out)
}

// deployment reads the route's deployment for a caller allowed action on
// its profile's name.
func (ac *appConfig) deployment(r *http.Request, action string) (app, env string, d *deploymentRecord, err error) {
	ctx := r.Context()
	if app, env, err = ac.environment(r); err != nil {
		return "", "", nil, err
	}
	if d, err = ac.record(ctx, app, env, r.PathValue("DeploymentNumber")); err != nil {
		return "", "", nil, err
	}
	return app, env, d, ac.s.allow(ctx, action, deploySubject(app, env, d.Profile))
}

// getDeployment serves GetDeployment; the caller needs vane:DescribeRollouts
// on the profile's name.
func (ac *appConfig) getDeployment(w http.ResponseWriter, r *http.Request) {
	app, env, d, err := ac.deployment(r, auth.ActionDescribeRollouts)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	st, err := ac.status(r.Context(), d)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deploymentView(app, env, d, st))
}

// stopDeployment serves StopDeployment (202). A deployment in progress
// (DEPLOYING or BAKING) is rolled back: its rollout is, which writes the
// value from before it. A COMPLETE one is reverted when AllowRevert is
// set, within 72 hours, as AWS allows: a rollout is rolled back (the
// engine refuses if the name was written since), writes made at once are
// written back (refused, with nothing written, if any name was written
// since). The caller needs vane:UpdateRollout on the profile's name and
// on every name written at once, and for a revert of those writes
// ssm:PutParameter on them (ssm:DeleteParameter on those it created).
func (ac *appConfig) stopDeployment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, env, d, err := ac.deployment(r, auth.ActionUpdateRollout)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	allowRevert := false
	if v := r.Header.Get("Allow-Revert"); v != "" {
		if allowRevert, err = strconv.ParseBool(v); err != nil {
			ac.s.writeAppConfigError(w, r, badRequest("AllowRevert must be true or false, not "+strconv.Quote(v)))
			return
		}
	}
	st, err := ac.status(ctx, d)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	now := ac.s.now().UTC()
	who := vane.PrincipalFromContext(ctx)
	switch st.state {
	case stateDeploying, stateBaking:
		if _, err := ac.s.Rollouts.RollBack(ctx, d.Rollout); err != nil {
			ac.s.writeAppConfigError(w, r, err)
			return
		}
		end(d, st, stateRolledBack, now)
		d.Events = append(d.Events, deployEvent{Type: eventRollbackStarted, By: byUser, At: now, Description: "StopDeployment by " + who},
			deployEvent{Type: eventRollbackComplete, By: byUser, At: now, Description: "rollout " + d.Rollout + " rolled back to the value from before the deployment"})
		err = ac.updateRecord(ctx, app, env, d)
	case stateComplete:
		if !allowRevert {
			ac.s.writeAppConfigError(w, r, badRequest(fmt.Sprintf("deployment %d is COMPLETE: set AllowRevert to revert it to the configuration from before it", d.Number)))
			return
		}
		if now.Sub(st.completed) > maxRevertAge {
			ac.s.writeAppConfigError(w, r, badRequest(fmt.Sprintf("deployment %d completed more than 72 hours ago: AppConfig reverts only within 72 hours", d.Number)))
			return
		}
		end(d, st, stateReverted, now)
		d.Events = append(d.Events, deployEvent{Type: eventReverted, By: byUser, At: now, Description: "reverted by " + who + " to the configuration from before the deployment"})
		err = ac.revert(ctx, app, env, d)
	default:
		err = badRequest(fmt.Sprintf("deployment %d is %s already", d.Number, st.state))
	}
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if st, err = ac.status(ctx, d); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, deploymentView(app, env, d, st))
}

// end marks a deployment ended in state at now, keeping the history it
// had (st's events, derived until then from its rollout), since the
// rollout's state no longer tells it once the deployment is stopped or
// reverted.
func end(d *deploymentRecord, st *deploymentStatus, state string, now time.Time) {
	d.Ended, d.EndedAt, d.Events = state, now, slices.Clone(st.events)
}

// revert undoes a COMPLETE deployment for a caller allowed to, and saves
// its record (d, marked reverted): a rollout is rolled back, writes made
// at once are written back, in one batch with the record, if none of
// their names was written since.
func (ac *appConfig) revert(ctx context.Context, app, env string, d *deploymentRecord) error {
	if d.Rollout != "" {
		if ac.s.Rollouts == nil {
			return vane.Errorf(vane.EUNAVAILABLE, "this server does not run rollouts, and deployment %d was made by rollout %s", d.Number, d.Rollout)
		}
		if _, err := ac.s.Rollouts.RollBack(ctx, d.Rollout); err != nil {
			return err
		}
		return ac.updateRecord(ctx, app, env, d)
	}
	var items []vane.BatchItem
	for _, w := range slices.Backward(d.Writes) {
		name, to := deploySubject(app, env, w.Name), w.To
		actions := []string{auth.ActionUpdateRollout, auth.ActionPutParameter}
		if w.From == 0 {
			actions[1] = auth.ActionDeleteParameter
		}
		for _, a := range actions {
			if err := ac.s.allow(ctx, a, name); err != nil {
				return err
			}
		}
		cur, err := ac.s.Store.Get(ctx, name)
		if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
			return err
		}
		if err != nil || cur.Version != w.To {
			return &appConfigError{Type: "ConflictException", Status: http.StatusConflict,
				msg: fmt.Sprintf("%s was changed since deployment %d wrote version %d of it: write the value you want instead", name, d.Number, w.To)}
		}
		if w.From == 0 {
			items = append(items, vane.BatchItem{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: name, ExpectVersion: &to}})
			continue
		}
		old, err := ac.s.Store.Get(ctx, name+":"+strconv.FormatInt(w.From, 10))
		if err != nil {
			return err
		}
		items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: name, Value: old.Value, Tier: vane.TierIntelligent,
			Overwrite: true, ExpectVersion: &to}})
	}
	value, _ := json.Marshal(d)
	expect := d.version
	items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: deploymentsPath(app, env) + strconv.Itoa(d.Number),
		Value: string(value), Tier: vane.TierIntelligent, Overwrite: true, ExpectVersion: &expect}})
	res, err := ac.s.Store.Batch(ctx, &vane.BatchInput{Items: items})
	if err != nil {
		return deploymentBatchError(err)
	}
	d.version = res.Items[len(items)-1].Parameter.Version
	return nil
}
