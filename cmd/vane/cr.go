package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane/manifest"
)

// The client side of change requests: `vane cr`, over the server's
// /v1/change-requests routes.

const crDescription = `
Change requests: on the paths listed in the setting
/vane/settings/approval-paths, a write by a key without vane:BypassApproval
is not made at once. With vane:ProposeChange it becomes a change request
(the write commands then exit with status 3 and print its id); another
principal with vane:ApproveChange approves or rejects it, and an approved
request is applied as one atomic batch, only while every name it changes
is still at the version it was made against. Subcommands:

  ls [PATH]              list the change requests of PATH, newest first
  show ID                print a request: its writes, where each name stands
                         now, a diff of each value, its reviews
  create FILE            propose the writes of FILE (a JSON batch, as for
                         'vane batch') as a change request
  approve ID             approve another principal's request
  reject ID              reject another principal's request
  apply ID               write an approved request (its author, or a
                         principal who may approve it)
  cancel ID              withdraw your own open request

Run 'vane cr SUBCOMMAND --help' for the flags of each.`

// cr runs `vane cr SUBCOMMAND`.
func (c *cli) cr(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "ls":
		return c.crList(ctx, rest)
	case "show":
		return c.crShow(ctx, rest)
	case "create":
		return c.crCreate(ctx, rest)
	case "approve", "reject", "apply", "cancel":
		return c.crStep(ctx, sub, rest)
	}
	if sub != "" {
		return usageError{fmt.Errorf("cr: unknown subcommand %q: use ls, show, create, approve, reject, apply or cancel", sub)}
	}
	fs, _ := c.clientFlagSet("cr", "SUBCOMMAND [flags]", crDescription, `
vane put /shop/prod/tuning/limit 200          # exits 3: change request cr-3f... created
vane cr ls --state pending
vane cr show cr-3f1c2a9e0b7d4e11
vane cr approve cr-3f1c2a9e0b7d4e11 --comment "checked with the dashboards"
vane cr apply cr-3f1c2a9e0b7d4e11`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	return usageError{fmt.Errorf("cr: a subcommand is required: ls, show, create, approve, reject, apply or cancel (see 'vane cr --help')")}
}

// changeRequest is a change request as the API shows it.
type changeRequest struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Comment   string     `json:"comment"`
	Author    string     `json:"author"`
	Reason    string     `json:"reason"`
	AppliedBy string     `json:"applied_by"`
	Applied   *time.Time `json:"applied"`
	Created   time.Time  `json:"created"`
	Items     []struct {
		Op            string            `json:"op"`
		Name          string            `json:"name"`
		Value         *string           `json:"value"`
		Secret        bool              `json:"secret"`
		Type          string            `json:"type"`
		Description   *string           `json:"description"`
		Version       int64             `json:"version"`
		Labels        []string          `json:"labels"`
		Tags          map[string]string `json:"tags"`
		Keys          []string          `json:"keys"`
		ExpectVersion *int64            `json:"expect_version"`
	} `json:"items"`
	Reviews []struct {
		Principal string    `json:"principal"`
		Verdict   string    `json:"verdict"`
		Comment   string    `json:"comment"`
		Time      time.Time `json:"time"`
	} `json:"reviews"`
	Names []struct {
		Name           string  `json:"name"`
		BaseVersion    int64   `json:"base_version"`
		CurrentVersion int64   `json:"current_version"`
		Stale          bool    `json:"stale"`
		Before         *string `json:"before"`
	} `json:"names"`
	Stale *bool `json:"stale"`
}

