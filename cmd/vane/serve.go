package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/approval"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/event"
	"github.com/vanehq/vane/guard"
	"github.com/vanehq/vane/http"
	"github.com/vanehq/vane/index"
	"github.com/vanehq/vane/job"
	"github.com/vanehq/vane/keyring"
	"github.com/vanehq/vane/metrics"
	"github.com/vanehq/vane/monitor"
	"github.com/vanehq/vane/postgres"
	"github.com/vanehq/vane/rollout"
	"github.com/vanehq/vane/sqlite"
	"github.com/vanehq/vane/sqlstore"
	"github.com/vanehq/vane/web"
)

// Defaults of `vane serve`.
const (
	DefaultAddr    = "127.0.0.1:7420"
	DefaultDataDir = "./vane-data"
	// DefaultUsageFlushInterval is how often the server writes its flag
	// evaluation counts.
	DefaultUsageFlushInterval = 10 * time.Second
	// DefaultAuditRetention is how long audit entries are kept: a year.
	DefaultAuditRetention = "8760h"
	// DefaultChangeRetention is how long change-log records are kept.
	DefaultChangeRetention = "168h"
	// DefaultCompactInterval is how often serve compacts the change log,
	// after doing so once at start.
	DefaultCompactInterval = time.Hour
)

// Config is the configuration of `vane serve`. It is built from defaults,
// then an optional JSON file, then VANE_* environment variables, then flags.
type Config struct {
	Addr    string `json:"addr"`
	DataDir string `json:"data"`
	// Store selects the backend: empty for the SQLite file vane.db in
	// DataDir, "sqlite://PATH", or a "postgres://" URL shared by several
	// nodes.
	Store string `json:"store"`
	// Region and Account make up the ARNs of the SSM protocol.
	Region    string `json:"region"`
	Account   string `json:"account"`
	LogFormat string `json:"log_format"` // text or json
	LogLevel  string `json:"log_level"`  // debug, info, warn, error
	// MasterKeyFile is the keyring file that seals SecureString values
	// (package keyring); empty for keyring.json in DataDir. Nodes sharing
	// a PostgreSQL database must all use the same keyring.
	MasterKeyFile string `json:"master_key_file"`
	// MasterKey is a root key (base64 of 32 bytes) that wraps the master
	// keys in the keyring file. It comes only from the environment
	// (VANE_MASTER_KEY): never from a file or a flag, which others can
	// read.
	MasterKey string `json:"-"`
	// ChangeRetention is how long change-log records are kept, a Go
	// duration such as "168h"; "0" (or empty) keeps them all. Watchers and
	// nodes that fall further behind start over from a snapshot.
	ChangeRetention string `json:"change_retention"`
	// OFREPBase is the path OFREP flag keys are relative to, such as
	// /myapp/prod/features/; default "/" (a key is a whole name without
	// its leading slash).
	OFREPBase string `json:"ofrep_base"`
	// AuditRetention is how long the audit history is kept, a Go
	// duration; "0" keeps it all.
	AuditRetention string `json:"audit_retention"`
	// Dev turns access control off, for trying Vane out: every caller is
	// anonymous and may do anything. It only listens on loopback.
	Dev bool `json:"dev"`
	// TLSCert and TLSKey, both set, serve HTTPS with that certificate
	// and key (PEM files).
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// RateLimit is how many requests a second each caller may send
	// (a token bucket per credential, or per client address for anonymous
	// callers); "0" is no limit. RateBurst is the bucket's size ("0":
	// one second's worth).
	RateLimit string `json:"rate_limit"`
	RateBurst string `json:"rate_burst"`
	// JobLease is how long a node's hold on a background job (rollouts,
	// scheduled changes) lasts unless renewed, a Go duration: when the
	// node dies, another takes the job over within it. Default 10s.
	JobLease string `json:"job_lease"`
	// FlagUsage turns flag usage tracking on ("true", the default) or
	// off ("false"): evaluation counts by flag, variant and day.
	FlagUsage string `json:"flag_usage"`
	// EventDeny lists the addresses and prefixes event targets may not be
	// at, comma-separated (default: link-local, where cloud metadata
	// services answer).
	EventDeny string `json:"event_deny"`
	// PublicURL is the server's URL as people reach it, for links in
	// event messages; default the listening URL.
	PublicURL string `json:"public_url"`
	// SessionTTL is how long a dashboard sign-in lasts, a Go duration
	// (default 12h); a session also ends with its key.
	SessionTTL string `json:"session_ttl"`
	// UI serves the dashboard under /ui/ ("true", the default) or not.
	UI string `json:"ui"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{Addr: DefaultAddr, DataDir: DefaultDataDir, Region: vane.DefaultRegion, Account: vane.DefaultAccount, LogFormat: "text", LogLevel: "info",
		ChangeRetention: DefaultChangeRetention, OFREPBase: "/", FlagUsage: "true",
		AuditRetention: DefaultAuditRetention, RateLimit: "0", RateBurst: "0", JobLease: job.DefaultLeaseTTL.String(),
		SessionTTL: auth.DefaultSessionTTL.String(), UI: "true", EventDeny: defaultEventDeny}
}

// Main is a running Vane server: the store, its in-memory index and the
// HTTP listener. End-to-end tests use it to run the real server in-process.
type Main struct {
	Config Config
	Logger *slog.Logger

	Store   backend
	Keyring *keyring.Keyring
	Index   *index.Store
	// Guard is the checked write path over Index: every writer (the API,
	// rollouts, schedules) writes through it.
	Guard *guard.Store
	// Rollouts and Scheduler are the background jobs that change
	// parameters over time; each runs on the node holding its lease.
	Rollouts  *rollout.Engine
	Scheduler *rollout.Scheduler
	// Events runs the event rules' deliveries, one job per rule.
	Events *event.Service
	// Approvals carries change requests (proposed, reviewed, applied
	// through Guard).
	Approvals *approval.Service
	// NodeID names this node in the jobs' leases.
	NodeID string
	// locks are the files this server holds locked (lockFile) until
	// Close.
	locks []*os.File
	// LeaseTTL is how long this node's hold on a background job lasts
	// unless renewed; 0 means job.DefaultLeaseTTL.
	LeaseTTL time.Duration
	jobWake  map[string]chan struct{} // nudges each job's runner
	// listenURL is the URL the server listens on once it does (a string).
	listenURL atomic.Value
	HTTP      *http.Server
	// Keys checks access keys; nil with Config.Dev.
	Keys *auth.Authenticator
	// Stderr receives what is shown once to whoever started the server
	// (the admin key created on first start); nil discards it.
	Stderr io.Writer

	usageDone chan struct{} // closed when usageLoop returns

	// CompactInterval is how often the change log is compacted, after
	// once at start (when Config.ChangeRetention is not 0).
	CompactInterval time.Duration

	cancel context.CancelFunc // stops the change follower and the compactor
	done   chan struct{}      // closed when both have stopped
}

// backend is what serve needs of a storage backend.
type backend interface {
	vane.Store
	Ping(ctx context.Context) error
}

// NewMain returns a Main with the default configuration and a discarding
// logger.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.New(slog.DiscardHandler), CompactInterval: DefaultCompactInterval}
}

// Run opens the store, loads the index and starts serving. It returns once
// the server is listening; Close stops it.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.unlock()
		}
	}()
	retention, err := parseRetention(m.Config.ChangeRetention)
	if err != nil {
		return usageError{fmt.Errorf("change retention %w", err)}
	}
	auditRetention, err := parseRetention(m.Config.AuditRetention)
	if err != nil {
		return usageError{fmt.Errorf("audit retention %w", err)}
	}
	if m.LeaseTTL, err = parseJobLease(m.Config.JobLease); err != nil {
		return usageError{err}
	}
	began := time.Now()
	store, listen, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	opened := time.Since(began)
	m.Store = store
	if err := m.openKeyring(ctx); err != nil {
		return err
	}

	reg := metrics.NewRegistry()
	mt := metrics.New(reg)
	m.Index = index.New(mt.Store(m.Store))
	m.Index.Logger = m.Logger
	if err := m.Index.Open(ctx); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	// Loading a large store leaves as much garbage as index behind it
	// (the rows as the driver read them); give it back to the system
	// soon, rather than when the scavenger gets to it, without holding
	// up the start (at a million parameters the collection takes
	// several hundred milliseconds).
	go debug.FreeOSMemory()
	mt.RegisterIndex(m.Index.Stats, m.Index.Seq)
	entries, _ := m.Index.Stats()
	ls := m.Index.Loaded()
	m.Logger.Info("store opened", "store", m.storeName(), "parameters", entries, "sequence", m.Index.Seq(),
		"open_ms", opened.Milliseconds(), "read_ms", ls.Read.Milliseconds(), "index_ms", ls.Build.Milliseconds())

	// With a shared database, other nodes' writes reach the index through
	// notifications, and a periodic check catches any that were lost.
	fctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	if retention > 0 || auditRetention > 0 {
		wg.Go(func() { m.compactLoop(fctx, retention, auditRetention) })
	}

	wg.Go(func() {
		if listen != nil {
			go listen(fctx, func() {
				select {
				case wake <- struct{}{}:
				default:
				}
			})
		}
		m.Index.Follow(fctx, wake, index.DefaultFollowInterval)
	})
	m.Guard = guard.New(m.Index)
	m.openJobs(reg)
	wg.Go(func() { m.runJobs(fctx) })
	go func() {
		wg.Wait()
		close(m.done)
	}()

	m.HTTP = http.NewServer()
	m.HTTP.Addr = m.Config.Addr
	m.HTTP.Store = m.Guard
	m.HTTP.Rollouts, m.HTTP.Schedules, m.HTTP.Events, m.HTTP.Approvals = m.Rollouts, m.Scheduler, m.Events, m.Approvals
	m.HTTP.Logger = m.Logger
	m.HTTP.Metrics = mt
	m.HTTP.Gatherer = reg
	m.HTTP.Ready = m.Store.Ping
	m.HTTP.Backup, _ = m.Store.(vane.Backuper) // SQLite; PostgreSQL is backed up with pg_dump
	m.HTTP.Cipher = m.Keyring
	m.HTTP.OFREPBase = m.Config.OFREPBase
	m.HTTP.Audit = sqlStore(m.Store)
	if ui, _ := strconv.ParseBool(m.Config.UI); ui {
		m.HTTP.UI = web.New("/ui/")
	}
	if err := m.openAccess(ctx); err != nil {
		return err
	}
	m.HTTP.TLSCertFile, m.HTTP.TLSKeyFile = m.Config.TLSCert, m.Config.TLSKey
	if m.HTTP.RateLimit, err = parseRateLimit(m.Config); err != nil {
		return usageError{err}
	}
	if on, _ := strconv.ParseBool(m.Config.FlagUsage); on {
		m.HTTP.Usage = sqlStore(m.Store)
		m.HTTP.UsageReportInterval = m.Rollouts.ReportInterval
		m.usageDone = make(chan struct{})
		go func() {
			defer close(m.usageDone)
			m.usageLoop(fctx)
		}()
	}
	m.HTTP.Region, m.HTTP.Account = m.Config.Region, m.Config.Account
	if m.HTTP.TokenKey, err = m.Keyring.DeriveKey("ssm-paging-tokens"); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	m.HTTP.Keys = &keyAdmin{keyring: m.Keyring, store: sqlStore(m.Store), index: m.Index, logger: m.Logger}
	if err := m.HTTP.Open(); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.listenURL.Store(m.HTTP.URL())
	m.Logger.Info("listening", "url", m.HTTP.URL())
	return nil
}

// Names of the background jobs, as their leases name them.
const (
	jobRollouts  = "rollouts"
	jobSchedules = "schedules"
)

// openJobs creates the rollout engine and the scheduler.
func (m *Main) openJobs(reg *prometheus.Registry) {
	st := sqlStore(m.Store)
	mt := metrics.NewJobs(reg)
	m.jobWake = map[string]chan struct{}{jobRollouts: make(chan struct{}, 1), jobSchedules: make(chan struct{}, 1)}
	if m.NodeID == "" {
		m.NodeID = m.nodeID()
	}
	m.Rollouts = &rollout.Engine{Store: m.Guard, Rollouts: st, Audit: st, Metrics: mt, Logger: m.Logger,
		Monitors: &monitor.Checker{Usage: st}, Wake: func() { m.wakeJob(jobRollouts) }}
	m.Scheduler = &rollout.Scheduler{Store: m.Guard, Schedules: st, Rollouts: m.Rollouts, Audit: st, Metrics: mt, Logger: m.Logger,
		Wake: func() { m.wakeJob(jobSchedules) }}
	deny, _ := event.ParseDeny(m.Config.EventDeny) // checked by the config
	client := event.NewClient(deny)
	em := metrics.NewEvents(reg)
	deliverer := func(ruleID string) *event.Deliverer {
		return &event.Deliverer{RuleID: ruleID, Events: st, Store: m.Index, Rollouts: st, Cipher: m.Keyring, Client: client,
			Retry: event.DefaultRetryPolicy, Region: m.Config.Region, Account: m.Config.Account, LinkBase: m.linkBase,
			Logger: m.Logger, Metrics: em, Seq: m.Index.Seq}
	}
	m.Events = &event.Service{EventStore: st, Deliverer: deliverer, Manager: &event.Manager{Events: st, Leases: st, Log: m.Index,
		Holder: m.NodeID, LeaseTTL: m.LeaseTTL, Logger: m.Logger, New: func(id string) job.Job { return deliverer(id) }}}
	m.Approvals = &approval.Service{Store: m.Guard, Requests: st, Cipher: m.Keyring, Audit: st, Events: st, Seq: m.Index.Seq,
		Region: m.Config.Region, Account: m.Config.Account, Queued: m.Events.Manager.Wake, Logger: m.Logger}
}

// NodeIDFile is the file in the data directory that names this node in
// the background jobs' leases. Keeping the name across restarts lets a
// restarted node take its jobs back at once instead of waiting for its
// old leases to expire.
const NodeIDFile = "node-id"

// nodeID returns the name of this node: the one saved in the data
// directory, or a new one (host name and random digits) saved there.
func (m *Main) nodeID() string {
	path := filepath.Join(m.Config.DataDir, NodeIDFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	id := fmt.Sprintf("%s-%s", host, hex.EncodeToString(b[:]))
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err == nil {
		if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
			m.Logger.Warn("cannot save the node id; a restart of this node waits for its job leases to expire", "path", path, "err", err)
		}
	}
	return id
}

// wakeJob nudges the runner of a job on this node to look again at once.
func (m *Main) wakeJob(name string) {
	select {
	case m.jobWake[name] <- struct{}{}:
	default:
	}
}

// runJobs runs the background jobs until ctx is done: each competes for
// its lease with the other nodes sharing the store. Changes applied by the
// index wake the rollouts, so a person's write stops a rollout at once.
func (m *Main) runJobs(ctx context.Context) {
	st := sqlStore(m.Store)
	var wg sync.WaitGroup
	for name, j := range map[string]job.Job{jobRollouts: m.Rollouts, jobSchedules: m.Scheduler} {
		r := &job.Runner{Name: name, Job: j, Leases: st, Log: m.Index, Holder: m.NodeID, LeaseTTL: m.LeaseTTL, Logger: m.Logger}
		if name == jobRollouts {
			r.OnLease = func(held bool) {
				if !held {
					m.Rollouts.Metrics.SetActive(nil) // the node driving them now reports them
				}
			}
		}
		wg.Go(func() { r.Run(ctx, m.jobWake[name]) })
	}
	wg.Go(func() { m.Events.Manager.Run(ctx) })
	notices := &event.Notices{Events: st, Store: m.Index, Seq: m.Index.Seq, Region: m.Config.Region, Account: m.Config.Account,
		Logger: m.Logger, Queued: m.Events.Manager.Wake}
	if usage, _ := strconv.ParseBool(m.Config.FlagUsage); usage {
		notices.Usage = st
	}
	policies := &event.Policies{Store: m.Guard, Events: st, Seq: m.Index.Seq, Region: m.Config.Region, Account: m.Config.Account,
		Logger: m.Logger, Queued: m.Events.Manager.Wake}
	for name, j := range map[string]job.Job{event.NoticesJob: notices, event.PoliciesJob: policies} {
		wg.Go(func() {
			(&job.Runner{Name: name, Job: j, Leases: st, Log: m.Index, Holder: m.NodeID, LeaseTTL: m.LeaseTTL, Logger: m.Logger}).Run(ctx, nil)
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			ch, _, cancel := m.Index.Subscribe(index.DefaultSubscribeBuffer)
			stop := context.AfterFunc(ctx, cancel)
			for range ch {
				m.wakeJob(jobRollouts)
				m.Events.Manager.Wake()
			}
			stop()
			cancel()
		}
	})
	wg.Wait()
}

// compactLoop compacts the change log once, then every CompactInterval
// until ctx is done, removing the records older than retention. Every
// node of a shared database does so; the runs are serialized by the
// store's write lock, and all but the first of an hour find nothing to
// remove.
func (m *Main) compactLoop(ctx context.Context, retention, auditRetention time.Duration) {
	every := m.CompactInterval
	if every <= 0 {
		every = DefaultCompactInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if retention > 0 {
			before := time.Now().Add(-retention)
			n, err := m.Index.Compact(ctx, before)
			switch {
			case err != nil && ctx.Err() == nil:
				m.Logger.Warn("cannot compact the change log; retrying at the next interval", "retention", m.Config.ChangeRetention, "err", err)
			case err == nil:
				m.Logger.Info("change log compacted", "removed", n, "retention", m.Config.ChangeRetention, "before", before.UTC().Format(time.RFC3339))
			}
		}
		if auditRetention > 0 {
			before := time.Now().Add(-auditRetention)
			n, err := sqlStore(m.Store).PruneAudit(ctx, before)
			switch {
			case err != nil && ctx.Err() == nil:
				m.Logger.Warn("cannot prune the audit history; retrying at the next interval", "retention", m.Config.AuditRetention, "err", err)
			case err == nil && n > 0:
				m.Logger.Info("audit history pruned", "removed", n, "retention", m.Config.AuditRetention)
			}
		}
		if auditRetention > 0 {
			if n, err := sqlStore(m.Store).PruneEventDeliveries(ctx, time.Now().Add(-auditRetention)); err != nil && ctx.Err() == nil {
				m.Logger.Warn("cannot prune event deliveries; retrying at the next interval", "err", err)
			} else if n > 0 {
				m.Logger.Info("event deliveries pruned", "removed", n, "retention", m.Config.AuditRetention)
			}
		}
		if n, err := sqlStore(m.Store).DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			m.Logger.Warn("cannot remove expired dashboard sessions; retrying at the next interval", "err", err)
		} else if n > 0 {
			m.Logger.Info("expired dashboard sessions removed", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// parseJobLease parses Config.JobLease: a duration of at least a second;
// "" is the default.
func parseJobLease(s string) (time.Duration, error) {
	if s == "" {
		return job.DefaultLeaseTTL, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("job lease %q: use a duration of at least 1s, such as 10s", s)
	}
	return d, nil
}

// parseRetention parses Config.ChangeRetention: a Go duration of 0 or
// more; "" is 0, which disables compaction.
func parseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: use a duration of 0 or more such as 168h or 30m (0 keeps everything)", s)
	}
	return d, nil
}

// usageLoop writes the server's flag evaluation counts every
// DefaultUsageFlushInterval until ctx is done.
func (m *Main) usageLoop(ctx context.Context) {
	t := time.NewTicker(DefaultUsageFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.HTTP.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				m.Logger.Warn("cannot record flag usage; the counts are kept for the next try", "err", err)
			}
		}
	}
}

// Close stops the HTTP server, letting in-flight requests finish, then
// closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.HTTP != nil {
		errs = append(errs, m.HTTP.Close())
		if err := m.HTTP.FlushUsage(context.Background()); err != nil {
			m.Logger.Warn("cannot record flag usage at shutdown", "err", err)
		}
	}
	if m.cancel != nil {
		m.cancel()
		<-m.done
		if m.usageDone != nil {
			<-m.usageDone
		}
	}
	if m.Keys != nil {
		errs = append(errs, m.Keys.Close())
	}
	if m.Index != nil {
		errs = append(errs, m.Index.Close()) // closes m.Store
	} else if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	m.unlock()
	return errors.Join(errs...)
}

// unlock releases the files the server holds locked.
func (m *Main) unlock() {
	for _, l := range m.locks {
		if l != nil {
			l.Close()
		}
	}
	m.locks = nil
}

const serveUsage = `Usage: vane serve [flags]

Runs the Vane server: the native REST API under /v1, the AWS SSM API on
POST /, /healthz, /readyz and /metrics, backed by an embedded SQLite file in
the data directory (or PostgreSQL with --store).

Access control is on: every request but /healthz and /readyz needs an
access key, as a bearer token (Authorization: Bearer ID.SECRET) or as AWS
credentials (SigV4) on the SSM API. On first start, when the store has no
key, the server creates an admin key, prints it once on stderr and saves
it in admin.key in the data directory (mode 0600), where the vane CLI on
this machine finds it. --dev turns access control off for trying Vane out,
and then listens only on loopback.

Configuration comes from defaults, then --config FILE (JSON with the keys
addr, data, store, region, account, log_format, log_level,
master_key_file, change_retention, audit_retention, ofrep_base,
flag_usage, rate_limit, rate_burst, tls_cert, tls_key, job_lease), then the
environment variables VANE_ADDR, VANE_DATA, VANE_STORE, VANE_REGION,
VANE_ACCOUNT, VANE_LOG_FORMAT, VANE_LOG_LEVEL, VANE_MASTER_KEY_FILE,
VANE_CHANGE_RETENTION, VANE_AUDIT_RETENTION, VANE_OFREP_BASE,
VANE_FLAG_USAGE, VANE_RATE_LIMIT, VANE_RATE_BURST, VANE_TLS_CERT,
VANE_TLS_KEY and VANE_JOB_LEASE, then flags. --tls-cert and --tls-key (PEM files) serve HTTPS. --region and --account (default
us-east-1 and 000000000000) form the ARNs of the AWS SSM protocol served
on POST /.

SecureString values are encrypted at rest with the keys of a keyring file:
--master-key-file, else keyring.json in the data directory, created (mode
0600) on first start. Back it up with the database: without it the values
can't be decrypted. VANE_MASTER_KEY (only from the environment: base64 of
32 random bytes, such as 'openssl rand -base64 32' prints) keeps the key
material out of that file: the file then holds the master keys wrapped by
it. 'vane kms rotate' adds a master key and re-wraps the values under it.

