package flag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is the JSON kind of a flag's values.
type Kind string

// Kinds of flag values.
const (
	Boolean Kind = "boolean"
	String  Kind = "string"
	Number  Kind = "number"
	Object  Kind = "object"
)

// Names of the implicit variants of a boolean flag.
const (
	VariantOn  = "on"
	VariantOff = "off"
)

// Flag is a compiled flag document. It is immutable and safe for
// concurrent use; Evaluate allocates nothing for boolean flags.
type Flag struct {
	name        string
	static      bool // a bare true/false: nothing to evaluate
	enabled     bool
	kind        Kind
	variants    map[string]any
	order       []string // variant names in document order
	on, off     string   // variants served by allow lists and rollouts
	def         string   // variant served when nothing decides
	hasFallback bool
	fallback    any
	salt        string
	bucketBy    string
	rollout     int // thousandths of a percent; -1 without a rollout
	allowUsers  map[string]struct{}
	denyUsers   map[string]struct{}
	regions     map[string]struct{}
	rules       []rule
	metadata    map[string]any
	usesTime    bool // a condition reads the time

	Description string
	Owner       string
	Expires     time.Time // zero when the document gives none
}

// rule is one compiled targeting rule.
type rule struct {
	name       string
	conditions []matcher
	variant    string
	rollout    int // -1 without a rollout
}

// documentKeys are the fields a flag document may have.
var documentKeys = []string{
	"enabled", "description", "owner", "expires", "variants", "default", "default_variant",
	"on_variant", "off_variant", "fallback_on_error", "salt", "bucket_by", "rollout_percentage",
	"allowed_user_ids", "excluded_user_ids", "allowed_regions", "rules", "metadata",
}

var ruleKeys = []string{"name", "conditions", "variant", "when_match", "rollout_percentage"}

var conditionKeys = []string{"action", "key", "value"}

// IsFlagName reports whether a parameter name is a flag's: one of its
// path segments before the last is "features".
func IsFlagName(name string) bool {
	name = strings.Trim(name, "/")
	// Every segment but the last, without splitting: this runs for each
	// parameter a bulk evaluation lists.
	dir, _, ok := cutLast(name, '/')
	for ok {
		var seg string
		seg, dir, ok = strings.Cut(dir, "/")
		if seg == "features" {
			return true
		}
	}
	return false
}

