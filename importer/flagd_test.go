package importer_test

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/importer"
)

// shares converts the golden input of format, evaluates the flag key for
// n subjects with the context attrs, and returns the share of each variant.
func shares(t *testing.T, format, input, key string, attrs flag.Context, n int) map[string]float64 {
	t.Helper()
	data, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := importer.Convert(format, data, "/myapp/prod/")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := f.Parameters["features/"+key]
	if !ok {
		t.Fatalf("%s was not converted", key)
	}
	fl, err := flag.Parse("/myapp/prod/features/"+key, string(e.Flag))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for i := range n {
		ctx := flag.Context{"targetingKey": fmt.Sprintf("user-%d", i)}
		for k, v := range attrs {
			if v == nil {
				delete(ctx, k)
				continue
			}
			ctx[k] = v
		}
		out[fl.Evaluate(ctx, time.Now()).Variant] += 1 / float64(n)
	}
	return out
}

func checkShares(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for v, w := range want {
		if math.Abs(got[v]-w) > 0.02 {
			t.Errorf("variant %s: share %.3f, want about %.3f (all: %v)", v, got[v], w, got)
		}
	}
	for v := range got {
		if _, ok := want[v]; !ok {
			t.Errorf("variant %s served, want only %v", v, want)
		}
	}
}

// A fractional inside an if becomes rules with cumulative shares, so each
// variant keeps its weight among the subjects the condition matches.
func TestFlagdFractionalKeepsWeights(t *testing.T) {
	got := shares(t, "flagd", "testdata/flagd/flags.input", "header-color", flag.Context{"email": "a@vane.example"}, 20000)
	checkShares(t, got, map[string]float64{"blue": 0.5, "green": 0.25, "red": 0.25})
	got = shares(t, "flagd", "testdata/flagd/flags.input", "header-color", flag.Context{"email": "a@elsewhere.example"}, 2000)
	checkShares(t, got, map[string]float64{"red": 1})
}
