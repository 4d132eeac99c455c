package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane/event"
)

// hookReceiver is a real webhook receiver: it verifies each delivery's
// signature with the rule's secret and de-duplicates by event id, as
// doc/events.md tells receivers to.
type hookReceiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	seen   map[string]int // event id → deliveries received
	order  []string       // event names in first-arrival order
	bad    []string
	down   bool
	hold   chan struct{} // when set, requests wait for it to close
	held   chan string   // the id of each request that waits
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{seen: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(event.HeaderEventID)
		h.mu.Lock()
		hold, held, down, secret := h.hold, h.held, h.down, h.secret
		h.mu.Unlock()
		if hold != nil {
			held <- id
			<-hold
		}
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var e event.Event
		err := event.Verify(secret, r.Header.Get(event.HeaderSignature), r.Header.Get(event.HeaderTimestamp), body, time.Now(), 0)
		if err == nil {
			err = json.Unmarshal(body, &e)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if err != nil || e.ID != id {
			h.bad = append(h.bad, fmt.Sprintf("%s: %v", id, err))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if h.seen[id] == 0 {
			h.order = append(h.order, fmt.Sprintf("%s@%d", e.Detail.Name, e.Detail.Version))
		}
		h.seen[id]++
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) snapshot() (order []string, dups int, bad []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.seen {
		dups += n - 1
	}
	return append([]string(nil), h.order...), dups, append([]string(nil), h.bad...)
}

// waitOrder waits until the receiver has n distinct events.
func (h *hookReceiver) waitOrder(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		order, _, bad := h.snapshot()
		if len(bad) > 0 {
			t.Fatalf("the receiver refused deliveries: %v", bad)
		}
		if len(order) >= n {
			return order
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver has %d of %d events after %s: %v", len(order), n, within, order)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var secretLine = regexp.MustCompile(`signing secret: (\S+)`)

// createHookRule creates a webhook rule with the CLI and gives the
// receiver its secret.
func createHookRule(t *testing.T, bin, url string, h *hookReceiver, args ...string) {
	t.Helper()
	res := runVane(t, bin, url, "", append([]string{"events", "rules", "create", "hooks", "--target", "webhook", "--url", h.URL}, args...)...)
	if res.code != 0 {
		t.Fatalf("events rules create: %d %s", res.code, res.stderr)
	}
	m := secretLine.FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("no secret printed: %s", res.stdout)
	}
	h.mu.Lock()
	h.secret = m[1]
	h.mu.Unlock()
}

// TestEventsWebhookEndToEnd: a real server, a real receiver, the CLI:
// in-order delivery, the receiver down then up, and a SIGKILL while a
// delivery is in flight, after which the event comes again with the same
// id and the receiver keeps one of each.
func TestEventsWebhookEndToEnd(t *testing.T) {
	bin := vaneBinary(t)
	data := t.TempDir()
	client := &http.Client{Timeout: 10 * time.Second}
	srv := startCrashServer(t, bin, data)
	h := newHookReceiver(t)
	if _, err := putOverwrite(t.Context(), client, srv.url, "/shop/prod/features/before", "true"); err != nil {
		t.Fatal(err)
	}
	createHookRule(t, bin, srv.url, h, "--path", "/shop/*/features/*")
	// A second rule whose target accepts connections and never answers:
	// its attempts time out, and the first rule's events must not wait.
	stuck, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	go func() {
		for {
			c, err := stuck.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	if res := runVane(t, bin, srv.url, "", "events", "rules", "create", "stuck", "--path", "/shop/", "--target", "webhook",
		"--url", "http://"+stuck.Addr().String()+"/hook"); res.code != 0 {
		t.Fatalf("events rules create stuck: %s", res.stderr)
	}

	// In order, and only what the rule selects, from its creation on.
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("/shop/prod/features/f%d", i%2)
		v, err := putOverwrite(t.Context(), client, srv.url, name, fmt.Sprint(i%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%s@%d", name, v))
		if _, err := putOverwrite(t.Context(), client, srv.url, "/shop/prod/tuning/ttl", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	started := time.Now()
	if got := h.waitOrder(t, 5, 10*time.Second); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	// The stuck rule's first attempt alone takes 5 s to time out.
	if d := time.Since(started); d > 3*time.Second {
		t.Errorf("the events took %s next to a rule whose target hangs; want them at once", d)
	}

	// The receiver goes down: attempts fail and back off; nothing is lost.
	h.mu.Lock()
	h.down = true
	h.mu.Unlock()
	for i := range 3 {
		v, err := putOverwrite(t.Context(), client, srv.url, "/shop/dev/features/d", fmt.Sprint(i%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("/shop/dev/features/d@%d", v))
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(runVane(t, bin, srv.url, "", "events", "deliveries", "hooks").stdout, "503") {
		if time.Now().After(deadline) {
			t.Fatal("no failed attempt listed while the receiver is down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.mu.Lock()
	h.down = false
	h.mu.Unlock()
	if got := h.waitOrder(t, 8, 20*time.Second); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the receiver came back: %v, want %v", got, want)
	}

	// A delivery in flight when the server is killed comes again after
	// the restart, with the same id.
	h.mu.Lock()
	h.hold, h.held = make(chan struct{}), make(chan string, 16)
	h.mu.Unlock()
	v, err := putOverwrite(t.Context(), client, srv.url, "/shop/prod/features/f0", "false")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, fmt.Sprintf("/shop/prod/features/f0@%d", v))
	inFlight := <-h.held
	srv.kill(t)
	h.mu.Lock()
	close(h.hold)
	h.hold = nil
	h.mu.Unlock()
	srv = startCrashServer(t, bin, data)
	defer srv.stop(t)
	got := h.waitOrder(t, 9, 20*time.Second)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the restart: %v, want %v", got, want)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		h.mu.Lock()
		n := h.seen[inFlight]
		h.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event in flight at the SIGKILL (%s) was received %d times; want it sent again after the restart", inFlight, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, dups, _ := h.snapshot()
	t.Logf("after the SIGKILL: %s received twice, kept once by its id; %d duplicates in all", inFlight, dups)
	// The changes replayed from the last saved cursor are not sent again
	// when their deliveries were recorded: only what was in flight is.
	if dups > 2 {
		t.Errorf("%d events received twice after the restart; want only the one in flight", dups)
	}

	// The CLI shows the rule's deliveries, every one delivered.
	out := runVane(t, bin, srv.url, "", "events", "deliveries", "hooks", "-o", "json")
	var listed struct {
		Deliveries []struct{ State string } `json:"deliveries"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &listed); err != nil || len(listed.Deliveries) != 9 {
		t.Fatalf("events deliveries -o json: %v %s", err, out.stdout)
	}
	for _, d := range listed.Deliveries {
		if d.State != "delivered" {
			t.Errorf("a delivery is %s", d.State)
		}
	}
	if res := runVane(t, bin, srv.url, "", "events", "test", "hooks"); res.code != 0 || !strings.Contains(res.stdout, "delivered (status 200") {
		t.Errorf("events test: %d %s %s", res.code, res.stdout, res.stderr)
	}
}

// TestEventsOnPostgresOneNodeDelivers: two nodes on one database; each
// event reaches the receiver from one node, and when that node is killed
// the other goes on.
func TestEventsOnPostgresOneNodeDelivers(t *testing.T) {
	bin := vaneBinary(t)
	client := &http.Client{Timeout: 10 * time.Second}
	const lease = 3 * time.Second
	nodes := startPostgresNodes(t, bin, 2, lease)
	h := newHookReceiver(t)
	createHookRule(t, bin, nodes[0].url, h, "--path", "/pg/")
	var want []string
	put := func(node *crashServer, i int) {
		v, err := putOverwrite(t.Context(), client, node.url, fmt.Sprintf("/pg/k%d", i%3), fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("/pg/k%d@%d", i%3, v))
	}
	for i := range 6 {
		put(nodes[i%2], i)
	}
	if got := h.waitOrder(t, 6, 15*time.Second); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	// The node holding the rule's lease says so in its log.
	var driver, other *crashServer
	for _, n := range nodes {
		if strings.Contains(n.logs.String(), `job=events:`) && strings.Contains(n.logs.String(), "now runs the background job\" job=events:") {
			driver = n
		}
	}
	if driver == nil {
		t.Fatal("no node says it delivers the rule's events")
	}
	other = nodes[0]
	if other == driver {
		other = nodes[1]
	}
	if strings.Contains(other.logs.String(), "now runs the background job\" job=events:") {
		t.Fatal("both nodes took the rule's lease")
	}
	driver.kill(t)
	for i := 6; i < 9; i++ {
		put(other, i)
	}
	if got := h.waitOrder(t, 9, lease+15*time.Second); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the delivering node was killed: %v, want %v", got, want)
	}
	_, dups, _ := h.snapshot()
	t.Logf("two nodes, one killed: 9 events received in order, %d duplicates (kept once by id)", dups)
}
