package flag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PowertoolsInput is one flag for PowertoolsDocument.
type PowertoolsInput struct {
	// Feature is the flag's name relative to its features segment, such
	// as "new-checkout": the name an application passes to Powertools'
	// FeatureFlags.evaluate.
	Feature string
	// Value is the flag parameter's value.
	Value string
}

// PowertoolsWarning says why a flag was left out of a Powertools document.
type PowertoolsWarning struct {
	Feature string `json:"feature"`
	Reason  string `json:"reason"`
}

// powertoolsName is the parameter name under which PowertoolsDocument
// parses values: only the default salt depends on the name, and a flag
// with a rollout is left out.
const powertoolsName = "/powertools/features/flag"

// powertoolsMaxDepth bounds the nesting of the values and conditions
// PowertoolsDocument writes. Python's json module decodes nested arrays
// and objects by recursion, so a document nested about a thousand levels
// deep raises RecursionError, and Powertools then fails every feature of
// the document, not just the deep one.
const powertoolsMaxDepth = 100

// PowertoolsDocument translates flags into one feature-flags document of
// Powertools for AWS Lambda (Python), the JSON its FeatureFlags utility
// fetches from AppConfig:
//
//	{"feature": {"default": value, "boolean_type": false, "rules": {"name": {"when_match": value, "conditions": [...]}}}}
//
// so that Powertools, evaluating a feature locally, gives the value Vane
// gives for the same context and time. doc/flags.md ("As a Powertools
// feature-flags document") describes the translation; in short:
//
//   - A bare true or false becomes {"default": true} or {"default": false},
//     and a document with enabled false its off variant's value.
//   - Otherwise the rules follow Vane's evaluation order, first match
//     winning in both. A user list becomes two rules, IN targetingKey and
//     IN user_id, serving the off (excluded_user_ids) or on
//     (allowed_user_ids) value. The targetingKey rules of both lists come
//     before the user_id ones, not exclusions before allowances: then a
//     subject whose targetingKey is listed gets Vane's answer even if its
//     user_id is in the other list. allowed_regions adds IN region to every
//     later rule, a last rule "allowed_regions" serving the default value to
//     the allowed regions, and makes the off value the Powertools default.
//     The document's rules follow with their conditions, and an
//     unconditional last rule (which Powertools' schema rejects) becomes
//     the default value.
//   - boolean_type is false when the values are not booleans, and left out
//     otherwise.
//   - Conditions keep their meaning but not always their text: strings are
//     written as Vane decoded them (invalid UTF-8 and lone surrogates
//     become U+FFFD for Python too), a key repeated in an object is
//     written once with its last value, a date-time fraction that is not 3 or
//     6 digits is rewritten to 6 (Python before 3.11 accepts no other
//     length; Vane reads the clock to the microsecond, so START is rounded
//     up and END down), and a TIMEZONE of "" or null becomes "UTC" (Python
//     would use the host's zone).
//
// Two divergences remain and are documented: Vane's subject is targetingKey,
// or user_id when that is absent, and no Powertools condition can test
// that a key is absent. A context whose targetingKey is a non-empty string
// listed in neither user list, with a different user_id that is listed,
// gets the list's value from Powertools and not from Vane. And a share of
// 0 or 100%, which needs no bucket, is translated (as the off or on value
// for the flag's own, as no share for a rule's), though a context without
// a subject is an error in Vane and gets that value from Powertools.
//
// A flag is left out, with a warning that says why, when Powertools could
// not give Vane's answers: a rollout_percentage between 0 and 100 (Vane
// buckets subjects by SHA-256, which no condition expresses), "" in
// allowed_regions (Vane lets a missing or non-string region through), an
// integer beyond 2^53 (exact in Python, a 64-bit float in Vane), a number
// beyond the range of a 64-bit float, values or conditions nested more
// than 100 levels, a value that is not a flag document, and a feature
// name that is empty, not UTF-8, or given more than once.
//
// The document is deterministic for a given set of flags, whatever their
// order: features sorted by name, rules in evaluation order, compact JSON,
// numbers as written. Warnings are sorted by feature. Fields that do not
// change a value (description, owner, expires, metadata, salt, bucket_by,
// fallback_on_error) are dropped.
func PowertoolsDocument(flags []PowertoolsInput) (doc []byte, warnings []PowertoolsWarning) {
	count := make(map[string]int, len(flags))
	for _, in := range flags {
		count[in.Feature]++
	}
	type feature struct {
		name string
		body []byte
	}
	features := make([]feature, 0, len(flags))
	warned := map[string]bool{}
	for _, in := range flags {
		var reason string
		switch {
		case in.Feature == "":
			reason = "the feature has no name"
		case !utf8.ValidString(in.Feature):
			reason = "the feature's name is not valid UTF-8"
		case count[in.Feature] > 1:
			reason = fmt.Sprintf("%d flags have this name, so none of them is included", count[in.Feature])
		}
		if reason != "" {
			if !warned[in.Feature] {
				warned[in.Feature] = true
				warnings = append(warnings, PowertoolsWarning{Feature: in.Feature, Reason: reason})
			}
			continue
		}
		body, err := powertoolsFeature(in.Value)
		if err != nil {
			warnings = append(warnings, PowertoolsWarning{Feature: in.Feature, Reason: err.Error()})
			continue
		}
		features = append(features, feature{in.Feature, body})
	}
	slices.SortFunc(features, func(a, b feature) int { return strings.Compare(a.name, b.name) })
	slices.SortStableFunc(warnings, func(a, b PowertoolsWarning) int { return strings.Compare(a.Feature, b.Feature) })

	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range features {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(&buf, f.name)
		buf.WriteByte(':')
		buf.Write(f.body)
	}
	buf.WriteByte('}')
	return buf.Bytes(), warnings
}

