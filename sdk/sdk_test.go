package sdk_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/sdk"
	"github.com/vanehq/vane/sqlite"
)

func TestOpenReadsSnapshotAndFollowsChanges(t *testing.T) {
	s := startServer(t)
	s.put("/app/prod/features/checkout", "true")
	s.put("/app/prod/tuning/ttl", "300")
	s.put("/app/dev/features/checkout", "false") // not under the client's path

	c, rec := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/prod/"}})
	if !c.Bool("features/checkout", false) {
		t.Error(`Bool("features/checkout") = false, want true from the snapshot`)
	}
	if got := c.Int("/app/prod/tuning/ttl", 1); got != 300 {
		t.Errorf("Int(ttl) = %d, want 300", got)
	}
	if got := c.String("/app/dev/features/checkout", "absent"); got != "absent" {
		t.Errorf("a name outside the client's paths = %q, want the default", got)
	}
	if st := c.Status(); !st.Connected && st.Stale {
		// The stream opens just after Open returns; give it a moment.
		waitUntil(t, "the stream to open", func() bool { return c.Status().Connected })
	}

	// A callback runs after the new value is visible to reads.
	seen := make(chan string, 1)
	c.OnChange("features/checkout", func(ch sdk.Change) {
		seen <- fmt.Sprintf("%s=%s read=%v", ch.Name, ch.Value, c.Bool("features/checkout", true))
	})
	seq := s.put("/app/prod/features/checkout", "false")
	select {
	case got := <-seen:
		if want := "/app/prod/features/checkout=false read=false"; got != want {
			t.Errorf("callback saw %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no callback for the change")
	}
	if got := c.Status().Seq; got < seq {
		t.Errorf("Status().Seq = %d, want at least %d", got, seq)
	}

	s.put("/app/dev/features/checkout", "true")
	s.del("/app/prod/tuning/ttl")
	cs := rec.waitFor(t, "the delete", func(cs []sdk.Change) bool {
		return len(cs) > 0 && cs[len(cs)-1].Deleted
	})
	for _, ch := range cs {
		if !strings.HasPrefix(ch.Name, "/app/prod/") {
			t.Errorf("callback for %s, outside the client's paths", ch.Name)
		}
	}
	if got := c.Int("tuning/ttl", 7); got != 7 {
		t.Errorf("Int(ttl) after delete = %d, want the default 7", got)
	}
}

func TestTypedReads(t *testing.T) {
	s := startServer(t)
	values := map[string]string{
		"b": "true", "i": " 42 ", "f": "0.25", "d": "1m30s", "secs": "300", "list": "a,b,c",
		"json": `{"limit":5,"name":"x"}`, "bad": "not-a-number", "badjson": `{"limit":`,
	}
	for n, v := range values {
		s.put("/app/"+n, v)
	}
	s.put("/app/list2", "x,y", vane.TypeStringList)
	c, rec := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}})

	if !c.Bool("b", false) || c.Int("i", 0) != 42 || c.Float("f", 0) != 0.25 {
		t.Errorf("Bool/Int/Float = %v/%d/%v", c.Bool("b", false), c.Int("i", 0), c.Float("f", 0))
	}
	if got := c.Duration("d", 0); got != 90*time.Second {
		t.Errorf("Duration(1m30s) = %v", got)
	}
	if got := c.Duration("secs", 0); got != 300*time.Second {
		t.Errorf("Duration(300) = %v, want 5m0s (bare seconds)", got)
	}
	if got := c.StringList("list", nil); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("StringList = %q", got)
	}
	if got := c.StringList("list2", nil); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("StringList of a StringList = %q", got)
	}
	if got := c.StringList("missing", []string{"d"}); !slices.Equal(got, []string{"d"}) {
		t.Errorf("StringList default = %q", got)
	}
	type limits struct {
		Limit int    `json:"limit"`
		Name  string `json:"name"`
	}
	var l limits
	if src := c.JSON("json", &l); src != sdk.SourceStore || l != (limits{5, "x"}) {
		t.Errorf("JSON = %+v from %s", l, src)
	}

	// Values that do not parse give the default and are reported once.
	l = limits{Limit: 1}
	for range 3 {
		if got := c.Int("bad", 9); got != 9 {
			t.Errorf("Int(bad) = %d, want the default 9", got)
		}
		if got := c.Bool("bad", true); !got {
			t.Error("Bool(bad) = false, want the default true")
		}
		if src := c.JSON("badjson", &l); src != sdk.SourceDefault || l != (limits{Limit: 1}) {
			t.Errorf("JSON(badjson) = %+v from %s, want the default untouched", l, src)
		}
	}
	if src := c.JSON("json", l); src != sdk.SourceDefault {
		t.Errorf("JSON into a non-pointer = %s, want default", src)
	}
	ves := rec.valueErrors()
	var kinds []string
	for _, ve := range ves {
		kinds = append(kinds, ve.Name+":"+ve.Kind)
		if ve.Source != sdk.SourceStore || ve.Version != 1 {
			t.Errorf("ValueError %v: source %s version %d", ve, ve.Source, ve.Version)
		}
	}
	slices.Sort(kinds)
	if want := []string{"/app/bad:bool", "/app/bad:int", "/app/badjson:JSON"}; !slices.Equal(kinds, want) {
		t.Errorf("reported %q, want each bad value once per kind: %q", kinds, want)
	}

	// A new version of a bad value is reported again.
	s.put("/app/bad", "still-bad")
	waitUntil(t, "the new version", func() bool { return c.Explain("bad").Version == 2 })
	c.Int("bad", 0)
	if n := len(rec.valueErrors()); n != 4 {
		t.Errorf("%d value errors after a new bad version, want 4", n)
	}
}

