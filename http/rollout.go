package http

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// Rollouts starts and controls staged rollouts (package rollout's Engine).
// The caller's principal is in the context of every call.
type Rollouts interface {
	Start(ctx context.Context, name string, spec vane.RolloutSpec) (*vane.Rollout, error)
	Rollout(ctx context.Context, id string) (*vane.Rollout, error)
	List(ctx context.Context, q *vane.RolloutQuery) (*vane.RolloutPage, error)
	Pause(ctx context.Context, id string) (*vane.Rollout, error)
	Resume(ctx context.Context, id string) (*vane.Rollout, error)
	Cancel(ctx context.Context, id string) (*vane.Rollout, error)
	RollBack(ctx context.Context, id string) (*vane.Rollout, error)
	Complete(ctx context.Context, id string) (*vane.Rollout, error)
}

// Schedules keeps scheduled changes (package rollout's Scheduler).
type Schedules interface {
	Create(ctx context.Context, sc *vane.Schedule) (*vane.Schedule, error)
	Get(ctx context.Context, id string) (*vane.Schedule, error)
	List(ctx context.Context, q *vane.ScheduleQuery) (*vane.SchedulePage, error)
	Cancel(ctx context.Context, id string) (*vane.Schedule, error)
}

// startRolloutRequest is the body of POST /v1/rollouts: the name and the
// spec's fields beside it.
type startRolloutRequest struct {
	Name string `json:"name"`
	vane.RolloutSpec
}

type rolloutListJSON struct {
	Rollouts  []*vane.Rollout `json:"rollouts"`
	NextToken string          `json:"next_token,omitempty"`
}

// scheduleRequest is the body of POST /v1/schedules.
type scheduleRequest struct {
	Name          string            `json:"name"`
	Action        string            `json:"action"`
	At            string            `json:"at"`
	Value         *string           `json:"value,omitempty"`
	Type          vane.Type         `json:"type,omitempty"`
	Description   *string           `json:"description,omitempty"`
	Version       int64             `json:"version,omitempty"`
	Labels        []string          `json:"labels,omitempty"`
	Rollout       *vane.RolloutSpec `json:"rollout,omitempty"`
	ExpectVersion *int64            `json:"expect_version,omitempty"`
}

type scheduleListJSON struct {
	Schedules []*vane.Schedule `json:"schedules"`
	NextToken string           `json:"next_token,omitempty"`
}

// registerRolloutRoutes adds the rollout and scheduled change routes.
func (s *Server) registerRolloutRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/rollouts", s.handleStartRollout)
	mux.HandleFunc("GET /v1/rollouts", s.handleListRollouts)
	mux.HandleFunc("GET /v1/rollouts/{id}", s.handleGetRollout)
	mux.HandleFunc("POST /v1/rollouts/{id}/{op}", s.handleRolloutOp)
	mux.HandleFunc("POST /v1/schedules", s.handleCreateSchedule)
	mux.HandleFunc("GET /v1/schedules", s.handleListSchedules)
	mux.HandleFunc("GET /v1/schedules/{id}", s.handleGetSchedule)
	mux.HandleFunc("POST /v1/schedules/{id}/cancel", s.handleCancelSchedule)
}

func (s *Server) rollouts() (Rollouts, error) {
	if s.Rollouts == nil {
		return nil, vane.Errorf(vane.EUNAVAILABLE, "this server does not run rollouts")
	}
	return s.Rollouts, nil
}

func (s *Server) schedules() (Schedules, error) {
	if s.Schedules == nil {
		return nil, vane.Errorf(vane.EUNAVAILABLE, "this server does not run scheduled changes")
	}
	return s.Schedules, nil
}

