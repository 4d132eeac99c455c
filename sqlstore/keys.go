package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

var _ auth.KeyStore = (*Store)(nil)

// keyColumns are the columns scanKey reads, in its order.
const keyColumns = `id, name, secret_hash, secret_sealed, policy, created_at, last_used_at, expires_at, disabled`

func scanKey(row scanner) (*auth.Key, error) {
	var k auth.Key
	var created, lastUsed, expires, disabled int64
	if err := row.Scan(&k.ID, &k.Name, &k.SecretHash, &k.SealedSecret, &k.Policy, &created, &lastUsed, &expires, &disabled); err != nil {
		return nil, err
	}
	k.Created, k.LastUsed, k.Expires = keyTime(created), keyTime(lastUsed), keyTime(expires)
	k.Disabled = disabled != 0
	return &k, nil
}

// keyTime and keyNanos convert the key times of the schema: Unix
// nanoseconds, 0 for the zero time ("never").
func keyTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func keyNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return unixNano(t)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func keyNotFound(id string) error {
	return vane.Errorf(vane.ENOTFOUND, "access key %q not found", id)
}

func keyNameTaken(name string) error {
	return vane.Errorf(vane.ECONFLICT, "an access key named %q already exists", name)
}

// CreateKey implements auth.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k *auth.Key) error {
	if err := auth.CheckKey(k); err != nil {
		return err
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The unique constraints would refuse a duplicate too, but with a
	// message that can't say which.
	var id, name string
	err = tx.queryRow(ctx, `SELECT id, name FROM access_keys WHERE id = ? OR name = ?`, k.ID, k.Name).Scan(&id, &name)
	switch {
	case err == nil && id == k.ID:
		return vane.Errorf(vane.ECONFLICT, "an access key with id %q already exists", k.ID)
	case err == nil:
		return keyNameTaken(k.Name)
	case !errors.Is(err, sql.ErrNoRows):
		return s.translate(err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO access_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.SecretHash, k.SealedSecret, k.Policy,
		keyNanos(k.Created), keyNanos(k.LastUsed), keyNanos(k.Expires), boolInt(k.Disabled)); err != nil {
		return err
	}
	return tx.commit()
}

// GetKey implements auth.KeyStore.
func (s *Store) GetKey(ctx context.Context, id string) (*auth.Key, error) {
	row := s.readRow(ctx, `SELECT `+keyColumns+` FROM access_keys WHERE id = ?`, id)
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyNotFound(id)
	}
	return k, s.translate(err)
}

// ListKeys implements auth.KeyStore.
func (s *Store) ListKeys(ctx context.Context) ([]*auth.Key, error) {
	rows, err := s.readQuery(ctx, `SELECT `+keyColumns+` FROM access_keys ORDER BY name`)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []*auth.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, s.translate(err)
		}
		out = append(out, k)
	}
	return out, s.translate(rows.Err())
}

// UpdateKey implements auth.KeyStore.
func (s *Store) UpdateKey(ctx context.Context, id string, u *auth.KeyUpdate) (*auth.Key, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	k, err := scanKey(tx.queryRow(ctx, `SELECT `+keyColumns+` FROM access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyNotFound(id)
	} else if err != nil {
		return nil, s.translate(err)
	}
	old := k.Name
	if err := u.Apply(k); err != nil {
		return nil, err
	}
	if k.Name != old {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM access_keys WHERE name = ?`, k.Name).Scan(&n); err != nil {
			return nil, s.translate(err)
		} else if n > 0 {
			return nil, keyNameTaken(k.Name)
		}
	}
	if _, err := tx.exec(ctx, `UPDATE access_keys SET name = ?, policy = ?, expires_at = ?, disabled = ? WHERE id = ?`,
		k.Name, k.Policy, keyNanos(k.Expires), boolInt(k.Disabled), id); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteKey implements auth.KeyStore.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.exec(ctx, `DELETE FROM access_keys WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.translate(err)
	} else if n == 0 {
		return keyNotFound(id)
	}
	// The key's dashboard sessions end with it.
	if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE key_id = ?`, id); err != nil {
		return err
	}
	return tx.commit()
}

// TouchKey implements auth.KeyStore. It is one statement outside the
// write lock: it touches one row, and moving a time forward needs no
// exclusion from other writers.
func (s *Store) TouchKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "the time of use of access key %q is missing", id)
	}
	n := keyNanos(at)
	_, err := s.DB.ExecContext(ctx, s.rebind(`UPDATE access_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`), n, id, n)
	return s.translate(err)
}
