package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/metrics"
	"github.com/vanehq/vane/sqlite"
)

// Server is a running test server with its logs.
type Server struct {
	*vanehttp.Server
	Logs   *syncBuffer
	client *nethttp.Client
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustOpenStore opens a SQLite store in a temporary directory, closed when
// the test ends.
func MustOpenStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "vane.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// MustOpen starts a server on 127.0.0.1:0 over a new SQLite store (wrapped
// with metrics and the write checks, as vane serve does), with debug logs captured, and closes it when the test
// ends. configure, if given, may change the server before Open.
func MustOpen(tb testing.TB, configure ...func(*vanehttp.Server)) *Server {
	tb.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	logs := &syncBuffer{}

	s := vanehttp.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Store = guard.New(m.Store(MustOpenStore(tb)))
	s.Metrics = m
	s.Gatherer = reg
	s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, f := range configure {
		f(s)
	}
	if err := s.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	client := &nethttp.Client{
		Timeout: 10 * time.Second,
		// Redirects are bugs here: the API never redirects.
		CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse },
	}
	return &Server{Server: s, Logs: logs, client: client}
}

// Response is a read response.
type Response struct {
	Status int
	Header nethttp.Header
	Body   []byte
}

// Do sends a request with a body (JSON string, or "" for none) and header
// pairs, and reads the whole response.
func (s *Server) Do(tb testing.TB, method, path, body string, header ...string) *Response {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := nethttp.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		tb.Errorf("%s %s: response has no X-Request-Id", method, path)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Want fails the test unless the status is want, and decodes a JSON body
// into v (if non-nil).
func (r *Response) Want(tb testing.TB, want int, v any) *Response {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
	if v != nil {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			tb.Fatalf("Content-Type %q, want application/json", ct)
		}
		if err := json.Unmarshal(r.Body, v); err != nil {
			tb.Fatalf("decoding %s: %v", r.Body, err)
		}
	}
	return r
}

// APIError is the error shape.
type APIError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	} `json:"error"`
}

// WantError fails the test unless the response is the error shape with
// the status, code and (if not "") detail, and a message containing each
// of contains.
func (r *Response) WantError(tb testing.TB, status int, code, detail string, contains ...string) {
	tb.Helper()
	var e APIError
	r.Want(tb, status, &e)
	if e.Error.Code != code || (detail != "" && e.Error.Detail != detail) {
		tb.Fatalf("error %s/%s, want %s/%s; body: %s", e.Error.Code, e.Error.Detail, code, detail, r.Body)
	}
	if e.Error.Message == "" {
		tb.Fatalf("error without a message: %s", r.Body)
	}
	for _, c := range contains {
		if !strings.Contains(e.Error.Message, c) {
			tb.Fatalf("error message %q does not contain %q", e.Error.Message, c)
		}
	}
}

// Parameter is the wire form of a parameter, as a client decodes it.
type Parameter struct {
	Name             string   `json:"name"`
	Type             string   `json:"type"`
	Value            string   `json:"value"`
	Version          int64    `json:"version"`
	Labels           []string `json:"labels"`
	Tier             string   `json:"tier"`
	Description      string   `json:"description"`
	AllowedPattern   string   `json:"allowed_pattern"`
	DataType         string   `json:"data_type"`
	KeyID            string   `json:"key_id"`
	LastModified     string   `json:"last_modified"`
	LastModifiedUser string   `json:"last_modified_user"`
	Selector         string   `json:"selector"`
}

// Page is a listing.
type Page struct {
	Parameters []Parameter `json:"parameters"`
	NextToken  string      `json:"next_token"`
}

// MustPut creates or overwrites a String parameter and returns it.
func (s *Server) MustPut(tb testing.TB, name, value string) *Parameter {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"value": value, "type": "String", "overwrite": true})
	var p Parameter
	r := s.Do(tb, "PUT", "/v1/parameters"+name, string(body))
	if r.Status != nethttp.StatusOK && r.Status != nethttp.StatusCreated {
		tb.Fatalf("PUT %s: status %d: %s", name, r.Status, r.Body)
	}
	r.Want(tb, r.Status, &p)
	return &p
}

