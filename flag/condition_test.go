package flag

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const condPath = "$.rules[0].conditions[1]"

// at parses an RFC 3339 instant for a test's clock.
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// mustCompile compiles a condition that must be valid.
func mustCompile(tb testing.TB, action, key, value string) matcher {
	tb.Helper()
	var raw json.RawMessage
	if value != "" {
		raw = json.RawMessage(value)
	}
	m, err := compileCondition(condPath, action, key, raw)
	if err != nil {
		tb.Fatalf("compileCondition(%s, %q, %s): %v", action, key, value, err)
	}
	return m
}

type conditionCase struct {
	name   string
	action string
	key    string
	value  string  // JSON
	ctx    Context // nil: empty
	now    string  // RFC 3339; "": a fixed Wednesday noon UTC
	want   bool
}

func runConditionCases(t *testing.T, cases []conditionCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mustCompile(t, c.action, c.key, c.value)
			now := "2024-06-12T12:00:00Z"
			if c.now != "" {
				now = c.now
			}
			if got := m(c.ctx, at(t, now)); got != c.want {
				t.Errorf("%s %q %s with %v at %s = %v, want %v", c.action, c.key, c.value, c.ctx, now, got, c.want)
			}
		})
	}
}

func TestConditionEquality(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"EqualsSameString", "EQUALS", "tier", `"premium"`, Context{"tier": "premium"}, "", true},
		{"EqualsOtherString", "EQUALS", "tier", `"premium"`, Context{"tier": "basic"}, "", false},
		{"EqualsIsCaseSensitive", "EQUALS", "tier", `"premium"`, Context{"tier": "Premium"}, "", false},
		{"EqualsStringNeverEqualsNumber", "EQUALS", "n", `5`, Context{"n": "5"}, "", false},
		{"EqualsNumberNeverEqualsString", "EQUALS", "n", `"5"`, Context{"n": 5.0}, "", false},
		{"EqualsIntegerEqualsFloat", "EQUALS", "n", `5.0`, Context{"n": 5.0}, "", true},
		{"EqualsGoIntInContext", "EQUALS", "n", `5`, Context{"n": 5}, "", true},
		{"EqualsBoolean", "EQUALS", "beta", `true`, Context{"beta": true}, "", true},
		{"EqualsFalseValue", "EQUALS", "beta", `false`, Context{"beta": false}, "", true},
		{"EqualsTrueIsNotOne", "EQUALS", "beta", `1`, Context{"beta": true}, "", false},
		{"EqualsOneIsNotTrue", "EQUALS", "n", `true`, Context{"n": 1.0}, "", false},
		{"EqualsMissingKey", "EQUALS", "tier", `"premium"`, Context{}, "", false},
		{"EqualsNilContext", "EQUALS", "tier", `"premium"`, nil, "", false},
		{"EqualsNullInContext", "EQUALS", "tier", `"premium"`, Context{"tier": nil}, "", false},
		{"EqualsArray", "EQUALS", "g", `["a","b"]`, Context{"g": []any{"a", "b"}}, "", true},
		{"EqualsArrayOrderMatters", "EQUALS", "g", `["a","b"]`, Context{"g": []any{"b", "a"}}, "", false},
		{"EqualsGoStringSlice", "EQUALS", "g", `["a","b"]`, Context{"g": []string{"a", "b"}}, "", true},
		{"EqualsObject", "EQUALS", "o", `{"a":1,"b":[true]}`, Context{"o": map[string]any{"b": []any{true}, "a": 1.0}}, "", true},
		{"EqualsObjectExtraKey", "EQUALS", "o", `{"a":1}`, Context{"o": map[string]any{"a": 1.0, "b": 2.0}}, "", false},
		{"EqualsEmptyString", "EQUALS", "s", `""`, Context{"s": ""}, "", true},

		{"NotEqualsOther", "NOT_EQUALS", "tier", `"premium"`, Context{"tier": "basic"}, "", true},
		{"NotEqualsSame", "NOT_EQUALS", "tier", `"premium"`, Context{"tier": "premium"}, "", false},
		{"NotEqualsMissingKeyDoesNotMatch", "NOT_EQUALS", "tier", `"premium"`, Context{}, "", false},
		{"NotEqualsNullMatches", "NOT_EQUALS", "tier", `"premium"`, Context{"tier": nil}, "", true},
		{"NotEqualsStringAndNumberDiffer", "NOT_EQUALS", "n", `5`, Context{"n": "5"}, "", true},
		{"NotEqualsIntegerAndFloatSame", "NOT_EQUALS", "n", `5`, Context{"n": 5.0}, "", false},
		{"NotEqualsTrueAndOneDiffer", "NOT_EQUALS", "n", `1`, Context{"n": true}, "", true},
	})
}

