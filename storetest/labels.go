package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vanehq/vane"
)

var versionTests = []test{
	{"OldestVersionDroppedSilently", testVersionsDropOldest},
	{"ErrParameterMaxVersionLimitExceeded", testVersionsErrLabelledOldest},
	{"RecreateStartsAtVersion1", testVersionsRecreate},
}

func testVersionsDropOldest(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", vane.MaxVersions)
	wantHistoryVersions(t, s, "/p", 1, vane.MaxVersions)
	if p := overwrite(t, s, "/p", fmt.Sprintf("v%d", vane.MaxVersions+1)); p.Version != vane.MaxVersions+1 {
		t.Errorf("put 101: version %d, want %d", p.Version, vane.MaxVersions+1)
	}
	wantHistoryVersions(t, s, "/p", 2, vane.MaxVersions+1)
	_, err := s.Get(bg(t), "/p:1")
	wantErr(t, "Get of the dropped version 1", err, vane.ENOTFOUND, vane.DetailParameterVersionNotFound)
	if g := mustGet(t, s, "/p:2"); g.Value != "v2" {
		t.Errorf("Get(/p:2) value %q, want v2", g.Value)
	}
}

func testVersionsErrLabelledOldest(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", vane.MaxVersions)
	mustLabel(t, s, "/p", 1, "pinned")
	before := storeState(t, s)
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "v101", Overwrite: true})
	wantErr(t, "put 101 with a labelled version 1", err, vane.ELIMIT, vane.DetailParameterMaxVersionLimitExceeded)
	wantUnchanged(t, s, "the rejected put", before)

	// Moving the label off the oldest version lets the put drop it.
	mustLabel(t, s, "/p", 2, "pinned")
	if p := overwrite(t, s, "/p", "v101"); p.Version != vane.MaxVersions+1 {
		t.Errorf("put after moving the label: version %d, want %d", p.Version, vane.MaxVersions+1)
	}
	wantHistoryVersions(t, s, "/p", 2, vane.MaxVersions+1)
	if g := mustGet(t, s, "/p:pinned"); g.Version != 2 {
		t.Errorf("Get(/p:pinned) version %d, want 2", g.Version)
	}
}

func testVersionsRecreate(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "v1", Type: vane.TypeString, Description: new("old"), Tags: []vane.Tag{{Key: "k", Value: "v"}}})
	overwrite(t, s, "/p", "v2")
	overwrite(t, s, "/p", "v3")
	mustLabel(t, s, "/p", 3, "prod")
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/p"}); err != nil {
		t.Fatal(err)
	}
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "new", Type: vane.TypeStringList})
	if p.Version != 1 {
		t.Errorf("re-created parameter: version %d, want 1", p.Version)
	}
	g := mustGet(t, s, "/p")
	if g.Version != 1 || g.Value != "new" || g.Type != vane.TypeStringList || g.Description != "" || len(g.Labels) != 0 {
		t.Errorf("Get after re-create = %s, want a fresh version 1", render(g))
	}
	if h := historyAll(t, s, "/p", 0); len(h) != 1 {
		t.Errorf("History after re-create: %d versions, want 1", len(h))
	}
	if tags := mustTags(t, s, "/p"); len(tags) != 0 {
		t.Errorf("Tags after re-create = %v, want none", tags)
	}
	_, err := s.Get(bg(t), "/p:prod")
	wantErr(t, "Get of an old label after re-create", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
	_, err = s.Get(bg(t), "/p:3")
	wantErr(t, "Get of an old version after re-create", err, vane.ENOTFOUND, vane.DetailParameterVersionNotFound)
	if g := overwrite(t, s, "/p", "next"); g.Version != 2 {
		t.Errorf("overwrite after re-create: version %d, want 2", g.Version)
	}
}

