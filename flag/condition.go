package flag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// The condition actions, with the names and meanings of the Feature Flags
// utility of Powertools for AWS Lambda (Python), so that its documents give
// the same answers here. doc/flags-conditions.md describes each one and
// the few deliberate differences.
const (
	actionEquals             = "EQUALS"
	actionNotEquals          = "NOT_EQUALS"
	actionGreater            = "KEY_GREATER_THAN_VALUE"
	actionGreaterOrEqual     = "KEY_GREATER_THAN_OR_EQUAL_VALUE"
	actionLess               = "KEY_LESS_THAN_VALUE"
	actionLessOrEqual        = "KEY_LESS_THAN_OR_EQUAL_VALUE"
	actionStartsWith         = "STARTSWITH"
	actionEndsWith           = "ENDSWITH"
	actionIn                 = "IN"
	actionNotIn              = "NOT_IN"
	actionKeyInValue         = "KEY_IN_VALUE"
	actionKeyNotInValue      = "KEY_NOT_IN_VALUE"
	actionValueInKey         = "VALUE_IN_KEY"
	actionValueNotInKey      = "VALUE_NOT_IN_KEY"
	actionAllInValue         = "ALL_IN_VALUE"
	actionAnyInValue         = "ANY_IN_VALUE"
	actionNoneInValue        = "NONE_IN_VALUE"
	actionTimeRange          = "SCHEDULE_BETWEEN_TIME_RANGE"
	actionDatetimeRange      = "SCHEDULE_BETWEEN_DATETIME_RANGE"
	actionDaysOfWeek         = "SCHEDULE_BETWEEN_DAYS_OF_WEEK"
	actionModuloRange        = "MODULO_RANGE"
	validActions             = "EQUALS, NOT_EQUALS, KEY_GREATER_THAN_VALUE, KEY_GREATER_THAN_OR_EQUAL_VALUE, KEY_LESS_THAN_VALUE, KEY_LESS_THAN_OR_EQUAL_VALUE, STARTSWITH, ENDSWITH, IN, NOT_IN, KEY_IN_VALUE, KEY_NOT_IN_VALUE, VALUE_IN_KEY, VALUE_NOT_IN_KEY, ALL_IN_VALUE, ANY_IN_VALUE, NONE_IN_VALUE, SCHEDULE_BETWEEN_TIME_RANGE, SCHEDULE_BETWEEN_DATETIME_RANGE, SCHEDULE_BETWEEN_DAYS_OF_WEEK, MODULO_RANGE"
	keyCurrentTime           = "CURRENT_TIME"
	keyCurrentDatetime       = "CURRENT_DATETIME"
	keyCurrentDayOfWeek      = "CURRENT_DAY_OF_WEEK"
	maxExactInteger          = 1 << 53 // float64 holds every integer up to here
	secondsPerDay            = 24 * 60 * 60
	unixEpochWeekday         = 4 // 1970-01-01 was a Thursday (Sunday is 0)
	scheduleTimeRangeFields  = "START, END, TIMEZONE"
	scheduleDaysOfWeekFields = "DAYS, TIMEZONE"
	moduloRangeFields        = "BASE, START, END"
)

// matcher reports whether an evaluation context satisfies a compiled
// condition at time now.
type matcher func(ctx Context, now time.Time) bool

