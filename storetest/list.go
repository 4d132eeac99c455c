package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vanehq/vane"
)

// forgedTokens are paging tokens no store can have issued.
var forgedTokens = []string{"not a token", "!!!", "bm90LWEtdG9rZW4", "%%%%"}

var byPathTests = []test{
	{"OneLevel", testByPathOneLevel},
	{"Recursive", testByPathRecursive},
	{"RootOneLevelListsRootNames", testByPathRoot},
	{"TrailingSlashIsSamePath", testByPathTrailingSlash},
	{"SortedByName", testByPathSorted},
	{"PagingReturnsEachOnce", testByPathPaging},
	{"ErrInvalidNextToken", testByPathErrToken},
	{"ErrInvalidPath", testByPathErrPath},
	{"FilterType", testByPathFilterType},
	{"FilterKeyId", testByPathFilterKeyID},
	{"FilterLabelReturnsLabelledVersion", testByPathFilterLabel},
	{"ErrInvalidFilter", testByPathErrFilter},
	{"StablePagingUnderConcurrentWrites", testByPathStablePaging},
}

// byPathFixture creates a small hierarchy; its names sorted are
// "/a/b/c/w", "/a/b/z", "/a/x", "/a/y", "/ab/x", "/b/x", "root1", "root2".
func byPathFixture(t *testing.T, s vane.Store) {
	t.Helper()
	for _, name := range []string{"/b/x", "/a/y", "/ab/x", "root1", "/a/b/c/w", "/root2", "/a/x", "/a/b/z"} {
		create(t, s, name, "value of "+name)
	}
}

func testByPathOneLevel(t *testing.T, s vane.Store) {
	byPathFixture(t, s)
	ps := byPathAll(t, s, vane.ByPathInput{Path: "/a"})
	wantNames(t, "ByPath(/a)", ps, "/a/x", "/a/y")
	for _, p := range ps {
		if p.Value != "value of "+p.Name || p.Version != 1 || p.Type != vane.TypeString {
			t.Errorf("ByPath(/a) returned %s, want version 1 with value %q", render(p), "value of "+p.Name)
		}
	}
	wantNames(t, "ByPath(/a/b)", byPathAll(t, s, vane.ByPathInput{Path: "/a/b"}), "/a/b/z")
	wantNames(t, "ByPath(/nothing)", byPathAll(t, s, vane.ByPathInput{Path: "/nothing"}))
	// A parameter's own name is not a path that lists it.
	wantNames(t, "ByPath(/a/x)", byPathAll(t, s, vane.ByPathInput{Path: "/a/x"}))
}

func testByPathRecursive(t *testing.T, s vane.Store) {
	byPathFixture(t, s)
	wantNames(t, "ByPath(/a, recursive)", byPathAll(t, s, vane.ByPathInput{Path: "/a", Recursive: true}),
		"/a/b/c/w", "/a/b/z", "/a/x", "/a/y")
	wantNames(t, "ByPath(/a/b, recursive)", byPathAll(t, s, vane.ByPathInput{Path: "/a/b", Recursive: true}),
		"/a/b/c/w", "/a/b/z")
}

func testByPathRoot(t *testing.T, s vane.Store) {
	byPathFixture(t, s)
	wantNames(t, "ByPath(/)", byPathAll(t, s, vane.ByPathInput{Path: "/"}), "root1", "root2")
	wantNames(t, "ByPath(/, recursive)", byPathAll(t, s, vane.ByPathInput{Path: "/", Recursive: true}),
		"/a/b/c/w", "/a/b/z", "/a/x", "/a/y", "/ab/x", "/b/x", "root1", "root2")
}

func testByPathTrailingSlash(t *testing.T, s vane.Store) {
	byPathFixture(t, s)
	for _, recursive := range []bool{false, true} {
		a := names(byPathAll(t, s, vane.ByPathInput{Path: "/a", Recursive: recursive}))
		b := names(byPathAll(t, s, vane.ByPathInput{Path: "/a/", Recursive: recursive}))
		if !slices.Equal(a, b) {
			t.Errorf("recursive=%v: ByPath(/a) = %q but ByPath(/a/) = %q", recursive, a, b)
		}
		if slices.Contains(a, "/ab/x") {
			t.Errorf("recursive=%v: ByPath(/a) lists /ab/x", recursive)
		}
	}
}

