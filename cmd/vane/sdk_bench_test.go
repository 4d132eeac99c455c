package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vanehq/vane/sdk"
)

// Environment variables of BenchmarkSDKPropagation: the mode of the server
// process it starts (see TestBenchServerProcess), and a directory where it
// writes CPU profiles of the server and of the benchmark process over the
// timed loop, and a heap profile of the server with every client connected.
const (
	benchServerEnv  = "VANE_BENCH_SERVER"
	benchProfileEnv = "VANE_BENCH_PROFILE"
)

// BenchmarkSDKPropagation measures, with 1, 100, 1,000 and 10,000 SDK
// clients following one Vane server (SQLite) on loopback, the time from a
// put to the change callback in every client (p50 and p99 over all clients
// and puts), and the server's memory per watcher. Two references run in
// the same command, at 1,000 and 10,000 streams: the same server read by
// bare stream readers instead of SDK clients (BareReaders), which leaves
// out the SDK's own work, and the baseline, a bare net/http Server-Sent
// Events handler read by the same bare readers (BaselineBareSSE; also with
// one stream).
//
// The server runs in a process of its own: this test binary run again as
// TestBenchServerProcess, which runs `vane serve` exactly as the binary's
// main does (or the bare handler), next to a debug listener that reports
// the process's memory after a garbage collection. The clients run here,
// each with its own connection. Latencies run from the start of the put
// (for the baseline, of the request that makes the handler write), since a
// callback may come before the client has read the put's response.
//
// Memory is the growth from before the clients connect to after, divided
// by the number of clients: of the live heap and of the goroutine stacks
// after a collection, and of the resident set after the collection and
// after returning free memory to the OS (what the streams hold, without
// the garbage of connecting them).
//
// Each process holds a descriptor per stream, 10,000 at most; Go raises
// the soft limit on open files to the hard one at start, and a size the
// hard limit can't hold is skipped.
func BenchmarkSDKPropagation(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchSDKPropagation(b, n) })
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("BareReaders/clients=%d", n), func(b *testing.B) { benchBareReaders(b, n) })
	}
	for _, n := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprintf("BaselineBareSSE/clients=%d", n), func(b *testing.B) { benchBareSSE(b, n) })
	}
}

// benchConnectWorkers is how many clients connect at a time: well under
// the listen backlog, so that no connection waits for a SYN retry.
const benchConnectWorkers = 32

// needFiles skips a benchmark of n streams when this process can't open a
// descriptor for each, with some to spare.
func needFiles(b *testing.B, n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n)+256 {
		b.Skipf("%d streams need %d open files in each process; the limit is %d (ulimit -n)", n, n+256, lim.Cur)
	}
}

func benchSDKPropagation(b *testing.B, n int) {
	needFiles(b, n)
	srv := startBenchServer(b, "vane", "serve", "--dev", "--addr", "127.0.0.1:0", "--data", b.TempDir())
	client := &http.Client{Timeout: 30 * time.Second}
	const name = "/bench/sdk/x"
	if _, err := putOverwrite(context.Background(), client, srv.url, name, "v0"); err != nil {
		b.Fatal(err)
	}
	mem0 := srv.memory(b)

	var cur atomic.Pointer[fanout]
	clients := make([]*sdk.Client, n)
	began := time.Now()
	parallel(n, func(i int) {
		c, err := sdk.Open(context.Background(), sdk.Config{
			Server: srv.url, Paths: []string{"/bench/sdk/"}, Logger: slog.New(slog.DiscardHandler),
			HTTPClient: &http.Client{Transport: &http.Transport{}},
			// Usage reports are not part of propagation: one goroutine
			// fewer per client in this process.
			DisableUsage: true,
		})
		if err != nil {
			b.Error(err)
			return
		}
		c.OnChange(name, func(ch sdk.Change) {
			if f := cur.Load(); f != nil {
				f.record(ch.Value)
			}
		})
		clients[i] = c
	})
	b.Cleanup(func() {
		parallel(n, func(i int) {
			if clients[i] != nil {
				clients[i].Close()
			}
		})
	})
	if b.Failed() {
		b.FailNow()
	}
	waitFor(b, 60*time.Second, func() (bool, string) {
		k := 0
		for _, c := range clients {
			if c.Status().Connected {
				k++
			}
		}
		return k == n, fmt.Sprintf("%d of %d clients connected", k, n)
	})
	b.Logf("%d clients opened and connected in %s", n, time.Since(began).Round(time.Millisecond))
	timeFanout(b, srv, &cur, n, mem0, fmt.Sprintf("clients=%d", n), func(value string) {
		if _, err := putOverwrite(context.Background(), client, srv.url, name, value); err != nil {
			b.Fatal(err)
		}
	})
}

