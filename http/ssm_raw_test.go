package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"strings"
	"testing"

	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
)

// These tests send SSM requests by hand, to check the wire form that the
// SDKs hide: headers, error shapes, JSON types, omitted fields.

// SSM sends an SSM request with target X-Amz-Target (as given, so tests
// can send bad ones) and reads the response.
func (s *Server) SSM(tb testing.TB, target, body string) *Response {
	tb.Helper()
	req, err := nethttp.NewRequest("POST", s.URL()+"/", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		tb.Fatalf("%s: Content-Type %q", target, ct)
	}
	if id := r.Header.Get("X-Amzn-RequestId"); id == "" || id != r.Header.Get("X-Request-Id") {
		tb.Fatalf("%s: x-amzn-RequestId %q, X-Request-Id %q", target, id, r.Header.Get("X-Request-Id"))
	}
	return r
}

// SSMError is the error shape of the SSM protocol.
type SSMError struct {
	Type     string `json:"__type"`
	Message  string `json:"message"`
	Message2 string `json:"Message"`
}

// WantSSMError fails the test unless the response is an SSM error of the
// status and type, named alike in the body and in X-Amzn-ErrorType, with a
// message containing each of contains.
func (r *Response) WantSSMError(tb testing.TB, status int, typ string, contains ...string) *SSMError {
	tb.Helper()
	var e SSMError
	if r.Status != status {
		tb.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		tb.Fatalf("decoding %s: %v", r.Body, err)
	}
	if e.Type != typ || r.Header.Get("X-Amzn-ErrorType") != typ {
		tb.Fatalf("__type %q, X-Amzn-ErrorType %q, want %q; body %s", e.Type, r.Header.Get("X-Amzn-ErrorType"), typ, r.Body)
	}
	if e.Message == "" || e.Message != e.Message2 {
		tb.Fatalf("message %q, Message %q: want both, equal", e.Message, e.Message2)
	}
	for _, c := range contains {
		if !strings.Contains(e.Message, c) {
			tb.Fatalf("message %q does not contain %q", e.Message, c)
		}
	}
	return &e
}

