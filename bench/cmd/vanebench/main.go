// Command vanebench measures every hot read path of Vane against a bare
// net/http baseline serving the same bytes, in one run, in both modes of
// the server: `vane serve --dev` (no access control) and the default
// `vane serve` (access control on). It prints each path's ratio to the
// baseline, the ratio of the default mode to --dev, and whether each meets
// its goal (issue 14).
//
// Usage:
//
//	go build -o /tmp/vane ./cmd/vane
//	go run ./bench/cmd/vanebench -vane /tmp/vane [-c 16] [-d 3s] [-warmup 1s] [-rounds 3] [-only REGEXP] [-json] [-keep]
//
// Without -vane, vanebench builds ./cmd/vane with `go build` into its
// temporary directory, which works when it is run from inside this module.
// -only selects cells by a regular expression matched against
// "path/mode", such as -only ofrep (both OFREP paths, both modes), -only
// '^get/' or -only '/auth$'. -json prints one JSON object instead of text
// (progress then goes to stderr). -keep keeps the temporary directory
// (the servers' data and logs) and prints its name.
//
// The paths:
//
//	get            GET /v1/parameters/myapp/prod/tuning/http_timeout_ms (value 2500)
//	ofrep          POST /ofrep/v1/evaluate/flags/bench/prod/features/f000: one rule of five conditions
//	               and a 50% rollout, a context of six attributes
//	ssm            POST / AmazonSSM.GetParameter of the same parameter, unsigned
//	ssm-sigv4      the same, signed with SigV4 (aws-sdk-go-v2's signer, service ssm, us-east-1)
//	evaluate-bulk  POST /v1/evaluate of the 100 flags under /bench/prod/ with that context
//	ofrep-bulk     POST /ofrep/v1/evaluate/flags: the same 100 flags through OFREP
//
// The modes: "dev" is `vane serve --dev` with no credentials; "auth" is
// the default server with its admin key (created on first start and saved
// in admin.key in its data directory) as "Authorization: Bearer ID.SECRET",
// except on the ssm-sigv4 path, which signs with the key's id and secret.
// The auth cell of the unsigned ssm path is skipped: with access control
// on, Vane takes only SigV4 credentials on POST / and answers a bearer
// token with MissingAuthenticationTokenException. On the dev server the
// ssm-sigv4 request carries a signature by a made-up key of the same
// shape, which --dev ignores, as an AWS SDK pointed at a --dev server
// sends.
//
// Method. vanebench starts four processes besides itself, so that no
// server shares the load generator's process: the two vane servers, each
// on a free loopback port and a fresh data directory, and two baseline
// servers, which are vanebench itself re-executed with the hidden flag
// -serve-baseline FILE. It seeds both vane servers through the HTTP API
// (the parameter and 100 flags: even ones with the five-condition rule,
// odd ones a plain 25% rollout, as cmd/vane/flags_bench_test.go does),
// sends each cell's request once, checks the answer (status 200 and the
// expected content, such as the flag key or 100 evaluations without an
// error) and records its status, Content-Type and body. Each mode's
// baseline replays its mode's recorded responses by method and path with
// bench.ReplayHandler, and is checked to answer each request with the same
// bytes. Every process keeps the GOMAXPROCS it inherits.
//
// Then, for -rounds rounds, every cell runs its baseline and its vane
// server one after the other with the same request, the same -c
// keep-alive connections, -warmup and -d (bench.Run); the order
// alternates from round to round (baseline first in the first), so slow
// drift in the machine's load does not always favour one side. A cell
// fails if any measured request fails. The SigV4 request is signed again
// just before each run, so it is replayed only within its validity
// (-warmup plus -d may not exceed bench.SigV4Validity).
//
// The figures: ratio is vane req/s ÷ baseline req/s in the cell; auth/dev
// is the auth cell's ratio ÷ the dev cell's ratio in the same round, that
// is auth req/s ÷ dev req/s with each corrected by its own baseline for
// changes in the machine's load between the two cells. The summary gives
// each figure's median and range over the rounds, and the goals are
// checked on the medians: get ≥ 85% of the baseline, ofrep and ssm ≥ 75%,
// ssm-sigv4 ≥ 60%, evaluate-bulk and ofrep-bulk ≥ 50%, in both modes; and
// auth/dev ≥ 90% on every path measured in both. Missed goals do not
// change the exit status; a failed cell does.
//
// -c defaults to 16 connections: on the 2-core machines this is run on,
// 8 requests in flight per core keep both the server and the baseline busy
// (more only lengthen the queues, and p99 with them), and BENCHMARKS.md's
// vaneload figures use 16. The issue's own measurement used wrk with 64
// connections; -c 64 reproduces that count.
//
// On a shared machine absolute figures move with everybody else's load;
// compare the ratios, which are measured seconds apart, and their ranges.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vanehq/vane/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "vanebench:", err)
		os.Exit(1)
	}
}

