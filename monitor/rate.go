package monitor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/vanehq/vane"
)

// counts are the evaluations of a flag on one day, and those that erred.
type counts struct {
	errors, total int64
}

// sample is a flag's evaluation counts by day, read at one time.
type sample struct {
	at   time.Time
	days map[string]counts
}

// series is the samples of one errors monitor, oldest first.
type series struct {
	samples []sample
}

// checkErrors reads the counts of name, records them as a sample under key
// and judges the error rate over the monitor's window.
func (c *Checker) checkErrors(ctx context.Context, key, name string, m vane.Monitor, failed func(error) string) Result {
	if c.Usage == nil {
		return Result{Detail: "usage: no usage store to read evaluation counts from"}
	}
	now := c.now()
	window := time.Duration(m.Window)
	// A day's counts keep growing until the day is over and its reports
	// are in; the day before the window is read too, so that the window
	// is covered whatever the time of day.
	since := now.Add(-window - 24*time.Hour).UTC().Format(time.DateOnly)
	rows, err := c.Usage.Usage(ctx, name, since)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Detail: "usage: " + failed(ctx.Err())}
		}
		return Result{Detail: "usage: " + vane.ErrorMessage(err)}
	}
	cur := sample{at: now, days: map[string]counts{}}
	for _, r := range rows {
		// Usage selects by prefix: /a/features/x also brings /a/features/xy.
		if r.Name != name {
			continue
		}
		n := cur.days[r.Day]
		n.total += r.Count
		if r.Variant == "" {
			n.errors += r.Count
		}
		cur.days[r.Day] = n
	}

	base, restart := c.record(key, cur, window)
	switch {
	case restart != "":
		return Result{Healthy: true, Detail: restart + "; starting over: the rate needs two checks"}
	case base == nil:
		return Result{Healthy: true, Detail: "first sample; the rate needs two checks"}
	}
	d := delta(*base, cur)
	if d.total < m.MinEvaluations {
		return Result{Healthy: true, Detail: fmt.Sprintf("%d evaluations in the window, fewer than %d: not judged", d.total, m.MinEvaluations)}
	}
	threshold := 0.0
	if m.Threshold != nil {
		threshold = *m.Threshold
	}
	rate := float64(d.errors) / float64(d.total)
	detail := fmt.Sprintf("error rate %s (%d of %d evaluations in %s)", percent(rate), d.errors, d.total, now.Sub(base.at).Round(time.Second))
	if rate > threshold {
		return Result{Breach: true, Detail: detail + " > " + percent(threshold)}
	}
	return Result{Healthy: true, Detail: detail + " <= " + percent(threshold)}
}

// record adds cur to the samples of key and returns the sample to compare
// it with: the most recent one at least window old, or else the oldest.
// It returns nil when cur is the only sample, and, when the samples started
// over because a count went down or the clock went back, why.
func (c *Checker) record(key string, cur sample, window time.Duration) (base *sample, restart string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.samples == nil {
		c.samples = map[string]*series{}
	}
	for k, s := range c.samples {
		if k != key && cur.at.Sub(s.samples[len(s.samples)-1].at) > idleAfter {
			delete(c.samples, k)
		}
	}
	s := c.samples[key]
	if s == nil {
		s = &series{}
		c.samples[key] = s
	}
	if n := len(s.samples); n > 0 {
		last := s.samples[n-1]
		switch {
		case cur.at.Before(last.at):
			restart = "the clock went back"
		case wentDown(last, cur) || wentDown(s.samples[0], cur):
			restart = "evaluation counts went down"
		case cur.at.Equal(last.at):
			// Two checks at one instant: the later read is the better one.
			s.samples = s.samples[:n-1]
		}
		if restart != "" {
			s.samples = s.samples[:0]
		}
	}
	s.samples = append(s.samples, cur)
	// Drop what is older than the window, but keep the most recent
	// sample at least window old as the baseline, so that once the
	// history is long enough the rate covers the whole window.
	cutoff := cur.at.Add(-window)
	drop := 0
	for drop+1 < len(s.samples) && !s.samples[drop+1].at.After(cutoff) {
		drop++
	}
	s.samples = slices.Delete(s.samples, 0, drop)
	if len(s.samples) < 2 {
		return nil, restart
	}
	b := s.samples[0]
	return &b, restart
}

// wentDown reports whether a count of a day in both samples is lower in
// cur than in old. A day missing from cur is not a count going down: it
// left the range read (see checkErrors).
func wentDown(old, cur sample) bool {
	for day, n := range cur.days {
		if o, ok := old.days[day]; ok && (n.total < o.total || n.errors < o.errors) {
			return true
		}
	}
	return false
}

// delta is what cur counted since base, day by day; a day new in cur
// counted all of its evaluations since base.
func delta(base, cur sample) counts {
	var d counts
	for day, n := range cur.days {
		o := base.days[day]
		d.errors += n.errors - o.errors
		d.total += n.total - o.total
	}
	return d
}

// percent writes a share (0.12) as a percentage ("12.0%"), with more
// digits when one decimal would misstate it (0.0005: "0.05%").
func percent(v float64) string {
	p := v * 100
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if r, _ := strconv.ParseFloat(s, 64); math.Abs(r-p) > 1e-9 {
		s = strconv.FormatFloat(p, 'g', 4, 64)
	}
	return s + "%"
}
