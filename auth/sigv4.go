package auth

// This file verifies AWS Signature Version 4 as the AWS clients send it on
// the SSM protocol (aws CLI, boto3, aws-sdk-go-v2, the JS SDK v3). The
// signature is recomputed with aws-sdk-go-v2's own signer over a copy of the
// request that holds only what the client signed; the wire formats the
// clients actually send are pinned by the captured requests in
// testdata/sigv4.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 error names: the __type AWS returns for each authentication
// failure, which SigV4Error.Type holds.
const (
	// SigV4MissingAuthenticationToken: no Authorization header, or one
	// that is not SigV4 at all ("Bearer ...").
	SigV4MissingAuthenticationToken = "MissingAuthenticationTokenException"
	// SigV4IncompleteSignature: a SigV4 Authorization header that is
	// malformed (missing parameters, bad credential, bad X-Amz-Date).
	SigV4IncompleteSignature = "IncompleteSignatureException"
	// SigV4InvalidSignature: a well-formed signature that does not verify,
	// is out of the clock window, or is scoped to another service or day.
	SigV4InvalidSignature = "InvalidSignatureException"
	// SigV4UnrecognizedClient: an access key id Vane does not know, or a
	// session token, which Vane never issues.
	SigV4UnrecognizedClient = "UnrecognizedClientException"
)

// Defaults of SigV4Verifier.
const (
	DefaultSigV4Service = "ssm"
	DefaultSigV4MaxSkew = 5 * time.Minute
)

// SigV4Algorithm is the only signing algorithm accepted.
const SigV4Algorithm = "AWS4-HMAC-SHA256"

// ErrSigV4UnknownKey is the error a SigV4Verifier's Secret returns for an
// access key id it does not know. Verify turns it into an
// UnrecognizedClientException.
var ErrSigV4UnknownKey = errors.New("auth: unknown access key id")

// sigV4TimeFormat is the format of X-Amz-Date (ISO 8601 basic, UTC).
const sigV4TimeFormat = "20060102T150405Z"