// compileCondition compiles one condition of a rule, found at JSON path
// path (such as "$.rules[0].conditions[1]"), into a matcher. Errors are
// *Error values naming the path of the offending part.
//
// Everything that does not depend on the context or the clock (the value,
// times, time zones, day sets) is worked out here, so that the matcher
// allocates nothing.
func compileCondition(path, action, key string, value json.RawMessage) (matcher, error) {
	vpath := path + ".value"
	switch action {
	case actionTimeRange, actionDatetimeRange, actionDaysOfWeek:
		if err := scheduleKey(path+".key", action, key); err != nil {
			return nil, err
		}
	case actionEquals, actionNotEquals, actionGreater, actionGreaterOrEqual, actionLess, actionLessOrEqual,
		actionStartsWith, actionEndsWith, actionIn, actionNotIn, actionKeyInValue, actionKeyNotInValue,
		actionValueInKey, actionValueNotInKey, actionAllInValue, actionAnyInValue, actionNoneInValue, actionModuloRange:
		if key == "" {
			return nil, errorf(path+".key", "%s needs a key: the name of the context attribute to test", action)
		}
	case "":
		return nil, errorf(path+".action", "needs an action, one of %s", validActions)
	default:
		return nil, errorf(path+".action", "unknown action %q (valid actions: %s)", action, validActions)
	}

	v, err := decodeValue(vpath, value)
	if err != nil {
		return nil, err
	}
	if v == nil {
		// Powertools rejects a null value for every action (schema.py,
		// ConditionsValidator.validate_condition_value).
		return nil, errorf(vpath, "%s needs a value (null or missing)", action)
	}

	switch action {
	case actionEquals, actionNotEquals:
		return compileEquals(key, v, action == actionNotEquals)
	case actionGreater, actionGreaterOrEqual, actionLess, actionLessOrEqual:
		return compileOrder(vpath, action, key, v)
	case actionStartsWith, actionEndsWith:
		s, ok := v.(string)
		if !ok {
			return nil, errorf(vpath, "%s needs a string, not %s", action, jsonType(v))
		}
		if action == actionStartsWith {
			return func(ctx Context, _ time.Time) bool {
				c, ok := ctx[key].(string)
				return ok && strings.HasPrefix(c, s)
			}, nil
		}
		return func(ctx Context, _ time.Time) bool {
			c, ok := ctx[key].(string)
			return ok && strings.HasSuffix(c, s)
		}, nil
	case actionIn, actionKeyInValue, actionNotIn, actionKeyNotInValue:
		items, ok := v.([]any)
		if !ok {
			return nil, errorf(vpath, "%s needs an array of values, not %s", action, jsonType(v))
		}
		set := newValueSet(items)
		if action == actionIn || action == actionKeyInValue {
			if len(items) == 0 {
				return nil, errorf(vpath, "%s with an empty array can never match", action)
			}
			return func(ctx Context, _ time.Time) bool {
				c, ok := ctx[key]
				return ok && set.contains(c)
			}, nil
		}
		return func(ctx Context, _ time.Time) bool {
			c, ok := ctx[key]
			return ok && !set.contains(c)
		}, nil
	case actionValueInKey, actionValueNotInKey:
		return compileValueInKey(key, v, action == actionValueNotInKey), nil
	case actionAllInValue, actionAnyInValue, actionNoneInValue:
		return compileListAction(vpath, action, key, v)
	case actionModuloRange:
		return compileModulo(vpath, key, v, value)
	case actionTimeRange:
		return compileTimeRange(vpath, v)
	case actionDatetimeRange:
		return compileDatetimeRange(vpath, v)
	default: // actionDaysOfWeek
		return compileDaysOfWeek(vpath, v)
	}
}

// scheduleKey checks the fixed key of a schedule action. Powertools takes
// the key as the "context value" of these actions and never looks in the
// context (feature_flags.py, _evaluate_conditions).
func scheduleKey(path, action, key string) error {
	want := keyCurrentDayOfWeek
	switch action {
	case actionTimeRange:
		want = keyCurrentTime
	case actionDatetimeRange:
		want = keyCurrentDatetime
	}
	switch key {
	case want:
		return nil
	case want + "_UTC":
		return errorf(path, "%s needs key %q (%q is the name early Powertools releases used)", action, want, key)
	}
	return errorf(path, "%s needs key %q, not %q", action, want, key)
}

// decodeValue decodes a condition's value, with numbers as float64s, as
// the context has them.
func decodeValue(path string, raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(path, "not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf(path, "not valid JSON: data after the value")
	}
	return normalize(path, v)
}

