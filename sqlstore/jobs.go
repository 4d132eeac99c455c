package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

var (
	_ vane.LeaseStore    = (*Store)(nil)
	_ vane.RolloutStore  = (*Store)(nil)
	_ vane.ScheduleStore = (*Store)(nil)
)

// AcquireLease implements vane.LeaseStore. The lease row is read and
// written under the store's write exclusion, so two nodes can never both
// see the lease free and take it.
func (s *Store) AcquireLease(ctx context.Context, job, holder string, ttl time.Duration) (vane.Lease, bool, error) {
	if job == "" || holder == "" || ttl <= 0 {
		return vane.Lease{}, false, vane.Errorf(vane.EINVALID, "a lease needs a job, a holder and a positive time to live")
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return vane.Lease{}, false, err
	}
	defer tx.Rollback()
	now := s.now()
	l := vane.Lease{Job: job}
	var expires int64
	err = tx.queryRow(ctx, `SELECT holder, expires_at, cursor FROM leases WHERE job = ?`, job).Scan(&l.Holder, &expires, &l.Cursor)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		l.Holder, l.Expires, l.Cursor = holder, now.Add(ttl), vane.NoCursor
		if _, err := tx.exec(ctx, `INSERT INTO leases (job, holder, expires_at, cursor) VALUES (?, ?, ?, ?)`, job, holder, unixNano(l.Expires), vane.NoCursor); err != nil {
			return vane.Lease{}, false, err
		}
	case err != nil:
		return vane.Lease{}, false, s.translate(err)
	default:
		l.Expires = time.Unix(0, expires).UTC()
		if l.Holder != holder && now.Before(l.Expires) {
			return l, false, nil
		}
		l.Holder, l.Expires = holder, now.Add(ttl)
		if _, err := tx.exec(ctx, `UPDATE leases SET holder = ?, expires_at = ? WHERE job = ?`, holder, unixNano(l.Expires), job); err != nil {
			return vane.Lease{}, false, err
		}
	}
	if err := tx.commit(); err != nil {
		return vane.Lease{}, false, err
	}
	return l, true, nil
}

// ReleaseLease implements vane.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, job, holder string) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, `UPDATE leases SET expires_at = ? WHERE job = ? AND holder = ?`, unixNano(s.now()), job, holder); err != nil {
		return err
	}
	return tx.commit()
}

// SaveCursor implements vane.LeaseStore.
func (s *Store) SaveCursor(ctx context.Context, job, holder string, cursor int64) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.exec(ctx, `UPDATE leases SET cursor = ? WHERE job = ? AND holder = ? AND expires_at > ?`, cursor, job, holder, unixNano(s.now()))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return vane.Errorf(vane.ECONFLICT, "%s does not hold the lease of job %s", holder, job)
	}
	return tx.commit()
}

// activeName is the active_name column of a rollout: its name while it is
// active, NULL after.
func activeName(r *vane.Rollout) any {
	if r.State.Active() {
		return r.Name
	}
	return nil
}

