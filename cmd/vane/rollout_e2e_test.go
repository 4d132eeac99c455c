package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// TestE2ERolloutsAndSchedules drives staged rollouts and scheduled changes
// with the CLI against `vane serve` with access control on, as the admin
// key the server saved in its data directory: a linear rollout steps and
// completes, another is paused, resumed and rolled back, and scheduled
// changes run on time or are cancelled.
func TestE2ERolloutsAndSchedules(t *testing.T) {
	bin, data := vaneBinary(t), t.TempDir()
	srv, logs := startSecureServer(t, bin, data)
	env := []string{"VANE_SERVER=" + srv.url, "VANE_DATA=" + data}
	ok := func(args ...string) string {
		t.Helper()
		res := runVaneEnv(t, bin, env, "", args...)
		if res.code != 0 || res.stderr != "" {
			t.Fatalf("vane %q: exit %d\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", args, res.code, res.stdout, res.stderr, logs.String())
		}
		return res.stdout
	}
	fails := func(code int, args []string, wants ...string) {
		t.Helper()
		res := runVaneEnv(t, bin, env, "", args...)
		if res.code != code || res.stdout != "" || !strings.HasPrefix(res.stderr, "vane: ") {
			t.Fatalf("vane %q: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", args, res.code, code, res.stdout, res.stderr)
		}
		for _, w := range wants {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("vane %q: stderr %q lacks %q", args, res.stderr, w)
			}
		}
	}
	// waitFor runs `vane KIND show ID -o json` into out until done says
	// so, failing the test after d.
	waitFor := func(kind, id string, d time.Duration, out any, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			raw := ok(kind, "show", id, "-o", "json")
			if err := json.Unmarshal([]byte(raw), out); err != nil {
				t.Fatalf("vane %s show -o json: %v\n%s", kind, err, raw)
			}
			if done() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s after %s:\n%s", kind, id, d, raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rolloutID := regexp.MustCompile(`^rollout (ro-[0-9a-f]+) started: `)
	scheduleID := regexp.MustCompile(`^scheduled (sc-[0-9a-f]+): `)
	idOf := func(re *regexp.Regexp, out string) string {
		t.Helper()
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no ID in %q", out)
		}
		return m[1]
	}
	const offDoc = `{"enabled": true, "rollout_percentage": 0}`

	t.Run("LinearRolloutStepsAndCompletes", func(t *testing.T) {
		const name = "/e2e/shop/features/checkout"
		ok("put", name, offDoc)
		out := ok("rollout", "start", name, "--strategy", "linear", "--step", "50", "--every", "1s", "--bake", "1s",
			"--monitor", "http,url="+srv.url+"/healthz,timeout=2s", "--check-every", "1s")
		if first, _, _ := strings.Cut(out, "\n"); !strings.HasSuffix(first, " started: "+name+" linear 0% → 50%, 100% every 1s, bake 1s") {
			t.Errorf("start printed %q", first)
		}
		id := idOf(rolloutID, out)
		var r vane.Rollout
		waitFor("rollout", id, 10*time.Second, &r, func() bool { return !r.State.Active() })
		if r.State != vane.RolloutCompleted || r.Share != 100 || r.Step != 2 || r.BaseVersion != 1 || r.LastVersion != 3 {
			t.Fatalf("rollout ended %s at %v%%, step %d, versions %d to %d: %s", r.State, r.Share, r.Step, r.BaseVersion, r.LastVersion, r.Reason)
		}
		if len(r.Monitors) != 1 || r.Monitors[0].State != vane.MonitorOK {
			t.Errorf("monitors = %+v", r.Monitors)
		}

		var h struct {
			Parameters []parameter `json:"parameters"`
		}
		if err := json.Unmarshal([]byte(ok("history", name, "-o", "json")), &h); err != nil || len(h.Parameters) != 3 {
			t.Fatalf("history: %v\n%+v", err, h.Parameters)
		}
		for i, share := range []string{"50", "100"} {
			p := h.Parameters[i+1]
			if p.LastModifiedUser != "rollout:"+id || !strings.Contains(p.Value, `"rollout_percentage":`+share) {
				t.Errorf("version %d by %s: %s; want by rollout:%s at %s%%", p.Version, p.LastModifiedUser, p.Value, id, share)
			}
		}

		rows := tableRows(t, ok("rollout", "ls", "/e2e/shop"), "ID", "NAME", "STATE", "STEP", "SHARE", "NEXT", "MONITORS")
		if want := []string{id, name, "completed", "2/2", "100%", "-", "ok"}; !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("rollout ls rows = %q, want one %q", rows, want)
		}
		if out := ok("rollout", "ls", "/e2e/shop", "--active"); strings.Contains(out, id) {
			t.Errorf("rollout ls --active lists a completed rollout:\n%s", out)
		}
		// Not on a terminal: the status, once.
		show := ok("rollout", "show", id)
		if !hasLines(show, "State: completed", "Plan: 0% → 50% → [100%]", "Monitors: http-1 ok: GET "+srv.url+"/healthz: 200") || strings.Contains(show, "\r") {
			t.Errorf("rollout show printed\n%s", show)
		}
	})

	t.Run("PauseResumeRollBack", func(t *testing.T) {
		const name = "/e2e/shop/features/search"
		ok("put", name, offDoc)
		id := idOf(rolloutID, ok("rollout", "start", name, "--strategy", "linear", "--step", "10", "--every", "1h"))
		if out := ok("rollout", "pause", id); out != "rollout "+id+" paused at 10% (step 1/10): 1h left until the next step\n" {
			t.Errorf("pause printed %q", out)
		}
		rows := tableRows(t, ok("rollout", "ls", name, "--active"), "ID", "NAME", "STATE", "STEP", "SHARE", "NEXT", "MONITORS")
		if want := [][]string{{id, name, "paused", "1/10", "10%", "-", "-"}}; !slices.EqualFunc(rows, want, slices.Equal) {
			t.Errorf("rollout ls --active = %q, want %q", rows, want)
		}
		fails(1, []string{"rollout", "pause", id}, "cannot pause", "paused")
		if out := ok("rollout", "resume", id); !strings.HasPrefix(out, "rollout "+id+" resumed: running at 10% (step 1/10): next step at ") {
			t.Errorf("resume printed %q", out)
		}
		want := "rollout " + id + " rolled back: " + name + " version 3 is the value from before the rollout (version 1): rolled back by "
		if out := ok("rollout", "rollback", id); !strings.HasPrefix(out, want) {
			t.Errorf("rollback printed %q, want %q...", out, want)
		}
		if out := ok("get", name); out != offDoc+"\n" {
			t.Errorf("get after the roll back printed %q", out)
		}
		fails(1, []string{"rollout", "rollback", id}, "cannot roll back")
		fails(1, []string{"rollout", "show", "ro-000000000000"}, "not_found")
	})

	t.Run("ScheduledChangesRun", func(t *testing.T) {
		const banner, flagName, later = "/e2e/sched/banner", "/e2e/sched/features/banner", "/e2e/sched/features/later"
		ok("put", flagName, offDoc)
		ok("put", flagName, `{"enabled": true}`, "--overwrite")
		ok("put", later, offDoc)
		put := idOf(scheduleID, ok("schedule", "put", banner, "hello", "--at", "+1s"))
		label := idOf(scheduleID, ok("schedule", "label", flagName+":1", "stable", "--at", "+1s", "--expect-version", "2"))
		start := idOf(scheduleID, ok("schedule", "rollout", later, "--at", "+1s", "--bake", "0s"))

		results := map[string]string{put: "put version 1", label: "labelled version 1 [stable]", start: "started rollout ro-"}
		for id, want := range results {
			var sc vane.Schedule
			waitFor("schedule", id, 10*time.Second, &sc, func() bool { return sc.State != vane.SchedulePending })
			if sc.State != vane.ScheduleDone || !strings.HasPrefix(sc.Result, want) {
				t.Errorf("schedule %s (%s) ended %s: %q, want done: %q", id, sc.Action, sc.State, sc.Result, want)
			}
			results[id] = sc.Result
		}
		if out := ok("get", banner); out != "hello\n" {
			t.Errorf("get %s printed %q", banner, out)
		}
		if out := ok("get", flagName+":stable"); out != offDoc+"\n" {
			t.Errorf("get %s:stable printed %q", flagName, out)
		}
		var r vane.Rollout
		waitFor("rollout", strings.TrimPrefix(results[start], "started rollout "), 10*time.Second, &r, func() bool { return !r.State.Active() })
		if r.State != vane.RolloutCompleted || r.Name != later || r.CreatedBy != "schedule:"+start {
			t.Errorf("the scheduled rollout: %s of %s by %s", r.State, r.Name, r.CreatedBy)
		}

		rows := tableRows(t, ok("schedule", "ls", banner), "ID", "NAME", "ACTION", "AT", "STATE", "RESULT")
		if len(rows) != 1 || !slices.Equal(rows[0][:3], []string{put, banner, "put"}) || !slices.Equal(rows[0][4:], []string{"done", "put", "version", "1"}) {
			t.Errorf("schedule ls rows = %q", rows)
		}
	})

	t.Run("CancelAScheduledChange", func(t *testing.T) {
		const name = "/e2e/cancel/x"
		id := idOf(scheduleID, ok("schedule", "put", name, "v", "--at", "+1h"))
		if out := ok("schedule", "show", id); !hasLines(out, "State: pending", "Value: v") || !strings.Contains(out, "(in 1h)") {
			t.Errorf("schedule show printed\n%s", out)
		}
		if out := ok("schedule", "cancel", id); !strings.HasPrefix(out, "cancelled "+id+": put of "+name+" at ") {
			t.Errorf("cancel printed %q", out)
		}
		var sc vane.Schedule
		if err := json.Unmarshal([]byte(ok("schedule", "show", id, "-o", "json")), &sc); err != nil || sc.State != vane.ScheduleCancelled {
			t.Errorf("after cancel: %+v (%v)", sc, err)
		}
		rows := tableRows(t, ok("schedule", "ls", "/e2e/cancel", "--state", "cancelled"), "ID", "NAME", "ACTION", "AT", "STATE", "RESULT")
		if len(rows) != 1 || rows[0][0] != id || rows[0][4] != "cancelled" {
			t.Errorf("schedule ls --state cancelled rows = %q", rows)
		}
		if out := ok("schedule", "ls", "/e2e/cancel", "--state", "pending"); out != "" {
			t.Errorf("schedule ls --state pending printed\n%s", out)
		}
		fails(1, []string{"schedule", "cancel", id}, "cannot cancel")
	})

	t.Run("UsageErrors", func(t *testing.T) {
		fails(2, []string{"rollout", "start", "/e2e/x", "--monitor", "http,timeout=2"}, "timeout=2")
		fails(2, []string{"schedule", "put", "/e2e/x", "v", "--at", "soon"}, "RFC 3339")
		fails(2, []string{"schedule", "ls", "--state", "late"}, "pending, done, failed or cancelled")
	})
}
