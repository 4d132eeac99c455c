package vane

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AtTimeReader is a store that reads parameters as they were at a past
// time (point-in-time reads), from the versions it keeps and its change
// log.
//
// The value of a parameter at a time t is its newest kept version whose
// LastModified is not after t. That is known from the versions alone
// while the parameter has not been deleted since t and still keeps that
// version: a parameter keeps at most MaxVersions versions, and a delete
// takes them all. A parameter whose versions all began after t may have
// existed at t under an earlier life, deleted since (and perhaps created
// again); the change log tells: the first record of the name after t is
// a create (a put of version 1) when it did not exist at t, and anything
// else when it did. That takes the change log from t on, which
// compaction (ChangeLog.Compact) may have removed: the log is known
// complete after the time of its oldest record above the compaction
// floor, since records are removed in sequence order and their times
// follow their sequence numbers (as Compact assumes; a clock stepping
// back breaks that).
//
// Labels at a past time are not recorded with the versions, so the
// parameters these methods return carry none.
type AtTimeReader interface {
	// GetAt returns the version of the parameter name (a name, without
	// a selector) that was its latest at the time at. Errors: EINVALID
	// (the name, or an at later than the store's clock: the future is
	// not known yet), ENOTFOUND (ParameterNotFound: the parameter did
	// not exist at that time), EGONE (it existed then, but the version
	// it had is no longer kept: dropped by the MaxVersions limit, or
	// the parameter was deleted since; or whether it existed can't be
	// told, the change log before at having been compacted).
	GetAt(ctx context.Context, name string, at time.Time) (*Parameter, error)

	// SnapshotAt returns every parameter under a canonical path (see
	// ValidatePath; recursive, "/" for all) as it was at the time at, in
	// name order, with the change-log sequence that was current then,
	// read in one transaction. Parameters that existed at that time but
	// whose version from then is no longer kept are listed in Gone (the
	// snapshot is incomplete by them: see AtGoneError). Errors:
	// EINVALID (the path, or an at in the future), EGONE (the change log
	// before at has been compacted, so the parameters deleted since
	// can't be known: see CompactedAtError).
	SnapshotAt(ctx context.Context, path string, at time.Time) (*AtSnapshot, error)
}

// AtSnapshot is the result of AtTimeReader.SnapshotAt.
type AtSnapshot struct {
	// Parameters are the versions that were the latest at the time, in
	// name order, without labels.
	Parameters []*Parameter
	// Seq is the sequence of the newest change-log record not later than
	// the time (0 when there is none).
	Seq int64
	// Gone lists, in name order, the parameters that existed at the time
	// but whose version from then is no longer kept.
	Gone []AtGone
}

// AtGone is a parameter that existed at the time of a point-in-time read
// whose version from then is no longer kept.
type AtGone struct {
	Name string
	// Deleted is true when the parameter has been deleted since (and
	// perhaps created again), false when it was not but its versions
	// from then were dropped by the MaxVersions limit.
	Deleted bool
}

// noAtTimeReader is the error of GetAt and SnapshotAt on a store chain
// without an AtTimeReader.
func noAtTimeReader() error {
	return Errorf(EUNAVAILABLE, "point-in-time reads need a store that keeps version times and a change log (SQLite or PostgreSQL); this server's store does not serve them")
}

// GetAt reads a parameter as it was at a time, as AtTimeReader.GetAt
// does, with the first store in the chain from s (see StoreAs) that is an
// AtTimeReader; without one it fails with EUNAVAILABLE.
func GetAt(ctx context.Context, s Store, name string, at time.Time) (*Parameter, error) {
	r, ok := StoreAs[AtTimeReader](s)
	if !ok {
		return nil, noAtTimeReader()
	}
	return r.GetAt(ctx, name, at)
}

// SnapshotAt reads the parameters under a path as they were at a time, as
// AtTimeReader.SnapshotAt does, with the first store in the chain from s
// that is an AtTimeReader; without one it fails with EUNAVAILABLE.
func SnapshotAt(ctx context.Context, s Store, path string, at time.Time) (*AtSnapshot, error) {
	r, ok := StoreAs[AtTimeReader](s)
	if !ok {
		return nil, noAtTimeReader()
	}
	return r.SnapshotAt(ctx, path, at)
}

