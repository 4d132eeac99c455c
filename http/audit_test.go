package http_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	vanehttp "github.com/vanehq/vane/http"
)

func TestAuditHistory(t *testing.T) {
	st := MustOpenStore(t)
	s := MustOpen(t, func(h *vanehttp.Server) { h.Store = st; h.Audit = st })
	s.Do(t, "PUT", "/v1/parameters/app/x", `{"type":"String","value":"1"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/x", `{"type":"String","value":"2","overwrite":true}`).Want(t, 200, nil)
	put(t, MustSSM(t, s), "/app/y", "via-ssm")
	s.Do(t, "DELETE", "/v1/parameters/app/x", "").Want(t, 204, nil)

	var page struct {
		Entries []struct {
			Action, Name, Principal, Source, Result string
			RequestID                               string `json:"request_id"`
			OldVersion                              int64  `json:"old_version"`
			NewVersion                              int64  `json:"new_version"`
		} `json:"entries"`
		NextToken string `json:"next_token"`
	}
	s.Do(t, "GET", "/v1/audit?path=/app/x", "").Want(t, 200, &page)
	if len(page.Entries) != 3 || page.Entries[2].Action != "ssm:DeleteParameter" || page.Entries[2].OldVersion != 2 {
		t.Fatalf("audit of /app/x: %+v", page.Entries)
	}
	for _, e := range page.Entries {
		if e.Source != "127.0.0.1" || e.Principal != "anonymous" || e.Result != "ok" {
			t.Errorf("entry %+v: want source 127.0.0.1, principal anonymous, result ok", e)
		}
	}
	var raw struct {
		Entries   []map[string]any `json:"entries"`
		NextToken string           `json:"next_token"`
	}
	r := s.Do(t, "GET", "/v1/audit?action=ssm:PutParameter&limit=2", "")
	r.Want(t, 200, &raw)
	if len(raw.Entries) != 2 || raw.Entries[0]["request_id"] == "" || raw.NextToken == "" {
		t.Errorf("page of 2 puts: %s", r.Body)
	}
	// The request id in the audit is the one the client saw.
	r = s.Do(t, "PUT", "/v1/parameters/app/z", `{"type":"String","value":"1"}`)
	id := r.Header.Get("X-Request-Id")
	s.Do(t, "GET", "/v1/audit?path=/app/z", "").Want(t, 200, &page)
	if len(page.Entries) != 1 || page.Entries[0].RequestID != id {
		t.Errorf("audit request id %+v, want %s", page.Entries, id)
	}

	r = s.Do(t, "GET", "/v1/audit?format=jsonl", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("jsonl: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("jsonl line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 5 {
		t.Errorf("jsonl export has %d lines, want 5", n)
	}
	s.Do(t, "GET", "/v1/audit?since=last-week", "").WantError(t, 400, "invalid", "", "since")
	s.Do(t, "GET", "/v1/audit?format=xml", "").WantError(t, 400, "invalid", "", "format")
	MustOpen(t).Do(t, "GET", "/v1/audit", "").WantError(t, 503, "unavailable", "")
}

func TestDeletionGuard(t *testing.T) {
	s := MustOpen(t)
	for _, p := range []string{"/app/features/checkout", "/app/tuning/ttl", "/billing/rates/eu", "/other/x"} {
		s.Do(t, "PUT", "/v1/parameters"+p, `{"type":"String","value":"true"}`).Want(t, 201, nil)
	}
	s.Do(t, "PUT", "/v1/parameters/vane/settings/allow-flag-deletion", `{"type":"String","value":"false"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/vane/settings/deletion-protected-paths", `{"type":"StringList","value":"/billing,/nowhere/"}`).Want(t, 201, nil)

	s.Do(t, "DELETE", "/v1/parameters/app/features/checkout", "").WantError(t, 403, "forbidden", "", "/vane/settings/allow-flag-deletion", "set it to true")
	s.Do(t, "DELETE", "/v1/parameters/billing/rates/eu", "").WantError(t, 403, "forbidden", "", "/vane/settings/deletion-protected-paths", "/billing/")
	s.Do(t, "DELETE", "/v1/parameters/app/tuning/ttl", "").Want(t, 204, nil)

	c := MustSSM(t, s)
	_, err := c.DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: aws.String("/app/features/checkout")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("SSM DeleteParameter of a guarded flag: %v, want AccessDeniedException", err)
	}
	_, err = c.DeleteParameters(context.Background(), &ssm.DeleteParametersInput{Names: []string{"/other/x", "/billing/rates/eu"}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("SSM DeleteParameters with a guarded name: %v, want AccessDeniedException", err)
	}
	s.Do(t, "GET", "/v1/parameters/other/x", "").Want(t, 200, nil) // nothing of the refused call happened

	// Changing the setting lifts the guard.
	s.Do(t, "PUT", "/v1/parameters/vane/settings/allow-flag-deletion", `{"type":"String","value":"true","overwrite":true}`).Want(t, 200, nil)
	s.Do(t, "DELETE", "/v1/parameters/app/features/checkout", "").Want(t, 204, nil)
}
