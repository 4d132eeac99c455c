package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/vanehq/vane"
)

// rewriteBatch is how many SecureString versions RewrapSealed and
// SealPlaintext read and rewrite per write transaction: other writers wait
// for at most one batch, never for the whole pass.
const rewriteBatch = 256

// seal replaces the value of a SecureString about to be stored with its
// sealed form when the store has a Cipher. Put calls it after
// vane.ApplyPut has checked the plaintext (length, AllowedPattern), so only
// the sealed form is ever written; an unknown key (InvalidKeyId) fails the
// put.
func (s *Store) seal(ctx context.Context, p *vane.Parameter) error {
	if s.Cipher == nil || p.Type != vane.TypeSecureString {
		return nil
	}
	sealed, err := s.Cipher.Seal(ctx, p.KeyID, p.Value)
	if err != nil {
		return err
	}
	p.Value = sealed
	return nil
}

// RewrapSealed calls rewrap with the stored value of every version of
// every SecureString parameter, and stores the value it returns when it
// reports a change; it returns how many versions changed. It is the second
// step of a key rotation (keyring.Keyring.Rewrap re-wraps a value's data
// key under the new master key), so it changes neither the plaintext nor
// the versions: it writes no change-log record and bumps no version.
//
// It works through the versions in batches, each in its own write
// transaction, so writes proceed meanwhile and a pass stopped half-way
// keeps what it did; running it again finishes the job. A version whose
// value rewrap fails on is left as it is and the pass goes on; the error
// returned then counts those versions and names the first.
func (s *Store) RewrapSealed(ctx context.Context, rewrap func(sealed string) (string, bool, error)) (n int, err error) {
	return s.rewriteSecure(ctx, func(_, value string) (string, bool, error) {
		return rewrap(value)
	})
}

// SealPlaintext seals with c every stored SecureString version whose value
// is not sealed yet (sealed reports whether it is): the values written
// before the store had a Cipher. Each is sealed under its own KeyId, in
// place, like RewrapSealed (no change record, no new version); it returns
// how many it sealed. When every value is sealed already it only reads.
// A version whose key does not exist (InvalidKeyId) stays as it is, and
// the error returned counts those versions and names the first.
func (s *Store) SealPlaintext(ctx context.Context, c vane.Cipher, sealed func(value string) bool) (n int, err error) {
	if found, err := s.anyUnsealed(ctx, sealed); err != nil || !found {
		return 0, err
	}
	return s.rewriteSecure(ctx, func(keyID, value string) (string, bool, error) {
		if sealed(value) {
			return value, false, nil
		}
		v, err := c.Seal(ctx, keyID, value)
		return v, err == nil, err
	})
}

// anyUnsealed reports whether a stored SecureString value is not sealed.
func (s *Store) anyUnsealed(ctx context.Context, sealed func(string) bool) (bool, error) {
	tx, err := s.beginRead(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	rows, err := tx.query(ctx, `SELECT value FROM versions WHERE type = ?`, vane.TypeSecureString)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return false, s.translate(err)
		}
		if !sealed(v) {
			return true, nil
		}
	}
	return false, s.translate(rows.Err())
}

// storedVersion is a SecureString version RewrapSealed reads.
type storedVersion struct {
	name    string
	version int64
	keyID   string
	value   string
}

// rewriteSecure calls fn with the key id and value of every stored
// SecureString version, batch by batch, and stores the values it reports
// changed.
func (s *Store) rewriteSecure(ctx context.Context, fn func(keyID, value string) (string, bool, error)) (int, error) {
	var (
		n, failed int
		first     error
		after     = storedVersion{version: -1}
	)
	for {
		batch, err := s.rewriteBatch(ctx, &after, fn)
		n += batch.changed
		failed += len(batch.failures)
		if first == nil && len(batch.failures) > 0 {
			first = batch.failures[0]
		}
		if err != nil {
			return n, err
		}
		if batch.read < rewriteBatch {
			break
		}
	}
	if failed > 0 {
		return n, rewriteError(failed, first)
	}
	return n, nil
}

// rewriteResult is what one batch of rewriteSecure did.
type rewriteResult struct {
	read, changed int
	failures      []error
}

// rewriteBatch rewrites the next batch of SecureString versions after
// *after, in one write transaction, and advances *after.
func (s *Store) rewriteBatch(ctx context.Context, after *storedVersion, fn func(keyID, value string) (string, bool, error)) (rewriteResult, error) {
	var res rewriteResult
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	// The row comparison walks the primary key from where the last batch
	// stopped, so a whole pass reads each version once.
	rows, err := tx.query(ctx, `SELECT name, version, key_id, value FROM versions
		WHERE type = ? AND (name, version) > (?, ?) ORDER BY name, version LIMIT ?`,
		vane.TypeSecureString, after.name, after.version, rewriteBatch)
	if err != nil {
		return res, err
	}
	var batch []storedVersion
	for rows.Next() {
		var v storedVersion
		if err := rows.Scan(&v.name, &v.version, &v.keyID, &v.value); err != nil {
			rows.Close()
			return res, s.translate(err)
		}
		batch = append(batch, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, s.translate(err)
	}
	res.read = len(batch)
	for _, v := range batch {
		nv, changed, err := fn(v.keyID, v.value)
		switch {
		case err != nil:
			res.failures = append(res.failures, versionError(v, err))
		case changed:
			if _, err := tx.exec(ctx, `UPDATE versions SET value = ? WHERE name = ? AND version = ?`, nv, v.name, v.version); err != nil {
				return rewriteResult{failures: res.failures}, err
			}
			res.changed++
		}
	}
	if err := tx.commit(); err != nil {
		return rewriteResult{failures: res.failures}, err
	}
	if len(batch) > 0 {
		*after = batch[len(batch)-1]
	}
	return res, nil
}

// versionError names the version an error of the cipher is about; the
// value never appears in it.
func versionError(v storedVersion, err error) error {
	var verr *vane.Error
	if errors.As(err, &verr) {
		return &vane.Error{Code: verr.Code, Detail: verr.Detail,
			Message: fmt.Sprintf("parameter %q version %d: %s", v.name, v.version, verr.Message)}
	}
	return fmt.Errorf("parameter %q version %d: %w", v.name, v.version, err)
}

// rewriteError reports the versions a pass had to leave as they were.
func rewriteError(failed int, first error) error {
	msg := fmt.Sprintf("%d SecureString version(s) could not be rewritten and were left as they were; the first: %s",
		failed, vane.ErrorMessage(first))
	if vane.ErrorCode(first) == vane.EINTERNAL {
		return fmt.Errorf("sqlstore: %d SecureString version(s) could not be rewritten; the first: %w", failed, first)
	}
	return &vane.Error{Code: vane.ErrorCode(first), Detail: vane.ErrorDetail(first), Message: msg}
}
