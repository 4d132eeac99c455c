package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vanehq/vane"
)

// The client side of scheduled changes: `vane schedule`. The server's
// /v1/schedules routes answer with vane.Schedule, which the commands decode
// as it is.

// atForms names the forms --at takes, for errors; atHelp says the same
// for help texts.
const (
	atForms = `an RFC 3339 time (2026-12-24T18:00:00Z, 2026-12-24T19:00:00+01:00), "YYYY-MM-DD HH:MM" in local time, or +DURATION from now (+90m, +2h)`
	atHelp  = `
TIME is an RFC 3339 time (2026-12-24T18:00:00Z, or with an offset such as
2026-12-24T19:00:00+01:00), "YYYY-MM-DD HH:MM" in local time, or +DURATION
from now (+90m, +2h).`
)

const scheduleDescription = `
Scheduled changes are made by the server at a given time, once: a put, a
label move or the start of a rollout. If no node is up at that time, the
change is made as soon as one is, and recorded as late. Its write is made
by the principal schedule:ID on behalf of the caller, who needs
vane:ScheduleChange as well as the actions of the change itself.
Subcommands:

  put NAME VALUE --at TIME     put VALUE as a new version of NAME
  label NAME[:VERSION] LABEL... --at TIME
                               move the labels to VERSION (default: the
                               latest version when the change runs)
  rollout NAME --at TIME [flags]
                               start a rollout, with the flags of
                               'vane rollout start'
  ls [PATH]                    list scheduled changes, earliest first
  show ID                      print a scheduled change
  cancel ID                    cancel a pending scheduled change
` + atHelp + `

Run 'vane schedule SUBCOMMAND --help' for the flags of each.`

// schedule runs `vane schedule SUBCOMMAND`.
func (c *cli) schedule(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "put", "label", "rollout":
		return c.scheduleCreate(ctx, sub, rest)
	case "ls":
		return c.scheduleList(ctx, rest)
	case "show", "cancel":
		return c.scheduleGet(ctx, sub, rest)
	}
	if sub != "" {
		return usageError{fmt.Errorf("schedule: unknown subcommand %q: use put, label, rollout, ls, show or cancel", sub)}
	}
	fs, _ := c.clientFlagSet("schedule", "SUBCOMMAND [flags]", scheduleDescription, `
vane schedule put /shop/prod/banner "Happy holidays" --at "2026-12-24 18:00"
vane schedule label /shop/prod/db/url:7 stable --at 2026-12-24T03:00:00Z
vane schedule rollout /shop/prod/features/checkout --at +2h --strategy linear --step 10 --every 5m
vane schedule ls --state pending
vane schedule cancel sc-5f1c2a9e0b7d`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	return usageError{fmt.Errorf("schedule: a subcommand is required: put, label, rollout, ls, show or cancel (see 'vane schedule --help')")}
}

// scheduleRequest is the body of POST /v1/schedules.
type scheduleRequest struct {
	Name          string           `json:"name"`
	Action        string           `json:"action"`
	At            string           `json:"at"`
	Value         *string          `json:"value,omitempty"`
	Type          string           `json:"type,omitempty"`
	Description   *string          `json:"description,omitempty"`
	Version       int64            `json:"version,omitempty"`
	Labels        []string         `json:"labels,omitempty"`
	Rollout       *rolloutSpecJSON `json:"rollout,omitempty"`
	ExpectVersion *int64           `json:"expect_version,omitempty"`
}

// parseAt parses the --at of a scheduled change at now, reading a time
// without a zone in loc, and returns it in UTC. A relative time is rounded
// up to the second, so that it is never earlier than asked.
func parseAt(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if rel, ok := strings.CutPrefix(s, "+"); ok {
		d, err := time.ParseDuration(rel)
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("--at %q: +DURATION takes a Go duration above 0, such as +90m or +2h", s)
		}
		t := now.Add(d)
		if r := t.Truncate(time.Second); !r.Equal(t) {
			t = r.Add(time.Second)
		}
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: give %s", s, atForms)
}

