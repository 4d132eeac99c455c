package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/sdk"
)

// postJSON sends a JSON body and decodes the JSON answer into out,
// failing the test unless the status is want.
func postJSON(t *testing.T, client *http.Client, url string, body any, want int, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: status %d, want %d: %s", url, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// waitRollout polls a rollout until done says so, for up to d.
func waitRollout(t *testing.T, client *http.Client, url, id string, d time.Duration, done func(*vane.Rollout) bool) *vane.Rollout {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var r vane.Rollout
		err := getJSON(client, url+"/v1/rollouts/"+id, &r)
		if err == nil && done(&r) {
			return &r
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout %s after %s: %+v (%v)", id, d, r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// history returns the versions of name, oldest first.
func history(t *testing.T, client *http.Client, url, name string) []struct {
	Version          int64     `json:"version"`
	Value            string    `json:"value"`
	LastModified     time.Time `json:"last_modified"`
	LastModifiedUser string    `json:"last_modified_user"`
} {
	t.Helper()
	var page struct {
		Parameters []struct {
			Version          int64     `json:"version"`
			Value            string    `json:"value"`
			LastModified     time.Time `json:"last_modified"`
			LastModifiedUser string    `json:"last_modified_user"`
		} `json:"parameters"`
	}
	if err := getJSON(client, url+"/v1/history"+name+"?limit=100", &page); err != nil {
		t.Fatal(err)
	}
	return page.Parameters
}

// TestRolloutSurvivesSIGKILL starts a rollout and a scheduled change, kills
// the server with SIGKILL after the first step, and restarts it on the same
// data: the rollout's next step comes at its planned time, and the change
// whose time passed while the server was down runs late, recorded as late.
func TestRolloutSurvivesSIGKILL(t *testing.T) {
	bin := vaneBinary(t)
	data := t.TempDir()
	client := &http.Client{Timeout: 10 * time.Second}
	srv := startCrashServer(t, bin, data)
	if _, err := putOverwrite(t.Context(), client, srv.url, "/shop/prod/features/checkout", "false"); err != nil {
		t.Fatal(err)
	}
	if _, err := putOverwrite(t.Context(), client, srv.url, "/shop/prod/tuning/ttl", "300"); err != nil {
		t.Fatal(err)
	}
	var r vane.Rollout
	postJSON(t, client, srv.url+"/v1/rollouts", map[string]any{"name": "/shop/prod/features/checkout",
		"strategy": "linear", "step": 50, "every": "4s", "bake": "1s"}, http.StatusCreated, &r)
	var sc vane.Schedule
	postJSON(t, client, srv.url+"/v1/schedules", map[string]any{"name": "/shop/prod/tuning/ttl", "action": "put", "value": "600",
		"at": r.Created.Add(time.Second).Format(time.RFC3339Nano)}, http.StatusCreated, &sc)
	srv.kill(t)

	// Down past the scheduled change's time, and back before the second
	// step's.
	for time.Since(r.Created) < 3500*time.Millisecond {
		time.Sleep(50 * time.Millisecond)
	}
	srv = startCrashServer(t, bin, data)
	defer srv.stop(t)
	done := waitRollout(t, client, srv.url, r.ID, 20*time.Second, func(r *vane.Rollout) bool { return r.State == vane.RolloutCompleted })
	h := history(t, client, srv.url, "/shop/prod/features/checkout")
	if len(h) != 3 || h[1].LastModifiedUser != vane.RolloutPrincipal(r.ID) || h[2].LastModifiedUser != vane.RolloutPrincipal(r.ID) {
		t.Fatalf("history: %+v; want the original and two steps by the rollout", h)
	}
	for i, want := range []float64{50, 100} {
		if s, _ := flag.Share(h[i+1].Value, ""); s != want {
			t.Errorf("step %d: %s, want %v%%", i+1, h[i+1].Value, want)
		}
	}
	// The second step was due 4s after the start; the restart came before.
	late := h[2].LastModified.Sub(r.Created) - 4*time.Second
	t.Logf("step 2 came %s after its planned time (the server was killed and restarted before it)", late)
	if late < -50*time.Millisecond || late > 1500*time.Millisecond {
		t.Errorf("step 2 came %s after its planned time; want on time", late)
	}
	if done.Step != 2 || done.LastVersion != 3 {
		t.Errorf("completed rollout %+v", done)
	}

	var got vane.Schedule
	if err := getJSON(client, srv.url+"/v1/schedules/"+sc.ID, &got); err != nil {
		t.Fatal(err)
	}
	if got.State != vane.ScheduleDone || got.Late < vane.Duration(2*time.Second) || !strings.Contains(got.Result, "late") {
		t.Fatalf("the missed change: %+v; want done, recorded late", got)
	}
	if p, _ := getParameter(client, srv.url, "/shop/prod/tuning/ttl", ""); p.Value != "600" || p.Version != 2 {
		t.Fatalf("the missed change was not made once: %+v", p)
	}
	t.Logf("the change scheduled while the server was down ran %s late: %s", time.Duration(got.Late), got.Result)

	resp, err := client.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`vane_rollouts_ended_total{state="completed"} 1`, `vane_scheduled_changes_total{result="done"} 1`, "vane_rollout_steps_total 1", "vane_schedule_lag_seconds_count 1"} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("/metrics of the restarted node lacks %q", want)
		}
	}
}

