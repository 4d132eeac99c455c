package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlite"
)

// keyClock is a clock tests move by hand.
type keyClock struct {
	mu sync.Mutex
	t  time.Time
}

func newKeyClock() *keyClock {
	return &keyClock{t: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
}

func (c *keyClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *keyClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// keyStoreFake is a KeyStore with one function per method; the methods
// left nil panic.
type keyStoreFake struct {
	CreateKeyFunc func(ctx context.Context, k *auth.Key) error
	GetKeyFunc    func(ctx context.Context, id string) (*auth.Key, error)
	ListKeysFunc  func(ctx context.Context) ([]*auth.Key, error)
	UpdateKeyFunc func(ctx context.Context, id string, u *auth.KeyUpdate) (*auth.Key, error)
	DeleteKeyFunc func(ctx context.Context, id string) error
	TouchKeyFunc  func(ctx context.Context, id string, at time.Time) error
}

var _ auth.KeyStore = (*keyStoreFake)(nil)

func (f *keyStoreFake) CreateKey(ctx context.Context, k *auth.Key) error {
	return f.CreateKeyFunc(ctx, k)
}
func (f *keyStoreFake) GetKey(ctx context.Context, id string) (*auth.Key, error) {
	return f.GetKeyFunc(ctx, id)
}
func (f *keyStoreFake) ListKeys(ctx context.Context) ([]*auth.Key, error) { return f.ListKeysFunc(ctx) }
func (f *keyStoreFake) UpdateKey(ctx context.Context, id string, u *auth.KeyUpdate) (*auth.Key, error) {
	return f.UpdateKeyFunc(ctx, id, u)
}
func (f *keyStoreFake) DeleteKey(ctx context.Context, id string) error {
	return f.DeleteKeyFunc(ctx, id)
}
func (f *keyStoreFake) TouchKey(ctx context.Context, id string, at time.Time) error {
	return f.TouchKeyFunc(ctx, id, at)
}

// countingKeyStore wraps a store, counting its reads and touches.
func countingKeyStore(s auth.KeyStore, gets, touches *atomic.Int64) *keyStoreFake {
	return &keyStoreFake{
		CreateKeyFunc: s.CreateKey,
		GetKeyFunc: func(ctx context.Context, id string) (*auth.Key, error) {
			gets.Add(1)
			return s.GetKey(ctx, id)
		},
		ListKeysFunc:  s.ListKeys,
		UpdateKeyFunc: s.UpdateKey,
		DeleteKeyFunc: s.DeleteKey,
		TouchKeyFunc: func(ctx context.Context, id string, at time.Time) error {
			touches.Add(1)
			return s.TouchKey(ctx, id, at)
		},
	}
}

// keyTestEnv is an Authenticator on a SQLite store and a keyring, with a
// hand-moved clock.
type keyTestEnv struct {
	store   *sqlite.Store
	keyring *keyring.Keyring
	clock   *keyClock
	auth    *auth.Authenticator
}

func newKeyTestEnv(tb testing.TB) *keyTestEnv {
	tb.Helper()
	dir := tb.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "vane.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(dir, keyring.DefaultFileName)})
	if err != nil {
		tb.Fatal(err)
	}
	env := &keyTestEnv{store: s, keyring: kr, clock: newKeyClock()}
	env.auth = env.node(s)
	return env
}

// node returns another Authenticator over store: a second node, with a
// cache of its own.
func (env *keyTestEnv) node(store auth.KeyStore) *auth.Authenticator {
	a := auth.NewAuthenticator(store, env.keyring)
	a.Now = env.clock.Now
	return a
}

// create creates a key through the Authenticator and returns it with its
// bearer token.
func (env *keyTestEnv) create(tb testing.TB, name, policy string, expires time.Time) (*auth.Key, string) {
	tb.Helper()
	k, secret, err := env.auth.CreateKey(tb.Context(), name, policy, expires)
	if err != nil {
		tb.Fatalf("CreateKey(%s): %v", name, err)
	}
	return k, auth.BearerToken(k.ID, secret)
}

// assertKeyError checks that err is a *KeyError for reason, EUNAUTHORIZED
// to callers.
func assertKeyError(tb testing.TB, err, reason error) {
	tb.Helper()
	var ke *auth.KeyError
	if !errors.As(err, &ke) || !errors.Is(err, reason) {
		tb.Fatalf("error %v, want a *KeyError for %q", err, reason)
	}
	if code := vane.ErrorCode(err); code != vane.EUNAUTHORIZED {
		tb.Errorf("error %v has code %q, want %q", err, code, vane.EUNAUTHORIZED)
	}
}

func TestKeyIDAndSecretForms(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, secret := auth.NewKeyID(), auth.NewSecret()
		if len(id) != 20 || !strings.HasPrefix(id, "VNK") || !auth.ValidKeyID(id) || strings.Trim(id[3:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("NewKeyID() = %q, want VNK and 17 characters of base32", id)
		}
		if len(secret) != 40 || strings.Trim(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("NewSecret() = %q, want 40 characters of URL-safe base64", secret)
		}
		if seen[id] || seen[secret] {
			t.Fatalf("NewKeyID or NewSecret repeated itself after %d calls", len(seen)/2)
		}
		seen[id], seen[secret] = true, true
		gotID, gotSecret, ok := auth.ParseBearer(auth.BearerToken(id, secret))
		if !ok || gotID != id || gotSecret != secret {
			t.Fatalf("ParseBearer(BearerToken(%s, %s)) = %s, %s, %v", id, secret, gotID, gotSecret, ok)
		}
	}
	if h := auth.HashSecret("x"); h != "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881" {
		t.Errorf("HashSecret(x) = %s, want the hex SHA-256 of x", h)
	}
}

func TestParseBearer(t *testing.T) {
	id, secret := "VNKABCDEFGHIJKLMNOPQ", strings.Repeat("aZ9-_", 8)
	for _, tc := range []struct {
		token string
		ok    bool
	}{
		{id + "." + secret, true},
		{"", false},
		{id, false},
		{id + ".", false},
		{"." + secret, false},
		{id + secret, false},
		{"Bearer " + id + "." + secret, false},
		{id + "." + secret + ".", false},
		{id + "." + secret[:39], false},
		{id + "." + secret + "a", false},
		{id + "." + secret[:39] + "=", false},
		{id + "." + secret[:39] + "+", false},
		{"vnkabcdefghijklmnopq." + secret, false},
		{"VNKABCDEFGHIJKLMNOP1." + secret, false}, // 1 is not base32
		{"AKIAIOSFODNN7EXAMPLE." + secret, false},
	} {
		gotID, gotSecret, ok := auth.ParseBearer(tc.token)
		if ok != tc.ok || ok && (gotID != id || gotSecret != secret) || !ok && (gotID != "" || gotSecret != "") {
			t.Errorf("ParseBearer(%q) = %q, %q, %v; want ok %v", tc.token, gotID, gotSecret, ok, tc.ok)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	readApp := policyDoc(`{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "/app/*"}`)
	t.Run("Authenticates", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", readApp, time.Time{})
		p, err := env.auth.Authenticate(t.Context(), token)
		if err != nil {
			t.Fatal(err)
		}
		if p.Key.ID != k.ID || p.Key.Name != "ci" || p.Key.Policy != readApp || !p.Key.Created.Equal(env.clock.Now()) {
			t.Errorf("principal key %+v, want the key created (%+v)", p.Key, k)
		}
		if p.Key.SecretHash != "" || p.Key.SealedSecret != "" {
			t.Errorf("the principal carries the secret's stored forms: %+v", p.Key)
		}
		if !p.Decide(auth.ActionGetParameter, "/app/x").Allowed || p.Decide(auth.ActionPutParameter, "/app/x").Allowed {
			t.Error("the principal's policy is not the key's")
		}
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, _ := env.create(t, "ci", readApp, time.Time{})
		_, err := env.auth.Authenticate(t.Context(), auth.BearerToken(k.ID, auth.NewSecret()))
		assertKeyError(t, err, auth.ErrWrongSecret)
		if !strings.Contains(err.Error(), k.ID) || !strings.Contains(err.Error(), "wrong secret") {
			t.Errorf("the log text %q does not name the key and the reason", err)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		env := newKeyTestEnv(t)
		env.create(t, "ci", readApp, time.Time{})
		_, err := env.auth.Authenticate(t.Context(), auth.BearerToken(auth.NewKeyID(), auth.NewSecret()))
		assertKeyError(t, err, auth.ErrUnknownKey)
	})
	t.Run("ErrMalformedToken", func(t *testing.T) {
		env := newKeyTestEnv(t)
		_, err := env.auth.Authenticate(t.Context(), "hunter2")
		assertKeyError(t, err, auth.ErrMalformedToken)
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the log text %q shows the token", err)
		}
	})
	t.Run("UnknownAndWrongLookAlike", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, _ := env.create(t, "ci", readApp, time.Time{})
		_, wrong := env.auth.Authenticate(t.Context(), auth.BearerToken(k.ID, auth.NewSecret()))
		_, unknown := env.auth.Authenticate(t.Context(), auth.BearerToken(auth.NewKeyID(), auth.NewSecret()))
		_, malformed := env.auth.Authenticate(t.Context(), "x")
		for _, err := range []error{unknown, malformed} {
			if vane.ErrorMessage(err) != vane.ErrorMessage(wrong) || vane.ErrorCode(err) != vane.ErrorCode(wrong) || vane.ErrorDetail(err) != vane.ErrorDetail(wrong) {
				t.Errorf("callers can tell %v from %v", err, wrong)
			}
		}
		if wrong.Error() == unknown.Error() {
			t.Errorf("logs can't tell a wrong secret from an unknown key: %v", wrong)
		}
	})
	t.Run("ErrKeyDisabled", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", readApp, time.Time{})
		if _, err := env.auth.Authenticate(t.Context(), token); err != nil {
			t.Fatal(err)
		}
		disabled := true
		if _, err := env.auth.UpdateKey(t.Context(), k.ID, &auth.KeyUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		// At once, on this node: UpdateKey drops the cached key.
		_, err := env.auth.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrKeyDisabled)
		if vane.ErrorMessage(err) != "The access key is disabled." {
			t.Errorf("message %q", vane.ErrorMessage(err))
		}
		// A wrong secret tells nothing of the key's state.
		_, err = env.auth.Authenticate(t.Context(), auth.BearerToken(k.ID, auth.NewSecret()))
		assertKeyError(t, err, auth.ErrWrongSecret)
		enabled := false
		if _, err := env.auth.UpdateKey(t.Context(), k.ID, &auth.KeyUpdate{Disabled: &enabled}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.auth.Authenticate(t.Context(), token); err != nil {
			t.Errorf("after enabling the key again: %v", err)
		}
	})
	t.Run("ErrKeyExpired", func(t *testing.T) {
		env := newKeyTestEnv(t)
		_, token := env.create(t, "ci", readApp, env.clock.Now().Add(time.Hour))
		if _, err := env.auth.Authenticate(t.Context(), token); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(time.Hour - time.Nanosecond)
		if _, err := env.auth.Authenticate(t.Context(), token); err != nil {
			t.Fatalf("a nanosecond before expiry: %v", err)
		}
		env.clock.Add(time.Nanosecond)
		_, err := env.auth.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrKeyExpired)
		if vane.ErrorMessage(err) != "The access key has expired." {
			t.Errorf("message %q", vane.ErrorMessage(err))
		}
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", readApp, time.Time{})
		if _, err := env.auth.Authenticate(t.Context(), token); err != nil {
			t.Fatal(err)
		}
		if err := env.auth.DeleteKey(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		_, err := env.auth.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrUnknownKey)
		if err := env.auth.DeleteKey(t.Context(), k.ID); vane.ErrorCode(err) != vane.ENOTFOUND {
			t.Errorf("DeleteKey of a deleted key: %v, want ENOTFOUND", err)
		}
	})
	t.Run("ErrStoreUnavailable", func(t *testing.T) {
		env := newKeyTestEnv(t)
		down := vane.Errorf(vane.EUNAVAILABLE, "down")
		a := env.node(&keyStoreFake{GetKeyFunc: func(context.Context, string) (*auth.Key, error) { return nil, down }})
		_, err := a.Authenticate(t.Context(), auth.BearerToken(auth.NewKeyID(), auth.NewSecret()))
		if err != down {
			t.Errorf("Authenticate with the store down: %v, want the store's error", err)
		}
	})
	t.Run("ErrStoredPolicyBroken", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", readApp, time.Time{})
		a := env.node(&keyStoreFake{GetKeyFunc: func(ctx context.Context, id string) (*auth.Key, error) {
			k, err := env.store.GetKey(ctx, id)
			if err == nil {
				k.Policy = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:Gone", "Resource": "*"}]}`
			}
			return k, err
		}})
		_, err := a.Authenticate(t.Context(), token)
		if code := vane.ErrorCode(err); code != vane.EINTERNAL || !strings.Contains(err.Error(), k.ID) {
			t.Errorf("Authenticate of a key whose stored policy no longer parses: %v (code %q), want EINTERNAL naming the key", err, code)
		}
	})
}

