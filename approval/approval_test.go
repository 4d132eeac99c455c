package approval_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/approval"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/storetest"
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

var (
	alice = approval.Actor{Name: "alice", Key: "AKALICE"}
	bob   = approval.Actor{Name: "bob", Key: "AKBOB"}
	carol = approval.Actor{Name: "carol", Key: "AKCAROL"}
)

// fixture is a SQLite file, the index, the checked write path, a keyring,
// and the approval service over them on an injected clock.
type fixture struct {
	db    *sqlite.Store
	ix    *index.Store
	g     *guard.Store
	clock *storetest.Clock
	svc   *approval.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(dir, "keyring.json")})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(dir, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Cipher = kr
	clock := storetest.NewClock(t0)
	db.Now = clock.Now
	ix := index.New(db)
	if err := ix.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	g := guard.New(ix)
	svc := &approval.Service{Store: g, Requests: db, Cipher: kr, Audit: db, Events: db, Seq: ix.Seq, Region: "us-east-1",
		Account: "123456789012", Now: clock.Now}
	return &fixture{db: db, ix: ix, g: g, clock: clock, svc: svc}
}

func as(t *testing.T, who approval.Actor) context.Context {
	return vane.NewContextWithPrincipal(t.Context(), who.Name)
}

func (f *fixture) put(t *testing.T, name, value string) *vane.Parameter {
	t.Helper()
	p, err := f.g.Put(as(t, carol), &vane.PutInput{Name: name, Type: vane.TypeString, Value: value, Overwrite: true})
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	return p
}

func (f *fixture) value(t *testing.T, name string) string {
	t.Helper()
	p, err := f.g.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return p.Value
}

func putItem(name, value string) vane.BatchItem {
	return vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true}}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if vane.ErrorCode(err) != code {
		t.Fatalf("error = %v (code %q), want code %q", err, vane.ErrorCode(err), code)
	}
}

