package auth_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/vanehq/vane/auth"
)

// The test key, AWS's documentation example (testdata/sigv4/README.md).
const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// testTime is the signing time of the synthetic requests.
var testTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newVerifier returns a verifier that knows the test key and whose clock
// reads now.
func newVerifier(now time.Time) *auth.SigV4Verifier {
	return &auth.SigV4Verifier{
		Secret: func(ctx context.Context, id string) (string, error) {
			if id == testKeyID {
				return testSecret, nil
			}
			return "", auth.ErrSigV4UnknownKey
		},
		Now: func() time.Time { return now },
	}
}

// signing describes a request to sign as an SDK would.
type signing struct {
	keyID, secret, token string
	region, service      string
	at                   time.Time
	url                  string
	body                 string
	header               map[string]string // set before signing
}

// defaultSigning is a GetParameter request signed with the test key.
func defaultSigning() signing {
	return signing{
		keyID: testKeyID, secret: testSecret,
		region: "us-east-1", service: "ssm",
		at:   testTime,
		url:  "http://vane.test:8080/",
		body: `{"Name":"/app/db/password","WithDecryption":true}`,
		header: map[string]string{
			"Content-Type": "application/x-amz-json-1.1",
			"X-Amz-Target": "AmazonSSM.GetParameter",
		},
	}
}

// signedRequest signs s with aws-sdk-go-v2's signer and returns the request
// as a server receives it (written to the wire and parsed back), with its
// body.
func signedRequest(tb testing.TB, s signing) (*http.Request, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(s.body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret, SessionToken: s.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(s.body), s.service, s.region, s.at); err != nil {
		tb.Fatal(err)
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		tb.Fatal(err)
	}
	return readWire(tb, wire.Bytes())
}

