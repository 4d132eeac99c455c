package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestE2EGetAt reads parameters as they were at past times with
// `vane get --at` against `vane serve`.
func TestE2EGetAt(t *testing.T) {
	s := startServer(t)
	const n = "/e2e/at/x"
	written := func(name string) (string, time.Time) {
		t.Helper()
		var p parameter
		if err := json.Unmarshal([]byte(s.ok(t, "get", name, "-o", "json")), &p); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339Nano, p.LastModified)
		if err != nil {
			t.Fatal(err)
		}
		return p.LastModified, at
	}
	s.ok(t, "put", n, "one")
	t1, at1 := written(n)
	s.ok(t, "put", n, "two", "--overwrite")
	t2, _ := written(n)
	s.ok(t, "label", n+":1", "stable")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", n, "--at", t1}, "one\n"},
		{[]string{"get", "--at=" + t2, n}, "two\n"},
		{[]string{"get", n, "--at", at1.Add(time.Nanosecond).In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano)}, "one\n"},
		{[]string{"get", n, "--at", "-0s"}, "two\n"},
		{[]string{"get", n, "--at", "0s ago"}, "two\n"},
	} {
		if out := s.ok(t, tc.args...); out != tc.want {
			t.Errorf("vane %q printed %q, want %q", tc.args, out, tc.want)
		}
	}
	// Verbose: version 1, without the label it carries now (labels
	// at a past time are not recorded).
	out := s.ok(t, "get", n, "--at", t1, "-v")
	version1 := slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool { return strings.Join(strings.Fields(l), " ") == "Version: 1" })
	if !version1 || strings.Contains(out, "stable") {
		t.Errorf("vane get --at -v printed:\n%s", out)
	}

	t.Run("ErrNotFoundBeforeCreation", func(t *testing.T) {
		s.fails(t, 1, []string{"get", n, "--at", at1.Add(-time.Nanosecond).Format(time.RFC3339Nano)}, "did not exist", "not_found")
		s.fails(t, 1, []string{"get", n, "--at", "-1h"}, "did not exist")
		s.fails(t, 1, []string{"get", n, "--at", "2h ago"}, "did not exist")
	})
	t.Run("ErrGoneDeleted", func(t *testing.T) {
		s.ok(t, "put", "/e2e/at/y", "y")
		ty, _ := written("/e2e/at/y")
		s.ok(t, "rm", "/e2e/at/y")
		s.fails(t, 1, []string{"get", "/e2e/at/y", "--at", ty}, "gone", "deleted since")
	})
	t.Run("ErrFuture", func(t *testing.T) {
		s.fails(t, 1, []string{"get", n, "--at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "in the future", "invalid")
	})
	t.Run("ErrUsage", func(t *testing.T) {
		s.fails(t, 2, []string{"get", n, "--at", "yesterday"}, "RFC 3339")
		s.fails(t, 2, []string{"get", n + ":1", "--at", t1}, "not both")
	})
	t.Run("Help", func(t *testing.T) {
		out := s.ok(t, "get", "--help")
		for _, want := range []string{"--at TIME", "RFC 3339", "2h ago", "gone"} {
			if !strings.Contains(out, want) {
				t.Errorf("vane get --help lacks %q:\n%s", want, out)
			}
		}
	})
}
