package flag_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	vflag "github.com/vanehq/vane/flag"
)

// powertoolsCorpus is realistic flag documents, by feature name. Those
// whose name starts with "left-out/" must be left out of the document with
// a warning; the others must be translated without one.
var powertoolsCorpus = []struct{ name, doc string }{
	{"bare-true", `true`},
	{"bare-false", ` false `},
	{"disabled", `{"enabled": false, "allowed_user_ids": ["u-beta"], "description": "kill switch", "owner": "team-a"}`},
	{"disabled-strings", `{"enabled": false, "variants": {"blue": "#00f", "grey": "#888"},
		"default_variant": "blue", "off_variant": "grey"}`},
	{"disabled-rollout", `{"enabled": false, "rollout_percentage": 50, "fallback_on_error": true}`},
	{"no-targeting", `{"enabled": true, "owner": "team-a", "expires": "2027-01-31", "metadata": {"ticket": "X-1"},
		"salt": "s", "bucket_by": "org_id", "fallback_on_error": false}`},
	{"string-variants", `{"variants": {"control": "classic", "treatment": "new"}, "default_variant": "treatment"}`},
	{"number-variants", `{"variants": {"low": 10, "high": 100.5, "zero": 0}, "default_variant": "low",
		"on_variant": "high", "off_variant": "zero", "allowed_user_ids": ["u-beta"], "excluded_user_ids": ["u-banned"]}`},
	{"object-variants", `{"variants": {"v1": {"color": "red", "sizes": [1, 2.5], "note": "<b>&amp;</b>"}, "v0": {"color": "grey"}},
		"default_variant": "v1", "off_variant": "v0", "excluded_user_ids": ["u-banned"]}`},
	{"allow-list", `{"allowed_user_ids": ["u-beta", "u-alpha", "u-beta"], "default_variant": "off"}`},
	{"exclude-list", `{"excluded_user_ids": ["u-banned", ""]}`},
	{"allow-and-exclude", `{"allowed_user_ids": ["u-beta"], "excluded_user_ids": ["u-banned"], "default": false}`},
	{"empty-lists", `{"allowed_user_ids": [], "excluded_user_ids": [""], "default": true}`},
	{"regions", `{"allowed_regions": ["eu-west-1", "eu-central-1"]}`},
	{"regions-users-rules", `{"variants": {"a": "A", "b": "B", "c": "C"}, "default_variant": "a",
		"on_variant": "b", "off_variant": "c",
		"allowed_user_ids": ["u-beta"], "excluded_user_ids": ["u-banned"], "allowed_regions": ["eu-west-1"],
		"rules": [{"name": "premium", "variant": "b", "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
			{"name": "everyone else", "variant": "c"}]}`},
	{"regions-default-rule", `{"allowed_regions": ["eu-west-1", "us-east-1"], "default": true, "rules": [
		{"when_match": false, "conditions": [{"action": "EQUALS", "key": "tier", "value": "free"}]}]}`},
	{"equality", `{"default": false, "rules": {
		"premium": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
		"thirty": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "age", "value": 30.0}]},
		"pro plan": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "plan", "value": {"name": "pro"}}]},
		"null tier": {"when_match": true, "conditions": [{"action": "NOT_EQUALS", "key": "tier", "value": "free"},
			{"action": "NOT_EQUALS", "key": "tier", "value": "premium"}]}}}`},
	{"ordering", `{"variants": {"adult": "adult", "small": "small cart", "old": "old build", "late": "late user", "none": "none"},
		"default_variant": "none", "rules": [
		{"name": "adult", "variant": "adult", "conditions": [{"action": "KEY_GREATER_THAN_OR_EQUAL_VALUE", "key": "age", "value": 18}]},
		{"name": "small cart", "variant": "small", "conditions": [{"action": "KEY_LESS_THAN_VALUE", "key": "cart_total", "value": 100}]},
		{"name": "old build", "variant": "old", "conditions": [{"action": "KEY_LESS_THAN_OR_EQUAL_VALUE", "key": "build", "value": "2024.06"}]},
		{"name": "late", "variant": "late", "conditions": [{"action": "KEY_GREATER_THAN_VALUE", "key": "user_no", "value": 5},
			{"action": "KEY_LESS_THAN_VALUE", "key": "version", "value": [2, 0]}]}]}`},
	{"strings", `{"default": false, "rules": [
		{"name": "admins", "when_match": true, "conditions": [{"action": "STARTSWITH", "key": "email", "value": "ana@"}]},
		{"name": "staff", "when_match": true, "conditions": [{"action": "ENDSWITH", "key": "email", "value": "@example.com"}]}]}`},
	{"membership", `{"variants": {"eu": 1, "blocked": 2, "tenant": 3, "other tenant": 4, "gold": 5, "none": 0},
		"default_variant": "none", "rules": [
		{"name": "eu", "variant": "eu", "conditions": [{"action": "IN", "key": "country", "value": ["FR", "DE"]}]},
		{"name": "not blocked", "variant": "blocked", "conditions": [{"action": "NOT_IN", "key": "country", "value": ["KP", "IR"]},
			{"action": "KEY_IN_VALUE", "key": "tenant", "value": ["t-1", "t-2"]}]},
		{"name": "tenant", "variant": "other tenant", "conditions": [{"action": "KEY_NOT_IN_VALUE", "key": "tenant", "value": ["t-9"]}]},
		{"name": "gold or null", "variant": "gold", "conditions": [{"action": "IN", "key": "tier", "value": [null, "gold"]}]}]}`},
	{"value-in-key", `{"default": false, "rules": [
		{"name": "beta", "when_match": true, "conditions": [{"action": "VALUE_IN_KEY", "key": "groups", "value": "beta-testers"}]},
		{"name": "humans", "when_match": true, "conditions": [{"action": "VALUE_NOT_IN_KEY", "key": "user_agent", "value": "bot"}]}]}`},
	{"list-actions", `{"variants": {"rw": "read-write", "admin": "admin", "clean": "clean", "none": "none"},
		"default_variant": "none", "rules": [
		{"name": "read-write", "variant": "rw", "conditions": [{"action": "ALL_IN_VALUE", "key": "perms", "value": ["read", "write"]}]},
		{"name": "admin", "variant": "admin", "conditions": [{"action": "ANY_IN_VALUE", "key": "roles", "value": ["admin", "owner"]}]},
		{"name": "clean", "variant": "clean", "conditions": [{"action": "NONE_IN_VALUE", "key": "flags", "value": ["banned"]}]}]}`},
	{"modulo", `{"default": false, "rules": [{"name": "first half", "when_match": true,
		"conditions": [{"action": "MODULO_RANGE", "key": "user_no", "value": {"BASE": 10, "START": 0, "END": 4}}]}]}`},
	{"schedules", `{"variants": {"night": "night", "weekend": "weekend", "sale": "sale", "late": "late", "normal": "normal"},
		"default_variant": "normal", "rules": [
		{"name": "sale", "variant": "sale", "conditions": [{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME",
			"value": {"START": "2024-11-29T00:00:00", "END": "2024-12-02T23:59:59", "TIMEZONE": "America/New_York"}}]},
		{"name": "night", "variant": "night", "conditions": [{"action": "SCHEDULE_BETWEEN_TIME_RANGE", "key": "CURRENT_TIME",
			"value": {"START": "22:00", "END": "06:00", "TIMEZONE": "Europe/Paris"}}]},
		{"name": "weekend", "variant": "weekend", "conditions": [{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK",
			"value": {"DAYS": ["SATURDAY", "SUNDAY"], "TIMEZONE": "Asia/Tokyo"}}]},
		{"name": "late", "variant": "late", "conditions": [{"action": "SCHEDULE_BETWEEN_TIME_RANGE", "key": "CURRENT_TIME",
			"value": {"START": "23:30", "END": "23:00"}}]}]}`},
	{"datetime-fractions", `{"default": false, "rules": [
		{"name": "launch", "when_match": true, "conditions": [{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME",
			"value": {"START": "2025-01-01T00:00:00.0000001", "END": "2025-01-01 00:00:01.5", "TIMEZONE": null}}]},
		{"name": "second", "when_match": true, "conditions": [{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME",
			"value": {"START": "2025-01-01T00:00:03.25", "END": "2025-01-01T00:00:04.0000009", "TIMEZONE": ""}}]},
		{"name": "weekday", "when_match": true, "conditions": [{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK",
			"value": {"DAYS": ["MONDAY"], "TIMEZONE": ""}}]}]}`},
	{"powertools-form", `{"default": false, "rules": {
		"free tier": {"when_match": false, "conditions": [{"action": "EQUALS", "key": "tier", "value": "free"}]},
		"everyone": {"when_match": true, "conditions": []}}}`},
	{"name-clash", `{"allowed_user_ids": ["u-beta"], "allowed_regions": ["eu-west-1"], "default": false, "rules": [
		{"name": "allowed_user_ids (targetingKey)", "when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
		{"name": "allowed_regions", "when_match": true, "conditions": [{"action": "EQUALS", "key": "country", "value": "FR"}]}]}`},
	{"unnamed-rules", `{"variants": {"x": {"n": 1}, "y": {"n": 2}}, "default_variant": "x", "rules": [
		{"variant": "y", "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
		{"variant": "x", "conditions": [{"action": "EQUALS", "key": "tier", "value": "free"}]},
		{"variant": "y", "conditions": null}]}`},
	{"team/nested-name", `{"excluded_user_ids": ["u-banned"], "rules": [{"name": "ß", "when_match": false,
		"conditions": [{"action": "ENDSWITH", "key": "email", "value": "\u00e9\ud800"}]}], "default": true}`},

	// Shares of 0 and 100 need no bucket.
	{"full-rollout", `{"rollout_percentage": 100}`},
	{"zero-rollout", `{"rollout_percentage": 0, "allowed_user_ids": ["u-beta"]}`},
	{"full-rule-rollout", `{"default": false, "rules": [{"name": "staff", "when_match": true, "rollout_percentage": 100,
		"conditions": [{"action": "ENDSWITH", "key": "email", "value": "@example.com"}]}]}`},
	{"left-out/rollout", `{"rollout_percentage": 25, "allowed_user_ids": ["u-beta"]}`},
	{"left-out/rule-rollout", `{"default": false, "rules": [{"name": "staff", "when_match": true, "rollout_percentage": 50,
		"conditions": [{"action": "ENDSWITH", "key": "email", "value": "@example.com"}]}]}`},
	{"left-out/empty-region", `{"allowed_regions": ["eu-west-1", ""]}`},
	{"left-out/big-integer", `{"default": false, "rules": [{"when_match": true,
		"conditions": [{"action": "EQUALS", "key": "account", "value": 9007199254740993}]}]}`},
	{"left-out/big-integer-variant", `{"variants": {"a": 12345678901234567890}, "default_variant": "a"}`},
	{"left-out/huge-number", `{"variants": {"a": {"x": 1e400}}, "default_variant": "a"}`},
	{"left-out/deep", `{"variants": {"a": ` + strings.Repeat(`{"a":`, 101) + `1` + strings.Repeat(`}`, 101) + `}, "default_variant": "a"}`},
	{"left-out/invalid", `{"enabled": "yes"}`},
}

