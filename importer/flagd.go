package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/manifest"
)

// vaneFlag is the flag document the flag converters write. Its fields are
// in the order a person reads them, and maps are written with sorted keys,
// so the same input always gives the same document.
type vaneFlag struct {
	Enabled           *bool          `json:"enabled,omitempty"`
	Description       string         `json:"description,omitempty"`
	Variants          map[string]any `json:"variants,omitempty"`
	OnVariant         string         `json:"on_variant,omitempty"`
	OffVariant        string         `json:"off_variant,omitempty"`
	DefaultVariant    string         `json:"default_variant,omitempty"`
	AllowedUserIDs    []string       `json:"allowed_user_ids,omitempty"`
	Rules             []vaneRule     `json:"rules,omitempty"`
	RolloutPercentage string         `json:"-"`
	BucketBy          string         `json:"bucket_by,omitempty"`
	Metadata          map[string]any `json:"metadata,omitempty"`
}

// vaneRule is a rule of a flag document.
type vaneRule struct {
	Conditions        []vaneCondition `json:"conditions"`
	Variant           string          `json:"variant"`
	RolloutPercentage json.Number     `json:"rollout_percentage,omitempty"`
}

// vaneCondition is a condition of a rule.
type vaneCondition struct {
	Action string `json:"action"`
	Key    string `json:"key"`
	Value  any    `json:"value"`
}

// errSkip is an item a converter cannot map; its message is the reason.
type errSkip struct{ reason string }

func (e *errSkip) Error() string { return e.reason }

func skipf(format string, args ...any) error {
	return &errSkip{fmt.Sprintf(format, args...)}
}

// flagFile collects the flags of one conversion.
type flagFile struct {
	to    string
	file  *manifest.File
	skips []Skip
}

func newFlagFile(to string) *flagFile {
	return &flagFile{to: to, file: &manifest.File{Version: manifest.FormatVersion, Path: to, Parameters: map[string]*manifest.Entry{}}}
}

func (ff *flagFile) skip(item string, err error) {
	ff.skips = append(ff.skips, Skip{Item: item, Reason: err.Error()})
}

// add writes the flag key as features/key, or skips it if Vane would
// reject its name or its document: a converter never emits a document the
// store refuses.
func (ff *flagFile) add(item, key string, f *vaneFlag) {
	rel := "features/" + key
	name := manifest.Join(ff.to, rel)
	if _, err := vane.ValidateName(name); err != nil {
		ff.skip(item, fmt.Errorf("%q is not a valid Vane name: %s", name, vane.ErrorMessage(err)))
		return
	}
	if _, dup := ff.file.Parameters[rel]; dup {
		ff.skip(item, fmt.Errorf("another flag is already imported as %s", rel))
		return
	}
	doc, err := marshalFlag(f)
	if err != nil {
		ff.skip(item, err)
		return
	}
	if err := flag.CheckParameter(name, "String", string(doc)); err != nil {
		ff.skip(item, fmt.Errorf("Vane rejects the converted document: %w", err))
		return
	}
	ff.file.Parameters[rel] = &manifest.Entry{Type: "String", Flag: manifest.Document(doc)}
}

func (ff *flagFile) result() (*manifest.File, []Skip, error) {
	return ff.file, ff.skips, nil
}

// marshalFlag writes f as compact JSON, with rollout_percentage as the
// decimal text it was computed as (never through a float).
func marshalFlag(f *vaneFlag) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	b := bytes.TrimSpace(buf.Bytes())
	if f.RolloutPercentage != "" {
		b = append(b[:len(b)-1], `,"rollout_percentage":`+f.RolloutPercentage+`}`...)
		if len(b) > 1 && b[1] == ',' {
			b = append(b[:1], b[2:]...)
		}
	}
	return b, nil
}

// percent returns r (a share from 0 to 1) as a percentage with at most three
// decimals, Vane's step, and false if it has more.
func percent(r *big.Rat) (string, bool) {
	p := new(big.Rat).Mul(r, big.NewRat(100000, 1))
	if !p.IsInt() {
		return "", false
	}
	return new(big.Rat).Quo(p, big.NewRat(1000, 1)).FloatString(3), true
}

