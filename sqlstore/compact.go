package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"time"
)

// compactBatch is how many change-log records Compact examines in one
// write transaction. Each batch holds the write lock only for a range scan
// and a delete of this many records on the primary key, a few milliseconds,
// so writers queued behind a compaction of a large log wait for one batch,
// not for the whole log.
const compactBatch = 5000

// Compact implements vane.ChangeLog. It works through the log in sequence
// order, one write transaction per batch of records: each deletes the
// records of its batch older than before (never the newest record of the
// log) and raises the floor to the highest sequence it deleted. Records
// are written with the time of their transaction, so their times follow
// their sequence numbers except when a clock steps back (or, on
// PostgreSQL, when nodes' clocks disagree); Compact therefore stops after
// the first batch holding a record not older than before, and a record
// older than before found later in the log is left to a later compaction.
// A record left below the floor is never returned by Changes.
func (s *Store) Compact(ctx context.Context, before time.Time) (int64, error) {
	cut := unixNano(before)
	var removed int64
	var after int64 // every record up to this sequence has been examined
	for {
		n, next, more, err := s.compactBatch(ctx, after, cut)
		removed += n
		if err != nil || !more {
			return removed, err
		}
		after = next
	}
}

// compactBatch deletes the records older than cut among the compactBatch
// records following sequence after, keeping the newest record of the log,
// in one write transaction. It returns how many it deleted, the last
// sequence it examined, and whether the next batch may hold more to delete.
func (s *Store) compactBatch(ctx context.Context, after, cut int64) (removed, last int64, more bool, err error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	defer tx.Rollback()
	// The batch: up to compactBatch records after the examined ones and
	// before the newest, which is never deleted.
	var count int64
	var hi sql.NullInt64
	err = tx.queryRow(ctx, `SELECT COUNT(*), MAX(seq) FROM (
		SELECT seq FROM changes WHERE seq > ? AND seq < (SELECT MAX(seq) FROM changes) ORDER BY seq LIMIT ?) b`,
		after, compactBatch).Scan(&count, &hi)
	if err != nil {
		return 0, 0, false, tx.s.translate(err)
	}
	if count == 0 {
		return 0, after, false, nil
	}
	var top sql.NullInt64
	err = tx.queryRow(ctx, `SELECT COUNT(*), MAX(seq) FROM changes WHERE seq > ? AND seq <= ? AND at < ?`,
		after, hi.Int64, cut).Scan(&removed, &top)
	if err != nil {
		return 0, 0, false, tx.s.translate(err)
	}
	if removed == 0 {
		return 0, hi.Int64, false, nil
	}
	if _, err := tx.exec(ctx, `DELETE FROM changes WHERE seq > ? AND seq <= ? AND at < ?`, after, hi.Int64, cut); err != nil {
		return 0, 0, false, err
	}
	if _, err := tx.exec(ctx, `UPDATE change_floor SET seq = ? WHERE id = 1 AND seq < ?`, top.Int64, top.Int64); err != nil {
		return 0, 0, false, err
	}
	if err := tx.commit(); err != nil {
		return 0, 0, false, err
	}
	// A batch with a record too recent to delete reaches the records
	// written after before: the rest of the log is newer still.
	return removed, hi.Int64, removed == count && count == compactBatch, nil
}

// unixNano is t in Unix nanoseconds, the unit of the changes.at column,
// clamped to the int64 range (time.Time.UnixNano is undefined outside it).
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
