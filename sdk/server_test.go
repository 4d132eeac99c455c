package sdk_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sdk"
	"github.com/vanehq/vane/sqlite"
)

// server is a Vane server run in the test process as `vane serve` runs
// it (SQLite file, keyring, index, HTTP), which a test can stop and start
// again on the same address and data.
type server struct {
	t     *testing.T
	dir   string
	addr  string // host:port, kept across restarts
	opts  vanehttp.WatchOptions
	store *sqlite.Store
	idx   *index.Store
	http  *vanehttp.Server
	kr    *keyring.Keyring
}

// startServer starts a server on a new data directory.
func startServer(t *testing.T, opts ...vanehttp.WatchOptions) *server {
	t.Helper()
	s := &server{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	if len(opts) > 0 {
		s.opts = opts[0]
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// URL is the server's base URL.
func (s *server) URL() string { return "http://" + s.addr }

// start opens the store and serves it on s.addr.
func (s *server) start() {
	t := s.t
	t.Helper()
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(s.dir, "keyring.json")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(s.dir, "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Cipher = kr
	idx := index.New(st)
	if err := idx.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := vanehttp.NewServer()
	h.Addr = s.addr
	h.Store = idx
	h.Cipher = kr
	h.Usage = st
	h.Watch = s.opts
	h.Logger = slog.New(slog.DiscardHandler)
	// The port may take a moment to be free again after a restart.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err = h.Open()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.addr = h.URL()[len("http://"):]
	s.store, s.idx, s.http, s.kr = st, idx, h, kr
}

// stop closes the server (ending every stream) and its store; it is a
// no-op when stopped.
func (s *server) stop() {
	if s.http == nil {
		return
	}
	if err := s.http.Close(); err != nil {
		s.t.Error(err)
	}
	s.idx.Close()
	s.http, s.idx, s.store = nil, nil, nil
}

// restart stops the server and starts it again on the same address.
func (s *server) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// put writes a parameter through the running server's store and returns
// the change-log sequence it was given.
func (s *server) put(name, value string, typ ...vane.Type) int64 {
	s.t.Helper()
	in := &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true}
	if len(typ) > 0 {
		in.Type = typ[0]
	}
	if _, err := s.idx.Put(context.Background(), in); err != nil {
		s.t.Fatalf("put %s: %v", name, err)
	}
	return s.idx.Seq()
}

// del deletes a parameter through the running server's store.
func (s *server) del(name string) int64 {
	s.t.Helper()
	if err := s.idx.Delete(context.Background(), &vane.DeleteInput{Name: name}); err != nil {
		s.t.Fatalf("delete %s: %v", name, err)
	}
	return s.idx.Seq()
}

// offline opens the server's store while the server is stopped, as
// another node sharing the database would write to it.
func (s *server) offline(f func(st *sqlite.Store)) {
	s.t.Helper()
	if s.http != nil {
		s.t.Fatal("offline: the server is running")
	}
	st, err := sqlite.Open(filepath.Join(s.dir, "vane.db"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	f(st)
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// recorder collects what a client reports and the changes its callbacks
// see.
type recorder struct {
	mu      sync.Mutex
	errs    []error
	changes []sdk.Change
	notify  chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) onError(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *recorder) onChange(c sdk.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// errCount returns how many problems were reported.
func (r *recorder) errCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs)
}

// valueErrors returns the *sdk.ValueError reports.
func (r *recorder) valueErrors() []*sdk.ValueError {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*sdk.ValueError
	for _, err := range r.errs {
		var ve *sdk.ValueError
		if errors.As(err, &ve) {
			out = append(out, ve)
		}
	}
	return out
}

func (r *recorder) snapshot() []sdk.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdk.Change(nil), r.changes...)
}

// waitFor waits until the changes seen satisfy ok, or fails after 10 s.
func (r *recorder) waitFor(t *testing.T, what string, ok func([]sdk.Change) bool) []sdk.Change {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		cs := r.snapshot()
		if ok(cs) {
			return cs
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; changes seen: %+v", what, cs)
		}
	}
}

// hasChange reports whether cs holds a change to name with value.
func hasChange(name, value string) func([]sdk.Change) bool {
	return func(cs []sdk.Change) bool {
		for _, c := range cs {
			if c.Name == name && c.Value == value && !c.Deleted {
				return true
			}
		}
		return false
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// open starts a client on the server with a recorder attached to it.
func open(t *testing.T, cfg sdk.Config) (*sdk.Client, *recorder) {
	t.Helper()
	rec := newRecorder()
	cfg.OnError = rec.onError
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 200 * time.Millisecond
	}
	c, err := sdk.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.OnChange("/", rec.onChange)
	t.Cleanup(func() { c.Close() })
	return c, rec
}
