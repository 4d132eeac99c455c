package bench_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vanehq/vane/bench"
)

func TestReplayHandler(t *testing.T) {
	rs := []bench.Response{
		{Method: "GET", Path: "/v1/parameters/a", Status: 200, ContentType: "application/json", Body: []byte(`{"name":"/a"}`)},
		{Method: "POST", Path: "/", Status: 200, ContentType: "application/x-amz-json-1.1", Body: []byte(`{"Parameter":{}}`)},
		{Method: "POST", Path: "/ofrep/v1/evaluate/flags/x", Status: 404, ContentType: "application/json", Body: []byte(`{"errorCode":"FLAG_NOT_FOUND"}`)},
	}
	h, err := bench.ReplayHandler(rs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rs[0].Body[2] = 'X' // the handler keeps its own copy

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		contentType, want        string
	}{
		{"GetByPath", "GET", "/v1/parameters/a", "", 200, "application/json", `{"name":"/a"}`},
		{"PostIgnoresBody", "POST", "/", `{"Name":"/a"}`, 200, "application/x-amz-json-1.1", `{"Parameter":{}}`},
		{"StatusReplayed", "POST", "/ofrep/v1/evaluate/flags/x", "{}", 404, "application/json", `{"errorCode":"FLAG_NOT_FOUND"}`},
		{"UnknownPath404", "GET", "/nope", "", 404, "", ""},
		{"MethodMatters404", "GET", "/", "", 404, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != tc.contentType || string(b) != tc.want {
				t.Fatalf("got %d %q %q, want %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.status, tc.contentType, tc.want)
			}
			if resp.ContentLength != int64(len(tc.want)) {
				t.Fatalf("Content-Length %d, want %d", resp.ContentLength, len(tc.want))
			}
		})
	}
}

func TestReplayHandlerRefuses(t *testing.T) {
	t.Run("ErrDuplicateRoute", func(t *testing.T) {
		_, err := bench.ReplayHandler([]bench.Response{{Method: "POST", Path: "/", Status: 200}, {Method: "POST", Path: "/", Status: 200}})
		if err == nil {
			t.Fatal("two responses for POST / accepted")
		}
	})
	t.Run("ErrBadStatus", func(t *testing.T) {
		_, err := bench.ReplayHandler([]bench.Response{{Method: "GET", Path: "/", Status: 0}})
		if err == nil {
			t.Fatal("status 0 accepted")
		}
	})
}
