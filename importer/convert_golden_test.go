package importer_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanehq/vane/importer"
	"github.com/vanehq/vane/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenFormats are formats that must have a golden file; the golden test
// runs every testdata/FORMAT/*.input it finds.
var goldenFormats = []string{"powertools", "ssm-json", "dotenv"}

// TestConvertGolden converts each testdata/FORMAT/*.input under /myapp/prod/
// and compares the manifest (as manifest.Marshal writes it) followed by
// the skipped items with testdata/FORMAT/*.golden.yaml.
func TestConvertGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/*.input")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		format := filepath.Base(filepath.Dir(in))
		seen[format] = true
		t.Run(format+"/"+strings.TrimSuffix(filepath.Base(in), ".input"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			f, skips, err := importer.Convert(format, data, "/myapp/prod/")
			if err != nil {
				t.Fatal(err)
			}
			// What a converter returns is a file the import accepts.
			out, err := manifest.Marshal(f, manifest.YAML)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := manifest.Parse(out); err != nil {
				t.Fatalf("the converted file does not parse: %v", err)
			}
			var buf bytes.Buffer
			buf.Write(out)
			buf.WriteString("# skipped:\n")
			for _, s := range skips {
				fmt.Fprintf(&buf, "#   %s: %s\n", s.Item, s.Reason)
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden.yaml"
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs (go test ./importer -update to rewrite it):\n--- got\n%s\n--- want\n%s", golden, buf.Bytes(), want)
			}
		})
	}
	for _, format := range goldenFormats {
		if !seen[format] {
			t.Errorf("no golden file for %s", format)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	for _, tt := range []struct {
		name, format, input, want string
	}{
		{"ErrUnknownFormat", "yaml", "{}", "unknown format"},
		{"ErrPowertoolsNotObject", "powertools", "[1]", "not a Powertools"},
		{"ErrAppConfigNative", "appconfig", `{"version":"1","flags":{},"values":{}}`, "AWS.AppConfig.FeatureFlags"},
		{"ErrSSMNoParameters", "ssm-json", `{"Items":[]}`, "no \"Parameters\""},
		{"ErrSSMNotJSON", "ssm-json", `Parameters:`, "not the JSON output"},
		{"ErrDotenvUnclosedQuote", "dotenv", "A=1\nB=\"open\nC=2\n", "never closed"},
		{"ErrDotenvTextAfterQuote", "dotenv", "B='x' y\n", "after the closing quote"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := importer.Convert(tt.format, []byte(tt.input), "/myapp/prod/")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestConvertBadDestination(t *testing.T) {
	for _, format := range goldenFormats {
		if _, _, err := importer.Convert(format, []byte("{}"), "no//path"); err == nil {
			t.Errorf("%s: no error for a bad --to", format)
		}
	}
}
