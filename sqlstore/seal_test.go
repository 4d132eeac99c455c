package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/postgres"
	"github.com/vanehq/vane/sqlstore"
	"github.com/vanehq/vane/storetest"
)

// Distinctive values to search for in database files.
const (
	secretValue  = "s3cr3t-plaintext-7f9a"
	secretValue2 = "s3cr3t-plaintext-second-b4c1"
	visibleValue = "visible-plaintext-c0ffee"
)

// mustKeyring opens a new keyring in tb's temporary directory.
func mustKeyring(tb testing.TB) *keyring.Keyring {
	tb.Helper()
	k, err := keyring.Open(keyring.Options{Path: filepath.Join(tb.TempDir(), keyring.DefaultFileName)})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// backend is a store under test and, for SQLite, its database file.
type backend struct {
	store *sqlstore.Store
	path  string
}

// eachBackend runs fn on a new SQLite store and, when VANE_TEST_POSTGRES
// is set (always in CI), on a new PostgreSQL schema.
func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("SQLite", func(t *testing.T) {
		s := MustOpen(t)
		fn(t, backend{store: s.Store, path: s.Path})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		fn(t, backend{store: mustOpenPostgres(t).Store})
	})
}

// mustOpenPostgres opens a PostgreSQL store on a new schema, dropped when
// the test ends.
func mustOpenPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	base := os.Getenv("VANE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("VANE_TEST_POSTGRES is not set in CI")
		}
		t.Skip("VANE_TEST_POSTGRES is not set: run `export VANE_TEST_POSTGRES=$(bash .ci/postgres.sh)`")
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "vane_test_" + hex.EncodeToString(b)
	admin := func(ctx context.Context, sql string) {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	admin(t.Context(), `CREATE SCHEMA `+schema)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPut(t *testing.T, s vane.Store, in *vane.PutInput) *vane.Parameter {
	t.Helper()
	p, err := s.Put(t.Context(), in)
	if err != nil {
		t.Fatalf("Put %s: %v", in.Name, err)
	}
	return p
}

func mustOpenValue(t *testing.T, c vane.Cipher, sealed string) string {
	t.Helper()
	v, err := c.Open(t.Context(), sealed)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return v
}

func TestSealOnPut(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, kr := b.store, mustKeyring(t)
		s.Cipher = kr
		ctx := t.Context()
		pattern := `^[a-z0-9-]+$` // no sealed value matches: base64 has capitals
		put := mustPut(t, s, &vane.PutInput{Name: "/app/db/password", Value: secretValue, Type: vane.TypeSecureString, AllowedPattern: &pattern})
		if put.Value == secretValue || !keyring.IsSealed(put.Value) {
			t.Fatalf("Put returned the value %q; want it sealed", put.Value)
		}
		// An overwrite without a type stays a SecureString and is sealed.
		mustPut(t, s, &vane.PutInput{Name: "/app/db/password", Value: secretValue2, Overwrite: true})
		mustPut(t, s, &vane.PutInput{Name: "/app/db/url", Value: visibleValue, Type: vane.TypeString})

		got, err := s.Get(ctx, "/app/db/password")
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != vane.TypeSecureString || got.KeyID != vane.DefaultKeyID || mustOpenValue(t, kr, got.Value) != secretValue2 {
			t.Fatalf("Get = %+v", got)
		}
		if p, _ := s.Get(ctx, "/app/db/url"); p.Value != visibleValue {
			t.Fatalf("a String was changed: %q", p.Value)
		}

		t.Run("NotInHistory", func(t *testing.T) {
			page, err := s.History(ctx, &vane.HistoryInput{Name: "/app/db/password"})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{secretValue, secretValue2}
			if len(page.Parameters) != 2 {
				t.Fatalf("%d versions", len(page.Parameters))
			}
			for i, p := range page.Parameters {
				if strings.Contains(p.Value, "s3cr3t") || mustOpenValue(t, kr, p.Value) != want[i] {
					t.Fatalf("version %d value %q", p.Version, p.Value)
				}
			}
		})
		t.Run("NotInChanges", func(t *testing.T) {
			cs, err := s.Changes(ctx, 0, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 3 || strings.Contains(fmt.Sprintf("%+v", cs), "s3cr3t") {
				t.Fatalf("changes %+v", cs)
			}
		})
		t.Run("NotInSnapshotOrListings", func(t *testing.T) {
			ps, _, err := s.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.ByPath(ctx, &vane.ByPathInput{Path: "/app", Recursive: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range append(ps, page.Parameters...) {
				if strings.Contains(p.Value, "s3cr3t") {
					t.Fatalf("%s has value %q", p.Name, p.Value)
				}
			}
		})
		t.Run("NotInDatabaseFiles", func(t *testing.T) {
			if b.path == "" {
				t.Skip("only SQLite's files are read")
			}
			var all []byte
			for _, suffix := range []string{"", "-wal", "-shm"} {
				raw, err := os.ReadFile(b.path + suffix)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				all = append(all, raw...)
			}
			// The search works: the String's value is there.
			if !bytes.Contains(all, []byte(visibleValue)) {
				t.Fatal("the String value is not in the database files: the search is broken")
			}
			for _, secret := range []string{secretValue, secretValue2, "s3cr3t-plaintext"} {
				if bytes.Contains(all, []byte(secret)) {
					t.Fatalf("%q is in the database files", secret)
				}
			}
		})
		t.Run("ErrInvalidKeyId", func(t *testing.T) {
			before, _ := s.Changes(ctx, 0, "", 0)
			for _, in := range []*vane.PutInput{
				{Name: "/app/other", Value: secretValue, Type: vane.TypeSecureString, KeyID: "alias/nope"},
				{Name: "/app/db/password", Value: secretValue, KeyID: "arn:aws:kms:us-east-1:000000000000:key/nope", Overwrite: true},
			} {
				_, err := s.Put(ctx, in)
				if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != vane.DetailInvalidKeyID || !strings.Contains(err.Error(), in.KeyID) {
					t.Fatalf("Put with key %q: %v", in.KeyID, err)
				}
				if strings.Contains(err.Error(), secretValue) {
					t.Fatalf("the error discloses the value: %v", err)
				}
			}
			if _, err := s.Get(ctx, "/app/other"); vane.ErrorCode(err) != vane.ENOTFOUND {
				t.Fatalf("a failed put stored something: %v", err)
			}
			if p, _ := s.Get(ctx, "/app/db/password"); p.Version != 2 {
				t.Fatalf("a failed overwrite made version %d", p.Version)
			}
			if after, _ := s.Changes(ctx, 0, "", 0); len(after) != len(before) {
				t.Fatal("a failed put wrote a change record")
			}
		})
		t.Run("OtherKey", func(t *testing.T) {
			key, err := kr.CreateKey("alias/app")
			if err != nil {
				t.Fatal(err)
			}
			p := mustPut(t, s, &vane.PutInput{Name: "/app/keyed", Value: secretValue, Type: vane.TypeSecureString, KeyID: "alias/app"})
			if info, _ := keyring.Inspect(p.Value); info.KeyID != key.ID || p.KeyID != "alias/app" {
				t.Fatalf("sealed under %+v, KeyID %q", info, p.KeyID)
			}
		})
		t.Run("RulesCheckThePlaintext", func(t *testing.T) {
			digits := `^[0-9]+$`
			_, err := s.Put(ctx, &vane.PutInput{Name: "/app/pin", Value: "abc", Type: vane.TypeSecureString, AllowedPattern: &digits})
			if vane.ErrorDetail(err) != vane.DetailParameterPatternMismatch {
				t.Fatalf("pattern mismatch: %v", err)
			}
			mustPut(t, s, &vane.PutInput{Name: "/app/pin", Value: "1234", Type: vane.TypeSecureString, AllowedPattern: &digits})
			// The longest Standard value fits, though its sealed form
			// is longer.
			long := strings.Repeat("x", vane.MaxStandardValueLength)
			p := mustPut(t, s, &vane.PutInput{Name: "/app/long", Value: long, Type: vane.TypeSecureString})
			if p.Tier != vane.TierStandard || mustOpenValue(t, kr, p.Value) != long {
				t.Fatalf("long value: tier %s", p.Tier)
			}
		})
	})
}

func TestRewrapSealed(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, kr := b.store, mustKeyring(t)
		s.Cipher = kr
		ctx := t.Context()
		// More versions than one batch holds, between Strings.
		const params = 150
		for i := range params {
			name := fmt.Sprintf("/rw/p%03d", i)
			mustPut(t, s, &vane.PutInput{Name: name, Value: fmt.Sprintf("secret-%d-1", i), Type: vane.TypeSecureString})
			mustPut(t, s, &vane.PutInput{Name: name, Value: fmt.Sprintf("secret-%d-2", i), Overwrite: true})
			mustPut(t, s, &vane.PutInput{Name: fmt.Sprintf("/rw/s%03d", i), Value: "plain", Type: vane.TypeString})
		}
		changesBefore := storetest.AllChanges(t, s)
		old := kr.Primary()
		mk, err := kr.Rotate()
		if err != nil {
			t.Fatal(err)
		}

		// Writers keep going while the pass runs.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var writes int
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Put(ctx, &vane.PutInput{Name: "/rw/live", Value: fmt.Sprint(i), Type: vane.TypeSecureString, Overwrite: true}); err != nil {
					t.Error(err)
					return
				}
				writes++
			}
		})
		n, err := s.RewrapSealed(ctx, kr.Rewrap)
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if n < 2*params {
			t.Fatalf("re-wrapped %d versions, want at least %d", n, 2*params)
		}

		for i := range params {
			page, err := s.History(ctx, &vane.HistoryInput{Name: fmt.Sprintf("/rw/p%03d", i)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Parameters) != 2 {
				t.Fatalf("%d versions after the re-wrap", len(page.Parameters))
			}
			for _, p := range page.Parameters {
				info, err := keyring.Inspect(p.Value)
				if err != nil || info.MasterKeyID != mk.ID {
					t.Fatalf("%s version %d is wrapped under %+v (%v); want %s, not %s", p.Name, p.Version, info, err, mk.ID, old)
				}
				if want := fmt.Sprintf("secret-%d-%d", i, p.Version); mustOpenValue(t, kr, p.Value) != want {
					t.Fatalf("%s version %d opens to another value", p.Name, p.Version)
				}
			}
		}
		// No change records beyond the writer's puts.
		if got := len(storetest.AllChanges(t, s)); got != len(changesBefore)+writes {
			t.Fatalf("%d change records, want %d + %d writes", got, len(changesBefore), writes)
		}
		if n, err := s.RewrapSealed(ctx, kr.Rewrap); err != nil || n != 0 {
			t.Fatalf("a second pass re-wrapped %d (%v)", n, err)
		}

		t.Run("FailuresDoNotStopThePass", func(t *testing.T) {
			s.Cipher = nil
			mustPut(t, s, &vane.PutInput{Name: "/rw/damaged", Value: "not-sealed-9d2e", Type: vane.TypeSecureString})
			s.Cipher = kr
			if _, err := kr.Rotate(); err != nil {
				t.Fatal(err)
			}
			n, err := s.RewrapSealed(ctx, kr.Rewrap)
			if err == nil || vane.ErrorCode(err) != vane.EINVALID || !strings.Contains(err.Error(), "/rw/damaged") || strings.Contains(err.Error(), "not-sealed-9d2e") {
				t.Fatalf("err = %v", err)
			}
			if n < 2*params {
				t.Fatalf("re-wrapped %d versions", n)
			}
		})
	})
}

