package event

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/job"
)

// JobPrefix prefixes the lease (and cursor) name of a rule's job.
const JobPrefix = "events:"

// Manager runs the job of every event rule on this node: one runner per
// rule, started when the rule appears and stopped when it goes. Each
// runner competes for its own rule's lease, so on a shared database the
// rules' work spreads over the nodes.
type Manager struct {
	Events   vane.EventStore
	Leases   vane.LeaseStore
	Log      job.ChangeLog
	Holder   string
	LeaseTTL time.Duration
	Logger   *slog.Logger
	// New returns the job of a rule; the manager sets nothing on it.
	New func(ruleID string) job.Job
	// Poll is how often the list of rules is read again (default 2s);
	// Refresh reads it at once.
	Poll time.Duration

	mu      sync.Mutex
	running map[string]*ruleRunner
	refresh chan struct{}
}

type ruleRunner struct {
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// Run starts and stops runners as rules come and go, until ctx is done.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	if m.refresh == nil {
		m.refresh = make(chan struct{}, 1)
	}
	m.running = map[string]*ruleRunner{}
	m.mu.Unlock()
	poll := m.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		m.sync(ctx)
		select {
		case <-ctx.Done():
			m.mu.Lock()
			runners := m.running
			m.running = nil
			m.mu.Unlock()
			for _, r := range runners {
				r.cancel()
			}
			for _, r := range runners {
				<-r.done
			}
			return
		case <-t.C:
		case <-m.refresh:
		}
	}
}

// Refresh makes Run read the rules again at once (after a rule is
// created or deleted through this node).
func (m *Manager) Refresh() {
	m.mu.Lock()
	if m.refresh == nil {
		m.refresh = make(chan struct{}, 1)
	}
	ch := m.refresh
	m.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Wake nudges every rule's runner to read the change log at once.
func (m *Manager) Wake() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.running {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func (m *Manager) sync(ctx context.Context) {
	rules, err := m.Events.EventRules(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.logger().Warn("cannot read the event rules; retrying", "err", err)
		}
		return
	}
	want := map[string]int64{} // id → the sequence the rule starts after
	for _, r := range rules {
		want[r.ID] = r.StartSeq
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running == nil {
		return
	}
	for id, r := range m.running {
		if _, ok := want[id]; !ok {
			r.cancel()
			delete(m.running, id)
		}
	}
	for id, start := range want {
		if _, ok := m.running[id]; ok {
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		rr := &ruleRunner{wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
		m.running[id] = rr
		runner := &job.Runner{Name: JobPrefix + id, Job: m.New(id), Leases: m.Leases, Log: m.Log, Holder: m.Holder,
			LeaseTTL: m.LeaseTTL, Logger: m.Logger, Start: func() int64 { return start }}
		go func() {
			defer close(rr.done)
			runner.Run(rctx, rr.wake)
		}()
	}
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}