var labelTests = []test{
	{"LatestWhenVersionZero", testLabelLatest},
	{"MovesBetweenVersions", testLabelMoves},
	{"GetReturnsLabelsSorted", testLabelSorted},
	{"HistoryShowsLabels", testLabelHistory},
	{"ErrParameterVersionLabelLimitExceeded", testLabelLimit},
	{"ReapplyingLabelsOnFullVersion", testLabelReapply},
	{"InvalidLabelsReturnedValidApplied", testLabelInvalid},
	{"ErrParameterVersionNotFound", testLabelErrVersion},
	{"ErrParameterNotFound", testLabelErrParameter},
	{"UnlabelRemovesAndReportsInvalid", testUnlabel},
	{"ErrUnlabelNotFound", testUnlabelErrNotFound},
}

func testLabelLatest(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 3)
	r := mustLabel(t, s, "/p", 0, "prod")
	if r.Version != 3 || len(r.InvalidLabels) != 0 {
		t.Errorf("Label with version 0 = %+v, want version 3 and no invalid labels", *r)
	}
	wantLabels(t, "Get(/p)", mustGet(t, s, "/p").Labels, []string{"prod"})
	if r := mustLabel(t, s, "/p", 2, "beta"); r.Version != 2 {
		t.Errorf("Label of version 2: result version %d", r.Version)
	}
}

func testLabelMoves(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 3)
	mustLabel(t, s, "/p", 1, "prod", "stable")
	mustLabel(t, s, "/p", 3, "prod")
	wantLabels(t, "Get(/p:1)", mustGet(t, s, "/p:1").Labels, []string{"stable"})
	wantLabels(t, "Get(/p:3)", mustGet(t, s, "/p:3").Labels, []string{"prod"})
	if g := mustGet(t, s, "/p:prod"); g.Version != 3 {
		t.Errorf("Get(/p:prod) version %d, want 3", g.Version)
	}
	mustLabel(t, s, "/p", 2, "prod")
	if g := mustGet(t, s, "/p:prod"); g.Version != 2 {
		t.Errorf("Get(/p:prod) after second move: version %d, want 2", g.Version)
	}
	wantLabels(t, "Get(/p:3)", mustGet(t, s, "/p:3").Labels, nil)
}

func testLabelSorted(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	mustLabel(t, s, "/p", 1, "zeta", "alpha", "Mid", "beta", "_under", "a-b", "a.b")
	want := []string{"Mid", "_under", "a-b", "a.b", "alpha", "beta", "zeta"}
	wantLabels(t, "Get(/p)", mustGet(t, s, "/p").Labels, want)
	wantLabels(t, "Get(/p:1)", mustGet(t, s, "/p:1").Labels, want)
	wantLabels(t, "Get(/p:beta)", mustGet(t, s, "/p:beta").Labels, want)
}

func testLabelHistory(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 4)
	mustLabel(t, s, "/p", 1, "b", "a")
	mustLabel(t, s, "/p", 3, "c")
	want := [][]string{{"a", "b"}, nil, {"c"}, nil}
	h := historyAll(t, s, "/p", 0)
	if len(h) != len(want) {
		t.Fatalf("History: %d versions, want %d", len(h), len(want))
	}
	for i, p := range h {
		wantLabels(t, fmt.Sprintf("History version %d", p.Version), p.Labels, want[i])
	}
}

func labelSeq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func testLabelLimit(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 3)
	full := labelSeq("l", vane.MaxLabelsPerVersion)
	mustLabel(t, s, "/p", 1, full...)
	mustLabel(t, s, "/p", 2, labelSeq("m", vane.MaxLabelsPerVersion-2)...)
	mustLabel(t, s, "/p", 3, "other")
	before := storeState(t, s)

	_, err := s.Label(bg(t), &vane.LabelInput{Name: "/p", Version: 1, Labels: []string{"eleventh"}})
	wantErr(t, "an 11th label", err, vane.ELIMIT, vane.DetailParameterVersionLabelLimitExceeded)
	_, err = s.Label(bg(t), &vane.LabelInput{Name: "/p", Version: 1, Labels: []string{"other"}})
	wantErr(t, "moving an 11th label onto a full version", err, vane.ELIMIT, vane.DetailParameterVersionLabelLimitExceeded)
	_, err = s.Label(bg(t), &vane.LabelInput{Name: "/p", Version: 2, Labels: []string{"n1", "n2", "n3"}})
	wantErr(t, "three labels onto a version with room for two", err, vane.ELIMIT, vane.DetailParameterVersionLabelLimitExceeded)
	wantUnchanged(t, s, "the rejected labels", before)

	// Moving labels away makes room again.
	mustLabel(t, s, "/p", 3, "l0")
	mustLabel(t, s, "/p", 1, "eleventh")
	want := append(slices.Clone(full[1:]), "eleventh")
	slices.Sort(want)
	wantLabels(t, "Get(/p:1)", mustGet(t, s, "/p:1").Labels, want)
}