// normalize turns the json.Numbers of a decoded value into float64s.
func normalize(path string, v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, errorf(path, "number %s is out of range", x)
		}
		return f, nil
	case []any:
		for i, e := range x {
			n, err := normalize(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	case map[string]any:
		for k, e := range x {
			n, err := normalize(path+"."+k, e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	}
	return v, nil
}

// jsonType names the JSON type of a decoded value, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// number returns v as a float64 if it is a number: a float64 from JSON, or
// one of Go's numeric types that a Go caller may put in a Context.
// Booleans are not numbers here, although Python's are (True == 1).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// equal is Python's == between a context value c and a (decoded, so
// JSON-typed) condition value w, except that booleans equal only booleans.
// Python's == never raises, so there is no "type error" outcome: values of
// different types are simply unequal ("5" == 5 is False; 5 == 5.0 is True).
func equal(c, w any) bool {
	switch w := w.(type) {
	case string:
		s, ok := c.(string)
		return ok && s == w
	case float64:
		f, ok := number(c)
		return ok && f == w
	case bool:
		b, ok := c.(bool)
		return ok && b == w
	case nil:
		return c == nil
	case []any:
		switch c := c.(type) {
		case []any:
			if len(c) != len(w) {
				return false
			}
			for i := range w {
				if !equal(c[i], w[i]) {
					return false
				}
			}
			return true
		case []string:
			if len(c) != len(w) {
				return false
			}
			for i := range w {
				if s, ok := w[i].(string); !ok || s != c[i] {
					return false
				}
			}
			return true
		}
	case map[string]any:
		c, ok := c.(map[string]any)
		if !ok || len(c) != len(w) {
			return false
		}
		for k, wv := range w {
			cv, ok := c[k]
			if !ok || !equal(cv, wv) {
				return false
			}
		}
		return true
	}
	return false
}

// compare orders a context value c against a condition value w (a number,
// a string or an array) as Python's < and > do: numbers numerically,
// strings by code point, lists element by element up to the first unequal
// pair and then by length. ok is false where Python raises TypeError
// ("5" > 3, None > 3, {} < {}), which Powertools turns into "no match".
func compare(c, w any) (cmp int, ok bool) {
	switch w := w.(type) {
	case float64:
		f, ok := number(c)
		if !ok {
			return 0, false
		}
		switch {
		case f < w:
			return -1, true
		case f > w:
			return 1, true
		}
		return 0, true
	case string:
		s, ok := c.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(s, w), true
	case []any:
		switch c := c.(type) {
		case []any:
			for i := 0; i < len(c) && i < len(w); i++ {
				if !equal(c[i], w[i]) {
					return compare(c[i], w[i])
				}
			}
			return compareInts(len(c), len(w)), true
		case []string:
			for i := 0; i < len(c) && i < len(w); i++ {
				if !equal(c[i], w[i]) {
					return compare(c[i], w[i])
				}
			}
			return compareInts(len(c), len(w)), true
		}
	}
	return 0, false
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compileEquals compiles EQUALS and NOT_EQUALS. A missing key matches
// neither; a key present with null is unequal to every (non-null) value,
// so it matches NOT_EQUALS, as Python's None != "x" does.
func compileEquals(key string, w any, negate bool) (matcher, error) {
	switch w := w.(type) {
	case string:
		return func(ctx Context, _ time.Time) bool {
			c, ok := ctx[key]
			if !ok {
				return false
			}
			s, isStr := c.(string)
			return (isStr && s == w) != negate
		}, nil
	case float64:
		return func(ctx Context, _ time.Time) bool {
			c, ok := ctx[key]
			if !ok {
				return false
			}
			f, isNum := number(c)
			return (isNum && f == w) != negate
		}, nil
	}
	return func(ctx Context, _ time.Time) bool {
		c, ok := ctx[key]
		return ok && equal(c, w) != negate
	}, nil
}

// compileOrder compiles the four KEY_*_VALUE comparisons.
func compileOrder(path, action, key string, w any) (matcher, error) {
	var holds func(int) bool
	switch action {
	case actionGreater:
		holds = func(c int) bool { return c > 0 }
	case actionGreaterOrEqual:
		holds = func(c int) bool { return c >= 0 }
	case actionLess:
		holds = func(c int) bool { return c < 0 }
	default:
		holds = func(c int) bool { return c <= 0 }
	}
	switch w := w.(type) {
	case float64:
		// The common case, without compare's type switch on w.
		return func(ctx Context, _ time.Time) bool {
			f, ok := number(ctx[key])
			if !ok {
				return false
			}
			c := 0
			if f < w {
				c = -1
			} else if f > w {
				c = 1
			}
			return holds(c)
		}, nil
	case string, []any:
		return func(ctx Context, _ time.Time) bool {
			c, ok := compare(ctx[key], w)
			return ok && holds(c)
		}, nil
	}
	// Python would raise TypeError for every context value (objects do not
	// order; booleans order only as numbers, which they are not here).
	return nil, errorf(path, "%s needs a number, a string or an array, not %s", action, jsonType(w))
}

// valueSet answers Python's "x in list" for a fixed list: membership by ==.
type valueSet struct {
	strs     map[string]struct{}
	nums     map[float64]struct{}
	hasTrue  bool
	hasFalse bool
	hasNull  bool
	others   []any // arrays and objects, compared with equal
}

func newValueSet(items []any) *valueSet {
	s := &valueSet{}
	for _, it := range items {
		switch x := it.(type) {
		case string:
			if s.strs == nil {
				s.strs = make(map[string]struct{})
			}
			s.strs[x] = struct{}{}
		case float64:
			if s.nums == nil {
				s.nums = make(map[float64]struct{})
			}
			s.nums[x] = struct{}{}
		case bool:
			if x {
				s.hasTrue = true
			} else {
				s.hasFalse = true
			}
		case nil:
			s.hasNull = true
		default:
			s.others = append(s.others, it)
		}
	}
	return s
}

func (s *valueSet) contains(v any) bool {
	switch x := v.(type) {
	case string:
		_, ok := s.strs[x]
		return ok
	case bool:
		if x {
			return s.hasTrue
		}
		return s.hasFalse
	case nil:
		return s.hasNull
	case []any, []string, map[string]any:
		for _, o := range s.others {
			if equal(v, o) {
				return true
			}
		}
		return false
	}
	f, ok := number(v)
	if !ok {
		return false
	}
	_, ok = s.nums[f]
	return ok
}

// compileValueInKey compiles VALUE_IN_KEY ("value in context") and its
// negation. Python's "in" depends on the container: list membership by
// ==, substring for strings (TypeError for a non-string value), key
// membership for dicts (TypeError for an unhashable array or object).
// A TypeError makes both actions not match; anything else is negated.
func compileValueInKey(key string, w any, negate bool) matcher {
	ws, wIsStr := w.(string)
	_, wIsList := w.([]any)
	_, wIsObj := w.(map[string]any)
	return func(ctx Context, _ time.Time) bool {
		var in bool
		switch c := ctx[key].(type) {
		case []any:
			for _, e := range c {
				if equal(e, w) {
					in = true
					break
				}
			}
		case []string:
			if wIsStr {
				for _, e := range c {
					if e == ws {
						in = true
						break
					}
				}
			}
		case string:
			if !wIsStr {
				return false
			}
			in = strings.Contains(c, ws)
		case map[string]any:
			if wIsList || wIsObj {
				return false
			}
			if wIsStr {
				_, in = c[ws]
			}
		default: // missing, null, number, boolean: Python raises
			return false
		}
		return in != negate
	}
}

// compileListAction compiles ALL_IN_VALUE, ANY_IN_VALUE and NONE_IN_VALUE.
// Powertools raises ValueError unless the context value is a list
// (comparators.py, compare_*_in_list), which means no match.
func compileListAction(path, action, key string, v any) (matcher, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, errorf(path, "%s needs an array of values, not %s", action, jsonType(v))
	}
	if action == actionAnyInValue && len(items) == 0 {
		return nil, errorf(path, "%s with an empty array can never match", action)
	}
	set := newValueSet(items)
	// want is the membership each element must have. ANY is decided by
	// the first element that has it, ALL and NONE by the first that lacks it.
	want := action != actionNoneInValue
	first := action == actionAnyInValue
	return func(ctx Context, _ time.Time) bool {
		switch c := ctx[key].(type) {
		case []any:
			for _, e := range c {
				if set.contains(e) == want {
					if first {
						return true
					}
				} else if !first {
					return false
				}
			}
		case []string:
			for _, e := range c {
				_, in := set.strs[e]
				if in == want {
					if first {
						return true
					}
				} else if !first {
					return false
				}
			}
		default:
			return false
		}
		return !first
	}, nil
}

// objectValue checks that v is an object with only the given fields.
func objectValue(path, action string, v any, fields string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(path, "%s needs an object with fields %s, not %s", action, fields, jsonType(v))
	}
	for k := range m {
		if !strings.Contains(", "+fields+", ", ", "+k+", ") {
			return nil, errorf(path+"."+k, "unknown field (fields here: %s)", fields)
		}
	}
	return m, nil
}

// compileModulo compiles MODULO_RANGE: START <= key % BASE <= END, with
// Python's % (the result takes the sign of BASE, so -1 % 4 is 3).
// Validation follows schema.py's _validate_modulo_range_value: integer
// BASE, START, END with 0 <= START <= END <= BASE-1.
func compileModulo(path, key string, v any, raw json.RawMessage) (matcher, error) {
	if _, err := objectValue(path, actionModuloRange, v, moduloRangeFields); err != nil {
		return nil, err
	}
	// Decoded again, keeping the literals: 4.0 is a float in Python, and
	// schema.py wants int.
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, errorf(path, "not valid JSON: %s", err)
	}
	var n [3]int64
	for i, f := range [3]string{"BASE", "START", "END"} {
		raw, ok := m[f]
		if !ok || raw == nil {
			return nil, errorf(path, "MODULO_RANGE needs %s (fields: %s)", f, moduloRangeFields)
		}
		num, ok := raw.(json.Number)
		if !ok {
			return nil, errorf(path+"."+f, "must be an integer, not %s", jsonType(raw))
		}
		x, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			return nil, errorf(path+"."+f, "must be an integer, not %s", num)
		}
		n[i] = x
	}
	base, start, end := n[0], n[1], n[2]
	switch {
	case base <= 0:
		return nil, errorf(path+".BASE", "must be at least 1, not %d", base)
	case base > maxExactInteger:
		return nil, errorf(path+".BASE", "must be at most 2^53, the largest integer a JSON number holds exactly")
	case start < 0:
		return nil, errorf(path+".START", "must not be negative (a remainder is 0 to BASE-1), not %d", start)
	case start > end:
		return nil, errorf(path+".START", "START %d is after END %d: the range can never match", start, end)
	case end >= base:
		return nil, errorf(path+".END", "END %d must be below BASE %d: a remainder is 0 to BASE-1", end, base)
	}
	fbase, fstart, fend := float64(base), float64(start), float64(end)
	return func(ctx Context, _ time.Time) bool {
		x, ok := number(ctx[key])
		if !ok {
			return false
		}
		var r float64
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			i := int64(x) % base
			if i < 0 {
				i += base
			}
			r = float64(i)
		} else {
			// Python's float %: fmod, moved into BASE's sign.
			r = math.Mod(x, fbase)
			if r < 0 {
				r += fbase
			}
		}
		return fstart <= r && r <= fend
	}, nil
}

