package flag_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	vflag "github.com/vanehq/vane/flag"
)

// Rules in both forms, for Share and WithRollout.
const (
	rulesList = `{"default": false, "rules": [
		{"name": "beta", "when_match": true, "rollout_percentage": 12.5,
		 "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]},
		{"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
		{"name": "", "when_match": true, "rollout_percentage": 7}]}`
	rulesObject = `{"default": false, "rules": {
		"premium": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
		"everyone": {"when_match": true, "rollout_percentage": 0.125}}}`
)

func TestShare(t *testing.T) {
	tests := []struct {
		name, value, rule string
		want              float64
	}{
		{"BareFalseServesNone", `false`, "", 0},
		{"BareTrueServesAll", " true\n", "", 100},
		{"DisabledServesNone", `{"enabled": false, "rollout_percentage": 40}`, "", 0},
		{"FlagRollout", `{"enabled": true, "rollout_percentage": 12.345}`, "", 12.345},
		{"FlagZeroRollout", `{"rollout_percentage": 0}`, "", 0},
		{"NoFlagRolloutServesAll", `{"description": "x"}`, "", 100},
		{"RulesIgnoredAtFlagLevel", rulesList, "", 100},
		{"BareValueHasNoRule", `true`, "beta", 0},
		{"DisabledRuleServesNone", `{"enabled": false, "default": false, "rules": [{"name": "beta", "when_match": true}]}`, "beta", 0},
		{"NamedRule", rulesList, "beta", 12.5},
		{"DefaultNamedRuleWithoutRollout", rulesList, "rule 2", 100},
		{"EmptyNameIsDefaultName", rulesList, "rule 3", 7},
		{"ObjectRuleWithoutRollout", rulesObject, "premium", 100},
		{"ObjectRule", rulesObject, "everyone", 0.125},
		{"MissingRuleServesNone", rulesList, "gamma", 0},
		{"DefaultNameOfNamedRuleMissing", rulesList, "rule 1", 0},
		{"NoRulesServesNone", `{"rollout_percentage": 50}`, "beta", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vflag.Share(tt.value, tt.rule)
			if err != nil {
				t.Fatalf("Share(%s, %q): %v", tt.value, tt.rule, err)
			}
			if got != tt.want {
				t.Errorf("Share(%s, %q) = %v, want %v", tt.value, tt.rule, got, tt.want)
			}
		})
	}
}

