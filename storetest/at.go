package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// RunAt runs the conformance tests of point-in-time reads
// (vane.AtTimeReader, found with vane.StoreAs). open returns a new, empty
// store whose clock is now, which the tests move; the tests close it.
func RunAt(t *testing.T, open func(t *testing.T, now func() time.Time) vane.Store) {
	t.Helper()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range atTests {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock(start)
			s := mustOpen(t, func(t *testing.T) vane.Store { return open(t, clock.Now) })
			r, ok := vane.StoreAs[vane.AtTimeReader](s)
			if !ok {
				t.Fatalf("%T is not a vane.AtTimeReader", s)
			}
			tc.fn(t, &atStore{Store: s, r: r, clock: clock})
		})
	}
}

var atTests = []struct {
	name string
	fn   func(t *testing.T, s *atStore)
}{
	{"VersionsOverTime", testAtVersions},
	{"ErrFuture", testAtErrFuture},
	{"ErrInvalid", testAtErrInvalid},
	{"ErrGoneVersionLimit", testAtErrGoneVersionLimit},
	{"Deleted", testAtDeleted},
	{"ErrGoneCompacted", testAtErrGoneCompacted},
	{"SnapshotMatchesReplay", testAtSnapshotReplay},
}

// atStore is a store under test with its reader and clock.
type atStore struct {
	vane.Store
	r     vane.AtTimeReader
	clock *Clock
}

// tick moves the clock on by a second and returns the time, that of the
// next write.
func (s *atStore) tick() time.Time {
	s.clock.Add(time.Second)
	return s.clock.Now()
}

// wantAt reports an error unless name's version at the time has version
// and value, written at written, without labels.
func (s *atStore) wantAt(t *testing.T, name string, at time.Time, version int64, value string, written time.Time) {
	t.Helper()
	what := fmt.Sprintf("GetAt(%q, %s)", name, vane.FormatAt(at))
	p, err := s.r.GetAt(bg(t), name, at)
	if err != nil {
		t.Errorf("%s: %v, want version %d (%q)", what, err, version, value)
		return
	}
	if p.Name != name || p.Version != version || p.Value != value || !p.LastModified.Equal(written) || len(p.Labels) != 0 {
		t.Errorf("%s = %s %d %q at %s labels %q, want version %d (%q) written at %s without labels",
			what, p.Name, p.Version, p.Value, vane.FormatAt(p.LastModified), p.Labels, version, value, vane.FormatAt(written))
	}
	if p.Type != vane.TypeString || p.LastModifiedUser != suitePrincipal || p.Tier != vane.TierStandard {
		t.Errorf("%s: type %q, user %q, tier %q; want String, %q, Standard", what, p.Type, p.LastModifiedUser, p.Tier, suitePrincipal)
	}
}

// wantAtErr reports an error unless GetAt fails with code and a message
// holding each of contains.
func (s *atStore) wantAtErr(t *testing.T, name string, at time.Time, code string, contains ...string) {
	t.Helper()
	what := fmt.Sprintf("GetAt(%q, %s)", name, vane.FormatAt(at))
	p, err := s.r.GetAt(bg(t), name, at)
	if !wantErr(t, what, err, code, "") {
		if err == nil {
			t.Errorf("%s returned version %d (%q)", what, p.Version, p.Value)
		}
		return
	}
	if code == vane.ENOTFOUND && vane.ErrorDetail(err) != vane.DetailParameterNotFound {
		t.Errorf("%s: detail %q, want %s", what, vane.ErrorDetail(err), vane.DetailParameterNotFound)
	}
	for _, c := range contains {
		if msg := vane.ErrorMessage(err); !strings.Contains(msg, c) {
			t.Errorf("%s: message %q does not hold %q", what, msg, c)
		}
	}
}

