package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parameter is the API's Parameter JSON.
type parameter struct {
	Name             string   `json:"name"`
	Type             string   `json:"type"`
	Value            string   `json:"value"`
	Version          int64    `json:"version"`
	Labels           []string `json:"labels"`
	Tier             string   `json:"tier"`
	Description      string   `json:"description"`
	AllowedPattern   string   `json:"allowed_pattern"`
	DataType         string   `json:"data_type"`
	KeyID            string   `json:"key_id"`
	LastModified     string   `json:"last_modified"`
	LastModifiedUser string   `json:"last_modified_user"`
	Selector         string   `json:"selector"`
}

// putRequest is the body of PUT /v1/parameters/{name}.
type putRequest struct {
	Value          string            `json:"value"`
	Type           string            `json:"type,omitempty"`
	Description    *string           `json:"description,omitempty"`
	AllowedPattern *string           `json:"allowed_pattern,omitempty"`
	Tier           string            `json:"tier,omitempty"`
	DataType       string            `json:"data_type,omitempty"`
	KeyID          string            `json:"key_id,omitempty"`
	Overwrite      bool              `json:"overwrite,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	ExpectVersion  *int64            `json:"expect_version,omitempty"`
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// noSelector rejects "NAME:SELECTOR" where a command acts on a whole
// parameter.
func noSelector(cmd, name string) error {
	if strings.Contains(name, ":") {
		return usageError{fmt.Errorf("%s acts on a whole parameter: drop the ':' part of %q", cmd, name)}
	}
	return nil
}

func (c *cli) put(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("put", "NAME VALUE [flags]", `
Creates the parameter NAME with VALUE, or with --overwrite adds VALUE as a
new version of it, and prints "NAME version N (TIER)".

VALUE "-" reads the value from stdin (all of it, trailing newline included),
and "@FILE" reads it from FILE; to store a value that begins with "@", pipe
it on stdin. A new parameter is a String unless --type says otherwise; an
overwrite keeps the type (and description, pattern, tier...) unless given.
Tags can only be given when creating; use 'vane tag' afterwards. A VALUE
that begins with '-' goes after "--": vane put NAME -- -v.`, `
vane put /myapp/prod/db/url postgres://db:5432/app
vane put /myapp/prod/db/url postgres://db2:5432/app --overwrite
vane put /myapp/prod/db/password - --type SecureString < password.txt
vane put /myapp/prod/features/checkout @checkout.json --tags team=shop,env=prod
vane put /myapp/prod/hosts a.example.com,b.example.com --type StringList
vane put /myapp/prod/replicas 3 --allowed-pattern '^[0-9]+$' --description "web replicas"
vane put /myapp/prod/replicas 4 --expect-version 1   # compare-and-set`)
	typ := fs.String("type", "", "parameter `TYPE`: String, StringList or SecureString (default String when creating)")
	overwrite := fs.Bool("overwrite", false, "add a version to the parameter if it exists")
	description := fs.String("description", "", "`TEXT` describing the parameter")
	tier := fs.String("tier", "", "`TIER`: Standard, Advanced or Intelligent-Tiering (default Standard)")
	pattern := fs.String("allowed-pattern", "", "regular expression `RE` every value must match")
	dataType := fs.String("data-type", "", "data `TYPE`: text, aws:ec2:image or aws:ssm:integration (default text)")
	keyID := fs.String("key-id", "", "encryption `KEY` of a SecureString (default alias/aws/ssm)")
	tags := tagsFlag{}
	fs.Var(tags, "tags", "tags `K=V,K2=V2` of a new parameter; may be repeated")
	expect := fs.Int64("expect-version", 0, "write only if the current version is `N`; 0: only if the parameter does not exist")
	pos, err := c.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	name := pos[0]
	if err := noSelector("put", name); err != nil {
		return err
	}
	path, err := namePath("/v1/parameters", name)
	if err != nil {
		return err
	}
	value, err := c.readValue(pos[1])
	if err != nil {
		return err
	}
	set := setFlags(fs)
	body := putRequest{
		Value: value, Type: *typ, Tier: *tier, DataType: *dataType, KeyID: *keyID,
		Overwrite: *overwrite,
	}
	if len(tags) > 0 {
		body.Tags = tags
	}
	if set["description"] {
		body.Description = description
	}
	if set["allowed-pattern"] {
		body.AllowedPattern = pattern
	}
	if set["expect-version"] {
		body.ExpectVersion = expect
	}
	// The server requires a type to create and keeps the current one on
	// overwrite; a positive expected version is an overwrite.
	creating := !*overwrite && !(set["expect-version"] && *expect > 0) || (set["expect-version"] && *expect == 0)
	if body.Type == "" && creating {
		body.Type = "String"
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var p parameter
	raw, err := cl.call(ctx, http.MethodPut, path, nil, body, &p)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if p.Tier != "" {
		fmt.Fprintf(c.stdout, "%s version %d (%s)\n", p.Name, p.Version, p.Tier)
	} else {
		fmt.Fprintf(c.stdout, "%s version %d\n", p.Name, p.Version)
	}
	return nil
}

func (c *cli) get(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("get", "NAME[:VERSION|:LABEL] [flags]", `
Prints the value of the parameter NAME: its latest version, the version
VERSION, or the version carrying the label LABEL. Only the value is printed
(with a newline unless it ends with one), so that $(vane get NAME) works in
scripts; -v prints every field, -o json the API's JSON. A SecureString is
printed as stored (encrypted) unless --with-decryption is given.

--at TIME prints the version that was the latest at TIME instead (the
newest version written at or before it; labels play no part). TIME is an
RFC 3339 time (2026-11-21T14:00:00Z, 2026-11-21T15:00:00+01:00),
"YYYY-MM-DD HH:MM[:SS]" in local time, or a time before now: -DURATION or
"DURATION ago" (-90m, "2h ago"), reckoned by this machine's clock; a TIME
in the future is an error. A parameter that did not exist at TIME is
"not_found"; one whose version from then is no longer kept (deleted since,
or past the 100 versions a parameter keeps), or whose existence then can't
be told (the change history needed was compacted), is "gone"; both exit
with status 1.`, `
vane get /myapp/prod/db/url
vane get /myapp/prod/db/password --with-decryption
vane get /myapp/prod/db/url:3
vane get /myapp/prod/db/url:stable -v
DB_URL=$(vane get /myapp/prod/db/url)
vane get /myapp/prod/db/url -o json
vane get /myapp/prod/db/url --at 2026-11-21T14:00:00Z
vane get /myapp/prod/db/url --at "2h ago" -v`)
	verbose := fs.boolFlag("v", "verbose", "print every field, not just the value")
	decrypt := fs.boolFlag("d", "with-decryption", "print a SecureString's plaintext instead of its encrypted form")
	atFlag := fs.String("at", "", "print the version that was the latest at `TIME` (see above)")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	name, sel, err := splitSelector(pos[0])
	if err != nil {
		return err
	}
	path, err := namePath("/v1/parameters", name)
	if err != nil {
		return err
	}
	q := url.Values{}
	if setFlags(fs)["at"] {
		if sel != "" {
			return usageError{fmt.Errorf("get: give either --at or a :VERSION/:LABEL, not both")}
		}
		at, err := parsePastTime(*atFlag, time.Now(), time.Local)
		if err != nil {
			return usageError{err}
		}
		q.Set("at", at.Format(time.RFC3339Nano))
	}
	if isVersion(sel) {
		q.Set("version", sel)
	} else if sel != "" {
		q.Set("label", sel)
	}
	if *decrypt {
		q.Set("with_decryption", "true")
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var p parameter
	raw, err := cl.call(ctx, http.MethodGet, path, q, nil, &p)
	if err != nil {
		return err
	}
	switch {
	case cf.json():
		return printJSON(c.stdout, raw)
	case *verbose:
		return printParameter(c.stdout, &p)
	}
	fmt.Fprint(c.stdout, p.Value)
	if !strings.HasSuffix(p.Value, "\n") {
		fmt.Fprintln(c.stdout)
	}
	return nil
}

// parsePastTime parses the --at of a point-in-time read at now, reading a
// time without a zone in loc, and returns it in UTC. Whether it is in the
// past is the server's to check, by its clock.
func parsePastTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	rel, minus := strings.CutPrefix(s, "-")
	if !minus {
		rel, minus = strings.CutSuffix(s, " ago")
	}
	if minus {
		d, err := time.ParseDuration(strings.TrimSpace(rel))
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("--at %q: -DURATION and \"DURATION ago\" take a Go duration, such as -90m or \"2h ago\"", s)
		}
		return now.Add(-d).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: give an RFC 3339 time (2026-11-21T14:00:00Z, 2026-11-21T15:00:00+01:00), \"YYYY-MM-DD HH:MM\" in local time, or a time before now (-90m, \"2h ago\")", s)
}