func (c *cli) crList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("cr ls", "[PATH] [flags]", `
Lists the change requests that change PATH or a name below it (default:
all) and that you may see, newest first, with columns ID, STATE, AUTHOR,
ITEMS, CREATED and NAMES (the first names it changes). Every page is
fetched.`, `
vane cr ls
vane cr ls /shop/prod --state pending
vane cr ls -o json | jq -r '.change_requests[] | select(.state == "approved") | .id'`)
	state := fs.String("state", "", "only requests in `STATE`: pending, approved, rejected, applied, cancelled or stale")
	limit := fs.Int("limit", 0, "`N` requests per request to the server, 1 to 1000 (default: the server's page size)")
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	q := url.Values{}
	if len(pos) == 1 {
		q.Set("path", pos[0])
	}
	if *state != "" {
		q.Set("state", *state)
	}
	if setFlags(fs)["limit"] {
		q.Set("limit", strconv.Itoa(*limit))
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	raws, err := cl.listAll(ctx, "/v1/change-requests", "change_requests", q)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSONListOf(c.stdout, "change_requests", raws)
	}
	t := newTable(c.stdout, "ID", "STATE", "AUTHOR", "ITEMS", "CREATED", "NAMES")
	for _, raw := range raws {
		var cr changeRequest
		if err := json.Unmarshal(raw, &cr); err != nil {
			return fmt.Errorf("the server sent a change request that is not the API's JSON: %w", err)
		}
		t.row(cr.ID, cr.State, display(cr.Author), strconv.Itoa(len(cr.Items)), formatTime(cr.Created), namesSummary(&cr))
	}
	return t.flush()
}

// namesSummary returns the first names a request changes.
func namesSummary(cr *changeRequest) string {
	var names []string
	for _, it := range cr.Items {
		if len(names) == 0 || names[len(names)-1] != it.Name {
			names = append(names, display(it.Name))
		}
	}
	if len(names) > 2 {
		return fmt.Sprintf("%s, %s and %d more", names[0], names[1], len(names)-2)
	}
	return strings.Join(names, ", ")
}

func (c *cli) crShow(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("cr show", "ID [flags]", `
Prints the change request ID: its state, author, comment and reviews, then
each write it proposes with the version of the name it was made against,
the version now (a request whose names moved on is stale and can no longer
be applied), and a diff of each value from the one it had then.
SecureString values are never shown.`, `
vane cr show cr-3f1c2a9e0b7d4e11`)
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var cr changeRequest
	raw, err := cl.call(ctx, http.MethodGet, "/v1/change-requests/"+url.PathEscape(pos[0]), nil, nil, &cr)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	return printChangeRequest(c.stdout, &cr)
}

