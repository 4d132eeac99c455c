// Package postgres is Vane's shared storage backend: package sqlstore's
// queries on a PostgreSQL database, through pgx v5's database/sql driver
// (github.com/jackc/pgx/v5/stdlib: a connection pool, context cancellation
// and a prepared-statement cache per connection). Several Vane nodes share
// one database; each keeps its own index and follows the others' writes
// through Listen.
//
// # Write exclusion
//
// Every write transaction begins with pg_advisory_xact_lock on a key of the
// schema it writes, so the writers of every node sharing that schema run
// one at a time; the lock is held until the transaction commits or rolls
// back. Version numbers are therefore assigned without duplicates or gaps,
// and change-log sequence numbers (a BIGSERIAL, drawn under the lock)
// become visible in commit order: PostgreSQL makes a transaction visible
// before it releases its locks, so a follower that has read sequence N can
// never later find a committed change numbered N or less. Sequences may
// have gaps: a write that rolls back after drawing a number consumes it.
//
// Write transactions run at READ COMMITTED, which every connection of the
// store sets whatever the server's default: each statement after the lock
// sees every write committed before it. Read transactions run at
// REPEATABLE READ, so each sees one snapshot. Writes and reads use separate
// pools, so writers queued behind the lock never take the connections that
// reads need.
//
// # Schemas
//
// The store lives in the first schema of the connection's search_path,
// which the connection string can set (for example
// "postgres://host/db?search_path=vane"); the schema must exist. Embedded
// migrations create the tables on Open, serialized across nodes that start
// together. Schemas are independent: their lock keys and notifications are
// their own.
//
// # Errors
//
// Driver errors are translated by SQLSTATE, never by message: a unique
// violation is vane.ECONFLICT; serialization failures, deadlocks, lost or
// refused connections, server shutdowns and exhausted resources are
// vane.EUNAVAILABLE, which callers may retry. See translate for the table.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Connection pool defaults.
const (
	// DefaultMaxWriteConns bounds the connections of the write pool. The
	// write lock lets one writer of all nodes work at a time, so more
	// connections would only wait in PostgreSQL instead of in Go.
	DefaultMaxWriteConns = 4
	// DefaultMaxReadConns bounds the connections of the read pool.
	DefaultMaxReadConns = 16
	// DefaultConnMaxIdleTime is how long an unused pooled connection is
	// kept open.
	DefaultConnMaxIdleTime = 5 * time.Minute
	// DefaultListenIdleCheck is how long Listen waits for a notification
	// before it pings the server.
	DefaultListenIdleCheck = 30 * time.Second
)

// Channel is the notification channel every write notifies on commit; the
// payload is the name of the schema written.
const Channel = "vane_changes"

// Advisory lock classes: the first key of pg_advisory_xact_lock(int, int),
// the second being a hash of the schema's name.
const (
	writeLockClass   int32 = 0x56414e45 // "VANE": write transactions
	migrateLockClass int32 = 0x56414e4d // "VANM": migrations
)

// Store is the PostgreSQL implementation of vane.Store: package sqlstore's
// queries on a PostgreSQL schema.
type Store struct {
	*sqlstore.Store

	// DSN is the connection string, a postgres:// URL or key=value pairs
	// as pgx accepts them; search_path selects the schema.
	DSN string
	// MaxWriteConns and MaxReadConns bound the two connection pools.
	MaxWriteConns, MaxReadConns int
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Logger receives what Listen can't return: each lost connection
	// and the reconnection that follows.
	Logger *slog.Logger
	// ListenIdleCheck is how long Listen waits for a notification before
	// it pings the server on its connection: a blocked read would never
	// notice a server that vanished without closing the connection.
	ListenIdleCheck time.Duration

	config    *pgx.ConnConfig // parsed DSN, for Listen
	db, rdb   *sql.DB         // writes, reads
	schema    string          // current_schema() of the connections
	lockWrite string          // SQL taking the write lock
}

var _ vane.Store = (*Store)(nil)

// NewStore returns a store for the database at dsn with the default pool
// sizes; set its fields, then call Open.
func NewStore(dsn string) *Store {
	return &Store{
		DSN:             dsn,
		MaxWriteConns:   DefaultMaxWriteConns,
		MaxReadConns:    DefaultMaxReadConns,
		Now:             time.Now,
		Logger:          slog.New(slog.DiscardHandler),
		ListenIdleCheck: DefaultListenIdleCheck,
	}
}

