package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// startNodes starts three `vane serve` processes on one fresh PostgreSQL
// schema, and returns them with a function that starts one more.
func startNodes(t *testing.T) ([]*crashServer, func() *crashServer) {
	t.Helper()
	bin := vaneBinary(t)
	store := postgresURL(t)
	// Nodes share one keyring file, as a deployment must, so SecureString
	// values and SSM paging tokens work on every node.
	keys := filepath.Join(t.TempDir(), "keyring.json")
	var mu sync.Mutex
	var all []*crashServer
	start := func() *crashServer {
		n := startServeProcess(t, bin, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--store", store, "--master-key-file", keys)
		mu.Lock()
		all = append(all, n)
		mu.Unlock()
		return n
	}
	t.Cleanup(func() {
		for _, n := range all {
			n.cmd.Process.Kill()
		}
	})
	return []*crashServer{start(), start(), start()}, start
}

// TestMultiNode runs three `vane serve` processes on one PostgreSQL
// database and checks that they behave as one store: a write on one node
// reaches the others' indexes within 100 ms, concurrent writers on all
// nodes get distinct consecutive versions, and a node killed with SIGKILL
// catches up when it restarts.
// checkPropagation fails the test unless the changes went through the
// database's notifications rather than a node's 2 s catch-up timer: half
// within 100 ms, and none as slow as the timer. (How fast is measured in
// BenchmarkPropagation, not here: a shared machine under load delays a
// few by hundreds of milliseconds.)
func checkPropagation(t *testing.T, what string, sorted []time.Duration) {
	t.Helper()
	if p50, slowest := sorted[len(sorted)/2], sorted[len(sorted)-1]; p50 > 100*time.Millisecond || slowest > time.Second {
		t.Errorf("%s: p50 %v, slowest %v; want p50 within 100ms and every one within 1s, below the 2s catch-up timer (all: %v)", what, p50, slowest, sorted)
	}
}

func TestMultiNode(t *testing.T) {
	nodes, start := startNodes(t)
	client := &http.Client{Timeout: 10 * time.Second}

	t.Run("Propagation", func(t *testing.T) {
		var lat []time.Duration
		for i := 0; i < 20; i++ {
			a, c := nodes[i%3], nodes[(i+2)%3]
			value := fmt.Sprintf("v%d", i)
			began := time.Now()
			if _, err := putOverwrite(context.Background(), client, a.url, "/mn/prop", value); err != nil {
				t.Fatal(err)
			}
			for {
				p, err := getParameter(client, c.url, "/mn/prop", "")
				if err == nil && p.Value == value {
					break
				}
				if time.Since(began) > 5*time.Second {
					t.Fatalf("write %d on one node not visible on another after 5s", i)
				}
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Since(began))
		}
		slices.Sort(lat)
		t.Logf("put on one node to read on another: p50 %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
		checkPropagation(t, "propagation", lat)
	})

	t.Run("WatchOnAnotherNode", func(t *testing.T) {
		events := openWatch(t, nodes[2].url, "/mn/watched/")
		var lat []time.Duration
		for i := 0; i < 10; i++ {
			value := fmt.Sprintf("w%d", i)
			began := time.Now()
			v, err := putOverwrite(context.Background(), client, nodes[0].url, "/mn/watched/x", value)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := nextChange(t, events, 5*time.Second)
			if !ok {
				t.Fatalf("watch on another node saw nothing within 5s of write %d", i)
			}
			if c.Name != "/mn/watched/x" || c.Version != v || c.Value != value {
				t.Fatalf("watch event %+v, want /mn/watched/x version %d value %q", c, v, value)
			}
			lat = append(lat, time.Since(began))
		}
		slices.Sort(lat)
		t.Logf("put on one node to watch event on another: p50 %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
		checkPropagation(t, "watch propagation", lat)
	})

	t.Run("SSMAcrossNodes", func(t *testing.T) {
		ssm := func(n *crashServer, op string, body map[string]any) map[string]any {
			t.Helper()
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest(http.MethodPost, n.url+"/", strings.NewReader(string(b)))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s on %s: status %d: %v", op, n.url, resp.StatusCode, out)
			}
			return out
		}
		ssm(nodes[0], "PutParameter", map[string]any{"Name": "/mn/ssm/secret", "Value": "s3cr3t", "Type": "SecureString"})
		for i := 0; i < 3; i++ {
			ssm(nodes[0], "PutParameter", map[string]any{"Name": fmt.Sprintf("/mn/ssm/p%d", i), "Value": "v", "Type": "String"})
		}
		for _, n := range nodes[1:] {
			waitVersion(t, client, n.url, "/mn/ssm/p2", 1)
		}
		got := ssm(nodes[2], "GetParameter", map[string]any{"Name": "/mn/ssm/secret", "WithDecryption": true})
		if v := got["Parameter"].(map[string]any)["Value"]; v != "s3cr3t" {
			t.Fatalf("SecureString put on one node reads %q with decryption on another", v)
		}
		// A paging token from one node continues the listing on another.
		page := ssm(nodes[0], "GetParametersByPath", map[string]any{"Path": "/mn/ssm", "MaxResults": 2})
		token, _ := page["NextToken"].(string)
		if token == "" {
			t.Fatalf("first page has no NextToken: %v", page)
		}
		rest := ssm(nodes[1], "GetParametersByPath", map[string]any{"Path": "/mn/ssm", "MaxResults": 2, "NextToken": token})
		if n := len(rest["Parameters"].([]any)); n != 2 {
			t.Fatalf("second page on another node has %d parameters, want 2: %v", n, rest)
		}
	})

	t.Run("ConcurrentWritersOnAllNodes", func(t *testing.T) {
		const perWriter = 20
		var mu sync.Mutex
		var versions []int64
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func(n *crashServer) {
				defer wg.Done()
				for j := 0; j < perWriter; j++ {
					v, err := putOverwrite(context.Background(), client, n.url, "/mn/counter", "x")
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					versions = append(versions, v)
					mu.Unlock()
				}
			}(nodes[i%3])
		}
		wg.Wait()
		slices.Sort(versions)
		for i, v := range versions {
			if v != int64(i+1) {
				t.Fatalf("versions are not 1..%d without duplicates or gaps: %v", len(versions), versions)
			}
		}
		for _, n := range nodes {
			waitVersion(t, client, n.url, "/mn/counter", int64(len(versions)))
		}
	})

	t.Run("KilledNodeCatchesUp", func(t *testing.T) {
		nodes[1].kill(t)
		for i := 0; i < 5; i++ {
			if _, err := putOverwrite(context.Background(), client, nodes[0].url, "/mn/while-down", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		nodes[1] = start()
		p, err := getParameter(client, nodes[1].url, "/mn/while-down", "")
		if err != nil || p.Value != "4" {
			t.Fatalf("restarted node reads %+v, %v; want the last write \"4\"", p, err)
		}
		putOverwrite(context.Background(), client, nodes[1].url, "/mn/after-restart", "b")
		waitVersion(t, client, nodes[2].url, "/mn/after-restart", 1)
	})

	t.Run("SDKThroughBalancerSurvivesNodeLoss", func(t *testing.T) {
		// The balancer sends the client to node C while it lives.
		lb := startBalancer(t, nodes[2].url, nodes[0].url, nodes[1].url)
		w := openSDK(t, lb.url, "/mn/sdk/")
		const name = "/mn/sdk/x"
		var lat []time.Duration
		var last int64
		for i := 0; i < 10; i++ {
			began := time.Now()
			v, err := putOverwrite(context.Background(), client, nodes[i%2].url, name, fmt.Sprint(i))
			if err != nil {
				t.Fatal(err)
			}
			lat = append(lat, w.waitVersion(t, name, v).Sub(began))
			last = v
		}
		slices.Sort(lat)
		t.Logf("put on A or B to SDK callback via C: p50 %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
		checkPropagation(t, "SDK propagation", lat)

		// Node C dies under the stream: the client moves to A and
		// resumes by sequence, missing nothing and repeating nothing.
		nodes[2].kill(t)
		if got := w.client.String(name, ""); got != "9" {
			t.Errorf("read right after node C died = %q, want 9", got)
		}
		for i := 10; i < 15; i++ {
			v, err := putOverwrite(context.Background(), client, nodes[0].url, name, fmt.Sprint(i))
			if err != nil {
				t.Fatal(err)
			}
			last = v
		}
		w.waitVersion(t, name, last)
		w.checkVersions(t, name, 1, last)
		if got := w.client.String(name, ""); got != "14" {
			t.Errorf("after fail-over = %q, want 14", got)
		}
		nodes[2] = start()
	})
}

// TestMultiNodeDatabaseRestart stops and starts PostgreSQL under three
// running nodes with the command prefix in VANE_TEST_POSTGRES_CTL (such as
// "pg_ctlcluster 15 main"). While the database is down, reads go on from
// the indexes, writes fail with 503 and /readyz reports not ready; once it
// is back, every node sees every write without being restarted. Stopping
// the database would break other packages' tests running at the same time,
// so .ci/run runs this test alone, in a step of its own that sets the
// variable; without it the test is skipped.
func TestMultiNodeDatabaseRestart(t *testing.T) {
	ctl := os.Getenv("VANE_TEST_POSTGRES_CTL")
	if ctl == "" {
		t.Skip("VANE_TEST_POSTGRES_CTL (e.g. \"pg_ctlcluster 15 main\") is not set; .ci/run sets it in a step of its own")
	}
	nodes, _ := startNodes(t)
	client := &http.Client{Timeout: 10 * time.Second}
	if _, err := putOverwrite(context.Background(), client, nodes[0].url, "/mn/prop", "before"); err != nil {
		t.Fatal(err)
	}
	waitVersion(t, client, nodes[2].url, "/mn/prop", 1)
	// A watcher and an SDK client on another node must see every write
	// made after the database comes back, without a reset.
	events := openWatch(t, nodes[2].url, "/mn/after-db-restart/")
	w := openSDK(t, nodes[2].url, "/mn/after-db-restart/")
	pgctl := func(action string) {
		t.Helper()
		if out, err := exec.Command("sh", "-c", ctl+" "+action).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", ctl, action, err, out)
		}
	}
	pgctl("stop")
	started := false
	defer func() {
		if !started {
			pgctl("start")
		}
	}()

	for _, n := range nodes {
		if p, err := getParameter(client, n.url, "/mn/prop", ""); err != nil || p.Value != "before" {
			t.Fatalf("read while the database is down: %+v, %v", p, err)
		}
		if code := statusOf(t, client, http.MethodPut, n.url+"/v1/parameters/mn/down", `{"value":"x","type":"String"}`); code != http.StatusServiceUnavailable {
			t.Fatalf("write while the database is down: status %d, want 503", code)
		}
		if code := statusOf(t, client, http.MethodGet, n.url+"/readyz", ""); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz while the database is down: status %d, want 503", code)
		}
	}

	pgctl("start")
	started = true
	// The pools reconnect on their own; writes may fail until they have.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 10; {
		if _, err := putOverwrite(context.Background(), client, nodes[i%3].url, fmt.Sprintf("/mn/after-db-restart/k%d", i), "ok"); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("writes still fail 30s after the database came back: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		i++
	}
	for _, n := range nodes {
		for i := 0; i < 10; i++ {
			waitVersion(t, client, n.url, fmt.Sprintf("/mn/after-db-restart/k%d", i), 1)
		}
		if code := statusOf(t, client, http.MethodGet, n.url+"/readyz", ""); code != http.StatusOK {
			t.Fatalf("/readyz after the database came back: status %d", code)
		}
	}
	seen := map[string]bool{}
	for len(seen) < 10 {
		c, ok := nextChange(t, events, 10*time.Second)
		if !ok {
			t.Fatalf("the watcher saw %d of the 10 writes made after the database restart: %v", len(seen), seen)
		}
		seen[c.Name] = true
	}
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("/mn/after-db-restart/k%d", i)
		w.waitVersion(t, name, 1)
		w.checkVersions(t, name, 1, 1)
	}
}

// statusOf sends one request and returns its status code.
func statusOf(t *testing.T, client *http.Client, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitVersion waits up to 10 s for a node to serve version want of name.
func waitVersion(t *testing.T, client *http.Client, url, name string, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := getParameter(client, url, name, "")
		if err == nil && p.Version == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s serves %s at %+v (%v), want version %d", url, name, p, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sseEvent is one server-sent event of /v1/watch.
type sseEvent struct {
	event string
	id    string
	data  watchChange
}

type watchChange struct {
	Seq     int64  `json:"seq"`
	Op      string `json:"op"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Value   string `json:"value"`
}

// openWatch opens GET /v1/watch on a node and returns its events, in order,
// on a channel closed when the stream ends or the test does.
func openWatch(t *testing.T, base, path string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/watch?path="+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: status %d", resp.StatusCode)
	}
	events := make(chan sseEvent, 1024)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.id != "" {
					events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event:"):
				ev.event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "id:"):
				ev.id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
			case strings.HasPrefix(line, "data:"):
				json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "data:"))), &ev.data)
			}
		}
	}()
	return events
}

// nextChange waits up to d for the next change event of a watch.
func nextChange(t *testing.T, events <-chan sseEvent, d time.Duration) (watchChange, bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("watch stream ended")
			}
			if ev.event == "reset" {
				t.Fatal("watch stream was reset: the watcher would miss changes")
			}
			if ev.event == "change" || ev.event == "" && ev.id != "" {
				return ev.data, true
			}
		case <-timeout:
			return watchChange{}, false
		}
	}
}
