// Package job is the one place Vane's background jobs run: rollouts,
// scheduled changes, and the consumers that come after them. A job is
// timed work (Tick) plus, optionally, a consumer of the change log
// (Changes); a Runner drives one job on one node at a time.
//
// # One node at a time
//
// Every node of a shared database runs a Runner for each job, and the
// runners compete for the job's lease in the store (vane.LeaseStore). The
// holder renews it every third of its time to live and does the work; the
// others retry on the same period and take over within a time to live
// after the holder stops renewing (it died, or lost the database). A
// runner that fails to renew stops working at once. A lease does not
// fence a holder that stalls past its lease while still working (a long
// GC pause): jobs make their writes compare-and-set (rollouts write with
// an expected version and update their record by revision), so a stale
// holder's write fails instead of repeating another node's.
//
// # A durable cursor in the change log
//
// The lease row keeps the job's cursor: the last change-log sequence it
// handled. The holder reads the changes after it and hands them to the
// job; it saves the cursor with each renewal (not after every pass, which
// would add a write to the store for every burst of changes) and when it
// stops. A new holder goes on from there, so a change made while no node
// ran the job is still seen. Delivery is at least once: a holder that
// dies hands the changes of its last seconds to the next again. A job that has never run starts at the
// newest sequence rather than replaying history, and one whose cursor
// fell below the change log's compaction floor starts again at the newest
// sequence, with a warning.
//
// # Clock
//
// The runner takes an injected clock; tests drive a job with RunOnce at
// the times they choose, and Run sleeps on the real clock until the next
// due time the job reports, a renewal, or a wake-up (a change applied by
// the index, or an API call that changed the job's state).
package job

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/vanehq/vane"
)

// Defaults of a Runner.
const (
	// DefaultLeaseTTL is how long a lease lasts unless renewed: a node
	// that dies is replaced within it.
	DefaultLeaseTTL = 10 * time.Second
	// DefaultBatch is how many change-log records a pass reads at most.
	DefaultBatch = vane.MaxPageSize
	// retryDelay is how long a runner waits after a failed pass.
	retryDelay = time.Second
	// MinWakeInterval is the least time between two passes that wake-ups
	// start.
	MinWakeInterval = 20 * time.Millisecond
)

// Job is a background job.
type Job interface {
	// Changes hands the job the change-log records after its cursor, in
	// sequence order; the cursor moves past them when it returns nil. On
	// an error the same records come again on the next pass.
	Changes(ctx context.Context, cs []vane.Change) error
	// Tick does the work due at now and returns when the job next has
	// timed work (zero for none: it then runs again when woken or at the
	// next lease renewal).
	Tick(ctx context.Context, now time.Time) (next time.Time, err error)
}

// ChangeLog is what a Runner reads: the change log and its newest sequence
// (the in-memory index provides both).
type ChangeLog interface {
	Changes(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error)
	Seq() int64
}

