package http_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/sqlite"
)

// watchServer is a test server over an index, as `vane serve` runs it.
type watchServer struct {
	*Server
	Index *index.Store
	Under *sqlite.Store
}

func mustOpenWatch(t *testing.T, opts vanehttp.WatchOptions, configure ...func(*vanehttp.Server)) *watchServer {
	t.Helper()
	under := MustOpenStore(t)
	idx := index.New(under)
	if err := idx.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := MustOpen(t, append([]func(*vanehttp.Server){func(s *vanehttp.Server) {
		s.Store = idx
		s.Watch = opts
	}}, configure...)...)
	return &watchServer{Server: s, Index: idx, Under: under}
}

// putIndex puts a value through the index, not over HTTP.
func (s *watchServer) putIndex(t *testing.T, name, value string) int64 {
	t.Helper()
	if _, err := s.Index.Put(context.Background(), &vane.PutInput{Name: name, Value: value, Type: vane.TypeString, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	return s.Index.Seq()
}

func (s *watchServer) put(t *testing.T, name, value string) int64 {
	t.Helper()
	r := s.Do(t, "PUT", "/v1/parameters"+name, fmt.Sprintf(`{"value":%q,"type":"String","overwrite":true}`, value))
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("PUT %s: status %d: %s", name, r.Status, r.Body)
	}
	return s.Index.Seq()
}

// sseEvent is one Server-Sent Event, or a comment (Comment set).
type sseEvent struct {
	ID, Event, Data, Comment string
}

type sseStream struct {
	resp   *nethttp.Response
	events chan sseEvent // closed at the end of the stream
	cancel context.CancelFunc
}

func openWatch(t *testing.T, s *watchServer, query string, header ...string) *sseStream {
	t.Helper()
	return openStream(t, s.URL()+"/v1/watch"+query, header...)
}

// openStream opens a Server-Sent Events stream at url.
func openStream(t *testing.T, url string, header ...string) *sseStream {
	t.Helper()
	return openStreamWith(t, nethttp.DefaultClient, url, header...)
}

// openStreamWith opens a Server-Sent Events stream at url with client.
func openStreamWith(t *testing.T, client *nethttp.Client, url string, header ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := nethttp.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	st := &sseStream{resp: resp, events: make(chan sseEvent, 1000), cancel: cancel}
	go func() {
		defer close(st.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					st.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				st.events <- sseEvent{Comment: strings.TrimSpace(line[1:])}
			default:
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "id":
					ev.ID = v
				case "event":
					ev.Event = v
				case "data":
					ev.Data = v
				}
			}
		}
	}()
	t.Cleanup(st.close)
	return st
}

func (st *sseStream) close() {
	st.cancel()
	st.resp.Body.Close()
}

// next returns the next event that is not a comment; ok is false at the
// end of the stream.
func (st *sseStream) next(t *testing.T) (ev sseEvent, ok bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-st.events:
			if ok && ev.Comment != "" {
				continue
			}
			return ev, ok
		case <-deadline:
			t.Fatal("no event within 5s")
		}
	}
}

// nextChange returns the next change event's data.
func (st *sseStream) nextChange(t *testing.T) vanehttp.WatchEvent {
	t.Helper()
	ev, ok := st.next(t)
	if !ok {
		t.Fatal("stream ended")
	}
	if ev.Event != "change" {
		t.Fatalf("event %q (%s), want change", ev.Event, ev.Data)
	}
	var c vanehttp.WatchEvent
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatalf("decoding %s: %v", ev.Data, err)
	}
	if ev.ID != strconv.FormatInt(c.Seq, 10) {
		t.Fatalf("id %q for change %d", ev.ID, c.Seq)
	}
	return c
}

func (st *sseStream) wantChange(t *testing.T, seq int64, op, name, value string) {
	t.Helper()
	c := st.nextChange(t)
	got := ""
	if c.Value != nil {
		got = *c.Value
	}
	if c.Seq != seq || c.Op != op || c.Name != name || got != value {
		t.Fatalf("change %d %s %s %q, want %d %s %s %q", c.Seq, c.Op, c.Name, got, seq, op, name, value)
	}
}

