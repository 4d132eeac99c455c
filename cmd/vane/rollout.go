package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/vanehq/vane"
)

// The client side of staged rollouts: `vane rollout`. The server's
// /v1/rollouts routes answer with vane.Rollout, which the commands decode
// as it is.

const (
	// rolloutPollEvery is how often `vane rollout show` reads a rollout
	// it follows on a terminal; the bar's countdown moves as often.
	rolloutPollEvery = time.Second
	// rolloutBarWidth is the width of that bar inside its brackets, short
	// enough for the bar's line to fit 80 columns.
	rolloutBarWidth = 20
	// maxPlanShown is how many shares a plan is written with before the
	// middle ones are left out.
	maxPlanShown = 8
)

const rolloutDescription = `
Staged rollouts change one parameter over time while monitors watch, and
roll it back when a monitor fires. A flag (a name under a "features" path
segment) is stepped from the share it serves now to a target share (100%
by default) following a strategy; any other parameter gets its new value
at once. Every rollout then bakes: its monitors keep watching for the bake
time before it completes. Each step is an ordinary version written by the
principal rollout:ID, and a write by anyone else stops the rollout where it
stands. Subcommands:

  start NAME [flags]  start a rollout of NAME (see 'vane rollout start --help')
  ls [PATH]           list the rollouts under PATH, newest first
  show ID             print a rollout's status; on a terminal, follow it
                      with a progress bar until it ends
  pause ID            take no further step until resumed (monitors still watch)
  resume ID           resume a paused rollout, with the time it had left
  cancel ID           end it where it stands: the current value stays
  rollback ID         write the value from before the rollout again
  complete ID         go to the target now, skipping the other steps and the bake

Run 'vane rollout SUBCOMMAND --help' for the flags of each.`

// rollout runs `vane rollout SUBCOMMAND`.
func (c *cli) rollout(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "start":
		return c.rolloutStart(ctx, rest)
	case "ls":
		return c.rolloutList(ctx, rest)
	case "show":
		return c.rolloutShow(ctx, rest)
	case "pause", "resume", "cancel", "rollback", "complete":
		return c.rolloutOp(ctx, sub, rest)
	}
	if sub != "" {
		return usageError{fmt.Errorf("rollout: unknown subcommand %q: use start, ls, show, pause, resume, cancel, rollback or complete", sub)}
	}
	fs, _ := c.clientFlagSet("rollout", "SUBCOMMAND [flags]", rolloutDescription, `
vane rollout start /shop/prod/features/checkout --strategy linear --step 10 --every 5m --bake 30m
vane rollout ls /shop --active
vane rollout show ro-5f1c2a9e0b7d
vane rollout pause ro-5f1c2a9e0b7d
vane rollout rollback ro-5f1c2a9e0b7d`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	return usageError{fmt.Errorf("rollout: a subcommand is required: start, ls, show, pause, resume, cancel, rollback or complete (see 'vane rollout --help')")}
}

// rolloutSpecJSON is a rollout spec as the CLI sends it: only the fields
// given on the command line, so that the server's defaults apply to the
// others. It is the body of POST /v1/schedules' "rollout" and, with the
// name beside its fields, of POST /v1/rollouts.
type rolloutSpecJSON struct {
	Strategy   string         `json:"strategy,omitempty"`
	Step       *float64       `json:"step,omitempty"`
	Factor     *float64       `json:"factor,omitempty"`
	Steps      []float64      `json:"steps,omitempty"`
	Every      *vane.Duration `json:"every,omitempty"`
	Bake       *vane.Duration `json:"bake,omitempty"`
	Target     *float64       `json:"target,omitempty"`
	Rule       string         `json:"rule,omitempty"`
	Value      *string        `json:"value,omitempty"`
	Monitors   []vane.Monitor `json:"monitors,omitempty"`
	CheckEvery *vane.Duration `json:"check_every,omitempty"`
}

