package vane

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CheckPut validates the parts of a put that do not depend on stored state
// and returns the canonical name. Stores call it before their transaction
// and ApplyPut inside it.
func CheckPut(in *PutInput) (string, error) {
	name, err := ValidateName(in.Name)
	if err != nil {
		return "", err
	}
	if in.Value == "" {
		return "", DetailErrorf(EINVALID, DetailValidation, "value of %q must not be empty", name)
	}
	// Every backend must store what it accepts: PostgreSQL text holds
	// neither NUL bytes nor invalid UTF-8.
	for field, v := range map[string]*string{"value": &in.Value, "description": in.Description, "allowed pattern": in.AllowedPattern, "key id": &in.KeyID} {
		if v != nil && !storableText(*v) {
			return "", DetailErrorf(EINVALID, DetailValidation, "%s of %q must be valid UTF-8 without NUL characters", field, name)
		}
	}
	if n := utf8.RuneCountInString(in.Value); n > MaxAdvancedValueLength {
		return "", DetailErrorf(ETOOLARGE, DetailValidation,
			"value of %q is %d characters; at most %d are allowed (Advanced tier)", name, n, MaxAdvancedValueLength)
	}
	if in.Type != "" && !in.Type.Valid() {
		return "", DetailErrorf(EINVALID, DetailUnsupportedParameterType,
			"type %q is not supported: use String, StringList or SecureString", truncate(string(in.Type)))
	}
	switch in.Tier {
	case "", TierStandard, TierAdvanced, TierIntelligent:
	default:
		return "", DetailErrorf(EINVALID, DetailValidation,
			"tier %q is not valid: use Standard, Advanced or Intelligent-Tiering", truncate(string(in.Tier)))
	}
	switch in.DataType {
	case "", DataTypeText, DataTypeEC2Image, DataTypeIntegration:
	default:
		return "", DetailErrorf(EINVALID, DetailValidation,
			"data type %q is not supported: use text, aws:ec2:image or aws:ssm:integration", truncate(in.DataType))
	}
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > MaxDescriptionLength {
		return "", DetailErrorf(EINVALID, DetailValidation,
			"description of %q is longer than %d characters", name, MaxDescriptionLength)
	}
	if in.AllowedPattern != nil {
		if utf8.RuneCountInString(*in.AllowedPattern) > MaxAllowedPatternLen {
			return "", DetailErrorf(EINVALID, DetailValidation,
				"allowed pattern of %q is longer than %d characters", name, MaxAllowedPatternLen)
		}
		if _, err := regexp.Compile(*in.AllowedPattern); err != nil {
			return "", DetailErrorf(EINVALID, DetailInvalidAllowedPattern,
				"allowed pattern %q is not a valid regular expression", truncate(*in.AllowedPattern))
		}
	}
	if len(in.KeyID) > MaxKeyIDLength {
		return "", DetailErrorf(EINVALID, DetailValidation, "key id is longer than %d characters", MaxKeyIDLength)
	}
	if in.ExpectVersion != nil && *in.ExpectVersion < 0 {
		return "", DetailErrorf(EINVALID, DetailValidation, "expected version must not be negative")
	}
	if in.Policies != nil {
		if _, _, err := ParsePolicies(*in.Policies); err != nil {
			return "", err
		}
	}
	if len(in.Tags) > 0 {
		if in.Overwrite || (in.ExpectVersion != nil && *in.ExpectVersion > 0) {
			return "", DetailErrorf(EINVALID, DetailValidation,
				"tags and overwrite can't be used together: change the tags of an existing parameter with the tag operations")
		}
		if len(in.Tags) > MaxTagsPerRequest {
			return "", DetailErrorf(EINVALID, DetailValidation, "%d tags given; at most %d are allowed in one request", len(in.Tags), MaxTagsPerRequest)
		}
		if err := ValidateTags(in.Tags); err != nil {
			return "", err
		}
		if _, err := MergeTags(nil, in.Tags); err != nil {
			return "", err
		}
	}
	return name, nil
}

