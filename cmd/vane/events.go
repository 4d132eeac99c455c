package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vanehq/vane"
)

// The client side of event rules: `vane events`.

const eventsDescription = `
Event rules send the changes of selected parameters to a target: a webhook
(a JSON POST in the shape of AWS's "Parameter Store Change" event, signed
with HMAC-SHA256), a Slack-compatible incoming webhook, or the server's log.
Delivery is at least once and in change-log order per rule; failed attempts
are retried with backoff, then kept as dead letters to redeliver. See
doc/events.md. Subcommands:

  rules create NAME --path PATH --target webhook|slack|log [--url URL]
                         create a rule (a webhook rule's secret is printed once)
  rules ls               list the rules
  rules show RULE        print a rule
  rules update RULE ...  change a rule's fields (--rotate-secret for a new secret)
  rules rm RULE          delete a rule and its deliveries
  deliveries RULE        list a rule's deliveries, newest first (--dead for
                         the dead letters)
  delivery RULE EVENT    print one delivery with its event and attempts
  redeliver RULE EVENT   queue a dead (or delivered) event again
  test RULE              send a test event to the rule's target now

RULE is a rule's id or name. Every subcommand needs vane:Admin.`

// events runs `vane events SUBCOMMAND`.
func (c *cli) events(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "rules":
		return c.eventRules(ctx, rest)
	case "deliveries":
		return c.eventDeliveries(ctx, rest)
	case "delivery":
		return c.eventDelivery(ctx, rest)
	case "redeliver":
		return c.eventRedeliver(ctx, rest)
	case "test":
		return c.eventTest(ctx, rest)
	}
	if sub != "" {
		return usageError{fmt.Errorf("events: unknown subcommand %q: use rules, deliveries, delivery, redeliver or test", sub)}
	}
	fs, _ := c.clientFlagSet("events", "SUBCOMMAND [flags]", eventsDescription, `
vane events rules create flag-changes --path /myapp/prod/features/ --target webhook --url https://hooks.example.com/vane
vane events rules ls
vane events deliveries flag-changes --dead
vane events redeliver flag-changes er-3f9a2c1b6e04-1234
vane events test flag-changes`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	return usageError{fmt.Errorf("events: a subcommand is required (see 'vane events --help')")}
}

func (c *cli) eventRules(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "create", "update":
		return c.eventRuleWrite(ctx, sub, rest)
	case "ls":
		return c.eventRuleList(ctx, rest)
	case "show":
		return c.eventRuleShow(ctx, rest)
	case "rm":
		return c.eventRuleDelete(ctx, rest)
	}
	return usageError{fmt.Errorf("events rules: use create, ls, show, update or rm (see 'vane events --help')")}
}

// eventRuleJSON is a rule as the API shows it.
type eventRuleJSON struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Path          string   `json:"path"`
	Operations    []string `json:"operations"`
	Target        string   `json:"target"`
	URL           string   `json:"url"`
	IncludeValues bool     `json:"include_values"`
	Disabled      bool     `json:"disabled"`
	StartSeq      int64    `json:"start_seq"`
	Created       string   `json:"created"`
	Secret        string   `json:"secret"`
}

// ruleID resolves RULE, an id or a name, to the rule's id.
func (c *cli) ruleID(ctx context.Context, cl *client, rule string) (string, error) {
	if strings.HasPrefix(rule, "er-") {
		return rule, nil
	}
	var out struct {
		Rules []eventRuleJSON `json:"rules"`
	}
	if _, err := cl.call(ctx, http.MethodGet, "/v1/event-rules", nil, nil, &out); err != nil {
		return "", err
	}
	for _, r := range out.Rules {
		if r.Name == rule {
			return r.ID, nil
		}
	}
	return "", fmt.Errorf("no event rule is named %q (see 'vane events rules ls')", rule)
}

