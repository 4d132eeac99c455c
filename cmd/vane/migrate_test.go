package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create test schemas
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/postgres"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/storetest"
)

func TestParseStoreURL(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want storeURL
	}{
		{"sqlite:///var/lib/vane/vane.db", storeURL{driver: "sqlite", path: "/var/lib/vane/vane.db"}},
		{"sqlite://./data/vane.db", storeURL{driver: "sqlite", path: "./data/vane.db"}},
		{"sqlite://vane.db", storeURL{driver: "sqlite", path: "vane.db"}},
		{"/abs/vane.db", storeURL{driver: "sqlite", path: "/abs/vane.db"}},
		{"rel/vane.db", storeURL{driver: "sqlite", path: "rel/vane.db"}},
		{"./odd:name.db", storeURL{driver: "sqlite", path: "./odd:name.db"}},
		{"postgres://vane:pw@db:5432/vane?sslmode=disable", storeURL{driver: "postgres", dsn: "postgres://vane:pw@db:5432/vane?sslmode=disable"}},
		{"postgresql://db/vane", storeURL{driver: "postgres", dsn: "postgresql://db/vane"}},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseStoreURL(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("parseStoreURL(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
	for _, tt := range []struct{ name, in string }{
		{"ErrEmpty", ""},
		{"ErrNoSQLitePath", "sqlite://"},
		{"ErrUnknownScheme", "mysql://db/vane"},
		{"ErrUnknownSchemeWithoutSlashes", "file:vane.db"},
		{"ErrSQLiteQuery", "sqlite:///x/vane.db?mode=ro"},
		{"ErrBadPostgresURL", "postgres://db:port/vane"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parseStoreURL(tt.in); err == nil {
				t.Errorf("parseStoreURL(%q) = %+v, want an error", tt.in, got)
			}
		})
	}
	t.Run("RedactsPassword", func(t *testing.T) {
		u, err := parseStoreURL("postgres://vane:secret@db/vane")
		if err != nil {
			t.Fatal(err)
		}
		if s := u.String(); strings.Contains(s, "secret") {
			t.Errorf("String() = %q shows the password", s)
		}
	})
}

// fillMigrationSource writes n parameters with history: a fifth of them
// get three versions, some get labels (on old versions too), tags, tag and
// label removals, as several principals; 1% more are created and deleted.
func fillMigrationSource(t *testing.T, s vane.Store, n int) {
	t.Helper()
	ctx := t.Context()
	as := func(i int) context.Context {
		return vane.NewContextWithPrincipal(ctx, fmt.Sprintf("user%d", i%7))
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	types := []vane.Type{vane.TypeString, vane.TypeStringList, vane.TypeSecureString}
	extra := n / 100
	for i := range n + extra {
		name := fmt.Sprintf("/svc%02d/env%d/key%05d", i%40, i%3, i)
		in := &vane.PutInput{Name: name, Value: fmt.Sprintf("value-%d", i), Type: types[i%3]}
		if i%5 == 0 {
			in.Tags = []vane.Tag{{Key: "team", Value: fmt.Sprintf("t%d", i%11)}, {Key: "env", Value: fmt.Sprint(i % 3)}}
		}
		if i%13 == 0 {
			desc := fmt.Sprintf("parameter %d", i)
			in.Description = &desc
		}
		_, err := s.Put(as(i), in)
		must(err)
		if i >= n {
			must(s.Delete(as(i+1), &vane.DeleteInput{Name: name}))
			continue
		}
		if i%5 == 1 {
			for v := 2; v <= 3; v++ {
				_, err := s.Put(as(i+v), &vane.PutInput{Name: name, Value: fmt.Sprintf("value-%d-v%d", i, v), Overwrite: true})
				must(err)
			}
		}
		if i%50 == 1 {
			_, err := s.Label(as(i), &vane.LabelInput{Name: name, Version: 1, Labels: []string{"stable", "first"}})
			must(err)
			_, err = s.Label(as(i), &vane.LabelInput{Name: name, Labels: []string{"prod"}})
			must(err)
		}
		if i%100 == 51 {
			_, err := s.Unlabel(as(i), &vane.LabelInput{Name: name, Version: 1, Labels: []string{"first"}})
			must(err)
		}
		if i%50 == 5 {
			must(s.AddTags(as(i), &vane.TagInput{Name: name, Tags: []vane.Tag{{Key: "owner", Value: "ops"}}}))
		}
		if i%100 == 10 {
			must(s.RemoveTags(as(i), &vane.TagInput{Name: name, Keys: []string{"env"}}))
		}
	}
}

// migrationJobsAt is when the scheduled changes of fillMigrationJobs are due.
var migrationJobsAt = time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)

// fillMigrationJobs writes two job leases held by node-a for an hour, one
// with a saved cursor (42), an ended rollout ro-1 (its active_name NULL),
// an active one ro-2 of the same name, and a pending scheduled change.
func fillMigrationJobs(t *testing.T, s storetest.JobStore) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, job := range []string{"rollouts", "schedules"} {
		if _, ok, err := s.AcquireLease(ctx, job, "node-a", time.Hour); err != nil || !ok {
			t.Fatalf("AcquireLease %s = %v, %v", job, ok, err)
		}
	}
	must(s.SaveCursor(ctx, "rollouts", "node-a", 42))
	ended := storetest.NewRollout("ro-1", "/svc00/features/x", vane.RolloutRunning)
	must(s.CreateRollout(ctx, ended))
	ended.State, ended.Ended = vane.RolloutRolledBack, ended.Created.Add(time.Hour)
	must(s.UpdateRollout(ctx, ended))
	must(s.CreateRollout(ctx, storetest.NewRollout("ro-2", "/svc00/features/x", vane.RolloutRunning)))
	must(s.CreateSchedule(ctx, storetest.NewSchedule("sc-1", "/svc01/features/y", migrationJobsAt)))
}

