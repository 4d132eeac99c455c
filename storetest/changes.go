package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

var changeLogTests = []test{
	{"OneRecordPerMutation", testChangesOnePerMutation},
	{"FailedMutationsChangeNothing", testChangesFailedMutations},
	{"FilterByPrefix", testChangesPrefix},
	{"PaginateBySequence", testChangesPaginate},
	{"ErrInvalidLimit", testChangesErrLimit},
	{"SnapshotReturnsLatestAndSequence", testChangesSnapshot},
}

func testChangesOnePerMutation(t *testing.T, s vane.Store) {
	steps := []struct {
		principal string // "" for a context without one
		do        func(ctx context.Context) error
		want      vane.Change // Seq and Time are checked apart
	}{
		{"alice", func(ctx context.Context) error {
			_, err := s.Put(ctx, &vane.PutInput{Name: "/c/p", Value: "one", Type: vane.TypeString})
			return err
		}, vane.Change{Op: vane.OpPut, Name: "/c/p", Version: 1, Type: vane.TypeString}},
		{"bob", func(ctx context.Context) error {
			_, err := s.Put(ctx, &vane.PutInput{Name: "/c/p", Value: "a,b", Type: vane.TypeStringList, Overwrite: true})
			return err
		}, vane.Change{Op: vane.OpPut, Name: "/c/p", Version: 2, Type: vane.TypeStringList}},
		{"", func(ctx context.Context) error {
			_, err := s.Put(ctx, &vane.PutInput{Name: "/root", Value: "r", Type: vane.TypeSecureString})
			return err
		}, vane.Change{Op: vane.OpPut, Name: "root", Version: 1, Type: vane.TypeSecureString}},
		{"carol", func(ctx context.Context) error {
			_, err := s.Label(ctx, &vane.LabelInput{Name: "/c/p", Labels: []string{"prod", "live"}})
			return err
		}, vane.Change{Op: vane.OpLabel, Name: "/c/p", Version: 2, Labels: []string{"prod", "live"}}},
		{"dave", func(ctx context.Context) error {
			_, err := s.Label(ctx, &vane.LabelInput{Name: "/c/p", Version: 1, Labels: []string{"old"}})
			return err
		}, vane.Change{Op: vane.OpLabel, Name: "/c/p", Version: 1, Labels: []string{"old"}}},
		{"erin", func(ctx context.Context) error {
			_, err := s.Unlabel(ctx, &vane.LabelInput{Name: "/c/p", Version: 2, Labels: []string{"live"}})
			return err
		}, vane.Change{Op: vane.OpUnlabel, Name: "/c/p", Version: 2, Labels: []string{"live"}}},
		{"frank", func(ctx context.Context) error {
			return s.AddTags(ctx, &vane.TagInput{Name: "/c/p", Tags: []vane.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}})
		}, vane.Change{Op: vane.OpTag, Name: "/c/p", TagKeys: []string{"a", "b"}}},
		{"grace", func(ctx context.Context) error {
			return s.RemoveTags(ctx, &vane.TagInput{Name: "/c/p", Keys: []string{"a"}})
		}, vane.Change{Op: vane.OpUntag, Name: "/c/p", TagKeys: []string{"a"}}},
		{"heidi", func(ctx context.Context) error {
			return s.AddTags(ctx, &vane.TagInput{Name: "root", Tags: []vane.Tag{{Key: "k", Value: "v"}}})
		}, vane.Change{Op: vane.OpTag, Name: "root", TagKeys: []string{"k"}}},
		{"ivan", func(ctx context.Context) error {
			return s.Delete(ctx, &vane.DeleteInput{Name: "/c/p"})
		}, vane.Change{Op: vane.OpDelete, Name: "/c/p", Version: 2}},
		{"judy", func(ctx context.Context) error {
			return s.Delete(ctx, &vane.DeleteInput{Name: "root"})
		}, vane.Change{Op: vane.OpDelete, Name: "root", Version: 1}},
	}
	seq := lastSeq(t, s)
	for i, st := range steps {
		ctx := t.Context()
		wantPrincipal := vane.AnonymousPrincipal
		if st.principal != "" {
			ctx, wantPrincipal = ctxAs(t, st.principal), st.principal
		}
		wantRequest := fmt.Sprintf("req-%d", i)
		ctx = vane.NewContextWithRequest(ctx, vane.RequestInfo{Source: "127.0.0.1", RequestID: wantRequest})
		before := time.Now()
		if err := st.do(ctx); err != nil {
			t.Fatalf("step %d (%s %s): %v", i, st.want.Op, st.want.Name, err)
		}
		after := time.Now()
		cs := changesAfter(t, s, seq, "")
		if len(cs) != 1 {
			t.Errorf("step %d (%s %s): %d change records, want 1: %+v", i, st.want.Op, st.want.Name, len(cs), cs)
			if len(cs) == 0 {
				continue
			}
		}
		c := cs[0]
		seq = cs[len(cs)-1].Seq
		w := st.want
		what := fmt.Sprintf("step %d change %+v", i, c)
		if c.Op != w.Op || c.Name != w.Name || c.Principal != wantPrincipal || c.RequestID != wantRequest {
			t.Errorf("%s: want op %s name %q principal %q request %q", what, w.Op, w.Name, wantPrincipal, wantRequest)
		}
		if (w.Op != vane.OpTag && w.Op != vane.OpUntag) && c.Version != w.Version {
			t.Errorf("%s: want version %d", what, w.Version)
		}
		if w.Op == vane.OpPut && c.Type != w.Type {
			t.Errorf("%s: want type %s", what, w.Type)
		}
		if w.Labels != nil {
			wantSameSet(t, what+" labels", c.Labels, w.Labels)
		}
		if w.TagKeys != nil {
			wantSameSet(t, what+" tag keys", c.TagKeys, w.TagKeys)
		}
		wantTimeWithin(t, what+" time", c.Time, before, after)
	}
}