func TestCreateKeyErrors(t *testing.T) {
	env := newKeyTestEnv(t)
	ctx := t.Context()
	if _, _, err := env.auth.CreateKey(ctx, "bad name", auth.AllowAllPolicy, time.Time{}); vane.ErrorCode(err) != vane.EINVALID {
		t.Errorf("CreateKey with a bad name: %v, want EINVALID", err)
	}
	if _, _, err := env.auth.CreateKey(ctx, "ok", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ssm:GetParamter", "Resource": "*"}}`, time.Time{}); vane.ErrorCode(err) != vane.EINVALID ||
		!strings.HasPrefix(vane.ErrorMessage(err), "$.Statement.Action: unknown action") {
		t.Errorf("CreateKey with a bad policy: %v, want EINVALID with the JSON path", err)
	}
	env.create(t, "taken", auth.AllowAllPolicy, time.Time{})
	if _, _, err := env.auth.CreateKey(ctx, "taken", auth.AllowAllPolicy, time.Time{}); vane.ErrorCode(err) != vane.ECONFLICT {
		t.Errorf("CreateKey with a taken name: %v, want ECONFLICT", err)
	}
	noCipher := env.node(env.store)
	noCipher.Cipher = nil
	if _, _, err := noCipher.CreateKey(ctx, "x", auth.AllowAllPolicy, time.Time{}); vane.ErrorCode(err) != vane.EINTERNAL {
		t.Errorf("CreateKey without a Cipher: %v, want EINTERNAL", err)
	}
}

// TestSecretsStoredSealedAndHashed checks the stored forms: the hash of
// the secret, and the token sealed by the keyring.
func TestSecretsStoredSealedAndHashed(t *testing.T) {
	env := newKeyTestEnv(t)
	k, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
	_, secret, _ := auth.ParseBearer(token)
	stored, err := env.store.GetKey(t.Context(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != auth.HashSecret(secret) {
		t.Errorf("stored hash %s, want HashSecret of the secret", stored.SecretHash)
	}
	if strings.Contains(stored.SealedSecret, secret) || !keyring.IsSealed(stored.SealedSecret) {
		t.Errorf("stored secret %q is not sealed", stored.SealedSecret)
	}
	if opened, err := env.keyring.Open(t.Context(), stored.SealedSecret); err != nil || opened != token {
		t.Errorf("the sealed secret opens to %q (%v), want the token", opened, err)
	}
	var want string
	for _, ki := range env.keyring.Keys() {
		if slices.Contains(ki.Aliases, auth.DefaultSecretKeyID) {
			want = ki.ID
		}
	}
	if info, err := keyring.Inspect(stored.SealedSecret); err != nil || info.KeyID != want {
		t.Errorf("sealed under %+v (%v), want %s, the key of %s", info, err, want, auth.DefaultSecretKeyID)
	}
}

func TestSecretFor(t *testing.T) {
	t.Run("OpensTheSecret", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "sdk", auth.AllowAllPolicy, time.Time{})
		_, want, _ := auth.ParseBearer(token)
		for range 2 { // the second from the cache
			got, err := env.auth.SecretFor(t.Context(), k.ID)
			if err != nil || got != want {
				t.Fatalf("SecretFor = %q, %v; want %q", got, err, want)
			}
		}
		// Another node opens it too: the keyring is shared.
		if got, err := env.node(env.store).SecretFor(t.Context(), k.ID); err != nil || got != want {
			t.Errorf("SecretFor on another node = %q, %v", got, err)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		env := newKeyTestEnv(t)
		for _, id := range []string{auth.NewKeyID(), "", "AKIAIOSFODNN7EXAMPLE", "VNK\x00\n"} {
			_, err := env.auth.SecretFor(t.Context(), id)
			assertKeyError(t, err, auth.ErrUnknownKey)
			if strings.ContainsAny(err.Error(), "\x00\n") {
				t.Errorf("the log text %q holds the raw id", err)
			}
		}
	})
	t.Run("ErrKeyDisabled", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, _ := env.create(t, "sdk", auth.AllowAllPolicy, time.Time{})
		disabled := true
		if _, err := env.auth.UpdateKey(t.Context(), k.ID, &auth.KeyUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		_, err := env.auth.SecretFor(t.Context(), k.ID)
		assertKeyError(t, err, auth.ErrKeyDisabled)
		_, err = env.auth.PrincipalFor(t.Context(), k.ID)
		assertKeyError(t, err, auth.ErrKeyDisabled)
	})
	t.Run("ErrKeyExpired", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, _ := env.create(t, "sdk", auth.AllowAllPolicy, env.clock.Now().Add(time.Minute))
		env.clock.Add(time.Minute)
		_, err := env.auth.SecretFor(t.Context(), k.ID)
		assertKeyError(t, err, auth.ErrKeyExpired)
	})
	t.Run("ErrSealedSecretOfAnotherKey", func(t *testing.T) {
		env := newKeyTestEnv(t)
		a, _ := env.create(t, "a", auth.AllowAllPolicy, time.Time{})
		b, _ := env.create(t, "b", auth.AllowAllPolicy, time.Time{})
		// A row whose sealed secret was copied from another key's.
		node := env.node(&keyStoreFake{GetKeyFunc: func(ctx context.Context, id string) (*auth.Key, error) {
			k, err := env.store.GetKey(ctx, id)
			if err == nil && id == a.ID {
				k.SealedSecret = b.SealedSecret
			}
			return k, err
		}})
		secret, err := node.SecretFor(t.Context(), a.ID)
		if err == nil || secret != "" || vane.ErrorCode(err) != vane.EINTERNAL {
			t.Errorf("SecretFor with another key's sealed secret = %q, %v; want EINTERNAL", secret, err)
		}
	})
	t.Run("PrincipalFor", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, _ := env.create(t, "sdk", auth.AllowAllPolicy, time.Time{})
		p, err := env.auth.PrincipalFor(t.Context(), k.ID)
		if err != nil || p.Key.ID != k.ID || p.Key.SealedSecret != "" || !p.Decide(auth.ActionAdmin, "*").Allowed {
			t.Errorf("PrincipalFor = %+v, %v", p, err)
		}
		_, err = env.auth.PrincipalFor(t.Context(), auth.NewKeyID())
		assertKeyError(t, err, auth.ErrUnknownKey)
	})
}