// fillMigrationEvents writes an event rule with a delivery tried twice,
// dead after the second attempt.
func fillMigrationEvents(t *testing.T, s vane.EventStore) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateEventRule(ctx, storetest.NewEventRule("ev-1", "deploys")))
	d := storetest.NewEventDelivery("dv-1", "ev-1", 7)
	must(s.EnqueueEvents(ctx, []*vane.EventDelivery{d}))
	for _, state := range []vane.EventState{vane.EventPending, vane.EventDead} {
		d.Attempts++
		at := d.Created.Add(time.Duration(d.Attempts)*time.Second + 1)
		d.State, d.LastStatus, d.LastError, d.NextAttempt = state, 502, "HTTP 502", at.Add(time.Minute)
		must(s.RecordAttempt(ctx, d, &vane.EventAttempt{DeliveryID: d.ID, N: d.Attempts, Time: at, Status: 502,
			Latency: 300*time.Millisecond + 1, Error: d.LastError}))
	}
}

// assertMigratedEvents fails unless the event rules of want and got read
// alike, with their deliveries and the deliveries' attempts.
func assertMigratedEvents(t *testing.T, want, got vane.EventStore) {
	t.Helper()
	ctx := t.Context()
	same := func(what string, g, w any) {
		t.Helper()
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s differs:\n got %s\nwant %s", what, gj, wj)
		}
	}
	wr, err := want.EventRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := got.EventRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same("EventRules", gr, wr)
	if len(wr) == 0 {
		t.Fatal("the source has no event rule")
	}
	for _, r := range wr {
		q := &vane.EventDeliveryQuery{RuleID: r.ID, Limit: vane.MaxPageSize}
		wp, err := want.EventDeliveries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		gp, err := got.EventDeliveries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		same("EventDeliveries "+r.ID, gp, wp)
		for _, d := range wp.Deliveries {
			wa, err := want.EventAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			ga, err := got.EventAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			same("EventAttempts "+d.ID, ga, wa)
		}
	}
}

