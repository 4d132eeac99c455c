package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/postgres"
)

// pgTool returns the path of a PostgreSQL client program (pg_dump,
// pg_restore): on PATH, else the newest under /usr/lib/postgresql/*/bin,
// where Debian's postgresql package puts them. A missing one fails the
// test: the procedure doc/operations.md documents must be tested.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Slice(found, func(i, j int) bool { return pgMajor(found[i]) < pgMajor(found[j]) })
	if len(found) == 0 {
		t.Fatalf("%s is not on PATH nor under /usr/lib/postgresql/*/bin: install PostgreSQL's client programs (bash .ci/postgres.sh does)", name)
	}
	return found[len(found)-1]
}

// pgMajor returns the major version in a path /usr/lib/postgresql/N/bin/...
func pgMajor(path string) int {
	var n int
	fmt.Sscanf(strings.TrimPrefix(path, "/usr/lib/postgresql/"), "%d", &n)
	return n
}

// runTool runs a client program and fails the test with its output if it
// fails.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), pgTool(t, name), args...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// newDatabase creates an empty database, dropped when the test ends, and
// returns its URL.
func newDatabase(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "vane_restore_" + hex.EncodeToString(b)
	admin(t, t.Context(), `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		admin(t, ctx, `DROP DATABASE `+pgx.Identifier{name}.Sanitize())
	})
	u, err := url.Parse(baseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// pgDumpState is everything the pg_dump test compares between a store and
// its restored copy.
type pgDumpState struct {
	Snapshot []*vane.Parameter
	Seq      int64
	History  map[string][]*vane.Parameter
	Tags     map[string][]vane.Tag
	Changes  []vane.Change
	Audit    []vane.AuditEntry
	Keys     []*auth.Key
}

// readState reads a store's state; changes and audit entries only up to
// seq and auditID (0: all).
func readState(t *testing.T, s *postgres.Store, seq, auditID int64) *pgDumpState {
	t.Helper()
	ctx := t.Context()
	st := &pgDumpState{History: map[string][]*vane.Parameter{}, Tags: map[string][]vane.Tag{}}
	var err error
	if st.Snapshot, st.Seq, err = s.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Snapshot {
		for token := ""; ; {
			page, err := s.History(ctx, &vane.HistoryInput{Name: p.Name, Limit: 50, NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			st.History[p.Name] = append(st.History[p.Name], page.Parameters...)
			if token = page.NextToken; token == "" {
				break
			}
		}
		if st.Tags[p.Name], err = s.Tags(ctx, p.Name); err != nil {
			t.Fatal(err)
		}
	}
	for after := int64(0); ; {
		page, err := s.Changes(ctx, after, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if seq == 0 || c.Seq <= seq {
				st.Changes = append(st.Changes, c)
			}
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	for token := ""; ; {
		page, err := s.Audit(ctx, &vane.AuditQuery{Limit: 1000, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if auditID == 0 || e.ID <= auditID {
				st.Audit = append(st.Audit, e)
			}
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	if st.Keys, err = s.ListKeys(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestPgDumpRestore runs the PostgreSQL backup procedure of
// doc/operations.md with the real programs: pg_dump -Fc of a store's
// schema while writers keep writing, pg_restore into a new, empty
// database, and a store opened on the copy with the same keyring. The copy
// holds one snapshot: every parameter with its versions, labels and tags,
// the change log, the audit history and the access keys as the source had
// them up to the copy's sequence, and each parameter's latest version is
// the number of its puts in the copied change log. SecureStrings and the
// access key's secret open, and the copy's next write follows on from its
// sequence.
func TestPgDumpRestore(t *testing.T) {
	ctx := t.Context()
	schema, dsn := NewSchema(t)
	src := OpenDSN(t, dsn)
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "keyring.json")})
	if err != nil {
		t.Fatal(err)
	}
	src.Cipher = kr
	keys := auth.NewAuthenticator(src.Store, kr)
	if err := keys.Open(); err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	key, secret, err := keys.CreateKey(ctx, "ops", auth.AllowAllPolicy, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	items := []vane.BatchItem{}
	for i := range 300 {
		items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: fmt.Sprintf("/fill/p%03d", i), Value: fmt.Sprintf("value %d", i),
			Type: vane.TypeString, Tags: []vane.Tag{{Key: "n", Value: fmt.Sprint(i % 7)}}}})
	}
	if _, err := src.Batch(ctx, &vane.BatchInput{Items: items}); err != nil {
		t.Fatal(err)
	}
	for v := range 3 {
		if _, err := src.Put(ctx, &vane.PutInput{Name: "/app/prod/feature", Value: fmt.Sprintf("v%d", v+1), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Label(ctx, &vane.LabelInput{Name: "/app/prod/feature", Version: 2, Labels: []string{"stable", "canary"}}); err != nil {
		t.Fatal(err)
	}
	if err := src.AddTags(ctx, &vane.TagInput{Name: "/app/prod/feature", Tags: []vane.Tag{{Key: "team", Value: "core"}}}); err != nil {
		t.Fatal(err)
	}
	const plaintext = "hunter2-pg-dump"
	if _, err := src.Put(ctx, &vane.PutInput{Name: "/app/prod/db/password", Value: plaintext, Type: vane.TypeSecureString}); err != nil {
		t.Fatal(err)
	}
	if err := src.Delete(ctx, &vane.DeleteInput{Name: "/fill/p299"}); err != nil {
		t.Fatal(err)
	}
	before := readState(t, src, 0, 0)

	// pg_dump while writers write: it reads one snapshot, and does not
	// block them.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var werr error
	writes := 0
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := src.Put(context.Background(), &vane.PutInput{Name: fmt.Sprintf("/load/w%d/k%d", w, i%4), Value: fmt.Sprint(i), Type: vane.TypeString, Overwrite: true})
				mu.Lock()
				if err != nil {
					werr = err
				} else {
					writes++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	dump := filepath.Join(t.TempDir(), "vane.dump")
	dumpBegan := time.Now()
	runTool(t, "pg_dump", "--format=custom", "--no-owner", "--schema="+schema, "--file="+dump, "--dbname="+baseURL(t))
	mu.Lock()
	during := writes
	mu.Unlock()
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatalf("a write failed during pg_dump: %v", werr)
	}
	t.Logf("pg_dump took %s; %d writes acknowledged meanwhile", time.Since(dumpBegan).Round(time.Millisecond), during)

	// pg_restore into a new, empty database; the schema keeps its name.
	restored := newDatabase(t)
	runTool(t, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+restored, dump)
	dst := OpenDSN(t, withParams(t, restored, map[string]string{"search_path": schema}))
	dst.Cipher = kr

	got := readState(t, dst, 0, 0)
	var maxAudit int64
	for _, e := range got.Audit {
		maxAudit = max(maxAudit, e.ID)
	}
	want := readState(t, src, got.Seq, maxAudit)
	if got.Seq < before.Seq || got.Seq != got.Changes[len(got.Changes)-1].Seq {
		t.Fatalf("the copy is at sequence %d (change log ends at %d); the source was at %d before pg_dump", got.Seq, got.Changes[len(got.Changes)-1].Seq, before.Seq)
	}
	// Everything written before pg_dump is there as it was.
	for _, p := range before.Snapshot {
		if !reflect.DeepEqual(got.History[p.Name], before.History[p.Name]) || !reflect.DeepEqual(got.Tags[p.Name], before.Tags[p.Name]) {
			t.Fatalf("%s differs in the copy:\n got  %+v %v\n want %+v %v", p.Name, got.History[p.Name], got.Tags[p.Name], before.History[p.Name], before.Tags[p.Name])
		}
	}
	// The change log and the audit history are the source's, up to the
	// copy's snapshot; so are the access keys.
	if !reflect.DeepEqual(got.Changes, want.Changes) {
		t.Errorf("the copy's change log (%d records) is not the source's up to sequence %d (%d records)", len(got.Changes), got.Seq, len(want.Changes))
	}
	if !reflect.DeepEqual(got.Audit, want.Audit) || len(got.Audit) < len(before.Audit) {
		t.Errorf("the copy's audit history (%d entries) is not the source's up to entry %d (%d entries)", len(got.Audit), maxAudit, len(want.Audit))
	}
	if !reflect.DeepEqual(got.Keys, want.Keys) {
		t.Errorf("access keys differ:\n got  %+v\n want %+v", got.Keys, want.Keys)
	}
	// One snapshot: each parameter's latest version counts its puts in the
	// copied change log.
	puts := map[string]int64{}
	for _, c := range got.Changes {
		switch c.Op {
		case vane.OpPut:
			puts[c.Name]++
		case vane.OpDelete:
			delete(puts, c.Name)
		}
	}
	if len(got.Snapshot) != len(puts) {
		t.Errorf("the copy holds %d parameters, its change log %d", len(got.Snapshot), len(puts))
	}
	for _, p := range got.Snapshot {
		if p.Version != puts[p.Name] {
			t.Errorf("%s is at version %d in the copy, whose change log has %d puts of it: not one snapshot", p.Name, p.Version, puts[p.Name])
		}
	}

	// The keyring copied beside it opens the copy's secrets.
	sealed, err := dst.Get(ctx, "/app/prod/db/password")
	if err != nil {
		t.Fatal(err)
	}
	if open, err := kr.Open(ctx, sealed.Value); err != nil || open != plaintext {
		t.Errorf("the SecureString in the copy opens to %q, %v", open, err)
	}
	dstKeys := auth.NewAuthenticator(dst.Store, kr)
	if err := dstKeys.Open(); err != nil {
		t.Fatal(err)
	}
	defer dstKeys.Close()
	if s, err := dstKeys.SecretFor(ctx, key.ID); err != nil || s != secret {
		t.Errorf("the access key's secret in the copy: %v", err)
	}
	// Sequences were restored: the copy's next write follows on.
	if _, err := dst.Put(ctx, &vane.PutInput{Name: "/after/restore", Value: "x", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	if next, err := dst.Changes(ctx, got.Seq, "", 10); err != nil || len(next) != 1 || next[0].Seq <= got.Seq {
		t.Errorf("the first write after the restore: %+v, %v; want one change after %d", next, err, got.Seq)
	}
}
