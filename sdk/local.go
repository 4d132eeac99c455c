package sdk

import (
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/vanehq/vane"
)

// Local sets the values of a client that has no server: package vanetest
// builds on it, and it serves programs that want the SDK's read API over
// values they supply themselves.
type Local struct {
	c  *Client
	mu sync.Mutex
}

// NewLocal returns a client whose values come only from the returned
// Local (and from Config.Env). Server, Token and the connection settings
// of cfg are ignored. Callbacks run synchronously inside Put and Delete.
func NewLocal(cfg Config) (*Client, *Local, error) {
	cfg.SnapshotFile = ""
	c, err := newClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	c.local = true
	c.status = Status{Connected: true, LastSync: c.cfg.Now()}
	c.state.Store(&state{m: map[string]*entry{}, synced: c.cfg.Now()})
	return c, &Local{c: c}, nil
}

// Put sets a parameter (absolute, or relative to Paths[0]) to a value of
// the given type, as a new version, and returns once the callbacks for it
// have run.
func (l *Local) Put(name string, typ vane.Type, value string) error {
	if !typ.Valid() {
		return fmt.Errorf("sdk: Local.Put %s: type %q is not String, StringList or SecureString", name, typ)
	}
	abs := l.c.absolute(name)
	if _, err := vane.ValidateName(abs); err != nil {
		return fmt.Errorf("sdk: Local.Put: %s", errMessage(err))
	}
	l.mu.Lock()
	old := l.c.state.Load()
	next := &state{seq: old.seq + 1, m: maps.Clone(old.m), synced: time.Now()}
	e := &entry{name: abs, typ: typ, value: value, version: 1}
	if o := old.m[abs]; o != nil {
		e.version = o.version + 1
	}
	next.m[abs] = e
	ch := Change{Seq: next.seq, Op: string(vane.OpPut), Name: abs, Version: e.version, Type: typ, Value: value}
	l.c.state.Store(next)
	l.mu.Unlock()
	l.c.deliver([]Change{ch}) // unlocked: a callback may set values too
	return nil
}

// Delete removes a parameter, if present, and returns once the callbacks
// for it have run.
func (l *Local) Delete(name string) {
	abs := l.c.absolute(name)
	l.mu.Lock()
	old := l.c.state.Load()
	if _, ok := old.m[abs]; !ok {
		l.mu.Unlock()
		return
	}
	next := &state{seq: old.seq + 1, m: maps.Clone(old.m), synced: time.Now()}
	delete(next.m, abs)
	l.c.state.Store(next)
	l.mu.Unlock()
	l.c.deliver([]Change{{Seq: next.seq, Op: string(vane.OpDelete), Name: abs, Deleted: true}})
}