func testLabelReapply(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	full := labelSeq("l", vane.MaxLabelsPerVersion)
	mustLabel(t, s, "/p", 1, full...)
	// Labels the version already carries do not count twice.
	if r := mustLabel(t, s, "/p", 1, "l3", "l7"); len(r.InvalidLabels) != 0 {
		t.Errorf("re-applied labels reported invalid: %q", r.InvalidLabels)
	}
	wantLabels(t, "Get(/p)", mustGet(t, s, "/p").Labels, full)
}

func testLabelInvalid(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 2)
	bad := []string{"1st", "aws-x", "SSMlabel", "has space", "semi;colon", "slash/label"}
	r := mustLabel(t, s, "/p", 1, append([]string{"good"}, append(bad, "also_good")...)...)
	if r.Version != 1 {
		t.Errorf("result version %d, want 1", r.Version)
	}
	wantSameSet(t, "InvalidLabels", r.InvalidLabels, bad)
	wantLabels(t, "Get(/p:1)", mustGet(t, s, "/p:1").Labels, []string{"also_good", "good"})

	// A call whose labels are all invalid still succeeds and applies nothing.
	r = mustLabel(t, s, "/p", 2, "9lives")
	wantSameSet(t, "InvalidLabels", r.InvalidLabels, []string{"9lives"})
	wantLabels(t, "Get(/p:2)", mustGet(t, s, "/p:2").Labels, nil)
}

func testLabelErrVersion(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 2)
	before := storeState(t, s)
	_, err := s.Label(bg(t), &vane.LabelInput{Name: "/p", Version: 3, Labels: []string{"prod"}})
	wantErr(t, "Label of a missing version", err, vane.ENOTFOUND, vane.DetailParameterVersionNotFound)
	wantUnchanged(t, s, "the rejected label", before)
}

func testLabelErrParameter(t *testing.T, s vane.Store) {
	for _, v := range []int64{0, 1} {
		_, err := s.Label(bg(t), &vane.LabelInput{Name: "/missing", Version: v, Labels: []string{"prod"}})
		wantErr(t, fmt.Sprintf("Label of version %d of a missing parameter", v), err, vane.ENOTFOUND, vane.DetailParameterNotFound)
	}
}

