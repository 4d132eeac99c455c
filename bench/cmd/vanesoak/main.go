// Command vanesoak runs vane serve under a steady mixed load for a long
// time and checks that it stays healthy: reads (GET of one parameter),
// writes (PUT) and listings by path from open-loop workers at a fixed rate,
// with watch streams open the whole time. It first measures the peak rate
// of the mix with closed-loop workers, then runs at -load (80%) of it for
// -d (10 minutes), sampling every -every (10 s) the latency p99 of the
// interval, the server's RSS and the errors. It passes when no request
// failed, every interval's p99 stays within 2× the first minute's, and the
// RSS of the last minute is within 20% (and 64 MiB) of the first minute's.
//
// Usage:
//
//	go build -o /tmp/vane ./cmd/vane
//	go run ./bench/cmd/vanesoak -vane /tmp/vane [-d 10m] [-every 10s] [-load 0.8]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vanehq/vane/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vanesoak:", err)
		os.Exit(1)
	}
}

const (
	params   = 5000 // parameters seeded, under /soak/app{0..9}/
	watchers = 50   // watch streams open during the soak
)

func run() error {
	var (
		bin     = flag.String("vane", "", "a built vane binary (required)")
		d       = flag.Duration("d", 10*time.Minute, "how long the soak runs")
		every   = flag.Duration("every", 10*time.Second, "sampling interval")
		load    = flag.Float64("load", 0.8, "the soak's rate as a fraction of the measured peak")
		workers = flag.Int("c", 16, "closed-loop workers measuring the peak")
	)
	flag.Parse()
	if *bin == "" {
		return errors.New("-vane is required")
	}
	dir, err := os.MkdirTemp("", "vanesoak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	v, err := bench.StartVane(ctx, bench.VaneConfig{Binary: *bin, Dir: dir, Dev: true})
	if err != nil {
		return err
	}
	defer v.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	for i := range params {
		if err := request(client, v.URL, op{kind: "put", n: i}); err != nil {
			return err
		}
	}

	// The peak of the mix, closed loop.
	var done atomic.Int64
	stop := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(stop) {
				if request(client, v.URL, pick(r)) == nil {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	peak := float64(done.Load()) / 10
	rate := peak * *load
	fmt.Printf("peak of the mix: %.0f req/s; soaking at %.0f req/s (%.0f%%) for %s with %d watch streams\n", peak, rate, *load*100, *d, watchers)

	// Watch streams, read to the end of the soak.
	wctx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	var events, watchErrs atomic.Int64
	for range watchers {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(wctx, http.MethodGet, v.URL+"/v1/watch?path=/soak/", nil)
			resp, err := (&http.Client{}).Do(req)
			if err != nil {
				if wctx.Err() == nil {
					watchErrs.Add(1)
				}
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data:") {
					events.Add(1)
				}
			}
			if wctx.Err() == nil {
				watchErrs.Add(1) // the stream ended while the soak ran
			}
		})
	}

	// The soak: open loop at rate, one request a tick spread over workers.
	type sample struct {
		lat  []time.Duration
		errs int
	}
	var mu sync.Mutex
	cur := &sample{}
	ticks := make(chan op, 4096)
	for w := range 64 {
		wg.Go(func() {
			_ = w
			for o := range ticks {
				began := time.Now()
				err := request(client, v.URL, o)
				l := time.Since(began)
				mu.Lock()
				cur.lat = append(cur.lat, l)
				if err != nil {
					cur.errs++
					if cur.errs == 1 {
						fmt.Fprintln(os.Stderr, "vanesoak: first error of the interval:", err)
					}
				}
				mu.Unlock()
			}
		})
	}
	r := rand.New(rand.NewPCG(42, 7))
	interval := time.Duration(float64(time.Second) / rate)
	end := time.Now().Add(*d)
	next := time.Now()
	sampleAt := time.Now().Add(*every)
	var p99s []time.Duration
	var rss []int64
	errTotal, dropped := 0, 0
	fmt.Printf("%8s %10s %10s %8s %10s %8s\n", "T", "REQUESTS", "P99", "ERRORS", "RSS-MIB", "EVENTS")
	for time.Now().Before(end) {
		select {
		case ticks <- pick(r):
		default:
			dropped++ // every worker busy: counted, and an error
		}
		next = next.Add(interval)
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		if time.Now().After(sampleAt) {
			mu.Lock()
			s := cur
			cur = &sample{}
			mu.Unlock()
			slices.Sort(s.lat)
			p99 := time.Duration(0)
			if len(s.lat) > 0 {
				p99 = s.lat[len(s.lat)*99/100]
			}
			p99s, rss = append(p99s, p99), append(rss, v.RSS())
			errTotal += s.errs
			fmt.Printf("%8s %10d %10s %8d %10d %8d\n", time.Since(end.Add(-*d)).Round(time.Second), len(s.lat), p99.Round(10*time.Microsecond),
				s.errs, rss[len(rss)-1]>>20, events.Load())
			sampleAt = sampleAt.Add(*every)
		}
	}
	close(ticks)
	cancelWatch()
	wg.Wait()

	perMinute := max(1, int(time.Minute / *every))
	var fails []string
	if errTotal+dropped > 0 || watchErrs.Load() > 0 {
		fails = append(fails, fmt.Sprintf("%d failed requests, %d not sent (every worker busy), %d watch streams broken", errTotal, dropped, watchErrs.Load()))
	}
	if len(p99s) > perMinute {
		first := slices.Max(p99s[:perMinute])
		for i, p := range p99s[perMinute:] {
			if p > 2*first {
				fails = append(fails, fmt.Sprintf("interval %d: p99 %s is over twice the first minute's %s", i+perMinute+1, p, first))
			}
		}
		a, b := avg(rss[:perMinute]), avg(rss[len(rss)-perMinute:])
		if b > a*6/5 && b-a > 64<<20 {
			fails = append(fails, fmt.Sprintf("RSS grew from %d MiB (first minute) to %d MiB (last minute)", a>>20, b>>20))
		}
	} else {
		fails = append(fails, "too short to compare the first minute with the rest: run for at least two minutes")
	}
	if len(fails) > 0 {
		return fmt.Errorf("soak failed:\n  %s", strings.Join(fails, "\n  "))
	}
	fmt.Printf("soak passed: no errors, p99 within 2× of the first minute's, RSS flat (%d → %d MiB), %d watch events\n",
		avg(rss[:perMinute])>>20, avg(rss[len(rss)-perMinute:])>>20, events.Load())
	return nil
}

