package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// auditEntry is an entry of GET /v1/audit.
type auditEntry struct {
	ID         int64  `json:"id"`
	Time       string `json:"time"`
	Principal  string `json:"principal"`
	Source     string `json:"source"`
	RequestID  string `json:"request_id"`
	Action     string `json:"action"`
	Name       string `json:"name"`
	OldVersion int64  `json:"old_version"`
	NewVersion int64  `json:"new_version"`
	Result     string `json:"result"`
	Detail     string `json:"detail"`
}

func (c *cli) audit(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("audit", "[PATH] [flags]", `
Prints the audit history, oldest first: every change to a parameter, with
who made it (PRINCIPAL), from where (SOURCE), the action, the name, the
versions before and after, and the result. PATH keeps the entries of the
names under it. --since and --until take RFC 3339 times or dates. --jsonl
prints every matching entry as one JSON object a line, for export.`, `
vane audit /myapp/prod
vane audit --principal alice --since 2026-11-01
vane audit --action ssm:DeleteParameter --jsonl > deletes.jsonl`)
	principal := fs.String("principal", "", "only the entries of this `principal`")
	action := fs.String("action", "", "only this `action`, such as ssm:PutParameter")
	since := fs.String("since", "", "only entries from this `time` on")
	until := fs.String("until", "", "only entries before this `time`")
	jsonl := fs.Bool("jsonl", false, "print JSON Lines (one entry a line) for export")
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	q := url.Values{}
	if len(pos) == 1 {
		q.Set("path", pos[0])
	}
	for k, v := range map[string]string{"principal": *principal, "action": *action, "since": *since, "until": *until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var all []json.RawMessage
	for {
		var page struct {
			Entries   []json.RawMessage `json:"entries"`
			NextToken string            `json:"next_token"`
		}
		if _, err := cl.call(ctx, http.MethodGet, "/v1/audit", q, nil, &page); err != nil {
			return err
		}
		all = append(all, page.Entries...)
		if page.NextToken == "" {
			break
		}
		q.Set("next_token", page.NextToken)
	}
	switch {
	case *jsonl:
		for _, raw := range all {
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return fmt.Errorf("the server sent an entry that is not JSON: %w", err)
			}
			fmt.Fprintln(c.stdout, buf.String())
		}
		return nil
	case cf.json():
		b, _ := json.Marshal(map[string]any{"entries": all})
		return printJSON(c.stdout, b)
	}
	t := newTable(c.stdout, "TIME", "PRINCIPAL", "SOURCE", "ACTION", "NAME", "VERSIONS", "RESULT", "DETAIL")
	for _, raw := range all {
		var e auditEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("the server sent an entry that is not the API's JSON: %w", err)
		}
		t.row(displayTime(e.Time), display(e.Principal), orDash(e.Source), e.Action, orDash(display(e.Name)),
			strconv.FormatInt(e.OldVersion, 10)+"→"+strconv.FormatInt(e.NewVersion, 10), e.Result, orDash(display(e.Detail)))
	}
	return t.flush()
}
