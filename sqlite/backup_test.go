package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlite"
)

// backupTo takes a backup of s into a file in a new directory and returns
// its path and what Backup said of it.
func backupTo(t *testing.T, s *sqlite.Store) (string, vane.BackupInfo) {
	t.Helper()
	var buf bytes.Buffer
	var info vane.BackupInfo
	calls := 0
	err := s.Backup(t.Context(), func(i vane.BackupInfo) (io.Writer, error) {
		calls++
		info = i
		return &buf, nil
	})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if calls != 1 || info.Size != int64(buf.Len()) {
		t.Fatalf("Backup called start %d times (want 1), said %d bytes and wrote %d", calls, info.Size, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, info
}

// leftovers returns the backups' temporary directories left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".vane-backup-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// allChanges returns the whole change log of s.
func allChanges(t *testing.T, s vane.Store) []vane.Change {
	t.Helper()
	var out []vane.Change
	for after := int64(0); ; {
		page, err := s.Changes(t.Context(), after, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// TestBackup backs up a store whose directory's name holds a single quote
// (the quote of SQL strings) and checks the copy: it passes Verify,
// holds what the store held (parameters with labels and tags, the change
// log), and nothing is left beside the database.
func TestBackup(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), `it's a data dir`)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(filepath.Join(dir, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		name := fmt.Sprintf("/app/prod/p%02d", i)
		typ := vane.TypeString
		if i%5 == 0 {
			typ = vane.TypeSecureString
		}
		if _, err := s.Put(ctx, &vane.PutInput{Name: name, Value: "v1", Type: typ, Tags: []vane.Tag{{Key: "team", Value: "core"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, &vane.PutInput{Name: name, Value: "v2", Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Label(ctx, &vane.LabelInput{Name: name, Version: 1, Labels: []string{"stable"}}); err != nil {
			t.Fatal(err)
		}
	}
	want, wantSeq, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	path, info := backupTo(t, s)
	if info.Sequence != wantSeq || info.Parameters != 20 {
		t.Errorf("Backup said sequence %d, %d parameters; want %d, 20", info.Sequence, info.Parameters, wantSeq)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("Backup left %v beside the database", l)
	}
	inv, err := sqlite.Verify(ctx, path)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (sqlite.Inventory{Parameters: 20, Versions: 40, SecureStrings: 4, SecureValues: 8, Sequence: wantSeq}); inv != want {
		t.Errorf("Verify = %+v, want %+v", inv, want)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("Verify wrote beside the file: %d entries", len(entries))
	}

	r, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, gotSeq, err := r.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gotSeq != wantSeq || !reflect.DeepEqual(got, want) {
		t.Errorf("the backup's snapshot differs: seq %d (want %d)\ngot  %+v\nwant %+v", gotSeq, wantSeq, got, want)
	}
	tags, err := r.Tags(ctx, "/app/prod/p07")
	if err != nil || len(tags) != 1 || tags[0] != (vane.Tag{Key: "team", Value: "core"}) {
		t.Errorf("tags in the backup: %v, %v", tags, err)
	}
	if got, want := allChanges(t, r), allChanges(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("the backup's change log differs: %d records, want %d", len(got), len(want))
	}
}

// TestBackupConsistentUnderWrites takes backups while writers keep
// writing: every write succeeds, and each copy is one snapshot: its
// change log ends at the sequence Backup reported, and every parameter's
// latest version is the number of puts of it in that log.
func TestBackupConsistentUnderWrites(t *testing.T) {
	ctx := t.Context()
	s := MustOpen(t)
	value := strings.Repeat("x", 1000)
	items := make([]vane.BatchItem, 2000)
	for i := range items {
		items[i] = vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: fmt.Sprintf("/fill/p%04d", i), Value: value, Type: vane.TypeString}}
	}
	if _, err := s.Batch(ctx, &vane.BatchInput{Items: items}); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	var mu sync.Mutex
	var werr error
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := s.Put(context.Background(), &vane.PutInput{Name: fmt.Sprintf("/load/w%d/k%d", w, i%5), Value: fmt.Sprint(i), Type: vane.TypeString, Overwrite: true})
				if err != nil {
					mu.Lock()
					werr = err
					mu.Unlock()
					return
				}
				writes.Add(1)
			}
		})
	}
	var paths []string
	var infos []vane.BackupInfo
	for range 3 {
		before := writes.Load()
		p, info := backupTo(t, s)
		paths, infos = append(paths, p), append(infos, info)
		t.Logf("backup at sequence %d: %d bytes; %d writes acknowledged meanwhile", info.Sequence, info.Size, writes.Load()-before)
	}
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatalf("a write failed during the backups: %v", werr)
	}

	for i, p := range paths {
		r, err := sqlite.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		changes := allChanges(t, r)
		if len(changes) == 0 || changes[len(changes)-1].Seq != infos[i].Sequence {
			t.Errorf("backup %d: change log ends at %v, Backup said %d", i, changes[len(changes)-1].Seq, infos[i].Sequence)
		}
		puts := map[string]int64{}
		for _, c := range changes {
			if c.Op == vane.OpPut {
				puts[c.Name]++
			}
		}
		ps, _, err := r.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(ps)) != infos[i].Parameters {
			t.Errorf("backup %d holds %d parameters, Backup said %d", i, len(ps), infos[i].Parameters)
		}
		for _, p := range ps {
			if p.Version != puts[p.Name] {
				t.Errorf("backup %d: %s is at version %d, but its change log has %d puts of it: not one snapshot", i, p.Name, p.Version, puts[p.Name])
				break
			}
		}
		r.Close()
	}
}

// TestBackupFailures: an error from start is returned as is and nothing is
// left behind; a cancelled backup fails.
func TestBackupFailures(t *testing.T) {
	s := MustOpen(t)
	if _, err := s.Put(t.Context(), &vane.PutInput{Name: "/a", Value: "1", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrFromStart", func(t *testing.T) {
		refused := errors.New("refused")
		if err := s.Backup(t.Context(), func(vane.BackupInfo) (io.Writer, error) { return nil, refused }); err != refused {
			t.Errorf("Backup = %v, want the error start returned", err)
		}
		if l := leftovers(t, filepath.Dir(s.Path)); len(l) > 0 {
			t.Errorf("left behind: %v", l)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Backup(ctx, func(vane.BackupInfo) (io.Writer, error) { return io.Discard, nil })
		if err == nil {
			t.Error("a cancelled Backup succeeded")
		}
		if l := leftovers(t, filepath.Dir(s.Path)); len(l) > 0 {
			t.Errorf("left behind: %v", l)
		}
	})
}

// TestVerifyRefuses: Verify refuses what is not a sound Vane database,
// saying which.
func TestVerifyRefuses(t *testing.T) {
	s := MustOpen(t)
	items := make([]vane.BatchItem, 500)
	for i := range items {
		items[i] = vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: fmt.Sprintf("/fill/p%04d", i), Value: strings.Repeat("v", 500), Type: vane.TypeString}}
	}
	if _, err := s.Batch(t.Context(), &vane.BatchInput{Items: items}); err != nil {
		t.Fatal(err)
	}
	good, _ := backupTo(t, s)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(b)
	for i := len(b) / 2; i < len(b)/2+4096; i++ {
		corrupt[i] = 0xA5
	}
	other, err := sql.Open("sqlite", filepath.Join(dir, "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	other.Close()

	for _, tc := range []struct {
		name, path, want string
	}{
		{"ErrNotSQLite", write("text.db", []byte("this is not a database, only some text that is long enough")), "not a SQLite database"},
		{"ErrEmpty", write("empty.db", nil), "not a SQLite database"},
		{"ErrDamaged", write("corrupt.db", corrupt), "damaged"},
		{"ErrNotVane", filepath.Join(dir, "other.db"), "not a Vane one"},
		{"ErrMissing", filepath.Join(dir, "missing.db"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqlite.Verify(t.Context(), tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
