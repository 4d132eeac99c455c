package manifest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vanehq/vane/manifest"
)

// export is a store's export of /app/prod/ as the server sends it.
func export() *manifest.Export {
	return &manifest.Export{Path: "/app/prod/", Sequence: 9, Parameters: []manifest.Parameter{
		{Name: "/app/prod/db/password", Type: "SecureString", Value: "SEALED==", Version: 2, Tier: "Standard", DataType: "text", KeyID: "alias/aws/ssm"},
		{Name: "/app/prod/features/checkout", Type: "String", Value: `{"enabled":true,"rules":[{"name":"beta","conditions":[{"action":"EQUALS","key":"tier","value":"beta"}],"when_match":true}],"default":false,"rollout_percentage":12.5}`,
			Version: 3, Labels: []string{"stable"}, Tier: "Standard", DataType: "text"},
		{Name: "/app/prod/features/kill", Type: "String", Value: "false", Version: 1, Tier: "Standard", DataType: "text"},
		{Name: "/app/prod/tuning/ttl", Type: "String", Value: "300", Version: 5, Tier: "Advanced", DataType: "text", Description: "cache TTL",
			Tags: map[string]string{"team": "pay", "env": "prod"}, Policies: json.RawMessage(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}}]`)},
		{Name: "/app/prod/hosts", Type: "StringList", Value: "a,b", Version: 1, Tier: "Standard", DataType: "text"},
	}}
}

const wantYAML = `version: 1
path: /app/prod/
parameters:
  db/password:
    type: SecureString
    sealed: SEALED==
  features/checkout:
    type: String
    flag:
      enabled: true
      rules:
        - name: beta
          conditions:
            - action: EQUALS
              key: tier
              value: beta
          when_match: true
      default: false
      rollout_percentage: 12.5
    labels:
      - stable
  features/kill:
    type: String
    flag: false
  hosts:
    type: StringList
    value: a,b
  tuning/ttl:
    type: String
    value: "300"
    description: cache TTL
    tags:
      env: prod
      team: pay
    tier: Advanced
    policies:
      - Type: Expiration
        Version: "1.0"
        Attributes:
          Timestamp: "2030-01-01T00:00:00Z"
`

func mustFile(t *testing.T, mode manifest.SecretMode) *manifest.File {
	t.Helper()
	f, err := manifest.FromExport(export(), mode)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFormatRoundTrip checks the YAML an export gives, byte for byte
// (flags as objects in their own key order, defaults left out, keys
// sorted), and that YAML and JSON both read back to a tree that has no
// difference from the store.
func TestFormatRoundTrip(t *testing.T) {
	f := mustFile(t, manifest.Sealed)
	y, err := manifest.Marshal(f, manifest.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if string(y) != wantYAML {
		t.Errorf("YAML:\n%s\nwant:\n%s", y, wantYAML)
	}
	j, err := manifest.Marshal(f, manifest.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"flag": {`) || !strings.Contains(string(j), `"flag": false`) {
		t.Errorf("JSON does not hold the flag documents as objects:\n%s", j)
	}
	for format, b := range map[string][]byte{"yaml": y, "json": j} {
		back, err := manifest.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		d := manifest.Compare(mustFile(t, manifest.Sealed), back, true)
		if !d.Empty() || d.Unchanged != 5 {
			t.Errorf("%s read back differs from the store: %+v", format, d)
		}
		again, _ := manifest.Marshal(back, manifest.YAML)
		if string(again) != wantYAML {
			t.Errorf("%s read back and written as YAML:\n%s", format, again)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"ErrEmpty", "  \n", "empty"},
		{"ErrVersion", "version: 2\npath: /a\nparameters: {}\n", "format version 2"},
		{"ErrPath", "version: 1\npath: a\nparameters: {}\n", "must begin with '/'"},
		{"ErrUnknownField", "version: 1\npath: /a\nparameters:\n  x: {type: String, value: '1', colour: red}\n", "colour"},
		{"ErrUnknownFieldJSON", `{"version": 1, "path": "/a", "parameters": {"x": {"type": "String", "value": "1", "colour": "red"}}}`, "colour"},
		{"ErrAbsoluteName", "version: 1\npath: /a\nparameters:\n  /x: {type: String, value: '1'}\n", "relative"},
		{"ErrBadName", "version: 1\npath: /a\nparameters:\n  x!: {type: String, value: '1'}\n", "contains '!'"},
		{"ErrType", "version: 1\npath: /a\nparameters:\n  x: {type: Strin, value: '1'}\n", "type \"Strin\""},
		{"ErrNoValue", "version: 1\npath: /a\nparameters:\n  x: {type: String}\n", "needs a \"value\""},
		{"ErrFlagOutsideFeatures", "version: 1\npath: /a\nparameters:\n  x: {type: String, flag: true}\n", "features"},
		{"ErrBadFlag", "version: 1\npath: /a\nparameters:\n  features/x:\n    type: String\n    flag: {rollout_percentage: 120}\n", "rollout_percentage"},
		{"ErrSealedNotSecure", "version: 1\npath: /a\nparameters:\n  x: {type: String, sealed: abc}\n", "sealed"},
		{"ErrAlias", "version: 1\npath: /a\nparameters:\n  features/x:\n    type: String\n    flag: &d {enabled: true, metadata: {a: *d}}\n", "alias"},
		{"ErrTwoDocuments", "version: 1\npath: /a\nparameters: {}\n---\nversion: 1\n", "more than one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := manifest.Parse([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error with %q", err, tc.want)
			}
		})
	}
	t.Run("ScalarsAsStringValues", func(t *testing.T) {
		f, err := manifest.Parse([]byte("version: 1\npath: /a\nparameters:\n  n: {type: String, value: 300}\n  b: {type: String, value: true}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if *f.Parameters["n"].Value != "300" || *f.Parameters["b"].Value != "true" {
			t.Errorf("values %q %q", *f.Parameters["n"].Value, *f.Parameters["b"].Value)
		}
	})
}
