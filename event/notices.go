package event

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/flag"
)

// NoticesJob names the lease of the lifecycle scan.
const NoticesJob = "event-notices"

// DefaultNoticeEvery is how often the lifecycle scan runs.
const DefaultNoticeEvery = time.Hour

// Notices is the lifecycle scan, a background job of its own (one node at
// a time): every Every it looks at the flags under each rule that names
// FlagExpired or FlagUnused, and queues a notice for each flag past its
// document's expires, or not evaluated for the rule's UnusedDays (a flag
// never evaluated counts from its last change). A notice's id is made of
// the rule, the flag and what the notice is about (the expiry; the last
// evaluation), so it is queued once however many scans and nodes see it;
// the rule's own job delivers it like any event.
type Notices struct {
	Events vane.EventStore
	Store  vane.Store
	Usage  vane.UsageStore // nil: no FlagUnused notices
	// Seq returns the change log's newest sequence: a notice is ordered
	// after the changes made before it.
	Seq             func() int64
	Region, Account string
	Every           time.Duration // DefaultNoticeEvery when 0
	Logger          *slog.Logger
	// Queued, if set, is told when notices were queued (to wake the rules'
	// jobs).
	Queued func()

	period period
}

// Changes implements job.Job; the scan reads no changes.
func (n *Notices) Changes(context.Context, []vane.Change) error { return nil }

// Tick runs the scan when it is due.
func (n *Notices) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	return n.period.tick(ctx, now, n.Every, DefaultNoticeEvery, n.Scan, n.Queued)
}

// Scan queues the notices due at now and returns how many were new or
// already queued.
func (n *Notices) Scan(ctx context.Context, now time.Time) (int, error) {
	rules, err := n.Events.EventRules(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range rules {
		expired, unused := slices.Contains(r.Operations, vane.EventFlagExpired), slices.Contains(r.Operations, vane.EventFlagUnused)
		if r.Disabled || !expired && !unused {
			continue
		}
		ds, err := n.rule(ctx, r, now, expired, unused && n.Usage != nil)
		if err != nil {
			return total, err
		}
		if len(ds) > 0 {
			if err := n.Events.EnqueueEvents(ctx, ds); err != nil {
				return total, err
			}
			total += len(ds)
		}
	}
	return total, nil
}

// rule returns a rule's notices.
func (n *Notices) rule(ctx context.Context, r *vane.EventRule, now time.Time, expired, unused bool) ([]*vane.EventDelivery, error) {
	base := globBase(r.Path)
	flags, err := n.flagsUnder(ctx, base)
	if err != nil {
		return nil, err
	}
	var last map[string]time.Time
	if unused {
		prefix := strings.TrimSuffix(base, "/")
		totals, err := n.Usage.UsageTotals(ctx, prefix, "")
		if err != nil {
			return nil, err
		}
		last = make(map[string]time.Time, len(totals))
		for _, u := range totals {
			last[u.Name] = u.Last
		}
	}
	days := r.UnusedDays
	if days == 0 {
		days = vane.DefaultUnusedDays
	}
	cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
	seq := int64(0)
	if n.Seq != nil {
		seq = n.Seq()
	}
	var out []*vane.EventDelivery
	for _, p := range flags {
		if !MatchPath(r.Path, p.Name) {
			continue
		}
		f, err := flag.Parse(p.Name, p.Value)
		if err != nil {
			continue // an invalid document is not this scan's to report
		}
		c := &vane.Change{Seq: seq, Op: vane.OpPut, Name: p.Name, Version: p.Version, Type: p.Type, Time: now, Principal: "vane"}
		if expired && !f.Expires.IsZero() && !f.Expires.After(now) {
			e := Build(r, c, vane.EventFlagExpired, n.Region, n.Account, nil)
			e.Detail.Expires = f.Expires.UTC().Format(time.RFC3339)
			e.Detail.PreviousVersion = 0
			out = append(out, notice(r, e, p.Name+"|expired|"+e.Detail.Expires, now))
		}
		if unused {
			at, seen := last[p.Name]
			if (seen && at.Before(cutoff)) || (!seen && p.LastModified.Before(cutoff)) {
				e := Build(r, c, vane.EventFlagUnused, n.Region, n.Account, nil)
				e.Detail.PreviousVersion = 0
				key := p.Name + "|unused|never|" + p.LastModified.UTC().Format(time.RFC3339Nano)
				if seen {
					e.Detail.LastEvaluated = at.UTC().Format(time.RFC3339)
					key = p.Name + "|unused|" + e.Detail.LastEvaluated
				}
				out = append(out, notice(r, e, key, now))
			}
		}
	}
	return out, nil
}

// notice makes the delivery of a notice; its id is stable for key.
func notice(r *vane.EventRule, e *Event, key string, now time.Time) *vane.EventDelivery {
	sum := sha256.Sum256([]byte(key))
	e.ID = r.ID + "-" + strings.ToLower(e.Detail.Operation) + "-" + hex.EncodeToString(sum[:8])
	return &vane.EventDelivery{ID: e.ID, RuleID: r.ID, Seq: e.Detail.Sequence, Name: e.Detail.Name, Operation: e.Detail.Operation,
		Body: string(marshal(e)), State: vane.EventPending, NextAttempt: now, Created: now}
}

// flagsUnder returns the latest version of every flag under path.
func (n *Notices) flagsUnder(ctx context.Context, path string) ([]*vane.Parameter, error) {
	canon, err := vane.ValidatePath(path)
	if err != nil {
		return nil, nil // not a path a rule can select names under
	}
	return vane.AtOrUnder(ctx, n.Store, canon, func(p *vane.Parameter) bool { return flag.IsFlagName(p.Name) })
}

// globBase is the part of a rule's path before its first wildcard, cut
// back to a whole segment: where the names it can select are.
func globBase(pattern string) string {
	i := strings.IndexAny(pattern, "*?[")
	if i < 0 {
		return pattern
	}
	return pattern[:strings.LastIndexByte(pattern[:i], '/')+1]
}

// period times a job that runs every so often (the lifecycle scan, the
// policy job): its Tick runs the work when due and says when it is due
// next.
type period struct{ next time.Time }

// tick runs run at now when it is due, tells queued when run queued
// notices, and returns when it is due next (every, or def when every is
// 0, after now).
func (p *period) tick(ctx context.Context, now time.Time, every, def time.Duration,
	run func(context.Context, time.Time) (int, error), queued func()) (time.Time, error) {
	if now.Before(p.next) {
		return p.next, nil
	}
	n, err := run(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	if n > 0 && queued != nil {
		queued()
	}
	if every <= 0 {
		every = def
	}
	p.next = now.Add(every)
	return p.next, nil
}