func testUnlabel(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 2)
	mustLabel(t, s, "/p", 1, "a", "b", "c")
	mustLabel(t, s, "/p", 2, "d")
	r, err := s.Unlabel(bg(t), &vane.LabelInput{Name: "/p", Version: 1, Labels: []string{"a", "d", "zz", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	wantSameSet(t, "RemovedLabels", r.RemovedLabels, []string{"a", "c"})
	wantSameSet(t, "InvalidLabels", r.InvalidLabels, []string{"d", "zz"})
	wantLabels(t, "Get(/p:1)", mustGet(t, s, "/p:1").Labels, []string{"b"})
	wantLabels(t, "Get(/p:2)", mustGet(t, s, "/p:2").Labels, []string{"d"})
	_, err = s.Get(bg(t), "/p:a")
	wantErr(t, "Get by a removed label", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
}

func testUnlabelErrNotFound(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	mustLabel(t, s, "/p", 1, "a")
	before := storeState(t, s)
	_, err := s.Unlabel(bg(t), &vane.LabelInput{Name: "/p", Version: 2, Labels: []string{"a"}})
	wantErr(t, "Unlabel of a missing version", err, vane.ENOTFOUND, "")
	_, err = s.Unlabel(bg(t), &vane.LabelInput{Name: "/missing", Version: 1, Labels: []string{"a"}})
	wantErr(t, "Unlabel of a missing parameter", err, vane.ENOTFOUND, "")
	wantUnchanged(t, s, "the rejected unlabels", before)
}

var tagTests = []test{
	{"CreateWithTagsSortedByKey", testTagsCreate},
	{"AddTagsAddsAndReplaces", testTagsAdd},
	{"RemoveTagsIgnoresAbsentKeys", testTagsRemove},
	{"ErrTooManyTagsError", testTagsTooMany},
	{"ErrInvalidResourceId", testTagsMissing},
	{"ErrTagsWithOverwrite", testTagsWithOverwrite},
	{"OverwriteKeepsTags", testTagsKeptOnOverwrite},
	{"TagsByPathReadsASubtree", testTagsByPath},
}

func wantTags(t *testing.T, s vane.Store, name string, want ...vane.Tag) {
	t.Helper()
	if got := mustTags(t, s, name); !slices.Equal(got, want) {
		t.Errorf("Tags(%q) = %v, want %v", name, got, want)
	}
}

func testTagsCreate(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tags: []vane.Tag{
		{Key: "team", Value: "core"}, {Key: "Env", Value: "prod"}, {Key: "app", Value: ""}, {Key: "cost center", Value: "a:b/c=d+e@f"},
	}})
	wantTags(t, s, "/p", vane.Tag{Key: "Env", Value: "prod"}, vane.Tag{Key: "app"},
		vane.Tag{Key: "cost center", Value: "a:b/c=d+e@f"}, vane.Tag{Key: "team", Value: "core"})
	create(t, s, "/untagged", "x")
	if tags := mustTags(t, s, "/untagged"); len(tags) != 0 {
		t.Errorf("Tags(/untagged) = %v, want none", tags)
	}
}

func testTagsAdd(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tags: []vane.Tag{{Key: "b", Value: "1"}, {Key: "c", Value: "2"}}})
	if err := s.AddTags(bg(t), &vane.TagInput{Name: "/p", Tags: []vane.Tag{{Key: "c", Value: "9"}, {Key: "a", Value: "0"}}}); err != nil {
		t.Fatal(err)
	}
	wantTags(t, s, "/p", vane.Tag{Key: "a", Value: "0"}, vane.Tag{Key: "b", Value: "1"}, vane.Tag{Key: "c", Value: "9"})
	// Root-level names take tags by either spelling.
	create(t, s, "/root", "x")
	if err := s.AddTags(bg(t), &vane.TagInput{Name: "root", Tags: []vane.Tag{{Key: "k", Value: "v"}}}); err != nil {
		t.Fatal(err)
	}
	wantTags(t, s, "/root", vane.Tag{Key: "k", Value: "v"})
}

func testTagsRemove(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tags: []vane.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}}})
	if err := s.RemoveTags(bg(t), &vane.TagInput{Name: "/p", Keys: []string{"a", "absent", "c"}}); err != nil {
		t.Fatal(err)
	}
	wantTags(t, s, "/p", vane.Tag{Key: "b", Value: "2"})
	if err := s.RemoveTags(bg(t), &vane.TagInput{Name: "/p", Keys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	wantTags(t, s, "/p")
}

func tagSeq(n int) []vane.Tag {
	out := make([]vane.Tag, n)
	for i := range out {
		out[i] = vane.Tag{Key: fmt.Sprintf("k%02d", i), Value: "v"}
	}
	return out
}

func testTagsTooMany(t *testing.T, s vane.Store) {
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tags: tagSeq(vane.MaxTagsPerResource + 1)})
	wantErr(t, "create with 51 tags", err, vane.ELIMIT, vane.DetailTooManyTags)
	wantNotFound(t, s, "/p")

	full := tagSeq(vane.MaxTagsPerResource)
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tags: full})
	before := storeState(t, s)
	err = s.AddTags(bg(t), &vane.TagInput{Name: "/p", Tags: []vane.Tag{{Key: "k00", Value: "new"}, {Key: "extra", Value: "v"}}})
	wantErr(t, "AddTags giving 51 tags", err, vane.ELIMIT, vane.DetailTooManyTags)
	wantUnchanged(t, s, "the rejected AddTags", before)

	// Replacing a value keeps the count at 50.
	if err := s.AddTags(bg(t), &vane.TagInput{Name: "/p", Tags: []vane.Tag{{Key: "k00", Value: "new"}}}); err != nil {
		t.Fatalf("AddTags replacing a value on a full parameter: %v", err)
	}
	full[0].Value = "new"
	wantTags(t, s, "/p", full...)
}

