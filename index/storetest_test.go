package index_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/storetest"
)

// openSQLite returns an index over a new SQLite store in a temporary
// directory, opened; closing the index closes the store.
func openSQLite(t *testing.T) *index.Store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := index.New(db)
	if err := s.Open(t.Context()); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the storage conformance suite on the index wrapping
// SQLite: served from memory or not, it must behave as the backend does.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) vane.Store { return openSQLite(t) })
}

// TestByPathMatchesSQLite lists the same data from the index and from the
// SQLite store below it, page by page, and wants identical pages and errors.
func TestByPathMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	t.Cleanup(func() { s.Close() })
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "direct.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The fixture's names, written to both stores through their Put.
	fixture := byPathFixture()
	ps, _, _ := fixture.store().Snapshot(ctx)
	for _, p := range ps {
		in := &vane.PutInput{Name: p.Name, Value: p.Value, Type: p.Type}
		for _, st := range []vane.Store{s, db} {
			if _, err := st.Put(ctx, in); err != nil {
				t.Fatalf("Put(%q): %v", p.Name, err)
			}
		}
	}
	// A second version and labels, so that results carry both.
	for _, st := range []vane.Store{s, db} {
		if _, err := st.Put(ctx, &vane.PutInput{Name: "/a/b", Value: "two", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Label(ctx, &vane.LabelInput{Name: "/a/b", Version: 2, Labels: []string{"prod", "beta"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Label(ctx, &vane.LabelInput{Name: "/a/bc", Version: 1, Labels: []string{"prod"}}); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{"/", "/a", "/a/", "/a/b", "/a/b/c", "/a0", "/app", "/app/prod/features", "/app/prod/tuning", "/b", "/nope"}
	filters := [][]vane.Filter{
		nil,
		{{Key: vane.FilterType, Values: []string{"String"}}},
		{{Key: vane.FilterType, Option: vane.OptionBeginsWith, Values: []string{"Secure", "StringL"}}},
		{{Key: vane.FilterKeyID, Values: []string{vane.DefaultKeyID}}},
		{{Key: vane.FilterLabel, Values: []string{"prod"}}},
		{{Key: "Bogus", Values: []string{"x"}}},
	}
	for _, path := range paths {
		for _, recursive := range []bool{false, true} {
			for fi, fs := range filters {
				for _, limit := range []int{0, 1, 3, 1000, -1} {
					what := fmt.Sprintf("ByPath(%q, recursive=%v, filters#%d, limit=%d)", path, recursive, fi, limit)
					comparePages(t, what, s, db, vane.ByPathInput{Path: path, Recursive: recursive, Filters: fs, Limit: limit})
				}
			}
		}
	}
	for _, after := range []string{"/", "/a", "/a/b", "/a/b/c/d", "/a/b0", "/zzz", "a", "{"} {
		for _, path := range []string{"/", "/a"} {
			in := vane.ByPathInput{Path: path, Limit: 2, NextToken: vane.EncodeToken(after)}
			comparePages(t, fmt.Sprintf("ByPath(%q) after %q", path, after), s, db, in)
		}
	}
	comparePages(t, "ByPath(bad token)", s, db, vane.ByPathInput{Path: "/a", NextToken: "!!"})
	comparePages(t, "ByPath(bad path)", s, db, vane.ByPathInput{Path: "a/"})

	// Snapshot from memory equals SQLite's, sequence included.
	got, seq, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, wseq, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := render(&vane.Page{Parameters: got}), render(&vane.Page{Parameters: want}); g != w {
		t.Errorf("Snapshot:\ngot  %s\nwant %s", g, w)
	}
	if seq != wseq || seq != s.Seq() {
		t.Errorf("Snapshot sequence %d, Seq() %d, SQLite's %d", seq, s.Seq(), wseq)
	}
}

// TestConflictCatchesUp: a compare-and-set refused because another writer
// (another node: here a write straight to the store below) moved the
// version on leaves the index serving that version, so the refused writer
// reads what beat it without waiting for the follower.
func TestConflictCatchesUp(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := index.New(db)
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/a/x", Value: "1", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, &vane.PutInput{Name: "/a/x", Value: "2", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	expect := int64(1)
	_, err = s.Put(ctx, &vane.PutInput{Name: "/a/x", Value: "3", ExpectVersion: &expect})
	if vane.ErrorDetail(err) != vane.DetailVersionMismatch {
		t.Fatalf("stale compare-and-set: %v", err)
	}
	if p, err := s.Get(ctx, "/a/x"); err != nil || p.Version != 2 || p.Value != "2" {
		t.Fatalf("after the conflict the index serves %+v (%v); want version 2", p, err)
	}
	if err := s.Delete(ctx, &vane.DeleteInput{Name: "/a/x", ExpectVersion: &expect}); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Fatalf("stale delete: %v", err)
	}
}
