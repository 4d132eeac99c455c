package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/metrics"
	"github.com/vanehq/vane/postgres"
	"github.com/vanehq/vane/sqlite"
)

// Defaults of `vane serve`.
const (
	DefaultAddr    = "127.0.0.1:7420"
	DefaultDataDir = "./vane-data"
)

// Config is the configuration of `vane serve`. It is built from defaults,
// then an optional JSON file, then VANE_* environment variables, then flags.
type Config struct {
	Addr    string `json:"addr"`
	DataDir string `json:"data"`
	// Store selects the backend: empty for the SQLite file vane.db in
	// DataDir, "sqlite://PATH", or a "postgres://" URL shared by several
	// nodes.
	Store     string `json:"store"`
	LogFormat string `json:"log_format"` // text or json
	LogLevel  string `json:"log_level"`  // debug, info, warn, error
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{Addr: DefaultAddr, DataDir: DefaultDataDir, LogFormat: "text", LogLevel: "info"}
}

// Main is a running Vane server: the store, its in-memory index and the
// HTTP listener. End-to-end tests use it to run the real server in-process.
type Main struct {
	Config Config
	Logger *slog.Logger

	Store backend
	Index *index.Store
	HTTP  *http.Server

	cancel context.CancelFunc // stops the change follower
	done   chan struct{}      // closed when the follower has stopped
}

// backend is what serve needs of a storage backend.
type backend interface {
	vane.Store
	Ping(ctx context.Context) error
}

// NewMain returns a Main with the default configuration and a discarding
// logger.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.New(slog.DiscardHandler)}
}

// Run opens the store, loads the index and starts serving. It returns once
// the server is listening; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	store, listen, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	m.Store = store

	reg := metrics.NewRegistry()
	mt := metrics.New(reg)
	m.Index = index.New(mt.Store(m.Store))
	m.Index.Logger = m.Logger
	if err := m.Index.Open(ctx); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	mt.RegisterIndex(m.Index.Stats, m.Index.Seq)
	entries, _ := m.Index.Stats()
	m.Logger.Info("store opened", "store", m.storeName(), "parameters", entries, "sequence", m.Index.Seq())

	// With a shared database, other nodes' writes reach the index through
	// notifications, and a periodic check catches any that were lost.
	fctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	wake := make(chan struct{}, 1)
	go func() {
		defer close(m.done)
		if listen != nil {
			go listen(fctx, func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		}
		m.Index.Follow(fctx, wake, index.DefaultFollowInterval)
	}()

	m.HTTP = http.NewServer()
	m.HTTP.Addr = m.Config.Addr
	m.HTTP.Store = m.Index
	m.HTTP.Logger = m.Logger
	m.HTTP.Metrics = mt
	m.HTTP.Gatherer = reg
	m.HTTP.Ready = m.Store.Ping
	if err := m.HTTP.Open(); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.Logger.Info("listening", "url", m.HTTP.URL())
	return nil
}

// Close stops the HTTP server, letting in-flight requests finish, then
// closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.HTTP != nil {
		errs = append(errs, m.HTTP.Close())
	}
	if m.cancel != nil {
		m.cancel()
		<-m.done
	}
	if m.Index != nil {
		errs = append(errs, m.Index.Close()) // closes m.Store
	} else if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

const serveUsage = `Usage: vane serve [flags]

Runs the Vane server: the native REST API under /v1, /healthz, /readyz and
/metrics, backed by an embedded SQLite file in the data directory.

Configuration comes from defaults, then --config FILE (JSON with the keys
addr, data, store, log_format, log_level), then the environment variables
VANE_ADDR, VANE_DATA, VANE_STORE, VANE_LOG_FORMAT and VANE_LOG_LEVEL, then
flags.

Several nodes share one PostgreSQL database with --store postgres://...;
each keeps its own in-memory index and follows the others' writes.

Flags:
`

// openStore opens the configured backend. For PostgreSQL it also returns
// the function that follows other nodes' changes.
func (m *Main) openStore(ctx context.Context) (backend, func(context.Context, func()) error, error) {
	switch u := m.Config.Store; {
	case strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://"):
		s, err := postgres.Open(ctx, u)
		if err != nil {
			return nil, nil, fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return s, s.Listen, nil
	case u == "" || strings.HasPrefix(u, "sqlite://"):
		path := strings.TrimPrefix(u, "sqlite://")
		if path == "" {
			if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
				return nil, nil, fmt.Errorf("data directory: %w", err)
			}
			path = filepath.Join(m.Config.DataDir, "vane.db")
		}
		s, err := sqlite.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil, nil
	}
	return nil, nil, usageError{fmt.Errorf("store %q: use sqlite://PATH or a postgres:// URL", redactURL(m.Config.Store))}
}

// storeName describes the backend for logs, without a password.
func (m *Main) storeName() string {
	if m.Config.Store == "" {
		return "sqlite://" + filepath.Join(m.Config.DataDir, "vane.db")
	}
	return redactURL(m.Config.Store)
}

// redactURL hides the password of a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// runServe runs `vane serve` until ctx is cancelled (SIGINT or SIGTERM).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := serveConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	m := NewMain()
	m.Config, m.Logger = cfg, logger
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down")
	if err := m.Close(); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// serveConfig layers defaults, the config file, the environment and flags.
func serveConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	configFile := fs.String("config", "", "JSON configuration `file`")
	addr := fs.String("addr", cfg.Addr, "listen `address` (host:port; port 0 picks a free port)")
	data := fs.String("data", cfg.DataDir, "data `directory` holding vane.db")
	store := fs.String("store", cfg.Store, "storage `URL`: sqlite://PATH or postgres://... (default: vane.db in the data directory)")
	logFormat := fs.String("log-format", cfg.LogFormat, "log `format`: text or json")
	logLevel := fs.String("log-level", cfg.LogLevel, "log `level`: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, usageError{fmt.Errorf("serve takes no arguments, got %q", fs.Args())}
	}
	if *configFile != "" {
		buf, err := os.ReadFile(*configFile)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(buf)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", *configFile, err)
		}
	}
	for env, dst := range map[string]*string{
		"VANE_ADDR": &cfg.Addr, "VANE_DATA": &cfg.DataDir, "VANE_STORE": &cfg.Store, "VANE_LOG_FORMAT": &cfg.LogFormat, "VANE_LOG_LEVEL": &cfg.LogLevel,
	} {
		if v, ok := lookupEnv(env); ok && v != "" {
			*dst = v
		}
	}
	// Flags given explicitly win over the file and the environment.
	flagged := map[string][2]*string{
		"addr": {addr, &cfg.Addr}, "data": {data, &cfg.DataDir}, "store": {store, &cfg.Store}, "log-format": {logFormat, &cfg.LogFormat}, "log-level": {logLevel, &cfg.LogLevel},
	}
	fs.Visit(func(f *flag.Flag) {
		if p, ok := flagged[f.Name]; ok {
			*p[1] = *p[0]
		}
	})
	return cfg, nil
}

// newLogger returns a slog logger writing to w in the given format.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("log level %q: use debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("log format %q: use text or json", format)}
}

// usageError marks an error caused by how the command was called; the
// command exits with status 2 for it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }
