package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

var putTests = []test{
	{"CreatesVersion1", testPutCreatesVersion1},
	{"SecureStringGetsDefaultKeyID", testPutSecureStringDefaultKey},
	{"OverwriteIncrementsVersion", testPutOverwriteIncrements},
	{"ErrParameterAlreadyExists", testPutErrAlreadyExists},
	{"ErrTypeRequiredOnCreate", testPutErrTypeRequired},
	{"OverwriteKeepsOmittedFields", testPutOverwriteKeepsFields},
	{"OverwriteChangesType", testPutOverwriteChangesType},
	{"ErrKeyIDForNonSecureString", testPutErrKeyIDForString},
	{"ErrUnstorableText", testPutErrUnstorableText},
	{"SlashAndNoSlashAreOneParameter", testPutRootSlash},
	{"LastModifiedUserIsPrincipal", testPutLastModifiedUser},
	{"LastModifiedIsSet", testPutLastModified},
	{"PoliciesKeptUntilReplaced", testPutPolicies},
}

// testPutPolicies: policies are stored normalized with the version, kept
// by an overwrite that gives none, replaced by one that does, removed by
// "[]", and need the Advanced tier.
func testPutPolicies(t *testing.T, s vane.Store) {
	ctx := bg(t)
	pol := `[ {"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00.000Z"}},
		{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"20","Unit":"Days"}} ]`
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/pol/std", Value: "v", Type: vane.TypeString, Policies: &pol}); vane.ErrorCode(err) != vane.EINVALID {
		t.Errorf("policies on a Standard parameter: %v, want invalid", err)
	}
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/pol/p", Value: "v1", Type: vane.TypeString, Tier: vane.TierAdvanced, Policies: &pol}); err != nil {
		t.Fatal(err)
	}
	_, want, _ := vane.ParsePolicies(pol)
	if p := mustGet(t, s, "/pol/p"); p.Policies != want || p.Tier != vane.TierAdvanced {
		t.Fatalf("stored policies %q (tier %s), want %q", p.Policies, p.Tier, want)
	}
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/pol/p", Value: "v2", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if p := mustGet(t, s, "/pol/p"); p.Policies != want {
		t.Errorf("an overwrite without policies dropped them: %q", p.Policies)
	}
	if p := mustGet(t, s, "/pol/p:1"); p.Policies != want {
		t.Errorf("version 1's policies: %q", p.Policies)
	}
	none := "[]"
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/pol/p", Value: "v3", Overwrite: true, Policies: &none}); err != nil {
		t.Fatal(err)
	}
	if p := mustGet(t, s, "/pol/p"); p.Policies != "" {
		t.Errorf("an empty list kept %q", p.Policies)
	}
	bad := `[{"Type":"Explode","Version":"1.0","Attributes":{}}]`
	if _, err := s.Put(ctx, &vane.PutInput{Name: "/pol/p", Value: "v4", Overwrite: true, Policies: &bad}); vane.ErrorDetail(err) != vane.DetailInvalidPolicyType {
		t.Errorf("an unknown policy type: %v", err)
	}
}

func testPutCreatesVersion1(t *testing.T, s vane.Store) {
	before := time.Now()
	p := create(t, s, "/app/prod/a", "hello")
	after := time.Now()
	if p.Version != 1 || p.Name != "/app/prod/a" || p.Tier != vane.TierStandard {
		t.Errorf("Put = %s, want /app/prod/a version 1 tier Standard", render(p))
	}
	g := mustGet(t, s, "/app/prod/a")
	if g.Name != "/app/prod/a" || g.Version != 1 || g.Value != "hello" || g.Type != vane.TypeString ||
		g.Tier != vane.TierStandard || g.DataType != vane.DataTypeText || g.KeyID != "" ||
		len(g.Labels) != 0 || g.Selector != "" || g.Description != "" || g.AllowedPattern != "" {
		t.Errorf("Get = %s, want version 1 of a Standard String %q with data type text and nothing else set", render(g), "hello")
	}
	if g.LastModifiedUser != suitePrincipal {
		t.Errorf("LastModifiedUser = %q, want %q", g.LastModifiedUser, suitePrincipal)
	}
	wantTimeWithin(t, "LastModified", g.LastModified, before, after)
}

