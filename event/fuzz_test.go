package event_test

import (
	"strings"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/event"
)

// FuzzMatchPath: matching never panics; a plain path selects exactly
// itself and the names below it; a rule that CheckRule accepts matches
// without error.
func FuzzMatchPath(f *testing.F) {
	for _, s := range [][2]string{{"/myapp/*/features/*", "/myapp/prod/features/x"}, {"/a/**/b", "/a/x/y/b"}, {"/a/[", "/a/["},
		{"/a/b/", "/a/b/c"}, {"/", "/x"}, {"/a?c", "/abc"}, {"**", "/a/b"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := event.MatchPath(pattern, name)
		if !strings.ContainsAny(pattern, "*?[") {
			p := strings.TrimSuffix(pattern, "/")
			want := p == "" || name == p || strings.HasPrefix(name, p+"/")
			if got != want {
				t.Fatalf("MatchPath(%q, %q) = %v, want %v", pattern, name, got, want)
			}
		}
		r := &vane.EventRule{Name: "r", Path: pattern, Target: vane.TargetLog}
		if event.CheckRule(r) == nil {
			event.Selects(r, name, vane.EventUpdate)
		}
	})
}

// FuzzParseDeny: a list either parses into prefixes that each contain
// their own address, or is refused with an error; never a panic.
func FuzzParseDeny(f *testing.F) {
	for _, s := range []string{"169.254.0.0/16,fe80::/10", "10.0.0.1", "", " , ", "::1/129", "host.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := event.ParseDeny(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.Contains(p.Addr()) {
				t.Fatalf("ParseDeny(%q): %s does not contain its own address", s, p)
			}
		}
	})
}
