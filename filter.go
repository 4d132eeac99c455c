package vane

import (
	"strings"
)

// Filter restricts a listing, as SSM's ParameterStringFilter does. Values
// are alternatives (any may match); several filters must all match.
type Filter struct {
	Key    string   // Name, Path, Type, KeyId, Tier, DataType, Label or "tag:KEY"
	Option string   // Equals (default), BeginsWith, Contains; Path: OneLevel (default), Recursive
	Values []string // Path values are canonicalized by CheckFilters
}

// Filter keys.
const (
	FilterName     = "Name"
	FilterPath     = "Path"
	FilterType     = "Type"
	FilterKeyID    = "KeyId"
	FilterTier     = "Tier"
	FilterDataType = "DataType"
	FilterLabel    = "Label"
	FilterTagPre   = "tag:"
)

// Filter options.
const (
	OptionEquals     = "Equals"
	OptionBeginsWith = "BeginsWith"
	OptionContains   = "Contains"
	OptionOneLevel   = "OneLevel"
	OptionRecursive  = "Recursive"
)

const (
	maxFilterValues      = 50
	maxFilterValueLength = 1024
	maxFilterKeyLength   = 132
)

// CheckFilters validates filters for ByPath (byPath=true: keys Type, KeyId,
// Label) or Describe (every key but Label) and returns them with default
// options filled in and path values canonical.
func CheckFilters(filters []Filter, byPath bool) ([]Filter, error) {
	out := make([]Filter, 0, len(filters))
	seen := map[string]bool{}
	for _, f := range filters {
		key := f.Key
		if key == "" || len(key) > maxFilterKeyLength {
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterKey, "filter key %q must be 1 to %d characters", truncate(key), maxFilterKeyLength)
		}
		if seen[key] {
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterKey, "filter key %q is given more than once", truncate(key))
		}
		seen[key] = true
		allowed := map[string]bool{}
		switch {
		case byPath && (key == FilterType || key == FilterKeyID):
			allowed = map[string]bool{OptionEquals: true, OptionBeginsWith: true}
		case byPath && key == FilterLabel:
			allowed = map[string]bool{OptionEquals: true}
		case byPath:
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterKey,
				"filter key %q is not valid here: use Type, KeyId or Label", truncate(key))
		case key == FilterName:
			allowed = map[string]bool{OptionEquals: true, OptionBeginsWith: true, OptionContains: true}
		case key == FilterPath:
			allowed = map[string]bool{OptionOneLevel: true, OptionRecursive: true}
		case key == FilterType || key == FilterKeyID || key == FilterTier || key == FilterDataType:
			allowed = map[string]bool{OptionEquals: true, OptionBeginsWith: true}
		case strings.HasPrefix(key, FilterTagPre) && len(key) > len(FilterTagPre):
			allowed = map[string]bool{OptionEquals: true, OptionBeginsWith: true}
		default:
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterKey,
				"filter key %q is not valid: use Name, Path, Type, KeyId, Tier, DataType or tag:KEY", truncate(key))
		}
		opt := f.Option
		if opt == "" {
			opt = OptionEquals
			if key == FilterPath {
				opt = OptionOneLevel
			}
		}
		if !allowed[opt] {
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterOption, "filter option %q is not valid for key %q", truncate(opt), truncate(key))
		}
		if len(f.Values) > maxFilterValues {
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterValue, "filter %q has %d values; at most %d are allowed", key, len(f.Values), maxFilterValues)
		}
		if len(f.Values) == 0 && !strings.HasPrefix(key, FilterTagPre) {
			return nil, DetailErrorf(EINVALID, DetailInvalidFilterValue, "filter %q needs at least one value", key)
		}
		values := make([]string, len(f.Values))
		for i, v := range f.Values {
			if v == "" || len(v) > maxFilterValueLength {
				return nil, DetailErrorf(EINVALID, DetailInvalidFilterValue, "filter %q values must be 1 to %d characters", key, maxFilterValueLength)
			}
			switch key {
			case FilterPath:
				p, err := ValidatePath(v)
				if err != nil {
					return nil, DetailErrorf(EINVALID, DetailInvalidFilterValue, "filter Path value %q is not a valid path", truncate(v))
				}
				v = p
			case FilterType:
				if !Type(v).Valid() {
					return nil, DetailErrorf(EINVALID, DetailInvalidFilterValue, "filter Type value %q is not valid: use String, StringList or SecureString", truncate(v))
				}
			case FilterTier:
				if t := Tier(v); t != TierStandard && t != TierAdvanced && t != TierIntelligent {
					return nil, DetailErrorf(EINVALID, DetailInvalidFilterValue, "filter Tier value %q is not valid: use Standard, Advanced or Intelligent-Tiering", truncate(v))
				}
			}
			values[i] = v
		}
		out = append(out, Filter{Key: key, Option: opt, Values: values})
	}
	return out, nil
}

