package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfig"
	"github.com/aws/aws-sdk-go-v2/service/appconfig/types"
	"github.com/aws/aws-sdk-go-v2/service/appconfigdata"
	"github.com/aws/smithy-go"

	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
)

// appConfigControl returns an AppConfig (control plane) client of the
// server at endpoint signing with the key id and secret given ("test" for
// a --dev server).
func appConfigControl(tb testing.TB, endpoint, id, secret string) *appconfig.Client {
	tb.Helper()
	return appconfig.NewFromConfig(awsConfig(tb, id, secret), func(o *appconfig.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1
	})
}

// putTree writes String parameters (name → value) through the native API.
func putTree(t *testing.T, s *Server, tree map[string]string) {
	t.Helper()
	for name, v := range tree {
		s.MustPut(t, name, v)
	}
}

// isID reports whether s has the form of AppConfig's IDs.
func isID(s string) bool {
	return len(s) == 7 && strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyz") == ""
}

// shopTree is the parameter tree most tests below start from.
var shopTree = map[string]string{
	"/shop/prod/tuning/limits":           `{"max_items": 50}`,
	"/shop/prod/features/new-checkout":   "false",
	"/shop/dev/banner":                   "hello",
	"/blog/prod/x":                       "1",
	"/solo/only":                         "no environment",
	"/toplevel":                          "no application",
	"/vane/settings/allow-flag-deletion": "true",
}