// assertMigratedJobs fails unless the jobs of want and got read alike:
// the rollouts, all and active, the scheduled changes, each by ID too, and
// the leases as a node that does not hold them sees them.
func assertMigratedJobs(t *testing.T, want, got storetest.JobStore) {
	t.Helper()
	ctx := t.Context()
	same := func(what string, g, w any) {
		t.Helper()
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s differs:\n got %s\nwant %s", what, gj, wj)
		}
	}
	for _, active := range []bool{false, true} {
		q := &vane.RolloutQuery{Active: active, Limit: vane.MaxPageSize}
		wp, err := want.Rollouts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		gp, err := got.Rollouts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		same(fmt.Sprintf("Rollouts (active only: %t)", active), gp, wp)
		for _, r := range wp.Rollouts {
			g, err := got.Rollout(ctx, r.ID)
			if err != nil {
				t.Fatalf("Rollout %s: %v", r.ID, err)
			}
			same("Rollout "+r.ID, g, r)
		}
	}
	wp, err := want.Schedules(ctx, &vane.ScheduleQuery{Limit: vane.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	gp, err := got.Schedules(ctx, &vane.ScheduleQuery{Limit: vane.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	same("Schedules", gp, wp)
	for _, sc := range wp.Schedules {
		g, err := got.Schedule(ctx, sc.ID)
		if err != nil {
			t.Fatalf("Schedule %s: %v", sc.ID, err)
		}
		same("Schedule "+sc.ID, g, sc)
	}
	for _, job := range []string{"rollouts", "schedules"} {
		wl, wok, werr := want.AcquireLease(ctx, job, "another-node", time.Minute)
		gl, gok, gerr := got.AcquireLease(ctx, job, "another-node", time.Minute)
		if werr != nil || gerr != nil || wok || gok {
			t.Fatalf("AcquireLease %s by another node: source %v, %v; destination %v, %v; want the lease held", job, wok, werr, gok, gerr)
		}
		same("Lease "+job, gl, wl)
	}
}

// assertMigratedJobsGoOn fails unless dst, a copy of fillMigrationJobs'
// jobs, goes on with them: node-a renews its lease and finds its cursor,
// ro-2 keeps a second rollout of its name out, and a new rollout and a new
// scheduled change due at the same time list after the copied ones, so
// their seqs are higher.
func assertMigratedJobsGoOn(t *testing.T, dst storetest.JobStore) {
	t.Helper()
	ctx := t.Context()
	l, ok, err := dst.AcquireLease(ctx, "rollouts", "node-a", time.Hour)
	if err != nil || !ok || l.Cursor != 42 {
		t.Errorf("node-a renewing its lease: %+v, %v, %v; want it renewed with cursor 42", l, ok, err)
	}
	err = dst.CreateRollout(ctx, storetest.NewRollout("ro-3", "/svc00/features/x", vane.RolloutRunning))
	if vane.ErrorCode(err) != vane.ECONFLICT || vane.ErrorDetail(err) != vane.DetailRolloutInProgress {
		t.Errorf("a second active rollout of /svc00/features/x: %v; want conflict RolloutInProgress", err)
	}
	if err := dst.CreateRollout(ctx, storetest.NewRollout("ro-3", "/svc02/features/z", vane.RolloutRunning)); err != nil {
		t.Fatal(err)
	}
	rp, err := dst.Rollouts(ctx, &vane.RolloutQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rp.Rollouts {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[ro-3 ro-2 ro-1]" {
		t.Errorf("rollouts after a new one = %v, want [ro-3 ro-2 ro-1]", ids)
	}
	if err := dst.CreateSchedule(ctx, storetest.NewSchedule("sc-2", "/svc02/features/z", migrationJobsAt)); err != nil {
		t.Fatal(err)
	}
	sp, err := dst.Schedules(ctx, &vane.ScheduleQuery{})
	if err != nil {
		t.Fatal(err)
	}
	ids = nil
	for _, sc := range sp.Schedules {
		ids = append(ids, sc.ID)
	}
	if fmt.Sprint(ids) != "[sc-1 sc-2]" {
		t.Errorf("schedules after a new one = %v, want [sc-1 sc-2]", ids)
	}
}

// mustOpenMigrationSQLite opens a SQLite store, closed when the test ends.
func mustOpenMigrationSQLite(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// buildMigrationSource writes a store of n parameters (see
// fillMigrationSource), jobs (see fillMigrationJobs) and events (see
// fillMigrationEvents) to a new SQLite file and returns its path.
func buildMigrationSource(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.db")
	s := mustOpenMigrationSQLite(t, path)
	// Only to fill the file faster: without fsyncs a put takes tens of
	// microseconds instead of milliseconds. The writer pool keeps its one
	// connection, so the setting holds for every put below; it is a
	// per-connection setting and ends with the store.
	if _, err := s.Store.DB.ExecContext(t.Context(), `PRAGMA synchronous = OFF`); err != nil {
		t.Fatal(err)
	}
	fillMigrationSource(t, s, n)
	fillMigrationJobs(t, s)
	fillMigrationEvents(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// assertMigratedStore fails unless want and got read alike: the snapshot,
// the whole change log, and for every sample'th parameter and every
// labelled one, its history, tags and reads by label.
func assertMigratedStore(t *testing.T, want, got vane.Store, sample int) {
	t.Helper()
	ctx := t.Context()
	wantParams, wantSeq, err := want.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotParams, gotSeq, err := got.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gotSeq != wantSeq {
		t.Errorf("Snapshot sequence = %d, want %d", gotSeq, wantSeq)
	}
	if len(gotParams) != len(wantParams) {
		t.Fatalf("Snapshot has %d parameters, want %d", len(gotParams), len(wantParams))
	}
	for i := range wantParams {
		if !reflect.DeepEqual(gotParams[i], wantParams[i]) {
			t.Fatalf("Snapshot[%d] = %+v, want %+v", i, *gotParams[i], *wantParams[i])
		}
	}
	wantChanges, gotChanges := storetest.AllChanges(t, want), storetest.AllChanges(t, got)
	if len(gotChanges) != len(wantChanges) {
		t.Fatalf("%d changes, want %d", len(gotChanges), len(wantChanges))
	}
	for i := range wantChanges {
		if !reflect.DeepEqual(gotChanges[i], wantChanges[i]) {
			t.Fatalf("change %d = %+v, want %+v", i, gotChanges[i], wantChanges[i])
		}
	}

	checked := 0
	for i, p := range wantParams {
		if i%sample != 0 && len(p.Labels) == 0 {
			continue
		}
		checked++
		wh, gh := storetest.AllHistory(t, want, p.Name), storetest.AllHistory(t, got, p.Name)
		if !reflect.DeepEqual(gh, wh) {
			t.Errorf("History %s differs:\n got %s\nwant %s", p.Name, dumpMigratedParams(gh), dumpMigratedParams(wh))
		}
		wt, err := want.Tags(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		gt, err := got.Tags(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gt, wt) {
			t.Errorf("Tags %s = %v, want %v", p.Name, gt, wt)
		}
		for _, v := range wh {
			for _, l := range v.Labels {
				gp, err := got.Get(ctx, p.Name+":"+l)
				if err != nil || gp.Version != v.Version {
					t.Errorf("Get %s:%s = %v, %v; want version %d", p.Name, l, gp, err, v.Version)
				}
			}
		}
	}
	t.Logf("compared %d parameters, %d changes, and the history and tags of %d parameters", len(wantParams), len(wantChanges), checked)
}

func dumpMigratedParams(ps []*vane.Parameter) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%+v\n", *p)
	}
	return b.String()
}

// assertMigrateOutput checks the output of a successful vane migrate of a
// source built by buildMigrationSource.
func assertMigrateOutput(t *testing.T, stdout, stderr string, params, changes int) {
	t.Helper()
	for _, re := range []string{
		fmt.Sprintf(`(?m)^\s*parameters\s+%d\s*$`, params),
		fmt.Sprintf(`(?m)^\s*changes\s+%d\s*$`, changes),
		`(?m)^\s*rollouts\s+2\s*$`,
		`(?m)^\s*schedules\s+1\s*$`,
		`(?m)^\s*job leases\s+2\s*$`,
		`(?m)^\s*event rules\s+1\s*$`,
		`(?m)^\s*deliveries\s+1\s*$`,
		`(?m)^\s*attempts\s+2\s*$`,
		fmt.Sprintf(`(?m)^Last change sequence: %d$`, changes),
		`(?m)^verified`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("stdout does not match %s:\n%s", re, stdout)
		}
	}
	if !strings.Contains(stderr, "(100%)") || strings.Contains(stderr, "\r") {
		t.Errorf("stderr, not a terminal, should have plain progress lines up to 100%%:\n%s", stderr)
	}
}

func TestMigrate(t *testing.T) {
	t.Run("SQLiteToSQLite", func(t *testing.T) {
		from := buildMigrationSource(t, 200)
		to := filepath.Join(t.TempDir(), "dst.db")
		stdout, stderr := mustRunCLI(t, "", "migrate", "--from", "sqlite://"+from, "--to", to)
		src, dst := mustOpenMigrationSQLite(t, from), mustOpenMigrationSQLite(t, to)
		_, seq, err := src.Snapshot(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		assertMigrateOutput(t, stdout, stderr, 200, int(seq))
		assertMigratedStore(t, src, dst, 1)
		assertMigratedJobs(t, src, dst)
		assertMigratedEvents(t, src, dst)
		assertMigratedJobsGoOn(t, dst)
	})

	t.Run("ErrDestinationNotEmpty", func(t *testing.T) {
		from := buildMigrationSource(t, 10)
		to := filepath.Join(t.TempDir(), "dst.db")
		s := mustOpenMigrationSQLite(t, to)
		if _, err := s.Put(t.Context(), &vane.PutInput{Name: "/x", Value: "v", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runCLI(t, "", "migrate", "--from", from, "--to", "sqlite://"+to)
		if code != exitError || stdout != "" || !strings.Contains(stderr, "not empty") {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying the destination is not empty", code, stdout, stderr)
		}
	})

	t.Run("ErrSourceMissing", func(t *testing.T) {
		dir := t.TempDir()
		missing := filepath.Join(dir, "missing.db")
		stdout, stderr, code := runCLI(t, "", "migrate", "--from", missing, "--to", filepath.Join(dir, "dst.db"))
		if code != exitError || stdout != "" || !strings.Contains(stderr, "does not exist") {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying the source does not exist", code, stdout, stderr)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Error("migrate created the missing source")
		}
	})

	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"ErrNoFlags", []string{"migrate"}},
		{"ErrNoTo", []string{"migrate", "--from", "a.db"}},
		{"ErrNoFrom", []string{"migrate", "--to", "b.db"}},
		{"ErrArgument", []string{"migrate", "--from", "a.db", "--to", "b.db", "c.db"}},
		{"ErrUnknownFlag", []string{"migrate", "--from", "a.db", "--to", "b.db", "--force"}},
		{"ErrUnknownScheme", []string{"migrate", "--from", "mysql://db/vane", "--to", "b.db"}},
		{"ErrEmptySQLitePath", []string{"migrate", "--from", "a.db", "--to", "sqlite://"}},
		{"ErrSameDatabase", []string{"migrate", "--from", filepath.Join(dir, "a.db"), "--to", "sqlite://" + filepath.Join(dir, "a.db")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, "", tt.args...)
			if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "vane: migrate") {
				t.Errorf("exit %d, stdout %q, stderr %q; want a usage error", code, stdout, stderr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("usage errors left files behind: %v", entries)
	}
}

// migrationPostgresURL returns the URL of the test PostgreSQL server. It
// skips the test when VANE_TEST_POSTGRES is unset, unless CI=true, which
// requires the PostgreSQL tests.
func migrationPostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("VANE_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("VANE_TEST_POSTGRES is not set, and CI must run the PostgreSQL tests: set it to the URL that .ci/postgres.sh prints")
		}
		t.Skip("VANE_TEST_POSTGRES is not set: skipping the PostgreSQL test (set it to the URL that `bash .ci/postgres.sh` prints)")
	}
	return u
}

// postgresURL creates a schema with a random name in the test
// PostgreSQL database, dropped when the test ends, and returns a URL whose
// search_path selects it.
func postgresURL(t testing.TB) string {
	t.Helper()
	base := migrationPostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("VANE_TEST_POSTGRES: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "vane_test_" + hex.EncodeToString(b)

	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestMigrateSQLiteToPostgres migrates a store of 10,000 parameters with
// history from SQLite to PostgreSQL and back, comparing every read.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	pgURL := postgresURL(t)
	const n = 10000
	start := time.Now()
	from := buildMigrationSource(t, n)
	t.Logf("built the SQLite source in %s", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	stdout, stderr := mustRunCLI(t, "", "migrate", "--from", "sqlite://"+from, "--to", pgURL)
	t.Logf("migrated to PostgreSQL in %s:\n%s%s", time.Since(start).Round(time.Millisecond), stderr, stdout)

	src := mustOpenMigrationSQLite(t, from)
	dst, err := postgres.Open(t.Context(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	_, maxSeq, err := src.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	assertMigrateOutput(t, stdout, stderr, n, int(maxSeq))
	start = time.Now()
	assertMigratedStore(t, src, dst, 37)
	assertMigratedJobs(t, src, dst)
	assertMigratedEvents(t, src, dst)
	t.Logf("compared in %s", time.Since(start).Round(time.Millisecond))

	t.Run("ErrDestinationNotEmpty", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, "", "migrate", "--from", from, "--to", pgURL)
		if code != exitError || stdout != "" || !strings.Contains(stderr, "not empty") {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying the destination is not empty", code, stdout, stderr)
		}
	})

	t.Run("BackToSQLite", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "back.db")
		stdout, stderr := mustRunCLI(t, "", "migrate", "--from", pgURL, "--to", "sqlite://"+to)
		assertMigrateOutput(t, stdout, stderr, n, int(maxSeq))
		back := mustOpenMigrationSQLite(t, to)
		assertMigratedStore(t, src, back, 101)
		assertMigratedJobs(t, src, back)
		assertMigratedEvents(t, src, back)
		assertMigratedJobsGoOn(t, back)
	})

	// Last, as it changes the destination.
	t.Run("NewChangesContinueTheSequence", func(t *testing.T) {
		if _, err := dst.Put(t.Context(), &vane.PutInput{Name: "/after/migrate", Value: "v", Type: vane.TypeString}); err != nil {
			t.Fatal(err)
		}
		changes, err := dst.Changes(t.Context(), maxSeq, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 1 || changes[0].Seq != maxSeq+1 || changes[0].Name != "/after/migrate" {
			t.Errorf("changes after %d = %+v, want one put of /after/migrate with sequence %d", maxSeq, changes, maxSeq+1)
		}
	})

	// Also last: without setval, the sequences of rollouts.seq and
	// schedules.seq would start again at 1, which the copied rows hold.
	t.Run("NewJobsFollowTheCopiedOnes", func(t *testing.T) { assertMigratedJobsGoOn(t, dst) })
}

func TestMigrateProgress(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	steps := []struct {
		done  int64
		after time.Duration
	}{{0, 0}, {100, 50 * time.Millisecond}, {300, 100 * time.Millisecond}, {450, time.Second}, {1000, 20 * time.Second}}

	t.Run("BarOnTerminal", func(t *testing.T) {
		var b strings.Builder
		p := &progress{w: &b, tty: true, now: now, start: clock, lastTenth: -1}
		for _, st := range steps {
			clock = clock.Add(st.after)
			p.update(st.done, 1000)
		}
		p.finish()
		want := "\rmigrate [                              ]   0% 0/1000 rows in 0s " +
			"\rmigrate [=========                     ]  30% 300/1000 rows in 200ms " +
			"\rmigrate [=============                 ]  45% 450/1000 rows in 1.2s  " +
			"\rmigrate [==============================] 100% 1000/1000 rows in 21.2s verifying..." +
			"\rmigrate [==============================] 100% 1000/1000 rows in 21.2s             \n"
		if got := b.String(); got != want {
			t.Errorf("output\n%q\nwant\n%q", got, want)
		}
	})

	t.Run("LinesOtherwise", func(t *testing.T) {
		var b strings.Builder
		p := &progress{w: &b, tty: isTerminal(&b), now: now, start: clock, lastTenth: -1}
		for _, st := range steps {
			clock = clock.Add(st.after)
			p.update(st.done, 1000)
		}
		p.finish()
		want := "migrate: copied 0 of 1000 rows (0%) in 0s\n" +
			"migrate: copied 100 of 1000 rows (10%) in 100ms\n" +
			"migrate: copied 300 of 1000 rows (30%) in 200ms\n" +
			"migrate: copied 450 of 1000 rows (45%) in 1.2s\n" +
			"migrate: copied 1000 of 1000 rows (100%) in 21.2s\n" +
			"migrate: verifying the copy\n"
		if got := b.String(); got != want {
			t.Errorf("output\n%q\nwant\n%q", got, want)
		}
	})
}
