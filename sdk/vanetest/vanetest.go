// Package vanetest gives unit tests an *sdk.Client whose values the test
// sets, with no server: code under test reads flags and tunables through
// the same API it uses in production, and the test turns them on and off
// to check both paths.
//
// Values set through a Fake are visible to reads as soon as the setter
// returns, and the client's OnChange callbacks have run by then.
// Environment overrides work as in production: set the variable with
// t.Setenv before declaring the tunable (or before New for Config.Env).
package vanetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sdk"
)

// Fake is an in-memory source of values for an *sdk.Client.
type Fake struct {
	// Client is the client to hand to the code under test.
	Client *sdk.Client
	tb     testing.TB
	local  *sdk.Local
}

// New returns a Fake whose client reads names relative to the first of
// paths ("/" when none are given), closed when the test ends.
func New(tb testing.TB, paths ...string) *Fake {
	tb.Helper()
	return NewConfig(tb, sdk.Config{Paths: paths})
}

// NewConfig returns a Fake with the client settings of cfg that apply
// without a server (Paths, Env, LookupEnv, Logger, OnError).
func NewConfig(tb testing.TB, cfg sdk.Config) *Fake {
	tb.Helper()
	c, l, err := sdk.NewLocal(cfg)
	if err != nil {
		tb.Fatalf("vanetest: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return &Fake{Client: c, tb: tb, local: l}
}

// Set sets a String parameter.
func (f *Fake) Set(name, value string) {
	f.tb.Helper()
	f.put(name, vane.TypeString, value)
}

// SetBool sets a parameter to "true" or "false": a bare feature flag.
func (f *Fake) SetBool(name string, v bool) { f.tb.Helper(); f.Set(name, strconv.FormatBool(v)) }

// SetInt sets a parameter to an integer.
func (f *Fake) SetInt(name string, v int) { f.tb.Helper(); f.Set(name, strconv.Itoa(v)) }

// SetDuration sets a parameter to a duration.
func (f *Fake) SetDuration(name string, v time.Duration) { f.tb.Helper(); f.Set(name, v.String()) }

// SetList sets a StringList parameter.
func (f *Fake) SetList(name string, v ...string) {
	f.tb.Helper()
	f.put(name, vane.TypeStringList, strings.Join(v, ","))
}

// SetSecret sets a SecureString parameter, as a client with
// Config.Decrypt reads it.
func (f *Fake) SetSecret(name, value string) {
	f.tb.Helper()
	f.put(name, vane.TypeSecureString, value)
}

// SetJSON sets a parameter to the JSON encoding of v.
func (f *Fake) SetJSON(name string, v any) {
	f.tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.tb.Fatalf("vanetest: SetJSON %s: %v", name, err)
	}
	f.Set(name, string(b))
}

// Delete removes a parameter, so reads fall back to their defaults.
func (f *Fake) Delete(name string) { f.local.Delete(name) }

func (f *Fake) put(name string, typ vane.Type, value string) {
	f.tb.Helper()
	if err := f.local.Put(name, typ, value); err != nil {
		f.tb.Fatalf("vanetest: %v", err)
	}
}
