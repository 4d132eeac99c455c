package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lastSeq returns the change log's last sequence, from a snapshot of a
// path nothing is under.
func (s *e2eServer) lastSeq(t *testing.T) int64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/v1/snapshot?path=/no-such-path/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Sequence int64 }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Sequence
}

// writeFile writes a file in the test's directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const ccCheckoutFlag = `{"enabled": true, "rollout_percentage": 25, "default": false, "rules": [{"name": "beta", "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}], "when_match": true}]}`

// TestImportExport runs export, import (unchanged, --dry-run, a changed
// flag, --prune, a concurrent change), diff and promote against a real
// vane serve.
func TestImportExport(t *testing.T) {
	s := startServer(t)
	s.ok(t, "put", "/app/staging/tuning/ttl", "300", "--description", "cache TTL", "--tags", "team=pay")
	s.ok(t, "put", "/app/staging/features/checkout", ccCheckoutFlag)
	s.ok(t, "put", "/app/staging/hosts", "a,b", "--type", "StringList")
	s.ok(t, "put", "/app/staging/db/password", "hunter2", "--type", "SecureString")
	s.ok(t, "label", "/app/staging/tuning/ttl:1", "stable")

	exported := s.ok(t, "export", "/app/staging")
	for _, want := range []string{"path: /app/staging/\n", "  features/checkout:\n    type: String\n    flag:\n      enabled: true\n      rollout_percentage: 25\n",
		"    labels:\n      - stable\n", "    tags:\n      team: pay\n", "  db/password:\n    type: SecureString\n    sealed: "} {
		if !strings.Contains(exported, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}
	if strings.Contains(exported, "hunter2") {
		t.Fatalf("export holds a SecureString's plaintext:\n%s", exported)
	}
	file := writeFile(t, "staging.yaml", exported)

	t.Run("UnchangedWritesNothing", func(t *testing.T) {
		seq := s.lastSeq(t)
		out := s.ok(t, "import", file)
		if !strings.Contains(out, "0 added, 0 changed, 0 removed, 4 unchanged\n") || !strings.Contains(out, "nothing to change: /app/staging/ already matches\n") {
			t.Errorf("import of an unchanged export:\n%s", out)
		}
		if got := s.lastSeq(t); got != seq {
			t.Errorf("the change log moved from %d to %d", seq, got)
		}
		// JSON exports import the same.
		jsonFile := filepath.Join(t.TempDir(), "staging.json")
		s.ok(t, "export", "/app/staging", "--out", jsonFile)
		if b, _ := os.ReadFile(jsonFile); !strings.Contains(string(b), `"flag": {`) {
			t.Errorf("the JSON export:\n%s", b)
		}
		if out := s.ok(t, "import", jsonFile); !strings.Contains(out, "nothing to change") {
			t.Errorf("import of the JSON export:\n%s", out)
		}
	})

	changed := strings.Replace(strings.Replace(exported, "rollout_percentage: 25", "rollout_percentage: 50", 1), "value: a,b", "value: a,b,c", 1)
	changedFile := writeFile(t, "changed.yaml", changed)
	t.Run("DryRunWritesNothing", func(t *testing.T) {
		seq := s.lastSeq(t)
		out := s.ok(t, "import", changedFile, "--dry-run")
		for _, want := range []string{"~ features/checkout: flag\n", "    -   \"rollout_percentage\": 25,\n    +   \"rollout_percentage\": 50,\n",
			"~ hosts: value\n    value: \"a,b\" -> \"a,b,c\"\n", "0 added, 2 changed, 0 removed, 2 unchanged\n", "dry run: 2 writes not applied\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("import --dry-run lacks %q:\n%s", want, out)
			}
		}
		if got := s.lastSeq(t); got != seq {
			t.Errorf("--dry-run moved the change log from %d to %d", seq, got)
		}
	})
	t.Run("ChangedFlagApplied", func(t *testing.T) {
		seq := s.lastSeq(t)
		out := s.ok(t, "import", changedFile)
		if !strings.Contains(out, "applied 2 writes under /app/staging/ in batch ") {
			t.Errorf("import:\n%s", out)
		}
		if got := s.lastSeq(t); got != seq+2 {
			t.Errorf("the change log moved from %d to %d, want 2 records", seq, got)
		}
		if got := s.ok(t, "get", "/app/staging/tuning/ttl:stable"); got != "300\n" {
			t.Errorf("the label after the import: %s", got)
		}
		if got := s.ok(t, "get", "/app/staging/features/checkout"); !strings.Contains(got, `"rollout_percentage":50`) {
			t.Errorf("the flag after the import: %s", got)
		}
		if out := s.ok(t, "import", changedFile); !strings.Contains(out, "nothing to change") {
			t.Errorf("a second import is not idempotent:\n%s", out)
		}
	})
	t.Run("PruneRemoves", func(t *testing.T) {
		pruned := writeFile(t, "pruned.yaml", "version: 1\npath: /app/staging\nparameters:\n  hosts: {type: StringList, value: 'a,b,c'}\n")
		out := s.ok(t, "import", pruned)
		if !strings.Contains(out, "? tuning/ttl (String): only in the store, kept") || !strings.Contains(out, "3 only in the store (kept)") {
			t.Errorf("import without --prune:\n%s", out)
		}
		out = s.ok(t, "import", pruned, "--prune")
		if !strings.Contains(out, "- tuning/ttl (String)\n") || !strings.Contains(out, "0 added, 0 changed, 3 removed, 1 unchanged\n") {
			t.Errorf("import --prune:\n%s", out)
		}
		s.fails(t, 1, []string{"get", "/app/staging/tuning/ttl"}, "not found")
		// And back: the first export brings everything but the secret,
		// which only its plaintext can recreate.
		seq := s.lastSeq(t)
		res := s.run(t, "", "import", file)
		if res.code != 1 || !strings.Contains(res.stderr, "db/password: a SecureString is created only from its plaintext") ||
			!strings.Contains(res.stderr, "nothing was") || !strings.Contains(res.stdout, "+ db/password (SecureString) [can't be written") {
			t.Errorf("import of a sealed secret that is gone: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		if s.lastSeq(t) != seq {
			t.Error("a refused import wrote something")
		}
	})

	t.Run("ConcurrentChangeFailsCleanly", func(t *testing.T) {
		s.ok(t, "put", "/cas/a", "1")
		s.ok(t, "put", "/cas/b", "1")
		f := writeFile(t, "cas.yaml", "version: 1\npath: /cas\nparameters:\n  a: {type: String, value: '2'}\n  b: {type: String, value: '2'}\n")
		// The import runs in this process with a transport that lets
		// another writer change b after the import read the store and
		// before its batch reaches the server.
		rt := &interposer{next: http.DefaultTransport, before: func(r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/v1/batch" {
				s.ok(t, "put", "/cas/b", "9", "--overwrite")
			}
		}}
		var stdout, stderr strings.Builder
		c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
			http: &http.Client{Transport: rt, CheckRedirect: noRedirects, Timeout: time.Minute}}
		seq := s.lastSeq(t)
		err := c.importFile(t.Context(), []string{"--server", s.URL, f})
		if err == nil || !strings.Contains(err.Error(), "the store changed under /cas/ since it was read, so nothing was written") ||
			!strings.Contains(err.Error(), "VersionMismatch") {
			t.Fatalf("import with a concurrent change: %v\n%s", err, stdout.String())
		}
		if got := s.lastSeq(t); got != seq+1 {
			t.Errorf("the change log moved from %d to %d: want only the concurrent put", seq, got)
		}
		if a, b := s.ok(t, "get", "/cas/a"), s.ok(t, "get", "/cas/b"); a != "1\n" || b != "9\n" {
			t.Errorf("after the failed import a=%q b=%q, want 1 and 9", a, b)
		}
	})

	t.Run("DiffAndPromote", func(t *testing.T) {
		// What the prune above removed, back.
		s.ok(t, "put", "/app/staging/tuning/ttl", "600", "--tags", "team=pay")
		s.ok(t, "put", "/app/staging/features/checkout", ccCheckoutFlag)
		s.ok(t, "put", "/app/staging/db/password", "hunter2", "--type", "SecureString")
		s.ok(t, "put", "/app/prod/features/checkout", strings.Replace(ccCheckoutFlag, "25", "5", 1))
		s.ok(t, "put", "/app/prod/only-prod", "x")
		out := s.ok(t, "diff", "/app/staging", "/app/prod")
		for _, want := range []string{"~ features/checkout: flag\n", "    -   \"rollout_percentage\": 25,\n    +   \"rollout_percentage\": 5,\n",
			"- tuning/ttl (String)\n", "+ only-prod (String)\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("diff lacks %q:\n%s", want, out)
			}
		}
		seq := s.lastSeq(t)
		out = s.ok(t, "promote", "/app/staging", "/app/prod", "--dry-run", "--with-decryption")
		if !strings.Contains(out, "dry run: ") || s.lastSeq(t) != seq {
			t.Errorf("promote --dry-run:\n%s", out)
		}
		if res := s.run(t, "", "promote", "/app/staging", "/app/prod"); res.code != 1 || !strings.Contains(res.stderr, "db/password: a SecureString is created only from its plaintext") {
			t.Errorf("promote of a secret without --with-decryption: exit %d\n%s", res.code, res.stderr)
		}
		out = s.ok(t, "promote", "/app/staging", "/app/prod", "--with-decryption")
		if !strings.Contains(out, "applied ") {
			t.Errorf("promote:\n%s", out)
		}
		if got := s.ok(t, "get", "/app/prod/db/password", "--with-decryption"); got != "hunter2\n" {
			t.Errorf("the promoted secret: %q", got)
		}
		if got := s.ok(t, "get", "/app/prod/only-prod"); got != "x\n" {
			t.Errorf("promote without --prune removed only-prod: %q", got)
		}
		out = s.ok(t, "diff", "/app/staging", "/app/prod", "--with-decryption")
		if !strings.Contains(out, "1 added, 0 changed, 0 removed, 4 unchanged") || !strings.Contains(out, "+ only-prod") {
			t.Errorf("diff after promote:\n%s", out)
		}
		// --only: one name.
		s.ok(t, "put", "/app/staging/hosts", "z", "--type", "StringList", "--overwrite")
		s.ok(t, "put", "/app/staging/tuning/ttl", "700", "--overwrite")
		out = s.ok(t, "promote", "/app/staging", "/app/prod", "--only", "hosts")
		if !strings.Contains(out, "0 added, 1 changed, 0 removed, 0 unchanged") {
			t.Errorf("promote --only hosts:\n%s", out)
		}
		if got := s.ok(t, "get", "/app/prod/tuning/ttl"); got != "600\n" {
			t.Errorf("promote --only hosts changed tuning/ttl: %q", got)
		}
	})

	t.Run("Usage", func(t *testing.T) {
		s.fails(t, 2, []string{"export"}, "missing arguments")
		s.fails(t, 2, []string{"export", "/a", "-o", "xml"}, "use yaml or json")
		s.fails(t, 1, []string{"import", writeFile(t, "bad.yaml", "version: 1\npath: /a\nparameters:\n  x: {type: Strin, value: '1'}\n")}, "parameter \"x\"", "Strin")
		s.fails(t, 2, []string{"promote", "/a", "/b", "--only", "nope"}, "no such name")
	})
}

