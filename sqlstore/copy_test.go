package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/sqlstore"
	"github.com/vanehq/vane/storetest"
)

// MustOpen opens a SQLite store in a new file of tb's temporary directory.
func MustOpen(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "vane.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// fill writes parameters with several versions, labels on old versions,
// tags, unlabels, untags and deletes, as several principals.
func fill(t *testing.T, s vane.Store) {
	t.Helper()
	ctx := t.Context()
	as := func(p string) context.Context { return vane.NewContextWithPrincipal(ctx, p) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	put := func(ctx context.Context, in *vane.PutInput) {
		t.Helper()
		_, err := s.Put(ctx, in)
		must(err)
	}
	desc, pattern := "the database", "^.*$"
	for i := range 6 {
		name := fmt.Sprintf("/app/svc%d/db/url", i)
		put(as("alice"), &vane.PutInput{Name: name, Value: fmt.Sprintf("postgres://db%d", i), Type: vane.TypeString,
			Description: &desc, AllowedPattern: &pattern, Tags: []vane.Tag{{Key: "team", Value: "core"}, {Key: "env", Value: "prod"}}})
		for v := 2; v <= 1+i%4; v++ {
			put(as("bob"), &vane.PutInput{Name: name, Value: fmt.Sprintf("postgres://db%d-v%d", i, v), Overwrite: true})
		}
	}
	put(ctx, &vane.PutInput{Name: "/app/secret", Value: "s3cret", Type: vane.TypeSecureString, KeyID: "alias/custom"})
	put(ctx, &vane.PutInput{Name: "/app/hosts", Value: "a,b,c", Type: vane.TypeStringList, Tier: vane.TierAdvanced})
	put(ctx, &vane.PutInput{Name: "root", Value: "r", Type: vane.TypeString, DataType: vane.DataTypeText})

	_, err := s.Label(as("carol"), &vane.LabelInput{Name: "/app/svc3/db/url", Version: 1, Labels: []string{"old", "first"}})
	must(err)
	_, err = s.Label(as("carol"), &vane.LabelInput{Name: "/app/svc3/db/url", Labels: []string{"prod"}})
	must(err)
	_, err = s.Label(ctx, &vane.LabelInput{Name: "/app/svc2/db/url", Version: 2, Labels: []string{"canary", "gone"}})
	must(err)
	_, err = s.Unlabel(ctx, &vane.LabelInput{Name: "/app/svc2/db/url", Version: 2, Labels: []string{"gone"}})
	must(err)
	must(s.AddTags(as("dave"), &vane.TagInput{Name: "/app/svc1/db/url", Tags: []vane.Tag{{Key: "owner", Value: "dave"}}}))
	must(s.RemoveTags(as("dave"), &vane.TagInput{Name: "/app/svc1/db/url", Keys: []string{"env"}}))
	must(s.Delete(as("erin"), &vane.DeleteInput{Name: "/app/svc5/db/url"}))
	must(s.Delete(ctx, &vane.DeleteInput{Name: "/app/svc4/db/url"}))
	put(as("frank"), &vane.PutInput{Name: "/app/svc4/db/url", Value: "recreated", Type: vane.TypeString})
}

// jobsAt is when the scheduled changes of fillJobs are due.
var jobsAt = time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)

// fillJobs writes what the background jobs keep: the lease of a job that
// saved a cursor and of one that never did, both held for an hour; two
// ended rollouts (active_name NULL), ro-1 and ro-2, and an active one,
// ro-3, on the name of ro-1; a scheduled change done, sc-1, and one
// pending, sc-2, due at the same time.
func fillJobs(t *testing.T, s storetest.JobStore) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, job := range []string{"rollouts", "schedules"} {
		if _, ok, err := s.AcquireLease(ctx, job, "node-a", time.Hour); err != nil || !ok {
			t.Fatalf("AcquireLease %s = %v, %v", job, ok, err)
		}
	}
	must(s.SaveCursor(ctx, "rollouts", "node-a", 25))

	for _, end := range []struct {
		id, name string
		state    vane.RolloutState
	}{{"ro-1", "/app/features/x", vane.RolloutCompleted}, {"ro-2", "/app/features/y", vane.RolloutCancelled}} {
		r := storetest.NewRollout(end.id, end.name, vane.RolloutRunning)
		must(s.CreateRollout(ctx, r))
		r.State, r.Step, r.Share, r.NextAt, r.Ended = end.state, 1, 10, time.Time{}, r.Created.Add(time.Hour)
		must(s.UpdateRollout(ctx, r))
	}
	must(s.CreateRollout(ctx, storetest.NewRollout("ro-3", "/app/features/x", vane.RolloutRunning)))

	done := storetest.NewSchedule("sc-1", "/app/features/x", jobsAt)
	must(s.CreateSchedule(ctx, done))
	done.State, done.Result, done.Ran = vane.ScheduleDone, "wrote version 2", jobsAt
	must(s.UpdateSchedule(ctx, done))
	must(s.CreateSchedule(ctx, storetest.NewSchedule("sc-2", "/app/features/y", jobsAt)))
}

