package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ListeningMessage is the msg of the JSON log line (log/slog's JSON
// handler) that a server process writes to stderr once it accepts
// connections, with the URL in "url": `vane serve --log-format json`
// writes it, and so must any other process started with Start.
const ListeningMessage = "listening"

// DefaultStartTimeout bounds how long Start waits for the listening line.
const DefaultStartTimeout = 30 * time.Second

// stopTimeout is how long Close waits after an interrupt before killing.
const stopTimeout = 10 * time.Second

// logTailLines is how much of a failed process's log an error quotes.
const logTailLines = 20

// Process is a server process started by Start that has announced the
// URL it listens on. Its stderr goes to a log file, copied by a goroutine
// of this process; servers log little at their default level, so the copy
// costs the load generator nothing measurable.
type Process struct {
	// URL is the base URL the process announced, such as
	// http://127.0.0.1:40123.
	URL string
	// LogPath is the file holding the process's stderr.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and its log is closed
	err  error         // the process's exit error, set before done closes
	tail *tailBuffer
}

// Start starts cmd, whose Stderr must be nil (Start sets it), copies its
// stderr to the file logPath, and waits until it writes the listening
// line (see ListeningMessage), exits, or timeout passes (0 means
// DefaultStartTimeout), or ctx ends. On failure the process is killed and
// the error quotes the end of its log.
func Start(ctx context.Context, cmd *exec.Cmd, logPath string, timeout time.Duration) (*Process, error) {
	if cmd.Stderr != nil {
		return nil, errors.New("bench: Start sets cmd.Stderr itself")
	}
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	// An *os.File as Stderr is handed to the child as is: exec starts no
	// copying goroutine, and Wait does not wait for the pipe to drain.
	pr, pw, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		logFile.Close()
		return nil, fmt.Errorf("bench: start %s: %w", filepath.Base(cmd.Path), err)
	}
	pw.Close()

	p := &Process{LogPath: logPath, cmd: cmd, done: make(chan struct{}), tail: &tailBuffer{max: logTailLines}}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Bytes()
			// Not append(line, '\n'): that could overwrite the
			// scanner's unread input.
			logFile.Write(line)
			logFile.Write([]byte{'\n'})
			p.tail.add(string(line))
			if !found {
				if u, ok := listeningURL(line); ok {
					found = true
					urls <- u
				}
			}
		}
		// Drain anything left (a line longer than the buffer) so the
		// child never blocks on a full pipe.
		io.Copy(logFile, pr)
		pr.Close()
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case p.URL = <-urls:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("bench: %s exited before listening (%v); end of its log %s:\n%s",
			filepath.Base(cmd.Path), p.err, logPath, p.tail.String())
	case <-timer.C:
		p.kill()
		return nil, fmt.Errorf("bench: %s did not announce a listening URL within %v; end of its log %s:\n%s",
			filepath.Base(cmd.Path), timeout, logPath, p.tail.String())
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// listeningURL returns the url of a JSON log line whose msg is
// ListeningMessage.
func listeningURL(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte("{")) {
		return "", false
	}
	var rec struct {
		Msg string `json:"msg"`
		URL string `json:"url"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.Msg != ListeningMessage || rec.URL == "" {
		return "", false
	}
	return rec.URL, true
}

// Exited reports whether the process has exited, and with what error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// LogTail returns the last lines the process wrote to stderr.
func (p *Process) LogTail() string { return p.tail.String() }

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// RSS returns the process's resident set size in bytes, from
// /proc/PID/status (Linux); 0 when it can't be read.
func (p *Process) RSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Close interrupts the process (SIGINT, a graceful shutdown for vane and
// the servers Start is meant for), kills it if it has not exited within
// 10 seconds, and returns its exit error, if any.
func (p *Process) Close() error {
	if exited, err := p.Exited(); exited {
		return err
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.kill()
		return nil
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(stopTimeout):
		p.kill()
		return fmt.Errorf("bench: %s did not stop within %v of an interrupt and was killed", filepath.Base(p.cmd.Path), stopTimeout)
	}
}

// kill kills the process and waits for it.
func (p *Process) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// tailBuffer keeps the last max lines added to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.max {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// AdminKeyFile is the file in the data directory where `vane serve`
// saves the admin access key it creates on first start, as a bearer token
// ("ID.SECRET").
const AdminKeyFile = "admin.key"

// Vane is a `vane serve` process started by StartVane.
type Vane struct {
	*Process
	// Dev reports whether it runs with --dev (access control off).
	Dev bool
	// AdminKey is the bearer token ("ID.SECRET") of the admin access key
	// created on first start; empty with Dev.
	AdminKey string
}

// VaneConfig configures StartVane.
type VaneConfig struct {
	// Binary is the path of a built vane binary.
	Binary string
	// Dir is a new, empty directory: the data directory is Dir/data and
	// the log Dir/vane.log.
	Dir string
	// Dev runs `vane serve --dev` (no access control); otherwise the
	// default server, with access control on.
	Dev bool
	// Args are more arguments to `vane serve`.
	Args []string
	// Timeout bounds the start; 0 means DefaultStartTimeout.
	Timeout time.Duration
}

// StartVane starts `vane serve` on a free loopback port (--addr
// 127.0.0.1:0, the URL taken from its "listening" log line), waits until
// /readyz answers 200, and, without Dev, reads the admin key it created.
// GOMAXPROCS and the rest of the environment are inherited unchanged.
func StartVane(ctx context.Context, c VaneConfig) (*Vane, error) {
	data := filepath.Join(c.Dir, "data")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-format", "json"}
	if c.Dev {
		args = append(args, "--dev")
	}
	args = append(args, c.Args...)
	p, err := Start(ctx, exec.Command(c.Binary, args...), filepath.Join(c.Dir, "vane.log"), c.Timeout)
	if err != nil {
		return nil, err
	}
	v := &Vane{Process: p, Dev: c.Dev}
	if err := waitReady(ctx, p, c.Timeout); err != nil {
		p.Close()
		return nil, err
	}
	if !c.Dev {
		// vane writes the key before it starts listening.
		b, err := os.ReadFile(filepath.Join(data, AdminKeyFile))
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("bench: the admin key of the vane server: %w", err)
		}
		v.AdminKey = strings.TrimSpace(string(b))
	}
	return v, nil
}

// waitReady polls GET /readyz until it answers 200.
func waitReady(ctx context.Context, p *Process, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Transport: newTransport(1)}
	defer client.CloseIdleConnections()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
		} else {
			last = err.Error()
		}
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("bench: vane exited (%v); end of its log:\n%s", err, p.LogTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: vane at %s is not ready (%s): %w", p.URL, last, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
