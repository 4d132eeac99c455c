package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// Point-in-time reads (vane.AtTimeReader). A version's modified_at and its
// change-log record's at are the same time, that of the write's
// transaction, so the version current at a time t is the newest with
// modified_at <= t, and the change-log sequence current then the highest
// with at <= t. What the versions can't tell (a parameter deleted since t)
// is read from the change log, as the vane.AtTimeReader comment explains.
//
// The change log has no index on name or time, so the reads of it here
// scan it: a point-in-time read is an occasional, operator's read, and
// the log is bounded by the change retention. Every other query uses the
// primary keys.

var _ vane.AtTimeReader = (*Store)(nil)

// isCreate reports whether a change-log record created its parameter: a
// put of version 1 (an overwrite always adds to a version of at least 1).
func isCreate(op string, version int64) bool {
	return vane.Op(op) == vane.OpPut && version == 1
}

// GetAt implements vane.AtTimeReader.
func (s *Store) GetAt(ctx context.Context, name string, at time.Time) (*vane.Parameter, error) {
	name, err := vane.ValidateName(name)
	if err != nil {
		return nil, err
	}
	if now := s.now(); at.After(now) {
		return nil, vane.FutureError(at, now)
	}
	t := unixNano(at)
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	p, err := scanParameter(tx.queryRow(ctx, `SELECT `+versionColumns+` FROM versions v
		WHERE v.name = ? AND v.modified_at <= ? ORDER BY v.version DESC LIMIT 1`, name, t))
	if err == nil {
		return p, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, tx.s.translate(err)
	}
	// No kept version is that old: the parameter, if it exists, keeps
	// none of the versions it had then, or was created after at.
	var created, oldest, oldestAt int64
	err = tx.queryRow(ctx, `SELECT p.created_at, v.version, v.modified_at FROM parameters p JOIN versions v ON v.name = p.name
		WHERE p.name = ? ORDER BY v.version LIMIT 1`, name).Scan(&created, &oldest, &oldestAt)
	switch {
	case err == nil && oldest > 1 && created <= t:
		return nil, vane.DroppedAtError(name, at, oldest, time.Unix(0, oldestAt))
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, tx.s.translate(err)
	}
	// Whether an earlier life of the name covered at, deleted since.
	kept, complete, err := logCompleteAfter(ctx, tx, t)
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, vane.CompactedAtError(name, at, kept)
	}
	var op string
	var version int64
	err = tx.queryRow(ctx, `SELECT op, version FROM changes WHERE name = ? AND at > ? ORDER BY seq LIMIT 1`, name, t).Scan(&op, &version)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && isCreate(op, version)):
		return nil, vane.NotFoundAtError(name, at)
	case err != nil:
		return nil, tx.s.translate(err)
	}
	return nil, vane.DeletedAtError(name, at)
}

// logCompleteAfter reports whether the change log holds every record
// later than t (unix nanoseconds) and, when it does not, the time after
// which it does: that of its oldest record above the compaction floor.
// Compact removes records in sequence order, so every record removed has
// a lower sequence than that one and, as times follow sequence numbers,
// a time not after it.
func logCompleteAfter(ctx context.Context, tx txn, t int64) (kept time.Time, complete bool, err error) {
	var floor int64
	if err := tx.queryRow(ctx, `SELECT seq FROM change_floor WHERE id = 1`).Scan(&floor); err != nil {
		return time.Time{}, false, tx.s.translate(err)
	}
	if floor == 0 {
		return time.Time{}, true, nil // nothing was ever removed
	}
	var first int64
	err = tx.queryRow(ctx, `SELECT at FROM changes WHERE seq > ? ORDER BY seq LIMIT 1`, floor).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		// Compact keeps the newest record, so only a log emptied by
		// other means gets here: nothing is known.
		return tx.s.now(), false, nil
	} else if err != nil {
		return time.Time{}, false, tx.s.translate(err)
	}
	return time.Unix(0, first).UTC(), t >= first, nil
}

