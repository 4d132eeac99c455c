package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The end-to-end tests run the real vane binary, built once by TestMain:
// `vane serve` on port 0 with a temporary data directory, and the client
// commands against it as child processes. -short skips them.
var (
	e2eBinary   string // path of the built binary
	e2eBuildErr error  // why it could not be built
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "vane-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !testing.Short() {
		e2eBinary, e2eBuildErr = buildVane(dir)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildVane builds the package in the working directory, which go test sets
// to the package's directory, into dir.
func buildVane(dir string) (string, error) {
	bin := filepath.Join(dir, "vane")
	out, err := exec.Command("go", "build", "-o", bin, "./").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// vaneBinary returns the built binary, skipping the test in -short mode.
func vaneBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if e2eBuildErr != nil {
		t.Fatal(e2eBuildErr)
	}
	return e2eBinary
}

// childEnv returns the environment of the test without VANE_* variables,
// plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VANE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// lockedBuffer is a bytes.Buffer safe for one writer and other readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// e2eServer is a `vane serve` child process.
type e2eServer struct {
	bin string
	URL string
}

var listeningURL = regexp.MustCompile(`\burl=(http://[^\s"]+)`)

// startServer starts `vane serve` on a free loopback port with a new data
// directory, waits for the log line that gives its URL, and stops it with
// SIGINT when the test ends, checking that it exits cleanly.
func startServer(t *testing.T) *e2eServer {
	t.Helper()
	bin := vaneBinary(t)
	cmd := exec.Command(bin, "serve", "--dev", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Env = childEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var logs lockedBuffer
	urls := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			fmt.Fprintln(&logs, sc.Text())
			if m := listeningURL.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				urls <- m[1]
			}
		}
		// Wait only once the pipe is drained, as os/exec requires.
		exited <- cmd.Wait()
	}()

	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("vane serve exited with %v after SIGINT; its log:\n%s", err, logs.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("vane serve did not stop within 20s of SIGINT; its log:\n%s", logs.String())
		}
	})

	select {
	case u := <-urls:
		return &e2eServer{bin: bin, URL: u}
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("vane serve exited before listening (%v); its log:\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("vane serve logged no url= line within 30s; its log:\n%s", logs.String())
	}
	return nil
}

// cliResult is the outcome of one run of the binary.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runVane runs the binary with VANE_SERVER set to server (none if empty).
func runVane(t *testing.T, bin, server, stdin string, args ...string) cliResult {
	t.Helper()
	var env []string
	if server != "" {
		env = append(env, "VANE_SERVER="+server)
	}
	return runVaneEnv(t, bin, env, stdin, args...)
}

// runVaneEnv runs the binary with the extra environment variables env.
func runVaneEnv(t *testing.T, bin string, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("vane %q: %v", args, err)
	}
	return res
}

// run runs a client command against the server.
func (s *e2eServer) run(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	return runVane(t, s.bin, s.URL, stdin, args...)
}

