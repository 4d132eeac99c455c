package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// eventsAt is the time of the event tests' rules and deliveries; its
// nanoseconds check that stores keep them.
var eventsAt = time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)

// NewEventRule returns a webhook rule with every field set, as the event
// store tests and the copy tests store it.
func NewEventRule(id, name string) *vane.EventRule {
	return &vane.EventRule{ID: id, Name: name, Path: "/myapp/*/features/**", UnusedDays: 45,
		Operations: []string{vane.EventCreate, vane.EventUpdate, vane.EventRollback},
		Target:     vane.TargetWebhook, URL: "https://hooks.example.com/vane?team=core",
		SealedSecret: "sealed:v1:c2VjcmV0", IncludeValues: true, Disabled: false, StartSeq: 42,
		CreatedBy: "storetest", Created: eventsAt, Updated: eventsAt.Add(time.Second + 1)}
}

// NewEventDelivery returns a new pending delivery of rule's change seq,
// created seq seconds after eventsAt and due at once.
func NewEventDelivery(id, rule string, seq int64) *vane.EventDelivery {
	created := eventsAt.Add(time.Duration(seq) * time.Second)
	return &vane.EventDelivery{ID: id, RuleID: rule, Seq: seq, Name: fmt.Sprintf("/myapp/prod/features/f%d", seq),
		Operation: vane.EventUpdate, Body: fmt.Sprintf(`{"id":%q,"detail":{"operation":"Update"}}`, id),
		State: vane.EventPending, NextAttempt: created, Created: created}
}

