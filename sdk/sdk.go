// Package sdk is the Go client of Vane. A Client loads the parameters under
// a few paths once (GET /v1/snapshot), then follows the server's change
// stream (GET /v1/watch) and answers every read from an immutable
// in-memory snapshot that it swaps atomically: a read makes no network
// call, takes no lock and, for strings and booleans, allocates nothing.
//
// Every value resolves in layers: an environment variable named for it
// (Config.Env, or the Env option of a tunable), then the store, then the
// default the calling code passes. Explain reports which layer a value
// came from.
//
// When the server cannot be reached, Open returns after Config.StartTimeout
// with the values of Config.SnapshotFile (if set and present) or with
// nothing, so reads return defaults; the client keeps trying in the
// background, reconnects with backoff and jitter after the stream drops,
// resumes by change sequence, and reports itself stale meanwhile (Status).
// Where a long-lived stream is not possible, Config.PollInterval switches
// the client to polling the snapshot instead.
//
// Values that do not parse as the type asked for, and tunable values out of
// their bounds, yield the default; the problem is reported once per
// version to Config.OnError and logged with Config.Logger.
//
// Package vanetest provides a client whose values a unit test sets.
package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
)

// Defaults of Config.
const (
	DefaultStartTimeout      = 5 * time.Second
	DefaultRequestTimeout    = 10 * time.Second
	DefaultStreamIdleTimeout = 45 * time.Second
	DefaultMinBackoff        = 100 * time.Millisecond
	DefaultMaxBackoff        = 30 * time.Second
	DefaultSaveDelay         = time.Second
	DefaultUsageInterval     = time.Minute
)

// Config configures a Client.
type Config struct {
	// Server is the base URL of a Vane server, e.g. "http://localhost:7420".
	Server string
	// Token is sent as "Authorization: Bearer TOKEN" when set: an access
	// key, ID.SECRET. Its policy needs vane:Watch on the client's paths
	// (snapshot and stream), ssm:GetParameter where a SecureString change
	// is fetched, kms:Decrypt with Decrypt, and vane:Evaluate to report
	// flag usage; names it may not read are simply absent.
	Token string
	// Paths are the path prefixes whose parameters the client loads and
	// follows, e.g. "/myapp/prod/". Default: "/" (everything). Names
	// that do not begin with "/" are read relative to Paths[0].
	Paths []string
	// Decrypt asks the server for the plaintext of SecureString values.
	// Without it SecureString parameters read as absent.
	Decrypt bool
	// Env maps parameter names (absolute, or relative to Paths[0]) to the
	// environment variables that override them, e.g.
	// {"tuning/cache/BALANCE_TTL": "BALANCE_TTL"}. Variables are read once,
	// by Open.
	Env map[string]string
	// LookupEnv reads an environment variable. Default: os.LookupEnv.
	LookupEnv func(string) (string, bool)

	// StartTimeout bounds how long Open waits for the first snapshot.
	StartTimeout time.Duration
	// SnapshotFile, when set, is where the client keeps a copy of its
	// last good snapshot (mode 0600; it holds SecureString plaintext when
	// Decrypt is on), and what Open loads when the server is unreachable.
	SnapshotFile string
	// PollInterval, when positive, replaces the change stream by a
	// snapshot request (with If-None-Match) at this interval; it is then
	// also the maximum age of a value before the client reports itself
	// stale (after a failed poll, or twice the interval without a
	// successful one).
	PollInterval time.Duration
	// StreamIdleTimeout is how long a stream may stay silent (the server
	// sends a heartbeat every 15 s) before the client reconnects.
	StreamIdleTimeout time.Duration
	// RequestTimeout bounds each snapshot and parameter request.
	RequestTimeout time.Duration
	// MinBackoff and MaxBackoff bound the delay between reconnection
	// attempts; each failure doubles it, with full jitter.
	MinBackoff, MaxBackoff time.Duration

	// HTTPClient makes the requests. Default: a client without a
	// timeout (the stream is long-lived; requests carry their own).
	HTTPClient *http.Client
	// Logger receives reported problems and connection changes. Default:
	// slog.Default().
	Logger *slog.Logger
	// OnError, when set, is called with every reported problem: values
	// that do not parse or are out of bounds (*ValueError) and connection
	// failures. It must not block.
	OnError func(error)
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	// DisableUsage stops the client from reporting how often it
	// evaluates each flag (counts by flag, variant and day, sent to
	// POST /v1/usage every UsageInterval and at Close). The report feeds
	// the server's stale-flag listing; it never delays an evaluation.
	DisableUsage bool
	// UsageInterval is how often usage is reported. Default: one minute.
	// The server may shorten it (to no less than a second) while a
	// rollout watches flags' error rates: its answer to a report then
	// names the interval, and the next answer without one restores
	// UsageInterval.
	UsageInterval time.Duration
}

