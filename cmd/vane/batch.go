package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// batch applies a batch of writes from a JSON file (POST /v1/batch).
func (c *cli) batch(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("batch", "FILE [flags]", `
Applies the writes in FILE (a JSON batch; "-" reads stdin) all or nothing:
every item is written, or none is. The file holds an optional "id" and
the "items", each with "op" (put, delete, label, unlabel, tag, untag),
"name" and the fields of that write, as in doc/api.md (POST /v1/batch).
Prints each item's outcome, with columns OP, NAME and VERSION.`, `
vane batch release.json
echo '{"items": [{"op": "put", "name": "/myapp/prod/x", "value": "1", "overwrite": true}]}' | vane batch -`)
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	raw, err := c.readFile(pos[0])
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("batch: %s is not JSON", pos[0])
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var res struct {
		ID    string `json:"id"`
		Items []struct {
			Op      string `json:"op"`
			Name    string `json:"name"`
			Version int64  `json:"version"`
		} `json:"items"`
	}
	out, err := cl.call(ctx, http.MethodPost, "/v1/batch", nil, json.RawMessage(raw), &res)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, out)
	}
	t := newTable(c.stdout, "OP", "NAME", "VERSION")
	for _, it := range res.Items {
		v := ""
		if it.Version > 0 {
			v = strconv.FormatInt(it.Version, 10)
		}
		t.row(it.Op, display(it.Name), v)
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "batch %s: %d items written\n", res.ID, len(res.Items))
	return err
}