// snapshotAt reads a snapshot and fails the test on error.
func (s *atStore) snapshotAt(t *testing.T, path string, at time.Time) *vane.AtSnapshot {
	t.Helper()
	snap, err := s.r.SnapshotAt(bg(t), path, at)
	if err != nil {
		t.Fatalf("SnapshotAt(%q, %s): %v", path, vane.FormatAt(at), err)
	}
	return snap
}

// renderAt renders a snapshot's parameters and gone names, for comparing.
func renderAt(snap *vane.AtSnapshot) string {
	var b strings.Builder
	for _, p := range snap.Parameters {
		fmt.Fprintf(&b, "%s=%d:%q@%s%q ", p.Name, p.Version, p.Value, vane.FormatAt(p.LastModified), p.Labels)
	}
	for _, g := range snap.Gone {
		fmt.Fprintf(&b, "gone:%s(deleted=%v) ", g.Name, g.Deleted)
	}
	return strings.TrimSpace(b.String())
}

// changeTimes returns the records of the change log, oldest first.
func changeTimes(t *testing.T, s vane.Store) []vane.Change {
	t.Helper()
	cs, err := s.Changes(bg(t), 0, "", vane.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// seqAt is the sequence of the newest of cs not later than at.
func seqAt(cs []vane.Change, at time.Time) int64 {
	var seq int64
	for _, c := range cs {
		if !c.Time.After(at) {
			seq = c.Seq
		}
	}
	return seq
}

// testAtVersions reads a parameter before it exists, between versions,
// exactly at their times and after the latest; labels change nothing.
func testAtVersions(t *testing.T, s *atStore) {
	t0 := s.clock.Now()
	t1 := s.tick()
	create(t, s, "/a/x", "one")
	t2 := s.tick()
	overwrite(t, s, "/a/x", "two")
	create(t, s, "/a/y", "why")
	t3 := s.tick()
	overwrite(t, s, "/a/x", "three")
	s.tick()
	// Labels on older versions, and moved, choose nothing.
	mustLabel(t, s, "/a/x", 1, "stable")
	mustLabel(t, s, "/a/x", 2, "beta")
	mustLabel(t, s, "/a/x", 1, "beta")
	now := s.tick()

	s.wantAtErr(t, "/a/x", t0, vane.ENOTFOUND, "/a/x", "did not exist")
	s.wantAtErr(t, "/a/x", t1.Add(-time.Nanosecond), vane.ENOTFOUND)
	s.wantAt(t, "/a/x", t1, 1, "one", t1)
	s.wantAt(t, "/a/x", t1.Add(time.Second/2), 1, "one", t1)
	s.wantAt(t, "/a/x", t2.Add(-time.Nanosecond), 1, "one", t1)
	s.wantAt(t, "/a/x", t2, 2, "two", t2)
	s.wantAt(t, "/a/x", t2.Add(time.Second/2), 2, "two", t2)
	s.wantAt(t, "/a/x", t3, 3, "three", t3)
	s.wantAt(t, "/a/x", now, 3, "three", t3)
	s.wantAtErr(t, "/a/y", t1, vane.ENOTFOUND)
	s.wantAt(t, "/a/y", t2, 1, "why", t2)
	s.wantAtErr(t, "/a/nope", now, vane.ENOTFOUND)

	cs := changeTimes(t, s)
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0, ""},
		{t1, fmt.Sprintf(`/a/x=1:"one"@%s[]`, vane.FormatAt(t1))},
		{t2, fmt.Sprintf(`/a/x=2:"two"@%s[] /a/y=1:"why"@%s[]`, vane.FormatAt(t2), vane.FormatAt(t2))},
		{now, fmt.Sprintf(`/a/x=3:"three"@%s[] /a/y=1:"why"@%s[]`, vane.FormatAt(t3), vane.FormatAt(t2))},
	} {
		for _, path := range []string{"/", "/a/"} {
			snap := s.snapshotAt(t, path, tc.at)
			if got := renderAt(snap); got != tc.want {
				t.Errorf("SnapshotAt(%q, %s):\ngot  %s\nwant %s", path, vane.FormatAt(tc.at), got, tc.want)
			}
			if want := seqAt(cs, tc.at); snap.Seq != want {
				t.Errorf("SnapshotAt(%q, %s): sequence %d, want %d", path, vane.FormatAt(tc.at), snap.Seq, want)
			}
		}
		if snap := s.snapshotAt(t, "/b/", tc.at); len(snap.Parameters) != 0 || len(snap.Gone) != 0 {
			t.Errorf("SnapshotAt(/b/, %s) = %s, want nothing", vane.FormatAt(tc.at), renderAt(snap))
		}
	}
}

