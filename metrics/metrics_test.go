package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/vanehq/vane"
	"github.com/vanehq/vane/metrics"
)

// fakeStore is a vane.Store whose methods are function fields; calling an
// unset one panics through the nil embedded interface.
type fakeStore struct {
	vane.Store
	GetFn     func(ctx context.Context, selector string) (*vane.Parameter, error)
	PutFn     func(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error)
	CompactFn func(ctx context.Context, before time.Time) (int64, error)
}

func (s *fakeStore) Compact(ctx context.Context, before time.Time) (int64, error) {
	return s.CompactFn(ctx, before)
}

func (s *fakeStore) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	return s.GetFn(ctx, selector)
}

func (s *fakeStore) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	return s.PutFn(ctx, in)
}

// gather returns the metric families of reg by name.
func gather(tb testing.TB, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// find returns the metric of a family whose labels include all of want.
func find(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		n := 0
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
				n++
			}
		}
		if n == len(want) {
			return m
		}
	}
	return nil
}

func TestStore(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	s := m.Store(&fakeStore{
		GetFn: func(ctx context.Context, selector string) (*vane.Parameter, error) {
			if selector == "missing" {
				return nil, vane.NotFoundError(selector)
			}
			return &vane.Parameter{Name: selector, Version: 1}, nil
		},
		PutFn: func(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
			return nil, errors.New("disk on fire")
		},
		CompactFn: func(ctx context.Context, before time.Time) (int64, error) { return 7, nil },
	})
	ctx := context.Background()
	for range 3 {
		if _, err := s.Get(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx, "missing"); vane.ErrorCode(err) != vane.ENOTFOUND {
		t.Fatalf("Get(missing) = %v, want the wrapped store's not_found", err)
	}
	if _, err := s.Put(ctx, &vane.PutInput{Name: "x"}); err == nil {
		t.Fatal("Put: want the wrapped store's error")
	}
	if n, err := s.Compact(ctx, time.Now()); n != 7 || err != nil {
		t.Fatalf("Compact = %d, %v; want the wrapped store's 7", n, err)
	}

	mf := gather(t, reg)["vane_store_operation_duration_seconds"]
	for _, c := range []struct {
		op, result string
		count      uint64
	}{
		{"get", "ok", 3},
		{"get", vane.ENOTFOUND, 1},
		{"put", vane.EINTERNAL, 1},
		{"compact", "ok", 1},
		{"delete", "ok", 0},
	} {
		got := find(mf, map[string]string{"op": c.op, "result": c.result})
		if got == nil {
			t.Errorf("no series for op=%s result=%s", c.op, c.result)
			continue
		}
		if n := got.GetHistogram().GetSampleCount(); n != c.count {
			t.Errorf("op=%s result=%s: count %d, want %d", c.op, c.result, n, c.count)
		}
	}
}

func TestStoreNilMetrics(t *testing.T) {
	var m *metrics.Metrics
	fs := &fakeStore{}
	if got := m.Store(fs); got != vane.Store(fs) {
		t.Fatal("a nil *Metrics must return the store unchanged")
	}
	m.ObserveRequest("GET /x", "GET", 200, time.Millisecond) // must not panic
}

func TestObserveRequest(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.ObserveRequest("GET /v1/parameters/{name...}", "GET", 200, 2*time.Millisecond)
	m.ObserveRequest("GET /v1/parameters/{name...}", "GET", 404, time.Millisecond)
	m.ObserveRequest("unmatched", "BREW", 405, time.Millisecond)

	mfs := gather(t, reg)
	reqs := mfs["vane_http_requests_total"]
	if c := find(reqs, map[string]string{"route": "GET /v1/parameters/{name...}", "method": "GET", "code": "200"}); c.GetCounter().GetValue() != 1 {
		t.Errorf("requests{code=200} = %v, want 1", c)
	}
	if c := find(reqs, map[string]string{"route": "unmatched", "method": "other", "code": "405"}); c.GetCounter().GetValue() != 1 {
		t.Errorf("an unknown method must be counted as method=other: %v", reqs)
	}
	hist := find(mfs["vane_http_request_duration_seconds"], map[string]string{"route": "GET /v1/parameters/{name...}", "method": "GET"})
	if hist.GetHistogram().GetSampleCount() != 2 {
		t.Errorf("duration histogram = %v, want 2 samples", hist)
	}
}

func TestRegisterIndex(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.RegisterIndex(func() (int, int64) { return 42, 4096 }, func() int64 { return 7 })
	mfs := gather(t, reg)
	for name, want := range map[string]float64{
		"vane_parameters":     42,
		"vane_index_bytes":    4096,
		"vane_index_sequence": 7,
	} {
		mf := mfs[name]
		if mf == nil || len(mf.GetMetric()) != 1 {
			t.Errorf("%s: not registered", name)
			continue
		}
		if got := mf.GetMetric()[0].GetGauge().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestNewRegistry(t *testing.T) {
	reg := metrics.NewRegistry()
	metrics.New(reg)
	mfs := gather(t, reg)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if mfs[name] == nil {
			t.Errorf("NewRegistry lacks %s", name)
		}
	}
}
