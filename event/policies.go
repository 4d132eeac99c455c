package event

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/vanehq/vane"
)

// PoliciesJob names the lease of the parameter policy job.
const PoliciesJob = "parameter-policies"

// DefaultPolicyEvery is how often parameter policies are checked.
const DefaultPolicyEvery = time.Minute

// PolicyPrincipal is who deletes a parameter whose Expiration came.
const PolicyPrincipal = "policy:Expiration"

// Policies runs SSM parameter policies, a background job of its own (one
// node at a time), every Every:
//
//   - Expiration: at its time the parameter is deleted through the store
//     it is given, which must be the checked write path: a delete the
//     deletion guard refuses is not forced, and the Expiration notice says
//     so (action-status Failed). The delete is compare-and-set on the
//     version the job saw, so a write that comes first wins.
//   - ExpirationNotification: a notice at its time before the expiration.
//   - NoChangeNotification: a notice when the parameter has not changed for
//     its time.
//
// Notices go to the event rules that name the policy type, with AWS's
// detail-type "Parameter Store Policy Action"; each has an id made of the
// rule, the parameter, its version and the policy, so it is queued once.
type Policies struct {
	Store           vane.Store
	Events          vane.EventStore
	Seq             func() int64
	Region, Account string
	Every           time.Duration
	Logger          *slog.Logger
	Queued          func()

	period period
	tried  map[string]bool // name@version of expirations the guard refused
}

// Changes implements job.Job: policies are checked by time.
func (j *Policies) Changes(context.Context, []vane.Change) error { return nil }

// Tick checks the policies when due.
func (j *Policies) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	return j.period.tick(ctx, now, j.Every, DefaultPolicyEvery, j.Run, j.Queued)
}

// Run acts on the policies due at now and returns how many notices it
// queued.
func (j *Policies) Run(ctx context.Context, now time.Time) (int, error) {
	if j.tried == nil {
		j.tried = map[string]bool{}
	}
	rules, err := j.Events.EventRules(ctx)
	if err != nil {
		return 0, err
	}
	var out []*vane.EventDelivery
	params, err := vane.AllUnder(ctx, j.Store, "/", func(p *vane.Parameter) bool { return p.Policies != "" })
	if err != nil {
		return 0, err
	}
	for _, p := range params {
		ps, _, err := vane.ParsePolicies(p.Policies)
		if err != nil {
			continue
		}
		for _, pol := range ps.List {
			if now.Before(ps.Due(pol, p.LastModified)) {
				continue
			}
			status, reason := "", ""
			if pol.Type == vane.PolicyExpiration {
				key := fmt.Sprintf("%s@%d", p.Name, p.Version)
				if j.tried[key] {
					continue
				}
				status, reason = j.expire(ctx, p)
				if status == "" {
					continue // someone wrote first: the next version's policies decide
				}
				if status == "Failed" {
					j.tried[key] = true
				}
			} else if pol.Type == vane.PolicyExpirationNotification && !now.Before(ps.Expires) {
				continue // too late to warn: the expiration itself is the news
			}
			c := &vane.Change{Op: vane.OpPut, Name: p.Name, Version: p.Version, Type: p.Type, Time: now, Principal: "policy:" + pol.Type}
			if j.Seq != nil {
				c.Seq = j.Seq()
			}
			for _, r := range rules {
				if r.Disabled || !Selects(r, p.Name, pol.Type) {
					continue
				}
				e := Build(r, c, pol.Type, j.Region, j.Account, nil)
				e.DetailType = PolicyDetailType
				e.Detail.PreviousVersion = 0
				e.Detail.PolicyText, e.Detail.ActionStatus, e.Detail.ActionReason = pol.Text(), status, reason
				key := fmt.Sprintf("%s|%d|%s|%s", p.Name, p.Version, pol.Text(), p.LastModified.UTC().Format(time.RFC3339Nano))
				out = append(out, notice(r, e, key, now))
			}
		}
	}
	if len(out) == 0 {
		return 0, nil
	}
	return len(out), j.Events.EnqueueEvents(ctx, out)
}

// expire deletes a parameter whose Expiration came: "Finished" when it is
// gone, "Failed" with the reason when the store refused (the deletion
// guard), "" when another write came first.
func (j *Policies) expire(ctx context.Context, p *vane.Parameter) (status, reason string) {
	v := p.Version
	err := j.Store.Delete(vane.NewContextWithPrincipal(ctx, PolicyPrincipal), &vane.DeleteInput{Name: p.Name, ExpectVersion: &v})
	switch vane.ErrorCode(err) {
	case "":
		j.logger().Info("parameter expired and deleted", "name", p.Name, "version", p.Version)
		return "Finished", ""
	case vane.ECONFLICT, vane.ENOTFOUND:
		return "", ""
	}
	j.logger().Warn("parameter expired but was not deleted", "name", p.Name, "version", p.Version, "err", vane.ErrorMessage(err))
	return "Failed", vane.ErrorMessage(err)
}

func (j *Policies) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Logger
}