// rolloutFlags are the flags that make a rollout spec, shared by
// `vane rollout start` and `vane schedule rollout`.
type rolloutFlags struct {
	fs                      *flagSet
	strategy, rule, value   *string
	step, factor, target    *float64
	steps                   sharesFlag
	every, bake, checkEvery durationFlag
	monitors                monitorsFlag
}

// rolloutFlagsHelp describes the flags of a rollout spec, for the help of
// the commands that take them.
const rolloutFlagsHelp = `
Strategies (--strategy), for flags; any other parameter is all-at-once:
  all-at-once   the target share at once, then the bake (the default)
  linear        --step more every --every: 10%, 20%, ... 100%
  exponential   --step, then times --factor (default 2) every --every: 1%, 2%, 4%, ...
  canary        --step, then the target --every later
  steps         the shares of --steps, one every --every: 1,5,25,100

--value is a flag's document to roll out (default: its current one, whose
rollout_percentage the steps set; --rule steps a rule's instead) or, for
any other parameter, its new value; "-" reads it from stdin, "@FILE" from
FILE. The server's defaults apply to what is not given (bake 5m, monitors
checked every 15s).

--monitor, repeatable, is a monitor in JSON ('{"kind":"http","url":"..."}')
or KIND,KEY=VALUE,... where KIND is http (url must answer 2xx), prometheus
(the PromQL query at url must stay at or under threshold, or without one
return nothing) or errors (the flag's evaluation error rate, from 0 to 1,
must stay at or under threshold), and the keys are url, query, threshold,
failures (failed checks in a row that fire it), timeout, window and
min_evaluations (errors monitors), and name. PromQL holds commas, so
query= takes the rest of the spec: put it last.`

// defineRolloutFlags adds the flags of a rollout spec to fs.
func defineRolloutFlags(fs *flagSet) *rolloutFlags {
	f := &rolloutFlags{fs: fs}
	f.strategy = fs.String("strategy", "", "rollout `STRATEGY`: all-at-once (the default), linear, exponential, canary or steps")
	f.step = fs.Float64("step", 0, "the percentage `N` a linear rollout adds at each step; the first share of an exponential one; a canary's share")
	f.factor = fs.Float64("factor", 0, "the growth factor `F` of an exponential rollout (default 2)")
	fs.Var(&f.steps, "steps", "the `SHARES` of a steps rollout, in percent, such as 1,5,25,100")
	fs.Var(&f.every, "every", "the `DURATION` between steps, such as 5m or 1h30m")
	fs.Var(&f.bake, "bake", "the `DURATION` monitors watch at the target before the rollout completes (default 5m)")
	f.target = fs.Float64("target", 0, "the share `N`, in percent, a flag ends at (default 100)")
	f.rule = fs.String("rule", "", "step the rollout_percentage of the flag's rule `NAME` rather than the flag's own")
	f.value = fs.String("value", "", "the flag document to roll out, or a parameter's new `VALUE`; - for stdin, @FILE")
	fs.Var(&f.monitors, "monitor", "a monitor `SPEC` watched while the rollout runs and bakes; may be repeated")
	fs.Var(&f.checkEvery, "check-every", "the `DURATION` between checks of the monitors (default 15s)")
	return f
}

// spec returns the spec the flags given make.
func (f *rolloutFlags) spec(c *cli) (*rolloutSpecJSON, error) {
	set := setFlags(f.fs)
	spec := &rolloutSpecJSON{Strategy: *f.strategy, Rule: *f.rule, Steps: f.steps, Monitors: f.monitors}
	switch *f.strategy {
	case "", vane.StrategyAllAtOnce, vane.StrategyLinear, vane.StrategyExponential, vane.StrategyCanary, vane.StrategySteps:
	default:
		return nil, usageError{fmt.Errorf("%s: --strategy %q: use all-at-once, linear, exponential, canary or steps", f.fs.Name(), *f.strategy)}
	}
	if set["step"] {
		spec.Step = f.step
	}
	if set["factor"] {
		spec.Factor = f.factor
	}
	if set["target"] {
		spec.Target = f.target
	}
	if set["every"] {
		spec.Every = &f.every.d
	}
	if set["bake"] {
		spec.Bake = &f.bake.d
	}
	if set["check-every"] {
		spec.CheckEvery = &f.checkEvery.d
	}
	if set["value"] {
		v, err := c.readValue(*f.value)
		if err != nil {
			return nil, err
		}
		spec.Value = &v
	}
	return spec, nil
}