// location loads the TIMEZONE of a schedule value. Powertools treats a
// missing, null or empty TIMEZONE as UTC (schema.py, _validate_timezone;
// comparators.py, _get_now_from_timezone).
func location(path string, m map[string]any) (*time.Location, error) {
	raw, ok := m["TIMEZONE"]
	if !ok || raw == nil {
		return time.UTC, nil
	}
	name, ok := raw.(string)
	if !ok {
		return nil, errorf(path+".TIMEZONE", "must be a string (an IANA time zone such as \"Europe/Paris\"), not %s", jsonType(raw))
	}
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" {
		// time.LoadLocation's name for the host's zone: the same flag would
		// answer differently on different machines.
		return nil, errorf(path+".TIMEZONE", "must be an IANA time zone such as \"Europe/Paris\", not \"Local\"")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errorf(path+".TIMEZONE", "unknown time zone %q (use an IANA name such as \"Europe/Paris\")", name)
	}
	return loc, nil
}

// wallSeconds returns the wall clock of now in loc as seconds since
// 1970-01-01T00:00 of that wall clock. Powertools compares wall clocks:
// both sides of its comparisons carry the same tzinfo object, and Python
// compares such datetimes without applying their UTC offsets.
func wallSeconds(now time.Time, loc *time.Location) int64 {
	now = now.In(loc)
	_, offset := now.Zone()
	return now.Unix() + int64(offset)
}

