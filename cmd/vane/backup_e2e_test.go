package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlite"
)

// apiClient calls a server's native API with a bearer token.
type apiClient struct {
	url, token string
	http       *http.Client
}

// do sends a request with a JSON body ("" for none) and returns the status
// and the body.
func (c *apiClient) do(ctx context.Context, method, path, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must sends a request that must answer 200 or 201, and decodes its body
// into out unless out is nil.
func (c *apiClient) must(t *testing.T, method, path, body string, out any) {
	t.Helper()
	status, b, err := c.do(t.Context(), method, path, body)
	if err != nil || (status != 200 && status != 201) {
		t.Fatalf("%s %s: %d %v %s", method, path, status, err, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// ackedWrite is one acknowledged put of the writers that run during the
// backup.
type ackedWrite struct {
	name, value string
	version     int64
	began, done time.Time
}

// backupTempDirs returns whether dir holds a backup's temporary directory.
func backupTempDirs(dir string) bool {
	_, ok := backupCopySize(dir)
	return ok
}

// backupCopySize returns the size of the server's temporary copy in dir
// (0 before SQLite creates it), and whether its temporary directory is
// there at all.
func backupCopySize(dir string) (int64, bool) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".vane-backup-") {
			fi, err := os.Stat(filepath.Join(dir, e.Name(), "vane.db"))
			if err != nil {
				return 0, true
			}
			return fi.Size(), true
		}
	}
	return 0, false
}

var restoredSequence = regexp.MustCompile(`(?m)^\s*change sequence\s+(\d+)$`)

// TestBackupRestoreEndToEnd runs `vane serve` with access control, fills it
// (a SecureString, labels, tags, ten thousand parameters of 1.5 KB), and
// takes `vane backup` while writers keep writing: the writes go on being
// acknowledged, none waits more than 2 s, and some are acknowledged while
// the server's copy is being made. Then `vane restore` with the keyring
// into a new directory, `vane serve` on it, and everything acknowledged
// before the backup began is there with its version and value, the
// SecureString opens, and the change-log sequence is the backup's.
func TestBackupRestoreEndToEnd(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, logs := startSecureServer(t, bin, data)
	raw, err := os.ReadFile(filepath.Join(data, AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	api := &apiClient{url: srv.url, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	env := []string{"VANE_SERVER=" + srv.url, "VANE_TOKEN=" + token}

	// Fill.
	const apps, perApp = 4, 2500
	filler := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 42)[:1500]
	for a := range apps {
		items := make([]map[string]any, perApp)
		for i := range items {
			items[i] = map[string]any{"op": "put", "name": fmt.Sprintf("/fill/app%d/p%04d", a, i), "type": "String", "value": fmt.Sprintf("%d-%d-%s", a, i, filler)}
		}
		b, _ := json.Marshal(map[string]any{"items": items})
		api.must(t, "POST", "/v1/batch", string(b), nil)
	}
	const secret = "hunter2-backup-e2e"
	api.must(t, "PUT", "/v1/parameters/app/prod/db/password", `{"type":"SecureString","value":"`+secret+`"}`, nil)
	for v := 1; v <= 3; v++ {
		api.must(t, "PUT", "/v1/parameters/app/prod/feature", fmt.Sprintf(`{"type":"String","value":"v%d","overwrite":true}`, v), nil)
	}
	api.must(t, "PUT", "/v1/labels/app/prod/feature", `{"version":2,"labels":["stable"]}`, nil)
	api.must(t, "PUT", "/v1/tags/app/prod/feature", `{"tags":{"team":"core","tier":"gold"}}`, nil)

	// Writers, from before the backup until after it.
	const writers = 4
	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	var acked []ackedWrite
	var failed []string
	var wg sync.WaitGroup
	wapi := &apiClient{url: srv.url, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name, value := fmt.Sprintf("/load/w%d/k%d", w, i%8), fmt.Sprintf("w%d-%d", w, i)
				began := time.Now()
				status, b, err := wapi.do(context.Background(), "PUT", "/v1/parameters"+name, `{"type":"String","overwrite":true,"value":"`+value+`"}`)
				done := time.Now()
				var p struct{ Version int64 }
				if err == nil && (status == 200 || status == 201) && json.Unmarshal(b, &p) == nil {
					mu.Lock()
					acked = append(acked, ackedWrite{name, value, p.Version, began, done})
					mu.Unlock()
					continue
				}
				mu.Lock()
				failed = append(failed, fmt.Sprintf("PUT %s: %d %v %s", name, status, err, b))
				mu.Unlock()
				return
			}
		})
	}
	defer func() { stop(); wg.Wait() }()
	waitFor := func(n int) {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d writes acknowledged in 20 s (failures: %v)", got, failed)
			}
		}
	}
	waitFor(50)

	// The backup, watching the data directory for the server's temporary
	// copy: its directory appears just before VACUUM INTO starts, and the
	// copy grows until VACUUM INTO is done. The copy is being made from
	// the directory's first sighting until the copy's last growth.
	type sample struct {
		at   time.Time
		size int64
	}
	var samples []sample
	watchDone := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(context.Background())
	go func() {
		defer close(watchDone)
		for watchCtx.Err() == nil {
			if size, ok := backupCopySize(data); ok {
				samples = append(samples, sample{time.Now(), size})
			}
			time.Sleep(time.Millisecond)
		}
	}()
	file := filepath.Join(t.TempDir(), "vane.backup")
	backupBegan := time.Now()
	res := runVaneEnv(t, bin, env, "", "backup", file, "-o", "json")
	backupDone := time.Now()
	stopWatch()
	<-watchDone
	if res.code != 0 {
		t.Fatalf("vane backup: exit %d\n%s\nserver log:\n%s", res.code, res.stderr, logs.String())
	}
	waitFor(len(acked) + 20) // writes go on after the backup too
	stop()
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("writes failed: %v", failed)
	}
	var summary struct {
		File       string `json:"file"`
		Bytes      int64  `json:"bytes"`
		Parameters int64  `json:"parameters"`
		Sequence   int64  `json:"sequence"`
		Secure     int64  `json:"secure_strings"`
		Verified   bool   `json:"verified"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &summary); err != nil {
		t.Fatalf("vane backup -o json: %v\n%s", err, res.stdout)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() != summary.Bytes || !summary.Verified || summary.Secure != 1 || summary.Parameters < apps*perApp+2 {
		t.Fatalf("vane backup printed %+v; the file: %v", summary, err)
	}
	if _, err := os.Stat(file + ".tmp"); err == nil {
		t.Error("vane backup left FILE.tmp behind")
	}
	if backupTempDirs(data) {
		t.Error("the server left its temporary copy in the data directory")
	}

	// Writes during the backup: acknowledged, none slow, some while the
	// server's copy was being made.
	var copyFirst, copyLast time.Time
	if len(samples) > 0 {
		copyFirst, copyLast = samples[0].at, samples[0].at
		final := samples[len(samples)-1].size
		for _, s := range samples {
			if s.size == final {
				copyLast = s.at
				break
			}
		}
	}
	var during, whileCopying int
	var slowest time.Duration
	for _, w := range acked {
		if w.done.Before(backupBegan) || w.began.After(backupDone) {
			continue
		}
		during++
		slowest = max(slowest, w.done.Sub(w.began))
		if !copyFirst.IsZero() && w.began.After(copyFirst) && w.done.Before(copyLast) {
			whileCopying++
		}
	}
	t.Logf("backup: %d bytes, sequence %d, %s; the server's copy was seen being made for %s; %d writes overlapped the backup (slowest %s), %d of them began and ended while the copy was made",
		summary.Bytes, summary.Sequence, backupDone.Sub(backupBegan).Round(time.Millisecond), copyLast.Sub(copyFirst).Round(time.Millisecond), during, slowest.Round(time.Millisecond), whileCopying)
	if during == 0 || slowest > 2*time.Second {
		t.Errorf("%d writes overlapped the backup, the slowest took %s: want some, none over 2s", during, slowest)
	}
	if copyFirst.IsZero() || !copyLast.After(copyFirst) {
		t.Errorf("the server's temporary copy was never seen being made in the data directory (%d sightings)", len(samples))
	} else if whileCopying < writers {
		t.Errorf("only %d writes began and ended while the server made its copy (%s): the copy blocks writers", whileCopying, copyLast.Sub(copyFirst))
	}

	// Restore with the keyring, and serve the restored directory.
	restored := filepath.Join(t.TempDir(), "restored")
	res = runVaneEnv(t, bin, nil, "", "restore", file, "--data", restored, "--keyring", filepath.Join(data, keyring.DefaultFileName))
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("vane restore: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	m := restoredSequence.FindStringSubmatch(res.stdout)
	if m == nil || m[1] != strconv.FormatInt(summary.Sequence, 10) || !strings.Contains(res.stdout, "opens all 1 SecureString values") {
		t.Fatalf("vane restore printed, for a backup at sequence %d:\n%s", summary.Sequence, res.stdout)
	}
	if fi, err := os.Stat(filepath.Join(restored, keyring.DefaultFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("restored keyring: %v, %v", fi, err)
	}
	srv2, logs2 := startSecureServer(t, bin, restored)
	if _, err := os.Stat(filepath.Join(restored, AdminKeyFile)); err == nil {
		t.Errorf("the restored server made a new admin key: the backup's keys were lost\n%s", logs2.String())
	}
	api2 := &apiClient{url: srv2.url, token: token, http: &http.Client{Timeout: 30 * time.Second}}

	var snap struct {
		Sequence   int64 `json:"sequence"`
		Parameters []struct {
			Name    string   `json:"name"`
			Type    string   `json:"type"`
			Value   string   `json:"value"`
			Version int64    `json:"version"`
			Labels  []string `json:"labels"`
		} `json:"parameters"`
	}
	api2.must(t, "GET", "/v1/snapshot?with_decryption=true", "", &snap)
	if snap.Sequence != summary.Sequence {
		t.Errorf("the restored server is at sequence %d, the backup at %d", snap.Sequence, summary.Sequence)
	}
	got := map[string]int{}
	for i, p := range snap.Parameters {
		got[p.Name] = i
	}
	for a := range apps {
		for i := range perApp {
			name := fmt.Sprintf("/fill/app%d/p%04d", a, i)
			j, ok := got[name]
			if !ok || snap.Parameters[j].Version != 1 || snap.Parameters[j].Value != fmt.Sprintf("%d-%d-%s", a, i, filler) {
				t.Fatalf("%s after the restore: present %v, %+v", name, ok, snap.Parameters[j])
			}
		}
	}
	if j, ok := got["/app/prod/db/password"]; !ok || snap.Parameters[j].Value != secret || snap.Parameters[j].Type != string(vane.TypeSecureString) {
		t.Errorf("the SecureString after the restore: %v %+v", ok, snap.Parameters[j])
	}
	if j, ok := got["/app/prod/feature"]; !ok || snap.Parameters[j].Version != 3 || snap.Parameters[j].Value != "v3" {
		t.Errorf("/app/prod/feature after the restore: %v %+v", ok, snap.Parameters[j])
	}
	var labelled struct {
		Version int64  `json:"version"`
		Value   string `json:"value"`
	}
	api2.must(t, "GET", "/v1/parameters/app/prod/feature:stable", "", &labelled)
	if labelled.Version != 2 || labelled.Value != "v2" {
		t.Errorf("the label after the restore: %+v", labelled)
	}
	var tags struct{ Tags map[string]string }
	api2.must(t, "GET", "/v1/tags/app/prod/feature", "", &tags)
	if tags.Tags["team"] != "core" || tags.Tags["tier"] != "gold" || len(tags.Tags) != 2 {
		t.Errorf("the tags after the restore: %v", tags.Tags)
	}

	// The writers' names: each at least at its last version acknowledged
	// before the backup began, and at a version that was acknowledged,
	// with its value.
	lastBefore := map[string]int64{}
	valueOf := map[string]map[int64]string{}
	for _, w := range acked {
		if valueOf[w.name] == nil {
			valueOf[w.name] = map[int64]string{}
		}
		valueOf[w.name][w.version] = w.value
		if w.done.Before(backupBegan) {
			lastBefore[w.name] = max(lastBefore[w.name], w.version)
		}
	}
	for name, v := range lastBefore {
		j, ok := got[name]
		if !ok {
			t.Errorf("%s, acknowledged at version %d before the backup, is not restored", name, v)
			continue
		}
		p := snap.Parameters[j]
		if want, ok := valueOf[name][p.Version]; p.Version < v || !ok || p.Value != want {
			t.Errorf("%s restored at version %d %q; acknowledged %d before the backup, and %q at that version", name, p.Version, p.Value, v, want)
		}
	}
	if len(lastBefore) != writers*8 {
		t.Errorf("%d names written before the backup, want %d", len(lastBefore), writers*8)
	}

	// The restored server takes writes, after the restored sequence.
	api2.must(t, "PUT", "/v1/parameters/app/prod/after", `{"type":"String","value":"x"}`, nil)
	var changes struct {
		LastSeq int64 `json:"last_seq"`
	}
	api2.must(t, "GET", fmt.Sprintf("/v1/changes?after=%d", summary.Sequence), "", &changes)
	if changes.LastSeq != summary.Sequence+1 {
		t.Errorf("the first write after the restore has sequence %d, want %d", changes.LastSeq, summary.Sequence+1)
	}
}

// TestBackupNeedsAdmin: `vane backup` with a key not allowed vane:Admin is
// refused, and writes nothing.
func TestBackupNeedsAdmin(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, _ := startSecureServer(t, bin, data)
	env := []string{"VANE_SERVER=" + srv.url, "VANE_DATA=" + data}
	res := runVaneEnv(t, bin, env, "", "keys", "create", "writer", "--policy",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:*","vane:Watch"],"Resource":"*"}]}`)
	token := regexp.MustCompile(`(?m)^bearer token:\s*(\S+)`).FindStringSubmatch(res.stdout)
	if res.code != 0 || token == nil {
		t.Fatalf("vane keys create: %d %s %s", res.code, res.stdout, res.stderr)
	}
	api := &apiClient{url: srv.url, token: token[1], http: &http.Client{Timeout: 10 * time.Second}}
	if status, b, err := api.do(t.Context(), "GET", "/v1/backup", ""); err != nil || status != 403 || !bytes.Contains(b, []byte("vane:Admin")) {
		t.Errorf("GET /v1/backup with a writer's key: %d %v %s", status, err, b)
	}
	file := filepath.Join(t.TempDir(), "b.db")
	res = runVaneEnv(t, bin, []string{"VANE_SERVER=" + srv.url, "VANE_TOKEN=" + token[1]}, "", "backup", file)
	if res.code != 1 || !strings.Contains(res.stderr, "forbidden") {
		t.Errorf("vane backup with a writer's key: exit %d, %s", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) > 0 {
		t.Errorf("a refused backup left %v", entries)
	}
	// With the admin key, an existing file is kept unless --force.
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res = runVaneEnv(t, bin, env, "", "backup", file); res.code != 1 || !strings.Contains(res.stderr, "already exists") {
		t.Errorf("vane backup over an existing file: exit %d, %s", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Error("vane backup replaced an existing file without --force")
	}
	if res = runVaneEnv(t, bin, env, "", "backup", file, "--force"); res.code != 0 {
		t.Errorf("vane backup --force: exit %d, %s", res.code, res.stderr)
	}
	if _, err := sqlite.Verify(t.Context(), file); err != nil {
		t.Errorf("the forced backup: %v", err)
	}
}

// restoreSource makes a backup file of a store holding 500 parameters and
// a SecureString sealed by a keyring, and returns the file and the
// keyring's path.
func restoreSource(t *testing.T) (file, keyringPath string) {
	t.Helper()
	dir := t.TempDir()
	keyringPath = filepath.Join(dir, "keyring.json")
	kr, err := keyring.Open(keyring.Options{Path: keyringPath})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(dir, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Cipher = kr
	items := make([]vane.BatchItem, 500)
	for i := range items {
		items[i] = vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: fmt.Sprintf("/fill/p%03d", i), Value: strings.Repeat("v", 400), Type: vane.TypeString}}
	}
	items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: "/app/secret", Value: "s3cr3t", Type: vane.TypeSecureString}})
	if _, err := st.Batch(t.Context(), &vane.BatchInput{Items: items}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := st.Backup(t.Context(), func(vane.BackupInfo) (io.Writer, error) { return &buf, nil }); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, "backup.db")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, keyringPath
}