func testTagsMissing(t *testing.T, s vane.Store) {
	_, err := s.Tags(bg(t), "/missing")
	wantErr(t, "Tags of a missing parameter", err, vane.ENOTFOUND, vane.DetailInvalidResourceID)
	err = s.AddTags(bg(t), &vane.TagInput{Name: "/missing", Tags: []vane.Tag{{Key: "k", Value: "v"}}})
	wantErr(t, "AddTags on a missing parameter", err, vane.ENOTFOUND, vane.DetailInvalidResourceID)
	err = s.RemoveTags(bg(t), &vane.TagInput{Name: "/missing", Keys: []string{"k"}})
	wantErr(t, "RemoveTags on a missing parameter", err, vane.ENOTFOUND, vane.DetailInvalidResourceID)
	if cs := changesAfter(t, s, 0, ""); len(cs) != 0 {
		t.Errorf("failed tag operations appended %d changes", len(cs))
	}
}

func testTagsWithOverwrite(t *testing.T, s vane.Store) {
	create(t, s, "/p", "v1")
	before := storeState(t, s)
	for _, name := range []string{"/p", "/missing"} {
		_, err := s.Put(bg(t), &vane.PutInput{Name: name, Value: "v2", Type: vane.TypeString, Overwrite: true, Tags: []vane.Tag{{Key: "k", Value: "v"}}})
		wantErr(t, fmt.Sprintf("Put(%q) with Tags and Overwrite", name), err, vane.EINVALID, "")
	}
	wantUnchanged(t, s, "the rejected puts", before)
}

func testTagsKeptOnOverwrite(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "v1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "k", Value: "v"}}})
	overwrite(t, s, "/p", "v2")
	wantTags(t, s, "/p", vane.Tag{Key: "k", Value: "v"})
}

// testTagsByPath checks vane.TagsByPath, through the store's PathTagger
// when it has one: the tags of the names under a path and no others (not
// those of a sibling whose name shares the path as a prefix), none for
// untagged or deleted parameters, and the same answer as Tags per name.
func testTagsByPath(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/a/b/x", Value: "1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "z", Value: "1"}, {Key: "A", Value: "2"}}})
	mustPut(t, s, &vane.PutInput{Name: "/a/b/c/deep", Value: "1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "k", Value: "v"}}})
	mustPut(t, s, &vane.PutInput{Name: "/a/b0", Value: "1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "sibling", Value: "1"}}})
	mustPut(t, s, &vane.PutInput{Name: "/a/b/gone", Value: "1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "k", Value: "v"}}})
	mustPut(t, s, &vane.PutInput{Name: "root", Value: "1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "r", Value: ""}}})
	create(t, s, "/a/b/untagged", "1")
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/a/b/gone"}); err != nil {
		t.Fatal(err)
	}
	got, err := vane.TagsByPath(bg(t), s, "/a/b/")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]vane.Tag{
		"/a/b/c/deep": {{Key: "k", Value: "v"}},
		"/a/b/x":      {{Key: "A", Value: "2"}, {Key: "z", Value: "1"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("TagsByPath(/a/b/) = %v, want %v", got, want)
	}
	all, err := vane.TagsByPath(bg(t), s, "/")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || len(all["root"]) != 1 || len(all["/a/b0"]) != 1 {
		t.Errorf("TagsByPath(/) = %v, want the tags of 4 names", all)
	}
	for name, tags := range all {
		if one := mustTags(t, s, name); !slices.Equal(one, tags) {
			t.Errorf("TagsByPath(/)[%q] = %v; Tags says %v", name, tags, one)
		}
	}
	_, err = vane.TagsByPath(bg(t), s, "/a/b")
	wantCode(t, "TagsByPath of a path that is not canonical", err, vane.EINVALID)
}
