package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// scanBatch is how many latest rows a filtered listing reads per query.
const scanBatch = 256

// scanLatest calls fn for the latest version of each parameter with a name
// after `after` inside [lo, hi) (hi "" for no bound), in name order, until fn
// returns false.
func scanLatest(ctx context.Context, tx txn, after, lo, hi string, fn func(*vane.Parameter) (bool, error)) error {
	if after < lo {
		after = lo
	}
	first := after == lo
	for {
		cmp := ">"
		if first {
			cmp = ">="
		}
		q := `SELECT ` + versionColumns + latestFrom + ` WHERE p.name ` + cmp + ` ?`
		args := []any{after}
		if hi != "" {
			q += ` AND p.name < ?`
			args = append(args, hi)
		}
		q += ` ORDER BY p.name LIMIT ?`
		args = append(args, scanBatch)
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return tx.s.translate(err)
		}
		var batch []*vane.Parameter
		for rows.Next() {
			p, err := scanParameter(rows)
			if err != nil {
				rows.Close()
				return tx.s.translate(err)
			}
			batch = append(batch, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return tx.s.translate(err)
		}
		for _, p := range batch {
			if more, err := fn(p); err != nil || !more {
				return err
			}
		}
		if len(batch) < scanBatch {
			return nil
		}
		after, first = batch[len(batch)-1].Name, false
	}
}

// page collects up to limit matches and reports whether one more exists, so
// the last page carries no token.
type page struct {
	limit int
	out   []*vane.Parameter
	more  bool
}

func (pg *page) add(p *vane.Parameter) bool {
	if len(pg.out) == pg.limit {
		pg.more = true
		return false
	}
	pg.out = append(pg.out, p)
	return true
}

func (pg *page) result() *vane.Page {
	res := &vane.Page{Parameters: pg.out}
	if res.Parameters == nil {
		res.Parameters = []*vane.Parameter{}
	}
	if pg.more {
		res.NextToken = vane.EncodeToken(pg.out[len(pg.out)-1].Name)
	}
	return res
}

// ByPath implements vane.ParameterStore.
func (s *Store) ByPath(ctx context.Context, in *vane.ByPathInput) (*vane.Page, error) {
	q, err := vane.CheckByPath(in)
	if err != nil {
		return nil, err
	}
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	pg := &page{limit: q.Limit}
	lo, hi := vane.PathRange(q.Path)
	err = scanLatest(ctx, tx, q.After, lo, hi, func(p *vane.Parameter) (bool, error) {
		if (q.After != "" && p.Name <= q.After) || !vane.UnderPath(p.Name, q.Path, q.Recursive) {
			return true, nil
		}
		if q.Labels != nil {
			lp, err := labelledParameter(ctx, tx, p.Name, q.Labels)
			if err != nil || lp == nil {
				return true, err
			}
			p = lp
		}
		if !vane.MatchFilters(q.Filters, p, nil) {
			return true, nil
		}
		return pg.add(p), nil
	})
	if err != nil {
		return nil, err
	}
	if err := loadLabels(ctx, tx, pg.out); err != nil {
		return nil, err
	}
	return pg.result(), nil
}

