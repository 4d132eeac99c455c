package monitor_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/monitor"
)

// promAnswer is what the stand-in Prometheus answers to one query.
type promAnswer struct {
	code int
	body string
}

// promServer is a stand-in for a Prometheus server behind the path
// /prom: it answers GET /prom/api/v1/query?query=Q with answers[Q], and
// blocks on the query "slow" until the request ends.
type promServer struct {
	URL string

	mu      sync.Mutex
	answers map[string]promAnswer
}

func newPromServer(tb testing.TB) *promServer {
	tb.Helper()
	p := &promServer{answers: map[string]promAnswer{}}
	slow := blockUntilDone(tb)
	srv := newServer(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/prom/api/v1/query" {
			tb.Errorf("stand-in Prometheus got %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query().Get("query")
		if q == "slow" {
			slow(w, r)
			return
		}
		p.mu.Lock()
		a, ok := p.answers[q]
		p.mu.Unlock()
		if !ok {
			tb.Errorf("stand-in Prometheus got the unexpected query %q", q)
			a = promAnswer{http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"unexpected query"}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.code)
		fmt.Fprint(w, a.body)
	}))
	p.URL = srv.URL + "/prom"
	return p
}

func (p *promServer) answer(query string, code int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[query] = promAnswer{code, body}
}