func TestConditionOrder(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"GreaterNumber", "KEY_GREATER_THAN_VALUE", "age", `18`, Context{"age": 30.0}, "", true},
		{"GreaterEqualNumberIsNot", "KEY_GREATER_THAN_VALUE", "age", `18`, Context{"age": 18.0}, "", false},
		{"GreaterOrEqualEqualNumber", "KEY_GREATER_THAN_OR_EQUAL_VALUE", "age", `18`, Context{"age": 18.0}, "", true},
		{"GreaterOrEqualSmallerNumber", "KEY_GREATER_THAN_OR_EQUAL_VALUE", "age", `18`, Context{"age": 17.5}, "", false},
		{"LessNumber", "KEY_LESS_THAN_VALUE", "age", `18`, Context{"age": 17.0}, "", true},
		{"LessEqualNumberIsNot", "KEY_LESS_THAN_VALUE", "age", `18`, Context{"age": 18.0}, "", false},
		{"LessOrEqualEqualNumber", "KEY_LESS_THAN_OR_EQUAL_VALUE", "age", `18`, Context{"age": 18.0}, "", true},
		{"LessOrEqualGreaterNumber", "KEY_LESS_THAN_OR_EQUAL_VALUE", "age", `18`, Context{"age": 19.0}, "", false},
		{"GreaterGoInt", "KEY_GREATER_THAN_VALUE", "age", `18`, Context{"age": 30}, "", true},
		{"GreaterNegativeFloat", "KEY_GREATER_THAN_VALUE", "t", `-1.5`, Context{"t": -1.25}, "", true},
		{"GreaterString", "KEY_GREATER_THAN_VALUE", "v", `"1.2.0"`, Context{"v": "1.10.0"}, "", false},
		{"LessStringLexical", "KEY_LESS_THAN_VALUE", "v", `"1.2.0"`, Context{"v": "1.10.0"}, "", true},
		{"LessStringByCodePoint", "KEY_LESS_THAN_VALUE", "s", `"a"`, Context{"s": "Z"}, "", true},
		{"GreaterStringNonASCII", "KEY_GREATER_THAN_VALUE", "s", `"z"`, Context{"s": "é"}, "", true},
		{"GreaterOrEqualSameString", "KEY_GREATER_THAN_OR_EQUAL_VALUE", "s", `"b"`, Context{"s": "b"}, "", true},
		{"GreaterStringVersusNumberNoMatch", "KEY_GREATER_THAN_VALUE", "n", `3`, Context{"n": "5"}, "", false},
		{"LessStringVersusNumberNoMatch", "KEY_LESS_THAN_VALUE", "n", `3`, Context{"n": "1"}, "", false},
		{"GreaterNumberVersusStringNoMatch", "KEY_GREATER_THAN_VALUE", "n", `"3"`, Context{"n": 5.0}, "", false},
		{"GreaterBooleanNoMatch", "KEY_GREATER_THAN_VALUE", "b", `0`, Context{"b": true}, "", false},
		{"GreaterNullNoMatch", "KEY_GREATER_THAN_VALUE", "n", `0`, Context{"n": nil}, "", false},
		{"LessMissingKeyNoMatch", "KEY_LESS_THAN_VALUE", "n", `100`, Context{}, "", false},
		{"LessArrayElementwise", "KEY_LESS_THAN_VALUE", "v", `[1,3]`, Context{"v": []any{1.0, 2.0}}, "", true},
		{"LessArrayPrefixIsSmaller", "KEY_LESS_THAN_VALUE", "v", `[1,0]`, Context{"v": []any{1.0}}, "", true},
		{"LessArrayMixedTypesNoMatch", "KEY_LESS_THAN_VALUE", "v", `[1,2]`, Context{"v": []any{1.0, "a"}}, "", false},
		{"LessArrayDecidedBeforeMixedTypes", "KEY_LESS_THAN_VALUE", "v", `[2,"b"]`, Context{"v": []any{1.0, 9.0}}, "", true},
		{"GreaterOrEqualEqualArrays", "KEY_GREATER_THAN_OR_EQUAL_VALUE", "v", `["a","b"]`, Context{"v": []string{"a", "b"}}, "", true},
		{"GreaterArrayVersusStringNoMatch", "KEY_GREATER_THAN_VALUE", "v", `["a"]`, Context{"v": "b"}, "", false},
	})
}

func TestConditionStrings(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"StartsWithPrefix", "STARTSWITH", "email", `"admin@"`, Context{"email": "admin@example.com"}, "", true},
		{"StartsWithOther", "STARTSWITH", "email", `"admin@"`, Context{"email": "root@example.com"}, "", false},
		{"StartsWithEmptyPrefix", "STARTSWITH", "email", `""`, Context{"email": "x"}, "", true},
		{"StartsWithNumberNoMatch", "STARTSWITH", "n", `"1"`, Context{"n": 123.0}, "", false},
		{"StartsWithMissingKey", "STARTSWITH", "email", `"a"`, Context{}, "", false},
		{"EndsWithSuffix", "ENDSWITH", "email", `"@example.com"`, Context{"email": "a@example.com"}, "", true},
		{"EndsWithOther", "ENDSWITH", "email", `"@example.com"`, Context{"email": "a@example.org"}, "", false},
		{"EndsWithArrayNoMatch", "ENDSWITH", "email", `"a"`, Context{"email": []any{"a"}}, "", false},
	})
}

