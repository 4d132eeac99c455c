package vane_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

// values returns n distinct filter values.
func values(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("v%d", i)
	}
	return out
}

// sameFilters compares filters, treating nil and empty value lists alike.
func sameFilters(a, b []vane.Filter) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Option != b[i].Option || len(a[i].Values) != len(b[i].Values) {
			return false
		}
		if len(a[i].Values) > 0 && !reflect.DeepEqual(a[i].Values, b[i].Values) {
			return false
		}
	}
	return true
}

func TestCheckFilters(t *testing.T) {
	f := func(key, option string, vals ...string) vane.Filter {
		return vane.Filter{Key: key, Option: option, Values: vals}
	}
	const (
		eq  = vane.OptionEquals
		bw  = vane.OptionBeginsWith
		has = vane.OptionContains
		one = vane.OptionOneLevel
		rec = vane.OptionRecursive
	)
	tests := []struct {
		name         string
		byPath       bool
		in           []vane.Filter
		want         []vane.Filter
		code, detail string
		msg          string
	}{
		{name: "ByPathNone", byPath: true, want: []vane.Filter{}},
		{name: "DescribeNone", want: []vane.Filter{}},
		{name: "ByPathDefaultOptions", byPath: true,
			in:   []vane.Filter{f("Type", "", "String"), f("KeyId", "", "alias/k"), f("Label", "", "prod")},
			want: []vane.Filter{f("Type", eq, "String"), f("KeyId", eq, "alias/k"), f("Label", eq, "prod")}},
		{name: "ByPathBeginsWith", byPath: true,
			in:   []vane.Filter{f("Type", bw, "String"), f("KeyId", bw, "alias/")},
			want: []vane.Filter{f("Type", bw, "String"), f("KeyId", bw, "alias/")}},
		{name: "ByPathLabelEquals", byPath: true,
			in: []vane.Filter{f("Label", eq, "a", "b")}, want: []vane.Filter{f("Label", eq, "a", "b")}},
		{name: "DescribeDefaultOptions",
			in: []vane.Filter{f("Name", "", "/a"), f("Path", "", "/a"), f("Type", "", "SecureString"), f("KeyId", "", "alias/k"),
				f("Tier", "", "Advanced"), f("DataType", "", "text"), f("tag:env", "", "prod")},
			want: []vane.Filter{f("Name", eq, "/a"), f("Path", one, "/a/"), f("Type", eq, "SecureString"), f("KeyId", eq, "alias/k"),
				f("Tier", eq, "Advanced"), f("DataType", eq, "text"), f("tag:env", eq, "prod")}},
		{name: "DescribeOtherOptions",
			in: []vane.Filter{f("Name", has, "db"), f("Path", rec, "/a/b/"), f("Type", bw, "String"), f("KeyId", bw, "alias/"),
				f("Tier", bw, "Standard"), f("DataType", bw, "aws:"), f("tag:env", bw, "pr")},
			want: []vane.Filter{f("Name", has, "db"), f("Path", rec, "/a/b/"), f("Type", bw, "String"), f("KeyId", bw, "alias/"),
				f("Tier", bw, "Standard"), f("DataType", bw, "aws:"), f("tag:env", bw, "pr")}},
		{name: "NameBeginsWith", in: []vane.Filter{f("Name", bw, "/a")}, want: []vane.Filter{f("Name", bw, "/a")}},
		{name: "PathCanonicalized", in: []vane.Filter{f("Path", rec, "/a", "/a/b/", "/", "/x/y")},
			want: []vane.Filter{f("Path", rec, "/a/", "/a/b/", "/", "/x/y/")}},
		{name: "TierIntelligent", in: []vane.Filter{f("Tier", "", "Intelligent-Tiering")}, want: []vane.Filter{f("Tier", eq, "Intelligent-Tiering")}},
		{name: "TagWithoutValues", in: []vane.Filter{f("tag:env", "")}, want: []vane.Filter{f("tag:env", eq)}},
		{name: "TwoTagKeys", in: []vane.Filter{f("tag:a", "", "1"), f("tag:b", "", "2")},
			want: []vane.Filter{f("tag:a", eq, "1"), f("tag:b", eq, "2")}},
		{name: "FiftyValues", in: []vane.Filter{f("Name", "", values(50)...)}, want: []vane.Filter{f("Name", eq, values(50)...)}},
		{name: "Value1024", in: []vane.Filter{f("Name", "", strings.Repeat("n", 1024))}, want: []vane.Filter{f("Name", eq, strings.Repeat("n", 1024))}},

		// Keys.
		{name: "ErrByPathName", byPath: true, in: []vane.Filter{f("Name", "", "x")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "use Type, KeyId or Label"},
		{name: "ErrByPathPath", byPath: true, in: []vane.Filter{f("Path", "", "/a")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "use Type, KeyId or Label"},
		{name: "ErrByPathTier", byPath: true, in: []vane.Filter{f("Tier", "", "Standard")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "use Type, KeyId or Label"},
		{name: "ErrByPathDataType", byPath: true, in: []vane.Filter{f("DataType", "", "text")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "use Type, KeyId or Label"},
		{name: "ErrByPathTag", byPath: true, in: []vane.Filter{f("tag:env", "", "prod")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "use Type, KeyId or Label"},
		{name: "ErrDescribeLabel", in: []vane.Filter{f("Label", "", "prod")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "use Name, Path, Type, KeyId, Tier, DataType or tag:KEY"},
		{name: "ErrUnknownKey", in: []vane.Filter{f("Foo", "", "x")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "is not valid"},
		{name: "ErrKeyCase", in: []vane.Filter{f("name", "", "x")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "is not valid"},
		{name: "ErrEmptyKey", in: []vane.Filter{f("", "", "x")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: `filter key ""`},
		{name: "ErrTagWithoutKey", in: []vane.Filter{f("tag:", "", "x")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "is not valid"},
		{name: "ErrDuplicateKey", in: []vane.Filter{f("Type", "", "String"), f("Type", "", "SecureString")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "more than once"},
		{name: "ErrDuplicateKeyOtherOption", in: []vane.Filter{f("Name", eq, "a"), f("Name", bw, "b")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "more than once"},
		{name: "ErrDuplicateTagKey", in: []vane.Filter{f("tag:env", "", "a"), f("tag:env", "", "b")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "more than once"},
		{name: "ErrDuplicateKeyByPath", byPath: true, in: []vane.Filter{f("Label", "", "a"), f("Label", "", "b")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterKey, msg: "more than once"},

		// Options.
		{name: "ErrByPathLabelBeginsWith", byPath: true, in: []vane.Filter{f("Label", bw, "prod")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: `option "BeginsWith" is not valid for key "Label"`},
		{name: "ErrByPathTypeContains", byPath: true, in: []vane.Filter{f("Type", has, "String")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: "not valid for key"},
		{name: "ErrTypeContains", in: []vane.Filter{f("Type", has, "String")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: "not valid for key"},
		{name: "ErrTagContains", in: []vane.Filter{f("tag:env", has, "p")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: "not valid for key"},
		{name: "ErrPathEquals", in: []vane.Filter{f("Path", eq, "/a")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: `option "Equals" is not valid for key "Path"`},
		{name: "ErrNameRecursive", in: []vane.Filter{f("Name", rec, "/a")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: "not valid for key"},
		{name: "ErrUnknownOption", in: []vane.Filter{f("Name", "StartsWith", "/a")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: "not valid for key"},
		{name: "ErrOptionCase", in: []vane.Filter{f("Name", "equals", "/a")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterOption, msg: "not valid for key"},

		// Values.
		{name: "ErrTooManyValues", in: []vane.Filter{f("Name", "", values(51)...)},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "at most 50"},
		{name: "ErrTooManyValuesByPath", byPath: true, in: []vane.Filter{f("Label", "", values(51)...)},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "at most 50"},
		{name: "ErrNoValues", in: []vane.Filter{f("Type", "")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "at least one value"},
		{name: "ErrNoValuesLabel", byPath: true, in: []vane.Filter{f("Label", "")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "at least one value"},
		{name: "ErrEmptyValue", in: []vane.Filter{f("Name", "", "a", "")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "1 to 1024 characters"},
		{name: "ErrValueTooLong", in: []vane.Filter{f("KeyId", "", strings.Repeat("k", 1025))},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "1 to 1024 characters"},
		{name: "ErrPathNotAbsolute", in: []vane.Filter{f("Path", "", "a/b")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "not a valid path"},
		{name: "ErrPathEmptySegment", in: []vane.Filter{f("Path", rec, "/a", "/a//b")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "not a valid path"},
		{name: "ErrTypeValue", in: []vane.Filter{f("Type", "", "Integer")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "use String, StringList or SecureString"},
		{name: "ErrTypeValueByPath", byPath: true, in: []vane.Filter{f("Type", bw, "Secure")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "use String, StringList or SecureString"},
		{name: "ErrTierValue", in: []vane.Filter{f("Tier", "", "Premium")},
			code: vane.EINVALID, detail: vane.DetailInvalidFilterValue, msg: "use Standard, Advanced or Intelligent-Tiering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Keep a deep copy to check the input is left alone.
			var before []vane.Filter
			for _, fl := range tt.in {
				fl.Values = append([]string(nil), fl.Values...)
				before = append(before, fl)
			}
			got, err := vane.CheckFilters(tt.in, tt.byPath)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if tt.code != "" {
				if got != nil {
					t.Errorf("CheckFilters returned %+v alongside an error", got)
				}
			} else if got == nil || !sameFilters(got, tt.want) {
				t.Errorf("CheckFilters =\n  %+v\nwant\n  %+v", got, tt.want)
			}
			if !sameFilters(tt.in, before) {
				t.Errorf("CheckFilters changed its input: %+v, was %+v", tt.in, before)
			}
		})
	}
}

func TestMatchFilters(t *testing.T) {
	db := &vane.Parameter{Name: "/app/prod/db", Type: vane.TypeSecureString, KeyID: "alias/k",
		Tier: vane.TierAdvanced, DataType: vane.DataTypeText}
	root := &vane.Parameter{Name: "root", Type: vane.TypeString, Tier: vane.TierStandard, DataType: vane.DataTypeEC2Image}
	list := &vane.Parameter{Name: "/app/list", Type: vane.TypeStringList, Tier: vane.TierStandard, DataType: vane.DataTypeText}
	// A String parameter with a stray key id must not match KeyId filters.
	stray := &vane.Parameter{Name: "/app/stray", Type: vane.TypeString, KeyID: "alias/k", Tier: vane.TierStandard, DataType: vane.DataTypeText}
	dbTags := []vane.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "core"}, {Key: "empty", Value: ""}}

	f := func(key, option string, vals ...string) vane.Filter {
		return vane.Filter{Key: key, Option: option, Values: vals}
	}
	tests := []struct {
		name    string
		byPath  bool
		filters []vane.Filter
		p       *vane.Parameter
		tags    []vane.Tag
		want    bool
	}{
		{name: "NoFilters", p: db, want: true},

		// Name: "/x" and "x" name one root-level parameter.
		{name: "NameEquals", filters: []vane.Filter{f("Name", "", "/app/prod/db")}, p: db, want: true},
		{name: "NameEqualsOther", filters: []vane.Filter{f("Name", "", "/app/prod")}, p: db, want: false},
		{name: "NameEqualsRootPlain", filters: []vane.Filter{f("Name", "", "root")}, p: root, want: true},
		{name: "NameEqualsRootSlash", filters: []vane.Filter{f("Name", "", "/root")}, p: root, want: true},
		{name: "NameEqualsSlashedStored", filters: []vane.Filter{f("Name", "", "root")}, p: &vane.Parameter{Name: "/root"}, want: true},
		{name: "NameEqualsCaseSensitive", filters: []vane.Filter{f("Name", "", "Root")}, p: root, want: false},
		{name: "NameEqualsAnyValue", filters: []vane.Filter{f("Name", "", "nope", "/root")}, p: root, want: true},
		{name: "NameBeginsWith", filters: []vane.Filter{f("Name", "BeginsWith", "/app/pr")}, p: db, want: true},
		{name: "NameBeginsWithOther", filters: []vane.Filter{f("Name", "BeginsWith", "/app/x")}, p: db, want: false},
		{name: "NameBeginsWithRootPlain", filters: []vane.Filter{f("Name", "BeginsWith", "ro")}, p: root, want: true},
		{name: "NameBeginsWithRootSlash", filters: []vane.Filter{f("Name", "BeginsWith", "/ro")}, p: root, want: true},
		{name: "NameBeginsWithNotInside", filters: []vane.Filter{f("Name", "BeginsWith", "oot")}, p: root, want: false},
		{name: "NameContainsSegment", filters: []vane.Filter{f("Name", "Contains", "prod")}, p: db, want: true},
		{name: "NameContainsInsideSegment", filters: []vane.Filter{f("Name", "Contains", "rod")}, p: db, want: true},
		{name: "NameContainsAcrossSegments", filters: []vane.Filter{f("Name", "Contains", "prod/d")}, p: db, want: true},
		{name: "NameContainsWithSlash", filters: []vane.Filter{f("Name", "Contains", "/prod/")}, p: db, want: true},
		{name: "NameContainsRootWhole", filters: []vane.Filter{f("Name", "Contains", "root")}, p: root, want: true},
		{name: "NameContainsRootWholeSlash", filters: []vane.Filter{f("Name", "Contains", "/root")}, p: root, want: true},
		{name: "NameContainsRootInside", filters: []vane.Filter{f("Name", "Contains", "oo")}, p: root, want: true},
		{name: "NameContainsRootSuffix", filters: []vane.Filter{f("Name", "Contains", "oot")}, p: root, want: true},
		{name: "NameContainsNot", filters: []vane.Filter{f("Name", "Contains", "xyz")}, p: db, want: false},
		{name: "NameContainsSlashNotInside", filters: []vane.Filter{f("Name", "Contains", "/oot")}, p: root, want: false},

		// Path.
		{name: "PathOneLevel", filters: []vane.Filter{f("Path", "", "/app/prod")}, p: db, want: true},
		{name: "PathOneLevelTooDeep", filters: []vane.Filter{f("Path", "", "/app")}, p: db, want: false},
		{name: "PathRecursive", filters: []vane.Filter{f("Path", "Recursive", "/app")}, p: db, want: true},
		{name: "PathRecursiveOther", filters: []vane.Filter{f("Path", "Recursive", "/ap")}, p: db, want: false},
		{name: "PathItself", filters: []vane.Filter{f("Path", "Recursive", "/app/prod/db")}, p: db, want: false},
		{name: "PathRootOneLevelRootName", filters: []vane.Filter{f("Path", "", "/")}, p: root, want: true},
		{name: "PathRootOneLevelDeepName", filters: []vane.Filter{f("Path", "", "/")}, p: db, want: false},
		{name: "PathRootRecursive", filters: []vane.Filter{f("Path", "Recursive", "/")}, p: db, want: true},
		{name: "PathAnyValue", filters: []vane.Filter{f("Path", "", "/x", "/app/prod/")}, p: db, want: true},
		{name: "PathRootNameNotUnderSegment", filters: []vane.Filter{f("Path", "Recursive", "/root")}, p: root, want: false},

		// Type.
		{name: "TypeEquals", filters: []vane.Filter{f("Type", "", "SecureString")}, p: db, want: true},
		{name: "TypeEqualsOther", filters: []vane.Filter{f("Type", "", "String")}, p: db, want: false},
		{name: "TypeEqualsNotPrefix", filters: []vane.Filter{f("Type", "", "String")}, p: list, want: false},
		{name: "TypeBeginsWith", filters: []vane.Filter{f("Type", "BeginsWith", "String")}, p: list, want: true},
		{name: "TypeAnyValue", filters: []vane.Filter{f("Type", "", "String", "StringList")}, p: list, want: true},
		{name: "TypeByPath", byPath: true, filters: []vane.Filter{f("Type", "", "String")}, p: root, want: true},

		// KeyId.
		{name: "KeyIDEquals", filters: []vane.Filter{f("KeyId", "", "alias/k")}, p: db, want: true},
		{name: "KeyIDEqualsOther", filters: []vane.Filter{f("KeyId", "", "alias/other")}, p: db, want: false},
		{name: "KeyIDBeginsWith", byPath: true, filters: []vane.Filter{f("KeyId", "BeginsWith", "alias/")}, p: db, want: true},
		{name: "KeyIDNotSecureString", filters: []vane.Filter{f("KeyId", "", "alias/k")}, p: stray, want: false},
		{name: "KeyIDNoKey", filters: []vane.Filter{f("KeyId", "BeginsWith", "a")}, p: root, want: false},

		// Tier and DataType.
		{name: "TierEquals", filters: []vane.Filter{f("Tier", "", "Advanced")}, p: db, want: true},
		{name: "TierEqualsOther", filters: []vane.Filter{f("Tier", "", "Standard")}, p: db, want: false},
		{name: "TierAnyValue", filters: []vane.Filter{f("Tier", "", "Standard", "Advanced")}, p: db, want: true},
		{name: "DataTypeEquals", filters: []vane.Filter{f("DataType", "", "aws:ec2:image")}, p: root, want: true},
		{name: "DataTypeBeginsWith", filters: []vane.Filter{f("DataType", "BeginsWith", "aws:")}, p: root, want: true},
		{name: "DataTypeBeginsWithOther", filters: []vane.Filter{f("DataType", "BeginsWith", "aws:")}, p: db, want: false},

		// Tags.
		{name: "TagEquals", filters: []vane.Filter{f("tag:env", "", "prod")}, p: db, tags: dbTags, want: true},
		{name: "TagEqualsOther", filters: []vane.Filter{f("tag:env", "", "dev")}, p: db, tags: dbTags, want: false},
		{name: "TagAnyValue", filters: []vane.Filter{f("tag:env", "", "dev", "prod")}, p: db, tags: dbTags, want: true},
		{name: "TagBeginsWith", filters: []vane.Filter{f("tag:team", "BeginsWith", "co")}, p: db, tags: dbTags, want: true},
		{name: "TagWithoutValues", filters: []vane.Filter{f("tag:team", "")}, p: db, tags: dbTags, want: true},
		{name: "TagWithoutValuesEmptyTagValue", filters: []vane.Filter{f("tag:empty", "")}, p: db, tags: dbTags, want: true},
		{name: "TagWithoutValuesMissing", filters: []vane.Filter{f("tag:owner", "")}, p: db, tags: dbTags, want: false},
		{name: "TagWithoutValuesNoTags", filters: []vane.Filter{f("tag:env", "")}, p: root, want: false},
		{name: "TagMissing", filters: []vane.Filter{f("tag:owner", "", "me")}, p: db, tags: dbTags, want: false},
		{name: "TagKeyCaseSensitive", filters: []vane.Filter{f("tag:Env", "", "prod")}, p: db, tags: dbTags, want: false},
		{name: "TagValueNotKey", filters: []vane.Filter{f("tag:prod", "")}, p: db, tags: dbTags, want: false},

		// Label selects a version in the store; it never excludes here.
		{name: "LabelLeftToStore", byPath: true, filters: []vane.Filter{f("Label", "", "nope")}, p: db, want: true},

		// All filters must match.
		{name: "AllMatch", filters: []vane.Filter{f("Type", "", "SecureString"), f("Path", "Recursive", "/app"), f("tag:env", "", "prod")},
			p: db, tags: dbTags, want: true},
		{name: "OneFails", filters: []vane.Filter{f("Type", "", "SecureString"), f("Path", "Recursive", "/app"), f("tag:env", "", "dev")},
			p: db, tags: dbTags, want: false},
		{name: "OneFailsByPath", byPath: true, filters: []vane.Filter{f("Type", "", "SecureString"), f("KeyId", "", "alias/x"), f("Label", "", "l")},
			p: db, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checked, err := vane.CheckFilters(tt.filters, tt.byPath)
			if err != nil {
				t.Fatalf("CheckFilters(%+v): %v", tt.filters, err)
			}
			if got := vane.MatchFilters(checked, tt.p, tt.tags); got != tt.want {
				t.Errorf("MatchFilters(%+v) on %q = %v, want %v", checked, tt.p.Name, got, tt.want)
			}
		})
	}
}

func TestLabelFilter(t *testing.T) {
	tests := []struct {
		name    string
		filters []vane.Filter
		want    []string
	}{
		{"None", nil, nil},
		{"NoLabel", []vane.Filter{{Key: "Type", Values: []string{"String"}}}, nil},
		{"Label", []vane.Filter{{Key: "Type", Values: []string{"String"}}, {Key: "Label", Values: []string{"a", "b"}}}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.LabelFilter(tt.filters); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LabelFilter = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNeedsTags(t *testing.T) {
	tests := []struct {
		name    string
		filters []vane.Filter
		want    bool
	}{
		{"None", nil, false},
		{"NoTag", []vane.Filter{{Key: "Name"}, {Key: "Type"}}, false},
		{"Tag", []vane.Filter{{Key: "Name"}, {Key: "tag:env"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.NeedsTags(tt.filters); got != tt.want {
				t.Errorf("NeedsTags = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckFiltersTruncatesEcho(t *testing.T) {
	long := "tag:" + hostile
	tests := []struct {
		name         string
		byPath       bool
		in           []vane.Filter
		code, detail string
		msg          string
	}{
		// Which key rule a long key breaks first is the code's choice; the
		// message must name the key, shortened.
		{"ErrUnknownKey", false, []vane.Filter{{Key: hostile, Values: []string{"v"}}},
			vane.EINVALID, vane.DetailInvalidFilterKey, "filter key"},
		{"ErrByPathKey", true, []vane.Filter{{Key: hostile, Values: []string{"v"}}},
			vane.EINVALID, vane.DetailInvalidFilterKey, "filter key"},
		{"ErrDuplicateKey", false, []vane.Filter{{Key: long}, {Key: long}},
			vane.EINVALID, vane.DetailInvalidFilterKey, "filter key"},
		{"ErrOption", false, []vane.Filter{{Key: "Name", Option: hostile, Values: []string{"v"}}},
			vane.EINVALID, vane.DetailInvalidFilterOption, "is not valid for key"},
		{"ErrValue", false, []vane.Filter{{Key: "Path", Values: []string{hostile[:1000]}}},
			vane.EINVALID, vane.DetailInvalidFilterValue, "not a valid path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vane.CheckFilters(tt.in, tt.byPath)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if msg := vane.ErrorMessage(err); len(msg) > maxMessageLen {
				t.Errorf("message is %d bytes, want at most %d: %.120q...", len(msg), maxMessageLen, msg)
			}
		})
	}
}

// TestCheckFiltersKeyTooLong checks the API's bound on filter keys: 1 to 132
// characters (ParameterStringFilter.Key), which the server must enforce.
func TestCheckFiltersKeyTooLong(t *testing.T) {
	ok := "tag:" + strings.Repeat("k", 128)
	if _, err := vane.CheckFilters([]vane.Filter{{Key: ok, Values: []string{"v"}}}, false); err != nil {
		t.Fatalf("CheckFilters with a %d-character key: %v", len(ok), err)
	}
	long := ok + "k"
	_, err := vane.CheckFilters([]vane.Filter{{Key: long, Values: []string{"v"}}}, false)
	if code := vane.ErrorCode(err); code != vane.EINVALID {
		t.Fatalf("CheckFilters with a %d-character key: code %q, want %q (err: %v)", len(long), code, vane.EINVALID, err)
	}
	if d := vane.ErrorDetail(err); d != vane.DetailInvalidFilterKey && d != vane.DetailValidation {
		t.Errorf("detail %q, want InvalidFilterKey or ValidationException", d)
	}
}

func TestCheckByPath(t *testing.T) {
	t.Run("Canonical", func(t *testing.T) {
		q, err := vane.CheckByPath(&vane.ByPathInput{Path: "/a/b", Recursive: true,
			Filters: []vane.Filter{{Key: "Label", Values: []string{"prod"}}}, NextToken: vane.EncodeToken("/a/b/c")})
		if err != nil {
			t.Fatal(err)
		}
		if q.Path != "/a/b/" || !q.Recursive || q.Limit != vane.DefaultPageSize || q.After != "/a/b/c" ||
			len(q.Labels) != 1 || q.Labels[0] != "prod" {
			t.Fatalf("got %+v", q)
		}
	})
	t.Run("ErrPathBeforeOthers", func(t *testing.T) {
		// Every check fails; the path's error comes first, as in every backend.
		_, err := vane.CheckByPath(&vane.ByPathInput{Path: "a", Filters: []vane.Filter{{Key: "Nope"}}, Limit: -1, NextToken: "!"})
		if !strings.Contains(vane.ErrorMessage(err), "must begin with '/'") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrInvalidNextToken", func(t *testing.T) {
		_, err := vane.CheckByPath(&vane.ByPathInput{Path: "/a", NextToken: "!"})
		if vane.ErrorDetail(err) != vane.DetailInvalidNextToken {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCheckDescribe(t *testing.T) {
	q, err := vane.CheckDescribe(&vane.DescribeInput{Filters: []vane.Filter{{Key: "Path", Values: []string{"/a"}}}, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != 5 || q.Filters[0].Option != vane.OptionOneLevel || q.Filters[0].Values[0] != "/a/" {
		t.Fatalf("got %+v", q)
	}
	if _, err := vane.CheckDescribe(&vane.DescribeInput{Limit: vane.MaxPageSize + 1}); vane.ErrorCode(err) != vane.EINVALID {
		t.Fatalf("limit over the maximum: got %v", err)
	}
}