// readWire parses raw HTTP/1.1 request bytes as net/http's server does and
// returns the request and its body.
func readWire(tb testing.TB, raw []byte) (*http.Request, []byte) {
	tb.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return r, body
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wantSigV4Error fails unless err is a *SigV4Error of type typ, status 400,
// and, if msg is not empty, message msg.
func wantSigV4Error(tb testing.TB, err error, typ, msg string) {
	tb.Helper()
	var se *auth.SigV4Error
	if !errors.As(err, &se) {
		tb.Fatalf("err = %v (%T), want a *SigV4Error %s", err, err, typ)
	}
	if se.Type != typ {
		tb.Fatalf("Type = %s (%q), want %s", se.Type, se.Message, typ)
	}
	if se.Status != http.StatusBadRequest {
		tb.Errorf("Status = %d, want 400", se.Status)
	}
	if msg != "" && se.Message != msg {
		tb.Errorf("Message =\n%q\nwant\n%q", se.Message, msg)
	}
}

const msgMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func TestSigV4Verify(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		id, err := newVerifier(testTime).Verify(context.Background(), r, body)
		if err != nil || id != testKeyID {
			t.Fatalf("Verify = %q, %v; want %q, nil", id, err, testKeyID)
		}
	})
	t.Run("OKDoesNotReadBody", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.Body = io.NopCloser(strings.NewReader("unread"))
		if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
		if rest, _ := io.ReadAll(r.Body); string(rest) != "unread" {
			t.Fatalf("r.Body was read: %q left", rest)
		}
	})
	t.Run("OKConcurrent", func(t *testing.T) {
		// One request verified from many goroutines: Verify must not
		// write into it (go test -race).
		r, body := signedRequest(t, defaultSigning())
		before := r.Header.Clone()
		v := newVerifier(testTime)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := v.Verify(context.Background(), r, body); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if !reflect.DeepEqual(r.Header, before) {
			t.Fatalf("header changed:\n%v\nwas\n%v", r.Header, before)
		}
	})
	for _, d := range []time.Duration{-4 * time.Minute, 4 * time.Minute, -5 * time.Minute, 5 * time.Minute} {
		t.Run(fmt.Sprintf("OKSkew%v", d), func(t *testing.T) {
			r, body := signedRequest(t, defaultSigning())
			if _, err := newVerifier(testTime.Add(d)).Verify(context.Background(), r, body); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("OKContentSha256", func(t *testing.T) {
		// The JS SDK signs x-amz-content-sha256.
		s := defaultSigning()
		s.header["X-Amz-Content-Sha256"] = sha256Hex(s.body)
		r, body := signedRequest(t, s)
		if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKEmptyBody", func(t *testing.T) {
		s := defaultSigning()
		s.body = ""
		r, body := signedRequest(t, s)
		if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKAnyRegion", func(t *testing.T) {
		for _, region := range []string{"eu-central-1", "cn-north-1", "us-gov-west-1", "local"} {
			s := defaultSigning()
			s.region = region
			r, body := signedRequest(t, s)
			if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
				t.Errorf("%s: %v", region, err)
			}
		}
	})
	t.Run("OKPathAndQuery", func(t *testing.T) {
		// SSM posts to /, but the canonical path and query are the SDK's.
		s := defaultSigning()
		s.url = "http://vane.test/a%20b/c?z=1&a=b%2Fc&a=%20"
		r, body := signedRequest(t, s)
		if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKDefaultPort", func(t *testing.T) {
		// The signer strips :443 from an https URL and the client then
		// sends Host without it: what was signed is what arrives.
		s := defaultSigning()
		s.url = "https://vane.test:443/"
		r, body := signedRequest(t, s)
		if r.Host != "vane.test" {
			t.Fatalf("Host = %q", r.Host)
		}
		if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrWrongSecret", func(t *testing.T) {
		s := defaultSigning()
		s.secret = "not-the-secret"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
		if se := err.(*auth.SigV4Error); se.AccessKeyID != testKeyID {
			t.Errorf("AccessKeyID = %q, want %q", se.AccessKeyID, testKeyID)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		s := defaultSigning()
		s.keyID = "AKIAUNKNOWNKEY000000"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4UnrecognizedClient, "The security token included in the request is invalid.")
		// For logs: the claimed key id, and Secret's error as the cause.
		if se := err.(*auth.SigV4Error); se.AccessKeyID != s.keyID || !errors.Is(err, auth.ErrSigV4UnknownKey) {
			t.Errorf("AccessKeyID = %q, Err = %v; want %q, ErrSigV4UnknownKey", se.AccessKeyID, se.Err, s.keyID)
		}
	})
	t.Run("ErrTamperedBody", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		body = bytes.Replace(body, []byte("password"), []byte("passwore"), 1)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrTamperedHeader", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.Header.Set("X-Amz-Target", "AmazonSSM.DeleteParameter")
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrTamperedHost", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.Host = "vane.test:8081"
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrAddedHeaderValue", func(t *testing.T) {
		// A second value of a signed header changes its canonical form.
		r, body := signedRequest(t, defaultSigning())
		r.Header.Add("X-Amz-Target", "AmazonSSM.DeleteParameter")
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrTamperedPath", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.URL.Path = "/v1/parameters"
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrTamperedQuery", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.URL.RawQuery = "recursive=true"
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrTamperedMethod", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.Method = http.MethodPut
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrWrongService", func(t *testing.T) {
		s := defaultSigning()
		s.service = "sts"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, "Credential should be scoped to correct service: 'ssm'. ")
	})
	t.Run("ErrInvalidRegion", func(t *testing.T) {
		s := defaultSigning()
		s.region = "US_EAST_1"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, "Credential should be scoped to a valid region, not 'US_EAST_1'. ")
	})
	t.Run("ErrWrongScopeDate", func(t *testing.T) {
		// Signed at 23:59 on one day, then redated to 00:01 the next:
		// within the clock window, but the scope names the wrong day.
		s := defaultSigning()
		s.at = testTime.Add(-time.Minute)
		r, body := signedRequest(t, s)
		r.Header.Set("X-Amz-Date", "20260101T000100Z")
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T000100Z'.")
	})
	t.Run("ErrRedated", func(t *testing.T) {
		// Moving X-Amz-Date within the same day keeps the scope valid but
		// breaks the signature.
		r, body := signedRequest(t, defaultSigning())
		r.Header.Set("X-Amz-Date", "20260101T000100Z")
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		_, err := newVerifier(testTime.Add(6*time.Minute)).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature,
			"Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z (20260101T000600Z - 5 min.)")
	})
	t.Run("ErrNotYetCurrent", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		_, err := newVerifier(testTime.Add(-6*time.Minute)).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature,
			"Signature not yet current: 20260101T000000Z is still later than 20251231T235900Z (20251231T235400Z + 5 min.)")
	})
	t.Run("ErrExpiredCustomSkew", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		v := newVerifier(testTime.Add(16 * time.Minute))
		v.MaxSkew = 15 * time.Minute
		_, err := v.Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature,
			"Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z (20260101T001600Z - 15 min.)")
	})
	t.Run("OKReplayWithinWindow", func(t *testing.T) {
		// AWS accepts a replay within the clock window, and so does Vane:
		// see the SigV4Verifier doc for why there is no replay cache.
		r, body := signedRequest(t, defaultSigning())
		for _, now := range []time.Time{testTime, testTime, testTime.Add(4 * time.Minute)} {
			if _, err := newVerifier(now).Verify(context.Background(), r, body); err != nil {
				t.Fatalf("at %v: %v", now, err)
			}
		}
	})
	t.Run("ErrReplayAfterWindow", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		if _, err := newVerifier(testTime).Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
		_, err := newVerifier(testTime.Add(5*time.Minute+time.Second)).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, "")
	})
	t.Run("ErrSessionToken", func(t *testing.T) {
		s := defaultSigning()
		s.token = "FwoGZXIvYXdzEXAMPLE"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4UnrecognizedClient, "")
		if !strings.HasPrefix(err.(*auth.SigV4Error).Message, "The security token included in the request is invalid") {
			t.Errorf("Message = %q", err.(*auth.SigV4Error).Message)
		}
	})
	t.Run("ErrSessionTokenBadSignature", func(t *testing.T) {
		// The token is checked after the signature, as AWS does.
		s := defaultSigning()
		s.token = "FwoGZXIvYXdzEXAMPLE"
		s.secret = "not-the-secret"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrUnsignedPayload", func(t *testing.T) {
		s := defaultSigning()
		s.header["X-Amz-Content-Sha256"] = "UNSIGNED-PAYLOAD"
		r, body := signedRequest(t, s)
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, "X-Amz-Content-Sha256 'UNSIGNED-PAYLOAD' is not accepted: the request body must be signed.")
	})
	t.Run("ErrContentSha256Mismatch", func(t *testing.T) {
		s := defaultSigning()
		s.header["X-Amz-Content-Sha256"] = sha256Hex(s.body)
		r, body := signedRequest(t, s)
		body = append(body, ' ')
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	})
	t.Run("ErrSignedUserAgent", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		setAuthorization(r, func(a string) string {
			return strings.Replace(a, "SignedHeaders=", "SignedHeaders=user-agent;", 1)
		})
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch+" Vane cannot verify a signature over the 'user-agent' header.")
	})
	t.Run("ErrRotatedSecret", func(t *testing.T) {
		// A replaced secret takes effect at once: no derived key of the
		// old secret is cached.
		var rotated atomic.Bool
		v := newVerifier(testTime)
		v.Secret = func(ctx context.Context, id string) (string, error) {
			if rotated.Load() {
				return "the-new-secret", nil
			}
			return testSecret, nil
		}
		r, body := signedRequest(t, defaultSigning())
		if _, err := v.Verify(context.Background(), r, body); err != nil {
			t.Fatal(err)
		}
		rotated.Store(true)
		_, err := v.Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
	})
	t.Run("ErrKeyDisabled", func(t *testing.T) {
		// Secret's own SigV4Error is returned as is.
		disabled := &auth.SigV4Error{Type: auth.SigV4UnrecognizedClient, Message: "The security token included in the request is invalid.", Status: 400}
		v := newVerifier(testTime)
		v.Secret = func(ctx context.Context, id string) (string, error) { return "", disabled }
		r, body := signedRequest(t, defaultSigning())
		if _, err := v.Verify(context.Background(), r, body); err != disabled {
			t.Fatalf("err = %v, want %v", err, disabled)
		}
	})
	t.Run("ErrKeyLookupFailed", func(t *testing.T) {
		// Any other failure of Secret is the server's, not the client's.
		down := errors.New("database is down")
		v := newVerifier(testTime)
		v.Secret = func(ctx context.Context, id string) (string, error) { return "", down }
		r, body := signedRequest(t, defaultSigning())
		_, err := v.Verify(context.Background(), r, body)
		var se *auth.SigV4Error
		if !errors.Is(err, down) || errors.As(err, &se) {
			t.Fatalf("err = %v, want a wrapped %v", err, down)
		}
	})
}