// labelledParameter returns the version of name carrying any of labels, or
// nil.
func labelledParameter(ctx context.Context, tx txn, name string, labels []string) (*vane.Parameter, error) {
	q := `SELECT ` + versionColumns + ` FROM labels l JOIN versions v ON v.name = l.name AND v.version = l.version
		WHERE l.name = ? AND l.label IN (?` + strings.Repeat(`, ?`, len(labels)-1) + `) ORDER BY v.version DESC LIMIT 1`
	args := []any{name}
	for _, l := range labels {
		args = append(args, l)
	}
	p, err := scanParameter(tx.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, tx.s.translate(err)
}

// Describe implements vane.ParameterStore.
func (s *Store) Describe(ctx context.Context, in *vane.DescribeInput) (*vane.Page, error) {
	q, err := vane.CheckDescribe(in)
	if err != nil {
		return nil, err
	}
	// A single Path value narrows the scan to its range.
	var lo, hi string
	for _, f := range q.Filters {
		if f.Key == vane.FilterPath && len(f.Values) == 1 {
			lo, hi = vane.PathRange(f.Values[0])
		}
	}
	needTags := vane.NeedsTags(q.Filters)
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	pg := &page{limit: q.Limit}
	err = scanLatest(ctx, tx, q.After, lo, hi, func(p *vane.Parameter) (bool, error) {
		if q.After != "" && p.Name <= q.After {
			return true, nil
		}
		var ts []vane.Tag
		if needTags {
			var err error
			if ts, err = tags(ctx, tx, p.Name); err != nil {
				return false, err
			}
		}
		if !vane.MatchFilters(q.Filters, p, ts) {
			return true, nil
		}
		p.Value = ""
		return pg.add(p), nil
	})
	if err != nil {
		return nil, err
	}
	return pg.result(), nil
}

// History implements vane.ParameterStore.
func (s *Store) History(ctx context.Context, in *vane.HistoryInput) (*vane.Page, error) {
	name, err := vane.ValidateName(in.Name)
	if err != nil {
		return nil, err
	}
	limit, err := vane.PageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := vane.DecodeVersionToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := currentVersion(ctx, tx, name, vane.NotFoundError); err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, `SELECT `+versionColumns+` FROM versions v WHERE v.name = ? AND v.version > ? ORDER BY v.version LIMIT ?`,
		name, after, limit+1)
	if err != nil {
		return nil, tx.s.translate(err)
	}
	out := []*vane.Parameter{}
	for rows.Next() {
		p, err := scanParameter(rows)
		if err != nil {
			rows.Close()
			return nil, tx.s.translate(err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, tx.s.translate(err)
	}
	res := &vane.Page{Parameters: out}
	if len(out) > limit {
		res.Parameters = out[:limit]
		res.NextToken = vane.EncodeVersionToken(out[limit-1].Version)
	}
	if err := loadLabels(ctx, tx, res.Parameters); err != nil {
		return nil, err
	}
	return res, nil
}

// Changes implements vane.ChangeLog. The records and the compaction floor
// are read in one statement, so from one snapshot: a compaction that
// removed records after after can't go unnoticed, whichever commits first.
// The floor's one row is left-joined with the page of records, so it comes
// back even when the page is empty. A join need not keep the order of the
// page, so the records are sorted here, where a page that comes back in
// order (as it does) costs one pass, rather than by the database.
func (s *Store) Changes(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
	limit, err := vane.PageLimit(limit)
	if err != nil {
		return nil, err
	}
	if after < 0 {
		return nil, vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "sequence %d must not be negative", after)
	}
	page := `SELECT seq, op, name, version, type, labels, tag_keys, at, principal, request_id, batch_id FROM changes WHERE seq > ?`
	args := []any{after}
	if prefix != "" && prefix != "/" {
		if strings.ContainsAny(prefix, "\x00\x7f") || prefix[len(prefix)-1] >= 0x7f {
			return nil, vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "prefix %q is not valid", prefix)
		}
		page += ` AND name >= ? AND name < ?`
		args = append(args, prefix, prefix[:len(prefix)-1]+string(prefix[len(prefix)-1]+1))
	}
	page += ` ORDER BY seq LIMIT ?`
	args = append(args, limit)
	q := `SELECT f.seq, c.seq, COALESCE(c.op, ''), COALESCE(c.name, ''), COALESCE(c.version, 0), COALESCE(c.type, ''),
		COALESCE(c.labels, ''), COALESCE(c.tag_keys, ''), COALESCE(c.at, 0), COALESCE(c.principal, ''), COALESCE(c.request_id, ''), COALESCE(c.batch_id, '')
		FROM change_floor f LEFT JOIN (` + page + `) c ON 1 = 1 WHERE f.id = 1`
	rows, err := s.readQuery(ctx, q, args...)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []vane.Change{}
	var floor int64
	found := false // the floor's row
	for rows.Next() {
		found = true
		var c vane.Change
		var seq sql.NullInt64
		var labels, keys string
		var at int64
		if err := rows.Scan(&floor, &seq, &c.Op, &c.Name, &c.Version, &c.Type, &labels, &keys, &at, &c.Principal, &c.RequestID, &c.Batch); err != nil {
			return nil, s.translate(err)
		}
		if !seq.Valid {
			continue // no record: the floor alone
		}
		c.Seq, c.Labels, c.TagKeys, c.Time = seq.Int64, splitList(labels), splitList(keys), time.Unix(0, at).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(err)
	}
	if !found {
		// Without its row every read would come back empty.
		return nil, errors.New("sqlstore: the change_floor table has lost its row")
	}
	if after < floor {
		return nil, vane.CompactedError(floor)
	}
	slices.SortFunc(out, func(a, b vane.Change) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}