// trimPercent drops trailing zeros from a percentage: "50.000" → "50".
func trimPercent(s string) string {
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// split is a weighted choice among variants (flagd's fractional, Flipt's
// distributions), as cumulative shares.
type split struct {
	variants []string
	weights  []*big.Rat
}

// rules returns the rules that serve a split to subjects matching conds.
// Vane buckets every rule of a flag on the same bucket, so rule i with the
// cumulative share of variants 1..i serves variant i exactly to its slice.
// The last rule has no rollout. Rules after a split's last one never see
// its subjects.
func (s split) rules(conds []vaneCondition, what string) ([]vaneRule, error) {
	total := new(big.Rat)
	var vs []string
	var ws []*big.Rat
	for i, w := range s.weights {
		if w.Sign() < 0 {
			return nil, skipf("%s: negative weight for %q", what, s.variants[i])
		}
		if w.Sign() > 0 {
			vs, ws = append(vs, s.variants[i]), append(ws, w)
			total.Add(total, w)
		}
	}
	if len(vs) == 0 {
		return nil, skipf("%s: every weight is 0", what)
	}
	var out []vaneRule
	cum := new(big.Rat)
	for i, v := range vs {
		r := vaneRule{Conditions: append([]vaneCondition{}, conds...), Variant: v}
		if i < len(vs)-1 {
			cum.Add(cum, ws[i])
			p, ok := percent(new(big.Rat).Quo(cum, total))
			if !ok {
				return nil, skipf("%s: the share up to %q is not a whole thousandth of a percent, Vane's step", what, v)
			}
			r.RolloutPercentage = json.Number(trimPercent(p))
		}
		out = append(out, r)
	}
	return out, nil
}

// flagd: a flag definition file.

type flagdFile struct {
	Flags      map[string]json.RawMessage `json:"flags"`
	Evaluators map[string]json.RawMessage `json:"$evaluators"`
}

type flagdFlag struct {
	State          string                     `json:"state"`
	Variants       map[string]json.RawMessage `json:"variants"`
	DefaultVariant *string                    `json:"defaultVariant"`
	Targeting      json.RawMessage            `json:"targeting"`
	Metadata       map[string]any             `json:"metadata"`
}

// convertFlagd converts a flagd flag definition file. See
// doc/importers-flags.md for what maps and what is skipped.
func convertFlagd(data []byte, to string) (*manifest.File, []Skip, error) {
	var in flagdFile
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, nil, fmt.Errorf("not a flagd flag definition file: %w", err)
	}
	if in.Flags == nil {
		return nil, nil, errors.New("not a flagd flag definition file: no \"flags\" object")
	}
	ff := newFlagFile(to)
	keys := make([]string, 0, len(in.Flags))
	for k := range in.Flags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		f, err := flagdConvert(key, in.Flags[key], in.Evaluators)
		if err != nil {
			ff.skip(key, err)
			continue
		}
		ff.add(key, key, f)
	}
	return ff.result()
}

func flagdConvert(key string, raw json.RawMessage, evaluators map[string]json.RawMessage) (*vaneFlag, error) {
	var in flagdFlag
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return nil, skipf("not a flagd flag: %v", err)
	}
	if len(in.Variants) == 0 {
		return nil, skipf("no variants")
	}
	if in.DefaultVariant == nil || *in.DefaultVariant == "" {
		return nil, skipf("no defaultVariant: flagd then serves the caller's default, and a Vane flag always serves a variant")
	}
	f := &vaneFlag{Variants: map[string]any{}, DefaultVariant: *in.DefaultVariant, Metadata: in.Metadata}
	for name, v := range in.Variants {
		var x any
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if err := d.Decode(&x); err != nil {
			return nil, skipf("variant %q: %v", name, err)
		}
		f.Variants[name] = x
	}
	switch in.State {
	case "ENABLED":
	case "DISABLED":
		// flagd answers a disabled flag with the caller's default; the
		// nearest Vane can serve is the default variant.
		off := false
		f.Enabled, f.OffVariant = &off, *in.DefaultVariant
	default:
		return nil, skipf("state %q: flagd knows ENABLED and DISABLED", in.State)
	}
	t := bytes.TrimSpace(in.Targeting)
	if len(t) == 0 || string(t) == "{}" || string(t) == "null" {
		return f, nil
	}
	var expr any
	d := json.NewDecoder(bytes.NewReader(t))
	d.UseNumber()
	if err := d.Decode(&expr); err != nil {
		return nil, skipf("targeting: %v", err)
	}
	c := flagdTargeting{evaluators: evaluators}
	expr, err := c.resolve(expr, 0)
	if err != nil {
		return nil, err
	}
	rules, err := c.result(nil, expr, "targeting")
	if err != nil {
		return nil, err
	}
	if len(rules) > 0 && len(rules[len(rules)-1].Conditions) == 0 && rules[len(rules)-1].RolloutPercentage == "" {
		// A last rule that always matches is the default variant.
		f.DefaultVariant = rules[len(rules)-1].Variant
		rules = rules[:len(rules)-1]
	}
	f.Rules, f.BucketBy = rules, c.bucketBy
	return f, nil
}

type flagdTargeting struct {
	evaluators map[string]json.RawMessage
	bucketBy   string
	bucketSet  bool
}

