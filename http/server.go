package http

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/approval"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/metrics"
)

// Defaults of NewServer.
const (
	DefaultAddr            = "127.0.0.1:7420"
	DefaultShutdownTimeout = 10 * time.Second
	DefaultReadyTimeout    = 5 * time.Second
)

// Timeouts of the underlying http.Server. There is deliberately no server
// read or write timeout: an expired read deadline cancels the request's
// context, and watch streams are long-lived responses. Request bodies get
// bodyReadTimeout instead (see decodeJSON).
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	bodyReadTimeout   = 30 * time.Second
)

// Server serves Vane's HTTP API. Set its fields after NewServer and before
// Open or the first call to Handler; they must not change afterwards.
type Server struct {
	// Addr is the TCP address to listen on; a port of 0 picks a free one.
	Addr string
	// Store serves every /v1 route. Writes must pass the write checks:
	// pass a guard.Store (vane serve wraps the index with one). To time
	// store operations, wrap the backend, below any index, with
	// Metrics.Store.
	Store vane.Store
	// Logger receives access logs (info; debug for probes and /metrics)
	// and internal errors (error). Parameter values are never logged.
	Logger *slog.Logger
	// Metrics, if set, records every request.
	Metrics *metrics.Metrics
	// Cipher opens SecureString values for callers that ask for the
	// plaintext; nil serves them sealed only.
	Cipher vane.Cipher
	// Keys, if set, serves the key administration routes under /v1/kms/keys.
	Keys KeyAdmin
	// Watch tunes GET /v1/watch; zero fields take the defaults.
	Watch WatchOptions
	// TokenKey signs SSM paging tokens; servers sharing a store should share
	// it. Empty means a random key per Server.
	TokenKey []byte
	// Region and Account make up the ARNs of the SSM protocol
	// (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME).
	Region, Account string
	// Gatherer, if set, is served at /metrics; if nil, /metrics is 404.
	Gatherer prometheus.Gatherer
	// Ready reports whether the server can serve traffic, for /readyz; nil
	// means ready as soon as Open succeeded.
	Ready func(context.Context) error
	// ShutdownTimeout bounds how long Close waits for in-flight requests.
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds a call of Ready.
	ReadyTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when both set, make the server speak
	// HTTPS with that certificate (PEM files, the chain first).
	TLSCertFile, TLSKeyFile string
	// Access, if set, turns on access control (see Access); nil serves
	// every caller as anonymous, as vane serve --dev does.
	Access *Access
	// RateLimit limits each caller's request rate; zero is no limit.
	RateLimit RateLimit
	// Audit, if set, serves the audit history (GET /v1/audit). The store
	// writes the entries of its own mutations.
	Audit vane.AuditLog
	// Usage, if set, records how often flags are evaluated: the server's
	// own evaluations (counted in memory, written by FlushUsage) and the
	// counts SDKs send to POST /v1/usage. Nil turns usage tracking off.
	Usage vane.UsageStore
	// UsageReportInterval, if set, returns how often SDKs should report usage now; POST
	// /v1/usage answers 200 with {"report_interval": "5s"} when it returns a positive duration
	// (while a rollout watches a flag's error rate), and 204 as before otherwise.
	UsageReportInterval func() time.Duration
	// Rollouts and Schedules, if set, serve staged rollouts under
	// /v1/rollouts and scheduled changes under /v1/schedules; nil answers
	// those routes 503.
	Rollouts  Rollouts
	Schedules Schedules
	// Approvals, if set, serves change requests under
	// /v1/change-requests and turns native writes that need approval
	// (SettingApprovalPaths) into change requests for callers allowed to
	// propose them; nil answers those routes 503, and such writes are
	// refused.
	Approvals *approval.Service
	// OFREPBase is the path OFREP flag keys are relative to, canonical
	// (ending in "/"); "" means "/", where a key is a whole name without
	// its leading slash.
	OFREPBase string
	// Events, if set, serves event rules and their deliveries under
	// /v1/event-rules; nil answers those routes 503.
	Events Events
	// UI, if set, is the dashboard (package web), served under /ui/ with
	// GET / redirecting there. Its files are served without a
	// credential; the pages call the /v1 API, with a session.
	UI http.Handler
	// Now returns the current time (POST /v1/compact counts older_than
	// back from it); nil means time.Now.
	Now func() time.Time
	// Backup, if set, serves online backups at GET /v1/backup (the SQLite
	// store); nil answers 501, pointing to pg_dump.
	Backup vane.Backuper

	handlerOnce sync.Once
	handler     http.Handler

	idPrefix string
	idSeq    atomic.Uint64

	open        atomic.Bool // Open succeeded and Close has not begun
	mu          sync.Mutex
	ln          net.Listener
	srv         *http.Server
	served      chan error // the result of srv.Serve
	closing     bool
	flags       flagCache            // compiled flags for /v1/evaluate
	flagLists   flagLists            // flags under evaluated paths, per sequence
	usage       flag.Recorder        // evaluation counts until FlushUsage
	limit       *limiter             // nil without a RateLimit
	settings    *guard.Settings      // reads SettingAuditedReadPaths
	signingKeys auth.SigningKeyCache // derived SigV4 signing keys
	scheme      string               // "https" with TLS, else "" (http)
}