// timeFanout is the timed loop: b.N times, it calls publish with a new
// value and waits for n clients to receive it; it then reports the
// latencies, and the server's memory from mem0 on.
func timeFanout(b *testing.B, srv *benchServer, cur *atomic.Pointer[fanout], n int, mem0 processMemory, name string, publish func(value string)) {
	mem1 := srv.memory(b)
	prof := startBenchProfiles(b, srv, name)
	lat := make([]time.Duration, 0, b.N*n)
	// A collection here in the clients' process, which holds every
	// client, would otherwise come at a different put in each run.
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	serverCPU, clientCPU := srv.cpu(b), processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := newFanout("v"+strconv.Itoa(i+1), n)
		cur.Store(f)
		began := time.Now()
		publish(f.value)
		lat = f.wait(b, began, lat)
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.Logf("%s: the clients' process allocated %.1f MB per put and collected %d times in %d puts",
		name, float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/1e6, ms1.NumGC-ms0.NumGC, b.N)
	// On a machine this small, the fan-out is bound by CPU: what each
	// process spent on it says more than the latencies, which move with
	// any other load.
	b.ReportMetric(float64((srv.cpu(b)-serverCPU).Microseconds())/float64(b.N), "server-cpu-µs/op")
	b.ReportMetric(float64((processCPU()-clientCPU).Microseconds())/float64(b.N), "client-cpu-µs/op")
	prof.stop(b)
	reportLatency(b, lat)
	reportMemory(b, mem0, mem1, srv.memory(b), n)
}

// processCPU returns the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanout collects the callback times of one value in n clients.
type fanout struct {
	value string
	times []time.Time
	k     atomic.Int64
	done  chan struct{}
}

func newFanout(value string, n int) *fanout {
	return &fanout{value: value, times: make([]time.Time, n), done: make(chan struct{})}
}

// record notes that a client received value now; other values (a late
// callback of an earlier put) are ignored.
func (f *fanout) record(value string) {
	if value != f.value {
		return
	}
	now := time.Now()
	i := f.k.Add(1) - 1
	if i >= int64(len(f.times)) {
		return
	}
	f.times[i] = now
	if i == int64(len(f.times))-1 {
		close(f.done)
	}
}

// wait waits for every client and appends their latencies from began.
func (f *fanout) wait(b *testing.B, began time.Time, lat []time.Duration) []time.Duration {
	select {
	case <-f.done:
	case <-time.After(60 * time.Second):
		b.Fatalf("%s reached %d of %d clients within 60s", f.value, f.k.Load(), len(f.times))
	}
	for _, t := range f.times {
		lat = append(lat, t.Sub(began))
	}
	return lat
}

