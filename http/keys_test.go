package http_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/keyring"
)

const secretValue = "s3cr3t-plaintext-7f9a"

// MustOpenSealed starts a test server whose store seals SecureString
// values with a new keyring, which the server opens them with.
func MustOpenSealed(t *testing.T) (*Server, *keyring.Keyring) {
	t.Helper()
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), keyring.DefaultFileName)})
	if err != nil {
		t.Fatal(err)
	}
	s := MustOpen(t, func(s *vanehttp.Server) {
		st := MustOpenStore(t)
		st.Cipher = kr
		s.Store = st
		s.Cipher = kr
	})
	return s, kr
}

func TestWithDecryption(t *testing.T) {
	s, kr := MustOpenSealed(t)
	var put Parameter
	s.Do(t, "PUT", "/v1/parameters/app/secret", `{"value":"`+secretValue+`","type":"SecureString"}`).Want(t, 201, &put)
	s.Do(t, "PUT", "/v1/parameters/app/secret", `{"value":"`+secretValue+`-2","overwrite":true}`).Want(t, 200, nil)
	s.MustPut(t, "/app/plain", "visible")
	if put.Value == secretValue || !keyring.IsSealed(put.Value) {
		t.Fatalf("PUT answered the value %q; want it sealed", put.Value)
	}
	open := func(t *testing.T, sealed string) string {
		t.Helper()
		v, err := kr.Open(context.Background(), sealed)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("GetSealedByDefault", func(t *testing.T) {
		for _, q := range []string{"", "?with_decryption=false", ":1"} {
			var p Parameter
			s.Do(t, "GET", "/v1/parameters/app/secret"+q, "").Want(t, 200, &p)
			if !keyring.IsSealed(p.Value) || strings.Contains(p.Value, "s3cr3t") {
				t.Fatalf("GET%s value %q; want it sealed", q, p.Value)
			}
		}
	})
	t.Run("GetPlaintext", func(t *testing.T) {
		for q, want := range map[string]string{
			"?with_decryption=true":            secretValue + "-2",
			"?with_decryption=1&version=1":     secretValue,
			":1?with_decryption=true":          secretValue,
			"?label=nope&with_decryption=true": "",
		} {
			var p Parameter
			r := s.Do(t, "GET", "/v1/parameters/app/secret"+q, "")
			if want == "" {
				r.WantError(t, 404, vane.ENOTFOUND, vane.DetailParameterNotFound)
				continue
			}
			r.Want(t, 200, &p)
			if p.Value != want || p.Type != "SecureString" || p.KeyID != vane.DefaultKeyID {
				t.Fatalf("GET%s = %+v, want value %q", q, p, want)
			}
		}
		var p Parameter
		s.Do(t, "GET", "/v1/parameters/app/plain?with_decryption=true", "").Want(t, 200, &p)
		if p.Value != "visible" {
			t.Fatalf("a String with decryption: %q", p.Value)
		}
	})
	t.Run("ListAndHistory", func(t *testing.T) {
		var sealed, plain Page
		s.Do(t, "GET", "/v1/parameters?path=/app", "").Want(t, 200, &sealed)
		s.Do(t, "GET", "/v1/parameters?path=/app&with_decryption=true", "").Want(t, 200, &plain)
		if len(plain.Parameters) != 2 || plain.Parameters[1].Value != secretValue+"-2" || plain.Parameters[0].Value != "visible" {
			t.Fatalf("listing with decryption %+v", plain.Parameters)
		}
		if open(t, sealed.Parameters[1].Value) != secretValue+"-2" {
			t.Fatal("the listing's sealed value opens to another value")
		}
		var h Page
		s.Do(t, "GET", "/v1/history/app/secret?with_decryption=true", "").Want(t, 200, &h)
		if len(h.Parameters) != 2 || h.Parameters[0].Value != secretValue || h.Parameters[1].Value != secretValue+"-2" {
			t.Fatalf("history with decryption %+v", h.Parameters)
		}
		s.Do(t, "GET", "/v1/history/app/secret", "").Want(t, 200, &h)
		for _, p := range h.Parameters {
			if !keyring.IsSealed(p.Value) {
				t.Fatalf("history value %q; want it sealed", p.Value)
			}
		}
	})
	t.Run("ErrBadFlag", func(t *testing.T) {
		s.Do(t, "GET", "/v1/parameters/app/secret?with_decryption=maybe", "").WantError(t, 400, vane.EINVALID, "", "with_decryption")
	})
	t.Run("ErrInvalidKeyId", func(t *testing.T) {
		s.Do(t, "PUT", "/v1/parameters/app/other", `{"value":"`+secretValue+`","type":"SecureString","key_id":"alias/nope"}`).
			WantError(t, 400, vane.EINVALID, vane.DetailInvalidKeyID, "alias/nope")
	})
	t.Run("ErrDamagedValue", func(t *testing.T) {
		d := MustOpen(t, func(srv *vanehttp.Server) {
			srv.Cipher = kr
			srv.Store = &fakeStore{Store: srv.Store, GetFn: func(context.Context, string) (*vane.Parameter, error) {
				return &vane.Parameter{Name: "/x", Type: vane.TypeSecureString, Value: put.Value[:40] + "AAAA" + put.Value[44:], Version: 1}, nil
			}}
		})
		d.Do(t, "GET", "/v1/parameters/x?with_decryption=true", "").WantError(t, 500, vane.EINTERNAL, "")
		if !strings.Contains(d.Logs.String(), `can't be decrypted`) {
			t.Fatalf("the failure is not logged:\n%s", d.Logs.String())
		}
	})
	if logs := s.Logs.String(); strings.Contains(logs, "s3cr3t") {
		t.Fatalf("a plaintext was logged:\n%s", logs)
	}
}

// fakeKeys is a KeyAdmin with one function per method.
type fakeKeys struct {
	ListKeysFn  func(ctx context.Context) (*vanehttp.KeyList, error)
	CreateKeyFn func(ctx context.Context, aliases []string) (*vanehttp.Key, error)
	RotateFn    func(ctx context.Context) (*vanehttp.RotateResult, error)
	RewrapFn    func(ctx context.Context) (*vanehttp.RotateResult, error)
}

func (f *fakeKeys) ListKeys(ctx context.Context) (*vanehttp.KeyList, error) { return f.ListKeysFn(ctx) }
func (f *fakeKeys) CreateKey(ctx context.Context, aliases []string) (*vanehttp.Key, error) {
	return f.CreateKeyFn(ctx, aliases)
}
func (f *fakeKeys) Rotate(ctx context.Context) (*vanehttp.RotateResult, error) {
	return f.RotateFn(ctx)
}
func (f *fakeKeys) Rewrap(ctx context.Context) (*vanehttp.RotateResult, error) {
	return f.RewrapFn(ctx)
}

func TestKeyRoutes(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var gotAliases []string
	keys := &fakeKeys{
		ListKeysFn: func(context.Context) (*vanehttp.KeyList, error) {
			return &vanehttp.KeyList{
				Keys:       []vanehttp.Key{{ID: "k1", Aliases: []string{"alias/aws/ssm"}, Created: created}, {ID: "k2", Created: created}},
				MasterKeys: []vanehttp.MasterKey{{ID: "mk-a", Created: created}, {ID: "mk-b", Created: created, Primary: true}},
			}, nil
		},
		CreateKeyFn: func(_ context.Context, aliases []string) (*vanehttp.Key, error) {
			gotAliases = aliases
			if slices.Contains(aliases, "alias/taken") {
				return nil, vane.Errorf(vane.ECONFLICT, "alias %q already names key k1", "alias/taken")
			}
			return &vanehttp.Key{ID: "k3", Aliases: aliases, Created: created}, nil
		},
		RotateFn: func(context.Context) (*vanehttp.RotateResult, error) {
			return &vanehttp.RotateResult{MasterKeyID: "mk-c", PreviousMasterKeyID: "mk-b", Rewrapped: 7, Sealed: 1}, nil
		},
		RewrapFn: func(context.Context) (*vanehttp.RotateResult, error) {
			return &vanehttp.RotateResult{MasterKeyID: "mk-c", PreviousMasterKeyID: "mk-c", Rewrapped: 2}, nil
		},
	}
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Keys = keys
		s.Account = "123456789012"
	})

	t.Run("List", func(t *testing.T) {
		r := s.Do(t, "GET", "/v1/kms/keys", "").Want(t, 200, nil)
		want := `{"keys":[{"id":"k1","arn":"arn:aws:kms:us-east-1:123456789012:key/k1","aliases":["alias/aws/ssm"],"created":"2026-01-02T03:04:05Z"},` +
			`{"id":"k2","arn":"arn:aws:kms:us-east-1:123456789012:key/k2","aliases":[],"created":"2026-01-02T03:04:05Z"}],` +
			`"master_keys":[{"id":"mk-a","created":"2026-01-02T03:04:05Z","primary":false},{"id":"mk-b","created":"2026-01-02T03:04:05Z","primary":true}]}` + "\n"
		if string(r.Body) != want {
			t.Fatalf("body\n%s\nwant\n%s", r.Body, want)
		}
	})
	t.Run("Create", func(t *testing.T) {
		var k struct {
			ID      string   `json:"id"`
			ARN     string   `json:"arn"`
			Aliases []string `json:"aliases"`
		}
		s.Do(t, "POST", "/v1/kms/keys", `{"aliases":["alias/app"]}`).Want(t, 201, &k)
		if k.ID != "k3" || !slices.Equal(k.Aliases, []string{"alias/app"}) || !slices.Equal(gotAliases, []string{"alias/app"}) ||
			k.ARN != "arn:aws:kms:us-east-1:123456789012:key/k3" {
			t.Fatalf("created %+v from aliases %q", k, gotAliases)
		}
		s.Do(t, "POST", "/v1/kms/keys", `{"aliases":["alias/taken"]}`).WantError(t, 409, vane.ECONFLICT, "", "alias/taken")
		s.Do(t, "POST", "/v1/kms/keys", `{"alias":"alias/x"}`).WantError(t, 400, vane.EINVALID, "", "unknown field")
		s.Do(t, "POST", "/v1/kms/keys", "").WantError(t, 400, vane.EINVALID, "")
	})
	t.Run("Rotate", func(t *testing.T) {
		r := s.Do(t, "POST", "/v1/kms/keys/rotate", "").Want(t, 200, nil)
		if want := `{"master_key_id":"mk-c","previous_master_key_id":"mk-b","rewrapped":7,"sealed":1}` + "\n"; string(r.Body) != want {
			t.Fatalf("body %s, want %s", r.Body, want)
		}
		r = s.Do(t, "POST", "/v1/kms/keys/rewrap", "").Want(t, 200, nil)
		if want := `{"master_key_id":"mk-c","previous_master_key_id":"mk-c","rewrapped":2,"sealed":0}` + "\n"; string(r.Body) != want {
			t.Fatalf("body %s, want %s", r.Body, want)
		}
		s.Do(t, "POST", "/v1/kms/keys/rotate?now=1", "").WantError(t, 400, vane.EINVALID, "", "now")
	})
	t.Run("ErrMethod", func(t *testing.T) {
		r := s.Do(t, "GET", "/v1/kms/keys/rotate", "")
		r.WantError(t, 405, vane.EINVALID, "")
		if r.Header.Get("Allow") == "" {
			t.Fatal("405 without Allow")
		}
		s.Do(t, "DELETE", "/v1/kms/keys", "").WantError(t, 405, vane.EINVALID, "")
	})
	t.Run("ErrNoKeyring", func(t *testing.T) {
		plain := MustOpen(t)
		for _, req := range [][2]string{{"GET", "/v1/kms/keys"}, {"POST", "/v1/kms/keys/rotate"}, {"POST", "/v1/kms/keys/rewrap"}} {
			plain.Do(t, req[0], req[1], "").WantError(t, 404, vane.ENOTFOUND, "", "no keyring")
		}
		plain.Do(t, "POST", "/v1/kms/keys", `{"aliases":["alias/a"]}`).WantError(t, 404, vane.ENOTFOUND, "", "no keyring")
	})
}
