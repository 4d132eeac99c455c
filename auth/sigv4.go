package auth

// This file verifies AWS Signature Version 4 as the AWS clients send it on
// the SSM protocol (aws CLI, boto3, aws-sdk-go-v2, the JS SDK v3). The
// signature is recomputed over the canonical form of what the client
// signed, built here without copying the request, with the signing key
// derived once a day per key (SigningKeyCache): verifying is on every SSM
// request's path, and aws-sdk-go-v2's signer, which Vane used before,
// cost more than serving the request. That signer remains the reference:
// a test compares the two on generated requests, and the wire formats the
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/httpbinding"
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
//   - The canonical request is rebuilt as aws-sdk-go-v2's signer builds it,
//     from the headers named in SignedHeaders (which must be sorted and
//     unique, as every client sends them), with the host taken from r.Host,
//     the method, path and query as received, and X-Amz-Date as the
//     signing time. A reverse proxy in front of Vane
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
//   - X-Amz-Security-Token is canonicalised like any signed header,
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
	// SigningKeys, if set, keeps the signing keys derived from secrets
	// across requests, so each is computed once a day per key rather than
	// for every request. nil derives the key every time.
	SigningKeys *SigningKeyCache
}

// DefaultSigningKeyCacheSize bounds a SigningKeyCache.
const DefaultSigningKeyCacheSize = 1024

// SigningKeyCache keeps the SigV4 signing keys derived from a secret for
// a day, region and service (four chained HMACs), so that they are
// computed once a day per access key rather than for every request. An
// entry is found by the access key id, the secret's SHA-256, the day, the
// region and the service: a changed secret misses, so the old secret's
// key is never used again, and a disabled or deleted key never reaches
// the cache, since the secret lookup refuses it first. The cache holds at
// most Size keys and is emptied when full, so it does not grow with the
// number of keys or days. It is safe for concurrent use.
type SigningKeyCache struct {
	Size int // DefaultSigningKeyCacheSize when 0
	mu   sync.Mutex
	keys map[signingScope][sha256.Size]byte
}

// signingScope is what a derived signing key depends on.
type signingScope struct {
	accessKeyID           string
	secret                [sha256.Size]byte // the secret's SHA-256
	date, region, service string
}

// signingKey returns the signing key of secret for a credential scope,
// from the cache when c is not nil.
func (c *SigningKeyCache) signingKey(accessKeyID, secret, date, region, service string) [sha256.Size]byte {
	if c == nil {
		return deriveSigningKey(secret, date, region, service)
	}
	k := signingScope{accessKeyID, sha256.Sum256([]byte(secret)), date, region, service}
	c.mu.Lock()
	key, ok := c.keys[k]
	c.mu.Unlock()
	if ok {
		return key
	}
	key = deriveSigningKey(secret, date, region, service)
	size := c.Size
	if size <= 0 {
		size = DefaultSigningKeyCacheSize
	}
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= size {
		c.keys = make(map[signingScope][sha256.Size]byte, min(size, 64))
	}
	c.keys[k] = key
	c.mu.Unlock()
	return key
}

// Len returns how many keys the cache holds.
func (c *SigningKeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// deriveSigningKey computes SigV4's signing key: HMAC-SHA256 chained over
// the day, region, service and "aws4_request", keyed first by "AWS4"
// and the secret.
func deriveSigningKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k[:], region)
	k = hmacSHA256(k[:], service)
	return hmacSHA256(k[:], "aws4_request")
}