func testByPathSorted(t *testing.T, s vane.Store) {
	// Names sort by byte, whatever a database's collation would say.
	for _, n := range []string{"/s/a", "/s/B", "/s/_x", "/s/9", "/s/.z", "/s/-y", "/s/A", "/s/b", "/s/aa", "/s/a.b", "/s/a-b", "/s/a_b"} {
		create(t, s, n, "x")
	}
	want := []string{"/s/-y", "/s/.z", "/s/9", "/s/A", "/s/B", "/s/_x", "/s/a", "/s/a-b", "/s/a.b", "/s/a_b", "/s/aa", "/s/b"}
	wantNames(t, "ByPath(/s)", byPathAll(t, s, vane.ByPathInput{Path: "/s"}), want...)
	wantNames(t, "ByPath(/s, limit 5)", byPathAll(t, s, vane.ByPathInput{Path: "/s", Limit: 5}), want...)
	wantNames(t, "Describe", describeAll(t, s, vane.DescribeInput{}), want...)
	wantNames(t, "Describe(limit 5)", describeAll(t, s, vane.DescribeInput{Limit: 5}), want...)
}

func testByPathPaging(t *testing.T, s vane.Store) {
	var want []string
	for i := range 23 {
		n := fmt.Sprintf("/pg/p%02d", i)
		if i%4 == 0 {
			n = fmt.Sprintf("/pg/sub/p%02d", i)
		}
		create(t, s, n, "x")
		want = append(want, n)
	}
	create(t, s, "/pga", "outside")
	create(t, s, "/pf", "outside")
	slices.Sort(want)
	for _, limit := range []int{1, 5, 22, 23, 24} {
		wantNames(t, fmt.Sprintf("ByPath(/pg, recursive, limit %d)", limit),
			byPathAll(t, s, vane.ByPathInput{Path: "/pg", Recursive: true, Limit: limit}), want...)
	}
	page, err := s.ByPath(bg(t), &vane.ByPathInput{Path: "/pg", Recursive: true, Limit: 23})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Parameters) != 23 {
		t.Errorf("ByPath(limit 23) of 23 parameters: %d on the first page, want 23", len(page.Parameters))
	}
	// An empty result is one page without a token.
	page, err = s.ByPath(bg(t), &vane.ByPathInput{Path: "/none", Limit: 5})
	if err != nil || len(page.Parameters) != 0 || page.NextToken != "" {
		t.Errorf("ByPath(/none) = %d parameters, token %q, error %v; want an empty last page", len(page.Parameters), page.NextToken, err)
	}
}

func testByPathErrToken(t *testing.T, s vane.Store) {
	byPathFixture(t, s)
	for _, tok := range forgedTokens {
		_, err := s.ByPath(bg(t), &vane.ByPathInput{Path: "/a", NextToken: tok})
		wantErr(t, fmt.Sprintf("ByPath with token %q", tok), err, vane.EINVALID, vane.DetailInvalidNextToken)
	}
}

func testByPathErrPath(t *testing.T, s vane.Store) {
	for _, path := range []string{"", "a", "a/b", "/a//b", "/a b"} {
		_, err := s.ByPath(bg(t), &vane.ByPathInput{Path: path})
		wantErr(t, fmt.Sprintf("ByPath(%q)", path), err, vane.EINVALID, "")
	}
	_, err := s.ByPath(bg(t), &vane.ByPathInput{Path: "/a", Limit: -1})
	wantErr(t, "ByPath with limit -1", err, vane.EINVALID, "")
}

