package http_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestBatchAppliesAllOrNothing(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/app/prod/old", `{"type":"String","value":"x"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/kept", `{"type":"String","value":"1"}`).Want(t, 201, nil)
	r := s.Do(t, "POST", "/v1/batch", `{"id": "import-1", "items": [
		{"op": "put", "name": "/app/prod/a", "type": "String", "value": "1", "tags": {"team": "pay"}},
		{"op": "put", "name": "/app/prod/kept", "value": "2", "overwrite": true, "expect_version": 1},
		{"op": "label", "name": "/app/prod/kept", "labels": ["stable", "1bad"]},
		{"op": "tag", "name": "/app/prod/kept", "tags": {"owner": "ann"}},
		{"op": "delete", "name": "/app/prod/old"}]}`)
	r.Want(t, 200, nil)
	var out struct {
		ID    string
		Items []struct {
			Op, Name      string
			Version       int64
			InvalidLabels []string `json:"invalid_labels"`
		}
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || out.ID != "import-1" || len(out.Items) != 5 ||
		out.Items[1].Version != 2 || out.Items[2].Version != 2 || len(out.Items[2].InvalidLabels) != 1 {
		t.Fatalf("result %s (%v)", r.Body, err)
	}
	var kept struct {
		Value   string
		Version int64
	}
	s.Do(t, "GET", "/v1/parameters/app/prod/kept:stable", "").Want(t, 200, &kept)
	if kept.Value != "2" || kept.Version != 2 {
		t.Errorf("/app/prod/kept:stable = %+v, want version 2", kept)
	}
	s.Do(t, "GET", "/v1/parameters/app/prod/old", "").Want(t, 404, nil)
	var changes struct {
		Changes []struct{ Op, Name, Batch string }
	}
	s.Do(t, "GET", "/v1/changes?after=2", "").Want(t, 200, &changes)
	if len(changes.Changes) != 5 {
		t.Fatalf("changes after the batch: %+v, want 5", changes.Changes)
	}
	for _, c := range changes.Changes {
		if c.Batch != "import-1" {
			t.Errorf("change %+v: want batch import-1", c)
		}
	}

	// One failing item: nothing is written, and the error names it.
	before := s.Do(t, "GET", "/v1/parameters?path=/app/&recursive=true", "").Body
	r = s.Do(t, "POST", "/v1/batch", `{"items": [
		{"op": "put", "name": "/app/prod/b", "type": "String", "value": "1"},
		{"op": "delete", "name": "/app/prod/kept"},
		{"op": "put", "name": "/app/prod/a", "value": "9", "overwrite": true, "expect_version": 7}]}`)
	r.WantError(t, 409, "conflict", "", "item 2 (put /app/prod/a)")
	if !strings.Contains(string(r.Body), "nothing in the batch was written") || !strings.Contains(string(r.Body), `"field":"items[2]"`) {
		t.Errorf("error body %s", r.Body)
	}
	if after := s.Do(t, "GET", "/v1/parameters?path=/app/&recursive=true", "").Body; string(after) != string(before) {
		t.Fatalf("a failed batch changed the store:\n%s\n%s", before, after)
	}
	// Flag documents are checked as the single put checks them.
	r = s.Do(t, "POST", "/v1/batch", `{"items": [
		{"op": "put", "name": "/app/prod/c", "type": "String", "value": "1"},
		{"op": "put", "name": "/app/prod/features/x", "type": "String", "value": "{\"rollout_percentage\": 120}"}]}`)
	r.WantError(t, 400, "invalid", "ValidationException", "item 1")
	if !strings.Contains(string(r.Body), "items[1].$.rollout_percentage") {
		t.Errorf("error body %s: want the field items[1].$.rollout_percentage", r.Body)
	}
	s.Do(t, "GET", "/v1/parameters/app/prod/c", "").Want(t, 404, nil)
}

func TestBatchRefusesBadRequests(t *testing.T) {
	s := MustOpen(t)
	for _, tc := range []struct{ body, msg string }{
		{`{"items": []}`, "at least one item"},
		{`{"items": [{"op": "rename", "name": "/a/b"}]}`, `"op" must be one of`},
		{`{"items": [{"op": "put", "name": "/a/b", "type": "String"}]}`, `"value" is required`},
		{`{"items": [{"op": "put", "value": "1"}]}`, `"name" is required`},
		{`{"items": [{"op": "put", "name": "/a/b", "value": "1", "colour": "red"}]}`, "colour"},
		{`{"id": "has space", "items": [{"op": "delete", "name": "/a/b"}]}`, "batch id"},
		{`not json`, "JSON"},
	} {
		s.Do(t, "POST", "/v1/batch", tc.body).WantError(t, 400, "invalid", "", tc.msg)
	}
	var items []string
	for i := range 10001 {
		items = append(items, fmt.Sprintf(`{"op": "delete", "name": "/a/p%d"}`, i))
	}
	s.Do(t, "POST", "/v1/batch", `{"items": [`+strings.Join(items, ",")+`]}`).WantError(t, 413, "too_large", "", "at most 10000 items")
}

func TestBatchAccessControl(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/x", `{"type":"String","value":"1"}`).Want(t, 201, nil)
	// The reader may not write: the first item it may not do refuses all.
	a.as(t, "reader", "POST", "/v1/batch", `{"items": [{"op": "put", "name": "/app/prod/x", "value": "2", "overwrite": true}]}`).
		WantError(t, 403, "forbidden", "", "item 0 (put /app/prod/x)")
	a.as(t, "writer", "POST", "/v1/batch", `{"items": [{"op": "put", "name": "/app/prod/x", "value": "2", "overwrite": true},
		{"op": "delete", "name": "/app/prod/x"}]}`).Want(t, 200, nil)
	a.as(t, "", "POST", "/v1/batch", `{"items": [{"op": "delete", "name": "/app/prod/x"}]}`).Want(t, 401, nil)
}
