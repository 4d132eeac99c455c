package vane

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Parameter policy types (SSM PutParameter's Policies).
const (
	PolicyExpiration             = "Expiration"             // delete the parameter at Timestamp
	PolicyExpirationNotification = "ExpirationNotification" // an event Before (Days|Hours) the expiration
	PolicyNoChangeNotification   = "NoChangeNotification"   // an event when unchanged for After (Days|Hours)
)

// MaxPolicies is how many policies a parameter may have.
const MaxPolicies = 10

// Details of policy errors, as AWS names them.
const (
	DetailInvalidPolicyType      = "InvalidPolicyTypeException"
	DetailInvalidPolicyAttribute = "InvalidPolicyAttributeException"
	DetailPoliciesLimitExceeded  = "PoliciesLimitExceededException"
	DetailIncompatiblePolicy     = "IncompatiblePolicyException"
)

// ParameterPolicy is one parameter policy, in AWS's JSON grammar:
// {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "..."}}.
type ParameterPolicy struct {
	Type       string            `json:"Type"`
	Version    string            `json:"Version"`
	Attributes map[string]string `json:"Attributes"`
}

// Text returns the policy's JSON text.
func (p ParameterPolicy) Text() string {
	b, _ := json.Marshal(p)
	return string(b)
}

// Policies is a parameter's policies as they take effect.
type Policies struct {
	List []ParameterPolicy
	// Expires is when an Expiration policy deletes the parameter (zero:
	// none); Notify when an ExpirationNotification fires (zero: none).
	Expires, Notify time.Time
	// NoChange is how long the parameter may stay unchanged before a
	// NoChangeNotification fires (zero: none).
	NoChange time.Duration
}

// Due returns when a policy of ps acts, for a version last changed at
// lastModified: the expiration, the notification before it, or the end of
// the time a NoChangeNotification allows.
func (ps *Policies) Due(pol ParameterPolicy, lastModified time.Time) time.Time {
	switch pol.Type {
	case PolicyExpirationNotification:
		return ps.Notify
	case PolicyNoChangeNotification:
		return lastModified.Add(ps.NoChange)
	}
	return ps.Expires
}

// ParsePolicies parses and checks a Policies member: a JSON array of at
// most MaxPolicies policies, at most one of each type, with the
// attributes each type takes. It returns them with their normalized text
// ("" for an empty array). Errors: EINVALID with the detail AWS gives.
func ParsePolicies(text string) (*Policies, string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policies must be a JSON array of policy objects: %s", jsonReason(err))
	}
	if len(raw) > MaxPolicies {
		return nil, "", DetailErrorf(EINVALID, DetailPoliciesLimitExceeded, "%d policies given; a parameter may have at most %d", len(raw), MaxPolicies)
	}
	out := &Policies{}
	seen := map[string]bool{}
	for i, r := range raw {
		var p ParameterPolicy
		dec := json.NewDecoder(strings.NewReader(string(r)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policy %d: %s", i+1, jsonReason(err))
		}
		switch p.Type {
		case PolicyExpiration, PolicyExpirationNotification, PolicyNoChangeNotification:
		default:
			return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyType,
				"policy %d: type %q is not supported: use Expiration, ExpirationNotification or NoChangeNotification", i+1, truncate(p.Type))
		}
		if seen[p.Type] {
			return nil, "", DetailErrorf(EINVALID, DetailIncompatiblePolicy, "policy %d: a parameter may have one %s policy", i+1, p.Type)
		}
		seen[p.Type] = true
		if p.Version != "1.0" {
			return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policy %d (%s): version %q is not 1.0", i+1, p.Type, truncate(p.Version))
		}
		attr := func(keys ...string) error {
			for k := range p.Attributes {
				if !containsString(keys, k) {
					return DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policy %d (%s): attribute %q is not one of %s", i+1, p.Type, truncate(k), strings.Join(keys, ", "))
				}
			}
			for _, k := range keys {
				if p.Attributes[k] == "" {
					return DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policy %d (%s): attribute %s is required", i+1, p.Type, k)
				}
			}
			return nil
		}
		switch p.Type {
		case PolicyExpiration:
			if err := attr("Timestamp"); err != nil {
				return nil, "", err
			}
			t, err := time.Parse(time.RFC3339Nano, p.Attributes["Timestamp"])
			if err != nil {
				return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyAttribute,
					"policy %d (Expiration): Timestamp %q is not an ISO 8601 time such as 2027-01-31T00:00:00.000Z", i+1, truncate(p.Attributes["Timestamp"]))
			}
			out.Expires = t.UTC()
		case PolicyExpirationNotification, PolicyNoChangeNotification:
			key := "Before"
			if p.Type == PolicyNoChangeNotification {
				key = "After"
			}
			if err := attr(key, "Unit"); err != nil {
				return nil, "", err
			}
			n, err := strconv.Atoi(p.Attributes[key])
			if err != nil || n < 1 || n > 36500 {
				return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policy %d (%s): %s %q must be a whole number from 1", i+1, p.Type, key, truncate(p.Attributes[key]))
			}
			var unit time.Duration
			switch p.Attributes["Unit"] {
			case "Days":
				unit = 24 * time.Hour
			case "Hours":
				unit = time.Hour
			default:
				return nil, "", DetailErrorf(EINVALID, DetailInvalidPolicyAttribute, "policy %d (%s): Unit %q must be Days or Hours", i+1, p.Type, truncate(p.Attributes["Unit"]))
			}
			if p.Type == PolicyNoChangeNotification {
				out.NoChange = time.Duration(n) * unit
			} else {
				out.Notify = time.Time{}.Add(time.Duration(n) * unit) // resolved against Expires below
			}
		}
		out.List = append(out.List, p)
	}
	if seen[PolicyExpirationNotification] {
		if !seen[PolicyExpiration] {
			return nil, "", DetailErrorf(EINVALID, DetailIncompatiblePolicy, "an ExpirationNotification policy needs an Expiration policy")
		}
		out.Notify = out.Expires.Add(-out.Notify.Sub(time.Time{}))
	}
	if len(out.List) == 0 {
		return out, "", nil
	}
	b, _ := json.Marshal(out.List)
	return out, string(b), nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonReason(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "json: ")
}