// ptRule is a rule of a Powertools feature, its JSON parts written.
type ptRule struct {
	name       string
	whenMatch  []byte
	conditions [][]byte
}

// powertoolsFeature translates one flag value into the JSON of a
// Powertools feature, or says why it cannot.
func powertoolsFeature(value string) ([]byte, error) {
	f, err := Parse(powertoolsName, value)
	if err != nil {
		return nil, fmt.Errorf("not a valid flag value (%v)", err)
	}
	if f.static {
		return fmt.Appendf(nil, `{"default":%t}`, f.variants[f.def]), nil
	}
	// The document is read a second time for what the compiled flag does
	// not keep: the variants' JSON text and the conditions' JSON. Parse
	// accepted it, so these reads succeed, and they use its helpers so
	// that they see the same fields (the last of a repeated one).
	doc, _ := object("$", json.RawMessage(value), documentKeys)
	values := map[string]json.RawMessage{"on": json.RawMessage("true"), "off": json.RawMessage("false")}
	if raw, ok := doc["variants"]; ok {
		kvs, _ := orderedObject("$.variants", raw)
		for _, kv := range kvs {
			values[kv.key] = kv.value
		}
	}
	valueOf := func(variant string) ([]byte, error) {
		var buf bytes.Buffer
		if err := writeJSON(&buf, values[variant]); err != nil {
			return nil, fmt.Errorf("variant %q: %w", variant, err)
		}
		return buf.Bytes(), nil
	}
	feature := func(def []byte, rules []ptRule) []byte {
		var buf bytes.Buffer
		buf.WriteString(`{"default":`)
		buf.Write(def)
		if f.kind != Boolean {
			buf.WriteString(`,"boolean_type":false`)
		}
		if len(rules) > 0 {
			buf.WriteString(`,"rules":{`)
			for i, r := range rules {
				if i > 0 {
					buf.WriteByte(',')
				}
				writeString(&buf, r.name)
				buf.WriteString(`:{"when_match":`)
				buf.Write(r.whenMatch)
				buf.WriteString(`,"conditions":[`)
				buf.Write(bytes.Join(r.conditions, []byte(",")))
				buf.WriteString("]}")
			}
			buf.WriteByte('}')
		}
		buf.WriteByte('}')
		return buf.Bytes()
	}

	if !f.enabled {
		off, err := valueOf(f.off)
		if err != nil {
			return nil, err
		}
		return feature(off, nil), nil
	}
	// A share of 0 or 100 needs no bucket: every subject is in it or
	// none is, and it is translated (a subject-less context is the
	// difference, below). Any other share is left out.
	if f.rollout > 0 && f.rollout < fullShare {
		return nil, errRollout("the flag has a rollout_percentage")
	}
	for _, r := range f.rules {
		if r.rollout >= 0 && r.rollout < fullShare {
			return nil, errRollout(fmt.Sprintf("rule %q has a rollout_percentage", r.name))
		}
	}

	excluded := userList(doc["excluded_user_ids"])
	allowed := userList(doc["allowed_user_ids"])
	var regions []string
	if raw, ok := doc["allowed_regions"]; ok {
		json.Unmarshal(raw, &regions)
		regions = distinct(regions)
		if slices.Contains(regions, "") {
			return nil, fmt.Errorf(`allowed_regions lists "", which Vane also matches for a context whose region is missing or not a string: Powertools has no condition for a missing key`)
		}
	}

	def := f.def
	switch f.rollout {
	case 0:
		def = f.off // the flag's rollout decides every subject
	case fullShare:
		def = f.on
	}
	var docRules []ptRule
	for i, raw := range rawRules(doc["rules"]) {
		r := f.rules[i]
		var conds []json.RawMessage
		json.Unmarshal(raw["conditions"], &conds)
		if len(conds) == 0 {
			// Powertools rejects a rule without conditions, and Vane allows
			// one only last and always matching: it is the default.
			def = r.variant
			continue
		}
		when, err := valueOf(r.variant)
		if err != nil {
			return nil, err
		}
		pr := ptRule{name: r.name, whenMatch: when}
		for j, c := range conds {
			pc, err := powertoolsCondition(c)
			if err != nil {
				return nil, fmt.Errorf("rule %q, condition %d: %w", r.name, j+1, err)
			}
			pr.conditions = append(pr.conditions, pc)
		}
		docRules = append(docRules, pr)
	}

	// Generated rules must not take a name the document's rules have:
	// Powertools' rules are an object keyed by name.
	taken := map[string]bool{}
	for _, r := range docRules {
		taken[r.name] = true
	}
	name := func(base string) string {
		n := base
		for i := 2; taken[n]; i++ {
			n = fmt.Sprintf("%s #%d", base, i)
		}
		taken[n] = true
		return n
	}
	on, off := []byte(nil), []byte(nil)
	if len(allowed) > 0 {
		if on, err = valueOf(f.on); err != nil {
			return nil, err
		}
	}
	if len(excluded) > 0 || regions != nil {
		if off, err = valueOf(f.off); err != nil {
			return nil, err
		}
	}
	var rules []ptRule
	for _, attr := range []string{AttrTargetingKey, AttrUserID} {
		if len(excluded) > 0 {
			rules = append(rules, ptRule{name(RuleExcludedUsers + " (" + attr + ")"), off, [][]byte{inCondition(attr, excluded)}})
		}
		if len(allowed) > 0 {
			rules = append(rules, ptRule{name(RuleAllowedUsers + " (" + attr + ")"), on, [][]byte{inCondition(attr, allowed)}})
		}
	}
	defValue, err := valueOf(def)
	if err != nil {
		return nil, err
	}
	if regions == nil {
		return feature(defValue, append(rules, docRules...)), nil
	}
	inRegion := inCondition(AttrRegion, regions)
	for _, r := range docRules {
		r.conditions = append(r.conditions, inRegion)
		rules = append(rules, r)
	}
	rules = append(rules, ptRule{name(RuleAllowedRegions), defValue, [][]byte{inRegion}})
	return feature(off, rules), nil
}