// The data the paths read.
const (
	paramName  = "/myapp/prod/tuning/http_timeout_ms"
	paramValue = "2500"
	flagDir    = "/bench/prod/features/"
	flagCount  = 100
	// ofrepKey is the OFREP key of flag f000 with the default
	// --ofrep-base of /: a name without its leading slash.
	ofrepKey = "bench/prod/features/f000"
)

// ruleFlagDoc is a flag with one rule of five conditions and a 50%
// rollout; plainFlagDoc is a 25% rollout. Both as in
// cmd/vane/flags_bench_test.go.
const (
	ruleFlagDoc = `{"default": false, "rules": [{"name": "eu-premium", "when_match": true, "rollout_percentage": 50,
	"conditions": [
		{"action": "EQUALS", "key": "tier", "value": "premium"},
		{"action": "IN", "key": "region", "value": ["eu-west-1", "eu-central-1"]},
		{"action": "KEY_GREATER_THAN_OR_EQUAL_VALUE", "key": "age_days", "value": 30},
		{"action": "STARTSWITH", "key": "email", "value": "a"},
		{"action": "NOT_EQUALS", "key": "plan", "value": "trial"}]}]}`
	plainFlagDoc = `{"enabled": true, "rollout_percentage": 25, "excluded_user_ids": ["u-1"]}`
)

// evalContext is the six-attribute evaluation context.
const evalContext = `{"targetingKey":"user-42","tier":"premium","region":"eu-west-1","age_days":45,"email":"ann@example.com","plan":"pro"}`

// SigV4 signing of the ssm-sigv4 path.
const (
	sigV4Region = "us-east-1"
	// devKeyID and devSecret sign the dev cell's request: --dev ignores
	// credentials, and these have the shapes of a Vane key's, so the
	// request has the same size as the auth cell's.
	devKeyID  = "VNKAAAAAAAAAAAAAAAAA"
	devSecret = "devmodeignoresthissecretxxxxxxxxxxxxxxxx"
)

// The modes.
const (
	modeDev  = "dev"
	modeAuth = "auth"
)

var modes = []string{modeDev, modeAuth}

// authDevGoal is the floor of auth/dev, in percent.
const authDevGoal = 90

// benchPath is one request path measured.
type benchPath struct {
	name   string
	method string
	path   string
	header http.Header // besides credentials
	body   []byte
	// sigv4 signs the request instead of sending a bearer token.
	sigv4 bool
	// authSkip, if set, says why the auth cell is not run.
	authSkip string
	// goal is the floor of vane/baseline, in percent.
	goal float64
	// check verifies a 200 response's body.
	check func(body []byte) error
}

