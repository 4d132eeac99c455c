// Command vaneload is a loopback HTTP load generator for comparing a Vane
// server against a bare net/http baseline.
//
// Usage:
//
//	vaneload [-url URL] [-baseline] [-c N] [-d 10s] [-warmup 1s] [-baseline-body-bytes 300] [-json]
//
// With -baseline, vaneload starts bench.BaselineHandler on 127.0.0.1:0 inside
// its own process, serving a JSON object padded to -baseline-body-bytes, and
// loads it first; then it loads -url and prints both results and the ratio
// of the target's RPS to the baseline's as a percentage. Without -url only
// the baseline is run. Only loopback targets are accepted.
//
// The baseline shares this process (and its GOMAXPROCS) with the load
// generator, while the target usually runs in a separate process; on a small
// machine both compete with the load generator for the same cores, so
// compare ratios from the same machine and settings, not absolute numbers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/vanehq/vane/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vaneload:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		target    = flag.String("url", "", "target URL (loopback only); if empty only the baseline is run")
		conc      = flag.Int("c", 0, "concurrent workers/connections (0 = 2 × CPUs)")
		dur       = flag.Duration("d", 10*time.Second, "measured duration of each run")
		warmup    = flag.Duration("warmup", time.Second, "warmup before each measured run")
		baseline  = flag.Bool("baseline", false, "also run the in-process net/http baseline first")
		bodyBytes = flag.Int("baseline-body-bytes", 300, "size of the baseline's JSON response body")
		asJSON    = flag.Bool("json", false, "print one JSON object instead of text lines")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if *bodyBytes < 0 {
		return errors.New("-baseline-body-bytes must not be negative")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *conc < 0 {
		return errors.New("-c must not be negative")
	}
	if *conc == 0 {
		*conc = 2 * runtime.NumCPU()
	}
	cfg := bench.Config{Concurrency: *conc, Duration: *dur, Warmup: *warmup}
	out := report{Concurrency: *conc, Duration: dur.String(), Warmup: warmup.String()}

	if *baseline || *target == "" {
		body := paddedJSON(*bodyBytes)
		res, url, err := runBaseline(ctx, cfg, body)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		out.BaselineURL, out.BaselineBodyBytes = url, len(body)
		out.Baseline = res.JSON()
		if !*asJSON {
			fmt.Printf("baseline  %-28s %v\n", url, res)
		}
	}
	if *target != "" {
		cfg.URL = *target
		res, err := bench.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("target: %w", err)
		}
		out.TargetURL = *target
		out.Target = res.JSON()
		if !*asJSON {
			fmt.Printf("target    %-28s %v\n", *target, res)
		}
		if out.Baseline != nil && out.Baseline.RPS > 0 {
			pct := 100 * res.RPS / out.Baseline.RPS
			out.RatioPct = &pct
			if !*asJSON {
				fmt.Printf("ratio     vane/baseline RPS = %.1f%%\n", pct)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		return enc.Encode(out)
	}
	return nil
}

// runBaseline serves bench.BaselineHandler(body) on 127.0.0.1:0, loads it
// with cfg and shuts the server down again.
func runBaseline(ctx context.Context, cfg bench.Config, body []byte) (bench.Result, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bench.Result{}, "", err
	}
	srv := &http.Server{Handler: bench.BaselineHandler(body), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"
	cfg.URL = url
	res, err := bench.Run(ctx, cfg)
	return res, url, err
}

// paddedJSON returns a JSON object of exactly n bytes (at least 2).
func paddedJSON(n int) []byte {
	const prefix, suffix = `{"message":"hello, world","pad":"`, `"}`
	if n < len(prefix)+len(suffix) {
		return []byte("{}" + strings.Repeat(" ", max(n-2, 0)))
	}
	return []byte(prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix)
}

// report is the -json output.
type report struct {
	Concurrency       int               `json:"concurrency"`
	Duration          string            `json:"duration"`
	Warmup            string            `json:"warmup"`
	BaselineURL       string            `json:"baseline_url,omitempty"`
	BaselineBodyBytes int               `json:"baseline_body_bytes,omitempty"`
	Baseline          *bench.ResultJSON `json:"baseline,omitempty"`
	TargetURL         string            `json:"target_url,omitempty"`
	Target            *bench.ResultJSON `json:"target,omitempty"`
	RatioPct          *float64          `json:"ratio_pct,omitempty"`
}
