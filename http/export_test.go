package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

// exportJSON is the body of GET /v1/export.
type exportJSON struct {
	Path       string `json:"path"`
	Sequence   int64  `json:"sequence"`
	Parameters []struct {
		Parameter
		Tags map[string]string `json:"tags"`
	} `json:"parameters"`
}

func TestExportListsASubtreeWithLabelsAndTags(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/app/prod/b", `{"type":"String","value":"2","tags":{"team":"pay","env":"prod"}}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/a/deep", `{"type":"StringList","value":"x,y","description":"d"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/f", `{"type":"String","value":"{\"enabled\":true}"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/labels/app/prod/b", `{"labels":["stable"]}`).Want(t, 200, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prodx", `{"type":"String","value":"outside"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/dev/c", `{"type":"String","value":"outside"}`).Want(t, 201, nil)

	var out exportJSON
	r := s.Do(t, "GET", "/v1/export?path=/app/prod", "").Want(t, 200, &out)
	if cc := r.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	var names []string
	for _, p := range out.Parameters {
		names = append(names, p.Name)
	}
	if fmt.Sprint(names) != "[/app/prod/a/deep /app/prod/b /app/prod/features/f]" {
		t.Fatalf("export names %v", names)
	}
	if out.Path != "/app/prod/" || out.Sequence != 6 {
		t.Errorf("path %q sequence %d, want /app/prod/ and 6", out.Path, out.Sequence)
	}
	b := out.Parameters[1]
	if b.Value != "2" || b.Version != 1 || fmt.Sprint(b.Labels) != "[stable]" || fmt.Sprint(b.Tags) != "map[env:prod team:pay]" {
		t.Errorf("exported /app/prod/b: %+v", b)
	}
	if d := out.Parameters[0]; d.Tags != nil || d.Description != "d" || d.Type != "StringList" {
		t.Errorf("exported /app/prod/a/deep: %+v", d)
	}

	t.Run("EmptyPath", func(t *testing.T) {
		var out exportJSON
		s.Do(t, "GET", "/v1/export?path=/nothing", "").Want(t, 200, &out)
		if out.Parameters == nil || len(out.Parameters) != 0 {
			t.Errorf("an empty export: %+v, want an empty list", out)
		}
	})
	t.Run("ErrPathRequired", func(t *testing.T) {
		s.Do(t, "GET", "/v1/export", "").WantError(t, 400, vane.EINVALID, "", "path")
		s.Do(t, "GET", "/v1/export?path=nope", "").WantError(t, 400, vane.EINVALID, "", "must begin with '/'")
		s.Do(t, "GET", "/v1/export?path=/a&recursive=true", "").WantError(t, 400, vane.EINVALID, "", "recursive")
	})
}

// TestExportAccess checks that an export shows only what the caller may
// list by path and list the tags of, and plaintexts only with kms:Decrypt.
func TestExportAccess(t *testing.T) {
	a := mustOpenAccess(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/a", `{"type":"String","value":"v","tags":{"t":"1"}}`).Want(t, 201, nil)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/pw", `{"type":"SecureString","value":"hunter2"}`).Want(t, 201, nil)
	a.as(t, "admin", "PUT", "/v1/parameters/app/dev/c", `{"type":"String","value":"v"}`).Want(t, 201, nil)

	// The reader may list /app/prod by path, but not list tags: nothing.
	var out exportJSON
	a.as(t, "reader", "GET", "/v1/export?path=/app", "").Want(t, 200, &out)
	if len(out.Parameters) != 0 {
		t.Errorf("a key without ssm:ListTagsForResource exported %+v", out.Parameters)
	}
	key, secret, err := a.keys.CreateKey(context.Background(), "exporter", `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["ssm:GetParametersByPath", "ssm:ListTagsForResource"], "Resource": "/app/prod/*"}]}`, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	a.creds["exporter"] = [2]string{key.ID, secret}
	a.as(t, "exporter", "GET", "/v1/export?path=/app", "").Want(t, 200, &out)
	if len(out.Parameters) != 2 || out.Parameters[0].Name != "/app/prod/a" || out.Parameters[0].Tags["t"] != "1" {
		t.Fatalf("the exporter's export: %+v", out.Parameters)
	}
	if pw := out.Parameters[1]; pw.Value == "" || strings.Contains(pw.Value, "hunter2") {
		t.Errorf("a SecureString exported without decryption: %q, want the sealed form", pw.Value)
	}
	a.as(t, "exporter", "GET", "/v1/export?path=/app&with_decryption=true", "").WantError(t, 403, vane.EFORBIDDEN, "", "kms:Decrypt")
	a.as(t, "writer", "GET", "/v1/export?path=/app&with_decryption=true", "").Want(t, 200, &out)
	raw, _ := json.Marshal(out)
	if !strings.Contains(string(raw), "hunter2") || !strings.Contains(string(raw), "/app/dev/c") {
		t.Errorf("the writer's decrypted export: %s", raw)
	}
}
