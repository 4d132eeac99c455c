// Package guard is Vane's one checked write path: the rules a write must
// pass whoever makes it. Store wraps a vane.Store (in vane serve, the
// in-memory index) and refuses what the rules refuse before the write
// reaches it:
//
//   - a put of a flag (a name under a "features" segment) whose value is
//     not a valid flag document, or whose type is not String
//     (flag.CheckParameter);
//   - a delete that the deletion guard's settings forbid
//     (SettingAllowFlagDeletion, SettingProtectedPaths);
//   - a batch (vane.ParameterStore.Batch) holding any write it would
//     refuse alone.
//
// Every writer goes through it: the native API and the SSM API (package
// http), and the background jobs that write without an HTTP request:
// rollouts and scheduled changes (package rollout). Before it existed the
// checks ran in package http, where a writer without a request would have
// skipped them; keeping them here, below every writer and above the
// index, is what makes "a rollout can never write what the API would
// refuse" true by construction. The wiring in cmd/vane is
// http → guard → index → metrics → backend.
//
// Settings are parameters under /vane/settings/, changed (and audited)
// like any other. Reading them on every delete would cost a store read;
// Settings caches them per change-log sequence instead, so a check costs
// an atomic load while nothing changes.
package guard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
)

// The deletion guard's settings.
const (
	// SettingAllowFlagDeletion, set to "false", refuses every delete of a
	// flag (a name under a "features" segment).
	SettingAllowFlagDeletion = "/vane/settings/allow-flag-deletion"
	// SettingProtectedPaths, a StringList of paths, refuses every delete
	// of a name under one of them.
	SettingProtectedPaths = "/vane/settings/deletion-protected-paths"
)

// Store applies the write checks to the store it wraps; reads and every
// other method go straight to it. It is safe for concurrent use.
type Store struct {
	vane.Store
	settings *Settings
}

var _ vane.Wrapper = (*Store)(nil)

// New returns a Store checking the writes to s.
func New(s vane.Store) *Store {
	return &Store{Store: s, settings: NewSettings(s, SettingAllowFlagDeletion, SettingProtectedPaths)}
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() vane.Store { return s.Store }

// Put checks the value (see CheckPut) and puts it.
func (s *Store) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	if err := CheckPut(in); err != nil {
		return nil, err
	}
	return s.Store.Put(ctx, in)
}

// Delete applies the deletion guard (see CheckDelete) and deletes.
func (s *Store) Delete(ctx context.Context, in *vane.DeleteInput) error {
	if err := s.CheckDelete(ctx, in.Name); err != nil {
		return err
	}
	return s.Store.Delete(ctx, in)
}

// Batch checks every item of a batch as its single write is checked (a
// put's value, a delete's deletion guard) before any is applied, so that a
// refused item refuses the whole batch: the error is a *vane.BatchError
// naming it.
func (s *Store) Batch(ctx context.Context, in *vane.BatchInput) (*vane.BatchResult, error) {
	if err := s.CheckBatch(ctx, in); err != nil {
		return nil, err
	}
	return s.Store.Batch(ctx, in)
}

// CheckBatch applies the checks of Put and Delete to a batch's items, as
// Batch does before it writes; the error is a *vane.BatchError naming
// the first item refused. Change requests are checked with it when
// proposed, so that what could never be applied is refused at once.
func (s *Store) CheckBatch(ctx context.Context, in *vane.BatchInput) error {
	if in == nil {
		return nil
	}
	for i := range in.Items {
		it := &in.Items[i]
		var err error
		switch {
		case it.Op == vane.BatchPut && it.Put != nil:
			err = CheckPut(it.Put)
		case it.Op == vane.BatchDelete && it.Delete != nil:
			err = s.CheckDelete(ctx, it.Delete.Name)
		}
		if err != nil {
			return &vane.BatchError{Index: i, Op: it.Op, Name: it.Name(), Err: err}
		}
	}
	return nil
}