// setAuthorization rewrites the Authorization header of r.
func setAuthorization(r *http.Request, f func(string) string) {
	r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
}

// TestSigV4VerifyMalformed checks the errors for malformed or missing
// authentication, with AWS's messages.
func TestSigV4VerifyMalformed(t *testing.T) {
	const cred = "Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm/aws4_request"
	const sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name          string
		authorization string // "-" for none
		date          string // X-Amz-Date, "-" for none
		query         string
		typ, msg      string
	}{
		{"ErrMissingAuthorization", "-", "", "", auth.SigV4MissingAuthenticationToken, "Request is missing Authentication Token"},
		{"ErrEmptyAuthorization", "", "", "", auth.SigV4MissingAuthenticationToken, "Request is missing Authentication Token"},
		{"ErrBearer", "Bearer abc", "", "", auth.SigV4MissingAuthenticationToken, "Request is missing Authentication Token"},
		{"ErrSigV2", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "", "", auth.SigV4MissingAuthenticationToken, "Request is missing Authentication Token"},
		{"ErrPresigned", "-", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256", auth.SigV4MissingAuthenticationToken, ""},
		{"ErrPresignedAndHeader", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, " + sig, "", "X-Amz-Algorithm=AWS4-HMAC-SHA256", auth.SigV4InvalidSignature,
			"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{"ErrMissingEqualSign", "AWS4-HMAC-SHA256 Credential= AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4IncompleteSignature,
			"'AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, " + sig + "'."},
		{"ErrMissingParameters", "AWS4-HMAC-SHA256 " + cred, "-", "", auth.SigV4IncompleteSignature,
			"Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 " + cred},
		{"ErrMissingCredential", "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4IncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, " + sig},
		{"ErrUnsupportedAlgorithm", "AWS4-ECDSA-P256-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4IncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). "},
		{"ErrCredentialElements", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm, SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4IncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm'"},
		{"ErrSignedHeadersCase", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;X-Amz-Date, " + sig, "", "", auth.SigV4IncompleteSignature, ""},
		{"ErrSignedHeadersEmptyName", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig, "", "", auth.SigV4IncompleteSignature, ""},
		{"ErrBadDate", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, " + sig, "2026-01-01T00:00:00Z", "", auth.SigV4IncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"ErrOnlyDateHeader", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;date, " + sig, "-", "", auth.SigV4IncompleteSignature, ""},
		{"ErrHostNotSigned", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, " + sig, "", "", auth.SigV4InvalidSignature,
			"'Host' must be a 'SignedHeader' in the AWS Authorization."},
		{"ErrDateNotSigned", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig, "", "", auth.SigV4InvalidSignature,
			"'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."},
		{"ErrScope", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20251231/-x/s3/aws4_requesT, SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4InvalidSignature,
			"Credential should be scoped to a valid region, not '-x'. Credential should be scoped to correct service: 'ssm'. Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesT'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T000000Z'."},
		{"ErrJunkKeyID", "AWS4-HMAC-SHA256 Credential=" + strings.Repeat("A", 129) + "/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4UnrecognizedClient,
			"The security token included in the request is invalid."},
		{"ErrSignatureMismatch", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, " + sig, "", "", auth.SigV4InvalidSignature, msgMismatch},
		{"ErrSignatureNotHex", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=zz", "", "", auth.SigV4InvalidSignature, msgMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://vane.test/?"+tt.query, strings.NewReader("{}"))
			if tt.authorization != "-" {
				r.Header.Set("Authorization", tt.authorization)
			}
			switch tt.date {
			case "":
				r.Header.Set("X-Amz-Date", "20260101T000000Z")
			case "-":
			default:
				r.Header.Set("X-Amz-Date", tt.date)
			}
			if tt.name == "ErrOnlyDateHeader" {
				r.Header.Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
			}
			_, err := newVerifier(testTime).Verify(context.Background(), r, []byte("{}"))
			wantSigV4Error(t, err, tt.typ, tt.msg)
		})
	}
	t.Run("ErrTwoAuthorizationHeaders", func(t *testing.T) {
		r, body := signedRequest(t, defaultSigning())
		r.Header.Add("Authorization", r.Header.Get("Authorization"))
		_, err := newVerifier(testTime).Verify(context.Background(), r, body)
		wantSigV4Error(t, err, auth.SigV4IncompleteSignature, "")
	})
}

// TestSigV4VerifySSMClient serves a real aws-sdk-go-v2 ssm.Client from an
// httptest server that authenticates with a SigV4Verifier on the real
// clock, and checks that the client sees the error names Vane sends.
func TestSigV4VerifySSMClient(t *testing.T) {
	v := newVerifier(time.Time{})
	v.Now = nil // the real clock, which the SDK signs with
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		id, err := v.Verify(r.Context(), r, body)
		if err != nil {
			var se *auth.SigV4Error
			if !errors.As(err, &se) {
				t.Errorf("Verify: %v", err)
				se = &auth.SigV4Error{Type: "InternalServerError", Message: "internal", Status: 500}
			}
			w.Header().Set("X-Amzn-ErrorType", se.Type)
			w.WriteHeader(se.Status)
			json.NewEncoder(w).Encode(map[string]string{"__type": se.Type, "message": se.Message})
			return
		}
		var in struct{ Name, Value string }
		if err := json.Unmarshal(body, &in); err != nil {
			t.Errorf("body %q: %v", body, err)
		}
		switch r.Header.Get("X-Amz-Target") {
		case "AmazonSSM.PutParameter":
			json.NewEncoder(w).Encode(map[string]any{"Version": 1, "Tier": "Standard"})
		default:
			json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
				"Name": in.Name, "Type": "String", "Value": "signed by " + id, "Version": 1,
			}})
		}
	}))
	defer srv.Close()

	client := func(keyID, secret string) *ssm.Client {
		return ssm.New(ssm.Options{
			Region:           "eu-west-3",
			BaseEndpoint:     aws.String(srv.URL),
			Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
			RetryMaxAttempts: 1,
		})
	}
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		out, err := client(testKeyID, testSecret).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/x")})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Parameter.Value); got != "signed by "+testKeyID {
			t.Fatalf("Value = %q", got)
		}
	})
	t.Run("OKPutParameter", func(t *testing.T) {
		_, err := client(testKeyID, testSecret).PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/app/x"), Value: aws.String("héllo \"wörld\" ✓ & <tag> 100% +"),
			Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	for _, tt := range []struct {
		name, keyID, secret, typ string
	}{
		{"ErrWrongSecret", testKeyID, "not-the-secret", auth.SigV4InvalidSignature},
		{"ErrUnknownKey", "AKIAUNKNOWNKEY000000", testSecret, auth.SigV4UnrecognizedClient},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(tt.keyID, tt.secret).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/x")})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.typ {
				t.Fatalf("err = %v, want %s", err, tt.typ)
			}
		})
	}
}