func TestSealPlaintext(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s, kr := b.store, mustKeyring(t)
		ctx := t.Context()
		// Written before the store had a cipher.
		mustPut(t, s, &vane.PutInput{Name: "/old/a", Value: secretValue, Type: vane.TypeSecureString})
		mustPut(t, s, &vane.PutInput{Name: "/old/a", Value: secretValue2, Overwrite: true})
		mustPut(t, s, &vane.PutInput{Name: "/old/b", Value: secretValue, Type: vane.TypeSecureString, KeyID: "alias/legacy"})
		mustPut(t, s, &vane.PutInput{Name: "/old/s", Value: visibleValue, Type: vane.TypeString})
		changes := len(storetest.AllChanges(t, s))

		s.Cipher = kr
		n, err := s.SealPlaintext(ctx, kr, keyring.IsSealed)
		if n != 2 || vane.ErrorDetail(err) != vane.DetailInvalidKeyID || !strings.Contains(err.Error(), "/old/b") {
			t.Fatalf("SealPlaintext = %d, %v; want 2 and an InvalidKeyId error naming /old/b", n, err)
		}
		if _, err := kr.CreateKey("alias/legacy"); err != nil {
			t.Fatal(err)
		}
		if n, err := s.SealPlaintext(ctx, kr, keyring.IsSealed); n != 1 || err != nil {
			t.Fatalf("SealPlaintext after creating the key = %d, %v", n, err)
		}
		if n, err := s.SealPlaintext(ctx, kr, keyring.IsSealed); n != 0 || err != nil {
			t.Fatalf("a third SealPlaintext = %d, %v", n, err)
		}
		for name, want := range map[string][]string{"/old/a": {secretValue, secretValue2}, "/old/b": {secretValue}} {
			page, err := s.History(ctx, &vane.HistoryInput{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range page.Parameters {
				if mustOpenValue(t, kr, p.Value) != want[i] {
					t.Fatalf("%s version %d opens to another value", name, p.Version)
				}
			}
		}
		if p, _ := s.Get(ctx, "/old/s"); p.Value != visibleValue {
			t.Fatalf("a String was sealed: %q", p.Value)
		}
		if got := len(storetest.AllChanges(t, s)); got != changes {
			t.Fatalf("%d change records, want %d", got, changes)
		}
	})
}