// paths returns the measured paths in the order they run.
func paths() []*benchPath {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	ssmHeader := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"AmazonSSM.GetParameter"}}
	ssmBody := []byte(`{"Name":"` + paramName + `"}`)
	ctxBody := []byte(`{"context":` + evalContext + `}`)
	return []*benchPath{
		{name: "get", method: http.MethodGet, path: "/v1/parameters" + paramName, goal: 85, check: checkParameter},
		{name: "ofrep", method: http.MethodPost, path: "/ofrep/v1/evaluate/flags/" + ofrepKey, header: jsonCT, body: ctxBody, goal: 75, check: checkOFREP},
		{name: "ssm", method: http.MethodPost, path: "/", header: ssmHeader, body: ssmBody, goal: 75, check: checkSSM,
			authSkip: "with access control on, Vane takes only SigV4 credentials on POST / (a bearer token is answered MissingAuthenticationTokenException)"},
		{name: "ssm-sigv4", method: http.MethodPost, path: "/", header: ssmHeader, body: ssmBody, sigv4: true, goal: 60, check: checkSSM},
		{name: "evaluate-bulk", method: http.MethodPost, path: "/v1/evaluate", header: jsonCT,
			body: []byte(`{"path":"/bench/prod/","context":` + evalContext + `}`), goal: 50, check: checkEvaluateBulk},
		{name: "ofrep-bulk", method: http.MethodPost, path: "/ofrep/v1/evaluate/flags", header: jsonCT, body: ctxBody, goal: 50, check: checkOFREPBulk},
	}
}

// cell is one path in one mode.
type cell struct {
	path *benchPath
	mode string
	vane *bench.Vane
	base *bench.Process // the mode's baseline
}

func (c *cell) name() string { return c.path.name + "/" + c.mode }

// config returns the load of the cell against the server at baseURL,
// with credentials as the mode wants them, signed at now for SigV4.
func (c *cell) config(baseURL string, now time.Time) (bench.Config, error) {
	cfg := bench.Config{URL: baseURL + c.path.path, Method: c.path.method, Body: c.path.body, Header: c.path.header.Clone()}
	if cfg.Header == nil {
		cfg.Header = http.Header{}
	}
	switch {
	case c.path.sigv4:
		id, secret := devKeyID, devSecret
		if c.mode == modeAuth {
			var ok bool
			if id, secret, ok = strings.Cut(c.vane.AdminKey, "."); !ok {
				return cfg, errors.New("the admin key is not of the form ID.SECRET")
			}
		}
		req, err := http.NewRequest(cfg.Method, cfg.URL, bytes.NewReader(cfg.Body))
		if err != nil {
			return cfg, err
		}
		req.Header = cfg.Header
		if err := bench.SignSSM(req, cfg.Body, id, secret, sigV4Region, now); err != nil {
			return cfg, err
		}
	case c.mode == modeAuth:
		cfg.Header.Set("Authorization", "Bearer "+c.vane.AdminKey)
	}
	return cfg, nil
}

