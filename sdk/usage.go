package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// maxUsagePending bounds the counts kept across failed reports.
const maxUsagePending = 10_000

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
func (c *Client) reportUsage(ctx context.Context) {
	t := time.NewTicker(c.cfg.UsageInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
			c.sendUsage(final)
			cancel()
			return
		case <-t.C:
			// Not ctx: Close must not cut a report the server may already
			// have counted, or the retry at Close would count it again.
			// postUsage bounds each request by RequestTimeout.
			c.sendUsage(context.Background())
		}
	}
}

// sendUsage posts the counts made since the last report (and those a
// failed report kept), at most 1,000 rows a request.
func (c *Client) sendUsage(ctx context.Context) {
	for _, u := range c.usage.Drain(c.cfg.Now()) {
		c.usagePending = append(c.usagePending, usageRow{Name: u.Name, Variant: u.Variant, Count: u.Count, Last: u.Last})
	}
	for len(c.usagePending) > 0 {
		n := min(len(c.usagePending), 1000)
		if err := c.postUsage(ctx, c.usagePending[:n]); err != nil {
			var se *ServerError
			if errors.As(err, &se) && (se.Status == http.StatusServiceUnavailable && se.Code == "unavailable" ||
				se.Status == http.StatusNotFound || se.Status == http.StatusForbidden) {
				// The server does not track usage, or the client's key
				// may not report it (vane:Evaluate): nothing to keep.
				c.usagePending = nil
				return
			}
			c.log.Debug("vane sdk: flag usage report failed; kept for the next one", "err", err)
			if len(c.usagePending) > maxUsagePending {
				c.usagePending = c.usagePending[len(c.usagePending)-maxUsagePending:]
			}
			return
		}
		c.usagePending = c.usagePending[n:]
	}
	c.usagePending = nil
}

func (c *Client) postUsage(ctx context.Context, rows []usageRow) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{"usage": rows})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Server+"/v1/usage", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return serverError(resp)
	}
	drain(resp.Body)
	return nil
}
