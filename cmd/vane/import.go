package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/importer"
	"github.com/vanehq/vane/manifest"
)

// batchTimeout bounds the one POST /v1/batch of an import or promotion:
// up to vane.MaxBatchItems writes in one transaction.
const batchTimeout = 10 * time.Minute

// progressThreshold is the number of writes above which an import shows
// its progress on a terminal.
const progressThreshold = 1000

// importFile makes the store match a config-as-code file in one batch.
func (c *cli) importFile(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("import", "FILE [flags]", `
Makes the parameters under the file's path (or --to PATH) match FILE, a
file written by 'vane export' (YAML or JSON; "-" reads stdin), in one
atomic batch: it reads the store (GET /v1/export), prints what differs
(+ added, ~ changed with a line diff of each changed flag document,
- removed; SecureString values are never printed), and applies every
change at once, each put and delete compare-and-set against the version
it read, so a change made meanwhile fails the import with nothing
written. It writes nothing when the store already matches, and nothing
with --dry-run. Names only in the store are kept unless --prune. A
SecureString given sealed must be the store's own sealed value; give a
plaintext "value" to change it. At most 10,000 writes per import.

With --from FORMAT, FILE is what another tool wrote, converted first and
imported under --to PATH (required): `+strings.Join(importer.Formats(), ", ")+`.
Every item the conversion skips is listed on stderr with the reason
(doc/config-as-code.md, "Importing from other tools").`, `
vane import myapp-prod.yaml --dry-run
vane import myapp-prod.yaml
vane import myapp-staging.yaml --to /myapp/prod --prune
vane import --from dotenv .env --to /myapp/prod/tuning --dry-run
vane import --from powertools features.json --to /myapp/prod`)
	prune := fs.Bool("prune", false, "delete the parameters under the path that the file does not have")
	dryRun := fs.Bool("dry-run", false, "print the differences and write nothing")
	to := fs.String("to", "", "import under `PATH` instead of the file's path")
	from := fs.String("from", "", "convert FILE from `FORMAT` ("+strings.Join(importer.Formats(), ", ")+"); needs --to")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	raw, err := c.readFile(pos[0])
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	var dst string
	if *to != "" {
		if dst, err = vane.ValidatePath(*to); err != nil {
			return usageError{fmt.Errorf("import: --to: %s", vane.ErrorMessage(err))}
		}
	}
	var desired *manifest.File
	if *from != "" {
		if desired, err = c.convert(*from, raw, pos[0], dst); err != nil {
			return err
		}
	} else if desired, err = manifest.Parse(raw); err != nil {
		return fmt.Errorf("import: %s: %w", pos[0], err)
	}
	if dst == "" {
		dst = desired.Path
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	// A plaintext SecureString in the file is compared with the store's
	// plaintext, which needs kms:Decrypt, as reading it would.
	mode := manifest.Sealed
	for _, e := range desired.Parameters {
		if e.Type == string(vane.TypeSecureString) && e.Value != nil {
			mode = manifest.Plaintext
		}
	}
	p := c.newPhases("import")
	p.say("reading %s", dst)
	current, _, err := cl.exportTree(ctx, dst, mode)
	if err != nil {
		p.done()
		return err
	}
	p.done()
	d := manifest.Compare(current, desired, *prune)
	return c.apply(ctx, cl, cf, "import", d, dst, *dryRun, p)
}

// convert reads a file another tool wrote as a tree under dst, listing on
// stderr each item it skipped and why.
func (c *cli) convert(format string, raw []byte, file, dst string) (*manifest.File, error) {
	if dst == "" {
		return nil, usageError{fmt.Errorf("import: --from %s needs --to PATH: where to import", format)}
	}
	f, skips, err := importer.Convert(format, raw, dst)
	if err != nil {
		return nil, fmt.Errorf("import: %s: %w", file, err)
	}
	for _, s := range skips {
		fmt.Fprintf(c.stderr, "skipped %s: %s\n", s.Item, s.Reason)
	}
	if len(skips) > 0 {
		fmt.Fprintf(c.stderr, "%d items of %s skipped: they are not imported\n", len(skips), file)
	}
	if len(f.Parameters) == 0 {
		// An empty tree with --prune would delete everything under dst.
		return nil, fmt.Errorf("import: %s: nothing to import from it as %s", file, format)
	}
	return f, nil
}

// diff compares two subtrees by relative name.
func (c *cli) diff(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("diff", "PATH_A PATH_B [flags]", `
Compares the parameters under PATH_A with those under PATH_B by name
relative to each path, and prints what would change going from A to B:
+ only in B, - only in A, ~ different (a line diff of each flag
document). SecureString values are compared only with --with-decryption
(which needs kms:Decrypt) and never printed. Exits 0 either way.`, `
vane diff /myapp/staging /myapp/prod
vane diff /myapp/staging /myapp/prod --with-decryption`)
	decrypt := fs.Bool("with-decryption", false, "compare SecureString values too (needs kms:Decrypt)")
	all := fs.Bool("all", false, "list unchanged names too")
	pos, err := c.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	mode := secretMode(*decrypt)
	a, _, err := cl.exportTree(ctx, pos[0], mode)
	if err != nil {
		return err
	}
	b, _, err := cl.exportTree(ctx, pos[1], mode)
	if err != nil {
		return err
	}
	d := manifest.Compare(a, b, true)
	if cf.json() {
		return printDiffJSON(c.stdout, d, nil)
	}
	if err := manifest.Print(c.stdout, d, manifest.PrintOptions{Unchanged: *all}); err != nil {
		return err
	}
	if !*decrypt && hasSecure(a, b) {
		_, err = fmt.Fprintln(c.stdout, "(SecureString values were not compared: add --with-decryption)")
	}
	return err
}

// promote copies the differences of one subtree into another.
func (c *cli) promote(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("promote", "SRC DST [flags]", `
Copies what differs under SRC into DST, by name relative to each path, in
one atomic batch, as 'vane import' would a file exported from SRC: new
names are created, changed ones get a new version (or their tags and
labels changed), each compare-and-set against the version read from DST.
Names only in DST are kept unless --prune. --only limits the promotion to
some relative names (comma-separated, or repeated). SecureString values
are copied only with --with-decryption (kms:Decrypt on SRC's keys). You
must be allowed to write every name written, or nothing is.`, `
vane promote /myapp/staging /myapp/prod --dry-run
vane promote /myapp/staging /myapp/prod --only features/new-checkout
vane promote /myapp/staging /myapp/prod --with-decryption --prune`)
	var only stringsFlag
	fs.Var(&only, "only", "promote only these relative `NAMES` (comma-separated; may repeat)")
	prune := fs.Bool("prune", false, "delete the names under DST that SRC does not have")
	dryRun := fs.Bool("dry-run", false, "print the differences and write nothing")
	decrypt := fs.Bool("with-decryption", false, "copy SecureString values too (needs kms:Decrypt)")
	pos, err := c.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	mode := secretMode(*decrypt)
	p := c.newPhases("promote")
	p.say("reading %s and %s", pos[0], pos[1])
	src, _, err := cl.exportTree(ctx, pos[0], mode)
	if err != nil {
		p.done()
		return err
	}
	dst, _, err := cl.exportTree(ctx, pos[1], mode)
	p.done()
	if err != nil {
		return err
	}
	if len(only) > 0 {
		keep := map[string]bool{}
		for _, n := range only {
			n = strings.TrimPrefix(n, "/")
			if src.Parameters[n] == nil && dst.Parameters[n] == nil {
				return usageError{fmt.Errorf("promote: --only %s: no such name under %s or %s", n, src.Path, dst.Path)}
			}
			keep[n] = true
		}
		for _, t := range []*manifest.File{src, dst} {
			for n := range t.Parameters {
				if !keep[n] {
					delete(t.Parameters, n)
				}
			}
		}
	}
	d := manifest.Compare(dst, src, *prune)
	return c.apply(ctx, cl, cf, "promote", d, dst.Path, *dryRun, p)
}

// apply prints a diff and, unless dryRun or there is nothing to do, writes
// it under dst in one batch.
func (c *cli) apply(ctx context.Context, cl *client, cf *clientFlags, cmd string, d *manifest.Diff, dst string, dryRun bool, p *phases) error {
	if !cf.json() {
		if err := manifest.Print(c.stdout, d, manifest.PrintOptions{}); err != nil {
			return err
		}
	}
	if d.Empty() {
		if cf.json() {
			return printDiffJSON(c.stdout, d, &batchOutcome{})
		}
		_, err := fmt.Fprintf(c.stdout, "nothing to change: %s already matches\n", dst)
		return err
	}
	items, err := manifest.Plan(d, dst)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	if len(items) > vane.MaxBatchItems {
		return fmt.Errorf("%s: %d writes are more than the %d one atomic batch may hold: nothing was written; split the tree into smaller paths",
			cmd, len(items), vane.MaxBatchItems)
	}
	if dryRun {
		if cf.json() {
			return printDiffJSON(c.stdout, d, &batchOutcome{Writes: len(items)})
		}
		_, err := fmt.Fprintf(c.stdout, "dry run: %d writes not applied\n", len(items))
		return err
	}
	if len(items) > progressThreshold {
		p.say("applying %d writes in one batch", len(items))
	}
	bctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	hc := *cl.http
	hc.Timeout = 0
	bcl := *cl
	bcl.http = &hc
	var res struct {
		ID string `json:"id"`
	}
	_, err = bcl.call(bctx, http.MethodPost, "/v1/batch", nil, map[string]any{"items": items}, &res)
	p.done()
	if err != nil {
		var pe *proposedError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		var ae *apiError
		if errors.As(err, &ae) {
			switch ae.Code {
			case vane.ECONFLICT:
				return fmt.Errorf("%s: the store changed under %s since it was read, so nothing was written; run it again to see the new differences: %w", cmd, dst, err)
			case vane.EFORBIDDEN:
				return fmt.Errorf("%s: you may not make every change, so nothing was written: %w", cmd, err)
			}
		}
		return fmt.Errorf("%s: nothing was written: %w", cmd, err)
	}
	if cf.json() {
		return printDiffJSON(c.stdout, d, &batchOutcome{Writes: len(items), Batch: res.ID, Applied: true})
	}
	_, err = fmt.Fprintf(c.stdout, "applied %d writes under %s in batch %s\n", len(items), dst, res.ID)
	return err
}

// batchOutcome is what -o json reports of an import or promotion.
type batchOutcome struct {
	Writes  int    `json:"writes"`
	Applied bool   `json:"applied"`
	Batch   string `json:"batch,omitempty"`
}

// printDiffJSON writes the counts and names of a diff, and the outcome of
// applying it if any, as JSON.
func printDiffJSON(w io.Writer, d *manifest.Diff, o *batchOutcome) error {
	type change struct {
		Name    string   `json:"name"`
		Kind    string   `json:"kind"`
		Fields  []string `json:"fields,omitempty"`
		Blocked string   `json:"blocked,omitempty"`
	}
	kinds := map[manifest.Kind]string{manifest.Added: "added", manifest.Changed: "changed", manifest.Removed: "removed", manifest.Kept: "kept"}
	out := struct {
		Added     int           `json:"added"`
		Changed   int           `json:"changed"`
		Removed   int           `json:"removed"`
		Unchanged int           `json:"unchanged"`
		Kept      int           `json:"kept"`
		Changes   []change      `json:"changes"`
		Outcome   *batchOutcome `json:"outcome,omitempty"`
	}{Added: d.Added, Changed: d.Changed, Removed: d.Removed, Unchanged: d.Unchanged, Kept: d.Kept, Changes: []change{}, Outcome: o}
	for _, c := range d.Changes {
		if c.Kind != manifest.Unchanged {
			out.Changes = append(out.Changes, change{Name: c.Name, Kind: kinds[c.Kind], Fields: c.Fields, Blocked: c.Blocked})
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// hasSecure reports whether a tree holds a SecureString.
func hasSecure(ts ...*manifest.File) bool {
	for _, t := range ts {
		for _, e := range t.Parameters {
			if e.Type == string(vane.TypeSecureString) {
				return true
			}
		}
	}
	return false
}

// stringsFlag is a flag of comma-separated values that may repeat.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s = append(*s, part)
		}
	}
	return nil
}

// phases shows, on a terminal, what a long command is doing: a line per
// phase with the time it has taken, redrawn in place. Elsewhere (a pipe,
// a CI log) it prints nothing, and the diff and result say it all.
type phases struct {
	w    io.Writer
	cmd  string
	tty  bool
	stop chan struct{}
	wait chan struct{}
}

func (c *cli) newPhases(cmd string) *phases {
	return &phases{w: c.stderr, cmd: cmd, tty: isTerminal(c.stderr)}
}

// say starts a phase; done ends it.
func (p *phases) say(format string, args ...any) {
	if !p.tty {
		return
	}
	p.done()
	msg := fmt.Sprintf(format, args...)
	p.stop, p.wait = make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func(stop, wait chan struct{}) {
		defer close(wait)
		t := time.NewTicker(progressBarPeriod)
		defer t.Stop()
		for {
			fmt.Fprintf(p.w, "\r%s: %s... %.1fs", p.cmd, msg, time.Since(start).Seconds())
			select {
			case <-stop:
				fmt.Fprintf(p.w, "\r%s: %s... done in %.1fs\n", p.cmd, msg, time.Since(start).Seconds())
				return
			case <-t.C:
			}
		}
	}(p.stop, p.wait)
}

func (p *phases) done() {
	if p == nil || p.stop == nil {
		return
	}
	close(p.stop)
	<-p.wait
	p.stop = nil
}

// secretMode is how an export shows SecureString values: their
// plaintext with --with-decryption, else placeholders.
func secretMode(decrypt bool) manifest.SecretMode {
	if decrypt {
		return manifest.Plaintext
	}
	return manifest.Placeholder
}
