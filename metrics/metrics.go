// Package metrics holds Vane's Prometheus collectors: HTTP request counts
// and latencies, store operation latencies, and gauges read from the index.
//
// Collectors are registered on a registry passed in by the caller; nothing
// here touches the global Prometheus registry.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric name.
const Namespace = "vane"

// LatencyBuckets are the histogram buckets, in seconds, of the request and
// store latency histograms. Vane answers most reads in well under a
// millisecond, so the buckets start far below Prometheus' defaults.
var LatencyBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Metrics holds Vane's collectors. Its methods are safe for concurrent use;
// a nil *Metrics records nothing.
type Metrics struct {
	reg prometheus.Registerer

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	storeDuration   *prometheus.HistogramVec
	storeOK         [numOps]prometheus.Observer

	// observers caches each request series' counter and histogram, so
	// that a request costs one lookup rather than hashing its labels
	// twice and formatting its status. Routes, methods and codes come
	// from small fixed sets, so it is as bounded as the series.
	observers sync.Map // requestSeries → *requestObservers
}

type requestSeries struct {
	route, method string
	code          int
}

type requestObservers struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New returns Metrics whose collectors are registered on reg. A nil reg
// leaves them unregistered, which is useful in tests. It panics if reg
// already holds collectors with the same names, as MustRegister does.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "http_requests_total",
			Help:      "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "http_request_duration_seconds",
			Help:      "Time to serve HTTP requests, by route pattern and method.",
			Buckets:   LatencyBuckets,
		}, []string{"route", "method"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "store_operation_duration_seconds",
			Help:      "Time of store operations, by operation and result (ok or the vane error code).",
			Buckets:   LatencyBuckets,
		}, []string{"op", "result"}),
	}
	for op := range numOps {
		m.storeOK[op] = m.storeDuration.WithLabelValues(op.String(), resultOK)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.requestDuration, m.storeDuration)
	}
	return m
}

// NewRegistry returns a registry holding the Go runtime and process
// collectors, for the caller to pass to New and to serve from /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// ObserveRequest records one served HTTP request. route must be a route
// pattern (or another value from a small fixed set), never the raw URL, so
// that the number of series stays bounded.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	method = normalizeMethod(method) // before the cache: clients choose methods
	k := requestSeries{route, method, code}
	o, ok := m.observers.Load(k)
	if !ok {
		o, _ = m.observers.LoadOrStore(k, &requestObservers{
			count:    m.requests.WithLabelValues(route, method, strconv.Itoa(code)),
			duration: m.requestDuration.WithLabelValues(route, method),
		})
	}
	obs := o.(*requestObservers)
	obs.count.Inc()
	obs.duration.Observe(d.Seconds())
}

// RegisterIndex registers the gauges read from the in-memory index:
// vane_parameters and vane_index_bytes from stats, and vane_index_sequence
// (the change-log sequence the index reflects) from seq. The functions are
// called on every scrape and must be safe for concurrent use. RegisterIndex
// panics if called twice on one registry, and does nothing when Metrics was
// created without a registry.
func (m *Metrics) RegisterIndex(stats func() (entries int, bytes int64), seq func() int64) {
	if m == nil || m.reg == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "parameters",
			Help:      "Number of parameters held by the index.",
		}, func() float64 {
			n, _ := stats()
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "index_bytes",
			Help:      "Approximate bytes held by the index.",
		}, func() float64 {
			_, b := stats()
			return float64(b)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "index_sequence",
			Help:      "Change-log sequence number the index reflects.",
		}, func() float64 { return float64(seq()) }),
	)
}

// normalizeMethod maps methods outside the standard set to "other": the
// method comes from the client and would otherwise be an unbounded label.
func normalizeMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}
