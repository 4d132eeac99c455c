package http

import (
	"context"
	"strings"

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

// checkDelete applies the deletion guard to a delete of name (a name or a
// parameter ARN). Names that do not parse pass: the store rejects them.
func (s *Server) checkDelete(ctx context.Context, name string) error {
	sel, err := vane.ParseSelector(name)
	if err != nil {
		return nil
	}
	if flag.IsFlagName(sel.Name) {
		if p, err := s.Store.Get(ctx, SettingAllowFlagDeletion); err == nil && strings.EqualFold(strings.TrimSpace(p.Value), "false") {
			return vane.Errorf(vane.EFORBIDDEN, "deleting the flag %s is blocked by the setting %s (now false): set it to true to allow deleting flags", sel.Name, SettingAllowFlagDeletion)
		}
	}
	if p, err := s.Store.Get(ctx, SettingProtectedPaths); err == nil {
		for _, path := range strings.Split(p.Value, ",") {
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