func TestSecureStrings(t *testing.T) {
	s := startServer(t)
	s.put("/app/db/password", "hunter2", vane.TypeSecureString)

	plain, _ := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}})
	if got := plain.String("db/password", "none"); got != "none" {
		t.Errorf("SecureString without Decrypt = %q, want the default", got)
	}
	if x := plain.Explain("db/password"); x.Source != sdk.SourceDefault || !strings.Contains(x.Note, "Decrypt") {
		t.Errorf("Explain = %+v", x)
	}

	dec, rec := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, Decrypt: true})
	if got := dec.String("db/password", "none"); got != "hunter2" {
		t.Errorf("SecureString with Decrypt = %q", got)
	}
	waitUntil(t, "the stream", func() bool { return dec.Status().Connected })
	s.put("/app/db/password", "correct-horse", vane.TypeSecureString)
	rec.waitFor(t, "the new secret", hasChange("/app/db/password", "correct-horse"))
	if got := dec.String("db/password", ""); got != "correct-horse" {
		t.Errorf("after the change = %q", got)
	}
	if x := dec.Explain("db/password"); x.Value != "" || x.Source != sdk.SourceStore {
		t.Errorf("Explain shows a secret: %+v", x)
	}
	// A SecureString that does not parse is reported without its value.
	s.put("/app/db/port", "secret-not-a-port", vane.TypeSecureString)
	rec.waitFor(t, "the port", hasChange("/app/db/port", "secret-not-a-port"))
	dec.Int("db/port", 0)
	for _, ve := range rec.valueErrors() {
		if strings.Contains(ve.Error(), "secret-not-a-port") {
			t.Errorf("a report shows a SecureString value: %v", ve)
		}
	}
}