// testAtErrFuture: the future is not known yet; now is.
func testAtErrFuture(t *testing.T, s *atStore) {
	t1 := s.tick()
	create(t, s, "/f/x", "1")
	now := s.clock.Now()
	later := now.Add(time.Nanosecond)
	_, err := s.r.GetAt(bg(t), "/f/x", later)
	wantErr(t, "GetAt(now+1ns)", err, vane.EINVALID, vane.DetailValidation)
	if msg := vane.ErrorMessage(err); !strings.Contains(msg, "future") {
		t.Errorf("GetAt(now+1ns): message %q does not say the time is in the future", msg)
	}
	_, err = s.r.SnapshotAt(bg(t), "/", now.Add(time.Hour))
	wantErr(t, "SnapshotAt(now+1h)", err, vane.EINVALID, vane.DetailValidation)
	s.wantAt(t, "/f/x", now, 1, "1", t1)
	if snap := s.snapshotAt(t, "/", now); len(snap.Parameters) != 1 {
		t.Errorf("SnapshotAt(now) = %s, want /f/x", renderAt(snap))
	}
}

// testAtErrInvalid: a selector is not a name, a path must be canonical.
func testAtErrInvalid(t *testing.T, s *atStore) {
	create(t, s, "/i/x", "1")
	now := s.clock.Now()
	for _, name := range []string{"", "/i/x:1", "/i/x:stable", "/i//x"} {
		_, err := s.r.GetAt(bg(t), name, now)
		wantErr(t, fmt.Sprintf("GetAt(%q)", name), err, vane.EINVALID, "")
	}
	for _, path := range []string{"", "i/", "/i", "/i//"} {
		_, err := s.r.SnapshotAt(bg(t), path, now)
		wantErr(t, fmt.Sprintf("SnapshotAt(%q)", path), err, vane.EINVALID, "")
	}
}

// testAtErrGoneVersionLimit: a parameter past MaxVersions keeps none of
// its versions from before its oldest kept one.
func testAtErrGoneVersionLimit(t *testing.T, s *atStore) {
	const n = vane.MaxVersions + 5
	before := s.clock.Now()
	times := make([]time.Time, n+1) // times[v]: version v's
	for v := 1; v <= n; v++ {
		times[v] = s.tick()
		if v == 1 {
			create(t, s, "/m/x", "v1")
		} else {
			overwrite(t, s, "/m/x", fmt.Sprintf("v%d", v))
		}
	}
	create(t, s, "/m/y", "y")
	oldest := int64(n - vane.MaxVersions + 1)
	if h := mustGet(t, s, fmt.Sprintf("/m/x:%d", oldest)); h.Version != oldest {
		t.Fatalf("version %d not kept", oldest)
	}
	s.wantAtErr(t, "/m/x", times[3], vane.EGONE, "/m/x", fmt.Sprint(vane.MaxVersions), fmt.Sprint(oldest))
	s.wantAtErr(t, "/m/x", times[oldest].Add(-time.Nanosecond), vane.EGONE)
	s.wantAt(t, "/m/x", times[oldest], oldest, fmt.Sprintf("v%d", oldest), times[oldest])
	s.wantAt(t, "/m/x", times[n], n, fmt.Sprintf("v%d", n), times[n])
	// Before its creation it did not exist: that is still known.
	s.wantAtErr(t, "/m/x", before, vane.ENOTFOUND)

	snap := s.snapshotAt(t, "/m/", times[3])
	if got, want := renderAt(snap), "gone:/m/x(deleted=false)"; got != want {
		t.Errorf("SnapshotAt(/m/, version 3's time) = %s, want %s", got, want)
	}
	snap = s.snapshotAt(t, "/m/", times[oldest])
	if got, want := renderAt(snap), fmt.Sprintf(`/m/x=%d:"v%d"@%s[]`, oldest, oldest, vane.FormatAt(times[oldest])); got != want {
		t.Errorf("SnapshotAt(/m/, the oldest kept version's time) = %s, want %s", got, want)
	}
	err := vane.AtGoneError(times[3], []vane.AtGone{{Name: "/m/x"}})
	if vane.ErrorCode(err) != vane.EGONE || !strings.Contains(vane.ErrorMessage(err), "/m/x") {
		t.Errorf("AtGoneError = %v, want EGONE naming /m/x", err)
	}
}

