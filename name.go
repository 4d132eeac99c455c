package vane

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ARNPrefix returns the ARN prefix of parameters in a region and account,
// "arn:aws:ssm:REGION:ACCOUNT:parameter/".
func ARNPrefix(region, account string) string {
	return "arn:aws:ssm:" + region + ":" + account + ":parameter/"
}

// defaultARNPrefixLen is the length counted against MaxNameARNLength.
var defaultARNPrefixLen = len(ARNPrefix(DefaultRegion, DefaultAccount))

// CanonicalName returns the stored form of a valid name: a root-level name
// loses its leading slash ("/x" and "x" are one parameter), any other name
// is returned unchanged.
func CanonicalName(name string) string {
	if len(name) > 1 && name[0] == '/' && strings.IndexByte(name[1:], '/') < 0 {
		return name[1:]
	}
	return name
}

// ValidateName checks a parameter name against the SSM name rules and
// returns its canonical form. The reserved-prefix rule is checked only by
// ValidateNewName, since reads of such names are merely not found.
func ValidateName(name string) (string, error) {
	if name == "" {
		return "", DetailErrorf(EINVALID, DetailValidation, "parameter name must not be empty")
	}
	for _, r := range name {
		if r >= utf8.RuneSelf || !isNameChar(byte(r)) {
			return "", DetailErrorf(EINVALID, DetailValidation,
				"parameter name %q contains %q: only a-z, A-Z, 0-9, '_', '.', '-' and '/' are allowed",
				truncate(name), r)
		}
	}
	if name[0] != '/' && strings.IndexByte(name, '/') >= 0 {
		return "", DetailErrorf(EINVALID, DetailValidation,
			"parameter name %q is not fully qualified: a name with '/' must begin with '/'", truncate(name))
	}
	if name == "/" || strings.Contains(name, "//") || strings.HasSuffix(name, "/") {
		return "", DetailErrorf(EINVALID, DetailValidation,
			"parameter name %q has an empty path segment", truncate(name))
	}
	if levels := strings.Count(name, "/"); levels > MaxHierarchyLevels {
		return "", DetailErrorf(EINVALID, DetailHierarchyLevelLimitExceeded,
			"parameter name %q has %d hierarchy levels; at most %d are allowed", truncate(name), levels, MaxHierarchyLevels)
	}
	if n := defaultARNPrefixLen + len(strings.TrimPrefix(name, "/")); n > MaxNameARNLength {
		return "", DetailErrorf(EINVALID, DetailValidation,
			"parameter name is too long: its ARN would be %d characters; at most %d are allowed", n, MaxNameARNLength)
	}
	return CanonicalName(name), nil
}

// ValidateNewName checks a name that is about to be created: the rules of
// ValidateName plus the reserved prefixes "aws" and "ssm".
func ValidateNewName(name string) (string, error) {
	canon, err := ValidateName(name)
	if err != nil {
		return "", err
	}
	first := strings.ToLower(strings.TrimPrefix(canon, "/"))
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		if strings.HasPrefix(canon, "/") && strings.HasPrefix(first, "aws") {
			return "", DetailErrorf(EFORBIDDEN, DetailReservedName, "no access to reserved parameter name %q", truncate(name))
		}
		return "", DetailErrorf(EINVALID, DetailValidation,
			"parameter name %q begins with a reserved prefix: names may not begin with \"aws\" or \"ssm\" (case-insensitive)", truncate(name))
	}
	return canon, nil
}

// Selector is a parsed read reference: a name with an optional version or
// label.
type Selector struct {
	Name    string // canonical
	Version int64  // 0 when not selected by version
	Label   string // "" when not selected by label
}

// String returns the ":version" or ":label" suffix, or "".
func (s Selector) String() string {
	switch {
	case s.Version > 0:
		return ":" + strconv.FormatInt(s.Version, 10)
	case s.Label != "":
		return ":" + s.Label
	}
	return ""
}