// fixture is a request captured from a real client by
// testdata/sigv4/capture/capture.py.
type fixture struct {
	Name            string `json:"name"`
	Client          string `json:"client"`
	Expect          string `json:"expect"` // "ok" or the error type
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	Request         struct {
		Method  string      `json:"method"`
		Target  string      `json:"target"`
		Proto   string      `json:"proto"`
		Headers [][2]string `json:"headers"`
		Body    string      `json:"body"`
	} `json:"request"`
}

// loadFixtures reads every captured request.
func loadFixtures(tb testing.TB) []fixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "sigv4", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures: %v", err)
	}
	var fxs []fixture
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		var fx fixture
		if err := json.Unmarshal(b, &fx); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		fxs = append(fxs, fx)
	}
	return fxs
}

// wire returns the fixture's request as raw HTTP/1.1 bytes, with body in
// place of the captured one (same length, so Content-Length still holds).
func (fx *fixture) wire(body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", fx.Request.Method, fx.Request.Target, fx.Request.Proto)
	for _, h := range fx.Request.Headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.Bytes()
}

// verifier returns a verifier that knows the fixture's key, with its clock
// at the fixture's X-Amz-Date.
func (fx *fixture) verifier(tb testing.TB, r *http.Request) *auth.SigV4Verifier {
	tb.Helper()
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		tb.Fatal(err)
	}
	return &auth.SigV4Verifier{
		Secret: func(ctx context.Context, id string) (string, error) {
			if id == fx.AccessKeyID {
				return fx.SecretAccessKey, nil
			}
			return "", auth.ErrSigV4UnknownKey
		},
		Now: func() time.Time { return at },
	}
}

