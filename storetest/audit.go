package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// AuditStore is a store that keeps the audit history.
type AuditStore interface {
	vane.Store
	vane.AuditLog
}

// RunAudit runs the conformance tests of vane.AuditLog on stores that
// write the entries of their mutations themselves. open returns a new,
// empty store; the tests close it.
func RunAudit(t *testing.T, open func(t *testing.T) AuditStore) {
	t.Helper()
	t.Run("EveryMutationIsRecorded", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		ctx := vane.NewContextWithPrincipal(context.Background(), "alice")
		ctx = vane.NewContextWithRequest(ctx, vane.RequestInfo{Source: "10.0.0.7", RequestID: "req-1"})
		const secret = "s3cr3t-plaintext-value"
		steps := []func() error{
			func() error {
				_, err := s.Put(ctx, &vane.PutInput{Name: "/a/x", Value: "1", Type: vane.TypeString})
				return err
			},
			func() error {
				_, err := s.Put(ctx, &vane.PutInput{Name: "/a/x", Value: "2", Overwrite: true})
				return err
			},
			func() error {
				_, err := s.Put(ctx, &vane.PutInput{Name: "/a/db/password", Value: secret, Type: vane.TypeSecureString})
				return err
			},
			func() error {
				_, err := s.Label(ctx, &vane.LabelInput{Name: "/a/x", Version: 1, Labels: []string{"stable"}})
				return err
			},
			func() error {
				_, err := s.Unlabel(ctx, &vane.LabelInput{Name: "/a/x", Version: 1, Labels: []string{"stable"}})
				return err
			},
			func() error {
				return s.AddTags(ctx, &vane.TagInput{Name: "/a/x", Tags: []vane.Tag{{Key: "team", Value: "pay"}}})
			},
			func() error { return s.RemoveTags(ctx, &vane.TagInput{Name: "/a/x", Keys: []string{"team"}}) },
			func() error { return s.Delete(ctx, &vane.DeleteInput{Name: "/a/x"}) },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		// A refused write records nothing.
		if _, err := s.Put(ctx, &vane.PutInput{Name: "/a/db/password", Value: "x", Type: vane.TypeSecureString}); err == nil {
			t.Fatal("a put without overwrite succeeded")
		}
		page, err := s.Audit(context.Background(), &vane.AuditQuery{})
		must(t, err)
		want := []string{
			"ssm:PutParameter /a/x 0->1", "ssm:PutParameter /a/x 1->2", "ssm:PutParameter /a/db/password 0->1",
			"ssm:LabelParameterVersion /a/x 1->1", "ssm:UnlabelParameterVersion /a/x 1->1",
			"ssm:AddTagsToResource /a/x 2->2", "ssm:RemoveTagsFromResource /a/x 2->2", "ssm:DeleteParameter /a/x 2->0",
		}
		if len(page.Entries) != len(want) {
			t.Fatalf("%d entries, want %d: %+v", len(page.Entries), len(want), page.Entries)
		}
		var last int64
		for i, e := range page.Entries {
			got := e.Action + " " + e.Name + " " + itoa(e.OldVersion) + "->" + itoa(e.NewVersion)
			if got != want[i] {
				t.Errorf("entry %d = %s, want %s", i, got, want[i])
			}
			if e.Principal != "alice" || e.Source != "10.0.0.7" || e.RequestID != "req-1" || e.Result != vane.AuditOK || e.Time.IsZero() {
				t.Errorf("entry %d = %+v: want alice from 10.0.0.7, req-1, ok, a time", i, e)
			}
			if e.ID <= last {
				t.Errorf("entry %d has id %d after %d", i, e.ID, last)
			}
			last = e.ID
		}
		if !strings.Contains(page.Entries[3].Detail, "stable") || !strings.Contains(page.Entries[5].Detail, "team") {
			t.Errorf("details: %q, %q", page.Entries[3].Detail, page.Entries[5].Detail)
		}
		b, _ := json.Marshal(page)
		if strings.Contains(string(b), secret) {
			t.Errorf("the audit history holds a SecureString's plaintext: %s", b)
		}
	})
	t.Run("BatchItemsCarryTheBatchID", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		ctx := vane.NewContextWithPrincipal(context.Background(), "alice")
		ctx = vane.NewContextWithRequest(ctx, vane.RequestInfo{Source: "10.0.0.7", RequestID: "req-9"})
		_, err := s.Batch(ctx, &vane.BatchInput{ID: "promote-1", Items: []vane.BatchItem{
			{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/a/x", Value: "1", Type: vane.TypeString}},
			{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/a/y", Value: "1", Type: vane.TypeString}},
		}})
		must(t, err)
		// A failed batch records nothing.
		_, err = s.Batch(ctx, &vane.BatchInput{ID: "promote-2", Items: []vane.BatchItem{
			{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/a/z", Value: "1", Type: vane.TypeString}},
			{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/a/missing"}},
		}})
		if err == nil {
			t.Fatal("a batch deleting a missing name succeeded")
		}
		page, err := s.Audit(context.Background(), &vane.AuditQuery{})
		must(t, err)
		if len(page.Entries) != 2 {
			t.Fatalf("%d entries, want the 2 of the first batch: %+v", len(page.Entries), page.Entries)
		}
		for _, e := range page.Entries {
			if e.Batch != "promote-1" || e.Principal != "alice" || e.RequestID != "req-9" || e.Action != vane.ActionPutParameter {
				t.Errorf("entry %+v: want a put by alice in batch promote-1 of req-9", e)
			}
		}
	})
	t.Run("QueryAndPrune", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var entries []vane.AuditEntry
		for i := 0; i < 30; i++ {
			who := []string{"alice", "bob", "carol"}[i%3]
			entries = append(entries, vane.AuditEntry{Time: base.Add(time.Duration(i) * time.Hour), Principal: who,
				Action: []string{"ssm:PutParameter", "vane:Denied"}[i%2], Name: []string{"/a/x", "/b/y"}[i%2/1%2], Result: "ok"})
		}
		entries = append(entries, vane.AuditEntry{Principal: "dave", Action: "vane:CreateKey", Name: "VNKTEST"}) // Time and Result set by the log
		must(t, s.AppendAudit(context.Background(), entries))
		count := func(q vane.AuditQuery) int {
			t.Helper()
			n := 0
			q.Limit = 7
			for {
				p, err := s.Audit(context.Background(), &q)
				must(t, err)
				n += len(p.Entries)
				if p.NextToken == "" {
					return n
				}
				q.NextToken = p.NextToken
			}
		}
		checks := []struct {
			q    vane.AuditQuery
			want int
		}{
			{vane.AuditQuery{}, 31},
			{vane.AuditQuery{Prefix: "/a/"}, 15},
			{vane.AuditQuery{Principal: "bob"}, 10},
			{vane.AuditQuery{Action: "vane:Denied", Principal: "bob"}, 5},
			{vane.AuditQuery{Since: base.Add(10 * time.Hour), Until: base.Add(20 * time.Hour)}, 10},
			{vane.AuditQuery{Until: base.Add(2 * time.Hour)}, 2},
		}
		for _, c := range checks {
			if n := count(c.q); n != c.want {
				t.Errorf("Audit(%+v) = %d entries, want %d", c.q, n, c.want)
			}
		}
		if _, err := s.Audit(context.Background(), &vane.AuditQuery{NextToken: "garbage"}); vane.ErrorCode(err) != vane.EINVALID {
			t.Errorf("a bad token: %v, want EINVALID", err)
		}
		if err := s.AppendAudit(context.Background(), []vane.AuditEntry{{Name: "/x"}}); vane.ErrorCode(err) != vane.EINVALID {
			t.Errorf("an entry without an action: %v, want EINVALID", err)
		}
		n, err := s.PruneAudit(context.Background(), base.Add(10*time.Hour))
		must(t, err)
		if n != 10 || count(vane.AuditQuery{}) != 21 {
			t.Errorf("PruneAudit removed %d, %d left; want 10 and 21", n, count(vane.AuditQuery{}))
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
