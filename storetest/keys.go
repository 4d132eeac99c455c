package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// RunKeys runs the conformance tests of auth.KeyStore. open returns a new,
// empty store and closes it when the test ends.
func RunKeys(t *testing.T, open func(t *testing.T) auth.KeyStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s auth.KeyStore)
	}{
		{"CreateGetRoundTrip", testKeyRoundTrip},
		{"CreateErrConflict", testKeyCreateConflict},
		{"CreateErrInvalid", testKeyCreateInvalid},
		{"GetErrNotFound", testKeyGetNotFound},
		{"ListByNameBytewise", testKeyList},
		{"Update", testKeyUpdate},
		{"UpdateErrNotFound", testKeyUpdateNotFound},
		{"UpdateErrInvalid", testKeyUpdateInvalid},
		{"UpdateErrConflict", testKeyUpdateConflict},
		{"Delete", testKeyDelete},
		{"TouchMovesForward", testKeyTouch},
		{"ConcurrentTouchesKeepTheLatest", testKeyConcurrentTouch},
		{"ConcurrentCreatesOneNameOnce", testKeyConcurrentCreate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.fn(t, s)
		})
	}
}

// keyAt is a time with nanoseconds, which stores must keep.
func keyAt(day, ns int) time.Time {
	return time.Date(2026, 11, day, 10, 30, 0, ns, time.UTC)
}

// newTestKey returns a valid key record. The sealed secret is opaque to
// stores, so it need not be a keyring's.
func newTestKey(name string) *auth.Key {
	secret := auth.NewSecret()
	return &auth.Key{
		ID:           auth.NewKeyID(),
		Name:         name,
		SecretHash:   auth.HashSecret(secret),
		SealedSecret: "sealed:" + name,
		Policy:       auth.AllowAllPolicy,
		Created:      keyAt(1, 123456789),
	}
}

func mustCreateKey(t *testing.T, s auth.KeyStore, k *auth.Key) *auth.Key {
	t.Helper()
	if err := s.CreateKey(t.Context(), k); err != nil {
		t.Fatalf("CreateKey(%s): %v", k.Name, err)
	}
	return k
}

func mustGetKey(t *testing.T, s auth.KeyStore, id string) *auth.Key {
	t.Helper()
	k, err := s.GetKey(t.Context(), id)
	if err != nil {
		t.Fatalf("GetKey(%s): %v", id, err)
	}
	return k
}

