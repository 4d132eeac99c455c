package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vanehq/vane"
)

// checkHTTP GETs m.URL: 2xx is healthy, anything else unhealthy.
func (c *Checker) checkHTTP(ctx context.Context, m vane.Monitor, failed func(error) string) Result {
	prefix := "GET " + showURL(m.URL) + ": "
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return Result{Detail: prefix + "not a valid URL"}
	}
	req.Header.Set("User-Agent", "vane-monitor")
	resp, err := c.client().Do(req)
	if err != nil {
		return Result{Detail: prefix + failed(err)}
	}
	// Only the status matters; a little of the body is read so that the
	// connection can be reused, and none of it is shown.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHTTPBody))
	resp.Body.Close()
	return Result{
		Healthy: resp.StatusCode >= 200 && resp.StatusCode < 300,
		Detail:  prefix + strconv.Itoa(resp.StatusCode),
	}
}

// promResponse is the envelope of the Prometheus HTTP API.
type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// promSample is one series of an instant vector. Value is [time, "number"];
// a native histogram sample has none.
type promSample struct {
	Value []json.RawMessage `json:"value"`
}

// checkPrometheus runs m.Query at URL/api/v1/query and judges the result.
func (c *Checker) checkPrometheus(ctx context.Context, m vane.Monitor, failed func(error) string) Result {
	q := shorten(oneLine(m.Query), maxShownText)
	target, err := queryURL(m.URL, m.Query)
	if err != nil {
		return Result{Detail: q + ": url is not valid"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Result{Detail: q + ": url is not valid"}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vane-monitor")
	resp, err := c.client().Do(req)
	if err != nil {
		return Result{Detail: q + ": " + failed(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxQueryBody+1))
	if err != nil {
		return Result{Detail: q + ": " + failed(err)}
	}
	if len(body) > maxQueryBody {
		return Result{Detail: fmt.Sprintf("%s: answer larger than %d MiB", q, maxQueryBody>>20)}
	}
	var r promResponse
	jsonErr := json.Unmarshal(body, &r)
	switch {
	case jsonErr == nil && r.Status == "error":
		// Prometheus answers errors with 4xx/5xx and this envelope; its
		// error text is the one part of an answer worth showing.
		text := r.ErrorType
		if r.Error != "" {
			text += ": " + r.Error
		}
		return Result{Detail: q + ": " + shorten(oneLine(text), maxErrorText)}
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return Result{Detail: fmt.Sprintf("%s: HTTP %d", q, resp.StatusCode)}
	case jsonErr != nil || r.Status != "success":
		return Result{Detail: q + ": the answer is not a Prometheus API response"}
	}
	return judge(q, m.Threshold, r.Data.ResultType, r.Data.Result)
}

// judge judges a query result: without a threshold any result is a
// breach; with one, a value over it is.
func judge(q string, threshold *float64, resultType string, raw json.RawMessage) Result {
	unparsable := Result{Detail: q + ": the " + resultType + " result could not be read"}
	var values []float64
	switch resultType {
	case "vector":
		var samples []promSample
		if err := json.Unmarshal(raw, &samples); err != nil {
			return unparsable
		}
		if len(samples) == 0 {
			return Result{Healthy: true, Detail: q + ": no result"}
		}
		if threshold == nil {
			return Result{Breach: true, Detail: fmt.Sprintf("%s returned %d series", q, len(samples))}
		}
		for _, s := range samples {
			v, ok := parseValue(s.Value)
			if !ok {
				return unparsable
			}
			values = append(values, v)
		}
	case "scalar":
		var value []json.RawMessage
		if err := json.Unmarshal(raw, &value); err != nil {
			return unparsable
		}
		v, ok := parseValue(value)
		if !ok {
			return unparsable
		}
		if threshold == nil {
			return Result{Breach: true, Detail: q + " = " + formatFloat(v)}
		}
		values = []float64{v}
	case "matrix", "string":
		return Result{Detail: q + ": a " + resultType + " result cannot be judged: use a query that returns an instant vector or a scalar"}
	default:
		return Result{Detail: q + ": the answer is not a Prometheus API response"}
	}

	// NaN compares false with everything, so it never breaches; +Inf
	// breaches any (finite) threshold.
	largest, over := math.NaN(), 0
	for _, v := range values {
		if v > *threshold {
			over++
		}
		if math.IsNaN(largest) || v > largest {
			largest = v
		}
	}
	t := formatFloat(*threshold)
	if math.IsNaN(largest) {
		return Result{Healthy: true, Detail: q + " = NaN, not compared with " + t}
	}
	if over == 0 {
		return Result{Healthy: true, Detail: q + " = " + formatFloat(largest) + " <= " + t}
	}
	detail := q + " = " + formatFloat(largest) + " > " + t
	if len(values) > 1 {
		detail += fmt.Sprintf(" (%d of %d series)", over, len(values))
	}
	return Result{Breach: true, Detail: detail}
}

// parseValue reads a sample value, [unix time, "number"].
func parseValue(value []json.RawMessage) (float64, bool) {
	if len(value) != 2 {
		return 0, false
	}
	var s string
	if err := json.Unmarshal(value[1], &s); err != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return v, true
}

// queryURL is the instant-query endpoint below base, with query.
func queryURL(base, query string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v1/query"
	u.RawPath = ""
	u.Fragment = ""
	v := u.Query()
	v.Set("query", query)
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// formatFloat writes v as Prometheus does: shortest form, "+Inf", "NaN".
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// showURL is s for a Detail: any password redacted, shortened.
func showURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		s = u.Redacted()
	}
	return shorten(s, maxShownText)
}

// isTimeout reports whether err is a timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// transportError is the text of a request's error for a Detail, without
// the method and URL net/http puts in front of it.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return shorten(oneLine(err.Error()), maxErrorText)
}

// oneLine replaces control characters (newlines, tabs) with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