// NewServer returns a Server with the defaults: Addr DefaultAddr, a logger
// that discards everything, and the default timeouts.
func NewServer() *Server {
	return &Server{
		Addr:            DefaultAddr,
		Logger:          slog.New(slog.DiscardHandler),
		Region:          vane.DefaultRegion,
		Account:         vane.DefaultAccount,
		ShutdownTimeout: DefaultShutdownTimeout,
		ReadyTimeout:    DefaultReadyTimeout,
		Now:             time.Now,
	}
}

// Open listens on Addr and serves in a goroutine until Close.
func (s *Server) Open() error {
	if s.Store == nil {
		return errors.New("http: Server.Store is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.closing {
		return errors.New("http: server already opened or closed")
	}
	var tlsConfig *tls.Config
	if s.TLSCertFile != "" || s.TLSKeyFile != "" {
		if s.TLSCertFile == "" || s.TLSKeyFile == "" {
			return errors.New("http: TLS needs both a certificate and a key file")
		}
		cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("http: TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("http: listen: %w", err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		s.scheme = "https"
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	s.served = make(chan error, 1)
	go func() { s.served <- s.srv.Serve(ln) }()
	s.open.Store(true)
	return nil
}

// URL returns the base URL of the server, such as http://127.0.0.1:54321,
// or "" before Open. A wildcard listen address (":0") is reported as
// 127.0.0.1, where it can be reached.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	ip := addr.IP
	if ip.IsUnspecified() {
		// A wildcard listener is dual-stack, so IPv4 loopback reaches it.
		ip = net.IPv4(127, 0, 0, 1)
	}
	scheme := "http"
	if s.scheme != "" {
		scheme = s.scheme
	}
	return scheme + "://" + net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
}

// Close stops accepting connections and waits up to ShutdownTimeout for
// in-flight requests to finish; connections still busy then are closed.
// It does not close the Store.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.srv == nil || s.closing {
		s.closing = true
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.open.Store(false)
	srv, served := s.srv, s.served
	s.mu.Unlock()

	timeout := s.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("http: shutdown: %w", err)
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("http: serve: %w", serr)
	}
	return err
}

