package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// EventLagBuckets are the buckets, in seconds, of the event delivery lag:
// milliseconds when targets answer, up to an hour of retries.
var EventLagBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// Events records event deliveries (package event).
type Events struct {
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	lag      *prometheus.HistogramVec
	behind   *prometheus.GaugeVec
}

// NewEvents registers the event delivery collectors with reg (nil: none).
func NewEvents(reg prometheus.Registerer) *Events {
	e := &Events{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "event_deliveries_total",
			Help:      "Event delivery attempts made by this node, by rule and result (delivered, failed: to be retried, dead: given up on, in the rule's dead letters).",
		}, []string{"rule", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "event_attempt_duration_seconds",
			Help:      "Time of one delivery attempt, until the target answered or failed, by rule.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"rule"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "event_delivery_lag_seconds",
			Help:      "Time from an event being queued (its change read from the change log) to each attempt to deliver it, by rule.",
			Buckets:   EventLagBuckets,
		}, []string{"rule"}),
		behind: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "event_cursor_lag",
			Help:      "Change-log records a rule's job has yet to read, on the node running it.",
		}, []string{"rule"}),
	}
	if reg != nil {
		reg.MustRegister(e.attempts, e.latency, e.lag, e.behind)
	}
	return e
}

// Attempted implements event.Metrics.
func (e *Events) Attempted(rule, result string, latency, lag time.Duration) {
	e.attempts.WithLabelValues(rule, result).Inc()
	e.latency.WithLabelValues(rule).Observe(latency.Seconds())
	e.lag.WithLabelValues(rule).Observe(lag.Seconds())
}

// CursorLag sets how far behind the change log a rule's job is.
func (e *Events) CursorLag(rule string, records int64) {
	e.behind.WithLabelValues(rule).Set(float64(records))
}
