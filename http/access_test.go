package http_test

import (
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/keyring"
)

// accessServer is a server with access control on, and keys to call it.
type accessServer struct {
	*Server
	keys  *auth.Authenticator
	store vane.AuditLog
	creds map[string][2]string // who → id, secret
}

const readerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:GetParameter*", "ssm:DescribeParameters", "vane:Watch", "vane:Evaluate"], "Resource": "arn:aws:ssm:*:*:parameter/app/prod/*"},
	{"Effect": "Deny", "Action": "ssm:GetParameter*", "Resource": "/app/prod/secret*"}]}`

const writerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:*", "kms:Decrypt"], "Resource": "*"}]}`

func mustOpenAccess(t *testing.T, configure ...func(*vanehttp.Server)) *accessServer {
	t.Helper()
	st := MustOpenStore(t)
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "keyring.json")})
	if err != nil {
		t.Fatal(err)
	}
	st.Cipher = kr
	keys := auth.NewAuthenticator(st.Store, kr)
	if err := keys.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	a := &accessServer{keys: keys, store: st, creds: map[string][2]string{}}
	ctx := context.Background()
	for _, k := range []struct{ who, policy string }{
		{"admin", auth.AllowAllPolicy}, {"reader", readerPolicy}, {"writer", writerPolicy},
		{"disabled", auth.AllowAllPolicy}, {"expired", auth.AllowAllPolicy},
	} {
		key, secret, err := keys.CreateKey(ctx, k.who, k.policy, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		a.creds[k.who] = [2]string{key.ID, secret}
	}
	yes, past := true, time.Now().Add(-time.Minute)
	if _, err := keys.UpdateKey(ctx, a.creds["disabled"][0], &auth.KeyUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.UpdateKey(ctx, a.creds["expired"][0], &auth.KeyUpdate{Expires: &past}); err != nil {
		t.Fatal(err)
	}
	a.creds["wrong-secret"] = [2]string{a.creds["admin"][0], auth.NewSecret()}
	a.creds["unknown"] = [2]string{auth.NewKeyID(), auth.NewSecret()}
	idx := index.New(st)
	if err := idx.Open(ctx); err != nil {
		t.Fatal(err)
	}
	a.Server = MustOpen(t, func(s *vanehttp.Server) {
		s.Store, s.Cipher, s.Audit = idx, kr, st
		s.Access = &vanehttp.Access{Keys: keys, Store: st.Store, Sessions: &auth.Sessions{Store: st.Store, Keys: keys}}
		for _, f := range configure {
			f(s)
		}
	})
	return a
}

// as sends a native request with who's bearer token ("" for none).
func (a *accessServer) as(t *testing.T, who, method, path, body string) *Response {
	t.Helper()
	if who == "" {
		return a.Do(t, method, path, body)
	}
	c := a.creds[who]
	return a.Do(t, method, path, body, "Authorization", "Bearer "+c[0]+"."+c[1])
}

// ssmAs returns an SSM client signing with who's key.
func (a *accessServer) ssmAs(t *testing.T, who string) *ssm.Client {
	t.Helper()
	c := a.creds[who]
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c[0], c[1], "")))
	if err != nil {
		t.Fatal(err)
	}
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(a.URL()); o.RetryMaxAttempts = 1 })
}

// TestAuthorizationMatrix checks, for each action and each kind of caller,
// the exact outcome through the native API and through aws-sdk-go-v2 with
// real SigV4 signing.
func TestAuthorizationMatrix(t *testing.T) {
	a := mustOpenAccess(t)
	for _, p := range []string{"/app/prod/x", "/app/prod/secret-token", "/app/dev/x"} {
		a.as(t, "admin", "PUT", "/v1/parameters"+p, `{"type":"String","value":"v"}`).Want(t, 201, nil)
	}
	type call struct {
		name    string
		native  func(who string) int
		viaSSM  func(c *ssm.Client) error
		outcome map[string]string // who → "ok", or the SSM error code / HTTP status
	}
	calls := []call{
		{"GetParameter /app/prod/x",
			func(who string) int { return a.as(t, who, "GET", "/v1/parameters/app/prod/x", "").Status },
			func(c *ssm.Client) error {
				_, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/prod/x")})
				return err
			},
			map[string]string{"admin": "ok", "reader": "ok", "writer": "ok"}},
		{"GetParameter /app/prod/secret-token (explicit deny)",
			func(who string) int { return a.as(t, who, "GET", "/v1/parameters/app/prod/secret-token", "").Status },
			func(c *ssm.Client) error {
				_, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/prod/secret-token")})
				return err
			},
			map[string]string{"admin": "ok", "writer": "ok"}},
		{"GetParameter /app/dev/x (outside the reader's path)",
			func(who string) int { return a.as(t, who, "GET", "/v1/parameters/app/dev/x", "").Status },
			func(c *ssm.Client) error {
				_, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/dev/x")})
				return err
			},
			map[string]string{"admin": "ok", "writer": "ok"}},
		{"PutParameter /app/prod/y",
			func(who string) int {
				return a.as(t, who, "PUT", "/v1/parameters/app/prod/y", `{"type":"String","value":"1","overwrite":true}`).Status
			},
			func(c *ssm.Client) error {
				_, err := c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/app/prod/y"), Value: aws.String("1"), Type: "String", Overwrite: aws.Bool(true)})
				return err
			},
			map[string]string{"admin": "ok", "writer": "ok"}},
		{"DeleteParameter /app/dev/x",
			func(who string) int {
				a.as(t, "admin", "PUT", "/v1/parameters/app/dev/x", `{"type":"String","value":"v","overwrite":true}`)
				return a.as(t, who, "DELETE", "/v1/parameters/app/dev/x", "").Status
			},
			func(c *ssm.Client) error {
				a.as(t, "admin", "PUT", "/v1/parameters/app/dev/x", `{"type":"String","value":"v","overwrite":true}`)
				_, err := c.DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: aws.String("/app/dev/x")})
				return err
			},
			map[string]string{"admin": "ok", "writer": "ok"}},
	}
	whos := []string{"", "wrong-secret", "unknown", "expired", "disabled", "reader", "writer", "admin"}
	for _, c := range calls {
		for _, who := range whos {
			want := c.outcome[who]
			// Native: 200/201/204 ok, 401 without a valid credential, 403 without permission.
			wantNative := map[bool]int{true: 0, false: 403}[want == "ok"]
			switch who {
			case "", "wrong-secret", "unknown", "expired", "disabled":
				wantNative = 401
			}
			got := c.native(who)
			if (wantNative == 0 && got >= 300) || (wantNative != 0 && got != wantNative) {
				t.Errorf("%s by %q natively: status %d, want %v", c.name, who, got, map[bool]any{true: "success", false: wantNative}[wantNative == 0])
			}
			if who == "" {
				continue // an unsigned AWS client is not a case
			}
			err := c.viaSSM(a.ssmAs(t, who))
			wantSSM := "ok"
			switch {
			case who == "wrong-secret":
				wantSSM = "InvalidSignatureException"
			case who == "unknown" || who == "expired" || who == "disabled":
				wantSSM = "UnrecognizedClientException"
			case want != "ok":
				wantSSM = "AccessDeniedException"
			}
			gotSSM := "ok"
			var ae smithy.APIError
			if errors.As(err, &ae) {
				gotSSM = ae.ErrorCode()
			} else if err != nil {
				gotSSM = err.Error()
			}
			if gotSSM != wantSSM {
				t.Errorf("%s by %q over SigV4: %s, want %s", c.name, who, gotSSM, wantSSM)
			}
		}
	}
}

// TestScopedKeySeesOnlyItsSubtree checks that listings, metadata, the
// change log, snapshots and watch streams never show a scoped key a name
// outside what it may read.
func TestScopedKeySeesOnlyItsSubtree(t *testing.T) {
	a := mustOpenAccess(t)
	for _, p := range []string{"/app/prod/a", "/app/prod/secret-b", "/app/dev/c", "/other/d"} {
		a.as(t, "admin", "PUT", "/v1/parameters"+p, `{"type":"String","value":"v"}`).Want(t, 201, nil)
	}
	leak := func(what string, body []byte) {
		t.Helper()
		for _, hidden := range []string{"/app/dev/c", "/other/d"} {
			if strings.Contains(string(body), hidden) {
				t.Errorf("%s shows %s to the reader: %s", what, hidden, body)
			}
		}
		if !strings.Contains(string(body), "/app/prod/a") {
			t.Errorf("%s hides /app/prod/a from the reader: %s", what, body)
		}
	}
	leak("GET /v1/parameters?path=/&recursive", a.as(t, "reader", "GET", "/v1/parameters?path=/&recursive=true", "").Body)
	leak("GET /v1/metadata", a.as(t, "reader", "GET", "/v1/metadata", "").Body)
	leak("GET /v1/changes", a.as(t, "reader", "GET", "/v1/changes?after=0", "").Body)
	leak("GET /v1/snapshot", a.as(t, "reader", "GET", "/v1/snapshot?path=/", "").Body)
	if b := a.as(t, "reader", "GET", "/v1/parameters?path=/app/prod&recursive=true", "").Body; strings.Contains(string(b), "secret-b") {
		t.Errorf("the listing shows a name the reader's policy denies: %s", b)
	}
	// Snapshots of different keys are different entities.
	adminTag := a.as(t, "admin", "GET", "/v1/snapshot?path=/", "").Header.Get("ETag")
	readerTag := a.as(t, "reader", "GET", "/v1/snapshot?path=/", "").Header.Get("ETag")
	if adminTag == readerTag {
		t.Errorf("admin and reader snapshots share the ETag %s", adminTag)
	}

	// The SSM listing filters the same way.
	out, err := a.ssmAs(t, "reader").GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range out.Parameters {
		names = append(names, aws.ToString(p.Name))
	}
	if fmt.Sprint(names) != "[/app/prod/a]" {
		t.Errorf("SSM GetParametersByPath by the reader: %v, want [/app/prod/a]", names)
	}

	// A watch stream by the reader carries only its names.
	c := a.creds["reader"]
	req, _ := nethttp.NewRequest("GET", a.URL()+"/v1/watch?path=/", nil)
	req.Header.Set("Authorization", "Bearer "+c[0]+"."+c[1])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := nethttp.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a.as(t, "admin", "PUT", "/v1/parameters/other/d", `{"type":"String","value":"w","overwrite":true}`).Want(t, 200, nil)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/a", `{"type":"String","value":"w","overwrite":true}`).Want(t, 200, nil)
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "/app/prod/a") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("watch ended: %v; got %s", err, got.String())
		}
	}
	if strings.Contains(got.String(), "/other/d") {
		t.Errorf("the reader's watch carried /other/d: %s", got.String())
	}
}

// TestRefusalsAreAudited checks that failed credentials and denied actions
// land in the audit history, and that the audit needs vane:Admin.
func TestRefusalsAreAudited(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "reader", "PUT", "/v1/parameters/app/prod/x", `{"type":"String","value":"v"}`).WantError(t, 403, vane.EFORBIDDEN, "", "not authorized to perform ssm:PutParameter")
	a.as(t, "wrong-secret", "GET", "/v1/parameters/app/prod/x", "").WantError(t, 401, vane.EUNAUTHORIZED, "")
	a.as(t, "reader", "GET", "/v1/audit", "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:Admin")
	page, err := a.store.Audit(context.Background(), &vane.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range page.Entries {
		seen = append(seen, e.Principal+" "+e.Action+" "+e.Result)
		if strings.Contains(e.Detail, a.creds["wrong-secret"][1]) || strings.Contains(e.Detail, a.creds["reader"][1]) {
			t.Errorf("an audit entry holds a secret: %+v", e)
		}
	}
	want := []string{"reader ssm:PutParameter forbidden", "unauthenticated vane:Authenticate unauthorized", "reader vane:Admin forbidden"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("audit = %q, want %q", seen, want)
	}
	a.as(t, "admin", "GET", "/v1/audit", "").Want(t, 200, nil)
	a.Do(t, "GET", "/healthz", "").Want(t, 200, nil) // probes stay open
}

// TestDecryptNeedsKMSDecrypt checks that a SecureString's plaintext needs
// kms:Decrypt on its key, natively and over SigV4.
func TestDecryptNeedsKMSDecrypt(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/pw", `{"type":"SecureString","value":"hunter2"}`).Want(t, 201, nil)
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/pw?with_decryption=true", "").WantError(t, 403, vane.EFORBIDDEN, "", "kms:Decrypt")
	r := a.as(t, "reader", "GET", "/v1/parameters/app/prod/pw", "")
	if r.Status != 200 || strings.Contains(string(r.Body), "hunter2") {
		t.Errorf("sealed read by the reader: %d %s", r.Status, r.Body)
	}
	if r := a.as(t, "writer", "GET", "/v1/parameters/app/prod/pw?with_decryption=true", ""); !strings.Contains(string(r.Body), "hunter2") {
		t.Errorf("decrypted read by a key with kms:Decrypt: %d %s", r.Status, r.Body)
	}
	_, err := a.ssmAs(t, "reader").GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/prod/pw"), WithDecryption: aws.Bool(true)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("SSM GetParameter WithDecryption by the reader: %v, want AccessDeniedException", err)
	}
}

func TestAccessKeyAdministration(t *testing.T) {
	a := mustOpenAccess(t)
	var created struct {
		Key struct {
			ID, Name string
			Disabled bool
		} `json:"key"`
		Secret string `json:"secret"`
		Token  string `json:"token"`
	}
	body := `{"name": "ci", "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "/ci/*"}]}}`
	a.as(t, "admin", "POST", "/v1/access-keys", body).Want(t, 201, &created)
	if created.Key.Name != "ci" || created.Token != created.Key.ID+"."+created.Secret {
		t.Fatalf("created %+v", created)
	}
	a.creds["ci"] = [2]string{created.Key.ID, created.Secret}
	a.as(t, "admin", "PUT", "/v1/parameters/ci/x", `{"type":"String","value":"1"}`).Want(t, 201, nil)
	a.as(t, "ci", "GET", "/v1/parameters/ci/x", "").Want(t, 200, nil)
	a.as(t, "ci", "PUT", "/v1/parameters/ci/x", `{"type":"String","value":"2","overwrite":true}`).WantError(t, 403, vane.EFORBIDDEN, "")

	// The listing never shows a secret or its stored forms.
	r := a.as(t, "admin", "GET", "/v1/access-keys", "")
	r.Want(t, 200, nil)
	if strings.Contains(string(r.Body), created.Secret) || strings.Contains(string(r.Body), "secret_hash") || strings.Contains(string(r.Body), "sealed") || !strings.Contains(string(r.Body), `"name":"ci"`) {
		t.Errorf("key listing: %s", r.Body)
	}
	// Only admins administer keys.
	a.as(t, "reader", "POST", "/v1/access-keys", body).WantError(t, 403, vane.EFORBIDDEN, "", "vane:Admin")
	a.as(t, "admin", "POST", "/v1/access-keys", `{"name": "bad", "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParamter", "Resource": "*"}]}}`).
		WantError(t, 400, vane.EINVALID, "", "$.Statement[0].Action", "did you mean")

	var sim struct {
		Allowed     bool   `json:"allowed"`
		Explanation string `json:"explanation"`
	}
	a.as(t, "admin", "POST", "/v1/access-keys/"+created.Key.ID+"/simulate", `{"action": "ssm:PutParameter", "resource": "/ci/x"}`).Want(t, 200, &sim)
	if sim.Allowed || sim.Explanation == "" {
		t.Errorf("simulate put: %+v", sim)
	}
	a.as(t, "admin", "POST", "/v1/access-keys/"+created.Key.ID+"/simulate", `{"action": "ssm:GetParameter", "resource": "/ci/x"}`).Want(t, 200, &sim)
	if !sim.Allowed {
		t.Errorf("simulate get: %+v", sim)
	}

	// Disabling takes effect at once on this node.
	a.as(t, "admin", "PATCH", "/v1/access-keys/"+created.Key.ID, `{"disabled": true}`).Want(t, 200, nil)
	a.as(t, "ci", "GET", "/v1/parameters/ci/x", "").WantError(t, 401, vane.EUNAUTHORIZED, "")
	a.as(t, "admin", "PATCH", "/v1/access-keys/"+created.Key.ID, `{"disabled": false}`).Want(t, 200, nil)
	a.as(t, "ci", "GET", "/v1/parameters/ci/x", "").Want(t, 200, nil)
	a.as(t, "admin", "DELETE", "/v1/access-keys/"+a.creds["admin"][0], "").WantError(t, 409, vane.ECONFLICT, "", "itself")
	a.as(t, "admin", "DELETE", "/v1/access-keys/"+created.Key.ID, "").Want(t, 204, nil)
	a.as(t, "ci", "GET", "/v1/parameters/ci/x", "").WantError(t, 401, vane.EUNAUTHORIZED, "")

	page, err := a.store.Audit(context.Background(), &vane.AuditQuery{Principal: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range page.Entries {
		if strings.HasPrefix(e.Action, "vane:") {
			actions = append(actions, e.Action)
		}
		if strings.Contains(e.Detail, created.Secret) {
			t.Errorf("an audit entry holds the secret: %+v", e)
		}
	}
	if want := "[vane:CreateKey vane:UpdateKey vane:UpdateKey vane:DeleteKey]"; fmt.Sprint(actions) != want {
		t.Errorf("key changes audited: %v, want %s", actions, want)
	}
}

// TestReadAuditing checks that reads are audited only under the paths of
// /vane/settings/audited-read-paths.
func TestReadAuditing(t *testing.T) {
	a := mustOpenAccess(t)
	for _, p := range []string{"/app/prod/pci/card-key", "/app/prod/x"} {
		a.as(t, "admin", "PUT", "/v1/parameters"+p, `{"type":"String","value":"v"}`).Want(t, 201, nil)
	}
	count := func() int {
		page, err := a.store.Audit(context.Background(), &vane.AuditQuery{Action: "ssm:GetParameter"})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Entries)
	}
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/pci/card-key", "").Want(t, 200, nil)
	if n := count(); n != 0 {
		t.Fatalf("%d reads audited without the setting, want 0", n)
	}
	a.as(t, "admin", "PUT", "/v1/parameters/vane/settings/audited-read-paths", `{"type":"StringList","value":"/app/prod/pci"}`).Want(t, 201, nil)
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/pci/card-key", "").Want(t, 200, nil)
	a.as(t, "reader", "GET", "/v1/parameters/app/prod/x", "").Want(t, 200, nil)
	if n := count(); n != 1 {
		t.Errorf("%d reads audited, want 1 (only the one under /app/prod/pci)", n)
	}
	a.as(t, "reader", "GET", "/v1/parameters?path=/app/prod&recursive=true", "").Want(t, 200, nil)
	page, err := a.store.Audit(context.Background(), &vane.AuditQuery{Action: "ssm:GetParametersByPath"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Name != "/app/prod/pci/card-key" || page.Entries[0].Principal != "reader" {
		t.Errorf("listing audited as %+v, %v; want one entry for the card key by reader", page, err)
	}
}

// TestSigV4SigningKeyCacheDoesNotOutliveAKey: with the signing keys cached, a
// key disabled or deleted is refused on its very next request, as before.
func TestSigV4SigningKeyCacheDoesNotOutliveAKey(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/x", `{"type":"String","value":"v"}`).Want(t, 201, nil)
	ctx := context.Background()
	get := func(who string) error {
		_, err := a.ssmAs(t, who).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/prod/x")})
		return err
	}
	for range 3 { // the signing key is cached after the first
		if err := get("writer"); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	if _, err := a.keys.UpdateKey(ctx, a.creds["writer"][0], &auth.KeyUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	var ae smithy.APIError
	if err := get("writer"); !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("the disabled key's next request: %v", err)
	}
	if err := get("reader"); err != nil {
		t.Fatal(err)
	}
	if err := a.keys.DeleteKey(ctx, a.creds["reader"][0]); err != nil {
		t.Fatal(err)
	}
	if err := get("reader"); !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("the deleted key's next request: %v", err)
	}
}