// CheckPut vets the value of a put: a flag must be a String holding a
// valid flag document. The error is EINVALID (ValidationException) and
// names the flag and the JSON path of the problem.
func CheckPut(in *vane.PutInput) error {
	err := flag.CheckParameter(in.Name, string(in.Type), in.Value)
	if err == nil {
		return nil
	}
	var ve *vane.Error
	if errors.As(err, &ve) {
		return err
	}
	e := vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "%s", err.Error())
	var fe *flag.Error
	if errors.As(err, &fe) {
		e.Field = fe.Path
	}
	return e
}

// CheckDelete applies the deletion guard to a delete of name (a name or a
// parameter ARN): EFORBIDDEN, naming the setting that forbids it. Names
// that do not parse pass: the store rejects them. Callers deleting several
// names at once may check them all first, to refuse the whole call
// rather than a part of it.
func (s *Store) CheckDelete(ctx context.Context, name string) error {
	sel, err := vane.ParseSelector(name)
	if err != nil {
		return nil
	}
	if flag.IsFlagName(sel.Name) {
		if v, ok := s.settings.Get(ctx, SettingAllowFlagDeletion); ok && strings.EqualFold(strings.TrimSpace(v), "false") {
			return vane.Errorf(vane.EFORBIDDEN, "deleting the flag %s is blocked by the setting %s (now false): set it to true to allow deleting flags", sel.Name, SettingAllowFlagDeletion)
		}
	}
	if v, ok := s.settings.Get(ctx, SettingProtectedPaths); ok {
		for _, path := range strings.Split(v, ",") {
			path = strings.TrimSpace(path)
			if path == "" {
				continue
			}
			canon, err := vane.ValidatePath(path)
			if err != nil {
				continue
			}
			if vane.PrefixMatch(sel.Name, canon) {
				return vane.Errorf(vane.EFORBIDDEN, "deleting %s is blocked by the setting %s, which protects %s: remove that path from it to allow the delete", sel.Name, SettingProtectedPaths, canon)
			}
		}
	}
	return nil
}

// Settings reads a fixed set of settings through a store. When the store
// (or one it wraps) reports its change-log sequence, as the in-memory index
// does, the values are cached for each sequence: a read costs an atomic
// load until something is written. Otherwise every read goes to the store.
type Settings struct {
	store vane.ParameterStore
	seq   func() int64 // nil: no cache
	names []string
	cur   atomic.Pointer[settingsSnapshot]
}

type settingsSnapshot struct {
	seq    int64
	values map[string]string // only the settings that exist
}

// sequencer is a store that reports its change-log sequence.
type sequencer interface{ Seq() int64 }

// NewSettings returns Settings reading names through s.
func NewSettings(s vane.Store, names ...string) *Settings {
	st := &Settings{store: s, names: names}
	if sq, ok := vane.StoreAs[sequencer](s); ok {
		st.seq = sq.Seq
	}
	return st
}

// Get returns the value of a setting, and whether it is set. A name not
// given to NewSettings is read from the store each time.
func (s *Settings) Get(ctx context.Context, name string) (string, bool) {
	if s.seq == nil {
		return s.read(ctx, name)
	}
	// The sequence is read before the values, so cached values are never
	// older than the sequence they are filed under.
	seq := s.seq()
	snap := s.cur.Load()
	if snap == nil || snap.seq != seq {
		snap = &settingsSnapshot{seq: seq, values: map[string]string{}}
		for _, n := range s.names {
			if v, ok := s.read(ctx, n); ok {
				snap.values[n] = v
			}
		}
		s.cur.Store(snap)
	}
	if !slices.Contains(s.names, name) {
		return s.read(ctx, name)
	}
	v, ok := snap.values[name]
	return v, ok
}

func (s *Settings) read(ctx context.Context, name string) (string, bool) {
	p, err := s.store.Get(ctx, name)
	if err != nil {
		return "", false
	}
	return p.Value, true
}
