package bench

import (
	"fmt"
	"math"
	"slices"
)

// Spread summarizes repeated measurements of one figure (a ratio over
// several rounds, say): how many, their median and their range. On a
// shared, noisy machine the median is the figure to compare with a goal
// and the range says how far to trust it.
type Spread struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// SpreadOf returns the Spread of xs, ignoring NaNs (measurements that
// failed); the median of an even count is the mean of the middle two. It
// is the zero Spread when nothing is left.
func SpreadOf(xs []float64) Spread {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return Spread{}
	}
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{N: n, Median: med, Min: s[0], Max: s[n-1]}
}

// Percent formats a Spread of percentages as "82.1% (78.0–87.0%)", or
// just "82.1%" for a single measurement, or "n/a" for none.
func (s Spread) Percent() string {
	switch {
	case s.N == 0:
		return "n/a"
	case s.N == 1:
		return fmt.Sprintf("%.1f%%", s.Median)
	}
	return fmt.Sprintf("%.1f%% (%.1f–%.1f%%)", s.Median, s.Min, s.Max)
}

// Target is a floor that the median of a figure must reach, such as "an
// OFREP evaluation serves at least 75% of the baseline's requests per
// second".
type Target struct {
	// Name says what is measured, such as "ofrep dev vane/baseline".
	Name string `json:"name"`
	// Min is the floor, in the figure's unit.
	Min float64 `json:"min"`
}

// Verdict is a Target checked against measurements.
type Verdict struct {
	Target Target `json:"target"`
	Spread Spread `json:"measured"`
	// Met reports whether the median reached Target.Min; never with no
	// measurement.
	Met bool `json:"met"`
}

// Check returns the verdict of t on s: met when s has at least one
// measurement and its median is at least t.Min.
func (t Target) Check(s Spread) Verdict {
	return Verdict{Target: t, Spread: s, Met: s.N > 0 && s.Median >= t.Min}
}

// String formats v on one line for figures in percent, such as
// "met     ofrep dev vane/baseline ≥ 75%: 78.0% (76.1–80.2%)".
func (v Verdict) String() string {
	word := "MISSED"
	switch {
	case v.Spread.N == 0:
		word = "NO DATA"
	case v.Met:
		word = "met"
	}
	return fmt.Sprintf("%-7s %s ≥ %g%%: %s", word, v.Target.Name, v.Target.Min, v.Spread.Percent())
}
