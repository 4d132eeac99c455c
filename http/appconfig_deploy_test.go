package http_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/appconfig"
	"github.com/aws/aws-sdk-go-v2/service/appconfig/types"

	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/rollout"
)

// deployServer is a server without access control that runs the rollout
// engine on an injected clock; a test does the engine's timed work, as
// the job runner would, with advance.
type deployServer struct {
	*Server
	engine *rollout.Engine
	clock  *testClock
	c      *appconfig.Client
}

func mustOpenDeploy(t *testing.T) *deployServer {
	t.Helper()
	d := &deployServer{clock: &testClock{}}
	d.clock.set(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	st := MustOpenStore(t)
	d.Server = MustOpen(t, func(s *vanehttp.Server) {
		g := guard.New(st)
		d.engine = &rollout.Engine{Store: g, Rollouts: st, Now: d.clock.now}
		s.Store, s.Rollouts, s.Now = g, d.engine, d.clock.now
	})
	d.c = appConfigControl(t, d.URL(), "test", "test")
	return d
}

// advance moves the clock on by by and does the rollouts' work due then.
func (d *deployServer) advance(t *testing.T, by time.Duration) {
	t.Helper()
	d.clock.advance(by)
	if _, err := d.engine.Tick(context.Background(), d.clock.now()); err != nil {
		t.Fatal(err)
	}
}

// host creates a hosted version of a profile of app and returns its number.
func host(t *testing.T, c *appconfig.Client, app, profile, content string) int32 {
	t.Helper()
	out, err := c.CreateHostedConfigurationVersion(context.Background(), &appconfig.CreateHostedConfigurationVersionInput{ApplicationId: aws.String(app),
		ConfigurationProfileId: aws.String(profile), Content: []byte(content), ContentType: aws.String("application/json")})
	if err != nil {
		t.Fatalf("CreateHostedConfigurationVersion(%s, %s): %v", app, profile, err)
	}
	return out.VersionNumber
}

func deploy(c *appconfig.Client, app, env, profile string, version int32, strategy string) (*appconfig.StartDeploymentOutput, error) {
	return c.StartDeployment(context.Background(), &appconfig.StartDeploymentInput{ApplicationId: aws.String(app), EnvironmentId: aws.String(env),
		ConfigurationProfileId: aws.String(profile), ConfigurationVersion: aws.String(strconv.Itoa(int(version))), DeploymentStrategyId: aws.String(strategy),
		Description: aws.String("test deployment")})
}

func mustDeploy(t *testing.T, c *appconfig.Client, app, env, profile string, version int32, strategy string) *appconfig.StartDeploymentOutput {
	t.Helper()
	out, err := deploy(c, app, env, profile, version, strategy)
	if err != nil {
		t.Fatalf("StartDeployment(%s, %s, %s, %d, %s): %v", app, env, profile, version, strategy, err)
	}
	return out
}

func getDeployment(t *testing.T, c *appconfig.Client, app, env string, n int32) *appconfig.GetDeploymentOutput {
	t.Helper()
	out, err := c.GetDeployment(context.Background(), &appconfig.GetDeploymentInput{ApplicationId: aws.String(app), EnvironmentId: aws.String(env), DeploymentNumber: aws.Int32(n)})
	if err != nil {
		t.Fatalf("GetDeployment(%s, %s, %d): %v", app, env, n, err)
	}
	return out
}

func envState(t *testing.T, c *appconfig.Client, app, env string) types.EnvironmentState {
	t.Helper()
	out, err := c.GetEnvironment(context.Background(), &appconfig.GetEnvironmentInput{ApplicationId: aws.String(app), EnvironmentId: aws.String(env)})
	if err != nil {
		t.Fatal(err)
	}
	return out.State
}

// value reads a parameter's latest value and version through the native
// API ("" and 0 when it does not exist).
func value(t *testing.T, s *Server, name string) (string, int64) {
	t.Helper()
	r := s.Do(t, "GET", "/v1/parameters"+name, "")
	if r.Status == 404 {
		return "", 0
	}
	var p Parameter
	r.Want(t, 200, &p)
	return p.Value, p.Version
}

// events returns a deployment's event types, oldest first.
func events(log []types.DeploymentEvent) []string {
	var out []string
	for _, e := range slices.Backward(log) {
		out = append(out, string(e.EventType))
	}
	return out
}

func TestAppConfigDeployFreeform(t *testing.T) {
	d := mustOpenDeploy(t)
	putTree(t, d.Server, map[string]string{"/shop/prod/tuning/limits": `{"max_items": 50}`})
	v := host(t, d.c, "shop", "tuning/limits", `{"max_items": 80}`)
	poll := startSession(t, appConfigData(t, d.URL(), "test", "test"), "shop", "prod", "tuning/limits", 0)
	if out := poll.mustPoll(); string(out.Configuration) != `{"max_items": 50}` {
		t.Fatalf("before: %q", out.Configuration)
	}

	dep := mustDeploy(t, d.c, "shop", "prod", "tuning/limits", v, "AppConfig.AllAtOnce")
	if dep.DeploymentNumber != 1 || dep.State != types.DeploymentStateBaking || aws.ToFloat32(dep.PercentageComplete) != 100 ||
		aws.ToString(dep.ConfigurationName) != "tuning/limits" || aws.ToString(dep.ConfigurationVersion) != "1" || dep.FinalBakeTimeInMinutes != 10 ||
		aws.ToString(dep.DeploymentStrategyId) != "AppConfig.AllAtOnce" || dep.CompletedAt != nil || !dep.StartedAt.Equal(d.clock.now()) {
		t.Fatalf("started: %+v", dep)
	}
	// The value rollout wrote the new value at once; a data-plane poll sees it.
	if v, _ := value(t, d.Server, "/shop/prod/tuning/limits"); v != `{"max_items": 80}` {
		t.Fatalf("value while baking: %q", v)
	}
	if out := poll.mustPoll(); string(out.Configuration) != `{"max_items": 80}` {
		t.Fatalf("poll after the deployment: %q", out.Configuration)
	}
	if s := envState(t, d.c, "shop", "prod"); s != types.EnvironmentStateDeploying {
		t.Fatalf("environment while baking: %s", s)
	}
	t.Run("ErrOneDeploymentAtATime", func(t *testing.T) {
		_, err := deploy(d.c, "shop", "prod", "tuning/limits", v, "AppConfig.AllAtOnce")
		wantAppConfigError(t, err, "ConflictException", "deployment 1")
	})

	d.advance(t, 9*time.Minute)
	if got := getDeployment(t, d.c, "shop", "prod", 1); got.State != types.DeploymentStateBaking {
		t.Fatalf("after 9 of 10 minutes of bake: %s", got.State)
	}
	d.advance(t, time.Minute)
	got := getDeployment(t, d.c, "shop", "prod", 1)
	if got.State != types.DeploymentStateComplete || got.CompletedAt == nil || !got.CompletedAt.Equal(d.clock.now()) {
		t.Fatalf("after the bake: %s, completed %v", got.State, got.CompletedAt)
	}
	if e := events(got.EventLog); strings.Join(e, " ") != "DEPLOYMENT_STARTED PERCENTAGE_UPDATED BAKE_TIME_STARTED DEPLOYMENT_COMPLETED" {
		t.Fatalf("event log %q", e)
	}
	if got.EventLog[len(got.EventLog)-1].TriggeredBy != types.TriggeredByUser || !strings.Contains(aws.ToString(got.EventLog[len(got.EventLog)-1].Description), "Vane rollout") {
		t.Errorf("the start event: %+v", got.EventLog[len(got.EventLog)-1])
	}
	if s := envState(t, d.c, "shop", "prod"); s != types.EnvironmentStateReadyForDeployment {
		t.Fatalf("environment after the deployment: %s", s)
	}

	// A second deployment is numbered after the first; ListDeployments is
	// newest first.
	v2 := host(t, d.c, "shop", "tuning/limits", `{"max_items": 90}`)
	if dep := mustDeploy(t, d.c, "shop", "prod", "tuning/limits", v2, "AppConfig.AllAtOnce"); dep.DeploymentNumber != 2 {
		t.Fatalf("second deployment numbered %d", dep.DeploymentNumber)
	}
	list, err := d.c.ListDeployments(context.Background(), &appconfig.ListDeploymentsInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod")})
	if err != nil || len(list.Items) != 2 || list.Items[0].DeploymentNumber != 2 || list.Items[0].State != types.DeploymentStateBaking ||
		list.Items[1].State != types.DeploymentStateComplete || aws.ToString(list.Items[1].ConfigurationVersion) != "1" {
		t.Fatalf("deployments: %+v, %v", list, err)
	}
	page, err := d.c.ListDeployments(context.Background(), &appconfig.ListDeploymentsInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod"), MaxResults: aws.Int32(1)})
	if err != nil || len(page.Items) != 1 || page.Items[0].DeploymentNumber != 2 || page.NextToken == nil {
		t.Fatalf("first page of one: %+v, %v", page, err)
	}
}

func TestAppConfigDeployFlagLinear(t *testing.T) {
	d := mustOpenDeploy(t)
	putTree(t, d.Server, map[string]string{"/shop/prod/features/checkout": "false", "/shop/staging/features/checkout": "false"})
	v := host(t, d.c, "shop", "features/checkout", "true")
	quarters, err := d.c.CreateDeploymentStrategy(context.Background(), &appconfig.CreateDeploymentStrategyInput{Name: aws.String("quarters"),
		DeploymentDurationInMinutes: aws.Int32(4), GrowthFactor: aws.Float32(25), FinalBakeTimeInMinutes: 1})
	if err != nil {
		t.Fatal(err)
	}

	dep := mustDeploy(t, d.c, "shop", "prod", "features/checkout", v, aws.ToString(quarters.Id))
	var percents []float32
	var values []string
	for {
		got := getDeployment(t, d.c, "shop", "prod", dep.DeploymentNumber)
		v, _ := value(t, d.Server, "/shop/prod/features/checkout")
		percents, values = append(percents, aws.ToFloat32(got.PercentageComplete)), append(values, v)
		if got.State != types.DeploymentStateDeploying {
			if got.State != types.DeploymentStateBaking {
				t.Fatalf("state %s after %v", got.State, percents)
			}
			break
		}
		if len(percents) > 4 {
			t.Fatalf("still deploying after %v", percents)
		}
		d.advance(t, time.Minute) // 4 minutes over 4 steps
	}
	if !slices.Equal(percents, []float32{25, 50, 75, 100}) || values[0] != `{"rollout_percentage":25}` || values[3] != `{"rollout_percentage":100}` {
		t.Fatalf("percentages %v, values %q", percents, values)
	}
	d.advance(t, time.Minute)
	got := getDeployment(t, d.c, "shop", "prod", dep.DeploymentNumber)
	updates := 0
	for _, e := range got.EventLog {
		if e.EventType == types.DeploymentEventTypePercentageUpdated {
			updates++
		}
	}
	if got.State != types.DeploymentStateComplete || updates != 4 {
		t.Fatalf("after the bake: %s with %d PERCENTAGE_UPDATED events: %q", got.State, updates, events(got.EventLog))
	}

	t.Run("Exponential", func(t *testing.T) {
		dep := mustDeploy(t, d.c, "shop", "staging", "features/checkout", v, "AppConfig.Canary10Percent20Minutes")
		var percents []float32
		for range 5 {
			percents = append(percents, aws.ToFloat32(getDeployment(t, d.c, "shop", "staging", dep.DeploymentNumber).PercentageComplete))
			d.advance(t, 4*time.Minute) // 20 minutes over 5 steps
		}
		if !slices.Equal(percents, []float32{10, 20, 40, 80, 100}) {
			t.Fatalf("canary percentages %v", percents)
		}
	})
}

func TestAppConfigDeployFlagThatCannotBeStepped(t *testing.T) {
	d := mustOpenDeploy(t)
	putTree(t, d.Server, map[string]string{"/shop/prod/features/beta": "true"})
	// Rules decide, and the default is off: no share expresses it.
	doc := `{"default": false, "rules": {"staff": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "staff"}]}}}`
	v := host(t, d.c, "shop", "features/beta", doc)
	dep := mustDeploy(t, d.c, "shop", "prod", "features/beta", v, "AppConfig.Linear50PercentEvery30Seconds")
	if dep.State != types.DeploymentStateComplete || aws.ToFloat32(dep.PercentageComplete) != 100 {
		t.Fatalf("deployment of a document written at once: %+v", dep)
	}
	if got, _ := value(t, d.Server, "/shop/prod/features/beta"); got != doc {
		t.Fatalf("flag %q, want the document as it was hosted", got)
	}
	if s := envState(t, d.c, "shop", "prod"); s != types.EnvironmentStateReadyForDeployment {
		t.Fatalf("environment: %s", s)
	}
}

func TestAppConfigStopDeployment(t *testing.T) {
	d := mustOpenDeploy(t)
	putTree(t, d.Server, map[string]string{"/shop/prod/tuning/limits": "v1", "/shop/prod/features/checkout": "false"})
	ctx := context.Background()
	stop := func(n int32, revert bool) (*appconfig.StopDeploymentOutput, error) {
		in := &appconfig.StopDeploymentInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod"), DeploymentNumber: aws.Int32(n)}
		if revert {
			in.AllowRevert = aws.Bool(true)
		}
		return d.c.StopDeployment(ctx, in)
	}

	t.Run("RollsBackWhileBaking", func(t *testing.T) {
		dep := mustDeploy(t, d.c, "shop", "prod", "tuning/limits", host(t, d.c, "shop", "tuning/limits", "v2"), "AppConfig.AllAtOnce")
		out, err := stop(dep.DeploymentNumber, false)
		if err != nil || out.State != types.DeploymentStateRolledBack || out.CompletedAt == nil {
			t.Fatalf("stop: %+v, %v", out, err)
		}
		if v, _ := value(t, d.Server, "/shop/prod/tuning/limits"); v != "v1" {
			t.Fatalf("value after the roll back: %q", v)
		}
		if e := strings.Join(events(out.EventLog), " "); !strings.HasSuffix(e, "BAKE_TIME_STARTED ROLLBACK_STARTED ROLLBACK_COMPLETED") {
			t.Fatalf("events %s: want the bake kept in the history, then the roll back", e)
		}
		if s := envState(t, d.c, "shop", "prod"); s != types.EnvironmentStateRolledBack {
			t.Fatalf("environment after a roll back: %s", s)
		}
		_, err = stop(dep.DeploymentNumber, true)
		wantAppConfigError(t, err, "BadRequestException", "ROLLED_BACK already")
	})
	t.Run("RollsBackAFlagWhileDeploying", func(t *testing.T) {
		dep := mustDeploy(t, d.c, "shop", "prod", "features/checkout", host(t, d.c, "shop", "features/checkout", "true"), "AppConfig.Linear20PercentEvery6Minutes")
		if v, _ := value(t, d.Server, "/shop/prod/features/checkout"); v != `{"rollout_percentage":20}` {
			t.Fatalf("flag after the first step: %q", v)
		}
		out, err := stop(dep.DeploymentNumber, false)
		if err != nil || out.State != types.DeploymentStateRolledBack {
			t.Fatalf("stop: %+v, %v", out, err)
		}
		if v, _ := value(t, d.Server, "/shop/prod/features/checkout"); v != "false" {
			t.Fatalf("flag after the roll back: %q", v)
		}
	})
	t.Run("RevertsACompleteDeployment", func(t *testing.T) {
		dep := mustDeploy(t, d.c, "shop", "prod", "tuning/limits", host(t, d.c, "shop", "tuning/limits", "v3"), "AppConfig.AllAtOnce")
		d.advance(t, 10*time.Minute)
		if got := getDeployment(t, d.c, "shop", "prod", dep.DeploymentNumber); got.State != types.DeploymentStateComplete {
			t.Fatalf("not complete: %s", got.State)
		}
		_, err := stop(dep.DeploymentNumber, false)
		wantAppConfigError(t, err, "BadRequestException", "AllowRevert")
		out, err := stop(dep.DeploymentNumber, true)
		if err != nil || out.State != types.DeploymentStateReverted {
			t.Fatalf("revert: %+v, %v", out, err)
		}
		if v, _ := value(t, d.Server, "/shop/prod/tuning/limits"); v != "v1" {
			t.Fatalf("value after the revert: %q", v)
		}
		if s := envState(t, d.c, "shop", "prod"); s != types.EnvironmentStateReverted {
			t.Fatalf("environment after a revert: %s", s)
		}
		// The history from before the revert is kept.
		got := getDeployment(t, d.c, "shop", "prod", dep.DeploymentNumber)
		if e := strings.Join(events(got.EventLog), " "); !strings.Contains(e, "BAKE_TIME_STARTED DEPLOYMENT_COMPLETED") || !strings.HasSuffix(e, "REVERT_COMPLETED") {
			t.Fatalf("events after a revert: %s", e)
		}
	})
	t.Run("ErrRevertAfterAnotherWrite", func(t *testing.T) {
		dep := mustDeploy(t, d.c, "shop", "prod", "tuning/limits", host(t, d.c, "shop", "tuning/limits", "v4"), "AppConfig.AllAtOnce")
		d.advance(t, 10*time.Minute)
		d.MustPut(t, "/shop/prod/tuning/limits", "by hand")
		_, err := stop(dep.DeploymentNumber, true)
		wantAppConfigError(t, err, "ConflictException", "")
		if v, _ := value(t, d.Server, "/shop/prod/tuning/limits"); v != "by hand" {
			t.Fatalf("a refused revert wrote %q", v)
		}
	})
	t.Run("ErrRevertAfter72Hours", func(t *testing.T) {
		dep := mustDeploy(t, d.c, "shop", "prod", "tuning/limits", host(t, d.c, "shop", "tuning/limits", "v5"), "AppConfig.AllAtOnce")
		d.advance(t, 10*time.Minute)
		d.advance(t, 72*time.Hour+time.Minute)
		_, err := stop(dep.DeploymentNumber, true)
		wantAppConfigError(t, err, "BadRequestException", "72 hours")
	})
	t.Run("ErrNoSuchDeployment", func(t *testing.T) {
		_, err := stop(99, false)
		wantAppConfigError(t, err, "ResourceNotFoundException", "99")
	})
}

func TestAppConfigDeployFeatures(t *testing.T) {
	d := mustOpenDeploy(t)
	putTree(t, d.Server, map[string]string{
		"/shop/prod/features/same":      `{"default": true}`,
		"/shop/prod/features/changed":   "false",
		"/shop/prod/features/untouched": "true",
	})
	doc := `{
		"same": {"default": true},
		"changed": {"default": true},
		"new": {"default": false, "rules": {"staff": {"when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "staff"}]}}}
	}`
	v := host(t, d.c, "shop", "features", doc)
	poll := startSession(t, appConfigData(t, d.URL(), "test", "test"), "shop", "prod", "features", 0)
	poll.mustPoll()

	dep := mustDeploy(t, d.c, "shop", "prod", "features", v, "AppConfig.Linear20PercentEvery6Minutes")
	if dep.State != types.DeploymentStateComplete || aws.ToFloat32(dep.PercentageComplete) != 100 || dep.CompletedAt == nil {
		t.Fatalf("features deployment: %+v", dep)
	}
	if e := events(dep.EventLog); len(e) != 2 || !strings.Contains(aws.ToString(dep.EventLog[1].Description), "2 of the document's 3 features") {
		t.Fatalf("events %q: %+v", e, dep.EventLog)
	}
	for name, want := range map[string]struct {
		value   string
		version int64
	}{
		"same":      {`{"default": true}`, 1},
		"changed":   {`{"default":true}`, 2},
		"new":       {`{"default":false,"rules":{"staff":{"when_match":true,"conditions":[{"action":"EQUALS","key":"tier","value":"staff"}]}}}`, 1},
		"untouched": {"true", 1},
	} {
		if v, n := value(t, d.Server, "/shop/prod/features/"+name); v != want.value || n != want.version {
			t.Errorf("%s: %q version %d, want %q version %d", name, v, n, want.value, want.version)
		}
	}
	// The data plane serves the flags as written.
	out := poll.mustPoll()
	var served map[string]map[string]any
	if err := json.Unmarshal(out.Configuration, &served); err != nil || served["changed"]["default"] != true || served["new"]["rules"] == nil || len(served) != 4 {
		t.Fatalf("served %s (%v)", out.Configuration, err)
	}

	// A revert writes back what was replaced and deletes what was created.
	stopped, err := d.c.StopDeployment(context.Background(), &appconfig.StopDeploymentInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod"),
		DeploymentNumber: aws.Int32(dep.DeploymentNumber), AllowRevert: aws.Bool(true)})
	if err != nil || stopped.State != types.DeploymentStateReverted {
		t.Fatalf("revert: %+v, %v", stopped, err)
	}
	if v, _ := value(t, d.Server, "/shop/prod/features/changed"); v != "false" {
		t.Errorf("changed after the revert: %q", v)
	}
	if v, n := value(t, d.Server, "/shop/prod/features/new"); n != 0 {
		t.Errorf("new after the revert: %q version %d, want it deleted", v, n)
	}
}

func TestAppConfigDeployWithoutRolloutEngine(t *testing.T) {
	s := MustOpen(t)
	putTree(t, s, map[string]string{"/shop/prod/tuning/limits": "v1"})
	c := appConfigControl(t, s.URL(), "test", "test")
	v := host(t, c, "shop", "tuning/limits", "v2")
	dep := mustDeploy(t, c, "shop", "prod", "tuning/limits", v, "AppConfig.Linear20PercentEvery6Minutes")
	if dep.State != types.DeploymentStateComplete || !strings.Contains(aws.ToString(dep.EventLog[len(dep.EventLog)-1].Description), "no rollouts") {
		t.Fatalf("deployment without an engine: %+v", dep)
	}
	if got, _ := value(t, s, "/shop/prod/tuning/limits"); got != "v2" {
		t.Fatalf("value %q", got)
	}
	// A profile with hosted versions only is created in the environment.
	v = host(t, c, "shop", "tuning/new", `{"a": 1}`)
	mustDeploy(t, c, "shop", "prod", "tuning/new", v, "AppConfig.AllAtOnce")
	if got, n := value(t, s, "/shop/prod/tuning/new"); got != `{"a": 1}` || n != 1 {
		t.Fatalf("created %q version %d", got, n)
	}
	t.Run("ErrUnknownVersionOrStrategy", func(t *testing.T) {
		_, err := deploy(c, "shop", "prod", "tuning/limits", 9, "AppConfig.AllAtOnce")
		wantAppConfigError(t, err, "ResourceNotFoundException", "9")
		_, err = deploy(c, "shop", "prod", "tuning/limits", v, "nope123")
		wantAppConfigError(t, err, "ResourceNotFoundException", "nope123")
	})
	t.Run("ByVersionLabel", func(t *testing.T) {
		_, err := c.CreateHostedConfigurationVersion(context.Background(), &appconfig.CreateHostedConfigurationVersionInput{ApplicationId: aws.String("shop"),
			ConfigurationProfileId: aws.String("tuning/limits"), Content: []byte("v3"), ContentType: aws.String("text/plain"), VersionLabel: aws.String("blue")})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.StartDeployment(context.Background(), &appconfig.StartDeploymentInput{ApplicationId: aws.String("shop"), EnvironmentId: aws.String("prod"),
			ConfigurationProfileId: aws.String("tuning/limits"), ConfigurationVersion: aws.String("blue"), DeploymentStrategyId: aws.String("AppConfig.AllAtOnce")})
		if err != nil || aws.ToString(out.VersionLabel) != "blue" || aws.ToString(out.ConfigurationVersion) != "2" {
			t.Fatalf("deployment by label: %+v, %v", out, err)
		}
		if got, _ := value(t, s, "/shop/prod/tuning/limits"); got != "v3" {
			t.Fatalf("value %q", got)
		}
	})
}

const deployerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameterHistory"], "Resource": "/vane/appconfig/hosted/app/*"},
	{"Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "/app/*"},
	{"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:PutParameter", "vane:StartRollout", "vane:DescribeRollouts"], "Resource": "/app/prod/*"},
	{"Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "/app/dev/*"}]}`

func TestAppConfigControlAccess(t *testing.T) {
	var engine *rollout.Engine
	a := mustOpenAccess(t, func(s *vanehttp.Server) {
		g := guard.New(s.Store)
		engine = &rollout.Engine{Store: g, Rollouts: s.Audit.(rolloutStore), Audit: s.Audit}
		s.Store, s.Rollouts = g, engine
	})
	key, secret, err := a.keys.CreateKey(context.Background(), "deployer", deployerPolicy, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	a.creds["deployer"] = [2]string{key.ID, secret}
	for _, n := range []string{"/app/prod/x", "/app/dev/x", "/other/prod/y"} {
		a.as(t, "admin", "PUT", "/v1/parameters"+n, `{"type":"String","value":"v1"}`).Want(t, 201, nil)
	}
	as := func(who string) *appconfig.Client {
		return appConfigControl(t, a.URL(), a.creds[who][0], a.creds[who][1])
	}
	admin, reader, deployer := as("admin"), as("reader"), as("deployer")
	ctx := context.Background()

	t.Run("ListsWhatTheCallerMayDescribe", func(t *testing.T) {
		apps, err := reader.ListApplications(ctx, &appconfig.ListApplicationsInput{})
		if err != nil || len(apps.Items) != 1 || aws.ToString(apps.Items[0].Name) != "app" {
			t.Fatalf("reader's applications: %+v, %v", apps, err)
		}
		envs, err := reader.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: aws.String("app")})
		if err != nil || len(envs.Items) != 1 || aws.ToString(envs.Items[0].Name) != "prod" {
			t.Fatalf("reader's environments: %+v, %v", envs, err)
		}
		// What a caller may not describe does not exist for it, as in
		// the data plane.
		_, err = reader.GetEnvironment(ctx, &appconfig.GetEnvironmentInput{ApplicationId: aws.String("app"), EnvironmentId: aws.String("dev")})
		wantAppConfigError(t, err, "ResourceNotFoundException", "dev")
		_, err = reader.GetApplication(ctx, &appconfig.GetApplicationInput{ApplicationId: aws.String("other")})
		wantAppConfigError(t, err, "ResourceNotFoundException", "other")
		envs, err = deployer.ListEnvironments(ctx, &appconfig.ListEnvironmentsInput{ApplicationId: aws.String("app")})
		if err != nil || len(envs.Items) != 2 {
			t.Fatalf("deployer's environments: %+v, %v", envs, err)
		}
		all, err := admin.ListApplications(ctx, &appconfig.ListApplicationsInput{})
		if err != nil || len(all.Items) != 2 {
			t.Fatalf("admin's applications: %+v, %v", all, err)
		}
	})
	var v int32
	t.Run("HostedVersionsNeedTheStagingParameter", func(t *testing.T) {
		in := &appconfig.CreateHostedConfigurationVersionInput{ApplicationId: aws.String("app"), ConfigurationProfileId: aws.String("x"),
			Content: []byte("v2"), ContentType: aws.String("text/plain")}
		_, err := reader.CreateHostedConfigurationVersion(ctx, in)
		wantAppConfigError(t, err, "AccessDeniedException", "ssm:PutParameter")
		out, err := deployer.CreateHostedConfigurationVersion(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		v = out.VersionNumber
		_, err = reader.GetHostedConfigurationVersion(ctx, &appconfig.GetHostedConfigurationVersionInput{ApplicationId: aws.String("app"),
			ConfigurationProfileId: aws.String("x"), VersionNumber: aws.Int32(v)})
		wantAppConfigError(t, err, "AccessDeniedException", "ssm:GetParameter")
		_, err = reader.ListHostedConfigurationVersions(ctx, &appconfig.ListHostedConfigurationVersionsInput{ApplicationId: aws.String("app"), ConfigurationProfileId: aws.String("x")})
		wantAppConfigError(t, err, "AccessDeniedException", "ssm:GetParameterHistory")
	})
	t.Run("DeploymentsNeedRolloutActions", func(t *testing.T) {
		_, err := deploy(reader, "app", "prod", "x", v, "AppConfig.AllAtOnce")
		wantAppConfigError(t, err, "AccessDeniedException", "")
		_, err = deploy(deployer, "app", "dev", "x", v, "AppConfig.AllAtOnce")
		wantAppConfigError(t, err, "AccessDeniedException", "vane:StartRollout")
		dep := mustDeploy(t, deployer, "app", "prod", "x", v, "AppConfig.AllAtOnce")
		if dep.State != types.DeploymentStateBaking {
			t.Fatalf("deployer's deployment: %+v", dep)
		}
		if _, err := deployer.GetDeployment(ctx, &appconfig.GetDeploymentInput{ApplicationId: aws.String("app"), EnvironmentId: aws.String("prod"),
			DeploymentNumber: aws.Int32(dep.DeploymentNumber)}); err != nil {
			t.Fatal(err)
		}
		_, err = deployer.StopDeployment(ctx, &appconfig.StopDeploymentInput{ApplicationId: aws.String("app"), EnvironmentId: aws.String("prod"),
			DeploymentNumber: aws.Int32(dep.DeploymentNumber)})
		wantAppConfigError(t, err, "AccessDeniedException", "vane:UpdateRollout")
		_, err = reader.GetDeployment(ctx, &appconfig.GetDeploymentInput{ApplicationId: aws.String("app"), EnvironmentId: aws.String("prod"),
			DeploymentNumber: aws.Int32(dep.DeploymentNumber)})
		wantAppConfigError(t, err, "AccessDeniedException", "vane:DescribeRollouts")
		list, err := reader.ListDeployments(ctx, &appconfig.ListDeploymentsInput{ApplicationId: aws.String("app"), EnvironmentId: aws.String("prod")})
		if err != nil || len(list.Items) != 0 {
			t.Fatalf("reader's deployments: %+v, %v", list, err)
		}
		var p Parameter
		a.as(t, "admin", "GET", "/v1/parameters/app/dev/x", "").Want(t, 200, &p)
		if p.Value != "v1" {
			t.Fatalf("a refused deployment wrote /app/dev/x: %q", p.Value)
		}
		a.as(t, "admin", "GET", "/v1/parameters/app/prod/x", "").Want(t, 200, &p)
		if p.Value != "v2" {
			t.Fatalf("the deployment did not write /app/prod/x: %q", p.Value)
		}
	})
	t.Run("ErrSignedForAnotherService", func(t *testing.T) {
		c := a.creds["admin"]
		now := time.Now().UTC()
		r := a.Do(t, "GET", "/applications", "", "Authorization",
			"AWS4-HMAC-SHA256 Credential="+c[0]+"/"+now.Format("20060102")+"/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
			"X-Amz-Date", now.Format("20060102T150405Z"))
		if r.Status != 403 || r.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
			t.Fatalf("a credential scoped to ssm: %d %s %s", r.Status, r.Header.Get("X-Amzn-ErrorType"), r.Body)
		}
		r = a.Do(t, "DELETE", "/deployementstrategies/abcdefg", "")
		if r.Status != 401 {
			t.Fatalf("an unsupported operation without a credential: %d %s", r.Status, r.Body)
		}
	})
}