// fillEvents writes two event rules: ev-1, a webhook with every field
// set, with a delivery delivered at its second attempt, dv-1, and a dead
// one, dv-2; and ev-2, a disabled log rule with no operations, with a
// pending delivery, dv-3, that was never tried.
func fillEvents(t *testing.T, s vane.EventStore) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateEventRule(ctx, storetest.NewEventRule("ev-1", "deploys")))
	must(s.CreateEventRule(ctx, &vane.EventRule{ID: "ev-2", Name: "log", Path: "/app/", Target: vane.TargetLog,
		Disabled: true, StartSeq: 3, CreatedBy: "alice", Created: jobsAt, Updated: jobsAt}))
	dv1, dv2 := storetest.NewEventDelivery("dv-1", "ev-1", 4), storetest.NewEventDelivery("dv-2", "ev-1", 5)
	must(s.EnqueueEvents(ctx, []*vane.EventDelivery{dv1, dv2, storetest.NewEventDelivery("dv-3", "ev-2", 4)}))
	attempt := func(d *vane.EventDelivery, state vane.EventState, status int, errText string) {
		t.Helper()
		d.Attempts++
		at := d.Created.Add(time.Duration(d.Attempts)*time.Second + 7)
		d.State, d.LastStatus, d.LastError, d.NextAttempt = state, status, errText, at.Add(time.Minute)
		if state == vane.EventDelivered {
			d.Delivered, d.NextAttempt = at, time.Time{}
		}
		must(s.RecordAttempt(ctx, d, &vane.EventAttempt{DeliveryID: d.ID, N: d.Attempts, Time: at, Status: status,
			Latency: 1500*time.Millisecond + 3, Error: errText}))
	}
	attempt(dv1, vane.EventPending, 503, "HTTP 503")
	attempt(dv1, vane.EventDelivered, 200, "")
	attempt(dv2, vane.EventDead, 0, "dial tcp: connection refused")
}

// assertSameEvents fails unless the event rules of want and got read
// alike, with every delivery of each, newest first, and their attempts.
func assertSameEvents(t *testing.T, want, got vane.EventStore) {
	t.Helper()
	ctx := t.Context()
	wr, err := want.EventRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := got.EventRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "EventRules", gr, wr)
	all := func(s vane.EventStore, rule string) []*vane.EventDelivery {
		var out []*vane.EventDelivery
		q := &vane.EventDeliveryQuery{RuleID: rule, Limit: vane.MaxPageSize}
		for {
			page, err := s.EventDeliveries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Deliveries...)
			if page.NextToken == "" {
				return out
			}
			q.NextToken = page.NextToken
		}
	}
	for _, r := range wr {
		wd := all(want, r.ID)
		assertEqual(t, "EventDeliveries "+r.ID, all(got, r.ID), wd)
		for _, d := range wd {
			wa, err := want.EventAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			ga, err := got.EventAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			assertEqual(t, "EventAttempts "+d.ID, ga, wa)
		}
	}
}

// assertEventsGoOn fails unless dst, holding a copy of fillEvents' events,
// goes on with them: ev-2's pending delivery is still pending and
// enqueuing it again leaves it as it is, its name is still taken, and an
// attempt after a redelivery of dv-2 is listed after the copied ones.
func assertEventsGoOn(t *testing.T, dst vane.EventStore) {
	t.Helper()
	ctx := t.Context()
	if err := dst.CreateEventRule(ctx, storetest.NewEventRule("ev-3", "deploys")); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Errorf("a second rule named deploys: %v; want conflict", err)
	}
	if err := dst.EnqueueEvents(ctx, []*vane.EventDelivery{storetest.NewEventDelivery("dv-3", "ev-2", 99)}); err != nil {
		t.Fatal(err)
	}
	pending, err := dst.PendingEvents(ctx, "ev-2", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ID != "dv-3" || pending[0].Seq != 4 {
		t.Errorf("ev-2 pending = %+v, want dv-3 of seq 4 only", pending)
	}
	d, err := dst.RedeliverEvent(ctx, "dv-2", jobsAt)
	if err != nil {
		t.Fatal(err)
	}
	d.Attempts, d.State, d.Delivered = 1, vane.EventDelivered, jobsAt.Add(time.Second)
	if err := dst.RecordAttempt(ctx, d, &vane.EventAttempt{DeliveryID: d.ID, N: 1, Time: jobsAt.Add(time.Second), Status: 200}); err != nil {
		t.Fatal(err)
	}
	as, err := dst.EventAttempts(ctx, "dv-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Status != 0 || as[1].Status != 200 {
		t.Errorf("dv-2's attempts after a redelivery: %+v; want the copied one, then the 200", as)
	}
}