// durationFlag is a flag holding a Go duration, 0 or more.
type durationFlag struct{ d vane.Duration }

// String implements flag.Value.
func (f *durationFlag) String() string {
	if f == nil || f.d == 0 {
		return ""
	}
	return shortDuration(time.Duration(f.d))
}

// Set implements flag.Value.
func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("not a duration such as 30s, 5m or 1h30m")
	}
	if d < 0 {
		return fmt.Errorf("a duration must not be negative")
	}
	f.d = vane.Duration(d)
	return nil
}

// sharesFlag is a comma-separated list of percentages.
type sharesFlag []float64

// String implements flag.Value.
func (f *sharesFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, p := range *f {
		parts[i] = strconv.FormatFloat(p, 'f', -1, 64)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (f *sharesFlag) Set(s string) error {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(part), "%"), 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("%q is not a percentage: give numbers such as 1,5,25,100", part)
		}
		out = append(out, p)
	}
	*f = out
	return nil
}

// monitorsFlag collects the monitors of repeated --monitor flags.
type monitorsFlag []vane.Monitor

// String implements flag.Value.
func (f *monitorsFlag) String() string { return "" }

// Set implements flag.Value.
func (f *monitorsFlag) Set(s string) error {
	m, err := parseMonitor(s)
	if err != nil {
		return err
	}
	*f = append(*f, m)
	return nil
}

// monitorKeys lists the keys of a KIND,KEY=VALUE,... monitor spec.
const monitorKeys = "url, query, threshold, failures, timeout, window, min_evaluations or name"

// parseMonitor parses the spec of a --monitor flag: a monitor in JSON, or
// KIND,KEY=VALUE,... in which query= takes the rest of the spec, commas
// and all, since PromQL is full of them. It checks the syntax and the
// kind; which keys a kind takes is the server's to say.
func parseMonitor(s string) (vane.Monitor, error) {
	var m vane.Monitor
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return vane.Monitor{}, fmt.Errorf("not a monitor in JSON: %v", err)
		}
		if dec.More() {
			return vane.Monitor{}, fmt.Errorf("not a monitor in JSON: text after the object")
		}
		return m, nil
	}
	kind, rest, _ := strings.Cut(s, ",")
	switch kind {
	case vane.MonitorHTTP, vane.MonitorPrometheus, vane.MonitorErrors:
	default:
		return vane.Monitor{}, fmt.Errorf("kind %q: a monitor is KIND,KEY=VALUE,... with KIND http, prometheus or errors, or a JSON object", kind)
	}
	m.Kind = kind
	seen := map[string]bool{}
	for rest != "" {
		var item string
		trailing := false
		if strings.HasPrefix(rest, "query=") {
			item, rest = rest, ""
		} else {
			var comma bool
			item, rest, comma = strings.Cut(rest, ",")
			trailing = comma && rest == ""
		}
		key, value, ok := strings.Cut(item, "=")
		switch {
		case item == "" || trailing:
			return vane.Monitor{}, fmt.Errorf("an empty item: two commas in a row, or a comma at the end")
		case !ok:
			return vane.Monitor{}, fmt.Errorf("%q is not KEY=VALUE (keys: %s)", item, monitorKeys)
		case seen[key]:
			return vane.Monitor{}, fmt.Errorf("key %s is given twice", key)
		case value == "":
			return vane.Monitor{}, fmt.Errorf("key %s has no value", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "url":
			m.URL = value
		case "query":
			m.Query = value
		case "name":
			m.Name = value
		case "threshold":
			t, perr := strconv.ParseFloat(value, 64)
			if perr != nil || math.IsNaN(t) || math.IsInf(t, 0) {
				err = fmt.Errorf("threshold=%s is not a number", value)
			}
			m.Threshold = &t
		case "failures":
			m.Failures, err = strconv.Atoi(value)
			if err != nil || m.Failures < 1 {
				err = fmt.Errorf("failures=%s is not a number of checks, 1 or more", value)
			}
		case "min_evaluations":
			m.MinEvaluations, err = strconv.ParseInt(value, 10, 64)
			if err != nil || m.MinEvaluations < 1 {
				err = fmt.Errorf("min_evaluations=%s is not a number of evaluations, 1 or more", value)
			}
		case "timeout", "window":
			d, perr := time.ParseDuration(value)
			if perr != nil || d <= 0 {
				err = fmt.Errorf("%s=%s is not a duration above 0 such as 2s or 5m", key, value)
			}
			if key == "timeout" {
				m.Timeout = vane.Duration(d)
			} else {
				m.Window = vane.Duration(d)
			}
		default:
			err = fmt.Errorf("unknown key %q: use %s", key, monitorKeys)
		}
		if err != nil {
			return vane.Monitor{}, err
		}
	}
	return m, nil
}

