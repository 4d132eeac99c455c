package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

var _ vane.AuditLog = (*Store)(nil)

const auditColumns = `at, principal, source, request_id, action, name, old_version, new_version, result, detail, batch_id`

// insertAudit writes one entry in tx.
func insertAudit(ctx context.Context, tx txn, e vane.AuditEntry) error {
	_, err := tx.exec(ctx, `INSERT INTO audit (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		unixNano(e.Time), e.Principal, e.Source, e.RequestID, e.Action, e.Name, e.OldVersion, e.NewVersion, e.Result, e.Detail, e.Batch)
	return err
}

// AppendAudit implements vane.AuditLog.
func (s *Store) AppendAudit(ctx context.Context, entries []vane.AuditEntry) error {
	for i, e := range entries {
		if e.Action == "" {
			return vane.Errorf(vane.EINVALID, "audit entry %d has no action", i)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	for _, e := range entries {
		if e.Time.IsZero() {
			e.Time = now
		}
		if e.Result == "" {
			e.Result = vane.AuditOK
		}
		if err := insertAudit(ctx, tx, e); err != nil {
			return err
		}
	}
	return tx.commit()
}

// Audit implements vane.AuditLog.
func (s *Store) Audit(ctx context.Context, q *vane.AuditQuery) (*vane.AuditPage, error) {
	limit, err := vane.PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	tok, err := vane.DecodeToken(q.NextToken)
	if err != nil {
		return nil, err
	}
	var after int64
	if tok != "" {
		if after, err = strconv.ParseInt(tok, 10, 64); err != nil || after < 0 {
			return nil, vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidNextToken, "the next token is not valid")
		}
	}
	sql := `SELECT id, ` + auditColumns + ` FROM audit WHERE id > ?`
	args := []any{after}
	cond, cargs, err := underName(q.Prefix)
	if err != nil {
		return nil, err
	}
	sql += cond
	args = append(args, cargs...)
	if q.Principal != "" {
		sql += ` AND principal = ?`
		args = append(args, q.Principal)
	}
	if q.Action != "" {
		sql += ` AND action = ?`
		args = append(args, q.Action)
	}
	if !q.Since.IsZero() {
		sql += ` AND at >= ?`
		args = append(args, unixNano(q.Since))
	}
	if !q.Until.IsZero() {
		sql += ` AND at < ?`
		args = append(args, unixNano(q.Until))
	}
	sql += ` ORDER BY id LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.readQuery(ctx, sql, args...)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	page := &vane.AuditPage{Entries: []vane.AuditEntry{}}
	for rows.Next() {
		var e vane.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Principal, &e.Source, &e.RequestID, &e.Action, &e.Name,
			&e.OldVersion, &e.NewVersion, &e.Result, &e.Detail, &e.Batch); err != nil {
			return nil, s.translate(err)
		}
		e.Time = time.Unix(0, at).UTC()
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.NextToken = vane.EncodeToken(strconv.FormatInt(page.Entries[limit-1].ID, 10))
	}
	return page, nil
}

// PruneAudit implements vane.AuditLog.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.exec(ctx, `DELETE FROM audit WHERE at < ?`, unixNano(before))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, tx.commit()
}

// underName returns the condition (" AND ...", or "" for every name) and
// its arguments selecting, in a table with a name column, the name p and
// the names below it: "/a/x" selects "/a/x" and "/a/x/y", not "/a/xy".
func underName(p string) (string, []any, error) {
	if p == "" || p == "/" {
		return "", nil, nil
	}
	if strings.ContainsAny(p, "\x00\x7f") || p[0] != '/' {
		return "", nil, vane.Errorf(vane.EINVALID, "path %q is not valid: it must begin with /", p)
	}
	dir := strings.TrimSuffix(p, "/")
	return ` AND (name = ? OR (name >= ? AND name < ?))`, []any{dir, dir + "/", dir + "0"}, nil // '0' follows '/'
}