// vector is a success answer with an instant vector of values.
func vector(values ...string) string {
	samples := make([]string, len(values))
	for i, v := range values {
		samples[i] = fmt.Sprintf(`{"metric":{"job":"api","instance":"i-%d"},"value":[1767225600.5,%q]}`, i, v)
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
}

func TestCheck_Prometheus(t *testing.T) {
	prom := newPromServer(t)
	longError := strings.Repeat("e", 1000)
	tests := []struct {
		name      string
		query     string
		threshold *float64
		code      int
		body      string
		want      monitor.Result
	}{
		{"VectorOverThresholdBreaches", `sum by (job) (rate(http_errors_total{job="api"}[1m]))`, ptr(5), 200, vector("2", "7.5"),
			monitor.Result{Breach: true, Detail: `sum by (job) (rate(http_errors_total{job="api"}[1m])) = 7.5 > 5 (1 of 2 series)`}},
		{"OneSeriesOverThresholdBreaches", "sum(rate(errors[1m]))", ptr(5), 200, vector("7.5"),
			monitor.Result{Breach: true, Detail: "sum(rate(errors[1m])) = 7.5 > 5"}},
		{"VectorUnderThresholdIsHealthy", "q_under", ptr(5), 200, vector("3", "1e-3"),
			monitor.Result{Healthy: true, Detail: "q_under = 3 <= 5"}},
		{"VectorAtThresholdIsHealthy", "q_at", ptr(5), 200, vector("5"),
			monitor.Result{Healthy: true, Detail: "q_at = 5 <= 5"}},
		{"EmptyVectorWithThresholdIsHealthy", "q_empty", ptr(5), 200, vector(),
			monitor.Result{Healthy: true, Detail: "q_empty: no result"}},
		{"EmptyVectorWithoutThresholdIsHealthy", `ALERTS{alertname="CheckoutDown"}`, nil, 200, vector(),
			monitor.Result{Healthy: true, Detail: `ALERTS{alertname="CheckoutDown"}: no result`}},
		{"AnyVectorWithoutThresholdBreaches", `ALERTS{alertname="Checkout5xx"}`, nil, 200, vector("1", "1"),
			monitor.Result{Breach: true, Detail: `ALERTS{alertname="Checkout5xx"} returned 2 series`}},
		{"ScalarOverThresholdBreaches", "scalar(q_scalar)", ptr(0.5), 200, `{"status":"success","data":{"resultType":"scalar","result":[1767225600,"0.75"]}}`,
			monitor.Result{Breach: true, Detail: "scalar(q_scalar) = 0.75 > 0.5"}},
		{"ScalarUnderThresholdIsHealthy", "scalar(q_low)", ptr(0.5), 200, `{"status":"success","data":{"resultType":"scalar","result":[1767225600,"0.25"]}}`,
			monitor.Result{Healthy: true, Detail: "scalar(q_low) = 0.25 <= 0.5"}},
		{"ScalarWithoutThresholdBreaches", "vector(1) > bool 0", nil, 200, `{"status":"success","data":{"resultType":"scalar","result":[1767225600,"0"]}}`,
			monitor.Result{Breach: true, Detail: "vector(1) > bool 0 = 0"}},
		{"NaNNeverBreaches", "q_nan", ptr(0), 200, vector("NaN"),
			monitor.Result{Healthy: true, Detail: "q_nan = NaN, not compared with 0"}},
		{"NaNIsIgnoredBesideValues", "q_nan_mixed", ptr(5), 200, vector("NaN", "3"),
			monitor.Result{Healthy: true, Detail: "q_nan_mixed = 3 <= 5"}},
		{"PlusInfBreaches", "q_inf", ptr(1e9), 200, vector("+Inf"),
			monitor.Result{Breach: true, Detail: "q_inf = +Inf > 1e+09"}},
		{"MinusInfIsHealthy", "q_minus_inf", ptr(0), 200, vector("-Inf"),
			monitor.Result{Healthy: true, Detail: "q_minus_inf = -Inf <= 0"}},
		{"StatusErrorIsUnhealthy", "sum(rate(errors[1m]", ptr(5), 400, `{"status":"error","errorType":"bad_data","error":"1:20: parse error: unclosed left parenthesis"}`,
			monitor.Result{Detail: "sum(rate(errors[1m]: bad_data: 1:20: parse error: unclosed left parenthesis"}},
		{"LongErrorIsTruncated", "q_long_error", ptr(5), 422, `{"status":"error","errorType":"execution","error":"` + longError + `"}`,
			monitor.Result{Detail: "q_long_error: " + ("execution: " + longError)[:200] + "…"}},
		{"ServerErrorIsUnhealthy", "q_502", ptr(5), 502, "<html>bad gateway: secret upstream 10.0.0.7</html>",
			monitor.Result{Detail: "q_502: HTTP 502"}},
		{"GarbageIsUnhealthy", "q_garbage", ptr(5), 200, "<html>login here, secret</html>",
			monitor.Result{Detail: "q_garbage: the answer is not a Prometheus API response"}},
		{"SuccessWithoutDataIsUnhealthy", "q_nodata", ptr(5), 200, `{"status":"success"}`,
			monitor.Result{Detail: "q_nodata: the answer is not a Prometheus API response"}},
		{"UnreadableValueIsUnhealthy", "q_badvalue", ptr(5), 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,7]}]}}`,
			monitor.Result{Detail: "q_badvalue: the vector result could not be read"}},
		{"MatrixIsUnhealthy", "errors[5m]", ptr(5), 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1767225600,"9"]]}]}}`,
			monitor.Result{Detail: "errors[5m]: a matrix result cannot be judged: use a query that returns an instant vector or a scalar"}},
		{"StringIsUnhealthy", `"up"`, nil, 200, `{"status":"success","data":{"resultType":"string","result":[1767225600,"up"]}}`,
			monitor.Result{Detail: `"up": a string result cannot be judged: use a query that returns an instant vector or a scalar`}},
	}
	for _, tt := range tests {
		prom.answer(tt.query, tt.code, tt.body)
		t.Run(tt.name, func(t *testing.T) {
			c := &monitor.Checker{}
			m := vane.Monitor{Kind: vane.MonitorPrometheus, URL: prom.URL + "/", Query: tt.query, Threshold: tt.threshold}
			got := c.Check(context.Background(), "r1/prometheus-1", "/app/prod/features/checkout", m)
			if got != tt.want {
				t.Errorf("Check() = %+v\nwant      %+v", got, tt.want)
			}
		})
	}

	t.Run("BaseURLWithoutSlashWorks", func(t *testing.T) {
		c := &monitor.Checker{}
		m := vane.Monitor{Kind: vane.MonitorPrometheus, URL: prom.URL, Query: "q_under", Threshold: ptr(5)}
		if got := c.Check(context.Background(), "k", "/n", m); !got.Healthy {
			t.Errorf("Check() = %+v, want healthy", got)
		}
	})

	t.Run("TimeoutIsUnhealthy", func(t *testing.T) {
		c := &monitor.Checker{}
		m := vane.Monitor{Kind: vane.MonitorPrometheus, URL: prom.URL, Query: "slow", Threshold: ptr(5), Timeout: vane.Duration(20 * time.Millisecond)}
		got := c.Check(context.Background(), "k", "/n", m)
		want := monitor.Result{Detail: "slow: timeout after 20ms"}
		if got != want {
			t.Errorf("Check() = %+v, want %+v", got, want)
		}
	})
}
