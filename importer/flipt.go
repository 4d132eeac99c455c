package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/vanehq/vane/manifest"
)

// fliptDocument is one YAML document of a Flipt export (features.yaml).
type fliptDocument struct {
	Version   string         `yaml:"version"`
	Namespace yaml.Node      `yaml:"namespace"`
	Flags     []fliptFlag    `yaml:"flags"`
	Segments  []fliptSegment `yaml:"segments"`
}

type fliptFlag struct {
	Key         string         `yaml:"key"`
	Name        string         `yaml:"name"`
	Type        string         `yaml:"type"`
	Description string         `yaml:"description"`
	Enabled     bool           `yaml:"enabled"`
	Metadata    map[string]any `yaml:"metadata"`
	Variants    []struct {
		Key        string `yaml:"key"`
		Default    bool   `yaml:"default"`
		Attachment any    `yaml:"attachment"`
	} `yaml:"variants"`
	Rules []struct {
		Segment       fliptSegmentRule `yaml:"segment"`
		Distributions []struct {
			Variant string  `yaml:"variant"`
			Rollout float64 `yaml:"rollout"`
		} `yaml:"distributions"`
	} `yaml:"rules"`
	Rollouts []struct {
		Segment   *fliptSegmentRule `yaml:"segment"`
		Threshold *struct {
			Percentage float64 `yaml:"percentage"`
			Value      bool    `yaml:"value"`
		} `yaml:"threshold"`
	} `yaml:"rollouts"`
}

// fliptSegmentRule is a rule's segment: a key, a list of keys, or an
// object with key or keys, an operator and (in rollouts) a value.
type fliptSegmentRule struct {
	Keys     []string
	Operator string
	Value    bool
}

// UnmarshalYAML implements yaml.Unmarshaler for the three forms.
func (s *fliptSegmentRule) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		s.Keys = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		return n.Decode(&s.Keys)
	}
	var aux struct {
		Key      string   `yaml:"key"`
		Keys     []string `yaml:"keys"`
		Operator string   `yaml:"operator"`
		Value    bool     `yaml:"value"`
	}
	if err := n.Decode(&aux); err != nil {
		return err
	}
	s.Keys, s.Operator, s.Value = aux.Keys, aux.Operator, aux.Value
	if len(s.Keys) == 0 && aux.Key != "" {
		s.Keys = []string{aux.Key}
	}
	return nil
}

type fliptSegment struct {
	Key         string `yaml:"key"`
	MatchType   string `yaml:"match_type"`
	Constraints []struct {
		Type     string `yaml:"type"`
		Property string `yaml:"property"`
		Operator string `yaml:"operator"`
		Value    string `yaml:"value"`
	} `yaml:"constraints"`
}

// convertFlipt converts a Flipt export of one namespace. See
// doc/importers-flags.md for what maps and what is skipped.
func convertFlipt(data []byte, to string) (*manifest.File, []Skip, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []fliptDocument
	namespace := ""
	for {
		var d fliptDocument
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("not a Flipt export: %w", err)
		}
		ns := d.Namespace.Value
		if d.Namespace.Kind == yaml.MappingNode {
			var m struct {
				Key string `yaml:"key"`
			}
			_ = d.Namespace.Decode(&m)
			ns = m.Key
		}
		if ns == "" {
			ns = "default"
		}
		if len(docs) > 0 && ns != namespace {
			return nil, nil, fmt.Errorf("the export holds namespaces %q and %q: export one namespace per Vane path", namespace, ns)
		}
		namespace = ns
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, nil, errors.New("not a Flipt export: no document")
	}
	ff := newFlagFile(to)
	for _, d := range docs {
		segments := map[string]fliptSegment{}
		for _, s := range d.Segments {
			segments[s.Key] = s
		}
		for _, fl := range d.Flags {
			f, err := fliptConvert(fl, segments)
			if err != nil {
				ff.skip(fl.Key, err)
				continue
			}
			ff.add(fl.Key, fl.Key, f)
		}
	}
	return ff.result()
}