Flags (parameters under a "features" path segment) are validated when
written and evaluated by POST /v1/evaluate and by OpenFeature's remote
evaluation protocol under /ofrep/v1, whose flag keys are names relative to
--ofrep-base (default /: a key is a whole name without its leading slash;
with --ofrep-base /myapp/prod/features/ the key new-checkout is
/myapp/prod/features/new-checkout). The server counts flag evaluations by
flag, variant and day, its own and those SDKs report (GET /v1/usage, vane
flags ls); --flag-usage=false turns that off. --rate-limit N limits each
caller to N requests a second (bursts of --rate-burst): SSM callers get
ThrottlingException, which AWS SDKs back off from, and others 429 with
Retry-After.

The change log (GET /v1/changes, the replay of GET /v1/watch) keeps the
changes of the last --change-retention (a Go duration, default 168h; 0
keeps them all): the server compacts it at start and then hourly. Parameter
versions are not affected. A watcher or node resuming from a change no
longer kept gets a reset and reloads a snapshot. The audit history (GET
/v1/audit, vane audit) records every change with who made it, from where
and the request id; it keeps the entries of the last --audit-retention
(default 8760h, a year; 0 keeps them all), pruned with the change log.

The dashboard is served at /ui/ (GET / redirects there; --ui=false turns
it off). Sign in with an access key's id and secret; the session cookie
lasts --session-ttl (default 12h) or until sign-out, and acts as the key
on the /v1 API. Environments named in the setting
/vane/settings/protected-environments (default prod,production) ask for
confirmation before a flag changes there. See doc/dashboard.md.

