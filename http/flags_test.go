package http_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
)

// flagsPage is GET /v1/flags.
type flagsPage struct {
	Environments []struct {
		Name      string `json:"name"`
		Protected bool   `json:"protected"`
	} `json:"environments"`
	Applications []string      `json:"applications"`
	UsageTracked bool          `json:"usage_tracked"`
	Flags        []flagSummary `json:"flags"`
}

type flagSummary struct {
	Name           string   `json:"name"`
	App            string   `json:"app"`
	Env            string   `json:"env"`
	Flag           string   `json:"flag"`
	State          string   `json:"state"`
	Rollout        *float64 `json:"rollout"`
	Rules          int      `json:"rules"`
	DefaultVariant string   `json:"default_variant"`
	Owner          string   `json:"owner"`
	Enabled        bool     `json:"enabled"`
	LastEvaluated  string   `json:"last_evaluated"`
	Evaluations    int64    `json:"evaluations_30d"`
	Stale          []string `json:"stale"`
	Writable       bool     `json:"writable"`
	Reasons        []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reasons"`
}

func (p *flagsPage) flag(t *testing.T, name string) flagSummary {
	t.Helper()
	for _, f := range p.Flags {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no flag %s in %+v", name, p.Flags)
	return flagSummary{}
}

func TestFlagsOverview(t *testing.T) {
	now := time.Now()
	var store vane.UsageStore
	s := MustOpen(t, func(s *vanehttp.Server) {
		store = MustOpenStore(t)
		s.Usage = store
		s.Now = func() time.Time { return now }
	})
	docs := map[string]string{
		"/shop/dev/features/checkout":       `true`,
		"/shop/staging/features/checkout":   `{"enabled": true, "rollout_percentage": 25, "owner": "team-pay"}`,
		"/shop/prod/features/checkout":      `{"enabled": false, "owner": "team-pay"}`,
		"/shop/prod/features/banner":        `{"enabled": true, "variants": {"red": "#f00", "blue": "#00f"}, "default_variant": "blue", "off_variant": "red", "rules": [{"name": "eu", "conditions": [{"action": "EQUALS", "key": "region", "value": "eu"}], "variant": "red"}]}`,
		"/billing/prod/features/invoices":   `{"enabled": true}`,
		"/billing/staging/features/invoice": `false`,
		"/legacy/features/old-toggle":       `true`,
		"/shop/prod/tuning/cache_ttl":       `30`,
	}
	for name, doc := range docs {
		s.MustPut(t, name, doc)
	}
	if err := store.AddUsage(context.Background(), []vane.FlagUsage{
		{Name: "/shop/prod/features/checkout", Day: now.UTC().Format(time.DateOnly), Variant: "off", Count: 7, Last: now.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}

	var page flagsPage
	s.Do(t, "GET", "/v1/flags", "").Want(t, 200, &page)
	if len(page.Flags) != 7 {
		t.Fatalf("%d flags, want the 7 flags and not the tunable: %+v", len(page.Flags), page.Flags)
	}
	var envs []string
	for _, e := range page.Environments {
		envs = append(envs, e.Name)
		if e.Protected != (e.Name == "prod") {
			t.Errorf("environment %s protected = %v", e.Name, e.Protected)
		}
	}
	if !slices.Equal(envs, []string{"dev", "staging", "prod"}) || !slices.Equal(page.Applications, []string{"billing", "shop"}) {
		t.Errorf("environments %v, applications %v", envs, page.Applications)
	}
	for _, tc := range []struct {
		name, app, env, flag, state string
	}{
		{"/shop/dev/features/checkout", "shop", "dev", "checkout", "on"},
		{"/shop/staging/features/checkout", "shop", "staging", "checkout", "rollout"},
		{"/shop/prod/features/checkout", "shop", "prod", "checkout", "off"},
		{"/shop/prod/features/banner", "shop", "prod", "banner", "targeted"},
		{"/billing/prod/features/invoices", "billing", "prod", "invoices", "on"},
		{"/legacy/features/old-toggle", "", "", "", "on"},
	} {
		f := page.flag(t, tc.name)
		if f.App != tc.app || f.Env != tc.env || f.Flag != tc.flag || f.State != tc.state || !f.Writable {
			t.Errorf("%s: %+v, want %s/%s/%s state %s, writable", tc.name, f, tc.app, tc.env, tc.flag, tc.state)
		}
	}
	if f := page.flag(t, "/shop/staging/features/checkout"); f.Rollout == nil || *f.Rollout != 25 || f.Owner != "team-pay" {
		t.Errorf("rollout flag: %+v", f)
	}
	if f := page.flag(t, "/shop/prod/features/banner"); f.Rules != 1 || f.DefaultVariant != "blue" {
		t.Errorf("targeted flag: %+v", f)
	}
	if f := page.flag(t, "/shop/prod/features/checkout"); f.Evaluations != 7 || f.LastEvaluated == "" || len(f.Stale) != 0 {
		t.Errorf("evaluated flag: %+v", f)
	}
	if f := page.flag(t, "/shop/dev/features/checkout"); !slices.Equal(f.Stale, []string{"never_evaluated"}) || !f.Enabled {
		t.Errorf("never evaluated flag: %+v", f)
	}
	if f := page.flag(t, "/billing/staging/features/invoice"); f.State != "off" || f.Enabled {
		t.Errorf("a bare false: %+v", f)
	}

	// One flag, by its name: what the dashboard asks after a change.
	var one flagsPage
	s.Do(t, "GET", "/v1/flags?path=/shop/prod/features/checkout", "").Want(t, 200, &one)
	if len(one.Flags) != 1 || one.Flags[0].State != "off" || one.Flags[0].Evaluations != 7 || len(one.Flags[0].Stale) != 0 {
		t.Errorf("one flag: %+v", one.Flags)
	}

	// The protected environments are a setting.
	s.MustPut(t, vanehttp.SettingProtectedEnvironments, "staging")
	var after flagsPage
	s.Do(t, "GET", "/v1/flags", "").Want(t, 200, &after)
	for _, e := range after.Environments {
		if e.Protected != (e.Name == "staging") {
			t.Errorf("with the setting at staging: %s protected = %v", e.Name, e.Protected)
		}
	}

	r := s.Do(t, "GET", "/v1/flags", "", "Accept-Encoding", "gzip")
	if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET /v1/flags accepting gzip: %d, Content-Encoding %q", r.Status, r.Header.Get("Content-Encoding"))
	}
	s.Do(t, "GET", "/v1/flags?path=shop", "").WantError(t, 400, vane.EINVALID, "", "path")
	s.Do(t, "GET", "/v1/flags?days=0", "").WantError(t, 400, vane.EINVALID, "", "days")
	s.Do(t, "GET", "/v1/flags?pth=/", "").WantError(t, 400, vane.EINVALID, "", "pth")
}

func TestFlagsOverviewShowsOnlyWhatTheKeyMayRead(t *testing.T) {
	a := mustOpenAccess(t)
	for _, name := range []string{"/app/prod/features/a", "/app/dev/features/b", "/other/prod/features/c"} {
		a.as(t, "admin", "PUT", "/v1/parameters"+name, `{"type":"String","value":"true"}`).Want(t, 201, nil)
	}
	var page flagsPage
	a.as(t, "reader", "GET", "/v1/flags", "").Want(t, 200, &page)
	if len(page.Flags) != 1 || page.Flags[0].Name != "/app/prod/features/a" || page.Flags[0].Writable {
		t.Errorf("the reader's overview: %+v, want only /app/prod/features/a, not writable", page.Flags)
	}
	if len(page.Environments) != 1 || page.Environments[0].Name != "prod" {
		t.Errorf("the reader's environments: %+v", page.Environments)
	}
	var writers flagsPage
	a.as(t, "writer", "GET", "/v1/flags", "").Want(t, 200, &writers)
	if len(writers.Flags) != 3 || !writers.Flags[0].Writable {
		t.Errorf("the writer's overview: %+v", writers.Flags)
	}
	a.as(t, "", "GET", "/v1/flags", "").WantError(t, 401, vane.EUNAUTHORIZED, "")
}

func TestStaleFlags(t *testing.T) {
	// Flags are written now; the report is read 60 days later.
	now := time.Now()
	var store vane.UsageStore
	s := MustOpen(t, func(s *vanehttp.Server) {
		store = MustOpenStore(t)
		s.Usage = store
		s.Now = func() time.Time { return now }
	})
	s.MustPut(t, "/app/prod/features/never", `{"enabled": true, "rollout_percentage": 50, "owner": "team-a"}`)
	s.MustPut(t, "/app/prod/features/busy", `{"enabled": true, "rollout_percentage": 50}`)
	s.MustPut(t, "/app/prod/features/quiet", `{"enabled": true, "rollout_percentage": 50}`)
	s.MustPut(t, "/app/prod/features/everyone", `{"enabled": true, "rollout_percentage": 100}`)
	s.MustPut(t, "/app/prod/features/dead", `{"enabled": false}`)
	s.MustPut(t, "/app/prod/features/expired", `{"enabled": true, "rollout_percentage": 50, "expires": "2026-01-01T00:00:00Z"}`)
	later := now.Add(60 * 24 * time.Hour)
	now = later
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	var rows []vane.FlagUsage
	for _, name := range []string{"busy", "everyone", "dead", "expired"} {
		rows = append(rows, vane.FlagUsage{Name: "/app/prod/features/" + name, Day: day(later), Variant: "on", Count: 3, Last: later.Add(-time.Hour)})
	}
	rows = append(rows, vane.FlagUsage{Name: "/app/prod/features/quiet", Day: day(later.AddDate(0, 0, -40)), Variant: "on", Count: 1, Last: later.AddDate(0, 0, -40)})
	if err := store.AddUsage(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	var report flagsPage
	s.Do(t, "GET", "/v1/flags/stale?path=/app&days=30", "").Want(t, 200, &report)
	got := map[string][]string{}
	for _, f := range report.Flags {
		for _, r := range f.Reasons {
			got[f.Name] = append(got[f.Name], r.Code)
			if r.Message == "" {
				t.Errorf("%s: reason %s without a message", f.Name, r.Code)
			}
		}
	}
	want := map[string][]string{
		"/app/prod/features/never":    {"never_evaluated"},
		"/app/prod/features/quiet":    {"not_evaluated"},
		"/app/prod/features/everyone": {"uniform"},
		"/app/prod/features/dead":     {"uniform"},
		"/app/prod/features/expired":  {"expired"},
	}
	b, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(b) != string(w) {
		t.Errorf("stale report:\n%s\nwant\n%s", b, w)
	}
	if f := report.flag(t, "/app/prod/features/never"); f.Owner != "team-a" {
		t.Errorf("the report does not name the owner: %+v", f)
	}
	// With 90 days, the flag quiet for 40 is not stale, and nothing has
	// served one variant for that long.
	var longer flagsPage
	s.Do(t, "GET", "/v1/flags/stale?path=/app&days=90", "").Want(t, 200, &longer)
	for _, f := range longer.Flags {
		if f.Name == "/app/prod/features/quiet" || f.Name == "/app/prod/features/dead" {
			t.Errorf("with 90 days: %s listed: %+v", f.Name, f.Reasons)
		}
	}
}

// TestFlagErrorNamesTheField: a refused flag document's error names the
// JSON path of the problem, for a form to show next to its field.
func TestFlagErrorNamesTheField(t *testing.T) {
	s := MustOpen(t)
	r := s.Do(t, "PUT", "/v1/parameters/app/prod/features/x", `{"type":"String","value":"{\"enabled\":true,\"rules\":[{\"name\":\"r\",\"conditions\":[{\"action\":\"NOPE\",\"key\":\"k\",\"value\":1}],\"variant\":\"on\"}],\"default_variant\":\"off\"}"}`)
	var e struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	r.Want(t, 400, &e)
	if e.Error.Field != "$.rules[0].conditions[0].action" {
		t.Errorf("field %q in %s", e.Error.Field, r.Body)
	}
}