// allRollouts reads every rollout of s, newest first.
func allRollouts(t *testing.T, s storetest.JobStore, active bool) []*vane.Rollout {
	t.Helper()
	var out []*vane.Rollout
	q := &vane.RolloutQuery{Active: active, Limit: vane.MaxPageSize}
	for {
		page, err := s.Rollouts(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Rollouts...)
		if page.NextToken == "" {
			return out
		}
		q.NextToken = page.NextToken
	}
}

// allSchedules reads every scheduled change of s, the earliest first.
func allSchedules(t *testing.T, s storetest.JobStore, state vane.ScheduleState) []*vane.Schedule {
	t.Helper()
	var out []*vane.Schedule
	q := &vane.ScheduleQuery{State: state, Limit: vane.MaxPageSize}
	for {
		page, err := s.Schedules(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Schedules...)
		if page.NextToken == "" {
			return out
		}
		q.NextToken = page.NextToken
	}
}

// assertSameJobs fails unless the jobs of want and got read alike: every
// rollout and the active ones, every scheduled change and the pending
// ones, each by ID too, and the leases of jobs, as a node that does not
// hold them sees them (which leaves them as they are).
func assertSameJobs(t *testing.T, want, got storetest.JobStore, jobs ...string) {
	t.Helper()
	ctx := t.Context()
	for _, active := range []bool{false, true} {
		wr, gr := allRollouts(t, want, active), allRollouts(t, got, active)
		assertEqual(t, fmt.Sprintf("Rollouts (active only: %t)", active), gr, wr)
		for _, r := range wr {
			g, err := got.Rollout(ctx, r.ID)
			if err != nil {
				t.Fatalf("Rollout %s: %v", r.ID, err)
			}
			assertEqual(t, "Rollout "+r.ID, g, r)
		}
	}
	for _, state := range []vane.ScheduleState{"", vane.SchedulePending} {
		ws, gs := allSchedules(t, want, state), allSchedules(t, got, state)
		assertEqual(t, fmt.Sprintf("Schedules (state %q)", state), gs, ws)
		for _, sc := range ws {
			g, err := got.Schedule(ctx, sc.ID)
			if err != nil {
				t.Fatalf("Schedule %s: %v", sc.ID, err)
			}
			assertEqual(t, "Schedule "+sc.ID, g, sc)
		}
	}
	for _, job := range jobs {
		wl, wok, werr := want.AcquireLease(ctx, job, "another-node", time.Minute)
		gl, gok, gerr := got.AcquireLease(ctx, job, "another-node", time.Minute)
		if werr != nil || gerr != nil || wok || gok {
			t.Fatalf("AcquireLease %s by another node: source %v, %v; destination %v, %v; want the lease held", job, wok, werr, gok, gerr)
		}
		assertEqual(t, "Lease "+job, gl, wl)
	}
}