// RunEvents runs the conformance tests of vane.EventStore. open returns a
// new, empty store and closes it when the test ends.
func RunEvents(t *testing.T, open func(t *testing.T) vane.EventStore) {
	t.Helper()
	for _, tc := range eventRuleTests {
		t.Run("Rule/"+tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
	for _, tc := range eventDeliveryTests {
		t.Run("Delivery/"+tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if vane.ErrorCode(err) != code {
		t.Errorf("%s: %v; want %s", what, err, code)
	}
}

func mustRule(t *testing.T, s vane.EventStore, id string) *vane.EventRule {
	t.Helper()
	r, err := s.EventRule(t.Context(), id)
	must(t, err)
	return r
}

func mustDelivery(t *testing.T, s vane.EventStore, id string) *vane.EventDelivery {
	t.Helper()
	d, err := s.EventDelivery(t.Context(), id)
	must(t, err)
	return d
}

func mustAttempts(t *testing.T, s vane.EventStore, id string) []*vane.EventAttempt {
	t.Helper()
	as, err := s.EventAttempts(t.Context(), id)
	must(t, err)
	return as
}

// deliveryIDs returns the IDs of ds.
func deliveryIDs(ds []*vane.EventDelivery) []string {
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// ruleNames returns the names of every rule of s, in the store's order.
func ruleNames(t *testing.T, s vane.EventStore) []string {
	t.Helper()
	rs, err := s.EventRules(t.Context())
	must(t, err)
	names := []string{}
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return names
}

// allDeliveries pages through every delivery of q, checking that no page
// is longer than asked, and returns them with the number of pages.
func allDeliveries(t *testing.T, s vane.EventStore, q vane.EventDeliveryQuery) ([]*vane.EventDelivery, int) {
	t.Helper()
	var out []*vane.EventDelivery
	for pages := 1; ; pages++ {
		p, err := s.EventDeliveries(t.Context(), &q)
		must(t, err)
		if q.Limit > 0 && len(p.Deliveries) > q.Limit {
			t.Fatalf("page %d holds %d deliveries, more than the limit %d", pages, len(p.Deliveries), q.Limit)
		}
		out = append(out, p.Deliveries...)
		if p.NextToken == "" {
			return out, pages
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		q.NextToken = p.NextToken
	}
}

// fail records a failed attempt at d, seconds after its creation, leaving
// it in state.
func fail(t *testing.T, s vane.EventStore, d *vane.EventDelivery, state vane.EventState, status int) *vane.EventAttempt {
	t.Helper()
	d.Attempts++
	at := d.Created.Add(time.Duration(d.Attempts) * time.Second)
	d.State, d.LastStatus, d.LastError, d.NextAttempt = state, status, fmt.Sprintf("HTTP %d", status), at.Add(time.Minute)
	a := &vane.EventAttempt{DeliveryID: d.ID, N: d.Attempts, Time: at, Status: status,
		Latency: 250*time.Millisecond + time.Duration(d.Attempts), Error: d.LastError}
	must(t, s.RecordAttempt(t.Context(), d, a))
	return a
}

// deliver records a successful attempt at d.
func deliver(t *testing.T, s vane.EventStore, d *vane.EventDelivery) *vane.EventAttempt {
	t.Helper()
	d.Attempts++
	at := d.Created.Add(time.Duration(d.Attempts) * time.Second)
	d.State, d.LastStatus, d.LastError, d.NextAttempt, d.Delivered = vane.EventDelivered, 200, "", time.Time{}, at
	a := &vane.EventAttempt{DeliveryID: d.ID, N: d.Attempts, Time: at, Status: 200, Latency: 40 * time.Millisecond}
	must(t, s.RecordAttempt(t.Context(), d, a))
	return a
}

var eventRuleTests = []struct {
	name string
	fn   func(t *testing.T, s vane.EventStore)
}{
	{"CreateAndRead", func(t *testing.T, s vane.EventStore) {
		r := NewEventRule("rule-1", "deploys")
		must(t, s.CreateEventRule(t.Context(), r))
		if r.Revision != 1 {
			t.Fatalf("revision after create = %d, want 1", r.Revision)
		}
		got := mustRule(t, s, "rule-1")
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, *r)
		}
		// The other values of every field: no operations (every one), a
		// log target, flags set, zero times.
		r2 := &vane.EventRule{ID: "rule-2", Name: "audit log", Path: "/", Target: vane.TargetLog,
			Disabled: true, CreatedBy: "ops"}
		must(t, s.CreateEventRule(t.Context(), r2))
		if got := mustRule(t, s, "rule-2"); !reflect.DeepEqual(got, r2) {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, *r2)
		}
		rs, err := s.EventRules(t.Context())
		must(t, err)
		if len(rs) != 2 || !reflect.DeepEqual(rs[0], r2) || !reflect.DeepEqual(rs[1], r) {
			t.Fatalf("EventRules = %+v, want rule-2 (audit log) then rule-1 (deploys)", rs)
		}
	}},
	{"ErrNotFound", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		_, err := s.EventRule(ctx, "nope")
		wantCode(t, "EventRule of a missing rule", err, vane.ENOTFOUND)
		r := NewEventRule("nope", "nope")
		r.Revision = 1
		wantCode(t, "UpdateEventRule of a missing rule", s.UpdateEventRule(ctx, r), vane.ENOTFOUND)
		if r.Revision != 1 {
			t.Errorf("a failed update changed the revision to %d", r.Revision)
		}
		wantCode(t, "DeleteEventRule of a missing rule", s.DeleteEventRule(ctx, "nope"), vane.ENOTFOUND)
		if rs, err := s.EventRules(ctx); err != nil || len(rs) != 0 {
			t.Errorf("EventRules of an empty store = %v, %v; want none", rs, err)
		}
	}},
	{"ErrConflict", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		wantCode(t, "a taken id", s.CreateEventRule(ctx, NewEventRule("rule-1", "other")), vane.ECONFLICT)
		wantCode(t, "a taken name", s.CreateEventRule(ctx, NewEventRule("rule-2", "deploys")), vane.ECONFLICT)
		if got := ruleNames(t, s); fmt.Sprint(got) != "[deploys]" {
			t.Errorf("after refused creates, rules %v; want [deploys]", got)
		}
		if _, err := s.EventRule(ctx, "rule-2"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("the rule refused for its name was stored: %v", err)
		}
	}},
	{"ErrInvalid", func(t *testing.T, s vane.EventStore) {
		for _, tc := range []struct {
			name string
			edit func(r *vane.EventRule)
		}{
			{"NoID", func(r *vane.EventRule) { r.ID = "" }},
			{"NoName", func(r *vane.EventRule) { r.Name = "" }},
			{"NoPath", func(r *vane.EventRule) { r.Path = "" }},
			{"UnknownOperation", func(r *vane.EventRule) { r.Operations = []string{vane.EventCreate, "Explode"} }},
			{"UnknownTarget", func(r *vane.EventRule) { r.Target = "email" }},
		} {
			r := NewEventRule("rule-1", "deploys")
			tc.edit(r)
			wantCode(t, "CreateEventRule "+tc.name, s.CreateEventRule(t.Context(), r), vane.EINVALID)
		}
		if got := ruleNames(t, s); len(got) != 0 {
			t.Errorf("invalid rules were stored: %v", got)
		}
		// An update is validated as well.
		r := NewEventRule("rule-1", "deploys")
		must(t, s.CreateEventRule(t.Context(), r))
		r.Path = ""
		wantCode(t, "UpdateEventRule with no path", s.UpdateEventRule(t.Context(), r), vane.EINVALID)
		if got := mustRule(t, s, "rule-1"); got.Path == "" || got.Revision != 1 {
			t.Errorf("an invalid update was stored: %+v", got)
		}
	}},
	{"ListedByName", func(t *testing.T, s vane.EventStore) {
		for i, name := range []string{"slack-b", "Webhook", "slack-a", "log"} {
			must(t, s.CreateEventRule(t.Context(), NewEventRule(fmt.Sprintf("rule-%d", i), name)))
		}
		// By bytes, as every name column of the schema sorts.
		if got := ruleNames(t, s); fmt.Sprint(got) != "[Webhook log slack-a slack-b]" {
			t.Errorf("EventRules names = %v, want [Webhook log slack-a slack-b]", got)
		}
	}},
	{"UpdateIsCompareAndSet", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-2", "alerts")))
		a, b := mustRule(t, s, "rule-1"), mustRule(t, s, "rule-1")
		// Every field but the ID changes.
		a.Name, a.Path, a.Operations, a.Target, a.URL = "deploys-prod", "/myapp/prod/", []string{vane.EventDelete}, vane.TargetSlack, "https://slack.example.com/x"
		a.SealedSecret, a.IncludeValues, a.Disabled, a.StartSeq, a.CreatedBy = "sealed:v1:bmV3", false, true, 43, "someone"
		a.Created, a.Updated = eventsAt.Add(-time.Nanosecond), eventsAt.Add(time.Hour+7)
		must(t, s.UpdateEventRule(ctx, a))
		if a.Revision != 2 {
			t.Fatalf("revision after update = %d, want 2", a.Revision)
		}
		if got := mustRule(t, s, "rule-1"); !reflect.DeepEqual(got, a) {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, *a)
		}
		b.Disabled = true
		wantCode(t, "a stale update", s.UpdateEventRule(ctx, b), vane.ECONFLICT)
		if b.Revision != 1 {
			t.Errorf("a refused update left revision %d, want 1", b.Revision)
		}
		// A taken name is refused; the rule's own name, and the name it
		// gave up, are not.
		c := mustRule(t, s, "rule-1")
		c.Name = "alerts"
		wantCode(t, "a rename to a taken name", s.UpdateEventRule(ctx, c), vane.ECONFLICT)
		if c.Revision != 2 {
			t.Errorf("a refused rename left revision %d, want 2", c.Revision)
		}
		c.Name = "deploys-prod"
		must(t, s.UpdateEventRule(ctx, c))
		other := mustRule(t, s, "rule-2")
		other.Name = "deploys"
		must(t, s.UpdateEventRule(ctx, other))
		if got := ruleNames(t, s); fmt.Sprint(got) != "[deploys deploys-prod]" {
			t.Errorf("names after renames = %v", got)
		}
		if got := mustRule(t, s, "rule-1"); got.Revision != 3 || !got.Disabled {
			t.Errorf("after a refused stale update and a rename: %+v; want revision 3, disabled", got)
		}
	}},
	{"DeleteRemovesDeliveriesAndAttempts", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-2", "alerts")))
		d1, d2, keep := NewEventDelivery("d-1", "rule-1", 1), NewEventDelivery("d-2", "rule-1", 2), NewEventDelivery("d-3", "rule-2", 1)
		must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{d1, d2, keep}))
		fail(t, s, d1, vane.EventDead, 500)
		deliver(t, s, d2)
		deliver(t, s, keep)

		must(t, s.DeleteEventRule(ctx, "rule-1"))
		if _, err := s.EventRule(ctx, "rule-1"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("EventRule after delete: %v; want not found", err)
		}
		for _, id := range []string{"d-1", "d-2"} {
			_, err := s.EventDelivery(ctx, id)
			wantCode(t, "EventDelivery of a deleted rule's delivery "+id, err, vane.ENOTFOUND)
			if as := mustAttempts(t, s, id); len(as) != 0 {
				t.Errorf("%s's attempts outlived its rule: %+v", id, as)
			}
		}
		if ds, _ := allDeliveries(t, s, vane.EventDeliveryQuery{RuleID: "rule-1"}); len(ds) != 0 {
			t.Errorf("EventDeliveries of the deleted rule = %v", deliveryIDs(ds))
		}
		// A job still holding a delivery of the rule finds it gone.
		wantCode(t, "RecordAttempt of a deleted rule's delivery", s.RecordAttempt(ctx, d1,
			&vane.EventAttempt{DeliveryID: "d-1", N: 2, Time: eventsAt, Status: 200}), vane.ENOTFOUND)
		if as := mustAttempts(t, s, "d-1"); len(as) != 0 {
			t.Errorf("an attempt of a deleted delivery was stored: %+v", as)
		}
		// A job handing over its last events as its rule is deleted: they
		// are dropped, as the deletion would have removed them.
		must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{NewEventDelivery("d-4", "rule-1", 4)}))
		if _, err := s.EventDelivery(ctx, "d-4"); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("a delivery enqueued for a deleted rule: %v; want it dropped", err)
		}
		// The other rule keeps everything.
		if got := mustDelivery(t, s, "d-3"); !reflect.DeepEqual(got, keep) {
			t.Errorf("the other rule's delivery\n%+v\nwant\n%+v", *got, *keep)
		}
		if as := mustAttempts(t, s, "d-3"); len(as) != 1 {
			t.Errorf("the other rule's delivery has %d attempts, want 1", len(as))
		}
		wantCode(t, "DeleteEventRule twice", s.DeleteEventRule(ctx, "rule-1"), vane.ENOTFOUND)
		// The name is free again.
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-3", "deploys")))
	}},
}

