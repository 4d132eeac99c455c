package event

import (
	"context"
	"strings"

	"github.com/vanehq/vane"
)

// Service is what the API needs of events: the store of rules and
// deliveries, a test send, and a way to start a new rule's runner at
// once.
type Service struct {
	vane.EventStore
	Manager *Manager
	// Deliverer returns the job of a rule (the same as Manager.New's).
	Deliverer func(ruleID string) *Deliverer
}

// Test sends a test event to a rule's target now, outside its queue, and
// returns the attempt. The event is an Update of the rule's path (or of
// /vane/test for a glob) with operation "Test", id "RULE-test-UNIXNANO".
func (s *Service) Test(ctx context.Context, r *vane.EventRule, principal string) *vane.EventAttempt {
	d := s.Deliverer(r.ID)
	now := d.now()
	name := strings.TrimSuffix(r.Path, "/")
	if strings.ContainsAny(name, "*?[") || name == "" {
		name = "/vane/test"
	}
	c := &vane.Change{Seq: 0, Op: vane.OpPut, Name: name, Version: 1, Type: vane.TypeString, Time: now, Principal: principal}
	e := Build(r, c, "Test", d.Region, d.Account, nil)
	e.ID = r.ID + "-test-" + now.Format("20060102T150405.000000000")
	ev := &vane.EventDelivery{ID: e.ID, RuleID: r.ID, Name: name, Operation: "Test", Body: string(marshal(e)), Created: now}
	status, err := d.send(ctx, r, ev, now)
	a := &vane.EventAttempt{DeliveryID: ev.ID, N: 1, Time: now, Status: status, Latency: d.now().Sub(now)}
	if err != nil {
		a.Error = err.Error()
	}
	return a
}

// Changed starts and stops runners for the rules as they are now.
func (s *Service) Changed() {
	if s.Manager != nil {
		s.Manager.Refresh()
	}
}
