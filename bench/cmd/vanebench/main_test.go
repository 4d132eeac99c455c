package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane/bench"
)

// TestMain lets the test binary serve as the baseline process when
// vanebench re-executes itself (os.Executable) with -serve-baseline.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-serve-baseline" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "vanebench:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestVanebench runs the whole command with tiny runs against a vane built
// from this module and checks that every cell was measured.
func TestVanebench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vane and starts four servers")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build vane with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "vane")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/vanehq/vane/cmd/vane").CombinedOutput(); err != nil {
		t.Fatalf("go build vane: %v\n%s", err, out)
	}

	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"-vane", bin, "-c", "2", "-d", "150ms", "-warmup", "50ms", "-rounds", "1", "-json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("vanebench: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep struct {
		Runs []struct {
			Path, Mode string
			Vane       struct{ Requests, Errors int64 }
			Baseline   struct{ Requests, Errors int64 }
			RatioPct   *float64 `json:"ratio_pct"`
			AuthDevPct *float64 `json:"auth_dev_pct"`
			Error      string
		}
		Skipped []struct{ Path, Mode string }
		Goals   []struct {
			Target struct{ Name string }
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("-json output: %v\n%s", err, stdout.String())
	}
	var got []string
	for _, r := range rep.Runs {
		got = append(got, r.Path+"/"+r.Mode)
		if r.Error != "" || r.Vane.Requests == 0 || r.Baseline.Requests == 0 || r.RatioPct == nil || *r.RatioPct <= 0 {
			t.Errorf("%s/%s: not measured: %+v", r.Path, r.Mode, r)
		}
		if (r.Mode == modeAuth) != (r.AuthDevPct != nil) {
			t.Errorf("%s/%s: auth/dev %v, want one on auth cells only", r.Path, r.Mode, r.AuthDevPct)
		}
	}
	want := "get/dev get/auth ofrep/dev ofrep/auth ssm/dev ssm-sigv4/dev ssm-sigv4/auth evaluate-bulk/dev evaluate-bulk/auth ofrep-bulk/dev ofrep-bulk/auth"
	if strings.Join(got, " ") != want {
		t.Errorf("cells run: %s\nwant:       %s", strings.Join(got, " "), want)
	}
	if len(rep.Skipped) != 1 || rep.Skipped[0].Path != "ssm" || rep.Skipped[0].Mode != modeAuth {
		t.Errorf("skipped %+v, want ssm/auth", rep.Skipped)
	}
	// 11 ratio goals and 5 auth/dev goals.
	if len(rep.Goals) != 16 {
		t.Errorf("%d goals, want 16", len(rep.Goals))
	}
}

func TestSelectCells(t *testing.T) {
	names := func(only string) (run, skipped string) {
		cells, skips := selectCells(paths(), regexp.MustCompile(only))
		var a, b []string
		for _, c := range cells {
			a = append(a, c.name())
		}
		for _, s := range skips {
			b = append(b, s.Path+"/"+s.Mode)
		}
		return strings.Join(a, " "), strings.Join(b, " ")
	}
	for _, tc := range []struct{ only, run, skipped string }{
		{"^get/", "get/dev get/auth", ""},
		{"ofrep", "ofrep/dev ofrep/auth ofrep-bulk/dev ofrep-bulk/auth", ""},
		{"^ssm/", "ssm/dev", "ssm/auth"},
		{"^ssm-sigv4/auth$", "ssm-sigv4/auth", ""},
		{"nothing", "", ""},
	} {
		run, skipped := names(tc.only)
		if run != tc.run || skipped != tc.skipped {
			t.Errorf("-only %q: runs %q, skips %q; want %q, %q", tc.only, run, skipped, tc.run, tc.skipped)
		}
	}
}

