package vane

import (
	"context"
	"time"
)

// Lease is a background job's lease, kept in the store: the node holding
// it runs the job until Expires, and renews it before then. It also holds
// the job's cursor in the change log, so that whichever node runs the job
// next goes on from where the last one stopped.
type Lease struct {
	Job     string
	Holder  string    // the node running the job; "" when nobody has run it
	Expires time.Time // the holder's lease ends then unless renewed
	// Cursor is the sequence of the last change-log record the job
	// handled (0: none, read from the start of the log); NoCursor when
	// the job has never saved one.
	Cursor int64
}

// NoCursor is the Cursor of a job that has never saved one.
const NoCursor = -1

// LeaseStore is the one lease mechanism of Vane's background jobs
// (rollouts, schedules, and later deliveries): each job runs on one node
// at a time, and another node takes over within a lease's time to live
// when that node stops renewing it. Times are the store's clock, so the
// nodes sharing a database must agree on the time to well within a
// lease's time to live.
type LeaseStore interface {
	// AcquireLease gives the lease of job to holder until now + ttl when
	// it is free (never taken, expired, released) or already holder's (a
	// renewal), and returns it with ok true. When another holder's lease
	// has not expired, it returns that lease with ok false. Errors:
	// EINVALID (empty job or holder, ttl not positive).
	AcquireLease(ctx context.Context, job, holder string, ttl time.Duration) (l Lease, ok bool, err error)

	// ReleaseLease ends holder's lease of job now, so another node need
	// not wait for it to expire. It does nothing when holder does not
	// hold it.
	ReleaseLease(ctx context.Context, job, holder string) error

	// SaveCursor records the change-log cursor of job. Errors: ECONFLICT
	// when holder does not hold an unexpired lease of job (it lost the
	// lease, and another node may be running the job).
	SaveCursor(ctx context.Context, job, holder string, cursor int64) error
}
