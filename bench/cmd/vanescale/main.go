// Command vanescale measures Vane at scale: it builds a store of N flags
// (100 applications × 10 environments × N/1000 flags of about 230 bytes,
// written with the store's own Batch, 10,000 a transaction) once in a
// directory it keeps, then starts `vane serve` on it and reports:
//
//   - start: the time to ready (/readyz 200) and its phases as the server
//     logs them (store open, snapshot read, index build), beside a bare
//     SELECT of the same rows into Go structs in this process;
//   - memory: the server's RSS once ready, per parameter, beside the raw
//     bytes of names and values;
//   - writes: puts over HTTP from one writer on the N store and, in the same
//     run, on a 1,000-parameter store;
//   - listings: a page of 50 by path and a snapshot of one application
//     (N/100 parameters), with p50 and p99.
//
// Usage:
//
//	go build -o /tmp/vane ./cmd/vane
//	go run ./bench/cmd/vanescale -vane /tmp/vane -dir /tmp/vane-scale -n 1000000
//
// Building 1,000,000 takes a few minutes the first time; later runs reuse
// the directory. Only loopback is used.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/bench"
	"github.com/vanehq/vane/sqlite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vanescale:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		bin  = flag.String("vane", "", "a built vane binary (required)")
		dir  = flag.String("dir", filepath.Join(os.TempDir(), "vane-scale"), "where the stores are built and kept")
		n    = flag.Int("n", 1000000, "parameters in the large store (a multiple of 1000)")
		puts = flag.Int("puts", 2000, "puts measured on each store")
		reqs = flag.Int("reqs", 300, "listing requests measured of each kind")
	)
	flag.Parse()
	if *bin == "" || *n < 1000 || *n%1000 != 0 {
		return errors.New("-vane is required and -n must be a positive multiple of 1000")
	}
	ctx := context.Background()
	small, err := ensureStore(ctx, filepath.Join(*dir, "n1000"), 1000)
	if err != nil {
		return err
	}
	large, err := ensureStore(ctx, filepath.Join(*dir, fmt.Sprintf("n%d", *n)), *n)
	if err != nil {
		return err
	}

	rows, raw, bare, err := bareSelect(ctx, large)
	if err != nil {
		return err
	}
	fmt.Printf("baseline: bare SELECT of %d latest versions into Go structs: %s (%d bytes of names and values)\n", rows, bare.Round(time.Millisecond), raw)

	type store struct {
		label string
		data  string
		n     int
		raw   int64
		v     *bench.Vane
	}
	stores := []*store{{label: "1k", data: small, n: 1000}, {label: strconv.Itoa(*n/1000) + "k", data: large, n: *n, raw: raw}}
	for _, st := range stores {
		v, stop, err := start(ctx, *bin, st.data, st.label, st.n, st.raw)
		if err != nil {
			return err
		}
		defer stop()
		st.v = v
	}

	// Puts on both stores in alternating rounds, so that the machine's
	// drift affects both alike.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	lat := make([][]time.Duration, len(stores))
	const round = 50
	for r := 0; r < *puts; r += round {
		for si, st := range stores {
			for i := r; i < min(r+round, *puts); i++ {
				name := fmt.Sprintf("/app%03d/env%d/features/flag-%05d", i%100, i%10, i%(st.n/1000))
				body := fmt.Sprintf(`{"value": %q, "overwrite": true}`, flagDoc(i%100, i%10, i+1))
				t := time.Now()
				if err := do(client, http.MethodPut, st.v.URL+"/v1/parameters"+name, body); err != nil {
					return err
				}
				lat[si] = append(lat[si], time.Since(t))
			}
		}
	}
	fmt.Println()
	for si, st := range stores {
		fmt.Printf("put on the %s store (one writer, overwrite, alternating rounds of %d): %s\n", st.label, round, summary(lat[si]))
	}
	for _, st := range stores {
		if err := listings(client, st.v, st.label, st.n, *reqs); err != nil {
			return err
		}
	}
	return nil
}

