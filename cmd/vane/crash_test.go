package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vanehq/vane/sqlite"
)

// crashServer is a `vane serve` child process that the crash test kills.
type crashServer struct {
	cmd    *exec.Cmd
	url    string
	exited chan error
	logs   *lockedBuffer
}

// startCrashServer starts `vane serve` on dataDir and waits for its URL.
func startCrashServer(t *testing.T, bin, dataDir string) *crashServer {
	t.Helper()
	return startServeProcess(t, bin, "--addr", "127.0.0.1:0", "--data", dataDir)
}

// startServeProcess starts `vane serve` with args and waits for its URL.
func startServeProcess(t testing.TB, bin string, args ...string) *crashServer {
	t.Helper()
	// Without access control: these tests are about other things;
	// TestSecureByDefault covers a server with it.
	return startVaneServe(t, bin, append([]string{"--dev"}, args...)...)
}

// startVaneServe starts `vane serve ARGS` and waits for its url= line.
func startVaneServe(t testing.TB, bin string, args ...string) *crashServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = childEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, exited: make(chan error, 1), logs: &lockedBuffer{}}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(s.logs, sc.Text())
			if m := listeningURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		s.exited <- cmd.Wait()
	}()
	select {
	case s.url = <-urls:
		return s
	case err := <-s.exited:
		t.Fatalf("vane serve exited before listening (%v); log:\n%s", err, s.logs.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("vane serve did not listen within 30s; log:\n%s", s.logs.String())
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *crashServer) kill(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}

// stop sends SIGINT and expects a clean exit.
func (s *crashServer) stop(t testing.TB) {
	t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("vane serve exited with %v after SIGINT; log:\n%s", err, s.logs.String())
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("vane serve did not stop after SIGINT; log:\n%s", s.logs.String())
	}
}

// ack is the last acknowledged write to one name.
type ack struct {
	version int64
	value   string
}

type apiParameter struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Version int64  `json:"version"`
}

// TestCrashKeepsAcknowledgedWrites kills a server under a concurrent write
// load with SIGKILL several times. After each restart every acknowledged
// write must be there with its version and value, at most the one write in
// flight per writer may have landed too, and versions have no gaps.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	bin := vaneBinary(t)
	dataDir := t.TempDir()
	const (
		rounds          = 4
		writers         = 4
		namesPerWriter  = 3
		minAckedPerKill = 60
	)
	client := &http.Client{Timeout: 10 * time.Second}
	acked := map[string]ack{} // name -> last acknowledged write
	for w := 0; w < writers; w++ {
		for j := 0; j < namesPerWriter; j++ {
			acked[fmt.Sprintf("/crash/w%d/k%d", w, j)] = ack{}
		}
	}

	for round := 0; round < rounds; round++ {
		srv := startCrashServer(t, bin, dataDir)
		verifyAcked(t, client, srv.url, acked, round)

		// Writers: each owns its names and writes them in turn, so each name
		// has at most one write in flight when the server dies.
		var total atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := 0; ctx.Err() == nil; n++ {
					name := fmt.Sprintf("/crash/w%d/k%d", w, n%namesPerWriter)
					value := fmt.Sprintf("round%d-w%d-n%d", round, w, n)
					v, err := putOverwrite(ctx, client, srv.url, name, value)
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					if v <= acked[name].version {
						t.Errorf("%s: acknowledged version %d after version %d", name, v, acked[name].version)
					}
					acked[name] = ack{version: v, value: value}
					mu.Unlock()
					total.Add(1)
				}
			}(w)
		}
		deadline := time.Now().Add(15 * time.Second)
		for total.Load() < minAckedPerKill && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
		srv.kill(t)
		wg.Wait()
		cancel()
		if total.Load() < minAckedPerKill {
			t.Fatalf("round %d: only %d writes acknowledged before the kill; log:\n%s", round, total.Load(), srv.logs.String())
		}
		t.Logf("round %d: killed after %d acknowledged writes", round, total.Load())
	}

	srv := startCrashServer(t, bin, dataDir)
	verifyAcked(t, client, srv.url, acked, rounds)
	srv.stop(t)

	s, err := sqlite.Open(filepath.Join(dataDir, "vane.db"))
	if err != nil {
		t.Fatalf("store does not open after the crashes: %v", err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// verifyAcked checks every name against its last acknowledged write and then
// moves the record forward to what is stored, since the write in flight at
// the kill may have committed.
func verifyAcked(t *testing.T, client *http.Client, url string, acked map[string]ack, round int) {
	t.Helper()
	for name, a := range acked {
		cur, err := getParameter(client, url, name, "")
		if a.version == 0 {
			if err != nil {
				continue // never acknowledged, maybe never written
			}
		} else if err != nil {
			t.Fatalf("round %d: %s: acknowledged version %d, now: %v", round, name, a.version, err)
		}
		if cur.Version < a.version || cur.Version > a.version+1 {
			t.Fatalf("round %d: %s is at version %d, acknowledged version %d (at most one more may have been in flight)",
				round, name, cur.Version, a.version)
		}
		if a.version > 0 {
			at, err := getParameter(client, url, name, fmt.Sprintf("?version=%d", a.version))
			if err != nil {
				t.Fatalf("round %d: %s: acknowledged version %d is gone: %v", round, name, a.version, err)
			}
			if at.Value != a.value {
				t.Fatalf("round %d: %s version %d holds %q, acknowledged %q", round, name, a.version, at.Value, a.value)
			}
		}
		checkContiguousHistory(t, client, url, name, cur.Version)
		acked[name] = ack{version: cur.Version, value: cur.Value}
	}
}

// checkContiguousHistory checks that the kept versions run without a gap up
// to latest.
func checkContiguousHistory(t *testing.T, client *http.Client, url, name string, latest int64) {
	t.Helper()
	var versions []int64
	token := ""
	for {
		q := "?limit=1000"
		if token != "" {
			q += "&next_token=" + token
		}
		var page struct {
			Parameters []apiParameter `json:"parameters"`
			NextToken  string         `json:"next_token"`
		}
		if err := getJSON(client, url+"/v1/history"+name+q, &page); err != nil {
			t.Fatalf("history of %s: %v", name, err)
		}
		for _, p := range page.Parameters {
			versions = append(versions, p.Version)
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	if len(versions) == 0 || versions[len(versions)-1] != latest {
		t.Fatalf("history of %s ends at %v, latest is %d", name, versions, latest)
	}
	for i := 1; i < len(versions); i++ {
		if versions[i] != versions[i-1]+1 {
			t.Fatalf("history of %s has a gap: %v", name, versions)
		}
	}
}

func putOverwrite(ctx context.Context, client *http.Client, url, name, value string) (int64, error) {
	body, _ := json.Marshal(map[string]any{"value": value, "type": "String", "overwrite": true})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url+"/v1/parameters"+name, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("PUT %s: status %d", name, resp.StatusCode)
	}
	var p apiParameter
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return 0, err
	}
	return p.Version, nil
}

func getParameter(client *http.Client, url, name, query string) (apiParameter, error) {
	var p apiParameter
	err := getJSON(client, url+"/v1/parameters"+name+query, &p)
	return p, err
}

func getJSON(client *http.Client, url string, v any) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