// fakeStore is a vane.Store that delegates to Store except for the
// methods given as function fields.
type fakeStore struct {
	vane.Store
	GetFn func(ctx context.Context, selector string) (*vane.Parameter, error)
}

func (s *fakeStore) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	if s.GetFn != nil {
		return s.GetFn(ctx, selector)
	}
	return s.Store.Get(ctx, selector)
}

func TestOpenURL(t *testing.T) {
	s := vanehttp.NewServer()
	if s.Addr != "127.0.0.1:7420" {
		t.Fatalf("default Addr %q", s.Addr)
	}
	s.Addr = ":0"
	s.Store = MustOpenStore(t)
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u := s.URL(); !strings.HasPrefix(u, "http://127.0.0.1:") || strings.HasSuffix(u, ":0") {
		t.Fatalf("URL() = %q, want http://127.0.0.1:PORT", u)
	}
	resp, err := nethttp.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpenWithoutStore(t *testing.T) {
	s := vanehttp.NewServer()
	s.Addr = "127.0.0.1:0"
	if err := s.Open(); err == nil {
		s.Close()
		t.Fatal("Open without a Store succeeded")
	}
}

func TestProbes(t *testing.T) {
	t.Run("Ready", func(t *testing.T) {
		s := MustOpen(t)
		r := s.Do(t, "GET", "/healthz", "").Want(t, 200, nil)
		if string(r.Body) != "ok" {
			t.Fatalf("healthz body %q", r.Body)
		}
		r = s.Do(t, "GET", "/readyz", "").Want(t, 200, nil)
		if string(r.Body) != "ready" {
			t.Fatalf("readyz body %q", r.Body)
		}
	})
	t.Run("NotReady", func(t *testing.T) {
		var mu sync.Mutex
		readyErr := errors.New("index is catching up")
		s := MustOpen(t, func(s *vanehttp.Server) {
			s.Ready = func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				return readyErr
			}
		})
		r := s.Do(t, "GET", "/readyz", "").Want(t, 503, nil)
		if string(r.Body) != "not ready: index is catching up" {
			t.Fatalf("readyz body %q", r.Body)
		}
		s.Do(t, "GET", "/healthz", "").Want(t, 200, nil)
		mu.Lock()
		readyErr = nil
		mu.Unlock()
		s.Do(t, "GET", "/readyz", "").Want(t, 200, nil)
	})
	t.Run("NotOpen", func(t *testing.T) {
		s := vanehttp.NewServer()
		s.Store = MustOpenStore(t)
		rec := newRecorder()
		s.Handler().ServeHTTP(rec, mustRequest(t, "GET", "/readyz"))
		if rec.status != 503 {
			t.Fatalf("readyz before Open: %d", rec.status)
		}
	})
}

// recorder is a minimal ResponseWriter, so the tests need not import
// httptest for one check.
type recorder struct {
	header nethttp.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{header: nethttp.Header{}} }
