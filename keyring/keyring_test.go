package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/keyring"
)

// plaintext is a value distinctive enough to search for in files, logs
// and error messages.
const plaintext = "s3cr3t-plaintext-7f9a"

// MustOpen opens a new keyring in a temporary directory.
func MustOpen(tb testing.TB) *keyring.Keyring {
	tb.Helper()
	k, err := keyring.Open(keyring.Options{Path: filepath.Join(tb.TempDir(), keyring.DefaultFileName)})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustSeal(tb testing.TB, k *keyring.Keyring, keyID, value string) string {
	tb.Helper()
	s, err := k.Seal(context.Background(), keyID, value)
	if err != nil {
		tb.Fatalf("Seal(%q): %v", keyID, err)
	}
	return s
}

func mustOpenValue(tb testing.TB, k *keyring.Keyring, sealed string) string {
	tb.Helper()
	v, err := k.Open(context.Background(), sealed)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return v
}

func mustInspect(tb testing.TB, sealed string) keyring.Sealed {
	tb.Helper()
	info, err := keyring.Inspect(sealed)
	if err != nil {
		tb.Fatalf("Inspect: %v", err)
	}
	return info
}

// defaultKeyID returns the id of the key alias/aws/ssm names.
func defaultKeyID(tb testing.TB, k *keyring.Keyring) string {
	tb.Helper()
	for _, key := range k.Keys() {
		for _, a := range key.Aliases {
			if a == vane.DefaultKeyID {
				return key.ID
			}
		}
	}
	tb.Fatalf("no key has the alias %s: %+v", vane.DefaultKeyID, k.Keys())
	return ""
}

func assertInvalid(tb testing.TB, err error, detail string) {
	tb.Helper()
	if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != detail {
		tb.Fatalf("err = %v; want code %s, detail %q", err, vane.EINVALID, detail)
	}
	if strings.Contains(err.Error(), plaintext) {
		tb.Fatalf("the error discloses the plaintext: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	k := MustOpen(t)
	for _, tt := range []struct{ name, value string }{
		{"Plain", plaintext},
		{"Empty", ""},
		{"Unicode", "pässwörd ✓ 秘密\n\ttab"},
		{"Advanced", strings.Repeat("é", vane.MaxAdvancedValueLength)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sealed := mustSeal(t, k, "", tt.value)
			if tt.value != "" && strings.Contains(sealed, tt.value) {
				t.Fatal("the sealed form contains the plaintext")
			}
			if _, err := base64.StdEncoding.DecodeString(sealed); err != nil {
				t.Fatalf("sealed form is not base64: %v", err)
			}
			if !keyring.IsSealed(sealed) {
				t.Fatal("IsSealed = false for a sealed value")
			}
			if got := mustOpenValue(t, k, sealed); got != tt.value {
				t.Fatalf("Open = %q, want %q", got, tt.value)
			}
			info := mustInspect(t, sealed)
			if info.KeyID != defaultKeyID(t, k) || info.MasterKeyID != k.Primary() {
				t.Fatalf("Inspect = %+v; want the default key and master %s", info, k.Primary())
			}
		})
	}
}

func TestSealsDiffer(t *testing.T) {
	k := MustOpen(t)
	a, b := mustSeal(t, k, "", plaintext), mustSeal(t, k, "", plaintext)
	if a == b {
		t.Fatal("two seals of one value are equal")
	}
	ra, _ := base64.StdEncoding.DecodeString(a)
	rb, _ := base64.StdEncoding.DecodeString(b)
	// No 8-byte run of one envelope's key material and ciphertext may
	// appear in the other: fresh data keys and nonces each time.
	body := ra[len(ra)-(12+48+12+len(plaintext)+16):]
	for i := 0; i+8 <= len(body); i += 8 {
		if bytes.Contains(rb, body[i:i+8]) {
			t.Fatalf("bytes %d..%d of one envelope's body appear in the other", i, i+8)
		}
	}
}

func TestTamperDetected(t *testing.T) {
	k := MustOpen(t)
	sealed := mustSeal(t, k, "", plaintext)
	raw, _ := base64.StdEncoding.DecodeString(sealed)
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(raw)
			b[i] ^= bit
			_, err := k.Open(context.Background(), base64.StdEncoding.EncodeToString(b))
			if err == nil {
				t.Fatalf("flipping bit %#x of byte %d went unnoticed", bit, i)
			}
			assertInvalid(t, err, "")
			if _, _, err := k.Rewrap(base64.StdEncoding.EncodeToString(b)); err == nil && i < len(raw)-(12+len(plaintext)+16) {
				t.Fatalf("Rewrap accepted a change of byte %d of the header or data key", i)
			}
		}
	}
	t.Run("ErrTruncated", func(t *testing.T) {
		for n := 0; n < len(raw); n++ {
			_, err := k.Open(context.Background(), base64.StdEncoding.EncodeToString(raw[:n]))
			assertInvalid(t, err, "")
		}
	})
	t.Run("ErrNotSealed", func(t *testing.T) {
		for _, s := range []string{"", plaintext, "hunter2", "not base64 !!!", base64.StdEncoding.EncodeToString([]byte(plaintext))} {
			if keyring.IsSealed(s) {
				t.Errorf("IsSealed(%q) = true", s)
			}
			_, err := k.Open(context.Background(), s)
			assertInvalid(t, err, "")
			if _, err := keyring.Inspect(s); err == nil {
				t.Errorf("Inspect(%q) succeeded", s)
			}
		}
	})
	t.Run("ErrOtherKeyring", func(t *testing.T) {
		_, err := MustOpen(t).Open(context.Background(), sealed)
		assertInvalid(t, err, "")
		if !strings.Contains(err.Error(), mustInspect(t, sealed).MasterKeyID) {
			t.Errorf("the error does not name the unknown master key: %v", err)
		}
	})
}

