package http_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/event"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/keyring"
)

// eventsServer is a server with access control and event rules over its
// SQLite store.
func eventsServer(t *testing.T) *accessServer {
	t.Helper()
	return mustOpenAccess(t, func(s *vanehttp.Server) {
		st := MustOpenStore(t)
		kr, err := keyring.Open(keyring.Options{Path: filepath.Join(t.TempDir(), "keyring.json")})
		if err != nil {
			t.Fatal(err)
		}
		s.Events = &event.Service{EventStore: st, Deliverer: func(id string) *event.Deliverer {
			return &event.Deliverer{RuleID: id, Events: st, Cipher: kr, Client: event.NewClient(nil)}
		}}
		s.Cipher = kr
	})
}

type ruleJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Path     string `json:"path"`
	Target   string `json:"target"`
	Secret   string `json:"secret"`
	Disabled bool   `json:"disabled"`
	Revision int64  `json:"revision"`
}

func TestEventRulesAPI(t *testing.T) {
	a := eventsServer(t)
	var received []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received = append(received, r.Header.Get(event.HeaderEventID)+" "+r.Header.Get(event.HeaderSignature))
	}))
	defer recv.Close()

	var r ruleJSON
	a.as(t, "admin", "POST", "/v1/event-rules", `{"name":"flags","path":"/app/","target":"webhook","url":"`+recv.URL+`"}`).Want(t, 201, &r)
	if r.ID == "" || !strings.HasPrefix(r.Secret, "whsec_") || r.Revision != 1 {
		t.Fatalf("created rule %+v: want an id and a new secret shown once", r)
	}
	var shown ruleJSON
	a.as(t, "admin", "GET", "/v1/event-rules/"+r.ID, "").Want(t, 200, &shown)
	if shown.Secret != "" || shown.Name != "flags" {
		t.Errorf("GET shows %+v; the secret must not be shown again", shown)
	}
	// Each bad field is named.
	for body, field := range map[string]string{
		`{"name":"x","path":"app","target":"log"}`:                                    "path",
		`{"name":"x","path":"/app","target":"email"}`:                                 "target",
		`{"name":"x","path":"/app","target":"webhook","url":"file:///etc/passwd"}`:    "url",
		`{"name":"x","path":"/app","target":"log","operations":["Explode"]}`:          "operations",
		`{"name":"x","path":"/app","target":"webhook","url":"http://h","secret":"s"}`: "secret",
	} {
		var e struct {
			Error struct {
				Field string `json:"field"`
			} `json:"error"`
		}
		a.as(t, "admin", "POST", "/v1/event-rules", body).Want(t, 400, &e)
		if e.Error.Field != field {
			t.Errorf("%s: field %q, want %q", body, e.Error.Field, field)
		}
	}
	a.as(t, "admin", "POST", "/v1/event-rules", `{"name":"flags","path":"/b","target":"log"}`).WantError(t, 409, vane.ECONFLICT, "")

	// A test send reaches the receiver, signed.
	var sent struct {
		Delivered bool `json:"delivered"`
		Attempt   struct {
			Status int `json:"status"`
		} `json:"attempt"`
	}
	a.as(t, "admin", "POST", "/v1/event-rules/"+r.ID+"/test", "").Want(t, 200, &sent)
	if !sent.Delivered || sent.Attempt.Status != 200 || len(received) != 1 || !strings.Contains(received[0], " v1=") {
		t.Errorf("test send: %+v, receiver got %v", sent, received)
	}

	// Update: disable, rotate the secret.
	var updated ruleJSON
	a.as(t, "admin", "PATCH", "/v1/event-rules/"+r.ID, `{"disabled":true,"rotate_secret":true}`).Want(t, 200, &updated)
	if !updated.Disabled || updated.Secret == "" || updated.Secret == r.Secret || updated.Revision != 2 {
		t.Errorf("updated %+v", updated)
	}
	var list struct {
		Rules []ruleJSON `json:"rules"`
	}
	a.as(t, "admin", "GET", "/v1/event-rules", "").Want(t, 200, &list)
	if len(list.Rules) != 1 || list.Rules[0].Secret != "" {
		t.Errorf("list %+v", list.Rules)
	}
	var deliveries struct {
		Deliveries []any `json:"deliveries"`
	}
	a.as(t, "admin", "GET", "/v1/event-rules/"+r.ID+"/deliveries?state=dead", "").Want(t, 200, &deliveries)
	a.as(t, "admin", "GET", "/v1/event-rules/"+r.ID+"/deliveries?state=lost", "").WantError(t, 400, vane.EINVALID, "", "state")
	a.as(t, "admin", "POST", "/v1/event-rules/"+r.ID+"/deliveries/nope/redeliver", "").WantError(t, 404, vane.ENOTFOUND, "")

	// Only admins; every change audited.
	a.as(t, "writer", "GET", "/v1/event-rules", "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:Admin")
	a.as(t, "writer", "POST", "/v1/event-rules", `{"name":"y","path":"/","target":"log"}`).WantError(t, 403, vane.EFORBIDDEN, "")
	a.as(t, "admin", "DELETE", "/v1/event-rules/"+r.ID, "").Want(t, 204, nil)
	a.as(t, "admin", "GET", "/v1/event-rules/"+r.ID, "").WantError(t, 404, vane.ENOTFOUND, "")
	var actions []string
	for _, e := range a.audit(t, "") {
		if strings.Contains(e.Action, "EventRule") {
			actions = append(actions, e.Action)
			if strings.Contains(e.Detail, r.Secret) || strings.Contains(e.Detail, updated.Secret) {
				t.Errorf("the audit holds a secret: %+v", e)
			}
		}
	}
	if strings.Join(actions, " ") != "vane:CreateEventRule vane:UpdateEventRule vane:DeleteEventRule" {
		t.Errorf("audited %v", actions)
	}
}
