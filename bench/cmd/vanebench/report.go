package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/vanehq/vane/bench"
)

// report is the -json output; its parts also feed the text output.
type report struct {
	Vane        string          `json:"vane"`
	Servers     []serverJSON    `json:"servers"`
	Concurrency int             `json:"concurrency"`
	Duration    string          `json:"duration"`
	Warmup      string          `json:"warmup"`
	Rounds      int             `json:"rounds"`
	CPUs        int             `json:"cpus"`
	GOMAXPROCS  int             `json:"gomaxprocs"`
	Skipped     []skipJSON      `json:"skipped,omitempty"`
	Runs        []*cellResult   `json:"runs"`
	Summary     []summaryJSON   `json:"summary"`
	Goals       []bench.Verdict `json:"goals"`
	Failed      []string        `json:"failed,omitempty"`
}

type serverJSON struct {
	Mode     string `json:"mode"`
	Vane     string `json:"vane"`
	Baseline string `json:"baseline"`
}

type skipJSON struct {
	Path   string `json:"path"`
	Mode   string `json:"mode"`
	Reason string `json:"reason"`
}

// cellResult is one cell in one round.
type cellResult struct {
	Round    int               `json:"round"`
	Path     string            `json:"path"`
	Mode     string            `json:"mode"`
	Vane     *bench.ResultJSON `json:"vane"`
	Baseline *bench.ResultJSON `json:"baseline"`
	// RatioPct is NaN when the cell failed (and then left out of the
	// JSON, which has no NaN).
	RatioPct float64 `json:"-"`
	// AuthDevPct is this auth cell's ratio over the dev cell's, in
	// percent; AuthDevRawPct is plain auth req/s over dev req/s.
	AuthDevPct    *float64 `json:"auth_dev_pct,omitempty"`
	AuthDevRawPct *float64 `json:"auth_dev_raw_pct,omitempty"`
	Error         string   `json:"error,omitempty"`
}

// MarshalJSON writes RatioPct as ratio_pct unless it is NaN.
func (r *cellResult) MarshalJSON() ([]byte, error) {
	type plain cellResult
	var ratio *float64
	if !math.IsNaN(r.RatioPct) {
		ratio = &r.RatioPct
	}
	return json.Marshal(struct {
		*plain
		RatioPct *float64 `json:"ratio_pct,omitempty"`
	}{(*plain)(r), ratio})
}

// summaryJSON is a cell's figures over the rounds.
type summaryJSON struct {
	Path     string        `json:"path"`
	Mode     string        `json:"mode"`
	VaneRPS  bench.Spread  `json:"vane_rps"`
	RatioPct bench.Spread  `json:"ratio_pct"`
	AuthDev  *bench.Spread `json:"auth_dev_pct,omitempty"`
}

// summarize fills the summary, the goals and the failures of rep.
func summarize(rep *report, cells []*cell) {
	hasDev := map[string]bool{}
	for _, c := range cells {
		if c.mode == modeDev {
			hasDev[c.path.name] = true
		}
	}
	for _, c := range cells {
		var rps, ratio, authDev []float64
		for _, r := range rep.Runs {
			if r.Path != c.path.name || r.Mode != c.mode {
				continue
			}
			if r.Error != "" {
				rep.Failed = append(rep.Failed, fmt.Sprintf("round %d %s: %s", r.Round, c.name(), r.Error))
				continue
			}
			rps = append(rps, r.Vane.RPS)
			ratio = append(ratio, r.RatioPct)
			if r.AuthDevPct != nil {
				authDev = append(authDev, *r.AuthDevPct)
			}
		}
		s := summaryJSON{Path: c.path.name, Mode: c.mode, VaneRPS: bench.SpreadOf(rps), RatioPct: bench.SpreadOf(ratio)}
		rep.Goals = append(rep.Goals, bench.Target{Name: c.name() + " vane/baseline", Min: c.path.goal}.Check(s.RatioPct))
		if c.mode == modeAuth && hasDev[c.path.name] {
			ad := bench.SpreadOf(authDev)
			s.AuthDev = &ad
			rep.Goals = append(rep.Goals, bench.Target{Name: c.path.name + " auth/dev", Min: authDevGoal}.Check(ad))
		}
		rep.Summary = append(rep.Summary, s)
	}
}

func printHeader(w io.Writer, rep *report) {
	fmt.Fprintf(w, "vanebench: %s; %d connections, %s warmup + %s per run, %d round(s); %d CPUs, GOMAXPROCS %d\n",
		rep.Vane, rep.Concurrency, rep.Warmup, rep.Duration, rep.Rounds, rep.CPUs, rep.GOMAXPROCS)
	for _, s := range rep.Servers {
		fmt.Fprintf(w, "  %-4s vane %s, baseline %s\n", s.Mode, s.Vane, s.Baseline)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "  skipped %s/%s: %s\n", s.Path, s.Mode, s.Reason)
	}
}

const rowFormat = "%-14s %-5s %11s %9s %9s %11s %7s %9s\n"

func printRowHeader(w io.Writer) {
	fmt.Fprintf(w, rowFormat, "path", "mode", "vane req/s", "p50", "p99", "base req/s", "ratio", "auth/dev")
}

func printRow(w io.Writer, r *cellResult) {
	if r.Error != "" {
		fmt.Fprintf(w, "%-14s %-5s FAILED: %s\n", r.Path, r.Mode, r.Error)
		return
	}
	authDev := ""
	if r.AuthDevPct != nil {
		authDev = fmt.Sprintf("%.1f%%", *r.AuthDevPct)
	}
	line := fmt.Sprintf(rowFormat, r.Path, r.Mode, fmt.Sprintf("%.0f", r.Vane.RPS), fmtMicros(r.Vane.P50US), fmtMicros(r.Vane.P99US),
		fmt.Sprintf("%.0f", r.Baseline.RPS), fmt.Sprintf("%.1f%%", r.RatioPct), authDev)
	fmt.Fprintln(w, strings.TrimRight(line, " \n"))
}

// fmtMicros formats a latency given in microseconds.
func fmtMicros(us float64) string {
	if us < 1000 {
		return fmt.Sprintf("%.0fµs", us)
	}
	return fmt.Sprintf("%.2fms", us/1000)
}

func printSummary(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nsummary over %d round(s): median (range)\n", rep.Rounds)
	fmt.Fprintf(w, "%-14s %-5s %-24s %-24s %s\n", "path", "mode", "vane req/s", "vane/baseline", "auth/dev")
	for _, s := range rep.Summary {
		rps := "n/a"
		if s.VaneRPS.N > 0 {
			rps = fmt.Sprintf("%.0f", s.VaneRPS.Median)
			if s.VaneRPS.N > 1 {
				rps += fmt.Sprintf(" (%.0f–%.0f)", s.VaneRPS.Min, s.VaneRPS.Max)
			}
		}
		authDev := ""
		if s.AuthDev != nil {
			authDev = s.AuthDev.Percent()
		}
		line := fmt.Sprintf("%-14s %-5s %-24s %-24s %s", s.Path, s.Mode, rps, s.RatioPct.Percent(), authDev)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "\ngoals (on the medians)\n")
	for _, g := range rep.Goals {
		fmt.Fprintf(w, "  %s\n", g)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "  skipped %s/%s\n", s.Path, s.Mode)
	}
}
