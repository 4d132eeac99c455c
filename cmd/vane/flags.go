package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	vflag "github.com/vanehq/vane/flag"
)

const flagsDescription = `
Feature flags are parameters under a "features" path segment (see
doc/flags.md). Subcommands:

  ls PATH            list the flags under PATH with their state, rollout,
                     rules and last evaluation
  eval NAME --ctx K=V...
                     evaluate a flag on the server for a context
  stale PATH [--days N]
                     the retirement report: flags never evaluated or not
                     for N days, serving one variant to everyone for N
                     days, or past their expiry date`

func (c *cli) flags(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "ls":
		return c.flagsList(ctx, rest)
	case "eval":
		return c.flagsEval(ctx, rest)
	case "stale":
		return c.flagsStale(ctx, rest)
	}
	fs, _ := c.clientFlagSet("flags", "SUBCOMMAND [flags]", flagsDescription, `
vane flags ls /myapp/prod
vane flags eval /myapp/prod/features/new-checkout --ctx targetingKey=user-42 --ctx tier=premium`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	if sub == "" {
		return usageError{fmt.Errorf("flags: a subcommand is required: ls, eval or stale (see 'vane flags --help')")}
	}
	return usageError{fmt.Errorf("flags: unknown subcommand %q: use ls, eval or stale", sub)}
}

// usageRow is one row of GET /v1/usage.
type usageRow struct {
	Name    string    `json:"name"`
	Day     string    `json:"day"`
	Variant string    `json:"variant"`
	Count   int64     `json:"count"`
	Last    time.Time `json:"last"`
}

// flagListing is one flag of vane flags ls -o json.
type flagListing struct {
	Name          string     `json:"name"`
	Version       int64      `json:"version"`
	State         string     `json:"state"`
	Rollout       *float64   `json:"rollout_percentage,omitempty"`
	Rules         int        `json:"rules"`
	Error         string     `json:"error,omitempty"`
	LastEvaluated *time.Time `json:"last_evaluated,omitempty"`
	Evaluations   int64      `json:"evaluations_30d"`
}

func (c *cli) flagsList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("flags ls", "[PATH] [flags]", `
Lists the flags under PATH (default "/", recursively) with columns NAME,
STATE (true/false for a bare flag, enabled or disabled for a document),
ROLLOUT, RULES, LAST EVALUATED and EVALS 30D (evaluations counted in the
last 30 days, by the server and by SDKs). A flag never evaluated is a
candidate for removal.`, `
vane flags ls /myapp/prod
vane flags ls /myapp -o json`)
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	path := "/"
	if len(pos) == 1 {
		path = pos[0]
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	raws, err := cl.list(ctx, "/v1/parameters", url.Values{"path": {path}, "recursive": {"true"}})
	if err != nil {
		return err
	}
	params, err := decodeParameters(raws)
	if err != nil {
		return err
	}
	since := time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly)
	var usage struct {
		Usage []usageRow `json:"usage"`
	}
	usageKnown := true
	if _, err := cl.call(ctx, http.MethodGet, "/v1/usage", url.Values{"path": {path}, "since": {since}}, nil, &usage); err != nil {
		if e, ok := err.(*apiError); !ok || e.Status != http.StatusServiceUnavailable {
			return err
		}
		usageKnown = false // the server does not track usage
	}
	last := map[string]time.Time{}
	evals := map[string]int64{}
	for _, u := range usage.Usage {
		evals[u.Name] += u.Count
		if u.Last.After(last[u.Name]) {
			last[u.Name] = u.Last
		}
	}

	var out []flagListing
	for _, p := range params {
		if !vflag.IsFlagName(p.Name) {
			continue
		}
		l := flagListing{Name: p.Name, Version: p.Version, Evaluations: evals[p.Name]}
		if t, ok := last[p.Name]; ok {
			l.LastEvaluated = &t
		}
		f, err := vflag.Parse(p.Name, p.Value)
		switch {
		case err != nil:
			l.State, l.Error = "invalid", err.Error()
		default:
			if v, ok := f.Static(); ok {
				l.State = fmt.Sprint(v)
			} else if f.Enabled() {
				l.State = "enabled"
			} else {
				l.State = "disabled"
			}
			if r := f.Rollout(); r >= 0 {
				l.Rollout = &r
			}
			l.Rules = f.Rules()
		}
		out = append(out, l)
	}
	if cf.json() {
		b, _ := json.Marshal(map[string]any{"flags": out})
		return printJSON(c.stdout, b)
	}
	t := newTable(c.stdout, "NAME", "STATE", "ROLLOUT", "RULES", "LAST EVALUATED", "EVALS 30D")
	for _, l := range out {
		rollout, lastEval, n := "-", "never", strconv.FormatInt(l.Evaluations, 10)
		if l.Rollout != nil {
			rollout = strconv.FormatFloat(*l.Rollout, 'f', -1, 64) + "%"
		}
		if l.LastEvaluated != nil {
			lastEval = displayTime(l.LastEvaluated.Format(time.RFC3339Nano))
		}
		if !usageKnown {
			lastEval, n = "(not tracked)", "-"
		}
		t.row(l.Name, l.State, rollout, strconv.Itoa(l.Rules), lastEval, n)
	}
	return t.flush()
}

