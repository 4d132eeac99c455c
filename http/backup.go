package http

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/vanehq/vane"
)

// Headers of GET /v1/backup: what the backup holds.
const (
	// HeaderSequence is the change-log sequence the backup holds: every
	// change up to it, none after.
	HeaderSequence = "X-Vane-Sequence"
	// HeaderParameters is the number of parameters the backup holds.
	HeaderParameters = "X-Vane-Parameters"
)

// BackupContentType is the media type of a backup: a SQLite database file.
const BackupContentType = "application/vnd.sqlite3"

// registerBackupRoutes adds the online backup route.
func (s *Server) registerBackupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/backup", s.admin(s.handleBackup))
}

// handleBackup serves GET /v1/backup: a consistent copy of the store's
// database, taken while writers go on (vane.Backuper), streamed with its
// length, its change-log sequence and its parameter count in headers. A
// store that can't be backed up so (PostgreSQL) is answered 501, pointing
// to pg_dump.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Backup == nil {
		// Not the table's 503 for unavailable: retrying will not help.
		writeJSON(w, http.StatusNotImplemented, errorResponse{Error: errorBody{Code: vane.EUNAVAILABLE,
			Message: "this server's store is not SQLite, so the server can't copy it: back a PostgreSQL store up with pg_dump " +
				"and restore it with pg_restore (doc/operations.md, \"Backup and restore\")"}})
		return
	}
	began := time.Now()
	var info *vane.BackupInfo
	err := s.Backup.Backup(r.Context(), func(i vane.BackupInfo) (io.Writer, error) {
		info = &i
		h := w.Header()
		h.Set("Content-Type", BackupContentType)
		h.Set("Content-Length", strconv.FormatInt(i.Size, 10))
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vane-backup-%d.db"`, i.Sequence))
		h.Set("Cache-Control", "no-store")
		h.Set(HeaderSequence, strconv.FormatInt(i.Sequence, 10))
		h.Set(HeaderParameters, strconv.FormatInt(i.Parameters, 10))
		s.auditAction(r.Context(), "vane:Backup", "*", fmt.Sprintf("sequence %d, %d parameters, %d bytes", i.Sequence, i.Parameters, i.Size))
		w.WriteHeader(http.StatusOK)
		return w, nil
	})
	switch {
	case err != nil && info == nil:
		s.writeError(w, r, err)
	case err != nil:
		// The status is sent: the body stops short of its Content-Length,
		// which the client sees as a truncated download.
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn // the client went away
		}
		s.logger().LogAttrs(r.Context(), level, "backup interrupted", slog.String("request_id", RequestID(r.Context())),
			slog.Int64("sequence", info.Sequence), slog.String("error", err.Error()))
	default:
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "backup", slog.String("request_id", RequestID(r.Context())),
			slog.Int64("sequence", info.Sequence), slog.Int64("parameters", info.Parameters), slog.Int64("bytes", info.Size),
			slog.Duration("duration", time.Since(began)))
	}
}
