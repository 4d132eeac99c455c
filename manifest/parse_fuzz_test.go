package manifest_test

import (
	"testing"

	"github.com/vanehq/vane/manifest"
)

// FuzzParse feeds Parse arbitrary files: it must never panic, and a file
// it accepts must write out (YAML and JSON) and read back to a tree with
// no difference from it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(wantYAML))
	f.Add([]byte(desired))
	f.Add([]byte(`{"version": 1, "path": "/a", "parameters": {"features/x": {"type": "String", "flag": {"enabled": true}}}}`))
	f.Add([]byte("version: 1\npath: /\nparameters:\n  x: {type: SecureString}\n"))
	f.Add([]byte("version: 1\npath: /a\nparameters:\n  features/x: {type: String, flag: [1, 2.5e3, null, \"s\", {k: v}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := manifest.Parse(data)
		if err != nil {
			return
		}
		for _, format := range []string{manifest.YAML, manifest.JSON} {
			b, err := manifest.Marshal(tree, format)
			if err != nil {
				t.Fatalf("Marshal %s of an accepted file: %v", format, err)
			}
			back, err := manifest.Parse(b)
			if err != nil {
				t.Fatalf("the %s written of an accepted file is refused: %v\n%s", format, err, b)
			}
			if d := manifest.Compare(tree, back, true); !d.Empty() {
				t.Fatalf("%s round trip changed the tree: %+v\n%s", format, d.Changes, b)
			}
		}
	})
}
