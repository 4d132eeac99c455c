package sdk

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
)

// compiledFlag is a flag document compiled once per version.
type compiledFlag struct {
	flag  *flag.Flag
	err   error
	tally *flag.Tally // nil when usage is not reported
}

// flagSlot holds the compiled form of a value, made on first use.
type flagSlot struct {
	p atomic.Pointer[compiledFlag]
}

func (s *flagSlot) compile(c *Client, name string, typ vane.Type, value string, sealed bool) *compiledFlag {
	if cf := s.p.Load(); cf != nil {
		return cf
	}
	cf := &compiledFlag{}
	switch {
	case sealed || (typ != "" && typ != vane.TypeString):
		cf.err = fmt.Errorf("sdk: %s: a flag must be a String parameter, not %s", name, typ)
	default:
		if cf.flag, cf.err = flag.Parse(name, value); cf.err != nil {
			cf.err = fmt.Errorf("sdk: flag %s: %w", name, cf.err)
		}
	}
	if c.reportsUsage() {
		cf.tally = c.usage.Tally(name, cf.flag)
	}
	if s.p.CompareAndSwap(nil, cf) && cf.err != nil {
		c.report(cf.err)
	}
	return s.p.Load()
}

// FlagResult is the outcome of evaluating a flag in the client.
type FlagResult struct {
	flag.Result
	Name    string // the absolute name
	Source  Source // SourceEnv, SourceStore, or SourceDefault when not found
	Version int64  // the store version evaluated (SourceStore)
	// Err explains a ReasonError result.
	Err error
}

// Flag evaluates the flag name (absolute, or relative to Paths[0])
// locally for evalCtx: the environment override if Config.Env names one,
// else the store's document. A missing or invalid flag gives ReasonError
// with a nil Value and an ErrorCode (FLAG_NOT_FOUND, PARSE_ERROR). ctx is
// not used for I/O; it is there for callers' tracing and for symmetry with
// OpenFeature.
func (c *Client) Flag(ctx context.Context, name string, evalCtx flag.Context) FlagResult {
	st := c.state.Load()
	e, ev := c.lookup(st, name)
	if ev != nil {
		cf := ev.flag.compile(c, c.absolute(name), vane.TypeString, ev.value, false)
		if cf.err == nil {
			return cf.count(FlagResult{Result: cf.flag.Evaluate(evalCtx, c.now(cf.flag)), Name: c.absolute(name), Source: SourceEnv})
		}
	}
	if e == nil {
		abs := c.absolute(name)
		return FlagResult{Name: abs, Source: SourceDefault,
			Result: flag.Result{Reason: flag.ReasonError, ErrorCode: flag.ErrFlagNotFound},
			Err:    fmt.Errorf("sdk: flag %s not found under the client's paths", abs)}
	}
	cf := e.flag.compile(c, e.name, e.typ, e.value, e.sealed)
	if cf.err != nil {
		return cf.count(FlagResult{Name: e.name, Source: SourceStore, Version: e.version,
			Result: flag.Result{Reason: flag.ReasonError, ErrorCode: flag.ErrParse}, Err: cf.err})
	}
	return cf.count(FlagResult{Result: cf.flag.Evaluate(evalCtx, c.now(cf.flag)), Name: e.name, Source: SourceStore, Version: e.version})
}

// now returns the time for evaluating f: the clock's for a flag with
// schedule conditions, and the zero time for the others, which do not
// look at it (reading the clock costs as much as evaluating a flag).
func (c *Client) now(f *flag.Flag) time.Time {
	if f.UsesTime() {
		return c.cfg.Now()
	}
	return time.Time{}
}

// count tallies an evaluation for the usage report and returns it.
func (cf *compiledFlag) count(r FlagResult) FlagResult {
	if cf.tally != nil {
		cf.tally.AddResult(r.Reason, r.Variant)
	}
	return r
}

// BoolFlag evaluates a boolean flag; def is served when the flag is
// missing, invalid, not boolean, or errs without a fallback_on_error.
func (c *Client) BoolFlag(ctx context.Context, name string, def bool, evalCtx flag.Context) bool {
	return typedFlag(c, ctx, name, def, evalCtx)
}

// StringFlag evaluates a flag with string variants; see BoolFlag.
func (c *Client) StringFlag(ctx context.Context, name, def string, evalCtx flag.Context) string {
	return typedFlag(c, ctx, name, def, evalCtx)
}

// FloatFlag evaluates a flag with number variants; see BoolFlag.
func (c *Client) FloatFlag(ctx context.Context, name string, def float64, evalCtx flag.Context) float64 {
	return typedFlag(c, ctx, name, def, evalCtx)
}

func typedFlag[T bool | string | float64](c *Client, ctx context.Context, name string, def T, evalCtx flag.Context) T {
	r := c.Flag(ctx, name, evalCtx)
	if v, ok := r.Value.(T); ok {
		return v
	}
	return def
}
