package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vanehq/vane/web"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestServesThePageWithItsPolicy(t *testing.T) {
	h := web.New("/ui/")
	resp := get(t, h, "/ui/")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(strings.ToLower(string(body)), "<!doctype html>") {
		t.Errorf("GET /ui/ is not the page: %.200s", body)
	}
	for k, v := range map[string]string{
		"Content-Security-Policy": web.ContentSecurityPolicy, "X-Content-Type-Options": "nosniff",
		"X-Frame-Options": "DENY", "Cache-Control": "no-cache",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for _, forbidden := range []string{"'unsafe-inline'", "'unsafe-eval'", "http:", "https:"} {
		if strings.Contains(web.ContentSecurityPolicy, forbidden) {
			t.Errorf("the policy allows %s", forbidden)
		}
	}
	// Revalidation: the same file is not sent twice.
	again := get(t, h, "/ui/", "If-None-Match", resp.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("GET with the ETag: %d, want 304", again.StatusCode)
	}
}

// TestPageHasNoInlineScript: the policy forbids inline script and style,
// so the page must not need any.
func TestPageHasNoInlineScript(t *testing.T) {
	resp := get(t, web.New("/ui/"), "/ui/")
	b, _ := io.ReadAll(resp.Body)
	page := strings.ToLower(string(b))
	for _, bad := range []string{" onclick=", " onload=", " style=", "javascript:", "<script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html has %q, which the Content-Security-Policy refuses", bad)
		}
	}
	for _, s := range strings.Split(page, "<script")[1:] {
		if !strings.Contains(s[:strings.Index(s, ">")], "src=") {
			t.Errorf("index.html has an inline script: <script%.80s", s)
		}
	}
}

func TestCompressedAndSmall(t *testing.T) {
	h := web.New("/ui/")
	resp := get(t, h, "/ui/", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	raw, gz := h.Size()
	t.Logf("dashboard files: %d bytes, %d gzipped", raw, gz)
	if gz > 60<<10 {
		t.Errorf("the dashboard's files are %d bytes gzipped; keep the page weight small (under 60 KiB)", gz)
	}
}

func TestUnknownFilesAndMethods(t *testing.T) {
	h := web.New("/ui/")
	if r := get(t, h, "/ui/nope.js"); r.StatusCode != 404 {
		t.Errorf("GET /ui/nope.js: %d", r.StatusCode)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ui/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /ui/: %d", rec.Code)
	}
}
