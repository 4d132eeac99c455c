package event_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/event"
)

func TestMatchPath(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"/myapp/features", "/myapp/features/x", true},
		{"/myapp/features/", "/myapp/features/x", true},
		{"/myapp/features", "/myapp/features", true},
		{"/myapp/features", "/myapp/featuresx", false},
		{"/", "/anything/at/all", true},
		{"/myapp/*/features/*", "/myapp/prod/features/x", true},
		{"/myapp/*/features/*", "/myapp/prod/features/x/y", false},
		{"/myapp/*/features/*", "/myapp/features/x", false},
		{"/myapp/**", "/myapp/a/b/c", true},
		{"/myapp/**/ttl", "/myapp/a/b/ttl", true},
		{"/myapp/**/ttl", "/myapp/ttl", true},
		{"/myapp/**/ttl", "/other/ttl", false},
		{"/myapp/prod/features/new-*", "/myapp/prod/features/new-checkout", true},
		{"/myapp/prod/features/new-*", "/myapp/prod/features/old", false},
	} {
		if got := event.MatchPath(tt.pattern, tt.name); got != tt.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestOperation(t *testing.T) {
	rolledBack := func(id string, v int64) bool { return id == "ro-1" && v == 5 }
	for _, tt := range []struct {
		c    vane.Change
		want string
	}{
		{vane.Change{Op: vane.OpPut, Version: 1, Principal: "alice"}, vane.EventCreate},
		{vane.Change{Op: vane.OpPut, Version: 2, Principal: "alice"}, vane.EventUpdate},
		{vane.Change{Op: vane.OpPut, Version: 4, Principal: "rollout:ro-1"}, vane.EventRolloutStep},
		{vane.Change{Op: vane.OpPut, Version: 5, Principal: "rollout:ro-1"}, vane.EventRollback},
		{vane.Change{Op: vane.OpDelete, Version: 3}, vane.EventDelete},
		{vane.Change{Op: vane.OpLabel}, vane.EventLabel},
		{vane.Change{Op: vane.OpUnlabel}, vane.EventUnlabel},
		{vane.Change{Op: vane.OpTag}, vane.EventTag},
		{vane.Change{Op: vane.OpUntag}, vane.EventTag},
	} {
		if got := event.Operation(&tt.c, rolledBack); got != tt.want {
			t.Errorf("Operation(%+v) = %s, want %s", tt.c, got, tt.want)
		}
	}
}

// TestBuildHasTheShapeOfAWSEvents: the fields EventBridge consumers read,
// Vane's additions, and no value unless asked for, never a secret.
func TestBuildHasTheShapeOfAWSEvents(t *testing.T) {
	r := &vane.EventRule{ID: "er-1", Name: "flags", Path: "/myapp/"}
	c := &vane.Change{Seq: 42, Op: vane.OpPut, Name: "/myapp/prod/features/x", Version: 3, Type: vane.TypeString,
		Time: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), Principal: "alice"}
	v := "true"
	b, _ := json.Marshal(event.Build(r, c, vane.EventUpdate, "eu-west-1", "123456789012", &v))
	var got map[string]any
	json.Unmarshal(b, &got)
	for k, want := range map[string]any{"detail-type": "Parameter Store Change", "source": "aws.ssm", "id": "er-1-42",
		"time": "2026-12-02T10:00:00Z", "region": "eu-west-1", "account": "123456789012", "version": "0"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if res := got["resources"].([]any); len(res) != 1 || res[0] != "arn:aws:ssm:eu-west-1:123456789012:parameter/myapp/prod/features/x" {
		t.Errorf("resources = %v", res)
	}
	d := got["detail"].(map[string]any)
	for k, want := range map[string]any{"name": "/myapp/prod/features/x", "operation": "Update", "type": "String", "version": 3.0,
		"sequence": 42.0, "principal": "alice", "previous_version": 2.0, "rule": "flags"} {
		if d[k] != want {
			t.Errorf("detail.%s = %v, want %v", k, d[k], want)
		}
	}
	if _, ok := d["value"]; ok {
		t.Errorf("a value without IncludeValues: %v", d)
	}
	r.IncludeValues = true
	if e := event.Build(r, c, vane.EventUpdate, "r", "a", &v); e.Detail.Value == nil || *e.Detail.Value != "true" {
		t.Errorf("IncludeValues: no value: %+v", e.Detail)
	}
	c.Type = vane.TypeSecureString
	if e := event.Build(r, c, vane.EventUpdate, "r", "a", &v); e.Detail.Value != nil {
		t.Errorf("a SecureString value was included: %+v", e.Detail)
	}
}

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"er-1-42"}`)
	sig := event.Sign("s3cret", now, body)
	ts := "1800000000"
	if err := event.Verify("s3cret", sig, ts, body, now.Add(time.Minute), 0); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	for name, check := range map[string]error{
		"wrong secret":  event.Verify("other", sig, ts, body, now, 0),
		"changed body":  event.Verify("s3cret", sig, ts, []byte(`{"id":"er-1-43"}`), now, 0),
		"replayed late": event.Verify("s3cret", sig, ts, body, now.Add(6*time.Minute), 0),
		"moved stamp":   event.Verify("s3cret", sig, "1800000001", body, now, 0),
		"bad stamp":     event.Verify("s3cret", sig, "yesterday", body, now, 0),
	} {
		if check == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestBackoffGrowsWithJitterUpToMax(t *testing.T) {
	p := event.RetryPolicy{MaxAttempts: 10, Base: time.Second, Max: 30 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 9: 30 * time.Second} {
		if got := p.Backoff(n, nil); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestCheckRule(t *testing.T) {
	ok := vane.EventRule{Name: "r", Path: "/a/", Target: vane.TargetWebhook, URL: "https://hooks.example/x"}
	if err := event.CheckRule(&ok); err != nil {
		t.Fatal(err)
	}
	for field, r := range map[string]vane.EventRule{
		"name":       {Path: "/a", Target: vane.TargetLog},
		"path":       {Name: "r", Path: "a", Target: vane.TargetLog},
		"operations": {Name: "r", Path: "/a", Target: vane.TargetLog, Operations: []string{"Explode"}},
		"target":     {Name: "r", Path: "/a", Target: "email"},
		"url":        {Name: "r", Path: "/a", Target: vane.TargetWebhook, URL: "ftp://x"},
	} {
		err := event.CheckRule(&r)
		if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorField(err) != field {
			t.Errorf("%+v: %v (field %q), want invalid naming %s", r, err, vane.ErrorField(err), field)
		}
	}
}

func TestSlackText(t *testing.T) {
	e := event.Build(&vane.EventRule{ID: "er-1", Name: "r"}, &vane.Change{Seq: 1, Op: vane.OpPut, Name: "/shop/prod/features/x", Version: 2, Principal: "alice"},
		vane.EventUpdate, "r", "a", nil)
	if got, want := event.SlackText(e, "https://vane.example"), "/shop/prod/features/x was updated by alice (version 2): https://vane.example/ui/#/flag/shop/prod/features/x"; got != want {
		t.Errorf("SlackText = %q, want %q", got, want)
	}
}

// TestClientRefusesDeniedAddresses: the deny list applies to the address
// connected to, whatever the URL said.
func TestClientRefusesDeniedAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	deny, err := event.ParseDeny("127.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = event.NewClient(deny).Post(srv.URL, "application/json", strings.NewReader("{}"))
	var refused *event.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("POST to a denied address: %v", err)
	}
	resp, err := event.NewClient(nil).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST to loopback with the default deny list: %v", err)
	}
	resp.Body.Close()
	if !event.DefaultDeny[0].Contains(netip.MustParseAddr("169.254.169.254")) {
		t.Error("the default deny list lets the metadata service through")
	}
	if _, err := event.ParseDeny("10.0.0.0/8,not-an-ip"); err == nil {
		t.Error("ParseDeny took a host name")
	}
}
