package sqlstore_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane/auth"
)

// TestKeySecretsNeverStoredInPlaintext creates keys through an
// Authenticator on each backend and looks for their secrets in every
// column and, on SQLite, in the database files.
func TestKeySecretsNeverStoredInPlaintext(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		kr := mustKeyring(t)
		a := auth.NewAuthenticator(b.store, kr)
		var secrets []string
		for _, name := range []string{"ci", "sdk", "admin"} {
			k, secret, err := a.CreateKey(ctx, name, auth.AllowAllPolicy, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, secret)
			// Every form the key works in.
			if _, err := a.Authenticate(ctx, auth.BearerToken(k.ID, secret)); err != nil {
				t.Fatal(err)
			}
			if got, err := a.SecretFor(ctx, k.ID); err != nil || got != secret {
				t.Fatalf("SecretFor = %q, %v", got, err)
			}
		}
		if err := a.FlushTouches(ctx); err != nil {
			t.Fatal(err)
		}

		rows, err := b.store.RDB.QueryContext(ctx, `SELECT id, name, secret_hash, secret_sealed, policy FROM access_keys`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			cols := make([]string, 5)
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]); err != nil {
				t.Fatal(err)
			}
			n++
			for _, c := range cols {
				for _, s := range secrets {
					if strings.Contains(c, s) {
						t.Errorf("key %s: a column holds a secret: %q", cols[0], c)
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("%d rows in access_keys, want 3", n)
		}
		keys, err := b.store.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.LastUsed.IsZero() {
				t.Errorf("key %s: last use not recorded", k.Name)
			}
		}

		if b.path == "" {
			return
		}
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			raw, err := os.ReadFile(b.path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, raw...)
		}
		// The search works: the ids are there.
		if !bytes.Contains(all, []byte(keys[0].ID)) {
			t.Fatal("a key id is not in the database files: the search is broken")
		}
		for _, s := range secrets {
			if bytes.Contains(all, []byte(s)) {
				t.Errorf("a secret is in the database files")
			}
		}
	})
}
