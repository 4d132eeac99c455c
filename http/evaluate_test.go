package http_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/vanehq/vane"
	vanehttp "github.com/vanehq/vane/http"
)

// mustOpenFlags starts a server on a fixed clock.
func mustOpenFlags(t *testing.T) *Server {
	return MustOpen(t, func(s *vanehttp.Server) {
		s.Now = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	})
}

func TestFlagValidationOnWrite(t *testing.T) {
	s := mustOpenFlags(t)
	bad := map[string]string{
		`{"enabled": true, "rollout_percentage": 120}`: "$.rollout_percentage: 120 is not from 0 to 100",
		`maybe`:              "true, false or a JSON object",
		`{"enabeld": false}`: "$.enabeld: unknown field",
		`{"default": false, "rules": [{"when_match": true, "conditions": [{"action": "LIKE", "key": "a", "value": 1}]}]}`: "$.rules[0].conditions[0]",
	}
	for doc, want := range bad {
		body := `{"type":"String","overwrite":true,"value":` + jsonString(doc) + `}`
		s.Do(t, "PUT", "/v1/parameters/app/prod/features/checkout", body).WantError(t, 400, vane.EINVALID, vane.DetailValidation, want)
	}
	// Nothing was stored by the refused writes.
	s.Do(t, "GET", "/v1/parameters/app/prod/features/checkout", "").WantError(t, 404, vane.ENOTFOUND, "")
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/checkout", `{"type":"StringList","value":"true"}`).WantError(t, 400, vane.EINVALID, "", "must be a String")
	// Outside features/ any value goes.
	s.Do(t, "PUT", "/v1/parameters/app/prod/tuning/x", `{"type":"String","value":"maybe"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/checkout", `{"type":"String","value":"{\"rollout_percentage\": 5}"}`).Want(t, 201, nil)

	// The SSM API applies the same validation.
	c := MustSSM(t, s)
	_, err := c.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/app/prod/features/checkout"), Value: aws.String(`{"rollout_percentage": 5.0001}`),
		Type: "String", Overwrite: aws.Bool(true),
	})
	wantValidation(t, err, "$.rollout_percentage", "three decimals")
	p := must[*ssm.GetParameterOutput](t)(c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/prod/features/checkout")}))
	if aws.ToInt64(&p.Parameter.Version) != 1 {
		t.Errorf("a refused SSM put changed the flag: version %d", p.Parameter.Version)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type evaluation struct {
	Name      string         `json:"name"`
	Value     any            `json:"value"`
	Variant   string         `json:"variant"`
	Reason    string         `json:"reason"`
	Rule      string         `json:"rule"`
	Metadata  map[string]any `json:"metadata"`
	Version   int64          `json:"version"`
	ErrorCode string         `json:"error_code"`
}

func TestEvaluate(t *testing.T) {
	s := mustOpenFlags(t)
	doc := `{"default": false, "metadata": {"owner": "payments"}, "rules": [{"name": "premium", "when_match": true,
		"conditions": [{"action": "EQUALS", "key": "tier", "value": "premium"}]}]}`
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/checkout", `{"type":"String","value":`+jsonString(doc)+`}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/dark-mode", `{"type":"String","value":"true"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/rollout", `{"type":"String","value":"{\"rollout_percentage\": 50, \"fallback_on_error\": false}"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/app/prod/tuning/ttl", `{"type":"String","value":"300"}`).Want(t, 201, nil)

	var e evaluation
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/checkout", `{"context": {"tier": "premium"}}`).Want(t, 200, &e)
	if e.Value != true || e.Variant != "on" || e.Reason != "TARGETING_MATCH" || e.Rule != "premium" || e.Metadata["owner"] != "payments" || e.Version != 1 {
		t.Errorf("premium: %+v", e)
	}
	e = evaluation{}
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/checkout", "").Want(t, 200, &e)
	if e.Value != false || e.Reason != "DEFAULT" {
		t.Errorf("no context: %+v", e)
	}
	e = evaluation{}
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/rollout", `{"context": {}}`).Want(t, 200, &e)
	if e.Value != false || e.Reason != "ERROR" || e.ErrorCode != "TARGETING_KEY_MISSING" {
		t.Errorf("rollout without a key: %+v", e)
	}

	s.Do(t, "POST", "/v1/evaluate/app/prod/features/missing", "").WantError(t, 404, vane.ENOTFOUND, "")
	s.Do(t, "POST", "/v1/evaluate/app/prod/tuning/ttl", "").WantError(t, 400, vane.EINVALID, "", "not a flag")
	s.Do(t, "POST", "/v1/evaluate/app/prod/features/checkout", `{"context": [1]}`).WantError(t, 400, vane.EINVALID, "")
	s.Do(t, "POST", "/v1/evaluate", `{"context": {}}`).WantError(t, 400, vane.EINVALID, "", `"path" is required`)

	var all struct {
		Path  string       `json:"path"`
		Flags []evaluation `json:"flags"`
	}
	s.Do(t, "POST", "/v1/evaluate", `{"path": "/app/prod", "context": {"tier": "premium", "user_id": "u1"}}`).Want(t, 200, &all)
	if all.Path != "/app/prod/" || len(all.Flags) != 3 {
		t.Fatalf("bulk: %+v", all)
	}
	got := map[string]evaluation{}
	for _, f := range all.Flags {
		got[f.Name] = f
	}
	if got["/app/prod/features/checkout"].Value != true || got["/app/prod/features/dark-mode"].Reason != "STATIC" || got["/app/prod/features/rollout"].Reason != "SPLIT" {
		t.Errorf("bulk results: %+v", got)
	}
}

// TestBulkEvaluationFollowsChanges: the flags under a path are kept
// between changes (over an index, as vane serve runs), so a bulk
// evaluation right after a flag is added, changed or deleted must see it.
func TestBulkEvaluationFollowsChanges(t *testing.T) {
	s := mustOpenWatch(t, vanehttp.WatchOptions{})
	bulk := func() map[string]evaluation {
		t.Helper()
		var all struct {
			Flags []evaluation `json:"flags"`
		}
		s.Do(t, "POST", "/v1/evaluate", `{"path": "/app/prod/"}`).Want(t, 200, &all)
		got := map[string]evaluation{}
		for _, f := range all.Flags {
			got[f.Name] = f
		}
		return got
	}
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/a", `{"type":"String","value":"true"}`).Want(t, 201, nil)
	if got := bulk(); len(got) != 1 || got["/app/prod/features/a"].Value != true {
		t.Fatalf("one flag: %+v", got)
	}
	bulk() // from the kept list
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/b", `{"type":"String","value":"false"}`).Want(t, 201, nil)
	if got := bulk(); len(got) != 2 || got["/app/prod/features/b"].Value != false {
		t.Fatalf("after adding b: %+v", got)
	}
	s.Do(t, "PUT", "/v1/parameters/app/prod/features/a", `{"type":"String","value":"false","overwrite":true}`).Want(t, 200, nil)
	if got := bulk(); got["/app/prod/features/a"].Value != false || got["/app/prod/features/a"].Version != 2 {
		t.Fatalf("after changing a: %+v", got)
	}
	s.Do(t, "DELETE", "/v1/parameters/app/prod/features/b", "").Want(t, 204, nil)
	if got := bulk(); len(got) != 1 {
		t.Fatalf("after deleting b: %+v", got)
	}
}
