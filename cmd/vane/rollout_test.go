package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vanehq/vane"
)

const checkoutFlag = "/shop/prod/features/checkout"

// rolloutJSON is a linear flag rollout at step 2 of 4, with a failing
// monitor, as the API answers.
const rolloutJSON = `{"id":"ro-1","name":"/shop/prod/features/checkout","kind":"flag",
"spec":{"strategy":"linear","step":25,"every":"5m0s","bake":"30m0s",
"monitors":[{"name":"http-1","kind":"http","url":"https://shop.internal/healthz","failures":3,"timeout":"2s"}],"check_every":"15s"},
"state":"running","plan":[25,50,75,100],"step":2,"share":50,"start_share":0,"target":"{}",
"base_version":4,"base_value":"{}","base_type":"String","last_version":6,"next_at":"2026-12-02T17:05:00Z",
"monitors":[{"name":"http-1","state":"failing","failures":1,"last_check":"2026-12-02T17:00:30Z","detail":"GET https://shop.internal/healthz: 503"}],
"created_by":"alice","created":"2026-12-02T16:55:00Z","updated":"2026-12-02T17:00:30Z","revision":7}`

// rolloutWith returns rolloutJSON with the fields of change replaced.
func rolloutWith(t *testing.T, change func(r *vane.Rollout)) string {
	t.Helper()
	var r vane.Rollout
	if err := json.Unmarshal([]byte(rolloutJSON), &r); err != nil {
		t.Fatal(err)
	}
	change(&r)
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hasLines reports whether the status block out has every line of want,
// compared with runs of spaces as one (the alignment depends on which
// fields are shown).
func hasLines(out string, want ...string) bool {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			return false
		}
	}
	return true
}

// assertUsageError runs a command line that must fail with exit 2 and a
// one-line message containing every one of wants, without a request.
func assertUsageError(t *testing.T, api *fakeAPI, args []string, wants ...string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, "", args...)
	if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "vane: ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("vane %q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
	}
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			t.Errorf("vane %q: stderr %q lacks %q", args, stderr, w)
		}
	}
	if reqs := api.requests(); len(reqs) != 0 {
		t.Errorf("vane %q sent %d requests", args, len(reqs))
	}
}