// contextFlag collects --ctx KEY=VALUE pairs into an evaluation context;
// a value that is valid JSON (30, true, ["a","b"], "quoted") is taken as
// that JSON value, any other as a string.
type contextFlag map[string]any

// String implements flag.Value.
func (f contextFlag) String() string {
	b, _ := json.Marshal(map[string]any(f))
	return string(b)
}

// Set implements flag.Value.
func (f contextFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("--ctx %q must be KEY=VALUE", s)
	}
	var j any
	if err := json.Unmarshal([]byte(v), &j); err == nil {
		f[k] = j
	} else {
		f[k] = v
	}
	return nil
}

func (c *cli) flagsEval(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("flags eval", "NAME [--ctx KEY=VALUE]... [flags]", `
Evaluates the flag NAME on the server (POST /v1/evaluate) for the context
the --ctx flags build, and prints VALUE, VARIANT, REASON and RULE. A
--ctx value that is valid JSON (30, true, ["a","b"], "007") is taken as
that JSON value; anything else is a string. targetingKey (or user_id) is
the subject that percentage rollouts bucket.`, `
vane flags eval /myapp/prod/features/new-checkout --ctx targetingKey=user-42
vane flags eval /myapp/prod/features/new-checkout --ctx targetingKey=user-42 --ctx tier=premium --ctx age=30 -o json`)
	evalCtx := contextFlag{}
	fs.Var(evalCtx, "ctx", "a context attribute `KEY=VALUE` (repeatable)")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := noSelector("flags eval", pos[0]); err != nil {
		return err
	}
	path, err := namePath("/v1/evaluate", pos[0])
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var r struct {
		Value        any    `json:"value"`
		Variant      string `json:"variant"`
		Reason       string `json:"reason"`
		Rule         string `json:"rule"`
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	}
	raw, err := cl.call(ctx, http.MethodPost, path, nil, map[string]any{"context": map[string]any(evalCtx)}, &r)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	value, _ := json.Marshal(r.Value)
	t := newTable(c.stdout, "VALUE", "VARIANT", "REASON", "RULE")
	t.row(string(value), orDash(display(r.Variant)), r.Reason, orDash(display(r.Rule)))
	if err := t.flush(); err != nil {
		return err
	}
	if r.ErrorCode != "" {
		fmt.Fprintf(c.stderr, "vane: %s: %s\n", r.ErrorCode, r.ErrorMessage)
	}
	return nil
}

// orDash returns s, or "-" for an empty table cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// staleFlag is one flag of GET /v1/flags/stale.
type staleFlag struct {
	Name          string `json:"name"`
	Owner         string `json:"owner"`
	LastEvaluated string `json:"last_evaluated"`
	Reasons       []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reasons"`
}

func (c *cli) flagsStale(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("flags stale", "[PATH] [flags]", `
Lists the flags under PATH (default "/") to consider retiring, with their
owners and why: never evaluated; not evaluated for --days days; serving the
same variant to everyone (disabled, a bare true/false, or a rollout at 0%
or 100% with no targeting) unchanged for --days days; or past the date in
their "expires" field. Evaluations are those the server counts (its own
and those SDKs report), so a server run with --flag-usage=false reports
only the last two.`, `
vane flags stale /myapp
vane flags stale /myapp/prod --days 90 -o json`)
	days := fs.Int("days", 30, "a flag unevaluated, or serving one variant to everyone, for `N` days is stale")
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	if *days < 1 {
		return usageError{fmt.Errorf("flags stale: --days must be 1 or more, not %d", *days)}
	}
	path := "/"
	if len(pos) == 1 {
		path = pos[0]
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var out struct {
		Flags []staleFlag `json:"flags"`
	}
	raw, err := cl.call(ctx, http.MethodGet, "/v1/flags/stale", url.Values{"path": {path}, "days": {strconv.Itoa(*days)}}, nil, &out)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	t := newTable(c.stdout, "NAME", "OWNER", "LAST EVALUATED", "WHY")
	for _, f := range out.Flags {
		why := make([]string, len(f.Reasons))
		for i, r := range f.Reasons {
			why[i] = r.Message
		}
		last := "never"
		if f.LastEvaluated != "" {
			last = displayTime(f.LastEvaluated)
		}
		t.row(f.Name, orDash(f.Owner), last, strings.Join(why, "; "))
	}
	return t.flush()
}