// ApplyPut returns the version a valid put (see CheckPut) writes, given the
// current latest version (nil when the parameter does not exist).
func ApplyPut(cur *Parameter, in *PutInput, name string, now time.Time, principal string) (*Parameter, error) {
	var curVersion int64
	if cur != nil {
		curVersion = cur.Version
	}
	if in.ExpectVersion != nil && *in.ExpectVersion != curVersion {
		return nil, DetailErrorf(ECONFLICT, DetailVersionMismatch,
			"version mismatch on %q: expected version %d, current version is %d", name, *in.ExpectVersion, curVersion)
	}
	overwrite := in.Overwrite || (in.ExpectVersion != nil && *in.ExpectVersion > 0)
	if cur != nil && !overwrite {
		return nil, DetailErrorf(ECONFLICT, DetailParameterAlreadyExists,
			"parameter %q already exists: set overwrite to add a version", name)
	}
	p := &Parameter{Name: name, Value: in.Value, LastModified: now, LastModifiedUser: principal}
	if cur == nil {
		if _, err := ValidateNewName(name); err != nil {
			return nil, err
		}
		if in.Type == "" {
			return nil, DetailErrorf(EINVALID, DetailValidation, "a type is required when creating parameter %q", name)
		}
		p.Version = 1
		p.Type = in.Type
		p.DataType = DataTypeText
		p.Tier = TierStandard
	} else {
		if cur.Version >= maxVersionNumber {
			return nil, DetailErrorf(ELIMIT, DetailParameterMaxVersionLimitExceeded, "parameter %q has reached the highest version number", name)
		}
		p.Version = cur.Version + 1
		p.Type = cur.Type
		p.Description = cur.Description
		p.AllowedPattern = cur.AllowedPattern
		p.DataType = cur.DataType
		p.Tier = cur.Tier
		p.Policies = cur.Policies
		if cur.Type == TypeSecureString {
			p.KeyID = cur.KeyID
		}
	}
	if in.Type != "" {
		p.Type = in.Type
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.AllowedPattern != nil {
		p.AllowedPattern = *in.AllowedPattern
	}
	if in.DataType != "" {
		p.DataType = in.DataType
	}
	if in.Policies != nil {
		_, p.Policies, _ = ParsePolicies(*in.Policies) // checked by CheckPut
	}

	switch {
	case p.Type == TypeSecureString && in.KeyID != "":
		p.KeyID = in.KeyID
	case p.Type == TypeSecureString && p.KeyID == "":
		p.KeyID = DefaultKeyID
	case p.Type != TypeSecureString && in.KeyID != "":
		return nil, DetailErrorf(EINVALID, DetailValidation, "a key id can only be given for a SecureString parameter, and %q is a %s", name, p.Type)
	case p.Type != TypeSecureString:
		p.KeyID = ""
	}

	n := utf8.RuneCountInString(in.Value)
	switch in.Tier {
	case TierAdvanced:
		p.Tier = TierAdvanced
	case TierStandard:
		if cur != nil && cur.Tier == TierAdvanced {
			return nil, DetailErrorf(EINVALID, DetailValidation,
				"parameter %q is in the Advanced tier and can't be moved back to Standard", name)
		}
		p.Tier = TierStandard
	case TierIntelligent:
		if n > MaxStandardValueLength {
			p.Tier = TierAdvanced
		}
	}
	if p.Policies != "" && p.Tier != TierAdvanced {
		if in.Tier == TierIntelligent {
			p.Tier = TierAdvanced
		} else {
			return nil, DetailErrorf(EINVALID, DetailValidation,
				"parameter %q has policies, which need the Advanced tier: put it with tier Advanced (or Intelligent-Tiering)", name)
		}
	}
	if p.Tier == TierStandard && n > MaxStandardValueLength {
		return nil, DetailErrorf(ETOOLARGE, DetailValidation,
			"value of %q is %d characters; the Standard tier allows %d (the Advanced tier allows %d)",
			name, n, MaxStandardValueLength, MaxAdvancedValueLength)
	}

	if p.DataType == DataTypeEC2Image {
		if p.Type != TypeString {
			return nil, DetailErrorf(EINVALID, DetailValidation, "data type aws:ec2:image requires type String")
		}
		if !amiPattern.MatchString(p.Value) {
			return nil, DetailErrorf(EINVALID, DetailValidation, "value of %q is not an AMI id (ami-...) as data type aws:ec2:image requires", name)
		}
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile(p.AllowedPattern)
		if err != nil {
			return nil, DetailErrorf(EINVALID, DetailInvalidAllowedPattern, "allowed pattern %q is not a valid regular expression", truncate(p.AllowedPattern))
		}
		if !re.MatchString(p.Value) {
			return nil, DetailErrorf(EINVALID, DetailParameterPatternMismatch,
				"value of %q does not match its allowed pattern %q", name, truncate(p.AllowedPattern))
		}
	}
	return p, nil
}

// maxVersionNumber keeps version numbers far from integer overflow.
const maxVersionNumber = 1 << 53

var amiPattern = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// MaxVersionsError is the error a put returns when the parameter already
// keeps MaxVersions versions and the oldest carries a label, so it can't be
// dropped.
func MaxVersionsError(name string, oldest int64) error {
	return DetailErrorf(ELIMIT, DetailParameterMaxVersionLimitExceeded,
		"parameter %q keeps %d versions and the oldest, version %d, has a label: move or remove the label to write a new version",
		name, MaxVersions, oldest)
}

// NotFoundError is the error for a parameter that does not exist.
func NotFoundError(name string) error {
	return DetailErrorf(ENOTFOUND, DetailParameterNotFound, "parameter %q not found", name)
}

// VersionNotFoundError is the error for a missing version of an existing
// parameter.
func VersionNotFoundError(name string, version int64) error {
	return DetailErrorf(ENOTFOUND, DetailParameterVersionNotFound, "version %d of parameter %q not found", version, name)
}

// ResourceNotFoundError is the error of the tag operations for a parameter
// that does not exist.
func ResourceNotFoundError(name string) error {
	return DetailErrorf(ENOTFOUND, DetailInvalidResourceID, "parameter %q not found", name)
}

// CheckDelete validates a delete and returns the canonical name.
func CheckDelete(in *DeleteInput) (string, error) {
	name, err := ValidateName(in.Name)
	if err != nil {
		return "", err
	}
	if in.ExpectVersion != nil && *in.ExpectVersion < 1 {
		return "", DetailErrorf(EINVALID, DetailValidation, "expected version must be at least 1")
	}
	return name, nil
}

// CheckDeleteVersion applies a delete's compare-and-set to the current
// version.
func CheckDeleteVersion(in *DeleteInput, name string, current int64) error {
	if in.ExpectVersion != nil && *in.ExpectVersion != current {
		return DetailErrorf(ECONFLICT, DetailVersionMismatch,
			"version mismatch on %q: expected version %d, current version is %d", name, *in.ExpectVersion, current)
	}
	return nil
}

// ValidLabel reports whether a label obeys the label rules: 1 to 100 of
// letters, digits, '.', '_' and '-', not beginning with a digit, "aws" or
// "ssm" (case-insensitive).
func ValidLabel(l string) bool {
	if l == "" || len(l) > MaxLabelLength || (l[0] >= '0' && l[0] <= '9') {
		return false
	}
	low := strings.ToLower(l)
	if strings.HasPrefix(low, "aws") || strings.HasPrefix(low, "ssm") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckLabels validates a Label or Unlabel request and splits its labels
// into valid ones (deduplicated, in request order) and invalid ones. Label
// counts and lengths outside the API's bounds fail the whole request; labels
// breaking the character rules are only reported.
func CheckLabels(in *LabelInput, unlabel bool) (name string, valid, invalid []string, err error) {
	if name, err = ValidateName(in.Name); err != nil {
		return "", nil, nil, err
	}
	if in.Version < 0 || (unlabel && in.Version == 0) {
		return "", nil, nil, DetailErrorf(EINVALID, DetailValidation, "a parameter version of at least 1 is required")
	}
	if len(in.Labels) == 0 || len(in.Labels) > MaxLabelsPerRequest {
		return "", nil, nil, DetailErrorf(EINVALID, DetailValidation,
			"%d labels given: between 1 and %d are allowed in one request", len(in.Labels), MaxLabelsPerRequest)
	}
	seen := make(map[string]bool, len(in.Labels))
	for _, l := range in.Labels {
		if l == "" || utf8.RuneCountInString(l) > MaxLabelLength {
			return "", nil, nil, DetailErrorf(EINVALID, DetailValidation, "label %q must be 1 to %d characters", truncate(l), MaxLabelLength)
		}
		if seen[l] {
			continue
		}
		seen[l] = true
		if ValidLabel(l) {
			valid = append(valid, l)
		} else {
			invalid = append(invalid, l)
		}
	}
	return name, valid, invalid, nil
}

// LabelLimitError is the error for a version that would carry more than
// MaxLabelsPerVersion labels.
func LabelLimitError(name string, version int64) error {
	return DetailErrorf(ELIMIT, DetailParameterVersionLabelLimitExceeded,
		"version %d of %q would have more than %d labels: move one or more labels to another version", version, name, MaxLabelsPerVersion)
}

// ValidateTags checks tag keys and values: keys of 1 to 128 and values of at
// most 256 characters from letters, digits, spaces and _.:/=+-@; keys may
// not begin with "aws:".
func ValidateTags(tags []Tag) error {
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > MaxTagKeyLength {
			return DetailErrorf(EINVALID, DetailValidation, "tag key %q must be 1 to %d characters", truncate(t.Key), MaxTagKeyLength)
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLength {
			return DetailErrorf(EINVALID, DetailValidation, "value of tag %q is longer than %d characters", truncate(t.Key), MaxTagValueLength)
		}
		if !validTagText(t.Key) || !validTagText(t.Value) {
			return DetailErrorf(EINVALID, DetailValidation,
				"tag %q: keys and values may hold only letters, digits, spaces and _.:/=+-@", truncate(t.Key))
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return DetailErrorf(EINVALID, DetailValidation, "tag key %q uses the reserved prefix \"aws:\"", truncate(t.Key))
		}
	}
	return nil
}

// storableText reports whether s is valid UTF-8 without NUL characters.
func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func validTagText(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return true
}

// MergeTags returns existing with add applied (a later value replaces an
// earlier one for the same key), sorted by key, or TooManyTagsError when the
// result has more than MaxTagsPerResource tags.
func MergeTags(existing, add []Tag) ([]Tag, error) {
	m := make(map[string]string, len(existing)+len(add))
	for _, t := range existing {
		m[t.Key] = t.Value
	}
	for _, t := range add {
		m[t.Key] = t.Value
	}
	if len(m) > MaxTagsPerResource {
		return nil, DetailErrorf(ELIMIT, DetailTooManyTags,
			"a parameter can have at most %d tags; this change would give it %d", MaxTagsPerResource, len(m))
	}
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// CheckTagInput validates an AddTags (remove=false) or RemoveTags request
// and returns the canonical name.
func CheckTagInput(in *TagInput, remove bool) (string, error) {
	name, err := ValidateName(in.Name)
	if err != nil {
		return "", err
	}
	if remove {
		if len(in.Keys) == 0 {
			return "", DetailErrorf(EINVALID, DetailValidation, "at least one tag key is required")
		}
		if len(in.Keys) > MaxTagsPerRequest {
			return "", DetailErrorf(EINVALID, DetailValidation, "%d tag keys given; at most %d are allowed", len(in.Keys), MaxTagsPerRequest)
		}
		return name, nil
	}
	if len(in.Tags) == 0 {
		return "", DetailErrorf(EINVALID, DetailValidation, "at least one tag is required")
	}
	if len(in.Tags) > MaxTagsPerRequest {
		return "", DetailErrorf(EINVALID, DetailValidation, "%d tags given; at most %d are allowed in one request", len(in.Tags), MaxTagsPerRequest)
	}
	return name, ValidateTags(in.Tags)
}

// EncodeVersionToken and DecodeVersionToken page history by version.

// EncodeVersionToken returns a paging token resuming after a version.
func EncodeVersionToken(v int64) string { return EncodeToken(strconv.FormatInt(v, 10)) }

// DecodeVersionToken returns the version a history token resumes after, 0
// for an empty token.
func DecodeVersionToken(token string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	k, err := DecodeToken(token)
	if err != nil {
		return 0, err
	}
	v, perr := strconv.ParseInt(k, 10, 64)
	if perr != nil || v < 1 {
		return 0, DetailErrorf(EINVALID, DetailInvalidNextToken, "the paging token is not valid")
	}
	return v, nil
}