// TestFlow proposes a change, has another principal approve it, applies
// it, and checks the writes, the request's history and the audit trail.
func TestFlow(t *testing.T) {
	f := newFixture(t)
	f.put(t, "/app/prod/tuning/limit", "10")
	seq := f.ix.Seq()
	cr, err := f.svc.Propose(as(t, alice), alice, "raise the limit", []vane.BatchItem{
		putItem("/app/prod/tuning/limit", "20"),
		putItem("/app/prod/features/checkout", `{"enabled": true}`),
		{Op: vane.BatchTag, Tags: &vane.TagInput{Name: "/app/prod/tuning/limit", Tags: []vane.Tag{{Key: "owner", Value: "payments"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cr.State != vane.ChangePending || cr.Author != "alice" || !strings.HasPrefix(cr.ID, "cr-") {
		t.Fatalf("proposed: %+v", cr)
	}
	if f.ix.Seq() != seq || f.value(t, "/app/prod/tuning/limit") != "10" {
		t.Fatal("proposing wrote to the store")
	}
	// Each name's first item is pinned to the version it was made against.
	if got := *cr.Items[0].ExpectVersion; got != 1 {
		t.Errorf("limit pinned to %d, want 1", got)
	}
	if got := *cr.Items[1].ExpectVersion; got != 0 {
		t.Errorf("new flag pinned to %d, want 0", got)
	}
	if cr.Items[2].ExpectVersion != nil {
		t.Error("a name's second item is pinned too: it would see the first item's version")
	}

	if _, err := f.svc.Apply(as(t, alice), cr.ID, alice); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Fatalf("apply of a pending request: %v, want conflict", err)
	}
	f.clock.Add(time.Minute)
	cr, err = f.svc.Review(as(t, bob), cr.ID, bob, vane.VerdictApprove, "looks right")
	if err != nil {
		t.Fatal(err)
	}
	if cr.State != vane.ChangeApproved || len(cr.Reviews) != 1 || cr.Reviews[0].Principal != "bob" {
		t.Fatalf("approved: %+v", cr)
	}
	if _, err := f.svc.Review(as(t, carol), cr.ID, carol, vane.VerdictApprove, ""); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Fatalf("second approval of an approved request: %v, want conflict", err)
	}
	cr, err = f.svc.Apply(as(t, alice), cr.ID, alice)
	if err != nil {
		t.Fatal(err)
	}
	if cr.State != vane.ChangeApplied || cr.AppliedBy != "alice" {
		t.Fatalf("applied: %+v", cr)
	}
	if f.value(t, "/app/prod/tuning/limit") != "20" || f.value(t, "/app/prod/features/checkout") != `{"enabled": true}` {
		t.Fatal("the batch was not written")
	}
	tags, err := f.g.Tags(t.Context(), "/app/prod/tuning/limit")
	if err != nil || !slices.Contains(tags, vane.Tag{Key: "owner", Value: "payments"}) {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	// The writes carry the request's id as their batch.
	changes, err := f.ix.Changes(t.Context(), seq, "/", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("%d changes, want 3", len(changes))
	}
	for _, c := range changes {
		if c.Batch != cr.ID || c.Principal != "alice" {
			t.Errorf("change %+v: want batch %s by alice", c, cr.ID)
		}
	}
	if _, err := f.svc.Apply(as(t, alice), cr.ID, alice); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Fatalf("second apply: %v, want conflict", err)
	}
	// Every step is in the audit history of every name.
	page, err := f.db.Audit(t.Context(), &vane.AuditQuery{Prefix: "/app/prod/tuning/limit"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range page.Entries {
		if e.Batch == cr.ID {
			actions = append(actions, e.Action+" "+e.Principal)
		}
	}
	want := []string{"vane:ProposeChange alice", "vane:ApproveChange bob", "ssm:PutParameter alice", "ssm:AddTagsToResource alice", "vane:ApplyChange alice"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit of the request = %q, want %q", actions, want)
	}
}

// TestSelfApprovalRefused: the author can never approve (or reject) their
// own request, by name or by key.
func TestSelfApprovalRefused(t *testing.T) {
	f := newFixture(t)
	cr, err := f.svc.Propose(as(t, alice), alice, "", []vane.BatchItem{putItem("/app/prod/x", "1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, by := range []approval.Actor{alice, {Name: "alice"}, {Name: "alice-second-key", Key: alice.Key}} {
		for _, verdict := range []string{vane.VerdictApprove, vane.VerdictReject} {
			_, err := f.svc.Review(as(t, by), cr.ID, by, verdict, "")
			wantCode(t, err, vane.EFORBIDDEN)
		}
	}
	got, err := f.db.ChangeRequest(t.Context(), cr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != vane.ChangePending || len(got.Reviews) != 0 {
		t.Fatalf("after refused self-reviews: %+v", got)
	}
	if _, err := f.g.Get(t.Context(), "/app/prod/x"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Fatal("a refused self-approval wrote the change")
	}
}

// TestStaleRequestRefused: a request whose name moved on after it was
// made is never applied, whether the move comes before the approval or
// between the approval and the apply, and is kept as stale.
func TestStaleRequestRefused(t *testing.T) {
	for _, when := range []string{"BeforeApproval", "AfterApproval"} {
		t.Run(when, func(t *testing.T) {
			f := newFixture(t)
			f.put(t, "/app/prod/limit", "10")
			cr, err := f.svc.Propose(as(t, alice), alice, "", []vane.BatchItem{putItem("/app/prod/limit", "20"), putItem("/app/prod/other", "x")})
			if err != nil {
				t.Fatal(err)
			}
			if when == "AfterApproval" {
				if _, err := f.svc.Review(as(t, bob), cr.ID, bob, vane.VerdictApprove, ""); err != nil {
					t.Fatal(err)
				}
			}
			f.put(t, "/app/prod/limit", "15") // someone else's change
			var step error
			if when == "BeforeApproval" {
				_, step = f.svc.Review(as(t, bob), cr.ID, bob, vane.VerdictApprove, "")
			} else {
				_, step = f.svc.Apply(as(t, alice), cr.ID, alice)
			}
			wantCode(t, step, vane.ECONFLICT)
			if vane.ErrorDetail(step) != vane.DetailChangeRequestStale || !strings.Contains(step.Error(), "/app/prod/limit") {
				t.Errorf("error %v: want ChangeRequestStale naming the name", step)
			}
			if f.value(t, "/app/prod/limit") != "15" {
				t.Error("a stale request overwrote the newer value")
			}
			if _, err := f.g.Get(t.Context(), "/app/prod/other"); vane.ErrorCode(err) != vane.ENOTFOUND {
				t.Error("a stale request wrote part of its batch")
			}
			got, err := f.db.ChangeRequest(t.Context(), cr.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != vane.ChangeStale || !strings.Contains(got.Reason, "version 2") {
				t.Fatalf("request after the refusal: state %s, reason %q", got.State, got.Reason)
			}
			if _, err := f.svc.Apply(as(t, alice), cr.ID, alice); vane.ErrorCode(err) != vane.ECONFLICT {
				t.Fatalf("apply of a stale request: %v", err)
			}
		})
	}
}

// TestProposeChecks: what could never be applied is refused when
// proposed, naming the item, and nothing is stored.
func TestProposeChecks(t *testing.T) {
	f := newFixture(t)
	f.put(t, "/app/prod/limit", "10")
	stale := int64(7)
	for _, tc := range []struct {
		name  string
		items []vane.BatchItem
		code  string
		index int
	}{
		{"InvalidFlag", []vane.BatchItem{putItem("/app/prod/ok", "1"), putItem("/app/prod/features/f", `{"enabled": "yes"}`)}, vane.EINVALID, 1},
		{"BadName", []vane.BatchItem{putItem("/app//x", "1")}, vane.EINVALID, 0},
		{"WrongExpectedVersion", []vane.BatchItem{{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/app/prod/limit", Value: "2", ExpectVersion: &stale}}}, vane.ECONFLICT, 0},
		{"NoItems", nil, vane.EINVALID, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Propose(as(t, alice), alice, "", tc.items)
			wantCode(t, err, tc.code)
			var be *vane.BatchError
			if tc.index >= 0 && (!asBatchError(err, &be) || be.Index != tc.index) {
				t.Errorf("error %v: want item %d named", err, tc.index)
			}
		})
	}
	if _, err := f.svc.Propose(as(t, alice), alice, strings.Repeat("x", approval.MaxCommentBytes+1), []vane.BatchItem{putItem("/app/prod/x", "1")}); vane.ErrorCode(err) != vane.EINVALID {
		t.Errorf("a comment over the limit: %v", err)
	}
	page, err := f.db.ChangeRequests(t.Context(), &vane.ChangeRequestQuery{})
	if err != nil || len(page.ChangeRequests) != 0 {
		t.Fatalf("refused proposals stored: %v, %v", page, err)
	}
}

func asBatchError(err error, be **vane.BatchError) bool {
	for err != nil {
		if b, ok := err.(*vane.BatchError); ok {
			*be = b
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestSecretsStaySealed: a proposed SecureString value is stored sealed,
// never in plaintext, and applied as its plaintext.
func TestSecretsStaySealed(t *testing.T) {
	f := newFixture(t)
	if _, err := f.g.Put(as(t, carol), &vane.PutInput{Name: "/app/prod/db/password", Type: vane.TypeSecureString, Value: "old-secret"}); err != nil {
		t.Fatal(err)
	}
	// The type is kept from the current version when the put gives none.
	cr, err := f.svc.Propose(as(t, alice), alice, "", []vane.BatchItem{{Op: vane.BatchPut,
		Put: &vane.PutInput{Name: "/app/prod/db/password", Value: "new-secret-value", Overwrite: true}}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.db.ChangeRequest(t.Context(), cr.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(stored)
	if strings.Contains(string(body), "new-secret-value") || !stored.Items[0].Sealed || !keyring.IsSealed(stored.Items[0].Put.Value) {
		t.Fatalf("the proposed secret is stored unsealed: %s", body)
	}
	if _, err := f.svc.Review(as(t, bob), cr.ID, bob, vane.VerdictApprove, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Apply(as(t, bob), cr.ID, bob); err != nil {
		t.Fatal(err)
	}
	p, err := f.g.Get(t.Context(), "/app/prod/db/password")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := f.svc.Cipher.Open(t.Context(), p.Value)
	if err != nil || plain != "new-secret-value" || p.Type != vane.TypeSecureString {
		t.Fatalf("applied secret: %q (%s), %v", plain, p.Type, err)
	}
}

// TestRejectAndCancel: rejected and cancelled requests stay in the
// history and can no longer move; only the author cancels.
func TestRejectAndCancel(t *testing.T) {
	f := newFixture(t)
	a, err := f.svc.Propose(as(t, alice), alice, "", []vane.BatchItem{putItem("/app/prod/a", "1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Review(as(t, bob), a.ID, bob, vane.VerdictReject, "not now"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { _, err := f.svc.Review(as(t, carol), a.ID, carol, vane.VerdictApprove, ""); return err },
		func() error { _, err := f.svc.Apply(as(t, carol), a.ID, carol); return err },
		func() error { _, err := f.svc.Cancel(as(t, alice), a.ID, alice); return err },
	} {
		wantCode(t, step(), vane.ECONFLICT)
	}
	b, err := f.svc.Propose(as(t, alice), alice, "", []vane.BatchItem{putItem("/app/prod/b", "1")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Cancel(as(t, bob), b.ID, bob)
	wantCode(t, err, vane.EFORBIDDEN)
	if _, err := f.svc.Cancel(as(t, alice), b.ID, alice); err != nil {
		t.Fatal(err)
	}
	page, err := f.db.ChangeRequests(t.Context(), &vane.ChangeRequestQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, cr := range page.ChangeRequests {
		states = append(states, string(cr.State))
	}
	if !slices.Equal(states, []string{"cancelled", "rejected"}) {
		t.Fatalf("history = %v", states)
	}
	if _, err := f.g.Get(t.Context(), "/app/prod/a"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Fatal("a rejected request was written")
	}
}

// TestEvents: a rule naming change-request operations gets one event per
// step, with the request's details; a rule naming none gets none.
func TestEvents(t *testing.T) {
	f := newFixture(t)
	for _, r := range []*vane.EventRule{
		{ID: "r1", Name: "approvals", Path: "/app/prod/", Target: vane.TargetLog,
			Operations: []string{vane.EventChangeProposed, vane.EventChangeApproved, vane.EventChangeApplied}},
		{ID: "r2", Name: "all-changes", Path: "/app/prod/", Target: vane.TargetLog},
	} {
		r.Created, r.Updated = t0, t0
		if err := f.db.CreateEventRule(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	queued := 0
	f.svc.Queued = func() { queued++ }
	cr, err := f.svc.Propose(as(t, alice), alice, "ship it", []vane.BatchItem{putItem("/app/prod/a", "1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Review(as(t, bob), cr.ID, bob, vane.VerdictApprove, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Apply(as(t, bob), cr.ID, bob); err != nil {
		t.Fatal(err)
	}
	ds, err := f.db.PendingEvents(t.Context(), "r1", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, d := range ds {
		ops = append(ops, d.Operation)
		var e struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				Principal     string `json:"principal"`
				ChangeRequest struct {
					ID      string   `json:"id"`
					Author  string   `json:"author"`
					Comment string   `json:"comment"`
					Names   []string `json:"names"`
				} `json:"change_request"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(d.Body), &e); err != nil {
			t.Fatal(err)
		}
		if e.DetailType != "Vane Change Request" || e.Detail.ChangeRequest.ID != cr.ID || e.Detail.ChangeRequest.Author != "alice" ||
			e.Detail.ChangeRequest.Comment != "ship it" || !slices.Equal(e.Detail.ChangeRequest.Names, []string{"/app/prod/a"}) {
			t.Errorf("event %s", d.Body)
		}
	}
	if !slices.Equal(ops, []string{vane.EventChangeProposed, vane.EventChangeApproved, vane.EventChangeApplied}) || queued != 3 {
		t.Errorf("events %v, queued %d times", ops, queued)
	}
	if ds, err := f.db.PendingEvents(t.Context(), "r2", 10); err != nil || len(ds) != 0 {
		t.Errorf("a rule not naming change-request operations got %d events (%v)", len(ds), err)
	}
}
