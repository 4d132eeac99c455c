package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/metrics"
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
	Addr      string `json:"addr"`
	DataDir   string `json:"data"`
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

	Store *sqlite.Store
	Index *index.Store
	HTTP  *http.Server
}

// NewMain returns a Main with the default configuration and a discarding
// logger.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.New(slog.DiscardHandler)}
}

// Run opens the store, loads the index and starts serving. It returns once
// the server is listening; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(m.Config.DataDir, "vane.db")
	m.Store = sqlite.NewStore(path)
	if err := m.Store.Open(); err != nil {
		return fmt.Errorf("open store: %w", err)
	}

	reg := metrics.NewRegistry()
	mt := metrics.New(reg)
	m.Index = index.New(mt.Store(m.Store))
	m.Index.Logger = m.Logger
	if err := m.Index.Open(ctx); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	mt.RegisterIndex(m.Index.Stats, m.Index.Seq)
	entries, _ := m.Index.Stats()
	m.Logger.Info("store opened", "path", path, "parameters", entries, "sequence", m.Index.Seq())

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
addr, data, log_format, log_level), then the environment variables
VANE_ADDR, VANE_DATA, VANE_LOG_FORMAT and VANE_LOG_LEVEL, then flags.

Flags:
`

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
		"VANE_ADDR": &cfg.Addr, "VANE_DATA": &cfg.DataDir, "VANE_LOG_FORMAT": &cfg.LogFormat, "VANE_LOG_LEVEL": &cfg.LogLevel,
	} {
		if v, ok := lookupEnv(env); ok && v != "" {
			*dst = v
		}
	}
	// Flags given explicitly win over the file and the environment.
	flagged := map[string][2]*string{
		"addr": {addr, &cfg.Addr}, "data": {data, &cfg.DataDir}, "log-format": {logFormat, &cfg.LogFormat}, "log-level": {logLevel, &cfg.LogLevel},
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