Staged rollouts (/v1/rollouts, vane rollout) and scheduled changes
(/v1/schedules, vane schedule) are background jobs. Each runs on one node
at a time, the one holding its lease in the store; when that node dies,
another takes the job over within --job-lease (default 10s). A node keeps
its name in node-id in the data directory, so a restarted node takes its
jobs back at once.

Event rules (/v1/event-rules, vane events) send changes to webhooks,
Slack or the log; each rule is a background job under its own lease. The
server refuses to connect event targets at the addresses of --event-deny
(default: link-local, where cloud metadata services answer). See
doc/events.md.

Several nodes share one PostgreSQL database with --store postgres://...;
each keeps its own in-memory index and follows the others' writes. They
must share one keyring: give every node the same --master-key-file (a
shared file, or a copy made after each change) and VANE_MASTER_KEY.

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
		// Two servers on one SQLite file would each keep an index the
		// other's writes never reach: the second is refused at once.
		lock, err := lockFile(path+".lock", "the database "+path)
		if err != nil {
			return nil, nil, err
		}
		m.locks = append(m.locks, lock)
		s, err := sqlite.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open store: %w", err)
		}
		return s, nil, nil
	}
	return nil, nil, usageError{fmt.Errorf("store %q: use sqlite://PATH or a postgres:// URL", redactURL(m.Config.Store))}
}

