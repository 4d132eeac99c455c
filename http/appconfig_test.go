package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata/types"
	"github.com/aws/smithy-go"

	vanehttp "github.com/vanehq/vane/http"
)

// appConfigData returns an AppConfigData client of s signing with the key
// id and secret given ("test" for a --dev server).
func appConfigData(tb testing.TB, endpoint, id, secret string) *appconfigdata.Client {
	tb.Helper()
	return appconfigdata.NewFromConfig(awsConfig(tb, id, secret), func(o *appconfigdata.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1
	})
}

// awsConfig returns an AWS SDK configuration with the static key given and
// nothing from the machine's AWS files or environment.
func awsConfig(tb testing.TB, id, secret string) aws.Config {
	tb.Helper()
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	tb.Setenv("AWS_CONFIG_FILE", "/nonexistent/vane-test")
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vane-test")
	tb.Setenv("AWS_PROFILE", "")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// poller follows one configuration session as a client does.
type poller struct {
	tb    testing.TB
	c     *appconfigdata.Client
	token string
}

func startSession(tb testing.TB, c *appconfigdata.Client, app, env, profile string, minPoll int32) *poller {
	tb.Helper()
	in := &appconfigdata.StartConfigurationSessionInput{ApplicationIdentifier: aws.String(app),
		EnvironmentIdentifier: aws.String(env), ConfigurationProfileIdentifier: aws.String(profile)}
	if minPoll != 0 {
		in.RequiredMinimumPollIntervalInSeconds = aws.Int32(minPoll)
	}
	out, err := c.StartConfigurationSession(context.Background(), in)
	if err != nil {
		tb.Fatalf("StartConfigurationSession(%s, %s, %s): %v", app, env, profile, err)
	}
	return &poller{tb: tb, c: c, token: aws.ToString(out.InitialConfigurationToken)}
}

// poll calls GetLatestConfiguration with the session's token and moves
// the session to the next one.
func (p *poller) poll() (*appconfigdata.GetLatestConfigurationOutput, error) {
	out, err := p.c.GetLatestConfiguration(context.Background(), &appconfigdata.GetLatestConfigurationInput{ConfigurationToken: aws.String(p.token)})
	if err == nil {
		p.token = aws.ToString(out.NextPollConfigurationToken)
	}
	return out, err
}

func (p *poller) mustPoll() *appconfigdata.GetLatestConfigurationOutput {
	p.tb.Helper()
	out, err := p.poll()
	if err != nil {
		p.tb.Fatalf("GetLatestConfiguration: %v", err)
	}
	return out
}

// wantAppConfigError fails unless err is the AWS error named code whose
// message contains msg.
func wantAppConfigError(tb testing.TB, err error, code, msg string) {
	tb.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		tb.Fatalf("error %v, want %s containing %q", err, code, msg)
	}
}

// wantProblem fails unless err is a BadRequestException about the
// configuration token with the given problem.
func wantProblem(tb testing.TB, err error, problem types.InvalidParameterProblem) {
	tb.Helper()
	var br *types.BadRequestException
	if !errors.As(err, &br) {
		tb.Fatalf("error %v, want BadRequestException (%s)", err, problem)
	}
	d, ok := br.Details.(*types.BadRequestDetailsMemberInvalidParameters)
	if br.Reason != types.BadRequestReasonInvalidParameters || !ok || d.Value["ConfigurationToken"].Problem != problem {
		tb.Fatalf("BadRequestException %q reason %q details %#v, want ConfigurationToken %s", aws.ToString(br.Message), br.Reason, br.Details, problem)
	}
}