func TestConditionMembership(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"InString", "IN", "region", `["eu-west-1","eu-central-1"]`, Context{"region": "eu-west-1"}, "", true},
		{"InStringAbsent", "IN", "region", `["eu-west-1"]`, Context{"region": "us-east-1"}, "", false},
		{"InNumber", "IN", "n", `[1,2,3]`, Context{"n": 2.0}, "", true},
		{"InGoInt", "IN", "n", `[1,2,3]`, Context{"n": 2}, "", true},
		{"InStringIsNotNumber", "IN", "n", `[1,2,3]`, Context{"n": "2"}, "", false},
		{"InTrueIsNotOne", "IN", "b", `[1]`, Context{"b": true}, "", false},
		{"InBoolean", "IN", "b", `[false]`, Context{"b": false}, "", true},
		{"InNull", "IN", "n", `[null,"x"]`, Context{"n": nil}, "", true},
		{"InNullAbsent", "IN", "n", `["x"]`, Context{"n": nil}, "", false},
		{"InNestedArray", "IN", "g", `[["a"],["b"]]`, Context{"g": []any{"b"}}, "", true},
		{"InMissingKey", "IN", "region", `["eu-west-1"]`, Context{}, "", false},
		{"InLongList", "IN", "id", `["1","2","3","4","5","6","7","8","9","10","11","12"]`, Context{"id": "11"}, "", true},
		{"NotInAbsent", "NOT_IN", "region", `["eu-west-1"]`, Context{"region": "us-east-1"}, "", true},
		{"NotInPresent", "NOT_IN", "region", `["eu-west-1"]`, Context{"region": "eu-west-1"}, "", false},
		{"NotInMissingKeyDoesNotMatch", "NOT_IN", "region", `["eu-west-1"]`, Context{}, "", false},
		{"NotInNullMatches", "NOT_IN", "region", `["eu-west-1"]`, Context{"region": nil}, "", true},
		{"NotInStringIsNotNumber", "NOT_IN", "n", `[2]`, Context{"n": "2"}, "", true},
		{"NotInEmptyList", "NOT_IN", "n", `[]`, Context{"n": "2"}, "", true},
		{"KeyInValue", "KEY_IN_VALUE", "tenant", `["t1","t2"]`, Context{"tenant": "t2"}, "", true},
		{"KeyInValueAbsent", "KEY_IN_VALUE", "tenant", `["t1","t2"]`, Context{"tenant": "t3"}, "", false},
		{"KeyNotInValue", "KEY_NOT_IN_VALUE", "tenant", `["t1","t2"]`, Context{"tenant": "t3"}, "", true},
		{"KeyNotInValuePresent", "KEY_NOT_IN_VALUE", "tenant", `["t1","t2"]`, Context{"tenant": "t1"}, "", false},
		{"KeyNotInValueMissingKey", "KEY_NOT_IN_VALUE", "tenant", `["t1"]`, Context{}, "", false},

		{"ValueInKeyList", "VALUE_IN_KEY", "groups", `"admin"`, Context{"groups": []any{"dev", "admin"}}, "", true},
		{"ValueInKeyGoStringSlice", "VALUE_IN_KEY", "groups", `"admin"`, Context{"groups": []string{"dev", "admin"}}, "", true},
		{"ValueInKeyListAbsent", "VALUE_IN_KEY", "groups", `"admin"`, Context{"groups": []any{"dev"}}, "", false},
		{"ValueInKeyListNumber", "VALUE_IN_KEY", "ids", `7`, Context{"ids": []any{1.0, 7.0}}, "", true},
		{"ValueInKeySubstring", "VALUE_IN_KEY", "ua", `"Mobile"`, Context{"ua": "Mozilla/5.0 Mobile Safari"}, "", true},
		{"ValueInKeySubstringAbsent", "VALUE_IN_KEY", "ua", `"Mobile"`, Context{"ua": "Mozilla/5.0"}, "", false},
		{"ValueInKeyNumberInStringNoMatch", "VALUE_IN_KEY", "s", `5`, Context{"s": "a5"}, "", false},
		{"ValueInKeyObjectKey", "VALUE_IN_KEY", "attrs", `"beta"`, Context{"attrs": map[string]any{"beta": true}}, "", true},
		{"ValueInKeyNumberIsNotObjectKey", "VALUE_IN_KEY", "attrs", `5`, Context{"attrs": map[string]any{"5": true}}, "", false},
		{"ValueInKeyNumberContextNoMatch", "VALUE_IN_KEY", "n", `5`, Context{"n": 5.0}, "", false},
		{"ValueInKeyMissingKey", "VALUE_IN_KEY", "groups", `"admin"`, Context{}, "", false},
		{"ValueNotInKeyList", "VALUE_NOT_IN_KEY", "groups", `"admin"`, Context{"groups": []any{"dev"}}, "", true},
		{"ValueNotInKeyListPresent", "VALUE_NOT_IN_KEY", "groups", `"admin"`, Context{"groups": []any{"admin"}}, "", false},
		{"ValueNotInKeySubstring", "VALUE_NOT_IN_KEY", "ua", `"Mobile"`, Context{"ua": "Desktop"}, "", true},
		{"ValueNotInKeyNumberInStringNoMatch", "VALUE_NOT_IN_KEY", "s", `5`, Context{"s": "abc"}, "", false},
		{"ValueNotInKeyNumberIsNotObjectKey", "VALUE_NOT_IN_KEY", "attrs", `5`, Context{"attrs": map[string]any{"5": true}}, "", true},
		{"ValueNotInKeyArrayInObjectNoMatch", "VALUE_NOT_IN_KEY", "attrs", `["a"]`, Context{"attrs": map[string]any{}}, "", false},
		{"ValueNotInKeyNullNoMatch", "VALUE_NOT_IN_KEY", "groups", `"admin"`, Context{"groups": nil}, "", false},
		{"ValueNotInKeyMissingKey", "VALUE_NOT_IN_KEY", "groups", `"admin"`, Context{}, "", false},
	})
}

func TestConditionListActions(t *testing.T) {
	runConditionCases(t, []conditionCase{
		{"AllInValue", "ALL_IN_VALUE", "perms", `["read","write","admin"]`, Context{"perms": []any{"read", "write"}}, "", true},
		{"AllInValueOneAbsent", "ALL_IN_VALUE", "perms", `["read","write"]`, Context{"perms": []any{"read", "delete"}}, "", false},
		{"AllInValueEmptyContextList", "ALL_IN_VALUE", "perms", `["read"]`, Context{"perms": []any{}}, "", true},
		{"AllInValueEmptyValueEmptyContext", "ALL_IN_VALUE", "perms", `[]`, Context{"perms": []any{}}, "", true},
		{"AllInValueGoStringSlice", "ALL_IN_VALUE", "perms", `["read","write"]`, Context{"perms": []string{"write"}}, "", true},
		{"AllInValueStringContextNoMatch", "ALL_IN_VALUE", "perms", `["read"]`, Context{"perms": "read"}, "", false},
		{"AllInValueMissingKey", "ALL_IN_VALUE", "perms", `["read"]`, Context{}, "", false},
		{"AnyInValue", "ANY_IN_VALUE", "perms", `["admin","owner"]`, Context{"perms": []any{"read", "owner"}}, "", true},
		{"AnyInValueNone", "ANY_IN_VALUE", "perms", `["admin"]`, Context{"perms": []any{"read"}}, "", false},
		{"AnyInValueEmptyContextList", "ANY_IN_VALUE", "perms", `["admin"]`, Context{"perms": []any{}}, "", false},
		{"AnyInValueNumbers", "ANY_IN_VALUE", "ids", `[3,4]`, Context{"ids": []any{1.0, 4.0}}, "", true},
		{"AnyInValueNumberContextNoMatch", "ANY_IN_VALUE", "ids", `[3]`, Context{"ids": 3.0}, "", false},
		{"NoneInValue", "NONE_IN_VALUE", "perms", `["banned"]`, Context{"perms": []any{"read"}}, "", true},
		{"NoneInValueOnePresent", "NONE_IN_VALUE", "perms", `["banned"]`, Context{"perms": []any{"read", "banned"}}, "", false},
		{"NoneInValueEmptyContextList", "NONE_IN_VALUE", "perms", `["banned"]`, Context{"perms": []any{}}, "", true},
		{"NoneInValueGoStringSlice", "NONE_IN_VALUE", "perms", `["banned"]`, Context{"perms": []string{"banned"}}, "", false},
		{"NoneInValueNullNoMatch", "NONE_IN_VALUE", "perms", `["banned"]`, Context{"perms": nil}, "", false},
		{"NoneInValueMissingKey", "NONE_IN_VALUE", "perms", `["banned"]`, Context{}, "", false},
	})
}

