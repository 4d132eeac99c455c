package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlite"
)

// secretValue is a plaintext distinctive enough to search for in logs and
// files.
const secretValue = "s3cr3t-plaintext-7f9a"

// keysServer is a Main run in-process with its logs captured at debug.
type keysServer struct {
	*Main
	logs *lockedBuffer
}

// startKeysServer runs the server in-process as `vane serve` does, on
// cfg (DataDir and Addr filled in when empty), with debug logs captured,
// and closes it when the test ends.
func startKeysServer(t *testing.T, cfg Config) *keysServer {
	t.Helper()
	s, err := runKeysServer(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runKeysServer(t *testing.T, cfg Config) (*keysServer, error) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	logs := &lockedBuffer{}
	m := NewMain()
	cfg.Dev = true
	m.Config = cfg
	m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		return nil, err
	}
	t.Cleanup(func() { m.Close() })
	return &keysServer{Main: m, logs: logs}, nil
}

// do sends a request with an optional JSON body and returns the status
// and the body.
func (s *keysServer) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.HTTP.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// get reads a parameter, failing the test unless the status is 200.
func (s *keysServer) get(t *testing.T, path string) apiParameter {
	t.Helper()
	status, body := s.do(t, "GET", "/v1/parameters"+path, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var p apiParameter
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// put writes a parameter, failing the test unless it succeeds.
func (s *keysServer) put(t *testing.T, name, body string) {
	t.Helper()
	if status, b := s.do(t, "PUT", "/v1/parameters"+name, body); status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("PUT %s: %d %s", name, status, b)
	}
}

// cli runs the command line in-process against the server.
func (s *keysServer) cli(t *testing.T, args ...string) string {
	t.Helper()
	stdout, _ := mustRunCLI(t, "", append([]string{"--server", s.HTTP.URL()}, args...)...)
	return stdout
}

func masterKeyOf(t *testing.T, sealed string) string {
	t.Helper()
	info, err := keyring.Inspect(sealed)
	if err != nil {
		t.Fatalf("%q is not a sealed value: %v", sealed, err)
	}
	return info.MasterKeyID
}

// assertNoPlaintext fails if secretValue is in the server's logs or in the
// files of its data directory.
func (s *keysServer) assertNoPlaintext(t *testing.T) {
	t.Helper()
	if logs := s.logs.String(); strings.Contains(logs, secretValue) {
		t.Fatalf("the plaintext is in the log:\n%s", logs)
	}
	ents, err := os.ReadDir(s.Config.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(s.Config.DataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secretValue)) {
			t.Fatalf("the plaintext is in %s", e.Name())
		}
	}
}