func TestLayersAndExplain(t *testing.T) {
	s := startServer(t)
	s.put("/app/prod/tuning/cache/BALANCE_TTL", "300")
	s.put("/app/prod/tuning/retries", "3")
	env := map[string]string{"BALANCE_TTL": "60", "RETRIES": "many"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, rec := open(t, sdk.Config{
		Server: s.URL(), Paths: []string{"/app/prod/"}, LookupEnv: lookup,
		Env: map[string]string{"tuning/cache/BALANCE_TTL": "BALANCE_TTL", "/app/prod/tuning/retries": "RETRIES", "tuning/unset": "UNSET"},
	})

	if got := c.Int("tuning/cache/BALANCE_TTL", 1); got != 60 {
		t.Errorf("env layer: %d, want 60", got)
	}
	x := c.Explain("tuning/cache/BALANCE_TTL")
	if x.Source != sdk.SourceEnv || x.EnvVar != "BALANCE_TTL" || x.Value != "60" || x.Version != 1 {
		t.Errorf("Explain(env) = %+v", x)
	}
	// An environment value that does not parse falls through to the store.
	if got := c.Int("tuning/retries", 1); got != 3 {
		t.Errorf("bad env falls to the store: %d, want 3", got)
	}
	if ves := rec.valueErrors(); len(ves) != 1 || ves[0].Source != sdk.SourceEnv || ves[0].EnvVar != "RETRIES" {
		t.Errorf("reports = %v, want the RETRIES variable", ves)
	}
	if x := c.Explain("/app/prod/tuning/retries"); x.Source != sdk.SourceEnv {
		// String reads take the variable as it is.
		t.Errorf("Explain(retries) = %+v", x)
	}
	if x := c.Explain("tuning/unset"); x.Source != sdk.SourceDefault || x.Name != "/app/prod/tuning/unset" {
		t.Errorf("Explain(default) = %+v", x)
	}
	if x := c.Explain("tuning/cache/BALANCE_TTL"); x.Seq != c.Status().Seq {
		t.Errorf("Explain.Seq = %d, Status().Seq = %d", x.Seq, c.Status().Seq)
	}
}

func TestTunables(t *testing.T) {
	s := startServer(t)
	s.put("/app/prod/tuning/cache/BALANCE_TTL", "300")
	s.put("/app/prod/tuning/cache/MAX", "100000")
	s.put("/app/prod/tuning/timeout", "2s")
	env := map[string]string{"RATIO": "2.5"}
	c, rec := open(t, sdk.Config{
		Server: s.URL(), Paths: []string{"/app/prod/"},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	tun := c.Tunables("tuning")
	ttl := tun.Int("cache/BALANCE_TTL", 60, sdk.Min(1), sdk.Max(3600), sdk.Env("BALANCE_TTL"))
	maxItems := tun.Int("cache/MAX", 500, sdk.Max(10000))
	timeout := tun.Duration("timeout", time.Second, sdk.Min(100*time.Millisecond))
	ratio := tun.Float("ratio", 0.5, sdk.Min(0), sdk.Max(1), sdk.Env("RATIO"))
	on := tun.Bool("enabled", true)

	if ttl.Get() != 300 || ttl.Name() != "/app/prod/tuning/cache/BALANCE_TTL" {
		t.Errorf("ttl = %d (%s), want 300 from the store", ttl.Get(), ttl.Name())
	}
	if timeout.Get() != 2*time.Second || !on.Get() {
		t.Errorf("timeout = %v, enabled = %v", timeout.Get(), on.Get())
	}
	// Out of bounds: the default, reported once, explained.
	for range 3 {
		if got := maxItems.Get(); got != 500 {
			t.Errorf("maxItems = %d, want the default 500 (store value above Max)", got)
		}
		if got := ratio.Get(); got != 0.5 {
			t.Errorf("ratio = %v, want the default (env value above Max, no store value)", got)
		}
	}
	if ves := rec.valueErrors(); len(ves) != 2 {
		t.Errorf("reports = %v, want one for MAX and one for RATIO", ves)
	}
	x := maxItems.Explain()
	if x.Source != sdk.SourceDefault || x.Value != "500" || !strings.Contains(x.Note, "above the maximum 10000") {
		t.Errorf("Explain(max) = %+v", x)
	}

	// A change to the store reaches the tunable.
	waitUntil(t, "the stream", func() bool { return c.Status().Connected })
	s.put("/app/prod/tuning/cache/BALANCE_TTL", "120")
	waitUntil(t, "the new ttl", func() bool { return ttl.Get() == 120 })
	s.put("/app/prod/tuning/cache/BALANCE_TTL", "0") // below Min
	waitUntil(t, "the rejected ttl", func() bool { return ttl.Explain().Version == 3 })
	if got := ttl.Get(); got != 60 {
		t.Errorf("ttl below Min = %d, want the default 60", got)
	}

	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "bound") {
			t.Errorf("a float bound on an int tunable: recover() = %v, want a panic naming the bound", r)
		}
	}()
	tun.Int("x", 1, sdk.Min(0.5))
}

func TestResumeAfterServerRestart(t *testing.T) {
	s := startServer(t)
	s.put("/app/a", "0")
	c, rec := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, MinBackoff: 10 * time.Millisecond})
	waitUntil(t, "the stream", func() bool { return c.Status().Connected })

	var want []int64
	for i := 1; i <= 5; i++ {
		want = append(want, s.put("/app/a", fmt.Sprint(i)))
	}
	rec.waitFor(t, "a=5", hasChange("/app/a", "5"))

	// The server goes away; reads keep their values and the client says
	// it is stale. Meanwhile another writer changes the store.
	s.stop()
	waitUntil(t, "the client to notice", func() bool { return c.Status().Stale && !c.Status().Connected })
	if got := c.String("a", ""); got != "5" {
		t.Errorf("read while the server is down = %q, want the last value 5", got)
	}
	s.offline(func(st *sqlite.Store) {
		for i := 6; i <= 8; i++ {
			if _, err := st.Put(context.Background(), &vane.PutInput{Name: "/app/b", Value: fmt.Sprint(i), Type: vane.TypeString, Overwrite: true}); err != nil {
				t.Fatal(err)
			}
		}
	})
	s.start()
	for i := 9; i <= 10; i++ {
		s.put("/app/a", fmt.Sprint(i))
	}
	cs := rec.waitFor(t, "a=10", hasChange("/app/a", "10"))
	if c.Status().Stale {
		t.Error("still stale after the server came back")
	}

	// Every change exactly once, in order: the changes made while the
	// client was away came as events, not as a reload.
	var got []int64
	for _, ch := range cs {
		if ch.Reload {
			t.Errorf("change %+v is a reload, want events resumed by sequence", ch)
		}
		got = append(got, ch.Seq)
	}
	all := s.changeSeqs("/app/")
	if !slices.Equal(got, all[1:]) {
		t.Errorf("callback sequences %v, want every change after the first exactly once: %v", got, all[1:])
	}
	if c.String("b", "") != "8" {
		t.Errorf("b = %q, want 8 written while the client was away", c.String("b", ""))
	}
}