func assertKey(t *testing.T, what string, got, want *auth.Key) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func assertKeyErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := vane.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func testKeyRoundTrip(t *testing.T, s auth.KeyStore) {
	k := newTestKey("ci-deploy@example.com")
	k.Policy = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "/app/*"}}`
	k.LastUsed = keyAt(2, 1)
	k.Expires = keyAt(30, 999999999)
	k.Disabled = true
	want := *k
	mustCreateKey(t, s, k)
	assertKey(t, "GetKey after CreateKey", mustGetKey(t, s, k.ID), &want)

	// Zero times stay zero: never used, never expires.
	plain := mustCreateKey(t, s, newTestKey("plain"))
	got := mustGetKey(t, s, plain.ID)
	if !got.LastUsed.IsZero() || !got.Expires.IsZero() || got.Disabled {
		t.Errorf("a key created without last use, expiry or disabled flag reads back as %+v", got)
	}
	if got.Created.Location() != time.UTC {
		t.Errorf("Created is in %v, want UTC", got.Created.Location())
	}
}

func testKeyCreateConflict(t *testing.T, s auth.KeyStore) {
	a := mustCreateKey(t, s, newTestKey("a"))
	sameName := newTestKey("a")
	assertKeyErr(t, "CreateKey of a taken name", s.CreateKey(t.Context(), sameName), vane.ECONFLICT)
	sameID := newTestKey("b")
	sameID.ID = a.ID
	assertKeyErr(t, "CreateKey of a taken id", s.CreateKey(t.Context(), sameID), vane.ECONFLICT)
	keys, err := s.ListKeys(t.Context())
	must(t, err)
	if len(keys) != 1 {
		t.Errorf("after two refused creates, %d keys, want 1", len(keys))
	}
}

func testKeyCreateInvalid(t *testing.T, s auth.KeyStore) {
	for _, tc := range []struct {
		name   string
		change func(k *auth.Key)
	}{
		{"BadID", func(k *auth.Key) { k.ID = "AKIAIOSFODNN7EXAMPLE" }},
		{"LowercaseID", func(k *auth.Key) { k.ID = "VNKabcdefghijklmnopq" }},
		{"NoName", func(k *auth.Key) { k.Name = "" }},
		{"NameWithSpace", func(k *auth.Key) { k.Name = "a b" }},
		{"NameTooLong", func(k *auth.Key) { k.Name = string(make([]byte, auth.MaxKeyNameLength+1)) }},
		{"BadHash", func(k *auth.Key) { k.SecretHash = "plaintext" }},
		{"NoSealedSecret", func(k *auth.Key) { k.SealedSecret = "" }},
		{"BadPolicy", func(k *auth.Key) { k.Policy = `{"Version": "2012-10-17"}` }},
		{"NoCreated", func(k *auth.Key) { k.Created = time.Time{} }},
		{"ExpiresBefore1970", func(k *auth.Key) { k.Expires = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newTestKey("k-" + tc.name)
			tc.change(k)
			assertKeyErr(t, "CreateKey", s.CreateKey(t.Context(), k), vane.EINVALID)
		})
	}
	keys, err := s.ListKeys(t.Context())
	must(t, err)
	if len(keys) != 0 {
		t.Errorf("invalid keys were stored: %+v", keys)
	}
}

func testKeyGetNotFound(t *testing.T, s auth.KeyStore) {
	_, err := s.GetKey(t.Context(), auth.NewKeyID())
	assertKeyErr(t, "GetKey of a missing key", err, vane.ENOTFOUND)
	_, err = s.GetKey(t.Context(), "not-an-id")
	assertKeyErr(t, "GetKey of a malformed id", err, vane.ENOTFOUND)
}

func testKeyList(t *testing.T, s auth.KeyStore) {
	empty, err := s.ListKeys(t.Context())
	must(t, err)
	if empty == nil || len(empty) != 0 {
		t.Errorf("ListKeys of an empty store = %#v, want an empty non-nil slice", empty)
	}
	// Bytewise: uppercase before lowercase, '-' before '_' before letters.
	names := []string{"b", "B", "a_1", "a-1", "Z", "a.1"}
	byName := map[string]*auth.Key{}
	for _, n := range names {
		byName[n] = mustCreateKey(t, s, newTestKey(n))
	}
	keys, err := s.ListKeys(t.Context())
	must(t, err)
	var got []string
	for _, k := range keys {
		got = append(got, k.Name)
		assertKey(t, "listed key "+k.Name, k, byName[k.Name])
	}
	want := []string{"B", "Z", "a-1", "a.1", "a_1", "b"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListKeys names = %v, want %v", got, want)
	}
}

func testKeyUpdate(t *testing.T, s auth.KeyStore) {
	ctx := t.Context()
	k := mustCreateKey(t, s, newTestKey("svc"))
	want := *k

	disabled := true
	got, err := s.UpdateKey(ctx, k.ID, &auth.KeyUpdate{Disabled: &disabled})
	must(t, err)
	want.Disabled = true
	assertKey(t, "UpdateKey(disable)", got, &want)
	assertKey(t, "GetKey after disable", mustGetKey(t, s, k.ID), &want)

	enabled, expires := false, keyAt(20, 5)
	policy := `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}`
	name := "svc-renamed"
	got, err = s.UpdateKey(ctx, k.ID, &auth.KeyUpdate{Name: &name, Policy: &policy, Expires: &expires, Disabled: &enabled})
	must(t, err)
	want.Name, want.Policy, want.Expires, want.Disabled = name, policy, expires, false
	assertKey(t, "UpdateKey(everything)", got, &want)
	assertKey(t, "GetKey after updating everything", mustGetKey(t, s, k.ID), &want)

	never := time.Time{}
	_, err = s.UpdateKey(ctx, k.ID, &auth.KeyUpdate{Expires: &never})
	must(t, err)
	want.Expires = time.Time{}
	assertKey(t, "GetKey after removing the expiry", mustGetKey(t, s, k.ID), &want)

	// An empty update changes nothing, and a key keeps its own name.
	got, err = s.UpdateKey(ctx, k.ID, &auth.KeyUpdate{Name: &name})
	must(t, err)
	assertKey(t, "UpdateKey(same name)", got, &want)
}

func testKeyUpdateNotFound(t *testing.T, s auth.KeyStore) {
	disabled := true
	_, err := s.UpdateKey(t.Context(), auth.NewKeyID(), &auth.KeyUpdate{Disabled: &disabled})
	assertKeyErr(t, "UpdateKey of a missing key", err, vane.ENOTFOUND)
}

func testKeyUpdateInvalid(t *testing.T, s auth.KeyStore) {
	k := mustCreateKey(t, s, newTestKey("svc"))
	want := *k
	badPolicy := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParamter", "Resource": "*"}]}`
	badName := "no spaces"
	badExpiry := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, u := range []*auth.KeyUpdate{{Policy: &badPolicy}, {Name: &badName}, {Expires: &badExpiry}} {
		_, err := s.UpdateKey(t.Context(), k.ID, u)
		assertKeyErr(t, fmt.Sprintf("UpdateKey(%+v)", u), err, vane.EINVALID)
	}
	assertKey(t, "GetKey after refused updates", mustGetKey(t, s, k.ID), &want)
}

