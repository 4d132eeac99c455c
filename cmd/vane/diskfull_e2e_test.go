package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDiskFull runs vane serve on a small tmpfs and fills it: writes then
// fail with 503 and a message saying the disk is full, reads keep working,
// nothing acknowledged is lost (checked after a SIGKILL and a restart), and
// writes work again once space is freed.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root, which this test needs to mount a tmpfs")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	bin := vaneBinary(t)
	disk := filepath.Join(t.TempDir(), "disk")
	if err := os.MkdirAll(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", disk).Run() })
	data := filepath.Join(disk, "data")
	srv := startCrashServer(t, bin, data)
	defer func() { srv.cmd.Process.Kill(); <-srv.exited }()
	client := &http.Client{}
	put := func(name, value string) (int, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"value": value, "type": "String", "overwrite": true})
		req, _ := http.NewRequest(http.MethodPut, srv.url+"/v1/parameters"+name, bytes.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	// Ballast leaves a few MiB for the server; freeing it is how space
	// comes back.
	ballast := filepath.Join(disk, "ballast")
	var st syscall.Statfs_t
	syscall.Statfs(disk, &st)
	free := int64(st.Bavail) * st.Bsize
	if err := os.WriteFile(ballast, make([]byte, free-6<<20), 0o600); err != nil {
		t.Fatal(err)
	}

	value := strings.Repeat("x", 3000)
	acked := map[string]string{}
	full := ""
	for i := 0; i < 10000 && full == ""; i++ {
		name := fmt.Sprintf("/fill/p%05d", i)
		v := fmt.Sprintf("%d-%s", i, value)
		switch status, body := put(name, v); status {
		case http.StatusOK, http.StatusCreated:
			acked[name] = v
		default:
			if status != http.StatusServiceUnavailable && status != http.StatusInsufficientStorage || !strings.Contains(body, "full") {
				t.Fatalf("write %d on a full disk: %d %s", i, status, body)
			}
			full = body
		}
	}
	if full == "" || len(acked) == 0 {
		t.Fatalf("the disk never filled (%d writes acknowledged)", len(acked))
	}
	t.Logf("%d writes acknowledged before the disk filled: %s", len(acked), strings.TrimSpace(full))
	// Reads keep working.
	var p apiParameter
	if err := getJSON(client, srv.url+"/v1/parameters/fill/p00000", &p); err != nil || p.Value != acked["/fill/p00000"] {
		t.Fatalf("a read on a full disk: %v %.40q", err, p.Value)
	}
	// Space comes back: writes work again.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if status, body := put("/fill/after", "ok"); status != http.StatusCreated {
		t.Fatalf("a write once space is freed: %d %s", status, body)
	}
	acked["/fill/after"] = "ok"
	// Nothing acknowledged was lost, even across a SIGKILL.
	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.exited
	srv = startCrashServer(t, bin, data)
	for name, v := range acked {
		req, _ := http.NewRequest(http.MethodGet, srv.url+"/v1/parameters"+name, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got apiParameter
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || got.Value != v {
			t.Fatalf("%s after the restart: %d %.40q", name, resp.StatusCode, got.Value)
		}
	}
}
