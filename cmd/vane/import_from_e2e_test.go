package main

import (
	"strings"
	"testing"
)

const fromDotenv = `# tunables
export CACHE_TTL=300
LOG_LEVEL="info"
HOME_DIR=$HOME/app
BAD KEY=1
`

const fromPowertools = `{
  "premium_features": {"default": false, "rules": {"premium": {"when_match": true,
    "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}}},
  "checkout_theme": {"default": "classic", "boolean_type": false, "rules": {"beta": {"when_match": "aurora",
    "conditions": [{"action": "EQUALS", "key": "tier", "value": "beta"}]}}},
  "legacy": {"default": false, "rules": {"r": {"when_match": true,
    "conditions": [{"action": "IN", "key": "d", "value": "corp"}]}}}
}`

// TestImportFrom imports a .env file and a Powertools document into a
// real vane serve with --dry-run, then for real, then again (unchanged).
func TestImportFrom(t *testing.T) {
	s := startServer(t)
	for _, tt := range []struct {
		format, file, to string
		skipped          []string
		names            []string
	}{
		{"dotenv", writeFile(t, "app.env", fromDotenv), "/app/prod/tuning",
			[]string{"skipped HOME_DIR (line 4): the value uses variable expansion", "skipped BAD KEY (line 5): the key contains ' '"},
			[]string{"CACHE_TTL", "LOG_LEVEL"}},
		{"powertools", writeFile(t, "features.json", fromPowertools), "/app/prod",
			[]string{"skipped legacy: flag /app/prod/features/legacy: $.rules.r.conditions[0].value: IN needs an array"},
			[]string{"features/premium_features", "features/checkout_theme"}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			args := []string{"import", "--from", tt.format, tt.file, "--to", tt.to}
			seq := s.lastSeq(t)
			res := s.run(t, "", append(args, "--dry-run")...)
			if res.code != 0 {
				t.Fatalf("dry run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			for _, w := range tt.skipped {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("dry run: stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			for _, n := range tt.names {
				if !strings.Contains(res.stdout, "+ "+n) {
					t.Errorf("dry run: stdout lacks + %s:\n%s", n, res.stdout)
				}
			}
			if !strings.Contains(res.stdout, "dry run: ") {
				t.Errorf("dry run:\n%s", res.stdout)
			}
			if got := s.lastSeq(t); got != seq {
				t.Fatalf("the dry run wrote: the change log moved from %d to %d", seq, got)
			}

			res = s.run(t, "", args...)
			if res.code != 0 || !strings.Contains(res.stdout, "applied ") {
				t.Fatalf("import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			res = s.run(t, "", args...)
			if res.code != 0 || !strings.Contains(res.stdout, "nothing to change") {
				t.Fatalf("second import: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
	if out := s.ok(t, "get", "/app/prod/tuning/CACHE_TTL"); out != "300\n" {
		t.Errorf("CACHE_TTL = %q", out)
	}
	if out := s.ok(t, "get", "/app/prod/tuning/LOG_LEVEL"); out != "info\n" {
		t.Errorf("LOG_LEVEL = %q", out)
	}
	if out := s.ok(t, "get", "/app/prod/features/checkout_theme"); !strings.Contains(out, `"variants":{"classic":"classic","aurora":"aurora"}`) {
		t.Errorf("checkout_theme = %q", out)
	}

	t.Run("ErrNeedsTo", func(t *testing.T) {
		s.fails(t, 2, []string{"import", "--from", "dotenv", writeFile(t, "a.env", "A=1\n")}, "needs --to")
	})
	t.Run("ErrUnknownFormat", func(t *testing.T) {
		s.fails(t, 1, []string{"import", "--from", "toml", writeFile(t, "a.toml", "A=1\n"), "--to", "/app/x"}, "unknown format", "dotenv", "powertools", "ssm-json")
	})
	t.Run("ErrNothingToImport", func(t *testing.T) {
		res := s.run(t, "", "import", "--from", "dotenv", writeFile(t, "b.env", "EMPTY=\n"), "--to", "/app/prod/tuning", "--prune")
		if res.code == 0 || !strings.Contains(res.stderr, "nothing to import") {
			t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
}
