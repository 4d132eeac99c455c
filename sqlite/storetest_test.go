package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/storetest"
)

// TestConformance runs the storage conformance suite on a new database file
// per subtest; the suite closes each store.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) vane.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestAtConformance runs the point-in-time read conformance tests.
func TestAtConformance(t *testing.T) {
	storetest.RunAt(t, func(t *testing.T, now func() time.Time) vane.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
		if err != nil {
			t.Fatal(err)
		}
		s.Now = now
		return s
	})
}

// TestUsageConformance runs the flag usage conformance tests.
func TestUsageConformance(t *testing.T) {
	storetest.RunUsage(t, func(t *testing.T) vane.UsageStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestAuditConformance runs the audit history conformance tests.
func TestAuditConformance(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestKeysConformance runs the access key store conformance tests.
func TestKeysConformance(t *testing.T) {
	storetest.RunKeys(t, func(t *testing.T) auth.KeyStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
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
	storetest.RunSessions(t, func(t *testing.T) storetest.SessionStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
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
	storetest.RunJobs(t, func(t *testing.T, now func() time.Time) storetest.JobStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
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
	storetest.RunEvents(t, func(t *testing.T) vane.EventStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
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
	storetest.RunChangeRequests(t, func(t *testing.T) vane.ChangeRequestStore {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