func testChangesFailedMutations(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/f/p", Value: "v1", Type: vane.TypeString, AllowedPattern: new(`^v\d+$`), Tags: tagSeq(vane.MaxTagsPerResource)})
	mustLabel(t, s, "/f/p", 1, labelSeq("l", vane.MaxLabelsPerVersion)...)
	ctx := bg(t)
	put := func(in vane.PutInput) func() error {
		return func() error { _, err := s.Put(ctx, &in); return err }
	}
	label := func(in vane.LabelInput) func() error {
		return func() error { _, err := s.Label(ctx, &in); return err }
	}
	unlabel := func(in vane.LabelInput) func() error {
		return func() error { _, err := s.Unlabel(ctx, &in); return err }
	}
	ops := []struct {
		what string
		do   func() error
	}{
		{"put existing without overwrite", put(vane.PutInput{Name: "/f/p", Value: "v2", Type: vane.TypeString})},
		{"put with a mismatched version", put(vane.PutInput{Name: "/f/p", Value: "v2", Overwrite: true, ExpectVersion: new(int64(7))})},
		{"put of an empty value", put(vane.PutInput{Name: "/f/p", Value: "", Overwrite: true})},
		{"put of a value breaking the pattern", put(vane.PutInput{Name: "/f/p", Value: "x", Overwrite: true})},
		{"put of a value too large", put(vane.PutInput{Name: "/f/p", Value: "v" + strings.Repeat("1", vane.MaxStandardValueLength), Overwrite: true})},
		{"put of an unknown type", put(vane.PutInput{Name: "/f/p", Value: "v2", Type: "Number", Overwrite: true})},
		{"put with tags and overwrite", put(vane.PutInput{Name: "/f/p", Value: "v2", Overwrite: true, Tags: []vane.Tag{{Key: "k", Value: "v"}}})},
		{"create without type", put(vane.PutInput{Name: "/f/new", Value: "x"})},
		{"create with 51 tags", put(vane.PutInput{Name: "/f/new", Value: "x", Type: vane.TypeString, Tags: tagSeq(vane.MaxTagsPerResource + 1)})},
		{"create under /aws", put(vane.PutInput{Name: "/aws/x", Value: "x", Type: vane.TypeString})},
		{"delete of a missing parameter", func() error { return s.Delete(ctx, &vane.DeleteInput{Name: "/f/missing"}) }},
		{"delete with a mismatched version", func() error { return s.Delete(ctx, &vane.DeleteInput{Name: "/f/p", ExpectVersion: new(int64(5))}) }},
		{"label of a missing version", label(vane.LabelInput{Name: "/f/p", Version: 9, Labels: []string{"x"}})},
		{"label of a missing parameter", label(vane.LabelInput{Name: "/f/missing", Labels: []string{"x"}})},
		{"an 11th label", label(vane.LabelInput{Name: "/f/p", Version: 1, Labels: []string{"x"}})},
		{"11 labels in one request", label(vane.LabelInput{Name: "/f/p", Version: 1, Labels: labelSeq("m", vane.MaxLabelsPerRequest+1)})},
		{"unlabel of a missing version", unlabel(vane.LabelInput{Name: "/f/p", Version: 9, Labels: []string{"l0"}})},
		{"unlabel of a missing parameter", unlabel(vane.LabelInput{Name: "/f/missing", Version: 1, Labels: []string{"l0"}})},
		{"tags on a missing parameter", func() error {
			return s.AddTags(ctx, &vane.TagInput{Name: "/f/missing", Tags: []vane.Tag{{Key: "k", Value: "v"}}})
		}},
		{"a 51st tag", func() error {
			return s.AddTags(ctx, &vane.TagInput{Name: "/f/p", Tags: []vane.Tag{{Key: "k", Value: "v"}}})
		}},
		{"a reserved tag key", func() error {
			return s.AddTags(ctx, &vane.TagInput{Name: "/f/p", Tags: []vane.Tag{{Key: "aws:x", Value: "v"}}})
		}},
		{"tag removal on a missing parameter", func() error { return s.RemoveTags(ctx, &vane.TagInput{Name: "/f/missing", Keys: []string{"k00"}}) }},
		{"tag removal without keys", func() error { return s.RemoveTags(ctx, &vane.TagInput{Name: "/f/p"}) }},
	}
	before := storeState(t, s)
	for _, op := range ops {
		if err := op.do(); err == nil {
			t.Errorf("%s: got no error", op.what)
		} else if vane.ErrorCode(err) == vane.EINTERNAL {
			t.Errorf("%s: internal error %v, want a rule's error", op.what, err)
		}
	}
	wantUnchanged(t, s, "the failed mutations", before)
}