// testAtDeleted: a deleted parameter existed until its delete, and its
// values from then are gone; one created and deleted after a time did not
// exist at it.
func testAtDeleted(t *testing.T, s *atStore) {
	t0 := s.clock.Now()
	t1 := s.tick()
	create(t, s, "/d/x", "a")
	t2 := s.tick()
	overwrite(t, s, "/d/x", "b")
	t3 := s.tick()
	mustDelete(t, s, "/d/x")
	t4 := s.tick()
	create(t, s, "/d/y", "y")
	t5 := s.tick()
	mustDelete(t, s, "/d/y")
	t6 := s.tick()
	create(t, s, "/d/x", "c") // again: version 1
	create(t, s, "/d/z", "z")
	half := time.Second / 2

	s.wantAtErr(t, "/d/x", t0, vane.ENOTFOUND)
	s.wantAtErr(t, "/d/x", t1, vane.EGONE, "/d/x", "deleted")
	s.wantAtErr(t, "/d/x", t2.Add(half), vane.EGONE, "deleted")
	s.wantAtErr(t, "/d/x", t3, vane.ENOTFOUND) // the delete's own time
	s.wantAtErr(t, "/d/x", t5, vane.ENOTFOUND)
	s.wantAt(t, "/d/x", t6, 1, "c", t6)
	s.wantAtErr(t, "/d/y", t3.Add(half), vane.ENOTFOUND)
	s.wantAtErr(t, "/d/y", t4, vane.EGONE, "deleted")
	s.wantAtErr(t, "/d/y", t5, vane.ENOTFOUND)
	s.wantAtErr(t, "/d/y", t6, vane.ENOTFOUND)

	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0, ""},
		{t1, "gone:/d/x(deleted=true)"},
		{t2.Add(half), "gone:/d/x(deleted=true)"},
		{t3, ""},
		{t4.Add(half), "gone:/d/y(deleted=true)"},
		{t5, ""},
		{t6, fmt.Sprintf(`/d/x=1:"c"@%s[] /d/z=1:"z"@%s[]`, vane.FormatAt(t6), vane.FormatAt(t6))},
	} {
		if got := renderAt(s.snapshotAt(t, "/d/", tc.at)); got != tc.want {
			t.Errorf("SnapshotAt(/d/, %s):\ngot  %s\nwant %s", vane.FormatAt(tc.at), got, tc.want)
		}
	}
	if got := renderAt(s.snapshotAt(t, "/e/", t1)); got != "" {
		t.Errorf("SnapshotAt(/e/) = %s, want nothing: /d/x is not under it", got)
	}
}

// mustDelete deletes and fails the test on error.
func mustDelete(t *testing.T, s vane.Store, name string) {
	t.Helper()
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: name}); err != nil {
		t.Fatalf("Delete(%q): %v", name, err)
	}
}

