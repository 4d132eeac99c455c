package sdk

import (
	"fmt"
	"strings"
	"sync"

	"github.com/vanehq/vane"
)

// Change is a change to a parameter under the client's paths, as passed
// to OnChange callbacks.
type Change struct {
	Seq     int64     // the change-log sequence
	Op      string    // "put" or "delete"
	Name    string    // the absolute name
	Version int64     // the new version (puts)
	Type    vane.Type // the parameter's type (puts)
	// Value is the new value; "" for deletes and for SecureStrings read
	// without Config.Decrypt.
	Value   string
	Deleted bool // the parameter no longer exists
	// Reload is true when the change was found by comparing a reloaded
	// snapshot with the previous one (after a reset, a poll or a
	// reconnection without a stream) rather than received as an event;
	// intermediate versions are then not reported.
	Reload bool
}

// callback is one OnChange registration.
type callback struct {
	pattern string // an absolute name, or a path ending in "/"
	fn      func(Change)
}

func (cb *callback) matches(name string) bool {
	if strings.HasSuffix(cb.pattern, "/") {
		return vane.PrefixMatch(name, cb.pattern)
	}
	return name == cb.pattern
}

// OnChange calls fn for every change to the parameter named by pattern,
// or, when pattern ends in "/", to every parameter under that path
// ("/" for all). Names are absolute or relative to Paths[0]. fn runs after
// the snapshot holding the change is visible to reads, on one goroutine
// per client, in sequence order; a slow fn delays later callbacks but not
// reads or the stream. The returned function removes the callback.
func (c *Client) OnChange(pattern string, fn func(Change)) (remove func()) {
	cb := &callback{pattern: c.absolute(pattern), fn: fn}
	c.mu.Lock()
	c.callbacks[cb] = struct{}{}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.callbacks, cb)
		c.mu.Unlock()
	}
}

// deliver calls the matching callbacks for each change, in order.
func (c *Client) deliver(changes []Change) {
	c.mu.Lock()
	cbs := make([]*callback, 0, len(c.callbacks))
	for cb := range c.callbacks {
		cbs = append(cbs, cb)
	}
	c.mu.Unlock()
	for _, ch := range changes {
		for _, cb := range cbs {
			if cb.matches(ch.Name) {
				c.call(cb, ch)
			}
		}
	}
}

// call runs one callback; a panic in it is reported, not propagated.
func (c *Client) call(cb *callback, ch Change) {
	defer func() {
		if r := recover(); r != nil {
			c.report(fmt.Errorf("sdk: OnChange(%q) callback panicked on %s: %v", cb.pattern, ch.Name, r))
		}
	}()
	cb.fn(ch)
}

// dispatcher runs callbacks on their own goroutine so that neither the
// stream nor a publisher waits for them. Its queue is unbounded: changes
// arrive at the rate of configuration changes.
type dispatcher struct {
	c      *Client
	mu     sync.Mutex
	queue  []Change
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

func newDispatcher(c *Client) *dispatcher {
	d := &dispatcher{c: c, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *dispatcher) enqueue(cs []Change) {
	d.mu.Lock()
	d.queue = append(d.queue, cs...)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run() {
	defer close(d.done)
	for {
		select {
		case <-d.wake:
		case <-d.stop:
			d.flush()
			return
		}
		d.flush()
	}
}

func (d *dispatcher) flush() {
	for {
		d.mu.Lock()
		cs := d.queue
		d.queue = nil
		d.mu.Unlock()
		if len(cs) == 0 {
			return
		}
		d.c.deliver(cs)
	}
}

// close delivers what is queued and stops the goroutine.
func (d *dispatcher) close() {
	d.mu.Lock()
	closed := d.closed
	d.closed = true
	d.mu.Unlock()
	if !closed {
		close(d.stop)
	}
	<-d.done
}