func testChangesPrefix(t *testing.T, s vane.Store) {
	create(t, s, "/w/a", "x")
	create(t, s, "/w/b", "x")
	create(t, s, "/x/c", "x")
	create(t, s, "/wide", "x")
	overwrite(t, s, "/w/a", "y")
	create(t, s, "/w/sub/d", "x")
	type nv struct {
		name    string
		version int64
	}
	got := func(prefix string) []nv {
		var out []nv
		for _, c := range changesAfter(t, s, 0, prefix) {
			out = append(out, nv{c.Name, c.Version})
		}
		return out
	}
	all := []nv{{"/w/a", 1}, {"/w/b", 1}, {"/x/c", 1}, {"wide", 1}, {"/w/a", 2}, {"/w/sub/d", 1}}
	for _, tc := range []struct {
		prefix string
		want   []nv
	}{
		{"", all},
		{"/", all},
		{"/w/", []nv{{"/w/a", 1}, {"/w/b", 1}, {"/w/a", 2}, {"/w/sub/d", 1}}},
		{"/w/sub/", []nv{{"/w/sub/d", 1}}},
		{"/x/", []nv{{"/x/c", 1}}},
		{"/none/", nil},
	} {
		if g := got(tc.prefix); !slices.Equal(g, tc.want) {
			t.Errorf("Changes(0, %q) = %v, want %v", tc.prefix, g, tc.want)
		}
	}
}