// cutLast slices s around the last instance of sep.
func cutLast(s string, sep byte) (before, after string, found bool) {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Key returns the flag key of a name: its last path segment.
func Key(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// Parse compiles the value of the flag parameter name: a bare "true" or
// "false", or a JSON document (see doc/flags.md). Errors are *Error values
// naming the JSON path of the problem.
func Parse(name, value string) (*Flag, error) {
	f := &Flag{name: name, enabled: true, kind: Boolean, rollout: -1, salt: Key(name)}
	switch strings.TrimSpace(value) {
	case "true":
		f.static, f.def = true, VariantOn
		f.setBooleanVariants()
		return f, nil
	case "false":
		f.static, f.def = true, VariantOff
		f.setBooleanVariants()
		return f, nil
	}
	doc, err := object("$", json.RawMessage(value), documentKeys)
	if err != nil {
		return nil, err
	}
	if err := f.parse(doc); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Flag) setBooleanVariants() {
	f.variants = map[string]any{VariantOn: true, VariantOff: false}
	f.order = []string{VariantOn, VariantOff}
	f.on, f.off = VariantOn, VariantOff
}

func (f *Flag) parse(doc map[string]json.RawMessage) error {
	if raw, ok := doc["enabled"]; ok {
		if err := decode("$.enabled", raw, &f.enabled); err != nil {
			return err
		}
	}
	for _, field := range []struct {
		key string
		dst *string
	}{{"description", &f.Description}, {"owner", &f.Owner}, {"salt", &f.salt}, {"bucket_by", &f.bucketBy}} {
		if raw, ok := doc[field.key]; ok {
			if err := decode("$."+field.key, raw, field.dst); err != nil {
				return err
			}
		}
	}
	if _, ok := doc["salt"]; ok && f.salt == "" {
		return errorf("$.salt", "must not be empty")
	}
	if raw, ok := doc["expires"]; ok {
		var s string
		if err := decode("$.expires", raw, &s); err != nil {
			return err
		}
		t, err := parseDate(s)
		if err != nil {
			return errorf("$.expires", "%q is not a date (2027-01-31) or an RFC 3339 time", s)
		}
		f.Expires = t
	}
	if err := f.parseVariants(doc); err != nil {
		return err
	}
	if raw, ok := doc["fallback_on_error"]; ok {
		v, err := f.value("$.fallback_on_error", raw)
		if err != nil {
			return err
		}
		f.hasFallback, f.fallback = true, v
	}
	if raw, ok := doc["rollout_percentage"]; ok {
		p, err := percentage("$.rollout_percentage", raw)
		if err != nil {
			return err
		}
		f.rollout = p
	}
	var err error
	if f.allowUsers, err = stringSet("$.allowed_user_ids", doc["allowed_user_ids"]); err != nil {
		return err
	}
	if f.denyUsers, err = stringSet("$.excluded_user_ids", doc["excluded_user_ids"]); err != nil {
		return err
	}
	if f.regions, err = stringSet("$.allowed_regions", doc["allowed_regions"]); err != nil {
		return err
	}
	if _, ok := doc["allowed_regions"]; ok && len(f.regions) == 0 {
		return errorf("$.allowed_regions", "an empty list allows no region, so the flag could never be on; remove it or name a region")
	}
	if raw, ok := doc["rules"]; ok {
		if err := f.parseRules(raw); err != nil {
			return err
		}
	}
	if raw, ok := doc["metadata"]; ok {
		if err := decode("$.metadata", raw, &f.metadata); err != nil {
			return err
		}
		if f.metadata == nil {
			return errorf("$.metadata", "must be a JSON object")
		}
	}
	for id := range f.allowUsers {
		if _, ok := f.denyUsers[id]; ok {
			return errorf("$.allowed_user_ids", "user %q is also in excluded_user_ids, which wins: remove it from one list", id)
		}
	}
	return nil
}

// parseVariants reads variants, on/off/default variants and the
// Powertools-style default value.
func (f *Flag) parseVariants(doc map[string]json.RawMessage) error {
	raw, hasVariants := doc["variants"]
	if !hasVariants {
		f.setBooleanVariants()
	} else {
		kvs, err := orderedObject("$.variants", raw)
		if err != nil {
			return err
		}
		if len(kvs) == 0 {
			return errorf("$.variants", "must name at least one variant")
		}
		f.variants = map[string]any{}
		for i, kv := range kvs {
			path := "$.variants." + kv.key
			if kv.key == "" {
				return errorf("$.variants", "a variant name must not be empty")
			}
			v, k, err := jsonValue(path, kv.value)
			if err != nil {
				return err
			}
			if i == 0 {
				f.kind = k
			} else if k != f.kind {
				return errorf(path, "is a %s, but the flag's first variant is a %s: all variants must be of one kind", k, f.kind)
			}
			f.variants[kv.key] = v
			f.order = append(f.order, kv.key)
		}
		f.on, f.off = "", ""
		if f.kind == Boolean {
			// Name the on and off variants by their values unless told.
			for _, name := range f.order {
				if f.variants[name] == true && f.on == "" {
					f.on = name
				}
				if f.variants[name] == false && f.off == "" {
					f.off = name
				}
			}
		}
	}
	for _, field := range []struct {
		key string
		dst *string
	}{{"on_variant", &f.on}, {"off_variant", &f.off}, {"default_variant", &f.def}} {
		raw, ok := doc[field.key]
		if !ok {
			continue
		}
		if err := decode("$."+field.key, raw, field.dst); err != nil {
			return err
		}
		if _, ok := f.variants[*field.dst]; !ok {
			return errorf("$."+field.key, "%q is not a variant (variants: %s)", *field.dst, strings.Join(f.order, ", "))
		}
	}
	if raw, ok := doc["default"]; ok {
		if f.def != "" {
			return errorf("$.default", "give default (a value) or default_variant (a name), not both")
		}
		v, err := f.value("$.default", raw)
		if err != nil {
			return err
		}
		name, ok := f.variantOf(v)
		if !ok {
			return errorf("$.default", "%s is none of the variants' values (variants: %s)", raw, strings.Join(f.order, ", "))
		}
		f.def = name
	}
	_, hasRules := doc["rules"]
	_, hasRollout := doc["rollout_percentage"]
	_, hasAllow := doc["allowed_user_ids"]
	_, hasRegions := doc["allowed_regions"]
	if f.def == "" {
		switch {
		case hasRules:
			return errorf("$", "a flag with rules needs default (a value) or default_variant: what to serve when no rule matches")
		case !hasVariants || f.on != "":
			f.def = f.on
		default:
			return errorf("$", "a flag with variants needs default_variant (or on_variant)")
		}
	}
	if f.on == "" && (hasRollout || hasAllow) {
		return errorf("$.on_variant", "rollout_percentage and allowed_user_ids serve the on variant: name it with on_variant")
	}
	if f.off == "" && (hasRollout || hasRegions || f.hasExclusions(doc) || doc["enabled"] != nil) {
		return errorf("$.off_variant", "rollouts, allowed_regions, excluded_user_ids and enabled serve the off variant: name it with off_variant")
	}
	return nil
}

func (f *Flag) hasExclusions(doc map[string]json.RawMessage) bool {
	_, ok := doc["excluded_user_ids"]
	return ok
}

// variantOf returns the first variant whose value equals v.
func (f *Flag) variantOf(v any) (string, bool) {
	for _, name := range f.order {
		if equalJSON(f.variants[name], v) {
			return name, true
		}
	}
	return "", false
}

// value decodes a value of the flag's kind.
func (f *Flag) value(path string, raw json.RawMessage) (any, error) {
	v, k, err := jsonValue(path, raw)
	if err != nil {
		return nil, err
	}
	if k != f.kind {
		return nil, errorf(path, "is a %s, but the flag's values are of kind %s", k, f.kind)
	}
	return v, nil
}

func (f *Flag) parseRules(raw json.RawMessage) error {
	var list []json.RawMessage
	var names []string
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		// Powertools' form: an object of rules by name, in order.
		kvs, err := orderedObject("$.rules", raw)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			list = append(list, kv.value)
			names = append(names, kv.key)
		}
	} else if err := decode("$.rules", raw, &list); err != nil {
		return errorf("$.rules", "must be a list of rules (or an object of rules by name)")
	}
	seen := map[string]bool{}
	for i, r := range list {
		path := fmt.Sprintf("$.rules[%d]", i)
		if names != nil {
			path = "$.rules." + names[i]
		}
		ru, err := f.parseRule(path, r)
		if err != nil {
			return err
		}
		if names != nil {
			if ru.name != "" && ru.name != names[i] {
				return errorf(path+".name", "%q differs from the rule's key %q", ru.name, names[i])
			}
			ru.name = names[i]
		}
		if ru.name == "" {
			ru.name = fmt.Sprintf("rule %d", i+1)
		}
		if seen[ru.name] {
			return errorf(path+".name", "another rule is named %q", ru.name)
		}
		seen[ru.name] = true
		if i > 0 && len(f.rules[i-1].conditions) == 0 && f.rules[i-1].rollout < 0 {
			return errorf(path, "can never match: the rule before it has no conditions and always matches")
		}
		f.rules = append(f.rules, ru)
	}
	return nil
}

