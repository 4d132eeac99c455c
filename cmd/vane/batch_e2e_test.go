package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBatchCommand applies a batch from a file and from stdin with the
// CLI, and sees a failing one write nothing and name its item.
func TestBatchCommand(t *testing.T) {
	s := startServer(t)
	s.ok(t, "put", "/b/prod/old", "x")
	file := filepath.Join(t.TempDir(), "release.json")
	if err := os.WriteFile(file, []byte(`{"id": "release-1", "items": [
		{"op": "put", "name": "/b/prod/limit", "type": "String", "value": "50"},
		{"op": "label", "name": "/b/prod/limit", "labels": ["stable"]},
		{"op": "delete", "name": "/b/prod/old"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := s.ok(t, "batch", file)
	rows := tableRows(t, out[:strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1], "OP", "NAME", "VERSION")
	if len(rows) != 3 || rows[0][0] != "put" || rows[0][2] != "1" || rows[2][0] != "delete" ||
		!strings.HasSuffix(out, "batch release-1: 3 items written\n") {
		t.Fatalf("vane batch printed:\n%s", out)
	}
	if got := s.ok(t, "get", "/b/prod/limit:stable"); got != "50\n" {
		t.Errorf("vane get /b/prod/limit:stable = %q", got)
	}
	// From stdin; the second item is stale, so nothing is written.
	res := s.run(t, `{"items": [{"op": "put", "name": "/b/prod/limit", "value": "60", "overwrite": true},
		{"op": "put", "name": "/b/prod/new", "type": "String", "value": "1", "expect_version": 4}]}`, "batch", "-")
	if res.code != 1 || !strings.Contains(res.stderr, "item 1 (put /b/prod/new)") || !strings.Contains(res.stderr, "nothing in the batch was written") {
		t.Fatalf("a failing batch: exit %d, stderr %q", res.code, res.stderr)
	}
	if got := s.ok(t, "get", "/b/prod/limit"); got != "50\n" {
		t.Errorf("after the failed batch /b/prod/limit = %q, want 50", got)
	}
	s.fails(t, 1, []string{"batch", filepath.Join(t.TempDir(), "missing.json")}, "no such file")
}