func (c *cli) ls(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("ls", "[PATH] [flags]", `
Lists the latest versions of the parameters directly under PATH (default
"/", the root-level names), or with -r of all parameters below it, in name
order, with columns NAME, TYPE, VERSION, LAST MODIFIED and VALUE (cut to 40
characters; SecureString values are shown as ****). Every page is fetched;
--limit sets how many parameters each request asks for.`, `
vane ls /myapp/prod
vane ls /myapp -r
vane ls /myapp -r -o json | jq -r '.parameters[].name'`)
	recursive := fs.boolFlag("r", "recursive", "list the whole hierarchy below PATH")
	limit := fs.Int("limit", 0, "`N` parameters per request, 1 to 1000 (default: the server's page size)")
	pos, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	path := "/"
	if len(pos) == 1 {
		path = pos[0]
	}
	q := url.Values{"path": {path}}
	if *recursive {
		q.Set("recursive", "true")
	}
	if setFlags(fs)["limit"] {
		q.Set("limit", strconv.Itoa(*limit))
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	raws, err := cl.list(ctx, "/v1/parameters", q)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSONList(c.stdout, raws)
	}
	params, err := decodeParameters(raws)
	if err != nil {
		return err
	}
	t := newTable(c.stdout, "NAME", "TYPE", "VERSION", "LAST MODIFIED", "VALUE")
	for _, p := range params {
		t.row(p.Name, p.Type, strconv.FormatInt(p.Version, 10), displayTime(p.LastModified), displayValue(p))
	}
	return t.flush()
}

