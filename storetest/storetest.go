// Package storetest is the conformance suite every Vane storage backend
// must pass. A backend's test calls Run with a function that opens a new,
// empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) vane.Store {
//			s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite checks the contract written in the doc comments of vane.Store:
// the SSM semantics of versions, labels, tags, tiers and paging, the error
// codes and protocol details each method returns, the change log and its
// compaction, and the behaviour under concurrent writers. Subtests are named after the outcome
// they check and never run in parallel, since a backend may be a shared
// database.
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

// suitePrincipal is the identity the suite's writes carry unless a test sets
// another; stores must record it as LastModifiedUser and in the change log.
const suitePrincipal = "storetest"

// test is one leaf of the suite; it gets a store of its own.
type test struct {
	name string
	fn   func(t *testing.T, s vane.Store)
}

// group is a set of tests about one area of the contract.
type group struct {
	name  string
	tests []test
}

// Run runs the conformance suite; open returns a new, empty store each call
// (the suite closes it). Stores must use the wall clock: the suite checks
// that LastModified and change times fall within the call that wrote them.
func Run(t *testing.T, open func(t *testing.T) vane.Store) {
	t.Helper()
	groups := []group{
		{"Put", putTests},
		{"Get", getTests},
		{"Tier", tierTests},
		{"AllowedPattern", patternTests},
		{"Name", nameTests},
		{"Versions", versionTests},
		{"CompareAndSet", casTests},
		{"Delete", deleteTests},
		{"Label", labelTests},
		{"Tags", tagTests},
		{"ByPath", byPathTests},
		{"Describe", describeTests},
		{"History", historyTests},
		{"ChangeLog", changeLogTests},
		{"Compact", compactTests},
		{"Concurrency", concurrencyTests},
		{"Batch", batchTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, mustOpen(t, open))
				})
			}
		})
	}
}

// mustOpen opens a store and closes it when the test ends. The close is
// registered after open's own cleanups, so it runs before them (a temporary
// directory is removed only after the store is closed).
func mustOpen(t *testing.T, open func(t *testing.T) vane.Store) vane.Store {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// ctxAs returns the test's context carrying principal.
func ctxAs(t *testing.T, principal string) context.Context {
	return vane.NewContextWithPrincipal(t.Context(), principal)
}

// bg returns the test's context carrying suitePrincipal.
func bg(t *testing.T) context.Context { return ctxAs(t, suitePrincipal) }

// mustPut puts and fails the test on error.
func mustPut(t *testing.T, s vane.Store, in *vane.PutInput) *vane.Parameter {
	t.Helper()
	p, err := s.Put(bg(t), in)
	if err != nil {
		t.Fatalf("Put(%q): %v", in.Name, err)
	}
	return p
}

// create creates a String parameter.
func create(t *testing.T, s vane.Store, name, value string) *vane.Parameter {
	t.Helper()
	return mustPut(t, s, &vane.PutInput{Name: name, Value: value, Type: vane.TypeString})
}

// overwrite adds a version, keeping the type.
func overwrite(t *testing.T, s vane.Store, name, value string) *vane.Parameter {
	t.Helper()
	return mustPut(t, s, &vane.PutInput{Name: name, Value: value, Overwrite: true})
}

// createVersions creates a String parameter with n versions whose values
// are "v1" to "vN".
func createVersions(t *testing.T, s vane.Store, name string, n int) {
	t.Helper()
	create(t, s, name, "v1")
	for i := 2; i <= n; i++ {
		overwrite(t, s, name, fmt.Sprintf("v%d", i))
	}
}

// mustGet reads a selector and fails the test on error.
func mustGet(t *testing.T, s vane.Store, selector string) *vane.Parameter {
	t.Helper()
	p, err := s.Get(bg(t), selector)
	if err != nil {
		t.Fatalf("Get(%q): %v", selector, err)
	}
	return p
}

// mustLabel labels a version and fails the test on error.
func mustLabel(t *testing.T, s vane.Store, name string, version int64, labels ...string) *vane.LabelResult {
	t.Helper()
	r, err := s.Label(bg(t), &vane.LabelInput{Name: name, Version: version, Labels: labels})
	if err != nil {
		t.Fatalf("Label(%q, %d, %q): %v", name, version, labels, err)
	}
	return r
}

// mustTags lists tags and fails the test on error.
func mustTags(t *testing.T, s vane.Store, name string) []vane.Tag {
	t.Helper()
	tags, err := s.Tags(bg(t), name)
	if err != nil {
		t.Fatalf("Tags(%q): %v", name, err)
	}
	return tags
}

// wantErr reports an error unless err has code and, when detail is not
// empty, that protocol detail. It returns whether err matched.
func wantErr(t *testing.T, what string, err error, code, detail string) bool {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want %s", what, describeWant(code, detail))
	case vane.ErrorCode(err) != code || (detail != "" && vane.ErrorDetail(err) != detail):
		t.Errorf("%s: got error code %q detail %q (%v), want %s",
			what, vane.ErrorCode(err), vane.ErrorDetail(err), err, describeWant(code, detail))
	default:
		return true
	}
	return false
}

