package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestChangeRequestsCLI runs the change-request flow through the CLI
// against vane serve with access control: a developer's put on a path
// that needs approval becomes a request (exit 3), the developer cannot
// approve it, a lead approves, the developer applies it; a request made
// stale by another write is refused; an import into the path becomes one
// request too.
func TestChangeRequestsCLI(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, _ := startSecureServer(t, bin, data)
	run := func(token string, args ...string) cliResult {
		t.Helper()
		env := []string{"VANE_SERVER=" + srv.url, "VANE_DATA=" + data}
		if token != "" {
			env = append(env, "VANE_TOKEN="+token)
		}
		return runVaneEnv(t, bin, env, "", args...)
	}
	must := func(r cliResult) cliResult {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		return r
	}
	key := func(name, policy string) string {
		t.Helper()
		res := must(run("", "keys", "create", name, "--policy", policy))
		for _, line := range strings.Split(res.stdout, "\n") {
			if v, ok := strings.CutPrefix(line, "bearer token:"); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("no token in:\n%s", res.stdout)
		return ""
	}
	dev := key("dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:PutParameter","ssm:GetParameter*","ssm:ListTagsForResource","vane:ProposeChange","vane:ApproveChange"],"Resource":"/shop/*"}]}`)
	lead := key("lead", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter*","vane:ApproveChange"],"Resource":"/shop/*"}]}`)

	must(run("", "put", "/vane/settings/approval-paths", "/shop/prod", "--type", "StringList"))
	must(run("", "put", "/shop/prod/tuning/limit", "100"))
	must(run("", "put", "/shop/prod/features/checkout", `{"enabled": false}`))

	idRE := regexp.MustCompile(`cr-[0-9a-f]{16}`)
	r := run(dev, "put", "/shop/prod/features/checkout", `{"enabled": true, "rollout_percentage": 10}`, "--overwrite")
	id := idRE.FindString(r.stderr)
	if r.code != 3 || id == "" || !strings.Contains(r.stderr, "needs approval") {
		t.Fatalf("a put that needs approval: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := must(run(dev, "get", "/shop/prod/features/checkout")); !strings.Contains(got.stdout, `"enabled": false`) {
		t.Fatalf("the proposed put was written: %s", got.stdout)
	}
	if ls := must(run(lead, "cr", "ls", "--state", "pending")); !strings.Contains(ls.stdout, id) || !strings.Contains(ls.stdout, "dev") {
		t.Errorf("cr ls:\n%s", ls.stdout)
	}
	show := must(run(lead, "cr", "show", id))
	for _, want := range []string{"pending", "author:   dev", "/shop/prod/features/checkout (version 1)", `-   "enabled": false`, `+   "enabled": true,`, `+   "rollout_percentage": 10`} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("cr show lacks %q:\n%s", want, show.stdout)
		}
	}
	if r := run(dev, "cr", "approve", id); r.code != 1 || !strings.Contains(r.stderr, "author") {
		t.Errorf("self-approval: exit %d, %s", r.code, r.stderr)
	}
	if r := run(dev, "cr", "apply", id); r.code != 1 || !strings.Contains(r.stderr, "pending") {
		t.Errorf("apply before approval: exit %d, %s", r.code, r.stderr)
	}
	if r := must(run(lead, "cr", "approve", id, "--comment", "ok for 10%")); !strings.Contains(r.stdout, "approved") {
		t.Errorf("approve: %s", r.stdout)
	}
	if r := must(run(dev, "cr", "apply", id)); !strings.Contains(r.stdout, "applied") {
		t.Errorf("apply: %s", r.stdout)
	}
	if got := must(run(dev, "get", "/shop/prod/features/checkout")); !strings.Contains(got.stdout, `"rollout_percentage": 10`) {
		t.Fatalf("the applied put is not there: %s", got.stdout)
	}
	if audit := must(run("", "audit", "/shop/prod/features/checkout")); !strings.Contains(audit.stdout, id) {
		t.Errorf("the audit history does not name the request:\n%s", audit.stdout)
	}

	// A request made stale by a direct write is refused and kept as stale.
	r = run(dev, "put", "/shop/prod/tuning/limit", "200", "--overwrite")
	stale := idRE.FindString(r.stderr)
	if r.code != 3 || stale == "" {
		t.Fatalf("second proposal: %d %s", r.code, r.stderr)
	}
	must(run("", "put", "/shop/prod/tuning/limit", "150", "--overwrite"))
	if r := run(lead, "cr", "approve", stale); r.code != 1 || !strings.Contains(r.stderr, "stale") {
		t.Errorf("approval of a stale request: exit %d, %s", r.code, r.stderr)
	}
	if show := must(run(lead, "cr", "show", stale)); !strings.Contains(show.stdout, "stale") || !strings.Contains(show.stdout, "now at 2") {
		t.Errorf("cr show of a stale request:\n%s", show.stdout)
	}
	if got := must(run(dev, "get", "/shop/prod/tuning/limit")); strings.TrimSpace(got.stdout) != "150" {
		t.Fatalf("a stale request was written: %s", got.stdout)
	}

	// An import into the path becomes one request for the lead to review.
	file := filepath.Join(t.TempDir(), "prod.yaml")
	must(run("", "export", "/shop/prod", "-o", "yaml", "--out", file))
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(raw), "value: \"150\"", "value: \"175\"", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(dev, "import", file)
	imp := idRE.FindString(r.stderr)
	if r.code != 3 || imp == "" {
		t.Fatalf("an import that needs approval: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	must(run(lead, "cr", "reject", imp, "--comment", "not during the sale"))
	ls := must(run(lead, "cr", "ls", "/shop/prod"))
	states := map[string]string{}
	for _, line := range strings.Split(ls.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			states[f[0]] = f[1]
		}
	}
	if states[id] != "applied" || states[stale] != "stale" || states[imp] != "rejected" {
		t.Errorf("the history does not keep every request:\n%s", ls.stdout)
	}
	if got := must(run(dev, "get", "/shop/prod/tuning/limit")); strings.TrimSpace(got.stdout) != "150" {
		t.Fatalf("a rejected import was written: %s", got.stdout)
	}
}