// interposer is a transport that calls before ahead of each request.
type interposer struct {
	next   http.RoundTripper
	before func(*http.Request)
}

func (i *interposer) RoundTrip(r *http.Request) (*http.Response, error) {
	i.before(r)
	return i.next.RoundTrip(r)
}

// TestImportRoundTrip10k exports a subtree of 10,000 parameters (a tenth
// flags, a tenth tagged), imports the file back and finds nothing to
// change, then imports it under another path: 10,000 puts in one batch.
func TestImportRoundTrip10k(t *testing.T) {
	s := startServer(t)
	const n = 10_000
	seedBatch(t, s.URL, "/big/staging", n)
	file := filepath.Join(t.TempDir(), "big.yaml")
	start := time.Now()
	s.ok(t, "export", "/big/staging", "--out", file)
	exported := time.Since(start)
	seq := s.lastSeq(t)
	start = time.Now()
	out := s.ok(t, "import", file)
	if !strings.HasSuffix(out, fmt.Sprintf("0 added, 0 changed, 0 removed, %d unchanged\nnothing to change: /big/staging/ already matches\n", n)) {
		t.Errorf("import of the unchanged export ends:\n%s", out[max(0, len(out)-300):])
	}
	unchanged := time.Since(start)
	if got := s.lastSeq(t); got != seq {
		t.Errorf("the change log moved from %d to %d", seq, got)
	}
	start = time.Now()
	out = s.ok(t, "import", file, "--to", "/big/prod")
	if !strings.Contains(out, fmt.Sprintf("\napplied %d writes under /big/prod/ in batch ", n)) {
		t.Errorf("import under /big/prod ends:\n%s", out[max(0, len(out)-300):])
	}
	copied := time.Since(start)
	if got := s.lastSeq(t); got != seq+n {
		t.Errorf("the change log moved from %d to %d, want %d records", seq, got, n)
	}
	out = s.ok(t, "diff", "/big/staging", "/big/prod")
	if !strings.HasPrefix(out, fmt.Sprintf("0 added, 0 changed, 0 removed, %d unchanged\n", n)) {
		t.Errorf("diff after the copy:\n%s", out[:min(len(out), 300)])
	}
	t.Logf("10,000 parameters: export %v, import with nothing to change %v, import of all %v", exported, unchanged, copied)
}