func TestAppConfigControlListsTheTree(t *testing.T) {
	s := MustOpen(t)
	putTree(t, s, shopTree)
	c := appConfigControl(t, s.URL(), "test", "test")
	ctx := context.Background()

	apps, err := c.ListApplications(ctx, &appconfig.ListApplicationsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ids := map[string]string{}
	for _, a := range apps.Items {
		names = append(names, aws.ToString(a.Name))
		ids[aws.ToString(a.Name)] = aws.ToString(a.Id)
		if !isID(aws.ToString(a.Id)) || aws.ToString(a.Description) != "" {
			t.Errorf("application %+v", a)
		}
	}
	if strings.Join(names, " ") != "blog shop solo" || apps.NextToken != nil {
		t.Fatalf("applications %q, next %v; want blog shop solo (not vane, not toplevel)", names, apps.NextToken)
	}

	t.Run("GetApplicationByNameAndID", func(t *testing.T) {
		for _, ident := range []string{"shop", ids["shop"]} {
			a, err := c.GetApplication(ctx, &appconfig.GetApplicationInput{ApplicationId: aws.String(ident)})
			if err != nil || aws.ToString(a.Name) != "shop" || aws.ToString(a.Id) != ids["shop"] {
				t.Fatalf("GetApplication(%s): %+v, %v", ident, a, err)
			}
		}
		for _, ident := range []string{"nope", "vane", "zzzzzzz"} {
			_, err := c.GetApplication(ctx, &appconfig.GetApplicationInput{ApplicationId: aws.String(ident)})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("GetApplication(%s): %v, want ResourceNotFoundException", ident, err)
			}
		}
	})

	t.Run("Environments", func(t *testing.T) {
		envs, err := c.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: aws.String(ids["shop"])})
		if err != nil {
			t.Fatal(err)
		}
		if len(envs.Items) != 2 || aws.ToString(envs.Items[0].Name) != "dev" || aws.ToString(envs.Items[1].Name) != "prod" {
			t.Fatalf("environments of shop: %+v", envs.Items)
		}
		prod := envs.Items[1]
		if prod.State != types.EnvironmentStateReadyForDeployment || aws.ToString(prod.ApplicationId) != ids["shop"] ||
			!isID(aws.ToString(prod.Id)) || prod.Monitors == nil {
			t.Errorf("prod: %+v", prod)
		}
		e, err := c.GetEnvironment(ctx, &appconfig.GetEnvironmentInput{ApplicationId: aws.String("shop"), EnvironmentId: prod.Id})
		if err != nil || aws.ToString(e.Name) != "prod" {
			t.Fatalf("GetEnvironment by ID: %+v, %v", e, err)
		}
		if out, err := c.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: aws.String("solo")}); err != nil || len(out.Items) != 0 {
			t.Errorf("environments of solo: %+v, %v; want none", out, err)
		}
		_, err = c.GetEnvironment(ctx, &appconfig.GetEnvironmentInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("qa")})
		wantAppConfigError(t, err, "ResourceNotFoundException", "qa")
	})

	t.Run("Profiles", func(t *testing.T) {
		out, err := c.ListConfigurationProfiles(ctx, &appconfig.ListConfigurationProfilesInput{ApplicationId: aws.String("shop")})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]types.ConfigurationProfileSummary{}
		var order []string
		for _, p := range out.Items {
			got[aws.ToString(p.Name)] = p
			order = append(order, aws.ToString(p.Name))
		}
		if strings.Join(order, " ") != "banner features features/new-checkout tuning/limits" {
			t.Fatalf("profiles of shop: %q", order)
		}
		if got["features"].Type == nil || *got["features"].Type != "AWS.AppConfig.FeatureFlags" || *got["tuning/limits"].Type != "AWS.Freeform" ||
			*got["features/new-checkout"].Type != "AWS.Freeform" || aws.ToString(got["banner"].LocationUri) != "hosted" {
			t.Errorf("profile types: %+v", got)
		}
		flags, err := c.ListConfigurationProfiles(ctx, &appconfig.ListConfigurationProfilesInput{ApplicationId: aws.String("shop"),
			Type: aws.String("AWS.AppConfig.FeatureFlags")})
		if err != nil || len(flags.Items) != 1 || aws.ToString(flags.Items[0].Name) != "features" {
			t.Fatalf("feature flag profiles: %+v, %v", flags, err)
		}
		// By ID, and by name: the SDK escapes the slash of tuning/limits.
		id := aws.ToString(got["tuning/limits"].Id)
		for _, ident := range []string{id, "tuning/limits"} {
			p, err := c.GetConfigurationProfile(ctx, &appconfig.GetConfigurationProfileInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: aws.String(ident)})
			if err != nil || aws.ToString(p.Name) != "tuning/limits" || aws.ToString(p.Id) != id || aws.ToString(p.ApplicationId) != ids["shop"] {
				t.Fatalf("GetConfigurationProfile(%s): %+v, %v", ident, p, err)
			}
		}
		_, err = c.GetConfigurationProfile(ctx, &appconfig.GetConfigurationProfileInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: aws.String("tuning")})
		wantAppConfigError(t, err, "ResourceNotFoundException", "tuning")
	})

	t.Run("ProfileIDsAgreeWithTheDataPlane", func(t *testing.T) {
		p, err := c.GetConfigurationProfile(ctx, &appconfig.GetConfigurationProfileInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: aws.String("tuning/limits")})
		if err != nil {
			t.Fatal(err)
		}
		e, err := c.GetEnvironment(ctx, &appconfig.GetEnvironmentInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod")})
		if err != nil {
			t.Fatal(err)
		}
		data := appConfigData(t, s.URL(), "test", "test")
		out := startSession(t, data, ids["shop"], aws.ToString(e.Id), aws.ToString(p.Id), 0).mustPoll()
		if string(out.Configuration) != `{"max_items": 50}` {
			t.Fatalf("poll by the control plane's IDs: %q", out.Configuration)
		}
	})
}

