package vane_test

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

// Message fragments that name the rule an error is about.
const (
	msgChars         = "only a-z, A-Z, 0-9, '_', '.', '-' and '/' are allowed"
	msgQualified     = "not fully qualified"
	msgEmptySegment  = "empty path segment"
	msgLevels        = "hierarchy levels"
	msgARN           = "ARN"
	msgReserved      = "reserved prefix"
	msgReservedName  = "reserved parameter name"
	msgSelector      = "one version number or one label"
	msgVersionSel    = "positive integer"
	msgLabelSel      = "label rules"
	msgEmptyName     = "must not be empty"
	msgPathSlash     = "must begin with '/'"
	msgPagingToken   = "paging token is not valid"
	msgLimitRange    = "between 1 and 1000"
	defaultARNPrefix = "arn:aws:ssm:us-east-1:000000000000:parameter/"
)

// arnPrefix is the ARN prefix name lengths are counted against.
var arnPrefix = vane.ARNPrefix(vane.DefaultRegion, vane.DefaultAccount)

// maxNameLen is the longest name, without its leading slash, whose ARN fits
// in MaxNameARNLength.
var maxNameLen = vane.MaxNameARNLength - len(arnPrefix)

// levels returns a fully qualified name of n hierarchy levels.
func levels(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString("/l")
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

// hierName returns "/a/" followed by x's, n characters long without the
// leading slash.
func hierName(n int) string { return "/a/" + strings.Repeat("x", n-2) }

func TestARNPrefix(t *testing.T) {
	if arnPrefix != defaultARNPrefix {
		t.Fatalf("ARNPrefix(DefaultRegion, DefaultAccount) = %q, want %q", arnPrefix, defaultARNPrefix)
	}
	if got, want := vane.ARNPrefix("eu-west-1", "123456789012"), "arn:aws:ssm:eu-west-1:123456789012:parameter/"; got != want {
		t.Errorf("ARNPrefix = %q, want %q", got, want)
	}
	if maxNameLen != 966 {
		t.Errorf("longest name = %d characters, want 966 (1011 - %d)", maxNameLen, len(arnPrefix))
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         string
		code, detail string
		msg          string
	}{
		{name: "RootName", in: "MyParam", want: "MyParam"},
		{name: "RootNameLeadingSlashDropped", in: "/MyParam", want: "MyParam"},
		{name: "Hierarchical", in: "/app/prod/db-url", want: "/app/prod/db-url"},
		{name: "CaseKept", in: "/App/PROD", want: "/App/PROD"},
		{name: "AllowedLowercase", in: "/abcdefghijklmnopqrstuvwxyz", want: "abcdefghijklmnopqrstuvwxyz"},
		{name: "AllowedUppercase", in: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", want: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
		{name: "AllowedDigits", in: "0123456789", want: "0123456789"},
		{name: "AllowedUnderscore", in: "/a/_", want: "/a/_"},
		{name: "AllowedDot", in: "/a/.", want: "/a/."},
		{name: "AllowedDotDot", in: "/a/../b", want: "/a/../b"},
		{name: "AllowedHyphen", in: "-", want: "-"},
		{name: "AllowedAllClasses", in: "/aZ09_.-/x", want: "/aZ09_.-/x"},
		{name: "ReservedPrefixAllowedForReads", in: "/aws/service/x", want: "/aws/service/x"},
		{name: "ReservedRootAllowedForReads", in: "ssm", want: "ssm"},
		{name: "Levels15", in: levels(15), want: levels(15)},
		{name: "ARNLength1011Root", in: strings.Repeat("x", maxNameLen), want: strings.Repeat("x", maxNameLen)},
		{name: "ARNLength1011RootLeadingSlash", in: "/" + strings.Repeat("x", maxNameLen), want: strings.Repeat("x", maxNameLen)},
		{name: "ARNLength1011Hierarchical", in: hierName(maxNameLen), want: hierName(maxNameLen)},

		{name: "ErrEmpty", in: "", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptyName},
		{name: "ErrCharSpace", in: "/a b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharColon", in: "/a:b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharStar", in: "/a/*", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharUnicode", in: "/café", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharTab", in: "a\tb", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharNUL", in: "a\x00", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharAt", in: "a@b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharBackslash", in: `\a`, code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrCharTilde", in: "/a~", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrNotFullyQualified", in: "a/b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
		{name: "ErrNotFullyQualifiedTrailing", in: "a/", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
		{name: "ErrSlashOnly", in: "/", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrDoubleSlash", in: "//", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrDoubleSlashInside", in: "/a//b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrDoubleSlashLeading", in: "//a", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrTrailingSlash", in: "/a/b/", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrTrailingSlashRoot", in: "/a/", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrHierarchyLevelLimit", in: levels(16), code: vane.EINVALID, detail: vane.DetailHierarchyLevelLimitExceeded, msg: msgLevels},
		{name: "ErrHierarchyLevelLimitShort", in: strings.Repeat("/a", 20), code: vane.EINVALID, detail: vane.DetailHierarchyLevelLimitExceeded, msg: msgLevels},
		{name: "ErrARNLength1012Root", in: strings.Repeat("x", maxNameLen+1), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
		{name: "ErrARNLength1012RootLeadingSlash", in: "/" + strings.Repeat("x", maxNameLen+1), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
		{name: "ErrARNLength1012Hierarchical", in: hierName(maxNameLen + 1), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.ValidateName(tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("ValidateName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestValidateNameMessageNamesOffendingChar checks that the message quotes
// the character that broke the rule, also when it is not ASCII.
func TestValidateNameMessageNamesOffendingChar(t *testing.T) {
	tests := []struct {
		name string
		in   string
		char string
	}{
		{"Space", "/a b", "' '"},
		{"Colon", "a:b", "':'"},
		{"Star", "/*", "'*'"},
		{"Unicode", "/café", "'é'"},
		{"UnicodeCJK", "名前", "'名'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vane.ValidateName(tt.in)
			checkErr(t, err, vane.EINVALID, vane.DetailValidation, tt.char)
		})
	}
}

func TestValidateNewName(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         string
		code, detail string
		msg          string
	}{
		{name: "Root", in: "/x", want: "x"},
		{name: "Hierarchical", in: "/x/y", want: "/x/y"},
		{name: "ReservedWordLaterSegment", in: "/app/aws/ssm", want: "/app/aws/ssm"},
		{name: "ReservedWordInside", in: "/myaws/x", want: "/myaws/x"},
		{name: "ReservedWordSuffix", in: "xssm", want: "xssm"},
		{name: "NearMissAw", in: "/aw/s", want: "/aw/s"},
		{name: "NearMissSs", in: "ss-m", want: "ss-m"},

		{name: "ErrForbiddenAwsPath", in: "/aws/x", code: vane.EFORBIDDEN, detail: vane.DetailReservedName, msg: msgReservedName},
		{name: "ErrForbiddenAWSPath", in: "/AWS/x", code: vane.EFORBIDDEN, detail: vane.DetailReservedName, msg: msgReservedName},
		{name: "ErrForbiddenAwsPathMixedCase", in: "/aWs/x/y", code: vane.EFORBIDDEN, detail: vane.DetailReservedName, msg: msgReservedName},
		// As moto does: a path whose first segment begins with "aws" is
		// denied, not merely invalid.
		{name: "ErrForbiddenAwsxPath", in: "/awsx/y", code: vane.EFORBIDDEN, detail: vane.DetailReservedName, msg: msgReservedName},
		{name: "ErrReservedSsmPath", in: "/ssm/x", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedSsmPathMixedCase", in: "/Ssm/x", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedSSMPath", in: "/SSM/x", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedAwsRoot", in: "aws", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedAwsxRoot", in: "awsx", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedAwsxRootLeadingSlash", in: "/awsx", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedAwsRootLeadingSlash", in: "/aws", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedAWSRoot", in: "AWS-param", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedSsmRoot", in: "ssm", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrReservedSsmxRoot", in: "/Ssmx", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
		{name: "ErrNotFullyQualified", in: "aws/x", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
		{name: "ErrHierarchyLevelLimit", in: levels(16), code: vane.EINVALID, detail: vane.DetailHierarchyLevelLimitExceeded, msg: msgLevels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.ValidateNewName(tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("ValidateNewName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"RootLeadingSlashDropped", "/x", "x"},
		{"RootUnchanged", "x", "x"},
		{"HierarchicalUnchanged", "/a/b", "/a/b"},
		{"SlashOnlyUnchanged", "/", "/"},
		{"EmptyUnchanged", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.CanonicalName(tt.in); got != tt.want {
				t.Errorf("CanonicalName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSelector(t *testing.T) {
	other := "arn:aws:ssm:eu-west-1:123456789012:parameter/"
	tests := []struct {
		name         string
		in           string
		want         vane.Selector
		code, detail string
		msg          string
	}{
		{name: "PlainRoot", in: "x", want: vane.Selector{Name: "x"}},
		{name: "PlainRootLeadingSlash", in: "/x", want: vane.Selector{Name: "x"}},
		{name: "PlainHierarchical", in: "/a/b", want: vane.Selector{Name: "/a/b"}},
		{name: "Version", in: "/a/b:3", want: vane.Selector{Name: "/a/b", Version: 3}},
		{name: "VersionRoot", in: "/x:1", want: vane.Selector{Name: "x", Version: 1}},
		{name: "VersionLeadingZero", in: "x:007", want: vane.Selector{Name: "x", Version: 7}},
		{name: "VersionMaxInt64", in: "x:9223372036854775807", want: vane.Selector{Name: "x", Version: 9223372036854775807}},
		{name: "Label", in: "/a/b:prod", want: vane.Selector{Name: "/a/b", Label: "prod"}},
		{name: "LabelAllChars", in: "x:Prod_1.2-rc", want: vane.Selector{Name: "x", Label: "Prod_1.2-rc"}},
		{name: "ARNRoot", in: arnPrefix + "x", want: vane.Selector{Name: "x"}},
		{name: "ARNHierarchical", in: arnPrefix + "a/b", want: vane.Selector{Name: "/a/b"}},
		{name: "ARNVersion", in: arnPrefix + "a/b:12", want: vane.Selector{Name: "/a/b", Version: 12}},
		{name: "ARNLabel", in: arnPrefix + "a/b:prod", want: vane.Selector{Name: "/a/b", Label: "prod"}},
		{name: "ARNRootLabel", in: arnPrefix + "x:prod", want: vane.Selector{Name: "x", Label: "prod"}},
		{name: "ARNOtherRegionAccount", in: other + "a/b/c", want: vane.Selector{Name: "/a/b/c"}},
		{name: "ARNOtherPartition", in: "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/a/b:2", want: vane.Selector{Name: "/a/b", Version: 2}},
		{name: "ARNLongestName", in: arnPrefix + strings.Repeat("x", maxNameLen), want: vane.Selector{Name: strings.Repeat("x", maxNameLen)}},

		{name: "ErrEmpty", in: "", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptyName},
		{name: "ErrSelectorOnly", in: ":3", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptyName},
		{name: "ErrLabelOnly", in: ":prod", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptyName},
		{name: "ErrEmptySelector", in: "/a/b:", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgSelector},
		{name: "ErrTwoSelectors", in: "/a/b:1:2", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgSelector},
		{name: "ErrTwoLabels", in: "x:a:b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgSelector},
		{name: "ErrVersionZero", in: "x:0", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgVersionSel},
		{name: "ErrVersionOverflow", in: "x:9223372036854775808", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgVersionSel},
		{name: "ErrVersionNotNumber", in: "x:3a", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgVersionSel},
		{name: "ErrLabelReservedAws", in: "x:aws", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLabelSel},
		{name: "ErrLabelReservedSsm", in: "x:SSMlabel", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLabelSel},
		{name: "ErrLabelBadChar", in: "x:a/b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLabelSel},
		{name: "ErrLabelSpace", in: "x:a b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLabelSel},
		{name: "ErrLabelTooLong", in: "x:" + strings.Repeat("l", vane.MaxLabelLength+1), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLabelSel},
		{name: "ErrNameNotFullyQualified", in: "a/b:3", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
		{name: "ErrNameBadChar", in: "/a*:3", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrHierarchyLevelLimit", in: levels(16) + ":1", code: vane.EINVALID, detail: vane.DetailHierarchyLevelLimitExceeded, msg: msgLevels},
		{name: "ErrARNNotSSM", in: "arn:aws:s3:::bucket/key", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
		{name: "ErrARNNotParameter", in: "arn:aws:ssm:us-east-1:000000000000:document/x", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
		{name: "ErrARNNoSlash", in: "arn:aws:ssm:us-east-1:000000000000:parameter", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
		{name: "ErrARNTooFewParts", in: "arn:aws:ssm:us-east-1", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
		{name: "ErrARNEmptyName", in: arnPrefix, code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptyName},
		{name: "ErrARNEmptySelector", in: arnPrefix + "a/b:", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgSelector},
		{name: "ErrARNBadVersion", in: arnPrefix + "a/b:0", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgVersionSel},
		{name: "ErrARNDoubleSlash", in: arnPrefix + "/a/b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrARNTrailingSlash", in: arnPrefix + "a/", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrARNNameTooLong", in: arnPrefix + strings.Repeat("x", maxNameLen+1), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.ParseSelector(tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("ParseSelector(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSelectorString(t *testing.T) {
	tests := []struct {
		name string
		sel  vane.Selector
		want string
	}{
		{"None", vane.Selector{Name: "x"}, ""},
		{"Version", vane.Selector{Name: "x", Version: 42}, ":42"},
		{"Label", vane.Selector{Name: "x", Label: "prod"}, ":prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidatePath(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         string
		code, detail string
		msg          string
	}{
		{name: "Root", in: "/", want: "/"},
		{name: "OneLevel", in: "/a", want: "/a/"},
		{name: "TrailingSlashKept", in: "/a/", want: "/a/"},
		{name: "TwoLevels", in: "/a/b", want: "/a/b/"},
		{name: "ReservedPrefixAllowed", in: "/aws/service", want: "/aws/service/"},
		{name: "Levels15", in: levels(15), want: levels(15) + "/"},
		{name: "Levels15TrailingSlash", in: levels(15) + "/", want: levels(15) + "/"},

		{name: "ErrEmpty", in: "", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgPathSlash},
		{name: "ErrNotAbsolute", in: "a", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgPathSlash},
		{name: "ErrNotAbsoluteHierarchy", in: "a/b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgPathSlash},
		{name: "ErrDoubleSlash", in: "//", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrDoubleSlashInside", in: "/a//b", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrTwoTrailingSlashes", in: "/a//", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
		{name: "ErrBadChar", in: "/a b/", code: vane.EINVALID, detail: vane.DetailValidation, msg: msgChars},
		{name: "ErrHierarchyLevelLimit", in: levels(16), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLevels},
		{name: "ErrTooLong", in: "/" + strings.Repeat("p", maxNameLen+1), code: vane.EINVALID, detail: vane.DetailValidation, msg: msgARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.ValidatePath(tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("ValidatePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUnderPath(t *testing.T) {
	tests := []struct {
		name      string
		param     string
		path      string
		recursive bool
		want      bool
	}{
		{"RootOneLevelRootName", "x", "/", false, true},
		{"RootOneLevelHierarchicalName", "/a/b", "/", false, false},
		{"RootRecursiveRootName", "x", "/", true, true},
		{"RootRecursiveHierarchicalName", "/a/b/c", "/", true, true},
		{"OneLevelChild", "/a/b", "/a/", false, true},
		{"OneLevelGrandchild", "/a/b/c", "/a/", false, false},
		{"RecursiveGrandchild", "/a/b/c", "/a/", true, true},
		{"SiblingPrefix", "/ab/c", "/a/", true, false},
		{"SiblingPrefixSameLength", "/a0/c", "/a/", true, false},
		{"PathItself", "/a/b", "/a/b/", true, false},
		{"RootNameOfSameSegment", "a", "/a/", true, false},
		{"CaseSensitive", "/A/b", "/a/", true, false},
		{"DeepOneLevel", "/a/b/c", "/a/b/", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.UnderPath(tt.param, tt.path, tt.recursive); got != tt.want {
				t.Errorf("UnderPath(%q, %q, %v) = %v, want %v", tt.param, tt.path, tt.recursive, got, tt.want)
			}
		})
	}
}

func TestPathRange(t *testing.T) {
	t.Run("Bounds", func(t *testing.T) {
		for path, want := range map[string][2]string{
			"/":     {"", ""},
			"/a/":   {"/a/", "/a0"},
			"/a/b/": {"/a/b/", "/a/b0"},
		} {
			if lo, hi := vane.PathRange(path); lo != want[0] || hi != want[1] {
				t.Errorf("PathRange(%q) = [%q, %q), want [%q, %q)", path, lo, hi, want[0], want[1])
			}
		}
	})

	// Names chosen to sit next to the bounds in byte order: '-' and '.'
	// sort before '/', '0' right after it.
	names := []string{
		"a", "a0", "A", "_", "z", "-", ".",
		"/a/b", "/a/b/c", "/a/b/c/d", "/a/-", "/a/.", "/a/0", "/a/_", "/a/z", "/a/Z",
		"/a-/b", "/a./b", "/a0/b", "/ab/c", "/A/b", "/a_/b", "/b/a", "/-/a", "/0/a",
		"/a/b-/c", "/a/b./c", "/a/b0/c", "/a/bb/c", "/a/b/" + strings.Repeat("z", 50),
	}
	for _, n := range names {
		if got, err := vane.ValidateName(n); err != nil || got != n {
			t.Fatalf("fixture %q is not a canonical name: %q, %v", n, got, err)
		}
	}
	sort.Strings(names)
	for _, path := range []string{"/", "/a/", "/a/b/", "/a-/", "/0/", "/A/"} {
		t.Run("SameAsUnderPath"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			lo, hi := vane.PathRange(path)
			for _, n := range names {
				inRange := n >= lo && (hi == "" || n < hi)
				under := vane.UnderPath(n, path, true)
				if under && !inRange {
					t.Errorf("%q is under %q but outside PathRange [%q, %q)", n, path, lo, hi)
				}
				if !under && inRange && path != "/" {
					t.Errorf("%q is not under %q but inside PathRange [%q, %q)", n, path, lo, hi)
				}
			}
		})
	}
}

func TestPrefixMatch(t *testing.T) {
	tests := []struct {
		name       string
		param, pre string
		want       bool
	}{
		{"EmptyMatchesAll", "/a/b", "", true},
		{"SlashMatchesAll", "x", "/", true},
		{"Prefix", "/a/b", "/a/", true},
		{"NotPrefix", "/b/a", "/a/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.PrefixMatch(tt.param, tt.pre); got != tt.want {
				t.Errorf("PrefixMatch(%q, %q) = %v, want %v", tt.param, tt.pre, got, tt.want)
			}
		})
	}
}

func TestToken(t *testing.T) {
	for i, key := range []string{"", "x", "/a/b/c", "v1:nested", "with:colons:", "café ☃", "\x00\xff", strings.Repeat("k", 2000)} {
		t.Run(fmt.Sprintf("RoundTrip%d", i), func(t *testing.T) {
			tok := vane.EncodeToken(key)
			if tok == "" {
				t.Fatalf("EncodeToken(%q) is empty", key)
			}
			if strings.Contains(tok, key) && key != "" {
				t.Errorf("EncodeToken(%q) = %q shows the key in clear", key, tok)
			}
			got, err := vane.DecodeToken(tok)
			checkErr(t, err, "", "", "")
			if got != key {
				t.Errorf("DecodeToken(EncodeToken(%q)) = %q", key, got)
			}
		})
	}

	t.Run("EmptyTokenIsStart", func(t *testing.T) {
		got, err := vane.DecodeToken("")
		checkErr(t, err, "", "", "")
		if got != "" {
			t.Errorf("DecodeToken(\"\") = %q, want \"\"", got)
		}
	})

	raw := base64.RawURLEncoding.EncodeToString
	bad := []struct{ name, tok string }{
		{"NotBase64", "!!not a token!!"},
		{"Garbage", "garbage"},
		{"NoMagic", raw([]byte("/a/b"))},
		{"WrongMagic", raw([]byte("v2:/a/b"))},
		{"PaddedStdEncoding", base64.StdEncoding.EncodeToString([]byte("v1:/a/b?"))},
		{"StdAlphabet", "djE6Pz8/"}, // "v1:???" in the standard alphabet
		{"ImpossibleLength", "djE6Y"},
		{"TrailingSpace", vane.EncodeToken("/a") + " "},
	}
	for _, tt := range bad {
		t.Run("ErrInvalidNextToken/"+tt.name, func(t *testing.T) {
			got, err := vane.DecodeToken(tt.tok)
			checkErr(t, err, vane.EINVALID, vane.DetailInvalidNextToken, msgPagingToken)
			if got != "" {
				t.Errorf("DecodeToken(%q) = %q alongside an error", tt.tok, got)
			}
		})
	}
}

func TestPageLimit(t *testing.T) {
	tests := []struct {
		name         string
		in, want     int
		code, detail string
		msg          string
	}{
		{name: "ZeroIsDefault", in: 0, want: vane.DefaultPageSize},
		{name: "One", in: 1, want: 1},
		{name: "Ten", in: 10, want: 10},
		{name: "Max", in: vane.MaxPageSize, want: vane.MaxPageSize},
		{name: "ErrNegative", in: -1, code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLimitRange},
		{name: "ErrAboveMax", in: vane.MaxPageSize + 1, code: vane.EINVALID, detail: vane.DetailValidation, msg: msgLimitRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.PageLimit(tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("PageLimit(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	if vane.DefaultPageSize != 50 || vane.MaxPageSize != 1000 {
		t.Errorf("page sizes = %d/%d, want 50/1000", vane.DefaultPageSize, vane.MaxPageSize)
	}
}

// hostile is a long input that error messages must not echo in full.
var hostile = strings.Repeat("Z", 4096)

func TestParseSelectorTruncatesEcho(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"ErrVersionSelector", "x:1" + strings.Repeat("0", 4096), msgVersionSel},
		{"ErrLabelSelector", "x:" + hostile, msgLabelSel},
		{"ErrTwoSelectors", "x:a:" + hostile, msgSelector},
		{"ErrName", hostile + "*", msgChars},
		{"ErrARN", "arn:aws:s3:::" + hostile, msgARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vane.ParseSelector(tt.in)
			checkErr(t, err, vane.EINVALID, vane.DetailValidation, tt.msg)
			if msg := vane.ErrorMessage(err); len(msg) > maxMessageLen {
				t.Errorf("message is %d bytes, want at most %d: %.120q...", len(msg), maxMessageLen, msg)
			}
		})
	}
}
