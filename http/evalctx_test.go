package http

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/vanehq/vane/flag"
)

var evalBodies = []string{
	`{"context": {"targetingKey": "user-42", "tier": "premium", "region": "eu-west-1", "age_days": 45, "email": "ann@example.com", "plan": "pro"}}`,
	`{"path": "/bench/prod/", "context": {"targetingKey": "u", "n": -1.5e3, "ok": true, "no": false, "none": null}}`,
	`{}`, `{"context": null}`, `{"context": {}}`, ` {"Context" : {"a":"b"}} `, `{"CONTEXT": {"a": 0}}`,
	`{"context": {"a": 1}, "context": {"b": 2}}`, `{"path": "/a/", "path": null}`, `{"context": {"a": "\u00e9"}}`,
	`{"context": {"a": [1, 2]}}`, `{"context": {"a": {"b": 1}}}`, `{"context": {"a": 1e400}}`, `{"context": {"a": 01}}`,
	`{"context": {"a": 1.}}`, `{"context": {"a": "x"}} x`, `{"other": 1}`, `[]`, `null`, `{"context": "x"}`,
	"{\"context\": {\"a\": \"\xff\"}}", `{"context": {"a": -0}}`, `{"context": {"k": "a", "k": "b"}}`,
}

// FuzzParseEvalBody: whatever the fast parser accepts, encoding/json
// decodes to the same path and context (OFREP's body, and /v1/evaluate's
// with unknown members refused).
func FuzzParseEvalBody(f *testing.F) {
	for _, b := range evalBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, withPath := range []bool{false, true} {
			path, ctx, ok := parseEvalBody(b, withPath)
			if !ok {
				continue
			}
			var want struct {
				Path    string       `json:"path"`
				Context flag.Context `json:"context"`
			}
			var err error
			if withPath {
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.DisallowUnknownFields()
				err = dec.Decode(&want)
			} else {
				var ofrep struct {
					Context flag.Context `json:"context"`
				}
				err = json.Unmarshal(b, &ofrep)
				want.Context = ofrep.Context
			}
			if err != nil {
				t.Fatalf("parseEvalBody(%q, %v) accepted what encoding/json refuses: %v", b, withPath, err)
			}
			if path != want.Path || !reflect.DeepEqual(ctx, want.Context) {
				t.Fatalf("parseEvalBody(%q, %v) = %q, %#v; encoding/json: %q, %#v", b, withPath, path, ctx, want.Path, want.Context)
			}
		}
	})
}

// TestParseEvalBodyTakesTheCommonShape: the fast path is taken for the
// bodies clients send, so that it is not silently always skipped.
func TestParseEvalBodyTakesTheCommonShape(t *testing.T) {
	for i, b := range evalBodies[:7] {
		if _, _, ok := parseEvalBody([]byte(b), true); !ok {
			t.Errorf("body %d (%s) not parsed", i, b)
		}
	}
	for _, b := range evalBodies[7:] {
		if _, _, ok := parseEvalBody([]byte(b), true); ok && b != `{"context": {"a": -0}}` && b != `{"context": {"k": "a", "k": "b"}}` {
			t.Errorf("body %s parsed; it is left to encoding/json", b)
		}
	}
}