func TestSnapshot(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	s.put(t, "/myapp/prod/a", "1")
	s.put(t, "/myapp/prod/b/c", "2")
	s.put(t, "/myapp/dev/a", "3")
	seq := s.put(t, "/other/x", "4")

	var snap struct {
		Sequence   int64 `json:"sequence"`
		Parameters []struct {
			Name, Value string
			Version     int64
		} `json:"parameters"`
	}
	r := s.Do(t, "GET", "/v1/snapshot?path=/myapp/prod/", "").Want(t, 200, &snap)
	if snap.Sequence != seq || len(snap.Parameters) != 2 ||
		snap.Parameters[0].Name != "/myapp/prod/a" || snap.Parameters[1].Name != "/myapp/prod/b/c" || snap.Parameters[1].Value != "2" {
		t.Fatalf("snapshot %s", r.Body)
	}
	tag := r.Header.Get("ETag")
	if !strings.HasPrefix(tag, `"`+strconv.FormatInt(seq, 10)+"-") || r.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", tag, r.Header.Get("Cache-Control"))
	}
	// The same paths in another spelling: the same entity.
	r304 := s.Do(t, "GET", "/v1/snapshot?path=/myapp/prod", "", "If-None-Match", tag)
	if r304.Status != 304 || len(r304.Body) != 0 || r304.Header.Get("ETag") != tag {
		t.Fatalf("If-None-Match: status %d, ETag %q, body %q", r304.Status, r304.Header.Get("ETag"), r304.Body)
	}
	// Other paths: another entity.
	r = s.Do(t, "GET", "/v1/snapshot?path=/myapp/prod/&path=/other/", "", "If-None-Match", tag).Want(t, 200, &snap)
	if len(snap.Parameters) != 3 || r.Header.Get("ETag") == tag {
		t.Fatalf("two paths: %s (ETag %s)", r.Body, r.Header.Get("ETag"))
	}
	// Everything by default.
	s.Do(t, "GET", "/v1/snapshot", "").Want(t, 200, &snap)
	if len(snap.Parameters) != 4 {
		t.Fatalf("default path: %d parameters", len(snap.Parameters))
	}
	// A change moves the sequence: the old tag no longer matches.
	seq = s.put(t, "/other/x", "5")
	r = s.Do(t, "GET", "/v1/snapshot?path=/myapp/prod/", "", "If-None-Match", tag).Want(t, 200, &snap)
	if snap.Sequence != seq || r.Header.Get("ETag") == tag {
		t.Fatalf("after a change: sequence %d, ETag %s", snap.Sequence, r.Header.Get("ETag"))
	}
	s.Do(t, "GET", "/v1/snapshot?path=nope", "").WantError(t, 400, vane.EINVALID, "")
}

func TestWatchLiveUnderPrefix(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	s.put(t, "/myapp/prod/before", "0")
	w := openWatch(t, s, "?path=/myapp/prod")
	s.put(t, "/other/x", "1")
	s.put(t, "/myapp/prodx", "1") // a sibling, not under the path
	seq := s.put(t, "/myapp/prod/a", "2")
	w.wantChange(t, seq, "put", "/myapp/prod/a", "2")
	s.Do(t, "DELETE", "/v1/parameters/myapp/prod/a", "").Want(t, 204, nil)
	w.wantChange(t, seq+1, "delete", "/myapp/prod/a", "")

	// SecureString values are never sent (written below the index, as
	// the server would store one sealed).
	ctx := context.Background()
	if _, err := s.Under.Put(ctx, &vane.PutInput{Name: "/myapp/prod/secret", Value: "sealed", Type: vane.TypeSecureString}); err != nil {
		t.Fatal(err)
	}
	if err := s.Index.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if c := w.nextChange(t); c.Seq != s.Index.Seq() || c.Value != nil || c.Type != "SecureString" {
		t.Fatalf("SecureString change %+v", c)
	}
}

