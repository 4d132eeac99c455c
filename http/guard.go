package http

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
)

// The deletion guard's settings: parameters under Vane's reserved path,
// changed like any parameter (and audited like one).
const (
	// SettingAllowFlagDeletion, set to "false", refuses every delete of a
	// flag (a name under a "features" segment).
	SettingAllowFlagDeletion = "/vane/settings/allow-flag-deletion"
	// SettingProtectedPaths, a StringList of paths, refuses every delete
	// of a name under one of them.
	SettingProtectedPaths = "/vane/settings/deletion-protected-paths"
)

// settingNames are the settings a Server reads on requests.
var settingNames = []string{SettingAllowFlagDeletion, SettingProtectedPaths, SettingAuditedReadPaths}

// settingsCache holds the values of the settings for one store sequence,
// so that requests consulting them (every authenticated read, for read
// auditing) cost an atomic load rather than a store read.
type settingsCache struct {
	cur atomic.Pointer[settingsSnapshot]
}

type settingsSnapshot struct {
	seq    int64
	values map[string]string // only the settings that exist
}

// sequencer is a store that reports its change-log sequence (the index).
type sequencer interface{ Seq() int64 }

// setting returns the value of a setting, and whether it is set.
func (s *Server) setting(ctx context.Context, name string) (string, bool) {
	sq, ok := s.Store.(sequencer)
	if !ok {
		p, err := s.Store.Get(ctx, name)
		if err != nil {
			return "", false
		}
		return p.Value, true
	}
	// The sequence is read before the values, so cached values are never
	// older than the sequence they are filed under.
	seq := sq.Seq()
	snap := s.settings.cur.Load()
	if snap == nil || snap.seq != seq {
		snap = &settingsSnapshot{seq: seq, values: map[string]string{}}
		for _, n := range settingNames {
			if p, err := s.Store.Get(ctx, n); err == nil {
				snap.values[n] = p.Value
			}
		}
		s.settings.cur.Store(snap)
	}
	v, ok := snap.values[name]
	return v, ok
}

// checkDelete applies the deletion guard to a delete of name (a name or a
// parameter ARN). Names that do not parse pass: the store rejects them.
func (s *Server) checkDelete(ctx context.Context, name string) error {
	sel, err := vane.ParseSelector(name)
	if err != nil {
		return nil
	}
	if flag.IsFlagName(sel.Name) {
		if v, ok := s.setting(ctx, SettingAllowFlagDeletion); ok && strings.EqualFold(strings.TrimSpace(v), "false") {
			return vane.Errorf(vane.EFORBIDDEN, "deleting the flag %s is blocked by the setting %s (now false): set it to true to allow deleting flags", sel.Name, SettingAllowFlagDeletion)
		}
	}
	if v, ok := s.setting(ctx, SettingProtectedPaths); ok {
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