// parallel runs f(0) to f(n-1) on benchConnectWorkers goroutines.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, benchConnectWorkers) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// waitFor polls cond until it holds, failing with its message after
// timeout.
func waitFor(b *testing.B, timeout time.Duration, cond func() (bool, string)) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// benchBareReaders is the first reference: the Vane server of
// benchSDKPropagation, read by n bare stream readers (openReaders).
func benchBareReaders(b *testing.B, n int) {
	needFiles(b, n)
	srv := startBenchServer(b, "vane", "serve", "--dev", "--addr", "127.0.0.1:0", "--data", b.TempDir())
	client := &http.Client{Timeout: 30 * time.Second}
	const name = "/bench/sdk/x"
	if _, err := putOverwrite(context.Background(), client, srv.url, name, "v0"); err != nil {
		b.Fatal(err)
	}
	mem0 := srv.memory(b)
	var cur atomic.Pointer[fanout]
	// The response head comes once the stream has subscribed.
	openReaders(b, n, srv.url+"/v1/watch?path=/bench/sdk/", &cur, func(data string) string {
		_, v, _ := strings.Cut(data, `"value":"`)
		v, _, _ = strings.Cut(v, `"`)
		return v
	})
	timeFanout(b, srv, &cur, n, mem0, fmt.Sprintf("readers-clients=%d", n), func(value string) {
		if _, err := putOverwrite(context.Background(), client, srv.url, name, value); err != nil {
			b.Fatal(err)
		}
	})
}

// benchBareSSE is the baseline: a bare net/http handler (in its own
// process) that writes each published line to every open stream, read by
// n bare stream readers.
func benchBareSSE(b *testing.B, n int) {
	needFiles(b, n)
	srv := startBenchServer(b, "bare")
	client := &http.Client{Timeout: 30 * time.Second}
	mem0 := srv.memory(b)
	var cur atomic.Pointer[fanout]
	openReaders(b, n, srv.url+"/stream", &cur, func(data string) string { return data })
	waitFor(b, 60*time.Second, func() (bool, string) {
		k, err := getInt(client, srv.url+"/streams")
		if err != nil {
			b.Fatal(err)
		}
		return k == n, fmt.Sprintf("%d of %d streams open", k, n)
	})
	timeFanout(b, srv, &cur, n, mem0, fmt.Sprintf("bare-clients=%d", n), func(value string) {
		resp, err := client.Post(srv.url+"/publish?v="+value, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		drainClose(resp)
	})
}

// openReaders opens n Server-Sent Events streams at url, each with its own
// connection, read by a goroutine that hands the value of every data line
// to the current fanout; they are closed when the benchmark ends.
func openReaders(b *testing.B, n int, url string, cur *atomic.Pointer[fanout], value func(data string) string) {
	bodies := make([]io.Closer, n)
	parallel(n, func(i int) {
		resp, err := (&http.Client{Transport: &http.Transport{}}).Get(url)
		if err != nil {
			b.Error(err)
			return
		}
		bodies[i] = resp.Body
		go func() {
			r := bufio.NewReader(resp.Body)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
					if f := cur.Load(); f != nil {
						f.record(value(data))
					}
				}
			}
		}()
	})
	b.Cleanup(func() {
		for _, body := range bodies {
			if body != nil {
				body.Close()
			}
		}
	})
	if b.Failed() {
		b.FailNow()
	}
}

// reportLatency reports the p50 and p99 of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// reportMemory reports the server's memory growth per client from before
// the clients connected to after (idle streams). It logs the growth of the
// resident set before any collection, which holds the garbage of
// connecting (and so depends on GOGC), and the memory per client after
// the timed loop (streams that have sent changes).
func reportMemory(b *testing.B, before, idle, used processMemory, n int) {
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	b.ReportMetric(per(idle.HeapInuse, before.HeapInuse), "server-heap-B/watcher")
	b.ReportMetric(per(idle.StackInuse, before.StackInuse), "server-stack-B/watcher")
	b.ReportMetric(per(idle.RSS, before.RSS), "server-rss-B/watcher")
	b.ReportMetric(float64(idle.Goroutines-before.Goroutines)/float64(n), "server-goroutines/watcher")
	b.Logf("%d clients: per watcher, resident set before any collection %.0f B; after %d changes: heap %.0f B, stack %.0f B, resident set %.0f B",
		n, per(idle.RSSBeforeGC, before.RSSBeforeGC), b.N, per(used.HeapInuse, before.HeapInuse), per(used.StackInuse, before.StackInuse), per(used.RSS, before.RSS))
}

// benchServer is a server process started by startBenchServer.
type benchServer struct {
	cmd   *exec.Cmd
	url   string // the server
	debug string // its debug listener (TestBenchServerProcess)
}