var eventDeliveryTests = []struct {
	name string
	fn   func(t *testing.T, s vane.EventStore)
}{
	{"EnqueueAttemptedInOneWrite", testEnqueueAttempted},
	{"RecordAttemptsBatch", testRecordAttempts},
	{"EnqueueAndRead", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		d := NewEventDelivery("d-1", "rule-1", 7)
		d.Operation, d.Name = vane.EventLabel, "/myapp/prod/db/url"
		must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{d}))
		if got := mustDelivery(t, s, "d-1"); !reflect.DeepEqual(got, d) {
			t.Fatalf("read back\n%+v\nwant\n%+v", *got, *d)
		}
		_, err := s.EventDelivery(ctx, "d-2")
		wantCode(t, "EventDelivery of a missing delivery", err, vane.ENOTFOUND)
		if as := mustAttempts(t, s, "d-1"); len(as) != 0 {
			t.Errorf("a new delivery has attempts: %+v", as)
		}
		must(t, s.EnqueueEvents(ctx, nil))
	}},
	{"EnqueueIsIdempotent", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		batch := func(ids ...int) []*vane.EventDelivery {
			var ds []*vane.EventDelivery
			for _, i := range ids {
				ds = append(ds, NewEventDelivery(fmt.Sprintf("d-%d", i), "rule-1", int64(i)))
			}
			return ds
		}
		first := batch(1, 2, 3)
		must(t, s.EnqueueEvents(ctx, first))
		// The same change handed over again, as a follower that restarts
		// from its saved cursor would: one delivery each still.
		again := batch(1, 2, 3)
		for _, d := range again {
			d.Body = `{"handed":"over again"}`
		}
		must(t, s.EnqueueEvents(ctx, again))
		// An attempt moved d-1 on; enqueuing it again leaves it where it is.
		fail(t, s, first[0], vane.EventPending, 503)
		mixed := batch(1, 4, 2, 5)
		must(t, s.EnqueueEvents(ctx, mixed))

		ds, _ := allDeliveries(t, s, vane.EventDeliveryQuery{RuleID: "rule-1"})
		if got := deliveryIDs(ds); fmt.Sprint(got) != "[d-5 d-4 d-3 d-2 d-1]" {
			t.Fatalf("deliveries = %v, want [d-5 d-4 d-3 d-2 d-1]", got)
		}
		for _, want := range append(first, mixed[1], mixed[3]) {
			if got := mustDelivery(t, s, want.ID); !reflect.DeepEqual(got, want) {
				t.Errorf("%s\n%+v\nwant\n%+v", want.ID, *got, *want)
			}
		}
		if as := mustAttempts(t, s, "d-1"); len(as) != 1 {
			t.Errorf("d-1 has %d attempts, want 1", len(as))
		}
	}},
	{"PendingInSequenceOrder", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-2", "alerts")))
		// IDs sort the other way round from sequences.
		var ds []*vane.EventDelivery
		for _, seq := range []int64{5, 2, 9, 7, 3} {
			ds = append(ds, NewEventDelivery(fmt.Sprintf("a-%d", 100-seq), "rule-1", seq))
		}
		for _, seq := range []int64{1, 4, 6} {
			ds = append(ds, NewEventDelivery(fmt.Sprintf("b-%d", seq), "rule-2", seq))
		}
		must(t, s.EnqueueEvents(ctx, ds))
		pending := func(rule string, limit int) string {
			t.Helper()
			got, err := s.PendingEvents(ctx, rule, limit)
			must(t, err)
			return fmt.Sprint(deliveryIDs(got))
		}
		if got := pending("rule-1", 100); got != "[a-98 a-97 a-95 a-93 a-91]" {
			t.Errorf("rule-1 pending = %s, want [a-98 a-97 a-95 a-93 a-91]", got)
		}
		if got := pending("rule-1", 2); got != "[a-98 a-97]" {
			t.Errorf("rule-1 pending, limit 2 = %s, want [a-98 a-97]", got)
		}
		if got := pending("rule-2", 100); got != "[b-1 b-4 b-6]" {
			t.Errorf("rule-2 pending = %s, want [b-1 b-4 b-6]", got)
		}
		if got := pending("rule-3", 100); got != "[]" {
			t.Errorf("a rule with no deliveries: pending = %s", got)
		}
		// Delivered and dead deliveries are not pending; one whose
		// attempt failed, to be tried again, is.
		deliver(t, s, ds[1])                      // seq 2
		fail(t, s, ds[4], vane.EventDead, 410)    // seq 3
		fail(t, s, ds[0], vane.EventPending, 503) // seq 5
		if got := pending("rule-1", 100); got != "[a-95 a-93 a-91]" {
			t.Errorf("rule-1 pending after attempts = %s, want [a-95 a-93 a-91]", got)
		}
		got, err := s.PendingEvents(ctx, "rule-1", 1)
		must(t, err)
		if len(got) != 1 || !reflect.DeepEqual(got[0], ds[0]) {
			t.Errorf("first pending = %+v, want %+v", got, ds[0])
		}
	}},
	{"RecordAttempt", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		d := NewEventDelivery("d-1", "rule-1", 1)
		must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{d}))
		var want []*vane.EventAttempt
		want = append(want, fail(t, s, d, vane.EventPending, 503))
		if got := mustDelivery(t, s, "d-1"); !reflect.DeepEqual(got, d) {
			t.Fatalf("after a failed attempt\n%+v\nwant\n%+v", *got, *d)
		}
		// No answer at all: status 0.
		d.Attempts++
		d.LastStatus, d.LastError, d.NextAttempt = 0, "dial tcp: connection refused", d.NextAttempt.Add(time.Minute)
		noAnswer := &vane.EventAttempt{DeliveryID: "d-1", N: d.Attempts, Time: d.Created.Add(2*time.Second + 3),
			Latency: 10*time.Second + 1, Error: d.LastError}
		must(t, s.RecordAttempt(ctx, d, noAnswer))
		want = append(want, noAnswer)
		want = append(want, deliver(t, s, d))
		if got := mustDelivery(t, s, "d-1"); !reflect.DeepEqual(got, d) || got.State != vane.EventDelivered || got.Attempts != 3 {
			t.Fatalf("after delivery\n%+v\nwant\n%+v", *got, *d)
		}
		got := mustAttempts(t, s, "d-1")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("attempts, oldest first:\n%s\nwant\n%s", dumpAttempts(got), dumpAttempts(want))
		}
		missing := NewEventDelivery("d-9", "rule-1", 9)
		wantCode(t, "RecordAttempt of a missing delivery", s.RecordAttempt(ctx, missing,
			&vane.EventAttempt{DeliveryID: "d-9", N: 1, Time: eventsAt, Status: 200}), vane.ENOTFOUND)
		if as := mustAttempts(t, s, "d-9"); len(as) != 0 {
			t.Errorf("an attempt of a missing delivery was stored: %+v", as)
		}
	}},
	{"ListNewestFirst", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-2", "alerts")))
		var ds []*vane.EventDelivery
		for _, seq := range []int64{4, 1, 7, 3, 6, 2, 5} {
			ds = append(ds, NewEventDelivery(fmt.Sprintf("d-%d", seq), "rule-1", seq))
		}
		must(t, s.EnqueueEvents(ctx, append(ds, NewEventDelivery("other", "rule-2", 8))))
		for _, d := range ds {
			switch d.Seq % 3 {
			case 0:
				fail(t, s, d, vane.EventDead, 404)
			case 1:
				deliver(t, s, d)
			}
		}
		ids := func(q vane.EventDeliveryQuery) string {
			t.Helper()
			all, _ := allDeliveries(t, s, q)
			return fmt.Sprint(deliveryIDs(all))
		}
		if got := ids(vane.EventDeliveryQuery{RuleID: "rule-1"}); got != "[d-7 d-6 d-5 d-4 d-3 d-2 d-1]" {
			t.Errorf("every delivery = %s, want [d-7 d-6 d-5 d-4 d-3 d-2 d-1]", got)
		}
		for state, want := range map[vane.EventState]string{
			vane.EventDead:      "[d-6 d-3]",
			vane.EventDelivered: "[d-7 d-4 d-1]",
			vane.EventPending:   "[d-5 d-2]",
		} {
			if got := ids(vane.EventDeliveryQuery{RuleID: "rule-1", State: state}); got != want {
				t.Errorf("%s deliveries = %s, want %s", state, got, want)
			}
			if got := ids(vane.EventDeliveryQuery{RuleID: "rule-1", State: state, Limit: 1}); got != want {
				t.Errorf("%s deliveries one per page = %s, want %s", state, got, want)
			}
		}
		// Paging through every page, for every page size.
		for limit := 1; limit <= 8; limit++ {
			all, pages := allDeliveries(t, s, vane.EventDeliveryQuery{RuleID: "rule-1", Limit: limit})
			if got := fmt.Sprint(deliveryIDs(all)); got != "[d-7 d-6 d-5 d-4 d-3 d-2 d-1]" {
				t.Errorf("pages of %d: %s", limit, got)
			}
			if want := max(1, (7+limit-1)/limit); pages != want {
				t.Errorf("pages of %d: %d pages, want %d", limit, pages, want)
			}
		}
		// The listed deliveries are whole.
		page, err := s.EventDeliveries(ctx, &vane.EventDeliveryQuery{RuleID: "rule-1", Limit: 1})
		must(t, err)
		if len(page.Deliveries) != 1 || !reflect.DeepEqual(page.Deliveries[0], ds[2]) {
			t.Errorf("first page = %+v, want d-7 %+v", page.Deliveries, ds[2])
		}
		// A new delivery listed while paging does not upset the pages
		// after it.
		next := page.NextToken
		must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{NewEventDelivery("d-8", "rule-1", 8)}))
		rest, _ := allDeliveries(t, s, vane.EventDeliveryQuery{RuleID: "rule-1", Limit: 2, NextToken: next})
		if got := fmt.Sprint(deliveryIDs(rest)); got != "[d-6 d-5 d-4 d-3 d-2 d-1]" {
			t.Errorf("pages after the first, with a newer delivery enqueued = %s", got)
		}
		if got := ids(vane.EventDeliveryQuery{RuleID: "rule-2"}); got != "[other]" {
			t.Errorf("rule-2's deliveries = %s, want [other]", got)
		}
		if got := ids(vane.EventDeliveryQuery{RuleID: "rule-3"}); got != "[]" {
			t.Errorf("deliveries of a rule with none = %s", got)
		}
		for _, token := range []string{"bogus", vane.EncodeToken("x"), vane.EncodeToken("")} {
			_, err := s.EventDeliveries(ctx, &vane.EventDeliveryQuery{RuleID: "rule-1", NextToken: token})
			if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != vane.DetailInvalidNextToken {
				t.Errorf("next token %q: %v; want invalid InvalidNextToken", token, err)
			}
		}
		_, err = s.EventDeliveries(ctx, &vane.EventDeliveryQuery{RuleID: "rule-1", Limit: vane.MaxPageSize + 1})
		wantCode(t, "a limit over MaxPageSize", err, vane.EINVALID)
	}},
	{"RedeliverDead", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		d := NewEventDelivery("d-1", "rule-1", 1)
		must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{d}))
		fail(t, s, d, vane.EventPending, 500)
		fail(t, s, d, vane.EventPending, 502)
		fail(t, s, d, vane.EventDead, 503)
		if pending, err := s.PendingEvents(ctx, "rule-1", 10); err != nil || len(pending) != 0 {
			t.Fatalf("pending with d-1 dead = %v, %v", deliveryIDs(pending), err)
		}
		now := eventsAt.Add(24*time.Hour + 5)
		got, err := s.RedeliverEvent(ctx, "d-1", now)
		must(t, err)
		want := *d
		want.State, want.Attempts, want.NextAttempt = vane.EventPending, 0, now
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("RedeliverEvent returned\n%+v\nwant\n%+v", *got, want)
		}
		if read := mustDelivery(t, s, "d-1"); !reflect.DeepEqual(read, &want) {
			t.Fatalf("after RedeliverEvent\n%+v\nwant\n%+v", *read, want)
		}
		pending, err := s.PendingEvents(ctx, "rule-1", 10)
		must(t, err)
		if fmt.Sprint(deliveryIDs(pending)) != "[d-1]" {
			t.Fatalf("pending after RedeliverEvent = %v, want [d-1]", deliveryIDs(pending))
		}
		if as := mustAttempts(t, s, "d-1"); len(as) != 3 {
			t.Fatalf("after RedeliverEvent, %d attempts listed, want the 3 past ones", len(as))
		}
		// The next attempt is counted from 1 again, and listed after the
		// past ones.
		d = got
		d.Attempts++
		d.State, d.LastStatus, d.LastError, d.Delivered = vane.EventDelivered, 204, "", now.Add(time.Second)
		must(t, s.RecordAttempt(ctx, d, &vane.EventAttempt{DeliveryID: "d-1", N: d.Attempts, Time: now.Add(time.Second), Status: 204}))
		if read := mustDelivery(t, s, "d-1"); read.Attempts != 1 || read.State != vane.EventDelivered {
			t.Errorf("after a redelivered attempt: %+v; want delivered after 1 attempt", read)
		}
		as := mustAttempts(t, s, "d-1")
		if len(as) != 4 || as[3].Status != 204 || !as[3].Time.Equal(now.Add(time.Second)) {
			t.Fatalf("attempts after redelivery:\n%s\nwant the 3 past ones, then the 204", dumpAttempts(as))
		}
		for i := 1; i < len(as); i++ {
			if as[i].N <= as[i-1].N || as[i].Status == as[i-1].Status {
				t.Errorf("attempts not oldest first with distinct numbers:\n%s", dumpAttempts(as))
				break
			}
		}
		// A delivered event can be sent again too.
		if got, err := s.RedeliverEvent(ctx, "d-1", now.Add(time.Hour)); err != nil || got.State != vane.EventPending || !got.Delivered.IsZero() {
			t.Errorf("RedeliverEvent of a delivered event = %+v, %v; want pending, not delivered", got, err)
		}
		_, err = s.RedeliverEvent(ctx, "nope", now)
		wantCode(t, "RedeliverEvent of a missing delivery", err, vane.ENOTFOUND)
	}},
	{"PruneOnlyOldFinished", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-2", "alerts")))
		// Created seq seconds after eventsAt: 1-4 before the cut at 5,
		// 5-8 at or after it.
		ds := map[string]*vane.EventDelivery{}
		var all []*vane.EventDelivery
		for i, c := range []struct {
			id    string
			seq   int64
			state vane.EventState
		}{
			{"old-delivered", 1, vane.EventDelivered}, {"old-dead", 2, vane.EventDead},
			{"old-pending", 3, vane.EventPending}, {"old-retrying", 4, vane.EventPending},
			{"cut-delivered", 5, vane.EventDelivered}, {"new-dead", 6, vane.EventDead},
			{"new-delivered", 7, vane.EventDelivered}, {"new-pending", 8, vane.EventPending},
		} {
			rule := []string{"rule-1", "rule-2"}[i%2]
			d := NewEventDelivery(c.id, rule, c.seq)
			must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{d}))
			switch c.state {
			case vane.EventDelivered:
				fail(t, s, d, vane.EventPending, 500)
				deliver(t, s, d)
			case vane.EventDead:
				fail(t, s, d, vane.EventDead, 500)
			}
			if c.id == "old-retrying" {
				fail(t, s, d, vane.EventPending, 500)
			}
			ds[c.id] = d
			all = append(all, d)
		}
		n, err := s.PruneEventDeliveries(ctx, eventsAt.Add(5*time.Second))
		must(t, err)
		if n != 2 {
			t.Errorf("PruneEventDeliveries removed %d, want 2", n)
		}
		for _, d := range all {
			got, err := s.EventDelivery(ctx, d.ID)
			attempts := mustAttempts(t, s, d.ID)
			if d.ID == "old-delivered" || d.ID == "old-dead" {
				if vane.ErrorCode(err) != vane.ENOTFOUND || len(attempts) != 0 {
					t.Errorf("%s after pruning: %v, %d attempts; want gone with its attempts", d.ID, err, len(attempts))
				}
				continue
			}
			if err != nil || !reflect.DeepEqual(got, d) {
				t.Errorf("%s after pruning: %+v, %v; want it kept", d.ID, got, err)
			}
			if len(attempts) != d.Attempts {
				t.Errorf("%s after pruning: %d attempts, want %d", d.ID, len(attempts), d.Attempts)
			}
		}
		if n, err := s.PruneEventDeliveries(ctx, eventsAt.Add(5*time.Second)); err != nil || n != 0 {
			t.Errorf("pruning again = %d, %v; want 0", n, err)
		}
	}},
	{"ConcurrentEnqueue", func(t *testing.T, s vane.EventStore) {
		ctx := t.Context()
		must(t, s.CreateEventRule(ctx, NewEventRule("rule-1", "deploys")))
		// Four followers hand over overlapping ranges of the change log,
		// 30 changes each in batches of 5, 10 apart: 60 changes in all,
		// most of them handed over two or three times.
		const followers, each, batch, ids = 4, 30, 5, 60
		var wg sync.WaitGroup
		for f := range followers {
			wg.Go(func() {
				for lo := f * 10; lo < f*10+each; lo += batch {
					var ds []*vane.EventDelivery
					for seq := lo; seq < lo+batch; seq++ {
						ds = append(ds, NewEventDelivery(fmt.Sprintf("d-%02d", seq), "rule-1", int64(seq+1)))
					}
					if err := s.EnqueueEvents(ctx, ds); err != nil {
						t.Errorf("follower %d: %v", f, err)
						return
					}
				}
			})
		}
		wg.Wait()
		all, _ := allDeliveries(t, s, vane.EventDeliveryQuery{RuleID: "rule-1", Limit: 7})
		got := deliveryIDs(all)
		var want []string
		for seq := ids - 1; seq >= 0; seq-- {
			want = append(want, fmt.Sprintf("d-%02d", seq))
		}
		if !slices.Equal(got, want) {
			t.Errorf("after concurrent enqueues, %d deliveries %v; want each of the %d once, newest first", len(got), got, ids)
		}
		pending, err := s.PendingEvents(ctx, "rule-1", 1000)
		must(t, err)
		if len(pending) != ids {
			t.Errorf("%d pending, want %d", len(pending), ids)
		}
	}},
}