// op is one request of the mix.
type op struct {
	kind string // get, put, list
	n    int
}

// pick draws a request of the mix: 80% reads, 15% writes, 5% listings.
func pick(r *rand.Rand) op {
	n := r.IntN(params)
	switch x := r.IntN(100); {
	case x < 80:
		return op{"get", n}
	case x < 95:
		return op{"put", n}
	}
	return op{"list", n}
}

func name(n int) string { return fmt.Sprintf("/soak/app%d/tuning/p%04d", n%10, n) }

// request sends one request of the mix; a status above 299 is an error.
func request(client *http.Client, base string, o op) error {
	var req *http.Request
	switch o.kind {
	case "get":
		req, _ = http.NewRequest(http.MethodGet, base+"/v1/parameters"+name(o.n), nil)
	case "put":
		body := fmt.Sprintf(`{"value": "%d-%d", "type": "String", "overwrite": true}`, o.n, time.Now().UnixNano())
		req, _ = http.NewRequest(http.MethodPut, base+"/v1/parameters"+name(o.n), strings.NewReader(body))
	default:
		req, _ = http.NewRequest(http.MethodGet, base+"/v1/parameters?path=/soak/app"+strconv.Itoa(o.n%10)+"/tuning&limit=50", nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	return nil
}

func avg(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s / int64(len(xs))
}
