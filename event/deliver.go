package event

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// RetryPolicy says how failed deliveries are retried.
type RetryPolicy struct {
	// MaxAttempts is how many attempts a delivery gets before it is dead.
	MaxAttempts int
	// Base is the wait after the first failure; each further failure
	// doubles it, up to Max. A random jitter of up to half the wait is
	// taken off, so that retries of many rules do not come in step.
	Base, Max time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
}

// DefaultRetryPolicy: 8 attempts over about 10 minutes, 5 s each at most.
// An attempt must end well within the job's lease (10 s by default): the
// runner renews the lease between passes, so a target that hangs longer
// could let another node take the rule over while this one still sends.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 8, Base: 2 * time.Second, Max: 5 * time.Minute, Timeout: 5 * time.Second}

// Backoff returns the wait after the n-th failed attempt (n ≥ 1) before
// the next, with jitter drawn from r (nil: no jitter).
func (p RetryPolicy) Backoff(n int, r *rand.Rand) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if r != nil && d > 1 {
		d -= time.Duration(r.Int64N(int64(d / 2)))
	}
	return d
}

// Metrics records deliveries; nil records nothing.
type Metrics interface {
	// Delivered counts an attempt of a rule's delivery: result is
	// "delivered", "failed" or "dead", latency the attempt's time, and
	// lag the time from the change to this attempt.
	Attempted(rule, result string, latency, lag time.Duration)
	// CursorLag says how many change-log records the rule's job has yet
	// to read.
	CursorLag(rule string, records int64)
}

// Deliverer is the background job of one event rule (see the package
// documentation). Set the fields before the job's runner starts.
type Deliverer struct {
	RuleID string
	Events vane.EventStore
	// Store reads values for rules that include them.
	Store vane.Store
	// Rollouts, if set, tells a rollout's roll back from its steps.
	Rollouts vane.RolloutStore
	// Cipher opens the rule's signing secret.
	Cipher          vane.Cipher
	Client          *http.Client
	Retry           RetryPolicy
	Region, Account string
	// LinkBase, if set, returns the server's URL for links in Slack
	// messages ("": none).
	LinkBase func() string
	Now      func() time.Time
	Logger   *slog.Logger
	Metrics  Metrics
	// Budget bounds the time one Tick spends sending, so that the job's
	// lease is renewed in time (default 2s).
	Budget time.Duration
	// Seq, if set, returns the change log's newest sequence, for the
	// cursor lag metric.
	Seq func() int64

	rand *rand.Rand
}

func (d *Deliverer) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// Changes turns the changes the rule selects into pending deliveries.
func (d *Deliverer) Changes(ctx context.Context, cs []vane.Change) error {
	r, err := d.Events.EventRule(ctx, d.RuleID)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return nil // deleted: its runner is being stopped
	} else if err != nil {
		return err
	}
	if r.Disabled {
		return nil
	}
	if d.Metrics != nil && d.Seq != nil && len(cs) > 0 {
		d.Metrics.CursorLag(r.Name, max(0, d.Seq()-cs[len(cs)-1].Seq))
	}
	var out []*vane.EventDelivery
	now := d.now()
	for i := range cs {
		c := &cs[i]
		if c.Seq <= r.StartSeq {
			continue
		}
		op := Operation(c, d.rolledBack(ctx))
		if !Selects(r, c.Name, op) {
			continue
		}
		var value *string
		if r.IncludeValues && c.Op == vane.OpPut && c.Type != vane.TypeSecureString && d.Store != nil {
			if p, err := d.Store.Get(ctx, fmt.Sprintf("%s:%d", c.Name, c.Version)); err == nil {
				value = &p.Value
			}
		}
		e := Build(r, c, op, d.Region, d.Account, value)
		out = append(out, &vane.EventDelivery{ID: e.ID, RuleID: r.ID, Seq: c.Seq, Name: c.Name, Operation: op,
			Body: string(marshal(e)), State: vane.EventPending, NextAttempt: now, Created: now})
	}
	if len(out) == 0 {
		return nil
	}
	// When nothing of the rule waits, send the new events now and queue
	// them with their outcomes in one write; the first that fails stays
	// pending, with the rest behind it. If that write fails, Changes
	// fails, the changes come again, and the events are sent again (at
	// least once, de-duplicated by id).
	// A change handed over again (after a take-over or a restart, from
	// the last saved cursor) may already have its delivery: leave those
	// out, rather than send them again.
	fresh := out[:0]
	for _, ev := range out {
		if _, err := d.Events.EventDelivery(ctx, ev.ID); vane.ErrorCode(err) == vane.ENOTFOUND {
			fresh = append(fresh, ev)
		} else if err != nil {
			return err
		}
	}
	out = fresh
	if len(out) == 0 {
		return nil
	}
	var as []*vane.EventAttempt
	if waiting, err := d.Events.PendingEvents(ctx, r.ID, 1); err == nil && len(waiting) == 0 {
		for _, ev := range out {
			a := d.attempt(ctx, r, ev)
			if a == nil {
				break
			}
			as = append(as, a)
			if ev.State == vane.EventPending {
				break
			}
		}
	}
	if as == nil {
		return d.Events.EnqueueEvents(ctx, out)
	}
	return d.Events.EnqueueAttempted(ctx, out, as)
}

// rolledBack tells a rollout's roll back from its steps by its record.
func (d *Deliverer) rolledBack(ctx context.Context) func(string, int64) bool {
	if d.Rollouts == nil {
		return nil
	}
	return func(id string, version int64) bool {
		r, err := d.Rollouts.Rollout(ctx, id)
		return err == nil && r.State == vane.RolloutRolledBack && r.LastVersion == version
	}
}