func TestAppConfigControlPaging(t *testing.T) {
	s := MustOpen(t)
	tree := map[string]string{}
	for _, app := range []string{"a1", "a2", "a3", "a4", "a5"} {
		tree["/"+app+"/prod/x"] = "1"
	}
	putTree(t, s, tree)
	c := appConfigControl(t, s.URL(), "test", "test")
	ctx := context.Background()

	var got []string
	in := &appconfig.ListApplicationsInput{MaxResults: aws.Int32(2)}
	var tokens []string
	for {
		out, err := c.ListApplications(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) > 2 {
			t.Fatalf("a page of %d with MaxResults 2", len(out.Items))
		}
		for _, a := range out.Items {
			got = append(got, aws.ToString(a.Name))
		}
		if out.NextToken == nil {
			break
		}
		tokens = append(tokens, *out.NextToken)
		in.NextToken = out.NextToken
	}
	if strings.Join(got, " ") != "a1 a2 a3 a4 a5" || len(tokens) != 2 {
		t.Fatalf("pages gave %q with %d tokens", got, len(tokens))
	}

	// The SDK's paginator, one item a page.
	var one []string
	pages := appconfig.NewListApplicationsPaginator(c, &appconfig.ListApplicationsInput{MaxResults: aws.Int32(1)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Items {
			one = append(one, aws.ToString(a.Name))
		}
	}
	if !slices.Equal(one, got) {
		t.Fatalf("paginator with MaxResults 1: %q", one)
	}

	t.Run("ErrForgedToken", func(t *testing.T) {
		forged := tokens[0][:len(tokens[0])-2] + "AA"
		_, err := c.ListApplications(ctx, &appconfig.ListApplicationsInput{NextToken: aws.String(forged)})
		wantAppConfigError(t, err, "BadRequestException", "NextToken")
	})
	t.Run("ErrTokenOfAnotherListing", func(t *testing.T) {
		_, err := c.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: aws.String("a1"), NextToken: aws.String(tokens[0])})
		wantAppConfigError(t, err, "BadRequestException", "NextToken")
	})
	t.Run("ErrMaxResults", func(t *testing.T) {
		for _, n := range []int32{0, 51} {
			_, err := c.ListApplications(ctx, &appconfig.ListApplicationsInput{MaxResults: aws.Int32(n)})
			wantAppConfigError(t, err, "BadRequestException", "MaxResults")
		}
	})
}

// TestAppConfigControlIDsAreStable: a second server over the same store
// gives every object the same ID, a custom strategy's included.
func TestAppConfigControlIDsAreStable(t *testing.T) {
	st := MustOpenStore(t)
	one := MustOpen(t, func(s *vanehttp.Server) { s.Store = guard.New(st) })
	two := MustOpen(t, func(s *vanehttp.Server) { s.Store = guard.New(st) })
	putTree(t, one, shopTree)
	c1, c2 := appConfigControl(t, one.URL(), "test", "test"), appConfigControl(t, two.URL(), "test", "test")
	ctx := context.Background()
	strategy, err := c1.CreateDeploymentStrategy(ctx, &appconfig.CreateDeploymentStrategyInput{Name: aws.String("slow"),
		DeploymentDurationInMinutes: aws.Int32(60), GrowthFactor: aws.Float32(10)})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(c *appconfig.Client) []string {
		t.Helper()
		var out []string
		apps, err := c.ListApplications(ctx, &appconfig.ListApplicationsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range apps.Items {
			out = append(out, *a.Name+"="+*a.Id)
			envs, err := c.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: a.Id})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range envs.Items {
				out = append(out, *e.Name+"="+*e.Id)
			}
			profiles, err := c.ListConfigurationProfiles(ctx, &appconfig.ListConfigurationProfilesInput{ApplicationId: a.Id})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range profiles.Items {
				out = append(out, *p.Name+"="+*p.Id)
			}
		}
		got, err := c.GetDeploymentStrategy(ctx, &appconfig.GetDeploymentStrategyInput{DeploymentStrategyId: strategy.Id})
		if err != nil {
			t.Fatal(err)
		}
		return append(out, *got.Name+"="+*got.Id)
	}
	a, b := ids(c1), ids(c2)
	if len(a) < 10 || !slices.Equal(a, b) {
		t.Fatalf("IDs differ between two servers over one store:\n%q\n%q", a, b)
	}
	if slices.ContainsFunc(a, func(s string) bool { return !isID(s[strings.IndexByte(s, '=')+1:]) }) {
		t.Fatalf("not all IDs have AppConfig's form: %q", a)
	}
}

