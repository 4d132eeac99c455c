package http_test

import (
	"context"
	"errors"
	"io"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/sqlite"
)

// fakeBackuper is a vane.Backuper whose Backup is a function.
type fakeBackuper struct {
	BackupFunc func(ctx context.Context, start func(vane.BackupInfo) (io.Writer, error)) error
}

func (f *fakeBackuper) Backup(ctx context.Context, start func(vane.BackupInfo) (io.Writer, error)) error {
	return f.BackupFunc(ctx, start)
}

// backupOf is a fakeBackuper that sends body as a backup at sequence 7.
func backupOf(body string) *fakeBackuper {
	return &fakeBackuper{BackupFunc: func(_ context.Context, start func(vane.BackupInfo) (io.Writer, error)) error {
		w, err := start(vane.BackupInfo{Sequence: 7, Parameters: 3, Size: int64(len(body))})
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, body)
		return err
	}}
}

// TestBackup takes a backup of a real SQLite store through the route and
// checks its headers against the file it sent.
func TestBackup(t *testing.T) {
	st := MustOpenStore(t)
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Store, s.Backup = guard.New(st), st
	})
	for i := range 5 {
		s.MustPut(t, "/app/prod/p"+strconv.Itoa(i), "v")
	}
	s.MustPut(t, "/app/prod/p0", "v2")

	r := s.Do(t, "GET", "/v1/backup", "")
	if r.Status != 200 {
		t.Fatalf("GET /v1/backup: %d %s", r.Status, r.Body)
	}
	for h, want := range map[string]string{
		"Content-Type":            "application/vnd.sqlite3",
		"Content-Length":          strconv.Itoa(len(r.Body)),
		vanehttp.HeaderSequence:   "6",
		vanehttp.HeaderParameters: "5",
		"Content-Disposition":     `attachment; filename="vane-backup-6.db"`,
		"Cache-Control":           "no-store",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := sqlite.Verify(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Parameters != 5 || inv.Versions != 6 || inv.Sequence != 6 {
		t.Errorf("the backup holds %+v, want 5 parameters, 6 versions, sequence 6", inv)
	}
	// The handler logs once the body is sent, which the client may see
	// first.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.Logs.String(), "msg=backup"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the backup was not logged:\n%s", s.Logs.String())
		}
	}

	t.Run("ErrQuery", func(t *testing.T) {
		s.Do(t, "GET", "/v1/backup?path=/app", "").WantError(t, 400, vane.EINVALID, "", "path")
	})
	t.Run("ErrMethod", func(t *testing.T) {
		s.Do(t, "POST", "/v1/backup", "").WantError(t, 405, vane.EINVALID, "")
	})
}

// TestBackupNotSQLite: a server whose store has no online backup (a
// PostgreSQL store) answers 501, pointing to pg_dump.
func TestBackupNotSQLite(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "GET", "/v1/backup", "").WantError(t, 501, vane.EUNAVAILABLE, "", "pg_dump", "doc/operations.md")
}

// TestBackupNeedsAdmin: only a key allowed vane:Admin gets a backup, and
// each one is audited.
func TestBackupNeedsAdmin(t *testing.T) {
	a := mustOpenAccess(t, func(s *vanehttp.Server) { s.Backup = backupOf("SQLite format 3\x00...") })
	a.as(t, "", "GET", "/v1/backup", "").WantError(t, 401, vane.EUNAUTHORIZED, "")
	for _, who := range []string{"reader", "writer"} {
		a.as(t, who, "GET", "/v1/backup", "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:Admin")
	}
	r := a.as(t, "admin", "GET", "/v1/backup", "")
	if r.Status != 200 || string(r.Body) != "SQLite format 3\x00..." || r.Header.Get(vanehttp.HeaderSequence) != "7" {
		t.Fatalf("admin: %d %q %v", r.Status, r.Body, r.Header)
	}
	page, err := a.store.Audit(context.Background(), &vane.AuditQuery{Action: "vane:Backup"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Principal != "admin" || !strings.Contains(page.Entries[0].Detail, "sequence 7") {
		t.Errorf("audit of the backup: %+v", page.Entries)
	}
}

// TestBackupFailures: a failure before the copy is sent is an error
// response that does not show the server's paths; one while it is sent
// cuts the body short of its Content-Length.
func TestBackupFailures(t *testing.T) {
	t.Run("ErrDiskFull", func(t *testing.T) {
		s := MustOpen(t, func(s *vanehttp.Server) {
			s.Backup = &fakeBackuper{BackupFunc: func(context.Context, func(vane.BackupInfo) (io.Writer, error)) error {
				return vane.Errorf(vane.EUNAVAILABLE, "There is no room for the backup's temporary copy.")
			}}
		})
		s.Do(t, "GET", "/v1/backup", "").WantError(t, 503, vane.EUNAVAILABLE, "", "no room")
	})
	t.Run("ErrInternalHidesPaths", func(t *testing.T) {
		s := MustOpen(t, func(s *vanehttp.Server) {
			s.Backup = &fakeBackuper{BackupFunc: func(context.Context, func(vane.BackupInfo) (io.Writer, error)) error {
				return errors.New("sqlite: backup: open /srv/secret/vane-data/.vane-backup-1/vane.db: permission denied")
			}}
		})
		r := s.Do(t, "GET", "/v1/backup", "")
		r.WantError(t, 500, vane.EINTERNAL, "")
		if strings.Contains(string(r.Body), "/srv/secret") {
			t.Errorf("the error shows the server's path: %s", r.Body)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		s := MustOpen(t, func(s *vanehttp.Server) {
			s.Backup = &fakeBackuper{BackupFunc: func(_ context.Context, start func(vane.BackupInfo) (io.Writer, error)) error {
				w, err := start(vane.BackupInfo{Sequence: 1, Size: 1 << 20})
				if err != nil {
					return err
				}
				w.Write(make([]byte, 1000))
				return errors.New("disk read error")
			}}
		})
		resp, err := nethttp.Get(s.URL() + "/v1/backup")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 || err == nil {
			t.Errorf("status %d, read %d bytes, error %v: want a body cut short with an error", resp.StatusCode, n, err)
		}
	})
}
