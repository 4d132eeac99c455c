package index_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
)

// MustOpen returns an index over f, opened.
func MustOpen(tb testing.TB, f *fakeStore) *index.Store {
	tb.Helper()
	s := index.New(f)
	if err := s.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// wantErr fails the test unless err has code and detail.
func wantErr(t *testing.T, what string, err error, code, detail string) {
	t.Helper()
	if err == nil || vane.ErrorCode(err) != code || vane.ErrorDetail(err) != detail {
		t.Fatalf("%s: error %v (code %q detail %q), want code %q detail %q",
			what, err, vane.ErrorCode(err), vane.ErrorDetail(err), code, detail)
	}
}

// mustGet reads a selector from the index.
func mustGet(t *testing.T, s *index.Store, selector string) *vane.Parameter {
	t.Helper()
	p, err := s.Get(context.Background(), selector)
	if err != nil {
		t.Fatalf("Get(%q): %v", selector, err)
	}
	return p
}

// wantValue fails unless the index's latest version of name has value and
// labels.
func wantValue(t *testing.T, s *index.Store, name, value string, labels ...string) {
	t.Helper()
	p := mustGet(t, s, name)
	if p.Value != value || !slices.Equal(p.Labels, labels) {
		t.Fatalf("Get(%q) = value %q labels %q, want %q %q", name, p.Value, p.Labels, value, labels)
	}
}

// wantAbsent fails unless name is not in the index.
func wantAbsent(t *testing.T, s *index.Store, name string) {
	t.Helper()
	_, err := s.Get(context.Background(), name)
	wantErr(t, fmt.Sprintf("Get(%q)", name), err, vane.ENOTFOUND, vane.DetailParameterNotFound)
}

func mustCatchUp(t *testing.T, s *index.Store) {
	t.Helper()
	if err := s.CatchUp(context.Background()); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	m := newMemBackend()
	m.put("/app/prod/features/dark", "on")
	m.put("root", "r")
	m.put("/app/prod/tuning/pool", "8")
	m.put("/app/prod/tuning/pool", "16")
	m.label("/app/prod/tuning/pool", 1, "stable")
	f := m.store()
	s := MustOpen(t, f)

	t.Run("LatestFromMemory", func(t *testing.T) {
		before, _ := m.calls()
		wantValue(t, s, "/app/prod/tuning/pool", "16")
		wantValue(t, s, "/app/prod/features/dark", "on")
		if p := mustGet(t, s, "/app/prod/tuning/pool"); p.Version != 2 || p.Selector != "" {
			t.Errorf("version %d selector %q, want 2 and none", p.Version, p.Selector)
		}
		if after, _ := m.calls(); after != before {
			t.Errorf("the wrapped store's Get was called %d times", after-before)
		}
	})
	t.Run("RootLevelNameWithSlash", func(t *testing.T) {
		wantValue(t, s, "/root", "r")
		wantValue(t, s, "root", "r")
	})
	t.Run("ARN", func(t *testing.T) {
		wantValue(t, s, vane.ARNPrefix(vane.DefaultRegion, vane.DefaultAccount)+"app/prod/features/dark", "on")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		before, _ := m.calls()
		_, err := s.Get(ctx, "/app/prod/features/missing")
		wantErr(t, "Get", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
		if !strings.Contains(vane.ErrorMessage(err), "/app/prod/features/missing") {
			t.Errorf("message %q does not name the parameter", vane.ErrorMessage(err))
		}
		if after, _ := m.calls(); after != before {
			t.Errorf("the wrapped store's Get was called %d times", after-before)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, sel := range []string{"", "/a//b", "a/b", "/a/b:", "/a/b:0", "/a/b:1:2", "/a b", "/a/b:aws-x"} {
			_, err := s.Get(ctx, sel)
			if vane.ErrorCode(err) != vane.EINVALID {
				t.Errorf("Get(%q): %v, want code %q", sel, err, vane.EINVALID)
			}
			_, want := f.Get(ctx, sel)
			if vane.ErrorMessage(err) != vane.ErrorMessage(want) {
				t.Errorf("Get(%q): %v, the wrapped store says %v", sel, err, want)
			}
		}
	})
	t.Run("VersionSelectorDelegates", func(t *testing.T) {
		before, _ := m.calls()
		p := mustGet(t, s, "/app/prod/tuning/pool:1")
		if p.Version != 1 || p.Selector != ":1" || !slices.Equal(p.Labels, []string{"stable"}) {
			t.Errorf("got version %d selector %q labels %q", p.Version, p.Selector, p.Labels)
		}
		if after, _ := m.calls(); after != before+1 {
			t.Errorf("the wrapped store's Get was called %d times, want 1", after-before)
		}
	})
	t.Run("LabelSelectorDelegates", func(t *testing.T) {
		p := mustGet(t, s, "/app/prod/tuning/pool:stable")
		if p.Version != 1 || p.Selector != ":stable" {
			t.Errorf("got version %d selector %q", p.Version, p.Selector)
		}
		_, err := s.Get(ctx, "/app/prod/tuning/pool:nolabel")
		wantErr(t, "Get(:nolabel)", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
	})
	t.Run("NoAllocations", func(t *testing.T) {
		var p *vane.Parameter
		allocs := testing.AllocsPerRun(100, func() { p, _ = s.Get(ctx, "/app/prod/features/dark") })
		if allocs != 0 || p == nil {
			t.Errorf("Get allocates %v times per call, want 0", allocs)
		}
	})
	t.Run("ErrNotOpen", func(t *testing.T) {
		_, err := index.New(f).Get(ctx, "/app/prod/features/dark")
		wantErr(t, "Get before Open", err, vane.EINTERNAL, "")
	})
}

// byPathFixture is a store whose names exercise path boundaries: root-level
// names sorting before and after "/", siblings sharing prefixes ("/a/b",
// "/a/bc", "/a0"), deep subtrees, and every type.
func byPathFixture() *memBackend {
	m := newMemBackend()
	for _, n := range []string{
		"-dash", ".dot", "a", "z", "Zed", "_u",
		"/a/b", "/a/b/c", "/a/b/c/d", "/a/b/c/e", "/a/b/d", "/a/bc", "/a/bc/x", "/a/b-c", "/a/b.c", "/a/b_c",
		"/a0", "/a0/x", "/a-/x", "/aa/b", "/b", "/b/c/d/e/f/g",
	} {
		m.put(n, "v-"+n)
	}
	for i := range 30 {
		m.put(fmt.Sprintf("/app/prod/features/f%02d", i), fmt.Sprintf("%d", i))
		m.put(fmt.Sprintf("/app/prod/tuning/t%02d/x", i), "t")
	}
	m.putType("/a/list", "x,y", vane.TypeStringList)
	m.putType("/a/secret", "s", vane.TypeSecureString)
	m.putType("/app/prod/features/secret", "s", vane.TypeSecureString)
	m.putType("secret", "s", vane.TypeSecureString)
	return m
}

func TestByPath(t *testing.T) {
	ctx := context.Background()
	m := byPathFixture()
	f := m.store()
	s := MustOpen(t, f)

	paths := []string{"/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/bc", "/a0", "/app", "/app/prod",
		"/app/prod/features", "/app/prod/tuning", "/b", "/b/c/d", "/nope", "/z"}
	filters := [][]vane.Filter{
		nil,
		{{Key: vane.FilterType, Values: []string{"String"}}},
		{{Key: vane.FilterType, Option: vane.OptionBeginsWith, Values: []string{"Secure", "StringL"}}},
		{{Key: vane.FilterKeyID, Values: []string{vane.DefaultKeyID}}},
		{{Key: vane.FilterType, Values: []string{"SecureString"}}, {Key: vane.FilterKeyID, Option: vane.OptionBeginsWith, Values: []string{"alias/"}}},
	}
	limits := []int{0, 1, 2, 3, 7, 1000}
	for _, path := range paths {
		for _, recursive := range []bool{false, true} {
			for fi, fs := range filters {
				for _, limit := range limits {
					what := fmt.Sprintf("ByPath(%q, recursive=%v, filters#%d, limit=%d)", path, recursive, fi, limit)
					in := vane.ByPathInput{Path: path, Recursive: recursive, Filters: fs, Limit: limit}
					comparePages(t, what, s, f, in)
				}
			}
		}
	}

	t.Run("Tokens", func(t *testing.T) {
		// Tokens the store never issued still resume after their name.
		for _, after := range []string{"", "/", "/a", "/a/", "/a/b", "/a/b/c/d", "/a/b0", "/a/zzz", "/zzz", "a", "{", "/app/prod/features/f10", "/app/prod/features/f10x"} {
			for _, path := range []string{"/", "/a", "/app/prod/features"} {
				for _, recursive := range []bool{false, true} {
					in := vane.ByPathInput{Path: path, Recursive: recursive, Limit: 3, NextToken: vane.EncodeToken(after)}
					comparePages(t, fmt.Sprintf("ByPath(%q, recursive=%v) after %q", path, recursive, after), s, f, in)
				}
			}
		}
	})

	t.Run("Errors", func(t *testing.T) {
		for _, in := range []vane.ByPathInput{
			{Path: ""},
			{Path: "a"},
			{Path: "/a//b"},
			{Path: "/a", Limit: -1},
			{Path: "/a", Limit: vane.MaxPageSize + 1},
			{Path: "/a", NextToken: "!!"},
			{Path: "/a", NextToken: "djE"},
			{Path: "/a", Filters: []vane.Filter{{Key: vane.FilterName, Values: []string{"x"}}}},
			{Path: "/a", Filters: []vane.Filter{{Key: vane.FilterType, Values: []string{"Bogus"}}}},
			{Path: "/a", Filters: []vane.Filter{{Key: vane.FilterType, Option: vane.OptionContains, Values: []string{"S"}}}},
			{Path: "/a", Filters: []vane.Filter{{Key: vane.FilterType, Values: []string{"String"}}, {Key: vane.FilterType, Values: []string{"String"}}}},
			{Path: "/a", Filters: []vane.Filter{{Key: vane.FilterType}}},
			// Several faults at once: the first check to fail decides.
			{Path: "bad", Limit: -1, NextToken: "!!"},
			{Path: "/a", Limit: -1, NextToken: "!!", Filters: []vane.Filter{{Key: "Bogus", Values: []string{"x"}}}},
			{Path: "/a", Limit: -1, NextToken: "!!"},
		} {
			comparePages(t, fmt.Sprintf("ByPath(%+v)", in), s, f, in)
		}
	})

	t.Run("LabelFilterDelegates", func(t *testing.T) {
		var called int
		g := *f
		g.ByPathFunc = func(ctx context.Context, in *vane.ByPathInput) (*vane.Page, error) {
			called++
			return &vane.Page{Parameters: []*vane.Parameter{}}, nil
		}
		s := MustOpen(t, &g)
		in := &vane.ByPathInput{Path: "/a", Filters: []vane.Filter{{Key: vane.FilterLabel, Values: []string{"prod"}}}}
		if _, err := s.ByPath(ctx, in); err != nil {
			t.Fatal(err)
		}
		if called != 1 {
			t.Errorf("the wrapped store's ByPath was called %d times, want 1", called)
		}
		// A request the checks refuse is refused before delegating.
		in.Limit = -1
		_, err := s.ByPath(ctx, in)
		wantErr(t, "ByPath(Label, limit -1)", err, vane.EINVALID, vane.DetailValidation)
		if called != 1 {
			t.Errorf("the wrapped store's ByPath was called %d times, want 1", called)
		}
	})

	t.Run("ErrNotOpen", func(t *testing.T) {
		_, err := index.New(f).ByPath(ctx, &vane.ByPathInput{Path: "/"})
		wantErr(t, "ByPath before Open", err, vane.EINTERNAL, "")
	})
}

// comparePages checks that the index lists in exactly as the reference does,
// following NextToken to the last page.
func comparePages(t *testing.T, what string, s *index.Store, ref vane.Store, in vane.ByPathInput) {
	t.Helper()
	ctx := context.Background()
	for page := 0; ; page++ {
		got, gerr := s.ByPath(ctx, &in)
		want, werr := ref.ByPath(ctx, &in)
		if gerr != nil || werr != nil {
			if gerr == nil || werr == nil || vane.ErrorCode(gerr) != vane.ErrorCode(werr) ||
				vane.ErrorDetail(gerr) != vane.ErrorDetail(werr) || vane.ErrorMessage(gerr) != vane.ErrorMessage(werr) {
				t.Errorf("%s page %d: error %v, want %v", what, page, gerr, werr)
			}
			return
		}
		if g, w := render(got), render(want); g != w {
			t.Errorf("%s page %d:\ngot  %s\nwant %s", what, page, g, w)
			return
		}
		if got.Parameters == nil {
			t.Errorf("%s page %d: nil Parameters, want an empty slice", what, page)
		}
		if got.NextToken == "" {
			return
		}
		in.NextToken = got.NextToken
	}
}

func render(pg *vane.Page) string {
	var b strings.Builder
	for _, p := range pg.Parameters {
		fmt.Fprintf(&b, "%s=%s v%d %s %q; ", p.Name, p.Value, p.Version, p.Type, p.Labels)
	}
	fmt.Fprintf(&b, "token %q", pg.NextToken)
	return b.String()
}

func TestCatchUp(t *testing.T) {
	ctx := context.Background()

	t.Run("AppliesChangesOfOtherWriters", func(t *testing.T) {
		m := newMemBackend()
		m.put("/a/keep", "1")
		m.put("/a/gone", "1")
		m.put("/a/moved", "1")
		m.label("/a/moved", 0, "prod", "beta")
		s := MustOpen(t, m.store())
		wantValue(t, s, "/a/moved", "1", "beta", "prod")

		m.put("/a/new", "1")
		m.put("/a/keep", "2")
		m.delete("/a/gone")
		m.put("/a/moved", "2")            // the labels stay on version 1
		m.label("/a/moved", 2, "beta")    // beta moves to the latest
		m.label("/a/keep", 0, "stable")   // labels the latest
		m.unlabel("/a/keep", "stable")    // and removes it again
		m.label("/a/keep", 0, "released") // labels the latest
		if s.Seq() == m.seq() {
			t.Fatal("Seq moved before CatchUp")
		}
		mustCatchUp(t, s)
		wantValue(t, s, "/a/new", "1")
		wantValue(t, s, "/a/keep", "2", "released")
		wantValue(t, s, "/a/moved", "2", "beta")
		wantAbsent(t, s, "/a/gone")
		if s.Seq() != m.seq() {
			t.Errorf("Seq() = %d, want %d", s.Seq(), m.seq())
		}
		page, err := s.ByPath(ctx, &vane.ByPathInput{Path: "/a"})
		if err != nil {
			t.Fatal(err)
		}
		if got := render(page); !strings.Contains(got, "/a/keep=2") || strings.Contains(got, "/a/gone") || !strings.Contains(got, "/a/new=1") {
			t.Errorf("ByPath after CatchUp: %s", got)
		}
	})

	t.Run("NothingNewReadsTheLogOnce", func(t *testing.T) {
		m := newMemBackend()
		m.put("/a", "1")
		s := MustOpen(t, m.store())
		gets, changes := m.calls()
		mustCatchUp(t, s)
		g2, c2 := m.calls()
		if g2 != gets || c2 != changes+1 {
			t.Errorf("CatchUp with nothing new made %d Get and %d Changes calls, want 0 and 1", g2-gets, c2-changes)
		}
	})

	t.Run("ReadsInBatchesAndRereadsEachNameOnce", func(t *testing.T) {
		m := newMemBackend()
		s := index.New(m.store())
		s.BatchSize = 4
		if err := s.Open(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			m.put("/x", fmt.Sprint(i)) // seqs 1-10: batches 1-4, 5-8, 9-10
		}
		m.put("/y", "y")      // seq 11, in the third batch
		m.delete("/y")        // 12, fourth
		m.put("/y", "again")  // 13
		m.label("/x", 0, "l") // 14
		gets, changes := m.calls()
		mustCatchUp(t, s)
		g2, c2 := m.calls()
		// Batches: 1-4, 5-8, 9-12, 13-14, then an empty read.
		if c2-changes != 5 {
			t.Errorf("Changes called %d times, want 5", c2-changes)
		}
		// One Get per distinct name per batch: x; x; x y; y x.
		if g2-gets != 6 {
			t.Errorf("Get called %d times, want 6", g2-gets)
		}
		wantValue(t, s, "/x", "9", "l")
		wantValue(t, s, "/y", "again")
		if s.Seq() != 14 {
			t.Errorf("Seq() = %d, want 14", s.Seq())
		}
	})

	t.Run("TagChangesAreNotReread", func(t *testing.T) {
		m := newMemBackend()
		m.put("/t/a", "1")
		f := m.store()
		s := MustOpen(t, f)
		gets, _ := m.calls()
		if err := s.AddTags(ctx, &vane.TagInput{Name: "/t/a", Tags: []vane.Tag{{Key: "k", Value: "v"}}}); err != nil {
			t.Fatal(err)
		}
		if g2, _ := m.calls(); g2 != gets {
			t.Errorf("a tag change made %d Get calls, want 0", g2-gets)
		}
		if s.Seq() != m.seq() {
			t.Errorf("Seq() = %d, want %d", s.Seq(), m.seq())
		}
	})

	t.Run("ErrorPublishesNothing", func(t *testing.T) {
		m := newMemBackend()
		m.put("/t/a", "1")
		f := m.store()
		s := MustOpen(t, f)
		get := f.GetFunc
		broken := errors.New("disk on fire")
		f.GetFunc = func(ctx context.Context, sel string) (*vane.Parameter, error) {
			if sel == "/t/b" {
				return nil, broken
			}
			return get(ctx, sel)
		}
		m.put("/t/a", "2")
		m.put("/t/b", "1")
		seq := s.Seq()
		if err := s.CatchUp(ctx); !errors.Is(err, broken) {
			t.Fatalf("CatchUp: %v, want %v", err, broken)
		}
		if s.Seq() != seq {
			t.Errorf("Seq() = %d after a failed CatchUp, want %d", s.Seq(), seq)
		}
		if _, err := s.ByPath(ctx, &vane.ByPathInput{Path: "/"}); err != nil {
			t.Fatal(err)
		}
		f.GetFunc = get
		mustCatchUp(t, s)
		wantValue(t, s, "/t/a", "2")
		wantValue(t, s, "/t/b", "1")
		if s.Seq() != m.seq() {
			t.Errorf("Seq() = %d, want %d", s.Seq(), m.seq())
		}
		if n, _ := s.Stats(); n != 2 {
			t.Errorf("Stats() = %d entries, want 2", n)
		}
	})

	t.Run("ChangesErrorIsReturned", func(t *testing.T) {
		m := newMemBackend()
		f := m.store()
		s := MustOpen(t, f)
		f.ChangesFunc = func(context.Context, int64, string, int) ([]vane.Change, error) {
			return nil, vane.Errorf(vane.EUNAVAILABLE, "down")
		}
		if err := s.CatchUp(ctx); vane.ErrorCode(err) != vane.EUNAVAILABLE {
			t.Errorf("CatchUp: %v, want code %q", err, vane.EUNAVAILABLE)
		}
	})

	t.Run("ErrNotOpen", func(t *testing.T) {
		err := index.New(newMemBackend().store()).CatchUp(ctx)
		wantErr(t, "CatchUp before Open", err, vane.EINTERNAL, "")
	})
}

func TestReadYourWrites(t *testing.T) {
	ctx := context.Background()
	m := newMemBackend()
	f := m.store()
	s := MustOpen(t, f)

	if _, err := s.Put(ctx, &vane.PutInput{Name: "/app/prod/features/f", Value: "1", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "/app/prod/features/f", "1")
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/app/prod/features/f", Value: "2", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "/app/prod/features/f", "2")
	if _, err := s.Label(ctx, &vane.LabelInput{Name: "/app/prod/features/f", Labels: []string{"live"}}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "/app/prod/features/f", "2", "live")
	if _, err := s.Unlabel(ctx, &vane.LabelInput{Name: "/app/prod/features/f", Version: 2, Labels: []string{"live"}}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "/app/prod/features/f", "2")
	page, err := s.ByPath(ctx, &vane.ByPathInput{Path: "/app/prod/features"})
	if err != nil || len(page.Parameters) != 1 || page.Parameters[0].Value != "2" {
		t.Fatalf("ByPath after Put: %+v, %v", page, err)
	}
	if err := s.Delete(ctx, &vane.DeleteInput{Name: "/app/prod/features/f"}); err != nil {
		t.Fatal(err)
	}
	wantAbsent(t, s, "/app/prod/features/f")
	if page, err := s.ByPath(ctx, &vane.ByPathInput{Path: "/app/prod/features"}); err != nil || len(page.Parameters) != 0 {
		t.Fatalf("ByPath after Delete: %+v, %v", page, err)
	}
	if ps, seq, err := s.Snapshot(ctx); err != nil || len(ps) != 0 || seq != m.seq() {
		t.Fatalf("Snapshot after Delete: %d parameters at %d, %v; want none at %d", len(ps), seq, err, m.seq())
	}

	t.Run("FailedWriteDoesNotCatchUp", func(t *testing.T) {
		_, changes := m.calls()
		err := s.Delete(ctx, &vane.DeleteInput{Name: "/app/prod/features/f"})
		wantErr(t, "Delete", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
		if _, c2 := m.calls(); c2 != changes {
			t.Errorf("a failed write read the change log %d times", c2-changes)
		}
	})

	t.Run("CatchUpFailureAfterWriteIsLogged", func(t *testing.T) {
		m := newMemBackend()
		f := m.store()
		s := index.New(f)
		var log bytes.Buffer
		s.Logger = slog.New(slog.NewTextHandler(&log, nil))
		if err := s.Open(ctx); err != nil {
			t.Fatal(err)
		}
		f.ChangesFunc = func(context.Context, int64, string, int) ([]vane.Change, error) {
			return nil, vane.Errorf(vane.EUNAVAILABLE, "down")
		}
		// The write is committed: reporting an error would invite a retry.
		if _, err := s.Put(ctx, &vane.PutInput{Name: "/a", Value: "1", Type: vane.TypeString}); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if !strings.Contains(log.String(), "catch up after write") || !strings.Contains(log.String(), "/a") {
			t.Errorf("log %q does not report the failed catch-up", log.String())
		}
	})

	t.Run("CanceledContextStillCatchesUp", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		put := f.PutFunc
		f.PutFunc = func(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
			p, err := put(ctx, in)
			cancel() // the caller gives up once the write is committed
			return p, err
		}
		defer func() { f.PutFunc = put }()
		changes := f.ChangesFunc
		f.ChangesFunc = func(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return changes(ctx, after, prefix, limit)
		}
		defer func() { f.ChangesFunc = changes }()
		if _, err := s.Put(cctx, &vane.PutInput{Name: "/c", Value: "1", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, "/c", "1")
	})

	t.Run("WritesBeforeOpenAreLoadedByOpen", func(t *testing.T) {
		m := newMemBackend()
		s := index.New(m.store())
		if _, err := s.Put(ctx, &vane.PutInput{Name: "/early", Value: "1", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		if err := s.Open(ctx); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, "/early", "1")
	})
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	m := byPathFixture()
	f := m.store()
	var snapshots int
	snap := f.SnapshotFunc
	f.SnapshotFunc = func(ctx context.Context) ([]*vane.Parameter, int64, error) {
		snapshots++
		return snap(ctx)
	}
	s := MustOpen(t, f)
	m.put("/late", "1")
	m.delete("/a/b")
	mustCatchUp(t, s)
	got, seq, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, wseq, _ := snap(ctx)
	if seq != wseq {
		t.Errorf("Snapshot sequence %d, want %d", seq, wseq)
	}
	gp, wp := &vane.Page{Parameters: got}, &vane.Page{Parameters: want}
	if render(gp) != render(wp) {
		t.Errorf("Snapshot:\ngot  %s\nwant %s", render(gp), render(wp))
	}
	if snapshots != 1 {
		t.Errorf("the wrapped store's Snapshot was called %d times, want 1 (by Open)", snapshots)
	}
	if _, _, err := index.New(f).Snapshot(ctx); vane.ErrorCode(err) != vane.EINTERNAL {
		t.Errorf("Snapshot before Open: %v, want code %q", err, vane.EINTERNAL)
	}
}

func TestStats(t *testing.T) {
	m := newMemBackend()
	m.put("/n/a", "123") // 4 + 3
	m.put("b", "12345")  // 1 + 5
	s := MustOpen(t, m.store())
	if n, b := s.Stats(); n != 2 || b != 13 {
		t.Errorf("Stats() = %d, %d; want 2, 13", n, b)
	}
	m.put("/n/a", "1") // 4 + 1
	m.delete("b")
	m.put("/n/c", "") // 4 + 0
	mustCatchUp(t, s)
	if n, b := s.Stats(); n != 2 || b != 9 {
		t.Errorf("Stats() = %d, %d; want 2, 9", n, b)
	}
	if n, b := index.New(m.store()).Stats(); n != 0 || b != 0 {
		t.Errorf("Stats() before Open = %d, %d; want 0, 0", n, b)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrSnapshot", func(t *testing.T) {
		f := &fakeStore{SnapshotFunc: func(context.Context) ([]*vane.Parameter, int64, error) {
			return nil, 0, vane.Errorf(vane.EUNAVAILABLE, "down")
		}}
		if err := index.New(f).Open(ctx); vane.ErrorCode(err) != vane.EUNAVAILABLE {
			t.Errorf("Open: %v, want code %q", err, vane.EUNAVAILABLE)
		}
	})
	t.Run("ErrBatchSize", func(t *testing.T) {
		s := index.New(newMemBackend().store())
		s.BatchSize = vane.MaxPageSize + 1
		if err := s.Open(ctx); vane.ErrorCode(err) != vane.EINVALID {
			t.Errorf("Open: %v, want code %q", err, vane.EINVALID)
		}
	})
	t.Run("ReopenReloads", func(t *testing.T) {
		m := newMemBackend()
		m.put("/a", "1")
		s := MustOpen(t, m.store())
		m.delete("/a")
		m.put("/b", "1")
		if err := s.Open(ctx); err != nil {
			t.Fatal(err)
		}
		wantAbsent(t, s, "/a")
		wantValue(t, s, "/b", "1")
		if n, _ := s.Stats(); n != 1 || s.Seq() != m.seq() {
			t.Errorf("after reopening: %d entries at %d, want 1 at %d", n, s.Seq(), m.seq())
		}
	})
}

func TestDelegates(t *testing.T) {
	ctx := context.Background()
	var calls []string
	f := &fakeStore{
		SnapshotFunc: func(context.Context) ([]*vane.Parameter, int64, error) { return nil, 0, nil },
		DescribeFunc: func(context.Context, *vane.DescribeInput) (*vane.Page, error) {
			calls = append(calls, "Describe")
			return &vane.Page{}, nil
		},
		HistoryFunc: func(context.Context, *vane.HistoryInput) (*vane.Page, error) {
			calls = append(calls, "History")
			return nil, vane.NotFoundError("/x")
		},
		TagsFunc: func(context.Context, string) ([]vane.Tag, error) {
			calls = append(calls, "Tags")
			return []vane.Tag{{Key: "k"}}, nil
		},
		ChangesFunc: func(_ context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
			calls = append(calls, fmt.Sprintf("Changes(%d,%s,%d)", after, prefix, limit))
			return nil, nil
		},
		RemoveTagsFunc: func(context.Context, *vane.TagInput) error {
			calls = append(calls, "RemoveTags")
			return nil
		},
		CompactFunc: func(_ context.Context, before time.Time) (int64, error) {
			calls = append(calls, "Compact("+before.UTC().Format(time.RFC3339)+")")
			return 3, nil
		},
		CloseFunc: func() error {
			calls = append(calls, "Close")
			return errors.New("close failed")
		},
	}
	s := MustOpen(t, f)
	if _, err := s.Describe(ctx, &vane.DescribeInput{}); err != nil {
		t.Error(err)
	}
	if _, err := s.History(ctx, &vane.HistoryInput{Name: "/x"}); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Errorf("History: %v", err)
	}
	if tags, err := s.Tags(ctx, "/x"); err != nil || len(tags) != 1 {
		t.Errorf("Tags: %v, %v", tags, err)
	}
	if _, err := s.Changes(ctx, 7, "/a/", 9); err != nil {
		t.Error(err)
	}
	if err := s.RemoveTags(ctx, &vane.TagInput{Name: "/x", Keys: []string{"k"}}); err != nil {
		t.Error(err)
	}
	if n, err := s.Compact(ctx, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)); n != 3 || err != nil {
		t.Errorf("Compact = %d, %v; want the wrapped store's 3", n, err)
	}
	if err := s.Close(); err == nil || err.Error() != "close failed" {
		t.Errorf("Close: %v, want the wrapped store's error", err)
	}
	want := []string{"Describe", "History", "Tags", "Changes(7,/a/,9)", "RemoveTags", fmt.Sprintf("Changes(0,,%d)", index.DefaultBatchSize), "Compact(2030-01-02T03:04:05Z)", "Close"}
	if !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
}
