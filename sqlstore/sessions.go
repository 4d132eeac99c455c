package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

var _ auth.SessionStore = (*Store)(nil)

// CreateSession implements auth.SessionStore.
func (s *Store) CreateSession(ctx context.Context, sess *auth.Session) error {
	if err := auth.CheckSession(sess); err != nil {
		return err
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE id = ?`, sess.ID).Scan(&n); err != nil {
		return s.translate(err)
	} else if n > 0 {
		return vane.Errorf(vane.ECONFLICT, "a session with that id exists")
	}
	if _, err := tx.exec(ctx, `INSERT INTO sessions (id, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		sess.ID, sess.KeyID, sess.Created.UnixNano(), sess.Expires.UnixNano()); err != nil {
		return err
	}
	return tx.commit()
}

// GetSession implements auth.SessionStore.
func (s *Store) GetSession(ctx context.Context, id string) (*auth.Session, error) {
	var sess auth.Session
	var created, expires int64
	err := s.readRow(ctx, `SELECT id, key_id, created_at, expires_at FROM sessions WHERE id = ?`, id).
		Scan(&sess.ID, &sess.KeyID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vane.Errorf(vane.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, s.translate(err)
	}
	sess.Created, sess.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return &sess, nil
}

// DeleteSession implements auth.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.DB.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE id = ?`), id)
	if err != nil {
		return s.translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.translate(err)
	} else if n == 0 {
		return vane.Errorf(vane.ENOTFOUND, "no such session")
	}
	return nil
}

// DeleteExpiredSessions implements auth.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.DB.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE expires_at <= ?`), now.UnixNano())
	if err != nil {
		return 0, s.translate(err)
	}
	n, err := res.RowsAffected()
	return n, s.translate(err)
}
