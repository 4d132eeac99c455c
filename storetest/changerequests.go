package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// changeRequestsAt is the creation time of the change request tests'
// requests; its nanoseconds check that stores keep them.
var changeRequestsAt = time.Date(2026, 12, 5, 9, 30, 0, 987654321, time.UTC)

// NewChangeRequest returns a pending change request by alice that puts
// each of names at version 1 (it was made while they did not exist), as
// the change request tests store it.
func NewChangeRequest(id string, names ...string) *vane.ChangeRequest {
	cr := &vane.ChangeRequest{ID: id, State: vane.ChangePending, Author: "alice",
		Created: changeRequestsAt, Updated: changeRequestsAt}
	for _, n := range names {
		cr.Items = append(cr.Items, vane.ChangeItem{BatchItem: vane.BatchItem{Op: vane.BatchPut, ExpectVersion: i64(0),
			Put: &vane.PutInput{Name: n, Value: "on", Type: vane.TypeString}}})
	}
	return cr
}

// fullChangeRequest returns a change request with every field set,
// including an item of every kind a request may hold.
func fullChangeRequest(id string) *vane.ChangeRequest {
	desc, pattern, policies := "the checkout switch", "^.*$", "[]"
	return &vane.ChangeRequest{
		ID: id, State: vane.ChangeApplied, Comment: "turn checkout on everywhere",
		Author: "alice", AuthorKey: "AKIDALICE",
		Items: []vane.ChangeItem{
			{BatchItem: vane.BatchItem{Op: vane.BatchPut, ExpectVersion: i64(3), Put: &vane.PutInput{
				Name: "/shop/prod/checkout", Value: "sealed:v1:b24=", Type: vane.TypeSecureString,
				Description: &desc, AllowedPattern: &pattern, KeyID: "alias/vane", DataType: "text",
				Tier: vane.TierStandard, Overwrite: true, Policies: &policies,
				Tags: []vane.Tag{{Key: "team", Value: "pay"}, {Key: "env", Value: "prod"}}, ExpectVersion: i64(3)}},
				Sealed: true},
			{BatchItem: vane.BatchItem{Op: vane.BatchLabel, ExpectVersion: i64(3),
				Label: &vane.LabelInput{Name: "/shop/prod/checkout", Version: 4, Labels: []string{"live", "stable"}}}},
			{BatchItem: vane.BatchItem{Op: vane.BatchTag, ExpectVersion: i64(7),
				Tags: &vane.TagInput{Name: "/shop/prod/cart", Tags: []vane.Tag{{Key: "owner", Value: "bob"}}}}},
			{BatchItem: vane.BatchItem{Op: vane.BatchUntag, ExpectVersion: i64(7),
				Tags: &vane.TagInput{Name: "/shop/prod/cart", Keys: []string{"old"}}}},
			{BatchItem: vane.BatchItem{Op: vane.BatchDelete, ExpectVersion: i64(2),
				Delete: &vane.DeleteInput{Name: "/shop/prod/legacy", ExpectVersion: i64(2)}}},
		},
		Reviews: []vane.ChangeReview{
			{Principal: "carol", Key: "AKIDCAROL", Verdict: vane.VerdictReject, Comment: "not on a Friday",
				Time: changeRequestsAt.Add(time.Hour + 1)},
			{Principal: "dave", Verdict: vane.VerdictApprove, Time: changeRequestsAt.Add(2*time.Hour + 2)},
		},
		Reason: "applied at the second attempt", AppliedBy: "dave",
		Applied: changeRequestsAt.Add(3*time.Hour + 3), Created: changeRequestsAt, Updated: changeRequestsAt.Add(3*time.Hour + 3),
	}
}

// normalizedRequest returns a copy of cr with its times in UTC and without
// monotonic readings, for a deep comparison.
func normalizedRequest(cr *vane.ChangeRequest) *vane.ChangeRequest {
	c := *cr
	norm := func(t time.Time) time.Time { return t.UTC().Round(0) }
	c.Applied, c.Created, c.Updated = norm(c.Applied), norm(c.Created), norm(c.Updated)
	c.Reviews = slices.Clone(c.Reviews)
	for i := range c.Reviews {
		c.Reviews[i].Time = norm(c.Reviews[i].Time)
	}
	return &c
}

// wantSameRequest reports an error unless got and want are deeply equal
// once their times are normalized.
func wantSameRequest(t *testing.T, what string, got, want *vane.ChangeRequest) {
	t.Helper()
	if g, w := normalizedRequest(got), normalizedRequest(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n%s\nwant\n%s", what, dumpRequest(g), dumpRequest(w))
	}
}