// CreateRollout implements vane.RolloutStore.
func (s *Store) CreateRollout(ctx context.Context, r *vane.Rollout) error {
	if r.ID == "" || r.Name == "" {
		return vane.Errorf(vane.EINVALID, "a rollout needs an id and a name")
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if r.State.Active() {
		var other string
		err := tx.queryRow(ctx, `SELECT id FROM rollouts WHERE active_name = ?`, r.Name).Scan(&other)
		if err == nil {
			return vane.DetailErrorf(vane.ECONFLICT, vane.DetailRolloutInProgress,
				"%s already has an active rollout, %s: pause, cancel or complete it first", r.Name, other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return s.translate(err)
		}
	}
	r.Revision = 1
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `INSERT INTO rollouts (id, name, active_name, revision, body) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Name, activeName(r), r.Revision, string(body)); err != nil {
		r.Revision = 0
		return err
	}
	if err := tx.commit(); err != nil {
		r.Revision = 0
		return err
	}
	return nil
}

// Rollout implements vane.RolloutStore.
func (s *Store) Rollout(ctx context.Context, id string) (*vane.Rollout, error) {
	var r vane.Rollout
	if err := s.readBody(ctx, "rollouts", "rollout", id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// readBody decodes the JSON body of the row of table with id into v.
func (s *Store) readBody(ctx context.Context, table, what, id string, v any) error {
	var body string
	err := s.readRow(ctx, `SELECT body FROM `+table+` WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return vane.Errorf(vane.ENOTFOUND, "%s %q not found", what, id)
	}
	if err != nil {
		return s.translate(err)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("sqlstore: %s %s: %w", what, id, err)
	}
	return nil
}

// Rollouts implements vane.RolloutStore.
func (s *Store) Rollouts(ctx context.Context, q *vane.RolloutQuery) (*vane.RolloutPage, error) {
	limit, err := vane.PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	before, err := seqToken(q.NextToken)
	if err != nil {
		return nil, err
	}
	query := `SELECT seq, body FROM rollouts WHERE 1 = 1`
	var args []any
	if before > 0 {
		query += ` AND seq < ?`
		args = append(args, before)
	}
	if q.Active {
		query += ` AND active_name IS NOT NULL`
	}
	cond, cargs, err := underName(q.Prefix)
	if err != nil {
		return nil, err
	}
	query += cond + ` ORDER BY seq DESC LIMIT ?`
	args = append(append(args, cargs...), limit+1)
	rs, next, err := pageBodies[vane.Rollout](ctx, s, "rollout", query, args, limit)
	if err != nil {
		return nil, err
	}
	return &vane.RolloutPage{Rollouts: rs, NextToken: next}, nil
}

// pageBodies runs query, which selects (seq, body) newest first with a
// LIMIT of limit+1, and decodes up to limit JSON bodies of what (a
// rollout, a change request), with the token of the next page ("" when
// this one is the last).
func pageBodies[T any](ctx context.Context, s *Store, what, query string, args []any, limit int) ([]*T, string, error) {
	rows, err := s.readQuery(ctx, query, args...)
	if err != nil {
		return nil, "", s.translate(err)
	}
	defer rows.Close()
	out, next := []*T{}, ""
	var last int64
	for rows.Next() {
		var body string
		if err := rows.Scan(&last, &body); err != nil {
			return nil, "", s.translate(err)
		}
		if len(out) == limit {
			next = vane.EncodeToken(strconv.FormatInt(last+1, 10))
			break
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return nil, "", fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		out = append(out, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.translate(err)
	}
	return out, next, nil
}

// seqToken decodes a paging token holding a seq; "" is 0.
func seqToken(token string) (int64, error) {
	tok, err := vane.DecodeToken(token)
	if err != nil || tok == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(tok, 10, 64)
	if err != nil || n <= 0 {
		return 0, vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidNextToken, "the next token is not valid")
	}
	return n, nil
}

// UpdateRollout implements vane.RolloutStore.
func (s *Store) UpdateRollout(ctx context.Context, r *vane.Rollout) error {
	return s.updateBody(ctx, "rollouts", "rollout", r.ID, &r.Revision,
		`active_name = ?`, []any{activeName(r)}, func() ([]byte, error) { return json.Marshal(r) })
}

// updateBody is the compare-and-set update of a row kept as a JSON body
// (a rollout, a schedule): if the stored revision is still *revision, it
// increments *revision and writes the body marshal returns, with the
// columns set (cols, "c1 = ?, c2 = ?") to args.
func (s *Store) updateBody(ctx context.Context, table, what, id string, revision *int64, cols string, args []any, marshal func() ([]byte, error)) error {
	old := *revision
	*revision = old + 1
	err := s.updateBodyTx(ctx, table, what, id, old, cols, args, marshal)
	if err != nil {
		*revision = old
	}
	return err
}

func (s *Store) updateBodyTx(ctx context.Context, table, what, id string, old int64, cols string, args []any, marshal func() ([]byte, error)) error {
	body, err := marshal()
	if err != nil {
		return err
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.exec(ctx, `UPDATE `+table+` SET `+cols+`, revision = ?, body = ? WHERE id = ? AND revision = ?`,
		append(args, old+1, string(body), id, old)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var cur int64
		err := tx.queryRow(ctx, `SELECT revision FROM `+table+` WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return vane.Errorf(vane.ENOTFOUND, "%s %q not found", what, id)
		}
		if err != nil {
			return s.translate(err)
		}
		return vane.Errorf(vane.ECONFLICT, "%s %s was changed meanwhile (revision %d, not %d): read it again", what, id, cur, old)
	}
	return tx.commit()
}

// CreateSchedule implements vane.ScheduleStore.
func (s *Store) CreateSchedule(ctx context.Context, sc *vane.Schedule) error {
	if sc.ID == "" || sc.Name == "" || sc.At.IsZero() {
		return vane.Errorf(vane.EINVALID, "a scheduled change needs an id, a name and a time")
	}
	return s.createBody(ctx, &sc.Revision, sc, `INSERT INTO schedules (id, name, state, at, revision, body) VALUES (?, ?, ?, ?, ?, ?)`,
		sc.ID, sc.Name, string(sc.State), unixNano(sc.At))
}

// createBody inserts a new row of a table kept as a JSON body (schedules,
// change requests) in a transaction of its own: insert takes args, then
// the revision, then the body. *revision is 1 when v is encoded, and back
// to 0 when the row is not stored.
func (s *Store) createBody(ctx context.Context, revision *int64, v any, insert string, args ...any) (err error) {
	*revision = 1
	defer func() {
		if err != nil {
			*revision = 0
		}
	}()
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, insert, append(args, *revision, string(body))...); err != nil {
		return err
	}
	return tx.commit()
}

// Schedule implements vane.ScheduleStore.
func (s *Store) Schedule(ctx context.Context, id string) (*vane.Schedule, error) {
	var sc vane.Schedule
	if err := s.readBody(ctx, "schedules", "scheduled change", id, &sc); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Schedules implements vane.ScheduleStore. The paging token is the at and
// seq of the first row of the next page.
func (s *Store) Schedules(ctx context.Context, q *vane.ScheduleQuery) (*vane.SchedulePage, error) {
	limit, err := vane.PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	query := `SELECT seq, at, body FROM schedules WHERE 1 = 1`
	var args []any
	if q.NextToken != "" {
		tok, err := vane.DecodeToken(q.NextToken)
		if err != nil {
			return nil, err
		}
		a, b, ok := strings.Cut(tok, ",")
		at, err1 := strconv.ParseInt(a, 10, 64)
		seq, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidNextToken, "the next token is not valid")
		}
		query += ` AND (at > ? OR (at = ? AND seq >= ?))`
		args = append(args, at, at, seq)
	}
	if q.State != "" {
		query += ` AND state = ?`
		args = append(args, string(q.State))
	}
	if !q.DueBy.IsZero() {
		query += ` AND at <= ?`
		args = append(args, unixNano(q.DueBy))
	}
	cond, cargs, err := underName(q.Prefix)
	if err != nil {
		return nil, err
	}
	query += cond + ` ORDER BY at, seq LIMIT ?`
	args = append(append(args, cargs...), limit+1)
	rows, err := s.readQuery(ctx, query, args...)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	page := &vane.SchedulePage{Schedules: []*vane.Schedule{}}
	for rows.Next() {
		var seq, at int64
		var body string
		if err := rows.Scan(&seq, &at, &body); err != nil {
			return nil, s.translate(err)
		}
		if len(page.Schedules) == limit {
			page.NextToken = vane.EncodeToken(strconv.FormatInt(at, 10) + "," + strconv.FormatInt(seq, 10))
			break
		}
		var sc vane.Schedule
		if err := json.Unmarshal([]byte(body), &sc); err != nil {
			return nil, fmt.Errorf("sqlstore: schedule: %w", err)
		}
		page.Schedules = append(page.Schedules, &sc)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(err)
	}
	return page, nil
}

// UpdateSchedule implements vane.ScheduleStore.
func (s *Store) UpdateSchedule(ctx context.Context, sc *vane.Schedule) error {
	return s.updateBody(ctx, "schedules", "scheduled change", sc.ID, &sc.Revision,
		`state = ?, at = ?`, []any{string(sc.State), unixNano(sc.At)}, func() ([]byte, error) { return json.Marshal(sc) })
}