func testByPathFilterType(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/f/a", Value: "x", Type: vane.TypeString})
	mustPut(t, s, &vane.PutInput{Name: "/f/b", Value: "x,y", Type: vane.TypeStringList})
	mustPut(t, s, &vane.PutInput{Name: "/f/c", Value: "s", Type: vane.TypeSecureString})
	mustPut(t, s, &vane.PutInput{Name: "/f/d/e", Value: "s", Type: vane.TypeSecureString})
	in := vane.ByPathInput{Path: "/f", Filters: []vane.Filter{{Key: vane.FilterType, Values: []string{"SecureString"}}}}
	wantNames(t, "ByPath(/f, Type=SecureString)", byPathAll(t, s, in), "/f/c")
	in.Recursive = true
	wantNames(t, "ByPath(/f, recursive, Type=SecureString)", byPathAll(t, s, in), "/f/c", "/f/d/e")
	in.Filters = []vane.Filter{{Key: vane.FilterType, Option: vane.OptionEquals, Values: []string{"String", "StringList"}}}
	wantNames(t, "ByPath(/f, recursive, Type=String|StringList)", byPathAll(t, s, in), "/f/a", "/f/b")
}

func testByPathFilterKeyID(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/k/a", Value: "s", Type: vane.TypeSecureString, KeyID: "alias/one"})
	mustPut(t, s, &vane.PutInput{Name: "/k/b", Value: "s", Type: vane.TypeSecureString, KeyID: "alias/two"})
	mustPut(t, s, &vane.PutInput{Name: "/k/c", Value: "s", Type: vane.TypeSecureString})
	mustPut(t, s, &vane.PutInput{Name: "/k/d", Value: "plain", Type: vane.TypeString})
	in := vane.ByPathInput{Path: "/k", Filters: []vane.Filter{{Key: vane.FilterKeyID, Values: []string{"alias/one"}}}}
	wantNames(t, "ByPath(/k, KeyId=alias/one)", byPathAll(t, s, in), "/k/a")
	in.Filters[0].Values = []string{vane.DefaultKeyID}
	wantNames(t, "ByPath(/k, KeyId=default)", byPathAll(t, s, in), "/k/c")
	in.Filters[0] = vane.Filter{Key: vane.FilterKeyID, Option: vane.OptionBeginsWith, Values: []string{"alias/"}}
	wantNames(t, "ByPath(/k, KeyId BeginsWith alias/)", byPathAll(t, s, in), "/k/a", "/k/b", "/k/c")
}

func testByPathFilterLabel(t *testing.T, s vane.Store) {
	createVersions(t, s, "/l/a", 2) // prod on version 1, latest is 2
	mustLabel(t, s, "/l/a", 1, "prod")
	createVersions(t, s, "/l/b", 2) // no label
	mustLabel(t, s, "/l/b", 2, "beta")
	createVersions(t, s, "/l/c", 3) // prod on version 2
	mustLabel(t, s, "/l/c", 2, "prod", "beta")
	createVersions(t, s, "/l/sub/d", 1) // prod, one level down
	mustLabel(t, s, "/l/sub/d", 1, "prod")

	in := vane.ByPathInput{Path: "/l", Filters: []vane.Filter{{Key: vane.FilterLabel, Values: []string{"prod"}}}}
	ps := byPathAll(t, s, in)
	wantNames(t, "ByPath(/l, Label=prod)", ps, "/l/a", "/l/c")
	want := map[string]int64{"/l/a": 1, "/l/c": 2, "/l/sub/d": 1}
	for _, p := range ps {
		if v := want[p.Name]; p.Version != v || p.Value != fmt.Sprintf("v%d", v) {
			t.Errorf("ByPath(/l, Label=prod) returned %s, want the labelled version %d", render(p), v)
		}
	}
	in.Recursive, in.Limit = true, 1
	ps = byPathAll(t, s, in)
	wantNames(t, "ByPath(/l, recursive, Label=prod, limit 1)", ps, "/l/a", "/l/c", "/l/sub/d")
	for _, p := range ps {
		if v := want[p.Name]; p.Version != v {
			t.Errorf("ByPath(/l, recursive, Label=prod) returned %s, want the labelled version %d", render(p), v)
		}
	}
	in.Filters[0].Values = []string{"prod", "beta"}
	in.Limit = 0
	wantNames(t, "ByPath(/l, recursive, Label=prod|beta)", byPathAll(t, s, in), "/l/a", "/l/b", "/l/c", "/l/sub/d")
}