func describeWant(code, detail string) string {
	if detail == "" {
		return fmt.Sprintf("code %q", code)
	}
	return fmt.Sprintf("code %q detail %q", code, detail)
}

// wantNotFound reports an error unless name does not exist.
func wantNotFound(t *testing.T, s vane.Store, name string) {
	t.Helper()
	_, err := s.Get(bg(t), name)
	wantErr(t, fmt.Sprintf("Get(%q)", name), err, vane.ENOTFOUND, vane.DetailParameterNotFound)
}

// wantVersion reports an error unless the latest version of name is
// version with value.
func wantVersion(t *testing.T, s vane.Store, name string, version int64, value string) {
	t.Helper()
	p := mustGet(t, s, name)
	if p.Version != version || p.Value != value {
		t.Errorf("Get(%q) = version %d value %q, want version %d value %q", name, p.Version, short(p.Value), version, short(value))
	}
}

// wantLabels reports an error unless got and want hold the same labels in
// the same order (nil and empty are equal).
func wantLabels(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: labels %q, want %q", what, got, want)
	}
}

// wantSameSet reports an error unless got and want hold the same strings
// in any order.
func wantSameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %q, want %q (any order)", what, got, want)
	}
}

// wantNames reports an error unless the parameters have exactly these
// names in this order.
func wantNames(t *testing.T, what string, ps []*vane.Parameter, want ...string) {
	t.Helper()
	if got := names(ps); !slices.Equal(got, want) {
		t.Errorf("%s: names %q, want %q", what, got, want)
	}
}

func names(ps []*vane.Parameter) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// timeSlack absorbs stores that keep timestamps at a coarser precision
// than time.Time, such as whole milliseconds or seconds.
const timeSlack = 2 * time.Second

// wantTimeWithin reports an error unless got falls within [before, after]
// give or take timeSlack.
func wantTimeWithin(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.IsZero() || got.Before(before.Add(-timeSlack)) || got.After(after.Add(timeSlack)) {
		t.Errorf("%s = %v, want a time between %v and %v", what, got, before, after)
	}
}

// short keeps long values out of failure messages.
func short(s string) string {
	if len(s) <= 40 {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:40], len(s))
}

// maxPages bounds every paging loop, so a store whose NextToken never ends
// fails instead of hanging.
const maxPages = 1000

// pageAll calls list with each NextToken until the last page and returns
// the concatenated parameters. It fails the test if a page has more than
// limit parameters (when limit > 0) or the pages never end.
func pageAll(t *testing.T, what string, limit int, list func(token string) (*vane.Page, error)) []*vane.Parameter {
	t.Helper()
	var out []*vane.Parameter
	token := ""
	for range maxPages {
		page, err := list(token)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if limit > 0 && len(page.Parameters) > limit {
			t.Errorf("%s: page of %d parameters, limit %d", what, len(page.Parameters), limit)
		}
		out = append(out, page.Parameters...)
		if page.NextToken == "" {
			return out
		}
		token = page.NextToken
	}
	t.Fatalf("%s: still returning a NextToken after %d pages", what, maxPages)
	return nil
}

// byPathAll lists every page of a by-path read.
func byPathAll(t *testing.T, s vane.Store, in vane.ByPathInput) []*vane.Parameter {
	t.Helper()
	what := fmt.Sprintf("ByPath(%q, recursive=%v, limit=%d)", in.Path, in.Recursive, in.Limit)
	return pageAll(t, what, in.Limit, func(token string) (*vane.Page, error) {
		in.NextToken = token
		return s.ByPath(bg(t), &in)
	})
}