// Handler returns the server's handler with every route and the common
// middleware (request id, access log, metrics, error shape for unknown
// routes). It is built once, from the fields set at the first call.
func (s *Server) Handler() http.Handler {
	s.handlerOnce.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.ReadyTimeout <= 0 {
			s.ReadyTimeout = DefaultReadyTimeout
		}
		var b [6]byte
		rand.Read(b[:])
		s.idPrefix = hex.EncodeToString(b[:]) + "-"
		s.limit = newLimiter(s.RateLimit)
		s.settings = guard.NewSettings(s.Store, SettingAuditedReadPaths, SettingProtectedEnvironments, SettingApprovalPaths)

		mux := http.NewServeMux()
		s.registerParameterRoutes(mux)
		s.registerBatchRoutes(mux)
		s.registerChangeRequestRoutes(mux)
		s.registerExportRoutes(mux)
		s.registerLabelRoutes(mux)
		s.registerTagRoutes(mux)
		s.registerMetadataRoutes(mux)
		s.registerChangeRoutes(mux)
		s.registerWatchRoutes(mux)
		s.registerCompactRoutes(mux)
		s.registerBackupRoutes(mux)
		s.registerEvaluateRoutes(mux)
		s.registerOFREPRoutes(mux)
		s.registerUsageRoutes(mux)
		s.registerAuditRoutes(mux)
		s.registerAccessKeyRoutes(mux)
		s.registerRolloutRoutes(mux)
		s.registerSessionRoutes(mux)
		s.registerFlagRoutes(mux)
		s.registerEventRoutes(mux)
		s.registerProbeRoutes(mux)
		s.registerKeyRoutes(mux)
		s.registerSSMRoutes(mux)
		s.registerAppConfigRoutes(mux)
		// Without these, ServeMux would redirect a subtree root such as
		// /v1/tags to /v1/tags/, or answer 405 for it.
		for _, root := range nameRoots {
			if root != "/v1/parameters/" {
				mux.HandleFunc(strings.TrimSuffix(root, "/"), s.handleNoRoute)
			}
		}
		mux.HandleFunc("/v1/parameters", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			s.writeMethodNotAllowed(w, r)
		})
		s.handler = &middleware{s: s, mux: mux}
	})
	return s.handler
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// handleNoRoute answers 404 in the error shape.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, vane.Errorf(vane.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path))
}

// writeMethodNotAllowed answers 405 in the error shape; the Allow header
// must be set. There is no vane code for a wrong method, so the code is
// invalid while the status is 405, as HTTP requires.
func (s *Server) writeMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMethodNotAllowed, errorResponse{Error: errorBody{
		Code: vane.EINVALID,
		Message: fmt.Sprintf("method %s is not allowed on %s; allowed: %s",
			r.Method, r.URL.Path, w.Header().Get("Allow")),
	}})
}

// RequestID returns the id of the request a context belongs to, or "".
func RequestID(ctx context.Context) string { return vane.RequestFromContext(ctx).RequestID }

// nameRoots are the path prefixes followed by a parameter name.
var nameRoots = []string{"/v1/parameters/", "/v1/history/", "/v1/labels/", "/v1/tags/"}

// Route label values for requests no route pattern served.
const (
	routeUnmatched       = "unmatched"
	routeInvalid         = "invalid_path"
	routeThrottled       = "throttled"
	routeUnauthenticated = "unauthenticated"
	routeForgery         = "cross_site"
	routeUI              = "/ui/"
)

// middleware wraps the mux with what every request gets.
type middleware struct {
	s   *Server
	mux *http.ServeMux
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := m.s
	start := time.Now()
	var buf [64]byte
	id := string(strconv.AppendUint(append(buf[:0], s.idPrefix...), s.idSeq.Add(1), 10))
	rw := &responseWriter{ResponseWriter: w, s: s}
	rw.idHeader[0] = id
	w.Header()["X-Request-Id"] = rw.idHeader[:]

	// Without access control every request is anonymous; no client
	// header is ever trusted for identity.
	ctx := vane.NewContextWithPrincipal(r.Context(), vane.AnonymousPrincipal)
	ctx = vane.NewContextWithRequest(ctx, vane.RequestInfo{Source: clientAddr(r), RequestID: id})
	r = r.WithContext(ctx)

	var route string
	status := 0
	if err := checkPath(r.URL.Path); err != nil {
		// ServeMux would redirect a path with empty, "." or ".." segments
		// to its cleaned form with 307, which keeps the method and body:
		// a PUT would write another name than the one sent.
		route = routeInvalid
		s.writeError(w, r, err)
		status = ErrorStatus(vane.ErrorCode(err))
	} else if status = s.refuseForgery(w, r); status != 0 {
		route = routeForgery
	} else if r, status = s.authenticate(w, r); status != 0 {
		route = routeUnauthenticated
	} else if ok, wait := m.allow(r); !ok {
		route = routeThrottled
		status = s.throttle(w, r, wait)
	}
	rw.r, rw.status = r, status
	if route == "" && s.UI != nil && (isUIPath(r.URL.Path) || r.URL.Path == "/" && r.Method == http.MethodGet) {
		route = routeUI
		rw.status = s.serveUI(w, r)
	} else if route == "" {
		m.mux.ServeHTTP(rw, r)
		route = r.Pattern
		if rw.intercepted || route == "" {
			route = routeUnmatched
		}
	}
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	d := time.Since(start)
	s.Metrics.ObserveRequest(route, r.Method, rw.status, d)

	// Successful reads are the hot path and probes are noise: both log at
	// debug. Writes and failures log at info.
	level := slog.LevelInfo
	if rw.status < 400 && (r.Method == http.MethodGet || r.Method == http.MethodHead || isReadRoute(route)) {
		level = slog.LevelDebug
	}
	s.Logger.LogAttrs(ctx, level, "request",
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", rw.status),
		slog.Duration("duration", d),
		slog.String("request_id", id))
}