func testPutSecureStringDefaultKey(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/sec/a", Value: "secret", Type: vane.TypeSecureString})
	mustPut(t, s, &vane.PutInput{Name: "/sec/b", Value: "secret", Type: vane.TypeSecureString, KeyID: "alias/mine"})
	if p := mustGet(t, s, "/sec/a"); p.Type != vane.TypeSecureString || p.KeyID != vane.DefaultKeyID {
		t.Errorf("Get(/sec/a) = %s, want a SecureString with key %q", render(p), vane.DefaultKeyID)
	}
	if p := mustGet(t, s, "/sec/b"); p.KeyID != "alias/mine" {
		t.Errorf("Get(/sec/b).KeyID = %q, want %q", p.KeyID, "alias/mine")
	}
}

func testPutOverwriteIncrements(t *testing.T, s vane.Store) {
	create(t, s, "/p", "one")
	for i, v := range []string{"two", "three"} {
		if p := overwrite(t, s, "/p", v); p.Version != int64(i+2) {
			t.Errorf("overwrite %d: version %d, want %d", i+1, p.Version, i+2)
		}
	}
	wantVersion(t, s, "/p", 3, "three")
}

func testPutErrAlreadyExists(t *testing.T, s vane.Store) {
	create(t, s, "/p", "one")
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "two", Type: vane.TypeString})
	wantErr(t, "Put of an existing name without Overwrite", err, vane.ECONFLICT, vane.DetailParameterAlreadyExists)
	wantVersion(t, s, "/p", 1, "one")
}

func testPutErrTypeRequired(t *testing.T, s vane.Store) {
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "x"})
	wantErr(t, "Put without Type on create", err, vane.EINVALID, "")
	_, err = s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "x", Overwrite: true})
	wantErr(t, "Put with Overwrite without Type on create", err, vane.EINVALID, "")
	wantNotFound(t, s, "/p")
}

func testPutOverwriteKeepsFields(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{
		Name: "/sec", Value: "first", Type: vane.TypeSecureString, KeyID: "alias/custom",
		Description: new("a description"), AllowedPattern: new("^[a-z]+$"), Tier: vane.TierAdvanced,
	})
	p := mustPut(t, s, &vane.PutInput{Name: "/sec", Value: "second", Overwrite: true})
	if p.Version != 2 || p.Tier != vane.TierAdvanced {
		t.Errorf("overwrite returned version %d tier %s, want version 2 tier Advanced", p.Version, p.Tier)
	}
	g := mustGet(t, s, "/sec")
	if g.Value != "second" || g.Type != vane.TypeSecureString || g.KeyID != "alias/custom" ||
		g.Description != "a description" || g.AllowedPattern != "^[a-z]+$" || g.Tier != vane.TierAdvanced ||
		g.DataType != vane.DataTypeText {
		t.Errorf("after overwrite: %s, want type, key, description, pattern, tier and data type kept", render(g))
	}

	const ami1, ami2 = "ami-0123456789abcdef0", "ami-12345678"
	mustPut(t, s, &vane.PutInput{Name: "/img", Value: ami1, Type: vane.TypeString, DataType: vane.DataTypeEC2Image})
	overwrite(t, s, "/img", ami2)
	if g := mustGet(t, s, "/img"); g.DataType != vane.DataTypeEC2Image || g.Value != ami2 {
		t.Errorf("after overwrite: %s, want data type %s kept", render(g), vane.DataTypeEC2Image)
	}
}

func testPutOverwriteChangesType(t *testing.T, s vane.Store) {
	create(t, s, "/p", "a,b")
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "a,b,c", Type: vane.TypeStringList, Overwrite: true})
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "s", Type: vane.TypeSecureString, Overwrite: true})
	if g := mustGet(t, s, "/p"); g.Type != vane.TypeSecureString || g.KeyID != vane.DefaultKeyID {
		t.Errorf("after overwrite as SecureString: %s, want SecureString with key %q", render(g), vane.DefaultKeyID)
	}
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "plain", Type: vane.TypeString, Overwrite: true})
	if g := mustGet(t, s, "/p"); g.Type != vane.TypeString || g.KeyID != "" {
		t.Errorf("after overwrite as String: %s, want String without key", render(g))
	}
	want := []vane.Type{vane.TypeString, vane.TypeStringList, vane.TypeSecureString, vane.TypeString}
	h := historyAll(t, s, "/p", 0)
	if len(h) != len(want) {
		t.Fatalf("History: %d versions, want %d", len(h), len(want))
	}
	for i, p := range h {
		if p.Type != want[i] {
			t.Errorf("History[%d].Type = %s, want %s", i, p.Type, want[i])
		}
	}
}

func testPutErrKeyIDForString(t *testing.T, s vane.Store) {
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, KeyID: "alias/k"})
	wantErr(t, "Put of a String with a KeyID", err, vane.EINVALID, "")
	wantNotFound(t, s, "/p")
}