// assertJobsGoOn fails unless dst, holding a copy of fillJobs' jobs, goes
// on with them: node-a still holds its lease with its cursor, ro-3 still
// keeps a second rollout of its name out, and a new rollout and scheduled
// change list after the copied ones (so their seqs are higher).
func assertJobsGoOn(t *testing.T, dst storetest.JobStore) {
	t.Helper()
	ctx := t.Context()
	l, ok, err := dst.AcquireLease(ctx, "rollouts", "node-a", time.Hour)
	if err != nil || !ok || l.Cursor != 25 {
		t.Errorf("node-a renewing its lease: %+v, %v, %v; want it renewed with cursor 25", l, ok, err)
	}
	err = dst.CreateRollout(ctx, storetest.NewRollout("ro-4", "/app/features/x", vane.RolloutRunning))
	if vane.ErrorCode(err) != vane.ECONFLICT || vane.ErrorDetail(err) != vane.DetailRolloutInProgress {
		t.Errorf("a second active rollout of /app/features/x: %v; want conflict RolloutInProgress", err)
	}
	if err := dst.CreateRollout(ctx, storetest.NewRollout("ro-4", "/app/features/y", vane.RolloutRunning)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range allRollouts(t, dst, false) {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[ro-4 ro-3 ro-2 ro-1]" {
		t.Errorf("rollouts after a new one = %v, want [ro-4 ro-3 ro-2 ro-1]", ids)
	}
	if err := dst.CreateSchedule(ctx, storetest.NewSchedule("sc-3", "/app/features/z", jobsAt)); err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, sc := range allSchedules(t, dst, "") {
		ids = append(ids, sc.ID)
	}
	// All are due at the same time, so they list by seq.
	if fmt.Sprint(ids) != "[sc-1 sc-2 sc-3]" {
		t.Errorf("schedules after a new one = %v, want [sc-1 sc-2 sc-3]", ids)
	}
}

// fillChangeRequests writes three change requests, made in this order:
// cr-1, rejected by carol (revision 2); cr-2, of two names, approved by
// carol and applied by dave (revision 3); and cr-3, still pending.
func fillChangeRequests(t *testing.T, s vane.ChangeRequestStore) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rejected := storetest.NewChangeRequest("cr-1", "/app/features/x")
	must(s.CreateChangeRequest(ctx, rejected))
	rejected.State, rejected.Updated = vane.ChangeRejected, jobsAt
	rejected.Reviews = []vane.ChangeReview{{Principal: "carol", Verdict: vane.VerdictReject, Comment: "not today", Time: jobsAt}}
	must(s.UpdateChangeRequest(ctx, rejected))

	applied := storetest.NewChangeRequest("cr-2", "/app/features/y", "/app/features/z")
	applied.Comment = "turn y and z on"
	must(s.CreateChangeRequest(ctx, applied))
	applied.State, applied.Updated = vane.ChangeApproved, jobsAt.Add(time.Minute)
	applied.Reviews = []vane.ChangeReview{{Principal: "carol", Key: "AKIDCAROL", Verdict: vane.VerdictApprove, Time: jobsAt.Add(time.Minute)}}
	must(s.UpdateChangeRequest(ctx, applied))
	applied.State, applied.AppliedBy, applied.Applied, applied.Updated = vane.ChangeApplied, "dave", jobsAt.Add(time.Hour+1), jobsAt.Add(time.Hour+1)
	must(s.UpdateChangeRequest(ctx, applied))

	must(s.CreateChangeRequest(ctx, storetest.NewChangeRequest("cr-3", "/app/features/x")))
}

// allChangeRequests reads every change request of s in state ("" for
// every state), newest first.
func allChangeRequests(t *testing.T, s vane.ChangeRequestStore, state vane.ChangeRequestState) []*vane.ChangeRequest {
	t.Helper()
	var out []*vane.ChangeRequest
	q := &vane.ChangeRequestQuery{State: state, Limit: vane.MaxPageSize}
	for {
		page, err := s.ChangeRequests(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.ChangeRequests...)
		if page.NextToken == "" {
			return out
		}
		q.NextToken = page.NextToken
	}
}

// assertSameChangeRequests fails unless the change requests of want and
// got read alike: every request, the pending ones, each by ID too, and
// those under a prefix. The requests are stored as JSON bodies, copied
// byte for byte, so both sides decode to deeply equal values, times
// included.
func assertSameChangeRequests(t *testing.T, want, got vane.ChangeRequestStore) {
	t.Helper()
	ctx := t.Context()
	for _, state := range []vane.ChangeRequestState{"", vane.ChangePending} {
		wr, gr := allChangeRequests(t, want, state), allChangeRequests(t, got, state)
		assertEqual(t, fmt.Sprintf("ChangeRequests (state %q)", state), gr, wr)
		for _, cr := range wr {
			g, err := got.ChangeRequest(ctx, cr.ID)
			if err != nil {
				t.Fatalf("ChangeRequest %s: %v", cr.ID, err)
			}
			assertEqual(t, "ChangeRequest "+cr.ID, g, cr)
		}
	}
	q := &vane.ChangeRequestQuery{Prefix: "/app/features/x"}
	wp, err := want.ChangeRequests(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	gp, err := got.ChangeRequests(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "ChangeRequests under /app/features/x", gp.ChangeRequests, wp.ChangeRequests)
}

// assertChangeRequestsGoOn fails unless dst, holding a copy of
// fillChangeRequests' requests, goes on with them: cr-1's ID is still
// taken, cr-3 moves on from its copied revision, and a new request lists
// before the copied ones (so its seq is higher).
func assertChangeRequestsGoOn(t *testing.T, dst vane.ChangeRequestStore) {
	t.Helper()
	ctx := t.Context()
	if err := dst.CreateChangeRequest(ctx, storetest.NewChangeRequest("cr-1", "/app/other")); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Errorf("a second change request cr-1: %v; want conflict", err)
	}
	cr, err := dst.ChangeRequest(ctx, "cr-3")
	if err != nil {
		t.Fatal(err)
	}
	stale := *cr
	cr.State = vane.ChangeApproved
	if err := dst.UpdateChangeRequest(ctx, cr); err != nil || cr.Revision != 2 {
		t.Errorf("approving cr-3: %v, revision %d; want revision 2", err, cr.Revision)
	}
	stale.State = vane.ChangeCancelled
	if err := dst.UpdateChangeRequest(ctx, &stale); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Errorf("cancelling cr-3 at its copied revision after an approval: %v; want conflict", err)
	}
	if err := dst.CreateChangeRequest(ctx, storetest.NewChangeRequest("cr-4", "/app/features/z")); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, cr := range allChangeRequests(t, dst, "") {
		ids = append(ids, cr.ID)
	}
	if fmt.Sprint(ids) != "[cr-4 cr-3 cr-2 cr-1]" {
		t.Errorf("change requests after a new one = %v, want [cr-4 cr-3 cr-2 cr-1]", ids)
	}
}