func testChangesPaginate(t *testing.T, s vane.Store) {
	for i := range 8 {
		create(t, s, fmt.Sprintf("/w/p%d", i), "x")
		create(t, s, fmt.Sprintf("/x/p%d", i), "x")
	}
	for _, prefix := range []string{"", "/w/"} {
		full := changesAfter(t, s, 0, prefix)
		for _, limit := range []int{1, 3, 5} {
			var got []vane.Change
			after := int64(0)
			for range maxPages {
				cs, err := s.Changes(bg(t), after, prefix, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(cs) > limit {
					t.Errorf("Changes(%d, %q, %d): %d changes", after, prefix, limit, len(cs))
				}
				if len(cs) == 0 {
					break
				}
				got = append(got, cs...)
				after = cs[len(cs)-1].Seq
			}
			if !slices.EqualFunc(got, full, func(a, b vane.Change) bool { return a.Seq == b.Seq && a.Name == b.Name }) {
				t.Errorf("Changes(%q) paged by %d: %d changes, want the %d of one read in the same order", prefix, limit, len(got), len(full))
			}
		}
		// Starting after a sequence skips it and everything before.
		if len(full) > 3 {
			cs, err := s.Changes(bg(t), full[2].Seq, prefix, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != len(full)-3 || cs[0].Seq != full[3].Seq {
				t.Errorf("Changes(after %d, %q) = %+v, want the %d changes from sequence %d on", full[2].Seq, prefix, cs, len(full)-3, full[3].Seq)
			}
		}
	}
	if n := len(changesAfter(t, s, 0, "")); n != 16 {
		t.Errorf("Changes: %d records for 16 puts", n)
	}
	if cs, err := s.Changes(bg(t), lastSeq(t, s), "", 10); err != nil || len(cs) != 0 {
		t.Errorf("Changes after the last sequence = %d changes, error %v; want none", len(cs), err)
	}
}

func testChangesErrLimit(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	_, err := s.Changes(bg(t), 0, "", -1)
	wantErr(t, "Changes with limit -1", err, vane.EINVALID, "")
}

func testChangesSnapshot(t *testing.T, s vane.Store) {
	ps, seq, err := s.Snapshot(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 0 || seq != lastSeq(t, s) {
		t.Errorf("Snapshot of an empty store: %d parameters at sequence %d, want none at %d", len(ps), seq, lastSeq(t, s))
	}

	createVersions(t, s, "/s/a", 3)
	mustLabel(t, s, "/s/a", 3, "prod", "live")
	mustLabel(t, s, "/s/a", 1, "old")
	mustPut(t, s, &vane.PutInput{Name: "/s/b", Value: "sec", Type: vane.TypeSecureString, Tier: vane.TierAdvanced})
	create(t, s, "/root", "r")
	create(t, s, "/s/gone", "x")
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/s/gone"}); err != nil {
		t.Fatal(err)
	}
	ps, seq, err = s.Snapshot(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := lastSeq(t, s); seq != want {
		t.Errorf("Snapshot sequence %d, want the last change's %d", seq, want)
	}
	slices.SortFunc(ps, func(a, b *vane.Parameter) int { return strings.Compare(a.Name, b.Name) })
	wantNames(t, "Snapshot", ps, "/s/a", "/s/b", "root")
	if len(ps) == 3 {
		if a := ps[0]; a.Version != 3 || a.Value != "v3" || a.Type != vane.TypeString {
			t.Errorf("Snapshot /s/a = %s, want version 3 value v3", render(a))
		}
		wantLabels(t, "Snapshot /s/a", ps[0].Labels, []string{"live", "prod"})
		if b := ps[1]; b.Version != 1 || b.Value != "sec" || b.Type != vane.TypeSecureString || b.Tier != vane.TierAdvanced || b.KeyID != vane.DefaultKeyID {
			t.Errorf("Snapshot /s/b = %s, want the stored SecureString", render(b))
		}
	}
	// Changes after the snapshot's sequence are exactly the later writes.
	overwrite(t, s, "/s/b", "sec2")
	cs := changesAfter(t, s, seq, "")
	if len(cs) != 1 || cs[0].Name != "/s/b" || cs[0].Version != 2 {
		t.Errorf("Changes after the snapshot = %+v, want the one put of /s/b version 2", cs)
	}
}
