package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// watchEvent is the data of an "event: change" of GET /v1/watch.
type watchEvent struct {
	Seq     int64   `json:"seq"`
	Op      string  `json:"op"`
	Name    string  `json:"name"`
	Version int64   `json:"version"`
	Type    string  `json:"type"`
	Value   *string `json:"value"`
}

// Reconnection back-off of vane watch.
const (
	watchRetryMin = 500 * time.Millisecond
	watchRetryMax = 30 * time.Second
)

func (c *cli) watch(ctx context.Context, args []string) error {
	fs, cf := c.clientFlagSet("watch", "PATH [flags]", `
Prints the changes to the parameters under PATH (recursively) as they
happen, one line each: SEQ OP NAME vVERSION VALUE, where VALUE is the value
of that version (absent for deletes, tag changes and SecureString
parameters). With --since, the changes after that change-log sequence are
printed first; without it, watching starts now. With -o json each change is
printed as the API's JSON, one per line.

A dropped connection is resumed where it stopped, without gaps or repeats.
When the watch falls too far behind, the server resets it: a notice goes to
stderr and watching resumes from the current sequence (the changes in
between are skipped; take a snapshot to catch up). Stop with Ctrl-C.`, `
vane watch /myapp/prod
vane watch /myapp/prod --since 1200
vane watch / -o json | jq -r .name`)
	since := fs.Int64("since", -1, "print the changes after change-log sequence `N` first")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if setFlags(fs)["since"] && *since < 0 {
		return usageError{fmt.Errorf("watch: --since must be a sequence number, 0 or more")}
	}
	cl, err := c.client(cf)
	if err != nil {
		return err
	}
	// A watch is one long response: no overall timeout.
	hc := *cl.http
	hc.Timeout = 0
	cl = &client{base: cl.base, http: &hc}

	w := &watcher{cl: cl, path: pos[0], since: *since, json: cf.json(), out: c.stdout, errOut: c.stderr}
	return w.run(ctx)
}

// watcher is one run of vane watch.
type watcher struct {
	cl          *client
	path        string
	since       int64 // -1: from now on
	lastID      string
	json        bool
	out, errOut io.Writer
}

func (w *watcher) run(ctx context.Context) error {
	retry := watchRetryMin
	connected := false
	for {
		err := w.stream(ctx, func() { connected, retry = true, watchRetryMin })
		if ctx.Err() != nil {
			return nil // interrupted: a normal end of a watch
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.Status < 500 {
			return err
		}
		if !connected {
			return err // never got through: report it
		}
		if err != nil {
			fmt.Fprintf(w.errOut, "vane watch: %v; reconnecting in %s\n", err, retry)
		} else {
			retry = 0 // reset by the server: reconnect at once
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
		retry = min(max(2*retry, watchRetryMin), watchRetryMax)
	}
}

// errReset ends a stream the server reset.
var errReset = errors.New("reset")

// stream makes one request and prints its events until it ends. It
// returns nil after a reset, and calls ok once the server accepted it.
func (w *watcher) stream(ctx context.Context, ok func()) error {
	q := url.Values{"path": {w.path}}
	if w.since >= 0 && w.lastID == "" {
		q.Set("since", strconv.FormatInt(w.since, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.cl.base+"/v1/watch?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", "vane-cli/"+version)
	w.cl.authorize(req)
	if w.lastID != "" {
		req.Header.Set("Last-Event-ID", w.lastID)
	}
	resp, err := w.cl.http.Do(req)
	if err != nil {
		return w.cl.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return responseError(resp, b)
	}
	ok()

	r := bufio.NewReader(resp.Body)
	var id, event, data string
	hasID := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return w.cl.transportError(ctx, fmt.Errorf("watch stream ended: %w", err))
		}
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			if strings.HasPrefix(line, ":") {
				continue // heartbeat
			}
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id, hasID = value, true
			case "event":
				event = value
			case "data":
				if data != "" {
					data += "\n"
				}
				data += value
			}
			continue
		}
		// A blank line dispatches the event.
		err = w.dispatch(event, data)
		if hasID && err == nil {
			w.lastID = id
		}
		id, event, data, hasID = "", "", "", false
		if errors.Is(err, errReset) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (w *watcher) dispatch(event, data string) error {
	switch event {
	case "change":
		if w.json {
			_, err := fmt.Fprintln(w.out, data)
			return err
		}
		var ev watchEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("the server at %s sent a change that is not the API's JSON: %w", w.cl.base, err)
		}
		line := fmt.Sprintf("%d %s %s v%d", ev.Seq, ev.Op, ev.Name, ev.Version)
		if ev.Value != nil {
			line += " " + display(*ev.Value)
		}
		_, err := fmt.Fprintln(w.out, line)
		return err
	case "reset":
		var r struct {
			Seq int64 `json:"seq"`
		}
		json.Unmarshal([]byte(data), &r)
		fmt.Fprintf(w.errOut, "vane watch: fell behind after change %d; resuming from the current sequence (changes in between are skipped)\n", r.Seq)
		w.lastID, w.since = "", -1
		return errReset
	}
	return nil // unknown events are ignored, as SSE clients do
}
