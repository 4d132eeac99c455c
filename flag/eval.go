package flag

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Reason says why an evaluation produced its value, with OpenFeature's
// names.
type Reason string

// Reasons of an evaluation.
const (
	// Static: the flag is a bare true/false or a document without
	// targeting; every subject gets the same value.
	ReasonStatic Reason = "STATIC"
	// TargetingMatch: an allow or exclude list, allowed_regions or a
	// rule decided.
	ReasonTargetingMatch Reason = "TARGETING_MATCH"
	// Split: a percentage rollout decided.
	ReasonSplit Reason = "SPLIT"
	// Disabled: the flag's kill switch (enabled: false) is off.
	ReasonDisabled Reason = "DISABLED"
	// Default: targeting exists but nothing matched.
	ReasonDefault Reason = "DEFAULT"
	// Error: the flag could not be evaluated; the value is the
	// document's fallback_on_error or the caller's default.
	ReasonError Reason = "ERROR"
)

// Result is the outcome of evaluating a flag.
type Result struct {
	// Value is a bool, string, float64 or map[string]any; nil for an
	// error without a fallback_on_error (callers serve their default).
	Value    any
	Variant  string // the variant served
	Reason   Reason
	Rule     string         // what decided: a rule's name, "allowed_user_ids", ...
	Metadata map[string]any // the document's metadata; shared, do not modify
	// ErrorCode is set with ReasonError: one of the Err* codes.
	ErrorCode string
}

// Error codes of a Result, with OpenFeature's names.
const (
	ErrFlagNotFound        = "FLAG_NOT_FOUND"
	ErrParse               = "PARSE_ERROR"
	ErrTypeMismatch        = "TYPE_MISMATCH"
	ErrTargetingKeyMissing = "TARGETING_KEY_MISSING"
	ErrGeneral             = "GENERAL"
)

// Names of the built-in targeting steps, reported as Result.Rule.
const (
	RuleExcludedUsers  = "excluded_user_ids"
	RuleAllowedUsers   = "allowed_user_ids"
	RuleAllowedRegions = "allowed_regions"
	RuleRollout        = "rollout_percentage"
)

// Context attributes the built-in targeting reads.
const (
	AttrTargetingKey = "targetingKey"
	AttrUserID       = "user_id"
	AttrRegion       = "region"
)

// Kind returns the kind of the flag's values.
func (f *Flag) Kind() Kind { return f.kind }

// Enabled reports the flag's kill switch.
func (f *Flag) Enabled() bool { return f.enabled }

// Rollout returns the flag-level rollout percentage, or -1 without one.
func (f *Flag) Rollout() float64 {
	if f.rollout < 0 {
		return -1
	}
	return float64(f.rollout) / 1000
}

// Variants returns the variant names in document order.
func (f *Flag) Variants() []string { return append([]string(nil), f.order...) }

// Fallback returns the document's fallback_on_error value, if it has one.
func (f *Flag) Fallback() (any, bool) { return f.fallback, f.hasFallback }

// Evaluate evaluates the flag for a subject at time now, applying in
// order: the kill switch, excluded_user_ids, allowed_user_ids,
// allowed_regions, the rules (first match wins), rollout_percentage, and
// the default variant (doc/flags.md).
func (f *Flag) Evaluate(ctx Context, now time.Time) Result {
	switch {
	case f.static:
		return f.result(f.def, ReasonStatic, "")
	case !f.enabled:
		return f.result(f.off, ReasonDisabled, "")
	}
	subject, hasSubject := subjectOf(ctx)
	if hasSubject {
		if _, ok := f.denyUsers[subject]; ok {
			return f.result(f.off, ReasonTargetingMatch, RuleExcludedUsers)
		}
		if _, ok := f.allowUsers[subject]; ok {
			return f.result(f.on, ReasonTargetingMatch, RuleAllowedUsers)
		}
	}
	if f.regions != nil {
		region, _ := ctx[AttrRegion].(string)
		if _, ok := f.regions[region]; !ok {
			return f.result(f.off, ReasonTargetingMatch, RuleAllowedRegions)
		}
	}
	bucket := -1
	for i := range f.rules {
		r := &f.rules[i]
		if !matchAll(r.conditions, ctx, now) {
			continue
		}
		if r.rollout < 0 {
			return f.result(r.variant, ReasonTargetingMatch, r.name)
		}
		if bucket < 0 {
			if bucket = f.bucketOf(ctx); bucket < 0 {
				return f.keyMissing()
			}
		}
		if bucket < r.rollout {
			return f.result(r.variant, ReasonSplit, r.name)
		}
	}
	if f.rollout >= 0 {
		if bucket < 0 {
			if bucket = f.bucketOf(ctx); bucket < 0 {
				return f.keyMissing()
			}
		}
		if bucket < f.rollout {
			return f.result(f.on, ReasonSplit, RuleRollout)
		}
		return f.result(f.off, ReasonSplit, RuleRollout)
	}
	if f.regions == nil && f.allowUsers == nil && f.denyUsers == nil && f.rules == nil {
		return f.result(f.def, ReasonStatic, "")
	}
	return f.result(f.def, ReasonDefault, "")
}

