package importer_test

import (
	"testing"

	"github.com/vanehq/vane/flag"
)

// Distributions that add up to less than 100 serve the default variant to
// the rest of the rule's subjects, and later rules never see them, as in
// Flipt.
func TestFliptDistributionsKeepShares(t *testing.T) {
	got := shares(t, "flipt", "testdata/flipt/features.input", "search-engine", flag.Context{"region": "eu-west-1", "plan": "pro"}, 20000)
	checkShares(t, got, map[string]float64{"vector": 0.335, "elastic": 0.665})
	got = shares(t, "flipt", "testdata/flipt/features.input", "search-engine", flag.Context{"region": "us-east-1"}, 20000)
	checkShares(t, got, map[string]float64{"vector": 0.10, "elastic": 0.90})
}

// A boolean flag's threshold rollout applies after its segment rollouts.
func TestFliptBooleanThreshold(t *testing.T) {
	got := shares(t, "flipt", "testdata/flipt/features.input", "new-checkout", flag.Context{"country": "KP", "email": "a@b.example"}, 2000)
	checkShares(t, got, map[string]float64{"off": 1})
	got = shares(t, "flipt", "testdata/flipt/features.input", "new-checkout", flag.Context{"country": "FR"}, 20000)
	checkShares(t, got, map[string]float64{"on": 0.25, "off": 0.75})
}