func testByPathErrFilter(t *testing.T, s vane.Store) {
	create(t, s, "/f/a", "x")
	for _, f := range []vane.Filter{
		{Key: vane.FilterName, Values: []string{"/f/a"}},
		{Key: vane.FilterTier, Values: []string{"Standard"}},
		{Key: "tag:env", Values: []string{"prod"}},
		{Key: "Bogus", Values: []string{"x"}},
	} {
		_, err := s.ByPath(bg(t), &vane.ByPathInput{Path: "/f", Filters: []vane.Filter{f}})
		wantErr(t, fmt.Sprintf("ByPath with filter key %q", f.Key), err, vane.EINVALID, vane.DetailInvalidFilterKey)
	}
	for _, f := range []vane.Filter{
		{Key: vane.FilterLabel, Option: vane.OptionBeginsWith, Values: []string{"prod"}},
		{Key: vane.FilterType, Option: vane.OptionContains, Values: []string{"String"}},
		{Key: vane.FilterType, Option: vane.OptionRecursive, Values: []string{"String"}},
	} {
		_, err := s.ByPath(bg(t), &vane.ByPathInput{Path: "/f", Filters: []vane.Filter{f}})
		wantErr(t, fmt.Sprintf("ByPath with filter %s option %s", f.Key, f.Option), err, vane.EINVALID, vane.DetailInvalidFilterOption)
	}
}

var describeTests = []test{
	{"NoValueNoLabels", testDescribeNoValue},
	{"FilterName", testDescribeName},
	{"FilterPath", testDescribePath},
	{"FilterTypeKeyIdTierDataType", testDescribeAttrs},
	{"FilterTag", testDescribeTag},
	{"FiltersCombine", testDescribeCombined},
	{"ErrInvalidFilterKey", testDescribeErrKey},
	{"ErrInvalidFilterOption", testDescribeErrOption},
	{"PagingReturnsEachOnce", testDescribePaging},
	{"ErrInvalidNextToken", testDescribeErrToken},
}

// describeFixture creates parameters differing in every filterable field.
func describeFixture(t *testing.T, s vane.Store) {
	t.Helper()
	mustPut(t, s, &vane.PutInput{Name: "/d/a", Value: "a", Type: vane.TypeString, Description: new("first"), Tags: []vane.Tag{{Key: "env", Value: "prod"}}})
	mustPut(t, s, &vane.PutInput{Name: "/d/b", Value: "a,b", Type: vane.TypeStringList, Tier: vane.TierAdvanced})
	mustPut(t, s, &vane.PutInput{Name: "/d/sub/c", Value: "s", Type: vane.TypeSecureString, KeyID: "alias/k1",
		Tags: []vane.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "core"}}})
	mustPut(t, s, &vane.PutInput{Name: "/d/sub/deep/d", Value: "s", Type: vane.TypeSecureString})
	mustPut(t, s, &vane.PutInput{Name: "/e/img", Value: "ami-12345678", Type: vane.TypeString, DataType: vane.DataTypeEC2Image})
	create(t, s, "/top", "t")
}

func describe(t *testing.T, s vane.Store, filters ...vane.Filter) []*vane.Parameter {
	t.Helper()
	return describeAll(t, s, vane.DescribeInput{Filters: filters})
}

func testDescribeNoValue(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	overwrite(t, s, "/d/a", "a2")
	mustLabel(t, s, "/d/a", 2, "prod")
	ps := describe(t, s)
	wantNames(t, "Describe", ps, "/d/a", "/d/b", "/d/sub/c", "/d/sub/deep/d", "/e/img", "top")
	for _, p := range ps {
		if p.Value != "" || len(p.Labels) != 0 {
			t.Errorf("Describe returned %s, want no value and no labels", render(p))
		}
		if p.LastModified.IsZero() || p.LastModifiedUser != suitePrincipal || p.Tier == "" || p.DataType == "" || !p.Type.Valid() {
			t.Errorf("Describe returned %s, want full metadata", render(p))
		}
	}
	if a := ps[0]; a.Version != 2 || a.Description != "first" || a.Type != vane.TypeString {
		t.Errorf("Describe /d/a: %s, want the latest metadata (version 2, description kept)", render(a))
	}
	if c := ps[2]; c.KeyID != "alias/k1" || c.Type != vane.TypeSecureString {
		t.Errorf("Describe /d/sub/c: %s, want SecureString with key alias/k1", render(c))
	}
}

