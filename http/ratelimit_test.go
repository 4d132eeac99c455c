package http_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	vanehttp "github.com/vanehq/vane/http"
)

func TestRateLimit(t *testing.T) {
	s := MustOpen(t, func(h *vanehttp.Server) { h.RateLimit = vanehttp.RateLimit{Rate: 5, Burst: 3} })
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
	// The bucket refills at Rate.
	time.Sleep(250 * time.Millisecond)
	s.Do(t, "GET", "/v1/parameters/app/x", "").Want(t, 200, nil)
	// An SDK with its standard retries rides the limit out.
	c = MustSSM(t, s)
	for range 4 {
		if _, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/x")}); err != nil {
			t.Fatalf("SSM with retries: %v", err)
		}
	}
}

func TestNoRateLimitByDefault(t *testing.T) {
	s := MustOpen(t)
	for range 50 {
		s.Do(t, "GET", "/healthz", "").Want(t, 200, nil)
		s.Do(t, "GET", "/v1/parameters?path=/", "").Want(t, 200, nil)
	}
}