// FormatAt formats the time of a point-in-time read as errors show it:
// RFC 3339 in UTC, with the nanoseconds it has.
func FormatAt(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// FutureError is the EINVALID error of a point-in-time read at a time
// after now, the store's time.
func FutureError(at, now time.Time) error {
	return DetailErrorf(EINVALID, DetailValidation, "time %s is in the future (the server's time is %s): a point-in-time read needs a time that has passed",
		FormatAt(at), FormatAt(now))
}

// NotFoundAtError is the ENOTFOUND error of GetAt for a parameter that
// did not exist at the time.
func NotFoundAtError(name string, at time.Time) error {
	return DetailErrorf(ENOTFOUND, DetailParameterNotFound, "parameter %q did not exist at %s", name, FormatAt(at))
}

// DroppedAtError is the EGONE error of GetAt for a parameter that existed
// at the time at, under versions dropped since by the MaxVersions limit;
// oldest is its oldest kept version, written at oldestAt.
func DroppedAtError(name string, at time.Time, oldest int64, oldestAt time.Time) error {
	return Errorf(EGONE, "parameter %q: the version it had at %s is no longer kept: a parameter keeps its last %d versions, and its oldest kept version, %d, is from %s",
		name, FormatAt(at), MaxVersions, oldest, FormatAt(oldestAt))
}

// DeletedAtError is the EGONE error of GetAt for a parameter that existed
// at the time at and has been deleted since: a delete takes the versions.
func DeletedAtError(name string, at time.Time) error {
	return Errorf(EGONE, "parameter %q existed at %s but has been deleted since (and perhaps created again), and the versions of a deleted parameter are not kept",
		name, FormatAt(at))
}

// CompactedAtError is the EGONE error of a point-in-time read at a time at
// before kept, from which on the change log is known complete: the
// records before it have been compacted, so whether a parameter existed
// at that time and was deleted since can't be told. name is the parameter
// of a GetAt, "" for a snapshot.
func CompactedAtError(name string, at, kept time.Time) error {
	if name == "" {
		return Errorf(EGONE, "a snapshot at %s can't be given: the change history before %s is no longer kept (compacted), so the parameters that existed then and were deleted since can't be known; snapshots of the past reach back to %s",
			FormatAt(at), FormatAt(kept), FormatAt(kept))
	}
	return Errorf(EGONE, "whether parameter %q existed at %s (and was deleted since) can't be told: the change history before %s is no longer kept (compacted)",
		name, FormatAt(at), FormatAt(kept))
}

// maxGoneNames is how many names AtGoneError lists.
const maxGoneNames = 10

// AtGoneError is the EGONE error of a snapshot at the time at that would
// leave out the parameters of gone, which existed then but whose version
// from then is no longer kept. It names them (the first maxGoneNames of
// each kind).
func AtGoneError(at time.Time, gone []AtGone) error {
	var deleted, dropped []string
	for _, g := range gone {
		if g.Deleted {
			deleted = append(deleted, fmt.Sprintf("%q", g.Name))
		} else {
			dropped = append(dropped, fmt.Sprintf("%q", g.Name))
		}
	}
	list := func(names []string) string {
		if len(names) > maxGoneNames {
			return strings.Join(names[:maxGoneNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxGoneNames)
		}
		return strings.Join(names, ", ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "a snapshot at %s can't be given whole: ", FormatAt(at))
	if len(gone) == 1 {
		b.WriteString("a parameter that existed then no longer keeps its value from then")
	} else {
		fmt.Fprintf(&b, "%d parameters that existed then no longer keep their values from then", len(gone))
	}
	if len(deleted) > 0 {
		b.WriteString("; deleted since (a delete takes a parameter's versions): " + list(deleted))
	}
	if len(dropped) > 0 {
		fmt.Fprintf(&b, "; past the last %d versions a parameter keeps: %s", MaxVersions, list(dropped))
	}
	b.WriteString("; ask for paths without them, or for a later time")
	return Errorf(EGONE, "%s", b.String())
}