func (r *recorder) Header() nethttp.Header      { return r.header }
func (r *recorder) WriteHeader(code int)        { r.status = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func mustRequest(tb testing.TB, method, path string) *nethttp.Request {
	tb.Helper()
	req, err := nethttp.NewRequest(method, "http://vane.test"+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func TestMetrics(t *testing.T) {
	s := MustOpen(t)
	s.MustPut(t, "/m/a", "1")
	s.Do(t, "GET", "/v1/parameters/m/a", "").Want(t, 200, nil)
	s.Do(t, "GET", "/v1/parameters/m/missing", "").Want(t, 404, nil)
	s.Do(t, "GET", "/no/such/route", "").Want(t, 404, nil)

	r := s.Do(t, "GET", "/metrics", "").Want(t, 200, nil)
	body := string(r.Body)
	for _, want := range []string{
		`vane_http_requests_total{code="200",method="GET",route="GET /v1/parameters/{name...}"} 1`,
		`vane_http_requests_total{code="404",method="GET",route="GET /v1/parameters/{name...}"} 1`,
		`vane_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`vane_http_request_duration_seconds_bucket{method="PUT",route="PUT /v1/parameters/{name...}"`,
		`vane_store_operation_duration_seconds_count{op="get",result="ok"} 1`,
		`vane_store_operation_duration_seconds_count{op="get",result="not_found"} 1`,
		`vane_store_operation_duration_seconds_count{op="put",result="ok"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/m/a") || strings.Contains(body, "no/such") {
		t.Error("/metrics holds a raw URL path as a label")
	}
}

func TestMetricsWithoutGatherer(t *testing.T) {
	s := MustOpen(t, func(s *vanehttp.Server) { s.Gatherer = nil })
	s.Do(t, "GET", "/metrics", "").WantError(t, 404, vane.ENOTFOUND, "")
}

func TestRouting(t *testing.T) {
	s := MustOpen(t)
	t.Run("ErrUnknownRoute", func(t *testing.T) {
		s.Do(t, "GET", "/v2/parameters/x", "").WantError(t, 404, vane.ENOTFOUND, "", "no route")
	})
	t.Run("ErrSubtreeRootNoRedirect", func(t *testing.T) {
		for _, p := range []string{"/v1/history", "/v1/tags", "/v1/labels"} {
			r := s.Do(t, "PUT", p, `{}`)
			r.WantError(t, 404, vane.ENOTFOUND, "")
			if r.Header.Get("Location") != "" {
				t.Fatalf("%s: Location %q", p, r.Header.Get("Location"))
			}
		}
	})
	t.Run("ErrMethodNotAllowed", func(t *testing.T) {
		r := s.Do(t, "POST", "/v1/parameters/x", `{"value":"v"}`)
		r.WantError(t, 405, vane.EINVALID, "", "POST")
		if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") {
			t.Fatalf("Allow %q", allow)
		}
		s.Do(t, "DELETE", "/healthz", "").WantError(t, 405, vane.EINVALID, "")
		s.Do(t, "PATCH", "/v1/tags/x", "").WantError(t, 405, vane.EINVALID, "")
		s.Do(t, "PUT", "/v1/parameters", `{}`).WantError(t, 405, vane.EINVALID, "")
		s.Do(t, "DELETE", "/v1/metadata", "").WantError(t, 405, vane.EINVALID, "")
	})
	t.Run("ErrNonCanonicalPath", func(t *testing.T) {
		// ServeMux would redirect these with 307, replaying a PUT on
		// another name.
		s.Do(t, "PUT", "/v1/parameters/a//b", `{"value":"v","type":"String"}`).
			WantError(t, 400, vane.EINVALID, vane.DetailValidation, "empty path segment")
		s.Do(t, "GET", "/v1/parameters/a/./b", "").WantError(t, 400, vane.EINVALID, "")
		s.Do(t, "GET", "/v1/parameters/a/b", "").WantError(t, 404, vane.ENOTFOUND, "")
	})
	t.Run("RequestIDsUnique", func(t *testing.T) {
		a := s.Do(t, "GET", "/healthz", "").Header.Get("X-Request-Id")
		b := s.Do(t, "GET", "/healthz", "").Header.Get("X-Request-Id")
		c := s.Do(t, "GET", "/healthz", "", "X-Request-Id", a).Header.Get("X-Request-Id")
		if a == b || b == c || a == c {
			t.Fatalf("request ids %q %q %q are not unique", a, b, c)
		}
	})
}

func TestInternalErrorHidden(t *testing.T) {
	secret := errors.New("open /var/lib/vane/secret.db: permission denied")
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Store = &fakeStore{Store: s.Store, GetFn: func(context.Context, string) (*vane.Parameter, error) {
			return nil, secret
		}}
	})
	r := s.Do(t, "GET", "/v1/parameters/a", "")
	r.WantError(t, 500, vane.EINTERNAL, "")
	if bytes.Contains(r.Body, []byte("secret")) {
		t.Fatalf("internal error leaked: %s", r.Body)
	}
	logs := s.Logs.String()
	id := r.Header.Get("X-Request-Id")
	var found bool
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "request_id="+id) && strings.Contains(line, secret.Error()) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no error log line with request id %s and the error:\n%s", id, logs)
	}
}

