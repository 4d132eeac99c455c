// Package openfeature is an OpenFeature provider for Go
// (github.com/open-feature/go-sdk) that evaluates Vane flags locally
// through an *sdk.Client: no network call per evaluation, and the
// client's change stream turns into PROVIDER_CONFIGURATION_CHANGED events.
//
// A flag key is a flag name relative to the provider's prefix, by default
// "features/" under the client's first path: with Paths
// {"/myapp/prod/"}, the key "new-checkout" evaluates
// /myapp/prod/features/new-checkout. A key beginning with "/" is an
// absolute name.
package openfeature

import (
	"context"
	"math"
	"strings"
	"sync"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/sdk"
)

// DefaultPrefix is where flag keys are looked up, relative to the
// client's first path.
const DefaultPrefix = "features/"

// Provider is an OpenFeature provider backed by an *sdk.Client. The
// client stays the caller's: Shutdown does not close it.
type Provider struct {
	client *sdk.Client
	prefix string

	mu     sync.Mutex
	events chan of.Event
	remove func()
}

// Option configures a Provider.
type Option func(*Provider)

// WithPrefix sets the prefix flag keys are relative to (itself relative
// to the client's first path, or absolute).
func WithPrefix(prefix string) Option {
	return func(p *Provider) {
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		p.prefix = prefix
	}
}

// NewProvider returns a provider evaluating through client.
func NewProvider(client *sdk.Client, opts ...Option) *Provider {
	p := &Provider{client: client, prefix: DefaultPrefix, events: make(chan of.Event, 64)}
	for _, o := range opts {
		o(p)
	}
	return p
}

var (
	_ of.FeatureProvider = (*Provider)(nil)
	_ of.StateHandler    = (*Provider)(nil)
	_ of.EventHandler    = (*Provider)(nil)
)

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: "vane"} }

// Hooks returns no hooks.
func (p *Provider) Hooks() []of.Hook { return nil }

// Init starts forwarding the client's flag changes as configuration
// change events.
func (p *Provider) Init(of.EvaluationContext) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remove == nil {
		p.remove = p.client.OnChange(p.prefix, p.changed)
	}
	return nil
}

// Shutdown stops forwarding changes.
func (p *Provider) Shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remove != nil {
		p.remove()
		p.remove = nil
	}
}

// EventChannel returns the provider's events.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

func (p *Provider) changed(c sdk.Change) {
	key := c.Name
	if prefix := p.client.Name(p.prefix); strings.HasPrefix(key, prefix) {
		key = strings.TrimPrefix(key, prefix)
	}
	ev := of.Event{ProviderName: "vane", EventType: of.ProviderConfigChange,
		ProviderEventDetails: of.ProviderEventDetails{Message: "flag changed", FlagChanges: []string{key}}}
	select {
	case p.events <- ev:
	default: // nobody drains the channel: drop rather than block the client
	}
}

// name maps a flag key to the name the client reads.
func (p *Provider) name(key string) string {
	if strings.HasPrefix(key, "/") {
		return key
	}
	return p.prefix + key
}

// evaluate evaluates a key and maps the result's reason, error and
// metadata to OpenFeature's.
func (p *Provider) evaluate(ctx context.Context, key string, flat of.FlattenedContext) (any, of.ProviderResolutionDetail) {
	r := p.client.Flag(ctx, p.name(key), context2(flat))
	d := of.ProviderResolutionDetail{Reason: of.Reason(r.Reason), Variant: r.Variant}
	if len(r.Metadata) > 0 {
		d.FlagMetadata = of.FlagMetadata(r.Metadata)
	}
	if r.ErrorCode != "" {
		msg := r.ErrorCode
		if r.Err != nil {
			msg = r.Err.Error()
		}
		d.ResolutionError = resolutionError(r.ErrorCode, msg)
	}
	return r.Value, d
}

func resolutionError(code, msg string) of.ResolutionError {
	switch code {
	case flag.ErrFlagNotFound:
		return of.NewFlagNotFoundResolutionError(msg)
	case flag.ErrParse:
		return of.NewParseErrorResolutionError(msg)
	case flag.ErrTypeMismatch:
		return of.NewTypeMismatchResolutionError(msg)
	case flag.ErrTargetingKeyMissing:
		return of.NewTargetingKeyMissingResolutionError("the flag has a percentage rollout and the context has no targeting key")
	}
	return of.NewGeneralResolutionError(msg)
}

// typed converts an evaluation to T, or def with TYPE_MISMATCH.
func typed[T any](v any, d of.ProviderResolutionDetail, def T, kind string) of.GenericResolutionDetail[T] {
	if d.ResolutionError != (of.ResolutionError{}) && v == nil {
		d.Reason = of.ErrorReason
		return of.GenericResolutionDetail[T]{Value: def, ProviderResolutionDetail: d}
	}
	t, ok := v.(T)
	if !ok {
		return of.GenericResolutionDetail[T]{Value: def, ProviderResolutionDetail: of.ProviderResolutionDetail{
			Reason: of.ErrorReason, ResolutionError: of.NewTypeMismatchResolutionError("the flag's values are not " + kind)}}
	}
	return of.GenericResolutionDetail[T]{Value: t, ProviderResolutionDetail: d}
}

// BooleanEvaluation evaluates a boolean flag.
func (p *Provider) BooleanEvaluation(ctx context.Context, key string, def bool, flat of.FlattenedContext) of.BoolResolutionDetail {
	v, d := p.evaluate(ctx, key, flat)
	return typed(v, d, def, "booleans")
}

// StringEvaluation evaluates a flag with string variants.
func (p *Provider) StringEvaluation(ctx context.Context, key string, def string, flat of.FlattenedContext) of.StringResolutionDetail {
	v, d := p.evaluate(ctx, key, flat)
	return typed(v, d, def, "strings")
}

// FloatEvaluation evaluates a flag with number variants.
func (p *Provider) FloatEvaluation(ctx context.Context, key string, def float64, flat of.FlattenedContext) of.FloatResolutionDetail {
	v, d := p.evaluate(ctx, key, flat)
	return typed(v, d, def, "numbers")
}

// IntEvaluation evaluates a flag with integer number variants.
func (p *Provider) IntEvaluation(ctx context.Context, key string, def int64, flat of.FlattenedContext) of.IntResolutionDetail {
	v, d := p.evaluate(ctx, key, flat)
	if f, ok := v.(float64); ok {
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return of.IntResolutionDetail{Value: def, ProviderResolutionDetail: of.ProviderResolutionDetail{
				Reason: of.ErrorReason, ResolutionError: of.NewTypeMismatchResolutionError("the flag's value is not an integer")}}
		}
		v = int64(f)
	}
	return typed(v, d, def, "integers")
}

// ObjectEvaluation evaluates a flag of any kind; object variants come back
// as map[string]any.
func (p *Provider) ObjectEvaluation(ctx context.Context, key string, def any, flat of.FlattenedContext) of.InterfaceResolutionDetail {
	v, d := p.evaluate(ctx, key, flat)
	if v == nil {
		d.Reason = of.ErrorReason
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	return of.InterfaceResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

// context2 converts OpenFeature's flattened context into a flag context,
// with numbers as float64 the way JSON decodes them, which is how flag
// conditions compare them.
func context2(flat of.FlattenedContext) flag.Context {
	out := make(flag.Context, len(flat))
	for k, v := range flat {
		out[k] = jsonish(v)
	}
	return out
}

func jsonish(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonish(e)
		}
		return out
	}
	return v
}
