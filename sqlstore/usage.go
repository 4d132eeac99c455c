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
	where, args, err := usagePrefix(prefix)
	if err != nil {
		return nil, err
	}
	q := `SELECT name, day, variant, count, last_at FROM flag_usage WHERE day >= ?` + where
	rows, err := s.readQuery(ctx, q+` ORDER BY name, day, variant`, append([]any{since}, args...)...)
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

// UsageTotals implements vane.UsageStore, in one grouped query.
func (s *Store) UsageTotals(ctx context.Context, prefix, since string) ([]vane.UsageTotal, error) {
	where, args, err := usagePrefix(prefix)
	if err != nil {
		return nil, err
	}
	q := `SELECT name, CAST(SUM(CASE WHEN day >= ? THEN count ELSE 0 END) AS BIGINT), MAX(last_at) FROM flag_usage WHERE 1 = 1` +
		where + ` GROUP BY name ORDER BY name`
	rows, err := s.readQuery(ctx, q, append([]any{since}, args...)...)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []vane.UsageTotal{}
	for rows.Next() {
		var u vane.UsageTotal
		var at int64
		if err := rows.Scan(&u.Name, &u.Count, &at); err != nil {
			return nil, s.translate(err)
		}
		u.Last = time.Unix(0, at).UTC()
		out = append(out, u)
	}
	return out, s.translate(rows.Err())
}

// usagePrefix returns the condition (with its arguments) that keeps the
// usage rows whose names begin with prefix; "" and "/" keep all.
func usagePrefix(prefix string) (string, []any, error) {
	if prefix == "" || prefix == "/" {
		return "", nil, nil
	}
	if strings.ContainsAny(prefix, "\x00\x7f") || prefix[len(prefix)-1] >= 0x7f {
		return "", nil, vane.Errorf(vane.EINVALID, "prefix %q is not valid", prefix)
	}
	return ` AND name >= ? AND name < ?`, []any{prefix, prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)}, nil
}
