package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/sdk"
)

// benchClient returns a client holding 1,000 parameters under /app/prod/,
// among them features/checkout = "true" and tuning/name = "value".
func benchClient(b *testing.B) *sdk.Client {
	b.Helper()
	c, l, err := sdk.NewLocal(sdk.Config{Paths: []string{"/app/prod/"}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 998 {
		l.Put(fmt.Sprintf("tuning/p%04d", i), vane.TypeString, fmt.Sprint(i))
	}
	l.Put("features/checkout", vane.TypeString, "true")
	l.Put("tuning/name", vane.TypeString, "value")
	b.Cleanup(func() { c.Close() })
	return c
}

var (
	sinkString string
	sinkBool   bool
	sinkInt    int
)

// BenchmarkRead measures the cached read path, next to the hand-written
// cache it replaces (a mutex-guarded map with a TTL check).
func BenchmarkRead(b *testing.B) {
	c := benchClient(b)
	b.Run("String", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkString = c.String("/app/prod/tuning/name", "")
		}
	})
	b.Run("Bool", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBool = c.Bool("/app/prod/features/checkout", false)
		}
	})
	b.Run("BoolRelativeName", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBool = c.Bool("features/checkout", false)
		}
	})
	b.Run("Int", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = c.Int("/app/prod/tuning/p0123", 0)
		}
	})
	b.Run("TunableInt", func(b *testing.B) {
		ttl := c.Tunables("tuning").Int("p0123", 0, sdk.Min(0), sdk.Max(1000))
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = ttl.Get()
		}
	})
	b.Run("BoolParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var v bool
			for pb.Next() {
				v = c.Bool("/app/prod/features/checkout", false)
			}
			sinkBool = v
		})
	})

	// Baseline: the TTL cache teams write by hand.
	cache := &ttlCache{m: map[string]ttlEntry{}}
	for i := range 1000 {
		cache.m[fmt.Sprintf("/app/prod/tuning/p%04d", i)] = ttlEntry{value: "v", expires: time.Now().Add(time.Hour)}
	}
	cache.m["/app/prod/features/checkout"] = ttlEntry{value: "true", expires: time.Now().Add(time.Hour)}
	b.Run("BaselineTTLCache", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkString, _ = cache.get("/app/prod/features/checkout")
		}
	})
	b.Run("BaselineTTLCacheParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var v string
			for pb.Next() {
				v, _ = cache.get("/app/prod/features/checkout")
			}
			sinkString = v
		})
	})
}

type ttlEntry struct {
	value   string
	expires time.Time
}

type ttlCache struct {
	mu sync.RWMutex
	m  map[string]ttlEntry
}

func (c *ttlCache) get(name string) (string, bool) {
	c.mu.RLock()
	e, ok := c.m[name]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		return "", false
	}
	return e.value, true
}

var sinkResult sdk.FlagResult

// BenchmarkFlag measures local evaluation in a client opened on a server
// (usage counting on, as in production): a boolean document flag, and a
// flag with five conditions and a percentage rollout.
func BenchmarkFlag(b *testing.B) {
	c := openOn(b, map[string]string{
		"/app/prod/features/simple": `{"enabled": true, "excluded_user_ids": ["u-banned"]}`,
		"/app/prod/features/targeted": `{"default": false, "rules": [{"name": "eu-premium", "when_match": true,
		"rollout_percentage": 50, "conditions": [
		{"action": "EQUALS", "key": "tier", "value": "premium"},
		{"action": "IN", "key": "region", "value": ["eu-west-1", "eu-central-1"]},
		{"action": "KEY_GREATER_THAN_OR_EQUAL_VALUE", "key": "age_days", "value": 30},
		{"action": "STARTSWITH", "key": "email", "value": "a"},
		{"action": "NOT_EQUALS", "key": "plan", "value": "trial"}]}]}`,
	})
	ctx := context.Background()
	evalCtx := flag.Context{"targetingKey": "user-42", "tier": "premium", "region": "eu-west-1", "age_days": 45.0, "email": "ann@example.com", "plan": "pro"}
	b.Run("BoolDocument", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBool = c.BoolFlag(ctx, "/app/prod/features/simple", false, evalCtx)
		}
	})
	b.Run("FiveConditionsAndRollout", func(b *testing.B) {
		if r := c.Flag(ctx, "/app/prod/features/targeted", evalCtx); r.Rule != "eu-premium" && r.Reason != flag.ReasonDefault {
			b.Fatalf("unexpected result %+v", r)
		}
		b.ReportAllocs()
		for b.Loop() {
			sinkResult = c.Flag(ctx, "/app/prod/features/targeted", evalCtx)
		}
	})
}

// openOn opens a client on a stand-in server that serves a snapshot of
// params, holds the watch stream open and accepts usage reports.
func openOn(b *testing.B, params map[string]string) *sdk.Client {
	b.Helper()
	var snap struct {
		Sequence   int64            `json:"sequence"`
		Parameters []map[string]any `json:"parameters"`
	}
	for name, value := range params {
		snap.Parameters = append(snap.Parameters, map[string]any{"name": name, "type": "String", "value": value, "version": 1})
	}
	body, _ := json.Marshal(snap)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/snapshot":
			w.Write(body)
		case "/v1/watch":
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	c, err := sdk.Open(context.Background(), sdk.Config{Server: srv.URL, Paths: []string{"/app/prod/"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return c
}