// Contexts of the faithfulness test: each identity with each set of
// attributes.
var (
	powertoolsIdentities = []vflag.Context{
		{},
		{"user_id": "u-beta"},
		{"targetingKey": "u-beta"},
		{"targetingKey": "u-beta", "user_id": "u-beta"},
		{"user_id": "u-banned"},
		{"targetingKey": "u-banned", "user_id": "u-banned"},
		{"targetingKey": "", "user_id": "u-beta"},
		{"targetingKey": 7.0, "user_id": "u-banned"},
		{"targetingKey": nil, "user_id": "u-beta"},
		{"targetingKey": "u-other", "user_id": "u-nobody"},
		{"targetingKey": "u-beta", "user_id": "u-banned"},
		{"targetingKey": "u-banned", "user_id": "u-beta"},
		{"targetingKey": "u-other", "user_id": "u-beta"}, // diverges where u-beta is listed
		{"user_id": ""},
	}
	powertoolsAttributes = []vflag.Context{
		{},
		{"region": "eu-west-1", "tier": "premium", "age": 30.0, "email": "ana@example.com", "groups": []any{"beta-testers", "staff"},
			"perms": []any{"read"}, "roles": []any{"admin"}, "flags": []any{}, "user_no": 7.0, "build": "2024.06", "country": "FR",
			"tenant": "t-1", "user_agent": "Mozilla/5.0", "cart_total": 99.5, "plan": map[string]any{"name": "pro"}, "version": []any{1.0, 9.0}},
		{"region": "us-east-1", "tier": "free", "age": 17.0, "email": "bob@EXAMPLE.com", "groups": []any{}, "perms": []any{"read", "delete"},
			"roles": []any{}, "flags": []any{"banned"}, "user_no": -1.0, "build": "2024.10", "country": "KP", "tenant": "t-9",
			"user_agent": "bot/1.0", "cart_total": 150.0, "plan": map[string]any{"name": "pro", "seats": 3.0}, "version": []any{2.0}},
		{"region": nil, "tier": nil, "age": "30", "email": 5.0, "groups": "beta-testers-old", "perms": "read", "roles": nil,
			"user_no": 7.5, "build": 2024.06, "country": nil, "tenant": nil, "user_agent": nil, "plan": nil},
		{"region": 5.0, "tier": "gold", "age": 18.0, "groups": map[string]any{"beta-testers": true}, "perms": []any{},
			"user_no": "7", "flags": []any{"ok"}, "cart_total": "99", "country": "DE", "tenant": "t-2", "email": "ana@example.org"},
		{"region": "eu-central-1", "tier": "premium", "age": 18.0, "flags": []any{"ok", "banned"}, "user_no": 1e15 + 3,
			"perms": []any{"write", "read", "write"}, "roles": []any{"owner"}, "user_agent": "curl/8", "groups": []any{"beta-testers"}},
	}
	// powertoolsInstants exercise the schedule rules on both sides of
	// their bounds.
	powertoolsInstants = []time.Time{
		time.Date(2026, 11, 21, 23, 40, 0, 0, time.UTC),            // Saturday; Paris night; 23:40 in "late"
		time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC),             // Monday morning in Paris and Tokyo
		time.Date(2026, 11, 23, 23, 15, 0, 0, time.UTC),            // Monday 23:15, outside "late"
		time.Date(2024, 11, 29, 5, 0, 0, 0, time.UTC),              // the sale starts in New York
		time.Date(2024, 11, 29, 4, 59, 59, 999999000, time.UTC),    // just before
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),                // before "launch" (100 ns too early)
		time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC),             // "launch" has started
		time.Date(2025, 1, 1, 0, 0, 1, 500000999, time.UTC),        // last microsecond of "launch"
		time.Date(2025, 1, 1, 0, 0, 1, 500001000, time.UTC),        // after it
		time.Date(2025, 1, 1, 0, 0, 3, 249999000, time.UTC),        // before "second"
		time.Date(2025, 1, 1, 0, 0, 4, 0, time.UTC),                // in "second"
		time.Date(2025, 1, 1, 0, 0, 4, 1000, time.UTC),             // after "second"
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC),              // Paris has just gone to summer time
		time.Date(2026, 6, 15, 12, 0, 0, 0, time.FixedZone("", 0)), // a weekday noon
	}
)