// LabelFilter returns the values of a Label filter, or nil.
func LabelFilter(filters []Filter) []string {
	for _, f := range filters {
		if f.Key == FilterLabel {
			return f.Values
		}
	}
	return nil
}

// NeedsTags reports whether any filter is on tags.
func NeedsTags(filters []Filter) bool {
	for _, f := range filters {
		if strings.HasPrefix(f.Key, FilterTagPre) {
			return true
		}
	}
	return false
}

// MatchFilters reports whether a parameter passes checked filters (see
// CheckFilters). tags are the parameter's tags, needed only when NeedsTags.
// Label filters are not decided here: they select a version, which the
// store does.
func MatchFilters(filters []Filter, p *Parameter, tags []Tag) bool {
	for _, f := range filters {
		if !matchFilter(f, p, tags) {
			return false
		}
	}
	return true
}

func matchFilter(f Filter, p *Parameter, tags []Tag) bool {
	switch f.Key {
	case FilterLabel:
		return true
	case FilterPath:
		for _, v := range f.Values {
			if UnderPath(p.Name, v, f.Option == OptionRecursive) {
				return true
			}
		}
		return false
	case FilterName:
		// "/x" and "x" name one root-level parameter: compare both with a
		// single leading slash.
		// Contains is a plain substring match.
		name := "/" + strings.TrimPrefix(p.Name, "/")
		for _, v := range f.Values {
			if f.Option != OptionContains {
				v = "/" + strings.TrimPrefix(v, "/")
			}
			if matchString(f.Option, name, v) {
				return true
			}
		}
		return false
	case FilterType:
		return matchAny(f, string(p.Type))
	case FilterKeyID:
		return p.Type == TypeSecureString && matchAny(f, p.KeyID)
	case FilterTier:
		return matchAny(f, string(p.Tier))
	case FilterDataType:
		return matchAny(f, p.DataType)
	}
	key := strings.TrimPrefix(f.Key, FilterTagPre)
	for _, t := range tags {
		if t.Key == key {
			return len(f.Values) == 0 || matchAny(f, t.Value)
		}
	}
	return false
}

func matchAny(f Filter, s string) bool {
	for _, v := range f.Values {
		if matchString(f.Option, s, v) {
			return true
		}
	}
	return false
}

func matchString(option, s, v string) bool {
	switch option {
	case OptionBeginsWith:
		return strings.HasPrefix(s, v)
	case OptionContains:
		return strings.Contains(s, v)
	}
	return s == v
}

// PathQuery is a checked ByPathInput, as every backend and the index run it.
type PathQuery struct {
	Path      string // canonical, ending in "/"
	Recursive bool
	Filters   []Filter
	Labels    []string // values of the Label filter, nil without one
	Limit     int
	After     string // name the page starts after, "" for the first page
}

// CheckByPath validates a ByPath request. The checks run in one order so
// every implementation returns the same first error.
func CheckByPath(in *ByPathInput) (*PathQuery, error) {
	path, err := ValidatePath(in.Path)
	if err != nil {
		return nil, err
	}
	filters, err := CheckFilters(in.Filters, true)
	if err != nil {
		return nil, err
	}
	limit, err := PageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := DecodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	return &PathQuery{Path: path, Recursive: in.Recursive, Filters: filters, Labels: LabelFilter(filters), Limit: limit, After: after}, nil
}

// DescribeQuery is a checked DescribeInput.
type DescribeQuery struct {
	Filters []Filter
	Limit   int
	After   string
}

// CheckDescribe validates a Describe request.
func CheckDescribe(in *DescribeInput) (*DescribeQuery, error) {
	filters, err := CheckFilters(in.Filters, false)
	if err != nil {
		return nil, err
	}
	limit, err := PageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := DecodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	return &DescribeQuery{Filters: filters, Limit: limit, After: after}, nil
}