func (c *cli) rolloutStart(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("rollout start", "NAME [flags]", `
Starts a rollout of the parameter NAME, takes its first step at once, and
prints "rollout ID started:" with its plan, then its status (see 'vane
rollout show'). A name has at most one active rollout. The caller needs
vane:StartRollout and ssm:PutParameter on NAME.
`+rolloutFlagsHelp, `
vane rollout start /shop/prod/features/checkout --strategy linear --step 10 --every 5m --bake 30m
vane rollout start /shop/prod/features/checkout --strategy steps --steps 1,5,25,100 --every 1h --target 100
vane rollout start /shop/prod/features/checkout --strategy canary --step 5 --every 30m --monitor http,url=https://shop.internal/healthz,failures=3,timeout=2s
vane rollout start /shop/prod/features/checkout --strategy exponential --step 1 --every 10m --monitor errors,threshold=0.02,window=5m
vane rollout start /shop/prod/features/checkout --monitor 'prometheus,url=http://prom:9090,threshold=5,query=sum(rate(http_requests_total{code=~"5.."}[1m]))'
vane rollout start /shop/prod/features/checkout --rule beta --strategy linear --step 25 --every 1h --value @checkout.json
vane rollout start /shop/prod/db/pool-size --value 40 --bake 1h`)
	rf := defineRolloutFlags(fs)
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := noSelector("rollout start", pos[0]); err != nil {
		return err
	}
	spec, err := rf.spec(c)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	body := struct {
		Name string `json:"name"`
		*rolloutSpecJSON
	}{pos[0], spec}
	var r vane.Rollout
	raw, err := cl.call(ctx, http.MethodPost, "/v1/rollouts", nil, body, &r)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	fmt.Fprintf(c.stdout, "rollout %s started: %s %s\n\n", r.ID, r.Name, planSummary(&r))
	return printRollout(c.stdout, &r, time.Now())
}

