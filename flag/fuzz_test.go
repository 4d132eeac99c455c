package flag_test

import (
	"testing"
	"time"

	vflag "github.com/vanehq/vane/flag"
)

// FuzzParse feeds arbitrary values to the document parser: it must never
// panic, and a document it accepts must evaluate without panicking to a
// value of the flag's kind (or, on ReasonError, nil or the fallback).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`true`, `false`, `{}`, `{"enabled": false}`,
		`{"enabled": true, "rollout_percentage": 12.345, "allowed_regions": ["eu-west-1"], "excluded_user_ids": ["u1"], "fallback_on_error": false}`,
		`{"default": false, "rules": {"premium": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}}}`,
		`{"variants": {"a": "A", "b": "B"}, "default_variant": "a", "rules": [{"variant": "b", "rollout_percentage": 50, "conditions": [{"action": "MODULO_RANGE", "key": "n", "value": {"BASE": 10, "START": 0, "END": 4}}]}]}`,
		`{"default": false, "rules": [{"when_match": true, "conditions": [{"action": "SCHEDULE_BETWEEN_TIME_RANGE", "key": "CURRENT_TIME", "value": {"START": "22:00", "END": "02:00", "TIMEZONE": "Europe/Paris"}}]}]}`,
		`{"default": false, "rules": [{"when_match": true, "conditions": [{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK", "value": {"DAYS": ["MONDAY"], "TIMEZONE": "Pacific/Auckland"}}]}]}`,
		`{"variants": {"x": {"k": [1, 2]}}, "default_variant": "x", "off_variant": "x", "metadata": {"a": 1}}`,
	} {
		f.Add(seed)
	}
	contexts := []vflag.Context{
		nil, {}, {"targetingKey": "u1", "tier": "premium", "region": "eu-west-1", "n": 3.0},
		{"user_id": "u1", "tier": 5.0, "region": nil, "n": "x"}, {"targetingKey": []any{"a"}},
	}
	now := time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc string) {
		fl, err := vflag.Parse("/app/features/fuzz", doc)
		if err != nil {
			if _, ok := err.(*vflag.Error); !ok {
				t.Fatalf("Parse(%q) returned %T, want *flag.Error", doc, err)
			}
			return
		}
		for _, ctx := range contexts {
			r := fl.Evaluate(ctx, now)
			if r.Reason == vflag.ReasonError {
				continue
			}
			if !ofKind(r.Value, fl.Kind()) {
				t.Fatalf("Parse(%q).Evaluate(%v) = %#v (%s), not of kind %s", doc, ctx, r.Value, r.Reason, fl.Kind())
			}
		}
	})
}

func ofKind(v any, k vflag.Kind) bool {
	switch v.(type) {
	case bool:
		return k == vflag.Boolean
	case string:
		return k == vflag.String
	case float64:
		return k == vflag.Number
	case map[string]any:
		return k == vflag.Object
	}
	return false
}
