package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// memKeyStore is the least KeyStore Authenticate needs: GetKey over a map.
type memKeyStore map[string]*Key

func (m memKeyStore) CreateKey(context.Context, *Key) error { return errors.ErrUnsupported }
func (m memKeyStore) GetKey(_ context.Context, id string) (*Key, error) {
	if k, ok := m[id]; ok {
		c := *k
		return &c, nil
	}
	return nil, vane.Errorf(vane.ENOTFOUND, "no key")
}
func (m memKeyStore) ListKeys(context.Context) ([]*Key, error) { return nil, errors.ErrUnsupported }
func (m memKeyStore) UpdateKey(context.Context, string, *KeyUpdate) (*Key, error) {
	return nil, errors.ErrUnsupported
}
func (m memKeyStore) DeleteKey(context.Context, string) error           { return errors.ErrUnsupported }
func (m memKeyStore) TouchKey(context.Context, string, time.Time) error { return nil }

// TestSecretCompareIsConstantTime checks that secrets are compared by
// subtle.ConstantTimeCompare, over the full hashes, for a wrong secret and
// for an unknown key alike.
func TestSecretCompareIsConstantTime(t *testing.T) {
	a := NewAuthenticator(memKeyStore{}, nil)
	if reflect.ValueOf(a.compare).Pointer() != reflect.ValueOf(subtle.ConstantTimeCompare).Pointer() {
		t.Fatal("NewAuthenticator does not compare with subtle.ConstantTimeCompare")
	}

	id, secret := NewKeyID(), NewSecret()
	last := "A"
	if secret[39] == 'A' {
		last = "B"
	}
	store := memKeyStore{id: {ID: id, Name: "k", SecretHash: HashSecret(secret), SealedSecret: "x", Policy: AllowAllPolicy, Created: time.Now()}}
	a = NewAuthenticator(store, nil)
	var calls int
	a.compare = func(x, y []byte) int {
		calls++
		if len(x) != sha256.Size || len(y) != sha256.Size {
			t.Errorf("compared %d bytes with %d, want two SHA-256 hashes", len(x), len(y))
		}
		return subtle.ConstantTimeCompare(x, y)
	}
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"Right", BearerToken(id, secret), nil},
		{"WrongSecret", BearerToken(id, NewSecret()), ErrWrongSecret},
		{"WrongLastChar", BearerToken(id, secret[:39]+last), ErrWrongSecret},
		{"UnknownKey", BearerToken(NewKeyID(), secret), ErrUnknownKey},
	} {
		calls = 0
		_, err := a.Authenticate(t.Context(), tc.token)
		if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if calls != 1 {
			t.Errorf("%s: the hashes were compared %d times, want once", tc.name, calls)
		}
	}
}

func TestActionTable(t *testing.T) {
	for i, a := range knownActions() {
		if got := actionIndex(a); got != i {
			t.Errorf("actionIndex(%s) = %d, want %d", a, got, i)
		}
	}
	if actionIndex("SSM:GETPARAMETER") != 0 || actionIndex("ssm:getparameterx") != -1 || actionIndex("") != -1 {
		t.Error("actionIndex does not match case-insensitively, or matches too much")
	}
	if actionKind(actionIndex(ActionDecrypt)) != kindKMSKey || actionKind(actionIndex(ActionAdmin)) != kindServer ||
		actionKind(actionIndex(ActionWatch)) != kindParameter {
		t.Error("actionKind does not follow the table")
	}
	for _, a := range []string{ActionStartRollout, ActionUpdateRollout, ActionDescribeRollouts,
		ActionScheduleChange, ActionCancelScheduledChange, ActionDescribeScheduledChanges,
		ActionProposeChange, ActionApproveChange, ActionBypassApproval} {
		if actionKind(actionIndex(a)) != kindParameter {
			t.Errorf("actionKind(%s) = %s, want parameters", a, actionKind(actionIndex(a)))
		}
	}
	if allActions != 1<<len(knownActions())-1 || len(knownActions()) > 32 {
		t.Error("allActions does not have a bit for each action")
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		match      bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a/b:c", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbcd", false},
		{"*a*b*c*", "xaxbxcx", true},
		{"*a*b*c*", "xaxcxbx", false},
		{"/app/*/x", "/app/a/b/x", true},
		{"/app/?/x", "/app/ab/x", false},
		{"A", "a", false},
		{"**", "abc", true},
		{"a**?", "ab", true},
		{"a**?", "a", false},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.match {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.match)
		}
		g := compileGlob(tc.pattern)
		if got := g.match(tc.s); got != tc.match {
			t.Errorf("compileGlob(%q).match(%q) = %v, want %v", tc.pattern, tc.s, got, tc.match)
		}
	}
	for _, tc := range []struct {
		pattern, prefix string
		may, covers     bool
	}{
		{"*", "", true, true},
		{"*", "/x/", true, true},
		{"/app/*", "/app/", true, true},
		{"/app/*", "/app/x/", true, true},
		{"/app/*", "/ap", true, false},
		{"/app/*", "/b", false, false},
		{"/app/x", "/app/x", true, false}, // only the prefix itself
		{"/app/x", "/app/x/", false, false},
		{"/app/?/*", "/app/", true, false},
		{"/app/?/*", "/app/a/", true, true},
		{"/app/?/*", "/app/ab", false, false},
		{"*/x", "/a/", true, false},
		{"/a*b*", "/aXb", true, true},
		{"", "", true, false},
		{"", "a", false, false},
	} {
		if got := globMayMatchPrefix(tc.pattern, tc.prefix); got != tc.may {
			t.Errorf("globMayMatchPrefix(%q, %q) = %v, want %v", tc.pattern, tc.prefix, got, tc.may)
		}
		if got := globCoversPrefix(tc.pattern, tc.prefix); got != tc.covers {
			t.Errorf("globCoversPrefix(%q, %q) = %v, want %v", tc.pattern, tc.prefix, got, tc.covers)
		}
	}
}

