package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/postgres"
	"github.com/vanehq/vane/storetest"
)

// cleanupTimeout bounds the statements of test cleanups, which run after
// the test's context is canceled.
const cleanupTimeout = 30 * time.Second

// baseURL returns VANE_TEST_POSTGRES. Without it the test is skipped, or
// fails when CI=true: CI must never skip these tests silently.
func baseURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("VANE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("VANE_TEST_POSTGRES is not set in CI: .ci/run must start PostgreSQL (bash .ci/postgres.sh) and export its URL")
		}
		tb.Skip("VANE_TEST_POSTGRES is not set: PostgreSQL tests skipped; run `export VANE_TEST_POSTGRES=$(bash .ci/postgres.sh)` to run them")
	}
	return u
}

// admin runs statements on the test database outside any store, on a
// connection of its own.
func admin(tb testing.TB, ctx context.Context, sql string, args ...any) {
	tb.Helper()
	conn, err := pgx.Connect(ctx, baseURL(tb))
	if err != nil {
		tb.Fatalf("connect to VANE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// NewSchema creates an empty schema named vane_test_<random>, drops it
// with everything in it when the test ends, and returns its name and a
// connection string selecting it. The connections also carry the schema's
// name as application_name, so a test can find them in pg_stat_activity.
func NewSchema(tb testing.TB) (schema, dsn string) {
	tb.Helper()
	base := baseURL(tb)
	b := make([]byte, 8)
	rand.Read(b)
	schema = "vane_test_" + hex.EncodeToString(b)
	admin(tb, tb.Context(), `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		admin(tb, ctx, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	})
	return schema, withParams(tb, base, map[string]string{"search_path": schema, "application_name": schema})
}

// withParams adds run-time parameters to a connection string, a URL or
// key=value pairs.
func withParams(tb testing.TB, dsn string, params map[string]string) string {
	tb.Helper()
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("VANE_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params {
		dsn += fmt.Sprintf(" %s='%s'", k, v)
	}
	return dsn
}

// OpenDSN opens a store on dsn and closes it when the test ends.
func OpenDSN(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(tb.Context(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// MustOpen opens a store on a new schema; both go when the test ends.
func MustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	_, dsn := NewSchema(tb)
	return OpenDSN(tb, dsn)
}

// TestConformance runs the storage conformance suite on a new schema per
// subtest; the suite closes each store before its schema is dropped.
func TestConformance(t *testing.T) {
	baseURL(t)
	storetest.Run(t, func(t *testing.T) vane.Store {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestAtConformance runs the point-in-time read conformance tests.
func TestAtConformance(t *testing.T) {
	baseURL(t)
	storetest.RunAt(t, func(t *testing.T, now func() time.Time) vane.Store {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Now = now
		return s
	})
}

// TestAuditConformance runs the audit history conformance tests.
func TestAuditConformance(t *testing.T) {
	baseURL(t)
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestUsageConformance runs the flag usage conformance tests.
func TestUsageConformance(t *testing.T) {
	baseURL(t)
	storetest.RunUsage(t, func(t *testing.T) vane.UsageStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestKeysConformance runs the access key store conformance tests.
func TestKeysConformance(t *testing.T) {
	baseURL(t)
	storetest.RunKeys(t, func(t *testing.T) auth.KeyStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestSessionsConformance runs the dashboard session store conformance
// tests.
func TestSessionsConformance(t *testing.T) {
	baseURL(t)
	storetest.RunSessions(t, func(t *testing.T) storetest.SessionStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestJobsConformance runs the lease, rollout and schedule store
// conformance tests.
func TestJobsConformance(t *testing.T) {
	baseURL(t)
	storetest.RunJobs(t, func(t *testing.T, now func() time.Time) storetest.JobStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Now = now
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestEventsConformance runs the event rule and delivery store conformance
// tests.
func TestEventsConformance(t *testing.T) {
	baseURL(t)
	storetest.RunEvents(t, func(t *testing.T) vane.EventStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestChangeRequestsConformance runs the change request store conformance
// tests.
func TestChangeRequestsConformance(t *testing.T) {
	baseURL(t)
	storetest.RunChangeRequests(t, func(t *testing.T) vane.ChangeRequestStore {
		_, dsn := NewSchema(t)
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestConformanceIndex runs the suite on the in-memory index over
// PostgreSQL: served from memory or not, it must behave as the backend
// does. Closing the index closes the store.
func TestConformanceIndex(t *testing.T) {
	baseURL(t)
	storetest.Run(t, func(t *testing.T) vane.Store {
		_, dsn := NewSchema(t)
		db, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s := index.New(db)
		if err := s.Open(t.Context()); err != nil {
			db.Close()
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	_, dsn := NewSchema(t)
	ctx := t.Context()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Put(ctx, &vane.PutInput{Name: "/a/b", Value: fmt.Sprint(i), Type: vane.TypeString, Overwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening runs the migrations again; they must be skipped.
	s = OpenDSN(t, dsn)
	p, err := s.Get(ctx, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 3 || p.Value != "2" {
		t.Fatalf("after reopen got version %d value %q, want 3 \"2\"", p.Version, p.Value)
	}
	changes, err := s.Changes(ctx, 0, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || changes[2].Version != 3 {
		t.Fatalf("after reopen got %d changes, want 3 ending at version 3: %+v", len(changes), changes)
	}
}

// TestOpenConcurrentlyMigratesOnce starts several nodes on one new schema
// at once: the migration lock lets each migration run once, and every node
// opens.
func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	_, dsn := NewSchema(t)
	const nodes = 6
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Open: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := stores[0].DB.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("schema_migrations holds %d rows, want %d (one per migration file)", n, len(files))
	}
	if _, err := stores[nodes-1].Put(t.Context(), &vane.PutInput{Name: "/p", Value: "x", Type: vane.TypeString}); err != nil {
		t.Errorf("Put after concurrent opens: %v", err)
	}
}

// TestTextColumnsSortByBytes checks that every column holding a name,
// label or key uses the "C" collation. The suite checks byte order too,
// but only a database whose default collation is not bytewise (such as
// en_US.UTF-8, unlike a C.UTF-8 test database) would make it fail.
func TestTextColumnsSortByBytes(t *testing.T) {
	s := MustOpen(t)
	rows, err := s.DB.QueryContext(t.Context(), `SELECT table_name, column_name, COALESCE(collation_name, '')
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'text' AND column_name IN ('name', 'label', 'key')
		ORDER BY table_name, column_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, column, collation string
		if err := rows.Scan(&table, &column, &collation); err != nil {
			t.Fatal(err)
		}
		n++
		if collation != "C" {
			t.Errorf("%s.%s has collation %q, want \"C\"", table, column, collation)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// parameters, versions, labels (2), tags (2), changes, schema_migrations,
	// flag_usage, audit, access_keys, rollouts, schedules, event_rules,
	// event_deliveries
	if n != 15 {
		t.Errorf("%d name, label and key columns, want 15", n)
	}
}

func TestOpenErrNoSchema(t *testing.T) {
	dsn := withParams(t, baseURL(t), map[string]string{"search_path": "vane_test_missing"})
	if s, err := postgres.Open(t.Context(), dsn); err == nil {
		s.Close()
		t.Fatal("Open with a search_path naming no existing schema: got no error")
	}
}

// TestOpenErrUnreachable needs no PostgreSQL: nothing listens on port 1.
func TestOpenErrUnreachable(t *testing.T) {
	if s, err := postgres.Open(t.Context(), "postgres://vane@127.0.0.1:1/vane?connect_timeout=5"); err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server: got no error")
	}
}

func TestPing(t *testing.T) {
	s := MustOpen(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestErrors provokes each kind of error from a real server and checks its
// translation (the full table is in translate_internal_test.go).
func TestErrors(t *testing.T) {
	s := MustOpen(t)
	ctx := t.Context()
	translate := s.Dialect.Translate
	// lockKey is an advisory lock key no store uses.
	lockKey := time.Now().UnixNano()
	tests := []struct {
		name string
		do   func(t *testing.T) error
		code string
	}{
		{"UniqueViolationIsConflict", func(t *testing.T) error {
			q := `INSERT INTO parameters (name, version, created_at) VALUES ('/dup', 1, 0)`
			if _, err := s.DB.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
			_, err := s.DB.ExecContext(ctx, q)
			return err
		}, vane.ECONFLICT},
		{"SerializationFailureIsUnavailable", func(t *testing.T) error {
			if _, err := s.DB.ExecContext(ctx, `INSERT INTO parameters (name, version, created_at) VALUES ('/ser', 1, 0)`); err != nil {
				t.Fatal(err)
			}
			tx, err := s.DB.BeginTx(ctx, &sqlTxRepeatableRead)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var v int64
			if err := tx.QueryRowContext(ctx, `SELECT version FROM parameters WHERE name = '/ser'`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DB.ExecContext(ctx, `UPDATE parameters SET version = 2 WHERE name = '/ser'`); err != nil {
				t.Fatal(err)
			}
			_, err = tx.ExecContext(ctx, `UPDATE parameters SET version = 3 WHERE name = '/ser'`)
			return err
		}, vane.EUNAVAILABLE},
		{"ReadOnlyTransactionIsUnavailable", func(t *testing.T) error {
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `SET TRANSACTION READ ONLY`); err != nil {
				t.Fatal(err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO parameters (name, version, created_at) VALUES ('/ro', 1, 0)`)
			return err
		}, vane.EUNAVAILABLE},
		{"LockTimeoutIsUnavailable", func(t *testing.T) error {
			holder, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback()
			if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
				t.Fatal(err)
			}
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '20ms'`); err != nil {
				t.Fatal(err)
			}
			_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey)
			return err
		}, vane.EUNAVAILABLE},
		{"StatementTimeoutIsUnavailable", func(t *testing.T) error {
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = '20ms'`); err != nil {
				t.Fatal(err)
			}
			_, err = tx.ExecContext(ctx, `SELECT pg_sleep(5)`)
			return err
		}, vane.EUNAVAILABLE},
		{"TerminatedConnectionIsUnavailable", func(t *testing.T) error {
			tx, err := s.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var pid int
			if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			admin(t, ctx, `SELECT pg_terminate_backend($1)`, pid)
			_, err = tx.ExecContext(ctx, `SELECT 1`)
			return err
		}, vane.EUNAVAILABLE},
		{"NULInValueIsInvalid", func(t *testing.T) error {
			_, err := s.Put(ctx, &vane.PutInput{Name: "/nul", Value: "a\x00b", Type: vane.TypeString})
			return err
		}, vane.EINVALID},
		{"InvalidUTF8InValueIsInvalid", func(t *testing.T) error {
			_, err := s.Put(ctx, &vane.PutInput{Name: "/utf8", Value: "a\xffb", Type: vane.TypeString})
			return err
		}, vane.EINVALID},
		{"UndefinedTableIsInternal", func(t *testing.T) error {
			_, err := s.DB.ExecContext(ctx, `SELECT * FROM no_such_table`)
			return err
		}, vane.EINTERNAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(t)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := vane.ErrorCode(translate(err)); got != tc.code {
				t.Errorf("translate(%v) has code %q, want %q", err, got, tc.code)
			}
		})
	}
}

// BenchmarkPut measures durable puts: each is one transaction, with the
// write lock, committed (and fsynced, with the server's defaults) before
// it returns.
func BenchmarkPut(b *testing.B) {
	s := MustOpen(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Put(ctx, &vane.PutInput{Name: fmt.Sprintf("/bench/p%d", i%1000), Value: "value", Type: vane.TypeString, Overwrite: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkPutParallel measures durable puts from concurrent callers; the
// write lock serializes them.
func BenchmarkPutParallel(b *testing.B) {
	s := MustOpen(b)
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.Put(ctx, &vane.PutInput{Name: fmt.Sprintf("/bench/p%d", i%1000), Value: "value", Type: vane.TypeString, Overwrite: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

var sqlTxRepeatableRead = sql.TxOptions{Isolation: sql.LevelRepeatableRead}