// openKeyring opens the keyring (creating it on first start), makes the
// store seal SecureString values with it, and seals the values stored in
// plaintext before it existed.
func (m *Main) openKeyring(ctx context.Context) error {
	path := m.Config.MasterKeyFile
	if path == "" {
		if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		path = filepath.Join(m.Config.DataDir, keyring.DefaultFileName)
	}
	_, statErr := os.Stat(path)
	kr, err := keyring.Open(keyring.Options{Path: path, RootKey: m.Config.MasterKey, Logger: m.Logger})
	if err != nil {
		return fmt.Errorf("open the keyring (--master-key-file, VANE_MASTER_KEY): %w", err)
	}
	m.Keyring = kr
	m.Logger.Info("keyring opened", "path", kr.Path(), "primary_master_key", kr.Primary(), "keys", len(kr.Keys()))
	if _, shared := m.Store.(*postgres.Store); shared && errors.Is(statErr, fs.ErrNotExist) {
		m.Logger.Warn("a new keyring was created for a shared PostgreSQL store: every node must use this same keyring, "+
			"or values another node sealed will not decrypt; give each node a copy with --master-key-file", "path", kr.Path())
	}
	st := sqlStore(m.Store)
	st.Cipher = kr
	n, err := st.SealPlaintext(ctx, kr, keyring.IsSealed)
	if n > 0 {
		m.Logger.Info("encrypted the SecureString values stored in plaintext", "versions", n)
	}
	switch {
	case vane.ErrorDetail(err) == vane.DetailInvalidKeyID:
		// They are still served; once their keys exist, `vane keys
		// rewrap` seals them.
		m.Logger.Warn("SecureString values stored in plaintext name keys that do not exist, and were left in plaintext: "+
			"create the keys with 'vane kms create --alias', then run 'vane kms rewrap'", "error", err.Error())
	case err != nil:
		return fmt.Errorf("encrypt the SecureString values stored in plaintext: %w", err)
	}
	return nil
}

