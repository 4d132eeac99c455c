package flag_test

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vflag "github.com/vanehq/vane/flag"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, name, doc string) *vflag.Flag {
	t.Helper()
	f, err := vflag.Parse(name, doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return f
}

func TestEvaluate(t *testing.T) {
	const seeds = `{"enabled": true, "rollout_percentage": 100, "allowed_regions": ["eu-west-1"],
		"excluded_user_ids": ["u-banned"], "allowed_user_ids": ["u-beta"], "fallback_on_error": false,
		"metadata": {"team": "payments"}}`
	tests := []struct {
		name, doc string
		ctx       vflag.Context
		value     any
		variant   string
		reason    vflag.Reason
		rule      string
	}{
		{"BareTrue", `true`, nil, true, "on", vflag.ReasonStatic, ""},
		{"BareFalse", " false\n", nil, false, "off", vflag.ReasonStatic, ""},
		{"DocumentWithoutTargeting", `{"enabled": true}`, nil, true, "on", vflag.ReasonStatic, ""},
		{"KillSwitch", `{"enabled": false, "allowed_user_ids": ["u1"]}`, vflag.Context{"user_id": "u1"}, false, "off", vflag.ReasonDisabled, ""},
		{"Excluded", seeds, vflag.Context{"user_id": "u-banned", "region": "eu-west-1"}, false, "off", vflag.ReasonTargetingMatch, "excluded_user_ids"},
		{"AllowedUserAnyRegion", seeds, vflag.Context{"targetingKey": "u-beta", "region": "us-east-1"}, true, "on", vflag.ReasonTargetingMatch, "allowed_user_ids"},
		{"RegionNotAllowed", seeds, vflag.Context{"user_id": "u1", "region": "us-east-1"}, false, "off", vflag.ReasonTargetingMatch, "allowed_regions"},
		{"RegionMissing", seeds, vflag.Context{"user_id": "u1"}, false, "off", vflag.ReasonTargetingMatch, "allowed_regions"},
		{"InRollout", seeds, vflag.Context{"user_id": "u1", "region": "eu-west-1"}, true, "on", vflag.ReasonSplit, "rollout_percentage"},
		{"ZeroRollout", `{"rollout_percentage": 0}`, vflag.Context{"user_id": "u1"}, false, "off", vflag.ReasonSplit, "rollout_percentage"},
		{"RolloutWithoutSubject", `{"rollout_percentage": 100}`, vflag.Context{}, nil, "", vflag.ReasonError, ""},
		{"RolloutWithoutSubjectFallback", `{"rollout_percentage": 100, "fallback_on_error": false}`, vflag.Context{}, false, "off", vflag.ReasonError, ""},
		{"RuleMatches", `{"default": false, "rules": [{"name": "premium", "when_match": true,
			"conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}]}`,
			vflag.Context{"tier": "premium"}, true, "on", vflag.ReasonTargetingMatch, "premium"},
		{"NoRuleMatches", `{"default": false, "rules": [{"name": "premium", "when_match": true,
			"conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}]}`,
			vflag.Context{"tier": "basic"}, false, "off", vflag.ReasonDefault, ""},
		{"PowertoolsRuleObject", `{"default": false, "rules": {"tier equals premium": {"when_match": true,
			"conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}}}`,
			vflag.Context{"tier": "premium"}, true, "on", vflag.ReasonTargetingMatch, "tier equals premium"},
		{"FirstMatchingRuleWins", `{"variants": {"a": "A", "b": "B", "c": "C"}, "default_variant": "c", "rules": [
			{"name": "r1", "variant": "a", "conditions": [{"action": "EQUALS", "key": "x", "value": 1}]},
			{"name": "r2", "variant": "b", "conditions": [{"action": "KEY_GREATER_THAN_VALUE", "key": "x", "value": 0}]}]}`,
			vflag.Context{"x": 1.0}, "A", "a", vflag.ReasonTargetingMatch, "r1"},
		{"SecondRule", `{"variants": {"a": "A", "b": "B", "c": "C"}, "default_variant": "c", "rules": [
			{"name": "r1", "variant": "a", "conditions": [{"action": "EQUALS", "key": "x", "value": 1}]},
			{"name": "r2", "variant": "b", "conditions": [{"action": "KEY_GREATER_THAN_VALUE", "key": "x", "value": 0}]}]}`,
			vflag.Context{"x": 5.0}, "B", "b", vflag.ReasonTargetingMatch, "r2"},
		{"RuleRolloutFull", `{"default": false, "rules": [{"name": "staff", "when_match": true, "rollout_percentage": 100,
			"conditions": [{"action": "ENDSWITH", "key": "email", "value": "@example.com"}]}]}`,
			vflag.Context{"email": "a@example.com", "user_id": "u1"}, true, "on", vflag.ReasonSplit, "staff"},
		{"NumberVariants", `{"variants": {"low": 10, "high": 100}, "default_variant": "low", "off_variant": "low"}`,
			nil, 10.0, "low", vflag.ReasonStatic, ""},
		{"ObjectVariantDisabled", `{"enabled": false, "variants": {"v1": {"color": "red"}, "v0": {"color": "grey"}},
			"default_variant": "v1", "off_variant": "v0"}`, nil, map[string]any{"color": "grey"}, "v0", vflag.ReasonDisabled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, "/app/prod/features/x", tt.doc)
			r := f.Evaluate(tt.ctx, now)
			if fmt.Sprint(r.Value) != fmt.Sprint(tt.value) || r.Variant != tt.variant || r.Reason != tt.reason || r.Rule != tt.rule {
				t.Errorf("Evaluate = {%v %q %s %q}, want {%v %q %s %q}", r.Value, r.Variant, r.Reason, r.Rule, tt.value, tt.variant, tt.reason, tt.rule)
			}
		})
	}
	f := mustParse(t, "/app/prod/features/x", seeds)
	if r := f.Evaluate(vflag.Context{"user_id": "u1", "region": "eu-west-1"}, now); r.Metadata["team"] != "payments" {
		t.Errorf("metadata = %v", r.Metadata)
	}
	if v, ok := f.Fallback(); !ok || v != false {
		t.Errorf("Fallback() = %v, %v", v, ok)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, doc, path, message string }{
		{"NotJSON", `yes`, "$", "true, false or a JSON object"},
		{"List", `[true]`, "$", "JSON object"},
		{"UnknownField", `{"rollout_percentag": 5}`, "$.rollout_percentag", "unknown field"},
		{"EnabledNotBool", `{"enabled": "true"}`, "$.enabled", "true or false"},
		{"PercentOver100", `{"rollout_percentage": 100.5}`, "$.rollout_percentage", "not from 0 to 100"},
		{"PercentNegative", `{"rollout_percentage": -1}`, "$.rollout_percentage", "not from 0 to 100"},
		{"PercentFourDecimals", `{"rollout_percentage": 12.3456}`, "$.rollout_percentage", "three decimals"},
		{"PercentString", `{"rollout_percentage": "5"}`, "$.rollout_percentage", "number from 0 to 100"},
		{"RegionsNotList", `{"allowed_regions": "eu-west-1"}`, "$.allowed_regions", "list of strings"},
		{"RegionsEmpty", `{"allowed_regions": []}`, "$.allowed_regions", "no region"},
		{"AllowedAndExcluded", `{"allowed_user_ids": ["u1"], "excluded_user_ids": ["u1"]}`, "$.allowed_user_ids", "also in excluded"},
		{"MixedVariantKinds", `{"variants": {"a": "x", "b": 2}, "default_variant": "a"}`, "$.variants.b", "all variants must be of one kind"},
		{"NullVariant", `{"variants": {"a": null}, "default_variant": "a"}`, "$.variants.a", "null"},
		{"UnknownDefaultVariant", `{"variants": {"a": "x"}, "default_variant": "b"}`, "$.default_variant", `"b" is not a variant`},
		{"DefaultWrongKind", `{"default": "off", "rules": []}`, "$.default", "kind boolean"},
		{"RulesWithoutDefault", `{"rules": [{"when_match": true, "conditions": []}]}`, "$", "needs default"},
		{"FallbackWrongKind", `{"fallback_on_error": "false"}`, "$.fallback_on_error", "kind boolean"},
		{"RuleWithoutValue", `{"default": false, "rules": [{"name": "r", "conditions": []}]}`, "$.rules[0]", "needs variant"},
		{"RuleUnknownVariant", `{"default": false, "rules": [{"variant": "maybe"}]}`, "$.rules[0].variant", "not a variant"},
		{"RuleWhenMatchWrongKind", `{"default": false, "rules": [{"when_match": "yes"}]}`, "$.rules[0].when_match", "kind boolean"},
		{"RuleUnknownField", `{"default": false, "rules": [{"when_match": true, "condition": []}]}`, "$.rules[0].condition", "unknown field"},
		{"RuleAfterCatchAll", `{"default": false, "rules": [{"when_match": true}, {"when_match": false}]}`, "$.rules[1]", "never match"},
		{"RuleZeroRollout", `{"default": false, "rules": [{"when_match": true, "rollout_percentage": 0}]}`, "$.rules[0].rollout_percentage", "never match"},
		{"DuplicateRuleNames", `{"default": false, "rules": [{"name": "a", "when_match": true, "rollout_percentage": 5}, {"name": "a", "when_match": true}]}`, "$.rules[1].name", "another rule"},
		{"ConditionsNotList", `{"default": false, "rules": [{"when_match": true, "conditions": {}}]}`, "$.rules[0].conditions", "a list"},
		{"ConditionWithoutAction", `{"default": false, "rules": [{"when_match": true, "conditions": [{"key": "a", "value": 1}]}]}`, "$.rules[0].conditions[0]", "needs an action"},
		{"ConditionUnknownField", `{"default": false, "rules": [{"when_match": true, "conditions": [{"action": "EQUALS", "key": "a", "valeu": 1}]}]}`, "$.rules[0].conditions[0].valeu", "unknown field"},
		{"PowertoolsDuplicateRule", `{"default": false, "rules": {"a": {"when_match": true}, "a": {"when_match": false}}}`, "$.rules.a", "twice"},
		{"ExpiresNotDate", `{"expires": "next week"}`, "$.expires", "not a date"},
		{"MetadataNotObject", `{"metadata": [1]}`, "$.metadata", "JSON object"},
		{"VariantsNeedOff", `{"variants": {"a": "x", "b": "y"}, "default_variant": "a", "rollout_percentage": 5, "on_variant": "b"}`, "$.off_variant", "off variant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vflag.Parse("/app/features/x", tt.doc)
			fe, ok := err.(*vflag.Error)
			if !ok {
				t.Fatalf("Parse(%s) = %v, want a *flag.Error", tt.doc, err)
			}
			if fe.Path != tt.path || !strings.Contains(fe.Message, tt.message) {
				t.Errorf("Parse(%s) = %q at %s, want %q at %s", tt.doc, fe.Message, fe.Path, tt.message, tt.path)
			}
		})
	}
}

