package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlstore"
)

// The server side of key administration: what the /v1/kms/keys routes do.

// keyAdmin implements the http server's KeyAdmin with the keyring and the
// store whose SecureString values it seals.
type keyAdmin struct {
	keyring *keyring.Keyring
	store   *sqlstore.Store
	index   *index.Store
	logger  *slog.Logger

	mu sync.Mutex // one rotation or re-wrap at a time
}

var _ vanehttp.KeyAdmin = (*keyAdmin)(nil)

// ListKeys implements KeyAdmin.
func (a *keyAdmin) ListKeys(context.Context) (*vanehttp.KeyList, error) {
	l := &vanehttp.KeyList{}
	for _, k := range a.keyring.Keys() {
		l.Keys = append(l.Keys, vanehttp.Key{ID: k.ID, Aliases: k.Aliases, Description: k.Description, Created: k.Created})
	}
	for _, m := range a.keyring.MasterKeys() {
		l.MasterKeys = append(l.MasterKeys, vanehttp.MasterKey{ID: m.ID, Created: m.Created, Primary: m.Primary})
	}
	return l, nil
}

// CreateKey implements KeyAdmin.
func (a *keyAdmin) CreateKey(_ context.Context, aliases []string) (*vanehttp.Key, error) {
	k, err := a.keyring.CreateKey(aliases...)
	if err != nil {
		return nil, err
	}
	return &vanehttp.Key{ID: k.ID, Aliases: k.Aliases, Description: k.Description, Created: k.Created}, nil
}

// Rotate implements KeyAdmin: a new primary master key, then a re-wrap.
// Reads go on throughout: the old master keys stay in the keyring, so
// values not yet re-wrapped still open.
func (a *keyAdmin) Rotate(ctx context.Context) (*vanehttp.RotateResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	prev := a.keyring.Primary()
	if _, err := a.keyring.Rotate(); err != nil {
		return nil, err
	}
	res, err := a.rewrapLocked(ctx)
	if res != nil {
		res.PreviousMasterKeyID = prev
	}
	return res, err
}

// Rewrap implements KeyAdmin.
func (a *keyAdmin) Rewrap(ctx context.Context) (*vanehttp.RotateResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rewrapLocked(ctx)
}

// rewrapLocked seals the values stored in plaintext, re-wraps the others
// under the primary master key, and reloads the index, which holds the
// values as they were before.
func (a *keyAdmin) rewrapLocked(ctx context.Context) (*vanehttp.RotateResult, error) {
	// Finish even if the client gives up waiting: a pass stopped half-way
	// is safe, but wasted.
	ctx = context.WithoutCancel(ctx)
	primary := a.keyring.Primary()
	res := &vanehttp.RotateResult{MasterKeyID: primary, PreviousMasterKeyID: primary}
	var err error
	res.Sealed, err = a.store.SealPlaintext(ctx, a.keyring, keyring.IsSealed)
	rewrapped, rerr := a.store.RewrapSealed(ctx, a.keyring.Rewrap)
	res.Rewrapped = rewrapped
	if err == nil {
		err = rerr
	}
	if res.Sealed+res.Rewrapped > 0 {
		// No change record announces an in-place re-wrap.
		if ierr := a.index.Open(ctx); ierr != nil {
			a.logger.Warn("reloading the index after a re-wrap failed; it serves values wrapped under the old master key, which still open", "error", ierr.Error())
		}
	}
	attrs := []any{"master_key", primary, "rewrapped", res.Rewrapped, "sealed", res.Sealed}
	if err != nil {
		a.logger.Warn("re-wrap of SecureString values incomplete", append(attrs, "error", err.Error())...)
		return res, err
	}
	a.logger.Info("re-wrapped SecureString values", attrs...)
	return res, nil
}

// The client side: `vane kms`.

// rotateTimeout bounds `vane kms rotate` and `vane kms rewrap`, which
// rewrite every stored SecureString version.
const rotateTimeout = 30 * time.Minute

const keysDescription = `
Manages the keys that encrypt SecureString values at rest:

  list     the keys (id, ARN, aliases) and the master keys (ids only)
  create   add a key, named by --alias (alias/NAME) or by its id, for
           'vane put --type SecureString --key-id alias/NAME'
  rotate   add a new primary master key and re-wrap every stored value's
           data key under it; reads go on meanwhile
  rewrap   re-wrap without adding a master key: finishes an interrupted
           rotation, and encrypts values stored before encryption

Run 'vane kms SUBCOMMAND --help' for the flags of each.`

// kms runs `vane kms SUBCOMMAND`.
func (c *cli) kms(ctx context.Context, args []string) error {
	sub, rest := splitSubcommand(args)
	switch sub {
	case "list":
		return c.keysList(ctx, rest)
	case "create":
		return c.keysCreate(ctx, rest)
	case "rotate", "rewrap":
		return c.keysRotate(ctx, sub, rest)
	}
	fs, _ := c.clientFlagSet("kms", "SUBCOMMAND [flags]", keysDescription, `
vane kms list
vane kms create --alias alias/payments
vane put /payments/api-key - --type SecureString --key-id alias/payments < key.txt
vane kms rotate`)
	if _, err := c.parse(fs, rest, 0, 0); err != nil {
		return err
	}
	if sub == "" {
		return usageError{fmt.Errorf("kms: a subcommand is required: list, create, rotate or rewrap (see 'vane kms --help')")}
	}
	return usageError{fmt.Errorf("kms: unknown subcommand %q: use list, create, rotate or rewrap", sub)}
}

