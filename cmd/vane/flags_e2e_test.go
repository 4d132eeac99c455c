package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/sdk"
	vaneof "github.com/vanehq/vane/sdk/openfeature"
)

// TestFlagLifecycleEvaluatedIdentically creates a flag with the AWS SDK
// (SSM PutParameter), rolls it to 5% and then 50% and targets it by a rule
// with `vane put`, and after each step evaluates it for 300 users four
// ways: the Go SDK locally, the server (POST /v1/evaluate), OFREP, and the
// OpenFeature Go SDK through Vane's provider. All four must agree on the
// value, variant and reason for every user.
func TestFlagLifecycleEvaluatedIdentically(t *testing.T) {
	srv := startServer(t)
	const name = "/shop/prod/features/new-checkout"
	ctx := context.Background()

	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/vane-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vane-test")
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		t.Fatal(err)
	}
	awsc := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := awsc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Type: "String",
		Value: aws.String(`{"enabled": true, "rollout_percentage": 0, "fallback_on_error": false}`)}); err != nil {
		t.Fatal(err)
	}
	// A bad document is refused through the AWS API too.
	if _, err := awsc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Type: "String", Overwrite: aws.Bool(true),
		Value: aws.String(`{"rollout_percentage": 150}`)}); err == nil {
		t.Fatal("PutParameter of an invalid flag document succeeded")
	}

	client, err := sdk.Open(ctx, sdk.Config{Server: srv.URL, Paths: []string{"/shop/prod/"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	api := isolated.NewAPI()
	defer api.Shutdown(ctx)
	if err := api.SetProviderAndWait(ctx, vaneof.NewProvider(client)); err != nil {
		t.Fatal(err)
	}
	ofc := api.NewClient()
	hc := &http.Client{Timeout: 10 * time.Second}

	steps := []struct {
		what string
		doc  string
	}{
		{"rolled to 5%", `{"enabled": true, "rollout_percentage": 5, "fallback_on_error": false}`},
		{"rolled to 50%", `{"enabled": true, "rollout_percentage": 50, "fallback_on_error": false}`},
		{"targeted by a rule", `{"enabled": true, "rollout_percentage": 50, "fallback_on_error": false, "excluded_user_ids": ["user-7"],
			"rules": [{"name": "staff", "when_match": true, "conditions": [{"action": "ENDSWITH", "key": "email", "value": "@shop.example"}]}],
			"default": false}`},
	}
	var prevOn map[string]bool
	for i, step := range steps {
		srv.ok(t, "put", name, step.doc, "--overwrite")
		version := int64(i + 2)
		deadline := time.Now().Add(10 * time.Second)
		for client.Flag(ctx, name, nil).Version != version {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the SDK did not see version %d", step.what, version)
			}
			time.Sleep(5 * time.Millisecond)
		}
		on := map[string]bool{}
		for u := 0; u < 300; u++ {
			user := fmt.Sprintf("user-%d", u)
			evalCtx := flag.Context{"targetingKey": user}
			if u%10 == 0 {
				evalCtx["email"] = user + "@shop.example"
			}
			local := client.Flag(ctx, name, evalCtx)
			server := evaluateOn(t, hc, srv.URL+"/v1/evaluate"+name, evalCtx)
			ofrep := evaluateOn(t, hc, srv.URL+"/ofrep/v1/evaluate/flags/shop/prod/features/new-checkout", evalCtx)
			attrs := map[string]any{}
			for k, v := range evalCtx {
				if k != "targetingKey" {
					attrs[k] = v
				}
			}
			d, err := ofc.BooleanValueDetails(ctx, name, false, of.NewEvaluationContext(user, attrs))
			if err != nil {
				t.Fatalf("%s: OpenFeature %s: %v", step.what, user, err)
			}
			want := fmt.Sprintf("%v/%s/%s", local.Value, local.Variant, local.Reason)
			for what, got := range map[string]string{
				"server":      fmt.Sprintf("%v/%s/%s", server.Value, server.Variant, server.Reason),
				"OFREP":       fmt.Sprintf("%v/%s/%s", ofrep.Value, ofrep.Variant, ofrep.Reason),
				"OpenFeature": fmt.Sprintf("%v/%s/%s", d.Value, d.Variant, d.Reason),
			} {
				if got != want {
					t.Fatalf("%s: %s: %s says %s, the SDK says %s", step.what, user, what, got, want)
				}
			}
			on[user] = local.Value == true
		}
		n := 0
		for user, v := range on {
			if v {
				n++
			}
			if prevOn != nil && prevOn[user] && !v && user != "user-7" {
				t.Errorf("%s: %s was on before and is off now", step.what, user)
			}
		}
		t.Logf("%s: %d of 300 users on, all four evaluators agree", step.what, n)
		prevOn = on
	}
}

// evaluateOn posts a context to an evaluation endpoint (native or OFREP,
// whose result fields share their names).
func evaluateOn(t *testing.T, c *http.Client, url string, evalCtx flag.Context) (r struct {
	Value   any    `json:"value"`
	Variant string `json:"variant"`
	Reason  string `json:"reason"`
}) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"context": evalCtx})
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFlagsCLI runs vane put, vane flags eval and vane flags ls against a
// real server.
func TestFlagsCLI(t *testing.T) {
	srv := startServer(t)
	srv.fails(t, 1, []string{"put", "/app/prod/features/checkout", `{"enabled": true, "rollout_percentage": 120}`},
		"$.rollout_percentage: 120 is not from 0 to 100", "ValidationException")
	srv.ok(t, "put", "/app/prod/features/checkout", `{"rollout_percentage": 100, "rules": [{"name": "beta", "when_match": true,
		"conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]}], "default": false}`)
	srv.ok(t, "put", "/app/prod/features/dark-mode", "true")
	srv.ok(t, "put", "/app/prod/features/kill", `{"enabled": false}`)
	srv.ok(t, "put", "/app/prod/tuning/ttl", "300")

	out := srv.ok(t, "flags", "eval", "/app/prod/features/checkout", "--ctx", "targetingKey=u1", "--ctx", "tier=beta")
	rows := tableRows(t, out, "VALUE", "VARIANT", "REASON", "RULE")
	if fmt.Sprint(rows) != "[[true on TARGETING_MATCH beta]]" {
		t.Errorf("flags eval: %v", rows)
	}
	out = srv.ok(t, "flags", "eval", "/app/prod/features/checkout", "--ctx", "targetingKey=u1", "--ctx", "tier=7", "-o", "json")
	var r struct {
		Value  any
		Reason string
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Value != true || r.Reason != "SPLIT" {
		t.Errorf("flags eval -o json (tier=7 is the number 7, no rule match): %s", out)
	}
	srv.fails(t, 1, []string{"flags", "eval", "/app/prod/tuning/ttl"}, "not a flag")
	srv.fails(t, 2, []string{"flags", "eval", "/app/prod/features/checkout", "--ctx", "novalue"}, "KEY=VALUE")

	// An SDK's usage report shows in the listing.
	body := `{"usage": [{"name": "/app/prod/features/checkout", "variant": "on", "count": 42, "last": "` + time.Now().UTC().Format(time.RFC3339) + `"}]}`
	resp, err := http.Post(srv.URL+"/v1/usage", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /v1/usage: %v %v", resp, err)
	}
	resp.Body.Close()
	out = srv.ok(t, "flags", "ls", "/app")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if cols := regexp.MustCompile(`\s{2,}`).Split(lines[0], -1); fmt.Sprint(cols) != "[NAME STATE ROLLOUT RULES LAST EVALUATED EVALS 30D]" {
		t.Fatalf("flags ls header %q", cols)
	}
	got := map[string]string{}
	for _, line := range lines[1:] {
		row := regexp.MustCompile(`\s{2,}`).Split(line, -1)
		got[row[0]] = strings.Join(append(row[1:4], row[5]), " ")
		if row[0] == "/app/prod/features/checkout" && row[4] == "never" {
			t.Errorf("checkout shows no last evaluation: %v", row)
		}
	}
	want := map[string]string{
		"/app/prod/features/checkout":  "enabled 100% 1 42",
		"/app/prod/features/dark-mode": "true - 0 0",
		"/app/prod/features/kill":      "disabled - 0 0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flags ls:\n%s\ngot %v\nwant %v", out, got, want)
	}
}

