// Package monitor checks the health signals a staged rollout watches: an
// HTTP endpoint that must answer 2xx, a PromQL query that must stay under a
// threshold, and the error rate of a flag's own evaluations.
//
// A check answers one question, once: is the signal fine right now? The
// rollout engine (package rollout) calls Check on a period and keeps the
// count of failed checks in a row in the rollout itself (MonitorStatus),
// where it survives a restart and a lease moving to another node; this
// package keeps no such count. A Result tells two kinds of bad apart:
//
//   - an unhealthy result says the check could not vouch for the signal:
//     the endpoint answered 503, the query timed out, Prometheus answered
//     garbage. Such trouble is often the monitoring's, not the change's,
//     so it fires the monitor only after Failures checks in a row;
//   - a breach says the signal itself is bad: a query result over its
//     threshold, an error rate over its threshold. That is evidence
//     against the change, and it fires the monitor at once.
//
// An http check is "healthy" only on 2xx, and redirects are not followed:
// a health endpoint that redirects (to a login page, say) is not answering
// the question asked.
//
// Evaluation counts (vane.UsageStore) are cumulative per UTC day and
// variant, so an error rate needs two observations: an errors monitor
// records a sample of the counts at each check, keyed by the rollout and
// monitor, and judges the difference between the newest sample and the
// most recent one at least Window old (or the oldest one, until the
// history covers Window). Differences are taken day by day, so a day that
// leaves the query's range at midnight does not look like a counter going
// down; a count that does go down (usage pruned, a store restored) starts
// the samples over. Samples live in memory: persisting them would buy one
// check period of judgement after a restart or a lease move, when the
// first check only records a baseline. Forget drops the samples of a
// rollout that ended; keys left idle for a day are dropped anyway, so a
// rollout that ended on another node does not leak.
//
// Details are shown in a rollout's status and in the reason of a rollback,
// to anyone who may read the rollout. They are short, written for people,
// and never carry a response body: a body may hold an HTML error page or
// a secret. The only text taken from an answer is a Prometheus error
// message, truncated. URLs are shown with any password redacted.
package monitor

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vanehq/vane"
)

// Defaults applied by Normalize.
const (
	// DefaultTimeout bounds one check.
	DefaultTimeout = 5 * time.Second
	// DefaultHTTPFailures is how many failed http checks in a row fire.
	DefaultHTTPFailures = 3
	// DefaultQueryFailures is how many unanswered prometheus queries in a
	// row fire; errors monitors use it too, for usage reads that failed.
	DefaultQueryFailures = 3
	// DefaultWindow is the span an errors monitor computes its rate over.
	DefaultWindow = 5 * time.Minute
	// DefaultMinEvaluations is how many evaluations an errors monitor
	// needs in its window before it judges the rate.
	DefaultMinEvaluations = 20
)

const (
	// maxHTTPBody is how much of an http monitor's answer is read (and
	// discarded, so the connection can be reused) before it is closed.
	maxHTTPBody = 4 << 10
	// maxQueryBody bounds a Prometheus answer; a larger one is unhealthy.
	maxQueryBody = 8 << 20
	// maxErrorText bounds the error text of a Prometheus answer or a
	// transport error in a Detail.
	maxErrorText = 200
	// maxShownText bounds a URL or query shown in a Detail.
	maxShownText = 100
	// idleAfter is how long an errors monitor's samples are kept after
	// its last check when Forget is never called.
	idleAfter = 24 * time.Hour
)

// Normalize validates a monitor spec and fills in its defaults: Name
// ("KIND-N", N = i+1), Timeout and Failures for every kind, Window and
// MinEvaluations for errors monitors. i is the monitor's index in its
// rollout spec; errors name the monitor by position ("monitor 2").
//
// An http monitor needs an absolute http or https URL; a prometheus monitor
// such a URL and a Query, and may have a finite Threshold; an errors monitor
// needs a Threshold from 0 to 1. Fields that do not apply to the kind,
// negative numbers and unknown kinds are refused. Errors: EINVALID.
func Normalize(m *vane.Monitor, i int) error {
	pos := fmt.Sprintf("monitor %d", i+1)
	switch m.Kind {
	case vane.MonitorHTTP, vane.MonitorPrometheus, vane.MonitorErrors:
	case "":
		return vane.Errorf(vane.EINVALID, "%s: kind is required: use http, prometheus or errors", pos)
	default:
		return vane.Errorf(vane.EINVALID, "%s: kind %q must be http, prometheus or errors", pos, shorten(m.Kind, maxShownText))
	}
	invalid := func(format string, args ...any) error {
		return vane.Errorf(vane.EINVALID, "%s (%s): %s", pos, m.Kind, fmt.Sprintf(format, args...))
	}
	notFor := func(field string) error {
		return invalid("%s does not apply to %s monitors", field, m.Kind)
	}

	switch {
	case m.Failures < 0:
		return invalid("failures %d must not be negative", m.Failures)
	case m.Timeout < 0:
		return invalid("timeout %s must not be negative", time.Duration(m.Timeout))
	case m.Window < 0:
		return invalid("window %s must not be negative", time.Duration(m.Window))
	case m.MinEvaluations < 0:
		return invalid("min_evaluations %d must not be negative", m.MinEvaluations)
	case m.Threshold != nil && (math.IsNaN(*m.Threshold) || math.IsInf(*m.Threshold, 0)):
		return invalid("threshold must be a finite number")
	}

	switch m.Kind {
	case vane.MonitorHTTP, vane.MonitorPrometheus:
		if m.URL == "" {
			return invalid("url is required")
		}
		if !httpURL(m.URL) {
			return invalid("url %q must be an http or https URL", shorten(m.URL, maxShownText))
		}
		switch {
		case m.Kind == vane.MonitorHTTP && m.Query != "":
			return notFor("query")
		case m.Kind == vane.MonitorHTTP && m.Threshold != nil:
			return notFor("threshold")
		case m.Kind == vane.MonitorPrometheus && strings.TrimSpace(m.Query) == "":
			return invalid("query is required")
		case m.Window != 0:
			return notFor("window")
		case m.MinEvaluations != 0:
			return notFor("min_evaluations")
		}
	case vane.MonitorErrors:
		switch {
		case m.URL != "":
			return notFor("url")
		case m.Query != "":
			return notFor("query")
		case m.Threshold == nil:
			return invalid("threshold is required: the share of evaluations that erred, from 0 to 1, above which it fires")
		case *m.Threshold < 0 || *m.Threshold > 1:
			return invalid("threshold %g must be from 0 to 1", *m.Threshold)
		}
	}

	if m.Name == "" {
		m.Name = fmt.Sprintf("%s-%d", m.Kind, i+1)
	}
	applyDefaults(m)
	return nil
}