// ParseSelector parses "name", "name:VERSION", "name:LABEL" or the same
// with a parameter ARN in place of the name.
func ParseSelector(s string) (Selector, error) {
	if strings.HasPrefix(s, "arn:") {
		// arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME[:SELECTOR]
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[2] != "ssm" || !strings.HasPrefix(parts[5], "parameter/") {
			return Selector{}, DetailErrorf(EINVALID, DetailValidation, "%q is not a parameter ARN", truncate(s))
		}
		rest := strings.TrimPrefix(parts[5], "parameter/")
		name, _, _ := strings.Cut(rest, ":")
		if strings.Contains(name, "/") {
			rest = "/" + rest
		}
		s = rest
	}
	name, sel, hasSel := strings.Cut(s, ":")
	canon, err := ValidateName(name)
	if err != nil {
		return Selector{}, err
	}
	out := Selector{Name: canon}
	if !hasSel {
		return out, nil
	}
	if sel == "" || strings.Contains(sel, ":") {
		return Selector{}, DetailErrorf(EINVALID, DetailValidation, "selector in %q must be one version number or one label", truncate(s))
	}
	if sel[0] >= '0' && sel[0] <= '9' {
		v, err := strconv.ParseInt(sel, 10, 64)
		if err != nil || v < 1 {
			return Selector{}, DetailErrorf(EINVALID, DetailValidation, "version selector %q must be a positive integer", truncate(sel))
		}
		out.Version = v
		return out, nil
	}
	if !ValidLabel(sel) {
		return Selector{}, DetailErrorf(EINVALID, DetailValidation, "label selector %q breaks the label rules", truncate(sel))
	}
	out.Label = sel
	return out, nil
}

// ValidatePath checks a path for a by-path read and returns it in canonical
// form ending in "/" ("/" for the root).
func ValidatePath(path string) (string, error) {
	if path == "" || path[0] != '/' {
		return "", DetailErrorf(EINVALID, DetailValidation, "path %q must begin with '/'", truncate(path))
	}
	if path == "/" {
		return path, nil
	}
	trimmed := strings.TrimSuffix(path, "/")
	if _, err := ValidateName(trimmed); err != nil {
		return "", DetailErrorf(EINVALID, DetailValidation, "path %q is not valid: %s", truncate(path), ErrorMessage(err))
	}
	return trimmed + "/", nil
}

// UnderPath reports whether a canonical name is listed by a by-path read of
// a canonical path (see ValidatePath).
func UnderPath(name, path string, recursive bool) bool {
	if path == "/" {
		return recursive || !strings.Contains(name, "/")
	}
	if !strings.HasPrefix(name, path) {
		return false
	}
	return recursive || !strings.Contains(name[len(path):], "/")
}

// PathRange returns the half-open range [lo, hi) of names that can be under
// a canonical path, for range scans in sorted storage; hi is "" for no upper
// bound.
func PathRange(path string) (lo, hi string) {
	if path == "/" {
		return "", ""
	}
	// '/' + 1 == '0': every name under "/a/" sorts before "/a0".
	return path, path[:len(path)-1] + "0"
}

// PrefixMatch reports whether a canonical name is under a change-log prefix;
// "" and "/" match everything.
func PrefixMatch(name, prefix string) bool {
	return prefix == "" || prefix == "/" || strings.HasPrefix(name, prefix)
}

const tokenMagic = "v1:"

// EncodeToken returns an opaque paging token resuming after key.
func EncodeToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenMagic + key))
}

// DecodeToken returns the key a token from EncodeToken resumes after; "" for
// an empty token.
func DecodeToken(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), tokenMagic) {
		return "", DetailErrorf(EINVALID, DetailInvalidNextToken, "the paging token is not valid")
	}
	return string(b[len(tokenMagic):]), nil
}

// PageLimit returns the effective page size for a requested limit.
func PageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 0 || limit > MaxPageSize:
		return 0, DetailErrorf(EINVALID, DetailValidation, "limit %d is out of range: it must be between 1 and %d", limit, MaxPageSize)
	}
	return limit, nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '/'
}

// truncate keeps error messages short when echoing hostile input.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
