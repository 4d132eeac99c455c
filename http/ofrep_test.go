package http_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
)

type ofrepResult struct {
	Key          string         `json:"key"`
	Value        any            `json:"value"`
	Reason       string         `json:"reason"`
	Variant      string         `json:"variant"`
	Metadata     map[string]any `json:"metadata"`
	ErrorCode    string         `json:"errorCode"`
	ErrorDetails string         `json:"errorDetails"`
}

func putFlag(t *testing.T, s *Server, name, doc string) {
	t.Helper()
	r := s.Do(t, "PUT", "/v1/parameters"+name, `{"type":"String","overwrite":true,"value":`+jsonString(doc)+`}`)
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("PUT %s: %d %s", name, r.Status, r.Body)
	}
}

func TestOFREPSingle(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	s.Server.Close()
	srv := MustOpen(t, func(h *vanehttp.Server) { h.Store = s.Index; h.OFREPBase = "/app/prod/features/" })
	putFlag(t, srv, "/app/prod/features/checkout", `{"default": false, "metadata": {"jira": "PAY-1", "nested": {"x": 1}},
		"rules": [{"name": "premium", "when_match": true, "conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}]}`)
	putFlag(t, srv, "/app/prod/features/rollout", `{"rollout_percentage": 50}`)
	putFlag(t, srv, "/app/prod/features/broken", `true`)
	// A document that no longer validates (as a migration could bring).
	if _, err := s.Under.Put(t.Context(), &vane.PutInput{Name: "/app/prod/features/broken", Value: `{"rollout_percentage": 500}`, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	s.Index.CatchUp(t.Context())

	var r ofrepResult
	srv.Do(t, "POST", "/ofrep/v1/evaluate/flags/checkout", `{"context": {"targetingKey": "u1", "tier": "premium"}}`).Want(t, 200, &r)
	if r.Key != "checkout" || r.Value != true || r.Reason != "TARGETING_MATCH" || r.Variant != "on" || r.Metadata["jira"] != "PAY-1" || r.Metadata["nested"] != nil {
		t.Errorf("success: %+v", r)
	}
	for _, tt := range []struct {
		key, body string
		status    int
		code      string
	}{
		{"missing", `{}`, 404, "FLAG_NOT_FOUND"},
		{"checkout", `{"context": "premium"}`, 400, "INVALID_CONTEXT"},
		{"checkout", `not json`, 400, "INVALID_CONTEXT"},
		{"rollout", `{"context": {}}`, 400, "TARGETING_KEY_MISSING"},
		{"broken", `{}`, 400, "PARSE_ERROR"},
	} {
		r = ofrepResult{}
		srv.Do(t, "POST", "/ofrep/v1/evaluate/flags/"+tt.key, tt.body).Want(t, tt.status, &r)
		if r.Key != tt.key || r.ErrorCode != tt.code || r.ErrorDetails == "" || r.Value != nil {
			t.Errorf("%s %s: %+v, want %d %s", tt.key, tt.body, r, tt.status, tt.code)
		}
	}
	// An empty body is an empty context.
	r = ofrepResult{}
	srv.Do(t, "POST", "/ofrep/v1/evaluate/flags/checkout", "").Want(t, 200, &r)
	if r.Value != false || r.Reason != "DEFAULT" {
		t.Errorf("empty body: %+v", r)
	}
}

func TestOFREPBulkETagAndEvents(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{Heartbeat: time.Hour})
	s.Server.Close()
	srv := MustOpen(t, func(h *vanehttp.Server) { h.Store = s.Index; h.OFREPBase = "/app/prod/" })
	putFlag(t, srv, "/app/prod/features/a", `true`)
	putFlag(t, srv, "/app/prod/features/b", `{"rollout_percentage": 50}`)
	srv.Do(t, "PUT", "/v1/parameters/app/prod/tuning/x", `{"type":"String","value":"1"}`).Want(t, 201, nil)

	var bulk struct {
		Flags        []ofrepResult `json:"flags"`
		EventStreams []struct {
			Type               string `json:"type"`
			URL                string `json:"url"`
			InactivityDelaySec int    `json:"inactivityDelaySec"`
		} `json:"eventStreams"`
	}
	resp := srv.Do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context": {"targetingKey": "u1"}}`).Want(t, 200, &bulk)
	if len(bulk.Flags) != 2 || bulk.Flags[0].Key != "features/a" || bulk.Flags[1].Key != "features/b" || bulk.Flags[1].Reason != "SPLIT" {
		t.Fatalf("bulk flags: %+v", bulk.Flags)
	}
	if len(bulk.EventStreams) != 1 || bulk.EventStreams[0].Type != "sse" || bulk.EventStreams[0].URL != srv.URL()+"/ofrep/v1/events" {
		t.Errorf("eventStreams: %+v", bulk.EventStreams)
	}
	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	if r := srv.Do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context": {"targetingKey": "u1"}}`, "If-None-Match", tag); r.Status != 304 {
		t.Errorf("same context, same flags: %d, want 304", r.Status)
	}
	if r := srv.Do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context": {}}`, "If-None-Match", tag); r.Status != 200 {
		t.Errorf("another context: %d, want 200", r.Status)
	}
	// Bulk results carry failures inline.
	srv.Do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context": {}}`).Want(t, 200, &bulk)
	if bulk.Flags[1].ErrorCode != "TARGETING_KEY_MISSING" {
		t.Errorf("bulk failure entry: %+v", bulk.Flags[1])
	}
	var fail ofrepResult
	srv.Do(t, "POST", "/ofrep/v1/evaluate/flags", `[]`).Want(t, 400, &fail)
	if fail.ErrorCode != "INVALID_CONTEXT" {
		t.Errorf("bad bulk body: %+v", fail)
	}

	// The event stream sends refetchEvaluation for flag changes only.
	st := openOFREPEvents(t, srv)
	srv.Do(t, "PUT", "/v1/parameters/app/prod/tuning/x", `{"type":"String","value":"2","overwrite":true}`).Want(t, 200, nil)
	putFlag(t, srv, "/app/prod/features/a", `false`)
	ev, ok := st.next(t)
	if !ok || ev.Event != "message" {
		t.Fatalf("event %+v, %v", ev, ok)
	}
	var data struct {
		Type         string `json:"type"`
		LastModified int64  `json:"lastModified"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &data); err != nil || data.Type != "refetchEvaluation" || data.LastModified == 0 {
		t.Errorf("event data %s", ev.Data)
	}
	if ev.ID != "5" {
		t.Errorf("event id %q, want the flag change's sequence 5 (the tuning change sends nothing)", ev.ID)
	}
	if r := srv.Do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context": {"targetingKey": "u1"}}`, "If-None-Match", tag); r.Status != 200 {
		t.Errorf("after a flag change: %d, want 200", r.Status)
	}

	var cfg map[string]any
	srv.Do(t, "GET", "/ofrep/v1/configuration", "").Want(t, 200, &cfg)
	if cfg["name"] != "vane" {
		t.Errorf("configuration: %v", cfg)
	}
}

// openOFREPEvents opens GET /ofrep/v1/events.
func openOFREPEvents(t *testing.T, srv *Server) *sseStream {
	return openStream(t, srv.URL()+"/ofrep/v1/events")
}
