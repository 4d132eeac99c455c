package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/event"
)

// Events keeps event rules and their deliveries (package event's
// Service). Every route needs vane:Admin: a rule sends the server's
// changes out of it.
type Events interface {
	vane.EventStore
	// Test sends a test event to a rule's target now and returns the
	// attempt.
	Test(ctx context.Context, r *vane.EventRule, principal string) *vane.EventAttempt
	// Changed starts and stops the rules' runners at once.
	Changed()
}

// eventRuleJSON is an event rule on the wire; the signing secret is shown
// only when it is made (Secret).
type eventRuleJSON struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Path          string   `json:"path"`
	Operations    []string `json:"operations,omitempty"`
	Target        string   `json:"target"`
	URL           string   `json:"url,omitempty"`
	IncludeValues bool     `json:"include_values"`
	Disabled      bool     `json:"disabled"`
	UnusedDays    int      `json:"unused_days,omitempty"`
	StartSeq      int64    `json:"start_seq"`
	CreatedBy     string   `json:"created_by"`
	Created       string   `json:"created"`
	Updated       string   `json:"updated"`
	Revision      int64    `json:"revision"`
	Secret        string   `json:"secret,omitempty"`
}

func newEventRuleJSON(r *vane.EventRule) *eventRuleJSON {
	return &eventRuleJSON{ID: r.ID, Name: r.Name, Path: r.Path, Operations: r.Operations, Target: r.Target, URL: r.URL,
		IncludeValues: r.IncludeValues, Disabled: r.Disabled, UnusedDays: r.UnusedDays, StartSeq: r.StartSeq, CreatedBy: r.CreatedBy,
		Created: formatTime(r.Created), Updated: formatTime(r.Updated), Revision: r.Revision}
}

// deliveryJSON is a delivery on the wire.
type deliveryJSON struct {
	ID          string          `json:"id"`
	Rule        string          `json:"rule"`
	Seq         int64           `json:"seq"`
	Name        string          `json:"name"`
	Operation   string          `json:"operation"`
	State       vane.EventState `json:"state"`
	Attempts    int             `json:"attempts"`
	NextAttempt string          `json:"next_attempt,omitempty"`
	LastStatus  int             `json:"last_status,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	Created     string          `json:"created"`
	Delivered   string          `json:"delivered,omitempty"`
	Event       any             `json:"event,omitempty"`
	History     []attemptJSON   `json:"attempt_history,omitempty"`
}

type attemptJSON struct {
	N         int     `json:"n"`
	Time      string  `json:"time"`
	Status    int     `json:"status,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

func newAttemptJSON(a *vane.EventAttempt) attemptJSON {
	return attemptJSON{N: a.N, Time: formatTime(a.Time), Status: a.Status, LatencyMS: float64(a.Latency.Microseconds()) / 1000, Error: a.Error}
}

func newDeliveryJSON(d *vane.EventDelivery) *deliveryJSON {
	out := &deliveryJSON{ID: d.ID, Rule: d.RuleID, Seq: d.Seq, Name: d.Name, Operation: d.Operation, State: d.State,
		Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, Created: formatTime(d.Created)}
	if d.State == vane.EventPending {
		out.NextAttempt = formatTime(d.NextAttempt)
	}
	if !d.Delivered.IsZero() {
		out.Delivered = formatTime(d.Delivered)
	}
	return out
}

func (s *Server) registerEventRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/event-rules", s.admin(s.handleCreateEventRule))
	mux.HandleFunc("GET /v1/event-rules", s.admin(s.handleListEventRules))
	mux.HandleFunc("GET /v1/event-rules/{id}", s.admin(s.handleGetEventRule))
	mux.HandleFunc("PATCH /v1/event-rules/{id}", s.admin(s.handleUpdateEventRule))
	mux.HandleFunc("DELETE /v1/event-rules/{id}", s.admin(s.handleDeleteEventRule))
	mux.HandleFunc("POST /v1/event-rules/{id}/test", s.admin(s.handleTestEventRule))
	mux.HandleFunc("GET /v1/event-rules/{id}/deliveries", s.admin(s.handleListDeliveries))
	mux.HandleFunc("GET /v1/event-rules/{id}/deliveries/{event}", s.admin(s.handleGetDelivery))
	mux.HandleFunc("POST /v1/event-rules/{id}/deliveries/{event}/redeliver", s.admin(s.handleRedeliver))
}

