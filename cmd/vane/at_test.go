package main

import (
	"strings"
	"testing"
	"time"
)

func TestParsePastTime(t *testing.T) {
	now := time.Date(2026, 12, 2, 17, 0, 0, 500, time.UTC)
	paris := time.FixedZone("CET", 3600)
	good := []struct {
		name, at, want string
	}{
		{"RFC3339UTC", "2026-12-01T18:00:00Z", "2026-12-01T18:00:00Z"},
		{"RFC3339Offset", "2026-12-01T19:00:00+01:00", "2026-12-01T18:00:00Z"},
		{"RFC3339Nanoseconds", "2026-12-01T18:00:00.123456789Z", "2026-12-01T18:00:00.123456789Z"},
		{"LocalMinutes", "2026-12-01 19:00", "2026-12-01T18:00:00Z"},
		{"LocalSeconds", "2026-12-01 19:00:30", "2026-12-01T18:00:30Z"},
		{"Minus", "-90m", "2026-12-02T15:30:00.0000005Z"},
		{"Ago", "2h ago", "2026-12-02T15:00:00.0000005Z"},
		{"AgoSpaces", " 1h30m ago ", "2026-12-02T15:30:00.0000005Z"},
		{"MinusZeroIsNow", "-0s", "2026-12-02T17:00:00.0000005Z"},
		// The future is the server's to refuse, by its clock.
		{"RFC3339Future", "2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePastTime(tt.at, now, paris)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("parsePastTime(%q) = %s, want %s", tt.at, s, tt.want)
			}
		})
	}
	bad := []struct {
		name, at, want string
	}{
		{"ErrWords", "yesterday", "RFC 3339"},
		{"ErrEmpty", "", "RFC 3339"},
		{"ErrNoZoneWithT", "2026-12-01T18:00:00", `"YYYY-MM-DD HH:MM" in local time`},
		{"ErrPlus", "+1h", "a time before now"},
		{"ErrRelativeUnit", "-90", "Go duration"},
		{"ErrAgoUnit", "2 hours ago", "Go duration"},
		{"ErrMinusNegative", "--5m", "Go duration"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePastTime(tt.at, now, paris)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--at") {
				t.Errorf("parsePastTime(%q) = %v, want an error with %q", tt.at, err, tt.want)
			}
		})
	}
}
