package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"
)

// TestAppConfigDataEndToEnd drives `vane serve` (access control on) with
// aws-sdk-go-v2's AppConfigData client signing with the admin key, and
// the CLI for writes: a freeform profile, then the feature-flags
// document; a flag changed with `vane put` is in the next poll's
// document and the poll after it is empty; and a session outlives a
// restart of the server, since tokens are signed with a key derived from
// the keyring on disk.
func TestAppConfigDataEndToEnd(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, logs := startSecureServer(t, bin, data)
	raw, err := os.ReadFile(filepath.Join(data, AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	id, secret, _ := strings.Cut(token, ".")
	cli := func(args ...string) {
		t.Helper()
		if r := runVaneEnv(t, bin, []string{"VANE_SERVER=" + srv.url, "VANE_TOKEN=" + token}, "", args...); r.code != 0 {
			t.Fatalf("vane %q: exit %d, %s", args, r.code, r.stderr)
		}
	}
	cli("put", "/shop/prod/tuning/limits", `{"max_items": 50}`)
	cli("put", "/shop/prod/features/new-checkout", `{"default": false, "rules": {"beta": {"when_match": true, "conditions": [{"action": "IN", "key": "tier", "value": ["beta"]}]}}}`)
	cli("put", "/shop/prod/features/dark-mode", "true")

	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/vane-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vane-test")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	client := func(url string) *appconfigdata.Client {
		return appconfigdata.NewFromConfig(cfg, func(o *appconfigdata.Options) { o.BaseEndpoint = aws.String(url) })
	}
	c := client(srv.url)
	ctx := context.Background()
	start := func(profile string) string {
		t.Helper()
		out, err := c.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{ApplicationIdentifier: aws.String("shop"),
			EnvironmentIdentifier: aws.String("prod"), ConfigurationProfileIdentifier: aws.String(profile)})
		if err != nil {
			t.Fatalf("StartConfigurationSession(%s): %v\n%s", profile, err, logs.String())
		}
		return aws.ToString(out.InitialConfigurationToken)
	}
	poll := func(token *string) []byte {
		t.Helper()
		out, err := c.GetLatestConfiguration(ctx, &appconfigdata.GetLatestConfigurationInput{ConfigurationToken: token})
		if err != nil {
			t.Fatalf("GetLatestConfiguration: %v", err)
		}
		*token = aws.ToString(out.NextPollConfigurationToken)
		return out.Configuration
	}

	limits := start("tuning/limits")
	if got := poll(&limits); string(got) != `{"max_items": 50}` {
		t.Fatalf("freeform profile: %q", got)
	}
	flags := start("features")
	var doc map[string]map[string]any
	if err := json.Unmarshal(poll(&flags), &doc); err != nil || doc["dark-mode"]["default"] != true || doc["new-checkout"]["rules"] == nil {
		t.Fatalf("feature-flags document: %v %v", doc, err)
	}
	cli("put", "--overwrite", "/shop/prod/features/dark-mode", "false")
	if err := json.Unmarshal(poll(&flags), &doc); err != nil || doc["dark-mode"]["default"] != false {
		t.Fatalf("after vane put: %v %v", doc, err)
	}
	if got := poll(&flags); len(got) != 0 {
		t.Fatalf("the poll after that: %q, want an empty body", got)
	}

	// The same session goes on after a restart.
	srv.stop(t)
	srv, _ = startSecureServer(t, bin, data)
	c = client(srv.url)
	if got := poll(&flags); len(got) != 0 {
		t.Fatalf("first poll after a restart: %q, want an empty body", got)
	}
	cli("put", "--overwrite", "/shop/prod/tuning/limits", `{"max_items": 80}`)
	if got := poll(&limits); string(got) != `{"max_items": 80}` {
		t.Fatalf("freeform profile after a restart and a put: %q", got)
	}
}
