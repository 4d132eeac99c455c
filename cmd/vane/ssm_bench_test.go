package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/vanehq/vane/bench"
)

// ssmAuthorization is a SigV4 Authorization header as an SDK would send it.
// Vane does not verify it yet; moto needs its credential scope to route
// the request to its SSM mock (without it, moto answers as S3).
const ssmAuthorization = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

// ssmGetBody is the GetParameter request of the benchmark parameter.
var ssmGetBody = []byte(`{"Name":"` + benchName + `"}`)

// BenchmarkSSMGetParameter compares reading one parameter through the SSM
// protocol (POST / with X-Amz-Target: AmazonSSM.GetParameter) with the
// native GET of the same parameter, with a bare net/http handler returning
// the SSM response's bytes, and with moto, the Python SSM mock, when
// moto_server is installed. All run on loopback in one process, so their
// ratios are meaningful on a noisy machine. Each reports req/s and the p99
// latency seen by the client.
func BenchmarkSSMGetParameter(b *testing.B) {
	b.Run("ssm", func(b *testing.B) {
		m, _ := openBenchMain(b)
		url := m.HTTP.URL() + "/"
		loadPosts(b, url, "AmazonSSM.GetParameter", ssmGetBody, len(ssmResponse(b, url)))
	})
	b.Run("native", func(b *testing.B) {
		m, body := openBenchMain(b)
		loadGets(b, m.HTTP.URL()+"/v1/parameters"+benchName, len(body))
	})
	b.Run("baseline", func(b *testing.B) {
		m, _ := openBenchMain(b)
		body := ssmResponse(b, m.HTTP.URL()+"/")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: bench.BaselineHandler(body)}
		go srv.Serve(ln)
		defer srv.Close()
		loadPosts(b, "http://"+ln.Addr().String()+"/", "AmazonSSM.GetParameter", ssmGetBody, len(body))
	})
	// moto takes seconds to start, so it is started once for all the
	// rounds of its sub-benchmark and stopped when this benchmark ends.
	var motoURL string
	top := b
	b.Run("moto", func(b *testing.B) {
		if motoURL == "" {
			motoURL = startMoto(b, top)
		}
		loadPosts(b, motoURL, "AmazonSSM.GetParameter", ssmGetBody, len(ssmResponse(b, motoURL)))
	})
}

// ssmRequest returns an SSM request as an SDK sends it, less the signature.
func ssmRequest(url, target string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("Authorization", ssmAuthorization)
	return req
}

// ssmCall sends one SSM request and returns the response body; it fails the
// benchmark unless the status is 200.
func ssmCall(b *testing.B, url, target string, body []byte) []byte {
	b.Helper()
	resp, err := http.DefaultClient.Do(ssmRequest(url, target, body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: status %d, %v: %s", target, resp.StatusCode, err, out)
	}
	return out
}

// ssmResponse returns the exact body of the benchmark's GetParameter.
func ssmResponse(b *testing.B, url string) []byte {
	return ssmCall(b, url, "AmazonSSM.GetParameter", ssmGetBody)
}

// startMoto starts moto_server on a free loopback port, stopped when owner
// ends, puts the benchmark parameter through the SSM API and returns the
// URL; it skips b when moto_server is not installed.
func startMoto(b *testing.B, owner *testing.B) string {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		b.Skip("moto_server is not installed (pip install 'moto[server]'): skipping the moto comparison")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	owner.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req := ssmRequest(url, "AmazonSSM.PutParameter", []byte(`{"Name":"`+benchName+`","Value":"2500","Type":"String","Description":"upstream HTTP timeout","Overwrite":true}`))
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err == nil {
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("moto PutParameter: status %d: %s", resp.StatusCode, out)
			}
			return url
		}
		if ctx.Err() != nil {
			b.Fatalf("moto_server did not start on port %d within 30s: %v", port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadPosts issues b.N SSM requests from parallel keep-alive clients and
// reports throughput and the 99th percentile latency.
func loadPosts(b *testing.B, url, target string, body []byte, wantLen int) {
	loadRequests(b, func() *http.Request { return ssmRequest(url, target, body) }, wantLen)
}

// loadRequests issues b.N requests made by newReq from parallel keep-alive
// clients, checks each answers 200 with wantLen bytes, and reports
// throughput and the 99th percentile latency.
func loadRequests(b *testing.B, newReq func() *http.Request, wantLen int) {
	loadStatus(b, newReq, http.StatusOK, wantLen)
}
