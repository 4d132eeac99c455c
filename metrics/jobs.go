package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Jobs holds the collectors of rollouts and scheduled changes. A nil
// *Jobs records nothing.
type Jobs struct {
	active      *prometheus.GaugeVec
	ended       *prometheus.CounterVec
	steps       prometheus.Counter
	rollbacks   *prometheus.CounterVec
	scheduled   *prometheus.CounterVec
	scheduleLag prometheus.Histogram
}

// LagBuckets are the buckets, in seconds, of the schedule lag histogram:
// from on time (a tick's latency) to a day late (a server down overnight).
var LagBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}

// NewJobs returns Jobs whose collectors are registered on reg (nil: not
// registered).
func NewJobs(reg prometheus.Registerer) *Jobs {
	j := &Jobs{
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "rollouts",
			Help:      "Active rollouts by state (running, baking, paused), as the node driving them last saw them; 0 on other nodes.",
		}, []string{"state"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "rollouts_ended_total",
			Help:      "Rollouts that ended on this node, by final state (completed, cancelled, rolled_back, stopped, failed).",
		}, []string{"state"}),
		steps: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "rollout_steps_total",
			Help:      "Rollout steps written by this node.",
		}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "rollout_rollbacks_total",
			Help:      "Rollouts rolled back by this node, by reason: request, or the kind of monitor that fired (monitor_http, monitor_prometheus, monitor_errors).",
		}, []string{"reason"}),
		scheduled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "scheduled_changes_total",
			Help:      "Scheduled changes this node ran, by result (done, failed).",
		}, []string{"result"}),
		scheduleLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "schedule_lag_seconds",
			Help:      "How long after its time a scheduled change ran.",
			Buckets:   LagBuckets,
		}),
	}
	if reg != nil {
		reg.MustRegister(j.active, j.ended, j.steps, j.rollbacks, j.scheduled, j.scheduleLag)
	}
	return j
}

// SetActive sets the active rollout gauges to counts by state; states
// missing from counts are set to 0.
func (j *Jobs) SetActive(counts map[string]int) {
	if j == nil {
		return
	}
	for _, s := range []string{"running", "baking", "paused"} {
		j.active.WithLabelValues(s).Set(float64(counts[s]))
	}
}

// RolloutEnded counts a rollout that reached a final state.
func (j *Jobs) RolloutEnded(state string) {
	if j != nil {
		j.ended.WithLabelValues(state).Inc()
	}
}

// RolloutStep counts a step written.
func (j *Jobs) RolloutStep() {
	if j != nil {
		j.steps.Inc()
	}
}

// RolloutRollback counts a roll back by reason.
func (j *Jobs) RolloutRollback(reason string) {
	if j != nil {
		j.rollbacks.WithLabelValues(reason).Inc()
	}
}

// ScheduleRan records a scheduled change that ran lag after its time with
// the given result.
func (j *Jobs) ScheduleRan(result string, lag time.Duration) {
	if j == nil {
		return
	}
	j.scheduled.WithLabelValues(result).Inc()
	j.scheduleLag.Observe(max(0, lag.Seconds()))
}