func TestRolloutStart(t *testing.T) {
	t.Run("SendsOnlyTheFlagsGiven", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 201, rolloutWith(t, func(r *vane.Rollout) {
			r.Spec.Step, r.Plan, r.Step, r.Share = 10, []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 1, 10
		}))
		stdout, _ := mustRunCLI(t, "", "rollout", "start", checkoutFlag, "--strategy", "linear", "--step", "10", "--every", "5m", "--bake", "30m")
		r := api.only()
		assertRequest(t, r, "POST", "/v1/rollouts", nil)
		assertJSON(t, r.Body, `{"name":"/shop/prod/features/checkout","strategy":"linear","step":10,"every":"5m0s","bake":"30m0s"}`)
		first, rest, _ := strings.Cut(stdout, "\n")
		if want := "rollout ro-1 started: /shop/prod/features/checkout linear 0% → 10%, 20%, 30%, 40%, 50%, 60%, ..., 100% every 5m, bake 30m"; first != want {
			t.Errorf("first line = %q, want %q", first, want)
		}
		if !strings.HasPrefix(rest, "\nID:") || !hasLines(rest, "ID: ro-1", "State: running", "Plan: 0% → [10%] → 20% → ... → 90% → 100%") {
			t.Errorf("status:\n%s", rest)
		}
	})
	t.Run("NameAloneLeavesEverythingToTheServer", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 201, rolloutJSON)
		mustRunCLI(t, "", "rollout", "start", checkoutFlag)
		assertJSON(t, api.only().Body, `{"name":"/shop/prod/features/checkout"}`)
	})
	t.Run("SendsEveryFlag", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 201, rolloutJSON)
		file := filepath.Join(t.TempDir(), "doc.json")
		if err := os.WriteFile(file, []byte(`{"enabled":true}`), 0o600); err != nil {
			t.Fatal(err)
		}
		mustRunCLI(t, "", "rollout", "start", checkoutFlag, "--strategy=exponential", "--step", "1", "--factor", "3",
			"--target", "50", "--rule", "beta", "--value", "@"+file, "--bake", "0", "--every", "90s", "--check-every", "5s",
			"--monitor", "http,url=https://shop.internal/healthz,failures=3,timeout=2s",
			"--monitor", `prometheus,url=http://prom:9090,threshold=5,query=sum(rate(http_requests_total{code=~"5.."}[1m]))`,
			"--monitor", `{"kind":"errors","threshold":0.02,"window":"5m","name":"errs"}`)
		assertJSON(t, api.only().Body, `{"name":"/shop/prod/features/checkout","strategy":"exponential","step":1,"factor":3,
			"target":50,"rule":"beta","value":"{\"enabled\":true}","bake":"0s","every":"1m30s","check_every":"5s",
			"monitors":[
				{"kind":"http","url":"https://shop.internal/healthz","failures":3,"timeout":"2s"},
				{"kind":"prometheus","url":"http://prom:9090","threshold":5,"query":"sum(rate(http_requests_total{code=~\"5..\"}[1m]))"},
				{"kind":"errors","threshold":0.02,"window":"5m0s","name":"errs"}]}`)
	})
	t.Run("StepsAndValueFromStdin", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 201, rolloutJSON)
		mustRunCLI(t, "40\n", "rollout", "start", "/app/pool", "--strategy", "steps", "--steps", "1,5%,25,100", "--value", "-")
		assertJSON(t, api.only().Body, `{"name":"/app/pool","strategy":"steps","steps":[1,5,25,100],"value":"40\n"}`)
	})
	t.Run("ValueRolloutSummary", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 201, rolloutWith(t, func(r *vane.Rollout) {
			r.Name, r.Kind, r.Spec = "/app/pool", vane.RolloutValue, vane.RolloutSpec{Strategy: "all-at-once", Bake: new(vane.Duration(time.Hour))}
			r.Plan, r.Step, r.State, r.Monitors = []float64{100}, 1, vane.RolloutBaking, nil
		}))
		stdout, _ := mustRunCLI(t, "", "rollout", "start", "/app/pool", "--value", "40")
		if first, _, _ := strings.Cut(stdout, "\n"); first != "rollout ro-1 started: /app/pool new value at once, bake 1h" {
			t.Errorf("first line = %q", first)
		}
		if !hasLines(stdout, "Plan: the new value at once (step 1/1)") || strings.Contains(stdout, "Share:") {
			t.Errorf("status:\n%s", stdout)
		}
	})
	t.Run("JSONIsTheResponse", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 201, rolloutJSON)
		stdout, _ := mustRunCLI(t, "", "rollout", "start", checkoutFlag, "-o", "json")
		var want bytes.Buffer
		json.Indent(&want, []byte(rolloutJSON), "", "  ")
		if stdout != want.String()+"\n" {
			t.Errorf("stdout = %s", stdout)
		}
	})
	t.Run("ErrFromTheServer", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts", 409, `{"error":{"code":"conflict","detail":"RolloutInProgress","message":"a rollout of /x is in progress"}}`)
		_, stderr, code := runCLI(t, "", "rollout", "start", "/x")
		if code != 1 || !strings.Contains(stderr, "RolloutInProgress") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	usage := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"ErrNoName", []string{"rollout", "start"}, []string{"missing arguments"}},
		{"ErrSelector", []string{"rollout", "start", checkoutFlag + ":3"}, []string{"drop the ':' part"}},
		{"ErrStrategy", []string{"rollout", "start", "/x", "--strategy", "gradual"}, []string{`--strategy "gradual"`, "linear"}},
		{"ErrDuration", []string{"rollout", "start", "/x", "--every", "5 minutes"}, []string{"-every", "not a duration"}},
		{"ErrNegativeDuration", []string{"rollout", "start", "/x", "--bake", "-1m"}, []string{"-bake", "negative"}},
		{"ErrStep", []string{"rollout", "start", "/x", "--step", "ten"}, []string{"-step"}},
		{"ErrSteps", []string{"rollout", "start", "/x", "--steps", "1,five,100"}, []string{"-steps", `"five"`}},
		{"ErrMonitorKey", []string{"rollout", "start", "/x", "--monitor", "http,url=http://h,retries=3"}, []string{"-monitor", `"retries"`, "min_evaluations"}},
		{"ErrMonitorKind", []string{"rollout", "start", "/x", "--monitor", "datadog,url=http://h"}, []string{`kind "datadog"`}},
		{"ErrOutput", []string{"rollout", "start", "/x", "-o", "yaml"}, []string{"table or json"}},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			assertUsageError(t, newFakeAPI(t), tt.args, tt.wants...)
		})
	}
}