func TestAppConfigHostedVersions(t *testing.T) {
	s := MustOpen(t)
	putTree(t, s, shopTree)
	c := appConfigControl(t, s.URL(), "test", "test")
	ctx := context.Background()
	create := func(profile, content, contentType, label string, latest *int32) (*appconfig.CreateHostedConfigurationVersionOutput, error) {
		in := &appconfig.CreateHostedConfigurationVersionInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: aws.String(profile),
			Content: []byte(content), ContentType: aws.String(contentType), Description: aws.String("limits for " + label), LatestVersionNumber: latest}
		if label != "" {
			in.VersionLabel = aws.String(label)
		}
		return c.CreateHostedConfigurationVersion(ctx, in)
	}

	v1, err := create("tuning/limits", `{"max_items": 80}`, "application/json", "v1.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	profile, err := c.GetConfigurationProfile(ctx, &appconfig.GetConfigurationProfileInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: aws.String("tuning/limits")})
	if err != nil {
		t.Fatal(err)
	}
	if v1.VersionNumber != 1 || string(v1.Content) != `{"max_items": 80}` || aws.ToString(v1.ContentType) != "application/json" ||
		aws.ToString(v1.VersionLabel) != "v1.0" || aws.ToString(v1.Description) != "limits for v1.0" ||
		aws.ToString(v1.ConfigurationProfileId) != aws.ToString(profile.Id) || !isID(aws.ToString(v1.ApplicationId)) {
		t.Fatalf("created %+v (content %q)", v1, v1.Content)
	}
	// Hosted versions are staged: the environments' parameter is not changed.
	var p Parameter
	s.Do(t, "GET", "/v1/parameters/shop/prod/tuning/limits", "").Want(t, 200, &p)
	if p.Value != `{"max_items": 50}` {
		t.Fatalf("the environment's parameter changed to %q", p.Value)
	}
	// They are versions of the staging parameter, with what AppConfig keeps
	// per version in its description.
	s.Do(t, "GET", "/v1/parameters/vane/appconfig/hosted/shop/"+aws.ToString(profile.Id), "").Want(t, 200, &p)
	var meta map[string]string
	if err := json.Unmarshal([]byte(p.Description), &meta); err != nil || p.Value != `{"max_items": 80}` ||
		meta["profile"] != "tuning/limits" || meta["content_type"] != "application/json" || !slices.Contains(p.Labels, "v1.0") {
		t.Fatalf("staging parameter %+v (%v)", p, err)
	}

	v2, err := create("tuning/limits", "max_items: 90\n", "application/x-yaml", "v2.0", aws.Int32(1))
	if err != nil || v2.VersionNumber != 2 {
		t.Fatalf("second version: %+v, %v", v2, err)
	}
	t.Run("ErrLatestVersionNumberMoved", func(t *testing.T) {
		_, err := create("tuning/limits", "max_items: 99\n", "application/x-yaml", "", aws.Int32(1))
		wantAppConfigError(t, err, "ConflictException", "LatestVersionNumber")
	})
	t.Run("Get", func(t *testing.T) {
		for _, n := range []int32{1, 2} {
			out, err := c.GetHostedConfigurationVersion(ctx, &appconfig.GetHostedConfigurationVersionInput{ApplicationId: aws.String("shop"),
				ConfigurationProfileId: profile.Id, VersionNumber: aws.Int32(n)})
			if err != nil || out.VersionNumber != n {
				t.Fatalf("version %d: %+v, %v", n, out, err)
			}
			if n == 2 && (string(out.Content) != "max_items: 90\n" || aws.ToString(out.ContentType) != "application/x-yaml" || aws.ToString(out.VersionLabel) != "v2.0") {
				t.Fatalf("version 2: %+v (%q)", out, out.Content)
			}
		}
		_, err := c.GetHostedConfigurationVersion(ctx, &appconfig.GetHostedConfigurationVersionInput{ApplicationId: aws.String("shop"),
			ConfigurationProfileId: profile.Id, VersionNumber: aws.Int32(3)})
		wantAppConfigError(t, err, "ResourceNotFoundException", "3")
	})
	t.Run("ListNewestFirst", func(t *testing.T) {
		out, err := c.ListHostedConfigurationVersions(ctx, &appconfig.ListHostedConfigurationVersionsInput{ApplicationId: aws.String("shop"),
			ConfigurationProfileId: aws.String("tuning/limits")})
		if err != nil || len(out.Items) != 2 || out.Items[0].VersionNumber != 2 || aws.ToString(out.Items[1].VersionLabel) != "v1.0" ||
			aws.ToString(out.Items[1].ContentType) != "application/json" || aws.ToString(out.Items[0].Description) != "limits for v2.0" {
			t.Fatalf("list: %+v, %v", out, err)
		}
		var pages []int32
		in := &appconfig.ListHostedConfigurationVersionsInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: profile.Id, MaxResults: aws.Int32(1)}
		for {
			out, err := c.ListHostedConfigurationVersions(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range out.Items {
				pages = append(pages, v.VersionNumber)
			}
			if in.NextToken = out.NextToken; in.NextToken == nil {
				break
			}
		}
		if !slices.Equal(pages, []int32{2, 1}) {
			t.Fatalf("paged: %v", pages)
		}
		for filter, want := range map[string]int32{"v1.0": 1, "v2*": 2} {
			out, err := c.ListHostedConfigurationVersions(ctx, &appconfig.ListHostedConfigurationVersionsInput{ApplicationId: aws.String("shop"),
				ConfigurationProfileId: profile.Id, VersionLabel: aws.String(filter)})
			if err != nil || len(out.Items) != 1 || out.Items[0].VersionNumber != want {
				t.Fatalf("label %s: %+v, %v", filter, out, err)
			}
		}
	})
	t.Run("ErrVersionLabels", func(t *testing.T) {
		for label, why := range map[string]string{
			"123":                   "only digits",
			"2.2.0-beta":            "begins with a digit",
			"aws-blue":              "aws or ssm",
			"v 1":                   "character",
			strings.Repeat("v", 65): "longer than 64",
		} {
			_, err := create("tuning/limits", "x", "text/plain", label, nil)
			wantAppConfigError(t, err, "BadRequestException", why)
		}
		_, err := create("tuning/limits", "x", "text/plain", "v1.0", nil)
		wantAppConfigError(t, err, "ConflictException", "names version 1")
		out, err := c.ListHostedConfigurationVersions(ctx, &appconfig.ListHostedConfigurationVersionsInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: profile.Id})
		if err != nil || len(out.Items) != 2 {
			t.Fatalf("refused versions were written: %+v, %v", out, err)
		}
	})
	t.Run("ErrContent", func(t *testing.T) {
		_, err := create("tuning/limits", strings.Repeat("x", 8193), "text/plain", "", nil)
		wantAppConfigError(t, err, "PayloadTooLargeException", "8192")
		var tooLarge *types.PayloadTooLargeException
		if !errors.As(err, &tooLarge) || tooLarge.Measure != types.BytesMeasureKilobytes || tooLarge.Limit != 8 || tooLarge.Size < 8 {
			t.Errorf("PayloadTooLargeException members: %+v", tooLarge)
		}
		_, err = create("tuning/limits", "\xff\xfe", "application/octet-stream", "", nil)
		wantAppConfigError(t, err, "BadRequestException", "UTF-8")
		// The SDK insists on a content type; curl does not.
		r := s.Do(t, "POST", "/applications/shop/configurationprofiles/"+aws.ToString(profile.Id)+"/hostedconfigurationversions", "")
		if r.Status != 400 || r.Header.Get("X-Amzn-ErrorType") != "BadRequestException" || !strings.Contains(string(r.Body), "ContentType") {
			t.Fatalf("no content type: %d %s %s", r.Status, r.Header.Get("X-Amzn-ErrorType"), r.Body)
		}
	})
	t.Run("NewProfileByName", func(t *testing.T) {
		out, err := create("tuning/timeouts", `{"read_ms": 500}`, "application/json", "", nil)
		if err != nil || out.VersionNumber != 1 {
			t.Fatalf("first version of a new profile: %+v, %v", out, err)
		}
		list, err := c.ListConfigurationProfiles(ctx, &appconfig.ListConfigurationProfilesInput{ApplicationId: aws.String("shop")})
		if err != nil || !slices.ContainsFunc(list.Items, func(p types.ConfigurationProfileSummary) bool {
			return aws.ToString(p.Name) == "tuning/timeouts" && aws.ToString(p.Id) == aws.ToString(out.ConfigurationProfileId)
		}) {
			t.Fatalf("the new profile is not listed: %+v, %v", list, err)
		}
		got, err := c.GetConfigurationProfile(ctx, &appconfig.GetConfigurationProfileInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: out.ConfigurationProfileId})
		if err != nil || aws.ToString(got.Name) != "tuning/timeouts" {
			t.Fatalf("the new profile by ID: %+v, %v", got, err)
		}
		// Not served before a deployment puts it in an environment.
		_, err = appConfigData(t, s.URL(), "test", "test").StartConfigurationSession(ctx, &appconfigdata.StartConfigurationSessionInput{
			ApplicationIdentifier: aws.String("shop"), EnvironmentIdentifier: aws.String("prod"), ConfigurationProfileIdentifier: aws.String("tuning/timeouts")})
		wantAppConfigError(t, err, "ResourceNotFoundException", "")
		// A mistyped ID does not create a profile named after it.
		_, err = create("zzzzzz9", "x", "text/plain", "", nil)
		wantAppConfigError(t, err, "ResourceNotFoundException", "zzzzzz9")
	})
}