// ok runs a client command that must succeed with nothing on stderr, and
// returns its stdout.
func (s *e2eServer) ok(t *testing.T, args ...string) string {
	t.Helper()
	res := s.run(t, "", args...)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("vane %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// fails runs a client command that must fail with the exit code and a
// one-line "vane: " message on stderr containing every one of wants.
func (s *e2eServer) fails(t *testing.T, code int, args []string, wants ...string) {
	t.Helper()
	res := s.run(t, "", args...)
	if res.code != code || res.stdout != "" || !strings.HasPrefix(res.stderr, "vane: ") || strings.Count(res.stderr, "\n") != 1 {
		t.Fatalf("vane %q: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", args, res.code, code, res.stdout, res.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("vane %q: stderr %q lacks %q", args, res.stderr, w)
		}
	}
}

// tableRows returns the rows of a table, each split into its fields,
// checking the header.
func tableRows(t *testing.T, out string, header ...string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, header) {
		t.Fatalf("header = %q, want %q; output:\n%s", got, header, out)
	}
	rows := make([][]string, 0, len(lines)-1)
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// column returns field i of every row.
func column(rows [][]string, i int) []string {
	var col []string
	for _, r := range rows {
		if i < len(r) {
			col = append(col, r[i])
		} else {
			col = append(col, "")
		}
	}
	return col
}

func TestE2E(t *testing.T) {
	s := startServer(t)

	t.Run("PutGetOverwriteAndSelectors", func(t *testing.T) {
		const n = "/e2e/basic/greeting"
		if out := s.ok(t, "put", n, "hello"); out != n+" version 1 (Standard)\n" {
			t.Errorf("put printed %q", out)
		}
		if out := s.ok(t, "get", n); out != "hello\n" {
			t.Errorf("get printed %q", out)
		}
		s.fails(t, 1, []string{"put", n, "again"}, "already exists", "conflict", "ParameterAlreadyExists")
		if out := s.ok(t, "put", n, "hello 2", "--overwrite"); out != n+" version 2 (Standard)\n" {
			t.Errorf("put --overwrite printed %q", out)
		}
		if out := s.ok(t, "get", n); out != "hello 2\n" {
			t.Errorf("get printed %q", out)
		}
		if out := s.ok(t, "get", n+":1"); out != "hello\n" {
			t.Errorf("get :1 printed %q", out)
		}
		s.ok(t, "label", n+":1", "stable")
		if out := s.ok(t, "get", n+":stable"); out != "hello\n" {
			t.Errorf("get :stable printed %q", out)
		}
		s.fails(t, 1, []string{"get", n + ":9"}, "not found", "ParameterVersionNotFound")
		s.fails(t, 1, []string{"get", n + ":nosuchlabel"}, "not_found")
		s.fails(t, 1, []string{"put", n, "stale", "--expect-version", "1"}, "VersionMismatch")
		if out := s.ok(t, "put", "--expect-version", "2", n, "hello 3"); out != n+" version 3 (Standard)\n" {
			t.Errorf("put --expect-version printed %q", out)
		}
		verbose := s.ok(t, "get", n+":2", "-v")
		for _, want := range []string{"hello 2", "Version:", "2\n", "Selector:", ":2"} {
			if !strings.Contains(verbose, want) {
				t.Errorf("get -v lacks %q:\n%s", want, verbose)
			}
		}
	})

	t.Run("RootLevelName", func(t *testing.T) {
		if out := s.ok(t, "put", "e2e-root", "top"); out != "e2e-root version 1 (Standard)\n" {
			t.Errorf("put printed %q", out)
		}
		if out := s.ok(t, "get", "/e2e-root"); out != "top\n" {
			t.Errorf("get printed %q", out)
		}
	})

	t.Run("ListRecursiveWithPaging", func(t *testing.T) {
		names := []string{"/e2e/ls/p1", "/e2e/ls/p2", "/e2e/ls/p3", "/e2e/ls/p4", "/e2e/ls/p5",
			"/e2e/ls/sub/deeper/q2", "/e2e/ls/sub/q1"}
		for i, n := range names {
			s.ok(t, "put", n, fmt.Sprintf("value %d", i))
		}
		rows := tableRows(t, s.ok(t, "ls", "/e2e/ls", "-r", "--limit", "2"), "NAME", "TYPE", "VERSION", "LAST", "MODIFIED", "VALUE")
		if got := column(rows, 0); !slices.Equal(got, names) {
			t.Errorf("ls -r names = %q, want %q", got, names)
		}
		if len(rows) > 0 && !slices.Equal(rows[0][:3], []string{"/e2e/ls/p1", "String", "1"}) {
			t.Errorf("first row = %q", rows[0])
		}
		rows = tableRows(t, s.ok(t, "ls", "--limit=2", "/e2e/ls"), "NAME", "TYPE", "VERSION", "LAST", "MODIFIED", "VALUE")
		if got := column(rows, 0); !slices.Equal(got, names[:5]) {
			t.Errorf("ls names = %q, want %q", got, names[:5])
		}
		var page struct {
			Parameters []parameter `json:"parameters"`
		}
		out := s.ok(t, "ls", "/e2e/ls", "-r", "--limit", "3", "-o", "json")
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatalf("ls -o json is not JSON: %v\n%s", err, out)
		}
		if len(page.Parameters) != len(names) || page.Parameters[6].Value != "value 6" {
			t.Errorf("ls -o json = %+v", page.Parameters)
		}
		if out := s.ok(t, "ls", "/e2e/nothing-here", "-r"); out != "" {
			t.Errorf("ls of an empty path printed %q", out)
		}
	})

	t.Run("SecureStringMaskedInListings", func(t *testing.T) {
		s.ok(t, "put", "/e2e/sec/password", "s3cret", "--type", "SecureString")
		for _, args := range [][]string{{"ls", "/e2e/sec"}, {"history", "/e2e/sec/password"}} {
			out := s.ok(t, args...)
			if !strings.Contains(out, "****") || strings.Contains(out, "s3cret") {
				t.Errorf("vane %q printed\n%s", args, out)
			}
		}
	})

	t.Run("History", func(t *testing.T) {
		const n = "/e2e/hist/x"
		s.ok(t, "put", n, "one")
		s.ok(t, "put", n, "two", "--overwrite")
		s.ok(t, "put", n, "three", "--overwrite")
		s.ok(t, "label", n+":2", "blue", "green")
		rows := tableRows(t, s.ok(t, "history", n, "--limit", "2"), "VERSION", "LABELS", "MODIFIED", "BY", "VALUE")
		if got := column(rows, 0); !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Fatalf("versions = %q, want 1 2 3", got)
		}
		if rows[1][1] != "blue,green" || rows[0][len(rows[0])-1] != "one" || rows[2][len(rows[2])-1] != "three" {
			t.Errorf("rows = %q", rows)
		}
		var page struct {
			Parameters []parameter `json:"parameters"`
		}
		out := s.ok(t, "history", n, "-o", "json", "--limit=1")
		if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Parameters) != 3 {
			t.Errorf("history -o json: %v\n%s", err, out)
		}
		s.fails(t, 1, []string{"history", "/e2e/hist/nope"}, "not found")
	})

	t.Run("LabelUnlabel", func(t *testing.T) {
		const n = "/e2e/labels/x"
		s.ok(t, "put", n, "a")
		s.ok(t, "put", n, "b", "--overwrite")
		res := s.run(t, "", "label", n, "green", "1bad")
		if res.code != 0 || res.stdout != n+" version 2 labelled green\n" || !strings.Contains(res.stderr, "1bad") {
			t.Errorf("label: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		if out := s.ok(t, "label", n+":1", "blue"); out != n+" version 1 labelled blue\n" {
			t.Errorf("label :1 printed %q", out)
		}
		if out := s.ok(t, "get", n+":blue"); out != "a\n" {
			t.Errorf("get :blue printed %q", out)
		}
		res = s.run(t, "", "unlabel", n+":1", "blue", "nothere")
		if res.code != 0 || res.stdout != n+" version 1: removed blue\n" || !strings.Contains(res.stderr, "nothere") {
			t.Errorf("unlabel: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
		}
		s.fails(t, 1, []string{"get", n + ":blue"}, "has no label", "ParameterNotFound")
		s.fails(t, 2, []string{"unlabel", n, "green"}, "NAME:VERSION")
		s.fails(t, 1, []string{"label", n + ":7", "x"}, "not found")
	})

	t.Run("Tags", func(t *testing.T) {
		const n = "/e2e/tags/x"
		s.ok(t, "put", n, "v", "--tags", "env=prod,team=core")
		rows := tableRows(t, s.ok(t, "tag", n), "KEY", "VALUE")
		if want := [][]string{{"env", "prod"}, {"team", "core"}}; !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("tags = %q, want %q", rows, want)
		}
		rows = tableRows(t, s.ok(t, "tag", n, "owner=me"), "KEY", "VALUE")
		if got := column(rows, 0); !slices.Equal(got, []string{"env", "owner", "team"}) {
			t.Errorf("tag keys after add = %q", got)
		}
		rows = tableRows(t, s.ok(t, "tag", n, "--rm", "team"), "KEY", "VALUE")
		if got := column(rows, 0); !slices.Equal(got, []string{"env", "owner"}) {
			t.Errorf("tag keys after rm = %q", got)
		}
		var tags struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(s.ok(t, "tag", n, "-o", "json")), &tags); err != nil || tags.Tags["owner"] != "me" {
			t.Errorf("tag -o json: %v, %v", tags, err)
		}
		s.fails(t, 1, []string{"tag", "/e2e/tags/nope"}, "not found")
	})

	t.Run("RmThenGet", func(t *testing.T) {
		const n = "/e2e/rm/x"
		s.ok(t, "put", n, "v")
		s.fails(t, 1, []string{"rm", n, "--expect-version", "2"}, "VersionMismatch")
		if out := s.ok(t, "rm", n); out != n+" deleted\n" {
			t.Errorf("rm printed %q", out)
		}
		s.fails(t, 1, []string{"get", n}, "not found", "not_found")
		s.fails(t, 1, []string{"rm", n}, "not found")
	})

	t.Run("ValueFromFileAndStdin", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "flag.json")
		fileValue := "{\n  \"enabled\": true\n}\n"
		if err := os.WriteFile(file, []byte(fileValue), 0o600); err != nil {
			t.Fatal(err)
		}
		s.ok(t, "put", "/e2e/src/file", "@"+file)
		if res := s.run(t, "line 1\nline 2", "put", "/e2e/src/stdin", "-"); res.code != 0 {
			t.Fatalf("put -: exit %d, stderr %q", res.code, res.stderr)
		}
		for n, want := range map[string]string{"/e2e/src/file": fileValue, "/e2e/src/stdin": "line 1\nline 2"} {
			var p parameter
			if err := json.Unmarshal([]byte(s.ok(t, "get", n, "-o", "json")), &p); err != nil || p.Value != want {
				t.Errorf("value of %s = %q (%v), want %q", n, p.Value, err, want)
			}
		}
		if out := s.ok(t, "get", "/e2e/src/file"); out != fileValue {
			t.Errorf("get printed %q, want the file as it is", out)
		}
		s.fails(t, 1, []string{"put", "/e2e/src/missing", "@" + filepath.Join(t.TempDir(), "missing")}, "missing")
	})

	t.Run("JSONOutput", func(t *testing.T) {
		var put, get parameter
		if err := json.Unmarshal([]byte(s.ok(t, "put", "/e2e/json/x", "v", "-o", "json")), &put); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s.ok(t, "-o", "json", "get", "/e2e/json/x")), &get); err != nil {
			t.Fatal(err)
		}
		if put.Name != "/e2e/json/x" || put.Version != 1 || get.Value != "v" || get.Type != "String" || get.LastModified == "" {
			t.Errorf("put = %+v, get = %+v", put, get)
		}
	})

	t.Run("BadNames", func(t *testing.T) {
		s.fails(t, 1, []string{"put", "/e2e/bad name", "v"}, "only a-z", "invalid")
		s.fails(t, 1, []string{"put", "e2e/relative", "v"}, "must begin with '/'")
		s.fails(t, 1, []string{"put", "/e2e//empty", "v"}, "empty path segment")
		s.fails(t, 1, []string{"put", "/e2e/./dot", "v"}, `"." or ".."`)
		s.fails(t, 1, []string{"get", "/e2e/bad%name"}, "only a-z")
	})

	t.Run("UsageErrors", func(t *testing.T) {
		s.fails(t, 2, []string{"put", "/e2e/x"}, "missing arguments")
		s.fails(t, 2, []string{"get", "/e2e/x", "--nope"}, "--help")
		s.fails(t, 2, []string{"ls", "-o", "yaml"}, "table or json")
	})
}