// testAtErrGoneCompacted: before the time from which the change log is
// complete, only what the versions tell is known.
func testAtErrGoneCompacted(t *testing.T, s *atStore) {
	t1 := s.tick()
	create(t, s, "/c/x", "x")
	t2 := s.tick()
	create(t, s, "/c/y", "y")
	t3 := s.tick()
	mustDelete(t, s, "/c/y")
	t4 := s.tick()
	create(t, s, "/c/z", "z1")
	t5 := s.tick()
	overwrite(t, s, "/c/z", "z2")
	cs := changeTimes(t, s)
	s.tick()
	if n := mustCompact(t, s, t3.Add(time.Second/2)); n != 3 {
		t.Fatalf("Compact removed %d records, want 3", n)
	}

	// Versions still kept answer as before.
	s.wantAt(t, "/c/x", t1, 1, "x", t1)
	s.wantAt(t, "/c/z", t4, 1, "z1", t4)
	s.wantAt(t, "/c/z", t5, 2, "z2", t5)
	// What needs the log before t4 can't be told.
	kept := vane.FormatAt(t4)
	s.wantAtErr(t, "/c/y", t2, vane.EGONE, "/c/y", "compacted", kept)
	s.wantAtErr(t, "/c/z", t2, vane.EGONE, "compacted", kept)
	s.wantAtErr(t, "/c/nope", t2, vane.EGONE, "compacted")
	// From t4 on the log is complete.
	s.wantAtErr(t, "/c/nope", t4, vane.ENOTFOUND)
	s.wantAtErr(t, "/c/y", t4, vane.ENOTFOUND)

	_, err := s.r.SnapshotAt(bg(t), "/c/", t2)
	if wantErr(t, "SnapshotAt(/c/, before the log kept)", err, vane.EGONE, "") {
		if msg := vane.ErrorMessage(err); !strings.Contains(msg, "compacted") || !strings.Contains(msg, kept) {
			t.Errorf("SnapshotAt(/c/, before the log kept): message %q does not say the history before %s was compacted", msg, kept)
		}
	}
	snap := s.snapshotAt(t, "/c/", t4)
	want := fmt.Sprintf(`/c/x=1:"x"@%s[] /c/z=1:"z1"@%s[]`, vane.FormatAt(t1), vane.FormatAt(t4))
	if got := renderAt(snap); got != want {
		t.Errorf("SnapshotAt(/c/, t4):\ngot  %s\nwant %s", got, want)
	}
	if want := seqAt(cs, t4); snap.Seq != want {
		t.Errorf("SnapshotAt(/c/, t4): sequence %d, want %d", snap.Seq, want)
	}
}

// atEvent is a put or a delete of the replay's model.
type atEvent struct {
	at      time.Time
	name    string
	deleted bool
	version int64
	value   string
}