// sqlStore returns the sqlstore.Store under a backend.
func sqlStore(b backend) *sqlstore.Store {
	switch s := b.(type) {
	case *sqlite.Store:
		return s.Store
	case *postgres.Store:
		return s.Store
	}
	panic(fmt.Sprintf("vane: backend %T has no sqlstore.Store", b))
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
	m.Config, m.Logger, m.Stderr = cfg, logger, stderr
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
	dev := fs.Bool("dev", false, "development mode: no access control (every caller may do everything); loopback addresses only")
	addr := fs.String("addr", cfg.Addr, "listen `address` (host:port; port 0 picks a free port)")
	data := fs.String("data", cfg.DataDir, "data `directory` holding vane.db")
	store := fs.String("store", cfg.Store, "storage `URL`: sqlite://PATH or postgres://... (default: vane.db in the data directory)")
	region := fs.String("region", cfg.Region, "AWS `region` in the SSM protocol's parameter ARNs")
	account := fs.String("account", cfg.Account, "12-digit AWS `account` id in the SSM protocol's parameter ARNs")
	logFormat := fs.String("log-format", cfg.LogFormat, "log `format`: text or json")
	logLevel := fs.String("log-level", cfg.LogLevel, "log `level`: debug, info, warn or error")
	masterKeyFile := fs.String("master-key-file", cfg.MasterKeyFile, "keyring `file` of the keys that encrypt SecureString values (default: keyring.json in the data directory)")
	tlsCert := fs.String("tls-cert", cfg.TLSCert, "serve HTTPS with this certificate `file` (PEM, the chain first); needs --tls-key")
	tlsKey := fs.String("tls-key", cfg.TLSKey, "the private key `file` (PEM) of --tls-cert")
	rateLimit := fs.String("rate-limit", cfg.RateLimit, "requests a second each caller may send, `N` (0: no limit)")
	rateBurst := fs.String("rate-burst", cfg.RateBurst, "the size of each caller's token bucket, `N` requests (0: one second's worth)")
	flagUsage := fs.String("flag-usage", cfg.FlagUsage, "count flag evaluations by flag, variant and day: `true` or false")
	ofrepBase := fs.String("ofrep-base", cfg.OFREPBase, "the `path` OFREP flag keys are relative to, such as /myapp/prod/features/")
	auditRetention := fs.String("audit-retention", cfg.AuditRetention, "how long the audit history keeps entries, a `duration` such as 8760h; 0 keeps them all")
	jobLease := fs.String("job-lease", cfg.JobLease, "how long a node's hold on a background job (rollouts, schedules) lasts unless renewed, a `duration`; another node takes over within it when the node dies")
	eventDeny := fs.String("event-deny", cfg.EventDeny, "addresses and prefixes event targets may not be at, comma-separated (\"\" allows all)")
	publicURL := fs.String("public-url", cfg.PublicURL, "the server's `URL` as people reach it, for links in event messages (default: the listening URL)")
	sessionTTL := fs.String("session-ttl", cfg.SessionTTL, "how long a dashboard sign-in lasts, a `duration`")
	ui := fs.String("ui", cfg.UI, "serve the dashboard under /ui/: `true` or false")
	changeRetention := fs.String("change-retention", cfg.ChangeRetention, "how long the change log keeps changes, a `duration` such as 168h or 30m; 0 keeps them all")
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
		"VANE_ADDR": &cfg.Addr, "VANE_DATA": &cfg.DataDir, "VANE_STORE": &cfg.Store, "VANE_REGION": &cfg.Region, "VANE_ACCOUNT": &cfg.Account, "VANE_LOG_FORMAT": &cfg.LogFormat, "VANE_LOG_LEVEL": &cfg.LogLevel,
		"VANE_MASTER_KEY_FILE": &cfg.MasterKeyFile, "VANE_MASTER_KEY": &cfg.MasterKey, "VANE_CHANGE_RETENTION": &cfg.ChangeRetention, "VANE_OFREP_BASE": &cfg.OFREPBase, "VANE_FLAG_USAGE": &cfg.FlagUsage, "VANE_AUDIT_RETENTION": &cfg.AuditRetention,
		"VANE_RATE_LIMIT": &cfg.RateLimit, "VANE_RATE_BURST": &cfg.RateBurst,
		"VANE_TLS_CERT": &cfg.TLSCert, "VANE_TLS_KEY": &cfg.TLSKey, "VANE_JOB_LEASE": &cfg.JobLease,
		"VANE_SESSION_TTL": &cfg.SessionTTL, "VANE_UI": &cfg.UI, "VANE_EVENT_DENY": &cfg.EventDeny, "VANE_PUBLIC_URL": &cfg.PublicURL,
	} {
		if v, ok := lookupEnv(env); ok && v != "" {
			*dst = v
		}
	}
	// Flags given explicitly win over the file and the environment.
	flagged := map[string][2]*string{
		"addr": {addr, &cfg.Addr}, "data": {data, &cfg.DataDir}, "store": {store, &cfg.Store}, "region": {region, &cfg.Region}, "account": {account, &cfg.Account}, "log-format": {logFormat, &cfg.LogFormat}, "log-level": {logLevel, &cfg.LogLevel},
		"master-key-file": {masterKeyFile, &cfg.MasterKeyFile}, "change-retention": {changeRetention, &cfg.ChangeRetention}, "ofrep-base": {ofrepBase, &cfg.OFREPBase}, "flag-usage": {flagUsage, &cfg.FlagUsage}, "audit-retention": {auditRetention, &cfg.AuditRetention},
		"rate-limit": {rateLimit, &cfg.RateLimit}, "rate-burst": {rateBurst, &cfg.RateBurst},
		"tls-cert": {tlsCert, &cfg.TLSCert}, "tls-key": {tlsKey, &cfg.TLSKey}, "job-lease": {jobLease, &cfg.JobLease},
		"session-ttl": {sessionTTL, &cfg.SessionTTL}, "ui": {ui, &cfg.UI}, "event-deny": {eventDeny, &cfg.EventDeny}, "public-url": {publicURL, &cfg.PublicURL},
	}
	fs.Visit(func(f *flag.Flag) {
		if p, ok := flagged[f.Name]; ok {
			*p[1] = *p[0]
		}
		if f.Name == "dev" {
			cfg.Dev = *dev
		}
	})
	if cfg.Dev && !loopback(cfg.Addr) {
		return cfg, usageError{fmt.Errorf("--dev runs without access control, so it listens only on loopback, not %s", cfg.Addr)}
	}
	if !accountPattern.MatchString(cfg.Account) {
		return cfg, usageError{fmt.Errorf("account %q: an AWS account id is 12 digits", cfg.Account)}
	}
	if !regionPattern.MatchString(cfg.Region) {
		return cfg, usageError{fmt.Errorf("region %q: use an AWS region name such as us-east-1", cfg.Region)}
	}
	if _, err := parseRetention(cfg.ChangeRetention); err != nil {
		return cfg, usageError{fmt.Errorf("change retention %w", err)}
	}
	if _, err := parseRetention(cfg.AuditRetention); err != nil {
		return cfg, usageError{fmt.Errorf("audit retention %w", err)}
	}
	base, err := vane.ValidatePath(cfg.OFREPBase)
	if err != nil {
		return cfg, usageError{fmt.Errorf("ofrep base %q: %s", cfg.OFREPBase, vane.ErrorMessage(err))}
	}
	cfg.OFREPBase = base
	if _, err := parseRateLimit(cfg); err != nil {
		return cfg, usageError{err}
	}
	if _, err := parseJobLease(cfg.JobLease); err != nil {
		return cfg, usageError{err}
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, usageError{fmt.Errorf("TLS needs both --tls-cert and --tls-key")}
	}
	if d, err := time.ParseDuration(cfg.SessionTTL); err != nil || d < time.Minute {
		return cfg, usageError{fmt.Errorf("session ttl %q: use a duration of a minute or more, such as 12h", cfg.SessionTTL)}
	}
	if _, err := event.ParseDeny(cfg.EventDeny); err != nil {
		return cfg, usageError{fmt.Errorf("event deny list: %v", err)}
	}
	if _, err := strconv.ParseBool(cfg.UI); err != nil {
		return cfg, usageError{fmt.Errorf("ui %q: use true or false", cfg.UI)}
	}
	if _, err := strconv.ParseBool(cfg.FlagUsage); err != nil {
		return cfg, usageError{fmt.Errorf("flag usage %q: use true or false", cfg.FlagUsage)}
	}
	return cfg, nil
}

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

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