// Open connects to the database at dsn and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s := NewStore(dsn)
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the connection pools, checks that the database answers and
// migrates the schema. Errors keep the driver's detail (which host, which
// role, why), since they go to an operator rather than to an API caller.
func (s *Store) Open(ctx context.Context) error {
	if s.DSN == "" {
		return errors.New("postgres: no connection string")
	}
	if s.MaxWriteConns < 1 || s.MaxReadConns < 1 {
		return fmt.Errorf("postgres: pool sizes must be at least 1, not %d (writes) and %d (reads)", s.MaxWriteConns, s.MaxReadConns)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgx.ParseConfig(s.DSN)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	// The write lock relies on READ COMMITTED: at REPEATABLE READ, a
	// server default some databases set, a writer's snapshot would be
	// taken by the statement waiting for the lock and miss the writes
	// committed while it waited.
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "vane"
	}
	s.config = cfg
	s.db = stdlib.OpenDB(*cfg.Copy())
	s.db.SetMaxOpenConns(s.MaxWriteConns)
	s.db.SetMaxIdleConns(s.MaxWriteConns)
	s.db.SetConnMaxIdleTime(DefaultConnMaxIdleTime)
	s.rdb = stdlib.OpenDB(*cfg.Copy())
	s.rdb.SetMaxOpenConns(s.MaxReadConns)
	s.rdb.SetMaxIdleConns(s.MaxReadConns)
	s.rdb.SetConnMaxIdleTime(DefaultConnMaxIdleTime)
	if err := s.open(ctx); err != nil {
		s.Close()
		return fmt.Errorf("postgres: open %s: %w", redact(cfg), err)
	}
	s.Store = &sqlstore.Store{
		DB:  s.db,
		RDB: s.rdb,
		Now: func() time.Time { return s.Now() },
		Dialect: sqlstore.Dialect{
			Rebind:        sqlstore.RebindDollar,
			LockWrite:     s.lock,
			Notify:        s.notify,
			ReadIsolation: sql.LevelRepeatableRead,
			Translate:     translate,
		},
	}
	return nil
}

// open finds the schema, derives the lock keys from it and migrates it.
func (s *Store) open(ctx context.Context) error {
	var schema sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if !schema.Valid {
		return errors.New("no schema of the search_path exists: create it, or set search_path in the connection string")
	}
	s.schema = schema.String
	key := schemaKey(s.schema)
	s.lockWrite = fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, %d)`, writeLockClass, key)
	return s.migrate(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, %d)`, migrateLockClass, key))
}

// schemaKey is the second key of the schema's advisory locks: nodes
// sharing a schema share its locks, and other schemas don't wait for them
// (unless their names' hashes collide, which costs waiting, not safety).
func schemaKey(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return int32(h.Sum32())
}

// redact names the database of cfg for error messages, without secrets.
func redact(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("database %q on %s:%d as %q", cfg.Database, cfg.Host, cfg.Port, cfg.User)
}

// Close closes both connection pools; the embedded sqlstore.Store's Close
// is a no-op. A running Listen has its own connection and stops with its
// context.
func (s *Store) Close() error {
	var errs []error
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers. Errors: EUNAVAILABLE.
func (s *Store) Ping(ctx context.Context) error {
	if s.rdb == nil {
		return vane.Errorf(vane.EINTERNAL, "postgres: Open has not been called")
	}
	if err := s.rdb.PingContext(ctx); err != nil {
		return translate(err)
	}
	return nil
}

// lock is the dialect's LockWrite: it waits for every other writer of the
// schema, on any node, to finish.
func (s *Store) lock(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, s.lockWrite)
	return err
}

// notify is the dialect's Notify. PostgreSQL delivers the notification
// when the transaction commits, and not at all if it rolls back.
func (s *Store) notify(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, s.schema)
	return err
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in name order, each in its own transaction.
func (s *Store) migrate(ctx context.Context, lock string) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.migrateFile(ctx, lock, name); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

func (s *Store) migrateFile(ctx context.Context, lock, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Nodes starting together take turns, so each migration runs once;
	// the ones that wait then find it recorded.
	if _, err := tx.ExecContext(ctx, lock); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
		applied_at BIGINT NOT NULL -- unix nanoseconds
	)`); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	buf, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	// Without arguments pgx sends the file with the simple query
	// protocol, which runs several statements.
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, name, s.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}
