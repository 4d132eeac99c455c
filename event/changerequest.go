package event

import (
	"fmt"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// ChangeRequestDetailType is the detail-type of change-request events.
const ChangeRequestDetailType = "Vane Change Request"

// ChangeRequestDetail describes a change request in its events: the
// request, and the names it changes that the rule selects.
type ChangeRequestDetail struct {
	ID      string   `json:"id"`
	State   string   `json:"state"`
	Author  string   `json:"author"`
	Comment string   `json:"comment,omitempty"`
	Names   []string `json:"names"`
	Items   int      `json:"items"`
	// Reason says why it is stale or why applying it failed.
	Reason string `json:"reason,omitempty"`
}

// ChangeRequestEvents returns the deliveries of a change request's step
// (op, one of the ChangeRequest* operations, made by principal at now)
// for the rules that name op and select one of its names: one event per
// rule, naming the first name it selects. seq orders the event after the
// changes made before it. A delivery's id is the rule's, the request's
// and the step's (the request's Revision after the step), so the same
// step queued twice is one delivery.
func ChangeRequestEvents(rules []*vane.EventRule, cr *vane.ChangeRequest, op, principal, region, account string, seq int64, now time.Time) []*vane.EventDelivery {
	names := cr.Names()
	var out []*vane.EventDelivery
	for _, r := range rules {
		if r.Disabled {
			continue
		}
		var selected []string
		for _, n := range names {
			if Selects(r, n, op) {
				selected = append(selected, n)
			}
		}
		if len(selected) == 0 {
			continue
		}
		c := &vane.Change{Seq: seq, Name: selected[0], Time: now, Principal: principal}
		e := Build(r, c, op, region, account, nil)
		e.DetailType, e.Source = ChangeRequestDetailType, "vane"
		e.Resources = make([]string, len(selected))
		for i, n := range selected {
			e.Resources[i] = fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region, account, strings.TrimPrefix(n, "/"))
		}
		e.Detail.ChangeRequest = &ChangeRequestDetail{ID: cr.ID, State: string(cr.State), Author: cr.Author, Comment: cr.Comment,
			Names: selected, Items: len(cr.Items), Reason: cr.Reason}
		// The request's revision numbers its steps: a rule's events of
		// one request, which share a sequence when nothing was written
		// between them, go out in the order of the steps.
		e.ID = fmt.Sprintf("%s-%s-%06d", r.ID, cr.ID, cr.Revision)
		out = append(out, &vane.EventDelivery{ID: e.ID, RuleID: r.ID, Seq: seq, Name: selected[0], Operation: op,
			Body: string(marshal(e)), State: vane.EventPending, NextAttempt: now, Created: now})
	}
	return out
}

// changeRequestText is SlackText for a change-request event.
func changeRequestText(e *Event, linkBase string) string {
	d := &e.Detail
	cr := d.ChangeRequest
	what := map[string]string{
		vane.EventChangeProposed: "proposed", vane.EventChangeApproved: "approved", vane.EventChangeRejected: "rejected",
		vane.EventChangeApplied: "applied", vane.EventChangeCancelled: "cancelled", vane.EventChangeStale: "found stale",
	}[d.Operation]
	if what == "" {
		what = d.Operation
	}
	names := strings.Join(cr.Names, ", ")
	if len(cr.Names) > 3 {
		names = fmt.Sprintf("%s and %d more", strings.Join(cr.Names[:3], ", "), len(cr.Names)-3)
	}
	text := fmt.Sprintf("Change request %s (%s) was %s by %s", cr.ID, names, what, d.Principal)
	if cr.Comment != "" && d.Operation == vane.EventChangeProposed {
		text += ": " + cr.Comment
	}
	if cr.Reason != "" {
		text += " (" + cr.Reason + ")"
	}
	if linkBase != "" {
		text += fmt.Sprintf(" %s/v1/change-requests/%s", strings.TrimSuffix(linkBase, "/"), cr.ID)
	}
	return text
}