var debugURL = regexp.MustCompile(`\bdebug=(http://[^\s"]+)`)

// startBenchServer runs this test binary again as TestBenchServerProcess
// in mode ("vane", with the arguments of the vane command, or "bare") and
// waits for its URLs. The process is killed when the benchmark ends.
func startBenchServer(b *testing.B, mode string, args ...string) *benchServer {
	b.Helper()
	if testing.Short() {
		b.Skip("starts a server process: skipped with -short")
	}
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestBenchServerProcess$", "-test.short", "-test.timeout=0", "--"}, args...)...)
	cmd.Env = childEnv(benchServerEnv + "=" + mode)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	logs := &lockedBuffer{}
	exited := make(chan error, 1)
	urls, debugs := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			for _, m := range []struct {
				re *regexp.Regexp
				ch chan string
			}{{listeningURL, urls}, {debugURL, debugs}} {
				if s := m.re.FindStringSubmatch(sc.Text()); s != nil {
					select {
					case m.ch <- s[1]:
					default:
					}
				}
			}
		}
		exited <- cmd.Wait()
	}()
	b.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	s := &benchServer{cmd: cmd}
	for s.url == "" || s.debug == "" {
		select {
		case s.url = <-urls:
		case s.debug = <-debugs:
		case err := <-exited:
			exited <- err
			b.Fatalf("server process exited before listening (%v); log:\n%s", err, logs.String())
		case <-time.After(30 * time.Second):
			b.Fatalf("server process did not listen within 30s; log:\n%s", logs.String())
		}
	}
	return s
}

// processMemory is the answer of the debug listener's /memory.
type processMemory struct {
	RSSBeforeGC uint64 `json:"rss_before_gc"` // resident set before collecting
	HeapInuse   uint64 `json:"heap_inuse"`    // after a collection
	StackInuse  uint64 `json:"stack_inuse"`
	RSS         uint64 `json:"rss"` // after the collection and returning free memory
	Goroutines  int    `json:"goroutines"`
}

// memory returns the server process's memory.
func (s *benchServer) memory(b *testing.B) processMemory {
	b.Helper()
	var m processMemory
	if err := getJSON(&http.Client{Timeout: time.Minute}, s.debug+"/memory", &m); err != nil {
		b.Fatal(err)
	}
	return m
}

// cpu returns the CPU time the server process has used.
func (s *benchServer) cpu(b *testing.B) time.Duration {
	b.Helper()
	var ns int64
	if err := getJSON(&http.Client{Timeout: time.Minute}, s.debug+"/cpu", &ns); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns)
}

// benchProfiles are the CPU profiles of a timed loop, when benchProfileEnv
// names a directory.
type benchProfiles struct {
	srv  *benchServer
	dir  string
	name string
	file *os.File
}

// startBenchProfiles writes the server's heap profile and starts CPU
// profiles of the server and of this process, if benchProfileEnv is set.
func startBenchProfiles(b *testing.B, srv *benchServer, name string) *benchProfiles {
	b.Helper()
	dir := os.Getenv(benchProfileEnv)
	if dir == "" {
		return nil
	}
	p := &benchProfiles{srv: srv, dir: dir, name: name}
	p.save(b, "/heap", "server-heap-"+name+".pprof")
	resp, err := http.Post(srv.debug+"/cpu/start", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	drainClose(resp)
	if p.file, err = os.Create(filepath.Join(dir, "client-cpu-"+name+".pprof")); err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(p.file); err != nil {
		b.Fatal(err)
	}
	return p
}

// stop writes the CPU profiles started by startBenchProfiles.
func (p *benchProfiles) stop(b *testing.B) {
	if p == nil {
		return
	}
	pprof.StopCPUProfile()
	p.file.Close()
	p.save(b, "/cpu/stop", "server-cpu-"+p.name+".pprof")
	p.save(b, "/goroutine", "server-goroutine-"+p.name+".pprof")
}

// save writes what the server's debug listener answers at path to file.
func (p *benchProfiles) save(b *testing.B, path, file string) {
	b.Helper()
	resp, err := http.Get(p.srv.debug + path)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(p.dir, file))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatal(err)
	}
}