func testDescribeName(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	name := func(opt string, values ...string) vane.Filter {
		return vane.Filter{Key: vane.FilterName, Option: opt, Values: values}
	}
	wantNames(t, "Name Equals /d/a", describe(t, s, name("", "/d/a")), "/d/a")
	wantNames(t, "Name Equals top", describe(t, s, name(vane.OptionEquals, "top")), "top")
	wantNames(t, "Name Equals /top", describe(t, s, name(vane.OptionEquals, "/top")), "top")
	wantNames(t, "Name Equals /d", describe(t, s, name(vane.OptionEquals, "/d")))
	wantNames(t, "Name Equals /d/a|/e/img", describe(t, s, name(vane.OptionEquals, "/d/a", "/e/img")), "/d/a", "/e/img")
	wantNames(t, "Name BeginsWith /d/sub", describe(t, s, name(vane.OptionBeginsWith, "/d/sub")), "/d/sub/c", "/d/sub/deep/d")
	wantNames(t, "Name BeginsWith /t", describe(t, s, name(vane.OptionBeginsWith, "/t")), "top")
	wantNames(t, "Name Contains img", describe(t, s, name(vane.OptionContains, "img")), "/e/img")
	wantNames(t, "Name Contains sub", describe(t, s, name(vane.OptionContains, "sub")), "/d/sub/c", "/d/sub/deep/d")
	// Contains is a substring match anywhere in the name, not only at the
	// start of a segment.
	wantNames(t, "Name Contains mg", describe(t, s, name(vane.OptionContains, "mg")), "/e/img")
	wantNames(t, "Name Contains ub/de", describe(t, s, name(vane.OptionContains, "ub/de")), "/d/sub/deep/d")
	wantNames(t, "Name Contains /d/", describe(t, s, name(vane.OptionContains, "/d/")), "/d/a", "/d/b", "/d/sub/c", "/d/sub/deep/d")
}

func testDescribePath(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	path := func(opt string, values ...string) vane.Filter {
		return vane.Filter{Key: vane.FilterPath, Option: opt, Values: values}
	}
	wantNames(t, "Path /d", describe(t, s, path("", "/d")), "/d/a", "/d/b")
	wantNames(t, "Path OneLevel /d/", describe(t, s, path(vane.OptionOneLevel, "/d/")), "/d/a", "/d/b")
	wantNames(t, "Path Recursive /d", describe(t, s, path(vane.OptionRecursive, "/d")), "/d/a", "/d/b", "/d/sub/c", "/d/sub/deep/d")
	wantNames(t, "Path OneLevel /", describe(t, s, path(vane.OptionOneLevel, "/")), "top")
	wantNames(t, "Path OneLevel /d/sub|/e", describe(t, s, path(vane.OptionOneLevel, "/d/sub", "/e")), "/d/sub/c", "/e/img")
}

func testDescribeAttrs(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	f := func(key string, values ...string) vane.Filter { return vane.Filter{Key: key, Values: values} }
	wantNames(t, "Type SecureString", describe(t, s, f(vane.FilterType, "SecureString")), "/d/sub/c", "/d/sub/deep/d")
	wantNames(t, "Type StringList", describe(t, s, f(vane.FilterType, "StringList")), "/d/b")
	wantNames(t, "KeyId alias/k1", describe(t, s, f(vane.FilterKeyID, "alias/k1")), "/d/sub/c")
	wantNames(t, "KeyId default", describe(t, s, f(vane.FilterKeyID, vane.DefaultKeyID)), "/d/sub/deep/d")
	wantNames(t, "Tier Advanced", describe(t, s, f(vane.FilterTier, "Advanced")), "/d/b")
	wantNames(t, "Tier Standard", describe(t, s, f(vane.FilterTier, "Standard")), "/d/a", "/d/sub/c", "/d/sub/deep/d", "/e/img", "top")
	wantNames(t, "DataType aws:ec2:image", describe(t, s, f(vane.FilterDataType, vane.DataTypeEC2Image)), "/e/img")
	wantNames(t, "DataType text", describe(t, s, f(vane.FilterDataType, vane.DataTypeText)), "/d/a", "/d/b", "/d/sub/c", "/d/sub/deep/d", "top")
	wantNames(t, "Type BeginsWith String", describe(t, s, vane.Filter{Key: vane.FilterType, Option: vane.OptionBeginsWith, Values: []string{"String"}}),
		"/d/a", "/d/b", "/e/img", "top")
}

