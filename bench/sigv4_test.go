package bench_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/bench"
)

// TestSignSSMVerifiesWithVane checks that a request signed by SignSSM is
// one Vane's verifier accepts, for as long as the benchmark replays it.
func TestSignSSMVerifiesWithVane(t *testing.T) {
	const id, secret = "VNKABCDEFGHIJKLMNOPQ", "0123456789abcdefghijABCDEFGHIJ-_01234567"
	body := []byte(`{"Name":"/myapp/prod/tuning/http_timeout_ms"}`)
	signedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	newRequest := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:7420/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
		return req
	}
	req := newRequest()
	if err := bench.SignSSM(req, body, id, secret, "us-east-1", signedAt); err != nil {
		t.Fatal(err)
	}
	// The server sees the Host the client dialled.
	req.Host = req.URL.Host
	verify := func(now time.Time, r *http.Request, b []byte) error {
		v := &auth.SigV4Verifier{Now: func() time.Time { return now }, Secret: func(_ context.Context, got string) (string, error) {
			if got != id {
				return "", auth.ErrSigV4UnknownKey
			}
			return secret, nil
		}}
		_, err := v.Verify(context.Background(), r, b)
		return err
	}

	t.Run("AcceptedThroughoutValidity", func(t *testing.T) {
		for _, after := range []time.Duration{0, bench.SigV4Validity} {
			if err := verify(signedAt.Add(after), req, body); err != nil {
				t.Fatalf("%v after signing: %v", after, err)
			}
		}
	})
	t.Run("ErrOtherBody", func(t *testing.T) {
		if err := verify(signedAt, req, []byte(`{"Name":"/other"}`)); err == nil {
			t.Fatal("a signature over another body verified")
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		if err := verify(signedAt.Add(6*time.Minute), req, body); err == nil {
			t.Fatal("a signature 6 minutes old verified")
		}
	})
	t.Run("ErrContentLengthMismatch", func(t *testing.T) {
		r := newRequest()
		r.ContentLength = 1
		if err := bench.SignSSM(r, body, id, secret, "us-east-1", signedAt); err == nil {
			t.Fatal("SignSSM signed a request whose ContentLength is not the body's")
		}
	})
}
