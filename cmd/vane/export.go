package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/manifest"
)

// exportTimeout bounds one read of GET /v1/export: a whole subtree, which
// at 100,000 parameters takes about a second on loopback.
const exportTimeout = 10 * time.Minute

// export writes a subtree as a config-as-code file (package manifest).
func (c *cli) export(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("export", "PATH [flags]", `
Writes every parameter under PATH that you may read to a file meant to
live in git (doc/config-as-code.md): names relative to PATH, sorted; each
with its type and value (a flag's document as a YAML/JSON object), its
description, tags and the labels of its latest version, and its tier,
allowed pattern, data type, key and policies when not the default.
SecureString values are written sealed (only this server's keyring opens
them), as placeholders with --secrets placeholder, or in plaintext with
--with-decryption, which needs kms:Decrypt on their keys. The output is
YAML unless -o json (or --out FILE.json).`, `
vane export /myapp/prod > myapp-prod.yaml
vane export /myapp/prod -o json --out myapp-prod.json
vane export /myapp/prod --secrets placeholder --out config/prod.yaml`)
	decrypt := fs.Bool("with-decryption", false, "write SecureString values in plaintext (needs kms:Decrypt)")
	secrets := fs.String("secrets", "sealed", "how SecureString values are written without --with-decryption: `MODE` sealed or placeholder")
	out := fs.String("out", "", "write to `FILE` instead of stdout")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	format, err := fileFormat(*cf.output, *out)
	if err != nil {
		return err
	}
	*cf.output = "table"
	mode := manifest.Sealed
	switch {
	case *decrypt:
		mode = manifest.Plaintext
	case *secrets == "placeholder":
		mode = manifest.Placeholder
	case *secrets != "sealed":
		return usageError{fmt.Errorf("export: --secrets %q: use sealed or placeholder (or --with-decryption)", *secrets)}
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	f, _, err := cl.exportTree(ctx, pos[0], mode)
	if err != nil {
		return err
	}
	b, err := manifest.Marshal(f, format)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = c.stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o600); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	_, err = fmt.Fprintf(c.stdout, "exported %d parameters under %s to %s\n", len(f.Parameters), f.Path, *out)
	return err
}

// fileFormat returns the format of a file from -o (table, the default,
// means YAML unless the file's name ends in .json).
func fileFormat(output, file string) (string, error) {
	switch output {
	case "yaml", "yml":
		return manifest.YAML, nil
	case "json":
		return manifest.JSON, nil
	case "table":
		if strings.EqualFold(filepath.Ext(file), ".json") {
			return manifest.JSON, nil
		}
		return manifest.YAML, nil
	}
	return "", usageError{fmt.Errorf("output format %q: use yaml or json", output)}
}

// exportTree reads a subtree with GET /v1/export as a tree: SecureString
// values as mode says (Plaintext reads with decryption). It returns the
// change-log sequence the read reflects too.
func (cl *client) exportTree(ctx context.Context, path string, mode manifest.SecretMode) (*manifest.File, int64, error) {
	canon, err := vane.ValidatePath(path)
	if err != nil {
		return nil, 0, usageError{fmt.Errorf("%s", vane.ErrorMessage(err))}
	}
	q := url.Values{"path": {canon}}
	if mode == manifest.Plaintext {
		q.Set("with_decryption", "true")
	}
	ctx, cancel := context.WithTimeout(ctx, exportTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+"/v1/export?"+q.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vane-cli/"+version)
	cl.authorize(req)
	// The client's own timeout bounds small requests; an export streams.
	hc := *cl.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, cl.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, 0, responseError(resp, b)
	}
	var x manifest.Export
	if err := json.NewDecoder(resp.Body).Decode(&x); err != nil {
		if ctx.Err() != nil {
			return nil, 0, cl.transportError(ctx, err)
		}
		return nil, 0, fmt.Errorf("the export of %s from %s is incomplete or not the API's JSON: %w", canon, cl.base, err)
	}
	f, err := manifest.FromExport(&x, mode)
	if err != nil {
		return nil, 0, err
	}
	return f, x.Sequence, nil
}