// floorDiv and floorMod divide rounding towards minus infinity, so that
// wall clocks before 1970 still give the right day and time of day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// stringField returns field f of a schedule value, which must be a
// non-empty string.
func stringField(path, action string, m map[string]any, f, fields string) (string, error) {
	raw, ok := m[f]
	if !ok || raw == nil {
		return "", errorf(path, "%s needs %s (fields: %s)", action, f, fields)
	}
	s, ok := raw.(string)
	if !ok {
		return "", errorf(path+"."+f, "must be a string, not %s", jsonType(raw))
	}
	return s, nil
}

// compileTimeRange compiles SCHEDULE_BETWEEN_TIME_RANGE: the wall clock in
// TIMEZONE, to the minute, is within START..END (both HH:MM, both
// inclusive, so END "17:00" covers 17:00:59). An END before START crosses
// midnight (Powertools PR #8428 compares minutes since midnight).
func compileTimeRange(path string, v any) (matcher, error) {
	m, err := objectValue(path, actionTimeRange, v, scheduleTimeRangeFields)
	if err != nil {
		return nil, err
	}
	var minute [2]int64
	for i, f := range [2]string{"START", "END"} {
		s, err := stringField(path, actionTimeRange, m, f, scheduleTimeRangeFields)
		if err != nil {
			return nil, err
		}
		mm, ok := parseHHMM(s)
		if !ok {
			return nil, errorf(path+"."+f, "must be a 24-hour time HH:MM such as \"09:30\", not %q", s)
		}
		minute[i] = mm
	}
	loc, err := location(path, m)
	if err != nil {
		return nil, err
	}
	start, end := minute[0], minute[1]
	if start <= end {
		return func(_ Context, now time.Time) bool {
			m := floorMod(wallSeconds(now, loc), secondsPerDay) / 60
			return start <= m && m <= end
		}, nil
	}
	return func(_ Context, now time.Time) bool {
		m := floorMod(wallSeconds(now, loc), secondsPerDay) / 60
		return m >= start || m <= end
	}, nil
}