// Tick sends the rule's pending deliveries in order, and returns when the
// first one still pending is due. The attempts of a burst are recorded
// together, in one write: a node that dies before that write sends them
// again (at least once).
func (d *Deliverer) Tick(ctx context.Context, now time.Time) (next time.Time, err error) {
	r, err := d.Events.EventRule(ctx, d.RuleID)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	if r.Disabled {
		return time.Time{}, nil
	}
	budget := d.Budget
	if budget <= 0 {
		budget = 2 * time.Second
	}
	var ds []*vane.EventDelivery
	var as []*vane.EventAttempt
	defer func() {
		if len(ds) == 0 {
			return
		}
		if rerr := d.Events.RecordAttempts(context.WithoutCancel(ctx), ds, as); rerr != nil && err == nil {
			next, err = time.Time{}, rerr
		}
	}()
	start := time.Now()
	for time.Since(start) < budget {
		// Pending deliveries whose attempts are in ds are not recorded
		// yet: skip them.
		pending, err := d.Events.PendingEvents(ctx, r.ID, 16+len(ds))
		if err != nil {
			return time.Time{}, err
		}
		fresh := pending[:0]
		for _, ev := range pending {
			if !slices.ContainsFunc(ds, func(x *vane.EventDelivery) bool { return x.ID == ev.ID }) {
				fresh = append(fresh, ev)
			}
		}
		if len(fresh) == 0 {
			return time.Time{}, nil
		}
		for _, ev := range fresh {
			if ev.NextAttempt.After(d.now()) {
				return ev.NextAttempt, nil // the head waits; the rest wait behind it
			}
			a := d.attempt(ctx, r, ev)
			if a == nil {
				return time.Time{}, ctx.Err()
			}
			ds, as = append(ds, ev), append(as, a)
			if ev.State == vane.EventPending {
				return ev.NextAttempt, nil
			}
			if time.Since(start) >= budget {
				break
			}
		}
	}
	return d.now(), nil // more to send: come back at once
}

// attempt sends one delivery and updates it; it returns the attempt to
// record, or nil when ctx ended (the attempt does not count).
func (d *Deliverer) attempt(ctx context.Context, r *vane.EventRule, ev *vane.EventDelivery) *vane.EventAttempt {
	at := d.now()
	status, sendErr := d.send(ctx, r, ev, at)
	latency := d.now().Sub(at)
	if ctx.Err() != nil {
		return nil
	}
	ev.Attempts++
	ev.LastStatus = status
	a := &vane.EventAttempt{DeliveryID: ev.ID, N: ev.Attempts, Time: at, Status: status, Latency: latency}
	result := "delivered"
	if sendErr == nil {
		ev.State, ev.Delivered, ev.LastError = vane.EventDelivered, d.now(), ""
	} else {
		a.Error, ev.LastError = sendErr.Error(), sendErr.Error()
		retry := d.Retry
		if retry.MaxAttempts <= 0 {
			retry = DefaultRetryPolicy
		}
		if ev.Attempts >= retry.MaxAttempts {
			ev.State, result = vane.EventDead, "dead"
			d.logger().Warn("event delivery failed for good: moved to the rule's dead letters", "rule", r.Name, "event", ev.ID,
				"attempts", ev.Attempts, "err", sendErr.Error())
		} else {
			if d.rand == nil {
				d.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			}
			ev.NextAttempt, result = d.now().Add(retry.Backoff(ev.Attempts, d.rand)), "failed"
		}
	}
	if d.Metrics != nil {
		d.Metrics.Attempted(r.Name, result, latency, at.Sub(ev.Created))
	}
	return a
}

// send makes one attempt: the HTTP status (0 without an answer) and why
// it failed.
func (d *Deliverer) send(ctx context.Context, r *vane.EventRule, ev *vane.EventDelivery, at time.Time) (int, error) {
	if r.Target == vane.TargetLog {
		d.logger().Info("event", "rule", r.Name, "event", ev.ID, "name", ev.Name, "operation", ev.Operation, "body", ev.Body)
		return 0, nil
	}
	body := []byte(ev.Body)
	if r.Target == vane.TargetSlack {
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			return 0, err
		}
		link := ""
		if d.LinkBase != nil {
			link = d.LinkBase()
		}
		body = marshal(slackMessage{Text: SlackText(&e, link)})
	}
	timeout := d.Retry.Timeout
	if timeout <= 0 {
		timeout = DefaultRetryPolicy.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("the rule's url: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vane-events/1")
	req.Header.Set(HeaderEventID, ev.ID)
	if r.Target == vane.TargetWebhook {
		secret, err := d.secret(ctx, r)
		if err != nil {
			return 0, err
		}
		req.Header.Set(HeaderTimestamp, fmt.Sprint(at.Unix()))
		req.Header.Set(HeaderSignature, Sign(secret, at, body))
	}
	client := d.Client
	if client == nil {
		client = NewClient(nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return 0, refused
		}
		return 0, fmt.Errorf("no answer: %s", trimURLError(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the target answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// secret opens the rule's signing secret.
func (d *Deliverer) secret(ctx context.Context, r *vane.EventRule) (string, error) {
	if r.SealedSecret == "" {
		return "", errors.New("the rule has no signing secret")
	}
	if d.Cipher == nil {
		return "", errors.New("the server has no keyring to open the rule's signing secret")
	}
	s, err := d.Cipher.Open(ctx, r.SealedSecret)
	if err != nil {
		return "", fmt.Errorf("the rule's signing secret does not open: %s", vane.ErrorMessage(err))
	}
	return s, nil
}

// trimURLError drops the method and URL that net/http puts before the
// cause, which the delivery record already has.
func trimURLError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}