// TestKeyErrorLogsSafely checks that an id a client made up is quoted in
// logs, and that a valid one is shown as it is.
func TestKeyErrorLogsSafely(t *testing.T) {
	if got := (&KeyError{KeyID: "VNKABCDEFGHIJKLMNOPQ", Err: ErrWrongSecret}).Error(); got != "auth: access key VNKABCDEFGHIJKLMNOPQ: wrong secret" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&KeyError{KeyID: "a\nb", Err: ErrUnknownKey}).Error(); got != `auth: access key "a\nb": unknown access key` {
		t.Errorf("Error() = %q", got)
	}
	if got := (&KeyError{Err: ErrMalformedToken}).Error(); got != "auth: not a Vane bearer token" {
		t.Errorf("Error() = %q", got)
	}
}

// TestGlobExhaustive compares both glob matchers with a regular
// expression on every pattern of up to five bytes of "ab*?" and every
// string of up to five bytes of "ab/".
func TestGlobExhaustive(t *testing.T) {
	all := func(alphabet string, max int) []string {
		out := []string{""}
		for prev := out; max > 0; max-- {
			var next []string
			for _, p := range prev {
				for i := 0; i < len(alphabet); i++ {
					next = append(next, p+alphabet[i:i+1])
				}
			}
			out, prev = append(out, next...), next
		}
		return out
	}
	strs := all("ab/", 5)
	for _, pat := range all("ab*?", 5) {
		re := regexp.MustCompile("(?s)^" + strings.NewReplacer("*", ".*", "?", ".").Replace(pat) + "$")
		g := compileGlob(pat)
		// globCoversPrefix is sound: every string under a covered
		// prefix matches.
		for _, prefix := range strs[:40] { // up to three bytes
			if !globCoversPrefix(pat, prefix) {
				continue
			}
			for _, s := range strs {
				if strings.HasPrefix(s, prefix) && !re.MatchString(s) {
					t.Fatalf("globCoversPrefix(%q, %q) = true, but %q does not match", pat, prefix, s)
				}
			}
		}
		for _, s := range strs {
			want := re.MatchString(s)
			if got := globMatch(pat, s); got != want {
				t.Fatalf("globMatch(%q, %q) = %v, want %v", pat, s, got, want)
			}
			if got := g.match(s); got != want {
				t.Fatalf("compileGlob(%q).match(%q) = %v, want %v", pat, s, got, want)
			}
			// Every string that begins with a prefix the pattern may
			// match is a witness for globMayMatchPrefix.
			if want {
				for i := 0; i <= len(s); i++ {
					if !globMayMatchPrefix(pat, s[:i]) {
						t.Fatalf("globMayMatchPrefix(%q, %q) = false, but %q matches", pat, s[:i], s)
					}
				}
			}
		}
	}
}