// TestSigV4Fixtures replays requests captured from the aws CLI, boto3, the
// JS SDK v3 and aws-sdk-go-v2 (testdata/sigv4/README.md): each verifies,
// and fails once a byte of its body or a signed header is changed.
func TestSigV4Fixtures(t *testing.T) {
	fxs := loadFixtures(t)
	clients := map[string]bool{}
	for _, fx := range fxs {
		clients[strings.SplitN(fx.Name, "-", 2)[0]] = true
		t.Run(fx.Name, func(t *testing.T) {
			t.Logf("%s: %s", fx.Client, fx.Request.Headers)
			t.Run("OK", func(t *testing.T) {
				r, body := readWire(t, fx.wire(fx.Request.Body))
				id, err := fx.verifier(t, r).Verify(context.Background(), r, body)
				if fx.Expect == "ok" {
					if err != nil || id != fx.AccessKeyID {
						t.Fatalf("Verify = %q, %v; want %q", id, err, fx.AccessKeyID)
					}
					return
				}
				wantSigV4Error(t, err, fx.Expect, "")
			})
			t.Run("ErrTamperedBody", func(t *testing.T) {
				b := []byte(fx.Request.Body)
				i := bytes.IndexByte(b, '/') // in every request's parameter name or path
				if i < 0 {
					t.Fatalf("no '/' in body %q", b)
				}
				b[i] = '_'
				r, body := readWire(t, fx.wire(string(b)))
				_, err := fx.verifier(t, r).Verify(context.Background(), r, body)
				wantSigV4Error(t, err, auth.SigV4InvalidSignature, "")
			})
			t.Run("ErrTamperedTarget", func(t *testing.T) {
				r, body := readWire(t, fx.wire(fx.Request.Body))
				r.Header.Set("X-Amz-Target", "AmazonSSM.DeleteParameter")
				_, err := fx.verifier(t, r).Verify(context.Background(), r, body)
				wantSigV4Error(t, err, auth.SigV4InvalidSignature, msgMismatch)
			})
			t.Run("ErrExpired", func(t *testing.T) {
				r, body := readWire(t, fx.wire(fx.Request.Body))
				v := fx.verifier(t, r)
				now := v.Now().Add(6 * time.Minute)
				v.Now = func() time.Time { return now }
				_, err := v.Verify(context.Background(), r, body)
				wantSigV4Error(t, err, auth.SigV4InvalidSignature, "")
			})
		})
	}
	for _, c := range []string{"cli", "boto3", "js", "go"} {
		if !clients[c] {
			t.Errorf("no fixture captured from %s", c)
		}
	}
}