func TestAppConfigDataServesAParameter(t *testing.T) {
	var clock testClock
	clock.set(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	s := MustOpen(t, func(h *vanehttp.Server) { h.Now = clock.now })
	limits := `{"max_items": 50, "timeout_ms": 2500}`
	s.Do(t, "PUT", "/v1/parameters/shop/prod/tuning/limits", `{"type":"String","value":`+quote(limits)+`}`).Want(t, 201, nil)
	c := appConfigData(t, s.URL(), "test", "test")

	p := startSession(t, c, "shop", "prod", "tuning/limits", 0)
	out := p.mustPoll()
	if string(out.Configuration) != limits || aws.ToString(out.ContentType) != "application/json" ||
		aws.ToString(out.VersionLabel) != "1" || out.NextPollIntervalInSeconds != 60 {
		t.Fatalf("first poll: %q %q label %q interval %d", out.Configuration, aws.ToString(out.ContentType), aws.ToString(out.VersionLabel), out.NextPollIntervalInSeconds)
	}
	spent := aws.ToString(out.NextPollConfigurationToken)
	if out := p.mustPoll(); len(out.Configuration) != 0 || aws.ToString(out.VersionLabel) != "" {
		t.Fatalf("second poll, nothing changed: %q label %q, want an empty body", out.Configuration, aws.ToString(out.VersionLabel))
	}
	// A token is good for one call.
	_, err := c.GetLatestConfiguration(context.Background(), &appconfigdata.GetLatestConfigurationInput{ConfigurationToken: aws.String(spent)})
	wantProblem(t, err, types.InvalidParameterProblemExpired)

	s.Do(t, "PUT", "/v1/parameters/shop/prod/tuning/limits", `{"type":"String","value":"{\"max_items\": 80}","overwrite":true}`).Want(t, 200, nil)
	if out := p.mustPoll(); string(out.Configuration) != `{"max_items": 80}` || aws.ToString(out.VersionLabel) != "2" {
		t.Fatalf("after a put: %q label %q", out.Configuration, aws.ToString(out.VersionLabel))
	}
	if out := p.mustPoll(); len(out.Configuration) != 0 {
		t.Fatalf("the poll after that: %q, want an empty body", out.Configuration)
	}

	// Tokens last 24 hours.
	clock.advance(24*time.Hour + time.Second)
	_, err = p.poll()
	wantProblem(t, err, types.InvalidParameterProblemExpired)

	// A token changed by the client is refused.
	p = startSession(t, c, "shop", "prod", "tuning/limits", 0)
	p.token = p.token[:len(p.token)-2] + "AA"
	_, err = p.poll()
	wantProblem(t, err, types.InvalidParameterProblemCorrupted)
	p.token = "not-a-token"
	_, err = p.poll()
	wantProblem(t, err, types.InvalidParameterProblemCorrupted)

	// The parameter deleted under a session.
	p = startSession(t, c, "shop", "prod", "tuning/limits", 0)
	s.Do(t, "DELETE", "/v1/parameters/shop/prod/tuning/limits", "").Want(t, 204, nil)
	_, err = p.poll()
	wantAppConfigError(t, err, "ResourceNotFoundException", "no longer exists")
}

func TestAppConfigDataRequiredMinimumPollInterval(t *testing.T) {
	var clock testClock
	clock.set(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	s := MustOpen(t, func(h *vanehttp.Server) { h.Now = clock.now })
	s.Do(t, "PUT", "/v1/parameters/shop/prod/banner", `{"type":"String","value":"hello"}`).Want(t, 201, nil)
	c := appConfigData(t, s.URL(), "test", "test")

	for _, bad := range []int32{14, 86401} {
		_, err := c.StartConfigurationSession(context.Background(), &appconfigdata.StartConfigurationSessionInput{
			ApplicationIdentifier: aws.String("shop"), EnvironmentIdentifier: aws.String("prod"),
			ConfigurationProfileIdentifier: aws.String("banner"), RequiredMinimumPollIntervalInSeconds: aws.Int32(bad)})
		wantAppConfigError(t, err, "BadRequestException", "from 15 to 86400")
	}
	p := startSession(t, c, "shop", "prod", "banner", 30)
	if out := p.mustPoll(); string(out.Configuration) != "hello" || out.NextPollIntervalInSeconds != 30 || aws.ToString(out.ContentType) != "text/plain" {
		t.Fatalf("first poll: %q interval %d type %q", out.Configuration, out.NextPollIntervalInSeconds, aws.ToString(out.ContentType))
	}
	clock.advance(29 * time.Second)
	_, err := p.poll()
	wantProblem(t, err, types.InvalidParameterProblemPollIntervalNotSatisfied)
	clock.advance(time.Second) // the refused poll did not spend the token
	if out := p.mustPoll(); len(out.Configuration) != 0 {
		t.Fatalf("poll after the interval: %q, want an empty body", out.Configuration)
	}
}

func TestAppConfigDataContentTypes(t *testing.T) {
	s := MustOpen(t)
	c := appConfigData(t, s.URL(), "test", "test")
	for _, tc := range []struct{ name, value, tag, want string }{
		{"json-object", `{"a": 1}`, "", "application/json"},
		{"json-array", ` [1, 2]`, "", "application/json"},
		{"yaml", "# limits\nmax_items: 50\nregions:\n  - eu-west-1\n", "", "application/x-yaml"},
		{"yaml-doc", "---\na: 1\n", "", "application/x-yaml"},
		{"text", "hello: world", "", "text/plain"}, // one line: text
		{"number", "42", "", "text/plain"},
		{"not-json", `{"a": `, "", "text/plain"},
		{"tagged", "a=1\nb=2\n", "text/x-properties", "text/x-properties"},
	} {
		body := map[string]any{"type": "String", "value": tc.value}
		if tc.tag != "" {
			body["tags"] = map[string]string{"ContentType": tc.tag}
		}
		b, _ := json.Marshal(body)
		s.Do(t, "PUT", "/v1/parameters/shop/prod/cfg/"+tc.name, string(b)).Want(t, 201, nil)
		out := startSession(t, c, "shop", "prod", "cfg/"+tc.name, 0).mustPoll()
		if got := aws.ToString(out.ContentType); got != tc.want || string(out.Configuration) != tc.value {
			t.Errorf("%s: Content-Type %q body %q, want %q", tc.name, got, out.Configuration, tc.want)
		}
	}
}

func TestAppConfigDataIdentifiers(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/shop/prod/banner", `{"type":"String","value":"hello"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/shop/prod/secret", `{"type":"SecureString","value":"hunter2"}`).Want(t, 201, nil)
	c := appConfigData(t, s.URL(), "test", "test")
	ctx := context.Background()
	start := func(app, env, profile string) error {
		_, err := c.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{ApplicationIdentifier: aws.String(app),
			EnvironmentIdentifier: aws.String(env), ConfigurationProfileIdentifier: aws.String(profile)})
		return err
	}
	for _, tc := range []struct {
		app, env, profile string
		resource          types.ResourceType
	}{
		{"nope", "prod", "banner", types.ResourceTypeApplication},
		{"shop", "nope", "banner", types.ResourceTypeEnvironment},
		{"shop", "prod", "nope", types.ResourceTypeConfigurationProfile},
		{"vane", "settings", "x", types.ResourceTypeApplication},
	} {
		err := start(tc.app, tc.env, tc.profile)
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || nf.ResourceType != tc.resource {
			t.Errorf("StartConfigurationSession(%s, %s, %s): %v, want ResourceNotFoundException for %s", tc.app, tc.env, tc.profile, err, tc.resource)
		}
	}
	// A leading slash on the profile is the same profile.
	if err := start("shop", "prod", "/banner"); err != nil {
		t.Errorf("profile /banner: %v", err)
	}
	// The features profile exists in every environment, if empty.
	if out := startSession(t, c, "shop", "prod", "features", 0).mustPoll(); string(out.Configuration) != "{}" {
		t.Errorf("features with no flags: %q, want {}", out.Configuration)
	}
	// SecureString values are not served.
	_, err := startSession(t, c, "shop", "prod", "secret", 0).poll()
	wantAppConfigError(t, err, "BadRequestException", "SecureString")
}