func testDescribeTag(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	tag := func(key string, values ...string) vane.Filter { return vane.Filter{Key: "tag:" + key, Values: values} }
	wantNames(t, "tag:env", describe(t, s, tag("env")), "/d/a", "/d/sub/c")
	wantNames(t, "tag:env=prod", describe(t, s, tag("env", "prod")), "/d/a")
	wantNames(t, "tag:env=prod|dev", describe(t, s, tag("env", "prod", "dev")), "/d/a", "/d/sub/c")
	wantNames(t, "tag:team", describe(t, s, tag("team")), "/d/sub/c")
	wantNames(t, "tag:none", describe(t, s, tag("none")))
	wantNames(t, "tag:env BeginsWith d", describe(t, s, vane.Filter{Key: "tag:env", Option: vane.OptionBeginsWith, Values: []string{"d"}}), "/d/sub/c")
}

func testDescribeCombined(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	wantNames(t, "Type SecureString and tag:env", describe(t, s,
		vane.Filter{Key: vane.FilterType, Values: []string{"SecureString"}},
		vane.Filter{Key: "tag:env"}), "/d/sub/c")
	wantNames(t, "Path Recursive /d and Name BeginsWith /d/s", describe(t, s,
		vane.Filter{Key: vane.FilterPath, Option: vane.OptionRecursive, Values: []string{"/d"}},
		vane.Filter{Key: vane.FilterName, Option: vane.OptionBeginsWith, Values: []string{"/d/s"}}), "/d/sub/c", "/d/sub/deep/d")
	wantNames(t, "Path OneLevel /d and Tier Standard", describe(t, s,
		vane.Filter{Key: vane.FilterPath, Values: []string{"/d"}},
		vane.Filter{Key: vane.FilterTier, Values: []string{"Standard"}}), "/d/a")
}

func testDescribeErrKey(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	for _, f := range []vane.Filter{
		{Key: vane.FilterLabel, Values: []string{"prod"}},
		{Key: "Bogus", Values: []string{"x"}},
		{Key: "tag:", Values: []string{"x"}},
		{Key: "name", Values: []string{"/d/a"}},
	} {
		_, err := s.Describe(bg(t), &vane.DescribeInput{Filters: []vane.Filter{f}})
		wantErr(t, fmt.Sprintf("Describe with filter key %q", f.Key), err, vane.EINVALID, vane.DetailInvalidFilterKey)
	}
}

func testDescribeErrOption(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	for _, f := range []vane.Filter{
		{Key: vane.FilterName, Option: vane.OptionRecursive, Values: []string{"/d"}},
		{Key: vane.FilterPath, Option: vane.OptionEquals, Values: []string{"/d"}},
		{Key: vane.FilterTier, Option: vane.OptionContains, Values: []string{"Standard"}},
		{Key: "tag:env", Option: vane.OptionContains, Values: []string{"prod"}},
		{Key: vane.FilterType, Option: "Sideways", Values: []string{"String"}},
	} {
		_, err := s.Describe(bg(t), &vane.DescribeInput{Filters: []vane.Filter{f}})
		wantErr(t, fmt.Sprintf("Describe with filter %s option %s", f.Key, f.Option), err, vane.EINVALID, vane.DetailInvalidFilterOption)
	}
}

func testDescribePaging(t *testing.T, s vane.Store) {
	var want []string
	for i := range 11 {
		n := fmt.Sprintf("/pg/%c/p", 'a'+i)
		create(t, s, n, "x")
		want = append(want, n)
	}
	create(t, s, "/other", "x")
	for _, limit := range []int{1, 3, 10, 11} {
		in := vane.DescribeInput{Limit: limit, Filters: []vane.Filter{{Key: vane.FilterPath, Option: vane.OptionRecursive, Values: []string{"/pg"}}}}
		wantNames(t, fmt.Sprintf("Describe(Path /pg, limit %d)", limit), describeAll(t, s, in), want...)
	}
	all := append(slices.Clone(want), "other")
	wantNames(t, "Describe(limit 4)", describeAll(t, s, vane.DescribeInput{Limit: 4}), all...)
}

