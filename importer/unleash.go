package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/vanehq/vane/manifest"
)

// unleashExport is an Unleash export: the features with their strategies
// inline (the client API and the v3 state export), or as
// featureStrategies and featureEnvironments (the v4 state export and the
// v5 features-batch export) for one environment.
type unleashExport struct {
	Features []struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Enabled     *bool             `json:"enabled"`
		Strategies  []unleashStrategy `json:"strategies"`
		Variants    []json.RawMessage `json:"variants"`
		Archived    bool              `json:"archived"`
	} `json:"features"`
	FeatureStrategies   []unleashStrategy `json:"featureStrategies"`
	FeatureEnvironments []struct {
		FeatureName string            `json:"featureName"`
		Environment string            `json:"environment"`
		Enabled     bool              `json:"enabled"`
		Variants    []json.RawMessage `json:"variants"`
	} `json:"featureEnvironments"`
}

type unleashStrategy struct {
	Name         string            `json:"name"`
	StrategyName string            `json:"strategyName"`
	FeatureName  string            `json:"featureName"`
	Environment  string            `json:"environment"`
	Parameters   map[string]any    `json:"parameters"`
	Constraints  []json.RawMessage `json:"constraints"`
	Segments     []json.RawMessage `json:"segments"`
	Variants     []json.RawMessage `json:"variants"`
	Disabled     bool              `json:"disabled"`
}

// convertUnleash converts an Unleash export of one environment. See
// doc/importers-flags.md for what maps and what is skipped.
func convertUnleash(data []byte, to string) (*manifest.File, []Skip, error) {
	var in unleashExport
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, nil, fmt.Errorf("not an Unleash export: %w", err)
	}
	if in.Features == nil {
		return nil, nil, errors.New("not an Unleash export: no \"features\" list")
	}
	envs := map[string]bool{}
	for _, s := range in.FeatureStrategies {
		if s.Environment != "" {
			envs[s.Environment] = true
		}
	}
	for _, e := range in.FeatureEnvironments {
		if e.Environment != "" {
			envs[e.Environment] = true
		}
	}
	if len(envs) > 1 {
		names := make([]string, 0, len(envs))
		for e := range envs {
			names = append(names, e)
		}
		slices.Sort(names)
		return nil, nil, fmt.Errorf("the export holds environments %s: export one environment per Vane path", strings.Join(names, ", "))
	}
	ff := newFlagFile(to)
	for _, feat := range in.Features {
		if feat.Archived {
			ff.skip(feat.Name, errors.New("archived"))
			continue
		}
		enabled, strategies, variants := false, feat.Strategies, len(feat.Variants) > 0
		if feat.Enabled != nil {
			enabled = *feat.Enabled
		}
		for _, e := range in.FeatureEnvironments {
			if e.FeatureName == feat.Name {
				enabled, variants = e.Enabled, variants || len(e.Variants) > 0
			}
		}
		for _, s := range in.FeatureStrategies {
			if s.FeatureName == feat.Name {
				strategies = append(strategies, s)
			}
		}
		if variants {
			ff.skip(feat.Name, errors.New("variants: Vane would serve the on/off state but not the variant payloads"))
			continue
		}
		f, err := unleashConvert(enabled, strategies)
		if err != nil {
			ff.skip(feat.Name, err)
			continue
		}
		f.Description = feat.Description
		ff.add(feat.Name, feat.Name, f)
	}
	return ff.result()
}

func unleashConvert(enabled bool, strategies []unleashStrategy) (*vaneFlag, error) {
	f := &vaneFlag{}
	if !enabled {
		off := false
		f.Enabled = &off
		return f, nil
	}
	var active []unleashStrategy
	for _, s := range strategies {
		if !s.Disabled {
			active = append(active, s)
		}
	}
	if len(active) == 0 {
		return f, nil // enabled without strategies: on for everyone
	}
	rollouts := 0
	for _, s := range active {
		name := s.Name
		if name == "" {
			name = s.StrategyName
		}
		if len(s.Constraints) > 0 || len(s.Segments) > 0 {
			return nil, fmt.Errorf("strategy %s has constraints or segments: not mapped", name)
		}
		if len(s.Variants) > 0 {
			return nil, fmt.Errorf("strategy %s has variants: Vane would serve the on/off state but not the payloads", name)
		}
		switch name {
		case "default":
			// One strategy that is on for everyone makes the feature on.
			return &vaneFlag{}, nil
		case "userWithId":
			ids, _ := s.Parameters["userIds"].(string)
			for _, id := range strings.Split(ids, ",") {
				if id = strings.TrimSpace(id); id != "" && !slices.Contains(f.AllowedUserIDs, id) {
					f.AllowedUserIDs = append(f.AllowedUserIDs, id)
				}
			}
		case "flexibleRollout", "gradualRolloutUserId", "gradualRolloutSessionId":
			rollouts++
			if rollouts > 1 {
				return nil, errors.New("more than one rollout strategy: Unleash hashes each on its own groupId, so their union is not one Vane share")
			}
			param, stickiness := "rollout", "default"
			switch name {
			case "gradualRolloutUserId":
				param, stickiness = "percentage", "userId"
			case "gradualRolloutSessionId":
				param, stickiness = "percentage", "sessionId"
			}
			if st, ok := s.Parameters["stickiness"].(string); ok && st != "" {
				stickiness = st
			}
			switch stickiness {
			case "default", "userId":
				// Vane's subject: targetingKey, or user_id.
			case "random":
				return nil, fmt.Errorf("strategy %s: random stickiness: Vane buckets on a stable key", name)
			default:
				f.BucketBy = stickiness
			}
			p, ok := unleashPercent(s.Parameters[param])
			if !ok {
				return nil, fmt.Errorf("strategy %s: %s %v is not a percentage from 0 to 100 with at most three decimals", name, param, s.Parameters[param])
			}
			f.RolloutPercentage = p
		default:
			return nil, fmt.Errorf("strategy %s has no Vane counterpart", name)
		}
	}
	if f.RolloutPercentage == "" && len(f.AllowedUserIDs) > 0 {
		// Only the listed users: everyone else gets the off variant.
		f.DefaultVariant = "off"
	}
	return f, nil
}

// unleashPercent reads a percentage parameter, which exports hold as a
// number or as a string.
func unleashPercent(x any) (string, bool) {
	var s string
	switch v := x.(type) {
	case string:
		s = v
	case float64:
		s = fmt.Sprint(v)
	default:
		return "", false
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(100, 1)) > 0 {
		return "", false
	}
	p, ok := percent(new(big.Rat).Quo(r, big.NewRat(100, 1)))
	return trimPercent(p), ok
}
