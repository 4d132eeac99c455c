package http_test

import (
	"strings"
	"testing"

	"github.com/vanehq/vane/flag"
	vanehttp "github.com/vanehq/vane/http"
)

// FuzzSplitFlagName: a name splits into an application, an environment
// and a flag only when it is /{app}/{env}/features/{flag}, and the parts
// put back together are the name.
func FuzzSplitFlagName(f *testing.F) {
	for _, s := range []string{"/shop/prod/features/new-checkout", "/legacy/features/x", "/a/b/features/c/d",
		"/a/b/features/", "//b/features/c", "/a/b/c/features/d", "features", "", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		app, env, key, ok := vanehttp.SplitFlagName(name)
		if !ok {
			if app != "" || env != "" || key != "" {
				t.Fatalf("SplitFlagName(%q) = %q, %q, %q without ok", name, app, env, key)
			}
			return
		}
		if "/"+app+"/"+env+"/features/"+key != name {
			t.Fatalf("SplitFlagName(%q) = %q, %q, %q: they do not make the name", name, app, env, key)
		}
		if app == "" || env == "" || key == "" || strings.Contains(app, "/") || strings.Contains(env, "/") {
			t.Fatalf("SplitFlagName(%q) = %q, %q, %q", name, app, env, key)
		}
		if !flag.IsFlagName(name) && !strings.HasSuffix(name, "/") {
			t.Fatalf("SplitFlagName(%q) ok, but it is not a flag name", name)
		}
	})
}
