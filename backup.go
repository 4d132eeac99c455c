package vane

import (
	"context"
	"io"
)

// BackupInfo describes a backup of a store's database.
type BackupInfo struct {
	// Sequence is the change-log sequence the backup holds: it holds every
	// change up to it and none after it.
	Sequence int64
	// Parameters is the number of parameters the backup holds.
	Parameters int64
	// Size is the backup's length in bytes.
	Size int64
}

// Backuper is a store that takes online backups of its database: one
// consistent copy, taken while writers go on. The SQLite backend is one;
// PostgreSQL is backed up with pg_dump instead (doc/operations.md).
type Backuper interface {
	// Backup takes a consistent copy of the database, then calls start
	// with what the copy holds and writes the copy, Size bytes, to the
	// writer start returns. Nothing is written before start is called; an
	// error start returns is returned as is. Errors: EUNAVAILABLE when
	// there is no room for the copy; the writer's errors.
	Backup(ctx context.Context, start func(BackupInfo) (io.Writer, error)) error
}