func (c *cli) scheduleCreate(ctx context.Context, action string, args []string) error {
	var fs *flagSet
	var cf *clientFlags
	var rf *rolloutFlags
	minArgs, maxArgs := 1, 1
	switch action {
	case "put":
		fs, cf = c.clientFlagSet("schedule put", "NAME VALUE --at TIME [flags]", `
Schedules a put of VALUE as a new version of the parameter NAME (created,
as a String, if it does not exist then) at TIME, and prints the scheduled
change's ID.
`+atHelp+`

VALUE "-" reads the value from stdin and "@FILE" from FILE, as 'vane put'
does. The value is checked now (a flag document must validate), and waits
in the schedule: SecureStrings cannot be scheduled. --expect-version makes
the change fail, rather than overwrite, if the parameter is no longer at
that version when it runs.`, `
vane schedule put /shop/prod/banner "Happy holidays" --at "2026-12-24 18:00"
vane schedule put /shop/prod/features/sale @sale-on.json --at 2026-11-27T00:00:00-05:00 --expect-version 12
vane schedule put /shop/prod/db/pool-size 40 --at +90m`)
		minArgs, maxArgs = 2, 2
	case "label":
		fs, cf = c.clientFlagSet("schedule label", "NAME[:VERSION] LABEL... --at TIME [flags]", `
Schedules a move of the labels to version VERSION of the parameter NAME
(without VERSION, the latest version when the change runs) at TIME, and
prints the scheduled change's ID.
`+atHelp, `
vane schedule label /shop/prod/db/url:7 stable --at 2026-12-24T03:00:00Z
vane schedule label /shop/prod/db/url stable canary --at +2h --expect-version 7`)
		minArgs, maxArgs = 2, -1
	case "rollout":
		fs, cf = c.clientFlagSet("schedule rollout", "NAME --at TIME [flags]", `
Schedules the start of a rollout of the parameter NAME at TIME, and prints
the scheduled change's ID; the result of the change, once it ran, names
the rollout it started. The spec is checked now; the plan is made when the
rollout starts, from the value NAME has then.
`+atHelp+"\n"+rolloutFlagsHelp, `
vane schedule rollout /shop/prod/features/checkout --at "2026-12-26 09:00" --strategy linear --step 10 --every 5m --bake 30m
vane schedule rollout /shop/prod/features/checkout --at +8h --strategy canary --step 5 --every 1h --monitor errors,threshold=0.02`)
		rf = defineRolloutFlags(fs)
	}
	at := fs.String("at", "", "when to make the change, a `TIME`: RFC 3339, \"YYYY-MM-DD HH:MM\" (local) or +DURATION")
	expect := fs.Int64("expect-version", 0, "make the change only if NAME is then still at version `N` (0: only if it does not exist)")
	var typ, description *string
	if action == "put" {
		typ = fs.String("type", "", "parameter `TYPE`: String or StringList (default: the current type, or String when creating)")
		description = fs.String("description", "", "`TEXT` describing the parameter")
	}
	pos, err := c.parse(fs, args, minArgs, maxArgs)
	if err != nil {
		return err
	}
	if *at == "" {
		return usageError{fmt.Errorf("%s: --at TIME is required: give %s", fs.Name(), atForms)}
	}
	when, err := parseAt(*at, time.Now(), time.Local)
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
	}
	body := scheduleRequest{Name: pos[0], Action: action, At: when.Format(time.RFC3339Nano)}
	set := setFlags(fs)
	if set["expect-version"] {
		body.ExpectVersion = expect
	}
	switch action {
	case "put":
		if err := noSelector("schedule put", pos[0]); err != nil {
			return err
		}
		value, err := c.readValue(pos[1])
		if err != nil {
			return err
		}
		body.Value, body.Type = &value, *typ
		if set["description"] {
			body.Description = description
		}
	case "label":
		if body.Name, body.Version, err = parseVersionSelector(pos[0]); err != nil {
			return err
		}
		body.Labels = pos[1:]
	case "rollout":
		if err := noSelector("schedule rollout", pos[0]); err != nil {
			return err
		}
		if body.Rollout, err = rf.spec(c); err != nil {
			return err
		}
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var sc vane.Schedule
	raw, err := cl.call(ctx, http.MethodPost, "/v1/schedules", nil, body, &sc)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	fmt.Fprintf(c.stdout, "scheduled %s: %s at %s (%s)\n", sc.ID, sc.Summary(), formatTime(sc.At), untilText(sc.At, time.Now()))
	return nil
}

func (c *cli) scheduleList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("schedule ls", "[PATH] [flags]", `
Lists the scheduled changes of PATH and the names below it (default: all),
earliest first, with columns ID, NAME, ACTION (put, label or rollout), AT,
STATE (pending, running, done, failed or cancelled) and RESULT (what the
change did, why it failed, or how late it ran). Every page is fetched.`, `
vane schedule ls
vane schedule ls /shop/prod --state pending
vane schedule ls --state failed -o json | jq -r '.schedules[].result'`)
	state := fs.String("state", "", "only the changes in `STATE`: pending, done, failed or cancelled")
	limit := fs.Int("limit", 0, "`N` scheduled changes per request, 1 to 1000 (default: the server's page size)")
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	q := url.Values{}
	if len(pos) == 1 {
		q.Set("path", pos[0])
	}
	switch vane.ScheduleState(*state) {
	case "":
	case vane.SchedulePending, vane.ScheduleDone, vane.ScheduleFailed, vane.ScheduleCancelled:
		q.Set("state", *state)
	default:
		return usageError{fmt.Errorf("schedule ls: --state %q: use pending, done, failed or cancelled", *state)}
	}
	if setFlags(fs)["limit"] {
		q.Set("limit", strconv.Itoa(*limit))
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	raws, err := cl.listAll(ctx, "/v1/schedules", "schedules", q)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSONListOf(c.stdout, "schedules", raws)
	}
	t := newTable(c.stdout, "ID", "NAME", "ACTION", "AT", "STATE", "RESULT")
	for _, raw := range raws {
		var sc vane.Schedule
		if err := json.Unmarshal(raw, &sc); err != nil {
			return fmt.Errorf("the server sent a scheduled change that is not the API's JSON: %w", err)
		}
		t.row(sc.ID, display(sc.Name), sc.Action, formatTime(sc.At), scheduleState(&sc), orDash(display(sc.Result)))
	}
	return t.flush()
}

