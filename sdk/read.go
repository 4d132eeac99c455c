package sdk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// Value kinds, one bit each in entry.reported and envVal.reported.
const (
	kindBool uint32 = 1 << iota
	kindInt
	kindFloat
	kindDuration
	kindJSON
)

var kindNames = map[uint32]string{
	kindBool: "bool", kindInt: "int", kindFloat: "float", kindDuration: "duration", kindJSON: "JSON",
}

// ValueError reports a value the client rejected in favour of the next
// layer: one that does not parse as the kind read, or a tunable's value
// outside its bounds. It never holds a SecureString's value.
type ValueError struct {
	Name    string // the parameter's absolute name
	Source  Source // SourceEnv or SourceStore
	EnvVar  string // the variable, for SourceEnv
	Version int64  // the store version, for SourceStore
	Kind    string // what the value was read as: "int", "bool", ...
	Err     error
}

// Error implements the error interface.
func (e *ValueError) Error() string {
	where := fmt.Sprintf("store version %d", e.Version)
	if e.Source == SourceEnv {
		where = "environment variable " + e.EnvVar
	}
	return fmt.Sprintf("sdk: %s: %s value from %s rejected: %v", e.Name, e.Kind, where, e.Err)
}

// Unwrap returns the parse or bounds error.
func (e *ValueError) Unwrap() error { return e.Err }

// read resolves name through the layers: the environment override, the
// store, then def. A value that fails to parse is reported (once per
// version and kind) and skipped.
func read[T any](c *Client, name string, def T, kind uint32, parse func(string) (T, error)) T {
	e, ev := c.lookup(c.state.Load(), name)
	if ev != nil {
		v, err := parse(ev.value)
		if err == nil {
			return v
		}
		c.rejectEnv(name, ev, kind, err)
	}
	if e == nil || e.sealed {
		return def
	}
	v, err := parse(e.value)
	if err != nil {
		c.rejectEntry(e, kind, err)
		return def
	}
	return v
}

// rejectEntry reports a store value once per version and kind.
func (c *Client) rejectEntry(e *entry, kind uint32, err error) {
	if e.reported.Or(kind)&kind != 0 {
		return
	}
	c.report(&ValueError{Name: e.name, Source: SourceStore, Version: e.version, Kind: kindNames[kind], Err: c.redact(e.typ, err)})
}

// rejectEnv reports an environment value once per kind.
func (c *Client) rejectEnv(name string, ev *envVal, kind uint32, err error) {
	if ev.reported.Or(kind)&kind != 0 {
		return
	}
	c.report(&ValueError{Name: c.absolute(name), Source: SourceEnv, EnvVar: ev.name, Kind: kindNames[kind], Err: err})
}

// redact drops the text of a parse error for SecureString values, since
// strconv and encoding/json quote the input.
func (c *Client) redact(t vane.Type, err error) error {
	if t == vane.TypeSecureString {
		return fmt.Errorf("the SecureString value does not parse (value not shown)")
	}
	return err
}

// String returns the value of a parameter, or def when no layer has one.
func (c *Client) String(name, def string) string {
	e, ev := c.lookup(c.state.Load(), name)
	if ev != nil {
		return ev.value
	}
	if e == nil || e.sealed {
		return def
	}
	return e.value
}

// Bool returns a parameter parsed by strconv.ParseBool ("true", "false",
// "1", "0", ...), or def.
func (c *Client) Bool(name string, def bool) bool {
	return read(c, name, def, kindBool, parseBool)
}

// Int returns a parameter parsed as a base-10 integer, or def.
func (c *Client) Int(name string, def int) int {
	return read(c, name, def, kindInt, parseInt)
}

// Float returns a parameter parsed as a floating-point number, or def.
func (c *Client) Float(name string, def float64) float64 {
	return read(c, name, def, kindFloat, parseFloat)
}

// Duration returns a parameter parsed as a Go duration ("250ms", "1h30m")
// or a bare integer number of seconds ("300"), or def.
func (c *Client) Duration(name string, def time.Duration) time.Duration {
	return read(c, name, def, kindDuration, parseDuration)
}

// StringList returns a parameter split at commas (a StringList's form),
// or def. The slice is the caller's own.
func (c *Client) StringList(name string, def []string) []string {
	e, ev := c.lookup(c.state.Load(), name)
	switch {
	case ev != nil:
		return strings.Split(ev.value, ",")
	case e == nil || e.sealed:
		return def
	}
	return strings.Split(e.value, ",")
}

// JSON decodes a parameter's JSON value into dst, a non-nil pointer that
// holds the default on entry; it returns the layer that supplied the
// value. A value that does not decode leaves dst untouched (the default
// stands) and is reported.
func (c *Client) JSON(name string, dst any) Source {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		c.report(fmt.Errorf("sdk: JSON(%q): destination must be a non-nil pointer, not %T", name, dst))
		return SourceDefault
	}
	decode := func(s string) (reflect.Value, error) {
		v := reflect.New(rv.Elem().Type())
		err := json.Unmarshal([]byte(s), v.Interface())
		return v, err
	}
	e, ev := c.lookup(c.state.Load(), name)
	if ev != nil {
		v, err := decode(ev.value)
		if err == nil {
			rv.Elem().Set(v.Elem())
			return SourceEnv
		}
		c.rejectEnv(name, ev, kindJSON, err)
	}
	if e == nil || e.sealed {
		return SourceDefault
	}
	v, err := decode(e.value)
	if err != nil {
		c.rejectEntry(e, kindJSON, err)
		return SourceDefault
	}
	rv.Elem().Set(v.Elem())
	return SourceStore
}

func parseBool(s string) (bool, error) { return strconv.ParseBool(strings.TrimSpace(s)) }

func parseInt(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

func parseFloat(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(1<<63-1)/int64(time.Second) || n < -int64(1<<63-1)/int64(time.Second) {
			return 0, fmt.Errorf("%d seconds is out of a duration's range", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// Explanation says where a value comes from, for debugging.
type Explanation struct {
	Name    string    // the absolute name
	Source  Source    // the layer that answers a String read
	Value   string    // the value read; "" for SourceDefault and SecureStrings
	EnvVar  string    // the overriding variable, when one is set
	Type    vane.Type // the store's type, when the store has the name
	Version int64     // the store's version, when the store has the name
	Seq     int64     // the change-log sequence of the snapshot read
	Stale   bool      // the snapshot may be behind the server (see Status)
	Note    string    // why a layer was skipped, if one was
}

// Explain reports which layer answers a String read of name and what the
// store holds for it.
func (c *Client) Explain(name string) Explanation {
	st := c.state.Load()
	e, ev := c.lookup(st, name)
	x := Explanation{Name: c.absolute(name), Source: SourceDefault, Seq: st.seq, Stale: c.Status().Stale}
	if e != nil {
		x.Type, x.Version = e.typ, e.version
	}
	switch {
	case ev != nil:
		x.Source, x.EnvVar, x.Value = SourceEnv, ev.name, ev.value
		if e != nil {
			x.Note = fmt.Sprintf("overrides store version %d", e.version)
		}
	case e == nil:
		x.Note = "not in the store under the client's paths"
	case e.sealed:
		x.Note = "SecureString read without Config.Decrypt"
	default:
		x.Source = SourceStore
		if e.typ != vane.TypeSecureString {
			x.Value = e.value
		}
	}
	return x
}

// Name returns the absolute form of a name as the client reads it: names
// not beginning with "/" are relative to Paths[0].
func (c *Client) Name(name string) string { return c.absolute(name) }
