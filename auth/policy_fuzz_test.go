package auth_test

import (
	"strings"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// maxPolicyMessageLen bounds the messages of policy errors: hostile input
// must not be echoed in full.
const maxPolicyMessageLen = 600

// FuzzParsePolicy checks that ParsePolicy never panics, that every error
// is an EINVALID naming a JSON path, and that a policy it accepts
// evaluates without panicking, alike through Decide and PathFilter.
func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		auth.AllowAllPolicy,
		decidePolicy,
		benchPolicy,
		`{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "ssm:Get*", "NotResource": ["/public/*", "arn:aws:ssm:*:*:parameter/x?"]}}`,
		`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:alias/*"}]}`,
		`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParamter", "Resource": "*"}]}`,
		`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:*:*:*:*"}]}`,
		`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "/a", "Condition": {}}]}`,
		`{"Version": "2012-10-17", "Version": "x"}`,
		`{"\u0000\n": 1}`,
		`[]`, `{`, `null`, ``,
	} {
		f.Add(seed)
	}
	actions := auth.Actions()
	resources := []string{"/a/b", "x", "/public/x", "arn:aws:ssm:us-east-1:000000000000:parameter/a", "alias/aws/ssm",
		"arn:aws:kms:us-east-1:000000000000:key/k", "", "*", "arn:", "arn:aws:ssm:::parameter"}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := auth.ParsePolicy(doc)
		if err != nil {
			if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != auth.DetailMalformedPolicy {
				t.Fatalf("ParsePolicy(%q): %v, want EINVALID (%s)", doc, err, auth.DetailMalformedPolicy)
			}
			if msg := vane.ErrorMessage(err); !strings.HasPrefix(msg, "$") || len(msg) > maxPolicyMessageLen {
				t.Fatalf("ParsePolicy(%q): message %q must begin with a JSON path and hold at most %d bytes", doc, msg, maxPolicyMessageLen)
			}
			return
		}
		if p.String() != doc {
			t.Fatalf("String() = %q, want %q", p, doc)
		}
		if _, err := auth.ParsePolicy(p.String()); err != nil {
			t.Fatalf("a parsed policy does not parse again: %v", err)
		}
		for _, a := range actions {
			f := p.PathFilter(a)
			f.AllowsUnder("/a/")
			for _, r := range resources {
				d := p.Decide(a, r)
				if d.Allowed && d.Statement < 0 || d.Statement >= len(p.Statements()) {
					t.Fatalf("Decide(%s, %s) = %+v: no such statement", a, r, d)
				}
				if r != "" && !strings.HasPrefix(r, "arn:") && !strings.HasPrefix(r, "alias/") && r != "*" &&
					a != auth.ActionDecrypt && a != auth.ActionAdmin && f.Allows(r) != d.Allowed {
					t.Fatalf("PathFilter(%s).Allows(%s) = %v, Decide = %s", a, r, f.Allows(r), d)
				}
				_ = d.String()
			}
		}
	})
}