func testPutRootSlash(t *testing.T, s vane.Store) {
	if p := create(t, s, "/x", "one"); p.Name != "x" {
		t.Errorf("Put(/x).Name = %q, want canonical %q", p.Name, "x")
	}
	_, err := s.Put(bg(t), &vane.PutInput{Name: "x", Value: "two", Type: vane.TypeString})
	wantErr(t, "Put(x) after Put(/x)", err, vane.ECONFLICT, vane.DetailParameterAlreadyExists)
	if p := overwrite(t, s, "x", "two"); p.Version != 2 {
		t.Errorf("overwrite of x: version %d, want 2", p.Version)
	}
	for _, sel := range []string{"x", "/x"} {
		if g := mustGet(t, s, sel); g.Name != "x" || g.Version != 2 || g.Value != "two" {
			t.Errorf("Get(%q) = %s, want x version 2", sel, render(g))
		}
	}
	wantNames(t, "ByPath(/)", byPathAll(t, s, vane.ByPathInput{Path: "/"}), "x")
}

func testPutLastModifiedUser(t *testing.T, s vane.Store) {
	if _, err := s.Put(ctxAs(t, "alice"), &vane.PutInput{Name: "/p", Value: "one", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctxAs(t, "bob"), &vane.PutInput{Name: "/p", Value: "two", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), &vane.PutInput{Name: "/p", Value: "three", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if g := mustGet(t, s, "/p"); g.LastModifiedUser != vane.AnonymousPrincipal {
		t.Errorf("LastModifiedUser after a put without principal = %q, want %q", g.LastModifiedUser, vane.AnonymousPrincipal)
	}
	want := []string{"alice", "bob", vane.AnonymousPrincipal}
	for i, p := range historyAll(t, s, "/p", 0) {
		if i < len(want) && p.LastModifiedUser != want[i] {
			t.Errorf("History[%d].LastModifiedUser = %q, want %q", i, p.LastModifiedUser, want[i])
		}
	}
}

// testPutErrUnstorableText checks that every backend refuses what some
// could not store (NUL bytes, invalid UTF-8) the same way, before writing.
func testPutErrUnstorableText(t *testing.T, s vane.Store) {
	ctx := context.Background()
	for _, v := range []string{"a\x00b", "a\xffb"} {
		_, err := s.Put(ctx, &vane.PutInput{Name: "/p", Value: v, Type: vane.TypeString})
		wantErr(t, "Put of an unstorable value", err, vane.EINVALID, vane.DetailValidation)
	}
	if _, err := s.Get(ctx, "/p"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Fatalf("a rejected put left a parameter behind: %v", err)
	}
}

func testPutLastModified(t *testing.T, s vane.Store) {
	before := time.Now()
	create(t, s, "/p", "one")
	mid := time.Now()
	overwrite(t, s, "/p", "two")
	after := time.Now()
	h := historyAll(t, s, "/p", 0)
	if len(h) != 2 {
		t.Fatalf("History: %d versions, want 2", len(h))
	}
	wantTimeWithin(t, "version 1 LastModified", h[0].LastModified, before, mid)
	wantTimeWithin(t, "version 2 LastModified", h[1].LastModified, mid, after)
	if h[1].LastModified.Before(h[0].LastModified) {
		t.Errorf("version 2 LastModified %v is before version 1's %v", h[1].LastModified, h[0].LastModified)
	}
	if g := mustGet(t, s, "/p"); !g.LastModified.Equal(h[1].LastModified) {
		t.Errorf("Get LastModified %v, History says %v", g.LastModified, h[1].LastModified)
	}
}

var getTests = []test{
	{"ByVersionSelector", testGetByVersion},
	{"ByLabelSelector", testGetByLabel},
	{"ByARN", testGetByARN},
	{"ErrParameterNotFound", testGetErrNotFound},
	{"ErrParameterNotFoundForUnknownLabel", testGetErrUnknownLabel},
	{"ErrParameterVersionNotFound", testGetErrVersionNotFound},
	{"ErrInvalidSelector", testGetErrInvalid},
}

func testGetByVersion(t *testing.T, s vane.Store) {
	createVersions(t, s, "/s/p", 3)
	for v := int64(1); v <= 3; v++ {
		sel := fmt.Sprintf("/s/p:%d", v)
		g := mustGet(t, s, sel)
		if g.Name != "/s/p" || g.Version != v || g.Value != fmt.Sprintf("v%d", v) || g.Selector != fmt.Sprintf(":%d", v) {
			t.Errorf("Get(%q) = %s, want version %d with selector %q", sel, render(g), v, fmt.Sprintf(":%d", v))
		}
	}
	if g := mustGet(t, s, "/s/p"); g.Selector != "" {
		t.Errorf("Get without selector: Selector = %q, want empty", g.Selector)
	}
}

func testGetByLabel(t *testing.T, s vane.Store) {
	createVersions(t, s, "/s/p", 2)
	mustLabel(t, s, "/s/p", 1, "prod")
	g := mustGet(t, s, "/s/p:prod")
	if g.Version != 1 || g.Value != "v1" || g.Selector != ":prod" {
		t.Errorf("Get(/s/p:prod) = %s, want version 1 with selector %q", render(g), ":prod")
	}
	wantLabels(t, "Get(/s/p:prod)", g.Labels, []string{"prod"})
	if g := mustGet(t, s, "/s/p"); g.Version != 2 || len(g.Labels) != 0 {
		t.Errorf("Get(/s/p) = %s, want unlabelled version 2", render(g))
	}
}

func testGetByARN(t *testing.T, s vane.Store) {
	arn := vane.ARNPrefix(vane.DefaultRegion, vane.DefaultAccount)
	createVersions(t, s, "/a/b", 2)
	create(t, s, "root", "r")
	if g := mustGet(t, s, arn+"a/b"); g.Name != "/a/b" || g.Version != 2 {
		t.Errorf("Get(ARN of /a/b) = %s, want /a/b version 2", render(g))
	}
	if g := mustGet(t, s, arn+"a/b:1"); g.Name != "/a/b" || g.Version != 1 || g.Selector != ":1" {
		t.Errorf("Get(ARN of /a/b:1) = %s, want /a/b version 1 selector :1", render(g))
	}
	if g := mustGet(t, s, arn+"root"); g.Name != "root" || g.Value != "r" {
		t.Errorf("Get(ARN of root) = %s, want root", render(g))
	}
	_, err := s.Get(bg(t), arn+"a/missing")
	wantErr(t, "Get(ARN of a missing name)", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
}

func testGetErrNotFound(t *testing.T, s vane.Store) {
	create(t, s, "/other", "x")
	for _, sel := range []string{"/missing", "missing", "/a/missing", "/missing:1", "/missing:prod", "/aws/reserved"} {
		_, err := s.Get(bg(t), sel)
		wantErr(t, fmt.Sprintf("Get(%q)", sel), err, vane.ENOTFOUND, vane.DetailParameterNotFound)
	}
}

func testGetErrUnknownLabel(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	mustLabel(t, s, "/p", 1, "prod")
	_, err := s.Get(bg(t), "/p:staging")
	wantErr(t, "Get with an unknown label", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
}

func testGetErrVersionNotFound(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 2)
	for _, sel := range []string{"/p:3", "/p:99"} {
		_, err := s.Get(bg(t), sel)
		wantErr(t, fmt.Sprintf("Get(%q)", sel), err, vane.ENOTFOUND, vane.DetailParameterVersionNotFound)
	}
}

func testGetErrInvalid(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	for _, sel := range []string{"", "/p:", "/p:0", "/p:1:2", "/p:aws-label", "a/b", "/bad name"} {
		_, err := s.Get(bg(t), sel)
		wantErr(t, fmt.Sprintf("Get(%q)", sel), err, vane.EINVALID, "")
	}
}

var tierTests = []test{
	{"StandardAllows4096Chars", testTierStandardMax},
	{"ErrStandardValueTooLarge", testTierErrStandardTooLarge},
	{"AdvancedAllows8192Chars", testTierAdvancedMax},
	{"ErrAdvancedValueTooLarge", testTierErrAdvancedTooLarge},
	{"MultiByteCharactersCountAsOne", testTierMultiByte},
	{"IntelligentTieringPicksTier", testTierIntelligent},
	{"StandardMovesToAdvanced", testTierStandardToAdvanced},
	{"ErrAdvancedToStandard", testTierErrAdvancedToStandard},
	{"OverwriteKeepsAdvanced", testTierOverwriteKeepsAdvanced},
}

func testTierStandardMax(t *testing.T, s vane.Store) {
	v := strings.Repeat("a", vane.MaxStandardValueLength)
	if p := create(t, s, "/p", v); p.Tier != vane.TierStandard {
		t.Errorf("tier %s, want Standard", p.Tier)
	}
	wantVersion(t, s, "/p", 1, v)
	if g := mustGet(t, s, "/p"); g.Tier != vane.TierStandard {
		t.Errorf("Get tier %s, want Standard", g.Tier)
	}
}

func testTierErrStandardTooLarge(t *testing.T, s vane.Store) {
	big := strings.Repeat("a", vane.MaxStandardValueLength+1)
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: big, Type: vane.TypeString})
	wantErr(t, "create with 4097 characters", err, vane.ETOOLARGE, "")
	_, err = s.Put(bg(t), &vane.PutInput{Name: "/p", Value: big, Type: vane.TypeString, Tier: vane.TierStandard})
	wantErr(t, "create with 4097 characters, Tier Standard", err, vane.ETOOLARGE, "")
	wantNotFound(t, s, "/p")
	create(t, s, "/q", "small")
	_, err = s.Put(bg(t), &vane.PutInput{Name: "/q", Value: big, Overwrite: true})
	wantErr(t, "overwrite with 4097 characters", err, vane.ETOOLARGE, "")
	wantVersion(t, s, "/q", 1, "small")
}

func testTierAdvancedMax(t *testing.T, s vane.Store) {
	v := strings.Repeat("a", vane.MaxAdvancedValueLength)
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: v, Type: vane.TypeString, Tier: vane.TierAdvanced})
	if p.Tier != vane.TierAdvanced {
		t.Errorf("tier %s, want Advanced", p.Tier)
	}
	wantVersion(t, s, "/p", 1, v)
	if g := mustGet(t, s, "/p"); g.Tier != vane.TierAdvanced {
		t.Errorf("Get tier %s, want Advanced", g.Tier)
	}
}

