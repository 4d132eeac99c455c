// Package bench is a small HTTP load generator for honest loopback
// benchmarks: it drives a fixed number of keep-alive connections against a
// server on the same machine for a fixed time (or request count) and reports
// throughput and exact latency percentiles.
//
// It deliberately refuses any target that is not on a loopback address, so it
// cannot be pointed at somebody else's server.
//
// Around Run are the parts of a fair same-run comparison with a bare
// net/http baseline: BaselineHandler and ReplayHandler serve the exact
// bytes the server under test answered; Start and StartVane run servers as
// processes of their own, so that neither side shares the load generator's
// process; SignSSM signs an SSM request once for replay; SpreadOf and
// Target summarize repeated ratios as a median and range and check them
// against goals. cmd/vanebench puts them together for every Vane hot path.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Result of one load run.
//
// Requests counts every request that completed during the measured window,
// including failed ones; Errors counts the failed subset (transport errors,
// body read errors and non-2xx responses). RPS is successful requests
// (Requests-Errors) per second of Duration, so a server that fails fast does
// not look fast. The percentiles and Max are exact (nearest-rank over every
// successful request's latency) and are zero when nothing succeeded.
// Requests still in flight when the window closes are abandoned and not
// counted at all.
type Result struct {
	Requests int64
	Errors   int64
	Duration time.Duration
	RPS      float64
	P50      time.Duration
	P90      time.Duration
	P99      time.Duration
	Max      time.Duration
}

// String formats r on one line: req/s, p50, p90, p99, max and errors.
func (r Result) String() string {
	return fmt.Sprintf("%.1f req/s  p50=%v p90=%v p99=%v max=%v  errors=%d/%d in %v",
		r.RPS, roundDur(r.P50), roundDur(r.P90), roundDur(r.P99), roundDur(r.Max),
		r.Errors, r.Requests, r.Duration.Round(time.Millisecond))
}

// ResultJSON is a Result as the load generators print it with -json:
// latencies in microseconds, the duration in milliseconds.
type ResultJSON struct {
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	DurationMS float64 `json:"duration_ms"`
	RPS        float64 `json:"rps"`
	P50US      float64 `json:"p50_us"`
	P90US      float64 `json:"p90_us"`
	P99US      float64 `json:"p99_us"`
	MaxUS      float64 `json:"max_us"`
}

// JSON returns r as a ResultJSON.
func (r Result) JSON() *ResultJSON {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return &ResultJSON{
		Requests:   r.Requests,
		Errors:     r.Errors,
		DurationMS: float64(r.Duration) / float64(time.Millisecond),
		RPS:        r.RPS,
		P50US:      us(r.P50),
		P90US:      us(r.P90),
		P99US:      us(r.P99),
		MaxUS:      us(r.Max),
	}
}

// roundDur trims a latency to a readable precision.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	default:
		return d.Round(100 * time.Nanosecond)
	}
}

// Config for Run.
type Config struct {
	// URL is the target; its host must be a loopback IP or "localhost".
	URL string
	// Method is the HTTP method; empty means GET.
	Method string
	// Body, if non-nil, is sent with every request.
	Body []byte
	// Header is added to every request.
	Header http.Header
	// Concurrency is the number of workers, each one request at a time on
	// its own keep-alive connection; 0 means 2 × runtime.NumCPU().
	Concurrency int
	// Duration is the length of the measured window; it must be positive and
	// always bounds the run, even when MaxRequests is set.
	Duration time.Duration
	// Warmup is run before the measured window with the same workers and
	// connections; its requests are not recorded.
	Warmup time.Duration
	// MaxRequests stops the run after this many measured requests; 0 means
	// unbounded (only Duration bounds the run).
	MaxRequests int64
}

// maxPrealloc caps the latency samples preallocated across all workers
// (8 bytes each); workers that exceed their share simply grow their slice.
const maxPrealloc = 4 << 20

// assumedPeakRPS sizes the preallocation for duration-bounded runs.
const assumedPeakRPS = 200_000