func (c *cli) rm(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("rm", "NAME [flags]", `
Deletes the parameter NAME with all its versions, labels and tags and
prints "NAME deleted" (nothing with -o json: the API answers 204 No Content).`, `
vane rm /myapp/prod/old-setting
vane rm /myapp/prod/old-setting --expect-version 4`)
	expect := fs.Int64("expect-version", 0, "delete only if the current version is `N`")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := noSelector("rm", pos[0]); err != nil {
		return err
	}
	path, err := namePath("/v1/parameters", pos[0])
	if err != nil {
		return err
	}
	q := url.Values{}
	if setFlags(fs)["expect-version"] {
		q.Set("expect_version", strconv.FormatInt(*expect, 10))
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	if _, err := cl.do(ctx, http.MethodDelete, path, q, nil); err != nil {
		return err
	}
	if !cf.json() {
		// The API answers 204 with no body, so -o json prints nothing.
		fmt.Fprintf(c.stdout, "%s deleted\n", pos[0])
	}
	return nil
}

func (c *cli) history(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("history", "NAME [flags]", `
Lists the kept versions of the parameter NAME, oldest first, with columns
VERSION, LABELS, MODIFIED, BY and VALUE (cut to 40 characters; SecureString
values are shown as ****). Every page is fetched.`, `
vane history /myapp/prod/db/url
vane history /myapp/prod/db/url -o json`)
	limit := fs.Int("limit", 0, "`N` versions per request, 1 to 1000 (default: the server's page size)")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := noSelector("history", pos[0]); err != nil {
		return err
	}
	path, err := namePath("/v1/history", pos[0])
	if err != nil {
		return err
	}
	q := url.Values{}
	if setFlags(fs)["limit"] {
		q.Set("limit", strconv.Itoa(*limit))
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	raws, err := cl.list(ctx, path, q)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSONList(c.stdout, raws)
	}
	params, err := decodeParameters(raws)
	if err != nil {
		return err
	}
	t := newTable(c.stdout, "VERSION", "LABELS", "MODIFIED", "BY", "VALUE")
	for _, p := range params {
		t.row(strconv.FormatInt(p.Version, 10), strings.Join(p.Labels, ","), displayTime(p.LastModified),
			p.LastModifiedUser, displayValue(p))
	}
	return t.flush()
}

func (c *cli) label(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("label", "NAME[:VERSION] LABEL... [flags]", `
Attaches the labels to version VERSION of the parameter NAME (default: the
latest version), moving each label from any other version that has it.
Labels that break the label rules (letters, digits, '.', '_' and '-', not
beginning with a digit, "aws" or "ssm") are not applied and are reported on
stderr; the command still succeeds, as the API does.`, `
vane label /myapp/prod/db/url stable
vane label /myapp/prod/db/url:3 stable canary`)
	pos, err := c.parse(fs, args, 2, -1)
	if err != nil {
		return err
	}
	name, version, err := parseVersionSelector(pos[0])
	if err != nil {
		return err
	}
	path, err := namePath("/v1/labels", name)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	body := struct {
		Version int64    `json:"version,omitempty"`
		Labels  []string `json:"labels"`
	}{version, pos[1:]}
	var res struct {
		Version       int64    `json:"version"`
		InvalidLabels []string `json:"invalid_labels"`
	}
	raw, err := cl.call(ctx, http.MethodPut, path, nil, body, &res)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	var applied []string
	for _, l := range body.Labels {
		if !slices.Contains(res.InvalidLabels, l) && !slices.Contains(applied, l) {
			applied = append(applied, l)
		}
	}
	if len(applied) > 0 {
		fmt.Fprintf(c.stdout, "%s version %d labelled %s\n", name, res.Version, strings.Join(applied, ", "))
	} else {
		fmt.Fprintf(c.stdout, "%s version %d: no labels applied\n", name, res.Version)
	}
	if len(res.InvalidLabels) > 0 {
		fmt.Fprintf(c.stderr, "vane: warning: invalid labels not applied: %s\n", strings.Join(res.InvalidLabels, ", "))
	}
	return nil
}

func (c *cli) unlabel(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("unlabel", "NAME:VERSION LABEL... [flags]", `
Removes the labels from version VERSION of the parameter NAME and prints
the labels removed. Labels that are not on that version (or are not valid
labels) are reported on stderr; the command still succeeds, as the API does.`, `
vane unlabel /myapp/prod/db/url:3 canary`)
	pos, err := c.parse(fs, args, 2, -1)
	if err != nil {
		return err
	}
	name, version, err := parseVersionSelector(pos[0])
	if err != nil {
		return err
	}
	if version == 0 {
		return usageError{fmt.Errorf("unlabel: give the version as NAME:VERSION, such as %s:1", name)}
	}
	path, err := namePath("/v1/labels", name)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	q := url.Values{"version": {strconv.FormatInt(version, 10)}, "label": pos[1:]}
	var res struct {
		RemovedLabels []string `json:"removed_labels"`
		InvalidLabels []string `json:"invalid_labels"`
	}
	raw, err := cl.call(ctx, http.MethodDelete, path, q, nil, &res)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if len(res.RemovedLabels) > 0 {
		fmt.Fprintf(c.stdout, "%s version %d: removed %s\n", name, version, strings.Join(res.RemovedLabels, ", "))
	} else {
		fmt.Fprintf(c.stdout, "%s version %d: no labels removed\n", name, version)
	}
	if len(res.InvalidLabels) > 0 {
		fmt.Fprintf(c.stderr, "vane: warning: labels not on version %d or invalid: %s\n", version, strings.Join(res.InvalidLabels, ", "))
	}
	return nil
}

func (c *cli) tag(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("tag", "NAME [KEY=VALUE...] | NAME --rm KEY... [flags]", `
Lists the tags of the parameter NAME; with KEY=VALUE arguments first adds
or replaces those tags, with --rm first removes the tags KEY. The tags the
parameter has afterwards are printed, with columns KEY and VALUE.`, `
vane tag /myapp/prod/db/url
vane tag /myapp/prod/db/url team=payments env=prod
vane tag /myapp/prod/db/url --rm env`)
	remove := fs.Bool("rm", false, "remove the tags with the KEYs given")
	pos, err := c.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	if err := noSelector("tag", pos[0]); err != nil {
		return err
	}
	path, err := namePath("/v1/tags", pos[0])
	if err != nil {
		return err
	}
	method, q := http.MethodGet, url.Values{}
	var body any
	switch {
	case *remove:
		if len(pos) < 2 {
			return usageError{fmt.Errorf("tag --rm: give the KEYs of the tags to remove")}
		}
		method, q = http.MethodDelete, url.Values{"key": pos[1:]}
	case len(pos) > 1:
		tags := map[string]string{}
		for _, kv := range pos[1:] {
			k, v, err := parseTag(kv)
			if err != nil {
				return usageError{fmt.Errorf("tag: %w (or use --rm KEY... to remove tags)", err)}
			}
			tags[k] = v
		}
		method, body = http.MethodPut, struct {
			Tags map[string]string `json:"tags"`
		}{tags}
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var res struct {
		Tags map[string]string `json:"tags"`
	}
	raw, err := cl.call(ctx, method, path, q, body, &res)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	keys := make([]string, 0, len(res.Tags))
	for k := range res.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	t := newTable(c.stdout, "KEY", "VALUE")
	for _, k := range keys {
		t.row(display(k), display(res.Tags[k]))
	}
	return t.flush()
}

// list fetches every page of a listing of parameters and returns the
// parameters of all of them.
func (cl *client) list(ctx context.Context, path string, q url.Values) ([]json.RawMessage, error) {
	return cl.listAll(ctx, path, "parameters", q)
}

// listAll fetches every page of a listing route and returns the items of
// all of them: the array in field of each page.
func (cl *client) listAll(ctx context.Context, path, field string, q url.Values) ([]json.RawMessage, error) {
	all := []json.RawMessage{}
	seen := map[string]bool{}
	for {
		var page map[string]json.RawMessage
		if _, err := cl.call(ctx, http.MethodGet, path, q, nil, &page); err != nil {
			return nil, err
		}
		var items []json.RawMessage
		var token string
		if err := json.Unmarshal(page[field], &items); err != nil && page[field] != nil {
			return nil, fmt.Errorf("the server at %s sent a listing that is not the API's JSON: %w", cl.base, err)
		}
		if err := json.Unmarshal(page["next_token"], &token); err != nil && page["next_token"] != nil {
			return nil, fmt.Errorf("the server at %s sent a listing that is not the API's JSON: %w", cl.base, err)
		}
		all = append(all, items...)
		if token == "" {
			return all, nil
		}
		if seen[token] {
			return nil, fmt.Errorf("the server at %s returned the same paging token twice", cl.base)
		}
		seen[token] = true
		q.Set("next_token", token)
	}
}

// decodeParameters decodes the parameters of a listing.
func decodeParameters(raws []json.RawMessage) ([]*parameter, error) {
	params := make([]*parameter, len(raws))
	for i, raw := range raws {
		params[i] = new(parameter)
		if err := json.Unmarshal(raw, params[i]); err != nil {
			return nil, fmt.Errorf("the server sent a parameter that is not the API's JSON: %w", err)
		}
	}
	return params, nil
}