// parseRateLimit reads Config.RateLimit and RateBurst.
func parseRateLimit(cfg Config) (http.RateLimit, error) {
	var rl http.RateLimit
	if cfg.RateLimit != "" {
		r, err := strconv.ParseFloat(cfg.RateLimit, 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return rl, fmt.Errorf("rate limit %q: use a number of requests a second, 0 or more (0: no limit)", cfg.RateLimit)
		}
		rl.Rate = r
	}
	if cfg.RateBurst != "" {
		b, err := strconv.Atoi(cfg.RateBurst)
		if err != nil || b < 0 {
			return rl, fmt.Errorf("rate burst %q: use a whole number of requests, 0 or more", cfg.RateBurst)
		}
		rl.Burst = b
	}
	return rl, nil
}

// linkBase is the server's URL for links in event messages: --public-url,
// or the URL it listens on once it does.
func (m *Main) linkBase() string {
	if m.Config.PublicURL != "" {
		return m.Config.PublicURL
	}
	if u, ok := m.listenURL.Load().(string); ok {
		return u
	}
	return ""
}

// defaultEventDeny is the default of --event-deny: link-local addresses,
// where cloud metadata services answer with the server's credentials.
const defaultEventDeny = "169.254.0.0/16,fe80::/10,fd00:ec2::254/128"