// FuzzSigV4Header fuzzes the Authorization header parser, and Verify with
// the fuzzed header on an otherwise valid request: neither may panic, a
// parsed header must survive formatting and parsing again, and Verify may
// accept only the genuine signature.
func FuzzSigV4Header(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		for _, h := range fx.Request.Headers {
			if strings.EqualFold(h[0], "Authorization") {
				f.Add(h[1])
			}
		}
	}
	for _, s := range []string{
		"",
		"AWS4-",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=;, Signature=",
		"AWS4-HMAC-SHA256 ,,, Credential==, SignedHeaders==host, Signature===",
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00",
		"Bearer token",
		" AWS4-HMAC-SHA256\tCredential=x",
	} {
		f.Add(s)
	}
	r0, body := signedRequest(f, defaultSigning())
	genuine := r0.Header.Get("Authorization")
	v := newVerifier(testTime)

	f.Fuzz(func(t *testing.T, header string) {
		a, err := auth.ParseSigV4Authorization(header)
		if err != nil {
			var se *auth.SigV4Error
			if !errors.As(err, &se) || a != nil {
				t.Fatalf("ParseSigV4Authorization(%q) = %v, %v", header, a, err)
			}
		} else {
			if a.Signature == "" || len(a.SignedHeaders) == 0 {
				t.Fatalf("ParseSigV4Authorization(%q) = %+v: empty signature or headers", header, a)
			}
			if strings.Contains(a.AccessKeyID+a.Date+a.Region+a.Service+a.Terminator, "/") {
				t.Fatalf("ParseSigV4Authorization(%q) = %+v: a credential scope element holds a slash", header, a)
			}
			again := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/%s, SignedHeaders=%s, Signature=%s",
				a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator, strings.Join(a.SignedHeaders, ";"), a.Signature)
			b, err := auth.ParseSigV4Authorization(again)
			if err != nil || fmt.Sprint(*a) != fmt.Sprint(*b) {
				t.Fatalf("%q parsed to %+v, formatted as %q, parsed again to %+v, %v", header, a, again, b, err)
			}
		}

		r := r0.Clone(context.Background())
		r.Header.Set("Authorization", header)
		if _, err := v.Verify(context.Background(), r, body); err == nil {
			ga, _ := auth.ParseSigV4Authorization(genuine)
			if a == nil || a.Signature != ga.Signature {
				t.Fatalf("Verify accepted %q", header)
			}
		} else {
			var se *auth.SigV4Error
			if !errors.As(err, &se) {
				t.Fatalf("Verify(%q) = %v, not a *SigV4Error", header, err)
			}
		}
	})
}

