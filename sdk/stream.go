package sdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// parameterJSON is the part of the server's parameter form the client
// keeps.
type parameterJSON struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Value   string `json:"value"`
	Version int64  `json:"version"`
}

type snapshotJSON struct {
	Sequence   int64            `json:"sequence"`
	Parameters []*parameterJSON `json:"parameters"`
}

// watchEvent is the data of an "event: change" (http.WatchEvent).
type watchEvent struct {
	Seq     int64   `json:"seq"`
	Op      string  `json:"op"`
	Name    string  `json:"name"`
	Version int64   `json:"version"`
	Type    string  `json:"type"`
	Value   *string `json:"value"`
}

// ServerError is a non-success answer from the server.
type ServerError struct {
	Status  int    // the HTTP status
	Code    string // the error code of the body, e.g. "unavailable"
	Message string
}

// Error implements the error interface.
func (e *ServerError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("sdk: server answered %d", e.Status)
	}
	return fmt.Sprintf("sdk: server answered %d (%s): %s", e.Status, e.Code, e.Message)
}

// serverError reads a non-success response into a *ServerError.
func serverError(resp *http.Response) error {
	defer drain(resp.Body)
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	return &ServerError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
}

// newRequest returns a GET request to the server with the client's
// credential.
func (c *Client) newRequest(ctx context.Context, path string, q url.Values) (*http.Request, error) {
	u := c.cfg.Server + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	return req, nil
}

// pathQuery returns the query naming the client's paths.
func (c *Client) pathQuery() url.Values {
	q := url.Values{"path": c.paths}
	if c.cfg.Decrypt {
		q.Set("with_decryption", "true")
	}
	return q
}

// newEntry builds an entry from the server's form of a parameter.
func (c *Client) newEntry(p *parameterJSON) *entry {
	e := &entry{name: p.Name, typ: vane.Type(p.Type), value: p.Value, version: p.Version}
	if e.typ == vane.TypeSecureString && !c.cfg.Decrypt {
		e.value, e.sealed = "", true
	}
	return e
}

// fetchSnapshot reads GET /v1/snapshot; it returns a nil state when the
// server answers 304 to the ETag of the snapshot held.
func (c *Client) fetchSnapshot(ctx context.Context) (*state, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, "/v1/snapshot", c.pathQuery())
	if err != nil {
		return nil, "", err
	}
	if c.etag != "" && !c.state.Load().fromFile {
		req.Header.Set("If-None-Match", c.etag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		drain(resp.Body)
		return nil, c.etag, nil
	default:
		return nil, "", serverError(resp)
	}
	defer drain(resp.Body)
	var snap snapshotJSON
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return nil, "", fmt.Errorf("sdk: read the snapshot: %w", err)
	}
	st := &state{seq: snap.Sequence, m: make(map[string]*entry, len(snap.Parameters)), synced: c.cfg.Now()}
	for _, p := range snap.Parameters {
		st.m[p.Name] = c.newEntry(p)
	}
	return st, resp.Header.Get("ETag"), nil
}

// loadSnapshot fetches the snapshot and publishes it, with the changes
// from the state held as callbacks.
func (c *Client) loadSnapshot(ctx context.Context) error {
	st, etag, err := c.fetchSnapshot(ctx)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	c.etag = etag
	if st == nil { // not modified
		c.setStatus(func(s *Status) { s.LastSync, s.LastError = now, nil })
		return nil
	}
	old := c.state.Load()
	var changes []Change
	if old != nil {
		changes = diff(old, st)
	}
	c.publish(st, changes)
	c.setStatus(func(s *Status) { s.LastSync, s.LastError = now, nil })
	return nil
}