func dumpAttempts(as []*vane.EventAttempt) string {
	var out string
	for _, a := range as {
		out += fmt.Sprintf("  %+v\n", *a)
	}
	return out
}

// testEnqueueAttempted: deliveries queued with the attempts already made
// keep their states and attempts; a delivery queued before keeps its own.
func testEnqueueAttempted(t *testing.T, s vane.EventStore) {
	ctx := t.Context()
	must(t, s.CreateEventRule(ctx, NewEventRule("er-a", "a")))
	old := NewEventDelivery("er-a-1", "er-a", 1)
	must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{old}))
	sent := NewEventDelivery("er-a-2", "er-a", 2)
	sent.State, sent.Attempts, sent.LastStatus, sent.Delivered = vane.EventDelivered, 1, 200, eventsAt.Add(time.Hour)
	failed := NewEventDelivery("er-a-3", "er-a", 3)
	failed.Attempts, failed.LastStatus, failed.LastError, failed.NextAttempt = 1, 503, "the target answered 503", eventsAt.Add(2*time.Hour)
	again := NewEventDelivery("er-a-1", "er-a", 1) // queued before: left as it is
	again.State, again.Attempts = vane.EventDelivered, 1
	as := []*vane.EventAttempt{
		{DeliveryID: "er-a-2", Time: eventsAt, Status: 200, Latency: 3 * time.Millisecond},
		{DeliveryID: "er-a-3", Time: eventsAt, Status: 503, Latency: time.Millisecond, Error: "the target answered 503"},
		{DeliveryID: "er-a-1", Time: eventsAt, Status: 200},
	}
	must(t, s.EnqueueAttempted(ctx, []*vane.EventDelivery{again, sent, failed}, as))
	if d := mustDelivery(t, s, "er-a-2"); d.State != vane.EventDelivered || d.Attempts != 1 || d.LastStatus != 200 {
		t.Errorf("the delivered one: %+v", d)
	}
	if a := mustAttempts(t, s, "er-a-2"); len(a) != 1 || a[0].Status != 200 || a[0].Latency != 3*time.Millisecond || a[0].N != 1 {
		t.Errorf("its attempts: %+v", a)
	}
	if d := mustDelivery(t, s, "er-a-3"); d.State != vane.EventPending || d.LastStatus != 503 || !d.NextAttempt.Equal(eventsAt.Add(2*time.Hour)) {
		t.Errorf("the failed one: %+v", d)
	}
	if d := mustDelivery(t, s, "er-a-1"); d.State != vane.EventPending || d.Attempts != 0 {
		t.Errorf("the one queued before changed: %+v", d)
	}
	if a := mustAttempts(t, s, "er-a-1"); len(a) != 0 {
		t.Errorf("the one queued before got attempts: %+v", a)
	}
	pending, err := s.PendingEvents(ctx, "er-a", 10)
	must(t, err)
	if got := deliveryIDs(pending); fmt.Sprint(got) != "[er-a-1 er-a-3]" {
		t.Errorf("pending %v", got)
	}
}