func TestWatchSinceReplay(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	since := s.put(t, "/a/old", "0")
	s1 := s.put(t, "/a/x", "1")
	s.put(t, "/b/x", "1")
	s2 := s.put(t, "/a/y", "2")
	w := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(since, 10))
	w.wantChange(t, s1, "put", "/a/x", "1")
	w.wantChange(t, s2, "put", "/a/y", "2")
	s3 := s.put(t, "/a/z", "3")
	w.wantChange(t, s3, "put", "/a/z", "3")

	// Two paths replay from the whole log.
	w2 := openWatch(t, s, "?path=/a/x&path=/b&since="+strconv.FormatInt(since, 10))
	w2.wantChange(t, s1+1, "put", "/b/x", "1")
	s4 := s.put(t, "/b/y", "4")
	w2.wantChange(t, s4, "put", "/b/y", "4")
}

func TestWatchResumeLastEventID(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	w := openWatch(t, s, "?path=/a/")
	s1 := s.put(t, "/a/1", "1")
	s2 := s.put(t, "/a/2", "2")
	w.wantChange(t, s1, "put", "/a/1", "1")
	w.wantChange(t, s2, "put", "/a/2", "2")
	w.close()

	// Missed while disconnected.
	s3 := s.put(t, "/a/3", "3")
	s4 := s.put(t, "/a/4", "4")
	// Last-Event-ID wins over since.
	w = openWatch(t, s, "?path=/a/&since=0", "Last-Event-ID", strconv.FormatInt(s2, 10))
	s5 := s.put(t, "/a/5", "5")
	w.wantChange(t, s3, "put", "/a/3", "3")
	w.wantChange(t, s4, "put", "/a/4", "4")
	w.wantChange(t, s5, "put", "/a/5", "5")

	s.Do(t, "GET", "/v1/watch", "", "Last-Event-ID", "x").WantError(t, 400, vane.EINVALID, "")
}

func TestWatchSlowConsumerReset(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{Buffer: 1})
	w := openWatch(t, s, "")
	// Many changes applied in one CatchUp, as when following another
	// node: far more than the watcher's buffer arrive at once.
	ctx := context.Background()
	for i := range 50 {
		if _, err := s.Under.Put(ctx, &vane.PutInput{Name: "/a/x", Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Index.CatchUp(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CatchUp blocked on a watcher")
	}
	for {
		ev, ok := w.next(t)
		if !ok {
			t.Fatal("stream ended without a reset")
		}
		if ev.Event == "reset" {
			break
		}
	}
	if _, ok := w.next(t); ok {
		t.Fatal("stream goes on after reset")
	}
	// A new watch works.
	w = openWatch(t, s, "")
	seq := s.put(t, "/a/y", "y")
	w.wantChange(t, seq, "put", "/a/y", "y")
}

func TestWatchHeartbeat(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{Heartbeat: 20 * time.Millisecond})
	w := openWatch(t, s, "")
	deadline := time.After(5 * time.Second)
	for pings := 0; pings < 2; {
		select {
		case ev, ok := <-w.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Comment != "ping" {
				t.Fatalf("unexpected event %+v", ev)
			}
			pings++
		case <-deadline:
			t.Fatal("no heartbeat within 5s")
		}
	}
}

func TestWatchCloseServer(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	w := openWatch(t, s, "")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second): // ShutdownTimeout is 10s
		t.Fatal("Close hangs on an open watch")
	}
	if _, ok := w.next(t); ok {
		t.Fatal("stream goes on after Close")
	}
}

func TestWatchNeedsIndex(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "GET", "/v1/watch", "").WantError(t, 503, vane.EUNAVAILABLE, "")
}

func TestWatchReplayCarriesEachVersionsValue(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	s1 := s.put(t, "/a/x", "one")
	s2 := s.put(t, "/a/x", "two")
	s3 := s.put(t, "/a/x", "three")
	w := openWatch(t, s, "?path=/a/&since=0")
	w.wantChange(t, s1, "put", "/a/x", "one")
	w.wantChange(t, s2, "put", "/a/x", "two")
	w.wantChange(t, s3, "put", "/a/x", "three")
}