func TestAccessLog(t *testing.T) {
	s := MustOpen(t)
	const value = "hunter2-do-not-log"
	r := s.Do(t, "PUT", "/v1/parameters/log/secret", `{"value":"`+value+`","type":"SecureString"}`).Want(t, 201, nil)
	s.Do(t, "GET", "/v1/parameters/log/secret", "").Want(t, 200, nil)
	logs := s.Logs.String()
	if strings.Contains(logs, value) {
		t.Fatalf("a parameter value was logged:\n%s", logs)
	}
	want := `level=INFO msg=request method=PUT route="PUT /v1/parameters/{name...}" status=201`
	if !strings.Contains(logs, want) || !strings.Contains(logs, "request_id="+r.Header.Get("X-Request-Id")) {
		t.Fatalf("access log lacks %s with the request id:\n%s", want, logs)
	}
}

// TestAccessLogReadsAtDebug: reads made with POST (evaluations, OFREP,
// SSM reads) log at debug like GETs, so that a service evaluating flags
// all day writes no info line per request; refusals and errors stay at
// info.
func TestAccessLogReadsAtDebug(t *testing.T) {
	s := MustOpen(t)
	s.MustPut(t, "/app/features/x", "true")
	s.Do(t, "POST", "/v1/evaluate/app/features/x", `{}`).Want(t, 200, nil)
	s.Do(t, "POST", "/v1/evaluate", `{"path":"/app/"}`).Want(t, 200, nil)
	s.Do(t, "POST", "/ofrep/v1/evaluate/flags/app/features/x", `{"context":{}}`).Want(t, 200, nil)
	s.Do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{}}`).Want(t, 200, nil)
	s.Do(t, "POST", "/", `{"Name":"/app/features/x"}`, "X-Amz-Target", "AmazonSSM.GetParameter", "Content-Type", "application/x-amz-json-1.1").Want(t, 200, nil)
	s.Do(t, "POST", "/v1/evaluate/app/features/missing", `{}`)
	logs := s.Logs.String()
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "msg=request") || strings.Contains(line, "status=404") || strings.Contains(line, "PUT") {
			continue
		}
		if !strings.Contains(line, "level=DEBUG") {
			t.Errorf("a read logged above debug: %s", line)
		}
	}
	if !strings.Contains(logs, `level=INFO msg=request method=POST route="POST /v1/evaluate/{name...}" status=404`) {
		t.Errorf("a failed evaluation is not at info:\n%s", logs)
	}
}

func TestCloseFinishesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Store = &fakeStore{Store: s.Store, GetFn: func(ctx context.Context, sel string) (*vane.Parameter, error) {
			close(entered)
			<-release
			return &vane.Parameter{Name: "slow", Type: vane.TypeString, Value: "v", Version: 1}, nil
		}}
	})
	addr := strings.TrimPrefix(s.URL(), "http://")
	type result struct {
		status int
		err    error
	}
	done := make(chan result)
	go func() {
		resp, err := s.client.Get(s.URL() + "/v1/parameters/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, err}
	}()
	<-entered

	closed := make(chan error)
	go func() { closed <- s.Close() }()
	// Wait until the listener is closed, then let the request finish.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after Close")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if r := <-done; r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: status %d, error %v", r.status, r.err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestErrorStatus(t *testing.T) {
	for code, want := range map[string]int{
		vane.EINVALID:      400,
		vane.EUNAUTHORIZED: 401,
		vane.EFORBIDDEN:    403,
		vane.ENOTFOUND:     404,
		vane.ECONFLICT:     409,
		vane.ETOOLARGE:     413,
		vane.ELIMIT:        422,
		vane.EINTERNAL:     500,
		vane.EUNAVAILABLE:  503,
		"no_such_code":     500,
	} {
		if got := vanehttp.ErrorStatus(code); got != want {
			t.Errorf("ErrorStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestHead(t *testing.T) {
	s := MustOpen(t)
	s.MustPut(t, "/head/p", "v")
	r := s.Do(t, "HEAD", "/v1/parameters/head/p", "").Want(t, 200, nil)
	if r.Header.Get("ETag") != `"1"` || len(r.Body) != 0 {
		t.Fatalf("HEAD: ETag %q body %q", r.Header.Get("ETag"), r.Body)
	}
}