func (s *Server) events() (Events, error) {
	if s.Events == nil {
		return nil, vane.Errorf(vane.EUNAVAILABLE, "this server does not send events")
	}
	return s.Events, nil
}

// eventRuleRequest is the body of POST and PATCH /v1/event-rules; PATCH
// changes the fields it has.
type eventRuleRequest struct {
	Name          *string   `json:"name"`
	Path          *string   `json:"path"`
	Operations    *[]string `json:"operations"`
	Target        *string   `json:"target"`
	URL           *string   `json:"url"`
	Secret        *string   `json:"secret"`
	RotateSecret  bool      `json:"rotate_secret"`
	IncludeValues *bool     `json:"include_values"`
	Disabled      *bool     `json:"disabled"`
	UnusedDays    *int      `json:"unused_days"`
}

// apply sets the request's fields on r, and returns the new signing
// secret when the request makes one (a webhook rule without a secret
// gets a random one).
func (s *Server) applyEventRule(ctx context.Context, req *eventRuleRequest, r *vane.EventRule) (string, error) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&r.Name, req.Name)
	set(&r.Path, req.Path)
	set(&r.Target, req.Target)
	set(&r.URL, req.URL)
	if req.Operations != nil {
		r.Operations = *req.Operations
	}
	if req.IncludeValues != nil {
		r.IncludeValues = *req.IncludeValues
	}
	if req.Disabled != nil {
		r.Disabled = *req.Disabled
	}
	if req.UnusedDays != nil {
		r.UnusedDays = *req.UnusedDays
	}
	if err := event.CheckRule(r); err != nil {
		return "", err
	}
	secret := ""
	switch {
	case req.Secret != nil:
		if len(*req.Secret) < 16 {
			e := invalidf("event rule: a signing secret must be at least 16 characters")
			e.(*vane.Error).Field = "secret"
			return "", e
		}
		secret = *req.Secret
	case req.RotateSecret || (r.Target == vane.TargetWebhook && r.SealedSecret == ""):
		var b [24]byte
		rand.Read(b[:])
		secret = "whsec_" + hex.EncodeToString(b[:])
	}
	if secret == "" {
		return "", nil
	}
	if s.Cipher == nil {
		return "", vane.Errorf(vane.EUNAVAILABLE, "the server has no keyring to keep the rule's signing secret")
	}
	sealed, err := s.Cipher.Seal(ctx, vane.DefaultKeyID, secret)
	if err != nil {
		return "", err
	}
	r.SealedSecret = sealed
	if req.Secret != nil {
		return "", nil // the caller knows it
	}
	return secret, nil
}