// waitSubscribers waits until the index has n subscribers.
func waitSubscribers(t *testing.T, s *watchServer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Index.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers after 5s, want %d", s.Index.Subscribers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Over HTTP/1 a stream takes its connection over: the response is
// delimited by the connection's end rather than chunked, and ends after a
// reset.
func TestWatchResponseHead(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{Buffer: 1})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /v1/watch?path=/a/ HTTP/1.1\r\nHost: vane\r\n\r\n")
	resp, err := nethttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("Date") == "" ||
		resp.TransferEncoding != nil || resp.ContentLength != -1 || !resp.Close {
		t.Fatalf("status %d, header %v, transfer encoding %v, length %d, close %v",
			resp.StatusCode, resp.Header, resp.TransferEncoding, resp.ContentLength, resp.Close)
	}

	seq := s.put(t, "/a/x", "1")
	r := bufio.NewReader(resp.Body)
	var event []string
	for len(event) == 0 || event[len(event)-1] != "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event: %v (so far %q)", err, event)
		}
		event = append(event, strings.TrimSuffix(line, "\n"))
	}
	if want := fmt.Sprintf("id: %d", seq); event[0] != want || event[1] != "event: change" || !strings.Contains(event[2], `"value":"1"`) {
		t.Fatalf("event %q", event)
	}

	// More changes in one catch-up than the buffer holds: a reset, and
	// the body ends cleanly.
	ctx := context.Background()
	for i := range 5 {
		if _, err := s.Under.Put(ctx, &vane.PutInput{Name: "/a/x", Value: strconv.Itoa(i), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Index.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the body ended with %v, want its end (%q)", err, rest)
	}
	if !strings.Contains(string(rest), "event: reset\ndata: {\"seq\":") {
		t.Fatalf("no reset before the end: %q", rest)
	}
	waitSubscribers(t, s, 0)
}

// A stream ends as soon as its client goes, whether it took the connection
// over (HTTP/1, plain or TLS) or is served through the ResponseWriter
// (HTTP/2).
func TestWatchClientGone(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	plain := mustOpenWatch(t, vanehttp.WatchOptions{})
	tlsServer := mustOpenWatch(t, vanehttp.WatchOptions{}, func(s *vanehttp.Server) { s.TLSCertFile, s.TLSKeyFile = certFile, keyFile })
	h2 := httptest.NewUnstartedServer(plain.Handler())
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	for _, tc := range []struct {
		name   string
		s      *watchServer
		url    string
		client *nethttp.Client
		proto  int
	}{
		{"HTTP1", plain, plain.URL(), nethttp.DefaultClient, 1},
		{"HTTP1TLS", tlsServer, tlsServer.URL(), &nethttp.Client{Transport: &nethttp.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, 1},
		{"HTTP2", plain, h2.URL, h2.Client(), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := openStreamWith(t, tc.client, tc.url+"/v1/watch?path=/a/")
			if w.resp.ProtoMajor != tc.proto {
				t.Fatalf("served over HTTP/%d, want HTTP/%d", w.resp.ProtoMajor, tc.proto)
			}
			waitSubscribers(t, tc.s, 1)
			seq := tc.s.putIndex(t, "/a/x", tc.name)
			w.wantChange(t, seq, "put", "/a/x", tc.name)
			w.close()
			waitSubscribers(t, tc.s, 0)
		})
	}
}

// Over HTTP/2 a stream is served through the ResponseWriter: replay, live
// changes and heartbeats as over HTTP/1.
func TestWatchHTTP2(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{Heartbeat: 20 * time.Millisecond})
	h2 := httptest.NewUnstartedServer(s.Handler())
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	since := s.put(t, "/a/old", "0")
	s1 := s.put(t, "/a/x", "1")
	w := openStreamWith(t, h2.Client(), h2.URL+"/v1/watch?path=/a/&since="+strconv.FormatInt(since, 10))
	if w.resp.ProtoMajor != 2 {
		t.Fatalf("served over HTTP/%d", w.resp.ProtoMajor)
	}
	w.wantChange(t, s1, "put", "/a/x", "1")
	s2 := s.put(t, "/a/y", "2")
	w.wantChange(t, s2, "put", "/a/y", "2")
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-w.events:
			if ev.Comment == "ping" {
				return
			}
			t.Fatalf("unexpected event %+v", ev)
		case <-deadline:
			t.Fatal("no heartbeat within 5s")
		}
	}
}

