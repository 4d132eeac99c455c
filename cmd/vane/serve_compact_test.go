package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sqlite"
)

func TestServeConfigChangeRetention(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vane.json")
	os.WriteFile(file, []byte(`{"change_retention":"24h"}`), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"Default", nil, nil, "168h"},
		{"ConfigFile", []string{"--config", file}, nil, "24h"},
		{"Env", []string{"--config", file}, map[string]string{"VANE_CHANGE_RETENTION": "1h30m"}, "1h30m"},
		{"EmptyEnvIgnored", []string{"--config", file}, map[string]string{"VANE_CHANGE_RETENTION": ""}, "24h"},
		{"Flag", []string{"--config", file, "--change-retention", "0"}, map[string]string{"VANE_CHANGE_RETENTION": "1h"}, "0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			cfg, err := serveConfig(tt.args, lookup, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ChangeRetention != tt.want {
				t.Fatalf("ChangeRetention %q, want %q", cfg.ChangeRetention, tt.want)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"change_retention":"7d"}`), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"ErrFlagNotADuration", []string{"--change-retention", "week"}, nil},
		{"ErrFlagNegative", []string{"--change-retention", "-1h"}, nil},
		{"ErrEnvDays", nil, map[string]string{"VANE_CHANGE_RETENTION": "7d"}},
		{"ErrConfigFile", []string{"--config", bad}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			_, err := serveConfig(tt.args, lookup, io.Discard)
			var usage usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), "change retention") {
				t.Fatalf("err = %v, want a usage error about the change retention", err)
			}
		})
	}
}

// retentionServer is an in-process server with its logs.
type retentionServer struct {
	*Main
	logs *lockedBuffer
}

// startRetentionServer runs the server in-process on a data directory,
// compacting every interval, and closes it when the test ends.
func startRetentionServer(t *testing.T, dataDir, retention string, interval time.Duration) *retentionServer {
	t.Helper()
	logs := &lockedBuffer{}
	m := NewMain()
	m.Config.DataDir, m.Config.Addr, m.Config.ChangeRetention = dataDir, "127.0.0.1:0", retention
	m.Config.Dev = true
	m.CompactInterval = interval
	m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &retentionServer{Main: m, logs: logs}
}

var compactedLine = regexp.MustCompile(`msg="change log compacted" removed=(\d+)`)

// removed returns the removed counts logged so far, in order.
func (s *retentionServer) removed() []int64 {
	var out []int64
	for _, m := range compactedLine.FindAllStringSubmatch(s.logs.String(), -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// waitRemoved waits until the compactions logged have removed want
// records in all.
func (s *retentionServer) waitRemoved(t *testing.T, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var total int64
		for _, n := range s.removed() {
			total += n
		}
		if total == want {
			return
		}
		if total > want || time.Now().After(deadline) {
			t.Fatalf("compactions removed %d records in all, want %d; logs:\n%s", total, want, s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// changesStatus returns the status of GET /v1/changes?after=0.
func (s *retentionServer) changesStatus(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(s.HTTP.URL() + "/v1/changes?after=0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// writeOld writes n changes into a new store in dir with times days ago.
func writeOld(t *testing.T, dir string, n int, days int) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(dir, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Now = func() time.Time { return time.Now().Add(-time.Duration(days) * 24 * time.Hour) }
	for i := range n {
		if _, err := st.Put(context.Background(), &vane.PutInput{Name: "/old/p", Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServeCompactsTheChangeLog(t *testing.T) {
	t.Run("AtStart", func(t *testing.T) {
		dir := t.TempDir()
		writeOld(t, dir, 5, 10)
		s := startRetentionServer(t, dir, "168h", time.Hour)
		s.waitRemoved(t, 4) // all but the newest
		if status := s.changesStatus(t); status != http.StatusGone {
			t.Fatalf("GET /v1/changes?after=0 after compaction: %d, want 410", status)
		}
	})
	t.Run("Periodically", func(t *testing.T) {
		s := startRetentionServer(t, t.TempDir(), "24h", 20*time.Millisecond)
		// Writes two days old, made below the index after the start
		// compaction, then a new one: a later run removes the old ones.
		st := s.Store.(*sqlite.Store)
		st.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
		for i := range 3 {
			if _, err := st.Put(context.Background(), &vane.PutInput{Name: "/old/p", Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true}); err != nil {
				t.Fatal(err)
			}
		}
		st.Now = time.Now
		if _, err := s.Index.Put(context.Background(), &vane.PutInput{Name: "/new/p", Value: "1", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		s.waitRemoved(t, 3)
		if runs := len(s.removed()); runs < 2 {
			t.Fatalf("%d compactions logged, want the one at start and later ones", runs)
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		dir := t.TempDir()
		writeOld(t, dir, 3, 400)
		s := startRetentionServer(t, dir, "0", 20*time.Millisecond)
		// Let several intervals pass: nothing may be compacted.
		deadline := time.Now().Add(100 * time.Millisecond)
		for time.Now().Before(deadline) {
			if s.removed() != nil {
				t.Fatalf("compaction ran with retention 0:\n%s", s.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if status := s.changesStatus(t); status != http.StatusOK {
			t.Fatalf("GET /v1/changes?after=0: %d, want 200", status)
		}
	})
	t.Run("StopsOnClose", func(t *testing.T) {
		s := startRetentionServer(t, t.TempDir(), "1h", time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		// Close returns once the compactor's goroutine has returned.
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("Close does not stop the compactor")
		}
	})
}