func TestParseMonitor(t *testing.T) {
	threshold := func(f float64) *float64 { return &f }
	good := []struct {
		name string
		spec string
		want vane.Monitor
	}{
		{"HTTP", "http,url=https://shop.internal/healthz,failures=3,timeout=2s",
			vane.Monitor{Kind: "http", URL: "https://shop.internal/healthz", Failures: 3, Timeout: vane.Duration(2 * time.Second)}},
		{"KindAlone", "http", vane.Monitor{Kind: "http"}},
		{"URLWithQueryString", "http,url=https://h/health?deep=1&x=y,name=deep",
			vane.Monitor{Kind: "http", URL: "https://h/health?deep=1&x=y", Name: "deep"}},
		{"QueryTakesTheRest", `prometheus,url=http://prom:9090,threshold=5,query=sum(rate(http_requests_total{code=~"5..",job="a"}[1m]))`,
			vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Threshold: threshold(5), Query: `sum(rate(http_requests_total{code=~"5..",job="a"}[1m]))`}},
		{"QueryFirst", "prometheus,query=up{a=\"1\",b=\"2\"} == 0", vane.Monitor{Kind: "prometheus", Query: `up{a="1",b="2"} == 0`}},
		{"Errors", "errors,threshold=0.02,window=5m,min_evaluations=50",
			vane.Monitor{Kind: "errors", Threshold: threshold(0.02), Window: vane.Duration(5 * time.Minute), MinEvaluations: 50}},
		{"JSON", ` {"kind":"errors","threshold":0.1,"window":"10m","name":"e"}`,
			vane.Monitor{Kind: "errors", Threshold: threshold(0.1), Window: vane.Duration(10 * time.Minute), Name: "e"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMonitor(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tt.want)
			if string(g) != string(w) {
				t.Errorf("parseMonitor(%q) = %s, want %s", tt.spec, g, w)
			}
		})
	}
	bad := []struct {
		name, spec, want string
	}{
		{"ErrEmpty", "", `kind ""`},
		{"ErrKind", "pingdom,url=http://h", `kind "pingdom"`},
		{"ErrKeyFirst", "url=http://h", `kind "url=http://h"`},
		{"ErrUnknownKey", "http,url=http://h,retries=3", `unknown key "retries": use url, query`},
		{"ErrNotKeyValue", "http,http://h", `"http://h" is not KEY=VALUE`},
		{"ErrEmptyItem", "http,,url=http://h", "empty item"},
		{"ErrTrailingComma", "http,url=http://h,", "empty item"},
		{"ErrNoValue", "http,url=", "url has no value"},
		{"ErrTwice", "http,url=http://a,url=http://b", "url is given twice"},
		{"ErrThreshold", "errors,threshold=2%", "threshold=2% is not a number"},
		{"ErrThresholdInf", "errors,threshold=Inf", "threshold=Inf is not a number"},
		{"ErrFailures", "http,failures=0", "failures=0 is not a number of checks"},
		{"ErrFailuresWord", "http,failures=three", "failures=three"},
		{"ErrTimeout", "http,timeout=2", "timeout=2 is not a duration"},
		{"ErrWindow", "errors,window=-5m", "window=-5m is not a duration"},
		{"ErrMinEvaluations", "errors,min_evaluations=1.5", "min_evaluations=1.5"},
		{"ErrJSONUnknownField", `{"kind":"http","uri":"http://h"}`, `unknown field "uri"`},
		{"ErrJSONSyntax", `{"kind":"http"`, "not a monitor in JSON"},
		{"ErrJSONTrailing", `{"kind":"http"} {}`, "text after the object"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMonitor(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseMonitor(%q) = %v, want an error with %q", tt.spec, err, tt.want)
			}
		})
	}
}

