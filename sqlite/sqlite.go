// Package sqlite is Vane's embedded storage backend: one SQLite file in WAL
// mode, written through modernc.org/sqlite (pure Go, no C toolchain).
//
// Writes go through one connection opened with BEGIN IMMEDIATE, so writers
// queue in Go instead of failing with SQLITE_BUSY, and version and sequence
// numbers are assigned inside each write's transaction. Reads use a separate
// pool and see a consistent WAL snapshot per transaction. With
// synchronous=FULL every acknowledged write has been fsynced to the WAL, so
// it survives a crash of the process or of the machine.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another process before giving up.
const DefaultBusyTimeout = 10 * time.Second

// Store is the SQLite implementation of vane.Store: package sqlstore's
// queries on a SQLite file.
type Store struct {
	// Path is the database file.
	Path string
	// Now returns the current time; tests replace it.
	Now func() time.Time

	*sqlstore.Store
	db  *sql.DB // writer: one connection, BEGIN IMMEDIATE
	rdb *sql.DB // readers
}

var _ vane.Store = (*Store)(nil)

// NewStore returns a store for the file at path; call Open before use.
func NewStore(path string) *Store {
	return &Store{Path: path, Now: time.Now}
}

// Open opens the store at path: it creates the file if needed and applies
// pending migrations.
func Open(path string) (*Store, error) {
	s := NewStore(path)
	if err := s.Open(); err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the database and migrates it.
func (s *Store) Open() (err error) {
	if s.Path == "" {
		return errors.New("sqlite: no database path")
	}
	if s.db, err = sql.Open("sqlite", s.dsn(true)); err != nil {
		return err
	}
	s.db.SetMaxOpenConns(1)
	s.db.SetConnMaxIdleTime(0)
	if err := s.migrate(context.Background()); err != nil {
		s.db.Close()
		var serr *sqlite.Error
		if errors.As(err, &serr) && (serr.Code()&0xff == sqlite3.SQLITE_BUSY || serr.Code()&0xff == sqlite3.SQLITE_LOCKED) {
			return fmt.Errorf("sqlite: %s is locked by another process, which held it for the %s this one waited: %w", s.Path, DefaultBusyTimeout, err)
		}
		return fmt.Errorf("sqlite: migrate %s: %w", s.Path, err)
	}
	if s.rdb, err = sql.Open("sqlite", s.dsn(false)); err != nil {
		s.db.Close()
		return err
	}
	s.rdb.SetMaxOpenConns(8)
	s.Store = &sqlstore.Store{DB: s.db, RDB: s.rdb, Now: func() time.Time { return s.Now() }, Dialect: sqlstore.Dialect{Translate: translate, CacheStatements: true}}
	return nil
}

func (s *Store) dsn(write bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", DefaultBusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
		// Latest values are read from the index, so the readers read
		// the change log's tail and history: a small page cache each
		// (the default is 2 MiB), which the driver's allocator keeps
		// once it has grown.
		q.Add("_pragma", "cache_size(-256)")
	}
	return "file:" + s.Path + "?" + q.Encode()
}

// Close closes the database; the embedded sqlstore.Store's Close is a no-op.
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

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return translate(err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check and returns an error
// describing any corruption it reports.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.rdb.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite: integrity check of %s failed: %s", s.Path, strings.Join(problems, "; "))
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (s *Store) migrateFile(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	buf, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES (?)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// translate maps driver errors to vane errors by SQLite result code.
func translate(err error) error {
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch serr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &vane.Error{Code: vane.EUNAVAILABLE, Message: "The database is busy; retry."}
		case sqlite3.SQLITE_FULL:
			return &vane.Error{Code: vane.EUNAVAILABLE, Message: "The disk holding the database is full: writes are refused until space is freed; reads go on."}
		case sqlite3.SQLITE_CONSTRAINT:
			return &vane.Error{Code: vane.ECONFLICT, Message: "The change conflicts with stored data; retry."}
		}
	}
	return err
}