// changeSeqs returns the sequence numbers of every change under prefix.
func (s *server) changeSeqs(prefix string) []int64 {
	s.t.Helper()
	cs, err := s.idx.Changes(context.Background(), 0, prefix, vane.MaxPageSize)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []int64
	for _, c := range cs {
		out = append(out, c.Seq)
	}
	return out
}

func TestResetAfterCompaction(t *testing.T) {
	s := startServer(t)
	s.put("/app/a", "1")
	s.put("/app/gone", "1")
	c, rec := open(t, sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, MinBackoff: 10 * time.Millisecond})
	waitUntil(t, "the stream", func() bool { return c.Status().Connected })

	// While the client is away, the log moves on and is compacted past
	// the client's sequence.
	s.stop()
	s.offline(func(st *sqlite.Store) {
		ctx := context.Background()
		for i := 2; i <= 4; i++ {
			st.Put(ctx, &vane.PutInput{Name: "/app/a", Value: fmt.Sprint(i), Overwrite: true})
		}
		st.Delete(ctx, &vane.DeleteInput{Name: "/app/gone"})
		st.Put(ctx, &vane.PutInput{Name: "/app/new", Value: "n", Type: vane.TypeString})
		if n, err := st.Compact(ctx, time.Now().Add(time.Hour)); err != nil || n == 0 {
			t.Fatalf("Compact = %d, %v", n, err)
		}
	})
	s.start()
	cs := rec.waitFor(t, "the reload", hasChange("/app/new", "n"))
	if c.String("a", "") != "4" || c.String("gone", "deleted") != "deleted" {
		t.Errorf("after the reload a=%q gone=%q", c.String("a", ""), c.String("gone", "deleted"))
	}
	var names []string
	for _, ch := range cs {
		if !ch.Reload {
			t.Errorf("change %+v is not marked Reload", ch)
		}
		names = append(names, fmt.Sprintf("%s deleted=%v", ch.Name, ch.Deleted))
	}
	slices.Sort(names)
	want := []string{"/app/a deleted=false", "/app/gone deleted=true", "/app/new deleted=false"}
	if !slices.Equal(names, want) {
		t.Errorf("reload changes %q, want %q", names, want)
	}
	// And it follows the stream again afterwards.
	s.put("/app/a", "5")
	rec.waitFor(t, "a=5", hasChange("/app/a", "5"))
}

func TestServerDownAtStart(t *testing.T) {
	addr := freeAddr(t)
	began := time.Now()
	c, rec := open(t, sdk.Config{Server: "http://" + addr, Paths: []string{"/app/"}, StartTimeout: 300 * time.Millisecond, MinBackoff: 10 * time.Millisecond})
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Open took %v with the server down, want about StartTimeout", took)
	}
	if got := c.Int("ttl", 30); got != 30 {
		t.Errorf("Int with no server = %d, want the default", got)
	}
	if st := c.Status(); !st.Stale || st.Connected || st.LastError == nil {
		t.Errorf("Status = %+v, want stale with an error", st)
	}
	if rec.errCount() == 0 {
		t.Error("the unreachable server was not reported")
	}

	// The server comes up: the client loads it without being reopened.
	s := &server{t: t, dir: t.TempDir(), addr: addr}
	s.start()
	t.Cleanup(s.stop)
	s.put("/app/ttl", "45")
	waitUntil(t, "the value", func() bool { return c.Int("ttl", 30) == 45 })
	waitUntil(t, "fresh status", func() bool { return !c.Status().Stale })
}