func TestAppConfigDataServesFlagsAsAPowertoolsDocument(t *testing.T) {
	a := mustOpenAccess(t)
	flags := map[string]string{
		"dark-mode": `true`,
		"checkout":  `{"default": false, "rules": {"beta": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]}}}`,
		"gradual":   `{"enabled": true, "rollout_percentage": 20}`,
	}
	for name, v := range flags {
		a.as(t, "admin", "PUT", "/v1/parameters/app/prod/features/"+name, `{"type":"String","value":`+quote(v)+`}`).Want(t, 201, nil)
	}
	c := appConfigData(t, a.URL(), a.creds["admin"][0], a.creds["admin"][1])
	p := startSession(t, c, "app", "prod", "features", 0)
	out := p.mustPoll()
	var doc map[string]map[string]any
	if err := json.Unmarshal(out.Configuration, &doc); err != nil {
		t.Fatalf("document %q: %v", out.Configuration, err)
	}
	if aws.ToString(out.ContentType) != "application/json" || doc["dark-mode"]["default"] != true ||
		doc["checkout"]["rules"] == nil || doc["gradual"] != nil || len(doc) != 2 {
		t.Fatalf("document %s (%s)", out.Configuration, aws.ToString(out.ContentType))
	}
	label := aws.ToString(out.VersionLabel)
	if label == "" {
		t.Fatal("no Version-Label")
	}
	// The flag left out is named in the response metadata and the log.
	if !strings.Contains(a.Logs.String(), "/app/prod/features/gradual") {
		t.Errorf("the server log does not name the flag left out:\n%s", a.Logs.String())
	}
	// A change is served on the next poll, then an empty body.
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/features/dark-mode", `{"type":"String","value":"false","overwrite":true}`).Want(t, 200, nil)
	out = p.mustPoll()
	if err := json.Unmarshal(out.Configuration, &doc); err != nil || doc["dark-mode"]["default"] != false || aws.ToString(out.VersionLabel) == label {
		t.Fatalf("after the change: %s label %q (was %q)", out.Configuration, aws.ToString(out.VersionLabel), label)
	}
	if out := p.mustPoll(); len(out.Configuration) != 0 {
		t.Fatalf("the poll after that: %q, want an empty body", out.Configuration)
	}
}

