package storetest

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

var compactTests = []test{
	{"RemovesOnlyOldRecords", testCompactRemovesOld},
	{"KeepsTheNewestRecord", testCompactKeepsNewest},
	{"EmptyLogRemovesNothing", testCompactEmpty},
	{"ErrGoneBelowTheFloor", testCompactErrGone},
	{"ChangesFromTheFloorOn", testCompactFromFloor},
	{"FloorIsMonotonic", testCompactMonotonic},
	{"VersionsAndHistoryUnaffected", testCompactKeepsVersions},
	{"SnapshotUnaffected", testCompactKeepsSnapshot},
}

// newestChange returns the newest record of the log, which compaction
// never removes: the one after the snapshot's sequence less one.
func newestChange(t *testing.T, s vane.Store) vane.Change {
	t.Helper()
	_, seq, err := s.Snapshot(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	if seq == 0 {
		t.Fatal("the change log is empty")
	}
	cs, err := s.Changes(bg(t), seq-1, "", 1)
	if err != nil {
		t.Fatalf("Changes(%d): %v", seq-1, err)
	}
	if len(cs) != 1 || cs[0].Seq != seq {
		t.Fatalf("Changes(%d) = %+v, want the newest record, %d", seq-1, cs, seq)
	}
	return cs[0]
}

// cutAfterNewest returns a time just after the newest record's, once the
// wall clock has passed it: Compact with it removes every record written
// so far (but the newest), and none written afterwards.
func cutAfterNewest(t *testing.T, s vane.Store) time.Time {
	t.Helper()
	cut := newestChange(t, s).Time.Add(time.Nanosecond)
	deadline := time.Now().Add(5 * time.Second)
	for !time.Now().After(cut) {
		if time.Now().After(deadline) {
			t.Fatalf("the clock did not pass %v, the newest change's time, within 5s", cut)
		}
		runtime.Gosched()
	}
	return cut
}

// wantAtOrAfter checks a precondition of the tests: the changes written
// after a cut carry times at or after it. A store keeping times coarser
// than the clock's could break it.
func wantAtOrAfter(t *testing.T, cs []vane.Change, cut time.Time) {
	t.Helper()
	for _, c := range cs {
		if c.Time.Before(cut) {
			t.Fatalf("change %d was written after %v but has the time %v: the store's times are too coarse for this test", c.Seq, cut, c.Time)
		}
	}
}

// mustCompact compacts and fails the test on error.
func mustCompact(t *testing.T, s vane.Store, before time.Time) int64 {
	t.Helper()
	n, err := s.Compact(bg(t), before)
	if err != nil {
		t.Fatalf("Compact(%v): %v", before, err)
	}
	return n
}

// wantGone reports an error unless Changes after the sequence fails with
// EGONE and a message naming the floor.
func wantGone(t *testing.T, s vane.Store, after int64, prefix string, floor int64) {
	t.Helper()
	what := fmt.Sprintf("Changes(%d, %q) below the floor %d", after, prefix, floor)
	cs, err := s.Changes(bg(t), after, prefix, 10)
	if !wantErr(t, what, err, vane.EGONE, "") {
		if err == nil {
			t.Errorf("%s returned %d changes", what, len(cs))
		}
		return
	}
	if msg := vane.ErrorMessage(err); !strings.Contains(msg, fmt.Sprint(floor)) {
		t.Errorf("%s: message %q does not name the floor", what, msg)
	}
}

// wantSeqs reports an error unless the changes have exactly these
// sequence numbers.
func wantSeqs(t *testing.T, what string, cs []vane.Change, want []int64) {
	t.Helper()
	got := make([]int64, len(cs))
	for i, c := range cs {
		got[i] = c.Seq
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: sequences %v, want %v", what, got, want)
	}
}

func seqs(cs []vane.Change) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Seq
	}
	return out
}

func testCompactRemovesOld(t *testing.T, s vane.Store) {
	create(t, s, "/c/a", "1")
	overwrite(t, s, "/c/a", "2")
	create(t, s, "/c/b", "1")
	cut := cutAfterNewest(t, s)
	overwrite(t, s, "/c/a", "3")
	create(t, s, "/c/d", "1")
	all := changesAfter(t, s, 0, "")
	if len(all) != 5 {
		t.Fatalf("%d changes for 5 writes", len(all))
	}
	wantAtOrAfter(t, all[3:], cut)

	if n := mustCompact(t, s, cut); n != 3 {
		t.Errorf("Compact removed %d records, want the 3 older than the cut", n)
	}
	floor := all[2].Seq
	wantSeqs(t, "Changes from the floor", changesAfter(t, s, floor, ""), seqs(all[3:]))
	wantGone(t, s, 0, "", floor)
}