func testTierErrAdvancedTooLarge(t *testing.T, s vane.Store) {
	big := strings.Repeat("a", vane.MaxAdvancedValueLength+1)
	for _, tier := range []vane.Tier{vane.TierAdvanced, vane.TierIntelligent} {
		_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: big, Type: vane.TypeString, Tier: tier})
		wantErr(t, fmt.Sprintf("create with 8193 characters, Tier %s", tier), err, vane.ETOOLARGE, "")
	}
	wantNotFound(t, s, "/p")
}

func testTierMultiByte(t *testing.T, s vane.Store) {
	// 4096 two-byte characters are 8192 bytes: within Standard's limit,
	// which counts characters.
	v := strings.Repeat("é", vane.MaxStandardValueLength)
	if p := create(t, s, "/p", v); p.Tier != vane.TierStandard {
		t.Errorf("tier %s, want Standard", p.Tier)
	}
	wantVersion(t, s, "/p", 1, v)
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/q", Value: v + "é", Type: vane.TypeString})
	wantErr(t, "create with 4097 two-byte characters", err, vane.ETOOLARGE, "")
	// Three- and four-byte characters at the Advanced limit.
	adv := strings.Repeat("€", vane.MaxAdvancedValueLength/2) + strings.Repeat("😀", vane.MaxAdvancedValueLength/2)
	mustPut(t, s, &vane.PutInput{Name: "/adv", Value: adv, Type: vane.TypeString, Tier: vane.TierAdvanced})
	wantVersion(t, s, "/adv", 1, adv)
}

