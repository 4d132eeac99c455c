package openfeature_test

import (
	"context"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sdk"
	vaneof "github.com/vanehq/vane/sdk/openfeature"
)

// setup returns an OpenFeature client on a Vane provider over a local
// client, and the Local that sets the flags.
func setup(t *testing.T) (*of.Client, *sdk.Local) {
	t.Helper()
	c, l, err := sdk.NewLocal(sdk.Config{Paths: []string{"/app/prod/"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	api := isolated.NewAPI()
	t.Cleanup(func() { api.Shutdown(context.Background()) })
	if err := api.SetProviderAndWait(context.Background(), vaneof.NewProvider(c)); err != nil {
		t.Fatal(err)
	}
	return api.NewClient(), l
}

func TestProviderEvaluations(t *testing.T) {
	client, l := setup(t)
	ctx := context.Background()
	l.Put("features/checkout", vane.TypeString, `{"default": false, "metadata": {"jira": "PAY-1"}, "rules": [
		{"name": "premium", "when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]},
		{"name": "staff", "when_match": true, "conditions": [{"action": "KEY_GREATER_THAN_VALUE", "key": "level", "value": 5}]}]}`)
	l.Put("features/color", vane.TypeString, `{"variants": {"red": "#f00", "blue": "#00f"}, "default_variant": "blue"}`)
	l.Put("features/limit", vane.TypeString, `{"variants": {"low": 10, "high": 100.5}, "default_variant": "low", "off_variant": "low"}`)
	l.Put("features/ratio", vane.TypeString, `{"variants": {"high": 100.5}, "default_variant": "high", "off_variant": "high"}`)
	l.Put("features/theme", vane.TypeString, `{"variants": {"dark": {"bg": "#000"}}, "default_variant": "dark", "off_variant": "dark"}`)
	l.Put("features/rollout", vane.TypeString, `{"rollout_percentage": 100}`)
	l.Put("features/broken", vane.TypeString, `{"rollout_percentage": "lots"}`)

	d, err := client.BooleanValueDetails(ctx, "checkout", false, of.NewEvaluationContext("user-1", map[string]any{"tier": "premium"}))
	if err != nil || !d.Value || d.Reason != of.TargetingMatchReason || d.Variant != "on" || d.FlagMetadata["jira"] != "PAY-1" {
		t.Errorf("premium: %+v, %v", d, err)
	}
	// An int attribute compares as a JSON number.
	d, err = client.BooleanValueDetails(ctx, "checkout", false, of.NewEvaluationContext("user-1", map[string]any{"level": 7}))
	if err != nil || !d.Value || d.Variant != "on" {
		t.Errorf("int attribute: %+v, %v", d, err)
	}
	d, _ = client.BooleanValueDetails(ctx, "checkout", true, of.NewEvaluationContext("user-1", nil))
	if d.Value || d.Reason != of.DefaultReason {
		t.Errorf("no match: %+v", d)
	}
	s, _ := client.StringValueDetails(ctx, "color", "none", of.EvaluationContext{})
	if s.Value != "#00f" || s.Reason != of.StaticReason {
		t.Errorf("string: %+v", s)
	}
	i, err := client.IntValueDetails(ctx, "limit", 0, of.EvaluationContext{})
	if err != nil || i.Value != 10 {
		t.Errorf("int: %+v, %v", i, err)
	}
	i, err = client.IntValueDetails(ctx, "ratio", 3, of.EvaluationContext{})
	if err == nil || i.Value != 3 || i.ErrorCode != of.TypeMismatchCode {
		t.Errorf("non-integer as int: %+v, %v", i, err)
	}
	o, _ := client.ObjectValueDetails(ctx, "theme", nil, of.EvaluationContext{})
	if m, ok := o.Value.(map[string]any); !ok || m["bg"] != "#000" {
		t.Errorf("object: %+v", o)
	}
	// Errors: the caller's default and OpenFeature's codes.
	for _, tt := range []struct {
		key  string
		code of.ErrorCode
	}{{"missing", of.FlagNotFoundCode}, {"broken", of.ParseErrorCode}, {"color", of.TypeMismatchCode}, {"rollout", of.TargetingKeyMissingCode}} {
		d, err := client.BooleanValueDetails(ctx, tt.key, true, of.EvaluationContext{})
		if err == nil || !d.Value || d.ErrorCode != tt.code || d.Reason != of.ErrorReason {
			t.Errorf("%s: %+v, %v; want the default with %s", tt.key, d, err, tt.code)
		}
	}
	// An absolute key.
	if v, _ := client.BooleanValue(ctx, "/app/prod/features/rollout", false, of.NewEvaluationContext("user-1", nil)); !v {
		t.Error("absolute key: false")
	}
}

func TestProviderConfigChangeEvents(t *testing.T) {
	client, l := setup(t)
	changed := make(chan []string, 10)
	cb := func(d of.EventDetails) { changed <- d.FlagChanges }
	client.AddHandler(of.ProviderConfigChange, &cb)
	l.Put("features/checkout", vane.TypeString, "true")
	l.Put("tuning/ttl", vane.TypeString, "5") // not a flag
	select {
	case keys := <-changed:
		if len(keys) != 1 || keys[0] != "checkout" {
			t.Errorf("FlagChanges = %q, want [checkout]", keys)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no PROVIDER_CONFIGURATION_CHANGED event")
	}
	select {
	case keys := <-changed:
		t.Errorf("an event for a non-flag change: %q", keys)
	case <-time.After(100 * time.Millisecond):
	}
	if v, _ := client.BooleanValue(context.Background(), "checkout", false, of.EvaluationContext{}); !v {
		t.Error("the new value is not served")
	}
}
