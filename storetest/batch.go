package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vanehq/vane"
)

var batchTests = []test{
	{"AppliesEveryItemInOrder", testBatchApplies},
	{"FailingItemWritesNothing", testBatchAllOrNothing},
	{"CompareAndSetPerItem", testBatchCompareAndSet},
	{"ExpectVersionOnAnyItem", testBatchExpectVersion},
	{"OneChangePerItemWithTheBatchID", testBatchChanges},
	{"ErrShape", testBatchErrShape},
	{"ErrLimits", testBatchErrLimits},
	{"ConcurrentBatchesAreAtomic", testBatchConcurrent},
}

// i64 returns a pointer to n.
func i64(n int64) *int64 { return &n }

// mustBatch applies a batch and fails the test on error.
func mustBatch(t *testing.T, s vane.Store, items ...vane.BatchItem) *vane.BatchResult {
	t.Helper()
	r, err := s.Batch(bg(t), &vane.BatchInput{Items: items})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	return r
}

func put(name, value string) vane.BatchItem {
	return vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true}}
}

func testBatchApplies(t *testing.T, s vane.Store) {
	create(t, s, "/b/old", "gone soon")
	create(t, s, "/b/kept", "1")
	r := mustBatch(t, s,
		put("/b/new", "a"),
		vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/new", Value: "b", Overwrite: true}},
		// Items see the ones before them: version 2 of /b/new exists.
		vane.BatchItem{Op: vane.BatchLabel, Label: &vane.LabelInput{Name: "/b/new", Version: 2, Labels: []string{"prod"}}},
		vane.BatchItem{Op: vane.BatchTag, Tags: &vane.TagInput{Name: "/b/new", Tags: []vane.Tag{{Key: "team", Value: "pay"}, {Key: "x", Value: "y"}}}},
		vane.BatchItem{Op: vane.BatchUntag, Tags: &vane.TagInput{Name: "/b/new", Keys: []string{"x"}}},
		vane.BatchItem{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/b/old"}},
		vane.BatchItem{Op: vane.BatchUnlabel, Label: &vane.LabelInput{Name: "/b/new", Version: 2, Labels: []string{"nope"}}},
	)
	if r.ID == "" || len(r.Items) != 7 {
		t.Fatalf("result %+v: want an id and 7 item results", r)
	}
	if p := r.Items[1].Parameter; p == nil || p.Version != 2 || p.Value != "b" {
		t.Errorf("item 1's parameter %+v, want version 2 with value b", p)
	}
	if l := r.Items[2].Label; l == nil || l.Version != 2 {
		t.Errorf("item 2's label result %+v, want version 2", l)
	}
	if u := r.Items[6].Unlabel; u == nil || len(u.RemovedLabels) != 0 || !slices.Equal(u.InvalidLabels, []string{"nope"}) {
		t.Errorf("item 6's unlabel result %+v, want nope invalid", u)
	}
	if p := mustGet(t, s, "/b/new:prod"); p.Version != 2 || p.Value != "b" {
		t.Errorf("/b/new:prod = %+v", p)
	}
	if tags := mustTags(t, s, "/b/new"); !slices.Equal(tags, []vane.Tag{{Key: "team", Value: "pay"}}) {
		t.Errorf("tags %v, want team=pay", tags)
	}
	wantNotFound(t, s, "/b/old")
	if p := mustGet(t, s, "/b/kept"); p.Version != 1 {
		t.Errorf("/b/kept touched: %+v", p)
	}
}

// snapshotOf returns every parameter's name, version and value, and the
// change log's length, to compare a store before and after a failure.
func snapshotOf(t *testing.T, s vane.Store) string {
	t.Helper()
	ps, seq, err := s.Snapshot(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seq %d\n", seq)
	for _, p := range ps {
		tags := mustTags(t, s, p.Name)
		fmt.Fprintf(&b, "%s v%d %q labels %v tags %v\n", p.Name, p.Version, p.Value, p.Labels, tags)
	}
	return b.String()
}

func testBatchAllOrNothing(t *testing.T, s vane.Store) {
	create(t, s, "/b/a", "1")
	create(t, s, "/b/c", "1")
	mustLabel(t, s, "/b/a", 1, "stable")
	before := snapshotOf(t, s)
	for _, tc := range []struct {
		what    string
		failing vane.BatchItem
		code    string
	}{
		{"a delete of a missing name", vane.BatchItem{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/b/missing"}}, vane.ENOTFOUND},
		{"a create of an existing name", vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/a", Value: "3", Type: vane.TypeString}}, vane.ECONFLICT},
		{"a value too long", put("/b/long", strings.Repeat("x", vane.MaxAdvancedValueLength+1)), vane.ETOOLARGE},
		{"a label of a missing version", vane.BatchItem{Op: vane.BatchLabel, Label: &vane.LabelInput{Name: "/b/a", Version: 9, Labels: []string{"x"}}}, vane.ENOTFOUND},
		{"a tag of a missing name", vane.BatchItem{Op: vane.BatchTag, Tags: &vane.TagInput{Name: "/b/missing", Tags: []vane.Tag{{Key: "k", Value: "v"}}}}, vane.ENOTFOUND},
	} {
		_, err := s.Batch(bg(t), &vane.BatchInput{Items: []vane.BatchItem{
			put("/b/a", "2"),
			vane.BatchItem{Op: vane.BatchLabel, Label: &vane.LabelInput{Name: "/b/a", Version: 2, Labels: []string{"stable"}}},
			vane.BatchItem{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/b/c"}},
			vane.BatchItem{Op: vane.BatchTag, Tags: &vane.TagInput{Name: "/b/a", Tags: []vane.Tag{{Key: "k", Value: "v"}}}},
			put("/b/new", "n"),
			tc.failing,
		}})
		var be *vane.BatchError
		if !errors.As(err, &be) || be.Index != 5 || vane.ErrorCode(err) != tc.code {
			t.Errorf("%s: error %v, want a BatchError for item 5 with code %s", tc.what, err, tc.code)
			continue
		}
		if !strings.Contains(err.Error(), "item 5") || !strings.Contains(err.Error(), "nothing in the batch was written") {
			t.Errorf("%s: message %q does not name the item and say nothing was written", tc.what, err)
		}
		if after := snapshotOf(t, s); after != before {
			t.Fatalf("%s: the store changed:\nbefore:\n%s\nafter:\n%s", tc.what, before, after)
		}
	}
}

func testBatchCompareAndSet(t *testing.T, s vane.Store) {
	create(t, s, "/b/x", "1")
	overwrite(t, s, "/b/x", "2")
	create(t, s, "/b/y", "1")
	_, err := s.Batch(bg(t), &vane.BatchInput{Items: []vane.BatchItem{
		{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/x", Value: "3", ExpectVersion: i64(2)}},
		{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/y", Value: "2", ExpectVersion: i64(5)}},
	}})
	if !wantErr(t, "a stale expected version", err, vane.ECONFLICT, "") {
		return
	}
	if p := mustGet(t, s, "/b/x"); p.Version != 2 {
		t.Errorf("/b/x written by a failed batch: version %d", p.Version)
	}
	mustBatch(t, s,
		vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/x", Value: "3", ExpectVersion: i64(2)}},
		vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/z", Value: "1", Type: vane.TypeString, ExpectVersion: i64(0)}},
		vane.BatchItem{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/b/y", ExpectVersion: i64(1)}},
	)
	if p := mustGet(t, s, "/b/x"); p.Version != 3 {
		t.Errorf("/b/x version %d, want 3", p.Version)
	}
	wantNotFound(t, s, "/b/y")
}

// testBatchExpectVersion checks BatchItem.ExpectVersion, which makes an
// item of any op a compare-and-set on its name.
func testBatchExpectVersion(t *testing.T, s vane.Store) {
	create(t, s, "/b/x", "1")
	overwrite(t, s, "/b/x", "2")
	create(t, s, "/b/y", "1")
	mustBatch(t, s,
		vane.BatchItem{Op: vane.BatchLabel, ExpectVersion: i64(2), Label: &vane.LabelInput{Name: "/b/x", Version: 2, Labels: []string{"prod"}}},
		vane.BatchItem{Op: vane.BatchTag, ExpectVersion: i64(1), Tags: &vane.TagInput{Name: "/b/y", Tags: []vane.Tag{{Key: "team", Value: "pay"}}}},
		// 0: the name must not exist.
		vane.BatchItem{Op: vane.BatchPut, ExpectVersion: i64(0), Put: &vane.PutInput{Name: "/b/z", Value: "1", Type: vane.TypeString}},
		// An item sees the versions the items before it left.
		vane.BatchItem{Op: vane.BatchLabel, ExpectVersion: i64(1), Label: &vane.LabelInput{Name: "/b/z", Version: 1, Labels: []string{"prod"}}},
	)
	if p := mustGet(t, s, "/b/x:prod"); p.Version != 2 {
		t.Errorf("/b/x:prod is version %d, want 2", p.Version)
	}
	if tags := mustTags(t, s, "/b/y"); !slices.Equal(tags, []vane.Tag{{Key: "team", Value: "pay"}}) {
		t.Errorf("/b/y tags %v, want team=pay", tags)
	}
	if p := mustGet(t, s, "/b/z:prod"); p.Version != 1 {
		t.Errorf("/b/z:prod is version %d, want 1", p.Version)
	}

	before := snapshotOf(t, s)
	for _, tc := range []struct {
		what    string
		failing vane.BatchItem
	}{
		{"a tag item with a stale expected version", vane.BatchItem{Op: vane.BatchTag, ExpectVersion: i64(5),
			Tags: &vane.TagInput{Name: "/b/y", Tags: []vane.Tag{{Key: "k", Value: "v"}}}}},
		{"a put expecting a name that exists not to", vane.BatchItem{Op: vane.BatchPut, ExpectVersion: i64(0),
			Put: &vane.PutInput{Name: "/b/y", Value: "2", Overwrite: true}}},
		{"an untag item of a missing name expecting it", vane.BatchItem{Op: vane.BatchUntag, ExpectVersion: i64(1),
			Tags: &vane.TagInput{Name: "/b/missing", Keys: []string{"k"}}}},
	} {
		_, err := s.Batch(bg(t), &vane.BatchInput{Items: []vane.BatchItem{put("/b/x", "3"), put("/b/new", "n"), tc.failing}})
		if !wantErr(t, tc.what, err, vane.ECONFLICT, vane.DetailVersionMismatch) {
			continue
		}
		var be *vane.BatchError
		if !errors.As(err, &be) || be.Index != 2 {
			t.Errorf("%s: error %v, want a BatchError for item 2", tc.what, err)
		}
		if p := mustGet(t, s, "/b/x"); p.Version != 2 {
			t.Errorf("%s: the put before it was written: /b/x is version %d", tc.what, p.Version)
		}
		wantNotFound(t, s, "/b/new")
		if after := snapshotOf(t, s); after != before {
			t.Fatalf("%s: the store changed:\nbefore:\n%s\nafter:\n%s", tc.what, before, after)
		}
	}
}

func testBatchChanges(t *testing.T, s vane.Store) {
	create(t, s, "/b/pre", "1")
	start := newestChange(t, s).Seq
	ctx := ctxAs(t, "alice")
	r, err := s.Batch(ctx, &vane.BatchInput{ID: "import-42", Items: []vane.BatchItem{
		put("/b/1", "a"), put("/b/2", "b"),
		{Op: vane.BatchDelete, Delete: &vane.DeleteInput{Name: "/b/pre"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "import-42" {
		t.Errorf("batch id %q, want the one given", r.ID)
	}
	cs, err := s.Changes(bg(t), start, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range cs {
		if c.Seq != start+int64(i)+1 {
			t.Errorf("change %d has sequence %d, want %d: a batch's records are consecutive", i, c.Seq, start+int64(i)+1)
		}
		if c.Batch != "import-42" || c.Principal != "alice" {
			t.Errorf("change %+v: want batch import-42 by alice", c)
		}
		got = append(got, string(c.Op)+" "+c.Name)
	}
	if want := []string{"put /b/1", "put /b/2", "delete /b/pre"}; !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	// A single write has no batch; a batch without an id gets one.
	create(t, s, "/b/single", "1")
	if c := newestChange(t, s); c.Batch != "" {
		t.Errorf("a single put's change has batch %q", c.Batch)
	}
	r = mustBatch(t, s, put("/b/3", "c"))
	if c := newestChange(t, s); r.ID == "" || c.Batch != r.ID {
		t.Errorf("batch id %q, change's %q: want the same, made by the store", r.ID, c.Batch)
	}
}

func testBatchErrShape(t *testing.T, s vane.Store) {
	for _, tc := range []struct {
		what string
		in   *vane.BatchInput
	}{
		{"no items", &vane.BatchInput{}},
		{"an unknown op", &vane.BatchInput{Items: []vane.BatchItem{{Op: "rename", Put: &vane.PutInput{Name: "/b/x"}}}}},
		{"an op without its input", &vane.BatchInput{Items: []vane.BatchItem{{Op: vane.BatchDelete, Put: &vane.PutInput{Name: "/b/x"}}}}},
		{"two inputs", &vane.BatchInput{Items: []vane.BatchItem{{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/b/x"}, Delete: &vane.DeleteInput{Name: "/b/x"}}}}},
		{"a bad batch id", &vane.BatchInput{ID: "no spaces", Items: []vane.BatchItem{put("/b/x", "1")}}},
		{"an invalid name", &vane.BatchInput{Items: []vane.BatchItem{put("/b/x", "1"), put("/b/bad name", "1")}}},
	} {
		_, err := s.Batch(bg(t), tc.in)
		wantErr(t, tc.what, err, vane.EINVALID, "")
	}
	wantNotFound(t, s, "/b/x")
}

func testBatchErrLimits(t *testing.T, s vane.Store) {
	items := make([]vane.BatchItem, vane.MaxBatchItems+1)
	for i := range items {
		items[i] = put(fmt.Sprintf("/b/p%d", i), "v")
	}
	_, err := s.Batch(bg(t), &vane.BatchInput{Items: items})
	wantErr(t, "too many items", err, vane.ETOOLARGE, "")
	big := strings.Repeat("x", 8000)
	n := vane.MaxBatchBytes/len(big) + 1
	items = items[:0]
	for i := range n {
		items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: fmt.Sprintf("/b/q%d", i), Value: big, Type: vane.TypeString, Tier: vane.TierAdvanced}})
	}
	_, err = s.Batch(bg(t), &vane.BatchInput{Items: items})
	wantErr(t, "too many bytes", err, vane.ETOOLARGE, "")
	wantNotFound(t, s, "/b/p0")
	wantNotFound(t, s, "/b/q0")
}

// testBatchConcurrent runs batches that each move a pair of parameters to
// the same new value while others read: no reader may see a pair half
// moved, and every batch lands.
func testBatchConcurrent(t *testing.T, s vane.Store) {
	create(t, s, "/b/left", "0")
	create(t, s, "/b/right", "0")
	const writers, rounds = 4, 10
	var wg sync.WaitGroup
	var errs errorList
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				v := fmt.Sprintf("%d-%d", w, i)
				if _, err := s.Batch(bg(t), &vane.BatchInput{Items: []vane.BatchItem{put("/b/left", v), put("/b/right", v)}}); err != nil {
					errs.add(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	errs.report(t)
	l, r := mustGet(t, s, "/b/left"), mustGet(t, s, "/b/right")
	if l.Value != r.Value || l.Version != writers*rounds+1 || r.Version != writers*rounds+1 {
		t.Errorf("after the batches: left %q v%d, right %q v%d: want the same value at version %d", l.Value, l.Version, r.Value, r.Version, writers*rounds+1)
	}
	// The change log holds each batch's pair next to each other.
	cs, err := s.Changes(bg(t), 0, "/b/", 1000)
	if err != nil {
		t.Fatal(err)
	}
	cs = cs[2:] // the two creates
	for i := 0; i+1 < len(cs); i += 2 {
		if cs[i].Batch == "" || cs[i].Batch != cs[i+1].Batch {
			t.Fatalf("changes %d and %d are not one batch's pair: %+v %+v", i, i+1, cs[i], cs[i+1])
		}
	}
}
