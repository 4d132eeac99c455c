package monitor_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/monitor"
)

func ptr(v float64) *float64 { return &v }

func TestNormalize_Errors(t *testing.T) {
	tests := []struct {
		name string
		i    int
		m    vane.Monitor
		want string
	}{
		{"ErrKindRequired", 0, vane.Monitor{URL: "http://x"}, "monitor 1: kind is required: use http, prometheus or errors"},
		{"ErrUnknownKind", 1, vane.Monitor{Kind: "datadog"}, `monitor 2: kind "datadog" must be http, prometheus or errors`},
		{"ErrKindIsCaseSensitive", 0, vane.Monitor{Kind: "HTTP", URL: "http://x"}, `monitor 1: kind "HTTP" must be http, prometheus or errors`},

		{"ErrHTTPURLRequired", 0, vane.Monitor{Kind: "http"}, "monitor 1 (http): url is required"},
		{"ErrHTTPURLNotHTTP", 0, vane.Monitor{Kind: "http", URL: "ftp://x"}, `monitor 1 (http): url "ftp://x" must be an http or https URL`},
		{"ErrHTTPURLRelative", 2, vane.Monitor{Kind: "http", URL: "/health"}, `monitor 3 (http): url "/health" must be an http or https URL`},
		{"ErrHTTPURLWithoutHost", 0, vane.Monitor{Kind: "http", URL: "http:///health"}, `monitor 1 (http): url "http:///health" must be an http or https URL`},
		{"ErrHTTPURLUnparsable", 0, vane.Monitor{Kind: "http", URL: "http://x/%zz"}, `monitor 1 (http): url "http://x/%zz" must be an http or https URL`},
		{"ErrHTTPQuery", 0, vane.Monitor{Kind: "http", URL: "http://x", Query: "up"}, "monitor 1 (http): query does not apply to http monitors"},
		{"ErrHTTPThreshold", 0, vane.Monitor{Kind: "http", URL: "http://x", Threshold: ptr(1)}, "monitor 1 (http): threshold does not apply to http monitors"},
		{"ErrHTTPWindow", 0, vane.Monitor{Kind: "http", URL: "http://x", Window: vane.Duration(time.Minute)}, "monitor 1 (http): window does not apply to http monitors"},
		{"ErrHTTPMinEvaluations", 0, vane.Monitor{Kind: "http", URL: "http://x", MinEvaluations: 5}, "monitor 1 (http): min_evaluations does not apply to http monitors"},
		{"ErrNegativeFailures", 0, vane.Monitor{Kind: "http", URL: "http://x", Failures: -1}, "monitor 1 (http): failures -1 must not be negative"},
		{"ErrNegativeTimeout", 0, vane.Monitor{Kind: "http", URL: "http://x", Timeout: vane.Duration(-time.Second)}, "monitor 1 (http): timeout -1s must not be negative"},

		{"ErrPrometheusURLRequired", 0, vane.Monitor{Kind: "prometheus", Query: "up"}, "monitor 1 (prometheus): url is required"},
		{"ErrPrometheusURLNotHTTP", 0, vane.Monitor{Kind: "prometheus", URL: "prometheus:9090", Query: "up"}, `monitor 1 (prometheus): url "prometheus:9090" must be an http or https URL`},
		{"ErrPrometheusQueryRequired", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090"}, "monitor 1 (prometheus): query is required"},
		{"ErrPrometheusQueryBlank", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: " \n"}, "monitor 1 (prometheus): query is required"},
		{"ErrPrometheusThresholdNaN", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "up", Threshold: ptr(math.NaN())}, "monitor 1 (prometheus): threshold must be a finite number"},
		{"ErrPrometheusThresholdInf", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "up", Threshold: ptr(math.Inf(1))}, "monitor 1 (prometheus): threshold must be a finite number"},
		{"ErrPrometheusWindow", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "up", Window: vane.Duration(time.Minute)}, "monitor 1 (prometheus): window does not apply to prometheus monitors"},
		{"ErrPrometheusMinEvaluations", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "up", MinEvaluations: 1}, "monitor 1 (prometheus): min_evaluations does not apply to prometheus monitors"},
		{"ErrPrometheusNegativeFailures", 0, vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "up", Failures: -3}, "monitor 1 (prometheus): failures -3 must not be negative"},

		{"ErrErrorsThresholdRequired", 0, vane.Monitor{Kind: "errors"}, "monitor 1 (errors): threshold is required: the share of evaluations that erred, from 0 to 1, above which it fires"},
		{"ErrErrorsThresholdNegative", 0, vane.Monitor{Kind: "errors", Threshold: ptr(-0.1)}, "monitor 1 (errors): threshold -0.1 must be from 0 to 1"},
		{"ErrErrorsThresholdOverOne", 0, vane.Monitor{Kind: "errors", Threshold: ptr(5)}, "monitor 1 (errors): threshold 5 must be from 0 to 1"},
		{"ErrErrorsThresholdNaN", 0, vane.Monitor{Kind: "errors", Threshold: ptr(math.NaN())}, "monitor 1 (errors): threshold must be a finite number"},
		{"ErrErrorsURL", 0, vane.Monitor{Kind: "errors", Threshold: ptr(0.05), URL: "http://x"}, "monitor 1 (errors): url does not apply to errors monitors"},
		{"ErrErrorsQuery", 0, vane.Monitor{Kind: "errors", Threshold: ptr(0.05), Query: "up"}, "monitor 1 (errors): query does not apply to errors monitors"},
		{"ErrErrorsNegativeWindow", 0, vane.Monitor{Kind: "errors", Threshold: ptr(0.05), Window: vane.Duration(-time.Minute)}, "monitor 1 (errors): window -1m0s must not be negative"},
		{"ErrErrorsNegativeMinEvaluations", 0, vane.Monitor{Kind: "errors", Threshold: ptr(0.05), MinEvaluations: -1}, "monitor 1 (errors): min_evaluations -1 must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			err := monitor.Normalize(&m, tt.i)
			var e *vane.Error
			if !errors.As(err, &e) {
				t.Fatalf("Normalize() = %v, want a *vane.Error", err)
			}
			if e.Code != vane.EINVALID {
				t.Errorf("code = %q, want %q", e.Code, vane.EINVALID)
			}
			if e.Message != tt.want {
				t.Errorf("message = %q\nwant      %q", e.Message, tt.want)
			}
		})
	}
}