func (c *cli) scheduleGet(ctx context.Context, sub string, args []string) error {
	description, method, path := `
Prints the scheduled change ID: what it changes, when, its state, and its
result once it ran.`, http.MethodGet, ""
	if sub == "cancel" {
		description, method, path = `
Cancels the pending scheduled change ID, which then never runs. A change
that ran, or is running, cannot be cancelled.`, http.MethodPost, "/cancel"
	}
	fs, cf := c.clientFlagSet("schedule "+sub, "ID [flags]", description, "vane schedule "+sub+" sc-5f1c2a9e0b7d")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var sc vane.Schedule
	raw, err := cl.call(ctx, method, "/v1/schedules/"+url.PathEscape(pos[0])+path, nil, nil, &sc)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if sub == "cancel" {
		fmt.Fprintf(c.stdout, "cancelled %s: %s at %s\n", sc.ID, sc.Summary(), formatTime(sc.At))
		return nil
	}
	return printSchedule(c.stdout, &sc, time.Now())
}

// scheduleState is the state of a scheduled change for people: "running"
// for a pending one a node has begun to make.
func scheduleState(sc *vane.Schedule) string {
	if sc.State == vane.SchedulePending && !sc.Started.IsZero() {
		return "running"
	}
	return string(sc.State)
}

// printSchedule writes every field of a scheduled change at now, one a
// line.
func printSchedule(w io.Writer, sc *vane.Schedule, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", name, value)
		}
	}
	field("ID", sc.ID)
	field("Name", display(sc.Name))
	field("Action", sc.Summary())
	switch sc.Action {
	case vane.ScheduleActionPut:
		value := "(hidden: you may not read " + sc.Name + ")"
		if sc.Value != nil {
			value = displayValue(&parameter{Value: *sc.Value, Type: string(sc.Type)})
		}
		field("Value", value)
		field("Type", string(sc.Type))
		if sc.Description != nil {
			field("Description", display(*sc.Description))
		}
	case vane.ScheduleActionRollout:
		if sc.Rollout != nil {
			field("Rollout", rolloutSpecText(sc.Rollout))
		}
	}
	if sc.ExpectVersion != nil {
		field("Expect version", strconv.FormatInt(*sc.ExpectVersion, 10))
	}
	at := formatTime(sc.At)
	if sc.State == vane.SchedulePending {
		at += " (" + untilText(sc.At, now) + ")"
	}
	field("At", at)
	field("State", scheduleState(sc))
	field("Result", display(sc.Result))
	if !sc.Ran.IsZero() {
		ran := formatTime(sc.Ran)
		if sc.Late > 0 {
			ran += " (" + roughDuration(time.Duration(sc.Late)) + " late)"
		}
		field("Ran", ran)
	}
	field("Created", formatTime(sc.Created)+" by "+display(sc.CreatedBy))
	return tw.Flush()
}

// rolloutSpecText describes the spec of a scheduled rollout: "linear, step
// 10%, every 5m, target 50%, bake 30m, 2 monitors".
func rolloutSpecText(spec *vane.RolloutSpec) string {
	parts := []string{strategyText(spec)}
	if len(spec.Steps) > 0 {
		shares := make([]string, len(spec.Steps))
		for i, p := range spec.Steps {
			shares[i] = formatShare(p)
		}
		parts = append(parts, "steps "+strings.Join(shares, " "))
	}
	if spec.Target != nil {
		parts = append(parts, "target "+formatShare(*spec.Target))
	}
	if spec.Rule != "" {
		parts = append(parts, "rule "+spec.Rule)
	}
	if spec.Bake != nil {
		parts = append(parts, "bake "+shortDuration(time.Duration(*spec.Bake)))
	}
	if n := len(spec.Monitors); n > 0 {
		parts = append(parts, fmt.Sprintf("%d monitor(s)", n))
	}
	return strings.Join(parts, ", ")
}