// assertSameStore fails unless every read of want and got agrees: the
// snapshot, the whole change log, and of every sample'th parameter its
// history, tags, and reads by version and by label.
func assertSameStore(t *testing.T, want, got vane.Store, sample int) {
	t.Helper()
	ctx := t.Context()
	wantParams, wantSeq, err := want.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotParams, gotSeq, err := got.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gotSeq != wantSeq {
		t.Errorf("Snapshot sequence = %d, want %d", gotSeq, wantSeq)
	}
	assertEqual(t, "Snapshot", gotParams, wantParams)
	assertEqual(t, "Changes", storetest.AllChanges(t, got), storetest.AllChanges(t, want))

	for i, p := range wantParams {
		if i%sample != 0 {
			continue
		}
		wh, gh := storetest.AllHistory(t, want, p.Name), storetest.AllHistory(t, got, p.Name)
		assertEqual(t, "History "+p.Name, gh, wh)
		wt, err := want.Tags(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		gt, err := got.Tags(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		assertEqual(t, "Tags "+p.Name, gt, wt)
		var selectors []string
		for _, v := range wh {
			selectors = append(selectors, fmt.Sprintf("%s:%d", p.Name, v.Version))
			for _, l := range v.Labels {
				selectors = append(selectors, p.Name+":"+l)
			}
		}
		for _, sel := range append(selectors, p.Name) {
			wp, err := want.Get(ctx, sel)
			if err != nil {
				t.Fatal(err)
			}
			gp, err := got.Get(ctx, sel)
			if err != nil {
				t.Errorf("Get %s: %v", sel, err)
				continue
			}
			assertEqual(t, "Get "+sel, gp, wp)
		}
	}
}

func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs:\n got %s\nwant %s", what, dump(got), dump(want))
	}
}

