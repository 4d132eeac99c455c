package manifest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vanehq/vane/manifest"
)

func parse(t *testing.T, yaml string) *manifest.File {
	t.Helper()
	f, err := manifest.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// desired is the store's tree with a flag changed, a value changed, a
// label moved, tags changed, a name added and hosts and the secret left
// out.
const desired = `version: 1
path: /app/prod
parameters:
  features/checkout:
    type: String
    flag:
      enabled: false
      rules:
        - name: beta
          conditions:
            - action: EQUALS
              key: tier
              value: beta
          when_match: true
      default: false
      rollout_percentage: 12.5
    labels: [stable]
  features/kill: {type: String, flag: false}
  features/new: {type: String, flag: {enabled: true}, labels: [canary]}
  tuning/ttl:
    type: String
    value: "300"
    description: cache TTL
    tags: {team: core}
    tier: Advanced
    labels: [stable]
    policies:
      - {Type: Expiration, Version: "1.0", Attributes: {Timestamp: "2030-01-01T00:00:00Z"}}
`

func TestCompareAndPlan(t *testing.T) {
	current := mustFile(t, manifest.Sealed)
	t.Run("WithoutPrune", func(t *testing.T) {
		d := manifest.Compare(current, parse(t, desired), false)
		if d.Added != 1 || d.Changed != 2 || d.Removed != 0 || d.Unchanged != 1 || d.Kept != 2 {
			t.Fatalf("counts %+v", d)
		}
		var out bytes.Buffer
		if err := manifest.Print(&out, d, manifest.PrintOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"~ features/checkout: flag\n      {\n    -   \"enabled\": true,\n    +   \"enabled\": false,\n",
			"+ features/new (String)\n",
			"~ tuning/ttl: tags, labels\n    tags: {env=prod, team=pay} -> {team=core}\n    labels: [] -> [stable]\n",
			"? hosts (StringList): only in the store, kept (--prune removes it)\n",
			"1 added, 2 changed, 0 removed, 1 unchanged, 2 only in the store (kept)\n",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the diff lacks %q:\n%s", want, out.String())
			}
		}
		if strings.Contains(out.String(), "SEALED") {
			t.Errorf("the diff shows a SecureString value:\n%s", out.String())
		}
		items, err := manifest.Plan(d, "/app/prod/")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(items)
		want := `[` +
			`{"op":"put","name":"/app/prod/features/checkout","value":"{\"enabled\":false,\"rules\":[{\"name\":\"beta\",\"conditions\":[{\"action\":\"EQUALS\",\"key\":\"tier\",\"value\":\"beta\"}],\"when_match\":true}],\"default\":false,\"rollout_percentage\":12.5}","type":"String","description":"","allowed_pattern":"","tier":"Standard","data_type":"text","overwrite":true,"expect_version":3},` +
			`{"op":"label","name":"/app/prod/features/checkout","labels":["stable"]},` +
			`{"op":"put","name":"/app/prod/features/new","value":"{\"enabled\":true}","type":"String","description":"","allowed_pattern":"","tier":"Standard","data_type":"text","expect_version":0},` +
			`{"op":"label","name":"/app/prod/features/new","labels":["canary"]},` +
			`{"op":"tag","name":"/app/prod/tuning/ttl","tags":{"team":"core"}},` +
			`{"op":"untag","name":"/app/prod/tuning/ttl","keys":["env"]},` +
			`{"op":"label","name":"/app/prod/tuning/ttl","version":5,"labels":["stable"]}]`
		if string(got) != want {
			t.Errorf("plan:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("PruneDeletesCompareAndSet", func(t *testing.T) {
		d := manifest.Compare(current, parse(t, desired), true)
		if d.Removed != 2 || d.Kept != 0 {
			t.Fatalf("counts %+v", d)
		}
		items, err := manifest.Plan(d, "/app/staging/")
		if err != nil {
			t.Fatal(err)
		}
		var deletes []string
		for _, it := range items {
			if it.Op == "delete" {
				deletes = append(deletes, it.Name)
				if it.ExpectVersion == nil {
					t.Errorf("a delete without expect_version: %+v", it)
				}
			}
			if !strings.HasPrefix(it.Name, "/app/staging/") {
				t.Errorf("an item outside the destination: %+v", it)
			}
		}
		if strings.Join(deletes, " ") != "/app/staging/db/password /app/staging/hosts" {
			t.Errorf("deletes %v", deletes)
		}
	})
	t.Run("SameTreeIsEmpty", func(t *testing.T) {
		if d := manifest.Compare(current, mustFile(t, manifest.Sealed), true); !d.Empty() || d.Unchanged != 5 {
			t.Errorf("a tree against itself: %+v", d)
		}
	})
	t.Run("FlagsCompareByMeaning", func(t *testing.T) {
		a := parse(t, "version: 1\npath: /a\nparameters:\n  features/x: {type: String, flag: {enabled: true, rollout_percentage: 5}}\n")
		b := parse(t, `{"version": 1, "path": "/a", "parameters": {"features/x": {"type": "String", "value": "{\"rollout_percentage\": 5, \"enabled\": true}"}}}`)
		if d := manifest.Compare(a, b, true); !d.Empty() {
			t.Errorf("the same document in another key order differs: %+v", d.Changes)
		}
	})
	t.Run("ErrSealedValueDiffers", func(t *testing.T) {
		other := mustFile(t, manifest.Sealed)
		other.Parameters["db/password"].Sealed = "OTHER=="
		d := manifest.Compare(current, other, false)
		_, err := manifest.Plan(d, "/app/prod/")
		var be *manifest.BlockedError
		if !errors.As(err, &be) || len(be.Changes) != 1 || !strings.Contains(err.Error(), "db/password: its sealed value") {
			t.Errorf("Plan: %v, want a BlockedError for db/password", err)
		}
	})
	t.Run("PlaintextSecretRewritten", func(t *testing.T) {
		f := parse(t, "version: 1\npath: /app/prod\nparameters:\n  db/password: {type: SecureString, value: hunter3, description: pw}\n")
		cur := parse(t, "version: 1\npath: /app/prod\nparameters:\n  db/password: {type: SecureString, value: hunter2}\n")
		cur.Parameters["db/password"].Version = 4
		d := manifest.Compare(cur, f, false)
		var out bytes.Buffer
		manifest.Print(&out, d, manifest.PrintOptions{})
		if strings.Contains(out.String(), "hunter") || !strings.Contains(out.String(), "not shown") {
			t.Errorf("the diff of a SecureString:\n%s", out.String())
		}
		items, err := manifest.Plan(d, "/app/prod/")
		if err != nil || len(items) != 1 || *items[0].Value != "hunter3" || items[0].KeyID != "alias/aws/ssm" || *items[0].ExpectVersion != 4 {
			t.Errorf("plan %+v, %v", items, err)
		}
	})
	t.Run("PlaceholderKeepsTheValue", func(t *testing.T) {
		f := mustFile(t, manifest.Placeholder)
		if d := manifest.Compare(current, f, true); !d.Empty() {
			t.Errorf("a placeholder differs from the stored value: %+v", d.Changes)
		}
		f.Parameters["db/password"].Description = "new"
		if _, err := manifest.Plan(manifest.Compare(current, f, true), "/app/prod/"); err == nil || !strings.Contains(err.Error(), "needs its plaintext") {
			t.Errorf("a placeholder whose description changes: %v", err)
		}
	})
}

func TestLineDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10"
	b := "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10"
	got := strings.Join(manifest.LineDiff(a, b), "|")
	if got != "...|  3|  4|  5|- 6|+ six|  7|  8|  9|..." {
		t.Errorf("LineDiff = %s", got)
	}
}