// TestKeyCache checks that requests are served from memory, and that a
// change made elsewhere takes effect within CacheTTL.
func TestKeyCache(t *testing.T) {
	t.Run("OneReadPerTTL", func(t *testing.T) {
		env := newKeyTestEnv(t)
		_, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
		var gets, touches atomic.Int64
		a := env.node(countingKeyStore(env.store, &gets, &touches))
		for range 100 {
			if _, err := a.Authenticate(t.Context(), token); err != nil {
				t.Fatal(err)
			}
		}
		if n := gets.Load(); n != 1 {
			t.Errorf("100 authentications read the store %d times, want 1", n)
		}
		env.clock.Add(auth.DefaultCacheTTL)
		if _, err := a.Authenticate(t.Context(), token); err != nil {
			t.Fatal(err)
		}
		if n := gets.Load(); n != 2 {
			t.Errorf("after CacheTTL: %d reads, want 2", n)
		}
	})
	t.Run("UnknownIDsCachedAndBounded", func(t *testing.T) {
		env := newKeyTestEnv(t)
		var gets, touches atomic.Int64
		a := env.node(countingKeyStore(env.store, &gets, &touches))
		a.MaxCacheEntries = 10
		token := auth.BearerToken(auth.NewKeyID(), auth.NewSecret())
		for range 5 {
			_, err := a.Authenticate(t.Context(), token)
			assertKeyError(t, err, auth.ErrUnknownKey)
		}
		if n := gets.Load(); n != 1 {
			t.Errorf("5 tries of one unknown id read the store %d times, want 1", n)
		}
		// A flood of made-up ids: each is read, none evicts a known key.
		_, good := env.create(t, "good", auth.AllowAllPolicy, time.Time{})
		if _, err := a.Authenticate(t.Context(), good); err != nil {
			t.Fatal(err)
		}
		gets.Store(0)
		for range 100 {
			a.Authenticate(t.Context(), auth.BearerToken(auth.NewKeyID(), auth.NewSecret()))
		}
		if _, err := a.Authenticate(t.Context(), good); err != nil {
			t.Fatal(err)
		}
		if n := gets.Load(); n != 100 {
			t.Errorf("100 made-up ids and a known key: %d reads, want 100 (the known key cached)", n)
		}
	})
	t.Run("DisabledElsewhereStopsWithinTTL", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
		nodeA, nodeB := env.node(env.store), env.node(env.store)
		if _, err := nodeA.Authenticate(t.Context(), token); err != nil {
			t.Fatal(err)
		}
		disabled := true
		if _, err := nodeB.UpdateKey(t.Context(), k.ID, &auth.KeyUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		_, err := nodeB.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrKeyDisabled)
		// Node A learns of it when its cached copy expires, or when told.
		env.clock.Add(auth.DefaultCacheTTL - time.Millisecond)
		if _, err := nodeA.Authenticate(t.Context(), token); err != nil {
			t.Fatalf("node A within the TTL: %v (the cache is not used)", err)
		}
		env.clock.Add(time.Millisecond)
		_, err = nodeA.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrKeyDisabled)
	})
	t.Run("DeletedElsewhereStopsWithinTTL", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
		nodeA := env.node(env.store)
		if _, err := nodeA.SecretFor(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		if err := env.store.DeleteKey(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(auth.DefaultCacheTTL)
		_, err := nodeA.SecretFor(t.Context(), k.ID)
		assertKeyError(t, err, auth.ErrUnknownKey)
		_, err = nodeA.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrUnknownKey)
	})
	t.Run("InvalidateReadsAgain", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
		if _, err := env.auth.Authenticate(t.Context(), token); err != nil {
			t.Fatal(err)
		}
		disabled := true
		if _, err := env.store.UpdateKey(t.Context(), k.ID, &auth.KeyUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		env.auth.Invalidate(k.ID)
		_, err := env.auth.Authenticate(t.Context(), token)
		assertKeyError(t, err, auth.ErrKeyDisabled)
	})
	t.Run("NoCacheWithoutTTL", func(t *testing.T) {
		env := newKeyTestEnv(t)
		_, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
		var gets, touches atomic.Int64
		a := env.node(countingKeyStore(env.store, &gets, &touches))
		a.CacheTTL = 0
		for range 3 {
			if _, err := a.Authenticate(t.Context(), token); err != nil {
				t.Fatal(err)
			}
		}
		if n := gets.Load(); n != 3 {
			t.Errorf("CacheTTL 0: %d reads for 3 requests, want 3", n)
		}
	})
}