// checkPath rejects request paths that ServeMux would redirect to a cleaned
// form, naming the parameter when the path holds one.
func checkPath(p string) error {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") {
		return nil
	}
	for _, root := range nameRoots {
		if rest, ok := strings.CutPrefix(p, root); ok {
			if _, err := vane.ValidateName("/" + rest); err != nil {
				return err
			}
			return invalidf("parameter name %q has a \".\" or \"..\" segment, which URLs can't carry", "/"+rest)
		}
	}
	return invalidf("URL path has an empty, \".\" or \"..\" segment")
}

// responseWriter records the status for the access log and metrics, and
// replaces the plain-text 404, 405 and redirect responses of ServeMux itself
// with the JSON error shape. ServeMux sets Request.Pattern before calling a
// route's handler, so a response written while it is empty comes from the
// mux.
type responseWriter struct {
	http.ResponseWriter
	s           *Server
	r           *http.Request
	status      int
	intercepted bool
	idHeader    [1]string // the X-Request-Id header's value, allocated with the writer
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if w.r.Pattern == "" || (code >= 300 && code < 400 && code != http.StatusNotModified) {
		// None of our handlers redirects, so a redirect is the mux
		// adding a trailing slash to a subtree root such as /v1/tags.
		// (304 Not Modified is not a redirect: handlers send it.)
		w.intercept(code)
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) intercept(code int) {
	w.intercepted = true
	h := w.ResponseWriter.Header()
	h.Del("Location")
	h.Del("X-Content-Type-Options")
	if code == http.StatusMethodNotAllowed {
		w.status = code
		w.s.writeMethodNotAllowed(w.ResponseWriter, w.r)
		return
	}
	h.Del("Allow")
	w.status = http.StatusNotFound
	w.s.handleNoRoute(w.ResponseWriter, w.r)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.intercepted {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// postReads are the routes that read with POST: evaluations, which
// services call on every request they serve, the permission check, and
// AppConfig's configuration sessions.
var postReads = map[string]bool{
	"POST /v1/evaluate/{name...}": true, "POST /v1/evaluate": true, "POST /v1/session/check": true,
	ofrepSingle: true, ofrepBulk: true,
	"POST /configurationsessions": true,
}

// isReadRoute reports whether a route reads with POST (the access log
// then logs it at debug, as it does GETs): evaluations, OFREP, and the
// SSM protocol's Get*, Describe* and List* operations.
func isReadRoute(route string) bool { return postReads[route] || isSSMRead(route) }

// isSSMRead reports whether a route label names a read of the SSM protocol
// (its routes are "POST / AmazonSSM.<Operation>").
func isSSMRead(route string) bool {
	op, ok := strings.CutPrefix(route, "POST / AmazonSSM.")
	return ok && (strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List"))
}

// clientAddr returns the address of the client, without its port. Proxy
// headers such as X-Forwarded-For are not trusted: anyone can send them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// allow applies the rate limit to a request; probes are never limited.
func (m *middleware) allow(r *http.Request) (bool, time.Duration) {
	s := m.s
	if s.limit == nil || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		return true, 0
	}
	return s.limit.allow(rateKey(r), s.now())
}