// nameRange returns the condition, beginning with " AND", restricting
// column to the names under a canonical path, and its arguments.
func nameRange(column, path string) (string, []any) {
	lo, hi := vane.PathRange(path)
	switch {
	case lo == "" && hi == "":
		return "", nil
	case hi == "":
		return ` AND ` + column + ` >= ?`, []any{lo}
	}
	return ` AND ` + column + ` >= ? AND ` + column + ` < ?`, []any{lo, hi}
}

// SnapshotAt implements vane.AtTimeReader in one read transaction: the
// newest version not later than at of each parameter under the path; the
// parameters that existed then and still do, but keep no version that old
// (dropped by the version limit); and, from the change log, the names
// whose first record after at is not a create, which existed then, and
// of which those not found so far were deleted since.
func (s *Store) SnapshotAt(ctx context.Context, path string, at time.Time) (*vane.AtSnapshot, error) {
	if c, err := vane.ValidatePath(path); err != nil || c != path {
		return nil, vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "path %q is not a canonical path", path)
	}
	if now := s.now(); at.After(now) {
		return nil, vane.FutureError(at, now)
	}
	t := unixNano(at)
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	kept, complete, err := logCompleteAfter(ctx, tx, t)
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, vane.CompactedAtError("", at, kept)
	}
	out := &vane.AtSnapshot{Parameters: []*vane.Parameter{}}
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes WHERE at <= ?`, t).Scan(&out.Seq); err != nil {
		return nil, tx.s.translate(err)
	}

	// The versions current at t.
	cond, rangeArgs := nameRange("name", path)
	rows, err := tx.query(ctx, `SELECT `+versionColumns+` FROM versions v JOIN (
		SELECT name, MAX(version) AS version FROM versions WHERE modified_at <= ?`+cond+` GROUP BY name
		) m ON m.name = v.name AND m.version = v.version ORDER BY v.name`, append([]any{t}, rangeArgs...)...)
	if err != nil {
		return nil, tx.s.translate(err)
	}
	known := map[string]bool{} // names found, or found gone
	for rows.Next() {
		p, err := scanParameter(rows)
		if err != nil {
			rows.Close()
			return nil, tx.s.translate(err)
		}
		known[p.Name] = true
		out.Parameters = append(out.Parameters, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, tx.s.translate(err)
	}

	// Parameters created by t that keep no version from then.
	cond, rangeArgs = nameRange("p.name", path)
	names, err := tx.queryNames(ctx, `SELECT p.name FROM parameters p WHERE p.created_at <= ?`+cond+`
		AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.name = p.name AND v.modified_at <= ?)
		AND (SELECT MIN(v.version) FROM versions v WHERE v.name = p.name) > 1`,
		append(append([]any{t}, rangeArgs...), t)...)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		known[name] = true
		out.Gone = append(out.Gone, vane.AtGone{Name: name})
	}

	// Names whose first record after t is not a create existed at t;
	// those not found above have been deleted since.
	cond, rangeArgs = nameRange("name", path)
	rows, err = tx.query(ctx, `SELECT c.name, c.op, c.version FROM changes c JOIN (
		SELECT name, MIN(seq) AS seq FROM changes WHERE at > ?`+cond+` GROUP BY name
		) f ON f.seq = c.seq`, append([]any{t}, rangeArgs...)...)
	if err != nil {
		return nil, tx.s.translate(err)
	}
	for rows.Next() {
		var name, op string
		var version int64
		if err := rows.Scan(&name, &op, &version); err != nil {
			rows.Close()
			return nil, tx.s.translate(err)
		}
		if !known[name] && !isCreate(op, version) {
			out.Gone = append(out.Gone, vane.AtGone{Name: name, Deleted: true})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, tx.s.translate(err)
	}
	slices.SortFunc(out.Gone, func(a, b vane.AtGone) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// queryNames runs a query of one text column and returns its values.
func (t txn) queryNames(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, t.s.translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, t.s.translate(err)
		}
		out = append(out, s)
	}
	return out, t.s.translate(rows.Err())
}