func TestE2EConnectionRefused(t *testing.T) {
	bin := vaneBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "http://" + ln.Addr().String()
	ln.Close()
	res := runVane(t, bin, server, "", "get", "/x")
	if res.code != 1 || !strings.Contains(res.stderr, "connection refused") || !strings.Contains(res.stderr, server) {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestE2EHelpAndVersion(t *testing.T) {
	bin := vaneBinary(t)
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"ls", "--help"}, {"version"}} {
		res := runVane(t, bin, "", "", args...)
		if res.code != 0 || res.stdout == "" {
			t.Errorf("vane %q: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
	}
	if res := runVane(t, bin, "", "", "frob"); res.code != 2 || !strings.Contains(res.stderr, "Usage: vane") {
		t.Errorf("vane frob: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestE2ESecureString stores a SecureString through the CLI and reads it
// back encrypted by default and in plain text with --with-decryption.
func TestE2ESecureString(t *testing.T) {
	s := startServer(t)
	const secret = "hunter2-e2e-plaintext"
	s.ok(t, "put", "/app/db/password", secret, "--type", "SecureString")
	if got := strings.TrimSpace(s.ok(t, "get", "/app/db/password")); got == secret || got == "" {
		t.Fatalf("get without --with-decryption printed %q, want the encrypted form", got)
	}
	if got := strings.TrimSpace(s.ok(t, "get", "/app/db/password", "--with-decryption")); got != secret {
		t.Fatalf("get --with-decryption printed %q, want %q", got, secret)
	}
}
