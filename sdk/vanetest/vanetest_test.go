package vanetest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/vanehq/vane/sdk"
	"github.com/vanehq/vane/sdk/vanetest"
)

func TestFakeValuesAndCallbacks(t *testing.T) {
	t.Setenv("VANETEST_TTL", "7")
	f := vanetest.New(t, "/app/prod/")
	c := f.Client
	var seen []string
	c.OnChange("tuning/", func(ch sdk.Change) { seen = append(seen, ch.Name+"="+ch.Value) })

	f.SetInt("tuning/limit", 5)
	f.SetDuration("tuning/timeout", 1500*time.Millisecond)
	f.SetList("tuning/regions", "eu", "us")
	f.SetJSON("tuning/doc", map[string]int{"n": 3})
	f.SetSecret("db/password", "hunter2")
	if c.Int("tuning/limit", 0) != 5 || c.Duration("tuning/timeout", 0) != 1500*time.Millisecond {
		t.Errorf("limit %d timeout %v", c.Int("tuning/limit", 0), c.Duration("tuning/timeout", 0))
	}
	if got := c.StringList("tuning/regions", nil); !slices.Equal(got, []string{"eu", "us"}) {
		t.Errorf("regions %q", got)
	}
	var doc struct{ N int }
	if c.JSON("tuning/doc", &doc); doc.N != 3 {
		t.Errorf("doc %+v", doc)
	}
	if c.String("db/password", "") != "hunter2" {
		t.Error("secret not readable")
	}
	want := []string{"/app/prod/tuning/limit=5", "/app/prod/tuning/timeout=1.5s", "/app/prod/tuning/regions=eu,us", `/app/prod/tuning/doc={"n":3}`}
	if !slices.Equal(seen, want) {
		t.Errorf("callbacks saw %q, want %q (synchronously, in order)", seen, want)
	}

	// Tunables read the environment as in production.
	ttl := c.Tunables("tuning").Int("ttl", 60, sdk.Env("VANETEST_TTL"), sdk.Max(10))
	if ttl.Get() != 7 || ttl.Explain().Source != sdk.SourceEnv {
		t.Errorf("ttl = %d from %s", ttl.Get(), ttl.Explain().Source)
	}
	f.SetInt("tuning/limit", 6)
	if x := c.Explain("tuning/limit"); x.Version != 2 || x.Value != "6" {
		t.Errorf("Explain after a second set = %+v", x)
	}
}