// resolve replaces {"$ref": name} with the shared evaluator it names.
func (c *flagdTargeting) resolve(x any, depth int) (any, error) {
	if depth > 20 {
		return nil, skipf("targeting: $ref nested too deep")
	}
	switch v := x.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok && len(v) == 1 {
			raw, ok := c.evaluators[ref]
			if !ok {
				return nil, skipf("targeting: $ref %q names no $evaluators entry", ref)
			}
			var e any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&e); err != nil {
				return nil, skipf("$evaluators.%s: %v", ref, err)
			}
			return c.resolve(e, depth+1)
		}
		out := map[string]any{}
		for k, e := range v {
			r, err := c.resolve(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := c.resolve(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return x, nil
}

// result returns the rules that serve what expression x returns to the
// subjects matching conds: a variant name, a fractional split, or an if.
func (c *flagdTargeting) result(conds []vaneCondition, x any, what string) ([]vaneRule, error) {
	switch v := x.(type) {
	case nil:
		return nil, nil // null: the default variant
	case string:
		return []vaneRule{{Conditions: append([]vaneCondition{}, conds...), Variant: v}}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, skipf("%s: an object with %d operators", what, len(v))
		}
		if args, ok := v["fractional"]; ok {
			s, err := c.fractional(args)
			if err != nil {
				return nil, err
			}
			return s.rules(conds, "fractional")
		}
		if args, ok := v["if"]; ok && conds == nil {
			return c.ifRules(args)
		}
		for op := range v {
			return nil, skipf("%s: %q as a result: Vane rules serve a variant or a split", what, op)
		}
	}
	return nil, skipf("%s: a %T as a result", what, x)
}

func (c *flagdTargeting) ifRules(args any) ([]vaneRule, error) {
	list, ok := args.([]any)
	if !ok || len(list) == 0 {
		return nil, skipf("targeting: if needs a list")
	}
	var rules []vaneRule
	for i := 0; i+1 < len(list); i += 2 {
		alts, err := c.condition(list[i])
		if err != nil {
			return nil, err
		}
		for _, conds := range alts {
			rs, err := c.result(conds, list[i+1], "if")
			if err != nil {
				return nil, err
			}
			rules = append(rules, rs...)
		}
	}
	if len(list)%2 == 1 {
		rs, err := c.result([]vaneCondition{}, list[len(list)-1], "if (else)")
		if err != nil {
			return nil, err
		}
		rules = append(rules, rs...)
	}
	return rules, nil
}

func (c *flagdTargeting) fractional(args any) (split, error) {
	list, ok := args.([]any)
	if !ok || len(list) == 0 {
		return split{}, skipf("fractional needs a list")
	}
	by := ""
	if _, isBucket := list[0].([]any); !isBucket {
		key, err := flagdBucketKey(list[0])
		if err != nil {
			return split{}, err
		}
		if key != "targetingKey" {
			by = key
		}
		list = list[1:]
	}
	if c.bucketSet && c.bucketBy != by {
		return split{}, skipf("fractionals bucket on different attributes: Vane has one bucket_by per flag")
	}
	c.bucketBy, c.bucketSet = by, true
	var s split
	for _, b := range list {
		bucket, ok := b.([]any)
		if !ok || len(bucket) == 0 || len(bucket) > 2 {
			return split{}, skipf("fractional: a bucket is [variant, weight]")
		}
		name, ok := bucket[0].(string)
		if !ok {
			return split{}, skipf("fractional: a bucket's variant is computed")
		}
		w := big.NewRat(1, 1)
		if len(bucket) == 2 {
			n, ok := bucket[1].(json.Number)
			if _, exact := new(big.Rat).SetString(n.String()); !ok || !exact {
				return split{}, skipf("fractional: the weight of %q is not a number", name)
			}
			w, _ = new(big.Rat).SetString(n.String())
		}
		s.variants, s.weights = append(s.variants, name), append(s.weights, w)
	}
	return s, nil
}

// condition returns a JsonLogic condition as alternatives (or) of lists of
// Vane conditions (and), where each maps exactly.
func (c *flagdTargeting) condition(x any) ([][]vaneCondition, error) {
	m, ok := x.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, skipf("targeting: a condition that is not one operator")
	}
	for op, args := range m {
		list, _ := args.([]any)
		switch op {
		case "and", "or":
			if len(list) == 0 {
				return nil, skipf("targeting: an empty %s", op)
			}
			var alts [][]vaneCondition
			if op == "and" {
				alts = [][]vaneCondition{{}}
			}
			for _, e := range list {
				sub, err := c.condition(e)
				if err != nil {
					return nil, err
				}
				if op == "or" {
					alts = append(alts, sub...)
					continue
				}
				var next [][]vaneCondition
				for _, a := range alts {
					for _, b := range sub {
						next = append(next, append(slices.Clone(a), b...))
					}
				}
				alts = next
			}
			if len(alts) > 32 {
				return nil, skipf("targeting: more than 32 alternatives once expanded into rules")
			}
			return alts, nil
		case "==", "===":
			if len(list) != 2 {
				return nil, skipf("targeting: %s needs two arguments", op)
			}
			key, lit, err := varAndLiteral(list[0], list[1])
			if err != nil {
				return nil, err
			}
			if op == "==" {
				// JsonLogic's == converts types ("1" == 1); Vane's EQUALS
				// does not, so only a string compared with a string context
				// value is certain. Numbers and booleans compare as flagd
				// does when the context sends the same type.
				if _, ok := lit.(string); !ok {
					if _, ok := lit.(bool); !ok {
						if _, ok := lit.(json.Number); !ok {
							return nil, skipf("targeting: == with a %T", lit)
						}
					}
				}
			}
			return [][]vaneCondition{{{Action: "EQUALS", Key: key, Value: lit}}}, nil
		case "in":
			if len(list) != 2 {
				return nil, skipf("targeting: in needs two arguments")
			}
			if key, err := flagdVar(list[0]); err == nil {
				arr, ok := list[1].([]any)
				if !ok || len(arr) == 0 {
					return nil, skipf("targeting: in with a var first needs a non-empty list second")
				}
				return [][]vaneCondition{{{Action: "IN", Key: key, Value: arr}}}, nil
			}
			key, err := flagdVar(list[1])
			s, isString := list[0].(string)
			if err != nil || !isString {
				return nil, skipf("targeting: in: only var in [list] and \"text\" in var map")
			}
			return [][]vaneCondition{{{Action: "VALUE_IN_KEY", Key: key, Value: s}}}, nil
		case "starts_with", "ends_with":
			if len(list) != 2 {
				return nil, skipf("targeting: %s needs two arguments", op)
			}
			key, err := flagdVar(list[0])
			s, isString := list[1].(string)
			if err != nil || !isString {
				return nil, skipf("targeting: %s: only a var and a string map", op)
			}
			action := "STARTSWITH"
			if op == "ends_with" {
				action = "ENDSWITH"
			}
			return [][]vaneCondition{{{Action: action, Key: key, Value: s}}}, nil
		case "sem_ver":
			return nil, skipf("targeting: sem_ver: Vane has no semantic-version comparison (its string ordering puts 1.10.0 before 1.9.0)")
		case "<", "<=", ">", ">=", "!=", "!==", "!":
			return nil, skipf("targeting: %s: JsonLogic reads a missing attribute as null (0 in a comparison, unequal to anything), where a Vane condition on a missing attribute never matches", op)
		default:
			return nil, skipf("targeting: operator %q has no Vane condition", op)
		}
	}
	panic("unreachable")
}

