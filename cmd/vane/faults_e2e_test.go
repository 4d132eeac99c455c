package main

import (
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runServeToExit runs `vane serve` with args and returns its exit error,
// output and how long it ran, failing the test if it is still running
// after limit.
func runServeToExit(t *testing.T, bin string, limit time.Duration, args ...string) (error, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve"}, args...)...)
	cmd.Env = childEnv()
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("vane serve %v still running after %s; output:\n%s", args, limit, out)
	}
	return err, string(out), time.Since(began)
}

// TestSecondServerOnOneDataDirectory: a second vane serve on a data
// directory in use is refused at once, naming the first; once the first is
// killed (SIGKILL: nothing cleans up), a new one starts there.
func TestSecondServerOnOneDataDirectory(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	first := startCrashServer(t, bin, data)
	err, out, took := runServeToExit(t, bin, 10*time.Second, "--addr", "127.0.0.1:0", "--data", data)
	if err == nil || !strings.Contains(out, "in use by another vane serve (pid ") || took > 5*time.Second {
		t.Fatalf("second server: %v after %s:\n%s", err, took, out)
	}
	first.cmd.Process.Signal(syscall.SIGKILL)
	<-first.exited
	again := startCrashServer(t, bin, data)
	again.cmd.Process.Kill()
	<-again.exited
}

// TestDatabaseLockedAtStart: a SQLite file held locked by another program
// makes vane serve give up after its busy timeout with a message saying
// so, rather than hang.
func TestDatabaseLockedAtStart(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	s := startCrashServer(t, bin, data) // creates the database
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	db, err := sql.Open("sqlite", filepath.Join(data, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	err, out, took := runServeToExit(t, bin, 40*time.Second, "--addr", "127.0.0.1:0", "--data", data)
	if err == nil || !strings.Contains(out, "is locked by another process") {
		t.Fatalf("vane serve on a locked database: %v after %s:\n%s", err, took, out)
	}
}
