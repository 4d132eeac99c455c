package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/vanehq/vane"
)

// Session is a sign-in of the dashboard: a browser that proved it holds
// an access key's secret gets a random session token in a cookie, and
// acts as that key until the session expires or is signed out. The
// store keeps only the token's hash, so a copy of the database lets no
// one resume a session.
type Session struct {
	ID      string // hex SHA-256 of the token
	KeyID   string
	Created time.Time
	Expires time.Time
}

// SessionStore keeps dashboard sessions in the database, so a session
// opened on one node works on every node and a sign-out on one ends it on
// all.
type SessionStore interface {
	// CreateSession stores a new session. Errors: EINVALID (an id that is
	// not a hex hash, an empty key id, a zero time), ECONFLICT (the id
	// exists).
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns a session by id, expired or not. Errors:
	// ENOTFOUND.
	GetSession(ctx context.Context, id string) (*Session, error)
	// DeleteSession removes a session. Errors: ENOTFOUND.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes the sessions whose expiry is at or
	// before now and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// CheckSession checks a session record before it is stored. Errors:
// EINVALID.
func CheckSession(s *Session) error {
	switch {
	case !validHexHash(s.ID):
		return vane.Errorf(vane.EINVALID, "a session id must be 64 lowercase hex digits")
	case s.KeyID == "":
		return vane.Errorf(vane.EINVALID, "session %.8s…: the access key id is missing", s.ID)
	case s.Created.IsZero() || s.Expires.IsZero() || s.Created.UnixNano() <= 0 || s.Expires.Year() > 2261:
		return vane.Errorf(vane.EINVALID, "session %.8s…: creation and expiry times must be between 1970 and 2261", s.ID)
	}
	return nil
}

// DefaultSessionTTL is how long a dashboard session lasts.
const DefaultSessionTTL = 12 * time.Hour

// Sessions signs dashboard users in and out and resumes their sessions.
// A session is only as good as its key: a disabled, expired or deleted
// key ends its sessions within the key cache's lifetime.
type Sessions struct {
	Store SessionStore
	Keys  *Authenticator
	TTL   time.Duration // DefaultSessionTTL when 0
	Now   func() time.Time
}

func (s *Sessions) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// SignIn checks a key's id and secret and opens a session for it. The
// token goes into the browser's cookie and is shown nowhere else.
// Errors: as Authenticator.Authenticate (a *KeyError for bad
// credentials), and the store's.
func (s *Sessions) SignIn(ctx context.Context, keyID, secret string) (token string, sess *Session, p *Principal, err error) {
	p, err = s.Keys.Authenticate(ctx, BearerToken(keyID, secret))
	if err != nil {
		return "", nil, nil, err
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if !p.Key.Expires.IsZero() && p.Key.Expires.Sub(s.now()) < ttl {
		ttl = p.Key.Expires.Sub(s.now())
	}
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	sess = &Session{ID: sessionID(token), KeyID: p.Key.ID, Created: now, Expires: now.Add(ttl)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", nil, nil, err
	}
	return token, sess, p, nil
}

// errNoSession is what a caller with a missing, unknown or expired
// session sees; it does not say which.
var errNoSession = vane.Errorf(vane.EUNAUTHORIZED, "the session has ended or is not valid: sign in again")

// Resume returns the session of a token and its key's principal. Errors:
// EUNAUTHORIZED for an unknown or expired session, or a *KeyError when the
// key no longer admits (disabled, expired, deleted); the store's errors.
func (s *Sessions) Resume(ctx context.Context, token string) (*Session, *Principal, error) {
	if len(token) != 43 {
		return nil, nil, errNoSession
	}
	sess, err := s.Store.GetSession(ctx, sessionID(token))
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return nil, nil, errNoSession
	} else if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(sess.Expires) {
		return nil, nil, errNoSession
	}
	p, err := s.Keys.PrincipalFor(ctx, sess.KeyID)
	if err != nil {
		return nil, nil, err
	}
	return sess, p, nil
}

// SignOut ends the session of a token on the server; a session already
// gone is not an error.
func (s *Sessions) SignOut(ctx context.Context, token string) error {
	err := s.Store.DeleteSession(ctx, sessionID(token))
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return nil
	}
	return err
}

// CSRFToken returns the anti-forgery token of a session: a MAC of the
// session token, which the page sends back in a header with every
// state-changing request. A forged request from another site carries the
// browser's cookie at most, never this header, since that site can read
// neither the cookie nor the token.
func CSRFToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("vane csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether got is the anti-forgery token of a session
// token, in constant time.
func CheckCSRF(token, got string) bool {
	return subtle.ConstantTimeCompare([]byte(CSRFToken(token)), []byte(got)) == 1
}

func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