// AdminKeyFile is the file in the data directory that holds the admin
// access key created on first start, as a bearer token; the CLI reads it.
const AdminKeyFile = "admin.key"

// openAccess turns access control on, unless Config.Dev, and creates the
// admin key when the store has no key at all.
func (m *Main) openAccess(ctx context.Context) error {
	if m.Config.Dev {
		if !loopback(m.Config.Addr) {
			return usageError{fmt.Errorf("--dev runs without access control, so it listens only on loopback, not %s", m.Config.Addr)}
		}
		m.Logger.Warn("DEVELOPMENT MODE: access control is OFF; every caller may read and change everything. Never expose this server.")
		return nil
	}
	m.Keys = auth.NewAuthenticator(sqlStore(m.Store), m.Keyring)
	if err := m.Keys.Open(); err != nil {
		return fmt.Errorf("access keys: %w", err)
	}
	ttl, _ := time.ParseDuration(m.Config.SessionTTL) // checked by the config
	m.HTTP.Access = &http.Access{Keys: m.Keys, Store: sqlStore(m.Store),
		Sessions: &auth.Sessions{Store: sqlStore(m.Store), Keys: m.Keys, TTL: ttl}}
	keys, err := sqlStore(m.Store).ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("access keys: %w", err)
	}
	if len(keys) > 0 {
		return nil
	}
	key, secret, err := m.Keys.CreateKey(ctx, "admin", auth.AllowAllPolicy, time.Time{})
	if err != nil {
		return fmt.Errorf("create the admin access key: %w", err)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(m.Config.DataDir, AdminKeyFile)
	if err := os.WriteFile(path, []byte(auth.BearerToken(key.ID, secret)+"\n"), 0o600); err != nil {
		return fmt.Errorf("store the admin access key: %w", err)
	}
	// Shown once, on stderr: the secret is not kept anywhere else in
	// plaintext. It is not logged.
	out := m.Stderr
	if out == nil {
		out = io.Discard
	}
	fmt.Fprintf(out, "\nCreated the admin access key (it may do everything):\n"+
		"  access key id:     %s\n  secret access key: %s\n"+
		"It is saved in %s (mode 0600), where the vane CLI on this machine finds it.\n"+
		"Native API and SDKs: Authorization: Bearer %s.<secret>; aws CLI and AWS SDKs: the id and secret above.\n\n",
		key.ID, secret, path, key.ID)
	return nil
}

// loopback reports whether a listen address is on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