func (f *Flag) parseRule(path string, raw json.RawMessage) (rule, error) {
	ru := rule{rollout: -1}
	doc, err := object(path, raw, ruleKeys)
	if err != nil {
		return ru, err
	}
	if r, ok := doc["name"]; ok {
		if err := decode(path+".name", r, &ru.name); err != nil {
			return ru, err
		}
	}
	_, hasVariant := doc["variant"]
	wm, hasValue := doc["when_match"]
	switch {
	case hasVariant && hasValue:
		return ru, errorf(path, "give variant (a name) or when_match (a value), not both")
	case hasVariant:
		if err := decode(path+".variant", doc["variant"], &ru.variant); err != nil {
			return ru, err
		}
		if _, ok := f.variants[ru.variant]; !ok {
			return ru, errorf(path+".variant", "%q is not a variant (variants: %s)", ru.variant, strings.Join(f.order, ", "))
		}
	case hasValue:
		v, err := f.value(path+".when_match", wm)
		if err != nil {
			return ru, err
		}
		name, ok := f.variantOf(v)
		if !ok {
			return ru, errorf(path+".when_match", "%s is none of the variants' values (variants: %s)", wm, strings.Join(f.order, ", "))
		}
		ru.variant = name
	default:
		return ru, errorf(path, "needs variant (a name) or when_match (a value): what to serve when it matches")
	}
	if r, ok := doc["rollout_percentage"]; ok {
		if ru.rollout, err = percentage(path+".rollout_percentage", r); err != nil {
			return ru, err
		}
		if ru.rollout == 0 {
			return ru, errorf(path+".rollout_percentage", "0 means the rule can never match")
		}
	}
	var conds []json.RawMessage
	if r, ok := doc["conditions"]; ok {
		if err := decode(path+".conditions", r, &conds); err != nil {
			return ru, err
		}
	}
	for j, c := range conds {
		cpath := fmt.Sprintf("%s.conditions[%d]", path, j)
		cd, err := object(cpath, c, conditionKeys)
		if err != nil {
			return ru, err
		}
		var action, key string
		if r, ok := cd["action"]; !ok {
			return ru, errorf(cpath, "needs an action")
		} else if err := decode(cpath+".action", r, &action); err != nil {
			return ru, err
		}
		if r, ok := cd["key"]; ok {
			if err := decode(cpath+".key", r, &key); err != nil {
				return ru, err
			}
		}
		m, err := compileCondition(cpath, action, key, cd["value"])
		if err != nil {
			return ru, err
		}
		if strings.HasPrefix(action, "SCHEDULE_") {
			f.usesTime = true
		}
		ru.conditions = append(ru.conditions, m)
	}
	return ru, nil
}

