package sdk

import (
	"cmp"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vanehq/vane"
)

// kindBounds marks a value reported for being outside a tunable's bounds.
const kindBounds uint32 = 1 << 16

// Option configures a tunable: Env, Min or Max.
type Option interface{ tunableOption() }

type envOption string

func (envOption) tunableOption() {}

// Env names the environment variable that overrides a tunable. It is read
// once, when the tunable is declared.
func Env(variable string) Option { return envOption(variable) }

type boundOption struct {
	max bool
	v   any
}

func (boundOption) tunableOption() {}

// Min rejects store and environment values below v. Its type must be the
// tunable's (int, float64 or time.Duration; an int bound is accepted for
// a float tunable).
func Min[T cmp.Ordered](v T) Option { return boundOption{v: v} }

// Max rejects store and environment values above v; see Min.
func Max[T cmp.Ordered](v T) Option { return boundOption{max: true, v: v} }

// Tunables declares typed tunables under a path prefix.
type Tunables struct {
	c      *Client
	prefix string
}

// Tunables returns a declarer of tunables whose names are relative to
// prefix, itself absolute or relative to Paths[0] ("" is Paths[0]).
func (c *Client) Tunables(prefix string) *Tunables {
	p := c.absolute(prefix)
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return &Tunables{c: c, prefix: p}
}

// Tunable is a typed value declared once with its default, bounds and
// environment variable. Get resolves it from the environment variable,
// then the store, then the default, skipping (and reporting) values that
// do not parse or are out of bounds. It is safe for concurrent use.
type Tunable[T any] struct {
	c        *Client
	name     string
	def      T
	env      *envVal
	kind     uint32
	parse    func(string) (T, error)
	check    func(T) error // the bounds; nil when there are none
	min, max *T
	cache    atomic.Pointer[resolved[T]]
}

// resolved is a tunable's value for one client state.
type resolved[T any] struct {
	st      *state
	v       T
	source  Source
	version int64
	note    string
}

// Int declares an integer tunable.
func (t *Tunables) Int(name string, def int, opts ...Option) *Tunable[int] {
	return declareOrdered(t, name, def, kindInt, parseInt, opts)
}

// Float declares a floating-point tunable.
func (t *Tunables) Float(name string, def float64, opts ...Option) *Tunable[float64] {
	return declareOrdered(t, name, def, kindFloat, parseFloat, opts)
}

// Duration declares a duration tunable (a Go duration or a bare number of
// seconds in the store).
func (t *Tunables) Duration(name string, def time.Duration, opts ...Option) *Tunable[time.Duration] {
	return declareOrdered(t, name, def, kindDuration, parseDuration, opts)
}

// Bool declares a boolean tunable; it takes Env but no bounds.
func (t *Tunables) Bool(name string, def bool, opts ...Option) *Tunable[bool] {
	return declare(t, name, def, kindBool, parseBool, opts)
}

// String declares a string tunable; it takes Env but no bounds.
func (t *Tunables) String(name string, def string, opts ...Option) *Tunable[string] {
	return declare(t, name, def, 0, func(s string) (string, error) { return s, nil }, opts)
}

// declare builds a tunable without bounds; it panics on a bound option,
// a programming error found at declaration like regexp.MustCompile's.
func declare[T any](t *Tunables, name string, def T, kind uint32, parse func(string) (T, error), opts []Option) *Tunable[T] {
	tu := &Tunable[T]{c: t.c, name: t.prefix + strings.TrimPrefix(name, "/"), def: def, kind: kind, parse: parse}
	for _, o := range opts {
		switch o := o.(type) {
		case envOption:
			if v, ok := t.c.cfg.LookupEnv(string(o)); ok {
				tu.env = &envVal{name: string(o), value: v}
			}
		case boundOption:
			panic(fmt.Sprintf("sdk: tunable %s: a %T tunable takes no Min or Max", tu.name, def))
		}
	}
	return tu
}