func TestNormalize_Defaults(t *testing.T) {
	sec := func(d time.Duration) vane.Duration { return vane.Duration(d) }
	tests := []struct {
		name string
		i    int
		m    vane.Monitor
		want vane.Monitor
	}{
		{
			"HTTPGetsNameTimeoutAndFailures", 0,
			vane.Monitor{Kind: "http", URL: "https://api.example.com/health"},
			vane.Monitor{Name: "http-1", Kind: "http", URL: "https://api.example.com/health", Timeout: sec(monitor.DefaultTimeout), Failures: monitor.DefaultHTTPFailures},
		},
		{
			"PrometheusGetsNameTimeoutAndFailures", 2,
			vane.Monitor{Kind: "prometheus", URL: "http://prom:9090/", Query: "sum(rate(errors[1m]))", Threshold: ptr(5)},
			vane.Monitor{Name: "prometheus-3", Kind: "prometheus", URL: "http://prom:9090/", Query: "sum(rate(errors[1m]))", Threshold: ptr(5), Timeout: sec(monitor.DefaultTimeout), Failures: monitor.DefaultQueryFailures},
		},
		{
			"PrometheusWithoutThresholdStaysWithout", 0,
			vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "ALERTS{alertstate=\"firing\"}"},
			vane.Monitor{Name: "prometheus-1", Kind: "prometheus", URL: "http://prom:9090", Query: "ALERTS{alertstate=\"firing\"}", Timeout: sec(monitor.DefaultTimeout), Failures: monitor.DefaultQueryFailures},
		},
		{
			"PrometheusNegativeThresholdIsAllowed", 0,
			vane.Monitor{Kind: "prometheus", URL: "http://prom:9090", Query: "delta(x[5m])", Threshold: ptr(-3)},
			vane.Monitor{Name: "prometheus-1", Kind: "prometheus", URL: "http://prom:9090", Query: "delta(x[5m])", Threshold: ptr(-3), Timeout: sec(monitor.DefaultTimeout), Failures: monitor.DefaultQueryFailures},
		},
		{
			"ErrorsGetsWindowAndMinEvaluations", 1,
			vane.Monitor{Kind: "errors", Threshold: ptr(0.05)},
			vane.Monitor{Name: "errors-2", Kind: "errors", Threshold: ptr(0.05), Timeout: sec(monitor.DefaultTimeout), Failures: monitor.DefaultQueryFailures, Window: sec(monitor.DefaultWindow), MinEvaluations: monitor.DefaultMinEvaluations},
		},
		{
			"ErrorsThresholdZeroIsAllowed", 0,
			vane.Monitor{Kind: "errors", Threshold: ptr(0)},
			vane.Monitor{Name: "errors-1", Kind: "errors", Threshold: ptr(0), Timeout: sec(monitor.DefaultTimeout), Failures: monitor.DefaultQueryFailures, Window: sec(monitor.DefaultWindow), MinEvaluations: monitor.DefaultMinEvaluations},
		},
		{
			"GivenValuesAreKept", 0,
			vane.Monitor{Name: "checkout errors", Kind: "errors", Threshold: ptr(1), Timeout: sec(2 * time.Second), Failures: 7, Window: sec(10 * time.Minute), MinEvaluations: 500},
			vane.Monitor{Name: "checkout errors", Kind: "errors", Threshold: ptr(1), Timeout: sec(2 * time.Second), Failures: 7, Window: sec(10 * time.Minute), MinEvaluations: 500},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			if err := monitor.Normalize(&m, tt.i); err != nil {
				t.Fatalf("Normalize() = %v", err)
			}
			if !sameMonitor(m, tt.want) {
				t.Errorf("Normalize() gave\n%+v\nwant\n%+v", m, tt.want)
			}
			// Normalizing twice changes nothing.
			again := m
			if err := monitor.Normalize(&again, tt.i); err != nil || !sameMonitor(again, m) {
				t.Errorf("second Normalize() = %v, gave %+v", err, again)
			}
		})
	}
}

// sameMonitor compares monitors, thresholds by value.
func sameMonitor(a, b vane.Monitor) bool {
	ta, tb := a.Threshold, b.Threshold
	a.Threshold, b.Threshold = nil, nil
	if (ta == nil) != (tb == nil) || (ta != nil && *ta != *tb) {
		return false
	}
	return a == b
}