func (c *cli) rolloutList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("rollout ls", "[PATH] [flags]", `
Lists the rollouts of PATH and the names below it (default: all), newest
first, with columns ID, NAME, STATE, STEP (steps written of the plan's),
SHARE (the share a flag serves now; - for a value rollout), NEXT (when the
next step is due, or the bake ends; - when nothing is due) and MONITORS
(ok, pending, N failing, or fired: NAME; - without monitors). Every page
is fetched.`, `
vane rollout ls
vane rollout ls /shop/prod --active
vane rollout ls -o json | jq -r '.rollouts[] | select(.state == "paused") | .id'`)
	active := fs.Bool("active", false, "only running, baking and paused rollouts")
	limit := fs.Int("limit", 0, "`N` rollouts per request, 1 to 1000 (default: the server's page size)")
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	q := url.Values{}
	if len(pos) == 1 {
		q.Set("path", pos[0])
	}
	if *active {
		q.Set("active", "true")
	}
	if setFlags(fs)["limit"] {
		q.Set("limit", strconv.Itoa(*limit))
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	raws, err := cl.listAll(ctx, "/v1/rollouts", "rollouts", q)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSONListOf(c.stdout, "rollouts", raws)
	}
	t := newTable(c.stdout, "ID", "NAME", "STATE", "STEP", "SHARE", "NEXT", "MONITORS")
	for _, raw := range raws {
		var r vane.Rollout
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("the server sent a rollout that is not the API's JSON: %w", err)
		}
		next := "-"
		if !r.NextAt.IsZero() {
			next = formatTime(r.NextAt)
		}
		t.row(r.ID, display(r.Name), string(r.State), fmt.Sprintf("%d/%d", r.Step, len(r.Plan)), shareText(&r), next, monitorsSummary(&r))
	}
	return t.flush()
}

func (c *cli) rolloutShow(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("rollout show", "ID [flags]", `
Prints the status of the rollout ID: its name, kind, strategy and state,
its plan with the step written last in [brackets], the share served now,
when the next step is due (or the bake ends), its monitors with what they
saw last, why it ended, who started it when, and the versions before it and
written last.

On a terminal, while the rollout is active, a progress bar follows it
(reading it every second) until it ends, then a line says how it ended;
Ctrl-C stops following, not the rollout. Elsewhere, and with -o json, the
status is printed once.`, `
vane rollout show ro-5f1c2a9e0b7d
vane rollout show ro-5f1c2a9e0b7d -o json | jq .monitors`)
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	r, raw, err := getRollout(ctx, cl, pos[0])
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if err := printRollout(c.stdout, r, time.Now()); err != nil {
		return err
	}
	if !r.State.Active() || !isTerminal(c.stdout) {
		return nil
	}
	fmt.Fprintln(c.stdout)
	end, err := followRollout(ctx, c.stdout, cl, r, rolloutPollEvery, time.Now)
	if err != nil || end == nil {
		return err
	}
	fmt.Fprintln(c.stdout, rolloutOutcome(end))
	return nil
}

// getRollout reads the rollout id.
func getRollout(ctx context.Context, cl *client, id string) (*vane.Rollout, []byte, error) {
	var r vane.Rollout
	raw, err := cl.call(ctx, http.MethodGet, "/v1/rollouts/"+url.PathEscape(id), nil, nil, &r)
	if err != nil {
		return nil, nil, err
	}
	return &r, raw, nil
}

// followRollout draws the progress bar of r on w, redrawn in place, and
// reads r again every interval until it ends; it returns r as it ended, or
// nil when ctx ended first (Ctrl-C). The bar's line is ended either way.
func followRollout(ctx context.Context, w io.Writer, cl *client, r *vane.Rollout, interval time.Duration, now func() time.Time) (*vane.Rollout, error) {
	width := 0
	defer fmt.Fprintln(w)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		line := rolloutFrame(r, now())
		// Spaces cover what is left of a longer previous line.
		fmt.Fprintf(w, "\r%-*s", width, line)
		width = max(width, utf8.RuneCountInString(line))
		if !r.State.Active() {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-tick.C:
		}
		next, _, err := getRollout(ctx, cl, r.ID)
		if ctx.Err() != nil {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		r = next
	}
}

