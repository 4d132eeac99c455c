package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vanehq/vane"
)

// Shapes of ids and secrets.
const (
	KeyIDPrefix  = "VNK"
	KeyIDLength  = 20 // like AWS access key ids
	SecretLength = 40 // like AWS secret access keys
	secretBytes  = 30 // SecretLength characters of base64
)

// Authenticator defaults.
const (
	// DefaultCacheTTL is how long a key read from the store is trusted:
	// the longest a change made on another node takes to reach this one.
	DefaultCacheTTL = 5 * time.Second
	// DefaultTouchInterval is how often last-use times are written.
	DefaultTouchInterval = time.Minute
	// DefaultMaxCacheEntries bounds the cache; beyond it, unknown ids are
	// no longer remembered (known keys always are).
	DefaultMaxCacheEntries = 10000
	// DefaultSecretKeyID is the keyring key that seals secrets.
	DefaultSecretKeyID = vane.DefaultKeyID
)

// NewKeyID returns a new random access key id.
func NewKeyID() string {
	// rand.Text is 26 characters of base32 (A-Z, 2-7), 128 random bits;
	// 17 of them carry 85.
	return KeyIDPrefix + rand.Text()[:KeyIDLength-len(KeyIDPrefix)]
}

// NewSecret returns a new random secret: 240 bits from crypto/rand as 40
// characters of URL-safe base64.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails: it crashes the program first
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the stored hash of a secret: its SHA-256, in hex.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ValidKeyID reports whether id has the form of an access key id.
func ValidKeyID(id string) bool {
	if len(id) != KeyIDLength || !strings.HasPrefix(id, KeyIDPrefix) {
		return false
	}
	for i := len(KeyIDPrefix); i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// validSecret reports whether s has the form of a secret.
func validSecret(s string) bool {
	if len(s) != SecretLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// BearerToken returns the bearer token of a key: "<id>.<secret>".
func BearerToken(id, secret string) string { return id + "." + secret }

// ParseBearer splits a bearer token (the value after "Bearer " in an
// Authorization header) into its id and secret; ok is false unless both
// have their forms.
func ParseBearer(token string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(token, ".")
	if !ok || !ValidKeyID(id) || !validSecret(secret) {
		return "", "", false
	}
	return id, secret, true
}

// Authenticator checks credentials against a KeyStore, caching keys for
// CacheTTL, and manages keys so that its own changes take effect at once
// (see the package documentation). Create one with NewAuthenticator, set
// its fields, then call Open (to write last-use times as it runs) and
// Close; its methods are safe for concurrent use.
type Authenticator struct {
	Store KeyStore
	// Cipher seals new secrets and opens them for SecretFor.
	Cipher vane.Cipher
	// SecretKeyID is the keyring key new secrets are sealed under.
	SecretKeyID string
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// CacheTTL is how long a key read from the store is used; 0 or less
	// reads the store on every request.
	CacheTTL time.Duration
	// MaxCacheEntries bounds the cache (see DefaultMaxCacheEntries).
	MaxCacheEntries int
	// TouchInterval is how often Open's loop writes last-use times.
	TouchInterval time.Duration
	// Logger receives the errors of writing last-use times.
	Logger *slog.Logger

	// compare compares secret hashes: subtle.ConstantTimeCompare, so that
	// the time taken tells nothing of how much of a hash matched.
	compare func(x, y []byte) int

	mu      sync.Mutex
	cache   map[string]*keyEntry
	loading map[string]*keyLoad
	epoch   uint64               // bumped by Invalidate: loads begun before don't fill the cache
	touches map[string]time.Time // last uses not yet written

	stop, done chan struct{}
}

// keyEntry is a cached key, or the absence of one.
type keyEntry struct {
	key       *Key // nil: no such key
	hash      []byte
	policy    *Policy
	policyErr error
	loaded    time.Time
	secret    string // opened by SecretFor; guarded by Authenticator.mu
}

// keyLoad is a read of the store that concurrent misses share.
type keyLoad struct {
	done  chan struct{}
	entry *keyEntry
	err   error
}

// NewAuthenticator returns an Authenticator over store, sealing secrets
// with cipher, with the default settings.
func NewAuthenticator(store KeyStore, cipher vane.Cipher) *Authenticator {
	return &Authenticator{
		Store:           store,
		Cipher:          cipher,
		SecretKeyID:     DefaultSecretKeyID,
		Now:             time.Now,
		CacheTTL:        DefaultCacheTTL,
		MaxCacheEntries: DefaultMaxCacheEntries,
		TouchInterval:   DefaultTouchInterval,
		Logger:          slog.New(slog.DiscardHandler),
		compare:         subtle.ConstantTimeCompare,
	}
}

// Open checks the settings and starts writing last-use times every
// TouchInterval. Without Open they are written only by FlushTouches.
func (a *Authenticator) Open() error {
	if a.Store == nil {
		return errors.New("auth: Authenticator has no Store")
	}
	if a.TouchInterval <= 0 {
		return fmt.Errorf("auth: TouchInterval must be positive, not %v", a.TouchInterval)
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.DiscardHandler)
	}
	a.stop, a.done = make(chan struct{}), make(chan struct{})
	go a.touchLoop(a.stop, a.done)
	return nil
}

// Close stops the loop Open started and writes the last-use times not yet
// written.
func (a *Authenticator) Close() error {
	if a.stop != nil {
		close(a.stop)
		<-a.done
		a.stop = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.FlushTouches(ctx)
}

func (a *Authenticator) touchLoop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(a.TouchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), a.TouchInterval)
			if err := a.FlushTouches(ctx); err != nil {
				a.Logger.Warn("auth: recording the last use of access keys", slog.String("error", err.Error()))
			}
			cancel()
		}
	}
}