func testCompactKeepsNewest(t *testing.T, s vane.Store) {
	create(t, s, "/c/a", "1")
	overwrite(t, s, "/c/a", "2")
	create(t, s, "/c/b", "1")
	all := changesAfter(t, s, 0, "")
	future := time.Now().Add(time.Hour)
	if n := mustCompact(t, s, future); n != 2 {
		t.Errorf("Compact of everything removed %d records, want 2: all but the newest", n)
	}
	newest := all[2]
	if got := newestChange(t, s); got.Seq != newest.Seq || got.Name != newest.Name || got.Op != newest.Op {
		t.Errorf("newest change after compaction %+v, want %+v", got, newest)
	}
	if n := mustCompact(t, s, future); n != 0 {
		t.Errorf("a second Compact removed %d records, want 0: the newest is kept", n)
	}
	wantGone(t, s, all[1].Seq-1, "", all[1].Seq)
	wantSeqs(t, "Changes from the floor", changesAfter(t, s, all[1].Seq, ""), []int64{newest.Seq})
	// The sequence goes on after the newest record.
	create(t, s, "/c/c", "1")
	if c := newestChange(t, s); c.Seq <= newest.Seq || c.Name != "/c/c" {
		t.Errorf("a write after compaction has the change %+v, want a sequence after %d", c, newest.Seq)
	}
}

func testCompactEmpty(t *testing.T, s vane.Store) {
	if n := mustCompact(t, s, time.Now().Add(time.Hour)); n != 0 {
		t.Errorf("Compact of an empty log removed %d records", n)
	}
	if cs := changesAfter(t, s, 0, ""); len(cs) != 0 {
		t.Errorf("Changes of an empty log after Compact: %+v", cs)
	}
	create(t, s, "/c/a", "1")
	if n := mustCompact(t, s, time.Now().Add(time.Hour)); n != 0 {
		t.Errorf("Compact of a one-record log removed %d records, want 0: the newest is kept", n)
	}
	if cs := changesAfter(t, s, 0, ""); len(cs) != 1 {
		t.Errorf("Changes after compacting a one-record log: %d records, want 1", len(cs))
	}
}

func testCompactErrGone(t *testing.T, s vane.Store) {
	for i := range 4 {
		create(t, s, fmt.Sprintf("/c/p%d", i), "x")
	}
	cut := cutAfterNewest(t, s)
	create(t, s, "/c/q", "x")
	create(t, s, "/d/q", "x")
	all := changesAfter(t, s, 0, "")
	wantAtOrAfter(t, all[4:], cut)
	mustCompact(t, s, cut)
	floor := all[3].Seq
	for _, after := range []int64{0, all[0].Seq, floor - 1} {
		wantGone(t, s, after, "", floor)
	}
	// Whatever the prefix: records under it may be among those removed,
	// even when nothing under it is left.
	wantGone(t, s, 0, "/c/", floor)
	wantGone(t, s, 0, "/none/", floor)
}

func testCompactFromFloor(t *testing.T, s vane.Store) {
	for i := range 3 {
		create(t, s, fmt.Sprintf("/c/p%d", i), "x")
	}
	cut := cutAfterNewest(t, s)
	for i := range 4 {
		create(t, s, fmt.Sprintf("/c/q%d", i), "x")
	}
	create(t, s, "/d/q", "x")
	all := changesAfter(t, s, 0, "")
	wantAtOrAfter(t, all[3:], cut)
	mustCompact(t, s, cut)
	floor := all[2].Seq
	wantSeqs(t, "Changes at the floor", changesAfter(t, s, floor, ""), seqs(all[3:]))
	wantSeqs(t, "Changes above the floor", changesAfter(t, s, all[4].Seq, ""), seqs(all[5:]))
	wantSeqs(t, "Changes at the floor under /d/", changesAfter(t, s, floor, "/d/"), seqs(all[7:]))
	// Paged from the floor.
	var got []vane.Change
	for after := floor; ; {
		cs, err := s.Changes(bg(t), after, "", 2)
		if err != nil {
			t.Fatalf("Changes(%d) from the floor: %v", after, err)
		}
		if len(cs) == 0 {
			break
		}
		got = append(got, cs...)
		after = cs[len(cs)-1].Seq
	}
	wantSeqs(t, "Changes paged by 2 from the floor", got, seqs(all[3:]))
	// New writes follow.
	create(t, s, "/c/new", "x")
	if cs := changesAfter(t, s, floor, ""); len(cs) != len(all)-3+1 || cs[len(cs)-1].Name != "/c/new" {
		t.Errorf("Changes from the floor after a new write: %+v", cs)
	}
}