// handleCreateEventRule serves POST /v1/event-rules. A rule delivers the
// changes made after it was created.
func (s *Server) handleCreateEventRule(w http.ResponseWriter, r *http.Request) {
	ev, err := s.events()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req eventRuleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	now := s.now()
	var b [6]byte
	rand.Read(b[:])
	rule := &vane.EventRule{ID: "er-" + hex.EncodeToString(b[:]), CreatedBy: vane.PrincipalFromContext(ctx), Created: now, Updated: now}
	if sq, ok := vane.StoreAs[interface{ Seq() int64 }](s.Store); ok {
		rule.StartSeq = sq.Seq()
	}
	secret, err := s.applyEventRule(ctx, &req, rule)
	if err == nil {
		err = ev.CreateEventRule(ctx, rule)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditAction(ctx, "vane:CreateEventRule", rule.ID, "name="+rule.Name+" target="+rule.Target)
	ev.Changed()
	out := newEventRuleJSON(rule)
	out.Secret = secret
	w.Header().Set("Location", "/v1/event-rules/"+rule.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleListEventRules(w http.ResponseWriter, r *http.Request) {
	ev, err := s.events()
	if err == nil {
		_, err = parseQuery(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rules, err := ev.EventRules(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]*eventRuleJSON, len(rules))
	for i, rule := range rules {
		out[i] = newEventRuleJSON(rule)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}

// eventRule reads the rule of the route's {id}.
func (s *Server) eventRule(r *http.Request) (Events, *vane.EventRule, error) {
	ev, err := s.events()
	if err != nil {
		return nil, nil, err
	}
	rule, err := ev.EventRule(r.Context(), r.PathValue("id"))
	return ev, rule, err
}

func (s *Server) handleGetEventRule(w http.ResponseWriter, r *http.Request) {
	_, rule, err := s.eventRule(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newEventRuleJSON(rule))
}

func (s *Server) handleUpdateEventRule(w http.ResponseWriter, r *http.Request) {
	ev, rule, err := s.eventRule(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req eventRuleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	secret, err := s.applyEventRule(ctx, &req, rule)
	if err == nil {
		rule.Updated = s.now()
		err = ev.UpdateEventRule(ctx, rule)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	detail := "name=" + rule.Name
	if secret != "" || req.Secret != nil {
		detail += " (new signing secret)"
	}
	s.auditAction(ctx, "vane:UpdateEventRule", rule.ID, detail)
	ev.Changed()
	out := newEventRuleJSON(rule)
	out.Secret = secret
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDeleteEventRule(w http.ResponseWriter, r *http.Request) {
	ev, err := s.events()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if err := ev.DeleteEventRule(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditAction(r.Context(), "vane:DeleteEventRule", id, "")
	ev.Changed()
	w.WriteHeader(http.StatusNoContent)
}

// handleTestEventRule serves POST /v1/event-rules/{id}/test: a test event
// sent to the target now, outside the rule's queue; the answer says how
// the target took it.
func (s *Server) handleTestEventRule(w http.ResponseWriter, r *http.Request) {
	ev, rule, err := s.eventRule(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a := ev.Test(r.Context(), rule, vane.PrincipalFromContext(r.Context()))
	out := newAttemptJSON(a)
	writeJSON(w, http.StatusOK, map[string]any{"delivered": a.Error == "", "event": a.DeliveryID, "attempt": out})
}

func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	ev, err := s.events()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseQuery(r, "state", "limit", "next_token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state, err := q.one("state")
	if err == nil && state != "" && state != string(vane.EventPending) && state != string(vane.EventDelivered) && state != string(vane.EventDead) {
		err = invalidf("query parameter \"state\" must be pending, delivered or dead, not %q", state)
	}
	limit, lerr := q.limit()
	token, terr := q.one("next_token")
	if err = firstErr(err, lerr, terr); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if _, err := ev.EventRule(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := ev.EventDeliveries(r.Context(), &vane.EventDeliveryQuery{RuleID: id, State: vane.EventState(state), Limit: limit, NextToken: token})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]*deliveryJSON, len(page.Deliveries))
	for i, d := range page.Deliveries {
		out[i] = newDeliveryJSON(d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out, "next_token": page.NextToken})
}

// delivery reads the route's {event}, which must be the route's rule's.
func (s *Server) delivery(r *http.Request) (Events, *vane.EventDelivery, error) {
	ev, err := s.events()
	if err != nil {
		return nil, nil, err
	}
	d, err := ev.EventDelivery(r.Context(), r.PathValue("event"))
	if err == nil && d.RuleID != r.PathValue("id") {
		err = vane.Errorf(vane.ENOTFOUND, "event rule %s has no delivery %s", r.PathValue("id"), r.PathValue("event"))
	}
	return ev, d, err
}

func (s *Server) handleGetDelivery(w http.ResponseWriter, r *http.Request) {
	ev, d, err := s.delivery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	attempts, err := ev.EventAttempts(r.Context(), d.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := newDeliveryJSON(d)
	out.Event = jsonRawMessage(d.Body)
	for _, a := range attempts {
		out.History = append(out.History, newAttemptJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleRedeliver serves POST .../deliveries/{event}/redeliver: a dead
// (or delivered) event is queued again at the rule's head of line order
// by its sequence, with the same id.
func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	ev, d, err := s.delivery(r)
	if err == nil {
		d, err = ev.RedeliverEvent(r.Context(), d.ID, s.now())
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditAction(r.Context(), "vane:RedeliverEvent", d.ID, "rule="+d.RuleID)
	ev.Changed()
	writeJSON(w, http.StatusOK, newDeliveryJSON(d))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// jsonRawMessage shows a stored JSON document as itself, not as a
// string.
type jsonRawMessage string

func (m jsonRawMessage) MarshalJSON() ([]byte, error) { return []byte(m), nil }
