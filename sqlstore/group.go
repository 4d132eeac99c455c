package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"
)

// Group commit. Every parameter write (Put, Delete, Label, Unlabel,
// AddTags, RemoveTags, Batch) is a function of a writer run through
// write. Writes that arrive while a transaction is being committed wait
// in a queue, and the next transaction takes every queued write, each
// inside a savepoint, and commits them together: one fsync (SQLite) or one commit
// round trip under one advisory lock (PostgreSQL) for the group instead
// of one each. A write is acknowledged only after its group's commit
// returned. A write that fails is rolled back to its savepoint and fails
// alone; a commit that fails fails every write of the group, and none of
// them is on disk. When the queue holds one write, it runs as it always
// did, without a savepoint.
//
// One goroutine at a time runs the groups, started when a write finds
// none running and ending when the queue is empty; a group holds at most
// maxGroupWrites writes. A write's context is honoured while it waits (it
// leaves the queue when cancelled before its turn), but not once its
// group has started, since interrupting a statement would roll back the
// whole group.

// maxGroupWrites bounds the writes of one group transaction.
const maxGroupWrites = 256

// writeRequest is a write waiting for its group.
type writeRequest struct {
	ctx   context.Context
	batch string
	f     func(w *writer) error
	err   error
	done  chan struct{}
}

// groupCommit is the queue of writes waiting for a transaction. Its zero
// value is ready to use.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*writeRequest
	leading bool // runGroups is running

	transactions, writes atomic.Int64 // committed or not, for GroupCommits
}

// GroupCommits returns how many write transactions the store has run for
// parameter writes and how many writes they held: their ratio is the
// mean group size.
func (s *Store) GroupCommits() (transactions, writes int64) {
	return s.group.transactions.Load(), s.group.writes.Load()
}

// write runs f in a write transaction, with the other writes that are
// waiting at the time (see Group commit above), and returns when its
// transaction is committed or f failed.
func (s *Store) write(ctx context.Context, batch string, f func(w *writer) error) error {
	req := &writeRequest{ctx: ctx, batch: batch, f: f, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, req)
	if !g.leading {
		g.leading = true
		go s.runGroups()
	}
	g.mu.Unlock()
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		if g.withdraw(req) {
			return ctx.Err()
		}
		<-req.done // already taken: its group runs to the end
		return req.err
	}
}

// runGroups commits groups of queued writes until the queue is empty.
func (s *Store) runGroups() {
	for {
		group := s.group.take()
		if group == nil {
			return
		}
		s.commitGroup(group)
	}
}

// take removes up to maxGroupWrites writes from the queue, or, when it is
// empty, records that runGroups ends and returns nil.
func (g *groupCommit) take() []*writeRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.queue), maxGroupWrites)
	if n == 0 {
		g.leading = false
		return nil
	}
	group := make([]*writeRequest, n)
	copy(group, g.queue)
	rest := copy(g.queue, g.queue[n:])
	clear(g.queue[rest:])
	g.queue = g.queue[:rest]
	return group
}

// withdraw removes a waiting write whose context ended, and reports
// whether it was still queued.
func (g *groupCommit) withdraw(req *writeRequest) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, r := range g.queue {
		if r == req {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return true
		}
	}
	return false
}

// commitGroup runs a group's writes in one transaction and tells each its
// outcome.
func (s *Store) commitGroup(group []*writeRequest) {
	s.group.transactions.Add(1)
	s.group.writes.Add(int64(len(group)))
	finish := func(err error) {
		for _, r := range group {
			if r.err == nil {
				r.err = err
			}
			close(r.done)
		}
	}
	if len(group) == 1 {
		r := group[0]
		if err := r.ctx.Err(); err != nil {
			finish(err)
			return
		}
		finish(s.writeOne(r.ctx, r))
		return
	}
	// Statements run without their caller's cancellation: interrupting
	// one would roll back the whole group (SQLite's interrupt ends the
	// transaction).
	tx, err := s.beginWrite(context.Background())
	if err != nil {
		finish(err)
		return
	}
	defer tx.Rollback()
	changed, ok := false, false
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		ctx := context.WithoutCancel(r.ctx)
		if _, err := tx.exec(ctx, `SAVEPOINT w`); err != nil {
			finish(err)
			return
		}
		w := &writer{ctx: ctx, tx: tx, now: s.now(), batch: r.batch}
		if r.err = r.f(w); r.err != nil {
			if _, err := tx.exec(ctx, `ROLLBACK TO SAVEPOINT w`); err != nil {
				finish(err)
				return
			}
		}
		if _, err := tx.exec(ctx, `RELEASE SAVEPOINT w`); err != nil {
			finish(err)
			return
		}
		if r.err == nil {
			ok = true
			changed = changed || w.changed
		}
	}
	if !ok {
		finish(nil)
		return
	}
	finish(s.commit(context.Background(), tx, changed))
}

// writeOne runs one write in a transaction of its own.
func (s *Store) writeOne(ctx context.Context, r *writeRequest) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w := &writer{ctx: ctx, tx: tx, now: s.now(), batch: r.batch}
	if err := r.f(w); err != nil {
		return err
	}
	return s.commit(ctx, tx, w.changed)
}

// commit commits a write transaction; when it appended to the change log
// it first tells the other nodes (PostgreSQL's notification is delivered
// with the commit, so they hear of the changes only once they are
// visible).
func (s *Store) commit(ctx context.Context, tx txn, changed bool) error {
	if changed && s.Dialect.Notify != nil {
		if err := s.translate(s.Dialect.Notify(ctx, tx.Tx)); err != nil {
			return err
		}
	}
	return tx.commit()
}
