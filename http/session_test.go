package http_test

import (
	"context"
	"encoding/json"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	vanehttp "github.com/vanehq/vane/http"
)

// session is a signed-in dashboard: its cookie and anti-forgery token.
type session struct {
	cookie, csrf string
}

// signIn signs who in through POST /v1/session.
func (a *accessServer) signIn(t *testing.T, who string) session {
	t.Helper()
	c := a.creds[who]
	r := a.Do(t, "POST", "/v1/session", `{"key_id":"`+c[0]+`","secret":"`+c[1]+`"}`)
	var body struct {
		Auth      bool   `json:"auth"`
		Name      string `json:"name"`
		CSRFToken string `json:"csrf_token"`
		Expires   string `json:"expires"`
	}
	r.Want(t, 200, &body)
	if !body.Auth || body.Name != who || body.CSRFToken == "" || body.Expires == "" {
		t.Fatalf("sign-in answer %s", r.Body)
	}
	set := r.Header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="} {
		if !strings.Contains(set, attr) {
			t.Errorf("session cookie %q lacks %s", set, attr)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("session cookie %q is Secure on plain HTTP, where the browser would drop it", set)
	}
	cookie, _, _ := strings.Cut(set, ";")
	return session{cookie: cookie, csrf: body.CSRFToken}
}

// do sends a request with the session's cookie, and its anti-forgery
// token unless forged.
func (s session) do(t *testing.T, a *accessServer, method, path, body string, forged bool, header ...string) *Response {
	t.Helper()
	h := append([]string{"Cookie", s.cookie}, header...)
	if !forged {
		h = append(h, vanehttp.CSRFHeader, s.csrf)
	}
	return a.Do(t, method, path, body, h...)
}

func TestSessionSignInActsAsTheKey(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/x", `{"type":"String","value":"v"}`).Want(t, 201, nil)
	a.as(t, "admin", "PUT", "/v1/parameters/app/dev/x", `{"type":"String","value":"v"}`).Want(t, 201, nil)

	s := a.signIn(t, "reader")
	s.do(t, a, "GET", "/v1/parameters/app/prod/x", "", false).Want(t, 200, nil)
	// The reader's policy still applies: a session is its key, no more.
	s.do(t, a, "GET", "/v1/parameters/app/dev/x", "", false).WantError(t, 403, vane.EFORBIDDEN, "", "reader")
	s.do(t, a, "PUT", "/v1/parameters/app/prod/x", `{"value":"w","overwrite":true}`, false).WantError(t, 403, vane.EFORBIDDEN, "", "ssm:PutParameter")

	var who struct {
		Principal string `json:"principal"`
		Admin     bool   `json:"admin"`
		CSRFToken string `json:"csrf_token"`
	}
	s.do(t, a, "GET", "/v1/session", "", false).Want(t, 200, &who)
	if who.Principal != "reader" || who.Admin || who.CSRFToken != s.csrf {
		t.Errorf("GET /v1/session = %+v", who)
	}
	var allowed struct {
		Allowed []bool `json:"allowed"`
	}
	s.do(t, a, "POST", "/v1/session/check", `{"checks":[{"action":"ssm:GetParameter","resource":"/app/prod/x"},
		{"action":"ssm:PutParameter","resource":"/app/prod/x"},{"action":"vane:Admin","resource":"*"}]}`, false).Want(t, 200, &allowed)
	if len(allowed.Allowed) != 3 || !allowed.Allowed[0] || allowed.Allowed[1] || allowed.Allowed[2] {
		t.Errorf("session/check = %v, want [true false false]", allowed.Allowed)
	}

	w := a.signIn(t, "writer")
	w.do(t, a, "PUT", "/v1/parameters/app/prod/x", `{"value":"w","overwrite":true}`, false).Want(t, 200, nil)
	var p Parameter
	a.as(t, "admin", "GET", "/v1/parameters/app/prod/x", "").Want(t, 200, &p)
	if p.LastModifiedUser != "writer" {
		t.Errorf("a write through a session is by %q, want the key's name writer", p.LastModifiedUser)
	}
	entries := a.audit(t, "/app/prod/x")
	if last := entries[len(entries)-1]; last.Principal != "writer" || last.Action != "ssm:PutParameter" {
		t.Errorf("audit of the session's write: %+v", last)
	}
}