func TestParseAt(t *testing.T) {
	now := time.Date(2026, 12, 2, 17, 0, 0, 250_000_000, time.UTC)
	paris := time.FixedZone("CET", 3600)
	good := []struct {
		name, at, want string
	}{
		{"RFC3339UTC", "2026-12-24T18:00:00Z", "2026-12-24T18:00:00Z"},
		{"RFC3339Offset", "2026-12-24T19:00:00+01:00", "2026-12-24T18:00:00Z"},
		{"RFC3339Fraction", "2026-12-24T18:00:00.5Z", "2026-12-24T18:00:00.5Z"},
		{"LocalMinutes", "2026-12-24 19:00", "2026-12-24T18:00:00Z"},
		{"LocalSeconds", "2026-12-24 19:00:30", "2026-12-24T18:00:30Z"},
		{"RelativeRoundedUp", "+90m", "2026-12-02T18:30:01Z"},
		{"RelativeHours", "+2h", "2026-12-02T19:00:01Z"},
		{"RelativeSpaces", " +1s ", "2026-12-02T17:00:02Z"},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAt(tt.at, now, paris)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("parseAt(%q) = %s, want %s", tt.at, s, tt.want)
			}
		})
	}
	t.Run("RelativeFromAWholeSecond", func(t *testing.T) {
		got, _ := parseAt("+1m", now.Truncate(time.Second), paris)
		if s := got.Format(time.RFC3339Nano); s != "2026-12-02T17:01:00Z" {
			t.Errorf("got %s", s)
		}
	})
	bad := []struct {
		name, at, want string
	}{
		{"ErrWords", "tomorrow", "RFC 3339"},
		{"ErrNoZoneWithT", "2026-12-24T18:00:00", `"YYYY-MM-DD HH:MM" in local time`},
		{"ErrDateOnly", "2026-12-24", "+DURATION"},
		{"ErrRelativeUnit", "+90", "+DURATION takes a Go duration above 0"},
		{"ErrRelativeNegative", "+-5m", "above 0"},
		{"ErrRelativeZero", "+0s", "above 0"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAt(tt.at, now, paris)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.at) {
				t.Errorf("parseAt(%q) = %v, want an error with %q", tt.at, err, tt.want)
			}
		})
	}
}