// parseHHMM parses exactly HH:MM, 00:00 to 23:59 (Powertools'
// TIME_RANGE_PATTERN), into minutes since midnight.
func parseHHMM(s string) (int64, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, ok1 := digits(s[0:2])
	m, ok2 := digits(s[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	return int64(h*60 + m), true
}

// digits parses a string of ASCII digits only.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// compileDatetimeRange compiles SCHEDULE_BETWEEN_DATETIME_RANGE: the wall
// clock in TIMEZONE is within START..END, both inclusive. START and END
// are local date-times without an offset: Powertools rejects offsets and
// attaches TIMEZONE itself (schema.py, _validate_datetime).
func compileDatetimeRange(path string, v any) (matcher, error) {
	m, err := objectValue(path, actionDatetimeRange, v, scheduleTimeRangeFields)
	if err != nil {
		return nil, err
	}
	var t [2]time.Time
	for i, f := range [2]string{"START", "END"} {
		s, err := stringField(path, actionDatetimeRange, m, f, scheduleTimeRangeFields)
		if err != nil {
			return nil, err
		}
		if t[i], err = parseLocalDatetime(s); err != nil {
			return nil, errorf(path+"."+f, "%s", err.Error())
		}
	}
	loc, err := location(path, m)
	if err != nil {
		return nil, err
	}
	if t[0].After(t[1]) {
		return nil, errorf(path+".START", "START %q is after END %q: the range can never match",
			m["START"], m["END"])
	}
	startSec, startNsec := t[0].Unix(), int64(t[0].Nanosecond())
	endSec, endNsec := t[1].Unix(), int64(t[1].Nanosecond())
	return func(_ Context, now time.Time) bool {
		sec := wallSeconds(now, loc)
		// Python's clock has microseconds; truncating keeps "<= END" the
		// same at the boundary.
		nsec := int64(now.Nanosecond()) / 1000 * 1000
		if sec < startSec || (sec == startSec && nsec < startNsec) {
			return false
		}
		return sec < endSec || (sec == endSec && nsec <= endNsec)
	}, nil
}

// parseLocalDatetime parses the ISO 8601 forms that datetime.fromisoformat
// accepts on every Python version Powertools supports: YYYY-MM-DD, then
// optionally "T" (or a space) and HH, HH:MM, HH:MM:SS or HH:MM:SS.fraction.
// The wall clock is returned as a time in UTC.
func parseLocalDatetime(s string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("must be a date-time such as \"2024-12-24T18:00:00\" (ISO 8601, no offset), not %q", s)
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return bad()
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || mo < 1 || mo > 12 || d < 1 ||
		d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return bad()
	}
	var h, mi, sec, nsec int
	rest := s[10:]
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' || len(rest) < 3 {
			return bad()
		}
		var ok bool
		if h, ok = digits(rest[1:3]); !ok || h > 23 {
			return bad()
		}
		rest = rest[3:]
		for i := range 2 {
			if len(rest) < 3 || rest[0] != ':' {
				break
			}
			n, ok := digits(rest[1:3])
			if !ok || n > 59 {
				return bad()
			}
			if i == 0 {
				mi = n
			} else {
				sec = n
			}
			rest = rest[3:]
			if i == 1 && len(rest) > 1 && rest[0] == '.' {
				j := 1
				for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
					j++
				}
				if j == 1 || j > 10 {
					return bad()
				}
				frac, _ := digits(rest[1:j])
				for k := j; k < 10; k++ {
					frac *= 10
				}
				nsec = frac
				rest = rest[j:]
			}
		}
	}
	if rest != "" {
		if strings.ContainsAny(rest[:1], "Zz+-") {
			return time.Time{}, fmt.Errorf("must not include a UTC offset (%q): give the local date-time and set TIMEZONE, so that daylight saving time is applied", s)
		}
		return bad()
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC), nil
}