func TestSessionSignInRefusals(t *testing.T) {
	a := mustOpenAccess(t)
	for _, who := range []string{"wrong-secret", "unknown", "disabled", "expired"} {
		c := a.creds[who]
		a.Do(t, "POST", "/v1/session", `{"key_id":"`+c[0]+`","secret":"`+c[1]+`"}`).WantError(t, 401, vane.EUNAUTHORIZED, "")
	}
	a.Do(t, "POST", "/v1/session", `{"key_id":"x"}`).WantError(t, 400, vane.EINVALID, "", "key_id and secret")
	a.Do(t, "POST", "/v1/session", `{"key":"x"}`).WantError(t, 400, vane.EINVALID, "", "key")
	// A made-up cookie is no credential.
	a.Do(t, "GET", "/v1/parameters/app/prod/x", "", "Cookie", vanehttp.SessionCookie+"=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").
		WantError(t, 401, vane.EUNAUTHORIZED, "", "sign in again")
	a.Do(t, "GET", "/v1/session", "").WantError(t, 401, vane.EUNAUTHORIZED, "")
	// Failed sign-ins are on record, without the secret.
	found := false
	for _, e := range a.audit(t, "") {
		if e.Action == "vane:SignIn" && e.Result == vane.EUNAUTHORIZED {
			found = true
			if strings.Contains(e.Detail, a.creds["wrong-secret"][1]) {
				t.Errorf("the audit entry holds the secret: %+v", e)
			}
		}
	}
	if !found {
		t.Error("no audit entry for the refused sign-ins")
	}
}

func TestSessionSignOutEndsItOnTheServer(t *testing.T) {
	a := mustOpenAccess(t)
	s := a.signIn(t, "admin")
	// A replayed cookie keeps working until sign-out ...
	s.do(t, a, "GET", "/v1/flags", "", false).Want(t, 200, nil)
	// ... which needs the anti-forgery token like any change.
	s.do(t, a, "DELETE", "/v1/session", "", true).WantError(t, 403, vane.EFORBIDDEN, "", vanehttp.CSRFHeader)
	r := s.do(t, a, "DELETE", "/v1/session", "", false)
	r.Want(t, 204, nil)
	if set := r.Header.Get("Set-Cookie"); !strings.Contains(set, "Max-Age=0") {
		t.Errorf("sign-out does not clear the cookie: %q", set)
	}
	// The same cookie, kept by an attacker or another tab, is dead now.
	s.do(t, a, "GET", "/v1/flags", "", false).WantError(t, 401, vane.EUNAUTHORIZED, "")
}

func TestSessionEndsWithItsKey(t *testing.T) {
	a := mustOpenAccess(t)
	s := a.signIn(t, "writer")
	yes := true
	if _, err := a.keys.UpdateKey(context.Background(), a.creds["writer"][0], &auth.KeyUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	s.do(t, a, "GET", "/v1/flags", "", false).WantError(t, 401, vane.EUNAUTHORIZED, "", "disabled")
}

func TestSessionExpires(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := mustOpenAccess(t, func(s *vanehttp.Server) {
		s.Access.Sessions.TTL = time.Hour
		s.Access.Sessions.Now = clock
	})
	s := a.signIn(t, "admin")
	now = now.Add(59 * time.Minute)
	s.do(t, a, "GET", "/v1/flags", "", false).Want(t, 200, nil)
	now = now.Add(time.Minute)
	s.do(t, a, "GET", "/v1/flags", "", false).WantError(t, 401, vane.EUNAUTHORIZED, "", "sign in again")
}

// TestForgedRequestsRefused sends what a page of another site can make a
// browser send: the cookie without the header, or a request marked by
// the browser as cross-site. Nothing is written.
func TestForgedRequestsRefused(t *testing.T) {
	a := mustOpenAccess(t)
	s := a.signIn(t, "admin")
	put := `{"type":"String","value":"forged"}`
	for _, tc := range []struct {
		name   string
		forged bool
		header []string
		want   string
	}{
		{"cookie without the token", true, nil, vanehttp.CSRFHeader},
		{"cookie with a wrong token", true, []string{vanehttp.CSRFHeader, strings.Repeat("0", 64)}, vanehttp.CSRFHeader},
		{"another origin", false, []string{"Origin", "http://evil.example"}, "evil.example"},
		{"Sec-Fetch-Site cross-site", false, []string{"Sec-Fetch-Site", "cross-site"}, "another site"},
		{"origin null (a sandboxed frame)", false, []string{"Origin", "null"}, "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.do(t, a, "PUT", "/v1/parameters/app/prod/forged", put, tc.forged, tc.header...).WantError(t, 403, vane.EFORBIDDEN, "", tc.want)
			s.do(t, a, "POST", "/v1/schedules", `{"name":"/app/prod/forged","at":"2030-01-01T00:00:00Z","put":{"value":"x"}}`, tc.forged, tc.header...).
				WantError(t, 403, vane.EFORBIDDEN, "")
		})
	}
	a.as(t, "admin", "GET", "/v1/parameters/app/prod/forged", "").WantError(t, 404, vane.ENOTFOUND, "")
	// The real page, same origin with its token, is served.
	u := a.URL()
	s.do(t, a, "PUT", "/v1/parameters/app/prod/forged", put, false, "Origin", u, "Sec-Fetch-Site", "same-origin").Want(t, 201, nil)
	// Reads are not state-changing: a cookie alone reads (SameSite=Strict
	// keeps other sites' pages from sending it at all).
	s.do(t, a, "GET", "/v1/parameters/app/prod/forged", "", true).Want(t, 200, nil)
	// A bearer token can't be sent by another site's page, so its
	// requests are not checked for origin.
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/other", put).Want(t, 201, nil)
}