func matchAll(ms []matcher, ctx Context, now time.Time) bool {
	for _, m := range ms {
		if !m(ctx, now) {
			return false
		}
	}
	return true
}

func (f *Flag) result(variant string, reason Reason, rule string) Result {
	return Result{Value: f.variants[variant], Variant: variant, Reason: reason, Rule: rule, Metadata: f.metadata}
}

// keyMissing is the result of a rollout for a subject without a
// bucketing key.
func (f *Flag) keyMissing() Result {
	return f.ErrorResult(ErrTargetingKeyMissing)
}

// ErrorResult is the result of a flag that cannot be evaluated: its
// fallback_on_error if f is non-nil and has one, else a nil Value for the
// caller to replace with its default.
func (f *Flag) ErrorResult(code string) Result {
	if f != nil && f.hasFallback {
		name, _ := f.variantOf(f.fallback)
		return Result{Value: f.fallback, Variant: name, Reason: ReasonError, Metadata: f.metadata, ErrorCode: code}
	}
	return Result{Reason: ReasonError, ErrorCode: code}
}

// subjectOf returns the subject's key: targetingKey, else user_id.
func subjectOf(ctx Context) (string, bool) {
	if s, ok := ctx[AttrTargetingKey].(string); ok && s != "" {
		return s, true
	}
	if s, ok := ctx[AttrUserID].(string); ok && s != "" {
		return s, true
	}
	return "", false
}

// bucketOf returns the subject's bucket in [0, 100000), or -1 without a
// bucketing key. bucket_by names the attribute; by default the subject.
func (f *Flag) bucketOf(ctx Context) int {
	var key string
	var ok bool
	if f.bucketBy != "" {
		key, ok = ctx[f.bucketBy].(string)
		ok = ok && key != ""
	} else {
		key, ok = subjectOf(ctx)
	}
	if !ok {
		return -1
	}
	return Bucket(f.salt, key)
}

// Bucket is the bucketing function (doc/flags.md): the first 8 bytes of
// SHA-256(salt + "/" + key), big-endian, modulo 100,000. A subject is in
// a rollout of p percent when its bucket is below p × 1,000.
func Bucket(salt, key string) int {
	var buf [256]byte
	b := append(buf[:0], salt...)
	b = append(b, '/')
	b = append(b, key...)
	sum := sha256.Sum256(b)
	return int(binary.BigEndian.Uint64(sum[:8]) % 100_000)
}

// Rules returns how many targeting rules the flag has.
func (f *Flag) Rules() int { return len(f.rules) }

// Static reports whether the flag is a bare true/false, and its value.
func (f *Flag) Static() (value any, ok bool) {
	if !f.static {
		return nil, false
	}
	return f.variants[f.def], true
}

// UsesTime reports whether evaluating the flag reads the time passed to
// Evaluate (it has schedule conditions); callers may pass the zero time
// otherwise.
func (f *Flag) UsesTime() bool { return f.usesTime }

// DefaultVariant returns the variant served when nothing else decides.
func (f *Flag) DefaultVariant() string { return f.def }

// Uniform reports whether the flag serves one variant to every subject
// whatever the context, and which: a bare true/false, a disabled flag, or
// an enabled one without user lists, regions or rules whose rollout is
// absent, 0% or 100%. The stale-flag report lists flags that stay so.
func (f *Flag) Uniform() (variant string, ok bool) {
	switch {
	case f.static:
		return f.def, true
	case !f.enabled:
		return f.off, true
	case len(f.denyUsers) > 0 || len(f.allowUsers) > 0 || f.regions != nil || len(f.rules) > 0:
		return "", false
	case f.rollout < 0:
		return f.def, true
	case f.rollout == 0:
		return f.off, true
	case f.rollout >= 100_000:
		return f.on, true
	}
	return "", false
}
