package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/manifest"
)

// newFile returns an empty tree under the canonical path to.
func newFile(to string) (*manifest.File, error) {
	path, err := vane.ValidatePath(to)
	if err != nil {
		return nil, errors.New(vane.ErrorMessage(err))
	}
	return &manifest.File{Version: manifest.FormatVersion, Path: path, Parameters: map[string]*manifest.Entry{}}, nil
}

// add puts e under rel in f if it passes the checks an import makes of a
// file (name, type, value, flag rules), and otherwise returns why not, so
// a converter never emits an entry the import would refuse.
func add(f *manifest.File, rel string, e *manifest.Entry) error {
	one := &manifest.File{Version: f.Version, Path: f.Path, Parameters: map[string]*manifest.Entry{rel: e}}
	if err := one.Check(); err != nil {
		// The skip names the item: drop Check's "parameter NAME: ".
		if inner := errors.Unwrap(err); inner != nil {
			return inner
		}
		return err
	}
	f.Parameters[rel] = e
	return nil
}

// member is one field of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// members returns the fields of a JSON object in the order written, so a
// converted document keeps the order of its source.
func members(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{k.(string), v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// powertools converts a Powertools feature-flags document (the JSON object
// of features that Powertools' AppConfigStore fetches from AppConfig).
// Vane reads Powertools' per-feature form (default, rules by name,
// when_match) as a flag document, so a feature is imported as written,
// with two exact rewrites: "boolean_type": true is dropped (it is
// Powertools' default), and "boolean_type": false becomes Vane's variants
// form, one variant per value the feature serves (named by the value for
// strings, on and off for booleans, value-1, value-2... otherwise), with default and each when_match
// left as values, which Vane reads as those variants. A feature Vane
// would read differently, or refuses, is skipped with the reason.
func powertools(data []byte, to string) (*manifest.File, []Skip, error) {
	f, err := newFile(to)
	if err != nil {
		return nil, nil, err
	}
	features, err := members(bytes.TrimSpace(data))
	if err != nil {
		return nil, nil, fmt.Errorf("not a Powertools feature-flags document (a JSON object of features): %w", err)
	}
	if isAppConfigNative(features) {
		return nil, nil, errors.New(`this is AppConfig's own AWS.AppConfig.FeatureFlags format ("version", "flags", "values"), not the Powertools document: it is not supported yet`)
	}
	count := map[string]int{}
	for _, m := range features {
		count[m.key]++
	}
	var skips []Skip
	for _, m := range features {
		if count[m.key] > 1 {
			skips = append(skips, Skip{m.key, fmt.Sprintf("the document names this feature %d times", count[m.key])})
			continue
		}
		if m.key == "" {
			skips = append(skips, Skip{`""`, "a feature needs a name"})
			continue
		}
		doc, err := powertoolsFeature(m.value)
		if err == nil {
			err = add(f, "features/"+m.key, &manifest.Entry{Type: string(vane.TypeString), Flag: doc})
		}
		if err != nil {
			skips = append(skips, Skip{m.key, err.Error()})
		}
	}
	return f, skips, nil
}

// isAppConfigNative reports whether a document's top level is that of
// AppConfig's AWS.AppConfig.FeatureFlags profile type.
func isAppConfigNative(top []member) bool {
	keys := map[string]bool{}
	for _, m := range top {
		keys[m.key] = true
	}
	return keys["version"] && keys["flags"] && keys["values"]
}

// powertoolsFeature returns a feature as a Vane flag document.
func powertoolsFeature(raw json.RawMessage) (manifest.Document, error) {
	fields, err := members(raw)
	if err != nil {
		return nil, fmt.Errorf("a feature must be a JSON object: %w", err)
	}
	booleanType := true
	var out []member
	for _, m := range fields {
		if m.key != "boolean_type" {
			out = append(out, m)
			continue
		}
		if err := json.Unmarshal(m.value, &booleanType); err != nil {
			return nil, fmt.Errorf("boolean_type is %s, not true or false", m.value)
		}
	}
	if !booleanType {
		for _, m := range out {
			if m.key == "variants" {
				return nil, errors.New(`"boolean_type": false with "variants": give one or the other`)
			}
		}
		variants, err := powertoolsVariants(out)
		if err != nil {
			return nil, err
		}
		out = append([]member{{"variants", variants}}, out...)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range out {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		buf.Write(k)
		buf.WriteByte(':')
		if err := json.Compact(&buf, m.value); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return manifest.Document(buf.Bytes()), nil
}

// powertoolsVariants returns the variants object of a non-boolean
// feature: each distinct value of its default and its rules' when_match,
// in document order.
func powertoolsVariants(fields []member) (json.RawMessage, error) {
	var values []json.RawMessage
	for _, m := range fields {
		switch m.key {
		case "default":
			values = append(values, m.value)
		case "rules":
			rules, err := members(m.value)
			if err != nil {
				return nil, errors.New(`"rules" must be an object of rules by name`)
			}
			for _, r := range rules {
				rf, err := members(r.value)
				if err != nil {
					return nil, fmt.Errorf("rule %q must be an object", r.key)
				}
				for _, x := range rf {
					if x.key == "when_match" {
						values = append(values, x.value)
					}
				}
			}
		}
	}
	var kind string
	var seen []any
	var raws []json.RawMessage
	for _, raw := range values {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		k := jsonKind(v)
		switch {
		case k == "array" || k == "null":
			return nil, fmt.Errorf("it serves %s, and Vane's variants are booleans, strings, numbers or objects", bytes.TrimSpace(raw))
		case kind != "" && k != kind:
			return nil, fmt.Errorf("it serves both a %s and a %s, and Vane's variants are all of one kind", kind, k)
		}
		kind = k
		if !containsJSON(seen, v) {
			seen = append(seen, v)
			raws = append(raws, raw)
		}
	}
	// A string is its own name, true and false are on and off; the other
	// values are numbered, around the names strings took.
	names := make([]string, len(seen))
	taken := map[string]bool{}
	for i, v := range seen {
		switch v := v.(type) {
		case string:
			names[i] = v
		case bool:
			names[i] = map[bool]string{true: flag.VariantOn, false: flag.VariantOff}[v]
		}
		taken[names[i]] = names[i] != ""
	}
	next := 1
	for i := range names {
		for names[i] == "" {
			if n := "value-" + strconv.Itoa(next); !taken[n] {
				names[i], taken[n] = n, true
			}
			next++
		}
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, raw := range raws {
		if i > 0 {
			buf.WriteByte(',')
		}
		n, _ := json.Marshal(names[i])
		buf.Write(n)
		buf.WriteByte(':')
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	if len(seen) == 0 {
		return nil, errors.New(`"boolean_type": false without a default value`)
	}
	return buf.Bytes(), nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

// containsJSON reports whether vs holds a value equal to v as JSON.
func containsJSON(vs []any, v any) bool {
	b, _ := json.Marshal(v)
	for _, x := range vs {
		if xb, _ := json.Marshal(x); bytes.Equal(b, xb) {
			return true
		}
	}
	return false
}

var _ converter = powertools