// ensureStore returns the data directory of a store of n flags under dir,
// building it when it is not there.
func ensureStore(ctx context.Context, dir string, n int) (string, error) {
	data := filepath.Join(dir, "data")
	done := filepath.Join(dir, "built")
	if _, err := os.Stat(done); err == nil {
		return data, nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return "", err
	}
	s, err := sqlite.Open(filepath.Join(data, "vane.db"))
	if err != nil {
		return "", err
	}
	defer s.Close()
	began := time.Now()
	perEnv := n / 1000
	var items []vane.BatchItem
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		if _, err := s.Batch(vane.NewContextWithPrincipal(ctx, "vanescale"), &vane.BatchInput{Items: items}); err != nil {
			return err
		}
		items = items[:0]
		return nil
	}
	written := 0
	for app := range 100 {
		for env := range 10 {
			for f := range perEnv {
				name := fmt.Sprintf("/app%03d/env%d/features/flag-%05d", app, env, f)
				items = append(items, vane.BatchItem{Op: vane.BatchPut, Put: &vane.PutInput{Name: name, Type: vane.TypeString, Value: flagDoc(app, env, f)}})
				if len(items) == 10000 {
					if err := flush(); err != nil {
						return "", err
					}
					written += 10000
					if written%100000 == 0 {
						fmt.Fprintf(os.Stderr, "vanescale: built %d of %d (%s)\n", written, n, time.Since(began).Round(time.Second))
					}
				}
			}
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	fmt.Printf("built %d parameters in %s with Batch (10,000 a transaction)\n", n, time.Since(began).Round(time.Millisecond))
	return data, os.WriteFile(done, nil, 0o600)
}

// flagDoc is a flag document of about 230 bytes.
func flagDoc(app, env, f int) string {
	return fmt.Sprintf(`{"enabled": %t, "rollout_percentage": %d, "allowed_regions": ["eu-west-1", "us-east-1"], "excluded_user_ids": ["u-%05d"], "fallback_on_error": false, "owner": "team-%03d", "description": "flag %d of env%d"}`,
		f%2 == 0, (f*7)%101, f, app, f, env)
}

// bareSelect reads every latest version of the store with one SELECT into
// Go structs, the floor of what loading the index can cost.
func bareSelect(ctx context.Context, data string) (rows int, raw int64, took time.Duration, err error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "vane.db")+"?mode=ro")
	if err != nil {
		return 0, 0, 0, err
	}
	defer db.Close()
	type row struct {
		name, typ, value, tier, desc, pattern, dataType, keyID, by, policies string
		version, at                                                          int64
	}
	began := time.Now()
	rs, err := db.QueryContext(ctx, `SELECT v.name, v.version, v.type, v.value, v.tier, v.description, v.allowed_pattern, v.data_type, v.key_id, v.modified_at, v.modified_by, v.policies
		FROM parameters p JOIN versions v ON v.name = p.name AND v.version = p.version ORDER BY p.name`)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.name, &r.version, &r.typ, &r.value, &r.tier, &r.desc, &r.pattern, &r.dataType, &r.keyID, &r.at, &r.by, &r.policies); err != nil {
			return 0, 0, 0, err
		}
		raw += int64(len(r.name) + len(r.value))
		out = append(out, r)
	}
	return len(out), raw, time.Since(began), rs.Err()
}

// start starts vane serve on a data directory and reports its start and
// memory; stop stops it.
func start(ctx context.Context, bin, data, label string, n int, raw int64) (*bench.Vane, func(), error) {
	run, err := os.MkdirTemp("", "vanescale-run-")
	if err != nil {
		return nil, nil, err
	}
	if err := os.Symlink(data, filepath.Join(run, "data")); err != nil {
		return nil, nil, err
	}
	began := time.Now()
	v, err := bench.StartVane(ctx, bench.VaneConfig{Binary: bin, Dir: run, Dev: true, Timeout: 5 * time.Minute})
	if err != nil {
		os.RemoveAll(run)
		return nil, nil, err
	}
	ready := time.Since(began)
	phases := startPhases(filepath.Join(run, "vane.log"))
	time.Sleep(3 * time.Second) // the server returns the load's garbage to the system just after it is ready
	rss := v.RSS()
	fmt.Printf("\n%s store (%d parameters):\n", label, n)
	fmt.Printf("  start: ready in %s (%s)\n", ready.Round(time.Millisecond), phases)
	fmt.Printf("  memory: RSS %d MiB 3 s after ready, %d bytes a parameter", rss>>20, rss/int64(n))
	if raw > 0 {
		fmt.Printf(" (names and values: %d bytes a parameter)", raw/int64(n))
	}
	fmt.Println()
	return v, func() { v.Close(); os.RemoveAll(run) }, nil
}

// listings reports a page of 50 by path and a snapshot of one
// application.
func listings(client *http.Client, v *bench.Vane, label string, n, reqs int) error {
	perApp := n / 100
	for _, q := range []struct{ what, path string }{
		{"page of 50 by path", "/v1/parameters?path=/app042/env3/features&limit=50"},
		{fmt.Sprintf("snapshot of one application (%d parameters)", perApp), "/v1/snapshot?path=/app042"},
	} {
		var lat []time.Duration
		for range reqs {
			t := time.Now()
			if err := do(client, http.MethodGet, v.URL+q.path, ""); err != nil {
				return err
			}
			lat = append(lat, time.Since(t))
		}
		fmt.Printf("%s store, %s: %s\n", label, q.what, summary(lat))
	}
	return nil
}

// do sends a request and drains the answer; a status above 299 is an
// error.
func do(client *http.Client, method, url, body string) error {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return nil
}

// summary gives p50 and p99 of latencies.
func summary(lat []time.Duration) string {
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(float64(len(lat)-1)*q)].Round(10 * time.Microsecond) }
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	return fmt.Sprintf("%d requests, mean %s, p50 %s, p99 %s", len(lat), (total / time.Duration(len(lat))).Round(10*time.Microsecond), p(0.5), p(0.99))
}

// startPhases reads the phases of the start from the server's JSON log
// line "store opened".
func startPhases(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return "no log"
	}
	for _, line := range strings.Split(string(b), "\n") {
		var e struct {
			Msg    string `json:"msg"`
			Open   int64  `json:"open_ms"`
			Read   int64  `json:"read_ms"`
			Index  int64  `json:"index_ms"`
			Params int64  `json:"parameters"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "store opened" {
			return fmt.Sprintf("store open %d ms, snapshot read %d ms, index build %d ms", e.Open, e.Read, e.Index)
		}
	}
	return "no \"store opened\" line"
}
