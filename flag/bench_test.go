package flag_test

import (
	"testing"
	"time"

	vflag "github.com/vanehq/vane/flag"
)

var sinkResult vflag.Result

// BenchmarkEvaluate measures Flag.Evaluate alone (no client around it).
func BenchmarkEvaluate(b *testing.B) {
	now := time.Now()
	ctx := vflag.Context{"targetingKey": "user-42", "tier": "premium", "region": "eu-west-1", "age_days": 45.0, "email": "ann@example.com", "plan": "pro"}
	for _, bc := range []struct{ name, doc string }{
		{"BoolDocument", `{"enabled": true, "excluded_user_ids": ["u-banned"]}`},
		{"Rollout", `{"rollout_percentage": 50}`},
		{"FiveConditionsAndRollout", `{"default": false, "rules": [{"name": "eu-premium", "when_match": true, "rollout_percentage": 50, "conditions": [
			{"action": "EQUALS", "key": "tier", "value": "premium"},
			{"action": "IN", "key": "region", "value": ["eu-west-1", "eu-central-1"]},
			{"action": "KEY_GREATER_THAN_OR_EQUAL_VALUE", "key": "age_days", "value": 30},
			{"action": "STARTSWITH", "key": "email", "value": "a"},
			{"action": "NOT_EQUALS", "key": "plan", "value": "trial"}]}]}`},
	} {
		f, err := vflag.Parse("/app/features/x", bc.doc)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkResult = f.Evaluate(ctx, now)
			}
		})
	}
	b.Run("TimeNow", func(b *testing.B) {
		for b.Loop() {
			now = time.Now()
		}
	})
}
