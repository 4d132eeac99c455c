package importer_test

import (
	"testing"

	"github.com/vanehq/vane/flag"
)

// A rollout keeps its share (the users in it change: Vane's hash is not
// Unleash's), and userWithId users are always on.
func TestUnleashRolloutAndUsers(t *testing.T) {
	got := shares(t, "unleash", "testdata/unleash/export.input", "search-v2", nil, 20000)
	checkShares(t, got, map[string]float64{"on": 0.20, "off": 0.80})
	got = shares(t, "unleash", "testdata/unleash/export.input", "beta-api", nil, 2000)
	checkShares(t, got, map[string]float64{"off": 1})
	// shares sets targetingKey user-N; a listed user_id without one is on.
	got = shares(t, "unleash", "testdata/unleash/export.input", "beta-api", flag.Context{"targetingKey": nil, "user_id": "u-1002"}, 10)
	checkShares(t, got, map[string]float64{"on": 1})
}