// mustPowertoolsDocument translates the corpus, checking warnings: only
// the left-out flags have one, and they are not in the document.
func mustPowertoolsDocument(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	var in []vflag.PowertoolsInput
	for _, c := range powertoolsCorpus {
		in = append(in, vflag.PowertoolsInput{Feature: c.name, Value: c.doc})
	}
	doc, warnings := vflag.PowertoolsDocument(in)
	var features map[string]json.RawMessage
	if err := json.Unmarshal(doc, &features); err != nil {
		t.Fatalf("the document is not a JSON object: %v\n%s", err, doc)
	}
	warned := map[string]string{}
	for _, w := range warnings {
		warned[w.Feature] = w.Reason
	}
	for _, c := range powertoolsCorpus {
		_, included := features[c.name]
		reason, hasWarning := warned[c.name]
		if strings.HasPrefix(c.name, "left-out/") {
			if included || !hasWarning {
				t.Errorf("%s: included %v, warning %q; want it left out with a warning", c.name, included, reason)
			}
		} else if !included || hasWarning {
			t.Errorf("%s: included %v, warning %q; want it included without a warning", c.name, included, reason)
		}
	}
	if len(warnings) != len(warned) {
		t.Errorf("warnings %v: want one per left-out flag", warnings)
	}
	return features
}

