package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// maxUsagePending bounds the counts kept across failed reports.
const maxUsagePending = 10_000

// minUsageInterval is the shortest report interval a server may ask for.
const minUsageInterval = time.Second

// usageRow is one row of POST /v1/usage.
type usageRow struct {
	Name    string    `json:"name"`
	Variant string    `json:"variant"`
	Count   int64     `json:"count"`
	Last    time.Time `json:"last"`
}

// reportsUsage reports whether the client counts and reports flag usage.
func (c *Client) reportsUsage() bool { return !c.cfg.DisableUsage && !c.local }

// reportUsage sends the evaluation counts every UsageInterval until ctx
// is done, and once more then. Delivery is at least once: a report whose
// answer is lost (a timeout) is sent again and may be counted twice.
// While the server's answers ask for a shorter interval (a rollout
// watching error rates), reports go at that interval instead.
func (c *Client) reportUsage(ctx context.Context) {
	t := time.NewTicker(c.usageEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
			c.sendUsage(final)
			cancel()
			return
		case <-t.C:
			every := c.usageEvery
			// Not ctx: Close must not cut a report the server may already
			// have counted, or the retry at Close would count it again.
			// postUsage bounds each request by RequestTimeout.
			c.sendUsage(context.Background())
			if c.usageEvery != every {
				t.Reset(c.usageEvery)
			}
		}
	}
}

// sendUsage posts the counts made since the last report (and those a
// failed report kept), at most 1,000 rows a request, and sets usageEvery
// from the last answer. Without an answer (nothing to send, or a failed
// request) the interval stays as it was.
func (c *Client) sendUsage(ctx context.Context) {
	for _, u := range c.usage.Drain(c.cfg.Now()) {
		c.usagePending = append(c.usagePending, usageRow{Name: u.Name, Variant: u.Variant, Count: u.Count, Last: u.Last})
	}
	for len(c.usagePending) > 0 {
		n := min(len(c.usagePending), 1000)
		asked, err := c.postUsage(ctx, c.usagePending[:n])
		if err != nil {
			var se *ServerError
			if errors.As(err, &se) && (se.Status == http.StatusServiceUnavailable && se.Code == "unavailable" ||
				se.Status == http.StatusNotFound || se.Status == http.StatusForbidden) {
				// The server does not track usage, or the client's key
				// may not report it (vane:Evaluate): nothing to keep.
				c.usagePending = nil
				c.usageEvery = c.cfg.UsageInterval
				return
			}
			c.log.Debug("vane sdk: flag usage report failed; kept for the next one", "err", err)
			if len(c.usagePending) > maxUsagePending {
				c.usagePending = c.usagePending[len(c.usagePending)-maxUsagePending:]
			}
			return
		}
		c.usageEvery = c.usageInterval(asked)
		c.usagePending = c.usagePending[n:]
	}
	c.usagePending = nil
}

// usageInterval returns the report interval for a server's answer that
// asked for asked (0 for none): UsageInterval, or asked within
// [minUsageInterval, UsageInterval], since a server may shorten the
// interval but never lengthen it.
func (c *Client) usageInterval(asked time.Duration) time.Duration {
	if asked <= 0 {
		return c.cfg.UsageInterval
	}
	return min(max(asked, minUsageInterval), c.cfg.UsageInterval)
}

// postUsage sends one report and returns the interval its answer asks
// for: the report_interval of a 200, or 0 (a 204, or none given).
func (c *Client) postUsage(ctx context.Context, rows []usageRow) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{"usage": rows})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Server+"/v1/usage", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return 0, serverError(resp)
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, nil
	}
	// The rows are counted whatever the body holds: an answer that does
	// not parse asks for nothing, rather than failing the report (which
	// would send it again).
	var answer struct {
		ReportInterval string `json:"report_interval"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer); err != nil || answer.ReportInterval == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(answer.ReportInterval)
	if err != nil {
		c.log.Debug("vane sdk: ignoring the usage report answer's report_interval", "report_interval", answer.ReportInterval, "err", err)
		return 0, nil
	}
	return d, nil
}
