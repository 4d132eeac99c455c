package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// Defaults of the watch stream (see WatchOptions).
const (
	DefaultWatchHeartbeat = 15 * time.Second
	DefaultWatchBuffer    = 1024
)

// WatchOptions tune GET /v1/watch.
type WatchOptions struct {
	// Heartbeat is how often an idle stream gets an SSE comment (": ping"),
	// so that proxies and clients notice a dead connection.
	Heartbeat time.Duration
	// Buffer is how many changes a watcher may fall behind before the
	// server sends it "event: reset" and closes the stream.
	Buffer int
}

// watchOptions returns s.Watch with defaults filled in.
func (s *Server) watchOptions() WatchOptions {
	opts := s.Watch
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultWatchHeartbeat
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultWatchBuffer
	}
	return opts
}

// Subscriber is what a Store must also be to serve GET /ofrep/v1/events:
// the in-memory index (index.Store) is one. Subscribe returns a channel of
// the changes applied after seq, in order, closed when the subscriber falls
// more than buf changes behind or cancel is called.
type Subscriber interface {
	Subscribe(buf int) (ch <-chan *vane.Change, seq int64, cancel func())
}

// QueueSubscriber is what a Store must also be to serve GET /v1/watch: the
// in-memory index (index.Store) is one. SubscribeQueue is Subscribe with a
// queue that grows as changes arrive instead of a channel's buffer, so
// that an idle stream holds none: ready receives a value when changes (or
// the end) may be waiting, and next appends the waiting changes to buf and
// reports whether more may follow; it reports false after the subscriber
// fell more than limit changes behind or cancel was called.
type QueueSubscriber interface {
	SubscribeQueue(limit int) (ready <-chan struct{}, next func(buf []*vane.Change) ([]*vane.Change, bool), seq int64, cancel func())
}

// registerWatchRoutes adds the snapshot and watch routes.
func (s *Server) registerWatchRoutes(mux *http.ServeMux) {
	opts := s.watchOptions()
	hub := &shutdownHub{servers: map[*http.Server]*serverStreams{}}
	events := &eventCache{}
	mux.HandleFunc("GET /v1/snapshot", s.handleSnapshot)
	mux.HandleFunc("GET /v1/watch", func(w http.ResponseWriter, r *http.Request) {
		s.handleWatch(w, r, opts, hub, events)
	})
}

// shutdownHub tells long-lived streams that their http.Server is shutting
// down: Shutdown waits for active connections, which a stream never
// leaves on its own, and neither knows nor closes the connections that
// streams took over (Hijack), which the hub closes.
type shutdownHub struct {
	mu      sync.Mutex
	servers map[*http.Server]*serverStreams
}

// serverStreams are the streams of one http.Server.
type serverStreams struct {
	done  chan struct{}         // closed when the server begins to shut down
	conns map[net.Conn]struct{} // taken over, closed then; nil once closed
}

