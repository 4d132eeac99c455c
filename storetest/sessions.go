package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// SessionStore is what RunSessions tests: sessions, and the keys whose
// deletion ends them.
type SessionStore interface {
	auth.SessionStore
	auth.KeyStore
}

// RunSessions runs the conformance tests of auth.SessionStore. open
// returns a new, empty store and closes it when the test ends.
func RunSessions(t *testing.T, open func(t *testing.T) SessionStore) {
	t.Helper()
	ctx := context.Background()
	at := func(h int) time.Time { return time.Date(2026, 12, 2, h, 0, 0, 123, time.UTC) }
	session := func(c byte, keyID string, expires time.Time) *auth.Session {
		return &auth.Session{ID: strings.Repeat(string(c), 64), KeyID: keyID, Created: at(1), Expires: expires}
	}
	t.Run("CreateGetDelete", func(t *testing.T) {
		s := open(t)
		in := session('a', "VNKAAAAAAAAAAAAAAAAA", at(13))
		must(t, s.CreateSession(ctx, in))
		got, err := s.GetSession(ctx, in.ID)
		must(t, err)
		if *got != *in {
			t.Errorf("GetSession = %+v, want %+v", got, in)
		}
		if err := s.CreateSession(ctx, in); vane.ErrorCode(err) != vane.ECONFLICT {
			t.Errorf("CreateSession of an existing id: %v, want conflict", err)
		}
		must(t, s.DeleteSession(ctx, in.ID))
		if _, err := s.GetSession(ctx, in.ID); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("GetSession after delete: %v, want not_found", err)
		}
		if err := s.DeleteSession(ctx, in.ID); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("DeleteSession twice: %v, want not_found", err)
		}
	})
	t.Run("CreateErrInvalid", func(t *testing.T) {
		s := open(t)
		for _, bad := range []*auth.Session{
			{ID: "short", KeyID: "k", Created: at(1), Expires: at(2)},
			{ID: strings.Repeat("A", 64), KeyID: "k", Created: at(1), Expires: at(2)},
			{ID: strings.Repeat("b", 64), Created: at(1), Expires: at(2)},
			{ID: strings.Repeat("b", 64), KeyID: "k", Expires: at(2)},
		} {
			if err := s.CreateSession(ctx, bad); vane.ErrorCode(err) != vane.EINVALID {
				t.Errorf("CreateSession(%+v): %v, want invalid", bad, err)
			}
		}
	})
	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		must(t, s.CreateSession(ctx, session('a', "k1", at(5))))
		must(t, s.CreateSession(ctx, session('b', "k1", at(6))))
		must(t, s.CreateSession(ctx, session('c', "k2", at(7))))
		n, err := s.DeleteExpiredSessions(ctx, at(6))
		must(t, err)
		if n != 2 {
			t.Errorf("DeleteExpiredSessions(6h) removed %d, want 2 (expiry at or before now)", n)
		}
		if _, err := s.GetSession(ctx, strings.Repeat("c", 64)); err != nil {
			t.Errorf("the unexpired session is gone: %v", err)
		}
	})
	t.Run("DeletingTheKeyEndsItsSessions", func(t *testing.T) {
		s := open(t)
		k := newTestKey("dashboard-user")
		must(t, s.CreateKey(ctx, k))
		must(t, s.CreateSession(ctx, session('d', k.ID, at(9))))
		must(t, s.CreateSession(ctx, session('e', "VNKOTHERKEYAAAAAAAAA", at(9))))
		must(t, s.DeleteKey(ctx, k.ID))
		if _, err := s.GetSession(ctx, strings.Repeat("d", 64)); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("a deleted key's session: %v, want not_found", err)
		}
		if _, err := s.GetSession(ctx, strings.Repeat("e", 64)); err != nil {
			t.Errorf("another key's session is gone: %v", err)
		}
	})
}