// TestRestore runs `vane restore` on good and bad input: it refuses a
// directory holding a database, a file that is not a SQLite database and
// a damaged one, leaving nothing behind; it warns without a keyring when
// the backup holds SecureStrings; a wrong keyring fails the check.
func TestRestore(t *testing.T) {
	bin := vaneBinary(t)
	file, keys := restoreSource(t)
	restore := func(args ...string) cliResult {
		t.Helper()
		return runVaneEnv(t, bin, nil, "", append([]string{"restore"}, args...)...)
	}
	// emptyOrGone fails unless dir does not exist or is empty.
	emptyOrGone := func(dir string) {
		t.Helper()
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("a failed restore left %v in %s", names, dir)
		}
	}

	t.Run("ErrDirHoldsDatabase", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "vane.db"), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		res := restore(file, "--data", dir, "--keyring", keys)
		if res.code != 1 || !strings.Contains(res.stderr, "already holds a database") {
			t.Errorf("exit %d, %s", res.code, res.stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "vane.db")); string(b) != "mine" {
			t.Error("the existing database was changed")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("files were added to the directory: %v", entries)
		}
	})
	t.Run("ErrNotSQLite", func(t *testing.T) {
		text := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(text, []byte("this is not a database at all, only text, but long enough"), 0o600)
		dir := filepath.Join(t.TempDir(), "new")
		res := restore(text, "--data", dir)
		if res.code != 1 || !strings.Contains(res.stderr, "is not a SQLite database") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("exit %d, %q", res.code, res.stderr)
		}
		emptyOrGone(dir)
	})
	t.Run("ErrDamaged", func(t *testing.T) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) / 2; i < len(b)/2+8192; i++ {
			b[i] = 0x5A
		}
		damaged := filepath.Join(t.TempDir(), "damaged.db")
		os.WriteFile(damaged, b, 0o600)
		dir := filepath.Join(t.TempDir(), "new")
		res := restore(damaged, "--data", dir, "--keyring", keys)
		if res.code != 1 || !strings.Contains(res.stderr, "is damaged: SQLite's integrity check") {
			t.Errorf("exit %d, %q", res.code, res.stderr)
		}
		emptyOrGone(dir)
	})
	t.Run("WarnWithoutKeyring", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new")
		res := restore(file, "--data", dir)
		if res.code != 0 || !strings.Contains(res.stderr, "warning") || !strings.Contains(res.stderr, "SecureStrings (1 versions of 1 parameters)") ||
			!strings.Contains(res.stderr, "no keyring was given") || !regexp.MustCompile(`(?m)^\s+parameters\s+501$`).MatchString(res.stdout) {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "vane.db")); err != nil {
			t.Error(err)
		}
	})
	t.Run("ErrWrongKeyring", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "keyring.json")
		if _, err := keyring.Open(keyring.Options{Path: other}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "new")
		res := restore(file, "--data", dir, "--keyring", other)
		if res.code != 1 || !strings.Contains(res.stderr, "/app/secret (version 1) does not open with the keyring") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		emptyOrGone(dir)
	})
	t.Run("WithKeyring", func(t *testing.T) {
		dir := t.TempDir() // exists and is empty: allowed
		res := restore(file, "--data", dir, "--keyring", keys)
		if res.code != 0 || res.stderr != "" || !strings.Contains(res.stdout, "opens all 1 SecureString values") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		var names []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			// SQLite's own files may be left beside the database.
			if n := e.Name(); n != "vane.db-wal" && n != "vane.db-shm" {
				names = append(names, n)
			}
		}
		if !slices.Equal(names, []string{"keyring.json", "vane.db"}) {
			t.Errorf("the restored directory holds %v, want keyring.json and vane.db", names)
		}
		if fi, err := os.Stat(filepath.Join(dir, "vane.db")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("the restored database: %v, %v; want mode 0600", fi, err)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		if res := restore(file); res.code != 2 || !strings.Contains(res.stderr, "--data") {
			t.Errorf("without --data: exit %d, %s", res.code, res.stderr)
		}
	})
}

// TestBackupPostgresRefused: on a PostgreSQL store, `vane backup` fails
// with the server's pointer to pg_dump, and writes nothing.
func TestBackupPostgresRefused(t *testing.T) {
	bin := vaneBinary(t)
	store := postgresURL(t)
	srv := startServeProcess(t, bin, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", store)
	defer srv.stop(t)
	file := filepath.Join(t.TempDir(), "b.db")
	res := runVaneEnv(t, bin, []string{"VANE_SERVER=" + srv.url}, "", "backup", file)
	if res.code != 1 || !strings.Contains(res.stderr, "pg_dump") || !strings.Contains(res.stderr, "doc/operations.md") {
		t.Errorf("vane backup on PostgreSQL: exit %d, %s", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) > 0 {
		t.Errorf("a refused backup left %v", entries)
	}
	status, b, err := (&apiClient{url: srv.url, http: http.DefaultClient}).do(t.Context(), "GET", "/v1/backup", "")
	if err != nil || status != 501 {
		t.Errorf("GET /v1/backup on PostgreSQL: %d %v %s", status, err, b)
	}
}
