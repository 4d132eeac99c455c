package http_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/guard"
	vanehttp "github.com/vanehq/vane/http"
	"github.com/vanehq/vane/rollout"
)

const rollouterPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["vane:*Rollout*", "vane:*Schedule*", "ssm:PutParameter", "ssm:GetParameter", "ssm:LabelParameterVersion"], "Resource": "/app/prod/*"}]}`

const starterPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["vane:StartRollout", "vane:ScheduleChange"], "Resource": "/app/prod/*"}]}`

const viewerPolicy = `{"Version": "2012-10-17", "Statement": [
	{"Effect": "Allow", "Action": ["vane:DescribeRollouts", "vane:DescribeScheduledChanges"], "Resource": "/app/prod/*"}]}`

// mustOpenRollouts starts a server with access control and the rollout
// engine and scheduler wired as vane serve wires them.
func mustOpenRollouts(t *testing.T) *accessServer {
	t.Helper()
	var a *accessServer
	a = mustOpenAccess(t, func(s *vanehttp.Server) {
		g := guard.New(s.Store)
		st := s.Audit.(rolloutStore)
		e := &rollout.Engine{Store: g, Rollouts: st, Audit: s.Audit}
		s.Store = g
		s.Rollouts = e
		s.Schedules = &rollout.Scheduler{Store: g, Schedules: st, Rollouts: e, Audit: s.Audit}
	})
	for who, policy := range map[string]string{"rollouter": rollouterPolicy, "starter": starterPolicy, "viewer": viewerPolicy} {
		key, secret, err := a.keys.CreateKey(context.Background(), who, policy, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		a.creds[who] = [2]string{key.ID, secret}
	}
	return a
}

type rolloutStore interface {
	vane.RolloutStore
	vane.ScheduleStore
}

func TestRolloutRoutes(t *testing.T) {
	a := mustOpenRollouts(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/features/checkout", `{"type":"String","value":"false"}`).Want(t, 201, nil)
	a.as(t, "admin", "PUT", "/v1/parameters/app/dev/features/checkout", `{"type":"String","value":"false"}`).Want(t, 201, nil)
	body := `{"name":"/app/prod/features/checkout","strategy":"linear","step":25,"every":"5m","bake":"30m"}`

	t.Run("ErrStartNeedsPutToo", func(t *testing.T) {
		a.as(t, "starter", "POST", "/v1/rollouts", body).WantError(t, 403, vane.EFORBIDDEN, "", "ssm:PutParameter")
	})
	var r vane.Rollout
	t.Run("Start", func(t *testing.T) {
		resp := a.as(t, "rollouter", "POST", "/v1/rollouts", body).Want(t, 201, &r)
		if r.State != vane.RolloutRunning || r.Share != 25 || resp.Header.Get("Location") != "/v1/rollouts/"+r.ID {
			t.Fatalf("started %+v, Location %q", r, resp.Header.Get("Location"))
		}
		var p Parameter
		a.as(t, "admin", "GET", "/v1/parameters/app/prod/features/checkout", "").Want(t, 200, &p)
		if p.Value != `{"rollout_percentage":25}` || p.LastModifiedUser != "rollout:"+r.ID {
			t.Fatalf("flag after start: %+v", p)
		}
	})
	t.Run("ErrSecondRollout", func(t *testing.T) {
		a.as(t, "rollouter", "POST", "/v1/rollouts", body).WantError(t, 409, vane.ECONFLICT, vane.DetailRolloutInProgress, r.ID)
	})
	t.Run("ErrBadSpec", func(t *testing.T) {
		a.as(t, "admin", "POST", "/v1/rollouts", `{"name":"/app/dev/features/checkout","strategy":"linear","step":25,"every":"soon"}`).
			WantError(t, 400, vane.EINVALID, "", "soon")
		a.as(t, "admin", "POST", "/v1/rollouts", `{"name":"/app/dev/features/checkout","strategy":"linear","stpe":25}`).
			WantError(t, 400, vane.EINVALID, "", "stpe")
		a.as(t, "admin", "POST", "/v1/rollouts", `{"strategy":"linear"}`).WantError(t, 400, vane.EINVALID, "", "name")
	})
	t.Run("ValuesOnlyForReaders", func(t *testing.T) {
		var got vane.Rollout
		a.as(t, "viewer", "GET", "/v1/rollouts/"+r.ID, "").Want(t, 200, &got)
		if got.ID != r.ID || got.BaseValue != "" || got.Target != "" {
			t.Fatalf("a key that may not read the flag sees its values: %+v", got)
		}
		a.as(t, "rollouter", "GET", "/v1/rollouts/"+r.ID, "").Want(t, 200, &got)
		if got.BaseValue != "false" {
			t.Fatalf("a reader does not see the values: %+v", got)
		}
	})
	t.Run("ListFiltered", func(t *testing.T) {
		var list struct{ Rollouts []vane.Rollout }
		a.as(t, "viewer", "GET", "/v1/rollouts?active=true", "").Want(t, 200, &list)
		if len(list.Rollouts) != 1 {
			t.Fatalf("viewer lists %d rollouts", len(list.Rollouts))
		}
		a.as(t, "reader", "GET", "/v1/rollouts", "").Want(t, 200, &list)
		if len(list.Rollouts) != 0 {
			t.Fatalf("a key without vane:DescribeRollouts lists %d", len(list.Rollouts))
		}
		a.as(t, "reader", "GET", "/v1/rollouts/"+r.ID, "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:DescribeRollouts")
		a.as(t, "admin", "GET", "/v1/rollouts?bogus=1", "").WantError(t, 400, vane.EINVALID, "", "bogus")
	})
	t.Run("Operations", func(t *testing.T) {
		var got vane.Rollout
		a.as(t, "viewer", "POST", "/v1/rollouts/"+r.ID+"/pause", "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:UpdateRollout")
		a.as(t, "rollouter", "POST", "/v1/rollouts/"+r.ID+"/pause", "").Want(t, 200, &got)
		if got.State != vane.RolloutPaused {
			t.Fatalf("pause: %s", got.State)
		}
		a.as(t, "rollouter", "POST", "/v1/rollouts/"+r.ID+"/pause", "").WantError(t, 409, vane.ECONFLICT, "", "paused")
		a.as(t, "rollouter", "POST", "/v1/rollouts/"+r.ID+"/resume", "").Want(t, 200, &got)
		a.as(t, "rollouter", "POST", "/v1/rollouts/"+r.ID+"/rollback", "").Want(t, 200, &got)
		if got.State != vane.RolloutRolledBack {
			t.Fatalf("rollback: %s", got.State)
		}
		a.as(t, "rollouter", "POST", "/v1/rollouts/"+r.ID+"/explode", "").WantError(t, 404, vane.ENOTFOUND, "", "pause, resume")
		a.as(t, "rollouter", "POST", "/v1/rollouts/ro-none/pause", "").WantError(t, 404, vane.ENOTFOUND, "", "ro-none")
	})
	t.Run("Audited", func(t *testing.T) {
		page, err := a.store.Audit(context.Background(), &vane.AuditQuery{Prefix: "/app/prod/features/checkout", Principal: "rollouter"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range page.Entries {
			actions = append(actions, e.Action)
		}
		if got := strings.Join(actions, " "); !strings.Contains(got, "vane:StartRollout") || !strings.Contains(got, "vane:UpdateRollout") {
			t.Fatalf("audit actions by rollouter: %s", got)
		}
	})
}

func TestScheduleRoutes(t *testing.T) {
	a := mustOpenRollouts(t)
	a.as(t, "admin", "PUT", "/v1/parameters/app/prod/features/checkout", `{"type":"String","value":"false"}`).Want(t, 201, nil)
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	body := `{"name":"/app/prod/features/checkout","action":"put","value":"true","at":"` + at + `"}`
	a.as(t, "starter", "POST", "/v1/schedules", body).WantError(t, 403, vane.EFORBIDDEN, "", "ssm:PutParameter")
	var sc vane.Schedule
	resp := a.as(t, "rollouter", "POST", "/v1/schedules", body).Want(t, 201, &sc)
	if sc.State != vane.SchedulePending || sc.CreatedBy != "rollouter" || resp.Header.Get("Location") != "/v1/schedules/"+sc.ID {
		t.Fatalf("schedule %+v", sc)
	}
	a.as(t, "admin", "POST", "/v1/schedules", `{"name":"/app/prod/x","action":"put","value":"1","at":"tomorrow"}`).WantError(t, 400, vane.EINVALID, "", "at")
	a.as(t, "admin", "POST", "/v1/schedules", `{"name":"/app/prod/x","action":"put","value":"1","at":"2001-01-01T00:00:00Z"}`).WantError(t, 400, vane.EINVALID, "", "not in the future")

	var got vane.Schedule
	a.as(t, "viewer", "GET", "/v1/schedules/"+sc.ID, "").Want(t, 200, &got)
	if got.Value != nil {
		t.Fatalf("a key that may not read the flag sees the scheduled value")
	}
	var list struct{ Schedules []vane.Schedule }
	a.as(t, "viewer", "GET", "/v1/schedules?state=pending", "").Want(t, 200, &list)
	if len(list.Schedules) != 1 {
		t.Fatalf("pending: %d", len(list.Schedules))
	}
	a.as(t, "reader", "GET", "/v1/schedules", "").Want(t, 200, &list)
	if len(list.Schedules) != 0 {
		t.Fatalf("a key without vane:DescribeScheduledChanges lists %d", len(list.Schedules))
	}
	a.as(t, "admin", "GET", "/v1/schedules?state=later", "").WantError(t, 400, vane.EINVALID, "", "pending, done")
	a.as(t, "viewer", "POST", "/v1/schedules/"+sc.ID+"/cancel", "").WantError(t, 403, vane.EFORBIDDEN, "", "vane:CancelScheduledChange")
	a.as(t, "rollouter", "POST", "/v1/schedules/"+sc.ID+"/cancel", "").Want(t, 200, &got)
	if got.State != vane.ScheduleCancelled {
		t.Fatalf("cancel: %s", got.State)
	}
}

func TestRolloutRoutesWithoutEngine(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "GET", "/v1/rollouts", "").WantError(t, 503, vane.EUNAVAILABLE, "", "rollouts")
	s.Do(t, "POST", "/v1/schedules", `{}`).WantError(t, 503, vane.EUNAVAILABLE, "", "scheduled")
}