// dump formats parameters by value rather than by address.
func dump(v any) string {
	switch v := v.(type) {
	case []*vane.Parameter:
		var b strings.Builder
		for _, p := range v {
			fmt.Fprintf(&b, "%+v\n", *p)
		}
		return b.String()
	case *vane.Parameter:
		return fmt.Sprintf("%+v", *v)
	case []*vane.Rollout, *vane.Rollout, []*vane.Schedule, *vane.Schedule,
		[]*vane.ChangeRequest, *vane.ChangeRequest,
		[]*vane.EventRule, []*vane.EventDelivery, []*vane.EventAttempt:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprintf("%+v", v)
}

func TestCopy(t *testing.T) {
	t.Run("CopiesEverything", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fill(t, src)
		fillJobs(t, src)
		fillChangeRequests(t, src)
		fillEvents(t, src)

		var calls int
		var lastDone, lastTotal int64
		stats, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, func(done, total int64) {
			calls++
			if done < lastDone || done > total {
				t.Errorf("progress went from %d to %d of %d", lastDone, done, total)
			}
			lastDone, lastTotal = done, total
		})
		if err != nil {
			t.Fatal(err)
		}
		// 6 parameters with 1+i%4 versions, 3 more, one deleted and one
		// deleted and recreated.
		// fillJobs: 2 leases, 3 rollouts, 2 scheduled changes.
		// fillChangeRequests: 3 change requests. fillEvents: 2 rules, 3
		// deliveries, 3 attempts.
		want := sqlstore.CopyStats{Parameters: 8, Versions: 14, Labels: 4, Tags: 8, Changes: 25, Audit: 25,
			Leases: 2, Rollouts: 3, Schedules: 2, ChangeRequests: 3, EventRules: 2, EventDeliveries: 3, EventAttempts: 3,
			MaxSeq: 25, MaxAuditID: 25, MaxRolloutSeq: 3, MaxScheduleSeq: 2, MaxChangeRequestSeq: 3}
		if *stats != want {
			t.Errorf("stats = %+v, want %+v", *stats, want)
		}
		if calls < 2 || lastDone != stats.Total() || lastTotal != stats.Total() {
			t.Errorf("%d progress calls, last (%d, %d), want at least 2 ending with (%d, %[4]d)", calls, lastDone, lastTotal, stats.Total())
		}
		assertSameStore(t, src, dst, 1)
		assertSameJobs(t, src, dst, "rollouts", "schedules")
		assertSameChangeRequests(t, src, dst)
		assertSameEvents(t, src, dst)
	})

	t.Run("JobsGoOn", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fillJobs(t, src)
		if _, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil); err != nil {
			t.Fatal(err)
		}
		assertJobsGoOn(t, dst)
	})

	t.Run("ChangeRequestsGoOn", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fillChangeRequests(t, src)
		if _, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil); err != nil {
			t.Fatal(err)
		}
		assertChangeRequestsGoOn(t, dst)
	})

	t.Run("EventsGoOn", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fillEvents(t, src)
		if _, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil); err != nil {
			t.Fatal(err)
		}
		assertEventsGoOn(t, dst)
	})

	t.Run("NewChangesContinueTheSequence", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fill(t, src)
		stats, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Put(t.Context(), &vane.PutInput{Name: "/after/copy", Value: "v", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		changes, err := dst.Changes(t.Context(), stats.MaxSeq, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 1 || changes[0].Seq != stats.MaxSeq+1 || changes[0].Name != "/after/copy" {
			t.Errorf("changes after %d = %+v, want one put of /after/copy with sequence %d", stats.MaxSeq, changes, stats.MaxSeq+1)
		}
	})

	t.Run("CopiesAnEmptyStore", func(t *testing.T) {
		stats, err := sqlstore.Copy(t.Context(), MustOpen(t).Store, MustOpen(t).Store, nil)
		if err != nil {
			t.Fatal(err)
		}
		if *stats != (sqlstore.CopyStats{}) {
			t.Errorf("stats = %+v, want zeros", *stats)
		}
	})

	t.Run("ErrDestinationHasParameters", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fill(t, src)
		if _, err := dst.Put(t.Context(), &vane.PutInput{Name: "/x", Value: "v", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("Copy into a store with a parameter: err = %v, want one saying it is not empty", err)
		}
		if p, _, _ := dst.Snapshot(t.Context()); len(p) != 1 {
			t.Errorf("the failed copy changed the destination: %d parameters", len(p))
		}
	})

	t.Run("ErrDestinationHasLease", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fill(t, src)
		fillJobs(t, src)
		fillChangeRequests(t, src)
		// As a server started on the destination would.
		if _, _, err := dst.AcquireLease(t.Context(), "rollouts", "node-b", time.Minute); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "1 job leases") {
			t.Fatalf("Copy into a store with a lease: err = %v, want one saying it is not empty", err)
		}
		if p, _, _ := dst.Snapshot(t.Context()); len(p) != 0 {
			t.Errorf("the failed copy changed the destination: %d parameters", len(p))
		}
	})

	t.Run("ErrDestinationHasEventRule", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fillEvents(t, src)
		if err := dst.CreateEventRule(t.Context(), storetest.NewEventRule("ev-9", "other")); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "1 event rules") {
			t.Fatalf("Copy into a store with an event rule: err = %v, want one saying it is not empty", err)
		}
	})

	t.Run("ErrDestinationHasChangeRequest", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fillChangeRequests(t, src)
		if err := dst.CreateChangeRequest(t.Context(), storetest.NewChangeRequest("cr-9", "/other")); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "1 change requests") {
			t.Fatalf("Copy into a store with a change request: err = %v, want one saying it is not empty", err)
		}
	})

	t.Run("ErrDestinationHasChanges", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fill(t, src)
		if _, err := dst.Put(t.Context(), &vane.PutInput{Name: "/x", Value: "v", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		if err := dst.Delete(t.Context(), &vane.DeleteInput{Name: "/x"}); err != nil {
			t.Fatal(err)
		}
		_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("Copy into a store with changes: err = %v, want one saying it is not empty", err)
		}
	})

	// A trigger on the destination alters what Copy writes, as a faulty
	// driver or a concurrent writer could; the verification must see it.
	for _, tt := range []struct {
		name, trigger, want string
	}{
		{"ErrVerifyChangedValue", `CREATE TRIGGER tamper AFTER INSERT ON versions WHEN NEW.version = 2
			BEGIN UPDATE versions SET value = 'x' WHERE name = NEW.name AND version = 2; END`, "versions: the rows differ"},
		{"ErrVerifyLostRow", `CREATE TRIGGER tamper AFTER INSERT ON labels WHEN NEW.label = 'old'
			BEGIN DELETE FROM labels WHERE name = NEW.name AND label = 'old'; END`, "labels: 4 rows in the source, 3 in the destination"},
		{"ErrVerifyChangedSequence", `CREATE TRIGGER tamper AFTER INSERT ON changes WHEN NEW.seq = 25
			BEGIN UPDATE changes SET seq = 26 WHERE seq = 25; END`, "changes: max/sum of seq 25/325 in the source, 26/326"},
		// Cursors 25 and -1 (never saved).
		{"ErrVerifyChangedCursor", `CREATE TRIGGER tamper AFTER INSERT ON leases
			BEGIN UPDATE leases SET cursor = cursor + 1 WHERE job = NEW.job; END`, "leases: max/sum of cursor 25/24 in the source, 26/26"},
		{"ErrVerifyNulledActiveName", `CREATE TRIGGER tamper AFTER INSERT ON rollouts WHEN NEW.active_name IS NOT NULL
			BEGIN UPDATE rollouts SET active_name = NULL WHERE seq = NEW.seq; END`, "rollouts: the rows differ"},
		{"ErrVerifyEmptiedNull", `CREATE TRIGGER tamper AFTER INSERT ON rollouts WHEN NEW.id = 'ro-1'
			BEGIN UPDATE rollouts SET active_name = '' WHERE seq = NEW.seq; END`, "rollouts: the rows differ"},
		{"ErrVerifyLostSchedule", `CREATE TRIGGER tamper AFTER INSERT ON schedules WHEN NEW.id = 'sc-2'
			BEGIN DELETE FROM schedules WHERE seq = NEW.seq; END`, "schedules: 2 rows in the source, 1 in the destination"},
		{"ErrVerifyChangedRequestState", `CREATE TRIGGER tamper AFTER INSERT ON change_requests WHEN NEW.id = 'cr-2'
			BEGIN UPDATE change_requests SET state = 'pending' WHERE seq = NEW.seq; END`, "change_requests: the rows differ"},
		{"ErrVerifyChangedRequestRevision", `CREATE TRIGGER tamper AFTER INSERT ON change_requests WHEN NEW.id = 'cr-1'
			BEGIN UPDATE change_requests SET revision = 1 WHERE seq = NEW.seq; END`, "change_requests: the rows differ"},
		{"ErrVerifyLostRequest", `CREATE TRIGGER tamper AFTER INSERT ON change_requests WHEN NEW.id = 'cr-3'
			BEGIN DELETE FROM change_requests WHERE seq = NEW.seq; END`, "change_requests: 3 rows in the source, 2 in the destination"},
		{"ErrVerifyChangedRuleSecret", `CREATE TRIGGER tamper AFTER INSERT ON event_rules WHEN NEW.id = 'ev-1'
			BEGIN UPDATE event_rules SET sealed_secret = '' WHERE id = NEW.id; END`, "event_rules: the rows differ"},
		{"ErrVerifyChangedDeliveryState", `CREATE TRIGGER tamper AFTER INSERT ON event_deliveries WHEN NEW.id = 'dv-2'
			BEGIN UPDATE event_deliveries SET state = 'pending' WHERE id = NEW.id; END`, "event_deliveries: the rows differ"},
		{"ErrVerifyChangedAttemptLatency", `CREATE TRIGGER tamper AFTER INSERT ON event_attempts WHEN NEW.n = 2
			BEGIN UPDATE event_attempts SET latency_ns = 0 WHERE delivery_id = NEW.delivery_id AND n = 2; END`, "event_attempts: the rows differ"},
		{"ErrVerifyLostAttempt", `CREATE TRIGGER tamper AFTER INSERT ON event_attempts WHEN NEW.delivery_id = 'dv-2'
			BEGIN DELETE FROM event_attempts WHERE delivery_id = NEW.delivery_id; END`, "event_attempts: 3 rows in the source, 2 in the destination"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := MustOpen(t), MustOpen(t)
			fill(t, src)
			fillJobs(t, src)
			fillChangeRequests(t, src)
			fillEvents(t, src)
			if _, err := dst.Store.DB.ExecContext(t.Context(), tt.trigger); err != nil {
				t.Fatal(err)
			}
			_, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil)
			if err == nil || !strings.Contains(err.Error(), "verification failed") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a verification failure naming %q", err, tt.want)
			}
		})
	}

	t.Run("ErrSecondCopy", func(t *testing.T) {
		src, dst := MustOpen(t), MustOpen(t)
		fill(t, src)
		if _, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlstore.Copy(t.Context(), dst.Store, src.Store, nil); err == nil {
			t.Fatal("a second copy into the same destination succeeded")
		}
		assertSameStore(t, src, dst, 1)
	})
}

