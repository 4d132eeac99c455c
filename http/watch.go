package http

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// Subscriber is what a Store must also be to serve GET /v1/watch: the
// in-memory index (index.Store) is one. Subscribe returns a channel of the
// changes applied after seq, in order, closed when the subscriber falls
// more than buf changes behind or cancel is called.
type Subscriber interface {
	Subscribe(buf int) (ch <-chan *vane.Change, seq int64, cancel func())
}

// registerWatchRoutes adds the snapshot and watch routes.
func (s *Server) registerWatchRoutes(mux *http.ServeMux) {
	opts := s.watchOptions()
	hub := &shutdownHub{done: map[*http.Server]chan struct{}{}}
	mux.HandleFunc("GET /v1/snapshot", s.handleSnapshot)
	mux.HandleFunc("GET /v1/watch", func(w http.ResponseWriter, r *http.Request) {
		s.handleWatch(w, r, opts, hub)
	})
}

// shutdownHub tells long-lived streams that their http.Server is shutting
// down: Shutdown waits for active connections, which a stream never
// leaves on its own.
type shutdownHub struct {
	mu   sync.Mutex
	done map[*http.Server]chan struct{}
}

// shuttingDown returns a channel closed when the server serving r begins
// to shut down; nil when r has none (the handler used without a server).
func (h *shutdownHub) shuttingDown(r *http.Request) <-chan struct{} {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.done[srv]
	if !ok {
		ch = make(chan struct{})
		h.done[srv] = ch
		srv.RegisterOnShutdown(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			close(ch)
			delete(h.done, srv)
		})
	}
	return ch
}

// snapshotResponse is the result of GET /v1/snapshot.
type snapshotResponse struct {
	Sequence   int64            `json:"sequence"`
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
// SecureString values opened when with_decryption is true.
func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "path", "with_decryption")
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
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, opts WatchOptions, hub *shutdownHub) {
	q, err := parseQuery(r, "path", "since")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	paths, err := watchPaths(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	since, hasSince, err := q.number("since", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, invalidf("header Last-Event-ID must be a change sequence number, not %q", id))
			return
		}
		since, hasSince = n, true
	}
	sub, ok := vane.StoreAs[Subscriber](s.Store)
	if !ok {
		s.writeError(w, r, vane.Errorf(vane.EUNAVAILABLE, "watching needs the server's in-memory index, which this server does not run"))
		return
	}
	done := hub.shuttingDown(r)
	ch, start, cancel := sub.Subscribe(opts.Buffer)
	defer cancel()
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		// Close has begun, and its shutdown hook may have run before
		// shuttingDown registered it.
		s.writeError(w, r, vane.Errorf(vane.EUNAVAILABLE, "the server is shutting down"))
		return
	}
	cursor := start // the last sequence handled
	if hasSince {
		cursor = since
	}

	ctx := r.Context()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: don't buffer the stream
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}

	visible := s.visible(ctx, auth.ActionWatch)
	send := func(c vane.Change) bool {
		ev := s.watchEvent(ctx, c)
		b, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", c.Seq, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}

	// Replay the log up to where the subscription starts; the
	// subscription has everything after it.
	prefix := ""
	if len(paths) == 1 {
		prefix = paths[0]
	}
	const batch = vane.MaxPageSize
	for cursor < start {
		cs, err := s.Store.Changes(ctx, cursor, prefix, batch)
		if vane.ErrorCode(err) == vane.EGONE {
			// The log no longer holds the changes after cursor: as for a
			// watcher that fell behind, the client starts over from a
			// snapshot.
			sendReset(w, rc, cursor)
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				s.Logger.LogAttrs(ctx, slog.LevelError, "watch: replay the change log",
					slog.String("request_id", RequestID(ctx)), slog.Int64("after", cursor), slog.String("error", err.Error()))
			}
			return // the client resumes with Last-Event-ID
		}
		for _, c := range cs {
			if c.Seq > start {
				break
			}
			if underAny(c.Name, paths) && (visible == nil || visible(c.Name)) && !send(c) {
				return
			}
			cursor = c.Seq
		}
		if len(cs) < batch || cs[len(cs)-1].Seq >= start {
			break
		}
	}
	cursor = max(cursor, start)

	tick := time.NewTicker(opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case c, ok := <-ch:
			if !ok {
				// Dropped for falling behind, or because the index
				// reloaded after the log was compacted past it (or
				// canceled, which only happens once this handler
				// returns).
				sendReset(w, rc, cursor)
				return
			}
			if c.Seq <= cursor {
				continue
			}
			if underAny(c.Name, paths) && (visible == nil || visible(c.Name)) && !send(*c) {
				return
			}
			cursor = c.Seq
		}
	}
}

// sendReset sends "event: reset" for a watcher whose last handled change is
// cursor; the stream ends after it.
func sendReset(w io.Writer, rc *http.ResponseController, cursor int64) {
	b, _ := json.Marshal(WatchReset{Seq: cursor})
	fmt.Fprintf(w, "event: reset\ndata: %s\n\n", b)
	rc.Flush()
}

// watchEvent returns the event data of a change, with the latest value of
// the parameter where the event carries one.
func (s *Server) watchEvent(ctx context.Context, c vane.Change) *WatchEvent {
	ev := &WatchEvent{Seq: c.Seq, Op: string(c.Op), Name: c.Name, Version: c.Version, Type: string(c.Type)}
	switch c.Op {
	case vane.OpDelete, vane.OpTag, vane.OpUntag:
		return ev
	}
	if c.Type == vane.TypeSecureString {
		return ev
	}
	p, err := s.Store.Get(ctx, c.Name)
	if err == nil && c.Op == vane.OpPut && p.Version != c.Version {
		// A newer version exists already: read the one this event is
		// about, so that each event's value is its version's. This
		// goes to the backing store, but only for watchers that lag.
		p, err = s.Store.Get(ctx, c.Name+":"+strconv.FormatInt(c.Version, 10))
	}
	if err != nil {
		return ev // deleted since (or the version aged out): no value
	}
	if ev.Type == "" {
		ev.Type = string(p.Type)
	}
	if p.Type != vane.TypeSecureString {
		v := p.Value
		ev.Value = &v
	}
	return ev
}