func TestAppConfigDataWarningsInResponseMetadata(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/gradual", `{"type":"String","value":"{\"rollout_percentage\": 20}"}`).Want(t, 201, nil)
	c := appConfigData(t, s.URL(), "test", "test")
	p := startSession(t, c, "app", "prod", "features", 0)
	// The raw response: the SDK keeps headers in the result metadata only
	// as the HTTP response, read here through a plain GET.
	r := s.Do(t, "GET", "/configuration?configuration_token="+url.QueryEscape(p.token), "")
	r.Want(t, 200, nil)
	w := r.Header.Values("X-Vane-Warning")
	if len(w) != 1 || !strings.Contains(w[0], "/app/prod/features/gradual") {
		t.Fatalf("X-Vane-Warning %q", w)
	}
}

func TestAppConfigDataAccessControl(t *testing.T) {
	a := mustOpenAccess(t)
	for _, n := range []string{"/app/prod/x", "/app/dev/x", "/app/prod/secret-token", "/app/prod/features/on"} {
		v := "v"
		if strings.Contains(n, "features") {
			v = "true"
		}
		a.as(t, "admin", "PUT", "/v1/parameters"+n, `{"type":"String","value":"`+v+`"}`).Want(t, 201, nil)
	}
	reader := appConfigData(t, a.URL(), a.creds["reader"][0], a.creds["reader"][1])
	if out := startSession(t, reader, "app", "prod", "x", 0).mustPoll(); string(out.Configuration) != "v" {
		t.Fatalf("reader's poll of /app/prod/x: %q", out.Configuration)
	}
	ctx := context.Background()
	// What the reader may not read does not exist for it: an environment
	// it sees nothing of is not found, and a parameter it may not read is
	// refused whether it exists or not.
	for _, tc := range []struct{ env, profile, code string }{
		{"dev", "x", "ResourceNotFoundException"},
		{"prod", "secret-token", "AccessDeniedException"},
		{"prod", "secret-nothing", "AccessDeniedException"},
	} {
		_, err := reader.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{ApplicationIdentifier: aws.String("app"),
			EnvironmentIdentifier: aws.String(tc.env), ConfigurationProfileIdentifier: aws.String(tc.profile)})
		wantAppConfigError(t, err, tc.code, "")
	}
	// A token is bound to the credential that started its session.
	admin := appConfigData(t, a.URL(), a.creds["admin"][0], a.creds["admin"][1])
	p := startSession(t, admin, "app", "prod", "x", 0)
	_, err := (&poller{tb: t, c: reader, token: p.token}).poll()
	wantProblem(t, err, types.InvalidParameterProblemCorrupted)
	// Unknown keys, wrong secrets and no credential at all are refused.
	for _, who := range []string{"unknown", "wrong-secret", "disabled"} {
		c := appConfigData(t, a.URL(), a.creds[who][0], a.creds[who][1])
		_, err := c.StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{ApplicationIdentifier: aws.String("app"),
			EnvironmentIdentifier: aws.String("prod"), ConfigurationProfileIdentifier: aws.String("x")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || (ae.ErrorCode() != "UnrecognizedClientException" && ae.ErrorCode() != "InvalidSignatureException") {
			t.Errorf("%s: %v, want the request refused", who, err)
		}
	}
	r := a.Do(t, "GET", "/configuration?configuration_token="+url.QueryEscape(p.token), "")
	if r.Status != 401 {
		t.Errorf("poll without a credential: %d, want 401", r.Status)
	}
	// The reader's feature document holds what it may read.
	if out := startSession(t, reader, "app", "prod", "features", 0).mustPoll(); !strings.Contains(string(out.Configuration), `"on"`) {
		t.Errorf("reader's flags: %s", out.Configuration)
	}
}

// TestAppConfigDataSignedForAppConfig: a credential scoped to another
// service is refused, as AWS refuses it.
func TestAppConfigDataSignedForAppConfig(t *testing.T) {
	a := mustOpenAccess(t)
	c := a.creds["admin"]
	now := time.Now().UTC()
	r := a.Do(t, "POST", "/configurationsessions", `{}`, "Authorization",
		"AWS4-HMAC-SHA256 Credential="+c[0]+"/"+now.Format("20060102")+"/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"X-Amz-Date", now.Format("20060102T150405Z"))
	if r.Status != 403 || r.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" || !strings.Contains(string(r.Body), "correct service: 'appconfig'") {
		t.Fatalf("a credential scoped to ssm: %d %s %s", r.Status, r.Header.Get("X-Amzn-ErrorType"), r.Body)
	}
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