// driverOf returns the node whose log says it runs the rollouts job now.
func driverOf(nodes []*crashServer) []*crashServer {
	var out []*crashServer
	for _, n := range nodes {
		logs := n.logs.String()
		if strings.LastIndex(logs, `now runs the background job" job=rollouts`) > strings.LastIndex(logs, `no longer runs the background job" job=rollouts`) {
			out = append(out, n)
		}
	}
	return out
}

// TestRolloutsOnPostgresOneDriverTakesOver runs two nodes on one
// PostgreSQL database: one drives the rollouts, a scheduled change runs
// once, and when the driver is killed with SIGKILL the other takes over
// within the lease and finishes the rollout, each step written once.
func TestRolloutsOnPostgresOneDriverTakesOver(t *testing.T) {
	bin := vaneBinary(t)
	client := &http.Client{Timeout: 10 * time.Second}
	const lease = 3 * time.Second
	nodes := startPostgresNodes(t, bin, 2, lease)
	deadline := time.Now().Add(10 * time.Second)
	for len(driverOf(nodes)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d nodes drive the rollouts; want 1", len(driverOf(nodes)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	driver := driverOf(nodes)[0]
	other := nodes[0]
	if other == driver {
		other = nodes[1]
	}
	if _, err := putOverwrite(t.Context(), client, other.url, "/shop/prod/features/checkout", "false"); err != nil {
		t.Fatal(err)
	}
	if _, err := putOverwrite(t.Context(), client, other.url, "/shop/prod/tuning/ttl", "300"); err != nil {
		t.Fatal(err)
	}
	// Started through the node that does not drive: it takes the first
	// step itself, the driver the rest.
	var r vane.Rollout
	postJSON(t, client, other.url+"/v1/rollouts", map[string]any{"name": "/shop/prod/features/checkout",
		"strategy": "linear", "step": 20, "every": "2s", "bake": "1s"}, http.StatusCreated, &r)
	var sc vane.Schedule
	postJSON(t, client, other.url+"/v1/schedules", map[string]any{"name": "/shop/prod/tuning/ttl", "action": "put", "value": "600",
		"at": time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)}, http.StatusCreated, &sc)

	waitRollout(t, client, other.url, r.ID, 10*time.Second, func(r *vane.Rollout) bool { return r.Step >= 2 })
	var got vane.Schedule
	deadline = time.Now().Add(10 * time.Second)
	for got.State != vane.ScheduleDone {
		if err := getJSON(client, other.url+"/v1/schedules/"+sc.ID, &got); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduled change %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h := history(t, client, other.url, "/shop/prod/tuning/ttl"); len(h) != 2 || h[1].LastModifiedUser != vane.SchedulePrincipal(sc.ID) {
		t.Fatalf("the scheduled change on two nodes: history %+v; want it made once", h)
	}
	if strings.Contains(other.logs.String(), "msg=\"rollout step\" rollout="+r.ID+" name=/shop/prod/features/checkout version=3") {
		t.Fatalf("the node that does not drive took a timed step:\n%s", other.logs.String())
	}

	killed := time.Now()
	driver.kill(t)
	deadline = time.Now().Add(lease + 10*time.Second)
	for len(driverOf([]*crashServer{other})) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the other node did not take over:\n%s", other.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the other node took over the rollouts %s after the driver was killed (lease %s)", time.Since(killed).Round(time.Millisecond), lease)
	// A waiting node tries every third of the lease: the take-over comes
	// within the lease and one try, plus a margin for a loaded machine.
	if d := time.Since(killed); d > lease+lease/3+1500*time.Millisecond {
		t.Errorf("take-over took %s; want within the lease (%s) and a third of it", d, lease)
	}
	done := waitRollout(t, client, other.url, r.ID, 30*time.Second, func(r *vane.Rollout) bool { return !r.State.Active() })
	if done.State != vane.RolloutCompleted {
		t.Fatalf("rollout ended %s: %s", done.State, done.Reason)
	}
	h := history(t, client, other.url, "/shop/prod/features/checkout")
	var shares []string
	for _, v := range h[1:] {
		s, _ := flag.Share(v.Value, "")
		shares = append(shares, fmt.Sprint(s))
		if v.LastModifiedUser != vane.RolloutPrincipal(r.ID) {
			t.Errorf("version %d by %s", v.Version, v.LastModifiedUser)
		}
	}
	if strings.Join(shares, " ") != "20 40 60 80 100" {
		t.Fatalf("steps written: %v; want each of 20 40 60 80 100 once", shares)
	}
}