func TestKeyIDs(t *testing.T) {
	k := MustOpen(t)
	app, err := k.CreateKey("alias/app", "alias/app/prod")
	if err != nil {
		t.Fatal(err)
	}
	bare, err := k.CreateKey()
	if err != nil {
		t.Fatal(err)
	}
	def := defaultKeyID(t, k)
	const arn = "arn:aws:kms:us-east-1:000000000000:"
	for _, tt := range []struct{ keyID, want string }{
		{"", def},
		{vane.DefaultKeyID, def},
		{def, def},
		{arn + "alias/aws/ssm", def},
		{arn + "key/" + def, def},
		{"alias/app", app.ID},
		{"alias/app/prod", app.ID},
		{app.ID, app.ID},
		{"arn:aws:kms:eu-west-1:123456789012:alias/app", app.ID},
		{"arn:aws-cn:kms:cn-north-1:123456789012:key/" + app.ID, app.ID},
		{bare.ID, bare.ID},
	} {
		t.Run(tt.keyID, func(t *testing.T) {
			sealed := mustSeal(t, k, tt.keyID, plaintext)
			if got := mustInspect(t, sealed).KeyID; got != tt.want {
				t.Fatalf("sealed under %s, want %s", got, tt.want)
			}
			if got := mustOpenValue(t, k, sealed); got != plaintext {
				t.Fatalf("Open = %q", got)
			}
		})
	}
	for _, keyID := range []string{
		"alias/nope", "nope", "alias/", "alias/APP", "key/" + app.ID, arn + "alias/nope", arn + "key/nope",
		"arn:aws:ssm:us-east-1:000000000000:key/" + app.ID, "arn:aws:kms:us-east-1:000000000000:" + app.ID,
		"arn:aws:kms:us-east-1", "arn::kms:r:a:alias/app",
	} {
		t.Run("ErrInvalidKeyId/"+keyID, func(t *testing.T) {
			_, err := k.Seal(context.Background(), keyID, plaintext)
			assertInvalid(t, err, vane.DetailInvalidKeyID)
			if !strings.Contains(err.Error(), keyID) {
				t.Fatalf("the error does not name the key: %v", err)
			}
		})
	}
}