// describeAll lists every page of a describe.
func describeAll(t *testing.T, s vane.Store, in vane.DescribeInput) []*vane.Parameter {
	t.Helper()
	return pageAll(t, fmt.Sprintf("Describe(%v, limit=%d)", in.Filters, in.Limit), in.Limit, func(token string) (*vane.Page, error) {
		in.NextToken = token
		return s.Describe(bg(t), &in)
	})
}

// historyAll lists every kept version of a parameter.
func historyAll(t *testing.T, s vane.Store, name string, limit int) []*vane.Parameter {
	t.Helper()
	return pageAll(t, fmt.Sprintf("History(%q, limit=%d)", name, limit), limit, func(token string) (*vane.Page, error) {
		return s.History(bg(t), &vane.HistoryInput{Name: name, Limit: limit, NextToken: token})
	})
}

// wantHistoryVersions reports an error unless the kept versions of name
// are exactly from..to, oldest first, with values "vN".
func wantHistoryVersions(t *testing.T, s vane.Store, name string, from, to int64) {
	t.Helper()
	h := historyAll(t, s, name, 0)
	if int64(len(h)) != to-from+1 {
		t.Errorf("History(%q): %d versions, want %d (versions %d to %d)", name, len(h), to-from+1, from, to)
		return
	}
	for i, p := range h {
		v := from + int64(i)
		if p.Version != v || p.Value != fmt.Sprintf("v%d", v) {
			t.Errorf("History(%q)[%d] = version %d value %q, want version %d value %q", name, i, p.Version, p.Value, v, fmt.Sprintf("v%d", v))
			return
		}
	}
}

// changeBatch is the page size the suite reads the change log with.
const changeBatch = 500

// changesAfter returns every change after seq under prefix, reading the
// log in pages and checking that sequence numbers increase.
func changesAfter(t *testing.T, s vane.Store, after int64, prefix string) []vane.Change {
	t.Helper()
	var out []vane.Change
	for range maxPages {
		cs, err := s.Changes(bg(t), after, prefix, changeBatch)
		if err != nil {
			t.Fatalf("Changes(%d, %q, %d): %v", after, prefix, changeBatch, err)
		}
		if len(cs) > changeBatch {
			t.Fatalf("Changes(%d, %q, %d) returned %d changes", after, prefix, changeBatch, len(cs))
		}
		for _, c := range cs {
			if c.Seq <= after {
				t.Fatalf("Changes(%d, %q, %d): sequence %d does not increase (previous %d)", after, prefix, changeBatch, c.Seq, after)
			}
			after = c.Seq
		}
		out = append(out, cs...)
		if len(cs) < changeBatch {
			return out
		}
	}
	t.Fatalf("Changes: more than %d pages", maxPages)
	return nil
}

// lastSeq returns the sequence of the newest change, or 0.
func lastSeq(t *testing.T, s vane.Store) int64 {
	t.Helper()
	cs := changesAfter(t, s, 0, "")
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

// storeState renders everything a reader can see of the whole store, so a
// test can check that a failed write changed nothing: every parameter's
// kept versions with labels, its tags, and the change log's length.
func storeState(t *testing.T, s vane.Store) string {
	t.Helper()
	var b strings.Builder
	for _, p := range describeAll(t, s, vane.DescribeInput{}) {
		for _, v := range historyAll(t, s, p.Name, 0) {
			b.WriteString(render(v))
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "tags %v\n", mustTags(t, s, p.Name))
	}
	fmt.Fprintf(&b, "changes %d\n", len(changesAfter(t, s, 0, "")))
	return b.String()
}

// render formats every field of a parameter.
func render(p *vane.Parameter) string {
	return fmt.Sprintf("%s v%d type=%s value=%q labels=%q tier=%s desc=%q pattern=%q datatype=%s key=%q user=%s at=%s selector=%q",
		p.Name, p.Version, p.Type, short(p.Value), p.Labels, p.Tier, p.Description, p.AllowedPattern,
		p.DataType, p.KeyID, p.LastModifiedUser, p.LastModified.UTC().Format(time.RFC3339Nano), p.Selector)
}

// wantUnchanged reports an error unless the store's state still equals
// before (from storeState).
func wantUnchanged(t *testing.T, s vane.Store, what, before string) {
	t.Helper()
	if after := storeState(t, s); after != before {
		t.Errorf("%s changed the store:\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
}
