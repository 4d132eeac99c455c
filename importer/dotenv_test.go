package importer_test

import (
	"testing"

	"github.com/vanehq/vane/importer"
)

func TestDotenvValues(t *testing.T) {
	for _, tt := range []struct {
		name, input, want string
	}{
		{"Unquoted", "K=a b  \n", "a b"},
		{"InlineComment", "K=a # note\n", "a"},
		{"HashInsideValue", "K=a#b\n", "a#b"},
		{"SingleQuotedLiteral", `K='a\nb $X'`, `a\nb $X`},
		{"DoubleQuotedEscapes", `K="a\tb\\c\"d\$e"`, "a\tb\\c\"d$e"},
		{"UnknownEscapeKept", `K="a\qb"`, `a\qb`},
		{"ExportPrefix", "export K=v", "v"},
		{"CRLF", "K=v\r\nL=w\r\n", "v"},
		{"DollarNotAName", "K=cost$5\n", "cost$5"},
		{"QuotedThenComment", `K="v" # c`, "v"},
		{"Multiline", "K='a\nb'\n", "a\nb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, skips, err := importer.Convert("dotenv", []byte(tt.input), "/app/")
			if err != nil {
				t.Fatal(err)
			}
			e := f.Parameters["K"]
			if e == nil || e.Value == nil {
				t.Fatalf("no K; skipped %v", skips)
			}
			if *e.Value != tt.want {
				t.Errorf("K = %q, want %q", *e.Value, tt.want)
			}
		})
	}
}
