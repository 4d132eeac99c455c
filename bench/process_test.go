package bench_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane/bench"
)

// helperEnv makes the test binary act as a server process for the Start
// tests instead of running tests: "listen" announces a URL and serves
// until interrupted, "exit" fails at once, "silent" never announces.
const helperEnv = "BENCH_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func helper(mode string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintln(os.Stderr, "starting up, not JSON")
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "boom: no configuration")
		return 3
	case "silent":
		<-ctx.Done()
		return 0
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })}
	go srv.Serve(ln)
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	log.Info("opened", "url", "http://wrong.example") // not the listening line
	log.Info(bench.ListeningMessage, "url", "http://"+ln.Addr().String())
	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(os.Stderr, "stopped")
	return 0
}

func helperCommand(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	return cmd
}

func TestStart(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "server.log")
	p, err := bench.Start(context.Background(), helperCommand(t, "listen"), logPath, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %q: want the listening line's, not an earlier url", p.URL)
	}
	resp, err := http.Get(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("got %q from %s", b, p.URL)
	}
	if exited, _ := p.Exited(); exited {
		t.Fatal("Exited before Close")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if exited, _ := p.Exited(); !exited {
		t.Fatal("not Exited after Close")
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "starting up, not JSON") || !strings.HasSuffix(string(log), "stopped\n") {
		t.Fatalf("the log does not hold the whole stderr:\n%s", log)
	}
}

func TestStartFails(t *testing.T) {
	t.Run("ErrExitedBeforeListening", func(t *testing.T) {
		_, err := bench.Start(context.Background(), helperCommand(t, "exit"), filepath.Join(t.TempDir(), "log"), 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "boom: no configuration") || !strings.Contains(err.Error(), "exited") {
			t.Fatalf("err = %v, want one that says it exited and quotes the log", err)
		}
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		start := time.Now()
		_, err := bench.Start(context.Background(), helperCommand(t, "silent"), filepath.Join(t.TempDir(), "log"), 300*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "did not announce") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Start took %v with a 300ms timeout", d)
		}
	})
	t.Run("ErrStderrSet", func(t *testing.T) {
		cmd := helperCommand(t, "listen")
		cmd.Stderr = io.Discard
		if _, err := bench.Start(context.Background(), cmd, filepath.Join(t.TempDir(), "log"), time.Second); err == nil {
			t.Fatal("Start accepted a command with Stderr set")
		}
	})
}
