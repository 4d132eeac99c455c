package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane/sdk"
)

// balancer is a load balancer for tests: it forwards each request to the
// first of its targets that accepts a connection, streaming responses as
// they come, and can be paused (every request gets 503) to keep clients
// away from the servers for a while.
type balancer struct {
	mu      sync.Mutex
	targets []string
	paused  atomic.Bool
	srv     *http.Server
	url     string
	tr      *http.Transport
}

func startBalancer(t *testing.T, targets ...string) *balancer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{targets: targets, url: "http://" + l.Addr().String(), tr: &http.Transport{}}
	b.srv = &http.Server{Handler: b}
	go b.srv.Serve(l)
	t.Cleanup(func() {
		b.srv.Close()
		b.tr.CloseIdleConnections()
	})
	return b
}

func (b *balancer) setTargets(targets ...string) {
	b.mu.Lock()
	b.targets = targets
	b.mu.Unlock()
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b.paused.Load() {
		http.Error(w, "paused", http.StatusServiceUnavailable)
		return
	}
	b.mu.Lock()
	targets := append([]string(nil), b.targets...)
	b.mu.Unlock()
	var lastErr error
	for _, target := range targets {
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		out.Header = r.Header.Clone()
		resp, err := b.tr.RoundTrip(out)
		if err != nil {
			lastErr = err
			continue
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		rc := http.NewResponseController(w)
		rc.Flush()
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				rc.Flush()
			}
			if err != nil {
				return
			}
		}
	}
	http.Error(w, fmt.Sprintf("no target: %v", lastErr), http.StatusBadGateway)
}

// sdkWatcher is an SDK client with the changes its callback saw.
type sdkWatcher struct {
	client *sdk.Client
	mu     sync.Mutex
	seen   []sdk.Change
	at     []time.Time
	notify chan struct{}
}