// applyDefaults fills the zero fields of m that have a default for its kind.
func applyDefaults(m *vane.Monitor) {
	if m.Timeout == 0 {
		m.Timeout = vane.Duration(DefaultTimeout)
	}
	if m.Failures == 0 {
		if m.Kind == vane.MonitorHTTP {
			m.Failures = DefaultHTTPFailures
		} else {
			m.Failures = DefaultQueryFailures
		}
	}
	if m.Kind == vane.MonitorErrors {
		if m.Window == 0 {
			m.Window = vane.Duration(DefaultWindow)
		}
		if m.MinEvaluations == 0 {
			m.MinEvaluations = DefaultMinEvaluations
		}
	}
}

// httpURL reports whether s is an absolute http or https URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Result is the outcome of one check.
type Result struct {
	// Healthy reports that the signal is fine; an unhealthy result counts
	// as one failure towards the monitor's Failures.
	Healthy bool
	// Breach reports a result that fires the monitor at once, whatever
	// Failures says: a Prometheus result over the threshold (or any
	// result when the monitor has no threshold), an error rate over the
	// threshold. A breach is never healthy.
	Breach bool
	// Detail says what the check saw, short and for people:
	// "GET https://x/health: 503", "GET https://x/health: timeout after 2s",
	// "sum(rate(errors[1m])) = 7.5 > 5",
	// "error rate 12.0% (12 of 100 evaluations in 5m0s) > 5.0%",
	// "3 evaluations in the window, fewer than 20: not judged".
	Detail string
}

// Checker runs checks. Set Usage to check errors monitors; the other
// fields may be left nil. It is safe for concurrent use.
type Checker struct {
	// Client makes the HTTP requests of http and prometheus monitors; nil
	// means a client on http.DefaultTransport that does not follow
	// redirects. Each check is bounded by the monitor's Timeout.
	Client *http.Client
	// Usage reads flag evaluation counts for errors monitors.
	Usage vane.UsageStore
	// Now returns the current time (nil: time.Now).
	Now func() time.Time

	mu      sync.Mutex
	samples map[string]*series // errors monitors' samples, by key
}

// Check checks monitor m of the flag or parameter name. key identifies the
// monitor across checks (the rollout engine passes "ROLLOUT_ID/MONITOR_NAME");
// errors monitors keep samples under it. m should have been normalized;
// zero fields get their defaults here too.
//
// A check whose ctx ends before it does is unhealthy with the Detail
// "check cancelled"; a caller that cancels its checks should ignore their
// results rather than count them.
func (c *Checker) Check(ctx context.Context, key, name string, m vane.Monitor) Result {
	applyDefaults(&m)
	timeout := time.Duration(m.Timeout)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// failed describes err, the failure of an operation bounded by cctx.
	failed := func(err error) string {
		switch {
		case ctx.Err() != nil:
			return "check cancelled"
		case cctx.Err() != nil || isTimeout(err):
			return "timeout after " + timeout.String()
		}
		return transportError(err)
	}
	switch m.Kind {
	case vane.MonitorHTTP:
		return c.checkHTTP(cctx, m, failed)
	case vane.MonitorPrometheus:
		return c.checkPrometheus(cctx, m, failed)
	case vane.MonitorErrors:
		return c.checkErrors(cctx, key, name, m, failed)
	}
	return Result{Detail: fmt.Sprintf("unknown monitor kind %q", shorten(m.Kind, maxShownText))}
}

// Forget drops what the checker keeps for keys beginning with prefix (a
// rollout that ended).
func (c *Checker) Forget(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.samples {
		if strings.HasPrefix(k, prefix) {
			delete(c.samples, k)
		}
	}
}

func (c *Checker) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Checker) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	// A new Client per check costs nothing: connections are pooled by
	// http.DefaultTransport, and no client is kept in a package variable.
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// shorten returns s cut to at most n bytes (on a rune boundary), with "…"
// appended when it was cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
