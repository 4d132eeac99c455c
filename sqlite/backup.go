package sqlite

// Online backups. Backup copies the live database with VACUUM INTO, on a
// read-only connection of its own: in WAL mode that is one read
// transaction, so the copy is the database as of one snapshot while the
// writer goes on committing to the WAL. (The copy holds back checkpoints
// past its snapshot while it runs; the WAL grows a little meanwhile.) The
// copy is made in a temporary directory beside the database, on the data
// directory's own file system and under its permissions, streamed to the
// caller and removed. It is a plain rollback-journal database file: it
// opens read-only with nothing beside it.
//
// The keyring is deliberately not part of a backup (doc/operations.md):
// the copy holds SecureString values and access keys' secrets sealed, and
// only the keyring opens them.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vanehq/vane"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ vane.Backuper = (*Store)(nil)

// backupDirPrefix begins the name of the temporary directory a backup is
// copied into, beside the database.
const backupDirPrefix = ".vane-backup-"

// Inventory is what a Vane database holds, as backups and restores report
// it.
type Inventory struct {
	Parameters    int64 // parameters
	Versions      int64 // versions kept, of every parameter
	SecureStrings int64 // parameters whose latest version is a SecureString
	SecureValues  int64 // SecureString versions kept
	Sequence      int64 // the last change-log sequence; 0 for none
}

// Backup implements vane.Backuper: it copies the database with VACUUM INTO
// into a temporary file beside it, calls start with the copy's change-log
// sequence, parameter count and size, streams the copy to the writer start
// returns and removes it. Writers are not blocked while the copy is made.
// Errors: EUNAVAILABLE when the data directory's file system has no room
// for the copy or the database is busy; start's and the writer's errors;
// any other failure is an internal error, which may name the server's
// paths and is meant for its log, not for callers.
func (s *Store) Backup(ctx context.Context, start func(vane.BackupInfo) (io.Writer, error)) error {
	abs, err := filepath.Abs(s.Path)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(abs), backupDirPrefix)
	if err != nil {
		return backupError("create the temporary directory", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "vane.db")
	if err := vacuumInto(ctx, abs, path); err != nil {
		return err
	}
	inv, err := readInventory(ctx, path)
	if err != nil {
		return fmt.Errorf("sqlite: backup: read the copy: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// The open file is all that is needed from here: remove the directory
	// now, so that a crash while streaming leaves nothing behind, where
	// the system lets an open file be removed (the deferred RemoveAll
	// covers the others).
	os.RemoveAll(dir)
	w, err := start(vane.BackupInfo{Sequence: inv.Sequence, Parameters: inv.Parameters, Size: fi.Size()})
	if err != nil {
		return err
	}
	n, err := io.Copy(w, f)
	if err == nil && n != fi.Size() {
		err = fmt.Errorf("sqlite: backup: sent %d of %d bytes", n, fi.Size())
	}
	return err
}

// vacuumInto copies the database at src into the new file dst, as of one
// read transaction.
func vacuumInto(ctx context.Context, src, dst string) error {
	// Read-only: this connection can never write the live database, and
	// VACUUM INTO is allowed on one (query_only, which the readers' pool
	// sets, refuses it).
	db, err := sql.Open("sqlite", fileURI(src, "mode=ro", fmt.Sprintf("_pragma=busy_timeout(%d)", DefaultBusyTimeout.Milliseconds())))
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	// The file name is an expression in VACUUM INTO, so it is bound as a
	// parameter: no quoting of the path into the statement at all.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return backupError("copy the database", err)
	}
	return db.Close()
}

// backupError makes err, a failure to make the backup's temporary copy,
// into the error the caller sees: EUNAVAILABLE when the disk is full or
// the database busy, otherwise an internal error (logged, not shown, as it
// may name paths).
func backupError(what string, err error) error {
	var serr *sqlite.Error
	if errors.Is(err, syscall.ENOSPC) || errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_FULL {
		return &vane.Error{Code: vane.EUNAVAILABLE, Message: "There is no room for the backup's temporary copy in the data directory's file system; free some space and retry."}
	}
	if t := translate(err); t != err {
		return t
	}
	return fmt.Errorf("sqlite: backup: %s: %w", what, err)
}

// fileURI returns a SQLite URI for the file at path with the query
// parameters params ("mode=ro"). The characters that would end the path
// in a URI are escaped.
func fileURI(path string, params ...string) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:/C:/...
	}
	return "file:" + p + "?" + strings.Join(params, "&")
}

