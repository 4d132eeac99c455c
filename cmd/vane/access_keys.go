package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

const accessKeysDescription = `
Manages access keys, the credentials of Vane (it needs an admin key, one
whose policy allows vane:Admin). Subcommands:

  list                         list the keys (never a secret)
  create NAME --policy POLICY  create a key; prints its secret, once
  disable ID, enable ID        stop or resume a key (within seconds on every node)
  delete ID                    delete a key
  policy ID POLICY             replace a key's policy

POLICY is a policy document in IAM's JSON grammar, given inline, as @FILE
or as - (stdin). A key is used as "Authorization: Bearer ID.SECRET", or as
the access key id and secret of the aws CLI and AWS SDKs.`

func (c *cli) accessKeys(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "list":
		return c.accessKeysList(ctx, rest)
	case "create":
		return c.accessKeysCreate(ctx, rest)
	case "disable", "enable", "delete", "policy":
		return c.accessKeysChange(ctx, sub, rest)
	}
	fs, _ := c.clientFlagSet("keys", "SUBCOMMAND [flags]", accessKeysDescription, `
vane keys list
vane keys create ci-reader --policy @reader-policy.json
vane keys disable VNK7Q2MZX4J6TBW3KD5A`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	if sub == "" {
		return usageError{fmt.Errorf("keys: a subcommand is required: list, create, disable, enable, delete or policy (see 'vane keys --help')")}
	}
	return usageError{fmt.Errorf("keys: unknown subcommand %q: use list, create, disable, enable, delete or policy", sub)}
}

type accessKeyJSON struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Created  string          `json:"created"`
	LastUsed string          `json:"last_used"`
	Expires  string          `json:"expires"`
	Disabled bool            `json:"disabled"`
	Policy   json.RawMessage `json:"policy"`
}

func (c *cli) accessKeysList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("keys list", "[flags]", `
Lists the access keys with columns ID, NAME, CREATED, LAST USED, EXPIRES and
STATE. Secrets are never shown: they exist only when a key is created.`, `
vane keys list
vane keys list -o json`)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var l struct {
		Keys []accessKeyJSON `json:"keys"`
	}
	raw, err := cl.call(ctx, http.MethodGet, "/v1/access-keys", nil, nil, &l)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	t := newTable(c.stdout, "ID", "NAME", "CREATED", "LAST USED", "EXPIRES", "STATE")
	for _, k := range l.Keys {
		state := "enabled"
		if k.Disabled {
			state = "disabled"
		}
		lastUsed, expires := "never", "never"
		if k.LastUsed != "" {
			lastUsed = displayTime(k.LastUsed)
		}
		if k.Expires != "" {
			expires = displayTime(k.Expires)
		}
		t.row(k.ID, display(k.Name), displayTime(k.Created), lastUsed, expires, state)
	}
	return t.flush()
}

func (c *cli) accessKeysCreate(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("keys create", "NAME --policy POLICY [--expires TIME] [flags]", `
Creates an access key named NAME with the policy POLICY (IAM JSON grammar,
inline, @FILE or -) and prints its id, its secret and its bearer token. The
secret is shown only now: store it safely. --expires (an RFC 3339 time or a
date) makes the key stop working then.`, `
vane keys create ci-reader --policy @reader-policy.json
vane keys create deploy --policy '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"/myapp/*"}]}' --expires 2027-01-31`)
	policy := fs.String("policy", "", "the key's `POLICY` document: JSON, @FILE or -")
	expires := fs.String("expires", "", "when the key stops working, an RFC 3339 `time` or a date")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *policy == "" {
		return usageError{fmt.Errorf("keys create: --policy is required (see 'vane keys create --help')")}
	}
	doc, err := c.readValue(*policy)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var out struct {
		Key    accessKeyJSON `json:"key"`
		Secret string        `json:"secret"`
		Token  string        `json:"token"`
	}
	raw, err := cl.call(ctx, http.MethodPost, "/v1/access-keys", nil,
		map[string]any{"name": pos[0], "policy": doc, "expires": *expires}, &out)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	fmt.Fprintf(c.stdout, "access key id:     %s\nsecret access key: %s\nbearer token:      %s\n(the secret is shown only now)\n",
		out.Key.ID, out.Secret, out.Token)
	return nil
}

func (c *cli) accessKeysChange(ctx context.Context, sub string, args []string) error {
	synopsis, n := "ID [flags]", 1
	if sub == "policy" {
		synopsis, n = "ID POLICY [flags]", 2
	}
	fs, cf := c.clientFlagSet("keys "+sub, synopsis, map[string]string{
		"disable": "\nDisables the access key ID: every node refuses it within seconds.",
		"enable":  "\nEnables the access key ID again.",
		"delete":  "\nDeletes the access key ID. A key cannot delete itself.",
		"policy":  "\nReplaces the policy of the access key ID with POLICY (JSON, @FILE or -).",
	}[sub], "vane keys "+sub+" VNK7Q2MZX4J6TBW3KD5A")
	pos, err := c.parse(fs, args, n, n)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	path := "/v1/access-keys/" + url.PathEscape(pos[0])
	switch sub {
	case "delete":
		if _, err := cl.call(ctx, http.MethodDelete, path, nil, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s deleted\n", pos[0])
		return nil
	case "policy":
		doc, err := c.readValue(pos[1])
		if err != nil {
			return err
		}
		_, err = cl.call(ctx, http.MethodPatch, path, nil, map[string]any{"policy": doc}, nil)
		if err == nil {
			fmt.Fprintf(c.stdout, "%s: policy replaced\n", pos[0])
		}
		return err
	}
	_, err = cl.call(ctx, http.MethodPatch, path, nil, map[string]any{"disabled": sub == "disable"}, nil)
	if err == nil {
		fmt.Fprintf(c.stdout, "%s %sd\n", pos[0], sub)
	}
	return err
}

func (c *cli) policy(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	fs, cf := c.clientFlagSet("policy simulate", "KEY_ID ACTION NAME [flags]", `
Tells whether the access key KEY_ID may perform ACTION (such as
ssm:GetParameter, kms:Decrypt, vane:Evaluate) on NAME (a parameter name, or
an ARN), and which statement of its policy decides.`, `
vane policy simulate VNK7Q2MZX4J6TBW3KD5A ssm:PutParameter /myapp/prod/features/new-checkout`)
	if sub != "simulate" {
		if _, err := c.parse(fs, rest, 0, 0); err != nil {
			return err
		}
		return usageError{fmt.Errorf("policy: the subcommand is simulate: vane policy simulate KEY_ID ACTION NAME")}
	}
	pos, err := c.parse(fs, rest, 3, 3)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var out struct {
		Name        string `json:"name"`
		Allowed     bool   `json:"allowed"`
		Explanation string `json:"explanation"`
		Disabled    bool   `json:"disabled"`
		Expired     bool   `json:"expired"`
	}
	raw, err := cl.call(ctx, http.MethodPost, "/v1/access-keys/"+url.PathEscape(pos[0])+"/simulate", nil,
		map[string]string{"action": pos[1], "resource": pos[2]}, &out)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	verdict := "DENIED"
	if out.Allowed {
		verdict = "ALLOWED"
	}
	fmt.Fprintf(c.stdout, "%s: key %s (%s): %s\n", verdict, pos[0], out.Name, out.Explanation)
	if out.Disabled || out.Expired {
		fmt.Fprintf(c.stdout, "note: the key is %s, so every request with it is refused anyway\n", map[bool]string{true: "disabled", false: "expired"}[out.Disabled])
	}
	return nil
}