func TestIsFlagName(t *testing.T) {
	for name, want := range map[string]bool{
		"/myapp/prod/features/new-checkout": true,
		"/features/x":                       true,
		"/a/features/group/x":               true,
		"/myapp/prod/tuning/x":              false,
		"/myapp/prod/features":              false,
		"/myapp/featuresx/y":                false,
		"features":                          false,
		"/features/features":                true,
		"/x/features/":                      false,
		"/a//features/x":                    true,
		"features/x/":                       true,
		"":                                  false,
	} {
		if got := vflag.IsFlagName(name); got != want {
			t.Errorf("IsFlagName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestRolloutDistribution checks that buckets are uniform: at several
// percentages the share of 100,000 subjects in the rollout is within 0.5
// percentage points, and a larger rollout keeps everyone a smaller one had.
func TestRolloutDistribution(t *testing.T) {
	const n = 100_000
	small := mustParse(t, "/app/features/checkout", `{"rollout_percentage": 5}`)
	for _, pct := range []float64{0.5, 5, 25, 50, 99.9} {
		f := mustParse(t, "/app/features/checkout", fmt.Sprintf(`{"rollout_percentage": %g}`, pct))
		in := 0
		for i := range n {
			ctx := vflag.Context{"user_id": fmt.Sprintf("user-%d", i)}
			on := f.Evaluate(ctx, now).Value == true
			if on {
				in++
			}
			if pct >= 5 && small.Evaluate(ctx, now).Value == true && !on {
				t.Fatalf("user-%d is in the 5%% rollout but not in %g%%", i, pct)
			}
		}
		got := 100 * float64(in) / n
		if math.Abs(got-pct) > 0.5 {
			t.Errorf("rollout %g%%: %.3f%% of %d subjects in, want within 0.5 points", pct, got, n)
		}
	}
}

// TestBucketsIndependentAcrossFlags checks that two flags' buckets are
// uncorrelated: the subjects in one flag's 50% rollout are in the other's
// at 50% ± 1%, and their correlation coefficient is near 0.
func TestBucketsIndependentAcrossFlags(t *testing.T) {
	const n = 100_000
	var sx, sy, sxx, syy, sxy float64
	both, inA := 0, 0
	for i := range n {
		key := fmt.Sprintf("user-%d", i)
		a := float64(vflag.Bucket("new-checkout", key))
		b := float64(vflag.Bucket("dark-mode", key))
		sx, sy, sxx, syy, sxy = sx+a, sy+b, sxx+a*a, syy+b*b, sxy+a*b
		if a < 50_000 {
			inA++
			if b < 50_000 {
				both++
			}
		}
	}
	cov := sxy/n - (sx/n)*(sy/n)
	r := cov / math.Sqrt((sxx/n-(sx/n)*(sx/n))*(syy/n-(sy/n)*(sy/n)))
	if math.Abs(r) > 0.02 {
		t.Errorf("correlation of two flags' buckets = %.4f, want about 0", r)
	}
	if share := float64(both) / float64(inA); math.Abs(share-0.5) > 0.01 {
		t.Errorf("%.3f of flag A's 50%% are in flag B's 50%%, want 0.5 ± 0.01", share)
	}
}

// TestBucketGolden pins the bucketing function: other SDKs must give the
// same buckets, and a change here would move users between variants.
func TestBucketGolden(t *testing.T) {
	path := filepath.Join("testdata", "buckets.golden")
	var lines []string
	for _, salt := range []string{"new-checkout", "dark-mode", "über-flag"} {
		for _, key := range []string{"user-1", "user-2", "alice@example.com", "", "ключ", "42"} {
			lines = append(lines, fmt.Sprintf("%s\t%s\t%d", salt, key, vflag.Bucket(salt, key)))
		}
	}
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte("# salt\tkey\tbucket (SHA-256(salt/key), first 8 bytes big-endian, mod 100000)\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestBucketGolden -update ./flag/ once)", err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "#") {
			want = append(want, sc.Text())
		}
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("buckets changed:\ngot:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestUniform(t *testing.T) {
	for _, tt := range []struct {
		doc     string
		variant string
		ok      bool
	}{
		{`true`, "on", true},
		{`false`, "off", true},
		{`{"enabled": false, "rollout_percentage": 50}`, "off", true},
		{`{"enabled": true}`, "on", true},
		{`{"enabled": true, "rollout_percentage": 0}`, "off", true},
		{`{"enabled": true, "rollout_percentage": 100}`, "on", true},
		{`{"enabled": true, "rollout_percentage": 99.999}`, "", false},
		{`{"enabled": true, "allowed_user_ids": ["u1"], "rollout_percentage": 0}`, "", false},
		{`{"enabled": true, "allowed_regions": ["eu"]}`, "", false},
		{`{"enabled": true, "rules": [{"name": "beta", "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}], "variant": "on"}], "default_variant": "off"}`, "", false},
		{`{"enabled": true, "variants": {"a": 1, "b": 2}, "default_variant": "b", "off_variant": "a"}`, "b", true},
	} {
		f, err := vflag.Parse("/app/prod/features/x", tt.doc)
		if err != nil {
			t.Fatalf("%s: %v", tt.doc, err)
		}
		v, ok := f.Uniform()
		if v != tt.variant || ok != tt.ok {
			t.Errorf("Uniform(%s) = %q, %v; want %q, %v", tt.doc, v, ok, tt.variant, tt.ok)
		}
	}
}
