package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/vanehq/vane/auth"
)

// BenchmarkHandler measures what the server alone spends on each hot path:
// the request goes straight into the full server's handler (routing,
// access control, metrics, access log, the store's index, encoding) with
// no network and no client, so allocs/op and B/op are the server's own.
// Each path runs with --dev and with access control on (an admin bearer
// token, or SigV4 for the signed SSM request, replayed as a client
// replays within the signature's validity). The loopback figures are in
// bench/cmd/vanebench; this isolates allocations for BENCHMARKS.md.
func BenchmarkHandler(b *testing.B) {
	for _, mode := range []string{"dev", "auth"} {
		m := NewMain()
		m.Config.Addr, m.Config.DataDir, m.Config.Dev = "127.0.0.1:0", b.TempDir(), mode == "dev"
		if err := m.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		token := ""
		if mode == "auth" {
			raw, err := os.ReadFile(filepath.Join(m.Config.DataDir, AdminKeyFile))
			if err != nil {
				b.Fatal(err)
			}
			token = strings.TrimSpace(string(raw))
		}
		h := m.HTTP.Handler()
		call := func(req *http.Request) *benchWriter {
			if token != "" && req.Header.Get("Authorization") == "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			req.RemoteAddr = "127.0.0.1:50000" // as the server sets it
			w := newBenchWriter()
			h.ServeHTTP(w, req)
			return w
		}
		seed := func(method, path, body string) {
			req, _ := http.NewRequest(method, "http://vane"+path, strings.NewReader(body))
			if w := call(req); w.status >= 300 {
				b.Fatalf("%s %s: %d %s", method, path, w.status, w.body.String())
			}
		}
		seed(http.MethodPut, "/v1/parameters"+benchName, `{"value":"2500","type":"String","description":"upstream HTTP timeout","overwrite":true}`)
		for i := range 100 {
			doc := benchFlagDoc
			if i%2 == 1 {
				doc = `{"enabled": true, "rollout_percentage": 25, "excluded_user_ids": ["u-1"]}`
			}
			body := fmt.Sprintf(`{"type":"String","overwrite":true,"value":%q}`, doc)
			seed(http.MethodPut, fmt.Sprintf("/v1/parameters/bench/prod/features/f%03d", i), body)
		}

		paths := []struct {
			name   string
			newReq func() *http.Request
		}{
			{"native-get", func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, "http://vane/v1/parameters"+benchName, nil)
				return req
			}},
			{"ofrep", func() *http.Request {
				return jsonPost("/ofrep/v1/evaluate/flags/bench/prod/features/f000", benchEvalContext)
			}},
			{"ssm-unsigned", func() *http.Request {
				req := jsonPost("/", ssmGetBody)
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
				return req
			}},
			{"evaluate-100", func() *http.Request {
				return jsonPost("/v1/evaluate", append([]byte(`{"path": "/bench/prod/", `), benchEvalContext[1:]...))
			}},
			{"ofrep-bulk-100", func() *http.Request { return jsonPost("/ofrep/v1/evaluate/flags", benchEvalContext) }},
		}
		if mode == "auth" {
			id, secret, _ := auth.ParseBearer(token)
			paths = append(paths, struct {
				name   string
				newReq func() *http.Request
			}{"ssm-sigv4", signedSSMRequest(b, id, secret)})
		}
		for _, p := range paths {
			if p.name == "ssm-unsigned" && mode == "auth" {
				continue // the SSM protocol takes SigV4 only once access control is on
			}
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				if w := call(p.newReq()); w.status != http.StatusOK {
					b.Fatalf("status %d: %s", w.status, w.body.String())
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if w := call(p.newReq()); w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
				}
			})
		}
		m.Close()
	}
}

// jsonPost returns a POST of body to path.
func jsonPost(path string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, "http://vane"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// signedSSMRequest signs one GetParameter as the AWS SDK for Go does and
// returns a function that replays it.
func signedSSMRequest(b *testing.B, id, secret string) func() *http.Request {
	req := jsonPost("/", ssmGetBody)
	req.Host = "127.0.0.1:4566"
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	sum := sha256.Sum256(ssmGetBody)
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "ssm", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	header := req.Header.Clone()
	return func() *http.Request {
		r := jsonPost("/", ssmGetBody)
		r.Host = req.Host
		r.Header = header.Clone()
		return r
	}
}

// benchWriter is a minimal http.ResponseWriter for handler benchmarks.
type benchWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBenchWriter() *benchWriter { return &benchWriter{header: http.Header{}} }

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

// SetReadDeadline is accepted, as net/http's connection accepts it.
func (w *benchWriter) SetReadDeadline(time.Time) error { return nil }

var _ io.Writer = (*benchWriter)(nil)