// Source says which layer a value came from.
type Source string

// Sources of a value, in the order they are consulted.
const (
	SourceEnv     Source = "env"
	SourceStore   Source = "store"
	SourceDefault Source = "default"
)

// entry is one parameter of a snapshot. Entries are immutable once
// published, except for the set of kinds already reported as unparsable.
type entry struct {
	name    string
	typ     vane.Type
	value   string
	version int64
	sealed  bool // a SecureString loaded without Decrypt: no value
	// reported holds one bit per value kind whose parse failure has
	// been reported for this version.
	reported atomic.Uint32
	flag     flagSlot // the value compiled as a flag, on first use
}

// state is one immutable snapshot of the client's parameters.
type state struct {
	seq      int64
	m        map[string]*entry
	fromFile bool      // loaded from Config.SnapshotFile, not the server
	synced   time.Time // when the server last confirmed it
}

// Client reads parameters from an in-memory snapshot kept fresh by the
// server. It is safe for concurrent use. Close it when done.
type Client struct {
	cfg   Config
	base  string             // Paths[0], for relative names
	paths []string           // canonical, each ending in "/"
	env   map[string]*envVal // absolute name → override
	log   *slog.Logger
	http  *http.Client

	state atomic.Pointer[state]
	etag  string // of the last snapshot loaded; used only by run

	mu        sync.Mutex // guards status and the callbacks
	status    Status
	callbacks map[*callback]struct{}
	saveTimer *time.Timer

	events *dispatcher
	cancel context.CancelFunc
	done   chan struct{}
	local  bool // values come from a Local, not a server

	usage        flag.Recorder // flag evaluation counts
	usagePending []usageRow    // counts a failed report keeps; the reporter's
	usageEvery   time.Duration // the current report interval; the reporter's
	usageDone    chan struct{} // closed when the reporter returns
}

type envVal struct {
	name     string // the variable
	value    string
	reported atomic.Uint32 // kinds reported as unparsable
	flag     flagSlot      // the value compiled as a flag, on first use
}

// Status describes the client's connection to the server.
type Status struct {
	// Connected is true while the change stream is open (streaming) or
	// the last poll succeeded (polling).
	Connected bool
	// Stale is true when values may be behind the server: the stream is
	// down, the last poll is older than PollInterval, or the values
	// came from the snapshot file or from nothing.
	Stale bool
	// Seq is the change-log sequence the values reflect.
	Seq int64
	// LastSync is when the server last confirmed the values.
	LastSync time.Time
	// LastError is the last connection failure, nil after a success.
	LastError error
	// FromFile is true while the values are those of Config.SnapshotFile.
	FromFile bool
}

// Open starts a client: it validates cfg, waits up to StartTimeout for
// the first snapshot (falling back to SnapshotFile, then to no values),
// and then follows changes in the background. Open fails only for an
// invalid Config or a canceled ctx; an unreachable server is reported,
// not returned.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := url.ParseRequestURI(c.cfg.Server); err != nil || !strings.HasPrefix(c.cfg.Server, "http") {
		return nil, fmt.Errorf("sdk: Config.Server must be an http:// or https:// URL, not %q", c.cfg.Server)
	}
	c.cfg.Server = strings.TrimRight(c.cfg.Server, "/")

	startCtx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	err = c.firstSync(startCtx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.report(fmt.Errorf("sdk: no snapshot from %s within %s: %w", c.cfg.Server, c.cfg.StartTimeout, err))
		c.setStatus(func(s *Status) { s.LastError = err })
		if !c.loadFile() {
			c.publish(&state{m: map[string]*entry{}}, nil)
		}
	}

	runCtx, stop := context.WithCancel(context.Background())
	c.cancel = stop
	if c.reportsUsage() {
		c.usageEvery = c.cfg.UsageInterval
		c.usageDone = make(chan struct{})
		go func() {
			defer close(c.usageDone)
			c.reportUsage(runCtx)
		}()
	}
	go func() {
		defer close(c.done)
		if c.cfg.PollInterval > 0 {
			c.poll(runCtx, err == nil)
		} else {
			c.stream(runCtx, err == nil)
		}
	}()
	return c, nil
}