// BenchmarkSigV4Verify measures Verify on captured requests (the CLI's
// four signed headers and the JS SDK's nine), deriving the signing key
// for each request and with a SigningKeyCache, in the same run.
func BenchmarkSigV4Verify(b *testing.B) {
	for _, fx := range loadFixtures(b) {
		if fx.Name != "cli-get-parameter" && fx.Name != "js-put-parameter" && fx.Name != "go-get-parameter" {
			continue
		}
		for _, cached := range []bool{false, true} {
			name := fx.Name + "/derive-each-time"
			if cached {
				name = fx.Name + "/key-cache"
			}
			b.Run(name, func(b *testing.B) {
				r, body := readWire(b, fx.wire(fx.Request.Body))
				v := fx.verifier(b, r)
				if cached {
					v.SigningKeys = &auth.SigningKeyCache{}
				}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, r, body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestSigningKeyCacheRefusesAReplacedSecret: a signer cached for a key and
// its old secret is not used once the secret changes, so the old
// secret's signatures are refused at once; the cache stays bounded.
func TestSigningKeyCacheRefusesAReplacedSecret(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		if fx.Name != "cli-get-parameter" {
			continue
		}
		r, body := readWire(t, fx.wire(fx.Request.Body))
		v := fx.verifier(t, r)
		cache := &auth.SigningKeyCache{Size: 2}
		v.SigningKeys = cache
		if _, err := v.Verify(context.Background(), r, body); err != nil {
			t.Fatalf("the fixture's own secret: %v", err)
		}
		good := v.Secret
		v.Secret = func(ctx context.Context, id string) (string, error) { return "a-new-secret-after-rotation", nil }
		if _, err := v.Verify(context.Background(), r, body); err == nil {
			t.Fatal("a signature made with the old secret passed after the secret changed")
		}
		v.Secret = good
		if _, err := v.Verify(context.Background(), r, body); err != nil {
			t.Fatalf("the old secret again: %v", err)
		}
		for i := range 5 {
			cache.Len() // bounded below
			v.Secret = func(ctx context.Context, id string) (string, error) { return fmt.Sprintf("secret-%d", i), nil }
			v.Verify(context.Background(), r, body)
		}
		if n := cache.Len(); n > 2 {
			t.Errorf("the cache holds %d keys; its size is 2", n)
		}
	}
}

// TestSignatureMatchesTheSDKSigner: Verify builds the canonical request
// itself, so it is compared with aws-sdk-go-v2's signer on generated
// requests: paths with escapes and reserved characters, queries with
// repeated and unsorted names, header values with runs of spaces, tabs and
// several values, with and without a body. Every request the SDK signs
// must verify, and must stop verifying when one signed byte changes.
func TestSignatureMatchesTheSDKSigner(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	paths := []string{"/", "", "/configurationsessions", "/a/b c/%2F/ü", "/x//y/./z", "/app/prod/features/new-checkout", "/a+b=c;d", "/~user/*"}
	queries := []string{"", "configuration_token=abc%2Fdef%3D%3D", "b=2&a=1&a=0", "x=a+b&y=%20&z", "k=v&k=w&empty=", "ü=ä&space=a%20b"}
	values := []string{"plain", "  two  spaces  inside  ", "\ttab\t", "a,b", "ends ", " starts", "x  \t  y"}
	cache := &auth.SigningKeyCache{}
	for i := range 500 {
		u := "http://vane.test:8080" + pick(r, paths)
		if q := pick(r, queries); q != "" {
			u += "?" + q
		}
		body := pick(r, []string{"", `{"Name":"/x"}`})
		req, err := http.NewRequest(pick(r, []string{http.MethodPost, http.MethodGet}), u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == "" {
			req.Body, req.ContentLength = nil, 0
		}
		req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
		for range r.IntN(3) {
			req.Header.Add("X-Custom-"+pick(r, []string{"One", "Two"}), pick(r, values))
		}
		if r.IntN(2) == 0 {
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		}
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(body), "ssm", pick(r, []string{"us-east-1", "eu-west-1"}), testTime); err != nil {
			t.Fatal(err)
		}
		var wire bytes.Buffer
		if err := req.Write(&wire); err != nil {
			t.Fatal(err)
		}
		got, gotBody := readWire(t, wire.Bytes())
		v := newVerifier(testTime)
		if i%2 == 0 {
			v.SigningKeys = cache
		}
		if _, err := v.Verify(context.Background(), got, gotBody); err != nil {
			t.Fatalf("request %d, signed by the SDK, refused: %v\n%s", i, err, wire.Bytes())
		}
		// One changed byte in what was signed must fail.
		got.Header.Set("X-Amz-Target", "AmazonSSM.PutParameter")
		if _, err := v.Verify(context.Background(), got, gotBody); err == nil {
			t.Fatalf("request %d verified with a changed signed header", i)
		}
	}
	if n := cache.Len(); n != 2 {
		t.Errorf("the cache holds %d signing keys; want 2 (one key, one day, two regions)", n)
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
