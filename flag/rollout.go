package flag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// rolloutName is the parameter name under which Share and WithRollout
// parse documents: nothing Parse checks depends on the name, only the
// default salt, which neither function reads.
const rolloutName = "/rollout/features/flag"

// Share returns the share, in percent, of subjects a flag value currently
// serves the rollout's side: rule "" means the flag-level
// rollout_percentage, otherwise the named rule's.
//
// For the flag level, a bare false or a document with enabled false
// serves 0, a bare true 100, and a document its rollout_percentage, or
// 100 without one. For a rule, a bare value or a disabled document
// serves 0, and so does a rule the document does not have (it serves no
// one yet); a rule serves its rollout_percentage, or 100 without one.
// Rules are named as Parse names them: by their name field, by their key
// in Powertools' object form, and "rule N" (from 1) when unnamed.
//
// The value must be one Parse accepts; otherwise Share returns Parse's
// error, wrapped.
func Share(value, rule string) (float64, error) {
	f, err := Parse(rolloutName, value)
	if err != nil {
		return 0, fmt.Errorf("reading the rollout: %w", err)
	}
	if !f.enabled {
		return 0, nil
	}
	if rule == "" {
		switch {
		case f.static:
			if f.def == VariantOn {
				return 100, nil
			}
			return 0, nil
		case f.rollout < 0:
			return 100, nil
		default:
			return float64(f.rollout) / 1000, nil
		}
	}
	for _, r := range f.rules {
		if r.name != rule {
			continue
		}
		if r.rollout < 0 {
			return 100, nil
		}
		return float64(r.rollout) / 1000, nil
	}
	return 0, nil
}

// WithRollout returns the flag value with its rollout_percentage
// (flag-level when rule is "", else the named rule's) set to pct, and the
// flag switched on.
//
// pct is rounded to three decimals and must then be from 0 to 100, and
// above 0 for a rule (Parse refuses a rule that can never match). A bare
// true or false becomes a document; in a document every other field keeps
// its place and its JSON value (made compact), enabled becomes true if it
// is present, and rollout_percentage is replaced where it is or appended
// at the end of its object. A rule must exist: WithRollout does not add
// one. The result is checked with Parse, whose error it returns wrapped,
// for example when a document with string variants names no on_variant.
func WithRollout(value, rule string, pct float64) (string, error) {
	// Round before checking the range so that float noise from a caller's
	// arithmetic (100.0000001) does not make a valid percentage invalid.
	scaled := math.Round(pct * 1000)
	if math.IsNaN(scaled) || scaled < 0 || scaled > 100_000 {
		return "", fmt.Errorf("rollout %v%% is not from 0 to 100", pct)
	}
	thousandths := int(scaled)
	if rule != "" && thousandths == 0 {
		return "", fmt.Errorf("rule %q cannot be rolled out to %v%%: a rule's rollout_percentage must be above 0 (0 means it never matches)", rule, pct)
	}
	num := []byte(formatThousandths(thousandths))

	src := []byte(strings.TrimSpace(value))
	switch string(src) {
	case "true", "false":
		src = []byte("{}")
	}
	if !json.Valid(src) || src[0] != '{' {
		return "", errors.New("the flag's value is neither true, false nor a JSON object")
	}
	doc, err := fields("$", src)
	if err != nil {
		return "", err
	}
	if i := doc.index("enabled"); i >= 0 {
		doc[i].value = []byte("true")
	}
	if rule == "" {
		doc = doc.set("rollout_percentage", num)
	} else {
		i := doc.index("rules")
		if i < 0 {
			return "", fmt.Errorf("the flag has no rule %q: it has no rules", rule)
		}
		rules, err := withRuleRollout(doc[i].value, rule, num)
		if err != nil {
			return "", err
		}
		doc[i].value = rules
	}
	out, err := doc.marshal()
	if err != nil {
		return "", err
	}
	if _, err := Parse(rolloutName, string(out)); err != nil {
		where := "the flag"
		if rule != "" {
			where = fmt.Sprintf("rule %q", rule)
		}
		return "", fmt.Errorf("rolling %s out to %s%%: %w", where, num, err)
	}
	return string(out), nil
}