// sqliteHeader begins every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Verify checks, without writing to it or beside it, that the file at path
// is a sound Vane SQLite database, such as a backup: a SQLite file that
// passes SQLite's integrity check and holds Vane's tables. It returns what
// the file holds.
func Verify(ctx context.Context, path string) (Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return Inventory{}, err
	}
	head := make([]byte, len(sqliteHeader))
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, sqliteHeader) {
		return Inventory{}, fmt.Errorf("%s is not a SQLite database (not a Vane backup)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Inventory{}, err
	}
	db, err := sql.Open("sqlite", fileURI(abs, "mode=ro"))
	if err != nil {
		return Inventory{}, err
	}
	defer db.Close()
	problems, err := integrityCheck(ctx, db)
	if err != nil {
		return Inventory{}, fmt.Errorf("%s is damaged: SQLite's integrity check fails: %w", path, err)
	}
	if len(problems) > 0 {
		return Inventory{}, fmt.Errorf("%s is damaged: SQLite's integrity check reports: %s", path, strings.Join(problems, "; "))
	}
	var tables int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'parameters', 'versions', 'changes')`).Scan(&tables)
	if err != nil {
		return Inventory{}, fmt.Errorf("%s is damaged: %w", path, err)
	}
	if tables != 4 {
		return Inventory{}, fmt.Errorf("%s is a SQLite database but not a Vane one: it lacks Vane's tables", path)
	}
	inv, err := inventory(ctx, db)
	if err != nil {
		return Inventory{}, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}

// maxProblems is how many of the integrity check's findings Verify reports.
const maxProblems = 5

// integrityCheck runs SQLite's integrity check on db and returns its first
// findings; none means the database is sound.
func integrityCheck(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`PRAGMA integrity_check(%d)`, maxProblems))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	return problems, rows.Err()
}

// Inventory returns what the store holds, as of one read transaction.
func (s *Store) Inventory(ctx context.Context) (Inventory, error) {
	inv, err := inventory(ctx, s.rdb)
	return inv, translate(err)
}

// readInventory returns what the database file at path holds, opening it
// read-only.
func readInventory(ctx context.Context, path string) (Inventory, error) {
	db, err := sql.Open("sqlite", fileURI(path, "mode=ro"))
	if err != nil {
		return Inventory{}, err
	}
	defer db.Close()
	return inventory(ctx, db)
}

// inventory counts what db holds, in one read transaction.
func inventory(ctx context.Context, db *sql.DB) (Inventory, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Inventory{}, err
	}
	defer tx.Rollback()
	var inv Inventory
	secure := []any{string(vane.TypeSecureString)}
	for _, q := range []struct {
		dst   *int64
		query string
		args  []any
	}{
		{&inv.Parameters, `SELECT COUNT(*) FROM parameters`, nil},
		{&inv.Versions, `SELECT COUNT(*) FROM versions`, nil},
		{&inv.SecureStrings, `SELECT COUNT(*) FROM parameters p JOIN versions v ON v.name = p.name AND v.version = p.version WHERE v.type = ?`, secure},
		{&inv.SecureValues, `SELECT COUNT(*) FROM versions WHERE type = ?`, secure},
		{&inv.Sequence, `SELECT COALESCE(MAX(seq), 0) FROM changes`, nil},
	} {
		if err := tx.QueryRowContext(ctx, q.query, q.args...).Scan(q.dst); err != nil {
			return Inventory{}, err
		}
	}
	return inv, nil
}

// SecureValues calls fn with every SecureString version the store keeps
// (its value as stored: sealed, unless it predates the keyring), in name
// and version order, and stops at fn's first error, which it returns.
func (s *Store) SecureValues(ctx context.Context, fn func(name string, version int64, value string) error) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT name, version, value FROM versions WHERE type = ? ORDER BY name, version`, string(vane.TypeSecureString))
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		var version int64
		if err := rows.Scan(&name, &version, &value); err != nil {
			return translate(err)
		}
		if err := fn(name, version, value); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
