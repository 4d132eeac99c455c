package importer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vanehq/vane/importer"
	"github.com/vanehq/vane/manifest"
)

// FuzzConvert feeds every format arbitrary bytes, seeded with the golden
// inputs: a converter must never panic, and what it converts must be a
// manifest the import accepts and that writes out and reads back whole.
func FuzzConvert(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*", "*.input"))
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(formatIndex(f, filepath.Base(filepath.Dir(in))), b)
	}
	f.Add(formatIndex(f, "dotenv"), []byte("A=\"x\\n\nB='y\nexport C = z # c\n"))
	formats := importer.Formats()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		format := formats[int(which)%len(formats)]
		file, skipped, err := importer.Convert(format, data, "/fuzz/prod/")
		if err != nil {
			return
		}
		for _, s := range skipped {
			if s.Reason == "" {
				t.Fatalf("%s: item %q skipped without a reason", format, s.Item)
			}
		}
		if err := file.Check(); err != nil {
			t.Fatalf("%s: the converted manifest fails its check: %v", format, err)
		}
		out, err := manifest.Marshal(file, manifest.YAML)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		back, err := manifest.Parse(out)
		if err != nil {
			t.Fatalf("%s: the converted manifest does not read back: %v\n%s", format, err, out)
		}
		if len(back.Parameters) != len(file.Parameters) {
			t.Fatalf("%s: %d parameters read back, %d written", format, len(back.Parameters), len(file.Parameters))
		}
	})
}

// formatIndex returns the index of a format in importer.Formats.
func formatIndex(tb testing.TB, format string) uint8 {
	for i, f := range importer.Formats() {
		if f == format {
			return uint8(i)
		}
	}
	tb.Fatalf("no format %q", format)
	return 0
}