func testTierIntelligent(t *testing.T, s vane.Store) {
	small := mustPut(t, s, &vane.PutInput{Name: "/small", Value: strings.Repeat("a", vane.MaxStandardValueLength), Type: vane.TypeString, Tier: vane.TierIntelligent})
	if small.Tier != vane.TierStandard {
		t.Errorf("Intelligent-Tiering with 4096 characters: tier %s, want Standard", small.Tier)
	}
	big := mustPut(t, s, &vane.PutInput{Name: "/big", Value: strings.Repeat("a", vane.MaxStandardValueLength+1), Type: vane.TypeString, Tier: vane.TierIntelligent})
	if big.Tier != vane.TierAdvanced {
		t.Errorf("Intelligent-Tiering with 4097 characters: tier %s, want Advanced", big.Tier)
	}
	if g := mustGet(t, s, "/big"); g.Tier != vane.TierAdvanced {
		t.Errorf("Get(/big) tier %s, want Advanced", g.Tier)
	}
	// A Standard parameter grows into Advanced when asked to.
	p := mustPut(t, s, &vane.PutInput{Name: "/small", Value: strings.Repeat("b", vane.MaxStandardValueLength+1), Tier: vane.TierIntelligent, Overwrite: true})
	if p.Tier != vane.TierAdvanced {
		t.Errorf("Intelligent-Tiering overwrite with 4097 characters: tier %s, want Advanced", p.Tier)
	}
}

func testTierStandardToAdvanced(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "y", Tier: vane.TierAdvanced, Overwrite: true})
	if p.Tier != vane.TierAdvanced {
		t.Errorf("tier %s, want Advanced", p.Tier)
	}
	if h := historyAll(t, s, "/p", 0); len(h) != 2 || h[0].Tier != vane.TierStandard || h[1].Tier != vane.TierAdvanced {
		t.Errorf("History tiers: want Standard then Advanced, got %d versions", len(h))
		for _, v := range h {
			t.Logf("  %s", render(v))
		}
	}
}

