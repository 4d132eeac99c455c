package event_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/event"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/job"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/sqlite"
)

const secret = "whsec_test_0123456789abcdef"

// receiver is a real HTTP endpoint that verifies every delivery's
// signature, as doc/events.md tells receivers to, and records the events.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []event.Event
	ids    []string
	fail   func(id string) bool // answer 503 to these
	now    func() time.Time
	bad    []string // what failed verification
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	rc := &receiver{now: now}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(event.HeaderEventID)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := event.Verify(secret, r.Header.Get(event.HeaderSignature), r.Header.Get(event.HeaderTimestamp), body, rc.now(), 0); err != nil {
			rc.bad = append(rc.bad, id+": "+err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if rc.fail != nil && rc.fail(id) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var e event.Event
		if err := json.Unmarshal(body, &e); err != nil || e.ID != id {
			rc.bad = append(rc.bad, fmt.Sprintf("%s: body %s", id, body))
		}
		rc.events = append(rc.events, e)
		rc.ids = append(rc.ids, id)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() ([]event.Event, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.events), slices.Clone(rc.bad)
}

// fixture is a store, an index over it, and a clock.
type fixture struct {
	st    *sqlite.Store
	idx   *index.Store
	kr    *keyring.Keyring
	now   time.Time
	mu    sync.Mutex
	retry event.RetryPolicy
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "vane.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "keyring.json")})
	if err != nil {
		t.Fatal(err)
	}
	idx := index.New(st)
	if err := idx.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return &fixture{st: st, idx: idx, kr: kr, now: time.Now(), retry: event.RetryPolicy{MaxAttempts: 4, Base: 10 * time.Second, Max: time.Minute, Timeout: 5 * time.Second}}
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// rule creates a rule starting at the index's newest sequence.
func (f *fixture) rule(t *testing.T, r vane.EventRule) *vane.EventRule {
	t.Helper()
	sealed, err := f.kr.Seal(context.Background(), vane.DefaultKeyID, secret)
	if err != nil {
		t.Fatal(err)
	}
	r.ID, r.SealedSecret, r.StartSeq, r.Created, r.Updated = "er-"+strings.ReplaceAll(r.Name, " ", "-"), sealed, f.idx.Seq(), f.clock(), f.clock()
	if r.Target == "" {
		r.Target = vane.TargetWebhook
	}
	if err := event.CheckRule(&r); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateEventRule(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// runner returns the job runner of a rule, on this fixture's clock.
func (f *fixture) runner(r *vane.EventRule) *job.Runner {
	d := &event.Deliverer{RuleID: r.ID, Events: f.st, Store: f.idx, Rollouts: f.st, Cipher: f.kr, Client: event.NewClient(nil),
		Retry: f.retry, Region: "us-east-1", Account: "123456789012", Now: f.clock}
	return &job.Runner{Name: event.JobPrefix + r.ID, Job: d, Leases: f.st, Log: f.idx, Holder: "node-a", Now: f.clock,
		Start: func() int64 { return r.StartSeq }}
}

func (f *fixture) put(t *testing.T, name, value string, typ vane.Type) {
	t.Helper()
	ctx := vane.NewContextWithRequest(vane.NewContextWithPrincipal(context.Background(), "alice"), vane.RequestInfo{RequestID: "req-" + name})
	if _, err := f.idx.Put(ctx,
		&vane.PutInput{Name: name, Value: value, Type: typ, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
}

func runOnce(t *testing.T, r *job.Runner) {
	t.Helper()
	if _, err := r.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func names(es []event.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Detail.Name+"@"+fmt.Sprint(e.Detail.Version))
	}
	return out
}

func TestDeliversInOrderSigned(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	f.put(t, "/app/prod/features/before", "true", vane.TypeString) // before the rule: not sent
	r := f.rule(t, vane.EventRule{Name: "flags", Path: "/app/*/features/*", URL: rc.URL, IncludeValues: true})
	run := f.runner(r)
	runOnce(t, run)
	f.put(t, "/app/prod/features/a", "true", vane.TypeString)
	f.put(t, "/app/prod/tuning/ttl", "30", vane.TypeString) // not selected
	f.put(t, "/app/prod/features/a", "false", vane.TypeString)
	f.put(t, "/app/dev/features/b", "true", vane.TypeString)
	f.put(t, "/app/dev/features/secret", "s3cret", vane.TypeSecureString)
	runOnce(t, run)
	got, bad := rc.got()
	if len(bad) > 0 {
		t.Fatalf("the receiver refused: %v", bad)
	}
	want := []string{"/app/prod/features/a@1", "/app/prod/features/a@2", "/app/dev/features/b@1", "/app/dev/features/secret@1"}
	if !slices.Equal(names(got), want) {
		t.Fatalf("delivered %v, want %v in change-log order", names(got), want)
	}
	if got[0].Detail.Operation != vane.EventCreate || got[1].Detail.Operation != vane.EventUpdate || got[1].Detail.PreviousVersion != 1 ||
		got[1].Detail.RequestID != "req-/app/prod/features/a" {
		t.Errorf("operations: %+v, %+v", got[0].Detail, got[1].Detail)
	}
	if got[1].Detail.Value == nil || *got[1].Detail.Value != "false" {
		t.Errorf("the value of the version itself: %+v", got[1].Detail.Value)
	}
	if got[3].Detail.Value != nil {
		t.Errorf("a SecureString value was sent: %q", *got[3].Detail.Value)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Detail.Sequence <= got[i-1].Detail.Sequence {
			t.Errorf("sequence %d after %d", got[i].Detail.Sequence, got[i-1].Detail.Sequence)
		}
	}
	page, err := f.st.EventDeliveries(context.Background(), &vane.EventDeliveryQuery{RuleID: r.ID, State: vane.EventDelivered})
	if err != nil || len(page.Deliveries) != 4 {
		t.Fatalf("delivered deliveries: %v, %v", page, err)
	}
}

// TestReceiverDownThenUp: attempts back off while the receiver is down,
// later events wait behind the failing one, and nothing is lost.
func TestReceiverDownThenUp(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	down := true
	rc.fail = func(string) bool { return down }
	r := f.rule(t, vane.EventRule{Name: "all", Path: "/", URL: rc.URL})
	run := f.runner(r)
	runOnce(t, run)
	for i := range 3 {
		f.put(t, fmt.Sprintf("/x/%d", i), "v", vane.TypeString)
	}
	runOnce(t, run)
	head := fmt.Sprintf("%s-%d", r.ID, f.idx.Seq()-2)
	attempts := func() []*vane.EventAttempt {
		a, err := f.st.EventAttempts(context.Background(), head)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := attempts(); len(a) != 1 || a[0].Status != 503 || a[0].Error == "" {
		t.Fatalf("first attempt: %+v", a)
	}
	// Not yet due: the backoff (10s, less up to half of it in jitter)
	// holds the next attempt.
	f.advance(4 * time.Second)
	runOnce(t, run)
	if n := len(attempts()); n != 1 {
		t.Fatalf("%d attempts 4s after the first failure; the backoff is at least 5s", n)
	}
	f.advance(7 * time.Second)
	runOnce(t, run)
	if n := len(attempts()); n != 2 {
		t.Fatalf("%d attempts 11s after the first failure, want 2", n)
	}
	if got, _ := rc.got(); len(got) != 0 {
		t.Fatalf("delivered while down: %v", names(got))
	}
	down = false
	f.advance(30 * time.Second)
	runOnce(t, run)
	got, _ := rc.got()
	if !slices.Equal(names(got), []string{"/x/0@1", "/x/1@1", "/x/2@1"}) {
		t.Fatalf("after the receiver came back: %v", names(got))
	}
	if a := attempts(); len(a) != 3 || a[2].Error != "" || a[2].Status != 200 {
		t.Fatalf("attempts of the first event: %+v", a)
	}
}

// TestDeadLettersAndRedelivery: an event the receiver keeps refusing is
// given up on after MaxAttempts, the next ones go, and a redelivery later
// sends it with the same id.
func TestDeadLettersAndRedelivery(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	r := f.rule(t, vane.EventRule{Name: "dl", Path: "/x", URL: rc.URL})
	poison := ""
	rc.fail = func(id string) bool { return id == poison }
	run := f.runner(r)
	runOnce(t, run)
	f.put(t, "/x/poison", "v", vane.TypeString)
	poison = fmt.Sprintf("%s-%d", r.ID, f.idx.Seq())
	f.put(t, "/x/after", "v", vane.TypeString)
	for range 4 {
		runOnce(t, run)
		f.advance(2 * time.Minute)
	}
	d, err := f.st.EventDelivery(context.Background(), poison)
	if err != nil || d.State != vane.EventDead || d.Attempts != 4 {
		t.Fatalf("the refused event: %+v, %v; want dead after 4 attempts", d, err)
	}
	got, _ := rc.got()
	if !slices.Equal(names(got), []string{"/x/after@1"}) {
		t.Fatalf("after the dead letter: %v", names(got))
	}
	rc.fail = nil
	if _, err := f.st.RedeliverEvent(context.Background(), poison, f.clock()); err != nil {
		t.Fatal(err)
	}
	runOnce(t, run)
	got, _ = rc.got()
	if len(got) != 2 || got[1].ID != poison {
		t.Fatalf("redelivered: %v", names(got))
	}
}

// TestRuleStartsFromItsCreation: the changes made between a rule's
// creation and its runner's first pass are delivered; those before are
// not.
func TestRuleStartsFromItsCreation(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	f.put(t, "/x/old", "v", vane.TypeString)
	r := f.rule(t, vane.EventRule{Name: "late", Path: "/x", URL: rc.URL})
	f.put(t, "/x/new", "v", vane.TypeString) // before the runner ever ran
	run := f.runner(r)
	runOnce(t, run)
	runOnce(t, run)
	if got, _ := rc.got(); !slices.Equal(names(got), []string{"/x/new@1"}) {
		t.Fatalf("delivered %v; want only the change after the rule's creation", names(got))
	}
}

// TestOperationsSelected: a rule with operations sends only those.
func TestOperationsSelected(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	r := f.rule(t, vane.EventRule{Name: "deletes", Path: "/x", URL: rc.URL, Operations: []string{vane.EventDelete}})
	run := f.runner(r)
	runOnce(t, run)
	f.put(t, "/x/a", "v", vane.TypeString)
	if err := f.idx.Delete(context.Background(), &vane.DeleteInput{Name: "/x/a"}); err != nil {
		t.Fatal(err)
	}
	runOnce(t, run)
	if got, _ := rc.got(); len(got) != 1 || got[0].Detail.Operation != vane.EventDelete {
		t.Fatalf("delivered %+v; want the delete only", got)
	}
}

// TestLifecycleNotices: the scan queues a notice for an expired flag and
// for flags unused for the rule's days (evaluated long ago, or never and
// unchanged since), once however often it runs; the rule's job delivers
// them; a rule that does not name notices gets none.
func TestLifecycleNotices(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	r := f.rule(t, vane.EventRule{Name: "lifecycle", Path: "/app/*/features/*", URL: rc.URL,
		Operations: []string{vane.EventFlagExpired, vane.EventFlagUnused}, UnusedDays: 10})
	all := f.rule(t, vane.EventRule{Name: "changes", Path: "/app/", URL: rc.URL})
	f.put(t, "/app/prod/features/expired", `{"enabled": true, "expires": "2026-01-01T00:00:00Z"}`, vane.TypeString)
	f.put(t, "/app/prod/features/busy", `{"enabled": true}`, vane.TypeString)
	f.put(t, "/app/prod/features/quiet", `{"enabled": true}`, vane.TypeString)
	f.put(t, "/app/prod/features/never", `{"enabled": true}`, vane.TypeString)
	f.advance(11 * 24 * time.Hour)
	now := f.clock()
	if err := f.st.AddUsage(context.Background(), []vane.FlagUsage{
		{Name: "/app/prod/features/expired", Day: now.UTC().Format(time.DateOnly), Variant: "on", Count: 1, Last: now.Add(-time.Hour)},
		{Name: "/app/prod/features/busy", Day: now.UTC().Format(time.DateOnly), Variant: "on", Count: 9, Last: now.Add(-time.Hour)},
		{Name: "/app/prod/features/quiet", Day: now.AddDate(0, 0, -20).UTC().Format(time.DateOnly), Variant: "on", Count: 2, Last: now.AddDate(0, 0, -20)},
	}); err != nil {
		t.Fatal(err)
	}
	n := &event.Notices{Events: f.st, Store: f.idx, Usage: f.st, Seq: f.idx.Seq, Region: "us-east-1", Account: "123456789012"}
	for range 3 { // every scan finds the same notices: queued once
		if _, err := n.Scan(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.st.EventDeliveries(context.Background(), &vane.EventDeliveryQuery{RuleID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range page.Deliveries {
		got = append(got, d.Operation+" "+d.Name)
	}
	slices.Sort(got)
	want := []string{"FlagExpired /app/prod/features/expired", "FlagUnused /app/prod/features/never", "FlagUnused /app/prod/features/quiet"}
	if !slices.Equal(got, want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	run := f.runner(r)
	runOnce(t, run)
	runOnce(t, run)
	events, bad := rc.got()
	if len(bad) > 0 || len(events) != 3 {
		t.Fatalf("delivered %v (refused %v)", names(events), bad)
	}
	for _, e := range events {
		switch e.Detail.Name {
		case "/app/prod/features/expired":
			if e.Detail.Expires != "2026-01-01T00:00:00Z" {
				t.Errorf("the expiry notice: %+v", e.Detail)
			}
		case "/app/prod/features/quiet":
			if e.Detail.LastEvaluated == "" {
				t.Errorf("the unused notice says no last evaluation: %+v", e.Detail)
			}
		}
	}
	if page, _ := f.st.EventDeliveries(context.Background(), &vane.EventDeliveryQuery{RuleID: all.ID}); len(page.Deliveries) != 0 {
		t.Errorf("a rule that does not name notices got %d", len(page.Deliveries))
	}
}

// TestSlackAndLogTargets: a Slack-compatible target gets a one-line text
// naming the change, who made it and a link; a log target writes a line.
func TestSlackAndLogTargets(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var texts []string
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Text string }
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		texts = append(texts, m.Text)
		mu.Unlock()
	}))
	defer slack.Close()
	r := f.rule(t, vane.EventRule{Name: "slack", Path: "/app/", Target: vane.TargetSlack, URL: slack.URL})
	var logs strings.Builder
	lr := f.rule(t, vane.EventRule{Name: "log", Path: "/app/", Target: vane.TargetLog})
	run, lrun := f.runner(r), f.runner(lr)
	run.Job.(*event.Deliverer).LinkBase = func() string { return "https://vane.example" }
	lrun.Job.(*event.Deliverer).Logger = slog.New(slog.NewTextHandler(&logs, nil))
	runOnce(t, run)
	runOnce(t, lrun)
	f.put(t, "/app/prod/features/x", "true", vane.TypeString)
	runOnce(t, run)
	runOnce(t, lrun)
	mu.Lock()
	defer mu.Unlock()
	if len(texts) != 1 || texts[0] != "/app/prod/features/x was created by alice (version 1): https://vane.example/ui/#/flag/app/prod/features/x" {
		t.Errorf("slack got %q", texts)
	}
	if !strings.Contains(logs.String(), "msg=event") || !strings.Contains(logs.String(), "operation=Create") {
		t.Errorf("log target wrote %q", logs.String())
	}
}

// TestParameterPolicies: an Expiration deletes the parameter at its time
// through the checked write path, or reports that the deletion guard
// refused; the notifications fire at their times; each notice once.
func TestParameterPolicies(t *testing.T) {
	f := newFixture(t)
	r := f.rule(t, vane.EventRule{Name: "policies", Path: "/", Target: vane.TargetLog,
		Operations: []string{vane.EventExpiration, vane.EventExpirationNotification, vane.EventNoChangeNotification}})
	start := time.Now().UTC()
	pol := fmt.Sprintf(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":%q}},
		{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Hours"}},
		{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Hours"}}]`, start.Add(2*time.Hour).Format(time.RFC3339Nano))
	ctx := vane.NewContextWithPrincipal(context.Background(), "alice")
	checked := guard.New(f.idx)
	for _, name := range []string{"/p/db", "/keep/db"} {
		if _, err := checked.Put(ctx, &vane.PutInput{Name: name, Value: "v", Type: vane.TypeString, Tier: vane.TierAdvanced, Policies: &pol}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := checked.Put(ctx, &vane.PutInput{Name: guard.SettingProtectedPaths, Value: "/keep", Type: vane.TypeStringList}); err != nil {
		t.Fatal(err)
	}
	j := &event.Policies{Store: checked, Events: f.st, Seq: f.idx.Seq, Region: "us-east-1", Account: "123456789012"}
	ops := func() []string {
		page, err := f.st.EventDeliveries(context.Background(), &vane.EventDeliveryQuery{RuleID: r.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range page.Deliveries {
			var e event.Event
			json.Unmarshal([]byte(d.Body), &e)
			out = append(out, fmt.Sprintf("%s %s %s", d.Operation, d.Name, e.Detail.ActionStatus))
		}
		slices.Sort(out)
		return out
	}
	for _, at := range []time.Duration{30 * time.Minute, 70 * time.Minute, 71 * time.Minute} {
		if _, err := j.Run(context.Background(), start.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"ExpirationNotification /keep/db ", "ExpirationNotification /p/db ", "NoChangeNotification /keep/db ", "NoChangeNotification /p/db "}
	if got := ops(); !slices.Equal(got, want) {
		t.Fatalf("after 71 minutes: %q, want %q", got, want)
	}
	if _, err := f.idx.Get(context.Background(), "/p/db"); err != nil {
		t.Fatalf("deleted before its expiration: %v", err)
	}
	for _, at := range []time.Duration{2*time.Hour + time.Minute, 2*time.Hour + 2*time.Minute} {
		if _, err := j.Run(context.Background(), start.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.idx.Get(context.Background(), "/p/db"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Errorf("/p/db after its expiration: %v, want deleted", err)
	}
	if _, err := f.idx.Get(context.Background(), "/keep/db"); err != nil {
		t.Errorf("the guarded parameter was deleted: %v", err)
	}
	want = append(want, "Expiration /keep/db Failed", "Expiration /p/db Finished")
	slices.Sort(want)
	if got := ops(); !slices.Equal(got, want) {
		t.Fatalf("after the expiration: %q, want %q", got, want)
	}
	cs, _ := f.idx.Changes(context.Background(), 0, "/p/db", 100)
	if last := cs[len(cs)-1]; last.Op != vane.OpDelete || last.Principal != event.PolicyPrincipal {
		t.Errorf("the deletion: %+v", last)
	}
}

// TestReplayIsNotResent: a node that takes a rule over reads the changes
// after the last saved cursor again; those already delivered are not sent
// again.
func TestReplayIsNotResent(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	r := f.rule(t, vane.EventRule{Name: "replay", Path: "/x", URL: rc.URL})
	a := f.runner(r)
	runOnce(t, a) // takes the lease; the cursor saved is the rule's start
	for i := range 3 {
		f.put(t, fmt.Sprintf("/x/%d", i), "v", vane.TypeString)
	}
	runOnce(t, a) // delivers; the cursor moved in memory only
	// Node a dies without saving its cursor; b takes the lease and reads
	// from the saved one.
	if err := f.st.ReleaseLease(context.Background(), a.Name, "node-a"); err != nil {
		t.Fatal(err)
	}
	b := f.runner(r)
	b.Holder = "node-b"
	runOnce(t, b)
	runOnce(t, b)
	if got, _ := rc.got(); len(got) != 3 {
		t.Fatalf("the receiver got %d events; want the 3, each once", len(got))
	}
}

// TestPeriodicTick: the scan runs when due, wakes the rules' jobs when it
// queued notices, and waits its period before running again.
func TestPeriodicTick(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, f.clock)
	f.rule(t, vane.EventRule{Name: "lifecycle", Path: "/app/", URL: rc.URL, Operations: []string{vane.EventFlagExpired}})
	f.put(t, "/app/prod/features/old", `{"enabled": true, "expires": "2026-01-01T00:00:00Z"}`, vane.TypeString)
	woken := 0
	n := &event.Notices{Events: f.st, Store: f.idx, Seq: f.idx.Seq, Every: time.Hour, Queued: func() { woken++ }}
	now := f.clock()
	next, err := n.Tick(context.Background(), now)
	if err != nil || !next.Equal(now.Add(time.Hour)) || woken != 1 {
		t.Fatalf("first tick: next %v, err %v, woken %d", next, err, woken)
	}
	again, err := n.Tick(context.Background(), now.Add(30*time.Minute))
	if err != nil || !again.Equal(next) || woken != 1 {
		t.Fatalf("a tick before the period ended: next %v, err %v, woken %d", again, err, woken)
	}
	if later, _ := n.Tick(context.Background(), next); !later.Equal(next.Add(time.Hour)) || woken != 2 {
		t.Fatalf("a tick at the period's end: next %v, woken %d", later, woken)
	}
}