// TestForgedRequestsRefusedWithoutAccessControl: a --dev server has no
// credential to steal, so a page of another site could change it through
// the browser of anyone running one; browsers' own markings refuse that.
func TestForgedRequestsRefusedWithoutAccessControl(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/a/features/x", `{"type":"String","value":"true"}`, "Origin", "http://evil.example").
		WantError(t, 403, vane.EFORBIDDEN, "", "evil.example")
	s.Do(t, "POST", "/v1/session/check", `{"checks":[]}`, "Sec-Fetch-Site", "cross-site").WantError(t, 403, vane.EFORBIDDEN, "")
	s.Do(t, "GET", "/v1/parameters/a/features/x", "").WantError(t, 404, vane.ENOTFOUND, "")
	s.Do(t, "PUT", "/v1/parameters/a/features/x", `{"type":"String","value":"true"}`, "Origin", s.URL()).Want(t, 201, nil)
	var who struct {
		Auth      bool   `json:"auth"`
		Principal string `json:"principal"`
		Admin     bool   `json:"admin"`
	}
	s.Do(t, "GET", "/v1/session", "").Want(t, 200, &who)
	if who.Auth || who.Principal != "anonymous" || !who.Admin {
		t.Errorf("GET /v1/session on --dev = %+v", who)
	}
	s.Do(t, "POST", "/v1/session", `{"key_id":"a","secret":"b"}`).WantError(t, 400, vane.EINVALID, "", "--dev")
}

// TestRevealIsAudited: a read that asks to be audited (the dashboard's
// Reveal) is on record even where reads are not audited.
func TestRevealIsAudited(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/token", `{"type":"SecureString","value":"s3cret"}`).Want(t, 201, nil)
	var p Parameter
	a.as(t, "writer", "GET", "/v1/parameters/app/prod/token?with_decryption=true&audit=true", "").Want(t, 200, &p)
	if p.Value != "s3cret" {
		t.Fatalf("revealed value %q", p.Value)
	}
	var found bool
	for _, e := range a.audit(t, "/app/prod/token") {
		if e.Action == "ssm:GetParameter" && e.Principal == "writer" && strings.Contains(e.Detail, "decryption") {
			found = true
			if strings.Contains(e.Detail, "s3cret") {
				t.Errorf("the audit entry holds the value: %+v", e)
			}
		}
	}
	if !found {
		t.Error("the revealing read is not in the audit history")
	}
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/token?with_decryption=true&audit=true", "").WantError(t, 403, vane.EFORBIDDEN, "")
	a.as(t, "admin", "GET", "/v1/parameters/app/prod/token?audit=maybe", "").WantError(t, 400, vane.EINVALID, "", "audit")
}

// auditEntry is an entry of GET /v1/audit.
type auditEntry struct {
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Name      string `json:"name"`
	Result    string `json:"result"`
	Detail    string `json:"detail"`
	Batch     string `json:"batch"`
}

// audit returns the audit entries under path ("" for all).
func (a *accessServer) audit(t *testing.T, path string) []auditEntry {
	t.Helper()
	q := "/v1/audit?limit=1000"
	if path != "" {
		q += "&path=" + path
	}
	var out struct {
		Entries []auditEntry `json:"entries"`
	}
	r := a.as(t, "admin", "GET", q, "")
	r.Want(t, 200, nil)
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Entries
}

// TestDashboardFilesArePublic: the page and its scripts hold no data and
// load before sign-in; the root redirects browsers to them.
func TestDashboardFilesArePublic(t *testing.T) {
	ui := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { w.Write([]byte("page " + r.URL.Path)) })
	a := mustOpenAccess(t, func(s *vanehttp.Server) { s.UI = ui })
	if r := a.Do(t, "GET", "/ui/", ""); r.Status != 200 || string(r.Body) != "page /ui/" {
		t.Errorf("GET /ui/ without a credential: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"/", "/ui"} {
		if r := a.Do(t, "GET", p, ""); r.Status != 302 || r.Header.Get("Location") != "/ui/" {
			t.Errorf("GET %s: %d, Location %q", p, r.Status, r.Header.Get("Location"))
		}
	}
	// The API is not: a page needs a session.
	a.Do(t, "GET", "/v1/flags", "").WantError(t, 401, vane.EUNAUTHORIZED, "")
}
