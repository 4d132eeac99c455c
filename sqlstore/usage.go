package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

var _ vane.UsageStore = (*Store)(nil)

// AddUsage implements vane.UsageStore: one upsert per row, in one write
// transaction.
func (s *Store) AddUsage(ctx context.Context, rows []vane.FlagUsage) error {
	if err := vane.CheckUsage(rows); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, u := range rows {
		_, err := tx.exec(ctx, `INSERT INTO flag_usage (name, day, variant, count, last_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name, day, variant) DO UPDATE SET count = flag_usage.count + excluded.count,
			last_at = CASE WHEN excluded.last_at > flag_usage.last_at THEN excluded.last_at ELSE flag_usage.last_at END`,
			u.Name, u.Day, u.Variant, u.Count, unixNano(u.Last))
		if err != nil {
			return err
		}
	}
	return tx.commit()
}

// Usage implements vane.UsageStore.
func (s *Store) Usage(ctx context.Context, prefix, since string) ([]vane.FlagUsage, error) {
	q := `SELECT name, day, variant, count, last_at FROM flag_usage WHERE day >= ?`
	args := []any{since}
	if prefix != "" && prefix != "/" {
		if strings.ContainsAny(prefix, "\x00\x7f") || prefix[len(prefix)-1] >= 0x7f {
			return nil, vane.Errorf(vane.EINVALID, "prefix %q is not valid", prefix)
		}
		q += ` AND name >= ? AND name < ?`
		args = append(args, prefix, prefix[:len(prefix)-1]+string(prefix[len(prefix)-1]+1))
	}
	rows, err := s.RDB.QueryContext(ctx, s.rebind(q+` ORDER BY name, day, variant`), args...)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []vane.FlagUsage{}
	for rows.Next() {
		var u vane.FlagUsage
		var at int64
		if err := rows.Scan(&u.Name, &u.Day, &u.Variant, &u.Count, &at); err != nil {
			return nil, s.translate(err)
		}
		u.Last = time.Unix(0, at).UTC()
		out = append(out, u)
	}
	return out, s.translate(rows.Err())
}