// diff returns the changes that turn old into next, in name order of
// discovery; they are marked Reload.
func diff(old, next *state) []Change {
	var cs []Change
	for name, e := range next.m {
		if o, ok := old.m[name]; !ok || o.version != e.version || o.value != e.value || o.sealed != e.sealed {
			cs = append(cs, Change{Seq: next.seq, Op: string(vane.OpPut), Name: name, Version: e.version, Type: e.typ, Value: e.value, Reload: true})
		}
	}
	for name := range old.m {
		if _, ok := next.m[name]; !ok {
			cs = append(cs, Change{Seq: next.seq, Op: string(vane.OpDelete), Name: name, Deleted: true, Reload: true})
		}
	}
	return cs
}

// firstSync tries to load the snapshot until it succeeds or ctx is done.
func (c *Client) firstSync(ctx context.Context) error {
	backoff := c.cfg.MinBackoff
	for {
		err := c.loadSnapshot(ctx)
		if err == nil {
			return nil
		}
		if !sleep(ctx, jitter(backoff)) {
			return err
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// stream follows the change stream until ctx is done, reconnecting with
// backoff, resuming by sequence, and reloading the snapshot after a reset
// (or when the first snapshot has not been loaded yet).
func (c *Client) stream(ctx context.Context, synced bool) {
	backoff := c.cfg.MinBackoff
	needSnapshot := !synced
	for ctx.Err() == nil {
		var err error
		if needSnapshot {
			if err = c.loadSnapshot(ctx); err == nil {
				needSnapshot = false
				continue
			}
		} else {
			var reset bool
			began := time.Now()
			reset, err = c.watch(ctx)
			c.setStatus(func(s *Status) { s.Connected, s.Stale = false, true })
			if time.Since(began) > time.Second {
				backoff = c.cfg.MinBackoff // it was up: reconnect promptly
			}
			if reset {
				c.log.Info("vane sdk: the server reset the stream; reloading the snapshot")
				needSnapshot = true
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		c.setStatus(func(s *Status) { s.LastError = err })
		c.report(fmt.Errorf("sdk: %s: %w (retrying)", c.cfg.Server, err))
		if !sleep(ctx, jitter(backoff)) {
			return
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// poll loads the snapshot every PollInterval until ctx is done.
func (c *Client) poll(ctx context.Context, synced bool) {
	wait := c.cfg.PollInterval
	if !synced {
		wait = jitter(c.cfg.MinBackoff)
	}
	backoff := c.cfg.MinBackoff
	for sleep(ctx, wait) {
		if err := c.loadSnapshot(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.setStatus(func(s *Status) { s.Connected, s.LastError = false, err })
			c.report(fmt.Errorf("sdk: %s: %w (retrying)", c.cfg.Server, err))
			wait = jitter(min(backoff, c.cfg.PollInterval))
			backoff = min(2*backoff, c.cfg.MaxBackoff)
			continue
		}
		c.setStatus(func(s *Status) { s.Connected = true })
		wait, backoff = c.cfg.PollInterval, c.cfg.MinBackoff
	}
}

// Errors of watch: the server sent "event: reset"; the stream was silent
// for longer than StreamIdleTimeout.
var (
	errReset = errors.New("sdk: the server reset the stream")
	errIdle  = errors.New("sdk: the stream went silent")
)

// watch reads one change stream from the sequence held until it ends. It
// reports whether the server sent a reset.
func (c *Client) watch(ctx context.Context) (reset bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	q := url.Values{"path": c.paths, "since": {strconv.FormatInt(c.state.Load().seq, 10)}}
	req, err := c.newRequest(ctx, "/v1/watch", q)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	idle := time.AfterFunc(c.cfg.RequestTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	resp, err := c.http.Do(req)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, serverError(resp)
	}
	defer resp.Body.Close()
	idle.Reset(c.cfg.StreamIdleTimeout)
	now := c.cfg.Now()
	c.setStatus(func(s *Status) { s.Connected, s.Stale, s.LastSync, s.LastError = true, false, now, nil })

	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var (
		event, data string
		pending     []watchEvent
	)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return false, fmt.Errorf("sdk: an event line is longer than 64 KiB")
			}
			if aerr := c.apply(ctx, pending); aerr != nil {
				return false, aerr
			}
			if context.Cause(ctx) == errIdle {
				return false, fmt.Errorf("sdk: the stream was silent for %s", c.cfg.StreamIdleTimeout)
			}
			return false, fmt.Errorf("sdk: the stream ended: %w", err)
		}
		idle.Reset(c.cfg.StreamIdleTimeout)
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0: // end of an event
			switch event {
			case "change":
				var ev watchEvent
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					if aerr := c.apply(ctx, pending); aerr != nil {
						return false, aerr
					}
					return false, fmt.Errorf("sdk: a change event does not decode: %w", err)
				}
				pending = append(pending, ev)
			case "reset":
				return true, errors.Join(errReset, c.apply(ctx, pending))
			}
			event, data = "", ""
			if r.Buffered() == 0 && len(pending) > 0 {
				if err := c.apply(ctx, pending); err != nil {
					return false, err
				}
				pending = pending[:0]
			}
		case line[0] == ':': // a heartbeat
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "event":
				event = string(value)
			case "data":
				if data != "" {
					data += "\n"
				}
				data += string(value)
			}
		}
	}
}

// apply publishes the changes of a batch of events as one new state. If
// the value of a change cannot be read, it publishes the changes before it
// and returns the error: the stream then resumes at that change.
func (c *Client) apply(ctx context.Context, evs []watchEvent) error {
	if len(evs) == 0 {
		return nil
	}
	old := c.state.Load()
	next := &state{seq: old.seq, m: maps.Clone(old.m), synced: c.cfg.Now()}
	changes := make([]Change, 0, len(evs))
	for _, ev := range evs {
		if ev.Seq <= next.seq {
			continue // already applied
		}
		next.seq = ev.Seq
		ch := Change{Seq: ev.Seq, Op: ev.Op, Name: ev.Name, Version: ev.Version, Type: vane.Type(ev.Type)}
		switch vane.Op(ev.Op) {
		case vane.OpDelete:
			delete(next.m, ev.Name)
			ch.Deleted = true
		case vane.OpPut:
			e, err := c.eventEntry(ctx, &ev)
			if err != nil {
				next.seq = ev.Seq - 1
				c.publish(next, changes)
				return err
			}
			if e == nil {
				delete(next.m, ev.Name) // deleted since
				ch.Deleted = true
			} else {
				next.m[ev.Name] = e
				ch.Version, ch.Type, ch.Value = e.version, e.typ, e.value
			}
		default:
			continue // labels and tags do not change the latest value
		}
		changes = append(changes, ch)
	}
	c.publish(next, changes)
	return nil
}

// eventEntry returns the entry a put event sets: from the event's value,
// or read from the server when the event carries none (a SecureString, or
// a parameter deleted before the event was sent); nil if it is gone.
func (c *Client) eventEntry(ctx context.Context, ev *watchEvent) (*entry, error) {
	p := &parameterJSON{Name: ev.Name, Type: ev.Type, Version: ev.Version}
	switch {
	case ev.Value != nil:
		p.Value = *ev.Value
	case vane.Type(ev.Type) == vane.TypeSecureString && !c.cfg.Decrypt:
	default:
		got, err := c.fetchParameter(ctx, ev.Name)
		if err != nil {
			var se *ServerError
			if errors.As(err, &se) && se.Status == http.StatusNotFound {
				return nil, nil
			}
			return nil, fmt.Errorf("sdk: read %s after its change: %w", ev.Name, err)
		}
		p = got
	}
	return c.newEntry(p), nil
}

// fetchParameter reads GET /v1/parameters/NAME.
func (c *Client) fetchParameter(ctx context.Context, name string) (*parameterJSON, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	q := url.Values{}
	if c.cfg.Decrypt {
		q.Set("with_decryption", "true")
	}
	req, err := c.newRequest(ctx, "/v1/parameters/"+strings.TrimPrefix(name, "/"), q)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, serverError(resp)
	}
	defer drain(resp.Body)
	var p parameterJSON
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, err
	}
	return &p, nil
}