// Streams share each change's event: a stream that lags, replaying the
// log, gets the same bytes as one that was live, each put with its own
// version's value, while a label change carries the value that is latest
// when it is sent.
func TestWatchStreamsShareEvents(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	since := s.put(t, "/a/old", "0")
	live := openWatch(t, s, "?path=/a/")
	waitSubscribers(t, s, 1)
	for _, v := range []string{"one", "two", "three"} {
		s.put(t, "/a/x", v)
	}
	s.Do(t, "PUT", "/v1/labels/a/x", `{"version":1,"labels":["prod"]}`).Want(t, 200, nil)
	labeled := s.Index.Seq()
	var puts []sseEvent
	for range 3 {
		ev, _ := live.next(t)
		puts = append(puts, ev)
	}
	live.wantChange(t, labeled, "label", "/a/x", "three")

	four := s.put(t, "/a/x", "four")
	lagging := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(since, 10))
	for i, want := range puts {
		if ev, _ := lagging.next(t); ev != want {
			t.Fatalf("put %d: lagging %+v, live %+v", i, ev, want)
		}
	}
	lagging.wantChange(t, labeled, "label", "/a/x", "four")
	lagging.wantChange(t, four, "put", "/a/x", "four")
}

// flakyVersionReads fails the reads of a given version (as a lagging
// stream's put events make) while fail is positive.
type flakyVersionReads struct {
	*index.Store
	fail atomic.Int32
}

func (f *flakyVersionReads) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	if strings.Contains(selector, ":") && f.fail.Add(-1) >= 0 {
		return nil, errors.New("database down")
	}
	return f.Store.Get(ctx, selector)
}

// An event whose value could not be read goes without it, and is not
// kept for other streams, which read the value again.
func TestWatchEventWithoutValueNotShared(t *testing.T) {
	under := MustOpenStore(t)
	idx := index.New(under)
	if err := idx.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	flaky := &flakyVersionReads{Store: idx}
	s := &watchServer{Server: MustOpen(t, func(s *vanehttp.Server) { s.Store = flaky }), Index: idx, Under: under}
	since := s.put(t, "/a/old", "0")
	one := s.put(t, "/a/x", "one")
	s.put(t, "/a/x", "two") // so that replaying "one" reads its version

	flaky.fail.Store(1)
	first := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(since, 10))
	if c := first.nextChange(t); c.Seq != one || c.Value != nil {
		t.Fatalf("first stream, version read failing: %+v, want change %d without a value", c, one)
	}
	second := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(since, 10))
	second.wantChange(t, one, "put", "/a/x", "one")
	third := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(since, 10))
	third.wantChange(t, one, "put", "/a/x", "one")
}

// TestWatchSinceAheadOfTheStore: a watcher resuming from a sequence the
// store never reached (it was restored from an older backup, so its next
// changes will reuse the numbers) gets a reset at once rather than
// silently skipping them; one resuming from a sequence the store has but
// this node's index has not applied yet goes on.
func TestWatchSinceAheadOfTheStore(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	seq := s.put(t, "/a/x", "1")
	w := openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(seq+5, 10))
	ev, ok := w.next(t)
	if !ok || ev.Event != "reset" {
		t.Fatalf("a since ahead of the store: %+v, %v", ev, ok)
	}
	if _, ok := w.next(t); ok {
		t.Fatal("stream goes on after reset")
	}

	// Written to the store below the index: the index lags it.
	if _, err := s.Under.Put(context.Background(), &vane.PutInput{Name: "/a/y", Value: "2", Type: vane.TypeString}); err != nil {
		t.Fatal(err)
	}
	w = openWatch(t, s, "?path=/a/&since="+strconv.FormatInt(seq+1, 10))
	next := s.put(t, "/a/z", "3")
	w.wantChange(t, next, "put", "/a/z", "3")
}