// vaneForm makes a Powertools feature a Vane flag document. Vane reads
// Powertools' form as it is for boolean features; for the others
// (doc/flags.md, "Differences from Powertools", 9) boolean_type goes and
// the values are listed as variants, to which default and when_match then
// point.
func vaneForm(t testing.TB, feature json.RawMessage) string {
	t.Helper()
	var f map[string]json.RawMessage
	if err := json.Unmarshal(feature, &f); err != nil {
		t.Fatalf("feature %s: %v", feature, err)
	}
	if _, ok := f["boolean_type"]; !ok {
		return string(feature)
	}
	var rules map[string]struct {
		WhenMatch json.RawMessage `json:"when_match"`
	}
	if raw, ok := f["rules"]; ok {
		if err := json.Unmarshal(raw, &rules); err != nil {
			t.Fatalf("rules of %s: %v", feature, err)
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"variants": {"v0": %s`, f["default"])
	i := 0
	for _, r := range rules {
		i++
		fmt.Fprintf(&buf, `, "v%d": %s`, i, r.WhenMatch)
	}
	fmt.Fprintf(&buf, `}, "default": %s`, f["default"])
	if raw, ok := f["rules"]; ok {
		fmt.Fprintf(&buf, `, "rules": %s`, raw) // the text as it is, keeping the rules' order
	}
	buf.WriteString("}")
	return buf.String()
}

// merge returns the union of contexts, later ones winning.
func merge(cs ...vflag.Context) vflag.Context {
	out := vflag.Context{}
	for _, c := range cs {
		for k, v := range c {
			out[k] = v
		}
	}
	return out
}

// divergent reports whether ctx is the documented case where the
// translation differs: a targetingKey that is a non-empty string listed in
// neither user list, and a different user_id that one of them lists.
func divergent(doc string, ctx vflag.Context) bool {
	var d map[string]json.RawMessage
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false
	}
	var listed []string
	for _, k := range []string{"allowed_user_ids", "excluded_user_ids"} {
		var ids []string
		json.Unmarshal(d[k], &ids)
		listed = append(listed, ids...)
	}
	tk, ok1 := ctx["targetingKey"].(string)
	uid, ok2 := ctx["user_id"].(string)
	return ok1 && ok2 && tk != "" && uid != "" && tk != uid && !slices.Contains(listed, tk) && slices.Contains(listed, uid)
}

// noSubject reports whether Vane's answer is the error of a rollout
// (of 0 or 100%, the ones translated) reached by a context without a
// subject: the other documented divergence, where Powertools, which has no
// errors, serves the rollout's value.
func noSubject(r vflag.Result) bool {
	return r.Reason == vflag.ReasonError && r.ErrorCode == vflag.ErrTargetingKeyMissing
}

func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPowertoolsDocumentAgreesWithVane evaluates every flag of the corpus
// and its translation (read back by Vane, which reads Powertools' form)
// for every context and instant: the values must be equal, except in the
// documented divergence.
func TestPowertoolsDocumentAgreesWithVane(t *testing.T) {
	features := mustPowertoolsDocument(t)
	compared, diverging := 0, 0
	for _, c := range powertoolsCorpus {
		feature, ok := features[c.name]
		if !ok {
			continue
		}
		orig := mustParse(t, "/app/prod/features/"+c.name, c.doc)
		trans, err := vflag.Parse("/app/prod/features/"+c.name, vaneForm(t, feature))
		if err != nil {
			t.Fatalf("%s: the translation %s does not parse: %v", c.name, feature, err)
		}
		for _, id := range powertoolsIdentities {
			for _, attrs := range powertoolsAttributes {
				ctx := merge(id, attrs)
				if divergent(c.doc, ctx) {
					diverging++
					continue
				}
				for _, at := range powertoolsInstants {
					want, got := orig.Evaluate(ctx, at), trans.Evaluate(ctx, at)
					if noSubject(want) {
						diverging++
						continue
					}
					if want.Reason == vflag.ReasonError {
						t.Fatalf("%s: %v at %v: %+v", c.name, ctx, at, want)
					}
					if w, g := jsonText(t, want.Value), jsonText(t, got.Value); w != g {
						t.Errorf("%s at %v for %v: Vane serves %s (%s %q), the translation %s (rule %q)\ntranslation: %s",
							c.name, at.Format(time.RFC3339Nano), ctx, w, want.Reason, want.Rule, g, got.Rule, feature)
					}
					compared++
				}
			}
		}
	}
	if diverging == 0 || compared < 5000 {
		t.Errorf("compared %d evaluations, skipped %d in the documented divergence: the corpus no longer covers both", compared, diverging)
	}
}

// TestPowertoolsDivergesWhenUserIDDiffersFromTargetingKey pins the one
// documented divergence, so that doc/flags.md stays true: Powertools cannot
// tell that targetingKey is present, so a listed user_id decides even when
// a different targetingKey is Vane's subject.
func TestPowertoolsDivergesWhenUserIDDiffersFromTargetingKey(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		ctx       vflag.Context
		agree     bool
	}{
		{"AllowedUserIDDiffers", `{"allowed_user_ids": ["u-beta"], "default": false}`,
			vflag.Context{"targetingKey": "u-other", "user_id": "u-beta"}, false},
		{"ExcludedUserIDDiffers", `{"excluded_user_ids": ["u-banned"]}`,
			vflag.Context{"targetingKey": "u-other", "user_id": "u-banned"}, false},
		{"UserIDAlone", `{"allowed_user_ids": ["u-beta"], "default": false}`,
			vflag.Context{"user_id": "u-beta"}, true},
		{"BothEqual", `{"allowed_user_ids": ["u-beta"], "default": false}`,
			vflag.Context{"targetingKey": "u-beta", "user_id": "u-beta"}, true},
		{"EmptyTargetingKey", `{"allowed_user_ids": ["u-beta"], "default": false}`,
			vflag.Context{"targetingKey": "", "user_id": "u-beta"}, true},
		// The targetingKey rules of both lists come first, so a listed
		// targetingKey decides as in Vane.
		{"TargetingKeyAllowedUserIDExcluded", `{"allowed_user_ids": ["u-beta"], "excluded_user_ids": ["u-banned"]}`,
			vflag.Context{"targetingKey": "u-beta", "user_id": "u-banned"}, true},
		{"TargetingKeyExcludedUserIDAllowed", `{"allowed_user_ids": ["u-beta"], "excluded_user_ids": ["u-banned"], "default": true}`,
			vflag.Context{"targetingKey": "u-banned", "user_id": "u-beta"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, warnings := vflag.PowertoolsDocument([]vflag.PowertoolsInput{{Feature: "f", Value: tt.doc}})
			if len(warnings) > 0 {
				t.Fatal(warnings)
			}
			var features map[string]json.RawMessage
			json.Unmarshal(doc, &features)
			want := mustParse(t, "/a/features/f", tt.doc).Evaluate(tt.ctx, now).Value
			got := mustParse(t, "/a/features/f", vaneForm(t, features["f"])).Evaluate(tt.ctx, now).Value
			if (want == got) != tt.agree {
				t.Errorf("Vane serves %v, the translation %v; want them to agree: %v\n%s", want, got, tt.agree, features["f"])
			}
		})
	}
}

// TestPowertoolsDocumentPassesPowertoolsSchema checks the corpus's
// document against the rules of Powertools' SchemaValidator.
func TestPowertoolsDocumentPassesPowertoolsSchema(t *testing.T) {
	features := mustPowertoolsDocument(t)
	var in []vflag.PowertoolsInput
	for _, c := range powertoolsCorpus {
		in = append(in, vflag.PowertoolsInput{Feature: c.name, Value: c.doc})
	}
	doc, _ := vflag.PowertoolsDocument(in)
	if err := checkPowertoolsSchema(doc); err != nil {
		t.Fatal(err)
	}
	for name, f := range features {
		if err := checkPowertoolsSchema([]byte(`{"f":` + string(f) + `}`)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestPowertoolsSchemaCheckerRejects shows that the checker finds what
// Powertools rejects, so that the test above can fail.
func TestPowertoolsSchemaCheckerRejects(t *testing.T) {
	cond := func(c string) string {
		return `{"f": {"default": false, "rules": {"r": {"when_match": true, "conditions": [` + c + `]}}}}`
	}
	for _, tt := range []struct{ name, doc string }{
		{"ErrNotAnObject", `[]`},
		{"ErrEmptyFeature", `{"f": {}}`},
		{"ErrNoDefault", `{"f": {"rules": {}}}`},
		{"ErrNullDefault", `{"f": {"default": null, "boolean_type": false}}`},
		{"ErrStringDefaultOfBooleanFeature", `{"f": {"default": "on"}}`},
		{"ErrRulesNotAnObject", `{"f": {"default": true, "rules": [1]}}`},
		{"ErrEmptyRuleName", `{"f": {"default": true, "rules": {"": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}}}`},
		{"ErrWhenMatchNotBoolean", `{"f": {"default": true, "rules": {"r": {"when_match": 1, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}}}`},
		{"ErrNoConditions", `{"f": {"default": true, "rules": {"r": {"when_match": true, "conditions": []}}}}`},
		{"ErrDuplicateRule", `{"f": {"default": true, "rules": {"r": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}, "r": {"when_match": false, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}}}}`},
		{"ErrUnknownAction", cond(`{"action": "MATCHES", "key": "k", "value": 1}`)},
		{"ErrEmptyKey", cond(`{"action": "EQUALS", "key": "", "value": 1}`)},
		{"ErrNullValue", cond(`{"action": "EQUALS", "key": "k", "value": null}`)},
		{"ErrScheduleKey", cond(`{"action": "SCHEDULE_BETWEEN_TIME_RANGE", "key": "NOW", "value": {"START": "10:00", "END": "11:00"}}`)},
		{"ErrTimeFormat", cond(`{"action": "SCHEDULE_BETWEEN_TIME_RANGE", "key": "CURRENT_TIME", "value": {"START": "9:00", "END": "11:00"}}`)},
		{"ErrDatetimeFraction", cond(`{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME", "value": {"START": "2024-01-01T00:00:00.5", "END": "2024-01-02"}}`)},
		{"ErrDatetimeOffset", cond(`{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME", "value": {"START": "2024-01-01T00:00:00Z", "END": "2024-01-02"}}`)},
		{"ErrHostTimezone", cond(`{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK", "value": {"DAYS": ["MONDAY"], "TIMEZONE": ""}}`)},
		{"ErrUnknownTimezone", cond(`{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK", "value": {"DAYS": ["MONDAY"], "TIMEZONE": "Mars/Olympus"}}`)},
		{"ErrDayName", cond(`{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK", "value": {"DAYS": ["Monday"]}}`)},
		{"ErrModuloNotInteger", cond(`{"action": "MODULO_RANGE", "key": "n", "value": {"BASE": 10.0, "START": 0, "END": 4}}`)},
		{"ErrModuloRange", cond(`{"action": "MODULO_RANGE", "key": "n", "value": {"BASE": 10, "START": 5, "END": 10}}`)},
		{"ErrListActionNotAList", cond(`{"action": "ANY_IN_VALUE", "key": "n", "value": "a"}`)},
		{"ErrInvalidUTF8", "{\"f\": {\"default\": true, \"x\": \"\xff\"}}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkPowertoolsSchema([]byte(tt.doc)); err == nil {
				t.Errorf("checkPowertoolsSchema(%s) = nil, want an error", tt.doc)
			}
		})
	}
	if err := checkPowertoolsSchema([]byte(cond(`{"action": "MODULO_RANGE", "key": "n", "value": {"BASE": 10, "START": 0, "END": 9}}`))); err != nil {
		t.Errorf("a valid document: %v", err)
	}
}

