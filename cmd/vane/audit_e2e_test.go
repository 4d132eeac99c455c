package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAuditAndDeletionGuardCLI runs vane audit and the deletion guard
// against a real server.
func TestAuditAndDeletionGuardCLI(t *testing.T) {
	srv := startServer(t)
	srv.ok(t, "put", "/shop/prod/db/password", "hunter2-plaintext", "--type", "SecureString")
	srv.ok(t, "put", "/shop/prod/features/sale", "true")
	srv.ok(t, "put", "/vane/settings/allow-flag-deletion", "false")
	srv.fails(t, 1, []string{"rm", "/shop/prod/features/sale"}, "/vane/settings/allow-flag-deletion", "set it to true")
	srv.ok(t, "put", "/vane/settings/allow-flag-deletion", "true", "--overwrite")
	srv.ok(t, "rm", "/shop/prod/features/sale")

	out := srv.ok(t, "audit", "/shop")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[3], "ssm:DeleteParameter") || !strings.Contains(lines[3], "1→0") {
		t.Fatalf("vane audit /shop:\n%s", out)
	}
	out = srv.ok(t, "audit", "--jsonl")
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("--jsonl line %q: %v", line, err)
		}
		n++
	}
	if n != 5 {
		t.Errorf("%d audit entries, want 5 (3 puts, 1 overwrite, 1 delete)", n)
	}
	if strings.Contains(out, "hunter2-plaintext") {
		t.Error("the audit history shows a SecureString's plaintext")
	}
}

// TestServeRateLimit starts vane serve with a rate limit and checks that a
// burst beyond it gets 429 with Retry-After, and that bad settings are
// refused.
func TestServeRateLimit(t *testing.T) {
	bin := vaneBinary(t)
	srv := startServeProcess(t, bin, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--rate-limit", "1", "--rate-burst", "2")
	defer srv.cmd.Process.Kill()
	var codes []int
	for range 3 {
		resp, err := http.Get(srv.url + "/v1/parameters?path=/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("statuses %v, want [200 200 429]", codes)
	}
	res := runVane(t, bin, "", "", "serve", "--rate-limit", "fast")
	if res.code != 2 || !strings.Contains(res.stderr, "rate limit") {
		t.Errorf("--rate-limit fast: exit %d, stderr %q", res.code, res.stderr)
	}
}
