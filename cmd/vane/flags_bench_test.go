package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/vanehq/vane/bench"
)

// benchFlagDoc is a flag with five conditions and a percentage rollout.
const benchFlagDoc = `{"default": false, "rules": [{"name": "eu-premium", "when_match": true, "rollout_percentage": 50,
	"conditions": [
		{"action": "EQUALS", "key": "tier", "value": "premium"},
		{"action": "IN", "key": "region", "value": ["eu-west-1", "eu-central-1"]},
		{"action": "KEY_GREATER_THAN_OR_EQUAL_VALUE", "key": "age_days", "value": 30},
		{"action": "STARTSWITH", "key": "email", "value": "a"},
		{"action": "NOT_EQUALS", "key": "plan", "value": "trial"}]}]}`

var benchEvalContext = []byte(`{"context": {"targetingKey": "user-42", "tier": "premium", "region": "eu-west-1",
	"age_days": 45, "email": "ann@example.com", "plan": "pro"}}`)

// putBenchFlags writes n flags under /bench/prod/features/ on a server.
func putBenchFlags(b *testing.B, url string, n int) {
	for i := 0; i < n; i++ {
		doc := benchFlagDoc
		if i%2 == 1 {
			doc = `{"enabled": true, "rollout_percentage": 25, "excluded_user_ids": ["u-1"]}`
		}
		body, _ := json.Marshal(map[string]any{"type": "String", "value": doc, "overwrite": true})
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/v1/parameters/bench/prod/features/f%03d", url, i), bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || (resp.StatusCode != 200 && resp.StatusCode != 201) {
			b.Fatalf("PUT flag %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
}

// post returns the exact response body of one POST.
func post(b *testing.B, url string, body []byte) []byte {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	return out
}

// baselineServer serves body from a bare net/http handler.
func baselineServer(b *testing.B, body []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: bench.BaselineHandler(body)}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// benchPosts runs parallel POSTs of body to the full server at path, or to
// a bare net/http handler answering the same bytes (baseline).
func benchPosts(b *testing.B, flags int, path string) {
	for _, which := range []string{"vane", "baseline"} {
		b.Run(which, func(b *testing.B) {
			m, _ := openBenchMain(b)
			putBenchFlags(b, m.HTTP.URL(), flags)
			url := m.HTTP.URL() + path
			want := post(b, url, benchEvalContext)
			if which == "baseline" {
				url = baselineServer(b, want) + path
			}
			loadRequests(b, func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(benchEvalContext))
				req.Header.Set("Content-Type", "application/json")
				return req
			}, len(want))
		})
	}
}

// BenchmarkOFREPEvaluate measures OFREP single evaluations of a flag with
// five conditions and a rollout over HTTP on loopback, next to a bare
// net/http handler answering the same bytes, in one run.
func BenchmarkOFREPEvaluate(b *testing.B) {
	benchPosts(b, 1, "/ofrep/v1/evaluate/flags/bench/prod/features/f000")
}

// BenchmarkEvaluateBulk100 measures POST /v1/evaluate of every flag under a
// path holding 100 flags, next to the bare handler.
func BenchmarkEvaluateBulk100(b *testing.B) {
	b.Run("native", func(b *testing.B) { benchPostsBody(b, 100, "/v1/evaluate", `{"path": "/bench/prod/", `) })
	b.Run("ofrep", func(b *testing.B) { benchPosts(b, 100, "/ofrep/v1/evaluate/flags") })
}

// benchPostsBody is benchPosts with the body's opening replaced, for
// endpoints that take more than the context.
func benchPostsBody(b *testing.B, flags int, path, prefix string) {
	saved := benchEvalContext
	benchEvalContext = append([]byte(prefix), bytes.TrimPrefix(saved, []byte("{"))...)
	defer func() { benchEvalContext = saved }()
	benchPosts(b, flags, path)
}