func TestServeSecureString(t *testing.T) {
	s := startKeysServer(t, Config{LogFormat: "text", LogLevel: "debug"})
	path := filepath.Join(s.Config.DataDir, keyring.DefaultFileName)

	t.Run("KeyringCreated", func(t *testing.T) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("keyring mode %v, want 0600", fi.Mode().Perm())
		}
		if !strings.Contains(s.logs.String(), "path="+path) {
			t.Fatalf("the log does not say where the keyring is:\n%s", s.logs.String())
		}
	})

	s.put(t, "/app/db/password", `{"value":"`+secretValue+`","type":"SecureString"}`)
	s.put(t, "/app/db/url", `{"value":"postgres://db","type":"String"}`)

	t.Run("SealedByDefault", func(t *testing.T) {
		p := s.get(t, "/app/db/password")
		if !keyring.IsSealed(p.Value) || strings.Contains(p.Value, secretValue) {
			t.Fatalf("GET value %q; want it sealed", p.Value)
		}
		if p := s.get(t, "/app/db/url"); p.Value != "postgres://db" {
			t.Fatalf("a String reads %q", p.Value)
		}
	})
	t.Run("PlaintextWithDecryption", func(t *testing.T) {
		if p := s.get(t, "/app/db/password?with_decryption=true"); p.Value != secretValue {
			t.Fatalf("GET with decryption: %q", p.Value)
		}
		_, body := s.do(t, "GET", "/v1/parameters?path=/app/db&with_decryption=true", "")
		if !bytes.Contains(body, []byte(`"value":"`+secretValue+`"`)) {
			t.Fatalf("listing with decryption: %s", body)
		}
	})
	t.Run("ErrInvalidKeyId", func(t *testing.T) {
		status, body := s.do(t, "PUT", "/v1/parameters/app/other", `{"value":"`+secretValue+`","type":"SecureString","key_id":"alias/nope"}`)
		var e struct {
			Error struct{ Code, Detail, Message string }
		}
		json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || e.Error.Detail != vane.DetailInvalidKeyID || !strings.Contains(e.Error.Message, "alias/nope") {
			t.Fatalf("PUT with an unknown key: %d %s", status, body)
		}
	})
	t.Run("CreateKeyAndUseIt", func(t *testing.T) {
		out := s.cli(t, "kms", "create", "--alias", "alias/app")
		if !strings.HasPrefix(out, "key ") || !strings.Contains(out, "(alias/app)") {
			t.Fatalf("keys create printed %q", out)
		}
		s.put(t, "/app/keyed", `{"value":"`+secretValue+`-keyed","type":"SecureString","key_id":"alias/app"}`)
		if p := s.get(t, "/app/keyed?with_decryption=true"); p.Value != secretValue+"-keyed" {
			t.Fatalf("GET with decryption: %q", p.Value)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		old := masterKeyOf(t, s.get(t, "/app/db/password").Value)
		out := s.cli(t, "kms", "rotate")
		primary := s.Keyring.Primary()
		if primary == old || !strings.Contains(out, "primary master key "+primary+" (was "+old+")") || !strings.Contains(out, "re-wrapped 2 ") {
			t.Fatalf("keys rotate printed %q; primary %s, before %s", out, primary, old)
		}
		// The stored versions and the index's copies are re-wrapped, and
		// still decrypt.
		for _, name := range []string{"/app/db/password", "/app/keyed"} {
			page, err := s.Store.History(context.Background(), &vane.HistoryInput{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if got := masterKeyOf(t, page.Parameters[0].Value); got != primary {
				t.Fatalf("%s is stored under master key %s, want %s", name, got, primary)
			}
			if got := masterKeyOf(t, s.get(t, name).Value); got != primary {
				t.Fatalf("%s is served under master key %s, want %s", name, got, primary)
			}
		}
		if p := s.get(t, "/app/db/password?with_decryption=true"); p.Value != secretValue {
			t.Fatalf("after the rotation GET with decryption: %q", p.Value)
		}
		if changes, _ := s.Store.Changes(context.Background(), 0, "", 0); len(changes) != 3 {
			t.Fatalf("%d change records after the rotation, want the 3 puts", len(changes))
		}
		list := s.cli(t, "kms", "list")
		if !strings.Contains(list, old) || !strings.Contains(list, primary) || !strings.Contains(list, "alias/aws/ssm") {
			t.Fatalf("keys list printed\n%s", list)
		}
		b, _ := os.ReadFile(path)
		var doc struct {
			MasterKeys []struct{ Key string } `json:"master_keys"`
		}
		json.Unmarshal(b, &doc)
		for _, m := range doc.MasterKeys {
			if m.Key == "" || strings.Contains(list, m.Key) || strings.Contains(s.logs.String(), m.Key) {
				t.Fatal("a master key is shown or logged")
			}
		}
	})

	s.assertNoPlaintext(t)

	t.Run("Restart", func(t *testing.T) {
		cfg := s.Config
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		again := startKeysServer(t, cfg)
		if p := again.get(t, "/app/db/password?with_decryption=true"); p.Value != secretValue {
			t.Fatalf("after a restart GET with decryption: %q", p.Value)
		}
		again.assertNoPlaintext(t)
	})
}

func TestServeSealsPlaintextOnStart(t *testing.T) {
	dir := t.TempDir()
	// A store written before encryption at rest existed.
	st, err := sqlite.Open(filepath.Join(dir, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, in := range []*vane.PutInput{
		{Name: "/old/a", Value: secretValue, Type: vane.TypeSecureString},
		{Name: "/old/b", Value: secretValue + "-b", Type: vane.TypeSecureString, KeyID: "alias/legacy"},
	} {
		if _, err := st.Put(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	s := startKeysServer(t, Config{DataDir: dir})
	if p := s.get(t, "/old/a"); !keyring.IsSealed(p.Value) {
		t.Fatalf("a plaintext SecureString is still served as %q", p.Value)
	}
	if p := s.get(t, "/old/a?with_decryption=true"); p.Value != secretValue {
		t.Fatalf("GET with decryption: %q", p.Value)
	}
	if p := s.get(t, "/old/b"); p.Value != secretValue+"-b" {
		t.Fatalf("a value whose key does not exist was changed: %q", p.Value)
	}
	if !strings.Contains(s.logs.String(), "versions=1") || !strings.Contains(s.logs.String(), "alias/legacy") {
		t.Fatalf("the log does not report what was sealed and what was not:\n%s", s.logs.String())
	}
	s.cli(t, "kms", "create", "--alias", "alias/legacy")
	if out := s.cli(t, "kms", "rewrap"); !strings.Contains(out, "encrypted 1 SecureString version(s) stored in plaintext") {
		t.Fatalf("keys rewrap printed %q", out)
	}
	if p := s.get(t, "/old/b"); !keyring.IsSealed(p.Value) {
		t.Fatalf("keys rewrap left %q", p.Value)
	}
	if p := s.get(t, "/old/b?with_decryption=true"); p.Value != secretValue+"-b" {
		t.Fatalf("GET with decryption: %q", p.Value)
	}
	if strings.Contains(s.logs.String(), secretValue) {
		t.Fatalf("the plaintext is in the log:\n%s", s.logs.String())
	}
}

func TestServeRootKey(t *testing.T) {
	root := func() string {
		b := make([]byte, 32)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	cfg := Config{DataDir: t.TempDir(), MasterKey: root()}
	s := startKeysServer(t, cfg)
	s.put(t, "/r/secret", `{"value":"`+secretValue+`","type":"SecureString"}`)
	s.cli(t, "kms", "rotate")
	if p := s.get(t, "/r/secret?with_decryption=true"); p.Value != secretValue {
		t.Fatalf("GET with decryption: %q", p.Value)
	}
	b, _ := os.ReadFile(filepath.Join(cfg.DataDir, keyring.DefaultFileName))
	if bytes.Contains(b, []byte(`"key"`)) || bytes.Contains(b, []byte(cfg.MasterKey)) || strings.Contains(s.logs.String(), cfg.MasterKey) {
		t.Fatalf("key material in the keyring file or the log:\n%s", b)
	}
	s.Close()

	for name, key := range map[string]string{"ErrOtherRootKey": root(), "ErrNoRootKey": ""} {
		t.Run(name, func(t *testing.T) {
			c := cfg
			c.MasterKey = key
			if _, err := runKeysServer(t, c); err == nil || !strings.Contains(err.Error(), "keyring") {
				t.Fatalf("Run = %v; want a keyring error", err)
			}
		})
	}
	again := startKeysServer(t, cfg)
	if p := again.get(t, "/r/secret?with_decryption=true"); p.Value != secretValue {
		t.Fatalf("after a restart GET with decryption: %q", p.Value)
	}
}

func TestServeConfigMasterKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vane.json")
	os.WriteFile(file, []byte(`{"master_key_file":"/from/file.json"}`), 0o600)
	for _, tt := range []struct {
		name      string
		args      []string
		env       map[string]string
		file, key string
	}{
		{"Default", nil, nil, "", ""},
		{"ConfigFile", []string{"--config", file}, nil, "/from/file.json", ""},
		{"Env", []string{"--config", file}, map[string]string{"VANE_MASTER_KEY_FILE": "/from/env.json", "VANE_MASTER_KEY": "cm9vdA=="},
			"/from/env.json", "cm9vdA=="},
		{"Flag", []string{"--config", file, "--master-key-file", "/from/flag.json"}, map[string]string{"VANE_MASTER_KEY_FILE": "/from/env.json"},
			"/from/flag.json", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			cfg, err := serveConfig(tt.args, lookup, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MasterKeyFile != tt.file || cfg.MasterKey != tt.key {
				t.Fatalf("MasterKeyFile %q, MasterKey %q; want %q, %q", cfg.MasterKeyFile, cfg.MasterKey, tt.file, tt.key)
			}
		})
	}
	t.Run("ErrKeyInConfigFile", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "vane.json")
		os.WriteFile(bad, []byte(`{"master_key":"cm9vdA=="}`), 0o600)
		if _, err := serveConfig([]string{"--config", bad}, func(string) (string, bool) { return "", false }, io.Discard); err == nil {
			t.Fatal("a master key was accepted from the config file")
		}
	})
	t.Run("ExplicitFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys.json")
		s := startKeysServer(t, Config{MasterKeyFile: path})
		if s.Keyring.Path() != path {
			t.Fatalf("keyring at %s, want %s", s.Keyring.Path(), path)
		}
		if _, err := os.Stat(filepath.Join(s.Config.DataDir, keyring.DefaultFileName)); err == nil {
			t.Fatal("a keyring was created in the data directory too")
		}
	})
}

// TestServeSharedKeyringPostgres runs two nodes on one PostgreSQL database
// with one keyring file: each decrypts what the other sealed, and values
// sealed after a rotation on one node decrypt on the other, which re-reads
// the file.
func TestServeSharedKeyringPostgres(t *testing.T) {
	store := postgresURL(t)
	keys := filepath.Join(t.TempDir(), "keyring.json")
	a := startKeysServer(t, Config{Store: store, MasterKeyFile: keys})
	b := startKeysServer(t, Config{Store: store, MasterKeyFile: keys})
	if !strings.Contains(a.logs.String(), "every node must use this same keyring") {
		t.Fatalf("the first node does not warn that the new keyring must be shared:\n%s", a.logs.String())
	}
	waitValue := func(t *testing.T, s *keysServer, path, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, body := s.do(t, "GET", "/v1/parameters"+path, "")
			var p apiParameter
			json.Unmarshal(body, &p)
			if status == http.StatusOK && p.Value == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %d %s; want the value %q", path, status, body, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a.put(t, "/shared/one", `{"value":"`+secretValue+`","type":"SecureString"}`)
	waitValue(t, b, "/shared/one?with_decryption=true", secretValue)

	a.cli(t, "kms", "rotate")
	a.cli(t, "kms", "create", "--alias", "alias/shared")
	a.put(t, "/shared/two", `{"value":"`+secretValue+`-2","type":"SecureString"}`)
	waitValue(t, b, "/shared/two?with_decryption=true", secretValue+"-2")
	// b seals under the new primary and the new key, learnt from the file.
	b.put(t, "/shared/three", `{"value":"`+secretValue+`-3","type":"SecureString","key_id":"alias/shared"}`)
	if got := masterKeyOf(t, b.get(t, "/shared/three").Value); got != a.Keyring.Primary() {
		t.Fatalf("b sealed under %s, want a's new primary %s", got, a.Keyring.Primary())
	}
	waitValue(t, a, "/shared/three?with_decryption=true", secretValue+"-3")
	// The re-wrapped first value decrypts on both, from the store.
	for _, s := range []*keysServer{a, b} {
		_, body := s.do(t, "GET", "/v1/history/shared/one?with_decryption=true", "")
		if !bytes.Contains(body, []byte(`"value":"`+secretValue+`"`)) {
			t.Fatalf("history with decryption: %s", body)
		}
	}
	for _, s := range []*keysServer{a, b} {
		if strings.Contains(s.logs.String(), secretValue) {
			t.Fatalf("the plaintext is in a node's log:\n%s", s.logs.String())
		}
	}
}

func TestKeysCommands(t *testing.T) {
	t.Run("List", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("GET /v1/kms/keys", 200, `{"keys":[{"id":"k1","arn":"arn:aws:kms:us-east-1:0:key/k1","aliases":["alias/aws/ssm","alias/x"],"created":"2026-01-02T03:04:05.5Z"}],`+
			`"master_keys":[{"id":"root-ab","primary":false},{"id":"mk-1","created":"2026-01-02T03:04:06Z","primary":true}]}`)
		stdout, _ := mustRunCLI(t, "", "kms", "list")
		want := "ID  ALIASES                 CREATED\n" +
			"k1  alias/aws/ssm, alias/x  2026-01-02T03:04:05Z\n\n" +
			"MASTER KEY  CREATED               PRIMARY\n" +
			"root-ab     (VANE_MASTER_KEY)     \n" +
			"mk-1        2026-01-02T03:04:06Z  yes\n"
		if stdout != want {
			t.Fatalf("stdout\n%q\nwant\n%q", stdout, want)
		}
		stdout, _ = mustRunCLI(t, "", "-o", "json", "kms", "list")
		if !strings.Contains(stdout, `"master_keys": [`) {
			t.Fatalf("-o json printed %s", stdout)
		}
	})
	t.Run("Create", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/kms/keys", 201, `{"id":"k2","aliases":["alias/a","alias/b","alias/c"]}`)
		stdout, _ := mustRunCLI(t, "", "kms", "create", "--alias", "alias/a,alias/b", "--alias", "alias/c")
		if stdout != "key k2 created (alias/a, alias/b, alias/c)\n" {
			t.Fatalf("stdout %q", stdout)
		}
		r := api.only()
		assertRequest(t, r, "POST", "/v1/kms/keys", nil)
		assertJSON(t, r.Body, `{"aliases":["alias/a","alias/b","alias/c"]}`)
	})
	t.Run("CreateWithoutAlias", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/kms/keys", 201, `{"id":"k3","aliases":[]}`)
		if stdout, _ := mustRunCLI(t, "", "kms", "create"); stdout != "key k3 created\n" {
			t.Fatalf("stdout %q", stdout)
		}
		assertJSON(t, api.only().Body, `{"aliases":[]}`)
	})
	t.Run("Rotate", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/kms/keys/rotate", 200, `{"master_key_id":"mk-2","previous_master_key_id":"mk-1","rewrapped":12,"sealed":0}`)
		stdout, _ := mustRunCLI(t, "", "kms", "rotate")
		if stdout != "primary master key mk-2 (was mk-1)\nre-wrapped 12 SecureString version(s)\n" {
			t.Fatalf("stdout %q", stdout)
		}
	})
	t.Run("RewrapWithServerFlagFirst", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/kms/keys/rewrap", 200, `{"master_key_id":"mk-2","previous_master_key_id":"mk-2","rewrapped":0,"sealed":3}`)
		stdout, _ := mustRunCLI(t, "", "--server", api.URL, "kms", "rewrap")
		if stdout != "primary master key mk-2\nre-wrapped 0 SecureString version(s)\nencrypted 3 SecureString version(s) stored in plaintext\n" {
			t.Fatalf("stdout %q", stdout)
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		api := newFakeAPI(t)
		api.reply("POST /v1/kms/keys", 409, `{"error":{"code":"conflict","message":"alias \"alias/a\" already names key k1"}}`)
		_, stderr, code := runCLI(t, "", "kms", "create", "--alias", "alias/a")
		if code != 1 || !strings.Contains(stderr, "already names key k1") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("Help", func(t *testing.T) {
		for args, want := range map[string]string{
			"kms --help":        "Usage: vane kms SUBCOMMAND",
			"help kms":          "Usage: vane kms SUBCOMMAND",
			"kms create --help": "Usage: vane kms create",
			"kms rotate -h":     "Usage: vane kms rotate",
		} {
			stdout, _ := mustRunCLI(t, "", strings.Fields(args)...)
			if !strings.HasPrefix(stdout, want) {
				t.Errorf("vane %s printed %q", args, stdout)
			}
		}
	})
	for name, args := range map[string][]string{
		"ErrNoSubcommand":      {"kms"},
		"ErrUnknownSubcommand": {"kms", "frob"},
		"ErrExtraArgument":     {"kms", "list", "extra"},
		"ErrUnknownFlag":       {"kms", "rotate", "--force"},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "", args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "vane: kms") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}