func declareOrdered[T cmp.Ordered](t *Tunables, name string, def T, kind uint32, parse func(string) (T, error), opts []Option) *Tunable[T] {
	var plain []Option
	var lo, hi *T
	for _, o := range opts {
		b, ok := o.(boundOption)
		if !ok {
			plain = append(plain, o)
			continue
		}
		v, ok := convertBound[T](b.v)
		if !ok {
			panic(fmt.Sprintf("sdk: tunable %s%s: bound %v is a %T, the tunable a %T", t.prefix, name, b.v, b.v, def))
		}
		if b.max {
			hi = &v
		} else {
			lo = &v
		}
	}
	tu := declare(t, name, def, kind, parse, plain)
	tu.min, tu.max = lo, hi
	if lo != nil || hi != nil {
		tu.check = func(v T) error {
			if lo != nil && v < *lo {
				return fmt.Errorf("%v is below the minimum %v", v, *lo)
			}
			if hi != nil && v > *hi {
				return fmt.Errorf("%v is above the maximum %v", v, *hi)
			}
			return nil
		}
	}
	return tu
}

// convertBound returns a bound as T; an int bound converts to a float T.
func convertBound[T cmp.Ordered](b any) (T, bool) {
	if v, ok := b.(T); ok {
		return v, true
	}
	var zero T
	if i, ok := b.(int); ok && reflect.TypeOf(zero).Kind() == reflect.Float64 {
		return any(float64(i)).(T), true
	}
	return zero, false
}

// Name returns the tunable's absolute parameter name.
func (tu *Tunable[T]) Name() string { return tu.name }

// Get returns the tunable's value. It resolves the layers once per client
// snapshot and caches the result, so repeated calls cost an atomic load.
func (tu *Tunable[T]) Get() T {
	st := tu.c.state.Load()
	if r := tu.cache.Load(); r != nil && r.st == st {
		return r.v
	}
	r := tu.resolve(st)
	tu.cache.Store(r)
	return r.v
}

// resolve walks the layers for one state, reporting rejected values.
func (tu *Tunable[T]) resolve(st *state) *resolved[T] {
	var notes []string
	if ev := tu.env; ev != nil {
		v, err := tu.valid(ev.value)
		if err == nil {
			return &resolved[T]{st: st, v: v, source: SourceEnv}
		}
		if ev.reported.Or(kindBounds)&kindBounds == 0 {
			tu.c.report(&ValueError{Name: tu.name, Source: SourceEnv, EnvVar: ev.name, Kind: tu.kindName(), Err: err})
		}
		notes = append(notes, fmt.Sprintf("environment variable %s rejected: %v", ev.name, err))
	}
	e := st.m[tu.name]
	switch {
	case e == nil:
	case e.sealed:
		notes = append(notes, "SecureString read without Config.Decrypt")
	default:
		v, err := tu.valid(e.value)
		if err == nil {
			return &resolved[T]{st: st, v: v, source: SourceStore, version: e.version, note: strings.Join(notes, "; ")}
		}
		err = tu.c.redact(e.typ, err)
		if e.reported.Or(kindBounds)&kindBounds == 0 {
			tu.c.report(&ValueError{Name: tu.name, Source: SourceStore, Version: e.version, Kind: tu.kindName(), Err: err})
		}
		notes = append(notes, fmt.Sprintf("store version %d rejected: %v", e.version, err))
	}
	r := &resolved[T]{st: st, v: tu.def, source: SourceDefault, note: strings.Join(notes, "; ")}
	if e != nil {
		r.version = e.version
	}
	return r
}

// valid parses a value and checks it against the bounds.
func (tu *Tunable[T]) valid(s string) (T, error) {
	v, err := tu.parse(s)
	if err != nil {
		return v, err
	}
	if tu.check != nil {
		if err := tu.check(v); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (tu *Tunable[T]) kindName() string {
	if n, ok := kindNames[tu.kind]; ok {
		return n
	}
	return "string"
}

// Explain reports where the tunable's value comes from and why any layer
// above it was skipped.
func (tu *Tunable[T]) Explain() Explanation {
	tu.Get()
	r := tu.cache.Load()
	x := Explanation{
		Name: tu.name, Source: r.source, Value: fmt.Sprint(r.v), Version: r.version,
		Seq: r.st.seq, Stale: tu.c.Status().Stale, Note: r.note,
	}
	if tu.env != nil {
		x.EnvVar = tu.env.name
	}
	if e := r.st.m[tu.name]; e != nil {
		x.Type = e.typ
		if e.typ == vane.TypeSecureString && r.source == SourceStore {
			x.Value = ""
		}
	}
	if r.source == SourceDefault && x.Note == "" {
		x.Note = "neither the environment nor the store has a value"
	}
	return x
}
