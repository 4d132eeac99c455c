package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// scheduleJSON is a pending scheduled put, as the API answers.
const scheduleJSON = `{"id":"sc-1","name":"/app/banner","action":"put","at":"2026-12-24T18:00:00Z","value":"hello",
"state":"pending","created_by":"alice","created":"2026-12-02T17:00:00Z","updated":"2026-12-02T17:00:00Z","revision":1}`

// scheduleWith returns scheduleJSON with the fields of change replaced.
func scheduleWith(t *testing.T, change func(sc *vane.Schedule)) string {
	t.Helper()
	var sc vane.Schedule
	if err := json.Unmarshal([]byte(scheduleJSON), &sc); err != nil {
		t.Fatal(err)
	}
	change(&sc)
	b, err := json.Marshal(&sc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScheduleCreate(t *testing.T) {
	const at = "2026-12-24T19:00:00+01:00" // 18:00 UTC
	tests := []struct {
		name  string
		stdin string
		args  []string
		body  string
	}{
		{"PutEveryFlag", "", []string{"schedule", "put", "/app/banner", "hello", "--at", at, "--type", "StringList",
			"--description", "the banner", "--expect-version", "3"},
			`{"name":"/app/banner","action":"put","at":"2026-12-24T18:00:00Z","value":"hello","type":"StringList",
			"description":"the banner","expect_version":3}`},
		{"PutOnlyWhatIsGiven", "", []string{"schedule", "put", "/app/banner", "hello", "--at", at},
			`{"name":"/app/banner","action":"put","at":"2026-12-24T18:00:00Z","value":"hello"}`},
		{"PutEmptyDescriptionAndExpectedVersionZero", "", []string{"schedule", "put", "/app/banner", "hello", "--at", at,
			"--description=", "--expect-version", "0"},
			`{"name":"/app/banner","action":"put","at":"2026-12-24T18:00:00Z","value":"hello","description":"","expect_version":0}`},
		{"PutValueFromStdin", "line 1\nline 2\n", []string{"schedule", "put", "--at", at, "/app/banner", "-"},
			`{"name":"/app/banner","action":"put","at":"2026-12-24T18:00:00Z","value":"line 1\nline 2\n"}`},
		{"LabelAVersion", "", []string{"schedule", "label", "/app/db:7", "stable", "canary", "--at", at},
			`{"name":"/app/db","action":"label","at":"2026-12-24T18:00:00Z","version":7,"labels":["stable","canary"]}`},
		{"LabelTheLatest", "", []string{"schedule", "label", "/app/db", "stable", "--at", at, "--expect-version", "7"},
			`{"name":"/app/db","action":"label","at":"2026-12-24T18:00:00Z","labels":["stable"],"expect_version":7}`},
		{"Rollout", "", []string{"schedule", "rollout", checkoutFlag, "--at", at, "--strategy", "linear", "--step", "10",
			"--every", "5m", "--monitor", "errors,threshold=0.02"},
			`{"name":"/shop/prod/features/checkout","action":"rollout","at":"2026-12-24T18:00:00Z",
			"rollout":{"strategy":"linear","step":10,"every":"5m0s","monitors":[{"kind":"errors","threshold":0.02}]}}`},
		{"RolloutWithTheServersDefaults", "", []string{"schedule", "rollout", checkoutFlag, "--at", at},
			`{"name":"/shop/prod/features/checkout","action":"rollout","at":"2026-12-24T18:00:00Z","rollout":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t)
			api.reply("POST /v1/schedules", 201, scheduleJSON)
			stdout, _ := mustRunCLI(t, tt.stdin, tt.args...)
			r := api.only()
			assertRequest(t, r, "POST", "/v1/schedules", nil)
			assertJSON(t, r.Body, tt.body)
			if !strings.HasPrefix(stdout, "scheduled sc-1: put of /app/banner at 2026-12-24T18:00:00Z (") {
				t.Errorf("stdout = %q", stdout)
			}
		})
	}
	t.Run("RelativeTime", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/schedules", 201, scheduleJSON)
		before := time.Now()
		mustRunCLI(t, "", "schedule", "put", "/app/banner", "hello", "--at", "+90m")
		var body struct {
			At string `json:"at"`
		}
		if err := json.Unmarshal([]byte(api.only().Body), &body); err != nil {
			t.Fatal(err)
		}
		got, err := time.Parse(time.RFC3339, body.At)
		if err != nil || !strings.HasSuffix(body.At, "Z") {
			t.Fatalf("at %q is not RFC 3339 UTC: %v", body.At, err)
		}
		if earliest := before.Add(90 * time.Minute); got.Before(earliest.Truncate(time.Second)) || got.After(earliest.Add(time.Minute)) {
			t.Errorf("at = %s, want 90m after %s", got, before)
		}
	})
	t.Run("PrintsLabelAndRolloutChanges", func(t *testing.T) {
		for body, want := range map[string]string{
			scheduleWith(t, func(sc *vane.Schedule) {
				sc.Action, sc.Name, sc.Value, sc.Version, sc.Labels = "label", "/app/db", nil, 7, []string{"stable", "canary"}
			}): "scheduled sc-1: label move of stable, canary to version 7 of /app/db at 2026-12-24T18:00:00Z (",
			scheduleWith(t, func(sc *vane.Schedule) {
				sc.Action, sc.Name, sc.Value, sc.Labels = "label", "/app/db", nil, []string{"stable"}
			}): "scheduled sc-1: label move of stable to the latest version of /app/db at 2026-12-24T18:00:00Z (",
			scheduleWith(t, func(sc *vane.Schedule) {
				sc.Action, sc.Name, sc.Value, sc.Rollout = "rollout", checkoutFlag, nil, &vane.RolloutSpec{Strategy: "canary"}
			}): "scheduled sc-1: canary rollout of /shop/prod/features/checkout at 2026-12-24T18:00:00Z (",
		} {
			api := newFakeAPI(t)
			api.reply("POST /v1/schedules", 201, body)
			if stdout, _ := mustRunCLI(t, "", "schedule", "put", "/x", "v", "--at", "+1h"); !strings.HasPrefix(stdout, want) {
				t.Errorf("stdout = %q, want %q...", stdout, want)
			}
		}
	})
	t.Run("JSONIsTheResponse", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/schedules", 201, scheduleJSON)
		stdout, _ := mustRunCLI(t, "", "schedule", "put", "/app/banner", "hello", "--at", at, "-o", "json")
		var want bytes.Buffer
		json.Indent(&want, []byte(scheduleJSON), "", "  ")
		if stdout != want.String()+"\n" {
			t.Errorf("stdout = %s", stdout)
		}
	})
	t.Run("ErrFromTheServer", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/schedules", 400, `{"error":{"code":"invalid","message":"schedule: at 2020-01-01T00:00:00Z is not in the future"}}`)
		if _, stderr, code := runCLI(t, "", "schedule", "put", "/x", "v", "--at", "2020-01-01T00:00:00Z"); code != 1 || !strings.Contains(stderr, "not in the future") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	usage := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"ErrNoAt", []string{"schedule", "put", "/x", "v"}, []string{"--at TIME is required", "RFC 3339", "+DURATION"}},
		{"ErrBadAt", []string{"schedule", "put", "/x", "v", "--at", "noon"}, []string{`--at "noon"`, "RFC 3339", "YYYY-MM-DD HH:MM", "+90m"}},
		{"ErrPutNoValue", []string{"schedule", "put", "/x", "--at", "+1h"}, []string{"missing arguments"}},
		{"ErrPutSelector", []string{"schedule", "put", "/x:2", "v", "--at", "+1h"}, []string{"drop the ':' part"}},
		{"ErrPutRolloutFlag", []string{"schedule", "put", "/x", "v", "--at", "+1h", "--step", "5"}, []string{"-step"}},
		{"ErrLabelNoLabels", []string{"schedule", "label", "/x:2", "--at", "+1h"}, []string{"missing arguments"}},
		{"ErrLabelSelectorNotAVersion", []string{"schedule", "label", "/x:stable", "blue", "--at", "+1h"}, []string{"version number"}},
		{"ErrLabelTypeFlag", []string{"schedule", "label", "/x", "blue", "--at", "+1h", "--type", "String"}, []string{"-type"}},
		{"ErrRolloutExtraArgument", []string{"schedule", "rollout", "/x", "v", "--at", "+1h"}, []string{"too many arguments"}},
		{"ErrRolloutMonitor", []string{"schedule", "rollout", "/x", "--at", "+1h", "--monitor", "http,url"}, []string{`"url" is not KEY=VALUE`}},
		{"ErrRolloutStrategy", []string{"schedule", "rollout", "/x", "--at", "+1h", "--strategy", "big-bang"}, []string{"--strategy"}},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			assertUsageError(t, newFakeAPI(t), tt.args, tt.wants...)
		})
	}
}

func TestScheduleList(t *testing.T) {
	done := scheduleWith(t, func(sc *vane.Schedule) {
		sc.ID, sc.State, sc.Result = "sc-2", vane.ScheduleDone, "put version 4 (ran 2h0m5s late: no node ran it at its time)"
		sc.At = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	})
	running := scheduleWith(t, func(sc *vane.Schedule) {
		sc.ID, sc.Action, sc.Name, sc.Value, sc.Rollout = "sc-3", "rollout", checkoutFlag, nil, &vane.RolloutSpec{}
		sc.Started = time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
	})
	t.Run("FollowsEveryPage", func(t *testing.T) {
		api := newFakeAPI(t)
		api.route("GET /v1/schedules", func(r fakeRequest) (int, string) {
			if r.Query.Get("next_token") == "" {
				return 200, `{"schedules":[` + done + `,` + scheduleJSON + `],"next_token":"t1"}`
			}
			return 200, `{"schedules":[` + running + `]}`
		})
		stdout, _ := mustRunCLI(t, "", "schedule", "ls", "/app", "--state", "pending", "--limit", "2")
		reqs := api.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d requests", len(reqs))
		}
		assertRequest(t, reqs[0], "GET", "/v1/schedules", url.Values{"path": {"/app"}, "state": {"pending"}, "limit": {"2"}})
		assertRequest(t, reqs[1], "GET", "/v1/schedules", url.Values{"path": {"/app"}, "state": {"pending"}, "limit": {"2"}, "next_token": {"t1"}})
		want := "" +
			"ID    NAME                          ACTION   AT                    STATE    RESULT\n" +
			"sc-2  /app/banner                   put      2026-12-01T09:00:00Z  done     put version 4 (ran 2h0m5s late: no node ran it at its time)\n" +
			"sc-1  /app/banner                   put      2026-12-24T18:00:00Z  pending  -\n" +
			"sc-3  /shop/prod/features/checkout  rollout  2026-12-24T18:00:00Z  running  -\n"
		if stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
		}
	})
	t.Run("JSONMergesThePages", func(t *testing.T) {
		api := newFakeAPI(t)
		api.route("GET /v1/schedules", func(r fakeRequest) (int, string) {
			if r.Query.Get("next_token") == "" {
				return 200, `{"schedules":[` + scheduleJSON + `],"next_token":"t1"}`
			}
			return 200, `{"schedules":[` + done + `]}`
		})
		stdout, _ := mustRunCLI(t, "", "schedule", "ls", "-o", "json")
		assertRequest(t, api.requests()[0], "GET", "/v1/schedules", nil)
		var got struct {
			Schedules []vane.Schedule `json:"schedules"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got.Schedules) != 2 || got.Schedules[1].ID != "sc-2" {
			t.Errorf("stdout %s (%v)", stdout, err)
		}
	})
	t.Run("EmptyJSONIsAnEmptyList", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/schedules", 200, `{"schedules":[]}`)
		if stdout, _ := mustRunCLI(t, "", "schedule", "ls", "-o", "json"); stdout != "{\n  \"schedules\": []\n}\n" {
			t.Errorf("stdout = %q", stdout)
		}
	})
	t.Run("ErrState", func(t *testing.T) {
		assertUsageError(t, newFakeAPI(t), []string{"schedule", "ls", "--state", "running"}, `--state "running"`, "pending, done, failed or cancelled")
	})
}