func TestCreateKey(t *testing.T) {
	k := MustOpen(t)
	if _, err := k.CreateKey("alias/a"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		aliases []string
		code    string
	}{
		{"ErrReserved", []string{"alias/aws/mine"}, vane.EINVALID},
		{"ErrDefaultReserved", []string{vane.DefaultKeyID}, vane.EINVALID},
		{"ErrNoPrefix", []string{"mine"}, vane.EINVALID},
		{"ErrBadCharacter", []string{"alias/a b"}, vane.EINVALID},
		{"ErrEmptyName", []string{"alias/"}, vane.EINVALID},
		{"ErrTwice", []string{"alias/b", "alias/b"}, vane.EINVALID},
		{"ErrInUse", []string{"alias/c", "alias/a"}, vane.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.CreateKey(tt.aliases...); vane.ErrorCode(err) != tt.code {
				t.Fatalf("CreateKey(%q) = %v, want code %s", tt.aliases, err, tt.code)
			}
		})
	}
	if n := len(k.Keys()); n != 2 {
		t.Fatalf("%d keys after failed creations, want 2: %+v", n, k.Keys())
	}
	// A failed creation changes nothing, on disk either.
	again, err := keyring.Load(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Keys()); n != 2 {
		t.Fatalf("%d keys in the file, want 2", n)
	}
}