func TestSummarize(t *testing.T) {
	cells, _ := selectCells(paths(), regexp.MustCompile("^get/"))
	f := func(x float64) *float64 { return &x }
	rep := &report{Runs: []*cellResult{
		{Round: 1, Path: "get", Mode: modeDev, Vane: rps(900), Baseline: rps(1000), RatioPct: 90},
		{Round: 1, Path: "get", Mode: modeAuth, Vane: rps(800), Baseline: rps(1000), RatioPct: 80, AuthDevPct: f(88.9)},
		{Round: 2, Path: "get", Mode: modeDev, Vane: rps(860), Baseline: rps(1000), RatioPct: 86},
		{Round: 2, Path: "get", Mode: modeAuth, RatioPct: math.NaN(), Error: "vane: 3 of 9 requests failed"},
		{Round: 3, Path: "get", Mode: modeDev, Vane: rps(700), Baseline: rps(1000), RatioPct: 70},
		{Round: 3, Path: "get", Mode: modeAuth, Vane: rps(690), Baseline: rps(1000), RatioPct: 69, AuthDevPct: f(98.6)},
	}}
	summarize(rep, cells)
	var goals []string
	for _, g := range rep.Goals {
		goals = append(goals, g.String())
	}
	want := []string{
		"met     get/dev vane/baseline ≥ 85%: 86.0% (70.0–90.0%)",
		"MISSED  get/auth vane/baseline ≥ 85%: 74.5% (69.0–80.0%)",
		"met     get auth/dev ≥ 90%: 93.8% (88.9–98.6%)",
	}
	if strings.Join(goals, "\n") != strings.Join(want, "\n") {
		t.Errorf("goals:\n%s\nwant:\n%s", strings.Join(goals, "\n"), strings.Join(want, "\n"))
	}
	if len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0], "round 2 get/auth") {
		t.Errorf("Failed = %q, want the round 2 auth cell", rep.Failed)
	}
}

func TestChecks(t *testing.T) {
	var flags, evals []string
	for i := range flagCount {
		flags = append(flags, fmt.Sprintf(`{"key":"bench/prod/features/f%03d","value":true,"reason":"STATIC"}`, i))
		evals = append(evals, fmt.Sprintf(`{"name":"/bench/prod/features/f%03d","value":false,"reason":"DEFAULT"}`, i))
	}
	ofrepBulk := `{"flags":[` + strings.Join(flags, ",") + `]}`
	evalBulk := `{"path":"/bench/prod/","flags":[` + strings.Join(evals, ",") + `]}`
	for _, tc := range []struct {
		name  string
		check func([]byte) error
		body  string
		ok    bool
	}{
		{"Parameter", checkParameter, `{"name":"/myapp/prod/tuning/http_timeout_ms","value":"2500"}`, true},
		{"ErrParameterValue", checkParameter, `{"name":"/myapp/prod/tuning/http_timeout_ms","value":"25"}`, false},
		{"SSM", checkSSM, `{"Parameter":{"Name":"/myapp/prod/tuning/http_timeout_ms","Value":"2500"}}`, true},
		{"ErrSSMError", checkSSM, `{"__type":"ParameterNotFound"}`, false},
		{"OFREP", checkOFREP, `{"key":"bench/prod/features/f000","value":false,"reason":"TARGETING_MATCH"}`, true},
		{"ErrOFREPOtherKey", checkOFREP, `{"key":"f000","value":false,"reason":"DEFAULT"}`, false},
		{"ErrOFREPErrorCode", checkOFREP, `{"key":"bench/prod/features/f000","errorCode":"PARSE_ERROR"}`, false},
		{"OFREPBulk", checkOFREPBulk, ofrepBulk, true},
		{"ErrOFREPBulkShort", checkOFREPBulk, strings.Replace(ofrepBulk, flags[0]+",", "", 1), false},
		{"ErrOFREPBulkRepeated", checkOFREPBulk, strings.Replace(ofrepBulk, "f001", "f000", 1), false},
		{"EvaluateBulk", checkEvaluateBulk, evalBulk, true},
		{"ErrEvaluateBulkError", checkEvaluateBulk, strings.Replace(evalBulk, `"value":false`, `"value":null,"error_code":"PARSE_ERROR"`, 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func rps(x float64) *bench.ResultJSON { return &bench.ResultJSON{RPS: x} }
