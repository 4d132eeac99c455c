package http_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/approval"
	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/rollout"
)

// Policies of the change-request tests: developers write and propose,
// leads approve, a reviewer approves only in dev.
const (
	developerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:LabelParameterVersion", "vane:ProposeChange", "vane:StartRollout"], "Resource": "/app/*"}]}`
	leadPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:GetParameter", "vane:ProposeChange", "vane:ApproveChange"], "Resource": "/app/*"}]}`
	devReviewerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:GetParameter", "vane:ApproveChange"], "Resource": "/app/*"},
	{"Effect": "Deny", "Action": "vane:ApproveChange", "Resource": "/app/prod/*"}]}`
	outsiderPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["ssm:GetParameter", "vane:ProposeChange"], "Resource": "/other/*"}]}`
)

// changeRequestJSON is the wire form of a change request.
type changeRequestJSON struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Comment string `json:"comment"`
	Author  string `json:"author"`
	Reason  string `json:"reason"`
	Items   []struct {
		Op            string  `json:"op"`
		Name          string  `json:"name"`
		Value         *string `json:"value"`
		Secret        bool    `json:"secret"`
		ExpectVersion *int64  `json:"expect_version"`
	} `json:"items"`
	Reviews []struct {
		Principal string `json:"principal"`
		Verdict   string `json:"verdict"`
	} `json:"reviews"`
	Names []struct {
		Name           string  `json:"name"`
		BaseVersion    int64   `json:"base_version"`
		CurrentVersion int64   `json:"current_version"`
		Stale          bool    `json:"stale"`
		Before         *string `json:"before"`
	} `json:"names"`
	Stale *bool `json:"stale"`
}

// mustOpenApprovals starts a server with access control and change
// requests wired as vane serve wires them, with /app/prod needing
// approval.
func mustOpenApprovals(t *testing.T) *accessServer {
	t.Helper()
	a := mustOpenAccess(t, func(s *vanehttp.Server) {
		g := guard.New(s.Store)
		s.Store = g
		s.Approvals = &approval.Service{Store: g, Requests: s.Audit.(vane.ChangeRequestStore), Cipher: s.Cipher, Audit: s.Audit}
		s.Rollouts = &rollout.Engine{Store: g, Rollouts: s.Audit.(vane.RolloutStore), Audit: s.Audit}
	})
	for who, policy := range map[string]string{"dev": developerPolicy, "lead": leadPolicy, "dev-reviewer": devReviewerPolicy,
		"outsider": outsiderPolicy} {
		key, secret, err := a.keys.CreateKey(context.Background(), who, policy, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		a.creds[who] = [2]string{key.ID, secret}
	}
	a.as(t, "admin", "PUT", "/v1/parameters/vane/settings/approval-paths", `{"type":"StringList","value":"/app/prod"}`).Want(t, 201, nil)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/limit", `{"type":"String","value":"10"}`).Want(t, 201, nil)
	return a
}

func (a *accessServer) value(t *testing.T, name string) string {
	t.Helper()
	var p Parameter
	a.as(t, "admin", "GET", "/v1/parameters"+name, "").Want(t, 200, &p)
	return p.Value
}

// proposeViaWrite makes a native write that needs approval and returns the
// change request it became.
func (a *accessServer) proposeViaWrite(t *testing.T, who, method, path, body string) changeRequestJSON {
	t.Helper()
	var out struct {
		ChangeRequest changeRequestJSON `json:"change_request"`
		Message       string            `json:"message"`
	}
	resp := a.as(t, who, method, path, body).Want(t, 202, &out)
	if out.ChangeRequest.ID == "" || out.ChangeRequest.State != "pending" ||
		resp.Header.Get("Location") != "/v1/change-requests/"+out.ChangeRequest.ID || !strings.Contains(out.Message, "approval") {
		t.Fatalf("202 without a pending request: %s", resp.Body)
	}
	return out.ChangeRequest
}

// TestChangeRequestFlow: on a path that needs approval, a developer's
// write becomes a change request, a lead approves it, and it is applied
// as one batch; what needs no approval, and who may bypass it, writes at
// once.
func TestChangeRequestFlow(t *testing.T) {
	a := mustOpenApprovals(t)

	t.Run("DirectWhereNoApprovalIsNeeded", func(t *testing.T) {
		a.as(t, "dev", "PUT", "/v1/parameters/app/dev/limit", `{"type":"String","value":"1"}`).Want(t, 201, nil)
		a.as(t, "dev", "PUT", "/v1/parameters/app/production-like/limit", `{"type":"String","value":"1"}`).Want(t, 201, nil)
	})
	t.Run("DirectWithBypass", func(t *testing.T) {
		a.as(t, "admin", "PUT", "/v1/parameters/app/prod/limit", `{"value":"11","overwrite":true}`).Want(t, 200, nil)
	})
	t.Run("ErrRefusedWithoutProposeChange", func(t *testing.T) {
		a.as(t, "writer", "PUT", "/v1/parameters/app/prod/limit", `{"value":"12","overwrite":true}`).
			WantError(t, 403, vane.EFORBIDDEN, vane.DetailApprovalRequired, "need approval", "/vane/settings/approval-paths")
		_, err := a.ssmAs(t, "dev").PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/app/prod/limit"),
			Value: aws.String("12"), Overwrite: aws.Bool(true)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "need approval") {
			t.Fatalf("SSM PutParameter on a path that needs approval: %v", err)
		}
		if a.value(t, "/app/prod/limit") != "11" {
			t.Fatal("a refused write was made")
		}
	})

	var cr changeRequestJSON
	t.Run("WriteBecomesARequest", func(t *testing.T) {
		cr = a.proposeViaWrite(t, "dev", "PUT", "/v1/parameters/app/prod/limit", `{"value":"20","overwrite":true}`)
		if cr.Author != "dev" || len(cr.Items) != 1 || *cr.Items[0].ExpectVersion != 2 || *cr.Items[0].Value != "20" {
			t.Fatalf("request: %+v", cr)
		}
		if a.value(t, "/app/prod/limit") != "11" {
			t.Fatal("the proposed write was made before approval")
		}
	})
	t.Run("Show", func(t *testing.T) {
		var got changeRequestJSON
		a.as(t, "lead", "GET", "/v1/change-requests/"+cr.ID, "").Want(t, 200, &got)
		if len(got.Names) != 1 || got.Names[0].BaseVersion != 2 || got.Names[0].CurrentVersion != 2 || got.Names[0].Stale ||
			got.Names[0].Before == nil || *got.Names[0].Before != "11" || got.Stale == nil || *got.Stale {
			t.Fatalf("show: %+v", got)
		}
		a.as(t, "outsider", "GET", "/v1/change-requests/"+cr.ID, "").WantError(t, 404, vane.ENOTFOUND, "", cr.ID)
		var list struct {
			ChangeRequests []changeRequestJSON `json:"change_requests"`
		}
		a.as(t, "lead", "GET", "/v1/change-requests?state=pending&path=/app/prod", "").Want(t, 200, &list)
		if len(list.ChangeRequests) != 1 || list.ChangeRequests[0].ID != cr.ID {
			t.Fatalf("lead lists %+v", list.ChangeRequests)
		}
		a.as(t, "outsider", "GET", "/v1/change-requests", "").Want(t, 200, &list)
		if len(list.ChangeRequests) != 0 {
			t.Fatalf("a key that may not read the names lists %d requests", len(list.ChangeRequests))
		}
		a.as(t, "lead", "GET", "/v1/change-requests?state=open", "").WantError(t, 400, vane.EINVALID, "", "state")
	})
	t.Run("ErrApproveWithoutTheAction", func(t *testing.T) {
		a.as(t, "dev-reviewer", "POST", "/v1/change-requests/"+cr.ID+"/approve", "").
			WantError(t, 403, vane.EFORBIDDEN, "", "vane:ApproveChange")
		a.as(t, "dev", "POST", "/v1/change-requests/"+cr.ID+"/approve", "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:ApproveChange")
	})
	t.Run("ErrApplyBeforeApproval", func(t *testing.T) {
		a.as(t, "dev", "POST", "/v1/change-requests/"+cr.ID+"/apply", "").WantError(t, 409, vane.ECONFLICT, "", "pending")
	})
	t.Run("Approve", func(t *testing.T) {
		var got changeRequestJSON
		a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/approve", `{"comment":"ok"}`).Want(t, 200, &got)
		if got.State != "approved" || len(got.Reviews) != 1 || got.Reviews[0].Principal != "lead" {
			t.Fatalf("approved: %+v", got)
		}
	})
	t.Run("ApplyByTheAuthor", func(t *testing.T) {
		var got changeRequestJSON
		a.as(t, "dev", "POST", "/v1/change-requests/"+cr.ID+"/apply", "").Want(t, 200, &got)
		if got.State != "applied" || a.value(t, "/app/prod/limit") != "20" {
			t.Fatalf("applied: %+v, value %q", got, a.value(t, "/app/prod/limit"))
		}
		var steps []string
		for _, e := range a.audit(t, "/app/prod/limit") {
			if e.Batch == cr.ID {
				steps = append(steps, e.Action+" "+e.Principal)
			}
		}
		want := []string{"vane:ProposeChange dev", "vane:ApproveChange lead", "ssm:PutParameter dev", "vane:ApplyChange dev"}
		if !slices.Equal(steps, want) {
			t.Fatalf("audit of the request = %q, want %q", steps, want)
		}
	})
}

// TestChangeRequestSelfApprovalRefused: even with vane:ApproveChange, the
// author of a request may not approve it.
func TestChangeRequestSelfApprovalRefused(t *testing.T) {
	a := mustOpenApprovals(t)
	var cr changeRequestJSON
	a.as(t, "lead", "POST", "/v1/change-requests", `{"comment":"mine","items":[{"op":"put","name":"/app/prod/limit","value":"30","overwrite":true}]}`).
		Want(t, 201, &cr)
	a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/approve", "").WantError(t, 403, vane.EFORBIDDEN, "", "author")
	a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/apply", "").WantError(t, 409, vane.ECONFLICT, "", "pending")
	if a.value(t, "/app/prod/limit") != "10" {
		t.Fatal("a self-approved request was applied")
	}
	var got changeRequestJSON
	a.as(t, "admin", "POST", "/v1/change-requests/"+cr.ID+"/approve", "").Want(t, 200, &got)
	if got.State != "approved" {
		t.Fatalf("another principal's approval: %+v", got)
	}
	a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/apply", "").Want(t, 200, &got)
	if a.value(t, "/app/prod/limit") != "30" {
		t.Fatal("not applied")
	}
}

// TestChangeRequestStaleRefused: a request made against a version that
// was changed since is refused, kept as stale, and writes nothing.
func TestChangeRequestStaleRefused(t *testing.T) {
	a := mustOpenApprovals(t)
	cr := a.proposeViaWrite(t, "dev", "POST", "/v1/batch", `{"comment":"two at once","items":[
		{"op":"put","name":"/app/prod/limit","value":"40","overwrite":true},
		{"op":"put","name":"/app/dev/limit","type":"String","value":"40"}]}`)
	if cr.Comment != "two at once" || len(cr.Items) != 2 {
		t.Fatalf("a batch with one name that needs approval: %+v", cr)
	}
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/limit", `{"value":"15","overwrite":true}`).Want(t, 200, nil)
	var got changeRequestJSON
	a.as(t, "lead", "GET", "/v1/change-requests/"+cr.ID, "").Want(t, 200, &got)
	if got.Stale == nil || !*got.Stale || !got.Names[0].Stale || got.Names[0].CurrentVersion != 2 {
		t.Fatalf("show of a stale request: %+v", got)
	}
	a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/approve", "").
		WantError(t, 409, vane.ECONFLICT, vane.DetailChangeRequestStale, "/app/prod/limit", "propose it again")
	a.as(t, "lead", "GET", "/v1/change-requests/"+cr.ID, "").Want(t, 200, &got)
	if got.State != "stale" || got.Reason == "" {
		t.Fatalf("after the refusal: %+v", got)
	}
	if a.value(t, "/app/prod/limit") != "15" {
		t.Fatal("a stale request was written")
	}
	a.as(t, "admin", "GET", "/v1/parameters/app/dev/limit", "").WantError(t, 404, vane.ENOTFOUND, "", "")
}

// TestChangeRequestScope: the other write routes propose too, secrets are
// never shown, a rollout on a path that needs approval is refused, and
// proposing needs vane:ProposeChange on every name.
func TestChangeRequestScope(t *testing.T) {
	a := mustOpenApprovals(t)
	a.proposeViaWrite(t, "dev", "DELETE", "/v1/parameters/app/prod/limit", "")
	a.proposeViaWrite(t, "dev", "PUT", "/v1/tags/app/prod/limit", `{"tags":{"owner":"payments"}}`)
	a.proposeViaWrite(t, "dev", "PUT", "/v1/labels/app/prod/limit", `{"labels":["stable"]}`)
	secret := a.proposeViaWrite(t, "dev", "PUT", "/v1/parameters/app/prod/db/password", `{"type":"SecureString","value":"hunter2-but-longer"}`)
	if it := secret.Items[0]; it.Value != nil || !it.Secret {
		t.Fatalf("a proposed secret is shown: %+v", it)
	}
	resp := a.as(t, "lead", "GET", "/v1/change-requests/"+secret.ID, "")
	if resp.Status != 200 || strings.Contains(string(resp.Body), "hunter2") {
		t.Fatalf("show of a secret's request: %d %s", resp.Status, resp.Body)
	}
	if a.value(t, "/app/prod/limit") != "10" {
		t.Fatal("a proposed write was made")
	}
	a.as(t, "dev", "POST", "/v1/rollouts", `{"name":"/app/prod/limit","value":"50","bake":"5m"}`).
		WantError(t, 403, vane.EFORBIDDEN, vane.DetailApprovalRequired, "vane:BypassApproval")
	a.as(t, "admin", "POST", "/v1/rollouts", `{"name":"/app/prod/limit","value":"50","bake":"5m"}`).Want(t, 201, nil)
	a.as(t, "outsider", "POST", "/v1/change-requests", `{"items":[{"op":"put","name":"/app/prod/limit","value":"1","overwrite":true}]}`).
		WantError(t, 403, vane.EFORBIDDEN, "", "vane:ProposeChange")
	a.as(t, "lead", "POST", "/v1/change-requests", `{"items":[{"op":"put","name":"/app/prod/features/f","type":"String","value":"{\"enabled\":\"yes\"}"}]}`).
		WantError(t, 400, vane.EINVALID, "", "item 0", "enabled")
	var cr changeRequestJSON
	a.as(t, "lead", "POST", "/v1/change-requests", `{"items":[{"op":"put","name":"/app/prod/x","type":"String","value":"1"}]}`).Want(t, 201, &cr)
	a.as(t, "dev", "POST", "/v1/change-requests/"+cr.ID+"/cancel", "").WantError(t, 403, vane.EFORBIDDEN, "", "author")
	a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/cancel", "").Want(t, 200, &cr)
	if cr.State != "cancelled" {
		t.Fatalf("cancel: %+v", cr)
	}
	a.as(t, "lead", "POST", "/v1/change-requests/"+cr.ID+"/merge", "").WantError(t, 404, vane.ENOTFOUND, "", "approve, reject")
}