func testTierErrAdvancedToStandard(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tier: vane.TierAdvanced})
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "y", Tier: vane.TierStandard, Overwrite: true})
	wantErr(t, "overwrite of an Advanced parameter with Tier Standard", err, vane.EINVALID, "")
	wantVersion(t, s, "/p", 1, "x")
}

func testTierOverwriteKeepsAdvanced(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString, Tier: vane.TierAdvanced})
	for i, tier := range []vane.Tier{"", vane.TierIntelligent, vane.TierAdvanced} {
		p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "small", Tier: tier, Overwrite: true})
		if p.Tier != vane.TierAdvanced {
			t.Errorf("overwrite with Tier %q: tier %s, want Advanced", tier, p.Tier)
		}
		if g := mustGet(t, s, "/p"); g.Tier != vane.TierAdvanced || g.Version != int64(i+2) {
			t.Errorf("after overwrite with Tier %q: %s, want Advanced version %d", tier, render(g), i+2)
		}
	}
}

var patternTests = []test{
	{"ErrParameterPatternMismatch", testPatternMismatch},
	{"ErrInvalidAllowedPattern", testPatternInvalid},
	{"PatternKeptAndEnforcedOnOverwrite", testPatternKept},
}

func testPatternMismatch(t *testing.T, s vane.Store) {
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "abc", Type: vane.TypeString, AllowedPattern: new(`^\d+$`)})
	wantErr(t, "create with a value not matching its pattern", err, vane.EINVALID, vane.DetailParameterPatternMismatch)
	wantNotFound(t, s, "/p")
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "123", Type: vane.TypeString, AllowedPattern: new(`^\d+$`)})
	if g := mustGet(t, s, "/p"); p.Version != 1 || g.AllowedPattern != `^\d+$` {
		t.Errorf("Get = %s, want version 1 with pattern %q", render(g), `^\d+$`)
	}
}

func testPatternInvalid(t *testing.T, s vane.Store) {
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "abc", Type: vane.TypeString, AllowedPattern: new(`^(abc$`)})
	wantErr(t, "create with an invalid pattern", err, vane.EINVALID, vane.DetailInvalidAllowedPattern)
	wantNotFound(t, s, "/p")
	create(t, s, "/q", "abc")
	_, err = s.Put(bg(t), &vane.PutInput{Name: "/q", Value: "abc", AllowedPattern: new(`[`), Overwrite: true})
	wantErr(t, "overwrite with an invalid pattern", err, vane.EINVALID, vane.DetailInvalidAllowedPattern)
	wantVersion(t, s, "/q", 1, "abc")
}

func testPatternKept(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "1", Type: vane.TypeString, AllowedPattern: new(`^\d+$`)})
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "one", Overwrite: true})
	wantErr(t, "overwrite not matching the kept pattern", err, vane.EINVALID, vane.DetailParameterPatternMismatch)
	wantVersion(t, s, "/p", 1, "1")
	if p := overwrite(t, s, "/p", "2"); p.Version != 2 {
		t.Errorf("matching overwrite: version %d, want 2", p.Version)
	}
	if g := mustGet(t, s, "/p"); g.AllowedPattern != `^\d+$` {
		t.Errorf("pattern after overwrite %q, want kept %q", g.AllowedPattern, `^\d+$`)
	}
	// A new pattern replaces the old one and applies to the same put.
	mustPut(t, s, &vane.PutInput{Name: "/p", Value: "word", AllowedPattern: new(`^[a-z]+$`), Overwrite: true})
	_, err = s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "3", Overwrite: true})
	wantErr(t, "overwrite not matching the replaced pattern", err, vane.EINVALID, vane.DetailParameterPatternMismatch)
	wantVersion(t, s, "/p", 3, "word")
}

var nameTests = []test{
	{"ErrInvalidName", testNameInvalid},
	{"ErrHierarchyLevelLimitExceeded", testNameLevels},
	{"ErrNameTooLong", testNameTooLong},
	{"ErrReservedPrefix", testNameReserved},
	{"ReservedWordsAllowedElsewhere", testNameReservedElsewhere},
}