// Fixed AWS messages.
const (
	sigV4MsgMissingToken = "Request is missing Authentication Token"
	sigV4MsgUnknownKey   = "The security token included in the request is invalid."
	sigV4MsgMismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// SigV4Error is an authentication failure in AWS's shape: Type is the
// __type the SSM transport sends (one of the SigV4* names), Message the
// sentence AWS sends for the same failure and Status the HTTP status. AWS's
// JSON services answer every one of these with 400, including
// MissingAuthenticationTokenException (its 403 is the query protocols').
type SigV4Error struct {
	Type    string
	Message string
	Status  int

	// AccessKeyID is the access key id the request claimed, when it got
	// that far and the id is well-formed; for logs and audit, it does not
	// mean the key exists.
	AccessKeyID string
	// Err is the cause, when there is one: the error Secret returned for
	// an unknown key. It is for logs; clients see only Type and Message.
	Err error
}

// Error describes the failure for logs: type, key id, message and cause.
func (e *SigV4Error) Error() string {
	var b strings.Builder
	b.WriteString("auth: ")
	b.WriteString(e.Type)
	if e.AccessKeyID != "" {
		b.WriteString(" (access key ")
		b.WriteString(e.AccessKeyID)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, Err.
func (e *SigV4Error) Unwrap() error { return e.Err }

// sigV4Errorf returns a SigV4Error of the given type with status 400.
func sigV4Errorf(typ, format string, args ...any) *SigV4Error {
	return &SigV4Error{Type: typ, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// SigV4Verifier verifies AWS Signature Version 4 (header form,
// AWS4-HMAC-SHA256) on requests. Its fields must not change once Verify has
// been called; a SigV4Verifier is safe for concurrent use.
//
// What it accepts, and why:
//
//   - The canonical request is rebuilt by aws-sdk-go-v2's signer from a copy
//     of the request holding only the headers named in SignedHeaders, with
//     the host taken from r.Host, the method, path and query as received,
//     and X-Amz-Date as the signing time. A reverse proxy in front of Vane
//     must therefore pass Host, path, query and body through unchanged.
//   - The payload hash is always sha256 of the body as received: SSM has no
//     unsigned or streaming payloads. If X-Amz-Content-Sha256 is sent (the
//     JS SDK signs it) it must equal that hash; UNSIGNED-PAYLOAD and
//     STREAMING-* are refused, since they would leave the body, the whole
//     meaning of an SSM request, outside the signature.
//   - The credential scope must name Service, the day of X-Amz-Date and
//     aws4_request; its region may be any well-formed region name (Vane is
//     one endpoint whatever region a client is configured with).
//   - X-Amz-Date must be within MaxSkew of Now, either way, as AWS requires.
//   - X-Amz-Security-Token is passed to the signer like any signed header,
//     so a token-carrying request is verified like any other; but Vane
//     issues no session tokens, so once the signature verifies, a request
//     with a token is refused as AWS refuses a token it does not know
//     (UnrecognizedClientException). Accepting and ignoring tokens would
//     hide misconfigured clients (a stale AWS_SESSION_TOKEN) and would make
//     ever issuing real tokens a breaking change; refusing can be relaxed
//     later.
//
// Replays: like AWS, a SigV4Verifier accepts a request replayed within the
// clock window. It keeps no replay cache, deliberately. The aws CLI and
// boto3 sign only content-type, host, x-amz-date and x-amz-target, and
// X-Amz-Date has a resolution of one second, so two legitimate identical
// calls in the same second (a script reading a parameter twice, a retry
// after a fast 5xx) carry byte-identical signatures: rejecting repeated
// signatures would break them. A cache restricted to clients that sign a
// per-call nonce (the Go and JS SDKs sign amz-sdk-invocation-id) would not
// stop replays of CLI or boto3 requests, nor replays sent to another Vane
// instance, so it would promise more than it gives. Replay within the
// window is prevented by TLS, which keeps signed requests from being seen;
// outside the window, the clock check refuses them.
type SigV4Verifier struct {
	// Secret returns the secret access key of an access key id, or
	// ErrSigV4UnknownKey if there is no such key. It may return a
	// *SigV4Error of its own (say, for a disabled or expired key), which
	// Verify returns as is; any other error is returned wrapped, for the
	// caller to treat as an internal failure.
	Secret func(ctx context.Context, accessKeyID string) (string, error)
	// Service is the service name the credential scope must carry;
	// DefaultSigV4Service ("ssm") if empty.
	Service string
	// MaxSkew is how far X-Amz-Date may be from Now, in either direction;
	// DefaultSigV4MaxSkew (5 minutes, as SSM) if zero.
	MaxSkew time.Duration
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Signers, if set, keeps a signer per access key and secret across
	// requests, so the signing key derived from the secret, date, region
	// and service is computed once a day per key rather than for every
	// request. nil derives it every time.
	Signers *SignerCache
}

// DefaultSignerCacheSize bounds a SignerCache.
const DefaultSignerCacheSize = 1024

// SignerCache keeps one SigV4 signer per access key id and secret. A
// signer caches the keys it derives (per date, region and service), but
// not by secret, so the cache is keyed by the secret's hash as well: a
// changed secret gets a new signer, and the old one is never used again.
// A disabled or deleted key never reaches its signer, since the secret
// lookup refuses it first. The cache holds at most Size signers and is
// emptied when full. It is safe for concurrent use.
type SignerCache struct {
	Size    int // DefaultSignerCacheSize when 0
	mu      sync.Mutex
	signers map[[sha256.Size]byte]*v4.Signer
}

func (c *SignerCache) signer(accessKeyID, secret string) *v4.Signer {
	if c == nil {
		return v4.NewSigner()
	}
	k := sha256.Sum256([]byte(accessKeyID + "\x00" + secret))
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.signers[k]; ok {
		return s
	}
	size := c.Size
	if size <= 0 {
		size = DefaultSignerCacheSize
	}
	if c.signers == nil || len(c.signers) >= size {
		c.signers = make(map[[sha256.Size]byte]*v4.Signer, size)
	}
	s := v4.NewSigner()
	c.signers[k] = s
	return s
}

// Len returns how many signers the cache holds.
func (c *SignerCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.signers)
}

// SigV4Authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date, Signature=...
type SigV4Authorization struct {
	AccessKeyID   string   // first element of Credential
	Date          string   // credential scope date, YYYYMMDD (not yet checked)
	Region        string   // credential scope region (not yet checked)
	Service       string   // credential scope service (not yet checked)
	Terminator    string   // last element of Credential, aws4_request when valid
	SignedHeaders []string // as sent: lowercase names, normally sorted
	Signature     string   // as sent: normally 64 lowercase hex digits
}

// ParseSigV4Authorization parses the value of an Authorization header. It
// checks the header's structure only (algorithm, key=value pairs, the three
// parameters, the five credential elements, header names), not the values
// against a request; errors are *SigV4Error with AWS's messages.
func ParseSigV4Authorization(header string) (*SigV4Authorization, error) {
	a, err := parseSigV4(header, true)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// parseSigV4 parses an Authorization header. hasDate says whether the
// request carries X-Amz-Date or Date: AWS reports a missing date together
// with missing parameters, in one message.
func parseSigV4(header string, hasDate bool) (*SigV4Authorization, *SigV4Error) {
	if !strings.HasPrefix(strings.TrimSpace(header), "AWS4-") {
		return nil, sigV4Errorf(SigV4MissingAuthenticationToken, sigV4MsgMissingToken)
	}
	// AWS splits the header on commas and spaces: the first field is the
	// algorithm, every other one a key=value pair.
	fields := strings.FieldsFunc(header, func(r rune) bool { return r == ',' || r == ' ' })
	algorithm := fields[0]
	var credential, signedHeaders, signature string
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, sigV4Errorf(SigV4IncompleteSignature, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", f, header)
		}
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	var missing strings.Builder
	for _, p := range [...]struct{ name, value string }{{"Credential", credential}, {"Signature", signature}, {"SignedHeaders", signedHeaders}} {
		if p.value == "" {
			fmt.Fprintf(&missing, "Authorization header requires '%s' parameter. ", p.name)
		}
	}
	if !hasDate {
		missing.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if missing.Len() > 0 {
		return nil, sigV4Errorf(SigV4IncompleteSignature, "%sAuthorization=%s", missing.String(), header)
	}
	if algorithm != SigV4Algorithm {
		return nil, sigV4Errorf(SigV4IncompleteSignature, "Unsupported AWS 'algorithm': '%s' (only %s for now). ", algorithm, SigV4Algorithm)
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 {
		return nil, sigV4Errorf(SigV4IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", credential)
	}
	names := strings.Split(signedHeaders, ";")
	for _, n := range names {
		if !validHeaderName(n) {
			return nil, sigV4Errorf(SigV4IncompleteSignature, "SignedHeaders must be lowercase header names separated by ';', got '%s'", signedHeaders)
		}
	}
	return &SigV4Authorization{
		AccessKeyID:   scope[0],
		Date:          scope[1],
		Region:        scope[2],
		Service:       scope[3],
		Terminator:    scope[4],
		SignedHeaders: names,
		Signature:     signature,
	}, nil
}

// errorf returns a SigV4Error of the given type with status 400, carrying
// the access key id of a if it is well-formed.
func (a *SigV4Authorization) errorf(typ, format string, args ...any) *SigV4Error {
	e := sigV4Errorf(typ, format, args...)
	if validAccessKeyID(a.AccessKeyID) {
		e.AccessKeyID = a.AccessKeyID
	}
	return e
}

// validHeaderName reports whether s is a non-empty lowercase HTTP header
// name (an RFC 9110 token without upper-case letters).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validRegion reports whether s is a well-formed region name: a DNS label
// of lowercase letters, digits and hyphens ("us-east-1", also "local").
func validRegion(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validAccessKeyID reports whether s can be an access key id at all, so
// that junk is refused without a key lookup: 1 to 128 printable ASCII
// characters (AWS's ids are 16 to 128 word characters).
func validAccessKeyID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// sigV4IgnoredHeaders are the headers aws-sdk-go-v2's signer never signs.
// The clients agree (botocore and the JS SDK leave them out too); a request
// that signs one cannot be verified with that signer.
var sigV4IgnoredHeaders = map[string]bool{
	"authorization":     true,
	"user-agent":        true,
	"x-amzn-trace-id":   true,
	"expect":            true,
	"transfer-encoding": true,
}

// Verify checks the SigV4 signature of r, whose body the caller has already
// read into body (Verify does not read r.Body), and returns the access key
// id the request was signed with. A failure to authenticate is a
// *SigV4Error; an error from Secret other than ErrSigV4UnknownKey and
// *SigV4Error is returned wrapped.
//
// The checks run in about AWS's order, so that a request with several
// faults mostly gets the error AWS would give: the header's structure
// (algorithm and credential elements included), X-Amz-Date's format and
// skew, host and x-amz-date being signed, the credential scope, the access
// key id, the payload hash, the signature and last the session token.
func (v *SigV4Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (accessKeyID string, err error) {
	if v.Secret == nil {
		return "", errors.New("auth: SigV4Verifier.Secret is nil")
	}
	hdrs := r.Header.Values("Authorization")
	presigned := r.URL.RawQuery != "" && r.URL.Query().Has("X-Amz-Algorithm")
	if len(hdrs) == 0 || hdrs[0] == "" {
		if presigned {
			return "", sigV4Errorf(SigV4MissingAuthenticationToken, "%s: Vane does not accept presigned requests (X-Amz-Algorithm in the query string); sign with the Authorization header", sigV4MsgMissingToken)
		}
		return "", sigV4Errorf(SigV4MissingAuthenticationToken, sigV4MsgMissingToken)
	}
	if presigned {
		return "", sigV4Errorf(SigV4InvalidSignature, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	}
	if len(hdrs) > 1 {
		return "", sigV4Errorf(SigV4IncompleteSignature, "The request carries %d Authorization headers; send exactly one.", len(hdrs))
	}
	header := hdrs[0]
	amzDate := r.Header.Get("X-Amz-Date")
	a, perr := parseSigV4(header, amzDate != "" || r.Header.Get("Date") != "")
	if perr != nil {
		return "", perr
	}

	// X-Amz-Date: the signer always signs it, so a request dated with Date
	// alone cannot be rebuilt.
	if amzDate == "" {
		return "", a.errorf(SigV4IncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header: Vane does not verify requests dated with 'Date' alone. Authorization=%s", header)
	}
	signingTime, terr := time.Parse(sigV4TimeFormat, amzDate)
	if terr != nil || signingTime.Format(sigV4TimeFormat) != amzDate {
		return "", a.errorf(SigV4IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
	}
	if err := v.checkSkew(signingTime); err != nil {
		if validAccessKeyID(a.AccessKeyID) {
			err.AccessKeyID = a.AccessKeyID
		}
		return "", err
	}

	signed := make(map[string]bool, len(a.SignedHeaders))
	for _, n := range a.SignedHeaders {
		signed[n] = true
	}
	if !signed["host"] {
		return "", a.errorf(SigV4InvalidSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !signed["x-amz-date"] {
		return "", a.errorf(SigV4InvalidSignature, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}

	service := v.service()
	var scope strings.Builder
	if !validRegion(a.Region) {
		fmt.Fprintf(&scope, "Credential should be scoped to a valid region, not '%s'. ", a.Region)
	}
	if a.Service != service {
		fmt.Fprintf(&scope, "Credential should be scoped to correct service: '%s'. ", service)
	}
	if a.Terminator != "aws4_request" {
		fmt.Fprintf(&scope, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", a.Terminator)
	}
	if a.Date != amzDate[:8] {
		fmt.Fprintf(&scope, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, amzDate[:8], amzDate)
	}
	if scope.Len() > 0 {
		return "", a.errorf(SigV4InvalidSignature, "%s", scope.String())
	}

	if !validAccessKeyID(a.AccessKeyID) {
		return "", a.errorf(SigV4UnrecognizedClient, sigV4MsgUnknownKey)
	}
	secret, err := v.Secret(ctx, a.AccessKeyID)
	if err != nil {
		var se *SigV4Error
		switch {
		case errors.As(err, &se):
			return "", se
		case errors.Is(err, ErrSigV4UnknownKey):
			e := a.errorf(SigV4UnrecognizedClient, sigV4MsgUnknownKey)
			e.Err = err
			return "", e
		}
		return "", fmt.Errorf("auth: looking up access key %q: %w", a.AccessKeyID, err)
	}

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if sent := r.Header.Get("X-Amz-Content-Sha256"); sent != "" && sent != payloadHash {
		if sent == "UNSIGNED-PAYLOAD" || strings.HasPrefix(sent, "STREAMING-") {
			return "", a.errorf(SigV4InvalidSignature, "X-Amz-Content-Sha256 '%s' is not accepted: the request body must be signed.", sent)
		}
		return "", a.errorf(SigV4InvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}

	for _, n := range a.SignedHeaders {
		if sigV4IgnoredHeaders[n] {
			return "", a.errorf(SigV4InvalidSignature, "%s Vane cannot verify a signature over the '%s' header.", sigV4MsgMismatch, n)
		}
	}
	want, wantHeaders, err := signSigV4(ctx, v.Signers.signer(a.AccessKeyID, secret), r, a, secret, payloadHash, signingTime, service)
	if err != nil {
		return "", err
	}
	// The signer signs every header it is given plus host (and
	// content-length when positive); if its list differs from the client's,
	// the client signed something this copy could not reproduce (a signed
	// content-length of 0, duplicate or unsorted names), and the signatures
	// cannot match.
	if wantHeaders != strings.Join(a.SignedHeaders, ";") || !hmac.Equal([]byte(want), []byte(a.Signature)) {
		return "", a.errorf(SigV4InvalidSignature, sigV4MsgMismatch)
	}

	if r.Header.Get("X-Amz-Security-Token") != "" {
		return "", a.errorf(SigV4UnrecognizedClient, "The security token included in the request is invalid: Vane issues no session tokens, so a request signed with a Vane access key must not carry X-Amz-Security-Token (unset AWS_SESSION_TOKEN or the profile's aws_session_token).")
	}
	return a.AccessKeyID, nil
}

// signSigV4 signs a copy of r that holds only what a says was signed, with
// aws-sdk-go-v2's signer, and returns the signature and signed-header list
// the signer produced.
func signSigV4(ctx context.Context, signer *v4.Signer, r *http.Request, a *SigV4Authorization, secret, payloadHash string, signingTime time.Time, service string) (signature, signedHeaders string, err error) {
	cp := &http.Request{
		Method: r.Method,
		// No scheme: the signer would strip a default port from Host for
		// a known scheme, and the host must be signed as received.
		URL:    &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery},
		Host:   r.Host,
		Header: make(http.Header, len(a.SignedHeaders)),
	}
	for _, n := range a.SignedHeaders {
		switch n {
		case "host", "x-amz-date":
			// The signer always signs cp.Host, and sets X-Amz-Date from
			// the signing time, which is the request's X-Amz-Date. (It
			// sets it by appending to the slice it finds, so handing it
			// r's slice would write into r.)
		case "content-length":
			// The signer signs cp.ContentLength, when positive, and
			// never a Content-Length header.
			cp.ContentLength = max(r.ContentLength, 0)
		default:
			// Canonical keys, as the signer's own (X-Amz-Date, and
			// X-Amz-Security-Token for credentials with a token), so a
			// name is never present twice. A signed header the request
			// lacks is signed with no value.
			k := textproto.CanonicalMIMEHeaderKey(n)
			cp.Header[k] = r.Header.Values(k)
		}
	}
	// The signer comes from a SignerCache keyed by the secret as well:
	// the SDK caches derived signing keys by access key id, region,
	// service and day but not by secret, so one signer shared across
	// secrets would keep accepting a replaced secret until midnight UTC.
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: secret}
	if err := signer.SignHTTP(ctx, creds, cp, payloadHash, service, a.Region, signingTime); err != nil {
		return "", "", fmt.Errorf("auth: signing the request copy: %w", err)
	}
	// The signer wrote its own Authorization header; read back its
	// SignedHeaders and Signature.
	got, perr := parseSigV4(cp.Header.Get("Authorization"), true)
	if perr != nil {
		return "", "", fmt.Errorf("auth: reading the signer's Authorization header: %w", perr)
	}
	return got.Signature, strings.Join(got.SignedHeaders, ";"), nil
}

// checkSkew returns an InvalidSignatureException, in AWS's words, if t is
// more than MaxSkew from now.
func (v *SigV4Verifier) checkSkew(t time.Time) *SigV4Error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultSigV4MaxSkew
	}
	window := formatSkew(skew)
	switch {
	case t.Before(n.Add(-skew)):
		return sigV4Errorf(SigV4InvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s)",
			t.Format(sigV4TimeFormat), n.Add(-skew).Format(sigV4TimeFormat), n.Format(sigV4TimeFormat), window)
	case t.After(n.Add(skew)):
		return sigV4Errorf(SigV4InvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s)",
			t.Format(sigV4TimeFormat), n.Add(skew).Format(sigV4TimeFormat), n.Format(sigV4TimeFormat), window)
	}
	return nil
}

// formatSkew writes a skew as AWS does ("5 min."), or as a Go duration
// when it is not a whole number of minutes.
func formatSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return d.String()
}

// service returns the service the credential scope must name.
func (v *SigV4Verifier) service() string {
	if v.Service == "" {
		return DefaultSigV4Service
	}
	return v.Service
}