func testCompactMonotonic(t *testing.T, s vane.Store) {
	create(t, s, "/c/a", "1")
	create(t, s, "/c/b", "1")
	cut1 := cutAfterNewest(t, s)
	create(t, s, "/c/c", "1")
	create(t, s, "/c/d", "1")
	cut2 := cutAfterNewest(t, s)
	create(t, s, "/c/e", "1")
	all := changesAfter(t, s, 0, "")
	wantAtOrAfter(t, all[2:], cut1)
	wantAtOrAfter(t, all[4:], cut2)

	if n := mustCompact(t, s, cut2); n != 4 {
		t.Errorf("Compact(cut2) removed %d records, want 4", n)
	}
	floor := all[3].Seq
	if n := mustCompact(t, s, cut1); n != 0 {
		t.Errorf("Compact with an older time removed %d records, want 0", n)
	}
	if n := mustCompact(t, s, cut2); n != 0 {
		t.Errorf("Compact repeated removed %d records, want 0", n)
	}
	// The floor stays where the first compaction left it.
	wantGone(t, s, floor-1, "", floor)
	wantSeqs(t, "Changes from the floor", changesAfter(t, s, floor, ""), []int64{all[4].Seq})
}

func testCompactKeepsVersions(t *testing.T, s vane.Store) {
	createVersions(t, s, "/c/p", 5)
	mustLabel(t, s, "/c/p", 2, "stable")
	mustLabel(t, s, "/c/p", 5, "prod")
	if err := s.AddTags(bg(t), &vane.TagInput{Name: "/c/p", Tags: []vane.Tag{{Key: "team", Value: "a"}}}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, &vane.PutInput{Name: "/c/s", Value: "secret", Type: vane.TypeSecureString})
	renderHistory := func() string {
		var b strings.Builder
		for _, name := range []string{"/c/p", "/c/s"} {
			for _, v := range historyAll(t, s, name, 0) {
				b.WriteString(render(v))
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "tags %v\n", mustTags(t, s, name))
		}
		return b.String()
	}
	before := renderHistory()
	if n := mustCompact(t, s, time.Now().Add(time.Hour)); n == 0 {
		t.Fatal("Compact removed nothing")
	}
	if after := renderHistory(); after != before {
		t.Errorf("Compact changed versions, labels or tags:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	wantVersion(t, s, "/c/p", 5, "v5")
	if p := mustGet(t, s, "/c/p:1"); p.Value != "v1" {
		t.Errorf("Get(/c/p:1) = %q after Compact", p.Value)
	}
	if p := mustGet(t, s, "/c/p:stable"); p.Version != 2 {
		t.Errorf("Get(/c/p:stable) = version %d after Compact", p.Version)
	}
	// Versions go on from where they were.
	if p := overwrite(t, s, "/c/p", "v6"); p.Version != 6 {
		t.Errorf("Put after Compact = version %d, want 6", p.Version)
	}
}

func testCompactKeepsSnapshot(t *testing.T, s vane.Store) {
	createVersions(t, s, "/c/a", 3)
	mustLabel(t, s, "/c/a", 3, "prod")
	create(t, s, "/c/b", "1")
	create(t, s, "/c/gone", "1")
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/c/gone"}); err != nil {
		t.Fatal(err)
	}
	renderSnapshot := func() (string, int64) {
		ps, seq, err := s.Snapshot(bg(t))
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(ps, func(a, b *vane.Parameter) int { return strings.Compare(a.Name, b.Name) })
		var b strings.Builder
		for _, p := range ps {
			b.WriteString(render(p))
			b.WriteByte('\n')
		}
		return b.String(), seq
	}
	before, seq := renderSnapshot()
	if n := mustCompact(t, s, time.Now().Add(time.Hour)); n == 0 {
		t.Fatal("Compact removed nothing")
	}
	after, seqAfter := renderSnapshot()
	if after != before || seqAfter != seq {
		t.Errorf("Compact changed the snapshot:\nbefore (sequence %d):\n%s\nafter (sequence %d):\n%s", seq, before, seqAfter, after)
	}
	// A reader that loads the snapshot follows the log from its sequence.
	create(t, s, "/c/c", "1")
	if cs := changesAfter(t, s, seq, ""); len(cs) != 1 || cs[0].Name != "/c/c" {
		t.Errorf("Changes after the snapshot's sequence: %+v, want the put of /c/c", cs)
	}
}