func TestScheduleShow(t *testing.T) {
	now := time.Date(2026, 12, 24, 16, 30, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sc    string
		lines []string
	}{
		{"Put", scheduleWith(t, func(sc *vane.Schedule) {
			sc.Type, sc.Description, sc.ExpectVersion = "String", new("the banner"), new(int64(3))
		}), []string{"ID: sc-1", "Name: /app/banner", "Action: put of /app/banner", "Value: hello", "Type: String",
			"Description: the banner", "Expect version: 3", "At: 2026-12-24T18:00:00Z (in 1h30m)", "State: pending",
			"Created: 2026-12-02T17:00:00Z by alice"}},
		{"HiddenValue", scheduleWith(t, func(sc *vane.Schedule) { sc.Value = nil }),
			[]string{"Value: (hidden: you may not read /app/banner)"}},
		{"RanLate", scheduleWith(t, func(sc *vane.Schedule) {
			sc.State, sc.Result = vane.ScheduleDone, "put version 4 (ran 2h0m5s late: no node ran it at its time)"
			sc.Ran, sc.Late = sc.At.Add(2*time.Hour+5*time.Second), vane.Duration(2*time.Hour+5*time.Second)
		}), []string{"At: 2026-12-24T18:00:00Z", "State: done", "Result: put version 4 (ran 2h0m5s late: no node ran it at its time)",
			"Ran: 2026-12-24T20:00:05Z (2h late)"}},
		{"Rollout", scheduleWith(t, func(sc *vane.Schedule) {
			bake := vane.Duration(30 * time.Minute)
			sc.Action, sc.Name, sc.Value = "rollout", checkoutFlag, nil
			sc.Rollout = &vane.RolloutSpec{Strategy: "linear", Step: 10, Every: vane.Duration(5 * time.Minute), Bake: &bake,
				Target: new(50.0), Rule: "beta", Monitors: []vane.Monitor{{Kind: "errors"}}}
		}), []string{"Action: linear rollout of /shop/prod/features/checkout",
			"Rollout: linear, step 10%, every 5m, target 50%, rule beta, bake 30m, 1 monitor(s)"}},
		{"Label", scheduleWith(t, func(sc *vane.Schedule) {
			sc.Action, sc.Value, sc.Labels, sc.State = "label", nil, []string{"stable"}, vane.ScheduleCancelled
			sc.Result = "cancelled by bob"
		}), []string{"Action: label move of stable to the latest version of /app/banner", "At: 2026-12-24T18:00:00Z",
			"State: cancelled", "Result: cancelled by bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sc vane.Schedule
			if err := json.Unmarshal([]byte(tt.sc), &sc); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := printSchedule(&b, &sc, now); err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.lines {
				if !hasLines(b.String(), want) {
					t.Errorf("lacks the line %q:\n%s", want, b.String())
				}
			}
		})
	}
	t.Run("Command", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/schedules/sc-1", 200, scheduleJSON)
		stdout, _ := mustRunCLI(t, "", "schedule", "show", "sc-1")
		assertRequest(t, api.only(), "GET", "/v1/schedules/sc-1", nil)
		if !strings.HasPrefix(stdout, "ID:") || !strings.Contains(stdout, "hello") {
			t.Errorf("stdout:\n%s", stdout)
		}
		stdout, _ = mustRunCLI(t, "", "schedule", "show", "sc-1", "-o", "json")
		var want bytes.Buffer
		json.Indent(&want, []byte(scheduleJSON), "", "  ")
		if stdout != want.String()+"\n" {
			t.Errorf("-o json printed %s", stdout)
		}
	})
}