func TestShareErrors(t *testing.T) {
	tests := []struct{ name, value string }{
		{"ErrNotJSON", `yes`},
		{"ErrNotObject", `[1]`},
		{"ErrInvalidDocument", `{"rollout_percentage": 120}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vflag.Share(tt.value, "")
			var e *vflag.Error
			if !errors.As(err, &e) {
				t.Fatalf("Share(%s) = %v, want a wrapped *flag.Error", tt.value, err)
			}
		})
	}
}

func TestWithRollout(t *testing.T) {
	tests := []struct {
		name, value, rule string
		pct               float64
		want              string
	}{
		{"BareFalse", `false`, "", 5, `{"rollout_percentage":5}`},
		{"BareTrue", "true\n", "", 12.5, `{"rollout_percentage":12.5}`},
		{"EnabledSwitchedOn", `{"enabled": false, "description": "d"}`, "", 100, `{"enabled":true,"description":"d","rollout_percentage":100}`},
		{"ReplacedInPlace", `{"rollout_percentage": 1e1, "owner": "o"}`, "", 0.125, `{"rollout_percentage":0.125,"owner":"o"}`},
		{"FlagZero", `{"rollout_percentage": 50}`, "", 0, `{"rollout_percentage":0}`},
		{"RoundedToThreeDecimals", `{}`, "", 33.33349, `{"rollout_percentage":33.333}`},
		{"RoundedUpToThreeDecimals", `{}`, "", 33.3335, `{"rollout_percentage":33.334}`},
		{"RoundedIntoRange", `{}`, "", 100.0004, `{"rollout_percentage":100}`},
		{"NegativeZero", `{}`, "", math.Copysign(0, -1), `{"rollout_percentage":0}`},
		{"KeyOrderKept",
			`{"variants": {"z": "Z", "a": "A", "m": "M"}, "on_variant": "z", "off_variant": "a", "default_variant": "m",
			  "enabled": false, "metadata": {"b": [1, 2], "a": {"y": 1, "x": 2}}}`, "", 20,
			`{"variants":{"z":"Z","a":"A","m":"M"},"on_variant":"z","off_variant":"a","default_variant":"m","enabled":true,"metadata":{"b":[1,2],"a":{"y":1,"x":2}},"rollout_percentage":20}`},
		{"RawValuesKept", `{"description": "<a & b> \u00e9", "metadata": {"n": 1.50}}`, "", 1,
			`{"description":"<a & b> \u00e9","metadata":{"n":1.50},"rollout_percentage":1}`},
		{"NamedRule", rulesList, "beta", 50,
			`{"default":false,"rules":[{"name":"beta","when_match":true,"rollout_percentage":50,"conditions":[{"action":"EQUALS","key":"tier","value":"beta"}]},{"when_match":true,"conditions":[{"action":"EQUALS","key":"tier","value":"premium"}]},{"name":"","when_match":true,"rollout_percentage":7}]}`},
		{"DefaultNamedRuleAppended", rulesList, "rule 2", 0.001,
			`{"default":false,"rules":[{"name":"beta","when_match":true,"rollout_percentage":12.5,"conditions":[{"action":"EQUALS","key":"tier","value":"beta"}]},{"when_match":true,"conditions":[{"action":"EQUALS","key":"tier","value":"premium"}],"rollout_percentage":0.001},{"name":"","when_match":true,"rollout_percentage":7}]}`},
		{"ObjectRuleOrderKept", rulesObject, "premium", 100,
			`{"default":false,"rules":{"premium":{"when_match":true,"conditions":[{"action":"EQUALS","key":"tier","value":"premium"}],"rollout_percentage":100},"everyone":{"when_match":true,"rollout_percentage":0.125}}}`},
		{"RuleSwitchesFlagOn", `{"enabled": false, "default": false, "rules": {"r": {"when_match": true}}}`, "r", 3,
			`{"enabled":true,"default":false,"rules":{"r":{"when_match":true,"rollout_percentage":3}}}`},
		{"RuleLeavesFlagRollout", `{"rollout_percentage": 9, "default": false, "rules": [{"name": "r", "when_match": true}]}`, "r", 10,
			`{"rollout_percentage":9,"default":false,"rules":[{"name":"r","when_match":true,"rollout_percentage":10}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vflag.WithRollout(tt.value, tt.rule, tt.pct)
			if err != nil {
				t.Fatalf("WithRollout(%s, %q, %v): %v", tt.value, tt.rule, tt.pct, err)
			}
			if got != tt.want {
				t.Errorf("WithRollout(%s, %q, %v)\n got %s\nwant %s", tt.value, tt.rule, tt.pct, got, tt.want)
			}
			mustParse(t, "/app/features/x", got)
		})
	}
}

func TestWithRolloutErrors(t *testing.T) {
	tests := []struct {
		name, value, rule string
		pct               float64
		want              string // in the message
	}{
		{"ErrAbove100", `{}`, "", 100.001, "not from 0 to 100"},
		{"ErrNegative", `{}`, "", -0.001, "not from 0 to 100"},
		{"ErrNaN", `{}`, "", math.NaN(), "not from 0 to 100"},
		{"ErrInfinite", `{}`, "", math.Inf(1), "not from 0 to 100"},
		{"ErrRuleZero", rulesList, "beta", 0, "above 0"},
		{"ErrRuleRoundsToZero", rulesList, "beta", 0.0004, "above 0"},
		{"ErrNotJSON", `yes`, "", 5, "neither true, false nor a JSON object"},
		{"ErrNotObject", `[{}]`, "", 5, "neither true, false nor a JSON object"},
		{"ErrNull", `null`, "", 5, "neither true, false nor a JSON object"},
		{"ErrTrailingData", `{} {}`, "", 5, "neither true, false nor a JSON object"},
		{"ErrDuplicateField", `{"enabled": false, "enabled": true}`, "", 5, "$.enabled: appears twice"},
		{"ErrMissingRule", rulesList, "gamma", 5, `no rule "gamma" (rules: beta, rule 2, rule 3)`},
		{"ErrMissingObjectRule", rulesObject, "gamma", 5, `no rule "gamma" (rules: premium, everyone)`},
		{"ErrNoRules", `{"rollout_percentage": 5}`, "beta", 5, `no rule "beta": it has no rules`},
		{"ErrBareValueHasNoRules", `true`, "beta", 5, `no rule "beta": it has no rules`},
		{"ErrOnVariantNeeded", `{"variants": {"a": "A", "b": "B"}, "default_variant": "a"}`, "", 5, "$.on_variant"},
		{"ErrInvalidInputStaysInvalid", `{"colour": "red"}`, "", 5, "$.colour: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vflag.WithRollout(tt.value, tt.rule, tt.pct)
			if err == nil {
				t.Fatalf("WithRollout(%s, %q, %v) = %s, want an error", tt.value, tt.rule, tt.pct, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WithRollout(%s, %q, %v): %v, want it to mention %q", tt.value, tt.rule, tt.pct, err, tt.want)
			}
		})
	}
}

// FuzzWithRollout checks that rolling any valid document out to any
// valid percentage gives a valid document serving exactly that share, or
// an error, and never a panic.
func FuzzWithRollout(f *testing.F) {
	for _, seed := range []struct {
		doc, rule string
		pct       uint32
	}{
		{`true`, "", 5000},
		{`false`, "", 0},
		{`{}`, "", 100000},
		{`{"enabled": false}`, "", 12345},
		{`{"enabled": true, "rollout_percentage": 12.345, "allowed_regions": ["eu-west-1"], "excluded_user_ids": ["u1"], "fallback_on_error": false}`, "", 50000},
		{`{"variants": {"a": "A", "b": "B"}, "on_variant": "b", "off_variant": "a", "default_variant": "a", "rollout_percentage": 1E1}`, "", 99999},
		{`{"variants": {"a": "A", "b": "B"}, "default_variant": "a"}`, "", 1},
		{rulesList, "beta", 500},
		{rulesList, "rule 2", 100000},
		{rulesObject, "everyone", 0},
		{rulesObject, "premium", 77777},
		{`{"default": false, "rules": {"r": {"name": "r", "when_match": true}}}`, "r", 3},
		{`{"description": "\u003c\u2028", "metadata": {"k\u0041": 1}}`, "", 7},
		{`{"\u0065nabled": false, "default": false, "rules": null}`, "", 42},
		{`{"enabled": false, "enabled": true}`, "", 5},
	} {
		f.Add(seed.doc, seed.rule, seed.pct)
	}
	f.Fuzz(func(t *testing.T, doc, rule string, n uint32) {
		if _, err := vflag.Parse("/app/features/fuzz", doc); err != nil {
			return
		}
		pct := float64(n%100001) / 1000
		out, err := vflag.WithRollout(doc, rule, pct)
		if err != nil {
			return
		}
		if _, err := vflag.Parse("/app/features/fuzz", out); err != nil {
			t.Fatalf("WithRollout(%s, %q, %v) = %s, which Parse refuses: %v", doc, rule, pct, out, err)
		}
		got, err := vflag.Share(out, rule)
		if err != nil {
			t.Fatalf("Share(%s, %q): %v", out, rule, err)
		}
		if got != pct {
			t.Fatalf("Share(WithRollout(%s, %q, %v)) = %v, want %v (out %s)", doc, rule, pct, got, pct, out)
		}
	})
}