func testNameInvalid(t *testing.T, s vane.Store) {
	create(t, s, "/ok/p", "x")
	before := storeState(t, s)
	for _, name := range []string{"", "/", "a b", "/a b", "a$b", "/a/b*", "a:b", "/é", "a/b", "/a//b", "/a/", "/ok/p/"} {
		_, err := s.Put(bg(t), &vane.PutInput{Name: name, Value: "x", Type: vane.TypeString})
		wantErr(t, fmt.Sprintf("Put(%q)", name), err, vane.EINVALID, "")
		_, err = s.Put(bg(t), &vane.PutInput{Name: name, Value: "x", Type: vane.TypeString, Overwrite: true})
		wantErr(t, fmt.Sprintf("Put(%q) with Overwrite", name), err, vane.EINVALID, "")
	}
	wantUnchanged(t, s, "puts with invalid names", before)
}

func testNameLevels(t *testing.T, s vane.Store) {
	seg := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "/l%d", i)
		}
		return b.String()
	}
	ok := seg(vane.MaxHierarchyLevels)
	create(t, s, ok, "x")
	before := storeState(t, s)
	_, err := s.Put(bg(t), &vane.PutInput{Name: seg(vane.MaxHierarchyLevels + 1), Value: "x", Type: vane.TypeString})
	wantErr(t, "Put of a 16-level name", err, vane.EINVALID, vane.DetailHierarchyLevelLimitExceeded)
	wantUnchanged(t, s, "the rejected put", before)
	wantVersion(t, s, ok, 1, "x")
}

func testNameTooLong(t *testing.T, s vane.Store) {
	// The name's length counts over its ARN, without the leading slash.
	room := vane.MaxNameARNLength - len(vane.ARNPrefix(vane.DefaultRegion, vane.DefaultAccount))
	longest := "/n/" + strings.Repeat("a", room-2)
	create(t, s, longest, "x")
	before := storeState(t, s)
	_, err := s.Put(bg(t), &vane.PutInput{Name: longest + "a", Value: "x", Type: vane.TypeString})
	wantErr(t, "Put of a name one character too long", err, vane.EINVALID, "")
	wantUnchanged(t, s, "the rejected put", before)
	wantVersion(t, s, longest, 1, "x")
}

func testNameReserved(t *testing.T, s vane.Store) {
	create(t, s, "/ok", "x")
	before := storeState(t, s)
	for _, name := range []string{"awsx", "/awsx", "AWS-x", "ssm", "/SSMparam", "/ssm/x", "/Ssm/a/b"} {
		_, err := s.Put(bg(t), &vane.PutInput{Name: name, Value: "x", Type: vane.TypeString})
		wantErr(t, fmt.Sprintf("Put(%q)", name), err, vane.EINVALID, vane.DetailValidation)
	}
	// vane.ValidateNewName answers a hierarchy under /aws as AWS does:
	// access denied.
	for _, name := range []string{"/aws/x", "/AWS/x/y", "/awsome/x"} {
		_, err := s.Put(bg(t), &vane.PutInput{Name: name, Value: "x", Type: vane.TypeString})
		wantErr(t, fmt.Sprintf("Put(%q)", name), err, vane.EFORBIDDEN, vane.DetailReservedName)
	}
	wantUnchanged(t, s, "puts with reserved names", before)
}

func testNameReservedElsewhere(t *testing.T, s vane.Store) {
	for _, name := range []string{"/app/aws", "/app/ssm/x", "myaws", "/x-ssm"} {
		create(t, s, name, "x")
		wantVersion(t, s, name, 1, "x")
	}
}

var casTests = []test{
	{"ExpectVersionMatches", testCASMatch},
	{"ErrVersionMismatch", testCASMismatch},
	{"ExpectVersionZeroCreates", testCASZero},
	{"ExpectVersionImpliesOverwrite", testCASImpliesOverwrite},
	{"ErrVersionMismatchOnMissing", testCASMissing},
	{"DeleteExpectVersion", testCASDelete},
}

func testCASMatch(t *testing.T, s vane.Store) {
	create(t, s, "/p", "v1")
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "v2", Overwrite: true, ExpectVersion: new(int64(1))})
	if p.Version != 2 {
		t.Errorf("version %d, want 2", p.Version)
	}
}

func testCASMismatch(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 2)
	before := storeState(t, s)
	for _, v := range []int64{0, 1, 3} {
		_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "x", Overwrite: true, ExpectVersion: new(v)})
		wantErr(t, fmt.Sprintf("Put expecting version %d of a parameter at version 2", v), err, vane.ECONFLICT, vane.DetailVersionMismatch)
	}
	wantUnchanged(t, s, "puts with a mismatched ExpectVersion", before)
}