// compileDaysOfWeek compiles SCHEDULE_BETWEEN_DAYS_OF_WEEK: the day of
// the week of the wall clock in TIMEZONE is one of DAYS (upper-case
// English names, as strftime("%A").upper() gives them in Powertools).
func compileDaysOfWeek(path string, v any) (matcher, error) {
	m, err := objectValue(path, actionDaysOfWeek, v, scheduleDaysOfWeekFields)
	if err != nil {
		return nil, err
	}
	raw, ok := m["DAYS"]
	if !ok || raw == nil {
		return nil, errorf(path, "%s needs DAYS (fields: %s)", actionDaysOfWeek, scheduleDaysOfWeekFields)
	}
	days, ok := raw.([]any)
	if !ok {
		return nil, errorf(path+".DAYS", "must be an array of day names such as [\"SATURDAY\", \"SUNDAY\"], not %s", jsonType(raw))
	}
	if len(days) == 0 {
		return nil, errorf(path+".DAYS", "an empty array can never match")
	}
	var set uint8 // bit i: weekday i, Sunday is 0
	for i, d := range days {
		s, _ := d.(string)
		wd, ok := weekday(s)
		if !ok {
			what := fmt.Sprintf("%q", s)
			if _, isStr := d.(string); !isStr {
				what = jsonType(d)
			}
			return nil, errorf(fmt.Sprintf("%s.DAYS[%d]", path, i),
				"must be MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY or SUNDAY (upper case), not %s", what)
		}
		set |= 1 << wd
	}
	loc, err := location(path, m)
	if err != nil {
		return nil, err
	}
	return func(_ Context, now time.Time) bool {
		wd := floorMod(floorDiv(wallSeconds(now, loc), secondsPerDay)+unixEpochWeekday, 7)
		return set&(1<<wd) != 0
	}, nil
}

// weekday maps an upper-case English day name to time.Weekday's numbering.
func weekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s == strings.ToUpper(d.String()) {
			return d, true
		}
	}
	return 0, false
}