func TestConditionModuloRange(t *testing.T) {
	half := `{"BASE":100,"START":0,"END":49}`
	runConditionCases(t, []conditionCase{
		{"InRange", "MODULO_RANGE", "uid", half, Context{"uid": 1234.0}, "", true},
		{"OutOfRange", "MODULO_RANGE", "uid", half, Context{"uid": 1250.0}, "", false},
		{"EndInclusive", "MODULO_RANGE", "uid", half, Context{"uid": 149.0}, "", true},
		{"NegativeTakesBaseSign", "MODULO_RANGE", "uid", half, Context{"uid": -1.0}, "", false},
		{"NegativeInRange", "MODULO_RANGE", "uid", half, Context{"uid": -60.0}, "", true},
		{"GoInt", "MODULO_RANGE", "uid", half, Context{"uid": 1234}, "", true},
		{"FloatRemainderOutOfRange", "MODULO_RANGE", "x", `{"BASE":4,"START":3,"END":3}`, Context{"x": 7.5}, "", false},
		{"FloatRemainderInRange", "MODULO_RANGE", "x", `{"BASE":4,"START":0,"END":3}`, Context{"x": 6.5}, "", true},
		{"NegativeFloat", "MODULO_RANGE", "x", `{"BASE":4,"START":3,"END":3}`, Context{"x": -0.5}, "", false},
		{"HugeInteger", "MODULO_RANGE", "x", `{"BASE":10,"START":0,"END":0}`, Context{"x": 1e20}, "", true},
		{"WholeRange", "MODULO_RANGE", "x", `{"BASE":1,"START":0,"END":0}`, Context{"x": 17.0}, "", true},
		{"StringNoMatch", "MODULO_RANGE", "uid", half, Context{"uid": "1234"}, "", false},
		{"BooleanNoMatch", "MODULO_RANGE", "uid", half, Context{"uid": true}, "", false},
		{"MissingKey", "MODULO_RANGE", "uid", half, Context{}, "", false},
	})
}