func TestAppConfigHostedVersionsAreValidated(t *testing.T) {
	s := MustOpen(t)
	putTree(t, s, shopTree)
	c := appConfigControl(t, s.URL(), "test", "test")
	ctx := context.Background()
	create := func(profile, content string) error {
		_, err := c.CreateHostedConfigurationVersion(ctx, &appconfig.CreateHostedConfigurationVersionInput{ApplicationId: aws.String("shop"),
			ConfigurationProfileId: aws.String(profile), Content: []byte(content), ContentType: aws.String("application/json")})
		return err
	}
	versions := func(profile string) int {
		t.Helper()
		out, err := c.ListHostedConfigurationVersions(ctx, &appconfig.ListHostedConfigurationVersionsInput{ApplicationId: aws.String("shop"), ConfigurationProfileId: aws.String(profile)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Items)
	}

	t.Run("ErrFeaturesDocument", func(t *testing.T) {
		err := create("features", `{"good": true, "bad": {"rollout_percentage": 120}, "wrong": {"default": true, "colour": "red"}}`)
		var br *types.BadRequestException
		if !errors.As(err, &br) || br.Reason != types.BadRequestReasonInvalidConfiguration {
			t.Fatalf("invalid features document: %v", err)
		}
		d, ok := br.Details.(*types.BadRequestDetailsMemberInvalidConfiguration)
		if !ok || len(d.Value) != 2 || !strings.HasPrefix(aws.ToString(d.Value[0].Location), "$.bad") ||
			!strings.HasPrefix(aws.ToString(d.Value[1].Location), "$.wrong") || !strings.Contains(aws.ToString(br.Message), "$.bad") {
			t.Fatalf("details %#v, message %q", br.Details, aws.ToString(br.Message))
		}
		for _, bad := range []string{`[true]`, `not json`, `{"a/b": true}`} {
			wantAppConfigError(t, create("features", bad), "BadRequestException", "")
		}
		if n := versions("features"); n != 0 {
			t.Fatalf("%d versions written for refused documents", n)
		}
		if err := create("features", `{"dark-mode": true, "beta": {"default": false, "rules": {"staff": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "staff"}]}}}}`); err != nil {
			t.Fatalf("a valid Powertools document: %v", err)
		}
	})
	t.Run("ErrFlagDocument", func(t *testing.T) {
		wantAppConfigError(t, create("features/new-checkout", `{"enabled": "yes"}`), "BadRequestException", "flag document")
		if n := versions("features/new-checkout"); n != 0 {
			t.Fatalf("%d versions written for a refused flag document", n)
		}
		if err := create("features/new-checkout", `{"rollout_percentage": 10}`); err != nil {
			t.Fatalf("a valid flag document: %v", err)
		}
	})
	t.Run("FreeformIsNotChecked", func(t *testing.T) {
		if err := create("banner", `not json, and fine`); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAppConfigDeploymentStrategies(t *testing.T) {
	s := MustOpen(t)
	c := appConfigControl(t, s.URL(), "test", "test")
	ctx := context.Background()
	out, err := c.ListDeploymentStrategies(ctx, &appconfig.ListDeploymentStrategiesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range out.Items {
		ids = append(ids, aws.ToString(st.Id))
	}
	want := []string{"AppConfig.AllAtOnce", "AppConfig.Linear50PercentEvery30Seconds", "AppConfig.Canary10Percent20Minutes", "AppConfig.Linear20PercentEvery6Minutes"}
	if !slices.Equal(ids, want) {
		t.Fatalf("predefined strategies %q", ids)
	}
	canary, err := c.GetDeploymentStrategy(ctx, &appconfig.GetDeploymentStrategyInput{DeploymentStrategyId: aws.String("AppConfig.Canary10Percent20Minutes")})
	if err != nil || canary.DeploymentDurationInMinutes != 20 || aws.ToFloat32(canary.GrowthFactor) != 10 || canary.GrowthType != types.GrowthTypeExponential ||
		canary.FinalBakeTimeInMinutes != 10 || canary.ReplicateTo != types.ReplicateToNone {
		t.Fatalf("canary: %+v, %v", canary, err)
	}

	created, err := c.CreateDeploymentStrategy(ctx, &appconfig.CreateDeploymentStrategyInput{Name: aws.String("quarters"), Description: aws.String("a quarter a minute"),
		DeploymentDurationInMinutes: aws.Int32(4), GrowthFactor: aws.Float32(25), FinalBakeTimeInMinutes: 2, Tags: map[string]string{"team": "web"}})
	if err != nil || !isID(aws.ToString(created.Id)) || aws.ToString(created.Name) != "quarters" || created.GrowthType != types.GrowthTypeLinear ||
		created.ReplicateTo != types.ReplicateToNone {
		t.Fatalf("created %+v, %v", created, err)
	}
	got, err := c.GetDeploymentStrategy(ctx, &appconfig.GetDeploymentStrategyInput{DeploymentStrategyId: created.Id})
	if err != nil || aws.ToString(got.Description) != "a quarter a minute" || got.DeploymentDurationInMinutes != 4 || got.FinalBakeTimeInMinutes != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
	var tags struct{ Tags map[string]string }
	s.Do(t, "GET", "/v1/tags/vane/appconfig/deployment-strategies/"+aws.ToString(created.Id), "").Want(t, 200, &tags)
	if tags.Tags["team"] != "web" {
		t.Errorf("the strategy's tags: %+v", tags)
	}
	var all []string
	pages := appconfig.NewListDeploymentStrategiesPaginator(c, &appconfig.ListDeploymentStrategiesInput{MaxResults: aws.Int32(2)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range out.Items {
			all = append(all, aws.ToString(st.Id))
		}
	}
	if !slices.Equal(all, append(want, aws.ToString(created.Id))) {
		t.Fatalf("all strategies, two a page: %q", all)
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, in := range []*appconfig.CreateDeploymentStrategyInput{
			{Name: aws.String("x"), DeploymentDurationInMinutes: aws.Int32(1), GrowthFactor: aws.Float32(0.5)},
			{Name: aws.String("x"), DeploymentDurationInMinutes: aws.Int32(1441), GrowthFactor: aws.Float32(10)},
			{Name: aws.String("x"), DeploymentDurationInMinutes: aws.Int32(1), GrowthFactor: aws.Float32(10), FinalBakeTimeInMinutes: -1},
			{Name: aws.String("x"), DeploymentDurationInMinutes: aws.Int32(1), GrowthFactor: aws.Float32(10), GrowthType: "QUADRATIC"},
			{Name: aws.String("x"), DeploymentDurationInMinutes: aws.Int32(1), GrowthFactor: aws.Float32(10), ReplicateTo: types.ReplicateToSsmDocument},
			{Name: aws.String(strings.Repeat("n", 65)), DeploymentDurationInMinutes: aws.Int32(1), GrowthFactor: aws.Float32(10)},
		} {
			_, err := c.CreateDeploymentStrategy(ctx, in)
			wantAppConfigError(t, err, "BadRequestException", "")
		}
		_, err := c.GetDeploymentStrategy(ctx, &appconfig.GetDeploymentStrategyInput{DeploymentStrategyId: aws.String("abcdefg")})
		wantAppConfigError(t, err, "ResourceNotFoundException", "abcdefg")
	})
}

func TestAppConfigUnsupportedOperations(t *testing.T) {
	s := MustOpen(t)
	putTree(t, s, shopTree)
	c := appConfigControl(t, s.URL(), "test", "test")
	ctx := context.Background()
	for op, call := range map[string]func() error{
		"CreateApplication": func() error {
			_, err := c.CreateApplication(ctx, &appconfig.CreateApplicationInput{Name: aws.String("shop")})
			return err
		},
		"DeleteEnvironment": func() error {
			_, err := c.DeleteEnvironment(ctx, &appconfig.DeleteEnvironmentInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod")})
			return err
		},
		"CreateConfigurationProfile": func() error {
			_, err := c.CreateConfigurationProfile(ctx, &appconfig.CreateConfigurationProfileInput{ApplicationId: aws.String("shop"),
				Name: aws.String("x"), LocationUri: aws.String("hosted")})
			return err
		},
		"DeleteDeploymentStrategy": func() error {
			_, err := c.DeleteDeploymentStrategy(ctx, &appconfig.DeleteDeploymentStrategyInput{DeploymentStrategyId: aws.String("abcdefg")})
			return err
		},
		"TagResource": func() error {
			_, err := c.TagResource(ctx, &appconfig.TagResourceInput{ResourceArn: aws.String("arn:aws:appconfig:eu-west-1:000000000000:application/abcdefg"),
				Tags: map[string]string{"a": "b"}})
			return err
		},
		"ListExtensions": func() error {
			_, err := c.ListExtensions(ctx, &appconfig.ListExtensionsInput{})
			return err
		},
		"GetAccountSettings": func() error {
			_, err := c.GetAccountSettings(ctx, &appconfig.GetAccountSettingsInput{})
			return err
		},
		"ValidateConfiguration": func() error {
			_, err := c.ValidateConfiguration(ctx, &appconfig.ValidateConfigurationInput{ApplicationId: aws.String("shop"),
				ConfigurationProfileId: aws.String("banner"), ConfigurationVersion: aws.String("1")})
			return err
		},
	} {
		err := call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "UnknownOperationException" || !strings.Contains(ae.ErrorMessage(), op) ||
			!strings.Contains(ae.ErrorMessage(), "parameter names") {
			t.Errorf("%s: %v, want UnknownOperationException naming it", op, err)
		}
	}
	for _, req := range [][2]string{{"PUT", "/applications"}, {"GET", "/applications/shop/bogus"}, {"POST", "/settings/x"}, {"GET", "/extensions/x/y"}} {
		r := s.Do(t, req[0], req[1], "")
		if r.Status != 404 || r.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
			t.Errorf("%s %s: %d %s %s", req[0], req[1], r.Status, r.Header.Get("X-Amzn-ErrorType"), r.Body)
		}
	}
}