// options are the command's settings.
type options struct {
	vane        string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	only        *regexp.Regexp
	json        bool
	keep        bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vanebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		vanePath = fs.String("vane", "", "`path` of a built vane binary (default: go build ./cmd/vane into a temporary directory)")
		conc     = fs.Int("c", 16, "concurrent keep-alive connections per run")
		dur      = fs.Duration("d", 3*time.Second, "measured `duration` of each run")
		warmup   = fs.Duration("warmup", time.Second, "warmup `duration` before each measured run")
		rounds   = fs.Int("rounds", 3, "rounds: each runs every cell once; the summary takes the median over them")
		only     = fs.String("only", "", "run only the cells whose \"path/mode\" matches this `regexp`")
		asJSON   = fs.Bool("json", false, "print one JSON object instead of text (progress goes to stderr)")
		keep     = fs.Bool("keep", false, "keep the temporary directory (servers' data and logs)")
		serve    = fs.String("serve-baseline", "", "internal: serve the recorded responses of `file` as a baseline")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: vanebench [flags]\n\nRuns Vane's hot paths against a bare net/http baseline, in --dev and default mode, and prints the ratios.\n\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "serve-baseline" {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  -%s", f.Name)
			if name != "" {
				fmt.Fprintf(stderr, " %s", name)
			}
			fmt.Fprintf(stderr, "\n    \t%s", usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *serve != "" {
		return serveBaseline(ctx, *serve, stderr)
	}
	o := options{vane: *vanePath, concurrency: *conc, duration: *dur, warmup: *warmup, rounds: *rounds, json: *asJSON, keep: *keep}
	switch {
	case o.concurrency < 1:
		return errors.New("-c must be at least 1")
	case o.duration <= 0:
		return errors.New("-d must be positive")
	case o.warmup < 0:
		return errors.New("-warmup must not be negative")
	case o.rounds < 1:
		return errors.New("-rounds must be at least 1")
	}
	var err error
	if o.only, err = regexp.Compile(*only); err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	return benchmark(ctx, o, stdout, stderr)
}

// benchmark runs the whole benchmark.
func benchmark(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	progress := stdout
	if o.json {
		progress = stderr
	}
	cells, skipped := selectCells(paths(), o.only)
	if len(cells) == 0 {
		return fmt.Errorf("-only %q selects no cell; cells are path/mode with paths %s and modes dev, auth", o.only, pathNames())
	}
	for _, c := range cells {
		if c.path.sigv4 && o.warmup+o.duration > bench.SigV4Validity {
			return fmt.Errorf("-warmup plus -d is %v: a signed request is replayed only within %v of its signing; shorten the runs or leave ssm-sigv4 out with -only", o.warmup+o.duration, bench.SigV4Validity)
		}
	}

	dir, err := os.MkdirTemp("", "vanebench-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(stderr, "vanebench: kept %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	if o.vane == "" {
		if o.vane, err = buildVane(ctx, dir, stderr); err != nil {
			return err
		}
	}
	if o.vane, err = filepath.Abs(o.vane); err != nil {
		return err
	}

	// The servers.
	vanes := map[string]*bench.Vane{}
	bases := map[string]*bench.Process{}
	defer func() {
		for _, p := range bases {
			p.Close()
		}
		for _, v := range vanes {
			v.Close()
		}
	}()
	for _, mode := range modes {
		if !anyMode(cells, mode) {
			continue
		}
		vdir := filepath.Join(dir, "vane-"+mode)
		if err := os.Mkdir(vdir, 0o700); err != nil {
			return err
		}
		v, err := bench.StartVane(ctx, bench.VaneConfig{Binary: o.vane, Dir: vdir, Dev: mode == modeDev})
		if err != nil {
			return fmt.Errorf("start vane (%s): %w", mode, err)
		}
		vanes[mode] = v
		if err := seed(ctx, v); err != nil {
			return fmt.Errorf("seed vane (%s): %w", mode, err)
		}
	}
	for _, c := range cells {
		c.vane = vanes[c.mode]
	}

	// Record each cell's response, then start the baselines that replay
	// them and check that they do.
	recorded := map[*cell]bench.Response{}
	for _, c := range cells {
		r, err := record(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name(), err)
		}
		recorded[c] = r
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	for mode := range vanes {
		rs, err := replayList(cells, recorded, mode)
		if err != nil {
			return err
		}
		p, err := startBaseline(ctx, exe, dir, mode, rs)
		if err != nil {
			return err
		}
		bases[mode] = p
	}
	for _, c := range cells {
		c.base = bases[c.mode]
		if err := checkReplay(ctx, c, recorded[c]); err != nil {
			return fmt.Errorf("%s: baseline: %w", c.name(), err)
		}
	}

	rep := &report{Vane: o.vane, Concurrency: o.concurrency, Duration: o.duration.String(), Warmup: o.warmup.String(),
		Rounds: o.rounds, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Skipped: skipped}
	for _, mode := range modes {
		if v := vanes[mode]; v != nil {
			rep.Servers = append(rep.Servers, serverJSON{Mode: mode, Vane: v.URL, Baseline: bases[mode].URL})
		}
	}
	printHeader(progress, rep)

	for round := range o.rounds {
		fmt.Fprintf(progress, "\nround %d of %d\n", round+1, o.rounds)
		printRowHeader(progress)
		results := make(map[string]*cellResult, len(cells))
		for _, c := range cells {
			res, err := runCell(ctx, c, o, round)
			if err != nil {
				return err // cancelled
			}
			res.Round = round + 1
			if c.mode == modeAuth {
				if dev := results[c.path.name+"/"+modeDev]; dev != nil && res.Error == "" && dev.Error == "" {
					v := 100 * res.RatioPct / dev.RatioPct
					res.AuthDevPct = &v
					raw := 100 * res.Vane.RPS / dev.Vane.RPS
					res.AuthDevRawPct = &raw
				}
			}
			results[c.name()] = res
			rep.Runs = append(rep.Runs, res)
			printRow(progress, res)
		}
	}

	summarize(rep, cells)
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printSummary(stdout, rep)
	}
	if len(rep.Failed) > 0 {
		return fmt.Errorf("%d run(s) failed: %s", len(rep.Failed), strings.Join(rep.Failed, "; "))
	}
	return nil
}

// selectCells returns the cells -only selects, in run order, and the
// selected ones that cannot run.
func selectCells(ps []*benchPath, only *regexp.Regexp) ([]*cell, []skipJSON) {
	var cells []*cell
	var skipped []skipJSON
	for _, p := range ps {
		for _, mode := range modes {
			c := &cell{path: p, mode: mode}
			if !only.MatchString(c.name()) {
				continue
			}
			if mode == modeAuth && p.authSkip != "" {
				skipped = append(skipped, skipJSON{Path: p.name, Mode: mode, Reason: p.authSkip})
				continue
			}
			cells = append(cells, c)
		}
	}
	return cells, skipped
}

func pathNames() string {
	var names []string
	for _, p := range paths() {
		names = append(names, p.name)
	}
	return strings.Join(names, ", ")
}

func anyMode(cells []*cell, mode string) bool {
	for _, c := range cells {
		if c.mode == mode {
			return true
		}
	}
	return false
}

// buildVane builds ./cmd/vane of this module into dir.
func buildVane(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	out := filepath.Join(dir, "vane")
	fmt.Fprintln(stderr, "vanebench: building github.com/vanehq/vane/cmd/vane (pass -vane to use a built binary)")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/vanehq/vane/cmd/vane")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build of vane failed (run vanebench from inside the vane module, or pass -vane PATH): %w", err)
	}
	return out, nil
}