func testKeyUpdateConflict(t *testing.T, s auth.KeyStore) {
	a := mustCreateKey(t, s, newTestKey("a"))
	mustCreateKey(t, s, newTestKey("b"))
	want := *a
	name := "b"
	_, err := s.UpdateKey(t.Context(), a.ID, &auth.KeyUpdate{Name: &name})
	assertKeyErr(t, "UpdateKey renaming to a taken name", err, vane.ECONFLICT)
	assertKey(t, "GetKey after a refused rename", mustGetKey(t, s, a.ID), &want)
}

func testKeyDelete(t *testing.T, s auth.KeyStore) {
	ctx := t.Context()
	a := mustCreateKey(t, s, newTestKey("a"))
	b := mustCreateKey(t, s, newTestKey("b"))
	must(t, s.DeleteKey(ctx, a.ID))
	_, err := s.GetKey(ctx, a.ID)
	assertKeyErr(t, "GetKey after DeleteKey", err, vane.ENOTFOUND)
	assertKeyErr(t, "DeleteKey again", s.DeleteKey(ctx, a.ID), vane.ENOTFOUND)
	assertKey(t, "the other key after DeleteKey", mustGetKey(t, s, b.ID), b)
	// The name is free again.
	mustCreateKey(t, s, newTestKey("a"))
}

func testKeyTouch(t *testing.T, s auth.KeyStore) {
	ctx := t.Context()
	k := mustCreateKey(t, s, newTestKey("a"))
	must(t, s.TouchKey(ctx, k.ID, keyAt(5, 7)))
	if got := mustGetKey(t, s, k.ID).LastUsed; !got.Equal(keyAt(5, 7)) {
		t.Errorf("LastUsed after TouchKey = %v, want %v", got, keyAt(5, 7))
	}
	must(t, s.TouchKey(ctx, k.ID, keyAt(4, 0))) // earlier: no change
	if got := mustGetKey(t, s, k.ID).LastUsed; !got.Equal(keyAt(5, 7)) {
		t.Errorf("LastUsed after an earlier TouchKey = %v, want it kept at %v", got, keyAt(5, 7))
	}
	must(t, s.TouchKey(ctx, k.ID, keyAt(6, 8)))
	if got := mustGetKey(t, s, k.ID).LastUsed; !got.Equal(keyAt(6, 8)) {
		t.Errorf("LastUsed after a later TouchKey = %v, want %v", got, keyAt(6, 8))
	}
	if err := s.TouchKey(ctx, auth.NewKeyID(), keyAt(6, 0)); err != nil {
		t.Errorf("TouchKey of a missing key: %v, want it ignored", err)
	}
	assertKeyErr(t, "TouchKey with a zero time", s.TouchKey(ctx, k.ID, time.Time{}), vane.EINVALID)
}

func testKeyConcurrentTouch(t *testing.T, s auth.KeyStore) {
	k := mustCreateKey(t, s, newTestKey("busy"))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				if err := s.TouchKey(context.WithoutCancel(t.Context()), k.ID, keyAt(10, 1+i*4+w)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got, want := mustGetKey(t, s, k.ID).LastUsed, keyAt(10, 1+19*4+3); !got.Equal(want) {
		t.Errorf("LastUsed after concurrent touches = %v, want the latest, %v", got, want)
	}
}

func testKeyConcurrentCreate(t *testing.T, s auth.KeyStore) {
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateKey(t.Context(), newTestKey("same")) })
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch vane.ErrorCode(err) {
		case "":
			created++
		case vane.ECONFLICT:
		default:
			t.Errorf("concurrent CreateKey: %v, want success or ECONFLICT", err)
		}
	}
	keys, err := s.ListKeys(t.Context())
	must(t, err)
	if created != 1 || len(keys) != 1 {
		t.Errorf("%d concurrent creates of one name: %d succeeded and %d keys stored, want 1 and 1", n, created, len(keys))
	}
}