// testAtSnapshotReplay writes a random mix of creates, overwrites,
// deletes, labels, tags and batches, then compares the snapshot and every
// name's GetAt at each instant (before, at and between the writes) with a
// replay of the writes.
func testAtSnapshotReplay(t *testing.T, s *atStore) {
	rnd := rand.New(rand.NewPCG(17, 42))
	names := []string{"/r/a", "/r/b", "/r/c/d", "/r/e", "/q/a", "r"}
	version := map[string]int64{} // 0: absent
	var events []atEvent
	instants := []time.Time{s.clock.Now()}
	putVersion := func(name, value string, at time.Time) {
		version[name]++
		events = append(events, atEvent{at: at, name: name, version: version[name], value: value})
	}
	for i := range 60 {
		at := s.tick()
		instants = append(instants, at.Add(-time.Second/2), at)
		name := names[rnd.IntN(len(names))]
		value := fmt.Sprintf("%s#%d", name, i)
		switch k := rnd.IntN(10); {
		case version[name] == 0:
			create(t, s, name, value)
			putVersion(name, value, at)
		case i%10 == 9:
			// A batch: its writes share the time.
			other := names[(slices.Index(names, name)+1)%len(names)]
			mustBatch(t, s, put(name, value), put(other, value+"'"))
			putVersion(name, value, at)
			putVersion(other, value+"'", at)
		case k < 4:
			overwrite(t, s, name, value)
			putVersion(name, value, at)
		case k < 6:
			mustDelete(t, s, name)
			events = append(events, atEvent{at: at, name: name, deleted: true})
			version[name] = 0
		case k < 8:
			mustLabel(t, s, name, 1+rnd.Int64N(version[name]), "l"+fmt.Sprint(rnd.IntN(3)))
		default:
			if err := s.AddTags(bg(t), &vane.TagInput{Name: name, Tags: []vane.Tag{{Key: "k", Value: fmt.Sprint(i)}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	instants = append(instants, s.tick())
	cs := changeTimes(t, s)

	// expect returns the snapshot of path at the time that the replay
	// gives, rendered, and the outcome of each name's GetAt.
	expect := func(path string, at time.Time) (string, map[string]string) {
		snap := &vane.AtSnapshot{}
		gets := map[string]string{}
		for _, name := range slices.Sorted(slices.Values(names)) {
			var cur *atEvent // the name's last event not after at
			deletedSince := false
			for i := range events {
				e := &events[i]
				if e.name != name {
					continue
				}
				if !e.at.After(at) {
					cur = e
				} else if e.deleted && cur != nil && !cur.deleted {
					deletedSince = true
				}
			}
			var p *vane.Parameter
			switch {
			case cur == nil || cur.deleted:
				gets[name] = vane.ENOTFOUND
			case deletedSince:
				gets[name] = vane.EGONE
			default:
				p = &vane.Parameter{Name: name, Version: cur.version, Value: cur.value, LastModified: cur.at}
				gets[name] = fmt.Sprintf("%d:%q", cur.version, cur.value)
			}
			if !vane.PrefixMatch(name, path) {
				continue
			}
			if p != nil {
				snap.Parameters = append(snap.Parameters, p)
			} else if gets[name] == vane.EGONE {
				snap.Gone = append(snap.Gone, vane.AtGone{Name: name, Deleted: true})
			}
		}
		return renderAt(snap), gets
	}
	seen := map[string]int{} // outcomes of GetAt the instants cover
	for _, at := range instants {
		for _, path := range []string{"/", "/r/"} {
			want, gets := expect(path, at)
			snap := s.snapshotAt(t, path, at)
			if got := renderAt(snap); got != want {
				t.Errorf("SnapshotAt(%q, %s):\ngot  %s\nwant %s", path, vane.FormatAt(at), got, want)
			}
			if want := seqAt(cs, at); snap.Seq != want {
				t.Errorf("SnapshotAt(%q, %s): sequence %d, want %d", path, vane.FormatAt(at), snap.Seq, want)
			}
			if path != "/" {
				continue
			}
			for _, name := range names {
				got := ""
				p, err := s.r.GetAt(bg(t), name, at)
				if err != nil {
					got = vane.ErrorCode(err)
				} else {
					got = fmt.Sprintf("%d:%q", p.Version, p.Value)
				}
				if got != gets[name] {
					t.Errorf("GetAt(%q, %s) = %s (%v), want %s", name, vane.FormatAt(at), got, err, gets[name])
				}
				seen[vane.ErrorCode(err)]++
			}
		}
	}
	// The script must keep covering each outcome (a change of seed could
	// lose one).
	if seen[""] == 0 || seen[vane.ENOTFOUND] == 0 || seen[vane.EGONE] < 10 {
		t.Errorf("the script's reads found %d values, %d not found, %d gone: it no longer covers every case", seen[""], seen[vane.ENOTFOUND], seen[vane.EGONE])
	}
}