func (c *cli) eventRuleWrite(ctx context.Context, op string, args []string) error {
	usage, desc := "NAME --path PATH --target webhook|slack|log [--url URL] [flags]", `
Creates an event rule NAME that sends the changes under --path (a path, or a
glob such as /myapp/*/features/*) to its target. It delivers the changes
made from now on. A webhook rule gets a random signing secret, printed once,
unless --secret gives one.`
	if op == "update" {
		usage, desc = "RULE [flags]", `
Changes the fields of the event rule RULE that the flags give.
--rotate-secret gives a webhook rule a new random signing secret, printed
once; the old one stops working at once.`
	}
	fs, cf := c.clientFlagSet("events rules "+op, usage, desc, `
vane events rules create flag-changes --path /myapp/prod/features/ --target webhook --url https://hooks.example.com/vane
vane events rules create ops-channel --path '/myapp/*/features/*' --ops Update,Delete --target slack --url https://hooks.slack.com/services/T000/B000/XXX
vane events rules update flag-changes --disabled
vane events rules update flag-changes --rotate-secret`)
	path := fs.String("path", "", "the `PATH` (or glob) whose changes the rule sends")
	target := fs.String("target", "", "where events go: `webhook`, slack or log")
	u := fs.String("url", "", "the target's `URL` (webhook and slack)")
	ops := fs.String("ops", "", "the operations to send, comma-separated (default all): "+strings.Join(vane.EventOperations, ","))
	secret := fs.String("secret", "", "the webhook's signing `secret` (default: a random one, printed once)")
	rotate := fs.Bool("rotate-secret", false, "make a new random signing secret (update)")
	values := fs.Bool("values", false, "include the values of String and StringList parameters (never SecureString)")
	disabled := fs.Bool("disabled", false, "turn the rule off (update --disabled=false turns it back on)")
	name := fs.String("name", "", "a new `NAME` for the rule (update)")
	unused := fs.Int("unused-days", 0, "FlagUnused notices: `DAYS` without evaluations (default 30)")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	body := map[string]any{}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "path":
			body["path"] = *path
		case "target":
			body["target"] = *target
		case "url":
			body["url"] = *u
		case "ops":
			list := []string{}
			for _, o := range strings.Split(*ops, ",") {
				if o = strings.TrimSpace(o); o != "" {
					list = append(list, o)
				}
			}
			body["operations"] = list
		case "secret":
			body["secret"] = *secret
		case "rotate-secret":
			body["rotate_secret"] = *rotate
		case "values":
			body["include_values"] = *values
		case "disabled":
			body["disabled"] = *disabled
		case "name":
			body["name"] = *name
		case "unused-days":
			body["unused_days"] = *unused
		}
	})
	method, route := http.MethodPost, "/v1/event-rules"
	if op == "create" {
		body["name"] = pos[0]
	} else {
		id, err := c.ruleID(ctx, cl, pos[0])
		if err != nil {
			return err
		}
		method, route = http.MethodPatch, "/v1/event-rules/"+url.PathEscape(id)
	}
	var r eventRuleJSON
	raw, err := cl.call(ctx, method, route, nil, body, &r)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	fmt.Fprintf(c.stdout, "event rule %s (%s): %s → %s %s\n", r.Name, r.ID, r.Path, r.Target, r.URL)
	if r.Secret != "" {
		fmt.Fprintf(c.stdout, "signing secret: %s\n(the secret is shown only now)\n", r.Secret)
	}
	return nil
}

func (c *cli) eventRuleList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("events rules ls", "[flags]", "\nLists the event rules.", "vane events rules ls")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var out struct {
		Rules []eventRuleJSON `json:"rules"`
	}
	raw, err := cl.call(ctx, http.MethodGet, "/v1/event-rules", nil, nil, &out)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	t := newTable(c.stdout, "ID", "NAME", "PATH", "OPERATIONS", "TARGET", "STATE")
	for _, r := range out.Rules {
		state := "on"
		if r.Disabled {
			state = "off"
		}
		ops := "all"
		if len(r.Operations) > 0 {
			ops = strings.Join(r.Operations, ",")
		}
		t.row(r.ID, r.Name, r.Path, ops, strings.TrimSpace(r.Target+" "+r.URL), state)
	}
	return t.flush()
}

// eventRuleCall runs a command that takes RULE and calls one route of it.
func (c *cli) eventRuleCall(ctx context.Context, name, usage, desc, example string, args []string, min int) (*client, *clientFlags, string, []string, error) {
	fs, cf := c.clientFlagSet(name, usage, desc, example)
	pos, err := c.parse(fs, args, min, min)
	if err != nil {
		return nil, nil, "", nil, err
	}
	cl, err := c.client(cf)
	if err != nil {
		return nil, nil, "", nil, err
	}
	id, err := c.ruleID(ctx, cl, pos[0])
	return cl, cf, id, pos, err
}

func (c *cli) eventRuleShow(ctx context.Context, args []string) error {
	cl, _, id, _, err := c.eventRuleCall(ctx, "events rules show", "RULE [flags]", "\nPrints an event rule as JSON.",
		"vane events rules show flag-changes", args, 1)
	if err != nil {
		return err
	}
	raw, err := cl.call(ctx, http.MethodGet, "/v1/event-rules/"+url.PathEscape(id), nil, nil, nil)
	if err != nil {
		return err
	}
	return printJSON(c.stdout, raw)
}