func hmacSHA256(key []byte, data string) (sum [sha256.Size]byte) {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	h.Sum(sum[:0])
	return sum
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
	var algorithm, credential, signedHeaders, signature string
	for i, first := 0, true; i < len(header); {
		// Fields are runs of bytes other than comma and space (both
		// ASCII, so no multi-byte character holds one).
		if header[i] == ',' || header[i] == ' ' {
			i++
			continue
		}
		end := i
		for end < len(header) && header[end] != ',' && header[end] != ' ' {
			end++
		}
		f := header[i:end]
		i = end
		if first {
			algorithm, first = f, false
			continue
		}
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
	var scope [5]string
	ok, rest := true, credential
	for i := range 4 {
		var found bool
		scope[i], rest, found = strings.Cut(rest, "/")
		ok = ok && found
	}
	scope[4] = rest
	if !ok || strings.Contains(rest, "/") {
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
// that signs one is refused, as it was when that signer verified requests.
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

	// X-Amz-Date: every SDK signs it; a request dated with Date alone is
	// refused rather than verified by a second, untested rule.
	if amzDate == "" {
		return "", a.errorf(SigV4IncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header: Vane does not verify requests dated with 'Date' alone. Authorization=%s", header)
	}
	signingTime, terr := time.Parse(sigV4TimeFormat, amzDate)
	var dateBuf [len(sigV4TimeFormat)]byte
	if terr != nil || string(signingTime.AppendFormat(dateBuf[:0], sigV4TimeFormat)) != amzDate {
		return "", a.errorf(SigV4IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
	}
	if err := v.checkSkew(signingTime); err != nil {
		if validAccessKeyID(a.AccessKeyID) {
			err.AccessKeyID = a.AccessKeyID
		}
		return "", err
	}

	signed := func(name string) bool { return slices.Contains(a.SignedHeaders, name) }
	if !signed("host") {
		return "", a.errorf(SigV4InvalidSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !signed("x-amz-date") {
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
	var hashBuf [2 * sha256.Size]byte
	hex.Encode(hashBuf[:], sum[:])
	payloadHash := hashBuf[:]
	if sent := r.Header.Get("X-Amz-Content-Sha256"); sent != "" && sent != string(payloadHash) {
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
	key := v.SigningKeys.signingKey(a.AccessKeyID, secret, a.Date, a.Region, service)
	if !sortedUnique(a.SignedHeaders) || signed("content-length") && r.ContentLength <= 0 ||
		!validSignature(signature(key, r, a, amzDate, payloadHash, service), a.Signature) {
		// The clients sign their header names sorted and once each, and
		// content-length only when there is a body (aws-sdk-go-v2's
		// signer, against which this is tested, does the same).
		return "", a.errorf(SigV4InvalidSignature, sigV4MsgMismatch)
	}

	if r.Header.Get("X-Amz-Security-Token") != "" {
		return "", a.errorf(SigV4UnrecognizedClient, "The security token included in the request is invalid: Vane issues no session tokens, so a request signed with a Vane access key must not carry X-Amz-Security-Token (unset AWS_SESSION_TOKEN or the profile's aws_session_token).")
	}
	return a.AccessKeyID, nil
}

// canonicalHeaderKey returns the key under which net/http keeps the
// header named n (lower case, as signed): the names AWS SDKs sign are
// known, so the common case costs a switch.
func canonicalHeaderKey(n string) string {
	switch n {
	case "content-type":
		return "Content-Type"
	case "x-amz-target":
		return "X-Amz-Target"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "amz-sdk-invocation-id":
		return "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		return "Amz-Sdk-Request"
	case "x-amz-user-agent":
		return "X-Amz-User-Agent"
	}
	return textproto.CanonicalMIMEHeaderKey(n)
}

// signature computes the signature of r with the signing key, as hex:
// HMAC-SHA256 over the string to sign, which holds the hash of the
// canonical request built from what a says was signed. The canonical form
// is aws-sdk-go-v2's signer's (TestSignatureMatchesTheSDKSigner compares
// them on generated requests): the path as received, escaped again
// segment by segment; the query sorted by name, values in the order sent,
// RFC 3986-escaped; each signed header's values with runs of spaces
// collapsed and the ends trimmed, joined by commas; host from r.Host and
// content-length from the length read.
func signature(key [sha256.Size]byte, r *http.Request, a *SigV4Authorization, amzDate string, payloadHash []byte, service string) (sig [2 * sha256.Size]byte) {
	var stack [1024]byte
	b := append(stack[:0], r.Method...)
	b = append(b, '\n')
	b = appendCanonicalPath(b, r.URL)
	b = append(b, '\n')
	if r.URL.RawQuery != "" {
		b = appendCanonicalQuery(b, r.URL.RawQuery)
	}
	b = append(b, '\n')
	for _, n := range a.SignedHeaders {
		b = append(b, n...)
		b = append(b, ':')
		switch n {
		case "host":
			b = appendCollapsed(b, r.Host)
		case "x-amz-date":
			b = append(b, amzDate...)
		case "content-length":
			b = strconv.AppendInt(b, r.ContentLength, 10)
		default:
			for i, v := range r.Header[canonicalHeaderKey(n)] {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendCollapsed(b, strings.TrimSpace(v))
			}
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, n := range a.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, n...)
	}
	b = append(b, '\n')
	b = append(b, payloadHash...)
	canonical := sha256.Sum256(b)

	// HMAC-SHA256(key, string to sign), written out so that nothing here
	// goes through an interface and the buffers stay on the stack: the
	// inner hash covers key⊕ipad then the string to sign, the outer one
	// key⊕opad then the inner hash.
	b = b[:0]
	for i := range hmacBlock {
		b = append(b, hmacKeyByte(key, i)^0x36)
	}
	b = append(b, SigV4Algorithm+"\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, a.Date...)
	b = append(b, '/')
	b = append(b, a.Region...)
	b = append(b, '/')
	b = append(b, service...)
	b = append(b, "/aws4_request\n"...)
	b = hex.AppendEncode(b, canonical[:])
	inner := sha256.Sum256(b)
	var outer [hmacBlock + sha256.Size]byte
	for i := range hmacBlock {
		outer[i] = hmacKeyByte(key, i) ^ 0x5c
	}
	copy(outer[hmacBlock:], inner[:])
	sum := sha256.Sum256(outer[:])
	hex.Encode(sig[:], sum[:])
	return sig
}

// validSignature compares a computed signature with the one sent, in
// constant time.
func validSignature(want [2 * sha256.Size]byte, sent string) bool {
	return hmac.Equal(want[:], []byte(sent))
}

// hmacBlock is SHA-256's block size, HMAC's padded key length.
const hmacBlock = 64

// hmacKeyByte is byte i of the signing key padded with zeros to a block.
func hmacKeyByte(key [sha256.Size]byte, i int) byte {
	if i < len(key) {
		return key[i]
	}
	return 0
}

// appendCanonicalPath appends the path as the signer canonicalises it:
// the escaped path as received ("/" when empty), escaped once more.
func appendCanonicalPath(b []byte, u *url.URL) []byte {
	p := u.EscapedPath()
	if p == "" || p == "/" {
		return append(b, '/')
	}
	return append(b, httpbinding.EscapePath(p, false)...)
}

// appendCanonicalQuery appends the query as the signer canonicalises it:
// every name and value RFC 3986-escaped, the pairs sorted by escaped name,
// then value. Like the signer, it keeps what parses of a malformed query.
func appendCanonicalQuery(b []byte, raw string) []byte {
	q, _ := url.ParseQuery(raw)
	pairs := make([][2]string, 0, len(q))
	for k, vs := range q {
		ek := escapeQuery(k)
		for _, v := range vs {
			pairs = append(pairs, [2]string{ek, escapeQuery(v)})
		}
	}
	slices.SortFunc(pairs, func(x, y [2]string) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p[0]...)
		b = append(b, '=')
		b = append(b, p[1]...)
	}
	return b
}

// escapeQuery escapes all but RFC 3986's unreserved characters, a space
// as %20.
func escapeQuery(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// appendCollapsed appends s with each run of spaces replaced by one space
// and spaces at either end removed (tabs are kept, as the signer keeps
// them).
func appendCollapsed(b []byte, s string) []byte {
	s = strings.Trim(s, " ")
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return b
}

// sortedUnique reports whether names are in strictly increasing order.
func sortedUnique(names []string) bool {
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			return false
		}
	}
	return true
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