func fliptConvert(fl fliptFlag, segments map[string]fliptSegment) (*vaneFlag, error) {
	f := &vaneFlag{Description: fl.Description, Metadata: fl.Metadata}
	switch fl.Type {
	case "BOOLEAN_FLAG_TYPE":
		// Flipt's enabled is the value served when no rollout decides.
		f.DefaultVariant = "off"
		if fl.Enabled {
			f.DefaultVariant = "on"
		}
		for i, ro := range fl.Rollouts {
			switch {
			case ro.Segment != nil:
				alts, err := fliptSegments(*ro.Segment, segments)
				if err != nil {
					return nil, fmt.Errorf("rollout %d: %w", i+1, err)
				}
				for _, conds := range alts {
					f.Rules = append(f.Rules, vaneRule{Conditions: conds, Variant: onOff(ro.Segment.Value)})
				}
			case ro.Threshold != nil:
				// Flipt buckets every threshold of a flag on one hash, as
				// Vane buckets every rule, so a threshold is a rule's share.
				p, ok := fliptPercent(ro.Threshold.Percentage)
				if !ok {
					return nil, fmt.Errorf("rollout %d: %v%% is not a whole thousandth of a percent, Vane's step", i+1, ro.Threshold.Percentage)
				}
				r := vaneRule{Conditions: []vaneCondition{}, Variant: onOff(ro.Threshold.Value)}
				if p == "0" {
					continue
				}
				if p != "100" {
					r.RolloutPercentage = json.Number(p)
				}
				f.Rules = append(f.Rules, r)
			default:
				return nil, fmt.Errorf("rollout %d has neither segment nor threshold", i+1)
			}
			if last := f.Rules; len(last) > 0 && len(last[len(last)-1].Conditions) == 0 && last[len(last)-1].RolloutPercentage == "" {
				// Flipt never reaches the rollouts after one that always
				// decides; neither would Vane, which rejects them.
				f.DefaultVariant = last[len(last)-1].Variant
				f.Rules = last[:len(last)-1]
				break
			}
		}
		return f, nil
	case "", "VARIANT_FLAG_TYPE":
	default:
		return nil, fmt.Errorf("flag type %q", fl.Type)
	}
	if len(fl.Variants) == 0 {
		return nil, errors.New("a variant flag without variants serves no value")
	}
	f.Variants = map[string]any{}
	for _, v := range fl.Variants {
		if v.Attachment != nil {
			return nil, fmt.Errorf("variant %q has an attachment: a Vane variant is one value, so the key or the attachment would be lost", v.Key)
		}
		f.Variants[v.Key] = v.Key
		if v.Default {
			f.DefaultVariant = v.Key
		}
	}
	if f.DefaultVariant == "" {
		return nil, errors.New("no default variant: Flipt then serves no variant (the caller's default), and a Vane flag always serves one; set a default variant in Flipt and export again")
	}
	if !fl.Enabled {
		off := false
		f.Enabled, f.OffVariant = &off, f.DefaultVariant
	}
	for i, ru := range fl.Rules {
		alts, err := fliptSegments(ru.Segment, segments)
		if err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
		if len(ru.Distributions) == 0 {
			return nil, fmt.Errorf("rule %d has no distributions: Flipt then matches with no variant", i+1)
		}
		var s split
		total := new(big.Rat)
		for _, d := range ru.Distributions {
			p, ok := fliptPercent(d.Rollout)
			if !ok {
				return nil, fmt.Errorf("rule %d: %v%% is not a whole thousandth of a percent", i+1, d.Rollout)
			}
			w, _ := new(big.Rat).SetString(p)
			s.variants, s.weights = append(s.variants, d.Variant), append(s.weights, w)
			total.Add(total, w)
		}
		// The subjects outside every distribution match the rule but get
		// no variant: Flipt serves them the default variant.
		if rest := new(big.Rat).Sub(big.NewRat(100, 1), total); rest.Sign() > 0 {
			s.variants, s.weights = append(s.variants, f.DefaultVariant), append(s.weights, rest)
		} else if rest.Sign() < 0 {
			return nil, fmt.Errorf("rule %d: distributions add up to more than 100%%", i+1)
		}
		for _, conds := range alts {
			rs, err := s.rules(conds, fmt.Sprintf("rule %d", i+1))
			if err != nil {
				return nil, err
			}
			f.Rules = append(f.Rules, rs...)
		}
	}
	return f, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// fliptPercent returns a Flipt percentage (a float32 in the export) as
// Vane's decimal text, if it has at most three decimals.
func fliptPercent(x float64) (string, bool) {
	s := strconv.FormatFloat(float64(float32(x)), 'f', -1, 32)
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 || r.Cmp(big.NewRat(100, 1)) > 0 {
		return "", false
	}
	p, ok := percent(new(big.Rat).Quo(r, big.NewRat(100, 1)))
	return trimPercent(p), ok
}

// fliptSegments returns the segments of a rule as alternatives of
// condition lists.
func fliptSegments(sr fliptSegmentRule, segments map[string]fliptSegment) ([][]vaneCondition, error) {
	if len(sr.Keys) == 0 {
		return nil, errors.New("no segment")
	}
	var alts [][]vaneCondition
	and := sr.Operator == "AND_SEGMENT_OPERATOR"
	if and {
		alts = [][]vaneCondition{{}}
	}
	for _, key := range sr.Keys {
		s, ok := segments[key]
		if !ok {
			return nil, fmt.Errorf("segment %q is not in the export", key)
		}
		sub, err := fliptSegmentConditions(s)
		if err != nil {
			return nil, err
		}
		if !and {
			alts = append(alts, sub...)
			continue
		}
		var next [][]vaneCondition
		for _, a := range alts {
			for _, b := range sub {
				next = append(next, append(append([]vaneCondition{}, a...), b...))
			}
		}
		alts = next
	}
	return alts, nil
}

func fliptSegmentConditions(s fliptSegment) ([][]vaneCondition, error) {
	var conds []vaneCondition
	for _, c := range s.Constraints {
		if c.Type != "STRING_COMPARISON_TYPE" {
			return nil, fmt.Errorf("segment %q: %s constraints: Flipt parses the string it is sent, and Vane compares JSON values by type", s.Key, c.Type)
		}
		vc := vaneCondition{Key: c.Property, Value: c.Value}
		switch c.Operator {
		case "eq":
			vc.Action = "EQUALS"
		case "neq":
			vc.Action = "NOT_EQUALS"
		case "prefix":
			vc.Action = "STARTSWITH"
		case "suffix":
			vc.Action = "ENDSWITH"
		case "isoneof", "isnotoneof":
			var list []string
			if err := json.Unmarshal([]byte(c.Value), &list); err != nil || len(list) == 0 {
				return nil, fmt.Errorf("segment %q: %s needs a non-empty JSON list of strings", s.Key, c.Operator)
			}
			vc.Action, vc.Value = "IN", list
			if c.Operator == "isnotoneof" {
				vc.Action = "NOT_IN"
			}
		default:
			return nil, fmt.Errorf("segment %q: operator %q has no Vane condition", s.Key, c.Operator)
		}
		if c.Value == "" {
			return nil, fmt.Errorf("segment %q: an empty value, which Flipt never matches", s.Key)
		}
		conds = append(conds, vc)
	}
	if s.MatchType == "ANY_MATCH_TYPE" && len(conds) > 0 {
		alts := make([][]vaneCondition, len(conds))
		for i, c := range conds {
			alts[i] = []vaneCondition{c}
		}
		return alts, nil
	}
	if conds == nil {
		conds = []vaneCondition{}
	}
	return [][]vaneCondition{conds}, nil
}
