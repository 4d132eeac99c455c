package postgres

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vanehq/vane"
)

// Messages of the translated errors; they are shown to API callers, so they
// hold nothing of the driver's text.
const (
	msgConflict    = "The change conflicts with stored data; retry."
	msgRetry       = "The transaction conflicted with another; retry."
	msgBusy        = "The database is busy; retry."
	msgUnavailable = "The database is unavailable; retry."
	msgBadText     = "The text holds a NUL character or invalid UTF-8, which the database can't store."
)

// translate is the dialect's Translate: it maps a driver error to a vane
// error by SQLSTATE (the PostgreSQL error code) or by Go error type, and
// returns any other error unchanged. It never looks at message text.
//
//	SQLSTATE                            meaning                                   vane code
//	23505                               unique_violation                          ECONFLICT
//	40001, 40P01                        serialization_failure, deadlock_detected  EUNAVAILABLE (retry)
//	08xxx                               connection exceptions                     EUNAVAILABLE
//	57P01, 57P02, 57P03                 admin/crash shutdown, cannot_connect_now  EUNAVAILABLE
//	53xxx                               insufficient resources (disk, memory,     EUNAVAILABLE
//	                                    too_many_connections)
//	25006                               read_only_sql_transaction (a standby:     EUNAVAILABLE
//	                                    the pool reached a replica mid-failover)
//	55P03, 57014                        lock_not_available (lock_timeout),        EUNAVAILABLE (busy)
//	                                    query_canceled (statement_timeout)
//	22021, 22P05                        character_not_in_repertoire,              EINVALID
//	                                    untranslatable_character (NUL, bad UTF-8)
//
// Errors without a SQLSTATE that mean the connection failed are
// EUNAVAILABLE as well: *pgconn.ConnectError (whatever its cause, even a
// SQLSTATE such as a refused password, since the store can't reach its
// database), net.Error, io.ErrUnexpectedEOF, driver.ErrBadConn,
// sql.ErrConnDone and pgconn.ErrConnClosed. Context cancellation is left to
// package sqlstore, which returns the context's error as it is.
func translate(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if verr := translateCode(pgErr.Code); verr != nil {
			return verr
		}
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed):
		return &vane.Error{Code: vane.EUNAVAILABLE, Message: msgUnavailable}
	}
	return err
}

// translateCode maps a SQLSTATE to a vane error, or returns nil.
func translateCode(code string) *vane.Error {
	switch code {
	case "23505": // unique_violation
		return &vane.Error{Code: vane.ECONFLICT, Message: msgConflict}
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return &vane.Error{Code: vane.EUNAVAILABLE, Message: msgRetry}
	case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		"25006": // read_only_sql_transaction
		return &vane.Error{Code: vane.EUNAVAILABLE, Message: msgUnavailable}
	case "55P03", "57014": // lock_not_available, query_canceled
		return &vane.Error{Code: vane.EUNAVAILABLE, Message: msgBusy}
	case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
		return &vane.Error{Code: vane.EINVALID, Detail: vane.DetailValidation, Message: msgBadText}
	}
	if len(code) == 5 {
		switch code[:2] { // the class
		case "08", "53": // connection_exception, insufficient_resources
			return &vane.Error{Code: vane.EUNAVAILABLE, Message: msgUnavailable}
		}
	}
	return nil
}