func TestConditionTimeRange(t *testing.T) {
	office := `{"START":"09:00","END":"17:00"}`
	night := `{"START":"22:00","END":"06:00"}`
	almostAllDay := `{"START":"23:30","END":"23:00"}`
	paris := `{"START":"09:00","END":"17:00","TIMEZONE":"Europe/Paris"}`
	ny := `{"START":"01:00","END":"01:59","TIMEZONE":"America/New_York"}`
	nyGap := `{"START":"02:00","END":"02:59","TIMEZONE":"America/New_York"}`
	runConditionCases(t, []conditionCase{
		{"Inside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, nil, "2024-06-12T12:00:00Z", true},
		{"AtStart", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, nil, "2024-06-12T09:00:00Z", true},
		{"JustBeforeStart", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, nil, "2024-06-12T08:59:59.999Z", false},
		{"EndMinuteInclusive", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, nil, "2024-06-12T17:00:59Z", true},
		{"AfterEndMinute", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, nil, "2024-06-12T17:01:00Z", false},
		{"IgnoresContext", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, Context{"CURRENT_TIME": "03:00"}, "2024-06-12T12:00:00Z", true},
		{"WrapBeforeMidnight", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "2024-06-12T23:30:00Z", true},
		{"WrapAfterMidnight", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "2024-06-13T03:00:00Z", true},
		{"WrapAtMidnight", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "2024-06-13T00:00:00Z", true},
		{"WrapOutside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "2024-06-12T12:00:00Z", false},
		{"WrapEndMinuteInclusive", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "2024-06-13T06:00:30Z", true},
		{"WrapAfterEnd", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "2024-06-13T06:01:00Z", false},
		{"SameHourWrapInside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", almostAllDay, nil, "2024-06-12T10:00:00Z", true},
		{"SameHourWrapGap", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", almostAllDay, nil, "2024-06-12T23:15:00Z", false},
		{"SameHourWrapAtEnd", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", almostAllDay, nil, "2024-06-12T23:00:45Z", true},
		{"SingleMinute", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"12:00","END":"12:00"}`, nil, "2024-06-12T12:00:30Z", true},
		{"ZoneSummerInside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", paris, nil, "2024-07-01T07:30:00Z", true},    // 09:30 CEST
		{"ZoneWinterOutside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", paris, nil, "2024-01-08T07:30:00Z", false},  // 08:30 CET
		{"ZoneWinterInside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", paris, nil, "2024-01-08T15:30:00Z", true},    // 16:30 CET
		{"ZoneSummerAfterEnd", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", paris, nil, "2024-07-01T15:30:00Z", false}, // 17:30 CEST
		{"ExplicitUTC", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":"UTC"}`, nil, "2024-06-12T12:00:00Z", true},
		{"EmptyZoneIsUTC", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":""}`, nil, "2024-06-12T12:00:00Z", true},
		{"NowInOtherLocation", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", office, nil, "2024-06-12T14:00:00+02:00", true}, // 12:00 UTC
		// America/New_York springs forward on 2024-03-10 at 02:00 EST (07:00 UTC).
		{"DSTBeforeSpringForward", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", ny, nil, "2024-03-10T06:30:00Z", true},       // 01:30 EST
		{"DSTAfterSpringForward", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", ny, nil, "2024-03-10T07:30:00Z", false},       // 03:30 EDT
		{"DSTSkippedHourNeverShows", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", nyGap, nil, "2024-03-10T07:00:00Z", false}, // 03:00 EDT
		{"DSTSkippedHourNextDay", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", nyGap, nil, "2024-03-11T06:30:00Z", true},     // 02:30 EDT
		// and falls back on 2024-11-03 at 02:00 EDT (06:00 UTC): 01:xx happens twice.
		{"DSTRepeatedHourFirst", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", ny, nil, "2024-11-03T05:30:00Z", true},  // 01:30 EDT
		{"DSTRepeatedHourSecond", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", ny, nil, "2024-11-03T06:30:00Z", true}, // 01:30 EST
		{"DSTAfterRepeatedHour", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", ny, nil, "2024-11-03T07:00:00Z", false}, // 02:00 EST
		{"Before1970", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "1969-12-31T23:30:00Z", true},
		{"Before1970Outside", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", night, nil, "1969-12-31T12:00:00Z", false},
	})
}

func TestConditionDatetimeRange(t *testing.T) {
	christmas := `{"START":"2024-12-24T00:00:00","END":"2024-12-26T23:59:59"}`
	newYearTokyo := `{"START":"2025-01-01T00:00","END":"2025-01-01T23:59:59.999999","TIMEZONE":"Asia/Tokyo"}`
	fallBack := `{"START":"2024-11-01T00:00:00","END":"2024-11-03T01:30:00","TIMEZONE":"America/New_York"}`
	springForward := `{"START":"2024-03-10T02:30:00","END":"2024-03-11T00:00:00","TIMEZONE":"America/New_York"}`
	runConditionCases(t, []conditionCase{
		{"Inside", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-25T12:00:00Z", true},
		{"Before", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-23T23:59:59Z", false},
		{"AtStart", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-24T00:00:00Z", true},
		{"AtEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-26T23:59:59Z", true},
		{"WithinEndMicrosecond", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-26T23:59:59.0000009Z", true},
		{"OneMicrosecondAfterEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-26T23:59:59.000001Z", false},
		{"After", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", christmas, nil, "2024-12-27T00:00:00Z", false},
		{"DateOnlyEndIsMidnight", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-24","END":"2024-12-25"}`, nil, "2024-12-25T00:00:00Z", true},
		{"DateOnlyEndExcludesTheDay", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-24","END":"2024-12-25"}`, nil, "2024-12-25T00:00:01Z", false},
		{"SpaceSeparator", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-24 10","END":"2024-12-24 11:30"}`, nil, "2024-12-24T11:00:00Z", true},
		{"ZoneAheadOfUTC", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", newYearTokyo, nil, "2024-12-31T15:30:00Z", true}, // 00:30 JST
		{"ZoneAheadOfUTCBefore", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", newYearTokyo, nil, "2024-12-31T14:59:59Z", false},
		{"ZoneAheadOfUTCAfter", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", newYearTokyo, nil, "2025-01-01T15:00:00Z", false},
		// Wall clocks are compared, as Powertools does: in the repeated hour
		// after a fall-back the range can match again.
		{"DSTFallBackBeforeEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", fallBack, nil, "2024-11-03T05:15:00Z", true},    // 01:15 EDT
		{"DSTFallBackAfterEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", fallBack, nil, "2024-11-03T05:45:00Z", false},    // 01:45 EDT
		{"DSTFallBackRepeatedHour", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", fallBack, nil, "2024-11-03T06:15:00Z", true}, // 01:15 EST
		{"DSTFallBackAfterRepeat", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", fallBack, nil, "2024-11-03T06:45:00Z", false}, // 01:45 EST
		// A START in the skipped hour begins at the first wall time after it.
		{"DSTSpringForwardBeforeStart", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", springForward, nil, "2024-03-10T06:59:59Z", false}, // 01:59:59 EST
		{"DSTSpringForwardStart", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", springForward, nil, "2024-03-10T07:00:00Z", true},        // 03:00 EDT
	})
}

func TestConditionDaysOfWeek(t *testing.T) {
	weekend := `{"DAYS":["SATURDAY","SUNDAY"]}`
	runConditionCases(t, []conditionCase{
		{"Saturday", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", weekend, nil, "2024-06-15T12:00:00Z", true},
		{"Sunday", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", weekend, nil, "2024-06-16T23:59:59Z", true},
		{"Monday", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", weekend, nil, "2024-06-17T00:00:00Z", false},
		{"Friday", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", weekend, nil, "2024-06-14T23:59:59Z", false},
		{"IgnoresContext", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", weekend, Context{"CURRENT_DAY_OF_WEEK": "MONDAY"}, "2024-06-15T12:00:00Z", true},
		{"DuplicateDays", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["WEDNESDAY","WEDNESDAY"]}`, nil, "", true},
		// Sunday 13:00 UTC is already Monday 01:00 in Auckland (NZST, UTC+12).
		{"ZoneAheadIsNextDay", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY"],"TIMEZONE":"Pacific/Auckland"}`, nil, "2024-06-16T13:00:00Z", true},
		{"ZoneAheadIsNotUTCDay", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["SUNDAY"],"TIMEZONE":"Pacific/Auckland"}`, nil, "2024-06-16T13:00:00Z", false},
		// Saturday 03:00 UTC is still Friday 20:00 in Los Angeles (PDT).
		{"ZoneBehindIsPreviousDay", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["FRIDAY"],"TIMEZONE":"America/Los_Angeles"}`, nil, "2024-06-15T03:00:00Z", true},
		{"ZoneBehindIsNotUTCDay", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["SATURDAY"],"TIMEZONE":"America/Los_Angeles"}`, nil, "2024-06-15T03:00:00Z", false},
		{"Before1970", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["WEDNESDAY"]}`, nil, "1969-12-31T12:00:00Z", true},
	})
}

// TestConditionWeekdayNumbering checks the arithmetic day of the week
// against the time package over several years of days.
func TestConditionWeekdayNumbering(t *testing.T) {
	names := [...]string{"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}
	ms := make([]matcher, len(names))
	for i, n := range names {
		ms[i] = mustCompile(t, "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["`+n+`"],"TIMEZONE":"Europe/Berlin"}`)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for now := at(t, "1966-01-01T00:30:00Z"); now.Year() < 1974; now = now.Add(7 * time.Hour) {
		wd := now.In(berlin).Weekday()
		for i, m := range ms {
			if got := m(nil, now); got != (time.Weekday(i) == wd) {
				t.Fatalf("at %s (%s in Berlin), DAYS [%s] = %v", now, wd, names[i], got)
			}
		}
	}
}

func TestCompileConditionErrors(t *testing.T) {
	cases := []struct {
		name, action, key, value string
		path, msg                string
	}{
		{"ErrUnknownAction", "EQUAL", "k", `"x"`, ".action", `unknown action "EQUAL" (valid actions: EQUALS, NOT_EQUALS,`},
		{"ErrUnknownActionListsModulo", "LIKE", "k", `"x"`, ".action", "MODULO_RANGE"},
		{"ErrLowerCaseAction", "equals", "k", `"x"`, ".action", "unknown action"},
		{"ErrNoAction", "", "k", `"x"`, ".action", "needs an action"},
		{"ErrNoKey", "EQUALS", "", `"x"`, ".key", "EQUALS needs a key"},
		{"ErrNoKeyModulo", "MODULO_RANGE", "", `{"BASE":2,"START":0,"END":0}`, ".key", "needs a key"},
		{"ErrNullValue", "EQUALS", "k", `null`, ".value", "EQUALS needs a value"},
		{"ErrMissingValue", "NOT_EQUALS", "k", ``, ".value", "needs a value"},
		{"ErrInvalidJSON", "EQUALS", "k", `"x`, ".value", "not valid JSON"},
		{"ErrTrailingJSON", "EQUALS", "k", `"x" "y"`, ".value", "not valid JSON"},
		{"ErrNumberOutOfRange", "EQUALS", "k", `[1, 1e400]`, ".value[1]", "out of range"},
		{"ErrGreaterBoolean", "KEY_GREATER_THAN_VALUE", "k", `true`, ".value", "needs a number, a string or an array, not a boolean"},
		{"ErrLessObject", "KEY_LESS_THAN_OR_EQUAL_VALUE", "k", `{"a":1}`, ".value", "not an object"},
		{"ErrStartsWithNumber", "STARTSWITH", "k", `5`, ".value", "STARTSWITH needs a string, not a number"},
		{"ErrEndsWithArray", "ENDSWITH", "k", `[".com"]`, ".value", "needs a string, not an array"},
		{"ErrInString", "IN", "k", `"abc"`, ".value", "IN needs an array of values, not a string"},
		{"ErrNotInObject", "NOT_IN", "k", `{"a":1}`, ".value", "NOT_IN needs an array"},
		{"ErrInEmpty", "IN", "k", `[]`, ".value", "IN with an empty array can never match"},
		{"ErrKeyInValueEmpty", "KEY_IN_VALUE", "k", `[]`, ".value", "can never match"},
		{"ErrKeyNotInValueNumber", "KEY_NOT_IN_VALUE", "k", `5`, ".value", "needs an array"},
		{"ErrAnyInValueEmpty", "ANY_IN_VALUE", "k", `[]`, ".value", "ANY_IN_VALUE with an empty array can never match"},
		{"ErrAllInValueString", "ALL_IN_VALUE", "k", `"a"`, ".value", "ALL_IN_VALUE needs an array"},
		{"ErrNoneInValueObject", "NONE_IN_VALUE", "k", `{}`, ".value", "NONE_IN_VALUE needs an array"},

		{"ErrTimeRangeKey", "SCHEDULE_BETWEEN_TIME_RANGE", "now", `{"START":"09:00","END":"17:00"}`, ".key", `needs key "CURRENT_TIME", not "now"`},
		{"ErrTimeRangeOldKey", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME_UTC", `{"START":"09:00","END":"17:00"}`, ".key", "early Powertools releases"},
		{"ErrTimeRangeNoKey", "SCHEDULE_BETWEEN_TIME_RANGE", "", `{"START":"09:00","END":"17:00"}`, ".key", `needs key "CURRENT_TIME"`},
		{"ErrTimeRangeNotObject", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `["09:00","17:00"]`, ".value", "needs an object with fields START, END, TIMEZONE, not an array"},
		{"ErrTimeRangeNoStart", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"END":"17:00"}`, ".value", "needs START"},
		{"ErrTimeRangeNoEnd", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00"}`, ".value", "needs END"},
		{"ErrTimeRangeOneDigitHour", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"9:00","END":"17:00"}`, ".value.START", `HH:MM such as "09:30", not "9:00"`},
		{"ErrTimeRange24", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"24:00"}`, ".value.END", "HH:MM"},
		{"ErrTimeRangeMinute60", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:60","END":"17:00"}`, ".value.START", "HH:MM"},
		{"ErrTimeRangeTrailing", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"10:00abc","END":"17:00"}`, ".value.START", "HH:MM"},
		{"ErrTimeRangeSeconds", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"10:00:00","END":"17:00"}`, ".value.START", "HH:MM"},
		{"ErrTimeRangeNumber", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":900,"END":"17:00"}`, ".value.START", "must be a string, not a number"},
		{"ErrTimeRangeUnknownField", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZOME":"Europe/Paris"}`, ".value.TIMEZOME", "unknown field (fields here: START, END, TIMEZONE)"},
		{"ErrUnknownTimeZone", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":"Mars/Olympus_Mons"}`, ".value.TIMEZONE", `unknown time zone "Mars/Olympus_Mons"`},
		{"ErrLocalTimeZone", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":"Local"}`, ".value.TIMEZONE", `not "Local"`},
		{"ErrTimeZoneNumber", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":2}`, ".value.TIMEZONE", "must be a string"},
		{"ErrTimeZonePath", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":"../etc/passwd"}`, ".value.TIMEZONE", "unknown time zone"},

		{"ErrDatetimeKey", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_TIME", `{"START":"2024-01-01","END":"2024-02-01"}`, ".key", `needs key "CURRENT_DATETIME"`},
		{"ErrDatetimeNotObject", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `"2024-01-01"`, ".value", "needs an object"},
		{"ErrDatetimeMonth13", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-13-01T00:00:00","END":"2025-01-01"}`, ".value.START", "must be a date-time such as"},
		{"ErrDatetimeFebruary30", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01","END":"2024-02-30"}`, ".value.END", "must be a date-time"},
		{"ErrDatetimeNotLeapYear", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2023-02-29","END":"2024-01-01"}`, ".value.START", "must be a date-time"},
		{"ErrDatetimeUTCSuffix", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01T00:00:00Z","END":"2024-02-01T00:00:00"}`, ".value.START", "must not include a UTC offset"},
		{"ErrDatetimeOffset", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01T00:00:00","END":"2024-02-01T00:00:00+02:00"}`, ".value.END", "set TIMEZONE"},
		{"ErrDatetimeNegativeOffset", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01T10:00-05:00","END":"2024-02-01"}`, ".value.START", "UTC offset"},
		{"ErrDatetimeSlashes", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024/01/01","END":"2024-02-01"}`, ".value.START", "must be a date-time"},
		{"ErrDatetimeTimeOnly", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"10:00","END":"2024-02-01"}`, ".value.START", "must be a date-time"},
		{"ErrDatetimeHour24", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01T24:00","END":"2024-02-01"}`, ".value.START", "must be a date-time"},
		{"ErrDatetimeEmptyFraction", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01T10:00:00.","END":"2024-02-01"}`, ".value.START", "must be a date-time"},
		{"ErrDatetimeStartAfterEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-26","END":"2024-12-24"}`, ".value.START", `START "2024-12-26" is after END "2024-12-24": the range can never match`},
		{"ErrDatetimeNoEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-26"}`, ".value", "needs END"},
		{"ErrDatetimeTimeZone", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-24","END":"2024-12-26","TIMEZONE":"Europe/Pariss"}`, ".value.TIMEZONE", "unknown time zone"},

		{"ErrDaysKey", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY", `{"DAYS":["MONDAY"]}`, ".key", `needs key "CURRENT_DAY_OF_WEEK"`},
		{"ErrDaysBareArray", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `["MONDAY"]`, ".value", "needs an object with fields DAYS, TIMEZONE"},
		{"ErrDaysMissing", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"TIMEZONE":"UTC"}`, ".value", "needs DAYS"},
		{"ErrDaysString", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":"MONDAY"}`, ".value.DAYS", "must be an array of day names"},
		{"ErrDaysEmpty", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":[]}`, ".value.DAYS", "an empty array can never match"},
		{"ErrDayLowerCase", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["Monday"]}`, ".value.DAYS[0]", `(upper case), not "Monday"`},
		{"ErrDayAbbreviated", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY","TUE"]}`, ".value.DAYS[1]", `not "TUE"`},
		{"ErrDayNumber", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY",3]}`, ".value.DAYS[1]", "not a number"},
		{"ErrDaysUnknownField", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY"],"START":"09:00"}`, ".value.START", "unknown field (fields here: DAYS, TIMEZONE)"},
		{"ErrDaysTimeZone", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY"],"TIMEZONE":"GMT+25"}`, ".value.TIMEZONE", "unknown time zone"},

		{"ErrModuloNotObject", "MODULO_RANGE", "uid", `[100,0,49]`, ".value", "MODULO_RANGE needs an object with fields BASE, START, END, not an array"},
		{"ErrModuloNoBase", "MODULO_RANGE", "uid", `{"START":0,"END":49}`, ".value", "needs BASE"},
		{"ErrModuloNoEnd", "MODULO_RANGE", "uid", `{"BASE":100,"START":0}`, ".value", "needs END"},
		{"ErrModuloFloatBase", "MODULO_RANGE", "uid", `{"BASE":100.0,"START":0,"END":49}`, ".value.BASE", "must be an integer, not 100.0"},
		{"ErrModuloExponent", "MODULO_RANGE", "uid", `{"BASE":1e2,"START":0,"END":49}`, ".value.BASE", "must be an integer"},
		{"ErrModuloBooleanBase", "MODULO_RANGE", "uid", `{"BASE":true,"START":0,"END":0}`, ".value.BASE", "must be an integer, not a boolean"},
		{"ErrModuloStringStart", "MODULO_RANGE", "uid", `{"BASE":100,"START":"0","END":49}`, ".value.START", "must be an integer, not a string"},
		{"ErrModuloBaseZero", "MODULO_RANGE", "uid", `{"BASE":0,"START":0,"END":0}`, ".value.BASE", "must be at least 1, not 0"},
		{"ErrModuloBaseNegative", "MODULO_RANGE", "uid", `{"BASE":-4,"START":0,"END":0}`, ".value.BASE", "must be at least 1"},
		{"ErrModuloBaseHuge", "MODULO_RANGE", "uid", `{"BASE":9007199254740993,"START":0,"END":0}`, ".value.BASE", "2^53"},
		{"ErrModuloBaseOverflow", "MODULO_RANGE", "uid", `{"BASE":99999999999999999999,"START":0,"END":0}`, ".value.BASE", "must be an integer"},
		{"ErrModuloStartNegative", "MODULO_RANGE", "uid", `{"BASE":100,"START":-1,"END":49}`, ".value.START", "must not be negative"},
		{"ErrModuloStartAfterEnd", "MODULO_RANGE", "uid", `{"BASE":100,"START":50,"END":49}`, ".value.START", "START 50 is after END 49: the range can never match"},
		{"ErrModuloEndAtBase", "MODULO_RANGE", "uid", `{"BASE":100,"START":0,"END":100}`, ".value.END", "END 100 must be below BASE 100"},
		{"ErrModuloUnknownField", "MODULO_RANGE", "uid", `{"BASE":100,"START":0,"END":49,"SALT":"x"}`, ".value.SALT", "unknown field (fields here: BASE, START, END)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var raw json.RawMessage
			if c.value != "" {
				raw = json.RawMessage(c.value)
			}
			m, err := compileCondition(condPath, c.action, c.key, raw)
			if err == nil {
				t.Fatalf("compileCondition(%s, %q, %s) = %v, nil; want an error", c.action, c.key, c.value, m != nil)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if want := condPath + c.path; fe.Path != want {
				t.Errorf("path = %q, want %q (message %q)", fe.Path, want, fe.Message)
			}
			if !strings.Contains(fe.Message, c.msg) {
				t.Errorf("message = %q, want it to contain %q", fe.Message, c.msg)
			}
		})
	}
}

// TestCompileConditionAcceptsPowertoolsValues checks values that
// Powertools' schema accepts and that are easy to reject by mistake.
func TestCompileConditionAcceptsPowertoolsValues(t *testing.T) {
	cases := []struct{ name, action, key, value string }{
		{"FalseValue", "EQUALS", "k", `false`},
		{"ZeroValue", "EQUALS", "k", `0`},
		{"EmptyStringValue", "NOT_EQUALS", "k", `""`},
		{"EmptyNotInList", "NOT_IN", "k", `[]`},
		{"EmptyNoneInValue", "NONE_IN_VALUE", "k", `[]`},
		{"NullTimeZone", "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"00:00","END":"23:59","TIMEZONE":null}`},
		{"EqualStartAndEnd", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-24T18:00","END":"2024-12-24T18:00"}`},
		{"FractionalSeconds", "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-12-24T18:00:00.5","END":"2024-12-24t18:00:00.987654321"}`},
		{"ModuloWholeRange", "MODULO_RANGE", "k", `{"BASE":10,"START":0,"END":9}`},
		{"ModuloNegativeZero", "MODULO_RANGE", "k", `{"BASE":10,"START":-0,"END":0}`},
		{"EtcZone", "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY"],"TIMEZONE":"Etc/GMT-14"}`},
		{"ValueInKeyObject", "VALUE_IN_KEY", "k", `{"a":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustCompile(t, c.action, c.key, c.value)
		})
	}
}

// allocationCases are typical conditions with a context that reaches the
// end of each matcher's work.
func allocationCases(tb testing.TB) []struct {
	name string
	m    matcher
	ctx  Context
} {
	ctx := Context{
		"tier":   "premium",
		"age":    42.0,
		"email":  "admin@example.com",
		"region": "eu-west-1",
		"groups": []any{"dev", "ops", "admin"},
		"uid":    123456789.0,
		"obj":    map[string]any{"beta": true},
	}
	return []struct {
		name string
		m    matcher
		ctx  Context
	}{
		{"EQUALS", mustCompile(tb, "EQUALS", "tier", `"premium"`), ctx},
		{"NOT_EQUALS", mustCompile(tb, "NOT_EQUALS", "tier", `"basic"`), ctx},
		{"EQUALS_array", mustCompile(tb, "EQUALS", "groups", `["dev","ops","admin"]`), ctx},
		{"KEY_GREATER_THAN_VALUE", mustCompile(tb, "KEY_GREATER_THAN_VALUE", "age", `18`), ctx},
		{"KEY_LESS_THAN_VALUE_string", mustCompile(tb, "KEY_LESS_THAN_VALUE", "tier", `"z"`), ctx},
		{"STARTSWITH", mustCompile(tb, "STARTSWITH", "email", `"admin@"`), ctx},
		{"IN", mustCompile(tb, "IN", "region", `["us-east-1","eu-west-1","eu-central-1","ap-south-1","sa-east-1"]`), ctx},
		{"NOT_IN", mustCompile(tb, "NOT_IN", "region", `["us-east-1"]`), ctx},
		{"VALUE_IN_KEY", mustCompile(tb, "VALUE_IN_KEY", "groups", `"admin"`), ctx},
		{"VALUE_IN_KEY_object", mustCompile(tb, "VALUE_IN_KEY", "obj", `"beta"`), ctx},
		{"ANY_IN_VALUE", mustCompile(tb, "ANY_IN_VALUE", "groups", `["admin","owner"]`), ctx},
		{"ALL_IN_VALUE", mustCompile(tb, "ALL_IN_VALUE", "groups", `["dev","ops","admin","qa"]`), ctx},
		{"MODULO_RANGE", mustCompile(tb, "MODULO_RANGE", "uid", `{"BASE":100,"START":0,"END":49}`), ctx},
		{"SCHEDULE_BETWEEN_TIME_RANGE", mustCompile(tb, "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"09:00","END":"17:00","TIMEZONE":"Europe/Paris"}`), ctx},
		{"SCHEDULE_BETWEEN_DATETIME_RANGE", mustCompile(tb, "SCHEDULE_BETWEEN_DATETIME_RANGE", "CURRENT_DATETIME", `{"START":"2024-01-01","END":"2030-01-01","TIMEZONE":"America/New_York"}`), ctx},
		{"SCHEDULE_BETWEEN_DAYS_OF_WEEK", mustCompile(tb, "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "CURRENT_DAY_OF_WEEK", `{"DAYS":["MONDAY","TUESDAY","WEDNESDAY","THURSDAY","FRIDAY"],"TIMEZONE":"Asia/Tokyo"}`), ctx},
	}
}

func TestConditionMatchersAllocateNothing(t *testing.T) {
	now := at(t, "2024-06-12T10:00:00Z")
	for _, c := range allocationCases(t) {
		if n := testing.AllocsPerRun(100, func() { c.m(c.ctx, now) }); n != 0 {
			t.Errorf("%s: %v allocations per match, want 0", c.name, n)
		}
	}
}

func BenchmarkConditions(b *testing.B) {
	now := at(b, "2024-06-12T10:00:00Z")
	cases := allocationCases(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.m(c.ctx, now)
			}
		})
	}
	// A rule of five typical conditions, all matching, so each is run.
	five := []matcher{
		mustCompile(b, "EQUALS", "tier", `"premium"`),
		mustCompile(b, "KEY_GREATER_THAN_OR_EQUAL_VALUE", "age", `18`),
		mustCompile(b, "IN", "region", `["us-east-1","eu-west-1","eu-central-1"]`),
		mustCompile(b, "ENDSWITH", "email", `"@example.com"`),
		mustCompile(b, "SCHEDULE_BETWEEN_TIME_RANGE", "CURRENT_TIME", `{"START":"08:00","END":"18:00","TIMEZONE":"Europe/Paris"}`),
	}
	ctx := cases[0].ctx
	b.Run("FiveConditions", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range five {
				if !m(ctx, now) {
					b.Fatal("a condition did not match")
				}
			}
		}
	})
}