// TestPowertoolsFeature pins translation decisions one by one.
func TestPowertoolsFeature(t *testing.T) {
	in := func(c string) string {
		return `{"default": false, "rules": [{"name": "r", "when_match": true, "conditions": [` + c + `]}]}`
	}
	out := func(c string) string {
		return `{"default":false,"rules":{"r":{"when_match":true,"conditions":[` + c + `]}}}`
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"BareTrueIsDefault", `true`, `{"default":true}`},
		{"DisabledServesOffValue", `{"enabled": false, "variants": {"a": 1, "b": 2}, "default_variant": "a", "off_variant": "b"}`,
			`{"default":2,"boolean_type":false}`},
		{"UnconditionalLastRuleIsDefault", `{"default": false, "rules": [{"name": "all", "when_match": true}]}`, `{"default":true}`},
		{"TargetingKeyRulesFirst", `{"allowed_user_ids": ["a", "", "a"], "excluded_user_ids": ["b"]}`,
			`{"default":true,"rules":{` +
				`"excluded_user_ids (targetingKey)":{"when_match":false,"conditions":[{"action":"IN","key":"targetingKey","value":["b"]}]},` +
				`"allowed_user_ids (targetingKey)":{"when_match":true,"conditions":[{"action":"IN","key":"targetingKey","value":["a"]}]},` +
				`"excluded_user_ids (user_id)":{"when_match":false,"conditions":[{"action":"IN","key":"user_id","value":["b"]}]},` +
				`"allowed_user_ids (user_id)":{"when_match":true,"conditions":[{"action":"IN","key":"user_id","value":["a"]}]}}}`},
		{"RegionsGateLaterRules", `{"allowed_regions": ["eu"], "variants": {"x": "X", "y": "Y", "z": "Z"}, "default_variant": "x",
			"off_variant": "z", "rules": [{"name": "r", "variant": "y", "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]}]}`,
			`{"default":"Z","boolean_type":false,"rules":{` +
				`"r":{"when_match":"Y","conditions":[{"action":"EQUALS","key":"k","value":1},{"action":"IN","key":"region","value":["eu"]}]},` +
				`"allowed_regions":{"when_match":"X","conditions":[{"action":"IN","key":"region","value":["eu"]}]}}}`},
		{"GeneratedNamesAvoidTheDocuments", `{"allowed_regions": ["eu"], "default": true, "rules": [
			{"name": "allowed_regions", "when_match": false, "conditions": [{"action": "EQUALS", "key": "k", "value": 1}]},
			{"name": "allowed_regions #2", "when_match": false, "conditions": [{"action": "EQUALS", "key": "k", "value": 2}]}]}`,
			`{"default":false,"rules":{` +
				`"allowed_regions":{"when_match":false,"conditions":[{"action":"EQUALS","key":"k","value":1},{"action":"IN","key":"region","value":["eu"]}]},` +
				`"allowed_regions #2":{"when_match":false,"conditions":[{"action":"EQUALS","key":"k","value":2},{"action":"IN","key":"region","value":["eu"]}]},` +
				`"allowed_regions #3":{"when_match":true,"conditions":[{"action":"IN","key":"region","value":["eu"]}]}}}`},
		{"NumbersAsWritten", in(`{"action": "IN", "key": "k", "value": [1.0, 1E2, -0, 9007199254740992]}`),
			out(`{"action":"IN","key":"k","value":[1.0,1E2,-0,9007199254740992]}`)},
		{"RepeatedKeyOnceWithLastValue", in(`{"action": "EQUALS", "key": "k", "value": {"a": 1, "b": 2, "a": [3]}}`),
			out(`{"action":"EQUALS","key":"k","value":{"a":[3],"b":2}}`)},
		{"StringsAsVaneReadsThem", in(`{"action": "EQUALS", "key": "k", "value": "<\ud800\u00e9>"}`),
			out(`{"action":"EQUALS","key":"k","value":"<` + "\ufffd\u00e9" + `>"}`)},
		{"HostTimezoneBecomesUTC", in(`{"action": "SCHEDULE_BETWEEN_TIME_RANGE", "key": "CURRENT_TIME", "value": {"TIMEZONE": null, "END": "11:00", "START": "10:00"}}`),
			out(`{"action":"SCHEDULE_BETWEEN_TIME_RANGE","key":"CURRENT_TIME","value":{"START":"10:00","END":"11:00","TIMEZONE":"UTC"}}`)},
		{"FractionsOfThreeOrSixDigitsKept", in(`{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME", "value": {"START": "2024-01-01 10:00:00.123", "END": "2024-01-01t11"}}`),
			out(`{"action":"SCHEDULE_BETWEEN_DATETIME_RANGE","key":"CURRENT_DATETIME","value":{"START":"2024-01-01 10:00:00.123","END":"2024-01-01t11"}}`)},
		{"StartRoundedUpEndDown", in(`{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE", "key": "CURRENT_DATETIME", "value": {"START": "2024-12-31T23:59:59.9999991", "END": "2025-01-01T00:00:00.9999999"}}`),
			out(`{"action":"SCHEDULE_BETWEEN_DATETIME_RANGE","key":"CURRENT_DATETIME","value":{"START":"2025-01-01T00:00:00.000000","END":"2025-01-01T00:00:00.999999"}}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, warnings := vflag.PowertoolsDocument([]vflag.PowertoolsInput{{Feature: "f", Value: tt.doc}})
			if len(warnings) > 0 {
				t.Fatal(warnings)
			}
			if want := `{"f":` + tt.want + `}`; string(doc) != want {
				t.Errorf("got  %s\nwant %s", doc, want)
			}
		})
	}
}

// TestPowertoolsDocumentLeavesOut checks the warnings of flags that are
// left out.
func TestPowertoolsDocumentLeavesOut(t *testing.T) {
	doc, warnings := vflag.PowertoolsDocument([]vflag.PowertoolsInput{
		{Feature: "ok", Value: "true"},
		{Feature: "twice", Value: "true"},
		{Feature: "twice", Value: "false"},
		{Feature: "", Value: "true"},
		{Feature: "bad\xff", Value: "true"},
		{Feature: "rollout", Value: `{"rollout_percentage": 5}`},
		{Feature: "rule-rollout", Value: `{"default": false, "rules": [{"name": "beta", "when_match": true, "rollout_percentage": 5}]}`},
		{Feature: "start-after-year-9999", Value: `{"default": false, "rules": [{"when_match": true, "conditions": [{"action": "SCHEDULE_BETWEEN_DATETIME_RANGE",
			"key": "CURRENT_DATETIME", "value": {"START": "9999-12-31T23:59:59.9999999", "END": "9999-12-31T23:59:59.9999999"}}]}]}`},
	})
	if string(doc) != `{"ok":{"default":true}}` {
		t.Errorf("document %s", doc)
	}
	want := []struct{ feature, reason string }{
		{"", "no name"},
		{"bad\xff", "not valid UTF-8"},
		{"rollout", "the flag has a rollout_percentage: Vane assigns subjects to a rollout by a SHA-256 bucket"},
		{"rule-rollout", `rule "beta" has a rollout_percentage`},
		{"start-after-year-9999", "after year 9999"},
		{"twice", "2 flags have this name"},
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", warnings, len(want))
	}
	for i, w := range want {
		if warnings[i].Feature != w.feature || !strings.Contains(warnings[i].Reason, w.reason) {
			t.Errorf("warning %d: %q, want %q containing %q", i, warnings[i], w.feature, w.reason)
		}
	}
}

// TestPowertoolsDocumentDeterministic translates the corpus in many
// orders: the bytes must not change.
func TestPowertoolsDocumentDeterministic(t *testing.T) {
	var in []vflag.PowertoolsInput
	for _, c := range powertoolsCorpus {
		in = append(in, vflag.PowertoolsInput{Feature: c.name, Value: c.doc})
	}
	first, firstWarnings := vflag.PowertoolsDocument(in)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		doc, warnings := vflag.PowertoolsDocument(in)
		if !bytes.Equal(doc, first) || !slices.Equal(warnings, firstWarnings) {
			t.Fatalf("another order gives another document:\n%s\n%s", first, doc)
		}
	}
}

// TestPowertoolsGolden pins the document of testdata/powertools-flags.json
// byte for byte (the golden file is the document indented, and its
// compact form must be the document).
func TestPowertoolsGolden(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "powertools-flags.json"))
	if err != nil {
		t.Fatal(err)
	}
	var flags []struct {
		Feature string          `json:"feature"`
		Value   json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(src, &flags); err != nil {
		t.Fatal(err)
	}
	var in []vflag.PowertoolsInput
	for _, f := range flags {
		// A value given as a JSON string is the parameter's text;
		// anything else is the text itself.
		var s string
		if json.Unmarshal(f.Value, &s) != nil {
			s = string(f.Value)
		}
		in = append(in, vflag.PowertoolsInput{Feature: f.Feature, Value: s})
	}
	doc, warnings := vflag.PowertoolsDocument(in)
	var got bytes.Buffer
	got.WriteString(`{"document": `)
	got.Write(doc)
	got.WriteString(`, "warnings": `)
	w, _ := json.Marshal(warnings)
	got.Write(w)
	got.WriteString("}")
	var indented bytes.Buffer
	if err := json.Indent(&indented, got.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	path := filepath.Join("testdata", "powertools.golden.json")
	if *update {
		if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPowertoolsGolden -update ./flag/ once)", err)
	}
	var golden struct{ Document json.RawMessage }
	if err := json.Unmarshal(want, &golden); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, golden.Document)
	if !bytes.Equal(compact.Bytes(), doc) {
		t.Errorf("the document differs from %s:\ngot  %s\nwant %s", path, doc, compact.Bytes())
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("the warnings differ from %s:\n%s", path, indented.Bytes())
	}
	if err := checkPowertoolsSchema(doc); err != nil {
		t.Error(err)
	}
}

// FuzzPowertoolsDocument translates arbitrary flag values: whatever Parse
// accepts and the translation includes must pass Powertools' schema, read
// back in Vane, and serve Vane's values.
func FuzzPowertoolsDocument(f *testing.F) {
	for _, c := range powertoolsCorpus {
		f.Add(c.doc)
	}
	contexts := []vflag.Context{
		{},
		{"targetingKey": "u-beta", "region": "eu-west-1", "tier": "premium", "age": 30.0, "groups": []any{"beta-testers"}, "n": 3.0},
		{"user_id": "u-banned", "region": "us-east-1", "tier": nil, "age": "30", "groups": "beta", "n": -7.5},
		{"targetingKey": "", "user_id": "u1", "region": 5.0, "tier": []any{"a"}, "age": 17.0, "n": "3"},
		{"targetingKey": "u1", "user_id": "u1", "region": "", "tier": map[string]any{"a": 1.0}},
		{"targetingKey": "u2", "user_id": "u-beta", "region": "eu-west-1", "tier": "free"},
	}
	instants := []time.Time{
		time.Date(2026, 11, 21, 23, 40, 0, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2024, 11, 29, 8, 30, 15, 123456000, time.UTC),
	}
	f.Fuzz(func(t *testing.T, value string) {
		orig, err := vflag.Parse("/app/features/fuzz", value)
		doc, warnings := vflag.PowertoolsDocument([]vflag.PowertoolsInput{{Feature: "f", Value: value}})
		if err != nil {
			if len(warnings) != 1 || string(doc) != "{}" {
				t.Fatalf("an invalid value gives %s, %v", doc, warnings)
			}
			return
		}
		if len(warnings) > 0 {
			return
		}
		if err := checkPowertoolsSchema(doc); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var features map[string]json.RawMessage
		if err := json.Unmarshal(doc, &features); err != nil || len(features) != 1 {
			t.Fatalf("%s: %v", doc, err)
		}
		trans, err := vflag.Parse("/app/features/fuzz", vaneForm(t, features["f"]))
		if err != nil {
			t.Fatalf("the translation %s does not parse: %v", features["f"], err)
		}
		for _, ctx := range contexts {
			if divergent(value, ctx) {
				continue
			}
			for _, at := range instants {
				want, got := orig.Evaluate(ctx, at), trans.Evaluate(ctx, at)
				if noSubject(want) {
					continue
				}
				if w, g := jsonText(t, want.Value), jsonText(t, got.Value); w != g {
					t.Fatalf("at %v for %v: Vane serves %s (%s %q), the translation %s (rule %q)\ntranslation: %s",
						at, ctx, w, want.Reason, want.Rule, g, got.Rule, features["f"])
				}
			}
		}
	})
}

// Powertools' actions, and the context key each schedule action must have
// (schema.py, RuleAction and TimeKeys).
var (
	powertoolsActions = []string{"EQUALS", "NOT_EQUALS", "KEY_GREATER_THAN_VALUE", "KEY_GREATER_THAN_OR_EQUAL_VALUE",
		"KEY_LESS_THAN_VALUE", "KEY_LESS_THAN_OR_EQUAL_VALUE", "STARTSWITH", "ENDSWITH", "IN", "NOT_IN", "KEY_IN_VALUE",
		"KEY_NOT_IN_VALUE", "VALUE_IN_KEY", "VALUE_NOT_IN_KEY", "ALL_IN_VALUE", "ANY_IN_VALUE", "NONE_IN_VALUE",
		"SCHEDULE_BETWEEN_TIME_RANGE", "SCHEDULE_BETWEEN_DATETIME_RANGE", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "MODULO_RANGE"}
	powertoolsScheduleKeys = map[string]string{"SCHEDULE_BETWEEN_TIME_RANGE": "CURRENT_TIME",
		"SCHEDULE_BETWEEN_DATETIME_RANGE": "CURRENT_DATETIME", "SCHEDULE_BETWEEN_DAYS_OF_WEEK": "CURRENT_DAY_OF_WEEK"}
	powertoolsDays = []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}
	// TIME_RANGE_PATTERN in constants.py, which schema.py applies with
	// re.match: anchored at the start only.
	powertoolsTimePattern = regexp.MustCompile(`^(2[0-3]:[0-5]\d|[0-1]\d:[0-5]\d)`)
	// What datetime.fromisoformat takes on every Python that Powertools
	// supports (3.9 and 3.10 take a fraction of 3 or 6 digits only), less
	// offsets, which schema.py rejects.
	powertoolsDatetimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(.\d{2}(:\d{2}(:\d{2}(\.(\d{3}|\d{6}))?)?)?)?$`)
)

// checkPowertoolsSchema applies to a document the checks of Powertools'
// SchemaValidator (schema.py: FeaturesValidator, RulesValidator,
// ConditionsValidator), with Python's truthiness where schema.py uses it,
// and four more that are not in schema.py but that decide whether every
// Powertools installation reads the document as Vane does: it is UTF-8
// (Python's json.loads fails otherwise), no object repeats a key (Python
// keeps the last), date-times are in the form every supported Python
// reads, and no TIMEZONE is "" or null (dateutil reads those as the
// host's zone).
func checkPowertoolsSchema(doc []byte) error {
	if !utf8.Valid(doc) {
		return errors.New("not valid UTF-8")
	}
	if err := noRepeatedKeys(json.NewDecoder(bytes.NewReader(doc))); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	features, ok := v.(map[string]any)
	if !ok {
		return errors.New("Features must be a dictionary")
	}
	for name, fv := range features {
		feature, ok := fv.(map[string]any)
		if !ok || len(feature) == 0 {
			return fmt.Errorf("feature %q: must be a non-empty dictionary", name)
		}
		boolean := true
		if bt, ok := feature["boolean_type"]; ok {
			boolean = truthy(bt)
		}
		def := feature["default"]
		if _, isBool := def.(bool); def == nil || boolean && !isBool {
			return fmt.Errorf("feature %q: 'default' boolean key must be present", name)
		}
		if !truthy(feature["rules"]) {
			continue
		}
		rules, ok := feature["rules"].(map[string]any)
		if !ok {
			return fmt.Errorf("feature %q: rules must be a dictionary", name)
		}
		for rn, rv := range rules {
			if err := checkPowertoolsRule(rn, rv, boolean); err != nil {
				return fmt.Errorf("feature %q, rule %q: %w", name, rn, err)
			}
		}
	}
	return nil
}

func checkPowertoolsRule(name string, rv any, boolean bool) error {
	rule, ok := rv.(map[string]any)
	if !ok || len(rule) == 0 {
		return errors.New("must be a non-empty dictionary")
	}
	if name == "" {
		return errors.New("rule name must be a non-empty string")
	}
	if _, isBool := rule["when_match"].(bool); boolean && !isBool {
		return errors.New("when_match must be a boolean")
	}
	conds, ok := rule["conditions"].([]any)
	if !ok || len(conds) == 0 {
		return errors.New("conditions must be a non-empty list")
	}
	for i, cv := range conds {
		c, ok := cv.(map[string]any)
		if !ok || len(c) == 0 {
			return fmt.Errorf("condition %d must be a non-empty dictionary", i)
		}
		action, _ := c["action"].(string)
		if !slices.Contains(powertoolsActions, action) {
			return fmt.Errorf("condition %d: unknown action %v", i, c["action"])
		}
		key, _ := c["key"].(string)
		if key == "" {
			return fmt.Errorf("condition %d: key must be a non-empty string", i)
		}
		if want, ok := powertoolsScheduleKeys[action]; ok && key != want {
			return fmt.Errorf("condition %d: %s needs key %s", i, action, want)
		}
		value, ok := c["value"]
		if !ok || value == nil {
			return fmt.Errorf("condition %d: value must not be null", i)
		}
		if err := checkPowertoolsValue(action, value); err != nil {
			return fmt.Errorf("condition %d: %w", i, err)
		}
	}
	return nil
}

func checkPowertoolsValue(action string, value any) error {
	m, isMap := value.(map[string]any)
	switch action {
	case "ALL_IN_VALUE", "ANY_IN_VALUE", "NONE_IN_VALUE":
		if _, ok := value.([]any); !ok {
			return fmt.Errorf("%s needs a list", action)
		}
	case "MODULO_RANGE":
		if !isMap {
			return errors.New("MODULO_RANGE needs a dictionary")
		}
		var n [3]int64
		for i, f := range []string{"BASE", "START", "END"} {
			num, ok := m[f].(json.Number)
			if !ok || strings.ContainsAny(string(num), ".eE") {
				return fmt.Errorf("MODULO_RANGE %s must be an integer", f)
			}
			x, err := num.Int64()
			if err != nil {
				return err
			}
			n[i] = x
		}
		if !(0 <= n[1] && n[1] <= n[2] && n[2] <= n[0]-1) {
			return errors.New("MODULO_RANGE must satisfy 0 <= START <= END <= BASE-1")
		}
	case "SCHEDULE_BETWEEN_DAYS_OF_WEEK":
		if !isMap || len(m) == 0 {
			return errors.New("needs a dictionary with DAYS")
		}
		days, ok := m["DAYS"].([]any)
		if !ok {
			return errors.New("DAYS must be a list")
		}
		for _, d := range days {
			if s, _ := d.(string); !slices.Contains(powertoolsDays, s) {
				return fmt.Errorf("unknown day %v", d)
			}
		}
		return checkPowertoolsTimezone(m)
	case "SCHEDULE_BETWEEN_TIME_RANGE", "SCHEDULE_BETWEEN_DATETIME_RANGE":
		if !isMap {
			return errors.New("needs a dictionary with START and END")
		}
		for _, f := range []string{"START", "END"} {
			s, ok := m[f].(string)
			if !ok {
				return fmt.Errorf("%s must be a string", f)
			}
			if action == "SCHEDULE_BETWEEN_TIME_RANGE" && !powertoolsTimePattern.MatchString(s) {
				return fmt.Errorf("%s %q is not HH:MM", f, s)
			}
			if action == "SCHEDULE_BETWEEN_DATETIME_RANGE" && !powertoolsDatetimePattern.MatchString(s) {
				return fmt.Errorf("%s %q is not a date-time every supported Python reads", f, s)
			}
		}
		return checkPowertoolsTimezone(m)
	}
	return nil
}

func checkPowertoolsTimezone(m map[string]any) error {
	tz, ok := m["TIMEZONE"]
	if !ok {
		return nil // "UTC" in schema.py and comparators.py alike
	}
	s, isString := tz.(string)
	switch {
	case !isString || s == "":
		return fmt.Errorf("TIMEZONE %v: dateutil reads it as the host's zone", tz)
	case s == "Local":
		return errors.New(`TIMEZONE "Local" is no IANA zone`)
	}
	if _, err := time.LoadLocation(s); err != nil {
		return fmt.Errorf("TIMEZONE %q: %v", s, err)
	}
	return nil
}

// truthy is Python's bool() of a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, _ := x.Float64()
		return f != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// noRepeatedKeys fails if an object in the decoder's value repeats a key.
func noRepeatedKeys(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		if d == '{' {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			if seen[k.(string)] {
				return fmt.Errorf("key %q appears twice in an object", k)
			}
			seen[k.(string)] = true
		}
		if err := noRepeatedKeys(dec); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// TestPowertoolsTranslatesFullAndZeroRollouts pins the translation of the
// rollouts that need no bucket, and the divergence that comes with it: a
// context without a subject is an error in Vane (the caller's default, or
// fallback_on_error) and the rollout's value in Powertools.
func TestPowertoolsTranslatesFullAndZeroRollouts(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{`{"rollout_percentage": 100}`, `{"default":true}`},
		{`{"rollout_percentage": 0}`, `{"default":false}`},
		{`{"variants": {"a": "x", "b": "y"}, "on_variant": "b", "off_variant": "a", "rollout_percentage": 100}`, `{"default":"y","boolean_type":false}`},
	} {
		doc, warnings := vflag.PowertoolsDocument([]vflag.PowertoolsInput{{Feature: "f", Value: tt.doc}})
		if len(warnings) > 0 || string(doc) != `{"f":`+tt.want+`}` {
			t.Errorf("%s: %s %v, want %s", tt.doc, doc, warnings, tt.want)
		}
	}
	r := mustParse(t, "/a/features/f", `{"rollout_percentage": 100}`).Evaluate(vflag.Context{"tier": "x"}, now)
	if !noSubject(r) {
		t.Errorf("Vane's answer without a subject: %+v, want the TARGETING_KEY_MISSING error", r)
	}
	if _, warnings := vflag.PowertoolsDocument([]vflag.PowertoolsInput{{Feature: "f", Value: `{"rollout_percentage": 99.999}`}}); len(warnings) != 1 {
		t.Errorf("a 99.999%% rollout was translated: %v", warnings)
	}
}
