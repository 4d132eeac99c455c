package vane_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// ascii returns n ASCII characters; wide returns n two-byte characters, so
// limits counted in characters and in bytes give different answers.
func ascii(n int) string { return strings.Repeat("a", n) }
func wide(n int) string  { return strings.Repeat("é", n) }

// tags returns n distinct valid tags.
func tags(n int) []vane.Tag {
	out := make([]vane.Tag, n)
	for i := range out {
		out[i] = vane.Tag{Key: fmt.Sprintf("k%03d", i), Value: "v"}
	}
	return out
}

func TestCheckPut(t *testing.T) {
	valid := func(mod func(in *vane.PutInput)) *vane.PutInput {
		in := &vane.PutInput{Name: "/app/db", Value: "v", Type: vane.TypeString}
		if mod != nil {
			mod(in)
		}
		return in
	}
	tests := []struct {
		name         string
		in           *vane.PutInput
		want         string
		code, detail string
		msg          string
	}{
		{name: "Valid", in: valid(nil), want: "/app/db"},
		{name: "ValidRootCanonical", in: valid(func(in *vane.PutInput) { in.Name = "/x" }), want: "x"},
		{name: "TypeOptional", in: valid(func(in *vane.PutInput) { in.Type = "" }), want: "/app/db"},
		{name: "StringList", in: valid(func(in *vane.PutInput) { in.Type = vane.TypeStringList; in.Value = "a,b" }), want: "/app/db"},
		{name: "SecureString", in: valid(func(in *vane.PutInput) { in.Type = vane.TypeSecureString; in.KeyID = "alias/k" }), want: "/app/db"},
		{name: "TierStandard", in: valid(func(in *vane.PutInput) { in.Tier = vane.TierStandard }), want: "/app/db"},
		{name: "TierAdvanced", in: valid(func(in *vane.PutInput) { in.Tier = vane.TierAdvanced }), want: "/app/db"},
		{name: "TierIntelligent", in: valid(func(in *vane.PutInput) { in.Tier = vane.TierIntelligent }), want: "/app/db"},
		{name: "DataTypeText", in: valid(func(in *vane.PutInput) { in.DataType = vane.DataTypeText }), want: "/app/db"},
		{name: "DataTypeEC2Image", in: valid(func(in *vane.PutInput) { in.DataType = vane.DataTypeEC2Image }), want: "/app/db"},
		{name: "DataTypeIntegration", in: valid(func(in *vane.PutInput) { in.DataType = vane.DataTypeIntegration }), want: "/app/db"},
		// The tier is decided by ApplyPut; CheckPut allows up to the
		// Advanced limit, counted in characters.
		{name: "Value8192Chars", in: valid(func(in *vane.PutInput) { in.Value = wide(vane.MaxAdvancedValueLength) }), want: "/app/db"},
		{name: "Description1024Chars", in: valid(func(in *vane.PutInput) { in.Description = ptr(wide(vane.MaxDescriptionLength)) }), want: "/app/db"},
		{name: "EmptyDescription", in: valid(func(in *vane.PutInput) { in.Description = ptr("") }), want: "/app/db"},
		{name: "AllowedPattern1024", in: valid(func(in *vane.PutInput) { in.AllowedPattern = ptr(ascii(vane.MaxAllowedPatternLen)) }), want: "/app/db"},
		{name: "KeyID256", in: valid(func(in *vane.PutInput) { in.KeyID = ascii(vane.MaxKeyIDLength) }), want: "/app/db"},
		{name: "ExpectVersionZero", in: valid(func(in *vane.PutInput) { in.ExpectVersion = ptr(int64(0)) }), want: "/app/db"},
		{name: "ExpectVersionPositive", in: valid(func(in *vane.PutInput) { in.ExpectVersion = ptr(int64(4)) }), want: "/app/db"},
		{name: "Tags", in: valid(func(in *vane.PutInput) { in.Tags = []vane.Tag{{Key: "env", Value: "prod"}} }), want: "/app/db"},
		{name: "Tags50", in: valid(func(in *vane.PutInput) { in.Tags = tags(vane.MaxTagsPerResource) }), want: "/app/db"},
		{name: "DuplicateTagKeysCountOnce", in: valid(func(in *vane.PutInput) {
			in.Tags = append(tags(vane.MaxTagsPerResource), tags(10)...)
		}), want: "/app/db"},
		{name: "ReservedNameCheckedLater", in: valid(func(in *vane.PutInput) { in.Name = "/aws/x" }), want: "/aws/x"},

		{name: "ErrInvalidName", in: valid(func(in *vane.PutInput) { in.Name = "app/db" }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
		{name: "ErrHierarchyLevelLimit", in: valid(func(in *vane.PutInput) { in.Name = levels(16) }),
			code: vane.EINVALID, detail: vane.DetailHierarchyLevelLimitExceeded, msg: msgLevels},
		{name: "ErrEmptyValue", in: valid(func(in *vane.PutInput) { in.Value = "" }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "must not be empty"},
		{name: "ErrValueTooLarge", in: valid(func(in *vane.PutInput) { in.Value = ascii(vane.MaxAdvancedValueLength + 1) }),
			code: vane.ETOOLARGE, detail: vane.DetailValidation, msg: "at most 8192"},
		{name: "ErrValueTooLargeWide", in: valid(func(in *vane.PutInput) { in.Value = wide(vane.MaxAdvancedValueLength + 1) }),
			code: vane.ETOOLARGE, detail: vane.DetailValidation, msg: "at most 8192"},
		{name: "ErrUnsupportedType", in: valid(func(in *vane.PutInput) { in.Type = "Integer" }),
			code: vane.EINVALID, detail: vane.DetailUnsupportedParameterType, msg: "not supported"},
		{name: "ErrTypeCase", in: valid(func(in *vane.PutInput) { in.Type = "string" }),
			code: vane.EINVALID, detail: vane.DetailUnsupportedParameterType, msg: "not supported"},
		{name: "ErrInvalidTier", in: valid(func(in *vane.PutInput) { in.Tier = "Premium" }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "use Standard, Advanced or Intelligent-Tiering"},
		{name: "ErrInvalidDataType", in: valid(func(in *vane.PutInput) { in.DataType = "json" }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "use text, aws:ec2:image or aws:ssm:integration"},
		{name: "ErrDescriptionTooLong", in: valid(func(in *vane.PutInput) { in.Description = ptr(ascii(vane.MaxDescriptionLength + 1)) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "longer than 1024"},
		{name: "ErrAllowedPatternTooLong", in: valid(func(in *vane.PutInput) { in.AllowedPattern = ptr(ascii(vane.MaxAllowedPatternLen + 1)) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "longer than 1024"},
		{name: "ErrInvalidAllowedPattern", in: valid(func(in *vane.PutInput) { in.AllowedPattern = ptr("[a-") }),
			code: vane.EINVALID, detail: vane.DetailInvalidAllowedPattern, msg: "not a valid regular expression"},
		{name: "ErrKeyIDTooLong", in: valid(func(in *vane.PutInput) { in.KeyID = ascii(vane.MaxKeyIDLength + 1) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "key id is longer than 256"},
		{name: "ErrNegativeExpectVersion", in: valid(func(in *vane.PutInput) { in.ExpectVersion = ptr(int64(-1)) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "must not be negative"},
		{name: "ErrTagsWithOverwrite", in: valid(func(in *vane.PutInput) { in.Overwrite = true; in.Tags = tags(1) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "tags and overwrite"},
		// A positive ExpectVersion implies Overwrite (PutInput docs), and
		// tags may be given only when creating: the pair can never create.
		{name: "ErrTagsWithExpectVersion", in: valid(func(in *vane.PutInput) { in.ExpectVersion = ptr(int64(3)); in.Tags = tags(1) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "tags"},
		{name: "ErrTooManyTagsInRequest", in: valid(func(in *vane.PutInput) { in.Tags = tags(vane.MaxTagsPerRequest + 1) }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at most 1000"},
		{name: "ErrTooManyTags", in: valid(func(in *vane.PutInput) { in.Tags = tags(vane.MaxTagsPerResource + 1) }),
			code: vane.ELIMIT, detail: vane.DetailTooManyTags, msg: "at most 50 tags"},
		{name: "ErrReservedTagKey", in: valid(func(in *vane.PutInput) { in.Tags = []vane.Tag{{Key: "aws:x", Value: "v"}} }),
			code: vane.EINVALID, detail: vane.DetailValidation, msg: `reserved prefix "aws:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.CheckPut(tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("CheckPut = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestApplyPut(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	const user = "alice"

	// existing returns a stored latest version to overwrite.
	existing := func(mod func(p *vane.Parameter)) *vane.Parameter {
		p := &vane.Parameter{
			Name: "/app/db", Type: vane.TypeString, Value: "old", Version: 3,
			Labels: []string{"prod"}, Tier: vane.TierStandard, DataType: vane.DataTypeText,
			LastModified: earlier, LastModifiedUser: "bob",
		}
		if mod != nil {
			mod(p)
		}
		return p
	}
	// want returns the expected result: version 1 of "/app/db" unless
	// changed by mod.
	want := func(mod func(p *vane.Parameter)) *vane.Parameter {
		p := &vane.Parameter{
			Name: "/app/db", Type: vane.TypeString, Value: "v", Version: 1,
			Tier: vane.TierStandard, DataType: vane.DataTypeText,
			LastModified: now, LastModifiedUser: user,
		}
		if mod != nil {
			mod(p)
		}
		return p
	}
	secure := existing(func(p *vane.Parameter) {
		p.Type = vane.TypeSecureString
		p.KeyID = "alias/mine"
		p.Description = "db password"
		p.AllowedPattern = "^v"
		p.Tier = vane.TierAdvanced
	})
	advanced := existing(func(p *vane.Parameter) { p.Tier = vane.TierAdvanced })
	ec2 := existing(func(p *vane.Parameter) { p.DataType = vane.DataTypeEC2Image; p.Value = "ami-12345678" })
	patterned := existing(func(p *vane.Parameter) { p.AllowedPattern = "^[0-9]+$"; p.Value = "1" })

	tests := []struct {
		name         string
		cur          *vane.Parameter
		in           vane.PutInput
		want         *vane.Parameter
		code, detail string
		msg          string
	}{
		// Create.
		{name: "Create", in: vane.PutInput{Value: "v", Type: vane.TypeString}, want: want(nil)},
		{name: "CreateWithOverwrite", in: vane.PutInput{Value: "v", Type: vane.TypeString, Overwrite: true}, want: want(nil)},
		{name: "CreateStringList", in: vane.PutInput{Value: "a,b", Type: vane.TypeStringList},
			want: want(func(p *vane.Parameter) { p.Type = vane.TypeStringList; p.Value = "a,b" })},
		{name: "CreateSecureStringDefaultKey", in: vane.PutInput{Value: "v", Type: vane.TypeSecureString},
			want: want(func(p *vane.Parameter) { p.Type = vane.TypeSecureString; p.KeyID = vane.DefaultKeyID })},
		{name: "CreateSecureStringKeyID", in: vane.PutInput{Value: "v", Type: vane.TypeSecureString, KeyID: "alias/mine"},
			want: want(func(p *vane.Parameter) { p.Type = vane.TypeSecureString; p.KeyID = "alias/mine" })},
		{name: "CreateAllFields", in: vane.PutInput{Value: "42", Type: vane.TypeString, Description: ptr("answer"),
			AllowedPattern: ptr(`^\d+$`), DataType: vane.DataTypeIntegration, Tier: vane.TierAdvanced},
			want: want(func(p *vane.Parameter) {
				p.Value = "42"
				p.Description = "answer"
				p.AllowedPattern = `^\d+$`
				p.DataType = vane.DataTypeIntegration
				p.Tier = vane.TierAdvanced
			})},
		{name: "ErrCreateWithoutType", in: vane.PutInput{Value: "v"},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "type is required"},
		{name: "ErrCreateKeyIDOnString", in: vane.PutInput{Value: "v", Type: vane.TypeString, KeyID: "alias/mine"},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "only be given for a SecureString"},

		// Overwrite.
		{name: "ErrAlreadyExists", cur: existing(nil), in: vane.PutInput{Value: "v"},
			code: vane.ECONFLICT, detail: vane.DetailParameterAlreadyExists, msg: "set overwrite"},
		{name: "OverwriteKeepsMetadata", cur: secure, in: vane.PutInput{Value: "v2", Overwrite: true},
			want: want(func(p *vane.Parameter) {
				p.Version = 4
				p.Value = "v2"
				p.Type = vane.TypeSecureString
				p.KeyID = "alias/mine"
				p.Description = "db password"
				p.AllowedPattern = "^v"
				p.Tier = vane.TierAdvanced
			})},
		{name: "OverwriteKeepsDataType", cur: ec2, in: vane.PutInput{Value: "ami-0123456789abcdef0", Overwrite: true},
			want: want(func(p *vane.Parameter) {
				p.Version = 4
				p.Value = "ami-0123456789abcdef0"
				p.DataType = vane.DataTypeEC2Image
			})},
		{name: "OverwriteReplacesMetadata", cur: secure,
			in: vane.PutInput{Value: "x", Overwrite: true, Description: ptr(""), AllowedPattern: ptr(""), KeyID: "alias/other", DataType: vane.DataTypeIntegration},
			want: want(func(p *vane.Parameter) {
				p.Version = 4
				p.Value = "x"
				p.Type = vane.TypeSecureString
				p.KeyID = "alias/other"
				p.DataType = vane.DataTypeIntegration
				p.Tier = vane.TierAdvanced
			})},
		{name: "OverwriteToStringDropsKeyID", cur: secure, in: vane.PutInput{Value: "v", Overwrite: true, Type: vane.TypeString},
			want: want(func(p *vane.Parameter) {
				p.Version = 4
				p.Description = "db password"
				p.AllowedPattern = "^v"
				p.Tier = vane.TierAdvanced
			})},
		{name: "OverwriteToSecureStringDefaultKey", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, Type: vane.TypeSecureString},
			want: want(func(p *vane.Parameter) { p.Version = 4; p.Type = vane.TypeSecureString; p.KeyID = vane.DefaultKeyID })},
		{name: "ErrOverwriteKeyIDOnString", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, KeyID: "alias/k"},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "only be given for a SecureString"},
		{name: "ErrMaxVersionNumber", cur: existing(func(p *vane.Parameter) { p.Version = 1 << 53 }), in: vane.PutInput{Value: "v", Overwrite: true},
			code: vane.ELIMIT, detail: vane.DetailParameterMaxVersionLimitExceeded, msg: "highest version number"},

		// Compare-and-set.
		{name: "ExpectVersionZeroCreates", in: vane.PutInput{Value: "v", Type: vane.TypeString, ExpectVersion: ptr(int64(0))}, want: want(nil)},
		{name: "ErrExpectVersionZeroExists", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, ExpectVersion: ptr(int64(0))},
			code: vane.ECONFLICT, detail: vane.DetailVersionMismatch, msg: "expected version 0, current version is 3"},
		{name: "ExpectVersionImpliesOverwrite", cur: existing(nil), in: vane.PutInput{Value: "v", ExpectVersion: ptr(int64(3))},
			want: want(func(p *vane.Parameter) { p.Version = 4 })},
		{name: "ExpectVersionWithOverwrite", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, ExpectVersion: ptr(int64(3))},
			want: want(func(p *vane.Parameter) { p.Version = 4 })},
		{name: "ErrExpectVersionStale", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, ExpectVersion: ptr(int64(2))},
			code: vane.ECONFLICT, detail: vane.DetailVersionMismatch, msg: "expected version 2, current version is 3"},
		{name: "ErrExpectVersionAhead", cur: existing(nil), in: vane.PutInput{Value: "v", ExpectVersion: ptr(int64(4))},
			code: vane.ECONFLICT, detail: vane.DetailVersionMismatch, msg: "version mismatch"},
		{name: "ErrExpectVersionMissing", in: vane.PutInput{Value: "v", Type: vane.TypeString, ExpectVersion: ptr(int64(1))},
			code: vane.ECONFLICT, detail: vane.DetailVersionMismatch, msg: "expected version 1, current version is 0"},

		// Tiers and value sizes, counted in characters.
		{name: "Standard4096Chars", in: vane.PutInput{Value: wide(vane.MaxStandardValueLength), Type: vane.TypeString},
			want: want(func(p *vane.Parameter) { p.Value = wide(vane.MaxStandardValueLength) })},
		{name: "ErrStandard4097Chars", in: vane.PutInput{Value: ascii(vane.MaxStandardValueLength + 1), Type: vane.TypeString},
			code: vane.ETOOLARGE, detail: vane.DetailValidation, msg: "Standard tier allows 4096"},
		{name: "ErrStandardExplicit4097Chars", in: vane.PutInput{Value: wide(vane.MaxStandardValueLength + 1), Type: vane.TypeString, Tier: vane.TierStandard},
			code: vane.ETOOLARGE, detail: vane.DetailValidation, msg: "Standard tier allows 4096"},
		{name: "ErrStandardOverwrite4097Chars", cur: existing(nil), in: vane.PutInput{Value: ascii(vane.MaxStandardValueLength + 1), Overwrite: true},
			code: vane.ETOOLARGE, detail: vane.DetailValidation, msg: "Standard tier allows 4096"},
		{name: "Advanced8192Chars", in: vane.PutInput{Value: wide(vane.MaxAdvancedValueLength), Type: vane.TypeString, Tier: vane.TierAdvanced},
			want: want(func(p *vane.Parameter) { p.Value = wide(vane.MaxAdvancedValueLength); p.Tier = vane.TierAdvanced })},
		{name: "AdvancedSmallValue", in: vane.PutInput{Value: "v", Type: vane.TypeString, Tier: vane.TierAdvanced},
			want: want(func(p *vane.Parameter) { p.Tier = vane.TierAdvanced })},
		{name: "StandardToAdvanced", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, Tier: vane.TierAdvanced},
			want: want(func(p *vane.Parameter) { p.Version = 4; p.Tier = vane.TierAdvanced })},
		{name: "StandardStaysStandard", cur: existing(nil), in: vane.PutInput{Value: "v", Overwrite: true, Tier: vane.TierStandard},
			want: want(func(p *vane.Parameter) { p.Version = 4 })},
		{name: "ErrAdvancedToStandard", cur: advanced, in: vane.PutInput{Value: "v", Overwrite: true, Tier: vane.TierStandard},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "can't be moved back to Standard"},
		{name: "OmittedTierKeepsAdvanced", cur: advanced, in: vane.PutInput{Value: ascii(vane.MaxAdvancedValueLength), Overwrite: true},
			want: want(func(p *vane.Parameter) {
				p.Version = 4
				p.Value = ascii(vane.MaxAdvancedValueLength)
				p.Tier = vane.TierAdvanced
			})},
		{name: "IntelligentSmallCreatesStandard", in: vane.PutInput{Value: wide(vane.MaxStandardValueLength), Type: vane.TypeString, Tier: vane.TierIntelligent},
			want: want(func(p *vane.Parameter) { p.Value = wide(vane.MaxStandardValueLength) })},
		{name: "IntelligentLargeCreatesAdvanced", in: vane.PutInput{Value: ascii(vane.MaxStandardValueLength + 1), Type: vane.TypeString, Tier: vane.TierIntelligent},
			want: want(func(p *vane.Parameter) { p.Value = ascii(vane.MaxStandardValueLength + 1); p.Tier = vane.TierAdvanced })},
		{name: "IntelligentLargeUpgradesStandard", cur: existing(nil), in: vane.PutInput{Value: ascii(vane.MaxStandardValueLength + 1), Overwrite: true, Tier: vane.TierIntelligent},
			want: want(func(p *vane.Parameter) {
				p.Version = 4
				p.Value = ascii(vane.MaxStandardValueLength + 1)
				p.Tier = vane.TierAdvanced
			})},
		{name: "IntelligentSmallKeepsAdvanced", cur: advanced, in: vane.PutInput{Value: "v", Overwrite: true, Tier: vane.TierIntelligent},
			want: want(func(p *vane.Parameter) { p.Version = 4; p.Tier = vane.TierAdvanced })},
		// CheckPut refuses values over the Advanced limit before ApplyPut
		// runs; ApplyPut alone only picks the tier.
		{name: "IntelligentAboveAdvancedLimitLeftToCheckPut", in: vane.PutInput{Value: ascii(vane.MaxAdvancedValueLength + 1), Type: vane.TypeString, Tier: vane.TierIntelligent},
			want: want(func(p *vane.Parameter) { p.Value = ascii(vane.MaxAdvancedValueLength + 1); p.Tier = vane.TierAdvanced })},

		// AllowedPattern.
		{name: "PatternMatch", in: vane.PutInput{Value: "123", Type: vane.TypeString, AllowedPattern: ptr(`^[0-9]+$`)},
			want: want(func(p *vane.Parameter) { p.Value = "123"; p.AllowedPattern = `^[0-9]+$` })},
		{name: "ErrPatternMismatch", in: vane.PutInput{Value: "12a", Type: vane.TypeString, AllowedPattern: ptr(`^[0-9]+$`)},
			code: vane.EINVALID, detail: vane.DetailParameterPatternMismatch, msg: "does not match its allowed pattern"},
		{name: "ErrKeptPatternMismatch", cur: patterned, in: vane.PutInput{Value: "abc", Overwrite: true},
			code: vane.EINVALID, detail: vane.DetailParameterPatternMismatch, msg: "does not match its allowed pattern"},
		{name: "KeptPatternMatch", cur: patterned, in: vane.PutInput{Value: "2", Overwrite: true},
			want: want(func(p *vane.Parameter) { p.Version = 4; p.Value = "2"; p.AllowedPattern = "^[0-9]+$" })},
		{name: "ClearedPatternAllowsAnything", cur: patterned, in: vane.PutInput{Value: "abc", Overwrite: true, AllowedPattern: ptr("")},
			want: want(func(p *vane.Parameter) { p.Version = 4; p.Value = "abc" })},
		{name: "ErrKeptPatternInvalid", cur: existing(func(p *vane.Parameter) { p.AllowedPattern = "[" }), in: vane.PutInput{Value: "v", Overwrite: true},
			code: vane.EINVALID, detail: vane.DetailInvalidAllowedPattern, msg: "not a valid regular expression"},

		// DataType aws:ec2:image.
		{name: "EC2ImageShortID", in: vane.PutInput{Value: "ami-12345678", Type: vane.TypeString, DataType: vane.DataTypeEC2Image},
			want: want(func(p *vane.Parameter) { p.Value = "ami-12345678"; p.DataType = vane.DataTypeEC2Image })},
		{name: "EC2ImageLongID", in: vane.PutInput{Value: "ami-0123456789abcdef0", Type: vane.TypeString, DataType: vane.DataTypeEC2Image},
			want: want(func(p *vane.Parameter) { p.Value = "ami-0123456789abcdef0"; p.DataType = vane.DataTypeEC2Image })},
		{name: "ErrEC2ImageBadValue", in: vane.PutInput{Value: "ami-xyz", Type: vane.TypeString, DataType: vane.DataTypeEC2Image},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "not an AMI id"},
		{name: "ErrEC2ImageNineHex", in: vane.PutInput{Value: "ami-123456789", Type: vane.TypeString, DataType: vane.DataTypeEC2Image},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "not an AMI id"},
		{name: "ErrEC2ImageTrailingNewline", in: vane.PutInput{Value: "ami-12345678\n", Type: vane.TypeString, DataType: vane.DataTypeEC2Image},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "not an AMI id"},
		{name: "ErrEC2ImageNotString", in: vane.PutInput{Value: "ami-12345678", Type: vane.TypeStringList, DataType: vane.DataTypeEC2Image},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "requires type String"},
		{name: "ErrEC2ImageSecureString", in: vane.PutInput{Value: "ami-12345678", Type: vane.TypeSecureString, DataType: vane.DataTypeEC2Image},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "requires type String"},
		{name: "ErrEC2ImageKeptOnOverwrite", cur: ec2, in: vane.PutInput{Value: "hello", Overwrite: true},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "not an AMI id"},
		{name: "EC2ImageDroppedOnOverwrite", cur: ec2, in: vane.PutInput{Value: "hello", Overwrite: true, DataType: vane.DataTypeText},
			want: want(func(p *vane.Parameter) { p.Version = 4; p.Value = "hello" })},

		// Reserved names are refused only when creating.
		{name: "ErrCreateForbiddenName", in: vane.PutInput{Name: "/aws/x", Value: "v", Type: vane.TypeString},
			code: vane.EFORBIDDEN, detail: vane.DetailReservedName, msg: msgReservedName},
		{name: "ErrCreateReservedName", in: vane.PutInput{Name: "ssmx", Value: "v", Type: vane.TypeString},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: msgReserved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			name := "/app/db"
			if in.Name != "" {
				name = in.Name
			}
			in.Name = name
			var before vane.Parameter
			if tt.cur != nil {
				before = *tt.cur
				before.Labels = append([]string(nil), tt.cur.Labels...)
			}
			got, err := vane.ApplyPut(tt.cur, &in, name, now, user)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if tt.code != "" {
				if got != nil {
					t.Errorf("ApplyPut returned %+v alongside an error", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ApplyPut =\n  %s\nwant\n  %s", summary(got), summary(tt.want))
			}
			if tt.cur != nil && !reflect.DeepEqual(*tt.cur, before) {
				t.Errorf("ApplyPut changed the current version: %s, was %s", summary(tt.cur), summary(&before))
			}
		})
	}
}

// summary prints a parameter with long values shortened.
func summary(p *vane.Parameter) string {
	if p == nil {
		return "<nil>"
	}
	q := *p
	if n := len(q.Value); n > 40 {
		q.Value = fmt.Sprintf("%s...(%d bytes)", q.Value[:20], n)
	}
	return fmt.Sprintf("%+v", q)
}

func TestValidLabel(t *testing.T) {
	tests := []struct {
		name  string
		label string
		want  bool
	}{
		{"Letters", "prod", true},
		{"Mixed", "Prod_1.2-rc", true},
		{"StartsWithHyphen", "-x", true},
		{"StartsWithUnderscore", "_x", true},
		{"StartsWithDot", ".x", true},
		{"ContainsAws", "my-aws", true},
		{"ContainsSsm", "xssm", true},
		{"NearMissAw", "aw", true},
		{"Length100", ascii(vane.MaxLabelLength), true},

		{"InvalidEmpty", "", false},
		{"InvalidLeadingDigit", "1prod", false},
		{"InvalidDigitOnly", "9", false},
		{"InvalidAws", "aws", false},
		{"InvalidAwsPrefix", "awsprod", false},
		{"InvalidAWSUpper", "AWS-x", false},
		{"InvalidSsm", "ssm", false},
		{"InvalidSsmMixedCase", "SsM1", false},
		{"InvalidSpace", "a b", false},
		{"InvalidColon", "a:b", false},
		{"InvalidSlash", "a/b", false},
		{"InvalidStar", "a*", false},
		{"InvalidUnicode", "café", false},
		{"InvalidLength101", ascii(vane.MaxLabelLength + 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.ValidLabel(tt.label); got != tt.want {
				t.Errorf("ValidLabel(%q) = %v, want %v", tt.label, got, tt.want)
			}
		})
	}
}

func TestCheckLabels(t *testing.T) {
	ten := []string{"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"}
	tests := []struct {
		name           string
		in             vane.LabelInput
		unlabel        bool
		wantName       string
		valid, invalid []string
		code, detail   string
		msg            string
	}{
		{name: "Valid", in: vane.LabelInput{Name: "/app/db", Version: 2, Labels: []string{"prod", "stage"}},
			wantName: "/app/db", valid: []string{"prod", "stage"}},
		{name: "LatestVersion", in: vane.LabelInput{Name: "/x", Labels: []string{"prod"}},
			wantName: "x", valid: []string{"prod"}},
		{name: "InvalidReported", in: vane.LabelInput{Name: "x", Labels: []string{"prod", "1bad", "aws-x", "SSM", "a b", "café", "stage"}},
			wantName: "x", valid: []string{"prod", "stage"}, invalid: []string{"1bad", "aws-x", "SSM", "a b", "café"}},
		{name: "AllInvalid", in: vane.LabelInput{Name: "x", Labels: []string{"1", "aws"}},
			wantName: "x", invalid: []string{"1", "aws"}},
		{name: "DuplicatesRemoved", in: vane.LabelInput{Name: "x", Labels: []string{"b", "a", "b", "a", "b"}},
			wantName: "x", valid: []string{"b", "a"}},
		{name: "DuplicateInvalidReportedOnce", in: vane.LabelInput{Name: "x", Labels: []string{"1x", "ok", "1x"}},
			wantName: "x", valid: []string{"ok"}, invalid: []string{"1x"}},
		{name: "CaseSensitiveNotDuplicates", in: vane.LabelInput{Name: "x", Labels: []string{"Prod", "prod"}},
			wantName: "x", valid: []string{"Prod", "prod"}},
		{name: "TenLabels", in: vane.LabelInput{Name: "x", Labels: ten},
			wantName: "x", valid: ten},
		{name: "Length100", in: vane.LabelInput{Name: "x", Labels: []string{ascii(vane.MaxLabelLength)}},
			wantName: "x", valid: []string{ascii(vane.MaxLabelLength)}},
		// 100 characters is within the request bound; non-ASCII only
		// breaks the character rules.
		{name: "Wide100CharsInvalidNotFatal", in: vane.LabelInput{Name: "x", Labels: []string{wide(vane.MaxLabelLength)}},
			wantName: "x", invalid: []string{wide(vane.MaxLabelLength)}},
		{name: "UnlabelVersion", in: vane.LabelInput{Name: "x", Version: 1, Labels: []string{"prod"}}, unlabel: true,
			wantName: "x", valid: []string{"prod"}},

		{name: "ErrNoLabels", in: vane.LabelInput{Name: "x"},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "between 1 and 10"},
		{name: "ErrElevenLabels", in: vane.LabelInput{Name: "x", Labels: append(ten, "l10")},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "between 1 and 10"},
		{name: "ErrElevenLabelsWithDuplicates", in: vane.LabelInput{Name: "x", Labels: append(ten, "l0")},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "between 1 and 10"},
		{name: "ErrEmptyLabel", in: vane.LabelInput{Name: "x", Labels: []string{"ok", ""}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "1 to 100 characters"},
		{name: "ErrLabelLength101", in: vane.LabelInput{Name: "x", Labels: []string{ascii(vane.MaxLabelLength + 1)}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "1 to 100 characters"},
		{name: "ErrInvalidLabelLength101", in: vane.LabelInput{Name: "x", Labels: []string{"1" + ascii(vane.MaxLabelLength)}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "1 to 100 characters"},
		{name: "ErrNegativeVersion", in: vane.LabelInput{Name: "x", Version: -1, Labels: []string{"prod"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "version of at least 1"},
		{name: "ErrUnlabelNoVersion", in: vane.LabelInput{Name: "x", Labels: []string{"prod"}}, unlabel: true,
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "version of at least 1"},
		{name: "ErrInvalidName", in: vane.LabelInput{Name: "a/b", Labels: []string{"prod"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, valid, invalid, err := vane.CheckLabels(&tt.in, tt.unlabel)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if name != tt.wantName {
				t.Errorf("name = %q, want %q", name, tt.wantName)
			}
			if !reflect.DeepEqual(valid, tt.valid) {
				t.Errorf("valid = %q, want %q", valid, tt.valid)
			}
			if !reflect.DeepEqual(invalid, tt.invalid) {
				t.Errorf("invalid = %q, want %q", invalid, tt.invalid)
			}
		})
	}
}

func TestValidateTags(t *testing.T) {
	tests := []struct {
		name         string
		tags         []vane.Tag
		code, detail string
		msg          string
	}{
		{name: "None"},
		{name: "Simple", tags: []vane.Tag{{Key: "env", Value: "prod"}}},
		{name: "EmptyValue", tags: []vane.Tag{{Key: "env"}}},
		{name: "AllowedPunctuation", tags: []vane.Tag{{Key: "a_b.c:d/e=f+g-h@i j", Value: "_.:/=+-@ "}}},
		{name: "UnicodeLetters", tags: []vane.Tag{{Key: "équipe", Value: "naïve 東京 ٣"}}},
		{name: "Key128Chars", tags: []vane.Tag{{Key: wide(vane.MaxTagKeyLength), Value: "v"}}},
		{name: "Value256Chars", tags: []vane.Tag{{Key: "k", Value: wide(vane.MaxTagValueLength)}}},
		{name: "AwsWithoutColon", tags: []vane.Tag{{Key: "awsx", Value: "v"}}},
		{name: "AwsPrefixInValue", tags: []vane.Tag{{Key: "k", Value: "aws:x"}}},
		{name: "AwsPrefixLaterInKey", tags: []vane.Tag{{Key: "x:aws:", Value: "v"}}},

		{name: "ErrEmptyKey", tags: []vane.Tag{{Key: "", Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "1 to 128 characters"},
		{name: "ErrKey129Chars", tags: []vane.Tag{{Key: ascii(vane.MaxTagKeyLength + 1), Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "1 to 128 characters"},
		{name: "ErrValue257Chars", tags: []vane.Tag{{Key: "k", Value: ascii(vane.MaxTagValueLength + 1)}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "longer than 256"},
		{name: "ErrReservedKeyPrefix", tags: []vane.Tag{{Key: "aws:cloudformation", Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: `reserved prefix "aws:"`},
		{name: "ErrReservedKeyPrefixUpper", tags: []vane.Tag{{Key: "AWS:x", Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: `reserved prefix "aws:"`},
		{name: "ErrKeyBadChar", tags: []vane.Tag{{Key: "a*b", Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "only letters, digits, spaces and _.:/=+-@"},
		{name: "ErrValueBadChar", tags: []vane.Tag{{Key: "k", Value: "a#b"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "only letters, digits, spaces and _.:/=+-@"},
		{name: "ErrKeyTab", tags: []vane.Tag{{Key: "a\tb", Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "only letters, digits, spaces and _.:/=+-@"},
		{name: "ErrSecondTagBad", tags: []vane.Tag{{Key: "ok", Value: "v"}, {Key: "", Value: "v"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "1 to 128 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, vane.ValidateTags(tt.tags), tt.code, tt.detail, tt.msg)
		})
	}
}

func TestMergeTags(t *testing.T) {
	tests := []struct {
		name          string
		existing, add []vane.Tag
		want          []vane.Tag
		code, detail  string
		msg           string
	}{
		{name: "Empty", want: []vane.Tag{}},
		{name: "AddSorted", add: []vane.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}},
			want: []vane.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}},
		{name: "ReplaceExisting", existing: []vane.Tag{{Key: "a", Value: "old"}, {Key: "c", Value: "3"}}, add: []vane.Tag{{Key: "a", Value: "new"}},
			want: []vane.Tag{{Key: "a", Value: "new"}, {Key: "c", Value: "3"}}},
		{name: "LaterAddWins", add: []vane.Tag{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}},
			want: []vane.Tag{{Key: "a", Value: "2"}}},
		{name: "KeysCaseSensitive", add: []vane.Tag{{Key: "a", Value: "1"}, {Key: "A", Value: "2"}},
			want: []vane.Tag{{Key: "A", Value: "2"}, {Key: "a", Value: "1"}}},
		{name: "Exactly50", existing: tags(49), add: tags(50), want: tags(50)},
		{name: "Full50ReplaceKeepsCount", existing: tags(50), add: []vane.Tag{{Key: "k000", Value: "new"}},
			want: append([]vane.Tag{{Key: "k000", Value: "new"}}, tags(50)[1:]...)},

		{name: "ErrTooManyTags", add: tags(51),
			code: vane.ELIMIT, detail: vane.DetailTooManyTags, msg: "at most 50 tags"},
		{name: "ErrTooManyTagsAfterMerge", existing: tags(50), add: []vane.Tag{{Key: "new", Value: "v"}},
			code: vane.ELIMIT, detail: vane.DetailTooManyTags, msg: "at most 50 tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]vane.Tag(nil), tt.existing...)
			got, err := vane.MergeTags(tt.existing, tt.add)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if tt.code == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MergeTags = %v, want %v", got, tt.want)
			}
			if tt.code != "" && got != nil {
				t.Errorf("MergeTags returned %v alongside an error", got)
			}
			if !reflect.DeepEqual(tt.existing, before) && len(before) > 0 {
				t.Errorf("MergeTags changed existing: %v, was %v", tt.existing, before)
			}
		})
	}
}

func TestCheckTagInput(t *testing.T) {
	keys := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("k%d", i)
		}
		return out
	}
	tests := []struct {
		name         string
		in           vane.TagInput
		remove       bool
		want         string
		code, detail string
		msg          string
	}{
		{name: "Add", in: vane.TagInput{Name: "/x", Tags: tags(2)}, want: "x"},
		// The 50-per-resource limit is the store's (MergeTags).
		{name: "AddMoreThan50", in: vane.TagInput{Name: "/a/b", Tags: tags(60)}, want: "/a/b"},
		{name: "Remove", in: vane.TagInput{Name: "/a/b", Keys: []string{"env"}}, remove: true, want: "/a/b"},
		{name: "Remove1000", in: vane.TagInput{Name: "x", Keys: keys(vane.MaxTagsPerRequest)}, remove: true, want: "x"},

		{name: "ErrAddNoTags", in: vane.TagInput{Name: "x"},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at least one tag"},
		{name: "ErrAddKeysOnly", in: vane.TagInput{Name: "x", Keys: []string{"env"}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at least one tag"},
		{name: "ErrAddTooMany", in: vane.TagInput{Name: "x", Tags: tags(vane.MaxTagsPerRequest + 1)},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at most 1000"},
		{name: "ErrAddReservedKey", in: vane.TagInput{Name: "x", Tags: []vane.Tag{{Key: "aws:x", Value: "v"}}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: `reserved prefix "aws:"`},
		{name: "ErrAddValueTooLong", in: vane.TagInput{Name: "x", Tags: []vane.Tag{{Key: "k", Value: ascii(257)}}},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "longer than 256"},
		{name: "ErrRemoveNoKeys", in: vane.TagInput{Name: "x", Tags: tags(1)}, remove: true,
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at least one tag key"},
		{name: "ErrRemoveTooMany", in: vane.TagInput{Name: "x", Keys: keys(vane.MaxTagsPerRequest + 1)}, remove: true,
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at most 1000"},
		{name: "ErrInvalidName", in: vane.TagInput{Name: "a/b", Tags: tags(1)},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: msgQualified},
		{name: "ErrInvalidNameRemove", in: vane.TagInput{Name: "", Keys: []string{"k"}}, remove: true,
			code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptyName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.CheckTagInput(&tt.in, tt.remove)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if tt.code == "" && got != tt.want {
				t.Errorf("CheckTagInput = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckDelete(t *testing.T) {
	tests := []struct {
		name         string
		in           vane.DeleteInput
		want         string
		code, detail string
		msg          string
	}{
		{name: "Valid", in: vane.DeleteInput{Name: "/a/b"}, want: "/a/b"},
		{name: "RootCanonical", in: vane.DeleteInput{Name: "/x"}, want: "x"},
		{name: "ExpectVersion", in: vane.DeleteInput{Name: "x", ExpectVersion: ptr(int64(1))}, want: "x"},
		// Deleting reserved names is allowed: they are only refused on create.
		{name: "ReservedName", in: vane.DeleteInput{Name: "/aws/x"}, want: "/aws/x"},

		{name: "ErrExpectVersionZero", in: vane.DeleteInput{Name: "x", ExpectVersion: ptr(int64(0))},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at least 1"},
		{name: "ErrExpectVersionNegative", in: vane.DeleteInput{Name: "x", ExpectVersion: ptr(int64(-3))},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: "at least 1"},
		{name: "ErrInvalidName", in: vane.DeleteInput{Name: "/a/"},
			code: vane.EINVALID, detail: vane.DetailValidation, msg: msgEmptySegment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vane.CheckDelete(&tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if got != tt.want {
				t.Errorf("CheckDelete = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckDeleteVersion(t *testing.T) {
	tests := []struct {
		name         string
		expect       *int64
		current      int64
		code, detail string
		msg          string
	}{
		{name: "NoExpectation", current: 7},
		{name: "Match", expect: ptr(int64(7)), current: 7},
		{name: "ErrVersionMismatch", expect: ptr(int64(6)), current: 7,
			code: vane.ECONFLICT, detail: vane.DetailVersionMismatch, msg: "expected version 6, current version is 7"},
		{name: "ErrVersionMismatchAhead", expect: ptr(int64(8)), current: 7,
			code: vane.ECONFLICT, detail: vane.DetailVersionMismatch, msg: "version mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vane.CheckDeleteVersion(&vane.DeleteInput{Name: "x", ExpectVersion: tt.expect}, "x", tt.current)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
		})
	}
}

func TestVersionToken(t *testing.T) {
	for _, v := range []int64{1, 2, 99, 100, math.MaxInt64} {
		t.Run(fmt.Sprintf("RoundTrip%d", v), func(t *testing.T) {
			got, err := vane.DecodeVersionToken(vane.EncodeVersionToken(v))
			checkErr(t, err, "", "", "")
			if got != v {
				t.Errorf("DecodeVersionToken(EncodeVersionToken(%d)) = %d", v, got)
			}
		})
	}
	t.Run("EmptyIsStart", func(t *testing.T) {
		got, err := vane.DecodeVersionToken("")
		checkErr(t, err, "", "", "")
		if got != 0 {
			t.Errorf("DecodeVersionToken(\"\") = %d, want 0", got)
		}
	})
	bad := []struct{ name, tok string }{
		{"Garbage", "!!"},
		{"NotBase64URL", "djE6Pz8/"},
		{"KeyToken", vane.EncodeToken("/a/b")},
		{"EmptyKey", vane.EncodeToken("")},
		{"Zero", vane.EncodeVersionToken(0)},
		{"Negative", vane.EncodeVersionToken(-5)},
		{"Overflow", vane.EncodeToken("9223372036854775808")},
		{"Spaces", vane.EncodeToken(" 5")},
	}
	for _, tt := range bad {
		t.Run("ErrInvalidNextToken/"+tt.name, func(t *testing.T) {
			got, err := vane.DecodeVersionToken(tt.tok)
			checkErr(t, err, vane.EINVALID, vane.DetailInvalidNextToken, msgPagingToken)
			if got != 0 {
				t.Errorf("DecodeVersionToken(%q) = %d alongside an error", tt.tok, got)
			}
		})
	}
}

func TestCheckPutTruncatesEcho(t *testing.T) {
	tests := []struct {
		name         string
		in           vane.PutInput
		code, detail string
		msg          string
	}{
		{"ErrUnsupportedType", vane.PutInput{Name: "x", Value: "v", Type: vane.Type(hostile)},
			vane.EINVALID, vane.DetailUnsupportedParameterType, "use String, StringList or SecureString"},
		{"ErrInvalidTier", vane.PutInput{Name: "x", Value: "v", Tier: vane.Tier(hostile)},
			vane.EINVALID, vane.DetailValidation, "use Standard, Advanced or Intelligent-Tiering"},
		{"ErrInvalidDataType", vane.PutInput{Name: "x", Value: "v", DataType: hostile},
			vane.EINVALID, vane.DetailValidation, "use text, aws:ec2:image or aws:ssm:integration"},
		{"ErrInvalidAllowedPattern", vane.PutInput{Name: "x", Value: "v", AllowedPattern: ptr("[" + hostile[:1000])},
			vane.EINVALID, vane.DetailInvalidAllowedPattern, "not a valid regular expression"},
		{"ErrReservedTagKey", vane.PutInput{Name: "x", Value: "v", Tags: []vane.Tag{{Key: "aws:" + hostile[:120]}}},
			vane.EINVALID, vane.DetailValidation, `reserved prefix "aws:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vane.CheckPut(&tt.in)
			checkErr(t, err, tt.code, tt.detail, tt.msg)
			if msg := vane.ErrorMessage(err); len(msg) > maxMessageLen {
				t.Errorf("message is %d bytes, want at most %d: %.120q...", len(msg), maxMessageLen, msg)
			}
		})
	}
}

func TestCheckPutRejectsUnstorableText(t *testing.T) {
	bad := "a\x00b"
	for name, in := range map[string]*vane.PutInput{
		"ErrNULInValue":          {Name: "/a", Value: bad, Type: vane.TypeString},
		"ErrInvalidUTF8InValue":  {Name: "/a", Value: "a\xffb", Type: vane.TypeString},
		"ErrNULInDescription":    {Name: "/a", Value: "v", Type: vane.TypeString, Description: &bad},
		"ErrNULInAllowedPattern": {Name: "/a", Value: "v", Type: vane.TypeString, AllowedPattern: &bad},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := vane.CheckPut(in)
			if vane.ErrorCode(err) != vane.EINVALID || !strings.Contains(vane.ErrorMessage(err), "valid UTF-8 without NUL") {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := vane.CheckPut(&vane.PutInput{Name: "/a", Value: "héllo ✓", Type: vane.TypeString}); err != nil {
		t.Fatalf("valid UTF-8 rejected: %v", err)
	}
}