// rolloutFrame renders one frame of the progress bar of r at now: the bar
// fills from the share the rollout started at to its target (for a value
// rollout, with its one step), followed by the share, the step, the state
// and the time to what comes next.
func rolloutFrame(r *vane.Rollout, now time.Time) string {
	frac := 0.0
	if n := len(r.Plan); r.Kind == vane.RolloutFlag && n > 0 {
		if span := r.Plan[n-1] - r.StartShare; span > 0 {
			frac = (r.Share - r.StartShare) / span
		}
	} else if n > 0 {
		frac = float64(r.Step) / float64(n)
	}
	fill := int(math.Round(min(max(frac, 0), 1) * rolloutBarWidth))
	bar := "[" + strings.Repeat("=", fill) + strings.Repeat(" ", rolloutBarWidth-fill) + "]"
	share := "new value"
	if r.Kind == vane.RolloutFlag && len(r.Plan) > 0 {
		share = formatShare(r.Share) + " (target " + formatShare(r.Plan[len(r.Plan)-1]) + ")"
	}
	return fmt.Sprintf("%s %s  step %d/%d  %s", bar, share, r.Step, len(r.Plan), rolloutStateText(r, now))
}

// rolloutStateText is the state of r with what it waits for: "running: next
// step in 4m", "baking: completes in 25m", "paused: 3m left".
func rolloutStateText(r *vane.Rollout, now time.Time) string {
	switch r.State {
	case vane.RolloutRunning:
		return "running: next step " + untilText(r.NextAt, now)
	case vane.RolloutBaking:
		return "baking: completes " + untilText(r.NextAt, now)
	case vane.RolloutPaused:
		return "paused: " + roughDuration(time.Duration(r.Remaining)) + " left"
	}
	return string(r.State)
}

// pausedText says what a paused rollout has left: "3m left until the next
// step", "20m left of the bake".
func pausedText(r *vane.Rollout) string {
	what := "until the next step"
	if r.PausedState == vane.RolloutBaking {
		what = "of the bake"
	}
	return roughDuration(time.Duration(r.Remaining)) + " left " + what
}

// untilText says when t comes: "in 4m30s", or "now" when it is due.
func untilText(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d <= 0 {
		return "now"
	}
	return "in " + roughDuration(d)
}

// roughDuration writes d as precisely as people want to hear a time to
// wait: to the second under an hour, to the minute under two days, and
// in days and hours beyond.
func roughDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d < time.Hour:
		return shortDuration(d.Round(time.Second))
	case d < 2*day:
		return shortDuration(d.Round(time.Minute))
	}
	d = d.Round(time.Hour)
	s := fmt.Sprintf("%dd", d/day)
	if h := (d % day) / time.Hour; h > 0 {
		s += fmt.Sprintf("%dh", h)
	}
	return s
}

