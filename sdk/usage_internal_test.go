package sdk

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// White-box: with an hour's UsageInterval the first report would come an
// hour after Open, so these tests run the reporter themselves and start
// it at a short interval.

// newUsageClient returns a client that reports usage to server and
// starts nothing.
func newUsageClient(t *testing.T, server string, every time.Duration) *Client {
	t.Helper()
	c, err := newClient(Config{Server: server, UsageInterval: every, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitReport returns the next report the server received, or fails after
// within.
func waitReport(t *testing.T, reports <-chan []usageRow, within time.Duration, what string) []usageRow {
	t.Helper()
	select {
	case rows := <-reports:
		return rows
	case <-time.After(within):
		t.Fatalf("no report within %s: %s", within, what)
		return nil
	}
}

func TestServerShortensUsageInterval(t *testing.T) {
	reports := make(chan []usageRow, 10)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/usage" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		var body struct {
			Usage []usageRow `json:"usage"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("report: %v", err)
		}
		reports <- body.Usage
		// The first answer asks for reports every second (a rollout
		// watches the flag's error rate); the others are Vane's usual 204.
		if n.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"report_interval":"1s"}`+"\n")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	c := newUsageClient(t, srv.URL, time.Hour)
	tally := c.usage.Tally("/app/features/x", nil)
	c.usageEvery = 10 * time.Millisecond // the first report, at once
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.reportUsage(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	tally.Add("")
	if rows := waitReport(t, reports, 5*time.Second, "the first report"); len(rows) != 1 || rows[0].Count != 1 || rows[0].Variant != "" {
		t.Errorf("first report %+v", rows)
	}
	tally.Add("")
	start := time.Now()
	waitReport(t, reports, 5*time.Second, "the server asked for a report every second, the client's interval is an hour")
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("second report after %s, want about the second the server asked for", d)
	}

	// The second answer was a 204: back to the hour.
	tally.Add("")
	select {
	case rows := <-reports:
		t.Fatalf("report %+v within 3 s of a 204 answer: want the hour's interval again", rows)
	case <-time.After(3 * time.Second):
	}
	// The count stays pending until Close's final report.
	cancel()
	<-done
	if rows := waitReport(t, reports, 5*time.Second, "the final report"); len(rows) != 1 || rows[0].Count != 1 {
		t.Errorf("final report %+v", rows)
	}
}

func TestUsageIntervalFromAnswer(t *testing.T) {
	const before = 10 * time.Minute // the interval before the answer
	for _, tt := range []struct {
		name    string
		every   time.Duration // UsageInterval
		status  int
		body    string
		want    time.Duration
		pending int // rows kept for the next report
	}{
		{"NoContentRestoresUsageInterval", time.Hour, 204, "", time.Hour, 0},
		{"IntervalAsked", time.Hour, 200, `{"report_interval":"5s"}`, 5 * time.Second, 0},
		{"ComposedInterval", time.Hour, 200, `{"report_interval":"1m30s"}`, 90 * time.Second, 0},
		{"ShortIntervalRaisedToASecond", time.Hour, 200, `{"report_interval":"100ms"}`, time.Second, 0},
		{"LongIntervalCappedAtUsageInterval", time.Hour, 200, `{"report_interval":"2h"}`, time.Hour, 0},
		{"NeverLengthensAShortUsageInterval", 200 * time.Millisecond, 200, `{"report_interval":"1s"}`, 200 * time.Millisecond, 0},
		{"NegativeIgnored", time.Hour, 200, `{"report_interval":"-5s"}`, time.Hour, 0},
		{"NoIntervalIgnored", time.Hour, 200, `{}`, time.Hour, 0},
		{"EmptyBodyIgnored", time.Hour, 200, ``, time.Hour, 0},
		{"UnparsableIgnored", time.Hour, 200, `{"report_interval":"soon"}`, time.Hour, 0},
		{"NotJSONIgnored", time.Hour, 200, `ok`, time.Hour, 0},
		{"FailureKeepsInterval", time.Hour, 500, `{"error":{"code":"internal","message":"Internal error."}}`, before, 1},
		{"UntrackedRestoresUsageInterval", time.Hour, 503, `{"error":{"code":"unavailable","message":"off"}}`, time.Hour, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if tt.body != "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newUsageClient(t, srv.URL, tt.every)
			c.usageEvery = before
			c.usage.Tally("/app/features/x", nil).Add("")
			c.sendUsage(context.Background())
			if c.usageEvery != tt.want {
				t.Errorf("interval %s, want %s", c.usageEvery, tt.want)
			}
			if len(c.usagePending) != tt.pending {
				t.Errorf("%d rows pending, want %d", len(c.usagePending), tt.pending)
			}
		})
	}
}