func TestRotateAndRewrap(t *testing.T) {
	k := MustOpen(t)
	ctx := context.Background()
	first := k.Primary()
	old := mustSeal(t, k, "", plaintext)

	mk, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if mk.ID == first || k.Primary() != mk.ID || !mk.Primary {
		t.Fatalf("after Rotate primary %s, returned %+v, before %s", k.Primary(), mk, first)
	}
	if got := mustOpenValue(t, k, old); got != plaintext {
		t.Fatalf("a value sealed before the rotation opens to %q", got)
	}
	if got := mustInspect(t, mustSeal(t, k, "", "new")).MasterKeyID; got != mk.ID {
		t.Fatalf("a new value is wrapped under %s, want %s", got, mk.ID)
	}

	re, changed, err := k.Rewrap(old)
	if err != nil || !changed {
		t.Fatalf("Rewrap = %v, %v", changed, err)
	}
	if info := mustInspect(t, re); info.MasterKeyID != mk.ID || info.KeyID != mustInspect(t, old).KeyID {
		t.Fatalf("re-wrapped value %+v; want master %s and the same logical key", info, mk.ID)
	}
	if got := mustOpenValue(t, k, re); got != plaintext {
		t.Fatalf("the re-wrapped value opens to %q", got)
	}
	// The value's nonce and ciphertext are untouched.
	rawOld, _ := base64.StdEncoding.DecodeString(old)
	rawNew, _ := base64.StdEncoding.DecodeString(re)
	tail := 12 + len(plaintext) + 16
	if !bytes.Equal(rawOld[len(rawOld)-tail:], rawNew[len(rawNew)-tail:]) {
		t.Fatal("Rewrap changed the value's ciphertext")
	}
	if again, changed, err := k.Rewrap(re); err != nil || changed || again != re {
		t.Fatalf("Rewrap of a value under the primary = %v, %v; want it unchanged", changed, err)
	}

	// Everything is on disk: a keyring loaded from the file opens both.
	loaded, err := keyring.Load(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Primary() != mk.ID || len(loaded.MasterKeys()) != 2 {
		t.Fatalf("loaded keyring: primary %s, master keys %+v", loaded.Primary(), loaded.MasterKeys())
	}
	for _, s := range []string{old, re} {
		if v, err := loaded.Open(ctx, s); err != nil || v != plaintext {
			t.Fatalf("loaded keyring opens %q, %v", v, err)
		}
	}
	var primaries int
	for _, m := range loaded.MasterKeys() {
		if m.Primary {
			primaries++
		}
		if m.Created.IsZero() {
			t.Errorf("master key %s has no creation time", m.ID)
		}
	}
	if primaries != 1 {
		t.Fatalf("%d primary master keys", primaries)
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, keyring.DefaultFileName)
	var logs bytes.Buffer
	k, err := keyring.Open(keyring.Options{Path: path, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	assertMode := func(t *testing.T) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("keyring file mode %v, want 0600", fi.Mode().Perm())
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("the directory holds %d entries, want only the keyring file", len(ents))
		}
	}
	t.Run("Created0600", assertMode)
	t.Run("LogsPathNotKey", func(t *testing.T) {
		var doc struct {
			MasterKeys []struct{ Key string } `json:"master_keys"`
		}
		b, _ := os.ReadFile(path)
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.MasterKeys) != 1 || doc.MasterKeys[0].Key == "" {
			t.Fatalf("file %s: %v", b, err)
		}
		if !strings.Contains(logs.String(), path) || strings.Contains(logs.String(), doc.MasterKeys[0].Key) {
			t.Fatalf("the log must name the path and never the key:\n%s", logs.String())
		}
	})
	sealed := mustSeal(t, k, "", plaintext)
	t.Run("Reload", func(t *testing.T) {
		again, err := keyring.Open(keyring.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if again.Primary() != k.Primary() || defaultKeyID(t, again) != defaultKeyID(t, k) {
			t.Fatal("reopening the file gave other keys")
		}
		if got := mustOpenValue(t, again, sealed); got != plaintext {
			t.Fatalf("Open = %q", got)
		}
	})
	t.Run("RotatedAndCreated0600", func(t *testing.T) {
		if _, err := k.Rotate(); err != nil {
			t.Fatal(err)
		}
		assertMode(t)
		if _, err := k.CreateKey("alias/x"); err != nil {
			t.Fatal(err)
		}
		assertMode(t)
	})
	t.Run("ErrLoadMissing", func(t *testing.T) {
		if _, err := keyring.Load(filepath.Join(dir, "missing.json")); err == nil {
			t.Fatal("Load of a missing file succeeded")
		}
	})
	t.Run("ErrDamagedFile", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		for _, content := range []string{"", "{", `{"format":2}`, `{"format":1,"primary":"x","master_keys":[],"keys":[]}`} {
			os.WriteFile(bad, []byte(content), 0o600)
			if _, err := keyring.Open(keyring.Options{Path: bad}); err == nil {
				t.Errorf("Open of %q succeeded", content)
			}
		}
	})
	t.Run("ConcurrentCreate", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), keyring.DefaultFileName)
		ks := make([]*keyring.Keyring, 4)
		var wg sync.WaitGroup
		for i := range ks {
			wg.Go(func() {
				var err error
				if ks[i], err = keyring.Open(keyring.Options{Path: p}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, other := range ks[1:] {
			if other == nil || ks[0] == nil || other.Primary() != ks[0].Primary() {
				t.Fatal("keyrings created at once on one path differ")
			}
		}
	})
}

func TestSharedFile(t *testing.T) {
	a := MustOpen(t)
	b, err := keyring.Open(keyring.Options{Path: a.Path()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateKey("alias/shared"); err != nil {
		t.Fatal(err)
	}
	// b learns of a's new master key and alias from the file.
	if got := mustOpenValue(t, b, mustSeal(t, a, "alias/shared", plaintext)); got != plaintext {
		t.Fatalf("Open = %q", got)
	}
	if got := mustInspect(t, mustSeal(t, b, "alias/shared", plaintext)).MasterKeyID; got != a.Primary() {
		t.Fatalf("b seals under %s, want a's new primary %s", got, a.Primary())
	}
	// b's own change keeps a's.
	if _, err := b.CreateKey("alias/b"); err != nil {
		t.Fatal(err)
	}
	loaded, err := keyring.Load(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Keys()) != 3 || loaded.Primary() != a.Primary() {
		t.Fatalf("file keys %+v, primary %s", loaded.Keys(), loaded.Primary())
	}
}

func randomKey(t *testing.T) string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func TestRootKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), keyring.DefaultFileName)
	root := randomKey(t)
	k, err := keyring.Open(keyring.Options{Path: path, RootKey: root})
	if err != nil {
		t.Fatal(err)
	}
	ms := k.MasterKeys()
	if len(ms) != 1 || !ms[0].Root || !ms[0].Primary || k.Primary() != ms[0].ID {
		t.Fatalf("master keys of a new keyring with a root key: %+v", ms)
	}
	sealed := mustSeal(t, k, "", plaintext)
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	rotated := mustSeal(t, k, "", plaintext)

	b, _ := os.ReadFile(path)
	rawRoot, _ := base64.StdEncoding.DecodeString(root)
	if bytes.Contains(b, []byte(root)) || bytes.Contains(b, rawRoot) || bytes.Contains(b, []byte(`"key"`)) || !bytes.Contains(b, []byte(`"wrapped_key"`)) {
		t.Fatalf("the file must hold only wrapped master keys:\n%s", b)
	}

	t.Run("Reopen", func(t *testing.T) {
		// The URL alphabet without padding is accepted too.
		again, err := keyring.Open(keyring.Options{Path: path, RootKey: base64.RawURLEncoding.EncodeToString(rawRoot)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{sealed, rotated} {
			if got := mustOpenValue(t, again, s); got != plaintext {
				t.Fatalf("Open = %q", got)
			}
		}
	})
	t.Run("SameRootOtherFile", func(t *testing.T) {
		// A node with the same root key and a keyring of its own opens
		// values sealed under the root key.
		other, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "k.json"), RootKey: root})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustOpenValue(t, other, sealed); got != plaintext {
			t.Fatalf("Open = %q", got)
		}
	})
	t.Run("ErrOtherRoot", func(t *testing.T) {
		if _, err := keyring.Open(keyring.Options{Path: path, RootKey: randomKey(t)}); err == nil {
			t.Fatal("a wrong root key was accepted")
		}
	})
	t.Run("ErrNoRoot", func(t *testing.T) {
		if _, err := keyring.Open(keyring.Options{Path: path}); err == nil {
			t.Fatal("a file wrapped by a root key opened without it")
		}
	})
	t.Run("ErrRootOnPlainFile", func(t *testing.T) {
		plain := MustOpen(t)
		if _, err := keyring.Open(keyring.Options{Path: plain.Path(), RootKey: root}); err == nil {
			t.Fatal("a root key was accepted for a file holding plaintext keys")
		}
	})
	t.Run("ErrMalformedRoot", func(t *testing.T) {
		for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short-key-7f9a"))} {
			_, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "k.json"), RootKey: bad})
			if err == nil || strings.Contains(err.Error(), bad) {
				t.Fatalf("Open with root key %q: %v", bad, err)
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k := MustOpen(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := k.Seal(ctx, "", plaintext); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := MustOpen(b)
	ctx := context.Background()
	sealed := mustSeal(b, k, "", plaintext)
	for b.Loop() {
		if _, err := k.Open(ctx, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeriveKeyStableAcrossRotationAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	k, err := keyring.Open(keyring.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.DeriveKey("tokens")
	if err != nil || len(a) != 32 {
		t.Fatalf("DeriveKey: %x, %v", a, err)
	}
	if b, _ := k.DeriveKey("other"); bytes.Equal(a, b) {
		t.Fatal("different purposes gave the same key")
	}
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	again, err := keyring.Open(keyring.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := again.DeriveKey("tokens"); !bytes.Equal(a, b) {
		t.Fatal("the derived key changed after a rotation and reload")
	}
	other, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "keyring.json")})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := other.DeriveKey("tokens"); bytes.Equal(a, b) {
		t.Fatal("two keyrings derived the same key")
	}
}