// splitSubcommand finds the subcommand among args, which may be preceded
// by the client flags given before the command ("vane --server URL keys
// list"), and returns it with the other arguments.
func splitSubcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			return a, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && (name == "server" || name == "o" || name == "output") {
			i++ // its value
		}
	}
	return "", args
}

// keyJSON is the API's Key JSON.
type keyJSON struct {
	ID          string   `json:"id"`
	ARN         string   `json:"arn"`
	Aliases     []string `json:"aliases"`
	Description string   `json:"description"`
	Created     string   `json:"created"`
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("kms list", "[flags]", `
Lists the keys that SecureString values can name as their KeyId, with
columns ID, ALIASES and CREATED, then the master keys that wrap the values'
data keys, with columns MASTER KEY, CREATED and PRIMARY. No key material is
ever shown.`, `
vane kms list
vane kms list -o json`)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	var l struct {
		Keys       []keyJSON `json:"keys"`
		MasterKeys []struct {
			ID      string `json:"id"`
			Created string `json:"created"`
			Primary bool   `json:"primary"`
		} `json:"master_keys"`
	}
	raw, err := cl.call(ctx, http.MethodGet, "/v1/kms/keys", nil, nil, &l)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	t := newTable(c.stdout, "ID", "ALIASES", "CREATED")
	for _, k := range l.Keys {
		t.row(display(k.ID), display(strings.Join(k.Aliases, ", ")), displayTime(k.Created))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	t = newTable(c.stdout, "MASTER KEY", "CREATED", "PRIMARY")
	for _, m := range l.MasterKeys {
		primary := ""
		if m.Primary {
			primary = "yes"
		}
		created := displayTime(m.Created)
		if m.Created == "" {
			created = "(VANE_MASTER_KEY)"
		}
		t.row(display(m.ID), created, primary)
	}
	return t.flush()
}

// aliasesFlag collects aliases from repeated flags, each possibly a
// comma-separated list.
type aliasesFlag []string

// String implements flag.Value.
func (a *aliasesFlag) String() string { return strings.Join(*a, ",") }

// Set implements flag.Value.
func (a *aliasesFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*a = append(*a, v)
		}
	}
	return nil
}

func (c *cli) keysCreate(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("kms create", "[--alias alias/NAME]... [flags]", `
Adds a key and prints "key ID created" with its aliases. A SecureString
names it as its KeyId by an alias, by its id or by its ARN. Aliases are
"alias/" followed by letters, digits, '/', '_' and '-'; those under
alias/aws/ are reserved.`, `
vane kms create --alias alias/payments
vane kms create --alias alias/app/prod,alias/app/prod-legacy`)
	var aliases aliasesFlag
	fs.Var(&aliases, "alias", "`ALIAS` of the key, alias/NAME; may be repeated")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	body := struct {
		Aliases []string `json:"aliases"`
	}{Aliases: aliases}
	if body.Aliases == nil {
		body.Aliases = []string{}
	}
	var k keyJSON
	raw, err := cl.call(ctx, http.MethodPost, "/v1/kms/keys", nil, body, &k)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if len(k.Aliases) > 0 {
		fmt.Fprintf(c.stdout, "key %s created (%s)\n", k.ID, strings.Join(k.Aliases, ", "))
	} else {
		fmt.Fprintf(c.stdout, "key %s created\n", k.ID)
	}
	return nil
}

func (c *cli) keysRotate(ctx context.Context, sub string, args []string) error {
	description := `
Adds a new primary master key to the server's keyring, then re-wraps the
data key of every stored SecureString version under it (the values'
ciphertext and versions do not change) and prints the counts. The old
master keys stay in the keyring, so reads go on throughout. With several
nodes, run it on one and copy the keyring file to the others (or share it).`
	if sub == "rewrap" {
		description = `
Re-wraps under the primary master key the data key of every stored
SecureString version that is under another, without adding a master key:
it finishes a rotation that was interrupted. It also encrypts SecureString
values stored before encryption at rest existed.`
	}
	fs, cf := c.clientFlagSet("kms "+sub, "[flags]", description, "vane kms "+sub)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	// Re-wrapping a large store takes longer than an ordinary request.
	hc := *cl.http
	hc.Timeout = rotateTimeout
	cl.http = &hc
	var res struct {
		MasterKeyID         string `json:"master_key_id"`
		PreviousMasterKeyID string `json:"previous_master_key_id"`
		Rewrapped           int    `json:"rewrapped"`
		Sealed              int    `json:"sealed"`
	}
	raw, err := cl.call(ctx, http.MethodPost, "/v1/kms/keys/"+sub, nil, nil, &res)
	if err != nil {
		return err
	}
	if cf.json() {
		return printJSON(c.stdout, raw)
	}
	if sub == "rotate" {
		fmt.Fprintf(c.stdout, "primary master key %s (was %s)\n", res.MasterKeyID, res.PreviousMasterKeyID)
	} else {
		fmt.Fprintf(c.stdout, "primary master key %s\n", res.MasterKeyID)
	}
	fmt.Fprintf(c.stdout, "re-wrapped %d SecureString version(s)\n", res.Rewrapped)
	if res.Sealed > 0 {
		fmt.Fprintf(c.stdout, "encrypted %d SecureString version(s) stored in plaintext\n", res.Sealed)
	}
	return nil
}