func testCASZero(t *testing.T, s vane.Store) {
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "v1", Type: vane.TypeString, ExpectVersion: new(int64(0))})
	if p.Version != 1 {
		t.Errorf("version %d, want 1", p.Version)
	}
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "v2", Type: vane.TypeString, Overwrite: true, ExpectVersion: new(int64(0))})
	wantErr(t, "Put expecting version 0 of an existing parameter", err, vane.ECONFLICT, vane.DetailVersionMismatch)
	wantVersion(t, s, "/p", 1, "v1")
}

func testCASImpliesOverwrite(t *testing.T, s vane.Store) {
	create(t, s, "/p", "v1")
	p := mustPut(t, s, &vane.PutInput{Name: "/p", Value: "v2", ExpectVersion: new(int64(1))})
	if p.Version != 2 {
		t.Errorf("Put expecting version 1 without Overwrite: version %d, want 2", p.Version)
	}
	wantVersion(t, s, "/p", 2, "v2")
}

func testCASMissing(t *testing.T, s vane.Store) {
	_, err := s.Put(bg(t), &vane.PutInput{Name: "/p", Value: "v1", Type: vane.TypeString, Overwrite: true, ExpectVersion: new(int64(1))})
	wantErr(t, "Put expecting version 1 of a missing parameter", err, vane.ECONFLICT, vane.DetailVersionMismatch)
	wantNotFound(t, s, "/p")
}

func testCASDelete(t *testing.T, s vane.Store) {
	createVersions(t, s, "/p", 2)
	before := storeState(t, s)
	for _, v := range []int64{1, 3} {
		err := s.Delete(bg(t), &vane.DeleteInput{Name: "/p", ExpectVersion: new(v)})
		wantErr(t, fmt.Sprintf("Delete expecting version %d of a parameter at version 2", v), err, vane.ECONFLICT, vane.DetailVersionMismatch)
	}
	wantUnchanged(t, s, "deletes with a mismatched ExpectVersion", before)
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/p", ExpectVersion: new(int64(2))}); err != nil {
		t.Fatalf("Delete expecting the current version: %v", err)
	}
	wantNotFound(t, s, "/p")
}

var deleteTests = []test{
	{"RemovesEverything", testDeleteRemoves},
	{"RootNameWithOrWithoutSlash", testDeleteRootSlash},
	{"ErrNotFound", testDeleteErrNotFound},
}

func testDeleteRemoves(t *testing.T, s vane.Store) {
	mustPut(t, s, &vane.PutInput{Name: "/d/p", Value: "v1", Type: vane.TypeString, Tags: []vane.Tag{{Key: "k", Value: "v"}}})
	overwrite(t, s, "/d/p", "v2")
	mustLabel(t, s, "/d/p", 1, "old")
	create(t, s, "/d/q", "other")
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/d/p"}); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "/d/p")
	_, err := s.Get(bg(t), "/d/p:1")
	wantErr(t, "Get(/d/p:1) after delete", err, vane.ENOTFOUND, vane.DetailParameterNotFound)
	_, err = s.History(bg(t), &vane.HistoryInput{Name: "/d/p"})
	wantErr(t, "History after delete", err, vane.ENOTFOUND, "")
	_, err = s.Tags(bg(t), "/d/p")
	wantErr(t, "Tags after delete", err, vane.ENOTFOUND, vane.DetailInvalidResourceID)
	wantNames(t, "ByPath(/d)", byPathAll(t, s, vane.ByPathInput{Path: "/d"}), "/d/q")
	wantNames(t, "Describe", describeAll(t, s, vane.DescribeInput{}), "/d/q")
	wantVersion(t, s, "/d/q", 1, "other")
}

func testDeleteRootSlash(t *testing.T, s vane.Store) {
	create(t, s, "/x", "1")
	create(t, s, "y", "2")
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "x"}); err != nil {
		t.Errorf("Delete(x) after Put(/x): %v", err)
	}
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/y"}); err != nil {
		t.Errorf("Delete(/y) after Put(y): %v", err)
	}
	wantNotFound(t, s, "x")
	wantNotFound(t, s, "y")
}

func testDeleteErrNotFound(t *testing.T, s vane.Store) {
	create(t, s, "/p", "x")
	before := storeState(t, s)
	err := s.Delete(bg(t), &vane.DeleteInput{Name: "/missing"})
	wantErr(t, "Delete of a missing parameter", err, vane.ENOTFOUND, "")
	// The contract does not say whether a compare-and-set delete of a
	// missing parameter is not found or a version mismatch; it must fail.
	if err := s.Delete(bg(t), &vane.DeleteInput{Name: "/missing", ExpectVersion: new(int64(1))}); err == nil {
		t.Error("Delete expecting version 1 of a missing parameter: got no error")
	}
	wantUnchanged(t, s, "deletes of a missing parameter", before)
}