// streams returns the streams of the server serving r; nil when r has
// none (the handler used without a server).
func (h *shutdownHub) streams(r *http.Request) *serverStreams {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ss, ok := h.servers[srv]
	if !ok {
		ss = &serverStreams{done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
		h.servers[srv] = ss
		srv.RegisterOnShutdown(func() {
			h.mu.Lock()
			close(ss.done)
			conns := ss.conns
			ss.conns = nil
			delete(h.servers, srv)
			h.mu.Unlock()
			// A stream blocked writing to a client that doesn't read
			// would not see done.
			for c := range conns {
				c.Close()
			}
		})
	}
	return ss
}

// track adds a connection a stream took over, to be closed at shutdown;
// it reports false when the shutdown has begun.
func (h *shutdownHub) track(ss *serverStreams, c net.Conn) bool {
	if ss == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ss.conns == nil {
		return false
	}
	ss.conns[c] = struct{}{}
	return true
}

// untrack forgets a connection added by track.
func (h *shutdownHub) untrack(ss *serverStreams, c net.Conn) {
	if ss == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(ss.conns, c)
}

// snapshotResponse is the result of GET /v1/snapshot.
type snapshotResponse struct {
	Sequence int64 `json:"sequence"`
	// At is the time of a snapshot of the past (?at=), in UTC.
	At         string           `json:"at,omitempty"`
	Parameters []*parameterJSON `json:"parameters"`
}

// watchPaths returns the canonical paths (ending in "/") of the repeatable
// "path" query parameter, sorted and without duplicates; "/" when absent.
func watchPaths(q query) ([]string, error) {
	raw := q.all("path")
	if len(raw) == 0 {
		return []string{"/"}, nil
	}
	paths := make([]string, 0, len(raw))
	for _, p := range raw {
		c, err := vane.ValidatePath(p)
		if err != nil {
			return nil, err
		}
		paths = append(paths, c)
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

// underAny reports whether a name is under one of the canonical paths.
func underAny(name string, paths []string) bool {
	for _, p := range paths {
		if vane.PrefixMatch(name, p) {
			return true
		}
	}
	return false
}

// snapshotETag is the strong entity tag of a snapshot: the sequence and a
// hash of the paths it covers and of whether SecureString values are
// opened, since the two forms are different entities.
func snapshotETag(seq int64, paths []string, decrypted bool, viewer string) string {
	h := fnv.New64a()
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	if decrypted {
		// No path holds this byte, so no set of paths hashes alike.
		h.Write([]byte{1})
	}
	if viewer != "" {
		// Keys see different subsets: each its own entity.
		h.Write([]byte{2})
		h.Write([]byte(viewer))
	}
	return fmt.Sprintf(`"%d-%016x"`, seq, h.Sum64())
}

// noneMatch reports whether an If-None-Match header list matches etag
// (weak comparison, as RFC 9110 prescribes for If-None-Match).
func noneMatch(values []string, etag string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// handleSnapshot serves GET /v1/snapshot?path=...&with_decryption=true:
// the latest version of every parameter under the paths (recursively) and
// the change-log sequence they reflect, as one consistent read, with
// SecureString values opened when with_decryption is true; with
// at=TIME, the same as it was at TIME (handleSnapshotAt).
func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "path", "with_decryption", "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	paths, err := watchPaths(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	decrypt, err := q.boolean("with_decryption")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if at, hasAt, err := q.timestamp("at"); err != nil || hasAt {
		if err != nil {
			s.writeError(w, r, err)
		} else {
			s.handleSnapshotAt(w, r, q, paths, decrypt, at)
		}
		return
	}
	ps, seq, err := s.Store.Snapshot(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	viewer := ""
	if p := principalOf(r.Context()); p != nil {
		viewer = p.Key.ID
	}
	tag := snapshotETag(seq, paths, decrypt, viewer)
	h := w.Header()
	h.Set("ETag", tag)
	if decrypt || viewer != "" {
		// Plaintext secrets: the client may keep them and revalidate, a
		// shared cache (CDN, reverse proxy) must not.
		h.Set("Cache-Control", "private, no-cache")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if noneMatch(r.Header.Values("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	visible := s.visible(r.Context(), auth.ActionWatch)
	under := make([]*vane.Parameter, 0, len(ps))
	for _, p := range ps {
		if underAny(p.Name, paths) && (visible == nil || visible(p.Name)) {
			under = append(under, p)
		}
	}
	if under, err = s.decrypted(r.Context(), q, under...); err != nil {
		// The headers set above don't belong to an error.
		h.Del("ETag")
		h.Del("Cache-Control")
		s.writeError(w, r, err)
		return
	}
	out := snapshotResponse{Sequence: seq, Parameters: make([]*parameterJSON, 0, len(under))}
	for _, p := range under {
		out.Parameters = append(out.Parameters, newParameterJSON(p))
	}
	writeJSON(w, http.StatusOK, &out)
}

// handleSnapshotAt serves GET /v1/snapshot?at=TIME: the parameters under
// the paths as they were at TIME (vane.AtTimeReader), without labels, and
// the change-log sequence that was current then, so that a watch from it
// replays what changed since. A state of the past is not the entity the
// live snapshot's ETag names, so the response has no ETag (If-None-Match
// is ignored). A snapshot that left out parameters which existed at TIME
// but whose value then is no longer kept would be wrong, so those the
// caller may see make it fail with EGONE, naming them; those it may not
// see are no part of its snapshot, and are not named.
func (s *Server) handleSnapshotAt(w http.ResponseWriter, r *http.Request, q query, paths []string, decrypt bool, at time.Time) {
	path := "/" // several paths: read all, keep theirs
	if len(paths) == 1 {
		path = paths[0]
	}
	snap, err := vane.SnapshotAt(r.Context(), s.Store, path, at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	visible := s.visible(r.Context(), auth.ActionWatch)
	shown := func(name string) bool { return underAny(name, paths) && (visible == nil || visible(name)) }
	var gone []vane.AtGone
	for _, g := range snap.Gone {
		if shown(g.Name) {
			gone = append(gone, g)
		}
	}
	if len(gone) > 0 {
		s.writeError(w, r, vane.AtGoneError(at, gone))
		return
	}
	under := make([]*vane.Parameter, 0, len(snap.Parameters))
	for _, p := range snap.Parameters {
		if shown(p.Name) {
			under = append(under, p)
		}
	}
	if under, err = s.decrypted(r.Context(), q, under...); err != nil {
		s.writeError(w, r, err)
		return
	}
	if decrypt || principalOf(r.Context()) != nil {
		w.Header().Set("Cache-Control", "private, no-cache")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	out := snapshotResponse{Sequence: snap.Seq, At: vane.FormatAt(at), Parameters: make([]*parameterJSON, 0, len(under))}
	for _, p := range under {
		out.Parameters = append(out.Parameters, newParameterJSON(p))
	}
	writeJSON(w, http.StatusOK, &out)
}

// WatchEvent is the data of an "event: change" of GET /v1/watch. Value is
// the value of the version a put created (for label changes, the latest
// value); it is omitted for SecureString parameters, deletes, tag changes
// and versions no longer kept.
type WatchEvent struct {
	Seq     int64   `json:"seq"`
	Op      string  `json:"op"`
	Name    string  `json:"name"`
	Version int64   `json:"version,omitempty"`
	Type    string  `json:"type,omitempty"`
	Value   *string `json:"value,omitempty"`
}

// WatchReset is the data of an "event: reset": the watcher fell behind at
// Seq, the last change handled (sent, or the since it asked for), or the
// change log no longer holds the changes after Seq (it was compacted); it
// must start over from a snapshot.
type WatchReset struct {
	Seq int64 `json:"seq"`
}

// handleWatch serves GET /v1/watch?path=...&since=SEQ as Server-Sent
// Events: the changes after since (or the Last-Event-ID header, which wins;
// without either, from now on) under the paths, each once and in order,
// then live changes as the index applies them. A since older than the
// change log still keeps, or a watcher that falls behind, gets "event:
// reset" and the stream ends.
//
// A stream is idle nearly all its life and a node holds thousands, so an
// idle stream keeps little:
//
//   - its changes wait in a queue that grows with them and is released
//     once they are sent (QueueSubscriber), not in a channel buffer
//     allocated whole;
//   - over HTTP/1 the handler takes the connection over (Hijack) once the
//     request is checked, writes the response head and the replay of the
//     log itself, and returns. That releases what net/http holds for a
//     connection being served (its read and write buffers, the request,
//     its background reader, and the goroutine that ran the handler
//     through the middleware, with the stack that grew there), which is
//     more than all the rest. The stream then holds the connection, a
//     goroutine waiting for changes and one blocked reading, to notice the
//     client leave; the shutdown hub closes it when the server shuts down.
//     The body ends when the connection does (Connection: close), so
//     events are written without chunked framing. HTTP/2 streams, which
//     can't be taken over, and HEAD requests are served through the
//     ResponseWriter. Taken over, the request's access log and metrics end
//     when the stream starts, not when it ends;
//   - each change's event is read and encoded once for all the streams
//     (eventCache), and written with one system call per stream.
//
// BenchmarkSDKPropagation (cmd/vane) measures 1,000 and 10,000 streams on
// one node: an idle stream holds about 9 KB resident (4 KB of heap, two
// 2 KB stacks), where it held 37 KB, and the server spends about what a
// bare net/http SSE handler does per change; BENCHMARKS.md has the
// figures.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, opts WatchOptions, hub *shutdownHub, events *eventCache) {
	// This goroutine waits here for the life of a stream it serves
	// itself: the work is done in functions that return, so that its
	// stack stays small.
	st := s.openWatch(w, r, opts, hub, events)
	if st == nil || st.takeOver(w, r, hub) {
		return
	}
	defer st.cancel()
	if st.start(w) && st.replay() {
		st.follow(r.Context().Done())
	}
}

// watchStream is one stream of GET /v1/watch.
type watchStream struct {
	s         *Server
	ctx       context.Context
	paths     []string
	visible   func(name string) bool // nil: every name
	events    *eventCache
	seq       int64 // where the subscription starts
	cursor    int64 // the last sequence handled
	ready     <-chan struct{}
	next      func([]*vane.Change) ([]*vane.Change, bool)
	cancel    func()          // ends the subscription
	streams   *serverStreams  // nil without a server
	done      <-chan struct{} // closed when the server shuts down
	heartbeat time.Duration
	out       streamWriter
	frames    [][]byte // encoded, not yet written
}

// openWatch checks a watch request and subscribes to the index; when it
// can't serve the stream, it answers the request and returns nil.
func (s *Server) openWatch(w http.ResponseWriter, r *http.Request, opts WatchOptions, hub *shutdownHub, events *eventCache) *watchStream {
	q, err := parseQuery(r, "path", "since")
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	paths, err := watchPaths(q)
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	since, hasSince, err := q.number("since", 0)
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, invalidf("header Last-Event-ID must be a change sequence number, not %q", id))
			return nil
		}
		since, hasSince = n, true
	}
	sub, ok := vane.StoreAs[QueueSubscriber](s.Store)
	if !ok {
		s.writeError(w, r, vane.Errorf(vane.EUNAVAILABLE, "watching needs the server's in-memory index, which this server does not run"))
		return nil
	}
	st := &watchStream{s: s, ctx: r.Context(), paths: paths, visible: s.visible(r.Context(), auth.ActionWatch),
		events: events, streams: hub.streams(r), heartbeat: opts.Heartbeat}
	if st.streams != nil {
		st.done = st.streams.done
	}
	st.ready, st.next, st.seq, st.cancel = sub.SubscribeQueue(opts.Buffer)
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		// Close has begun, and its shutdown hook may have run before
		// streams registered it.
		st.cancel()
		s.writeError(w, r, vane.Errorf(vane.EUNAVAILABLE, "the server is shutting down"))
		return nil
	}
	st.cursor = st.seq
	if hasSince {
		st.cursor = since
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: don't buffer the stream
	return st
}

// start sends the response head through w.
func (st *watchStream) start(w http.ResponseWriter) bool {
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	st.out = flushWriter{w: w, rc: rc}
	return rc.Flush() == nil
}

// takeOver serves the stream on the connection itself, if it can be taken
// over (HTTP/1; not HEAD), and reports whether the request was handled:
// served so (the stream goes on in goroutines of its own), or failed.
func (st *watchStream) takeOver(w http.ResponseWriter, r *http.Request, hub *shutdownHub) bool {
	if r.ProtoMajor != 1 || r.Method != http.MethodGet {
		return false
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		return false
	}
	if err != nil {
		st.cancel()
		return true
	}
	// What a client sends after its request (an SSE client sends
	// nothing) is left unread in the returned reader.
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	h := w.Header()
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Connection", "close") // the body ends with the connection
	h.Write(&head)
	head.WriteString("\r\n")

	ctx, gone := context.WithCancel(context.WithoutCancel(r.Context()))
	st.ctx, st.out = ctx, connWriter{conn}
	end := func() {
		st.cancel()
		hub.untrack(st.streams, conn)
		conn.Close()
		gone()
	}
	if !hub.track(st.streams, conn) {
		end()
		return true
	}
	if _, err := conn.Write(head.Bytes()); err != nil {
		end()
		return true
	}
	go func() {
		awaitClose(conn)
		gone()
	}()
	if !st.replay() {
		end()
		return true
	}
	go func() {
		defer end()
		st.follow(ctx.Done())
	}()
	return true
}

// awaitClose reads a connection taken over for a stream until the client
// closes it, or the stream does, discarding what the client sends.
func awaitClose(conn net.Conn) {
	buf := make([]byte, 64)
	for {
		if _, err := conn.Read(buf); err != nil {
			return
		}
	}
}

// replay sends the changes of the log from the cursor to where the
// subscription starts, which has everything after it; it reports whether
// the stream goes on.
func (st *watchStream) replay() bool {
	prefix := ""
	if len(st.paths) == 1 {
		prefix = st.paths[0]
	}
	const batch = vane.MaxPageSize
	if st.cursor > st.seq {
		// The client has seen a change this node has not applied yet
		// (its index lags another node's), or one the store no longer
		// has at all (it was restored from a backup, and the numbers
		// after the backup's will be used again): only the second makes
		// it start over from a snapshot.
		cs, err := st.s.Store.Changes(st.ctx, st.cursor-1, "", 1)
		if err == nil && len(cs) == 0 {
			st.reset()
			return false
		}
	}
	for st.cursor < st.seq {
		cs, err := st.s.Store.Changes(st.ctx, st.cursor, prefix, batch)
		if vane.ErrorCode(err) == vane.EGONE {
			// The log no longer holds the changes after the cursor: as
			// for a watcher that fell behind, the client starts over from
			// a snapshot.
			st.reset()
			return false
		}
		if err != nil {
			if st.ctx.Err() == nil {
				st.s.Logger.LogAttrs(st.ctx, slog.LevelError, "watch: replay the change log",
					slog.String("request_id", RequestID(st.ctx)), slog.Int64("after", st.cursor), slog.String("error", err.Error()))
			}
			return false // the client resumes with Last-Event-ID
		}
		for i := range cs {
			if cs[i].Seq > st.seq {
				break
			}
			if !st.add(&cs[i]) {
				return false
			}
		}
		if !st.flush() {
			return false
		}
		if len(cs) < batch || cs[len(cs)-1].Seq >= st.seq {
			break
		}
	}
	st.cursor = max(st.cursor, st.seq)
	return true
}

// follow sends the subscription's changes and heartbeats until the
// client goes (gone), the server shuts down, a write fails, or the
// subscription ends, which it reports with a reset.
func (st *watchStream) follow(gone <-chan struct{}) {
	tick := time.NewTicker(st.heartbeat)
	defer tick.Stop()
	var queued []*vane.Change
	for {
		select {
		case <-gone:
			return
		case <-st.done:
			return
		case <-tick.C:
			if st.out.write([][]byte{[]byte(": ping\n\n")}) != nil {
				return
			}
		case <-st.ready:
			var more bool
			queued, more = st.next(queued[:0])
			if !st.sendQueued(queued) {
				return
			}
			clear(queued)
			if cap(queued) > keepBatch {
				queued = nil // a burst's: an idle stream keeps a small one
			}
			if !more {
				// Dropped for falling behind, or because the index
				// reloaded after the log was compacted past it (or
				// canceled, which only happens once the stream ends).
				st.reset()
				return
			}
		}
	}
}

// sendQueued sends the changes taken from the subscription.
func (st *watchStream) sendQueued(cs []*vane.Change) bool {
	for _, c := range cs {
		if c.Seq > st.cursor && !st.add(c) {
			return false
		}
	}
	return st.flush()
}

// A stream collects up to writeBatch events before writing them, and
// keeps the arrays that held a batch of changes or events for the next
// one if they hold at most keepBatch.
const (
	writeBatch = 32
	keepBatch  = 4
)

// add moves the cursor to c, collecting its event if the stream shows it,
// and writes what it collected once there is a batch of it.
func (st *watchStream) add(c *vane.Change) bool {
	if underAny(c.Name, st.paths) && (st.visible == nil || st.visible(c.Name)) {
		st.frames = append(st.frames, st.events.frame(st.ctx, st.s, c))
	}
	st.cursor = c.Seq
	return len(st.frames) < writeBatch || st.flush()
}

// flush writes the events collected.
func (st *watchStream) flush() bool {
	if len(st.frames) == 0 {
		return true
	}
	err := st.out.write(st.frames)
	clear(st.frames)
	st.frames = st.frames[:0]
	if cap(st.frames) > keepBatch {
		st.frames = nil
	}
	return err == nil
}

// reset sends "event: reset" for a watcher whose last handled change is
// the cursor; the stream ends after it.
func (st *watchStream) reset() {
	b, _ := json.Marshal(WatchReset{Seq: st.cursor})
	st.out.write([][]byte{fmt.Appendf(nil, "event: reset\ndata: %s\n\n", b)})
}

// streamWriter writes the events of a stream and pushes them to the
// client.
type streamWriter interface {
	write(frames [][]byte) error
}

// flushWriter writes through a ResponseWriter and flushes.
type flushWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (f flushWriter) write(frames [][]byte) error {
	for _, b := range frames {
		if _, err := f.w.Write(b); err != nil {
			return err
		}
	}
	return f.rc.Flush()
}

// connWriter writes to a connection taken over, in one system call
// (writev) for several events where the connection allows.
type connWriter struct{ c net.Conn }

func (cw connWriter) write(frames [][]byte) error {
	if len(frames) == 1 {
		_, err := cw.c.Write(frames[0])
		return err
	}
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(cw.c)
	return err
}

// eventCacheSize is how many recent changes eventCache holds: a power of
// two, well above the changes in flight at once.
const eventCacheSize = 64

// eventCache holds the encoded events of recent changes, so that a change
// going out to thousands of streams is read and encoded once. The event of
// a change is the same for every stream that may see its name: it carries
// no SecureString value, and the value of a put is that of the version it
// created, whoever reads it. A label change's event carries the latest
// value when it is sent, so it is encoded per stream.
type eventCache struct {
	slots [eventCacheSize]atomic.Pointer[cachedEvent]
}

type cachedEvent struct {
	seq   int64
	mu    sync.Mutex             // held while the first stream encodes it
	frame atomic.Pointer[[]byte] // nil until encoded
}

// frame returns the event of c as a stream writes it.
func (ec *eventCache) frame(ctx context.Context, s *Server, c *vane.Change) []byte {
	switch c.Op {
	case vane.OpPut, vane.OpDelete, vane.OpTag, vane.OpUntag:
	default:
		f, _ := s.changeFrame(ctx, c)
		return f
	}
	slot := &ec.slots[uint64(c.Seq)%eventCacheSize]
	e := slot.Load()
	if e == nil || e.seq != c.Seq {
		fresh := &cachedEvent{seq: c.Seq}
		if slot.CompareAndSwap(e, fresh) {
			e = fresh
		} else if e = slot.Load(); e == nil || e.seq != c.Seq {
			// Another change took the slot meanwhile.
			f, _ := s.changeFrame(ctx, c)
			return f
		}
	}
	if f := e.frame.Load(); f != nil {
		return *f
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.frame.Load(); f != nil {
		return *f
	}
	// The event is every stream's: a stream that goes away while it is
	// read must not cut it short.
	f, complete := s.changeFrame(context.WithoutCancel(ctx), c)
	if complete {
		e.frame.Store(&f)
	}
	return f
}

// changeFrame encodes the "event: change" of c. complete is false when
// the value could not be read for a reason other than its absence (the
// event then goes without it), so that the next stream tries again.
func (s *Server) changeFrame(ctx context.Context, c *vane.Change) (frame []byte, complete bool) {
	ev, complete := s.watchEvent(ctx, *c)
	data, _ := json.Marshal(ev)
	b := make([]byte, 0, len(data)+48)
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, c.Seq, 10)
	b = append(b, "\nevent: change\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...), complete
}

// watchEvent returns the event data of a change, with the latest value of
// the parameter where the event carries one; complete is false when that
// value could not be read for a reason other than its absence.
func (s *Server) watchEvent(ctx context.Context, c vane.Change) (ev *WatchEvent, complete bool) {
	ev = &WatchEvent{Seq: c.Seq, Op: string(c.Op), Name: c.Name, Version: c.Version, Type: string(c.Type)}
	switch c.Op {
	case vane.OpDelete, vane.OpTag, vane.OpUntag:
		return ev, true
	}
	if c.Type == vane.TypeSecureString {
		return ev, true
	}
	p, err := s.Store.Get(ctx, c.Name)
	if err == nil && c.Op == vane.OpPut && p.Version != c.Version {
		// A newer version exists already: read the one this event is
		// about, so that each event's value is its version's. This
		// goes to the backing store, but only for watchers that lag.
		p, err = s.Store.Get(ctx, c.Name+":"+strconv.FormatInt(c.Version, 10))
	}
	if err != nil {
		// Deleted since (or the version aged out): no value.
		return ev, vane.ErrorCode(err) == vane.ENOTFOUND
	}
	if ev.Type == "" {
		ev.Type = string(p.Type)
	}
	if p.Type != vane.TypeSecureString {
		v := p.Value
		ev.Value = &v
	}
	return ev, true
}