// FlushTouches writes the last-use times noted since the previous flush.
// A time that fails to be written is dropped, not retried: a later use
// writes a later one.
func (a *Authenticator) FlushTouches(ctx context.Context) error {
	a.mu.Lock()
	pending := a.touches
	a.touches = nil
	a.mu.Unlock()
	var errs []error
	for id, at := range pending {
		if err := a.Store.TouchKey(ctx, id, at); err != nil {
			errs = append(errs, fmt.Errorf("access key %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Authenticator) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// Invalidate drops a key from the cache, so that the next request reads
// it from the store. The Authenticator's own changes call it; a caller
// that learns of a change made elsewhere may too.
func (a *Authenticator) Invalidate(id string) {
	a.mu.Lock()
	delete(a.cache, id)
	a.epoch++
	a.mu.Unlock()
}

// lookup returns the entry of id, from the cache or the store.
func (a *Authenticator) lookup(ctx context.Context, id string) (*keyEntry, error) {
	for {
		now := a.now()
		a.mu.Lock()
		if e, ok := a.cache[id]; ok && now.Sub(e.loaded) < a.CacheTTL && !now.Before(e.loaded) {
			a.mu.Unlock()
			return e, nil
		}
		if l, ok := a.loading[id]; ok {
			a.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			// A read canceled by its own caller's context is retried
			// for this one.
			if errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded) {
				continue
			}
			return l.entry, l.err
		}
		l := &keyLoad{done: make(chan struct{})}
		if a.loading == nil {
			a.loading = make(map[string]*keyLoad)
		}
		a.loading[id] = l
		epoch := a.epoch
		a.mu.Unlock()

		l.entry, l.err = a.load(ctx, id, now)

		a.mu.Lock()
		delete(a.loading, id)
		if l.err == nil && epoch == a.epoch && a.CacheTTL > 0 {
			a.remember(id, l.entry, now)
		}
		a.mu.Unlock()
		close(l.done)
		return l.entry, l.err
	}
}

// remember caches an entry; a.mu is held.
func (a *Authenticator) remember(id string, e *keyEntry, now time.Time) {
	if a.cache == nil {
		a.cache = make(map[string]*keyEntry)
	}
	max := a.MaxCacheEntries
	if max <= 0 {
		max = DefaultMaxCacheEntries
	}
	if len(a.cache) >= max {
		for k, old := range a.cache {
			if now.Sub(old.loaded) >= a.CacheTTL || old.key == nil {
				delete(a.cache, k)
			}
		}
	}
	// A flood of made-up ids must not grow the cache without bound.
	if e.key == nil && len(a.cache) >= max {
		return
	}
	a.cache[id] = e
}

// load reads a key from the store into a new entry.
func (a *Authenticator) load(ctx context.Context, id string, now time.Time) (*keyEntry, error) {
	k, err := a.Store.GetKey(ctx, id)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		// An unknown id is compared against a hash too, so that its
		// answer takes as long as a wrong secret's.
		return &keyEntry{hash: make([]byte, sha256.Size), loaded: now}, nil
	} else if err != nil {
		return nil, err
	}
	e := &keyEntry{key: k, loaded: now}
	if e.hash, err = hex.DecodeString(k.SecretHash); err != nil || len(e.hash) != sha256.Size {
		return nil, fmt.Errorf("auth: access key %s: stored secret hash is malformed", id)
	}
	e.policy, e.policyErr = ParsePolicy(k.Policy)
	return e, nil
}

// Authenticate checks a bearer token ("<id>.<secret>") and returns the
// key's principal. Errors: a *KeyError (EUNAUTHORIZED) for a malformed
// token, an unknown key, a wrong secret, a disabled or an expired key, in
// that order of checking; the store's errors (such as EUNAVAILABLE).
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	id, secret, ok := ParseBearer(token)
	if !ok {
		return nil, &KeyError{Err: ErrMalformedToken}
	}
	e, err := a.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(secret))
	compare := a.compare
	if compare == nil {
		compare = subtle.ConstantTimeCompare
	}
	match := compare(sum[:], e.hash) == 1
	if e.key == nil {
		return nil, &KeyError{KeyID: id, Err: ErrUnknownKey}
	}
	if !match {
		return nil, &KeyError{KeyID: id, Err: ErrWrongSecret}
	}
	return a.admit(id, e)
}

// PrincipalFor returns the principal of a key whose SigV4 signature has
// been verified with the secret SecretFor returned. Errors: as SecretFor.
func (a *Authenticator) PrincipalFor(ctx context.Context, id string) (*Principal, error) {
	e, err := a.enabled(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.admit(id, e)
}

// SecretFor returns the secret of an enabled, unexpired key, opened from
// its sealed form, for a SigV4 verifier to recompute the request's
// signature with; it has the shape of a verifier's secret lookup,
// func(ctx, accessKeyID) (string, error). It records no use: the
// signature is not verified yet (PrincipalFor does, after). Errors: a
// *KeyError (EUNAUTHORIZED) for an unknown, a disabled or an expired key,
// which the SSM transport answers alike with UnrecognizedClientException,
// as AWS does for an unknown or inactive key; EINTERNAL when the sealed
// secret does not open; the store's errors.
func (a *Authenticator) SecretFor(ctx context.Context, id string) (string, error) {
	e, err := a.enabled(ctx, id)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	secret := e.secret
	a.mu.Unlock()
	if secret != "" {
		return secret, nil
	}
	if a.Cipher == nil {
		return "", vane.Errorf(vane.EINTERNAL, "access key secrets can't be opened: the server has no keyring")
	}
	token, err := a.Cipher.Open(ctx, e.key.SealedSecret)
	if err != nil {
		// %v, not %w: the keyring's EINVALID is the server's fault here.
		return "", fmt.Errorf("auth: access key %s: open the sealed secret: %v", id, err)
	}
	tid, secret, ok := ParseBearer(token)
	sum := sha256.Sum256([]byte(secret))
	if !ok || tid != id || subtle.ConstantTimeCompare(sum[:], e.hash) != 1 {
		return "", fmt.Errorf("auth: access key %s: the sealed secret is not this key's", id)
	}
	a.mu.Lock()
	e.secret = secret
	a.mu.Unlock()
	return secret, nil
}

// enabled returns the entry of a key that exists, is enabled and has not
// expired.
func (a *Authenticator) enabled(ctx context.Context, id string) (*keyEntry, error) {
	if !ValidKeyID(id) {
		return nil, &KeyError{KeyID: id, Err: ErrUnknownKey}
	}
	e, err := a.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.key == nil {
		return nil, &KeyError{KeyID: id, Err: ErrUnknownKey}
	}
	if err := a.check(id, e); err != nil {
		return nil, err
	}
	return e, nil
}

// check checks the state of a key that exists.
func (a *Authenticator) check(id string, e *keyEntry) error {
	if e.key.Disabled {
		return &KeyError{KeyID: id, Err: ErrKeyDisabled}
	}
	if e.key.Expired(a.now()) {
		return &KeyError{KeyID: id, Err: ErrKeyExpired}
	}
	return nil
}

// admit checks the state of a key whose secret has been proven, notes its
// use and returns its principal.
func (a *Authenticator) admit(id string, e *keyEntry) (*Principal, error) {
	if err := a.check(id, e); err != nil {
		return nil, err
	}
	if e.policyErr != nil {
		return nil, fmt.Errorf("auth: access key %s: the stored policy does not parse: %v", id, e.policyErr)
	}
	now := a.now()
	a.mu.Lock()
	if a.touches == nil {
		a.touches = make(map[string]time.Time)
	}
	if now.After(a.touches[id]) {
		a.touches[id] = now
	}
	a.mu.Unlock()
	k := *e.key
	k.SecretHash, k.SealedSecret = "", ""
	return &Principal{Key: &k, Policy: e.policy}, nil
}

// CreateKey creates a key with a new id and secret and returns it with
// the secret, which is not kept anywhere in plaintext: show it once. A
// zero expires means the key does not expire. Errors: EINVALID (name,
// policy), ECONFLICT (the name is taken), EINTERNAL without a Cipher, the
// store's and the Cipher's errors.
func (a *Authenticator) CreateKey(ctx context.Context, name, policy string, expires time.Time) (*Key, string, error) {
	if err := CheckKeyName(name); err != nil {
		return nil, "", err
	}
	if _, err := ParsePolicy(policy); err != nil {
		return nil, "", err
	}
	if a.Cipher == nil {
		return nil, "", vane.Errorf(vane.EINTERNAL, "access keys can't be created: the server has no keyring to seal their secrets")
	}
	keyID := a.SecretKeyID
	if keyID == "" {
		keyID = DefaultSecretKeyID
	}
	id, secret := NewKeyID(), NewSecret()
	sealed, err := a.Cipher.Seal(ctx, keyID, BearerToken(id, secret))
	if err != nil {
		return nil, "", err
	}
	k := &Key{
		ID:           id,
		Name:         name,
		SecretHash:   HashSecret(secret),
		SealedSecret: sealed,
		Policy:       policy,
		Created:      a.now().UTC(),
		Expires:      expires,
	}
	if err := a.Store.CreateKey(ctx, k); err != nil {
		return nil, "", err
	}
	a.Invalidate(id)
	return k, secret, nil
}

// UpdateKey applies an update through the store and drops the key from
// the cache. Errors: as KeyStore.UpdateKey.
func (a *Authenticator) UpdateKey(ctx context.Context, id string, u *KeyUpdate) (*Key, error) {
	k, err := a.Store.UpdateKey(ctx, id, u)
	a.Invalidate(id)
	return k, err
}

// DeleteKey deletes a key through the store and drops it from the cache.
// Errors: as KeyStore.DeleteKey.
func (a *Authenticator) DeleteKey(ctx context.Context, id string) error {
	err := a.Store.DeleteKey(ctx, id)
	a.Invalidate(id)
	a.mu.Lock()
	delete(a.touches, id)
	a.mu.Unlock()
	return err
}