func testDescribeErrToken(t *testing.T, s vane.Store) {
	describeFixture(t, s)
	for _, tok := range forgedTokens {
		_, err := s.Describe(bg(t), &vane.DescribeInput{NextToken: tok})
		wantErr(t, fmt.Sprintf("Describe with token %q", tok), err, vane.EINVALID, vane.DetailInvalidNextToken)
	}
}

var historyTests = []test{
	{"OldestFirstWithValues", testHistoryOrder},
	{"PagingReturnsEachOnce", testHistoryPaging},
	{"ErrNotFound", testHistoryErrNotFound},
	{"ErrInvalidNextToken", testHistoryErrToken},
}

func testHistoryOrder(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/hist/p", Value: "one", Type: vane.TypeString, Description: new("d1")})
	if _, err := s.Put(ctxAs(t, "bob"), &vane.PutInput{Name: "/hist/p", Value: "two,2", Type: vane.TypeStringList, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, &vane.PutInput{Name: "/hist/p", Value: "three", Description: new("d3"), Overwrite: true})
	h := historyAll(t, s, "/hist/p", 0)
	want := []struct {
		value, desc, user string
		typ               vane.Type
	}{
		{"one", "d1", suitePrincipal, vane.TypeString},
		{"two,2", "d1", "bob", vane.TypeStringList},
		{"three", "d3", suitePrincipal, vane.TypeStringList},
	}
	if len(h) != len(want) {
		t.Fatalf("History: %d versions, want %d", len(h), len(want))
	}
	for i, p := range h {
		w := want[i]
		if p.Name != "/hist/p" || p.Version != int64(i+1) || p.Value != w.value || p.Description != w.desc || p.LastModifiedUser != w.user || p.Type != w.typ {
			t.Errorf("History[%d] = %s, want version %d value %q description %q user %s type %s", i, render(p), i+1, w.value, w.desc, w.user, w.typ)
		}
	}
	// Root-level names answer to both spellings.
	create(t, s, "/root", "r")
	for _, n := range []string{"root", "/root"} {
		if h := historyAll(t, s, n, 0); len(h) != 1 || h[0].Name != "root" {
			t.Errorf("History(%q): %d versions, want 1 named root", n, len(h))
		}
	}
}

func testHistoryPaging(t *testing.T, s vane.Store) {
	createVersions(t, s, "/hist/p", 7)
	create(t, s, "/hist/q", "other")
	for _, limit := range []int{1, 3, 7, 8} {
		h := historyAll(t, s, "/hist/p", limit)
		if len(h) != 7 {
			t.Errorf("History(limit %d): %d versions, want 7", limit, len(h))
			continue
		}
		for i, p := range h {
			if p.Version != int64(i+1) || p.Value != fmt.Sprintf("v%d", i+1) {
				t.Errorf("History(limit %d)[%d] = version %d value %q, want version %d", limit, i, p.Version, p.Value, i+1)
			}
		}
	}
}

func testHistoryErrNotFound(t *testing.T, s vane.Store) {
	create(t, s, "/hist/p", "x")
	_, err := s.History(bg(t), &vane.HistoryInput{Name: "/missing"})
	wantErr(t, "History of a missing parameter", err, vane.ENOTFOUND, "")
	_, err = s.History(bg(t), &vane.HistoryInput{Name: "bad name"})
	wantErr(t, "History of an invalid name", err, vane.EINVALID, "")
}

func testHistoryErrToken(t *testing.T, s vane.Store) {
	createVersions(t, s, "/h", 2)
	for _, tok := range forgedTokens {
		_, err := s.History(bg(t), &vane.HistoryInput{Name: "/h", NextToken: tok})
		wantErr(t, fmt.Sprintf("History with token %q", tok), err, vane.EINVALID, vane.DetailInvalidNextToken)
	}
}