func TestScheduleCancel(t *testing.T) {
	api := newFakeAPI(t)
	cancelled := scheduleWith(t, func(sc *vane.Schedule) { sc.State, sc.Result = vane.ScheduleCancelled, "cancelled by alice" })
	api.reply("POST /v1/schedules/sc-1/cancel", 200, cancelled)
	stdout, _ := mustRunCLI(t, "", "schedule", "cancel", "sc-1")
	r := api.only()
	assertRequest(t, r, "POST", "/v1/schedules/sc-1/cancel", nil)
	if r.Body != "" {
		t.Errorf("body = %q, want none", r.Body)
	}
	if stdout != "cancelled sc-1: put of /app/banner at 2026-12-24T18:00:00Z\n" {
		t.Errorf("stdout = %q", stdout)
	}
	stdout, _ = mustRunCLI(t, "", "schedule", "cancel", "sc-1", "-o", "json")
	var sc vane.Schedule
	if err := json.Unmarshal([]byte(stdout), &sc); err != nil || sc.State != vane.ScheduleCancelled {
		t.Errorf("-o json printed %s (%v)", stdout, err)
	}
	api.reply("POST /v1/schedules/sc-9/cancel", 409, `{"error":{"code":"conflict","message":"cannot cancel scheduled change sc-9: it is done"}}`)
	if _, stderr, code := runCLI(t, "", "schedule", "cancel", "sc-9"); code != 1 || !strings.Contains(stderr, "it is done") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestScheduleHelp(t *testing.T) {
	stdout, _ := mustRunCLI(t, "", "schedule", "--help")
	for _, want := range []string{"Usage: vane schedule SUBCOMMAND", "put NAME VALUE --at TIME", "label NAME[:VERSION] LABEL... --at TIME",
		"rollout NAME --at TIME", "ls [PATH]", "show ID", "cancel ID", "TIME is an RFC 3339 time", "Examples:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("vane schedule --help lacks %q", want)
		}
	}
	for _, sub := range []string{"put", "label", "rollout", "ls", "show", "cancel"} {
		stdout, _ := mustRunCLI(t, "", "schedule", sub, "--help")
		if !strings.HasPrefix(stdout, "Usage: vane schedule "+sub) || !strings.Contains(stdout, "Examples:\n  vane schedule "+sub) {
			t.Errorf("vane schedule %s --help printed\n%s", sub, stdout)
		}
	}
	// schedule rollout takes the flags of rollout start.
	if stdout, _ := mustRunCLI(t, "", "schedule", "rollout", "--help"); !strings.Contains(stdout, "--monitor SPEC") || !strings.Contains(stdout, "--at TIME") {
		t.Errorf("vane schedule rollout --help:\n%s", stdout)
	}
	api := newFakeAPI(t)
	assertUsageError(t, api, []string{"schedule"}, "a subcommand is required")
	assertUsageError(t, api, []string{"schedule", "move", "sc-1"}, `unknown subcommand "move"`)
}