// fullShare is a rollout of 100%, in the thousandths of a percent Flag
// keeps.
const fullShare = 100000

func errRollout(what string) error {
	return fmt.Errorf("%s: Vane assigns subjects to a rollout by a SHA-256 bucket of the salt and the subject (doc/flags.md, \"Bucketing\"), which no Powertools condition can express (MODULO_RANGE takes an integer attribute modulo a base, not a hash)", what)
}

// userList reads a user list of a document Parse accepted, in order,
// without repeats and without "": Vane's subject is never empty, so ""
// matches no one.
func userList(raw json.RawMessage) []string {
	var ids []string
	json.Unmarshal(raw, &ids)
	return slices.DeleteFunc(distinct(ids), func(s string) bool { return s == "" })
}

// distinct returns list without repeats, in order of first appearance.
func distinct(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// rawRules returns the rules of a document Parse accepted, in order, in
// either of their forms, as Parse reads them.
func rawRules(raw json.RawMessage) []map[string]json.RawMessage {
	if raw == nil {
		return nil
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		kvs, _ := orderedObject("$.rules", raw)
		for _, kv := range kvs {
			list = append(list, kv.value)
		}
	} else {
		json.Unmarshal(raw, &list)
	}
	rules := make([]map[string]json.RawMessage, len(list))
	for i, r := range list {
		rules[i], _ = object("$.rules", r, ruleKeys)
	}
	return rules
}

// inCondition writes the condition "key is one of list".
func inCondition(key string, list []string) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"action":"IN","key":`)
	writeString(&buf, key)
	buf.WriteString(`,"value":[`)
	for i, s := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(&buf, s)
	}
	buf.WriteString("]}")
	return buf.Bytes()
}

// powertoolsCondition writes a condition of a document Parse accepted as
// {"action", "key", "value"}, with the rewrites PowertoolsDocument lists.
func powertoolsCondition(raw json.RawMessage) ([]byte, error) {
	cd, _ := object("$", raw, conditionKeys)
	var action, key string
	json.Unmarshal(cd["action"], &action)
	json.Unmarshal(cd["key"], &key)
	var buf bytes.Buffer
	buf.WriteString(`{"action":`)
	writeString(&buf, action)
	buf.WriteString(`,"key":`)
	writeString(&buf, key)
	buf.WriteString(`,"value":`)
	var err error
	switch action {
	case actionTimeRange, actionDatetimeRange, actionDaysOfWeek:
		err = writeSchedule(&buf, action, cd["value"])
	default:
		err = writeJSON(&buf, cd["value"])
	}
	if err != nil {
		return nil, err
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// writeSchedule writes the value of a schedule condition Parse accepted:
// an object of strings (and DAYS, an array of strings), TIMEZONE possibly
// null.
func writeSchedule(buf *bytes.Buffer, action string, raw json.RawMessage) error {
	var v map[string]any
	json.Unmarshal(raw, &v)
	fields := []string{"START", "END", "TIMEZONE"}
	if action == actionDaysOfWeek {
		fields = []string{"DAYS", "TIMEZONE"}
	}
	buf.WriteByte('{')
	first := true
	for _, f := range fields {
		x, ok := v[f]
		if !ok {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(buf, f)
		buf.WriteByte(':')
		switch f {
		case "TIMEZONE":
			// Powertools passes "" and null to dateutil's gettz, which
			// returns the host's zone; Vane reads them as UTC.
			if s, _ := x.(string); s == "" {
				x = "UTC"
			}
		case "START", "END":
			if action == actionDatetimeRange {
				s, err := powertoolsDatetime(x.(string), f == "START")
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				x = s
			}
		}
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return nil
}

// powertoolsDatetime rewrites a date-time that Vane accepted so that every
// Python version Powertools supports reads it as Vane does. Before 3.11,
// datetime.fromisoformat takes a fraction of exactly 3 or 6 digits, and
// Python's clock has microseconds. Vane compares the clock truncated to
// the microsecond, now_µs×1000 ≥ START_ns and ≤ END_ns, which is
// now_µs ≥ ⌈START_ns/1000⌉ and now_µs ≤ ⌊END_ns/1000⌋: so START is rounded
// up to the microsecond and END down.
func powertoolsDatetime(s string, start bool) (string, error) {
	dot := strings.IndexByte(s, '.')
	if dot < 0 || len(s)-dot-1 == 3 || len(s)-dot-1 == 6 {
		return s, nil
	}
	t, err := parseLocalDatetime(s)
	if err != nil {
		return "", err
	}
	if start && t.Nanosecond()%1000 != 0 {
		t = t.Truncate(time.Microsecond).Add(time.Microsecond)
	} else {
		t = t.Truncate(time.Microsecond)
	}
	if t.Year() > 9999 {
		return "", fmt.Errorf("%q rounded up to the microsecond is after year 9999, beyond Python's dates", s)
	}
	return t.Format("2006-01-02T15:04:05.000000"), nil
}

// writeJSON writes a JSON value compactly, as Vane reads it: object
// fields in order (a repeated one once), numbers as written, and strings
// as Go decodes them, so
// that Python sees the same text (invalid UTF-8 and lone surrogates,
// which Go decodes as U+FFFD, are written as U+FFFD). It fails for what
// Python would read differently or not at all: an integer beyond 2^53, a
// number beyond a 64-bit float, deeper nesting than powertoolsMaxDepth.
func writeJSON(buf *bytes.Buffer, raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return writeToken(buf, dec, 0)
}

func writeToken(buf *bytes.Buffer, dec *json.Decoder, depth int) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		if depth == powertoolsMaxDepth {
			return fmt.Errorf("a value is nested more than %d levels deep, which Python's JSON decoder may refuse (and with it the whole document)", powertoolsMaxDepth)
		}
		if v == '[' {
			buf.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				if err := writeToken(buf, dec, depth+1); err != nil {
					return err
				}
			}
			buf.WriteByte(']')
		} else if err := writeObject(buf, dec, depth); err != nil {
			return err
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
	case string:
		writeString(buf, v)
	case json.Number:
		if err := checkNumber(string(v)); err != nil {
			return err
		}
		buf.WriteString(string(v))
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case nil:
		buf.WriteString("null")
	}
	return nil
}

// writeObject writes the members of the object whose '{' dec has just
// read. A repeated key is written once, where it first appears, with its
// last value: what both Go and Python make of it.
func writeObject(buf *bytes.Buffer, dec *json.Decoder, depth int) error {
	var keys []string
	values := map[string][]byte{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		key := k.(string)
		var v bytes.Buffer
		if err := writeToken(&v, dec, depth+1); err != nil {
			return err
		}
		if _, ok := values[key]; !ok {
			keys = append(keys, key)
		}
		values[key] = v.Bytes()
	}
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k)
		buf.WriteByte(':')
		buf.Write(values[k])
	}
	buf.WriteByte('}')
	return nil
}

// checkNumber accepts a JSON number that Python reads as Vane does.
// Python reads an integer literal exactly, Vane as a 64-bit float, which
// holds every integer up to 2^53 and not all beyond. A literal with a
// fraction or an exponent is a float in both.
func checkNumber(s string) error {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return fmt.Errorf("the number %s is beyond the range of a 64-bit float", truncate(s))
	}
	if strings.ContainsAny(s, ".eE") {
		return nil
	}
	digits := strings.TrimPrefix(s, "-")
	const limit = "9007199254740992" // 2^53
	if len(digits) > len(limit) || len(digits) == len(limit) && digits > limit {
		return fmt.Errorf("the integer %s is beyond 2^53: Powertools compares and returns it exactly, Vane as a 64-bit float", truncate(s))
	}
	return nil
}

// writeString writes s as a JSON string, without escaping <, > and &.
func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode's newline
}