// client sends the setup requests: loopback, no proxy.
var client = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}

// seed writes the parameter and the flags through the native API.
func seed(ctx context.Context, v *bench.Vane) error {
	put := func(name string, body any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, v.URL+"/v1/parameters"+name, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if v.AdminKey != "" {
			req.Header.Set("Authorization", "Bearer "+v.AdminKey)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("PUT %s: status %d: %s", name, resp.StatusCode, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := put(paramName, map[string]any{"type": "String", "value": paramValue, "description": "upstream HTTP timeout", "overwrite": true}); err != nil {
		return err
	}
	for i := range flagCount {
		doc := ruleFlagDoc
		if i%2 == 1 {
			doc = plainFlagDoc
		}
		if err := put(fmt.Sprintf("%sf%03d", flagDir, i), map[string]any{"type": "String", "value": doc, "overwrite": true}); err != nil {
			return err
		}
	}
	return nil
}

// send sends cfg's request once and returns the response.
func send(ctx context.Context, cfg bench.Config) (bench.Response, error) {
	var body io.Reader
	if cfg.Body != nil {
		body = bytes.NewReader(cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, cfg.Method, cfg.URL, body)
	if err != nil {
		return bench.Response{}, err
	}
	req.Header = cfg.Header
	resp, err := client.Do(req)
	if err != nil {
		return bench.Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return bench.Response{}, err
	}
	return bench.Response{Method: cfg.Method, Path: req.URL.Path, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: b}, nil
}

// record sends the cell's request to its vane server once, checks the
// answer and returns it.
func record(ctx context.Context, c *cell) (bench.Response, error) {
	cfg, err := c.config(c.vane.URL, time.Now())
	if err != nil {
		return bench.Response{}, err
	}
	r, err := send(ctx, cfg)
	if err != nil {
		return r, err
	}
	if r.Status != http.StatusOK {
		return r, fmt.Errorf("%s %s: status %d, want 200: %s", r.Method, r.Path, r.Status, bytes.TrimSpace(r.Body))
	}
	if err := c.path.check(r.Body); err != nil {
		return r, fmt.Errorf("%s %s: %w; the body: %.300s", r.Method, r.Path, err, r.Body)
	}
	return r, nil
}

// replayList returns the responses a mode's baseline replays. Two paths
// may share a route (ssm and ssm-sigv4 are both POST /) only if Vane
// answered them alike.
func replayList(cells []*cell, recorded map[*cell]bench.Response, mode string) ([]bench.Response, error) {
	var rs []bench.Response
	seen := map[string]*cell{}
	for _, c := range cells {
		if c.mode != mode {
			continue
		}
		r := recorded[c]
		k := r.Method + " " + r.Path
		if other, ok := seen[k]; ok {
			o := recorded[other]
			if o.Status != r.Status || o.ContentType != r.ContentType || !bytes.Equal(o.Body, r.Body) {
				return nil, fmt.Errorf("%s and %s are both %s but vane answered them differently; a baseline cannot replay both", other.name(), c.name(), k)
			}
			continue
		}
		seen[k] = c
		rs = append(rs, r)
	}
	return rs, nil
}

// startBaseline writes rs to a file and starts this program again with
// -serve-baseline on it.
func startBaseline(ctx context.Context, exe, dir, mode string, rs []bench.Response) (*bench.Process, error) {
	b, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "baseline-"+mode+".json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, err
	}
	p, err := bench.Start(ctx, exec.Command(exe, "-serve-baseline", file), filepath.Join(dir, "baseline-"+mode+".log"), 0)
	if err != nil {
		return nil, fmt.Errorf("start the %s baseline: %w", mode, err)
	}
	return p, nil
}

// checkReplay checks that the cell's baseline answers its request with
// the bytes vane did.
func checkReplay(ctx context.Context, c *cell, want bench.Response) error {
	cfg, err := c.config(c.base.URL, time.Now())
	if err != nil {
		return err
	}
	got, err := send(ctx, cfg)
	if err != nil {
		return err
	}
	if got.Status != want.Status || got.ContentType != want.ContentType || !bytes.Equal(got.Body, want.Body) {
		return fmt.Errorf("it answered %d %q with %d bytes, vane %d %q with %d bytes", got.Status, got.ContentType, len(got.Body), want.Status, want.ContentType, len(want.Body))
	}
	return nil
}

// serveBaseline serves the responses in file with bench.ReplayHandler on
// a free loopback port until ctx ends, and announces its URL on stderr
// as bench.Start expects.
func serveBaseline(ctx context.Context, file string, stderr io.Writer) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var rs []bench.Response
	if err := json.Unmarshal(b, &rs); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	h, err := bench.ReplayHandler(rs)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.New(slog.NewJSONHandler(stderr, nil)).Info(bench.ListeningMessage, "url", "http://"+ln.Addr().String(), "routes", len(rs))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// runCell loads the cell's baseline and vane server one after the other,
// baseline first in even rounds. It returns an error only when ctx ends;
// a failed run is reported in the result.
func runCell(ctx context.Context, c *cell, o options, round int) (*cellResult, error) {
	res := &cellResult{Path: c.path.name, Mode: c.mode, RatioPct: math.NaN()}
	load := func(baseURL string) (bench.Result, error) {
		cfg, err := c.config(baseURL, time.Now())
		if err != nil {
			return bench.Result{}, err
		}
		cfg.Concurrency, cfg.Duration, cfg.Warmup = o.concurrency, o.duration, o.warmup
		r, err := bench.Run(ctx, cfg)
		if err == nil && r.Errors > 0 {
			err = fmt.Errorf("%d of %d requests failed", r.Errors, r.Requests)
		}
		if err == nil && r.Requests == 0 {
			err = errors.New("no request completed")
		}
		return r, err
	}
	type side struct {
		name string
		url  string
		dst  **bench.ResultJSON
	}
	sides := []side{{"baseline", c.base.URL, &res.Baseline}, {"vane", c.vane.URL, &res.Vane}}
	if round%2 == 1 {
		sides[0], sides[1] = sides[1], sides[0]
	}
	for _, s := range sides {
		r, err := load(s.url)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		*s.dst = r.JSON()
		if err != nil {
			res.Error = fmt.Sprintf("%s: %v", s.name, err)
			if s.name == "vane" {
				if exited, werr := c.vane.Exited(); exited {
					res.Error += fmt.Sprintf(" (vane exited: %v; its log: %s)", werr, c.vane.LogPath)
				}
			}
			return res, nil
		}
	}
	if res.Baseline.RPS > 0 {
		res.RatioPct = 100 * res.Vane.RPS / res.Baseline.RPS
	}
	return res, nil
}