// TestFlagsStaleCLI runs vane flags stale against a real server: the flags
// never evaluated are listed with their owners, evaluated ones are not.
func TestFlagsStaleCLI(t *testing.T) {
	srv := startServer(t)
	srv.ok(t, "put", "/app/prod/features/used", `{"enabled": true, "rollout_percentage": 50}`)
	srv.ok(t, "put", "/app/prod/features/forgotten", `{"enabled": true, "rollout_percentage": 50, "owner": "team-web"}`)
	srv.ok(t, "put", "/app/prod/features/lapsed", `{"enabled": true, "rollout_percentage": 50, "expires": "2026-01-01T00:00:00Z"}`)
	body := `{"usage": [{"name": "/app/prod/features/used", "variant": "on", "count": 3, "last": "` + time.Now().UTC().Format(time.RFC3339) + `"},
		{"name": "/app/prod/features/lapsed", "variant": "on", "count": 3, "last": "` + time.Now().UTC().Format(time.RFC3339) + `"}]}`
	resp, err := http.Post(srv.URL+"/v1/usage", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /v1/usage: %v %v", resp, err)
	}
	resp.Body.Close()
	out := srv.ok(t, "flags", "stale", "/app", "--days", "7")
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(line, -1))
	}
	if len(rows) != 2 || rows[0][0] != "/app/prod/features/forgotten" || rows[0][1] != "team-web" || rows[0][2] != "never" ||
		rows[0][3] != "never evaluated" || rows[1][0] != "/app/prod/features/lapsed" || !strings.HasPrefix(rows[1][3], "past its expiry date 2026-01-01") {
		t.Errorf("flags stale:\n%s", out)
	}
	var report struct {
		Days  int `json:"days"`
		Flags []struct {
			Name    string                  `json:"name"`
			Reasons []struct{ Code string } `json:"reasons"`
		} `json:"flags"`
	}
	if err := json.Unmarshal([]byte(srv.ok(t, "flags", "stale", "/app", "-o", "json")), &report); err != nil || report.Days != 30 || len(report.Flags) != 2 ||
		report.Flags[0].Reasons[0].Code != "never_evaluated" {
		t.Errorf("flags stale -o json: %+v, %v", report, err)
	}
	srv.fails(t, 2, []string{"flags", "stale", "--days", "0"}, "--days")
}