// TestSDKReportedErrorsRollBack: a real SDK client evaluates a flag
// without a targeting key, so every evaluation errs once the rollout puts
// a percentage in it; the errors it reports fire the rollout's errors
// monitor, which rolls the flag back.
func TestSDKReportedErrorsRollBack(t *testing.T) {
	bin := vaneBinary(t)
	client := &http.Client{Timeout: 10 * time.Second}
	srv := startCrashServer(t, bin, t.TempDir())
	defer srv.stop(t)
	const name = "/shop/prod/features/checkout"
	if _, err := putOverwrite(t.Context(), client, srv.url, name, "false"); err != nil {
		t.Fatal(err)
	}
	c, err := sdk.Open(t.Context(), sdk.Config{Server: srv.url, Paths: []string{"/shop/prod/"}, UsageInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() {
		for ctx.Err() == nil {
			c.BoolFlag(ctx, name, false, flag.Context{"region": "eu"}) // no targetingKey
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var r vane.Rollout
	postJSON(t, client, srv.url+"/v1/rollouts", map[string]any{"name": name, "strategy": "linear", "step": 10, "every": "1h",
		"check_every": "1s", "monitors": []map[string]any{{"kind": "errors", "threshold": 0.2, "window": "10s", "min_evaluations": 5}}},
		http.StatusCreated, &r)
	began := time.Now()
	done := waitRollout(t, client, srv.url, r.ID, 30*time.Second, func(r *vane.Rollout) bool { return !r.State.Active() })
	t.Logf("rolled back %s after the first step: %s", time.Since(began).Round(time.Millisecond), done.Reason)
	if done.State != vane.RolloutRolledBack || !strings.Contains(done.Reason, "errors-1") {
		t.Fatalf("rollout ended %s: %q; want rolled back by the errors monitor", done.State, done.Reason)
	}
	if p, _ := getParameter(client, srv.url, name, ""); p.Value != "false" {
		t.Fatalf("flag after the rollback: %q", p.Value)
	}
}

// startPostgresNodes starts n `vane serve` processes (--dev) on one
// PostgreSQL database and one keyring, with a job lease of lease, and
// kills them when the test ends.
func startPostgresNodes(t *testing.T, bin string, n int, lease time.Duration) []*crashServer {
	t.Helper()
	store := postgresURL(t)
	keys := filepath.Join(t.TempDir(), "keyring.json")
	var nodes []*crashServer
	t.Cleanup(func() {
		for _, n := range nodes {
			n.cmd.Process.Kill()
		}
	})
	for range n {
		nodes = append(nodes, startServeProcess(t, bin, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", store,
			"--master-key-file", keys, "--job-lease", lease.String()))
	}
	return nodes
}