func getInt(client *http.Client, url string) (int, error) {
	var n int
	err := getJSON(client, url, &n)
	return n, err
}

func drainClose(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestBenchServerProcess is not a test: BenchmarkSDKPropagation runs this
// test binary again with it (and benchServerEnv set) as a server process
// whose memory it can read. In mode "vane" it runs the vane command line
// of its arguments, as the binary's main does; in mode "bare" it serves
// the baseline's bare Server-Sent Events. Either way it also serves, on a
// debug listener whose URL it logs as debug=URL, the process's memory
// after a collection (/memory), the CPU time it used (/cpu), a heap
// profile (/heap), goroutines (/goroutine) and a CPU profile (/cpu/start,
// then /cpu/stop).
func TestBenchServerProcess(t *testing.T) {
	mode := os.Getenv(benchServerEnv)
	if mode == "" {
		t.Skip("the server process of BenchmarkSDKPropagation")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(l, benchDebugHandler())
	fmt.Fprintf(os.Stderr, "debug=http://%s\n", l.Addr())
	switch mode {
	case "vane":
		if code := Run(ctx, flag.Args(), os.Stdin, os.Stdout, os.Stderr); code != 0 {
			t.Fatalf("vane %s: exit code %d", strings.Join(flag.Args(), " "), code)
		}
	case "bare":
		serveBareSSE(t, ctx)
	default:
		t.Fatalf("%s=%q: want vane or bare", benchServerEnv, mode)
	}
}

// benchDebugHandler serves the debug listener of TestBenchServerProcess.
func benchDebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /memory", func(w http.ResponseWriter, r *http.Request) {
		m := processMemory{RSSBeforeGC: residentSet()}
		for range 4 {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.HeapInuse, m.StackInuse, m.Goroutines = ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
		debug.FreeOSMemory()
		m.RSS = residentSet()
		json.NewEncoder(w).Encode(&m)
	})
	mux.HandleFunc("GET /cpu", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(processCPU().Nanoseconds())
	})
	mux.HandleFunc("GET /heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		pprof.Lookup("heap").WriteTo(w, 0)
	})
	mux.HandleFunc("GET /goroutine", func(w http.ResponseWriter, r *http.Request) {
		pprof.Lookup("goroutine").WriteTo(w, 0)
	})
	var mu sync.Mutex
	var cpu *os.File
	mux.HandleFunc("POST /cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.CreateTemp("", "vane-bench-cpu-")
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		cpu = f
	})
	mux.HandleFunc("GET /cpu/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if cpu == nil {
			http.Error(w, "no CPU profile started", http.StatusConflict)
			return
		}
		pprof.StopCPUProfile()
		cpu.Seek(0, io.SeekStart)
		io.Copy(w, cpu)
		cpu.Close()
		os.Remove(cpu.Name())
		cpu = nil
	})
	return mux
}

// residentSet returns the resident set size of this process, in bytes.
func residentSet() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// serveBareSSE serves the baseline until ctx is done: GET /stream is a
// Server-Sent Events stream, POST /publish?v=LINE writes "data: LINE" to
// every open stream, GET /streams counts them. It logs url=URL.
func serveBareSSE(t *testing.T, ctx context.Context) {
	var mu sync.Mutex
	streams := map[chan string]struct{}{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		ch := make(chan string, 16)
		mu.Lock()
		streams[ch] = struct{}{}
		mu.Unlock()
		defer func() { mu.Lock(); delete(streams, ch); mu.Unlock() }()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rc.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case line := <-ch:
				fmt.Fprintf(w, "data: %s\n\n", line)
				rc.Flush()
			}
		}
	})
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query().Get("v")
		mu.Lock()
		for ch := range streams {
			ch <- v
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /streams", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(streams)
		mu.Unlock()
		json.NewEncoder(w).Encode(n)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	fmt.Fprintf(os.Stderr, "url=http://%s\n", l.Addr())
	<-ctx.Done()
	srv.Close()
}
