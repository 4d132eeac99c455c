// Package sqlstore implements vane.Store once over database/sql, for every
// SQL backend. The SQL it runs is dialect-neutral (standard joins, ON
// CONFLICT upserts, "?" placeholders); a Dialect supplies the few parts
// that differ: placeholder syntax, how a write transaction excludes other
// writers, and the translation of driver errors to vane errors by code.
//
// Every public method is one transaction, but for Compact, which removes
// old change-log records in batches of one write transaction each (raising
// the compaction floor in each), so that a large log never holds the
// writers up for long. A write transaction first calls
// Dialect.LockWrite, so writers are serialized: on SQLite by BEGIN
// IMMEDIATE on the one writer connection, on PostgreSQL by a transaction
// advisory lock held until commit, across every node sharing the database.
// Version numbers and change-log sequence numbers are assigned under that
// exclusion, which is what keeps versions free of duplicates and gaps and
// makes sequence numbers visible to readers in commit order: a change-log
// follower that has read sequence N never later finds a committed change
// with a lower number.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vanehq/vane"
)

// Dialect holds what differs between SQL databases.
type Dialect struct {
	// Rebind rewrites a query written with "?" placeholders into the
	// dialect's syntax; nil keeps "?".
	Rebind func(query string) string
	// LockWrite runs first in every write transaction and must exclude
	// every other writer until the transaction ends; nil when beginning
	// the transaction already does.
	LockWrite func(ctx context.Context, tx *sql.Tx) error
	// Notify, when set, runs in every write transaction that appends to
	// the change log, after the append (PostgreSQL: pg_notify, which is
	// delivered on commit).
	Notify func(ctx context.Context, tx *sql.Tx) error
	// ReadIsolation is the isolation of read transactions; it must give
	// every statement of a transaction the same snapshot.
	ReadIsolation sql.IsolationLevel
	// Translate maps a driver error to a vane error by the driver's error
	// code, or returns it unchanged; it is never called with nil.
	Translate func(err error) error
	// CacheStatements makes transactions run their statements prepared
	// once per connection instead of parsed at every call: for a driver
	// without a statement cache of its own (SQLite's, where parsing was a
	// third of a put's time).
	CacheStatements bool
}

// Store is a vane.Store over a SQL database.
type Store struct {
	// DB runs write transactions; RDB runs reads (it may be DB).
	DB, RDB *sql.DB
	Dialect Dialect
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Cipher, if set, seals SecureString values before they are stored
	// (see seal.go); nil stores them as given.
	Cipher vane.Cipher

	group groupCommit // parameter writes waiting for a transaction (group.go)
	// wstmts and rstmts are the prepared statements of DB and RDB, when
	// the dialect caches statements.
	wstmts, rstmts stmtCache
	// snapshotPartRows, when set, replaces the package's (tests).
	snapshotPartRows int
	// snapshotScan forces how a snapshot reads the latest versions
	// (tests): 1 by scanning the versions, -1 through the join, 0 by
	// how many versions the store keeps.
	snapshotScan int
}

var _ vane.Store = (*Store)(nil)

// Close closes the cached statements; the backend that opened the
// databases closes them.
func (s *Store) Close() error {
	s.wstmts.close()
	s.rstmts.close()
	return nil
}

// txn is a transaction that rebinds placeholders, translates errors and,
// when stmts is set, runs statements prepared once.
type txn struct {
	*sql.Tx
	s     *Store
	db    *sql.DB
	stmts *stmtCache
}

// stmt returns the transaction's form of the prepared statement of query
// (already rebound), or nil when statements are not cached or query could
// not be prepared (it then runs unprepared, to fail with its own error).
func (t txn) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	st := t.stmts.get(t.db, query)
	if st == nil {
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

func (t txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q := t.s.rebind(query)
	if st := t.stmt(ctx, q); st != nil {
		r, err := st.ExecContext(ctx, args...)
		return r, t.s.translate(err)
	}
	r, err := t.Tx.ExecContext(ctx, q, args...)
	return r, t.s.translate(err)
}

func (t txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q := t.s.rebind(query)
	if st := t.stmt(ctx, q); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, t.s.translate(err)
	}
	rows, err := t.Tx.QueryContext(ctx, q, args...)
	return rows, t.s.translate(err)
}