// Run loads c.URL with c.Concurrency workers, first for c.Warmup (not
// recorded) and then for the measured window of c.Duration or c.MaxRequests
// requests, whichever ends first, and returns what was measured.
//
// Run returns an error without sending anything if the configuration is
// invalid or the URL's host is not a loopback IP or "localhost"; connections
// are also checked at dial time, so a name that resolves elsewhere is refused
// too, and redirects are never followed (a 3xx counts as an error). If ctx is
// cancelled Run stops promptly and returns the partial Result with ctx's
// error. If every measured request failed, Run returns the Result together
// with an error describing the first failure.
func Run(ctx context.Context, c Config) (Result, error) {
	u, err := checkURL(c.URL)
	if err != nil {
		return Result{}, err
	}
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2 * runtime.NumCPU()
	}
	switch {
	case c.Concurrency < 0:
		return Result{}, fmt.Errorf("bench: negative Concurrency %d", c.Concurrency)
	case c.Duration <= 0:
		return Result{}, fmt.Errorf("bench: Duration must be positive, got %v", c.Duration)
	case c.Warmup < 0:
		return Result{}, fmt.Errorf("bench: negative Warmup %v", c.Warmup)
	case c.MaxRequests < 0:
		return Result{}, fmt.Errorf("bench: negative MaxRequests %d", c.MaxRequests)
	}
	base, err := http.NewRequest(c.Method, u.String(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("bench: %w", err)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			base.Header.Add(k, v)
		}
	}
	if host := c.Header.Get("Host"); host != "" {
		base.Host = host
	}
	if c.Body != nil {
		body := c.Body
		base.ContentLength = int64(len(body))
		base.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(body)), nil
		}
	}

	tr := newTransport(c.Concurrency)
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		// Never follow redirects: they could leave loopback, and they
		// would silently double the work per request.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	perWorker := preallocPerWorker(c)
	start := time.Now()
	measureStart := start.Add(c.Warmup)
	runCtx, cancel := context.WithDeadline(ctx, measureStart.Add(c.Duration))
	defer cancel()

	var (
		claimed  atomic.Int64 // measured requests started, for MaxRequests
		firstErr atomic.Pointer[error]
		wg       sync.WaitGroup
	)
	workers := make([]worker, c.Concurrency)
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, perWorker)
		wg.Go(func() {
			for runCtx.Err() == nil {
				t0 := time.Now()
				measured := !t0.Before(measureStart)
				if measured && c.MaxRequests > 0 && claimed.Add(1) > c.MaxRequests {
					return
				}
				err := do(runCtx, client, base, c.Body)
				lat := time.Since(t0)
				if err != nil && runCtx.Err() != nil {
					return // abandoned at the end of the window or on cancel
				}
				if !measured {
					continue
				}
				w.requests++
				if err != nil {
					w.errors++
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				w.lat = append(w.lat, lat)
			}
		})
	}
	wg.Wait()
	end := time.Now()

	res := summarize(workers, end.Sub(measureStart))
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.Requests > 0 && res.Errors == res.Requests {
		return res, fmt.Errorf("bench: all %d requests failed, first: %w", res.Requests, *firstErr.Load())
	}
	return res, nil
}

// worker holds one worker's counters and latency samples; only that worker
// touches them until Run merges them after all workers have finished.
type worker struct {
	requests, errors int64
	lat              []time.Duration
}

// errStatus reports a non-2xx response.
type errStatus int

func (e errStatus) Error() string {
	return fmt.Sprintf("status %d %s", int(e), http.StatusText(int(e)))
}

// do sends one request and reads and discards the whole response body.
func do(ctx context.Context, client *http.Client, base *http.Request, body []byte) error {
	req := base.Clone(ctx)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errStatus(resp.StatusCode)
	}
	return nil
}

// summarize merges the workers' samples and computes exact percentiles.
func summarize(workers []worker, d time.Duration) Result {
	d = max(d, 0)
	var res Result
	n := 0
	for i := range workers {
		res.Requests += workers[i].requests
		res.Errors += workers[i].errors
		n += len(workers[i].lat)
	}
	all := make([]time.Duration, 0, n)
	for i := range workers {
		all = append(all, workers[i].lat...)
		workers[i].lat = nil
	}
	slices.Sort(all)
	res.Duration = d
	if d > 0 {
		res.RPS = float64(res.Requests-res.Errors) / d.Seconds()
	}
	if len(all) > 0 {
		res.P50 = percentile(all, 0.50)
		res.P90 = percentile(all, 0.90)
		res.P99 = percentile(all, 0.99)
		res.Max = all[len(all)-1]
	}
	return res
}

// percentile returns the nearest-rank p-quantile of the sorted, non-empty s.
func percentile(s []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// preallocPerWorker sizes each worker's latency slice so that appends in the
// hot loop normally never reallocate.
func preallocPerWorker(c Config) int {
	total := int64(maxPrealloc)
	if c.MaxRequests > 0 {
		total = min(total, c.MaxRequests)
	}
	total = min(total, int64(c.Duration.Seconds()*assumedPeakRPS)+1)
	return int(total/int64(c.Concurrency)) + 1
}

// newTransport returns a Transport with exactly one keep-alive connection per
// worker: MaxConnsPerHost stops it from dialing a spare connection when a
// worker asks for one before its previous connection is back in the idle pool
// (the Transport returns it asynchronously after the body's EOF). It never
// uses a proxy and only dials loopback.
func newTransport(concurrency int) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !ip.IsLoopback() {
				return fmt.Errorf("bench: refusing to connect to non-loopback address %s", address)
			}
			return nil
		},
	}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSHandshakeTimeout: 5 * time.Second,
	}
}

// checkURL parses raw and accepts it only if it is an http(s) URL whose host
// is a loopback IP address or "localhost".
func checkURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("bench: empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("bench: URL %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return u, nil
	}
	return nil, fmt.Errorf("bench: refusing non-loopback target %q: host must be a loopback IP or localhost", raw)
}