// withRuleRollout sets the rollout_percentage of the rule named name in
// raw, the value of a document's rules field, in either of its forms.
func withRuleRollout(raw json.RawMessage, name string, num []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	var names []string
	if bytes.HasPrefix(raw, []byte("{")) {
		// Powertools' form: the key is the rule's name.
		rules, err := fields("$.rules", raw)
		if err != nil {
			return nil, err
		}
		for i, kv := range rules {
			if kv.key != name {
				names = append(names, kv.key)
				continue
			}
			r, err := withField("$.rules."+kv.key, kv.value, num)
			if err != nil {
				return nil, err
			}
			rules[i].value = r
			return rules.marshal()
		}
		return nil, noRule(name, names)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errorf("$.rules", "must be a list of rules (or an object of rules by name)")
	}
	for i, r := range list {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r, &m); err != nil || m == nil {
			return nil, errorf(fmt.Sprintf("$.rules[%d]", i), "must be a JSON object")
		}
		// Name rules as Parse does, including its "rule N" for
		// unnamed ones (and ones named "").
		var n string
		if rn, ok := m["name"]; ok {
			if err := decode(fmt.Sprintf("$.rules[%d].name", i), rn, &n); err != nil {
				return nil, err
			}
		}
		if n == "" {
			n = fmt.Sprintf("rule %d", i+1)
		}
		if n != name {
			names = append(names, n)
			continue
		}
		r, err := withField(fmt.Sprintf("$.rules[%d]", i), r, num)
		if err != nil {
			return nil, err
		}
		list[i] = r
		var buf bytes.Buffer
		buf.WriteByte('[')
		for j, r := range list {
			if j > 0 {
				buf.WriteByte(',')
			}
			if err := json.Compact(&buf, r); err != nil {
				return nil, err
			}
		}
		buf.WriteByte(']')
		return buf.Bytes(), nil
	}
	return nil, noRule(name, names)
}

// withField sets rollout_percentage in the JSON object raw, at path.
func withField(path string, raw json.RawMessage, num []byte) (json.RawMessage, error) {
	obj, err := fields(path, raw)
	if err != nil {
		return nil, err
	}
	return obj.set("rollout_percentage", num).marshal()
}

func noRule(name string, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("the flag has no rule %q: it has no rules", name)
	}
	return fmt.Errorf("the flag has no rule %q (rules: %s)", name, strings.Join(names, ", "))
}

// formatThousandths writes a percentage given in thousandths as the
// shortest decimal: 12500 is "12.5", 100000 "100", 125 "0.125".
func formatThousandths(t int) string {
	s := strconv.Itoa(t / 1000)
	if frac := strings.TrimRight(fmt.Sprintf("%03d", t%1000), "0"); frac != "" {
		s += "." + frac
	}
	return s
}

// fieldList is a JSON object's fields in document order: the order of
// variants and of Powertools' rules is meaningful, and people read the
// rest in the order they wrote it.
type fieldList []keyValue

// fields decodes the JSON object at path keeping its fields' order and
// raw values. A field that appears twice is an error: Parse would
// silently take the last one, and rewriting such a document would hide
// the ambiguity.
func fields(path string, raw json.RawMessage) (fieldList, error) {
	kvs, err := orderedObject(path, raw)
	if err != nil {
		return nil, err
	}
	return kvs, nil
}

func (o fieldList) index(key string) int {
	for i, kv := range o {
		if kv.key == key {
			return i
		}
	}
	return -1
}

// set replaces the value of key where it is, or appends the key.
func (o fieldList) set(key string, value json.RawMessage) fieldList {
	if i := o.index(key); i >= 0 {
		o[i].value = value
		return o
	}
	return append(o, keyValue{key, value})
}

// marshal writes the object compactly, in order.
func (o fieldList) marshal() (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		var key bytes.Buffer
		enc := json.NewEncoder(&key)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(kv.key); err != nil {
			return nil, err
		}
		buf.Write(bytes.TrimSuffix(key.Bytes(), []byte("\n")))
		buf.WriteByte(':')
		if err := json.Compact(&buf, kv.value); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
