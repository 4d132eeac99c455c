package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeAPI stands in for the server's REST API: it answers each request
// with the route registered for its method and escaped path, and records
// every request so that tests can check what the CLI sent.
type fakeAPI struct {
	t   *testing.T
	URL string

	mu     sync.Mutex
	routes map[string]func(fakeRequest) (int, string)
	reqs   []fakeRequest
}

// fakeRequest is a request as the fake received it.
type fakeRequest struct {
	Method      string
	Path        string // escaped, as sent
	Query       url.Values
	ContentType string
	Body        string
}

// newFakeAPI starts a fake API and points VANE_SERVER at it.
func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: map[string]func(fakeRequest) (int, string){}}
	srv := httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	t.Setenv("VANE_SERVER", srv.URL)
	return f
}

// route answers "METHOD /escaped/path" with fn.
func (f *fakeAPI) route(key string, fn func(fakeRequest) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[key] = fn
}

// reply answers "METHOD /escaped/path" with a fixed status and body.
func (f *fakeAPI) reply(key string, status int, body string) {
	f.route(key, func(fakeRequest) (int, string) { return status, body })
}

// requests returns the requests received so far.
func (f *fakeAPI) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

// only returns the one request received, failing the test otherwise.
func (f *fakeAPI) only() fakeRequest {
	f.t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		f.t.Fatalf("the API got %d requests, want 1: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

func (f *fakeAPI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := fakeRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"), Body: string(body),
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	fn := f.routes[r.Method+" "+req.Path]
	f.mu.Unlock()
	status, resp := http.StatusNotFound, `{"error":{"code":"not_found","message":"no route"}}`
	if fn != nil {
		status, resp = fn(req)
	} else {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, resp)
}

// runCLI runs the command line in-process and returns its output and exit
// code.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// mustRunCLI runs the command line and fails the test unless it exits 0.
func mustRunCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, stdin, args...)
	if code != 0 {
		t.Fatalf("vane %q exited %d; stdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	return stdout, stderr
}

// assertJSON fails unless got and want are equal JSON values.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

// assertRequest checks the method, path and query of a request.
func assertRequest(t *testing.T, r fakeRequest, method, path string, query url.Values) {
	t.Helper()
	if r.Method != method || r.Path != path {
		t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, method, path)
	}
	if query == nil {
		query = url.Values{}
	}
	if !reflect.DeepEqual(r.Query, query) {
		t.Errorf("query = %v, want %v", r.Query, query)
	}
}

const paramJSON = `{"name":"/app/prod/x","type":"String","value":"v1","version":1,"tier":"Standard",` +
	`"data_type":"text","last_modified":"2026-01-02T03:04:05.123456789Z","last_modified_user":"anonymous"}`

func TestPut(t *testing.T) {
	t.Run("CreatesAString", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/app/prod/x", 201, paramJSON)
		stdout, _ := mustRunCLI(t, "", "put", "/app/prod/x", "v1")
		if stdout != "/app/prod/x version 1 (Standard)\n" {
			t.Errorf("stdout = %q", stdout)
		}
		r := api.only()
		assertRequest(t, r, "PUT", "/v1/parameters/app/prod/x", nil)
		assertJSON(t, r.Body, `{"value":"v1","type":"String"}`)
		if r.ContentType != "application/json" {
			t.Errorf("Content-Type = %q", r.ContentType)
		}
	})
	t.Run("OverwriteKeepsTheType", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/app/prod/x", 200, strings.Replace(paramJSON, `"version":1`, `"version":2`, 1))
		stdout, _ := mustRunCLI(t, "", "put", "--overwrite", "/app/prod/x", "v2")
		if stdout != "/app/prod/x version 2 (Standard)\n" {
			t.Errorf("stdout = %q", stdout)
		}
		assertJSON(t, api.only().Body, `{"value":"v2","overwrite":true}`)
	})
	t.Run("SendsEveryFlag", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/app/prod/x", 201, paramJSON)
		mustRunCLI(t, "", "put", "/app/prod/x", "--type", "SecureString", "s3cret", "--description", "the db password",
			"--tier=Advanced", "--allowed-pattern", "^[a-z0-9]+$", "--data-type", "text", "--key-id", "alias/k",
			"--tags", "team=core,env=prod", "--tags", "owner=me")
		assertJSON(t, api.only().Body, `{"value":"s3cret","type":"SecureString","description":"the db password",
			"tier":"Advanced","allowed_pattern":"^[a-z0-9]+$","data_type":"text","key_id":"alias/k",
			"tags":{"team":"core","env":"prod","owner":"me"}}`)
	})
	t.Run("EmptyDescriptionIsSent", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 200, paramJSON)
		mustRunCLI(t, "", "put", "x", "v", "--overwrite", "--description=")
		assertJSON(t, api.only().Body, `{"value":"v","overwrite":true,"description":""}`)
	})
	t.Run("PositiveExpectedVersionIsAnOverwrite", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 200, paramJSON)
		mustRunCLI(t, "", "put", "x", "v", "--expect-version", "3")
		assertJSON(t, api.only().Body, `{"value":"v","expect_version":3}`)
	})
	t.Run("ExpectedVersionZeroCreates", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 201, paramJSON)
		mustRunCLI(t, "", "put", "x", "v", "--expect-version=0")
		assertJSON(t, api.only().Body, `{"value":"v","type":"String","expect_version":0}`)
	})
	t.Run("ValueFromStdin", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 201, paramJSON)
		mustRunCLI(t, "line 1\nline 2\n", "put", "x", "-")
		assertJSON(t, api.only().Body, `{"value":"line 1\nline 2\n","type":"String"}`)
	})
	t.Run("ValueFromFile", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 201, paramJSON)
		file := filepath.Join(t.TempDir(), "v.json")
		os.WriteFile(file, []byte(`{"enabled":true}`), 0o600)
		mustRunCLI(t, "", "put", "x", "@"+file)
		assertJSON(t, api.only().Body, `{"value":"{\"enabled\":true}","type":"String"}`)
	})
	t.Run("NegativeNumberValue", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 201, paramJSON)
		mustRunCLI(t, "", "put", "x", "-1")
		assertJSON(t, api.only().Body, `{"value":"-1","type":"String"}`)
	})
	t.Run("NameSegmentsEscaped", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/a%20b/c%3F", 400, `{"error":{"code":"invalid","message":"parameter name \"/a b/c?\" contains ' '","detail":"ValidationException"}}`)
		_, stderr, code := runCLI(t, "", "put", "/a b/c?", "v")
		if code != 1 || stderr != "vane: parameter name \"/a b/c?\" contains ' ' (invalid, ValidationException)\n" {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("JSONOutputIsTheResponseIndented", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/parameters/x", 201, paramJSON+"\n")
		stdout, _ := mustRunCLI(t, "", "put", "x", "v1", "-o", "json")
		var want bytes.Buffer
		json.Indent(&want, []byte(paramJSON), "", "  ")
		if stdout != want.String()+"\n" {
			t.Errorf("stdout = %q, want %q", stdout, want.String()+"\n")
		}
	})
	t.Run("ErrSelectorInName", func(t *testing.T) {
		newFakeAPI(t)
		if _, stderr, code := runCLI(t, "", "put", "/a:3", "v"); code != 2 || !strings.Contains(stderr, "drop the ':'") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ErrBadTag", func(t *testing.T) {
		newFakeAPI(t)
		if _, stderr, code := runCLI(t, "", "put", "/a", "v", "--tags", "novalue"); code != 2 || !strings.Contains(stderr, "KEY=VALUE") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestGet(t *testing.T) {
	t.Run("PrintsTheValue", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/app/prod/x", 200, paramJSON)
		if stdout, _ := mustRunCLI(t, "", "get", "/app/prod/x"); stdout != "v1\n" {
			t.Errorf("stdout = %q", stdout)
		}
		assertRequest(t, api.only(), "GET", "/v1/parameters/app/prod/x", nil)
	})
	t.Run("ValueEndingInNewlineGetsNoOther", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 200, `{"name":"x","type":"String","value":"a\nb\n","version":1}`)
		if stdout, _ := mustRunCLI(t, "", "get", "x"); stdout != "a\nb\n" {
			t.Errorf("stdout = %q", stdout)
		}
	})
	t.Run("VersionSelectorSentAsQuery", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/app/prod/x", 200, paramJSON)
		mustRunCLI(t, "", "get", "/app/prod/x:3")
		assertRequest(t, api.only(), "GET", "/v1/parameters/app/prod/x", url.Values{"version": {"3"}})
	})
	t.Run("LabelSelectorSentAsQuery", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 200, paramJSON)
		mustRunCLI(t, "", "get", "x:prod")
		assertRequest(t, api.only(), "GET", "/v1/parameters/x", url.Values{"label": {"prod"}})
	})
	t.Run("VerbosePrintsEveryField", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 200, `{"name":"x","type":"String","value":"v1","version":3,`+
			`"labels":["a","b"],"tier":"Standard","description":"d","allowed_pattern":"^v","data_type":"text",`+
			`"last_modified":"2026-01-02T03:04:05.5Z","last_modified_user":"anonymous","selector":":3"}`)
		stdout, _ := mustRunCLI(t, "", "get", "-v", "x:3")
		for _, want := range []string{"Name:", "x\n", "Selector:", ":3\n", "Type:", "String\n", "Value:", "v1\n",
			"Version:", "3\n", "Labels:", "a, b\n", "Tier:", "Description:", "Allowed pattern:", "^v\n",
			"Data type:", "text\n", "Last modified:", "2026-01-02T03:04:05Z\n", "Last modified by:", "anonymous\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "Key ID") {
			t.Errorf("stdout shows the empty key id:\n%s", stdout)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 200, paramJSON)
		stdout, _ := mustRunCLI(t, "", "get", "x", "--output=json")
		assertJSON(t, stdout, paramJSON)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 404, `{"error":{"code":"not_found","message":"parameter \"x\" not found","detail":"ParameterNotFound"}}`)
		stdout, stderr, code := runCLI(t, "", "get", "x")
		if code != 1 || stdout != "" || stderr != "vane: parameter \"x\" not found (not_found, ParameterNotFound)\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("ErrEmptySelector", func(t *testing.T) {
		newFakeAPI(t)
		if _, _, code := runCLI(t, "", "get", "x:"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
}

func TestLs(t *testing.T) {
	page1 := `{"parameters":[` +
		`{"name":"/app/a","type":"String","value":"` + strings.Repeat("v", 60) + `","version":2,"last_modified":"2026-01-02T03:04:05Z"},` +
		`{"name":"/app/b","type":"SecureString","value":"hunter2","version":1,"last_modified":"2026-01-02T03:04:06Z"}` +
		`],"next_token":"tok1"}`
	page2 := `{"parameters":[{"name":"/app/c/d","type":"StringList","value":"x,y","version":1,"last_modified":"2026-01-02T03:04:07Z"}]}`
	paged := func(api *fakeAPI) {
		api.route("GET /v1/parameters", func(r fakeRequest) (int, string) {
			if r.Query.Get("next_token") == "tok1" {
				return 200, page2
			}
			return 200, page1
		})
	}

	t.Run("FollowsEveryPage", func(t *testing.T) {
		api := newFakeAPI(t)
		paged(api)
		stdout, _ := mustRunCLI(t, "", "ls", "/app", "-r", "--limit", "2")
		reqs := api.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d requests, want 2", len(reqs))
		}
		assertRequest(t, reqs[0], "GET", "/v1/parameters", url.Values{"path": {"/app"}, "recursive": {"true"}, "limit": {"2"}})
		assertRequest(t, reqs[1], "GET", "/v1/parameters",
			url.Values{"path": {"/app"}, "recursive": {"true"}, "limit": {"2"}, "next_token": {"tok1"}})
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		want := [][]string{
			{"NAME", "TYPE", "VERSION", "LAST", "MODIFIED", "VALUE"},
			{"/app/a", "String", "2", "2026-01-02T03:04:05Z", strings.Repeat("v", 37) + "..."},
			{"/app/b", "SecureString", "1", "2026-01-02T03:04:06Z", "****"},
			{"/app/c/d", "StringList", "1", "2026-01-02T03:04:07Z", "x,y"},
		}
		if len(lines) != len(want) {
			t.Fatalf("stdout has %d lines, want %d:\n%s", len(lines), len(want), stdout)
		}
		for i, w := range want {
			if got := strings.Fields(lines[i]); !reflect.DeepEqual(got, w) {
				t.Errorf("line %d = %q, want %q", i, got, w)
			}
		}
		if strings.Contains(stdout, "hunter2") {
			t.Errorf("SecureString value shown:\n%s", stdout)
		}
	})
	t.Run("DefaultsToTheRootNonRecursive", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters", 200, `{"parameters":[]}`)
		if stdout, _ := mustRunCLI(t, "", "ls"); stdout != "" {
			t.Errorf("stdout = %q, want nothing for no parameters", stdout)
		}
		assertRequest(t, api.only(), "GET", "/v1/parameters", url.Values{"path": {"/"}})
	})
	t.Run("JSONMergesThePages", func(t *testing.T) {
		api := newFakeAPI(t)
		paged(api)
		stdout, _ := mustRunCLI(t, "", "ls", "-o", "json", "/app", "-r")
		var got struct {
			Parameters []parameter `json:"parameters"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
		}
		if len(got.Parameters) != 3 || got.Parameters[1].Value != "hunter2" || got.Parameters[2].Name != "/app/c/d" {
			t.Errorf("parameters = %+v", got.Parameters)
		}
	})
	t.Run("ErrRepeatedToken", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters", 200, page1)
		if _, stderr, code := runCLI(t, "", "ls", "/app"); code != 1 || !strings.Contains(stderr, "same paging token") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestRm(t *testing.T) {
	api := newFakeAPI(t)
	api.reply("DELETE /v1/parameters/app/x", 204, "")
	stdout, _ := mustRunCLI(t, "", "rm", "/app/x", "--expect-version", "4")
	if stdout != "/app/x deleted\n" {
		t.Errorf("stdout = %q", stdout)
	}
	assertRequest(t, api.only(), "DELETE", "/v1/parameters/app/x", url.Values{"expect_version": {"4"}})
}

func TestHistory(t *testing.T) {
	api := newFakeAPI(t)
	api.route("GET /v1/history/app/x", func(r fakeRequest) (int, string) {
		if r.Query.Get("next_token") == "" {
			return 200, `{"parameters":[{"name":"/app/x","type":"String","value":"one","version":1,"labels":["a","b"],` +
				`"last_modified":"2026-01-02T03:04:05Z","last_modified_user":"alice"}],"next_token":"n"}`
		}
		return 200, `{"parameters":[{"name":"/app/x","type":"String","value":"two","version":2,` +
			`"last_modified":"2026-01-03T03:04:05Z","last_modified_user":"bob"}]}`
	})
	stdout, _ := mustRunCLI(t, "", "history", "/app/x", "--limit=1")
	reqs := api.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	assertRequest(t, reqs[1], "GET", "/v1/history/app/x", url.Values{"limit": {"1"}, "next_token": {"n"}})
	want := "VERSION  LABELS  MODIFIED              BY     VALUE\n" +
		"1        a,b     2026-01-02T03:04:05Z  alice  one\n" +
		"2                2026-01-03T03:04:05Z  bob    two\n"
	if stdout != want {
		t.Errorf("stdout =\n%s\nwant\n%s", stdout, want)
	}
}

func TestLabel(t *testing.T) {
	t.Run("LabelsAVersion", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/labels/app/x", 200, `{"version":3,"invalid_labels":["1bad"]}`)
		stdout, stderr := mustRunCLI(t, "", "label", "/app/x:3", "stable", "1bad", "canary")
		assertJSON(t, api.only().Body, `{"version":3,"labels":["stable","1bad","canary"]}`)
		if stdout != "/app/x version 3 labelled stable, canary\n" {
			t.Errorf("stdout = %q", stdout)
		}
		if stderr != "vane: warning: invalid labels not applied: 1bad\n" {
			t.Errorf("stderr = %q", stderr)
		}
	})
	t.Run("LatestWithoutVersion", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/labels/x", 200, `{"version":7}`)
		stdout, stderr := mustRunCLI(t, "", "label", "x", "prod")
		assertJSON(t, api.only().Body, `{"labels":["prod"]}`)
		if stdout != "x version 7 labelled prod\n" || stderr != "" {
			t.Errorf("stdout = %q, stderr = %q", stdout, stderr)
		}
	})
	t.Run("ErrLabelAsVersion", func(t *testing.T) {
		newFakeAPI(t)
		if _, _, code := runCLI(t, "", "label", "x:prod", "a"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
}

func TestUnlabel(t *testing.T) {
	t.Run("RemovesLabels", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("DELETE /v1/labels/app/x", 200, `{"removed_labels":["a"],"invalid_labels":["zz"]}`)
		stdout, stderr := mustRunCLI(t, "", "unlabel", "/app/x:2", "a", "zz")
		assertRequest(t, api.only(), "DELETE", "/v1/labels/app/x", url.Values{"version": {"2"}, "label": {"a", "zz"}})
		if stdout != "/app/x version 2: removed a\n" {
			t.Errorf("stdout = %q", stdout)
		}
		if stderr != "vane: warning: labels not on version 2 or invalid: zz\n" {
			t.Errorf("stderr = %q", stderr)
		}
	})
	t.Run("ErrNoVersion", func(t *testing.T) {
		newFakeAPI(t)
		if _, stderr, code := runCLI(t, "", "unlabel", "/app/x", "a"); code != 2 || !strings.Contains(stderr, "NAME:VERSION") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestTag(t *testing.T) {
	t.Run("Lists", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/tags/app/x", 200, `{"tags":{"team":"core","env":"prod"}}`)
		stdout, _ := mustRunCLI(t, "", "tag", "/app/x")
		if stdout != "KEY   VALUE\nenv   prod\nteam  core\n" {
			t.Errorf("stdout = %q", stdout)
		}
	})
	t.Run("Adds", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("PUT /v1/tags/app/x", 200, `{"tags":{"team":"core","env":"prod","empty":""}}`)
		stdout, _ := mustRunCLI(t, "", "tag", "/app/x", "team=core", "env=prod", "empty=")
		assertJSON(t, api.only().Body, `{"tags":{"team":"core","env":"prod","empty":""}}`)
		if !strings.Contains(stdout, "team   core\n") {
			t.Errorf("stdout = %q", stdout)
		}
	})
	t.Run("Removes", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("DELETE /v1/tags/app/x", 200, `{"tags":{"env":"prod"}}`)
		stdout, _ := mustRunCLI(t, "", "tag", "/app/x", "--rm", "team", "owner")
		assertRequest(t, api.only(), "DELETE", "/v1/tags/app/x", url.Values{"key": {"team", "owner"}})
		if stdout != "KEY  VALUE\nenv  prod\n" {
			t.Errorf("stdout = %q", stdout)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/tags/x", 200, `{"tags":{"a":"1"}}`)
		stdout, _ := mustRunCLI(t, "", "tag", "x", "-o", "json")
		assertJSON(t, stdout, `{"tags":{"a":"1"}}`)
	})
	t.Run("ErrNotKeyValue", func(t *testing.T) {
		newFakeAPI(t)
		if _, stderr, code := runCLI(t, "", "tag", "/app/x", "team"); code != 2 || !strings.Contains(stderr, "--rm") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ErrRmWithoutKeys", func(t *testing.T) {
		newFakeAPI(t)
		if _, _, code := runCLI(t, "", "tag", "/app/x", "--rm"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
}

func TestServerSelection(t *testing.T) {
	t.Run("FlagBeatsEnvironment", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 200, paramJSON)
		t.Setenv("VANE_SERVER", "http://127.0.0.1:1")
		mustRunCLI(t, "", "get", "x", "--server", api.URL)
	})
	t.Run("FlagsBeforeTheCommand", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 200, paramJSON)
		t.Setenv("VANE_SERVER", "")
		stdout, _ := mustRunCLI(t, "", "--server", api.URL, "-o=json", "get", "x")
		assertJSON(t, stdout, paramJSON)
	})
	t.Run("ServerWithPathPrefix", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /vane/v1/parameters/x", 200, paramJSON)
		mustRunCLI(t, "", "get", "x", "--server", api.URL+"/vane/")
	})
	t.Run("ErrBadServer", func(t *testing.T) {
		if _, stderr, code := runCLI(t, "", "get", "x", "--server", "ftp://h"); code != 2 || !strings.Contains(stderr, "ftp://h") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestFailures(t *testing.T) {
	t.Run("ConnectionRefusedNamesTheServer", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		_, stderr, code := runCLI(t, "", "get", "/x", "--server", addr)
		if code != 1 || !strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, addr) ||
			strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "vane: ") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("NonAPIResponse", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 502, "<html>bad gateway</html>")
		if _, stderr, code := runCLI(t, "", "get", "x"); code != 1 || !strings.Contains(stderr, "502 Bad Gateway") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("RedirectNotFollowed", func(t *testing.T) {
		srv := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusMovedPermanently))
		t.Cleanup(srv.Close)
		_, stderr, code := runCLI(t, "", "put", "x", "v", "--server", srv.URL)
		if code != 1 || !strings.Contains(stderr, "redirecting to /elsewhere") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("MultiLineMessageOnOneLine", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/parameters/x", 500, `{"error":{"code":"internal","message":"Internal\nerror."}}`)
		if _, stderr, code := runCLI(t, "", "get", "x"); code != 1 || stderr != "vane: Internal error. (internal)\n" {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	usage := []struct {
		name string
		args []string
	}{
		{"ErrMissingArguments", []string{"put", "/x"}},
		{"ErrTooManyArguments", []string{"get", "/x", "/y"}},
		{"ErrUnknownFlag", []string{"get", "/x", "--frob"}},
		{"ErrBadOutputFormat", []string{"get", "/x", "-o", "yaml"}},
		{"ErrUnknownFlagBeforeCommand", []string{"--frob", "get", "/x"}},
		{"ErrNoCommand", nil},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "", tt.args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "vane: ") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		t.Run("Main"+strings.Join(args, ""), func(t *testing.T) {
			stdout, stderr := mustRunCLI(t, "", args...)
			if !strings.Contains(stdout, "Usage: vane COMMAND") || !strings.Contains(stdout, "history") || stderr != "" {
				t.Errorf("stdout %q, stderr %q", stdout, stderr)
			}
		})
	}
	for _, args := range [][]string{{"put", "--help"}, {"help", "put"}, {"--help", "put"}, {"put", "/x", "-h"}} {
		t.Run("Command"+strings.Join(args, ""), func(t *testing.T) {
			stdout, _ := mustRunCLI(t, "", args...)
			for _, want := range []string{"Usage: vane put NAME VALUE", "--overwrite", "--expect-version N", "Examples:"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
	t.Run("EveryCommandHasHelp", func(t *testing.T) {
		for _, cmd := range commands() {
			if cmd.name == "serve" || cmd.name == "help" {
				continue // serve.go prints its own; help --help is the main usage
			}
			stdout, _ := mustRunCLI(t, "", cmd.name, "--help")
			if !strings.HasPrefix(stdout, "Usage: vane "+cmd.name) {
				t.Errorf("vane %s --help printed %q", cmd.name, stdout)
			}
		}
	})
	t.Run("ErrUnknownCommand", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, "", "frob")
		if code != 2 || stdout != "" || !strings.Contains(stderr, `unknown command "frob"`) || !strings.Contains(stderr, "Usage: vane") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("ErrHelpUnknownCommand", func(t *testing.T) {
		if _, _, code := runCLI(t, "", "help", "frob"); code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	t.Run("Version", func(t *testing.T) {
		for _, args := range [][]string{{"version"}, {"--version"}} {
			stdout, _ := mustRunCLI(t, "", args...)
			if !strings.HasPrefix(stdout, "vane ") || !strings.Contains(stdout, "go1.") {
				t.Errorf("vane %s printed %q", args, stdout)
			}
		}
	})
}
