package rollout

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/vanehq/vane"
)

// Limits and defaults of a rollout spec.
const (
	// DefaultBake is how long a rollout bakes after its last step when
	// the spec does not say.
	DefaultBake = 5 * time.Minute
	// DefaultCheckEvery is how often monitors are checked by default.
	DefaultCheckEvery = 15 * time.Second
	// DefaultFactor is an exponential rollout's growth factor by default.
	DefaultFactor = 2.0
	// MinInterval bounds Every and CheckEvery from below.
	MinInterval = time.Second
	// MaxSteps bounds the steps of a plan.
	MaxSteps = 100
	// MaxMonitors bounds the monitors of a rollout.
	MaxMonitors = 10
)

// milli is a share in thousandths of a percent, the precision of
// rollout_percentage: plans are computed in it so that steps add up
// exactly.
func milli(pct float64) int64 { return int64(math.Round(pct * 1000)) }

func percent(m int64) float64 { return float64(m) / 1000 }

// formatShare writes a share as the shortest decimal, "12.5%".
func formatShare(pct float64) string { return strconv.FormatFloat(pct, 'f', -1, 64) + "%" }

// Plan returns the shares, in percent, of the steps of a flag rollout
// from the share start to target under spec's strategy: each above the
// one before, the last equal to target. Errors name the spec field that
// is wrong.
func Plan(spec *vane.RolloutSpec, start, target float64) ([]float64, error) {
	s, t := milli(start), milli(target)
	if t <= 0 || t > 100_000 {
		return nil, invalidf("target %s is not above 0 and at most 100", formatShare(target))
	}
	if s >= t {
		return nil, invalidf("the flag already serves %s, at or above the target %s: there is nothing to roll out", formatShare(start), formatShare(target))
	}
	step := milli(spec.Step)
	var shares []int64
	switch spec.Strategy {
	case vane.StrategyAllAtOnce:
		shares = []int64{t}
	case vane.StrategyLinear:
		if step <= 0 {
			return nil, invalidf("a linear rollout needs step, the percentage added at each step, above 0")
		}
		for v := s + step; v < t; v += step {
			shares = append(shares, v)
			if len(shares) > MaxSteps {
				break
			}
		}
		shares = append(shares, t)
	case vane.StrategyExponential:
		if step <= 0 {
			return nil, invalidf("an exponential rollout needs step, the percentage of its first step, above 0")
		}
		f := spec.Factor
		if f == 0 {
			f = DefaultFactor
		}
		if f <= 1 || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, invalidf("factor %v must be above 1: each step is the one before times the factor", spec.Factor)
		}
		for n := 0; len(shares) <= MaxSteps; n++ {
			v := milli(spec.Step * math.Pow(f, float64(n)))
			if v >= t {
				break
			}
			if v > s && (len(shares) == 0 || v > shares[len(shares)-1]) {
				shares = append(shares, v)
			}
		}
		shares = append(shares, t)
	case vane.StrategyCanary:
		if step <= 0 || step >= t {
			return nil, invalidf("a canary rollout needs step, the canary's percentage, above 0 and below the target %s", formatShare(target))
		}
		if step > s {
			shares = append(shares, step)
		}
		shares = append(shares, t)
	case vane.StrategySteps:
		if len(spec.Steps) == 0 {
			return nil, invalidf("a steps rollout needs steps, its percentages in order (such as 1,5,25,100)")
		}
		prev := int64(0)
		for i, p := range spec.Steps {
			v := milli(p)
			if v <= prev || v > 100_000 {
				return nil, invalidf("steps[%d] = %s: steps must rise, each above 0 and at most 100", i, formatShare(p))
			}
			if v > t {
				return nil, invalidf("steps[%d] = %s is above the target %s", i, formatShare(p), formatShare(target))
			}
			prev = v
			if v > s {
				shares = append(shares, v)
			}
		}
		if len(shares) == 0 || shares[len(shares)-1] != t {
			shares = append(shares, t)
		}
	default:
		return nil, invalidf("strategy %q is not one of all-at-once, linear, exponential, canary, steps", spec.Strategy)
	}
	if len(shares) > MaxSteps {
		return nil, invalidf("the plan has more than %d steps: take bigger steps", MaxSteps)
	}
	out := make([]float64, len(shares))
	for i, v := range shares {
		out[i] = percent(v)
	}
	return out, nil
}

// checkSpec validates the fields of a spec that do not depend on the
// parameter, fills in defaults, and normalizes its monitors.
func checkSpec(spec *vane.RolloutSpec) error {
	switch spec.Strategy {
	case vane.StrategyAllAtOnce, vane.StrategyLinear, vane.StrategyExponential, vane.StrategyCanary, vane.StrategySteps:
	case "":
		spec.Strategy = vane.StrategyAllAtOnce
	default:
		return invalidf("strategy %q is not one of all-at-once, linear, exponential, canary, steps", spec.Strategy)
	}
	if spec.Strategy != vane.StrategyExponential && spec.Factor != 0 {
		return invalidf("factor applies to exponential rollouts only")
	}
	if spec.Strategy != vane.StrategySteps && len(spec.Steps) > 0 {
		return invalidf("steps apply to a steps rollout only (strategy steps)")
	}
	if (spec.Strategy == vane.StrategyAllAtOnce || spec.Strategy == vane.StrategySteps) && spec.Step != 0 {
		return invalidf("step does not apply to a %s rollout", spec.Strategy)
	}
	if spec.Strategy == vane.StrategyAllAtOnce && spec.Every != 0 {
		return invalidf("every does not apply to an all-at-once rollout: it has one step")
	}
	if spec.Strategy != vane.StrategyAllAtOnce {
		if d := time.Duration(spec.Every); d < MinInterval {
			return invalidf("every %s: a %s rollout needs the time between steps, at least %s", d, spec.Strategy, MinInterval)
		}
	}
	if spec.Bake == nil {
		d := vane.Duration(DefaultBake)
		spec.Bake = &d
	}
	if *spec.Bake < 0 {
		return invalidf("bake %s must not be negative", time.Duration(*spec.Bake))
	}
	if len(spec.Monitors) > MaxMonitors {
		return invalidf("%d monitors: at most %d", len(spec.Monitors), MaxMonitors)
	}
	if spec.CheckEvery == 0 {
		spec.CheckEvery = vane.Duration(DefaultCheckEvery)
	}
	if d := time.Duration(spec.CheckEvery); d < MinInterval {
		return invalidf("check_every %s: monitors are checked at most every %s", d, MinInterval)
	}
	names := map[string]bool{}
	for i := range spec.Monitors {
		if err := normalizeMonitor(&spec.Monitors[i], i); err != nil {
			return err
		}
		if names[spec.Monitors[i].Name] {
			return invalidf("monitor %d: another monitor is named %q", i+1, spec.Monitors[i].Name)
		}
		names[spec.Monitors[i].Name] = true
	}
	if spec.Target != nil && (*spec.Target <= 0 || *spec.Target > 100 || math.IsNaN(*spec.Target)) {
		return invalidf("target %v is not above 0 and at most 100", *spec.Target)
	}
	if slices.ContainsFunc(spec.Steps, func(p float64) bool { return math.IsNaN(p) || math.IsInf(p, 0) }) {
		return invalidf("steps must be numbers from 0 to 100")
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "rollout: %s", fmt.Sprintf(format, args...))
}
