package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlite"
)

// backupTimeout bounds one download of GET /v1/backup: the whole database,
// which at a million parameters is about a gigabyte.
const backupTimeout = time.Hour

// storeFileName is the database file vane serve keeps in its data
// directory (see Main.openStore); vane restore writes it.
const storeFileName = "vane.db"

// keyringNote says why the keyring is not in a backup and what to do
// instead; vane backup --help and the docs say the same.
const keyringNote = `
The keyring is not in the backup, on purpose. The keyring (keyring.json in
the data directory, or the file of --master-key-file) holds the master keys
that seal SecureString values and the access keys' secrets; a backup that
carried its own key would hand every secret in it to whoever gets the
backup. Copy the keyring once, to a different place from the backups (a
secrets manager, a password vault, another machine), when the server
creates it and again after every 'vane kms rotate' or 'vane kms create';
'vane restore --keyring' puts it back. With VANE_MASTER_KEY, keep the root
key too: the keyring file opens only with it.`

// backup runs `vane backup`.
func (c *cli) backup(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("backup", "FILE [flags]", `
Takes an online, consistent backup of a running SQLite server into FILE:
the whole database (parameters with all their kept versions, labels and
tags, the change log, the audit history, access keys, rollouts, schedules,
event rules) as of one moment, while writes go on. It needs a key allowed
vane:Admin. The download goes to FILE.tmp, is checked (SQLite's integrity
check, and the parameters and change-log sequence the server reported),
and only then renamed to FILE; an existing FILE is kept unless --force.
Restore it with 'vane restore FILE --data NEW_DIR'.

A PostgreSQL store is backed up with pg_dump instead (doc/operations.md).
`+keyringNote, `
vane backup vane-$(date +%F).db
vane backup /backups/vane.db --force
VANE_SERVER=https://vane.internal:7420 VANE_TOKEN=... vane backup nightly.db`)
	force := fs.Bool("force", false, "replace FILE if it exists")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	file := pos[0]
	if !*force {
		if _, err := os.Lstat(file); err == nil {
			return fmt.Errorf("backup: %s already exists: name another file, or add --force to replace it", file)
		}
	}
	tmp := file + ".tmp"
	got, err := cl.downloadBackup(ctx, tmp, *force)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	inv, err := sqlite.Verify(ctx, tmp)
	if err == nil && (inv.Sequence != got.sequence || inv.Parameters != got.parameters) {
		err = fmt.Errorf("it holds %d parameters at sequence %d, but the server sent %d at sequence %d", inv.Parameters, inv.Sequence, got.parameters, got.sequence)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: the download from %s does not verify, and was removed: %w", cl.base, err)
	}
	if !*force {
		if _, err := os.Lstat(file); err == nil {
			os.Remove(tmp)
			return fmt.Errorf("backup: %s appeared during the backup: name another file, or add --force to replace it", file)
		}
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(file))

	if cf.json() {
		b, _ := json.MarshalIndent(map[string]any{"file": file, "bytes": got.size, "parameters": inv.Parameters, "versions": inv.Versions,
			"secure_strings": inv.SecureStrings, "sequence": inv.Sequence, "verified": true}, "", "  ")
		_, err := fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(c.stdout, "Backed up %s to %s (%s):\n", cl.base, file, byteSize(got.size))
	printInventory(c.stdout, inv)
	fmt.Fprintln(c.stdout, "verified: SQLite's integrity check passed; the file holds the parameters and sequence the server reported")
	fmt.Fprintln(c.stdout, "note: the keyring is not in the backup; keep your copy of it apart from the backups (see 'vane backup --help')")
	return nil
}

// downloaded is what the server said of the backup it sent.
type downloaded struct {
	sequence, parameters, size int64
}

// downloadBackup writes GET /v1/backup to the new file path (replacing it
// with replace), synced; it removes the file if the download fails.
func (cl *client) downloadBackup(ctx context.Context, path string, replace bool) (got downloaded, err error) {
	ctx, cancel := context.WithTimeout(ctx, backupTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+"/v1/backup", nil)
	if err != nil {
		return got, err
	}
	req.Header.Set("Accept", "application/vnd.sqlite3, application/json")
	req.Header.Set("User-Agent", "vane-cli/"+version)
	cl.authorize(req)
	// The client's own timeout bounds small requests; a backup streams.
	hc := *cl.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return got, cl.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return got, responseError(resp, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.sqlite3" {
		return got, fmt.Errorf("the server at %s did not send a backup (Content-Type %q)", cl.base, ct)
	}
	got.size = resp.ContentLength
	got.sequence, err = strconv.ParseInt(resp.Header.Get("X-Vane-Sequence"), 10, 64)
	if err == nil {
		got.parameters, err = strconv.ParseInt(resp.Header.Get("X-Vane-Parameters"), 10, 64)
	}
	if err != nil || got.size < 0 {
		return got, fmt.Errorf("the server at %s sent a backup without its length, sequence or parameter count", cl.base)
	}

	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if replace {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return got, fmt.Errorf("%s exists (left by an interrupted backup?): remove it, or add --force", path)
	}
	if err != nil {
		return got, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	n, err := io.Copy(f, resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return got, cl.transportError(ctx, err)
		}
		return got, fmt.Errorf("the download stopped after %d of %d bytes: %w", n, got.size, err)
	}
	if n != got.size {
		return got, fmt.Errorf("the download has %d bytes, the server announced %d", n, got.size)
	}
	if err = f.Sync(); err != nil {
		return got, err
	}
	return got, f.Close()
}

// restore runs `vane restore`.
func (c *cli) restore(ctx context.Context, args []string) error {
	fs := c.flagSet("restore", "FILE --data DIR [--keyring FILE]", `
Restores a backup made by 'vane backup' into a new data directory, DIR,
for 'vane serve --data DIR'. It talks to no server. DIR is created if
needed and must not hold a database already. The backup is checked
(SQLite's integrity check, Vane's tables), copied in as DIR/vane.db and
opened as the server opens it, which brings a backup from an older version
up to this one's schema; then it is checked again and what it holds is
printed: parameters, versions, the change-log sequence, SecureStrings.

--keyring copies the keyring of the server the backup came from into
DIR/keyring.json (mode 0600) and checks that every SecureString version
and every access key's secret opens with it; the restore fails if one does
not. (A keyring sealed by a root key needs VANE_MASTER_KEY set.) Without
--keyring, a keyring.json already in DIR is checked instead; with neither,
a backup that holds SecureStrings is restored with a warning: they open
only once that keyring is in place. Access keys are restored with the
database: use the same tokens as before.

A restore that fails removes what it wrote.`, `
vane restore vane-2026-12-01.db --data /var/lib/vane-restored --keyring /secure/keyring.json
vane serve --data /var/lib/vane-restored`)
	data := fs.String("data", "", "the new data directory, `DIR`")
	keyringFile := fs.String("keyring", "", "the keyring `FILE` of the server the backup came from, copied into DIR")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *data == "" {
		return usageError{errors.New("restore: --data DIR is required: usage: vane restore FILE --data DIR [--keyring FILE]")}
	}
	src, dir := pos[0], *data
	dbPath, krPath := filepath.Join(dir, storeFileName), filepath.Join(dir, keyring.DefaultFileName)

	if fi, err := os.Stat(src); err != nil {
		return fmt.Errorf("restore: %w", err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("restore: %s is not a file", src)
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if _, err := os.Lstat(dbPath + suffix); err == nil {
			return fmt.Errorf("restore: %s already holds a database (%s): restore into a new data directory", dir, storeFileName+suffix)
		}
	}
	if *keyringFile != "" {
		if _, err := os.Lstat(krPath); err == nil {
			return fmt.Errorf("restore: %s already holds a keyring (%s): restore into a new data directory, or leave out --keyring to use that one", dir, keyring.DefaultFileName)
		}
		if _, err := os.Stat(*keyringFile); err != nil {
			return fmt.Errorf("restore: keyring: %w", err)
		}
	}
	if _, err := sqlite.Verify(ctx, src); err != nil {
		return fmt.Errorf("restore: %w", err)
	}

	// From here on, a failure removes what was written.
	var created []string
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	ok := false
	defer func() {
		if ok {
			return
		}
		for _, p := range created {
			os.Remove(p)
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			os.Remove(dbPath + suffix)
		}
		if errors.Is(statErr, os.ErrNotExist) {
			os.Remove(dir) // only if empty
		}
	}()
	created = append(created, dbPath)
	if err := copyFile(src, dbPath); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	useKeyring := ""
	switch _, err := os.Stat(krPath); {
	case *keyringFile != "":
		created = append(created, krPath)
		if err := copyFile(*keyringFile, krPath); err != nil {
			return fmt.Errorf("restore: keyring: %w", err)
		}
		useKeyring = krPath
	case err == nil:
		useKeyring = krPath
	}

	st, err := sqlite.Open(dbPath)
	if err != nil {
		return fmt.Errorf("restore: open the restored database: %w", err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	inv, err := st.Inventory(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	opened, keys := 0, 0
	if useKeyring != "" {
		if opened, keys, err = checkKeyring(ctx, st, useKeyring, c.getenv("VANE_MASTER_KEY")); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("restore: close the restored database: %w", err)
	}
	syncDir(dir)
	ok = true

	fmt.Fprintf(c.stdout, "Restored %s into %s:\n", src, dbPath)
	printInventory(c.stdout, inv)
	fmt.Fprintln(c.stdout, "verified: SQLite's integrity check passed, before and after opening it as the server does")
	switch {
	case useKeyring != "":
		how := "copied to"
		if *keyringFile == "" {
			how = "already in"
		}
		fmt.Fprintf(c.stdout, "keyring: %s %s; it opens all %d SecureString values and %d access key secrets\n", how, krPath, opened, keys)
	case inv.SecureValues > 0:
		fmt.Fprintf(c.stderr, "vane: warning: the backup holds SecureStrings (%d versions of %d parameters), and no keyring was given: "+
			"they open only with the keyring of the server the backup came from; copy it to %s (or give it to 'vane serve --master-key-file') "+
			"before starting the server, or it creates a new keyring, and those values, and access keys used with SigV4, will not open\n",
			inv.SecureValues, inv.SecureStrings, krPath)
	}
	fmt.Fprintf(c.stdout, "Start the server on it with: vane serve --data %s\n", dir)
	return nil
}

// checkKeyring checks that every SecureString value and every access
// key's secret in st opens with the keyring file at path, and returns how
// many of each it opened.
func checkKeyring(ctx context.Context, st *sqlite.Store, path, rootKey string) (values, keys int, err error) {
	kr, err := keyring.Open(keyring.Options{Path: path, RootKey: rootKey})
	if err != nil {
		return 0, 0, err
	}
	err = st.SecureValues(ctx, func(name string, version int64, value string) error {
		if !keyring.IsSealed(value) {
			return nil // stored before the server had a keyring; serve seals it
		}
		if _, err := kr.Open(ctx, value); err != nil {
			return fmt.Errorf("the SecureString %s (version %d) does not open with the keyring %s: %v; give the keyring of the server the backup came from", name, version, path, err)
		}
		values++
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	all, err := st.ListKeys(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, k := range all {
		if k.SealedSecret == "" {
			continue
		}
		if _, err := kr.Open(ctx, k.SealedSecret); err != nil {
			return 0, 0, fmt.Errorf("the secret of access key %s (%s) does not open with the keyring %s: %v; give the keyring of the server the backup came from", k.ID, k.Name, path, err)
		}
		keys++
	}
	return values, keys, nil
}

// printInventory writes what a database holds, one count a line.
func printInventory(w io.Writer, inv sqlite.Inventory) {
	fmt.Fprintf(w, "  %-16s %d\n", "parameters", inv.Parameters)
	fmt.Fprintf(w, "  %-16s %d\n", "versions", inv.Versions)
	fmt.Fprintf(w, "  %-16s %d (versions: %d)\n", "SecureStrings", inv.SecureStrings, inv.SecureValues)
	fmt.Fprintf(w, "  %-16s %d\n", "change sequence", inv.Sequence)
}

// copyFile copies the file src to the new file dst (mode 0600), through a
// temporary file renamed into place, synced.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	if err = out.Sync(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// syncDir makes a rename in dir durable, where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// byteSize formats n bytes for people: "3.4 MiB (3538944 bytes)".
func byteSize(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	v, unit := float64(n)/1024, units[0]
	for _, u := range units[1:] {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s, %d bytes", v, unit, n)
}