func TestRolloutList(t *testing.T) {
	page2 := rolloutWith(t, func(r *vane.Rollout) {
		r.ID, r.Name, r.Kind, r.State = "ro-2", "/app/pool", vane.RolloutValue, vane.RolloutCompleted
		r.Plan, r.Step, r.NextAt, r.Monitors = []float64{100}, 1, time.Time{}, nil
	})
	fired := rolloutWith(t, func(r *vane.Rollout) {
		r.ID, r.State, r.NextAt = "ro-3", vane.RolloutRolledBack, time.Time{}
		r.Monitors[0].State = vane.MonitorFired
	})
	t.Run("FollowsEveryPage", func(t *testing.T) {
		api := newFakeAPI(t)
		api.route("GET /v1/rollouts", func(r fakeRequest) (int, string) {
			if r.Query.Get("next_token") == "" {
				return 200, `{"rollouts":[` + rolloutJSON + `,` + fired + `],"next_token":"t1"}`
			}
			return 200, `{"rollouts":[` + page2 + `]}`
		})
		stdout, _ := mustRunCLI(t, "", "rollout", "ls", "/shop", "--active", "--limit", "2")
		reqs := api.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d requests", len(reqs))
		}
		assertRequest(t, reqs[0], "GET", "/v1/rollouts", url.Values{"path": {"/shop"}, "active": {"true"}, "limit": {"2"}})
		assertRequest(t, reqs[1], "GET", "/v1/rollouts", url.Values{"path": {"/shop"}, "active": {"true"}, "limit": {"2"}, "next_token": {"t1"}})
		want := "" +
			"ID    NAME                          STATE        STEP  SHARE  NEXT                  MONITORS\n" +
			"ro-1  /shop/prod/features/checkout  running      2/4   50%    2026-12-02T17:05:00Z  1 failing\n" +
			"ro-3  /shop/prod/features/checkout  rolled_back  2/4   50%    -                     fired: http-1\n" +
			"ro-2  /app/pool                     completed    1/1   -      -                     -\n"
		if stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
		}
	})
	t.Run("NoFilters", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/rollouts", 200, `{"rollouts":[]}`)
		if stdout, _ := mustRunCLI(t, "", "rollout", "ls"); stdout != "" {
			t.Errorf("stdout = %q", stdout)
		}
		assertRequest(t, api.only(), "GET", "/v1/rollouts", nil)
	})
	t.Run("JSONMergesThePages", func(t *testing.T) {
		api := newFakeAPI(t)
		api.route("GET /v1/rollouts", func(r fakeRequest) (int, string) {
			if r.Query.Get("next_token") == "" {
				return 200, `{"rollouts":[` + rolloutJSON + `],"next_token":"t1"}`
			}
			return 200, `{"rollouts":[` + page2 + `]}`
		})
		stdout, _ := mustRunCLI(t, "", "rollout", "ls", "-o", "json")
		var got struct {
			Rollouts []vane.Rollout `json:"rollouts"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got.Rollouts) != 2 || got.Rollouts[1].ID != "ro-2" {
			t.Errorf("stdout %s (%v)", stdout, err)
		}
	})
	t.Run("ErrRepeatedToken", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/rollouts", 200, `{"rollouts":[],"next_token":"same"}`)
		if _, stderr, code := runCLI(t, "", "rollout", "ls"); code != 1 || !strings.Contains(stderr, "same paging token") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestMonitorsSummary(t *testing.T) {
	tests := []struct {
		states []string
		want   string
	}{
		{nil, "-"},
		{[]string{"pending", "pending"}, "pending"},
		{[]string{"ok", "pending"}, "ok"},
		{[]string{"ok", "ok"}, "ok"},
		{[]string{"failing", "ok", "failing"}, "2 failing"},
		{[]string{"failing", "fired"}, "fired: m1"},
		{[]string{"fired", "fired"}, "fired: m0,m1"},
	}
	for _, tt := range tests {
		r := &vane.Rollout{}
		for i, s := range tt.states {
			r.Monitors = append(r.Monitors, vane.MonitorStatus{Name: "m" + string(rune('0'+i)), State: s})
		}
		if got := monitorsSummary(r); got != tt.want {
			t.Errorf("monitorsSummary(%q) = %q, want %q", tt.states, got, tt.want)
		}
	}
}

func TestPrintRollout(t *testing.T) {
	var r vane.Rollout
	if err := json.Unmarshal([]byte(rolloutJSON), &r); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 17, 1, 30, 0, time.UTC)
	var b bytes.Buffer
	if err := printRollout(&b, &r, now); err != nil {
		t.Fatal(err)
	}
	want := `ID:         ro-1
Name:       /shop/prod/features/checkout
Kind:       flag
Strategy:   linear, step 25%, every 5m
State:      running
Plan:       0% → 25% → [50%] → 75% → 100%
Share:      50% (step 2/4)
Next step:  2026-12-02T17:05:00Z (in 3m30s)
Bake:       30m
Monitors:   http-1 failing (1 of 3 failures): GET https://shop.internal/healthz: 503
Created:    2026-12-02T16:55:00Z by alice
Versions:   4 before the rollout, 6 written last
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	t.Run("Ended", func(t *testing.T) {
		r := r
		r.State, r.NextAt, r.Ended = vane.RolloutRolledBack, time.Time{}, now
		r.Reason = "monitor http-1 (http) fired: GET https://shop.internal/healthz: 503"
		r.Spec.Rule = "beta"
		r.Monitors = append(r.Monitors, vane.MonitorStatus{Name: "errors-2", State: "ok"})
		b.Reset()
		printRollout(&b, &r, now)
		for _, want := range []string{"Kind: flag, rule beta", "Reason: monitor http-1 (http) fired: GET https://shop.internal/healthz: 503",
			"Ended: 2026-12-02T17:01:30Z", "errors-2 ok"} {
			if !hasLines(b.String(), want) {
				t.Errorf("lacks the line %q:\n%s", want, b.String())
			}
		}
		if strings.Contains(b.String(), "Next step") {
			t.Errorf("an ended rollout has a next step:\n%s", b.String())
		}
	})
}

func TestMarkedPlan(t *testing.T) {
	linear := func(n int) []float64 {
		var p []float64
		for i := 1; i <= n; i++ {
			p = append(p, float64(i*100/n))
		}
		return p
	}
	tests := []struct {
		name  string
		start float64
		plan  []float64
		step  int
		want  string
	}{
		{"NotStarted", 0, []float64{50, 100}, 0, "[0%] → 50% → 100%"},
		{"Last", 12.5, []float64{50, 100}, 2, "12.5% → 50% → [100%]"},
		{"LongAtTheStart", 0, linear(20), 1, "0% → [5%] → 10% → ... → 95% → 100%"},
		{"LongInTheMiddle", 0, linear(20), 10, "0% → 5% → ... → 45% → [50%] → 55% → ... → 95% → 100%"},
		{"LongAtTheEnd", 0, linear(20), 20, "0% → 5% → ... → 95% → [100%]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &vane.Rollout{StartShare: tt.start, Plan: tt.plan, Step: tt.step}
			if got := markedPlan(r); got != tt.want {
				t.Errorf("markedPlan = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRolloutFrame(t *testing.T) {
	now := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	flag := func(start float64, plan []float64, step int, share float64, state vane.RolloutState) *vane.Rollout {
		return &vane.Rollout{Kind: vane.RolloutFlag, StartShare: start, Plan: plan, Step: step, Share: share, State: state}
	}
	tests := []struct {
		name string
		r    *vane.Rollout
		want string
	}{
		{"Start", func() *vane.Rollout {
			r := flag(0, []float64{25, 50, 75, 100}, 0, 0, vane.RolloutRunning)
			r.NextAt = now
			return r
		}(), "[                    ] 0% (target 100%)  step 0/4  running: next step now"},
		{"Half", func() *vane.Rollout {
			r := flag(0, []float64{25, 50, 75, 100}, 2, 50, vane.RolloutRunning)
			r.NextAt = now.Add(4*time.Minute + 29600*time.Millisecond)
			return r
		}(), "[==========          ] 50% (target 100%)  step 2/4  running: next step in 4m30s"},
		{"FromAStartToATarget", func() *vane.Rollout {
			r := flag(20, []float64{30, 40, 60}, 1, 30, vane.RolloutRunning)
			r.NextAt = now.Add(90 * time.Minute)
			return r
		}(), "[=====               ] 30% (target 60%)  step 1/3  running: next step in 1h30m"},
		{"Baking", func() *vane.Rollout {
			r := flag(0, []float64{100}, 1, 100, vane.RolloutBaking)
			r.NextAt = now.Add(25 * time.Second)
			return r
		}(), "[====================] 100% (target 100%)  step 1/1  baking: completes in 25s"},
		{"Paused", func() *vane.Rollout {
			r := flag(0, []float64{10, 100}, 1, 10, vane.RolloutPaused)
			r.Remaining = vane.Duration(3 * 24 * time.Hour)
			return r
		}(), "[==                  ] 10% (target 100%)  step 1/2  paused: 3d left"},
		{"RolledBack", flag(0, []float64{10, 100}, 1, 0, vane.RolloutRolledBack),
			"[                    ] 0% (target 100%)  step 1/2  rolled_back"},
		{"ValueBaking", func() *vane.Rollout {
			r := &vane.Rollout{Kind: vane.RolloutValue, Plan: []float64{100}, Step: 1, Share: 100, State: vane.RolloutBaking}
			r.NextAt = now.Add(2 * time.Hour)
			return r
		}(), "[====================] new value  step 1/1  baking: completes in 2h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rolloutFrame(tt.r, now); got != tt.want {
				t.Errorf("frame:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestFollowRollout(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 12, 2, 17, 4, 0, 0, time.UTC) }
	start := func(t *testing.T) *vane.Rollout {
		var r vane.Rollout
		if err := json.Unmarshal([]byte(rolloutJSON), &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	t.Run("UntilItEnds", func(t *testing.T) {
		api := newFakeAPI(t)
		var n atomic.Int32
		states := []string{
			rolloutWith(t, func(r *vane.Rollout) { r.Step, r.Share = 3, 75 }),
			rolloutWith(t, func(r *vane.Rollout) { r.Step, r.Share, r.State = 4, 100, vane.RolloutBaking }),
			rolloutWith(t, func(r *vane.Rollout) {
				r.Step, r.Share, r.State, r.NextAt, r.LastVersion = 4, 100, vane.RolloutCompleted, time.Time{}, 8
			}),
		}
		api.route("GET /v1/rollouts/ro-1", func(fakeRequest) (int, string) {
			return 200, states[min(int(n.Add(1))-1, len(states)-1)]
		})
		cl := &client{base: api.URL, http: &http.Client{Timeout: 10 * time.Second}}
		var b bytes.Buffer
		end, err := followRollout(context.Background(), &b, cl, start(t), time.Millisecond, now)
		if err != nil || end == nil || end.State != vane.RolloutCompleted {
			t.Fatalf("followRollout = %+v, %v", end, err)
		}
		if got := n.Load(); got != 3 {
			t.Errorf("%d requests, want 3", got)
		}
		frames := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\r")[1:]
		want := []string{
			"[==========          ] 50% (target 100%)  step 2/4  running: next step in 1m",
			"[===============     ] 75% (target 100%)  step 3/4  running: next step in 1m",
			"[====================] 100% (target 100%)  step 4/4  baking: completes in 1m",
			"[====================] 100% (target 100%)  step 4/4  completed",
		}
		if len(frames) != len(want) {
			t.Fatalf("frames %q, want %q", frames, want)
		}
		for i := range want {
			// Each frame is padded to cover the widest before it.
			if strings.TrimRight(frames[i], " ") != want[i] {
				t.Errorf("frame %d = %q, want %q", i, frames[i], want[i])
			}
		}
		// The last frame is shorter than those before: spaces cover them.
		widest := 0
		for _, f := range frames[:len(frames)-1] {
			widest = max(widest, utf8.RuneCountInString(f))
		}
		if got := utf8.RuneCountInString(frames[len(frames)-1]); got != widest {
			t.Errorf("the last frame is %d wide, want %d, the widest before it", got, widest)
		}
		if got := rolloutOutcome(end); got != "rollout ro-1 completed: /shop/prod/features/checkout at 100% (version 8)" {
			t.Errorf("outcome = %q", got)
		}
	})
	t.Run("StopsOnCancel", func(t *testing.T) {
		api := newFakeAPI(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var n atomic.Int32
		api.route("GET /v1/rollouts/ro-1", func(fakeRequest) (int, string) {
			if n.Add(1) == 3 {
				cancel()
			}
			return 200, rolloutJSON
		})
		cl := &client{base: api.URL, http: &http.Client{Timeout: 10 * time.Second}}
		var b bytes.Buffer
		done := make(chan struct{})
		var end *vane.Rollout
		var err error
		go func() {
			end, err = followRollout(ctx, &b, cl, start(t), time.Millisecond, now)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("followRollout did not stop when its context ended")
		}
		if end != nil || err != nil {
			t.Errorf("followRollout = %+v, %v; want nil, nil", end, err)
		}
		if !strings.HasSuffix(b.String(), "\n") {
			t.Errorf("the bar's line is not ended: %q", b.String())
		}
	})
	t.Run("ErrFromTheServer", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/rollouts/ro-1", 404, `{"error":{"code":"not_found","message":"no rollout ro-1"}}`)
		cl := &client{base: api.URL, http: &http.Client{Timeout: 10 * time.Second}}
		var b bytes.Buffer
		if _, err := followRollout(context.Background(), &b, cl, start(t), time.Millisecond, now); err == nil || !strings.Contains(err.Error(), "no rollout") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRolloutShow(t *testing.T) {
	t.Run("PrintsOnceWhenNotATerminal", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/rollouts/ro-1", 200, rolloutJSON)
		stdout, _ := mustRunCLI(t, "", "rollout", "show", "ro-1")
		assertRequest(t, api.only(), "GET", "/v1/rollouts/ro-1", nil)
		if !strings.HasPrefix(stdout, "ID:         ro-1\n") || !strings.HasSuffix(stdout, "Versions:   4 before the rollout, 6 written last\n") ||
			strings.Contains(stdout, "\r") {
			t.Errorf("stdout:\n%s", stdout)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/rollouts/ro-1", 200, rolloutJSON)
		stdout, _ := mustRunCLI(t, "", "rollout", "show", "ro-1", "-o", "json")
		var r vane.Rollout
		if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.ID != "ro-1" || r.Monitors[0].Detail == "" {
			t.Errorf("stdout %s (%v)", stdout, err)
		}
	})
	t.Run("IDEscaped", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/rollouts/a%2Fb", 404, `{"error":{"code":"not_found","message":"no such rollout"}}`)
		if _, _, code := runCLI(t, "", "rollout", "show", "a/b"); code != 1 {
			t.Errorf("exit %d", code)
		}
	})
	t.Run("ErrNoID", func(t *testing.T) {
		assertUsageError(t, newFakeAPI(t), []string{"rollout", "show"}, "missing arguments")
	})
}

func TestRolloutOps(t *testing.T) {
	tests := []struct {
		op     string
		change func(r *vane.Rollout)
		want   string
	}{
		{"pause", func(r *vane.Rollout) {
			r.State, r.PausedState, r.Remaining, r.NextAt = vane.RolloutPaused, vane.RolloutRunning, vane.Duration(150*time.Second), time.Time{}
		}, "rollout ro-1 paused at 50% (step 2/4): 2m30s left until the next step"},
		{"resume", func(*vane.Rollout) {}, "rollout ro-1 resumed: running at 50% (step 2/4): next step at 2026-12-02T17:05:00Z"},
		{"cancel", func(r *vane.Rollout) {
			r.State, r.Reason = vane.RolloutCancelled, "cancelled by alice at 50% (version 6 stays)"
		}, "rollout ro-1 cancelled: /shop/prod/features/checkout stays at 50% (version 6): cancelled by alice at 50% (version 6 stays)"},
		{"rollback", func(r *vane.Rollout) {
			r.State, r.Share, r.LastVersion, r.Reason = vane.RolloutRolledBack, 0, 7, "rolled back by alice"
		}, "rollout ro-1 rolled back: /shop/prod/features/checkout version 7 is the value from before the rollout (version 4): rolled back by alice"},
		{"complete", func(r *vane.Rollout) {
			r.State, r.Share, r.Step, r.LastVersion, r.Reason = vane.RolloutCompleted, 100, 4, 7, "completed early by alice"
		}, "rollout ro-1 completed: /shop/prod/features/checkout at 100% (version 7): completed early by alice"},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			api := newFakeAPI(t)
			body := rolloutWith(t, tt.change)
			api.reply("POST /v1/rollouts/ro-1/"+tt.op, 200, body)
			stdout, _ := mustRunCLI(t, "", "rollout", tt.op, "ro-1")
			r := api.only()
			assertRequest(t, r, "POST", "/v1/rollouts/ro-1/"+tt.op, nil)
			if r.Body != "" {
				t.Errorf("body = %q, want none", r.Body)
			}
			if stdout != tt.want+"\n" {
				t.Errorf("stdout = %q, want %q", stdout, tt.want)
			}
			stdout, _ = mustRunCLI(t, "", "rollout", tt.op, "ro-1", "-o", "json")
			var want bytes.Buffer
			json.Indent(&want, []byte(body), "", "  ")
			if stdout != want.String()+"\n" {
				t.Errorf("-o json printed %s", stdout)
			}
		})
	}
	t.Run("PausedBaking", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts/ro-1/pause", 200, rolloutWith(t, func(r *vane.Rollout) {
			r.Kind, r.Plan, r.Step = vane.RolloutValue, []float64{100}, 1
			r.State, r.PausedState, r.Remaining = vane.RolloutPaused, vane.RolloutBaking, vane.Duration(20*time.Minute)
		}))
		if stdout, _ := mustRunCLI(t, "", "rollout", "pause", "ro-1"); stdout != "rollout ro-1 paused (step 1/1): 20m left of the bake\n" {
			t.Errorf("stdout = %q", stdout)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/rollouts/ro-1/pause", 409, `{"error":{"code":"conflict","message":"cannot pause rollout ro-1: it is completed, not running or baking"}}`)
		if _, stderr, code := runCLI(t, "", "rollout", "pause", "ro-1"); code != 1 || !strings.Contains(stderr, "cannot pause") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ErrTwoIDs", func(t *testing.T) {
		assertUsageError(t, newFakeAPI(t), []string{"rollout", "cancel", "ro-1", "ro-2"}, "too many arguments")
	})
}

func TestRolloutHelp(t *testing.T) {
	stdout, _ := mustRunCLI(t, "", "rollout", "--help")
	for _, want := range []string{"Usage: vane rollout SUBCOMMAND", "start NAME", "ls [PATH]", "show ID", "pause ID", "resume ID",
		"cancel ID", "rollback ID", "complete ID", "Examples:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("vane rollout --help lacks %q", want)
		}
	}
	for _, sub := range []string{"start", "ls", "show", "pause", "resume", "cancel", "rollback", "complete"} {
		stdout, _ := mustRunCLI(t, "", "rollout", sub, "--help")
		if !strings.HasPrefix(stdout, "Usage: vane rollout "+sub) || !strings.Contains(stdout, "Examples:\n  vane rollout "+sub) {
			t.Errorf("vane rollout %s --help printed\n%s", sub, stdout)
		}
	}
	stdout, _ = mustRunCLI(t, "", "help", "rollout")
	if !strings.HasPrefix(stdout, "Usage: vane rollout SUBCOMMAND") {
		t.Errorf("vane help rollout printed %q", stdout)
	}
	api := newFakeAPI(t)
	assertUsageError(t, api, []string{"rollout"}, "a subcommand is required")
	assertUsageError(t, api, []string{"rollout", "restart", "ro-1"}, `unknown subcommand "restart"`)
}
