package sdk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/sdk"
)

func TestFlags(t *testing.T) {
	env := map[string]string{"CHECKOUT_FLAG": `{"enabled": false}`}
	rec := newRecorder()
	c, l, err := sdk.NewLocal(sdk.Config{
		Paths: []string{"/app/prod/"}, OnError: rec.onError,
		Env:       map[string]string{"features/forced": "CHECKOUT_FLAG"},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	l.Put("features/checkout", vane.TypeString, `{"default": false, "metadata": {"jira": "PAY-1"}, "rules": [
		{"name": "premium", "when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}]}`)
	l.Put("features/color", vane.TypeString, `{"variants": {"red": "#f00", "blue": "#00f"}, "default_variant": "blue"}`)
	l.Put("features/broken", vane.TypeString, `{"rollout_percentage": "lots"}`)
	l.Put("features/forced", vane.TypeString, `true`)

	r := c.Flag(ctx, "features/checkout", flag.Context{"tier": "premium"})
	if r.Value != true || r.Variant != "on" || r.Reason != flag.ReasonTargetingMatch || r.Rule != "premium" || r.Metadata["jira"] != "PAY-1" || r.Version != 1 || r.Source != sdk.SourceStore {
		t.Errorf("Flag(premium) = %+v", r)
	}
	if c.BoolFlag(ctx, "features/checkout", true, flag.Context{"tier": "basic"}) {
		t.Error("BoolFlag(basic) = true, want the document's default false")
	}
	if got := c.StringFlag(ctx, "/app/prod/features/color", "none", nil); got != "#00f" {
		t.Errorf("StringFlag = %q", got)
	}
	if !c.BoolFlag(ctx, "features/color", true, nil) {
		t.Error("BoolFlag of a string flag: want the caller's default")
	}
	if r := c.Flag(ctx, "features/missing", nil); r.Reason != flag.ReasonError || r.ErrorCode != flag.ErrFlagNotFound || r.Err == nil {
		t.Errorf("missing flag = %+v", r)
	}
	if !c.BoolFlag(ctx, "features/missing", true, nil) {
		t.Error("missing flag: want the caller's default")
	}
	for range 3 {
		if r := c.Flag(ctx, "features/broken", nil); r.ErrorCode != flag.ErrParse {
			t.Errorf("broken flag = %+v", r)
		}
	}
	if n := rec.errCount(); n != 1 {
		t.Errorf("%d reports for a broken flag read 3 times, want 1 (compiled once per version)", n)
	}
	// The environment overrides the store, for flags too.
	if r := c.Flag(ctx, "features/forced", nil); r.Value != false || r.Reason != flag.ReasonDisabled || r.Source != sdk.SourceEnv {
		t.Errorf("env-overridden flag = %+v", r)
	}
	// A new version is a new compilation.
	l.Put("features/checkout", vane.TypeString, `true`)
	if r := c.Flag(ctx, "features/checkout", nil); r.Value != true || r.Reason != flag.ReasonStatic || r.Version != 2 {
		t.Errorf("after the change = %+v", r)
	}
}

func TestFlagUsageReported(t *testing.T) {
	s := startServer(t)
	s.put("/app/features/x", `{"rollout_percentage": 50}`)
	s.put("/app/features/quiet", `true`)
	c, _ := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, UsageInterval: 50 * time.Millisecond})
	quiet, _ := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, DisableUsage: true})
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		c.Flag(ctx, "features/x", flag.Context{"targetingKey": fmt.Sprint("user-", i)})
		quiet.Flag(ctx, "features/quiet", nil)
	}
	c.Flag(ctx, "features/x", nil) // an error: counted under ""
	var rows []vane.FlagUsage
	waitUntil(t, "the usage report", func() bool {
		var err error
		rows, err = s.store.Usage(ctx, "/app/", "")
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range rows {
			n += r.Count
		}
		return n == 21
	})
	for _, r := range rows {
		if r.Name != "/app/features/x" || r.Day != time.Now().UTC().Format(time.DateOnly) {
			t.Errorf("usage row %+v", r)
		}
	}
	// Counts made just before Close are sent by Close.
	c.Flag(ctx, "features/x", flag.Context{"targetingKey": "last"})
	c.Close()
	rows, _ = s.store.Usage(ctx, "/app/", "")
	var n int64
	for _, r := range rows {
		n += r.Count
	}
	if n != 22 {
		t.Errorf("after Close %d evaluations recorded, want 22: %+v", n, rows)
	}
}

func TestFlagErrorsServedWithFallbackCountedUnderEmptyVariant(t *testing.T) {
	s := startServer(t)
	s.put("/app/features/x", `{"rollout_percentage": 100, "fallback_on_error": false}`)
	c, _ := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, UsageInterval: 50 * time.Millisecond})
	ctx := context.Background()
	c.Flag(ctx, "features/x", flag.Context{"targetingKey": "u1"})
	for range 2 {
		// No targeting key: an error, served the fallback.
		r := c.Flag(ctx, "features/x", nil)
		if r.Value != false || r.Variant != "off" || r.Reason != flag.ReasonError || r.ErrorCode != flag.ErrTargetingKeyMissing {
			t.Fatalf("without a key: %+v", r)
		}
	}
	counts := map[string]int64{}
	waitUntil(t, "the usage report", func() bool {
		rows, err := s.store.Usage(ctx, "/app/", "")
		if err != nil {
			t.Fatal(err)
		}
		clear(counts)
		var n int64
		for _, r := range rows {
			counts[r.Variant] += r.Count
			n += r.Count
		}
		return n == 3
	})
	if counts[""] != 2 || counts["on"] != 1 || counts["off"] != 0 {
		t.Errorf("counts by variant %v, want 2 errors under \"\", 1 on, 0 off", counts)
	}
}

func TestScheduleFlagsReadTheClock(t *testing.T) {
	monday := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c, l, err := sdk.NewLocal(sdk.Config{Paths: []string{"/app/"}, Now: func() time.Time { return monday }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Put("features/weekday", vane.TypeString, `{"default": false, "rules": [{"name": "monday", "when_match": true, "conditions": [
		{"action": "SCHEDULE_BETWEEN_DAYS_OF_WEEK", "key": "CURRENT_DAY_OF_WEEK", "value": {"DAYS": ["MONDAY"], "TIMEZONE": "UTC"}}]}]}`)
	if r := c.Flag(context.Background(), "features/weekday", nil); r.Value != true || r.Rule != "monday" {
		t.Errorf("on a Monday: %+v", r)
	}
	monday = monday.Add(24 * time.Hour)
	if c.BoolFlag(context.Background(), "features/weekday", true, nil) {
		t.Error("on a Tuesday the Monday rule matched")
	}
}