// rolloutOutcome is the line that says how a rollout stands after an
// operation or at its end.
func rolloutOutcome(r *vane.Rollout) string {
	at := ""
	if r.Kind == vane.RolloutFlag {
		at = " at " + formatShare(r.Share)
	}
	var s string
	switch r.State {
	case vane.RolloutCompleted:
		s = fmt.Sprintf("rollout %s completed: %s%s (version %d)", r.ID, r.Name, at, r.LastVersion)
	case vane.RolloutRolledBack:
		s = fmt.Sprintf("rollout %s rolled back: %s version %d is the value from before the rollout (version %d)",
			r.ID, r.Name, r.LastVersion, r.BaseVersion)
	case vane.RolloutCancelled:
		s = fmt.Sprintf("rollout %s cancelled: %s stays%s (version %d)", r.ID, r.Name, at, r.LastVersion)
	case vane.RolloutStopped, vane.RolloutFailed:
		s = fmt.Sprintf("rollout %s %s: %s%s (version %d)", r.ID, r.State, r.Name, at, r.LastVersion)
	case vane.RolloutPaused:
		return fmt.Sprintf("rollout %s paused%s (step %d/%d): %s", r.ID, at, r.Step, len(r.Plan), pausedText(r))
	case vane.RolloutRunning:
		return fmt.Sprintf("rollout %s running%s (step %d/%d): next step at %s", r.ID, at, r.Step, len(r.Plan), formatTime(r.NextAt))
	case vane.RolloutBaking:
		return fmt.Sprintf("rollout %s baking%s (step %d/%d): completes at %s", r.ID, at, r.Step, len(r.Plan), formatTime(r.NextAt))
	default:
		s = fmt.Sprintf("rollout %s %s", r.ID, r.State)
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

func (c *cli) rolloutOp(ctx context.Context, op string, args []string) error {
	description := map[string]string{
		"pause": `
Pauses the rollout ID: it takes no further step (or, baking, does not
complete) until resumed, and keeps the time it had left. Its monitors still
watch, since the change is live, and still roll it back when they fire.`,
		"resume": `
Resumes the paused rollout ID: its next step (or the end of its bake) comes
as long after now as was left when it was paused.`,
		"cancel": `
Cancels the active rollout ID where it stands: the parameter keeps the
value the rollout wrote last.`,
		"rollback": `
Rolls the rollout ID back: writes the parameter's value from before the
rollout as a new version, and ends the rollout rolled back. An active
rollout can always be rolled back; an ended one only while nobody has
written the parameter since.`,
		"complete": `
Completes the active rollout ID now: writes its target at once (the last
step, if it is not there yet), skipping the other steps and the bake.`,
	}[op]
	fs, cf := c.clientFlagSet("rollout "+op, "ID [flags]", description+`
Prints how the rollout stands after; the caller needs vane:UpdateRollout.`,
		"vane rollout "+op+" ro-5f1c2a9e0b7d")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var r vane.Rollout
	raw, err := cl.call(ctx, http.MethodPost, "/v1/rollouts/"+url.PathEscape(pos[0])+"/"+op, nil, nil, &r)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	line := rolloutOutcome(&r)
	if op == "resume" && r.State.Active() {
		// "rollout ID running at..." becomes "rollout ID resumed: running at...".
		line = "rollout " + r.ID + " resumed: " + strings.TrimPrefix(line, "rollout "+r.ID+" ")
	}
	fmt.Fprintln(c.stdout, line)
	return nil
}

// printRollout writes the status of r at now, one field a line.
func printRollout(w io.Writer, r *vane.Rollout, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", name, value)
		}
	}
	field("ID", r.ID)
	field("Name", display(r.Name))
	kind := r.Kind
	if r.Spec.Rule != "" {
		kind += ", rule " + r.Spec.Rule
	}
	field("Kind", kind)
	field("Strategy", strategyText(&r.Spec))
	field("State", string(r.State))
	if r.Kind == vane.RolloutFlag {
		field("Plan", markedPlan(r))
		field("Share", fmt.Sprintf("%s (step %d/%d)", formatShare(r.Share), r.Step, len(r.Plan)))
	} else {
		field("Plan", fmt.Sprintf("the new value at once (step %d/%d)", r.Step, len(r.Plan)))
	}
	switch r.State {
	case vane.RolloutRunning:
		field("Next step", formatTime(r.NextAt)+" ("+untilText(r.NextAt, now)+")")
	case vane.RolloutBaking:
		field("Bake ends", formatTime(r.NextAt)+" ("+untilText(r.NextAt, now)+")")
	case vane.RolloutPaused:
		field("Paused", pausedText(r)+" when resumed")
	}
	if r.Spec.Bake != nil {
		field("Bake", shortDuration(time.Duration(*r.Spec.Bake)))
	}
	for i, m := range r.Monitors {
		line := display(m.Name) + " " + m.State
		if m.State == vane.MonitorFailing && i < len(r.Spec.Monitors) && r.Spec.Monitors[i].Failures > 0 {
			line += fmt.Sprintf(" (%d of %d failures)", m.Failures, r.Spec.Monitors[i].Failures)
		}
		if m.Detail != "" {
			line += ": " + display(m.Detail)
		}
		if i == 0 {
			field("Monitors", line)
		} else {
			fmt.Fprintf(tw, "\t%s\n", line)
		}
	}
	field("Reason", display(r.Reason))
	field("Created", formatTime(r.Created)+" by "+display(r.CreatedBy))
	if !r.Ended.IsZero() {
		field("Ended", formatTime(r.Ended))
	}
	field("Versions", fmt.Sprintf("%d before the rollout, %d written last", r.BaseVersion, r.LastVersion))
	return tw.Flush()
}