// TestCopyManyBatches copies more rows than one batch holds, so that the
// keyset paging over each table and the multi-row inserts are exercised.
func TestCopyManyBatches(t *testing.T) {
	src, dst := MustOpen(t), MustOpen(t)
	ctx := t.Context()
	// Only to fill the source faster: no fsync per put. The writer pool
	// keeps its one connection, whose setting this is.
	if _, err := src.Store.DB.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		t.Fatal(err)
	}
	for i := range 1200 {
		name := fmt.Sprintf("/many/p%04d", i)
		if _, err := src.Put(ctx, &vane.PutInput{Name: name, Value: "v1", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := src.Put(ctx, &vane.PutInput{Name: name, Value: "v2", Overwrite: true}); err != nil {
				t.Fatal(err)
			}
		}
		// Rollouts, every other one ended, scheduled changes and change
		// requests, every third one approved, across batches, NULL
		// active_names among them.
		if i < 1100 {
			r := storetest.NewRollout(fmt.Sprintf("ro-%04d", i), name, vane.RolloutRunning)
			if i%2 == 0 {
				r.State = vane.RolloutCompleted
			}
			if err := src.CreateRollout(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := src.CreateSchedule(ctx, storetest.NewSchedule(fmt.Sprintf("sc-%04d", i), name, jobsAt)); err != nil {
				t.Fatal(err)
			}
			cr := storetest.NewChangeRequest(fmt.Sprintf("cr-%04d", i), name)
			if err := src.CreateChangeRequest(ctx, cr); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				cr.State = vane.ChangeApproved
				if err := src.UpdateChangeRequest(ctx, cr); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Event deliveries and attempts across batches: 1100 deliveries of one
	// rule, each tried once and every tenth twice (1210 attempts, keyed by
	// delivery and number).
	if err := src.CreateEventRule(ctx, storetest.NewEventRule("ev-1", "many")); err != nil {
		t.Fatal(err)
	}
	var ds []*vane.EventDelivery
	for i := range 1100 {
		ds = append(ds, storetest.NewEventDelivery(fmt.Sprintf("dv-%04d", i), "ev-1", int64(i+1)))
	}
	if err := src.EnqueueEvents(ctx, ds); err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		tries := 1
		if i%10 == 0 {
			tries = 2
		}
		for n := range tries {
			d.Attempts, d.LastStatus = n+1, 500+n
			if err := src.RecordAttempt(ctx, d, &vane.EventAttempt{Time: d.Created, Status: d.LastStatus, Latency: time.Duration(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats, err := sqlstore.Copy(ctx, dst.Store, src.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sqlstore.CopyStats{Parameters: 1200, Versions: 1600, Changes: 1600, Audit: 1600, Rollouts: 1100, Schedules: 1100,
		ChangeRequests: 1100, EventRules: 1, EventDeliveries: 1100, EventAttempts: 1210,
		MaxSeq: 1600, MaxAuditID: 1600, MaxRolloutSeq: 1100, MaxScheduleSeq: 1100, MaxChangeRequestSeq: 1100}
	if *stats != want {
		t.Errorf("stats = %+v, want %+v", *stats, want)
	}
	assertSameStore(t, src, dst, 50)
	assertSameJobs(t, src, dst)
	assertSameChangeRequests(t, src, dst)
	assertSameEvents(t, src, dst)
}

// TestCopyPostgres copies a SQLite store into PostgreSQL and back, which
// exercises the reading and writing of both dialects and, on PostgreSQL,
// the setting of the serial columns' sequences after the copied rows.
func TestCopyPostgres(t *testing.T) {
	src, pg, back := MustOpen(t), mustOpenPostgres(t), MustOpen(t)
	fill(t, src)
	fillJobs(t, src)
	fillChangeRequests(t, src)
	fillEvents(t, src)
	want, err := sqlstore.Copy(t.Context(), pg.Store, src.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertSameStore(t, src, pg, 1)
	assertSameJobs(t, src, pg, "rollouts", "schedules")
	assertSameChangeRequests(t, src, pg)
	assertSameEvents(t, src, pg)

	stats, err := sqlstore.Copy(t.Context(), back.Store, pg.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *stats != *want {
		t.Errorf("stats back to SQLite = %+v, want %+v", *stats, *want)
	}
	assertSameStore(t, src, back, 1)
	assertSameJobs(t, src, back, "rollouts", "schedules")
	assertSameChangeRequests(t, src, back)
	assertSameEvents(t, src, back)

	// Without setval, the sequences of rollouts.seq, schedules.seq and
	// change_requests.seq would start again at 1, which the copied rows
	// hold.
	assertJobsGoOn(t, pg)
	assertChangeRequestsGoOn(t, pg)
}
