package vane

import (
	"context"
	"strings"
	"time"
)

// AuditEntry is one record of the audit history: who did what to which
// name, from where, and with what result. It never holds a parameter's
// value or a secret.
type AuditEntry struct {
	ID         int64 // assigned by the log, increasing
	Time       time.Time
	Principal  string
	Source     string // the client's address
	RequestID  string
	Action     string // an IAM-style action such as ssm:PutParameter
	Name       string // the parameter (or key) acted on
	OldVersion int64  // the version before (0 if none)
	NewVersion int64  // the version after (0 if none)
	Result     string // AuditOK, or the error code of a refused request
	Detail     string // a short description: labels, tag keys, the reason of a denial
	Batch      string // the batch the change was part of, "" for a single write
}

// AuditOK is the Result of an action that took effect.
const AuditOK = "ok"

// Audit actions of parameter mutations, named as the IAM actions that
// allow them.
const (
	ActionPutParameter     = "ssm:PutParameter"
	ActionDeleteParameter  = "ssm:DeleteParameter"
	ActionLabelParameter   = "ssm:LabelParameterVersion"
	ActionUnlabelParameter = "ssm:UnlabelParameterVersion"
	ActionAddTags          = "ssm:AddTagsToResource"
	ActionRemoveTags       = "ssm:RemoveTagsFromResource"
)

// AuditQuery selects audit entries: all conditions must hold. Entries
// come oldest first.
type AuditQuery struct {
	Prefix    string    // a name: it and the names below it ("" or "/" for all)
	Principal string    // exact; "" for all
	Action    string    // exact; "" for all
	Since     time.Time // inclusive; zero for no bound
	Until     time.Time // exclusive; zero for no bound
	Limit     int       // 0 means DefaultPageSize; at most MaxPageSize
	NextToken string
}

// AuditPage is a page of audit entries.
type AuditPage struct {
	Entries   []AuditEntry
	NextToken string
}

// AuditLog keeps the audit history. Stores write the entries of parameter
// mutations in the mutation's own transaction, so a change is never made
// without its entry; AppendAudit records the rest (denied requests,
// credential changes).
type AuditLog interface {
	// AppendAudit records entries; IDs and, when zero, Time are set by
	// the log. Errors: EINVALID for an entry without an action.
	AppendAudit(ctx context.Context, entries []AuditEntry) error
	// Audit returns entries matching q, oldest first, paged. Errors:
	// EINVALID (bad prefix, InvalidNextToken).
	Audit(ctx context.Context, q *AuditQuery) (*AuditPage, error)
	// PruneAudit deletes the entries older than before and returns how
	// many it deleted.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// RequestInfo is what the transport knows of the request being served,
// recorded in the audit history.
type RequestInfo struct {
	Source    string // the client's address
	RequestID string
}

type requestKey struct{}

// NewContextWithRequest returns a context carrying the request's details
// for the audit history.
func NewContextWithRequest(ctx context.Context, r RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFromContext returns the request's details, or the zero value.
func RequestFromContext(ctx context.Context) RequestInfo {
	r, _ := ctx.Value(requestKey{}).(RequestInfo)
	return r
}

// AuditOf returns the audit entry of a change made in the context ctx.
func AuditOf(ctx context.Context, c Change) AuditEntry {
	req := RequestFromContext(ctx)
	e := AuditEntry{Time: c.Time, Principal: c.Principal, Source: req.Source, RequestID: req.RequestID,
		Name: c.Name, Result: AuditOK, Batch: c.Batch}
	switch c.Op {
	case OpPut:
		e.Action, e.OldVersion, e.NewVersion, e.Detail = ActionPutParameter, c.Version-1, c.Version, string(c.Type)
	case OpDelete:
		e.Action, e.OldVersion = ActionDeleteParameter, c.Version
	case OpLabel:
		e.Action, e.OldVersion, e.NewVersion, e.Detail = ActionLabelParameter, c.Version, c.Version, "labels: "+strings.Join(c.Labels, ",")
	case OpUnlabel:
		e.Action, e.OldVersion, e.NewVersion, e.Detail = ActionUnlabelParameter, c.Version, c.Version, "labels: "+strings.Join(c.Labels, ",")
	case OpTag:
		e.Action, e.OldVersion, e.NewVersion, e.Detail = ActionAddTags, c.Version, c.Version, "tag keys: "+strings.Join(c.TagKeys, ",")
	case OpUntag:
		e.Action, e.OldVersion, e.NewVersion, e.Detail = ActionRemoveTags, c.Version, c.Version, "tag keys: "+strings.Join(c.TagKeys, ",")
	}
	return e
}
