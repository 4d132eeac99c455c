package vane_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

func TestParsePolicies(t *testing.T) {
	ps, text, err := vane.ParsePolicies(`[
		{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2027-01-31T12:00:00.000Z"}},
		{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"2","Unit":"Days"}},
		{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"36","Unit":"Hours"}}]`)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)
	if !ps.Expires.Equal(exp) || !ps.Notify.Equal(exp.Add(-48*time.Hour)) || ps.NoChange != 36*time.Hour || len(ps.List) != 3 {
		t.Errorf("parsed %+v", ps)
	}
	if strings.ContainsAny(text, "\n\t") || !strings.HasPrefix(text, `[{"Type":"Expiration"`) {
		t.Errorf("normalized text %q", text)
	}
	if _, text, err := vane.ParsePolicies("[]"); err != nil || text != "" {
		t.Errorf("empty list: %q %v", text, err)
	}
	for in, detail := range map[string]string{
		`{}`: vane.DetailInvalidPolicyAttribute,
		`[{"Type":"Expiration","Version":"1.0","Attributes":{}}]`:                                                                                                                             vane.DetailInvalidPolicyAttribute,
		`[{"Type":"Expiration","Version":"2.0","Attributes":{"Timestamp":"2027-01-31T00:00:00Z"}}]`:                                                                                           vane.DetailInvalidPolicyAttribute,
		`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2027-01-31T00:00:00Z","Extra":"x"}}]`:                                                                               vane.DetailInvalidPolicyAttribute,
		`[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"0","Unit":"Days"}}]`:                                                                                          vane.DetailInvalidPolicyAttribute,
		`[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Weeks"}}]`:                                                                                         vane.DetailInvalidPolicyAttribute,
		`[{"Type":"Rotate","Version":"1.0","Attributes":{}}]`:                                                                                                                                 vane.DetailInvalidPolicyType,
		`[{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"3","Unit":"Days"}}]`:                                                                                       vane.DetailIncompatiblePolicy,
		`[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Days"}},{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"4","Unit":"Days"}}]`: vane.DetailIncompatiblePolicy,
		`[` + strings.Repeat(`{"Type":"Rotate"},`, 10) + `{"Type":"Rotate"}]`:                                                                                                                 vane.DetailPoliciesLimitExceeded,
	} {
		_, _, err := vane.ParsePolicies(in)
		if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != detail {
			t.Errorf("ParsePolicies(%s): %v, want %s", in, err, detail)
		}
	}
}

// FuzzParsePolicies: any input is accepted or refused with EINVALID, and
// what is accepted parses again to the same text.
func FuzzParsePolicies(f *testing.F) {
	for _, s := range []string{`[]`, `[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2027-01-31T00:00:00Z"}}]`,
		`[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Days"}}]`, `{`, `[null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, text, err := vane.ParsePolicies(in)
		if err != nil {
			if vane.ErrorCode(err) != vane.EINVALID {
				t.Fatalf("ParsePolicies(%q): %v", in, err)
			}
			return
		}
		if text == "" {
			return
		}
		if _, again, err := vane.ParsePolicies(text); err != nil || again != text {
			t.Fatalf("ParsePolicies(%q) = %q, which parses to %q, %v", in, text, again, err)
		}
	})
}
