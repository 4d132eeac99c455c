package http_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	vanehttp "github.com/vanehq/vane/http"
)

func TestRateLimit(t *testing.T) {
	// The limiter reads the server's clock, which stands still until the
	// test moves it, so a slow run (-race) cannot refill the bucket early.
	var clock testClock
	clock.set(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := MustOpen(t, func(h *vanehttp.Server) {
		h.RateLimit = vanehttp.RateLimit{Rate: 5, Burst: 3}
		h.Now = clock.now
	})
	s.Do(t, "PUT", "/v1/parameters/app/x", `{"type":"String","value":"1"}`).Want(t, 201, nil)
	s.Do(t, "GET", "/v1/parameters/app/x", "").Want(t, 200, nil)
	s.Do(t, "GET", "/v1/parameters/app/x", "").Want(t, 200, nil)
	r := s.Do(t, "GET", "/v1/parameters/app/x", "")
	r.WantError(t, 429, "throttled", "", "rate exceeded")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q, want whole seconds ≥ 1", r.Header.Get("Retry-After"))
	}
	// Probes are never limited.
	for range 5 {
		s.Do(t, "GET", "/healthz", "").Want(t, 200, nil)
	}
	// The SSM protocol gets AWS's ThrottlingException, which SDKs retry.
	c := MustSSM(t, s, func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
	_, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Errorf("SSM over the limit: %v, want ThrottlingException", err)
	}
	// The bucket refills at Rate: one token in 200 ms.
	clock.advance(150 * time.Millisecond)
	s.Do(t, "GET", "/v1/parameters/app/x", "").WantError(t, 429, "throttled", "", "rate exceeded")
	clock.advance(60 * time.Millisecond)
	s.Do(t, "GET", "/v1/parameters/app/x", "").Want(t, 200, nil)
	// An SDK with its standard retries rides the limit out, in real time.
	clock.follow()
	c = MustSSM(t, s)
	for range 4 {
		if _, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/x")}); err != nil {
			t.Fatalf("SSM with retries: %v", err)
		}
	}
}

// testClock stands still until advanced, or follows the wall clock from
// where it stands once told to.
type testClock struct {
	mu        sync.Mutex
	at        time.Time
	offset    time.Duration // at minus the wall clock, once following
	following bool
}

func (c *testClock) set(t time.Time) { c.mu.Lock(); c.at = t; c.mu.Unlock() }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.at = c.at.Add(d); c.mu.Unlock() }

func (c *testClock) follow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.following = c.at.Sub(time.Now()), true
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.following {
		return time.Now().Add(c.offset)
	}
	return c.at
}

func TestNoRateLimitByDefault(t *testing.T) {
	s := MustOpen(t)
	for range 50 {
		s.Do(t, "GET", "/healthz", "").Want(t, 200, nil)
		s.Do(t, "GET", "/v1/parameters?path=/", "").Want(t, 200, nil)
	}
}