// printChangeRequest writes a request for people.
func printChangeRequest(w io.Writer, cr *changeRequest) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "change request %s: %s\n", cr.ID, cr.State)
	fmt.Fprintf(&b, "author:   %s, %s\n", display(cr.Author), formatTime(cr.Created))
	if cr.Comment != "" {
		fmt.Fprintf(&b, "comment:  %s\n", oneLine(cr.Comment))
	}
	for _, r := range cr.Reviews {
		verdict := map[string]string{"approve": "approved", "reject": "rejected"}[r.Verdict]
		fmt.Fprintf(&b, "review:   %s by %s, %s", verdict, display(r.Principal), formatTime(r.Time))
		if r.Comment != "" {
			fmt.Fprintf(&b, ": %s", oneLine(r.Comment))
		}
		b.WriteString("\n")
	}
	if cr.Applied != nil {
		fmt.Fprintf(&b, "applied:  by %s, %s (batch %s)\n", display(cr.AppliedBy), formatTime(*cr.Applied), cr.ID)
	}
	if cr.Reason != "" {
		fmt.Fprintf(&b, "reason:   %s\n", oneLine(cr.Reason))
	}
	if cr.Stale != nil && *cr.Stale && (cr.State == "pending" || cr.State == "approved") {
		b.WriteString("stale:    a name moved on since the request was made; it can no longer be applied: propose it again\n")
	}
	before := map[string]*string{}
	b.WriteString("\n")
	for _, n := range cr.Names {
		before[n.Name] = n.Before
		state := fmt.Sprintf("version %d", n.BaseVersion)
		if n.BaseVersion == 0 {
			state = "new"
		}
		if n.Stale {
			state += fmt.Sprintf(", now at %d: stale", n.CurrentVersion)
		}
		fmt.Fprintf(&b, "%s (%s)\n", display(n.Name), state)
	}
	if len(cr.Names) > 0 {
		b.WriteString("\n")
	}
	for _, it := range cr.Items {
		switch it.Op {
		case "put":
			fmt.Fprintf(&b, "put %s", display(it.Name))
			if it.Type != "" {
				fmt.Fprintf(&b, " (%s)", it.Type)
			}
			b.WriteString("\n")
			switch {
			case it.Secret:
				b.WriteString("    (a SecureString value: not shown)\n")
			case it.Value == nil:
				b.WriteString("    (value not shown: you may not read this name)\n")
			default:
				old := ""
				if p := before[it.Name]; p != nil {
					old = manifest.Pretty(*p)
				}
				for _, line := range manifest.LineDiff(old, manifest.Pretty(*it.Value)) {
					if old == "" && strings.HasPrefix(line, "- ") {
						continue // the empty line of a name that did not exist
					}
					fmt.Fprintf(&b, "    %s\n", line)
				}
			}
			if it.Description != nil {
				fmt.Fprintf(&b, "    description: %q\n", *it.Description)
			}
		case "delete":
			fmt.Fprintf(&b, "delete %s\n", display(it.Name))
		case "label", "unlabel":
			v := "the latest version"
			if it.Version > 0 {
				v = fmt.Sprintf("version %d", it.Version)
			}
			fmt.Fprintf(&b, "%s %s: %s on %s\n", it.Op, display(it.Name), strings.Join(it.Labels, ", "), v)
		case "tag":
			fmt.Fprintf(&b, "tag %s: %s\n", display(it.Name), tagsText(it.Tags))
		case "untag":
			fmt.Fprintf(&b, "untag %s: %s\n", display(it.Name), strings.Join(it.Keys, ", "))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// tagsText writes tags as k=v, sorted.
func tagsText(tags map[string]string) string {
	out := make([]string, 0, len(tags))
	for k, v := range tags {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func (c *cli) crCreate(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("cr create", "FILE [flags]", `
Proposes the writes in FILE (a JSON batch as for 'vane batch': "items",
each with "op", "name" and the fields of that write; "-" reads stdin) as
one change request, whether or not its paths need approval. Each name is
pinned to its version now: the request applies only while none of them
changes. The caller needs vane:ProposeChange on every name. Prints the
request's id.`, `
vane cr create release.json --comment "raise the checkout limits for the sale"`)
	comment := fs.String("comment", "", "why the change is needed, for the reviewers (default: the file's \"comment\")")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	raw, err := c.readFile(pos[0])
	if err != nil {
		return fmt.Errorf("cr create: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("cr create: %s is not a JSON object", pos[0])
	}
	if setFlags(fs)["comment"] {
		body["comment"], _ = json.Marshal(*comment)
	}
	delete(body, "id") // a batch file's id names a batch; the request has its own
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var cr changeRequest
	out, err := cl.call(ctx, http.MethodPost, "/v1/change-requests", nil, body, &cr)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, out)
	}
	_, err = fmt.Fprintf(c.stdout, "change request %s created with %d items: it is applied once another principal approves it\n", cr.ID, len(cr.Items))
	return err
}

func (c *cli) crStep(ctx context.Context, step string, args []string) error {
	description := map[string]string{
		"approve": `
Approves the pending change request ID. You need vane:ApproveChange on every
name it changes, and may not be its author. A request whose names moved on
since it was made is marked stale instead, and must be proposed again.`,
		"reject": `
Rejects the pending change request ID. You need vane:ApproveChange on every
name it changes, and may not be its author (cancel your own instead).`,
		"apply": `
Applies the approved change request ID: its writes in one atomic batch
(whose id is the request's), only if every name is still at the version the
request was made against; otherwise nothing is written and the request is
marked stale. Its author may apply it, and so may a principal with
vane:ApproveChange on every name.`,
		"cancel": `
Withdraws your own pending or approved change request ID.`,
	}[step]
	fs, cf := c.clientFlagSet("cr "+step, "ID [flags]", description, "vane cr "+step+" cr-3f1c2a9e0b7d4e11")
	var comment *string
	if step == "approve" || step == "reject" {
		comment = fs.String("comment", "", "a comment for the author and the history")
	}
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var in any
	if comment != nil && *comment != "" {
		in = map[string]string{"comment": *comment}
	}
	var cr changeRequest
	raw, err := cl.call(ctx, http.MethodPost, "/v1/change-requests/"+url.PathEscape(pos[0])+"/"+step, nil, in, &cr)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	line := fmt.Sprintf("change request %s %s", cr.ID, cr.State)
	if cr.State == "applied" {
		line += fmt.Sprintf(": %d writes in batch %s", len(cr.Items), cr.ID)
	}
	_, err = fmt.Fprintln(c.stdout, line)
	return err
}
