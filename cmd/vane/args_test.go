package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantPos   []string
		wantType  string
		wantDesc  string
		overwrite bool
	}{
		{"FlagsBeforeArgs", []string{"--type", "SecureString", "--overwrite", "/a", "v"}, []string{"/a", "v"}, "SecureString", "", true},
		{"FlagsAfterArgs", []string{"/a", "v", "--type", "SecureString", "--overwrite"}, []string{"/a", "v"}, "SecureString", "", true},
		{"FlagsBetweenArgs", []string{"/a", "-type=StringList", "v", "-overwrite=false"}, []string{"/a", "v"}, "StringList", "", false},
		{"DashIsAnArgument", []string{"/a", "-", "--overwrite"}, []string{"/a", "-"}, "", "", true},
		{"DoubleDashEndsFlags", []string{"--type", "String", "--", "/a", "--overwrite"}, []string{"/a", "--overwrite"}, "String", "", false},
		{"NegativeNumberIsAnArgument", []string{"/a", "-5"}, []string{"/a", "-5"}, "", "", false},
		{"FlagValueLooksLikeAFlag", []string{"--description", "--overwrite", "/a", "v"}, []string{"/a", "v"}, "", "--overwrite", false},
		{"FlagValueLooksLikeAnArgument", []string{"/a", "--description", "v", "w"}, []string{"/a", "w"}, "", "v", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("put", flag.ContinueOnError)
			typ := fs.String("type", "", "")
			desc := fs.String("description", "", "")
			overwrite := fs.Bool("overwrite", false, "")
			pos, err := parseInterleaved(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pos, tt.wantPos) {
				t.Errorf("positional = %q, want %q", pos, tt.wantPos)
			}
			if *typ != tt.wantType || *desc != tt.wantDesc || *overwrite != tt.overwrite {
				t.Errorf("type, description, overwrite = %q, %q, %v; want %q, %q, %v",
					*typ, *desc, *overwrite, tt.wantType, tt.wantDesc, tt.overwrite)
			}
		})
	}

	errTests := []struct {
		name string
		args []string
		want string
	}{
		{"ErrUnknownFlag", []string{"/a", "--frob"}, "not defined: -frob"},
		{"ErrMissingFlagValue", []string{"/a", "--type"}, "needs an argument: -type"},
		{"ErrBadBool", []string{"--overwrite=maybe"}, "invalid boolean"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("put", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.String("type", "", "")
			fs.Bool("overwrite", false, "")
			_, err := parseInterleaved(fs, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}

	t.Run("HelpAnywhere", func(t *testing.T) {
		fs := flag.NewFlagSet("put", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if _, err := parseInterleaved(fs, []string{"/a", "--help"}); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("err = %v, want flag.ErrHelp", err)
		}
	})
}

func TestReadValue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "value.json")
	if err := os.WriteFile(file, []byte("{\"on\": true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cli{stdin: strings.NewReader("from stdin\nline 2\n")}

	t.Run("LiteralIsItself", func(t *testing.T) {
		if v, err := c.readValue("plain value"); err != nil || v != "plain value" {
			t.Fatalf("got %q, %v", v, err)
		}
	})
	t.Run("DashReadsAllOfStdin", func(t *testing.T) {
		if v, err := c.readValue("-"); err != nil || v != "from stdin\nline 2\n" {
			t.Fatalf("got %q, %v", v, err)
		}
	})
	t.Run("AtReadsTheFile", func(t *testing.T) {
		if v, err := c.readValue("@" + file); err != nil || v != "{\"on\": true}\n" {
			t.Fatalf("got %q, %v", v, err)
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		_, err := c.readValue("@" + filepath.Join(dir, "nope"))
		var u usageError
		if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("err = %v, want a non-usage error naming the file", err)
		}
	})
	t.Run("ErrAtAlone", func(t *testing.T) {
		var u usageError
		if _, err := c.readValue("@"); !errors.As(err, &u) {
			t.Fatalf("err = %v, want a usage error", err)
		}
	})
}

func TestNamePath(t *testing.T) {
	tests := []struct {
		name, root, param, want string
	}{
		{"Hierarchical", "/v1/parameters", "/myapp/prod/x", "/v1/parameters/myapp/prod/x"},
		{"RootLevel", "/v1/parameters", "x", "/v1/parameters/x"},
		{"RootLevelWithSlash", "/v1/parameters", "/x", "/v1/parameters/x"},
		{"OtherRoot", "/v1/tags", "/a/b", "/v1/tags/a/b"},
		{"AllowedCharactersKept", "/v1/parameters", "/a-b/c_d/e.f/G9", "/v1/parameters/a-b/c_d/e.f/G9"},
		{"SegmentsEscaped", "/v1/parameters", "/a b/c?d/e#f/g%h", "/v1/parameters/a%20b/c%3Fd/e%23f/g%25h"},
		{"EmptySegmentKept", "/v1/parameters", "/a//b", "/v1/parameters/a//b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := namePath(tt.root, tt.param)
			if err != nil || got != tt.want {
				t.Fatalf("namePath(%q, %q) = %q, %v; want %q", tt.root, tt.param, got, err, tt.want)
			}
		})
	}

	t.Run("ErrNotFullyQualified", func(t *testing.T) {
		_, err := namePath("/v1/parameters", "a/b")
		var e *apiError
		if !errors.As(err, &e) || e.Code != "invalid" || !strings.Contains(e.Message, "fully qualified") {
			t.Fatalf("err = %#v, want an invalid error naming the rule", err)
		}
	})
	t.Run("ErrEmptyName", func(t *testing.T) {
		var u usageError
		if _, err := namePath("/v1/parameters", ""); !errors.As(err, &u) {
			t.Fatalf("err = %v, want a usage error", err)
		}
	})
}

func TestSelectors(t *testing.T) {
	t.Run("NameOnly", func(t *testing.T) {
		if n, s, err := splitSelector("/a/b"); n != "/a/b" || s != "" || err != nil {
			t.Fatalf("got %q, %q, %v", n, s, err)
		}
	})
	t.Run("Version", func(t *testing.T) {
		n, s, err := splitSelector("/a/b:12")
		if n != "/a/b" || s != "12" || err != nil || !isVersion(s) {
			t.Fatalf("got %q, %q, %v", n, s, err)
		}
	})
	t.Run("Label", func(t *testing.T) {
		n, s, err := splitSelector("/a/b:prod")
		if n != "/a/b" || s != "prod" || err != nil || isVersion(s) {
			t.Fatalf("got %q, %q, %v", n, s, err)
		}
	})
	for _, bad := range []string{"/a:", ":3"} {
		t.Run("ErrEmptyPart"+bad, func(t *testing.T) {
			var u usageError
			if _, _, err := splitSelector(bad); !errors.As(err, &u) {
				t.Fatalf("splitSelector(%q) err = %v, want a usage error", bad, err)
			}
		})
	}
	t.Run("VersionSelector", func(t *testing.T) {
		if n, v, err := parseVersionSelector("/a:7"); n != "/a" || v != 7 || err != nil {
			t.Fatalf("got %q, %d, %v", n, v, err)
		}
		if n, v, err := parseVersionSelector("/a"); n != "/a" || v != 0 || err != nil {
			t.Fatalf("got %q, %d, %v", n, v, err)
		}
	})
	for _, bad := range []string{"/a:prod", "/a:0", "/a:-1"} {
		t.Run("ErrNotAVersion"+bad, func(t *testing.T) {
			var u usageError
			if _, _, err := parseVersionSelector(bad); !errors.As(err, &u) {
				t.Fatalf("parseVersionSelector(%q) err = %v, want a usage error", bad, err)
			}
		})
	}
}

func TestServerURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:7420", "http://127.0.0.1:7420"},
		{"http://127.0.0.1:7420/", "http://127.0.0.1:7420"},
		{"127.0.0.1:9", "http://127.0.0.1:9"},
		{"https://vane.example.com/prefix/", "https://vane.example.com/prefix"},
	}
	for _, tt := range tests {
		if got, err := serverURL(tt.in); got != tt.want || err != nil {
			t.Errorf("serverURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"ftp://h", "http://", "http://h/?q=1", "http://h/%zz"} {
		if got, err := serverURL(bad); err == nil {
			t.Errorf("serverURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestTagsFlag(t *testing.T) {
	tags := tagsFlag{}
	for _, s := range []string{"env=prod,team=core", "owner=", "env=dev", "url=a=b"} {
		if err := tags.Set(s); err != nil {
			t.Fatalf("Set(%q): %v", s, err)
		}
	}
	want := map[string]string{"env": "dev", "team": "core", "owner": "", "url": "a=b"}
	if len(tags) != len(want) {
		t.Fatalf("tags = %v, want %v", tags, want)
	}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("tags[%q] = %q, want %q", k, tags[k], v)
		}
	}
	for _, bad := range []string{"novalue", "=v", "a=1,,b=2"} {
		if err := (tagsFlag{}).Set(bad); err == nil {
			t.Errorf("Set(%q) succeeded, want an error", bad)
		}
	}
}

func TestDisplayValue(t *testing.T) {
	long := strings.Repeat("x", 50)
	tests := []struct {
		name string
		p    parameter
		want string
	}{
		{"Short", parameter{Type: "String", Value: "on"}, "on"},
		{"CutAt40", parameter{Type: "String", Value: long}, strings.Repeat("x", 37) + "..."},
		{"Exactly40", parameter{Type: "String", Value: long[:40]}, long[:40]},
		{"CutByCharacters", parameter{Type: "String", Value: strings.Repeat("é", 45)}, strings.Repeat("é", 37) + "..."},
		{"SecureStringMasked", parameter{Type: "SecureString", Value: "hunter2"}, "****"},
		{"NewlinesQuoted", parameter{Type: "String", Value: "a\tb\nc"}, `"a\tb\nc"`},
		{"BlankQuoted", parameter{Type: "String", Value: "  "}, `"  "`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayValue(&tt.p); got != tt.want {
				t.Fatalf("displayValue = %q, want %q", got, tt.want)
			}
		})
	}
}