// dumpRequest shows a request with the inputs its items point to.
func dumpRequest(cr *vane.ChangeRequest) string {
	s := fmt.Sprintf("%+v", *cr)
	for i, it := range cr.Items {
		s += fmt.Sprintf("\n  item %d: %s sealed=%v expect=%v", i, it.Op, it.Sealed, ptrValue(it.ExpectVersion))
		switch {
		case it.Put != nil:
			s += fmt.Sprintf(" put %+v desc=%v expect=%v", *it.Put, ptrValue(it.Put.Description), ptrValue(it.Put.ExpectVersion))
		case it.Delete != nil:
			s += fmt.Sprintf(" delete %+v expect=%v", *it.Delete, ptrValue(it.Delete.ExpectVersion))
		case it.Label != nil:
			s += fmt.Sprintf(" label %+v", *it.Label)
		case it.Tags != nil:
			s += fmt.Sprintf(" tags %+v", *it.Tags)
		}
	}
	return s
}

func ptrValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func mustRequest(t *testing.T, s vane.ChangeRequestStore, id string) *vane.ChangeRequest {
	t.Helper()
	cr, err := s.ChangeRequest(t.Context(), id)
	must(t, err)
	return cr
}

// requestIDs lists the IDs of the first page of q.
func requestIDs(t *testing.T, s vane.ChangeRequestStore, q vane.ChangeRequestQuery) []string {
	t.Helper()
	p, err := s.ChangeRequests(t.Context(), &q)
	must(t, err)
	ids := []string{}
	for _, cr := range p.ChangeRequests {
		ids = append(ids, cr.ID)
	}
	return ids
}

// allRequestIDs pages through q with its limit and returns the IDs of
// every page, checking that no page is longer than the limit.
func allRequestIDs(t *testing.T, s vane.ChangeRequestStore, q vane.ChangeRequestQuery) (ids []string, pages int) {
	t.Helper()
	ids = []string{}
	for pages = 1; pages <= maxPages; pages++ {
		p, err := s.ChangeRequests(t.Context(), &q)
		must(t, err)
		if q.Limit > 0 && len(p.ChangeRequests) > q.Limit {
			t.Fatalf("page %d holds %d requests, more than the limit %d", pages, len(p.ChangeRequests), q.Limit)
		}
		for _, cr := range p.ChangeRequests {
			ids = append(ids, cr.ID)
		}
		if p.NextToken == "" {
			return ids, pages
		}
		q.NextToken = p.NextToken
	}
	t.Fatalf("still returning a NextToken after %d pages", maxPages)
	return nil, 0
}