func (t txn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	q := t.s.rebind(query)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t txn) commit() error { return t.s.translate(t.Tx.Commit()) }

// readQuery runs a query outside a transaction on RDB, prepared once
// when the dialect caches statements. Errors are the driver's, as from
// RDB.QueryContext.
func (s *Store) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q := s.rebind(query)
	if s.Dialect.CacheStatements {
		if st := s.rstmts.get(s.RDB, q); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return s.RDB.QueryContext(ctx, q, args...)
}

// readRow is readQuery for one row.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	q := s.rebind(query)
	if s.Dialect.CacheStatements {
		if st := s.rstmts.get(s.RDB, q); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return s.RDB.QueryRowContext(ctx, q, args...)
}

// maxCachedStatements bounds a stmtCache; queries beyond it run
// unprepared (the fixed statements of the store number far fewer).
const maxCachedStatements = 512

// stmtCache holds the statements prepared on one *sql.DB, by query text.
// database/sql prepares each again on every connection it is used on, once.
// A statement is prepared in the background the first time it is asked
// for, and run unprepared until it is ready: preparing on the database
// needs a free connection, and SQLite's writer has only the one its
// transaction holds.
type stmtCache struct {
	mu        sync.Mutex
	m         map[string]*sql.Stmt // nil while being prepared (or after failing to)
	closed    bool
	preparing sync.WaitGroup
}

func (c *stmtCache) get(db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok || c.closed || len(c.m) >= maxCachedStatements {
		return st
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = nil
	c.preparing.Go(func() {
		st, err := db.Prepare(query)
		if err != nil {
			return // it stays unprepared
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed {
			st.Close()
			return
		}
		c.m[query] = st
	})
	return nil
}

// close waits for the preparations under way and closes the cached
// statements; the cache prepares nothing after it.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.preparing.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		if st != nil {
			st.Close()
		}
	}
	c.m = nil
}

// beginWrite starts a write transaction holding the dialect's write
// exclusion.
func (s *Store) beginWrite(ctx context.Context) (txn, error) {
	t, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return txn{}, s.translate(err)
	}
	tx := txn{Tx: t, s: s, db: s.DB}
	if s.Dialect.CacheStatements {
		tx.stmts = &s.wstmts
	}
	if s.Dialect.LockWrite != nil {
		if err := s.Dialect.LockWrite(ctx, t); err != nil {
			t.Rollback()
			return txn{}, s.translate(err)
		}
	}
	return tx, nil
}

// beginRead starts a read transaction: one consistent snapshot.
func (s *Store) beginRead(ctx context.Context) (txn, error) {
	t, err := s.RDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.Dialect.ReadIsolation})
	if err != nil {
		return txn{}, s.translate(err)
	}
	tx := txn{Tx: t, s: s, db: s.RDB}
	if s.Dialect.CacheStatements {
		tx.stmts = &s.rstmts
		if s.RDB == s.DB {
			tx.stmts = &s.wstmts
		}
	}
	return tx, nil
}

func (s *Store) rebind(q string) string {
	if s.Dialect.Rebind == nil {
		return q
	}
	return s.Dialect.Rebind(q)
}

func (s *Store) translate(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var verr *vane.Error
	if errors.As(err, &verr) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if s.Dialect.Translate != nil {
		err = s.Dialect.Translate(err)
	}
	if errors.As(err, &verr) {
		return err
	}
	return fmt.Errorf("sqlstore: %w", err)
}

func (s *Store) now() time.Time {
	return s.Now().UTC()
}

// RebindDollar rewrites "?" placeholders as $1, $2, ... (PostgreSQL). The
// queries of this package hold no "?" inside string literals.
func RebindDollar(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// joinList and splitList store short string lists (labels, tag keys; never
// containing commas) in one column.
func joinList(l []string) string { return strings.Join(l, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