func openSDK(t *testing.T, server string, paths ...string) *sdkWatcher {
	t.Helper()
	c, err := sdk.Open(context.Background(), sdk.Config{
		Server: server, Paths: paths, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w := &sdkWatcher{client: c, notify: make(chan struct{}, 1)}
	c.OnChange("/", func(ch sdk.Change) {
		w.mu.Lock()
		w.seen = append(w.seen, ch)
		w.at = append(w.at, time.Now())
		w.mu.Unlock()
		select {
		case w.notify <- struct{}{}:
		default:
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !c.Status().Connected {
		if time.Now().After(deadline) {
			t.Fatalf("the SDK client did not connect to %s: %+v", server, c.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return w
}

// waitVersion waits up to 10 s for a callback of name at version and
// returns when it arrived.
func (w *sdkWatcher) waitVersion(t *testing.T, name string, version int64) time.Time {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		for i, ch := range w.seen {
			if ch.Name == name && ch.Version == version {
				at := w.at[i]
				w.mu.Unlock()
				return at
			}
		}
		w.mu.Unlock()
		select {
		case <-w.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no callback for %s version %d within 10s; status %+v", name, version, w.client.Status())
		}
	}
}

// checkVersions checks that the callbacks for name saw versions from..to
// exactly once each, in order, as events (not a reload).
func (w *sdkWatcher) checkVersions(t *testing.T, name string, from, to int64) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var got []int64
	for _, ch := range w.seen {
		if ch.Name != name {
			continue
		}
		if ch.Reload {
			t.Errorf("change %+v came from a reload, want an event", ch)
		}
		got = append(got, ch.Version)
	}
	var want []int64
	for v := from; v <= to; v++ {
		want = append(want, v)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("callbacks for %s saw versions %v, want %v exactly once each", name, got, want)
	}
}

// TestSDKServerRestartAndCompaction runs the SDK against a real `vane
// serve`: a change reaches its callback, the server is killed with SIGKILL
// mid-stream and restarted (the client resumes with no gap and no
// duplicate, serving its last values meanwhile), and a client kept away
// while the change log is compacted past its sequence gets a reset and
// reloads the snapshot.
func TestSDKServerRestartAndCompaction(t *testing.T) {
	bin, data, addr := vaneBinary(t), t.TempDir(), freeLoopbackAddr(t)
	srv := startServeProcess(t, bin, "--addr", addr, "--data", data)
	defer func() { srv.cmd.Process.Kill() }()
	client := &http.Client{Timeout: 10 * time.Second}
	const name = "/sdk/e2e/x"
	if _, err := putOverwrite(context.Background(), client, srv.url, name, "0"); err != nil {
		t.Fatal(err)
	}
	lb := startBalancer(t, srv.url)
	w := openSDK(t, lb.url, "/sdk/e2e/")
	if got := w.client.String(name, ""); got != "0" {
		t.Fatalf("initial value %q", got)
	}

	put := func(value string) int64 {
		t.Helper()
		v, err := putOverwrite(context.Background(), client, srv.url, name, value)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i := 1; i <= 3; i++ {
		w.waitVersion(t, name, put(fmt.Sprint(i)))
	}

	srv.kill(t)
	deadline := time.Now().Add(10 * time.Second)
	for !w.client.Status().Stale {
		if time.Now().After(deadline) {
			t.Fatal("the client did not notice the server's death")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := w.client.String(name, ""); got != "3" {
		t.Errorf("read while the server is down = %q, want the last value", got)
	}
	srv = startServeProcess(t, bin, "--addr", addr, "--data", data)
	last := int64(0)
	for i := 4; i <= 6; i++ {
		last = put(fmt.Sprint(i))
	}
	w.waitVersion(t, name, last)
	w.checkVersions(t, name, 2, last)
	if got := w.client.String(name, ""); got != "6" {
		t.Errorf("after the restart = %q, want 6", got)
	}

	// Keep the client away while the log moves on and is compacted.
	lb.paused.Store(true)
	lb.tr.CloseIdleConnections()
	srv.kill(t) // ends the stream; the client cannot reconnect while paused
	srv = startServeProcess(t, bin, "--addr", addr, "--data", data)
	for i := 7; i <= 9; i++ {
		last = put(fmt.Sprint(i))
	}
	if code := statusOf(t, client, http.MethodPost, srv.url+"/v1/compact", `{"older_than":"0s"}`); code != http.StatusOK {
		t.Fatalf("POST /v1/compact: status %d", code)
	}
	lb.paused.Store(false)
	w.waitVersion(t, name, last)
	w.mu.Lock()
	final := w.seen[len(w.seen)-1]
	w.mu.Unlock()
	if !final.Reload || final.Value != "9" {
		t.Errorf("change after compaction %+v, want a reload to value 9", final)
	}
	srv.stop(t)
}

// freeLoopbackAddr returns a loopback address nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestVaneWatchCLI runs `vane watch` against a real server, restarts the
// server under it, and checks that it prints every change once, in order.
func TestVaneWatchCLI(t *testing.T) {
	bin, data, addr := vaneBinary(t), t.TempDir(), freeLoopbackAddr(t)
	srv := startServeProcess(t, bin, "--addr", addr, "--data", data)
	defer func() { srv.cmd.Process.Kill() }()
	client := &http.Client{Timeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "watch", "/cli/watch/", "--since", "0")
	cmd.Env = childEnv("VANE_SERVER=" + srv.url)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("vane watch ended; stderr:\n%s", stderr.String())
			}
			return l
		case <-time.After(15 * time.Second):
			t.Fatalf("vane watch printed nothing within 15s; stderr:\n%s", stderr.String())
		}
		return ""
	}

	putOverwrite(context.Background(), client, srv.url, "/cli/watch/a", "one")
	putOverwrite(context.Background(), client, srv.url, "/other/b", "skip")
	putOverwrite(context.Background(), client, srv.url, "/cli/watch/a", "two")
	for _, want := range []string{"1 put /cli/watch/a v1 one", "3 put /cli/watch/a v2 two"} {
		if got := next(); !strings.HasPrefix(got, want) {
			t.Fatalf("vane watch printed %q, want %q", got, want)
		}
	}

	srv.kill(t)
	srv = startServeProcess(t, bin, "--addr", addr, "--data", data)
	putOverwrite(context.Background(), client, srv.url, "/cli/watch/a", "three")
	if got, want := next(), "4 put /cli/watch/a v3 three"; !strings.HasPrefix(got, want) {
		t.Fatalf("after the restart vane watch printed %q, want %q (no repeat, no gap)", got, want)
	}
	if !strings.Contains(stderr.String(), "reconnecting") {
		t.Errorf("vane watch did not say it was reconnecting; stderr:\n%s", stderr.String())
	}
	cancel()
	srv.stop(t)
}