// RunChangeRequests runs the conformance tests of vane.ChangeRequestStore.
// open returns a new, empty store and closes it when the test ends.
func RunChangeRequests(t *testing.T, open func(t *testing.T) vane.ChangeRequestStore) {
	t.Helper()
	for _, tc := range changeRequestTests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var changeRequestTests = []struct {
	name string
	fn   func(t *testing.T, s vane.ChangeRequestStore)
}{
	{"CreateAndReadRoundTripsEveryField", func(t *testing.T, s vane.ChangeRequestStore) {
		cr := fullChangeRequest("cr-1")
		must(t, s.CreateChangeRequest(t.Context(), cr))
		if cr.Revision != 1 {
			t.Fatalf("revision after create = %d, want 1", cr.Revision)
		}
		wantSameRequest(t, "read back", mustRequest(t, s, "cr-1"), cr)
		p, err := s.ChangeRequests(t.Context(), &vane.ChangeRequestQuery{})
		must(t, err)
		if len(p.ChangeRequests) != 1 || p.NextToken != "" {
			t.Fatalf("list: %d requests, next token %q; want the one", len(p.ChangeRequests), p.NextToken)
		}
		wantSameRequest(t, "listed", p.ChangeRequests[0], cr)
	}},
	{"ErrConflictOnDuplicateID", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		must(t, s.CreateChangeRequest(ctx, NewChangeRequest("cr-1", "/a/x")))
		dup := NewChangeRequest("cr-1", "/b/y")
		wantCode(t, "a taken id", s.CreateChangeRequest(ctx, dup), vane.ECONFLICT)
		if dup.Revision != 0 {
			t.Errorf("revision of a refused request = %d, want 0", dup.Revision)
		}
		if got := mustRequest(t, s, "cr-1"); got.Items[0].Name() != "/a/x" {
			t.Errorf("the first request was replaced: %s", dumpRequest(got))
		}
	}},
	{"ErrInvalid", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		wantCode(t, "no id", s.CreateChangeRequest(ctx, NewChangeRequest("", "/a/x")), vane.EINVALID)
		wantCode(t, "no items", s.CreateChangeRequest(ctx, NewChangeRequest("cr-1")), vane.EINVALID)
		empty := NewChangeRequest("cr-2")
		empty.Items = []vane.ChangeItem{}
		wantCode(t, "an empty item list", s.CreateChangeRequest(ctx, empty), vane.EINVALID)
		for _, limit := range []int{-1, vane.MaxPageSize + 1} {
			_, err := s.ChangeRequests(ctx, &vane.ChangeRequestQuery{Limit: limit})
			wantCode(t, fmt.Sprintf("limit %d", limit), err, vane.EINVALID)
		}
		if ids := requestIDs(t, s, vane.ChangeRequestQuery{}); len(ids) != 0 {
			t.Errorf("refused requests were stored: %v", ids)
		}
	}},
	{"ErrNotFound", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		must(t, s.CreateChangeRequest(ctx, NewChangeRequest("cr-1", "/a/x")))
		_, err := s.ChangeRequest(ctx, "cr-2")
		wantCode(t, "read of a missing id", err, vane.ENOTFOUND)
		missing := NewChangeRequest("cr-2", "/a/x")
		missing.Revision = 1
		wantCode(t, "update of a missing id", s.UpdateChangeRequest(ctx, missing), vane.ENOTFOUND)
		if missing.Revision != 1 {
			t.Errorf("revision after a failed update = %d, want 1", missing.Revision)
		}
	}},
	{"UpdateIsCompareAndSet", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		must(t, s.CreateChangeRequest(ctx, NewChangeRequest("cr-1", "/a/x")))
		a, b := mustRequest(t, s, "cr-1"), mustRequest(t, s, "cr-1")
		a.State, a.Updated = vane.ChangeApproved, changeRequestsAt.Add(time.Minute)
		a.Reviews = []vane.ChangeReview{{Principal: "bob", Verdict: vane.VerdictApprove, Time: a.Updated}}
		must(t, s.UpdateChangeRequest(ctx, a))
		if a.Revision != 2 {
			t.Fatalf("revision after update = %d, want 2", a.Revision)
		}
		wantSameRequest(t, "read after update", mustRequest(t, s, "cr-1"), a)
		b.State = vane.ChangeCancelled
		wantCode(t, "a stale update", s.UpdateChangeRequest(ctx, b), vane.ECONFLICT)
		if b.Revision != 1 {
			t.Errorf("revision after a refused update = %d, want 1 kept", b.Revision)
		}
		wantSameRequest(t, "read after a refused update", mustRequest(t, s, "cr-1"), a)
		if ids := requestIDs(t, s, vane.ChangeRequestQuery{State: vane.ChangeCancelled}); len(ids) != 0 {
			t.Errorf("cancelled after a refused update: %v", ids)
		}
		// The update moves the columns queries select by, too.
		if ids := requestIDs(t, s, vane.ChangeRequestQuery{State: vane.ChangeApproved}); !slices.Equal(ids, []string{"cr-1"}) {
			t.Errorf("approved after the update: %v", ids)
		}
		if ids := requestIDs(t, s, vane.ChangeRequestQuery{State: vane.ChangePending}); len(ids) != 0 {
			t.Errorf("still pending after the update: %v", ids)
		}
		a.Items = NewChangeRequest("", "/b/y").Items
		must(t, s.UpdateChangeRequest(ctx, a))
		if a.Revision != 3 {
			t.Fatalf("revision after the second update = %d, want 3", a.Revision)
		}
		if ids := requestIDs(t, s, vane.ChangeRequestQuery{Prefix: "/b"}); !slices.Equal(ids, []string{"cr-1"}) {
			t.Errorf("prefix /b after the items moved there: %v", ids)
		}
		if ids := requestIDs(t, s, vane.ChangeRequestQuery{Prefix: "/a"}); len(ids) != 0 {
			t.Errorf("prefix /a after the items moved away: %v", ids)
		}
	}},
	{"ListNewestFirstByState", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		states := []vane.ChangeRequestState{vane.ChangePending, vane.ChangeApproved, vane.ChangePending, vane.ChangeRejected}
		for i, st := range states {
			cr := NewChangeRequest(fmt.Sprintf("cr-%d", i), fmt.Sprintf("/a/p%d", i))
			cr.State = st
			must(t, s.CreateChangeRequest(ctx, cr))
		}
		for _, tc := range []struct {
			state vane.ChangeRequestState
			want  []string
		}{
			{"", []string{"cr-3", "cr-2", "cr-1", "cr-0"}},
			{vane.ChangePending, []string{"cr-2", "cr-0"}},
			{vane.ChangeApproved, []string{"cr-1"}},
			{vane.ChangeRejected, []string{"cr-3"}},
			{vane.ChangeApplied, []string{}},
		} {
			if got := requestIDs(t, s, vane.ChangeRequestQuery{State: tc.state}); !slices.Equal(got, tc.want) {
				t.Errorf("state %q: %v, want %v", tc.state, got, tc.want)
			}
		}
	}},
	{"ListByPrefix", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		for _, cr := range []*vane.ChangeRequest{
			NewChangeRequest("at", "/a"),
			NewChangeRequest("under", "/a/x/p", "/a/x/q"),      // path /a/x/
			NewChangeRequest("spans", "/a/p", "/a/x/r"),        // path /a/
			NewChangeRequest("sibling", "/ab/p"),               // shares "/a" as a string only
			NewChangeRequest("underscore", "/a_b/x", "/a_b/y"), // path /a_b/
			NewChangeRequest("wildcard", "/axb/x"),             // what a LIKE '/a_b%' would match
			NewChangeRequest("other", "/c/x"),
		} {
			must(t, s.CreateChangeRequest(ctx, cr))
		}
		all := []string{"other", "wildcard", "underscore", "sibling", "spans", "under", "at"}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"", all},
			{"/", all},
			{"/a", []string{"spans", "under", "at"}},
			{"/a/", []string{"spans", "under", "at"}},
			{"/a/x", []string{"spans", "under"}},
			{"/a/x/p", []string{"spans", "under"}},
			{"/a/b", []string{"spans"}},
			{"/ab", []string{"sibling"}},
			{"/a_b", []string{"underscore"}},
			{"/a_b/", []string{"underscore"}},
			{"/axb", []string{"wildcard"}},
			{"/d", []string{}},
		} {
			if got := requestIDs(t, s, vane.ChangeRequestQuery{Prefix: tc.prefix}); !slices.Equal(got, tc.want) {
				t.Errorf("prefix %q: %v, want %v", tc.prefix, got, tc.want)
			}
		}
		if got := requestIDs(t, s, vane.ChangeRequestQuery{Prefix: "/a", State: vane.ChangeApproved}); len(got) != 0 {
			t.Errorf("prefix /a, approved: %v, want none", got)
		}
	}},
	{"PagingVisitsEachOnce", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		var want, pending []string
		for i := range 7 {
			cr := NewChangeRequest(fmt.Sprintf("cr-%d", i), fmt.Sprintf("/a/p%d", i))
			if i%3 == 1 {
				cr.State = vane.ChangeApproved
			} else {
				pending = append(pending, cr.ID)
			}
			must(t, s.CreateChangeRequest(ctx, cr))
			want = append(want, cr.ID)
		}
		slices.Reverse(want)
		slices.Reverse(pending)
		got, pages := allRequestIDs(t, s, vane.ChangeRequestQuery{Limit: 2})
		if !slices.Equal(got, want) || pages != 4 {
			t.Errorf("pages of 2: %v in %d pages, want %v in 4", got, pages, want)
		}
		got, pages = allRequestIDs(t, s, vane.ChangeRequestQuery{Limit: 2, State: vane.ChangePending})
		if !slices.Equal(got, pending) || pages != 3 {
			t.Errorf("pending, pages of 2: %v in %d pages, want %v in 3", got, pages, pending)
		}
		got, pages = allRequestIDs(t, s, vane.ChangeRequestQuery{Limit: 7})
		if !slices.Equal(got, want) || pages != 1 {
			t.Errorf("a page as long as the list: %v in %d pages, want %v in 1", got, pages, want)
		}
	}},
	{"ErrInvalidNextToken", func(t *testing.T, s vane.ChangeRequestStore) {
		ctx := t.Context()
		must(t, s.CreateChangeRequest(ctx, NewChangeRequest("cr-1", "/a/x")))
		for _, tok := range []string{"bogus", vane.EncodeToken("x"), vane.EncodeToken("-1")} {
			_, err := s.ChangeRequests(ctx, &vane.ChangeRequestQuery{NextToken: tok})
			if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != vane.DetailInvalidNextToken {
				t.Errorf("token %q: %v; want invalid, InvalidNextToken", tok, err)
			}
		}
	}},
}