func (c *cli) eventRuleDelete(ctx context.Context, args []string) error {
	cl, _, id, pos, err := c.eventRuleCall(ctx, "events rules rm", "RULE [flags]", "\nDeletes an event rule with its deliveries and dead letters.",
		"vane events rules rm flag-changes", args, 1)
	if err != nil {
		return err
	}
	if _, err := cl.call(ctx, http.MethodDelete, "/v1/event-rules/"+url.PathEscape(id), nil, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "event rule %s deleted\n", pos[0])
	return nil
}

// deliveryJSON is a delivery as the API shows it.
type deliveryJSON struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Name        string `json:"name"`
	Operation   string `json:"operation"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	NextAttempt string `json:"next_attempt"`
	LastStatus  int    `json:"last_status"`
	LastError   string `json:"last_error"`
	Created     string `json:"created"`
}

func (c *cli) eventDeliveries(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("events deliveries", "RULE [flags]", `
Lists the deliveries of the event rule RULE, newest first: each event's id,
state (pending, delivered, dead), attempts and the last failure.`, `
vane events deliveries flag-changes
vane events deliveries flag-changes --dead`)
	dead := fs.Bool("dead", false, "only the dead letters")
	state := fs.String("state", "", "only deliveries in this `state`: pending, delivered or dead")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	id, err := c.ruleID(ctx, cl, pos[0])
	if err != nil {
		return err
	}
	q := url.Values{}
	if *dead {
		*state = "dead"
	}
	if *state != "" {
		q.Set("state", *state)
	}
	raws, err := cl.listAll(ctx, "/v1/event-rules/"+url.PathEscape(id)+"/deliveries", "deliveries", q)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSONListOf(c.stdout, "deliveries", raws)
	}
	t := newTable(c.stdout, "EVENT", "NAME", "OPERATION", "STATE", "ATTEMPTS", "LAST")
	for _, raw := range raws {
		var d deliveryJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		last := "-"
		if d.LastError != "" {
			last = d.LastError
		} else if d.LastStatus != 0 {
			last = strconv.Itoa(d.LastStatus)
		}
		t.row(d.ID, d.Name, d.Operation, d.State, strconv.Itoa(d.Attempts), last)
	}
	return t.flush()
}

func (c *cli) eventDelivery(ctx context.Context, args []string) error {
	cl, _, id, pos, err := c.eventRuleCall(ctx, "events delivery", "RULE EVENT [flags]",
		"\nPrints one delivery of RULE as JSON: its state, the event as sent, and every attempt.",
		"vane events delivery flag-changes er-3f9a2c1b6e04-1234", args, 2)
	if err != nil {
		return err
	}
	raw, err := cl.call(ctx, http.MethodGet, "/v1/event-rules/"+url.PathEscape(id)+"/deliveries/"+url.PathEscape(pos[1]), nil, nil, nil)
	if err != nil {
		return err
	}
	return printJSON(c.stdout, raw)
}

func (c *cli) eventRedeliver(ctx context.Context, args []string) error {
	cl, cf, id, pos, err := c.eventRuleCall(ctx, "events redeliver", "RULE EVENT [flags]", `
Queues the event EVENT of RULE again (a dead letter, or one delivered that
a receiver lost), with the same id, in its place by sequence.`,
		"vane events redeliver flag-changes er-3f9a2c1b6e04-1234", args, 2)
	if err != nil {
		return err
	}
	var d deliveryJSON
	raw, err := cl.call(ctx, http.MethodPost, "/v1/event-rules/"+url.PathEscape(id)+"/deliveries/"+url.PathEscape(pos[1])+"/redeliver", nil, nil, &d)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	fmt.Fprintf(c.stdout, "event %s queued again (%s)\n", d.ID, d.State)
	return nil
}

func (c *cli) eventTest(ctx context.Context, args []string) error {
	cl, cf, id, pos, err := c.eventRuleCall(ctx, "events test", "RULE [flags]", `
Sends a test event (operation "Test") to the target of RULE now, outside
its queue, and prints how the target answered.`, "vane events test flag-changes", args, 1)
	if err != nil {
		return err
	}
	var out struct {
		Delivered bool   `json:"delivered"`
		Event     string `json:"event"`
		Attempt   struct {
			Status    int     `json:"status"`
			LatencyMS float64 `json:"latency_ms"`
			Error     string  `json:"error"`
		} `json:"attempt"`
	}
	raw, err := cl.call(ctx, http.MethodPost, "/v1/event-rules/"+url.PathEscape(id)+"/test", nil, nil, &out)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if !out.Delivered {
		return fmt.Errorf("test event to %s not delivered: %s", pos[0], out.Attempt.Error)
	}
	fmt.Fprintf(c.stdout, "test event %s delivered (status %d, %.1f ms)\n", out.Event, out.Attempt.Status, out.Attempt.LatencyMS)
	return nil
}