// TestConcurrentMissesShareOneRead runs in a synctest bubble, so that it
// can wait until every request is blocked.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		id, secret := auth.NewKeyID(), auth.NewSecret()
		key := &auth.Key{ID: id, Name: "k", SecretHash: auth.HashSecret(secret), SealedSecret: "x", Policy: auth.AllowAllPolicy, Created: time.Now()}
		release := make(chan struct{})
		var gets atomic.Int64
		a := auth.NewAuthenticator(&keyStoreFake{GetKeyFunc: func(ctx context.Context, _ string) (*auth.Key, error) {
			gets.Add(1)
			<-release
			k := *key
			return &k, nil
		}}, nil)
		const n = 10
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = a.Authenticate(context.Background(), auth.BearerToken(id, secret)) })
		}
		synctest.Wait() // one request reads, the others wait for it
		close(release)
		wg.Wait()
		if g := gets.Load(); g != 1 {
			t.Errorf("%d concurrent misses read the store %d times, want 1", n, g)
		}
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// TestTouches checks that uses are written coalesced: once per key and
// TouchInterval, with the latest time.
func TestTouches(t *testing.T) {
	t.Run("FlushWritesTheLatestUse", func(t *testing.T) {
		env := newKeyTestEnv(t)
		k, token := env.create(t, "ci", auth.AllowAllPolicy, time.Time{})
		var gets, touches atomic.Int64
		a := env.node(countingKeyStore(env.store, &gets, &touches))
		for range 10 {
			env.clock.Add(time.Second)
			if _, err := a.Authenticate(t.Context(), token); err != nil {
				t.Fatal(err)
			}
		}
		last := env.clock.Now()
		// Failures are no use.
		env.clock.Add(time.Second)
		a.Authenticate(t.Context(), auth.BearerToken(k.ID, auth.NewSecret()))
		if _, err := a.SecretFor(t.Context(), k.ID); err != nil {
			t.Fatal(err)
		}
		if err := a.FlushTouches(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := touches.Load(); n != 1 {
			t.Errorf("10 uses wrote %d touches, want 1", n)
		}
		stored, err := env.store.GetKey(t.Context(), k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.LastUsed.Equal(last) {
			t.Errorf("LastUsed = %v, want the last successful use, %v", stored.LastUsed, last)
		}
		if err := a.FlushTouches(t.Context()); err != nil || touches.Load() != 1 {
			t.Errorf("a flush with nothing new wrote a touch (%d in all, %v)", touches.Load(), err)
		}
	})
	t.Run("OpenWritesEveryInterval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			id, secret := auth.NewKeyID(), auth.NewSecret()
			key := &auth.Key{ID: id, Name: "k", SecretHash: auth.HashSecret(secret), SealedSecret: "x", Policy: auth.AllowAllPolicy, Created: time.Now()}
			var mu sync.Mutex
			var written []time.Time
			a := auth.NewAuthenticator(&keyStoreFake{
				GetKeyFunc: func(context.Context, string) (*auth.Key, error) { k := *key; return &k, nil },
				TouchKeyFunc: func(_ context.Context, _ string, at time.Time) error {
					mu.Lock()
					written = append(written, at)
					mu.Unlock()
					return nil
				},
			}, nil)
			if err := a.Open(); err != nil {
				t.Fatal(err)
			}
			used := time.Now()
			if _, err := a.Authenticate(t.Context(), auth.BearerToken(id, secret)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(auth.DefaultTouchInterval)
			synctest.Wait()
			mu.Lock()
			if len(written) != 1 || !written[0].Equal(used) {
				t.Errorf("after one interval, touches %v, want one at %v", written, used)
			}
			mu.Unlock()
			time.Sleep(time.Second)
			used = time.Now()
			if _, err := a.Authenticate(t.Context(), auth.BearerToken(id, secret)); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if len(written) != 2 || !written[1].Equal(used) {
				t.Errorf("after Close, touches %v, want the use before Close written", written)
			}
		})
	})
}
