package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vanehq/vane"
)

// TestTranslate checks the table of translate: SQLSTATEs and connection
// failures to vane codes, everything else returned as it is.
func TestTranslate(t *testing.T) {
	pg := func(code string) error {
		return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "a message never read"}
	}
	// A real failed connection: nothing listens on port 1.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, connectErr := pgconn.Connect(ctx, "postgres://vane@127.0.0.1:1/vane?connect_timeout=5")
	var ce *pgconn.ConnectError
	if !errors.As(connectErr, &ce) {
		t.Fatalf("connecting to port 1: got %v, want a *pgconn.ConnectError", connectErr)
	}

	tests := []struct {
		name string
		err  error
		code string // "" for an error returned unchanged
	}{
		{"UniqueViolationIsConflict", pg("23505"), vane.ECONFLICT},
		{"WrappedUniqueViolationIsConflict", fmt.Errorf("insert: %w", pg("23505")), vane.ECONFLICT},
		{"SerializationFailureIsUnavailable", pg("40001"), vane.EUNAVAILABLE},
		{"DeadlockIsUnavailable", pg("40P01"), vane.EUNAVAILABLE},
		{"ConnectionExceptionIsUnavailable", pg("08000"), vane.EUNAVAILABLE},
		{"ConnectionDoesNotExistIsUnavailable", pg("08003"), vane.EUNAVAILABLE},
		{"ConnectionFailureIsUnavailable", pg("08006"), vane.EUNAVAILABLE},
		{"UnableToConnectIsUnavailable", pg("08001"), vane.EUNAVAILABLE},
		{"ConnectionRejectedIsUnavailable", pg("08004"), vane.EUNAVAILABLE},
		{"ProtocolViolationIsUnavailable", pg("08P01"), vane.EUNAVAILABLE},
		{"AdminShutdownIsUnavailable", pg("57P01"), vane.EUNAVAILABLE},
		{"CrashShutdownIsUnavailable", pg("57P02"), vane.EUNAVAILABLE},
		{"CannotConnectNowIsUnavailable", pg("57P03"), vane.EUNAVAILABLE},
		{"InsufficientResourcesIsUnavailable", pg("53000"), vane.EUNAVAILABLE},
		{"DiskFullIsUnavailable", pg("53100"), vane.EUNAVAILABLE},
		{"OutOfMemoryIsUnavailable", pg("53200"), vane.EUNAVAILABLE},
		{"TooManyConnectionsIsUnavailable", pg("53300"), vane.EUNAVAILABLE},
		{"ConfigurationLimitIsUnavailable", pg("53400"), vane.EUNAVAILABLE},
		{"ReadOnlyTransactionIsUnavailable", pg("25006"), vane.EUNAVAILABLE},
		{"LockNotAvailableIsUnavailable", pg("55P03"), vane.EUNAVAILABLE},
		{"QueryCanceledIsUnavailable", pg("57014"), vane.EUNAVAILABLE},
		{"CharacterNotInRepertoireIsInvalid", pg("22021"), vane.EINVALID},
		{"UntranslatableCharacterIsInvalid", pg("22P05"), vane.EINVALID},
		{"ForeignKeyViolationIsUnchanged", pg("23503"), ""},
		{"NotNullViolationIsUnchanged", pg("23502"), ""},
		{"UndefinedTableIsUnchanged", pg("42P01"), ""},
		{"SyntaxErrorIsUnchanged", pg("42601"), ""},
		{"DatabaseDroppedIsUnchanged", pg("57P04"), ""},
		{"ShortCodeIsUnchanged", pg("08"), ""},
		{"ConnectErrorIsUnavailable", connectErr, vane.EUNAVAILABLE},
		{"NetErrorIsUnavailable", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, vane.EUNAVAILABLE},
		{"UnexpectedEOFIsUnavailable", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), vane.EUNAVAILABLE},
		{"BadConnIsUnavailable", driver.ErrBadConn, vane.EUNAVAILABLE},
		{"ConnDoneIsUnavailable", sql.ErrConnDone, vane.EUNAVAILABLE},
		{"ConnClosedIsUnavailable", pgconn.ErrConnClosed, vane.EUNAVAILABLE},
		{"OtherErrorIsUnchanged", errors.New("something else"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate(tc.err)
			if tc.code == "" {
				if got != tc.err {
					t.Errorf("translate(%v) = %v, want it unchanged", tc.err, got)
				}
				return
			}
			var verr *vane.Error
			if !errors.As(got, &verr) || verr.Code != tc.code {
				t.Errorf("translate(%v) = %v, want code %q", tc.err, got, tc.code)
			}
		})
	}
}
