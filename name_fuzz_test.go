package vane_test

import (
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

// Seeds for both targets also live in testdata/fuzz/<target>/.
var fuzzSeeds = []string{
	"x", "/x", "/a/b", "/a/b:3", "/a/b:prod", "x:0", "a/b", "//", "/a/", "/aws/x",
	arnPrefix + "a/b:prod", arnPrefix + "x",
}

// maxMessageLen bounds error messages: hostile input must not be echoed in
// full.
const maxMessageLen = 512

// isNameChars reports whether s holds only characters allowed in names.
func isNameChars(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/') {
			return false
		}
	}
	return true
}

// checkNameErr checks what every name error has in common.
func checkNameErr(t *testing.T, fn, in string, err error) {
	t.Helper()
	if code := vane.ErrorCode(err); code != vane.EINVALID {
		t.Fatalf("%s(%q): code %q, want %q (err: %v)", fn, in, code, vane.EINVALID, err)
	}
	if d := vane.ErrorDetail(err); d != vane.DetailValidation && d != vane.DetailHierarchyLevelLimitExceeded {
		t.Fatalf("%s(%q): detail %q, want ValidationException or HierarchyLevelLimitExceededException", fn, in, d)
	}
	if msg := vane.ErrorMessage(err); msg == "" || len(msg) > maxMessageLen {
		t.Fatalf("%s(%q): message of %d bytes, want 1 to %d: %q", fn, in, len(msg), maxMessageLen, msg)
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		canon, err := vane.ValidateName(name)
		if err != nil {
			checkNameErr(t, "ValidateName", name, err)
			if canon != "" {
				t.Fatalf("ValidateName(%q) = %q alongside an error", name, canon)
			}
			return
		}

		// The canonical form is a valid name, and its own canonical form.
		if again, err := vane.ValidateName(canon); err != nil || again != canon {
			t.Fatalf("ValidateName(%q) = %q, but ValidateName(%q) = %q, %v", name, canon, canon, again, err)
		}
		if got := vane.CanonicalName(name); got != canon {
			t.Fatalf("CanonicalName(%q) = %q, ValidateName gave %q", name, got, canon)
		}
		if canon == "" || !isNameChars(canon) {
			t.Fatalf("ValidateName(%q) = %q: empty or holds forbidden characters", name, canon)
		}
		if n := strings.Count(canon, "/"); n > vane.MaxHierarchyLevels {
			t.Fatalf("ValidateName(%q) = %q has %d levels", name, canon, n)
		}
		if n := len(arnPrefix) + len(strings.TrimPrefix(canon, "/")); n > vane.MaxNameARNLength {
			t.Fatalf("ValidateName(%q) = %q: ARN of %d characters", name, canon, n)
		}
		if strings.Contains(canon, "//") || strings.HasSuffix(canon, "/") {
			t.Fatalf("ValidateName(%q) = %q has an empty segment", name, canon)
		}

		// "/x" and "x" are one root-level parameter; any other name is kept.
		root := !strings.Contains(canon, "/")
		if root {
			if other, err := vane.ValidateName("/" + canon); err != nil || other != canon {
				t.Fatalf("ValidateName(%q) = %q, but ValidateName(%q) = %q, %v", canon, canon, "/"+canon, other, err)
			}
			if want := strings.TrimPrefix(name, "/"); canon != want {
				t.Fatalf("ValidateName(%q) = %q, want %q", name, canon, want)
			}
		} else if canon != name || canon[0] != '/' {
			t.Fatalf("ValidateName(%q) = %q, want it unchanged", name, canon)
		}

		// A valid name is a valid selector and ARN naming the same parameter.
		if sel, err := vane.ParseSelector(name); err != nil || sel != (vane.Selector{Name: canon}) {
			t.Fatalf("ParseSelector(%q) = %+v, %v, want name %q", name, sel, err, canon)
		}
		arn := arnPrefix + strings.TrimPrefix(canon, "/")
		if sel, err := vane.ParseSelector(arn); err != nil || sel != (vane.Selector{Name: canon}) {
			t.Fatalf("ParseSelector(%q) = %+v, %v, want name %q", arn, sel, err, canon)
		}

		// The reserved-prefix rule only adds refusals.
		if nn, err := vane.ValidateNewName(name); err != nil {
			lower := strings.ToLower(strings.TrimPrefix(canon, "/"))
			if !strings.HasPrefix(lower, "aws") && !strings.HasPrefix(lower, "ssm") {
				t.Fatalf("ValidateNewName(%q) refused a name without a reserved prefix: %v", name, err)
			}
			if code := vane.ErrorCode(err); code != vane.EINVALID && code != vane.EFORBIDDEN {
				t.Fatalf("ValidateNewName(%q): code %q", name, code)
			}
		} else if nn != canon {
			t.Fatalf("ValidateNewName(%q) = %q, ValidateName gave %q", name, nn, canon)
		}

		// A hierarchical name is listed one level under its parent path,
		// and sorts inside the parent's range.
		if !root {
			parent := canon[:strings.LastIndexByte(canon, '/')+1]
			if parent != "/" {
				if p, err := vane.ValidatePath(parent); err != nil || p != parent {
					t.Fatalf("ValidatePath(%q) = %q, %v for the parent of %q", parent, p, err, canon)
				}
			}
			if !vane.UnderPath(canon, parent, false) {
				t.Fatalf("UnderPath(%q, %q, false) = false", canon, parent)
			}
			lo, hi := vane.PathRange(parent)
			if canon < lo || (hi != "" && canon >= hi) {
				t.Fatalf("%q is outside PathRange(%q) = [%q, %q)", canon, parent, lo, hi)
			}
			if p, err := vane.ValidatePath(canon); err != nil || p != canon+"/" {
				t.Fatalf("ValidatePath(%q) = %q, %v, want %q", canon, p, err, canon+"/")
			}
		}
	})
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := vane.ParseSelector(s)
		if err != nil {
			checkNameErr(t, "ParseSelector", s, err)
			if sel != (vane.Selector{}) {
				t.Fatalf("ParseSelector(%q) = %+v alongside an error", s, sel)
			}
			return
		}

		// The name is canonical; at most one of version and label is set.
		if canon, err := vane.ValidateName(sel.Name); err != nil || canon != sel.Name {
			t.Fatalf("ParseSelector(%q) gave name %q, which validates to %q, %v", s, sel.Name, canon, err)
		}
		if sel.Version < 0 || (sel.Version > 0 && sel.Label != "") {
			t.Fatalf("ParseSelector(%q) = %+v: bad version/label pair", s, sel)
		}
		if sel.Label != "" && !vane.ValidLabel(sel.Label) {
			t.Fatalf("ParseSelector(%q) gave label %q, which ValidLabel refuses", s, sel.Label)
		}

		// Without a ':' the input is a plain name.
		if !strings.Contains(s, ":") {
			if canon, err := vane.ValidateName(s); err != nil || canon != sel.Name || sel.String() != "" {
				t.Fatalf("ParseSelector(%q) = %+v, but ValidateName = %q, %v", s, sel, canon, err)
			}
		}

		// The selector prints back to references that parse to it: plain,
		// with a leading slash, and as an ARN.
		refs := []string{
			"/" + strings.TrimPrefix(sel.Name, "/") + sel.String(),
			arnPrefix + strings.TrimPrefix(sel.Name, "/") + sel.String(),
			"arn:aws:ssm:eu-west-1:123456789012:parameter/" + strings.TrimPrefix(sel.Name, "/") + sel.String(),
		}
		// A root-level parameter named "arn" can't be written "arn:3": that
		// reads as an ARN. Its other spellings are checked above.
		if sel.Name != "arn" || sel.String() == "" {
			refs = append(refs, sel.Name+sel.String())
		}
		for _, ref := range refs {
			if again, err := vane.ParseSelector(ref); err != nil || again != sel {
				t.Fatalf("ParseSelector(%q) = %+v, but ParseSelector(%q) = %+v, %v", s, sel, ref, again, err)
			}
		}
	})
}
