package bench_test

import (
	"math"
	"testing"

	"github.com/vanehq/vane/bench"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want bench.Spread
	}{
		{"Empty", nil, bench.Spread{}},
		{"OnlyNaN", []float64{math.NaN()}, bench.Spread{}},
		{"One", []float64{82}, bench.Spread{N: 1, Median: 82, Min: 82, Max: 82}},
		{"OddUnsorted", []float64{90, 70, 80}, bench.Spread{N: 3, Median: 80, Min: 70, Max: 90}},
		{"EvenMeanOfMiddle", []float64{4, 1, 3, 2}, bench.Spread{N: 4, Median: 2.5, Min: 1, Max: 4}},
		{"NaNIgnored", []float64{60, math.NaN(), 50, 70}, bench.Spread{N: 3, Median: 60, Min: 50, Max: 70}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bench.SpreadOf(tc.xs); got != tc.want {
				t.Fatalf("SpreadOf(%v) = %+v, want %+v", tc.xs, got, tc.want)
			}
		})
	}
}

func TestSpreadOfLeavesInputAlone(t *testing.T) {
	xs := []float64{3, 1, 2}
	bench.SpreadOf(xs)
	if xs[0] != 3 || xs[1] != 1 || xs[2] != 2 {
		t.Fatalf("SpreadOf sorted its argument: %v", xs)
	}
}

func TestSpreadPercent(t *testing.T) {
	for _, tc := range []struct {
		s    bench.Spread
		want string
	}{
		{bench.Spread{}, "n/a"},
		{bench.Spread{N: 1, Median: 82.14, Min: 82.14, Max: 82.14}, "82.1%"},
		{bench.Spread{N: 3, Median: 82.14, Min: 78, Max: 87.06}, "82.1% (78.0–87.1%)"},
	} {
		if got := tc.s.Percent(); got != tc.want {
			t.Errorf("%+v.Percent() = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestTargetCheck(t *testing.T) {
	target := bench.Target{Name: "get/dev vane/baseline", Min: 85}
	for _, tc := range []struct {
		name string
		s    bench.Spread
		met  bool
		line string
	}{
		{"MetOnTheFloor", bench.Spread{N: 3, Median: 85, Min: 80, Max: 90}, true, "met     get/dev vane/baseline ≥ 85%: 85.0% (80.0–90.0%)"},
		// The median decides, not the best round.
		{"MissedDespiteBestRound", bench.Spread{N: 3, Median: 84.9, Min: 80, Max: 95}, false, "MISSED  get/dev vane/baseline ≥ 85%: 84.9% (80.0–95.0%)"},
		{"NoData", bench.Spread{}, false, "NO DATA get/dev vane/baseline ≥ 85%: n/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := target.Check(tc.s)
			if v.Met != tc.met || v.Target != target || v.Spread != tc.s {
				t.Fatalf("Check(%+v) = %+v, want Met=%v", tc.s, v, tc.met)
			}
			if got := v.String(); got != tc.line {
				t.Fatalf("String() = %q, want %q", got, tc.line)
			}
		})
	}
}