// object decodes a JSON object, rejecting fields not in allowed.
func object(path string, raw json.RawMessage, allowed []string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		if path == "$" {
			return nil, errorf(path, "a flag's value must be true, false or a JSON object (%s)", syntaxMessage(err))
		}
		return nil, errorf(path, "must be a JSON object")
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return nil, errorf(path+"."+k, "unknown field (fields here: %s)", strings.Join(allowed, ", "))
		}
	}
	return m, nil
}

// syntaxMessage describes a JSON decoding error briefly.
func syntaxMessage(err error) string {
	if err == nil {
		return "null or not an object"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// decode decodes raw into dst, naming path in the error.
func decode(path string, raw json.RawMessage, dst any) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		want := "of the right type"
		switch dst.(type) {
		case *bool:
			want = "true or false"
		case *string:
			want = "a string"
		case *[]json.RawMessage:
			want = "a list"
		case *map[string]any:
			want = "a JSON object"
		}
		return errorf(path, "must be %s, not %s", want, truncate(string(raw)))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// jsonValue decodes a variant value and reports its kind.
func jsonValue(path string, raw json.RawMessage) (any, Kind, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, "", errorf(path, "is not JSON: %s", syntaxMessage(err))
	}
	switch x := v.(type) {
	case bool:
		return x, Boolean, nil
	case string:
		return x, String, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, "", errorf(path, "%s is out of range", x)
		}
		return f, Number, nil
	case map[string]any:
		var plain map[string]any
		json.Unmarshal(raw, &plain)
		return plain, Object, nil
	case nil:
		return nil, "", errorf(path, "must not be null")
	default:
		return nil, "", errorf(path, "must be a boolean, string, number or object, not a list")
	}
}

// equalJSON compares two decoded JSON values.
func equalJSON(a, b any) bool {
	if am, ok := a.(map[string]any); ok {
		bm, ok := b.(map[string]any)
		if !ok {
			return false
		}
		x, _ := json.Marshal(am)
		y, _ := json.Marshal(bm)
		return bytes.Equal(x, y)
	}
	return a == b
}

// percentage reads a rollout percentage, 0 to 100 with at most three
// decimals, as thousandths of a percent; parsed from the JSON text so
// that 12.345 is exactly 12345.
func percentage(path string, raw json.RawMessage) (int, error) {
	s := strings.TrimSpace(string(raw))
	if _, err := strconv.ParseFloat(s, 64); err != nil || strings.HasPrefix(s, "\"") {
		return 0, errorf(path, "must be a number from 0 to 100, not %s", truncate(s))
	}
	if strings.ContainsAny(s, "eE") {
		f, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 3 {
		return 0, errorf(path, "%s has more than three decimals (the step is 0.001%%)", s)
	}
	w, err := strconv.Atoi(whole)
	if err != nil || w < 0 || strings.HasPrefix(whole, "-") || w > 100 {
		return 0, errorf(path, "%s is not from 0 to 100", s)
	}
	frac += strings.Repeat("0", 3-len(frac))
	t, _ := strconv.Atoi(frac)
	p := w*1000 + t
	if p > 100_000 {
		return 0, errorf(path, "%s is not from 0 to 100", s)
	}
	return p, nil
}

// stringSet reads an optional list of strings.
func stringSet(path string, raw json.RawMessage) (map[string]struct{}, error) {
	if raw == nil {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errorf(path, "must be a list of strings")
	}
	set := make(map[string]struct{}, len(list))
	for _, s := range list {
		set[s] = struct{}{}
	}
	return set, nil
}

// parseDate reads a date (2027-01-31, end of that day UTC is not implied:
// the start) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedObject decodes a JSON object keeping its fields' order.
func orderedObject(path string, raw json.RawMessage) ([]keyValue, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, errorf(path, "must be a JSON object")
	}
	var out []keyValue
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, errorf(path, "is not valid JSON: %s", syntaxMessage(err))
		}
		key := t.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, errorf(path+"."+key, "is not valid JSON: %s", syntaxMessage(err))
		}
		if seen[key] {
			return nil, errorf(path+"."+key, "appears twice")
		}
		seen[key] = true
		out = append(out, keyValue{key, v})
	}
	return out, nil
}