func TestSSMProtocol(t *testing.T) {
	s := MustOpen(t)
	s.SSM(t, "AmazonSSM.PutParameter", `{"Name":"/raw/p","Value":"v","Type":"String"}`).Want(t, 200, nil)

	t.Run("ErrUnknownOperation", func(t *testing.T) {
		for target, want := range map[string]string{
			"AmazonSSM.SendCommand":          `"SendCommand" is not supported`,
			"AmazonSSM.getparameter":         "not supported",
			"DynamoDB_20120810.GetItem":      "unknown target",
			"AmazonSSM.":                     "not supported",
			"":                               "X-Amz-Target header is missing",
			"AmazonSSMGetParameter":          "unknown target",
			"AmazonSSM.GetParameter.Extra":   "not supported",
			"amazonssm.GetParameter":         "unknown target",
			"AmazonSSM.__proto__":            "not supported",
			"AmazonSSM.ListTagsForResourceX": "not supported",
		} {
			s.SSM(t, target, `{}`).WantSSMError(t, 400, "UnknownOperationException", want)
		}
	})
	t.Run("ErrMalformedJSON", func(t *testing.T) {
		s.SSM(t, "AmazonSSM.GetParameter", `{"Name":`).WantSSMError(t, 400, "SerializationException", "not valid JSON")
		s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/raw/p"}{}`).WantSSMError(t, 400, "SerializationException", "single JSON object")
		s.SSM(t, "AmazonSSM.GetParameter", `["/raw/p"]`).WantSSMError(t, 400, "SerializationException", "must be a JSON object")
		s.SSM(t, "AmazonSSM.GetParameter", `{'Name':'/raw/p'}`).WantSSMError(t, 400, "SerializationException", "not valid JSON")
	})
	t.Run("ErrWrongTypes", func(t *testing.T) {
		s.SSM(t, "AmazonSSM.GetParameter", `{"Name":5}`).WantSSMError(t, 400, "SerializationException", `"Name"`, "string")
		s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/raw/p","WithDecryption":"true"}`).WantSSMError(t, 400, "SerializationException", `"WithDecryption"`)
		s.SSM(t, "AmazonSSM.GetParameters", `{"Names":"/raw/p"}`).WantSSMError(t, 400, "SerializationException", `"Names"`, "array")
		s.SSM(t, "AmazonSSM.GetParametersByPath", `{"Path":"/raw","MaxResults":2.5}`).WantSSMError(t, 400, "SerializationException", `"MaxResults"`, "whole number")
		s.SSM(t, "AmazonSSM.PutParameter", `{"Name":"/raw/q","Value":"v","Tags":[{"Key":1,"Value":"x"}]}`).WantSSMError(t, 400, "SerializationException", `"Tags.Key"`)
	})
	t.Run("ErrMissingRequired", func(t *testing.T) {
		s.SSM(t, "AmazonSSM.GetParameter", `{}`).WantSSMError(t, 400, "ValidationException", "Value null at 'name' failed to satisfy constraint: Member must not be null")
		s.SSM(t, "AmazonSSM.GetParameter", ``).WantSSMError(t, 400, "ValidationException", "'name'")
		s.SSM(t, "AmazonSSM.GetParameter", `null`).WantSSMError(t, 400, "ValidationException", "'name'")
		s.SSM(t, "AmazonSSM.PutParameter", `{"Name":null}`).WantSSMError(t, 400, "ValidationException", "2 validation errors detected", "'name'", "'value'")
		s.SSM(t, "AmazonSSM.UnlabelParameterVersion", `{"Name":"/raw/p"}`).WantSSMError(t, 400, "ValidationException", "'parameterVersion'", "'labels'")
		s.SSM(t, "AmazonSSM.AddTagsToResource", `{"ResourceType":"Parameter","ResourceId":"/raw/p","Tags":[{"Key":"k"}]}`).WantSSMError(t, 400, "ValidationException", "'tags.1.member.value'")
		s.SSM(t, "AmazonSSM.RemoveTagsFromResource", `{"ResourceType":"Parameter","ResourceId":"/raw/p","TagKeys":[""]}`).WantSSMError(t, 400, "ValidationException", "'tagKeys.1.member'")
	})
	t.Run("ErrLimits", func(t *testing.T) {
		s.SSM(t, "AmazonSSM.GetParametersByPath", `{"Path":"/raw","MaxResults":0}`).WantSSMError(t, 400, "ValidationException", "'0'", "greater than or equal to 1")
		s.SSM(t, "AmazonSSM.GetParameters", `{"Names":[]}`).WantSSMError(t, 400, "ValidationException", "'names'", "greater than or equal to 1")
		s.SSM(t, "AmazonSSM.GetParameters", `{"Names":[""]}`).WantSSMError(t, 400, "ValidationException", "'names.1.member'")
		s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/`+strings.Repeat("x", 2100)+`"}`).WantSSMError(t, 400, "ValidationException", "too long")
		s.SSM(t, "AmazonSSM.PutParameter", `{"Name":"/raw/pol","Value":"v","Type":"String","Policies":""}`).WantSSMError(t, 400, "ValidationException", "'policies'")
		s.SSM(t, "AmazonSSM.LabelParameterVersion", `{"Name":"/raw/p","ParameterVersion":0,"Labels":["a"]}`).WantSSMError(t, 400, "ValidationException", "'parameterVersion'")
		s.SSM(t, "AmazonSSM.LabelParameterVersion", `{"Name":"/raw/p","Labels":["`+strings.Repeat("l", 101)+`"]}`).WantSSMError(t, 400, "ValidationException", "1 to 100 characters")
	})
	t.Run("ErrForgedNextToken", func(t *testing.T) {
		// A well-formed store token, not signed by this server.
		r := s.SSM(t, "AmazonSSM.GetParametersByPath", `{"Path":"/raw","NextToken":"`+vane.EncodeToken("/raw/a")+`"}`)
		r.WantSSMError(t, 400, "InvalidNextToken", "NextToken is not valid")
		s.SSM(t, "AmazonSSM.GetParameterHistory", `{"Name":"/raw/p","NextToken":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`).WantSSMError(t, 400, "InvalidNextToken")
		s.SSM(t, "AmazonSSM.DescribeParameters", `{"NextToken":"`+strings.Repeat("A", 5000)+`"}`).WantSSMError(t, 400, "InvalidNextToken")
	})
	t.Run("UnknownMembersIgnored", func(t *testing.T) {
		// As AWS does, so that newer SDKs sending new members still work.
		s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/raw/p","NewMember":{"x":[1]}}`).Want(t, 200, nil)
	})
	t.Run("Shapes", func(t *testing.T) {
		var get map[string]map[string]any
		if err := json.Unmarshal(s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/raw/p"}`).Want(t, 200, nil).Body, &get); err != nil {
			t.Fatal(err)
		}
		p := get["Parameter"]
		if _, ok := p["LastModifiedDate"].(float64); !ok {
			t.Fatalf("LastModifiedDate %#v, want a JSON number", p["LastModifiedDate"])
		}
		if _, ok := p["Version"].(float64); !ok {
			t.Fatalf("Version %#v, want a JSON number", p["Version"])
		}
		for _, absent := range []string{"Selector", "SourceResult", "KeyId", "LastModifiedUser", "Labels"} {
			if _, ok := p[absent]; ok {
				t.Fatalf("Parameter has %s: %v", absent, p)
			}
		}
		var lists map[string]any
		json.Unmarshal(s.SSM(t, "AmazonSSM.GetParameters", `{"Names":["/raw/p"]}`).Want(t, 200, nil).Body, &lists)
		if v, ok := lists["InvalidParameters"].([]any); !ok || len(v) != 0 {
			t.Fatalf("InvalidParameters %#v, want []", lists["InvalidParameters"])
		}
		var page map[string]any
		json.Unmarshal(s.SSM(t, "AmazonSSM.GetParametersByPath", `{"Path":"/none"}`).Want(t, 200, nil).Body, &page)
		if v, ok := page["Parameters"].([]any); !ok || len(v) != 0 || page["NextToken"] != nil {
			t.Fatalf("empty page %v, want Parameters [] and no NextToken", page)
		}
		if body := string(s.SSM(t, "AmazonSSM.AddTagsToResource", `{"ResourceType":"Parameter","ResourceId":"/raw/p","Tags":[{"Key":"k","Value":""}]}`).Want(t, 200, nil).Body); body != "{}" {
			t.Fatalf("AddTagsToResource body %q, want {}", body)
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		body := string(s.Do(t, "GET", "/metrics", "").Want(t, 200, nil).Body)
		for _, want := range []string{
			`vane_http_requests_total{code="200",method="POST",route="POST / AmazonSSM.GetParameter"}`,
			`vane_http_requests_total{code="400",method="POST",route="POST / (unknown target)"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(body, "SendCommand") {
			t.Error("an unknown target became a metrics label")
		}
	})
}

func TestSSMSharesListener(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "GET", "/healthz", "").Want(t, 200, nil)
	s.MustPut(t, "/share/p", "v")
	s.Do(t, "GET", "/v1/parameters/share/p", "").Want(t, 200, nil)
	// Wrong methods and unknown routes keep the native error shape.
	s.Do(t, "POST", "/v1/parameters/share/p", `{}`).WantError(t, 405, vane.EINVALID, "")
	s.Do(t, "POST", "/other", `{}`).WantError(t, 404, vane.ENOTFOUND, "", "no route")
	r := s.Do(t, "GET", "/", "")
	r.WantError(t, 405, vane.EINVALID, "")
	if r.Header.Get("Allow") != "POST" {
		t.Fatalf("GET /: Allow %q", r.Header.Get("Allow"))
	}
	s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/share/p"}`).Want(t, 200, nil)
}

func TestSSMInternalErrorHidden(t *testing.T) {
	secret := errors.New("open /var/lib/vane/secret.db: permission denied")
	s := MustOpen(t, func(s *vanehttp.Server) {
		s.Store = &fakeStore{Store: s.Store, GetFn: func(context.Context, string) (*vane.Parameter, error) { return nil, secret }}
	})
	r := s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/x"}`)
	e := r.WantSSMError(t, 500, "InternalServerError")
	if e.Message != "Internal error." || strings.Contains(string(r.Body), "secret") {
		t.Fatalf("internal error leaked: %s", r.Body)
	}
	id := r.Header.Get("X-Amzn-RequestId")
	var found bool
	for _, line := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "request_id="+id) &&
			strings.Contains(line, secret.Error()) && strings.Contains(line, `route="POST / AmazonSSM.GetParameter"`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no error log line with request id %s, route and error:\n%s", id, s.Logs.String())
	}
	s.SSM(t, "AmazonSSM.GetParameters", `{"Names":["/x"]}`).WantSSMError(t, 500, "InternalServerError")

	s = MustOpen(t, func(s *vanehttp.Server) {
		s.Store = &fakeStore{Store: s.Store, GetFn: func(context.Context, string) (*vane.Parameter, error) {
			return nil, vane.Errorf(vane.EUNAVAILABLE, "the database is not reachable")
		}}
	})
	s.SSM(t, "AmazonSSM.GetParameter", `{"Name":"/x"}`).WantSSMError(t, 503, "InternalServerError", "not reachable")
}