// handleStartRollout serves POST /v1/rollouts. A rollout writes on its
// starter's behalf, so the caller needs ssm:PutParameter on the name as
// well as vane:StartRollout.
func (s *Server) handleStartRollout(w http.ResponseWriter, r *http.Request) {
	ro, err := s.rollouts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req startRolloutRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Name == "" {
		s.writeError(w, r, invalidf("field \"name\", the parameter to roll out, is required"))
		return
	}
	for _, action := range []string{auth.ActionStartRollout, auth.ActionPutParameter} {
		if err := s.allowName(r.Context(), action, req.Name); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out, err := ro.Start(r.Context(), req.Name, req.RolloutSpec)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/rollouts/"+out.ID)
	writeJSON(w, http.StatusCreated, s.showRollout(r.Context(), out))
}

// handleListRollouts serves GET /v1/rollouts?path=&active=&limit=
// &next_token=: newest first, only those the caller may describe.
func (s *Server) handleListRollouts(w http.ResponseWriter, r *http.Request) {
	ro, err := s.rollouts()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r, "path", "active", "limit", "next_token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var rq vane.RolloutQuery
	if rq.Prefix, err = pathQuery(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if rq.Active, err = q.boolean("active"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if rq.Limit, err = q.limit(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if rq.NextToken, err = q.one("next_token"); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := ro.List(r.Context(), &rq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := rolloutListJSON{Rollouts: []*vane.Rollout{}, NextToken: page.NextToken}
	ok := s.visible(r.Context(), auth.ActionDescribeRollouts)
	for _, x := range page.Rollouts {
		if ok == nil || ok(x.Name) {
			out.Rollouts = append(out.Rollouts, s.showRollout(r.Context(), x))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listQuery is the query of a listing by path and state.
type listQuery struct {
	Prefix, State string
	Limit         int
	NextToken     string
}

// parseListQuery reads the query of a listing by path and state: path,
// state (one of states, or absent for all), limit and next_token.
func parseListQuery(r *http.Request, states ...string) (listQuery, error) {
	var lq listQuery
	q, err := parseQuery(r, "path", "state", "limit", "next_token")
	if err != nil {
		return lq, err
	}
	if lq.Prefix, err = pathQuery(q); err != nil {
		return lq, err
	}
	if lq.State, err = q.one("state"); err != nil {
		return lq, err
	}
	if lq.State != "" && !slices.Contains(states, lq.State) {
		return lq, invalidf("query parameter \"state\" must be %s or %s, not %q",
			strings.Join(states[:len(states)-1], ", "), states[len(states)-1], lq.State)
	}
	if lq.Limit, err = q.limit(); err != nil {
		return lq, err
	}
	lq.NextToken, err = q.one("next_token")
	return lq, err
}

// pathQuery reads the optional "path" query parameter.
func pathQuery(q query) (string, error) {
	p, err := q.one("path")
	if err != nil || p == "" {
		return "", err
	}
	if p[0] != '/' {
		return "", invalidf("query parameter \"path\" must begin with /, not %q", p)
	}
	return p, nil
}

// loadRollout reads the rollout of the route's {id} and checks that the
// caller may perform action on its name.
func (s *Server) loadRollout(r *http.Request, action string) (*vane.Rollout, error) {
	ro, err := s.rollouts()
	if err != nil {
		return nil, err
	}
	out, err := ro.Rollout(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return out, s.allow(r.Context(), action, out.Name)
}

// handleGetRollout serves GET /v1/rollouts/{id}.
func (s *Server) handleGetRollout(w http.ResponseWriter, r *http.Request) {
	out, err := s.loadRollout(r, auth.ActionDescribeRollouts)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showRollout(r.Context(), out))
}

// handleRolloutOp serves POST /v1/rollouts/{id}/{op}: pause, resume,
// cancel, rollback or complete.
func (s *Server) handleRolloutOp(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	if rolloutOp(s.Rollouts, op) == nil && s.Rollouts != nil {
		s.writeError(w, r, vane.Errorf(vane.ENOTFOUND, "no route for POST %s: the operations are pause, resume, cancel, rollback and complete", r.URL.Path))
		return
	}
	cur, err := s.loadRollout(r, auth.ActionUpdateRollout)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := rolloutOp(s.Rollouts, op)(r.Context(), cur.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showRollout(r.Context(), out))
}

// rolloutOp returns the method of ro that serves op, or nil.
func rolloutOp(ro Rollouts, op string) func(context.Context, string) (*vane.Rollout, error) {
	if ro == nil {
		return nil
	}
	switch op {
	case "pause":
		return ro.Pause
	case "resume":
		return ro.Resume
	case "cancel":
		return ro.Cancel
	case "rollback":
		return ro.RollBack
	case "complete":
		return ro.Complete
	}
	return nil
}

// showRollout returns the rollout as the caller may see it: the values it
// holds (the target, the value before it, a pending write) only when the
// caller may read the parameter.
func (s *Server) showRollout(ctx context.Context, x *vane.Rollout) *vane.Rollout {
	if ok := s.visible(ctx, auth.ActionGetParameter); ok == nil || ok(x.Name) {
		return x
	}
	c := *x
	c.Target, c.BaseValue, c.Spec.Value = "", "", nil
	if c.Pending != nil {
		p := *c.Pending
		p.Value = ""
		c.Pending = &p
	}
	return &c
}

// scheduleActions are the actions a scheduled change needs beyond
// vane:ScheduleChange: those of the change it will make for its creator.
func scheduleActions(action string) []string {
	switch action {
	case vane.ScheduleActionPut:
		return []string{auth.ActionPutParameter}
	case vane.ScheduleActionLabel:
		return []string{auth.ActionLabelParameterVersion}
	case vane.ScheduleActionRollout:
		return []string{auth.ActionStartRollout, auth.ActionPutParameter}
	}
	return nil
}

// handleCreateSchedule serves POST /v1/schedules.
func (s *Server) handleCreateSchedule(w http.ResponseWriter, r *http.Request) {
	sch, err := s.schedules()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req scheduleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Name == "" {
		s.writeError(w, r, invalidf("field \"name\", the parameter to change, is required"))
		return
	}
	for _, action := range append([]string{auth.ActionScheduleChange}, scheduleActions(req.Action)...) {
		if err := s.allowName(r.Context(), action, req.Name); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	var at time.Time
	if req.At != "" {
		if at, err = time.Parse(time.RFC3339, req.At); err != nil {
			s.writeError(w, r, invalidf("field \"at\" must be an RFC 3339 time such as 2026-12-24T18:00:00Z, not %q", req.At))
			return
		}
	}
	out, err := sch.Create(r.Context(), &vane.Schedule{Name: req.Name, Action: req.Action, At: at, Value: req.Value, Type: req.Type,
		Description: req.Description, Version: req.Version, Labels: req.Labels, Rollout: req.Rollout, ExpectVersion: req.ExpectVersion})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/schedules/"+out.ID)
	writeJSON(w, http.StatusCreated, s.showSchedule(r.Context(), out))
}

// handleListSchedules serves GET /v1/schedules?path=&state=&limit=
// &next_token=: by time, only those the caller may describe.
func (s *Server) handleListSchedules(w http.ResponseWriter, r *http.Request) {
	sch, err := s.schedules()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	lq, err := parseListQuery(r, string(vane.SchedulePending), string(vane.ScheduleDone), string(vane.ScheduleFailed), string(vane.ScheduleCancelled))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sq := vane.ScheduleQuery{Prefix: lq.Prefix, State: vane.ScheduleState(lq.State), Limit: lq.Limit, NextToken: lq.NextToken}
	page, err := sch.List(r.Context(), &sq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := scheduleListJSON{Schedules: []*vane.Schedule{}, NextToken: page.NextToken}
	ok := s.visible(r.Context(), auth.ActionDescribeScheduledChanges)
	for _, x := range page.Schedules {
		if ok == nil || ok(x.Name) {
			out.Schedules = append(out.Schedules, s.showSchedule(r.Context(), x))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// loadSchedule reads the scheduled change of the route's {id} and checks
// that the caller may perform action on its name.
func (s *Server) loadSchedule(r *http.Request, action string) (*vane.Schedule, error) {
	sch, err := s.schedules()
	if err != nil {
		return nil, err
	}
	out, err := sch.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return out, s.allow(r.Context(), action, out.Name)
}

// handleGetSchedule serves GET /v1/schedules/{id}.
func (s *Server) handleGetSchedule(w http.ResponseWriter, r *http.Request) {
	out, err := s.loadSchedule(r, auth.ActionDescribeScheduledChanges)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showSchedule(r.Context(), out))
}

// handleCancelSchedule serves POST /v1/schedules/{id}/cancel.
func (s *Server) handleCancelSchedule(w http.ResponseWriter, r *http.Request) {
	cur, err := s.loadSchedule(r, auth.ActionCancelScheduledChange)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.Schedules.Cancel(r.Context(), cur.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showSchedule(r.Context(), out))
}

// showSchedule returns the scheduled change as the caller may see it: its
// value only when the caller may read the parameter.
func (s *Server) showSchedule(ctx context.Context, x *vane.Schedule) *vane.Schedule {
	if ok := s.visible(ctx, auth.ActionGetParameter); ok == nil || ok(x.Name) || (x.Value == nil && (x.Rollout == nil || x.Rollout.Value == nil)) {
		return x
	}
	c := *x
	c.Value = nil
	if c.Rollout != nil {
		spec := *c.Rollout
		spec.Value = nil
		c.Rollout = &spec
	}
	return &c
}