func TestSnapshotFile(t *testing.T) {
	s := startServer(t)
	s.put("/app/ttl", "45")
	s.put("/app/db/password", "hunter2", vane.TypeSecureString)
	file := filepath.Join(t.TempDir(), "vane-snapshot.json")
	cfg := sdk.Config{Server: s.URL(), Paths: []string{"/app/"}, SnapshotFile: file, StartTimeout: 300 * time.Millisecond, MinBackoff: 10 * time.Millisecond}

	first, _ := open(t, cfg)
	if first.Int("ttl", 0) != 45 {
		t.Fatal("first client has no value")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no snapshot file after Close: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file mode %v, want 0600", fi.Mode().Perm())
	}

	// A cold start during an outage serves the file's values.
	s.stop()
	cold, _ := open(t, cfg)
	if got := cold.Int("ttl", 0); got != 45 {
		t.Errorf("cold start from the file: ttl = %d, want 45", got)
	}
	if got := cold.String("db/password", "none"); got != "none" {
		t.Errorf("a SecureString saved without Decrypt = %q", got)
	}
	if st := cold.Status(); !st.FromFile || !st.Stale {
		t.Errorf("Status = %+v, want FromFile and Stale", st)
	}

	// Without a file, the same cold start has only defaults.
	bare, _ := open(t, sdk.Config{Server: cfg.Server, Paths: cfg.Paths, StartTimeout: 300 * time.Millisecond})
	if got := bare.Int("ttl", 0); got != 0 {
		t.Errorf("cold start without a file: ttl = %d, want the default", got)
	}

	// A file saved for other paths is not used.
	other, rec := open(t, sdk.Config{Server: cfg.Server, Paths: []string{"/other/"}, SnapshotFile: file, StartTimeout: 100 * time.Millisecond})
	if other.Status().FromFile || rec.errCount() < 2 {
		t.Errorf("a file for other paths was used (FromFile=%v) or not reported (%d reports)", other.Status().FromFile, rec.errCount())
	}

	// The server returns with a newer value: the client moves to it.
	s.start()
	s.put("/app/ttl", "50")
	waitUntil(t, "the server's value", func() bool { return cold.Int("ttl", 0) == 50 })
	waitUntil(t, "fresh status", func() bool { st := cold.Status(); return !st.FromFile && !st.Stale })
}

func TestPolling(t *testing.T) {
	s := startServer(t)
	s.put("/app/ttl", "45")
	var snapshots, notModified atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/watch" {
			t.Errorf("a polling client opened a stream")
		}
		snapshots.Add(1)
		if r.Header.Get("If-None-Match") != "" {
			notModified.Add(1)
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, s.URL()+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}))
	defer proxy.Close()

	c, rec := open(t, sdk.Config{Server: proxy.URL, Paths: []string{"/app/"}, PollInterval: 50 * time.Millisecond})
	if c.Int("ttl", 0) != 45 {
		t.Fatal("no initial value")
	}
	s.put("/app/ttl", "46")
	cs := rec.waitFor(t, "the polled change", hasChange("/app/ttl", "46"))
	if !cs[0].Reload {
		t.Errorf("polled change %+v not marked Reload", cs[0])
	}
	waitUntil(t, "conditional requests", func() bool { return notModified.Load() >= 2 })
	if st := c.Status(); st.Stale || !st.Connected {
		t.Errorf("Status while polling = %+v", st)
	}
	// The server stops answering: after the max age the client is stale.
	s.stop()
	waitUntil(t, "stale", func() bool { return c.Status().Stale })
	if c.Int("ttl", 0) != 46 {
		t.Error("polling client lost its value when the server went away")
	}
}

func TestSilentStreamReconnects(t *testing.T) {
	var watches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/snapshot":
			w.Header().Set("ETag", `"1-x"`)
			fmt.Fprint(w, `{"sequence":1,"parameters":[{"name":"/app/x","type":"String","value":"1","version":1}]}`)
		case "/v1/watch":
			watches.Add(1)
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // a dead stream: no heartbeat
		}
	}))
	defer srv.Close()
	c, _ := open(t, sdk.Config{Server: srv.URL, Paths: []string{"/app/"}, StreamIdleTimeout: 100 * time.Millisecond, MinBackoff: 10 * time.Millisecond})
	waitUntil(t, "three connections", func() bool { return watches.Load() >= 3 })
	if c.String("x", "") != "1" {
		t.Error("lost the value")
	}
	srv.CloseClientConnections()
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []sdk.Config{
		{Server: "localhost:7420"},
		{Server: "http://x", Paths: []string{"app"}},
		{Server: "http://x", Env: map[string]string{"a": ""}},
	} {
		if c, err := sdk.Open(context.Background(), cfg); err == nil {
			c.Close()
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}
