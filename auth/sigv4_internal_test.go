package auth

import (
	"net/textproto"
	"testing"
)

func TestCanonicalHeaderKeyMatchesTextproto(t *testing.T) {
	for _, n := range []string{"content-type", "x-amz-target", "x-amz-content-sha256", "x-amz-security-token",
		"amz-sdk-invocation-id", "amz-sdk-request", "x-amz-user-agent", "x-custom", "content-md5"} {
		if got, want := canonicalHeaderKey(n), textproto.CanonicalMIMEHeaderKey(n); got != want {
			t.Errorf("canonicalHeaderKey(%q) = %q, want %q", n, got, want)
		}
	}
}
