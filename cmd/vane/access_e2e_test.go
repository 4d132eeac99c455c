package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/vanehq/vane/sdk"
)

// startSecureServer starts `vane serve` as a production start would, with
// access control, on a data directory, and returns it with its stderr.
func startSecureServer(t *testing.T, bin, data string) (*crashServer, *lockedBuffer) {
	t.Helper()
	s := startVaneServe(t, bin, "--addr", "127.0.0.1:0", "--data", data)
	t.Cleanup(func() { s.cmd.Process.Kill() })
	return s, s.logs
}

// TestSecureByDefault starts vane serve without --dev: it creates an admin
// key on first start (shown once, saved 0600), refuses requests without a
// credential, and the CLI, an AWS SDK with SigV4 and the Go SDK all work
// with the key and no other credential.
func TestSecureByDefault(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, logs := startSecureServer(t, bin, data)
	keyFile := filepath.Join(data, AdminKeyFile)
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no admin key file: %v\n%s", err, logs.String())
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin key file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(keyFile)
	token := strings.TrimSpace(string(raw))
	id, secret, ok := strings.Cut(token, ".")
	if !ok || !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), secret) {
		t.Fatalf("the admin key was not shown on first start:\n%s", logs.String())
	}
	if strings.Count(logs.String(), secret) != 1 {
		t.Errorf("the secret appears %d times in the server's output, want exactly once", strings.Count(logs.String(), secret))
	}

	// No credential, no access; the probes stay open.
	for path, want := range map[string]int{"/v1/parameters?path=/": 401, "/metrics": 401, "/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without a credential: %d, want %d", path, resp.StatusCode, want)
		}
	}

	// The CLI finds the admin key in the data directory, or takes VANE_TOKEN.
	res := runVane(t, bin, srv.url, "", "put", "/app/prod/x", "42")
	if res.code != 1 || !strings.Contains(res.stderr, "credential") {
		t.Errorf("vane put without a credential: exit %d, stderr %q", res.code, res.stderr)
	}
	withData := func(args ...string) cliResult {
		return runVaneEnv(t, bin, []string{"VANE_SERVER=" + srv.url, "VANE_DATA=" + data}, "", args...)
	}
	if r := withData("put", "/app/prod/x", "42"); r.code != 0 {
		t.Fatalf("vane put with VANE_DATA: exit %d, %s", r.code, r.stderr)
	}
	if r := runVaneEnv(t, bin, []string{"VANE_SERVER=" + srv.url, "VANE_TOKEN=" + token}, "", "get", "/app/prod/x"); r.code != 0 || strings.TrimSpace(r.stdout) != "42" {
		t.Errorf("vane get with VANE_TOKEN: %q, %d %s", r.stdout, r.code, r.stderr)
	}

	// An AWS SDK with the Vane key as its only credential.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/vane-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vane-test")
	awsClient := func(id, secret string) *ssm.Client {
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
		if err != nil {
			t.Fatal(err)
		}
		return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.url); o.RetryMaxAttempts = 1 })
	}
	out, err := awsClient(id, secret).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/prod/x")})
	if err != nil || aws.ToString(out.Parameter.Value) != "42" {
		t.Errorf("SSM GetParameter with the admin key: %v, %v", out, err)
	}
	_, err = awsClient("test", "test").GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/prod/x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("SSM with made-up credentials: %v, want UnrecognizedClientException", err)
	}

	// The Go SDK with the key as its token.
	c, err := sdk.Open(context.Background(), sdk.Config{Server: srv.url, Token: token, Paths: []string{"/app/prod/"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.String("x", ""); got != "42" {
		t.Errorf("SDK with the admin token reads %q, status %+v", got, c.Status())
	}

	// A restart keeps the key and creates no other.
	srv.kill(t)
	_, logs2 := startSecureServer(t, bin, data)
	if strings.Contains(logs2.String(), "Created the admin access key") {
		t.Error("a second start created another admin key")
	}
	if raw2, _ := os.ReadFile(keyFile); string(raw2) != string(raw) {
		t.Error("a second start replaced admin.key")
	}
	if r := runVane(t, bin, "", "", "serve", "--dev", "--addr", "0.0.0.0:0"); r.code != 2 || !strings.Contains(r.stderr, "loopback") {
		t.Errorf("--dev on a public address: exit %d, %q", r.code, r.stderr)
	}
}

// TestAccessKeysCLI creates a scoped key with vane keys, uses it, explains
// a decision with vane policy simulate, and disables and deletes it.
func TestAccessKeysCLI(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, _ := startSecureServer(t, bin, data)
	run := func(token string, args ...string) cliResult {
		t.Helper()
		env := []string{"VANE_SERVER=" + srv.url, "VANE_DATA=" + data}
		if token != "" {
			env = append(env, "VANE_TOKEN="+token)
		}
		return runVaneEnv(t, bin, env, "", args...)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter*"],"Resource":"/team-a/*"}]}`
	res := run("", "keys", "create", "team-a-reader", "--policy", policy)
	if res.code != 0 {
		t.Fatalf("vane keys create: %d %s", res.code, res.stderr)
	}
	var id, token string
	for _, line := range strings.Split(res.stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "access key id:"); ok {
			id = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "bearer token:"); ok {
			token = strings.TrimSpace(v)
		}
	}
	if id == "" || token == "" {
		t.Fatalf("vane keys create printed no id or token:\n%s", res.stdout)
	}
	run("", "put", "/team-a/x", "1")
	run("", "put", "/team-b/y", "2")
	if r := run(token, "get", "/team-a/x"); r.code != 0 || strings.TrimSpace(r.stdout) != "1" {
		t.Errorf("the scoped key reads its subtree: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := run(token, "get", "/team-b/y"); r.code != 1 || !strings.Contains(r.stderr, "not authorized") {
		t.Errorf("the scoped key reads another subtree: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := run(token, "ls", "/", "-r"); strings.Contains(r.stdout, "/team-b/") {
		t.Errorf("the scoped key's listing shows /team-b: %s", r.stdout)
	}
	if r := run("", "policy", "simulate", id, "ssm:PutParameter", "/team-a/x"); r.code != 0 || !strings.HasPrefix(r.stdout, "DENIED") {
		t.Errorf("policy simulate put: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := run("", "policy", "simulate", id, "ssm:GetParameter", "/team-a/x"); !strings.HasPrefix(r.stdout, "ALLOWED") {
		t.Errorf("policy simulate get: %q", r.stdout)
	}
	if r := run("", "keys", "list"); !strings.Contains(r.stdout, "team-a-reader") || strings.Contains(r.stdout, strings.SplitN(token, ".", 2)[1]) {
		t.Errorf("vane keys list: %s", r.stdout)
	}
	run("", "keys", "disable", id)
	if r := run(token, "get", "/team-a/x"); r.code != 1 {
		t.Errorf("a disabled key still reads: %d %q", r.code, r.stdout)
	}
	if r := run("", "keys", "delete", id); r.code != 0 {
		t.Errorf("vane keys delete: %d %s", r.code, r.stderr)
	}
	if r := run(token, "get", "/team-a/x"); r.code != 1 {
		t.Errorf("a deleted key still reads: %d %q", r.code, r.stdout)
	}
	if r := run("", "audit", "--action", "vane:CreateKey"); !strings.Contains(r.stdout, id) {
		t.Errorf("the key's creation is not in the audit history:\n%s", r.stdout)
	}
}