// strategyText describes a spec's strategy: "linear, every 5m".
func strategyText(spec *vane.RolloutSpec) string {
	s := spec.Strategy
	if s == "" {
		s = vane.StrategyAllAtOnce
	}
	if spec.Step != 0 {
		s += ", step " + formatShare(spec.Step)
	}
	if spec.Factor != 0 {
		s += ", factor " + strconv.FormatFloat(spec.Factor, 'f', -1, 64)
	}
	if spec.Every != 0 {
		s += ", every " + shortDuration(time.Duration(spec.Every))
	}
	return s
}

// planSummary describes a started rollout's plan: "linear 0% → 10%, 20%,
// ... 100% every 5m, bake 30m".
func planSummary(r *vane.Rollout) string {
	bake := ""
	if r.Spec.Bake != nil {
		bake = ", bake " + shortDuration(time.Duration(*r.Spec.Bake))
	}
	if r.Kind != vane.RolloutFlag {
		return "new value at once" + bake
	}
	shares := make([]string, len(r.Plan))
	for i, p := range r.Plan {
		shares[i] = formatShare(p)
	}
	if len(shares) > maxPlanShown {
		shares = append(shares[:maxPlanShown-2:maxPlanShown-2], "...", shares[len(shares)-1])
	}
	s := r.Spec.Strategy + " " + formatShare(r.StartShare) + " → " + strings.Join(shares, ", ")
	if r.Spec.Rule != "" {
		s = "rule " + r.Spec.Rule + " " + s
	}
	if len(r.Plan) > 1 {
		s += " every " + shortDuration(time.Duration(r.Spec.Every))
	}
	return s + bake
}

// markedPlan writes the shares of a flag rollout's plan from its start,
// the one written last in brackets: "0% → 25% → [50%] → 75% → 100%". A
// long plan keeps its ends and the steps around the current one.
func markedPlan(r *vane.Rollout) string {
	shares := append([]float64{r.StartShare}, r.Plan...)
	cur := min(max(r.Step, 0), len(shares)-1)
	var parts []string
	gap := false
	for i, p := range shares {
		if len(shares) > maxPlanShown+1 && i > 1 && i < len(shares)-2 && (i < cur-1 || i > cur+1) {
			if !gap {
				parts = append(parts, "...")
			}
			gap = true
			continue
		}
		gap = false
		s := formatShare(p)
		if i == cur {
			s = "[" + s + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " → ")
}

// shareText is the SHARE column of a rollout: the share a flag serves, or
// "-" for a value rollout, which has none.
func shareText(r *vane.Rollout) string {
	if r.Kind != vane.RolloutFlag {
		return "-"
	}
	return formatShare(r.Share)
}

// monitorsSummary is the MONITORS column of a rollout: "fired: NAME" when
// any fired, "N failing" when any fail, "pending" before the first check,
// "ok", or "-" without monitors.
func monitorsSummary(r *vane.Rollout) string {
	if len(r.Monitors) == 0 {
		return "-"
	}
	var fired []string
	failing, pending := 0, 0
	for _, m := range r.Monitors {
		switch m.State {
		case vane.MonitorFired:
			fired = append(fired, m.Name)
		case vane.MonitorFailing:
			failing++
		case vane.MonitorPending:
			pending++
		}
	}
	switch {
	case len(fired) > 0:
		return "fired: " + display(strings.Join(fired, ","))
	case failing > 0:
		return fmt.Sprintf("%d failing", failing)
	case pending == len(r.Monitors):
		return "pending"
	}
	return "ok"
}

// formatShare writes a share in percent as the shortest decimal: "12.5%".
func formatShare(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// formatTime writes a time in UTC to the second, as displayTime does.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shortDuration writes d without the zero units Go leaves at its end:
// "5m" rather than "5m0s", "1h" rather than "1h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