// newClient validates cfg and fills in defaults; it starts nothing.
func newClient(cfg Config) (*Client, error) {
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.StreamIdleTimeout <= 0 {
		cfg.StreamIdleTimeout = DefaultStreamIdleTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.LookupEnv == nil {
		cfg.LookupEnv = os.LookupEnv
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UsageInterval <= 0 {
		cfg.UsageInterval = DefaultUsageInterval
	}
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{"/"}
	}
	c := &Client{
		cfg:       cfg,
		log:       cfg.Logger,
		http:      cfg.HTTPClient,
		env:       map[string]*envVal{},
		callbacks: map[*callback]struct{}{},
		done:      make(chan struct{}),
	}
	for _, p := range cfg.Paths {
		canon, err := vane.ValidatePath(p)
		if err != nil {
			return nil, fmt.Errorf("sdk: Config.Paths: %s", errMessage(err))
		}
		c.paths = append(c.paths, canon)
	}
	c.base = c.paths[0]
	for name, variable := range cfg.Env {
		if variable == "" {
			return nil, fmt.Errorf("sdk: Config.Env: no variable named for %q", name)
		}
		if v, ok := cfg.LookupEnv(variable); ok {
			c.env[c.absolute(name)] = &envVal{name: variable, value: v}
		}
	}
	c.events = newDispatcher(c)
	c.status.Stale = true
	return c, nil
}

// Close stops following the server and waits for the background work and
// pending callbacks to finish, then saves the snapshot file if one is
// configured. Reads keep answering from the last snapshot.
func (c *Client) Close() error {
	if c.cancel != nil {
		c.cancel()
		<-c.done
		if c.usageDone != nil {
			<-c.usageDone
		}
	}
	c.events.close()
	c.mu.Lock()
	pending := c.saveTimer != nil && c.saveTimer.Stop()
	c.saveTimer = nil
	c.mu.Unlock()
	if pending {
		return c.saveFile()
	}
	return nil
}

// Status returns the client's connection status.
func (c *Client) Status() Status {
	c.mu.Lock()
	s := c.status
	c.mu.Unlock()
	st := c.state.Load()
	s.Seq = st.seq
	s.FromFile = st.fromFile
	if c.cfg.PollInterval > 0 && !c.local {
		s.Stale = s.LastError != nil || s.LastSync.IsZero() || c.cfg.Now().Sub(s.LastSync) > 2*c.cfg.PollInterval
	}
	s.Stale = s.Stale || st.fromFile
	return s
}

func (c *Client) setStatus(f func(*Status)) {
	c.mu.Lock()
	f(&c.status)
	c.mu.Unlock()
}

// absolute returns the absolute form of a name: relative names are under
// Paths[0].
func (c *Client) absolute(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return c.base + name
}

// lookup finds the store entry and the environment override of a name
// without allocating for names up to 256 bytes.
func (c *Client) lookup(st *state, name string) (*entry, *envVal) {
	if name != "" && name[0] == '/' {
		return c.find(st, name)
	}
	var buf [256]byte
	key := append(append(buf[:0], c.base...), name...)
	e := st.m[string(key)]
	if len(c.env) == 0 {
		return e, nil
	}
	return e, c.env[string(key)]
}

func (c *Client) find(st *state, name string) (*entry, *envVal) {
	e := st.m[name]
	if len(c.env) == 0 {
		return e, nil
	}
	return e, c.env[name]
}

// publish swaps in a new state and queues the changes for callbacks.
func (c *Client) publish(st *state, changes []Change) {
	c.state.Store(st)
	if len(changes) > 0 {
		c.events.enqueue(changes)
	}
	if c.cfg.SnapshotFile != "" && !st.fromFile {
		c.scheduleSave()
	}
}

// report hands a problem to OnError and the logger.
func (c *Client) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
	var ve *ValueError
	if errors.As(err, &ve) {
		c.log.LogAttrs(context.Background(), slog.LevelWarn, "vane sdk: value rejected",
			slog.String("name", ve.Name), slog.String("error", ve.Error()))
		return
	}
	c.log.LogAttrs(context.Background(), slog.LevelWarn, "vane sdk", slog.String("error", err.Error()))
}

// errMessage returns the message of a vane.Error, or err's text.
func errMessage(err error) string {
	var ve *vane.Error
	if errors.As(err, &ve) {
		return ve.Message
	}
	return err.Error()
}

// jitter returns a random duration in [0, d): "full jitter" backoff.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// drain reads the rest of a body so the connection can be reused.
func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}