// varAndLiteral returns the attribute and the literal of a comparison
// written either way round.
func varAndLiteral(a, b any) (string, any, error) {
	if key, err := flagdVar(a); err == nil && isLiteral(b) {
		return key, b, nil
	}
	if key, err := flagdVar(b); err == nil && isLiteral(a) {
		return key, a, nil
	}
	return "", nil, skipf("targeting: only an attribute compared with a literal maps")
}

func isLiteral(x any) bool {
	switch x.(type) {
	case string, bool, json.Number:
		return true
	}
	return false
}

// flagdVar returns the attribute of {"var": "name"}. flagd's own values
// ($flagd.flagKey, $flagd.timestamp), dotted paths into objects, and var
// with a default have no Vane counterpart.
func flagdVar(x any) (string, error) {
	m, ok := x.(map[string]any)
	if !ok || len(m) != 1 {
		return "", skipf("not a var")
	}
	key, ok := m["var"].(string)
	if !ok {
		return "", skipf("targeting: var with a default or a computed name")
	}
	if key == "" || strings.HasPrefix(key, "$flagd.") || strings.Contains(key, ".") {
		return "", skipf("targeting: var %q: Vane conditions read top-level context attributes only", key)
	}
	return key, nil
}

// flagdBucketKey returns the attribute a fractional buckets on: {"var": k},
// or flagd's documented {"cat": [{"var": "$flagd.flagKey"}, {"var": k}]},
// which seeds the hash with the flag key as Vane's default salt does.
func flagdBucketKey(x any) (string, error) {
	if key, err := flagdVar(x); err == nil {
		return key, nil
	}
	if m, ok := x.(map[string]any); ok && len(m) == 1 {
		if parts, ok := m["cat"].([]any); ok && len(parts) == 2 {
			if first, ok := parts[0].(map[string]any); ok && len(first) == 1 && first["var"] == "$flagd.flagKey" {
				if key, err := flagdVar(parts[1]); err == nil {
					return key, nil
				}
			}
		}
	}
	return "", skipf("fractional bucketing on an expression: Vane buckets on one attribute (bucket_by)")
}