// Runner runs one job under its lease. Set the fields, then call Run (or
// RunOnce in tests).
type Runner struct {
	// Name names the job's lease and cursor, such as "rollouts".
	Name   string
	Job    Job
	Leases vane.LeaseStore
	Log    ChangeLog
	// Holder identifies this node in the lease; nodes must differ.
	Holder string
	// LeaseTTL is the lease's time to live; default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// OnLease, if set, is told when this node gains (true) or loses
	// (false) the lease.
	OnLease func(held bool)
	// Start, if set, returns the cursor of a job that has never run, in
	// place of the newest sequence: an event rule starts from the
	// sequence at its creation, even when its runner starts later.
	Start func() int64

	held          bool
	renewAt       time.Time // when the lease is renewed next
	cursor, saved int64     // the cursor, and the last one saved
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Runner) ttl() time.Duration {
	if r.LeaseTTL <= 0 {
		return DefaultLeaseTTL
	}
	return r.LeaseTTL
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Held reports whether this runner held the lease at its last pass.
func (r *Runner) Held() bool { return r.held }

// Run runs passes until ctx is done: after each, it waits for the job's
// next due time, the lease renewal, or a value on wake, whichever comes
// first (passes started by wake-ups are at least MinWakeInterval apart,
// so a burst of writes costs a few passes, not one each). It saves the
// cursor and releases the lease when it stops.
func (r *Runner) Run(ctx context.Context, wake <-chan struct{}) {
	defer func() {
		if r.held {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			err := r.saveCursor(rctx)
			if err == nil {
				err = r.Leases.ReleaseLease(rctx, r.Name, r.Holder)
			}
			if err != nil {
				r.logger().Warn("cannot hand the background job over at shutdown; another node takes it over when the lease expires", "job", r.Name, "err", err)
			}
			cancel()
			r.setHeld(false)
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			if d := MinWakeInterval - time.Since(last); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		case <-timer.C:
		}
		last = time.Now()
		next, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := r.ttl() / 3
		if err != nil {
			r.logger().Warn("background job failed; retrying", "job", r.Name, "err", err)
			wait = min(wait, retryDelay)
		} else if !next.IsZero() {
			wait = min(wait, max(0, next.Sub(r.now())))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// RunOnce makes one pass: it takes the lease, or renews it when a third of
// its time to live has passed (saving the cursor then), and, holding it,
// hands the job the new changes and runs its Tick. It returns the job's
// next due time (zero when it does not hold the lease).
func (r *Runner) RunOnce(ctx context.Context) (time.Time, error) {
	// A node that does not hold the lease tries to take it only every
	// third of its time to live, not on every wake-up: each try is a
	// write to the store, and waiting nodes would add one to every burst
	// of other nodes' writes.
	now := r.now()
	if !now.Before(r.renewAt) {
		if err := r.renew(ctx, now); err != nil {
			return time.Time{}, err
		}
	}
	if !r.held {
		return time.Time{}, nil
	}
	if err := r.follow(ctx); err != nil {
		return time.Time{}, err
	}
	return r.Job.Tick(ctx, r.now())
}

// renew takes or renews the lease at now. Taking it reads the cursor the
// last holder saved; renewing it saves this runner's.
func (r *Runner) renew(ctx context.Context, now time.Time) error {
	if r.held {
		// A lease that expired unrenewed is lost, but may be free: take
		// it again below, from the cursor saved last.
		if err := r.saveCursor(ctx); err != nil && !errors.Is(err, errLost) {
			return err
		}
	}
	r.renewAt = now.Add(r.ttl() / 3)
	l, ok, err := r.Leases.AcquireLease(ctx, r.Name, r.Holder, r.ttl())
	if err != nil {
		r.setHeld(false)
		r.renewAt = now.Add(min(retryDelay, r.ttl()/3))
		return err
	}
	if ok && !r.held {
		r.cursor, r.saved = l.Cursor, l.Cursor
	}
	r.setHeld(ok)
	return nil
}

func (r *Runner) setHeld(held bool) {
	if held == r.held {
		return
	}
	r.held = held
	if held {
		r.logger().Info("this node now runs the background job", "job", r.Name, "node", r.Holder)
	} else {
		r.logger().Info("this node no longer runs the background job", "job", r.Name, "node", r.Holder)
	}
	if r.OnLease != nil {
		r.OnLease(held)
	}
}

// follow hands the job the changes after the cursor. The cursor moves in
// memory and is saved at the next renewal: a holder that dies hands the
// changes of its last seconds to the next again (at least once).
func (r *Runner) follow(ctx context.Context) error {
	if r.cursor == vane.NoCursor {
		// Never run: start from now, not from the beginning of history.
		r.cursor = r.Log.Seq()
		if r.Start != nil {
			r.cursor = r.Start()
		}
		return r.saveCursor(ctx)
	}
	for {
		cs, err := r.Log.Changes(ctx, r.cursor, "", DefaultBatch)
		if vane.ErrorCode(err) == vane.EGONE {
			seq := r.Log.Seq()
			r.logger().Warn("the background job fell behind the change log's retention; going on from the newest change",
				"job", r.Name, "cursor", r.cursor, "sequence", seq)
			r.cursor = seq
			return r.saveCursor(ctx)
		}
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return nil
		}
		if err := r.Job.Changes(ctx, cs); err != nil {
			return err
		}
		r.cursor = cs[len(cs)-1].Seq
		if len(cs) < DefaultBatch {
			return nil
		}
	}
}

// errLost is the error of a runner that found it no longer holds the
// lease.
var errLost = errors.New("lost the lease: another node may run the job")

// saveCursor saves the cursor if it moved; a conflict means the lease
// was lost.
func (r *Runner) saveCursor(ctx context.Context) error {
	if r.cursor == r.saved {
		return nil
	}
	err := r.Leases.SaveCursor(ctx, r.Name, r.Holder, r.cursor)
	if vane.ErrorCode(err) == vane.ECONFLICT {
		r.setHeld(false)
		return errLost
	}
	if err == nil {
		r.saved = r.cursor
	}
	return err
}