// testRecordAttempts: a batch of attempts in one call; a delivery whose
// rule is gone is skipped, not an error.
func testRecordAttempts(t *testing.T, s vane.EventStore) {
	ctx := t.Context()
	must(t, s.CreateEventRule(ctx, NewEventRule("er-b", "b")))
	d1, d2 := NewEventDelivery("er-b-1", "er-b", 1), NewEventDelivery("er-b-2", "er-b", 2)
	must(t, s.EnqueueEvents(ctx, []*vane.EventDelivery{d1, d2}))
	d1.State, d1.Attempts = vane.EventDelivered, 1
	d2.State, d2.Attempts = vane.EventDead, 1
	gone := NewEventDelivery("er-gone-1", "er-gone", 1)
	gone.State = vane.EventDelivered
	a1, a2, a3 := &vane.EventAttempt{Status: 200}, &vane.EventAttempt{Status: 500, Error: "boom"}, &vane.EventAttempt{Status: 200}
	must(t, s.RecordAttempts(ctx, []*vane.EventDelivery{d1, gone, d2}, []*vane.EventAttempt{a1, a3, a2}))
	if mustDelivery(t, s, "er-b-1").State != vane.EventDelivered || mustDelivery(t, s, "er-b-2").State != vane.EventDead {
		t.Error("the batch did not store the states")
	}
	if a := mustAttempts(t, s, "er-b-2"); len(a) != 1 || a[0].Error != "boom" || a2.N != 1 {
		t.Errorf("attempts of the dead one: %+v (N set %d)", a, a2.N)
	}
	wantCode(t, "RecordAttempts with unpaired slices", s.RecordAttempts(ctx, []*vane.EventDelivery{d1}, nil), vane.EINVALID)
}
