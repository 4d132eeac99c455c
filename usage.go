package vane

import (
	"context"
	"time"
)

// FlagUsage is how often a flag was evaluated to one variant on one UTC
// day, and when last. Variant "" counts evaluations that erred, with or
// without a fallback_on_error value served.
type FlagUsage struct {
	Name    string
	Day     string // YYYY-MM-DD
	Variant string
	Count   int64
	Last    time.Time
}

// UsageStore keeps flag evaluation counts, which feed flag listings and
// the stale-flag report.
type UsageStore interface {
	// AddUsage adds counts: rows of the same name, day and variant are
	// summed, and Last keeps the later time. Errors: EINVALID for a row
	// without a name, with a malformed day or a negative count.
	AddUsage(ctx context.Context, rows []FlagUsage) error
	// Usage returns the rows of the flags whose names begin with prefix
	// ("" or "/" for all) on days from since on ("" for all days), ordered
	// by name, day and variant. Errors: EINVALID.
	Usage(ctx context.Context, prefix, since string) ([]FlagUsage, error)
	// UsageTotals returns one row per flag whose name begins with prefix
	// ("" or "/" for all), ordered by name: its count on days from since
	// on ("" for all days) and the latest Last of any day, so a flag last
	// evaluated before since still shows when. Flags never counted have
	// no row. Errors: EINVALID.
	UsageTotals(ctx context.Context, prefix, since string) ([]UsageTotal, error)
}

// UsageTotal sums a flag's usage rows: Count over the days asked for,
// Last over every day kept.
type UsageTotal struct {
	Name  string
	Count int64
	Last  time.Time
}

// CheckUsage validates rows for AddUsage.
func CheckUsage(rows []FlagUsage) error {
	for i, u := range rows {
		if u.Name == "" || u.Name[0] != '/' {
			return Errorf(EINVALID, "usage row %d: name %q must be a parameter name beginning with /", i, u.Name)
		}
		if _, err := time.Parse(time.DateOnly, u.Day); err != nil {
			return Errorf(EINVALID, "usage row %d: day %q must be a date such as 2026-11-21", i, u.Day)
		}
		if u.Count < 0 {
			return Errorf(EINVALID, "usage row %d: count %d must not be negative", i, u.Count)
		}
	}
	return nil
}
