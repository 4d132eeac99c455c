package vane

import (
	"context"
	"strings"
	"time"
)

// ChangeRequestState is where a change request stands.
type ChangeRequestState string

// Change request states. Pending and approved requests are open; the
// others are final and stay in the history.
const (
	// ChangePending: proposed, waiting for a review.
	ChangePending ChangeRequestState = "pending"
	// ChangeApproved: approved by a principal other than its author,
	// waiting to be applied.
	ChangeApproved ChangeRequestState = "approved"
	// ChangeRejected: a reviewer turned it down.
	ChangeRejected ChangeRequestState = "rejected"
	// ChangeApplied: its batch was written.
	ChangeApplied ChangeRequestState = "applied"
	// ChangeCancelled: its author withdrew it.
	ChangeCancelled ChangeRequestState = "cancelled"
	// ChangeStale: a name it changes moved on from the version it was
	// made against, so it can no longer be applied; propose it again
	// against the current versions (a rebase).
	ChangeStale ChangeRequestState = "stale"
)

// Open reports whether a request in state s may still be reviewed or
// applied.
func (s ChangeRequestState) Open() bool { return s == ChangePending || s == ChangeApproved }

// Verdicts of a review.
const (
	VerdictApprove = "approve"
	VerdictReject  = "reject"
)

// ChangeRequest is a batch of writes proposed for approval: on a path
// that needs approval (a protected path), a writer without the right to
// write directly proposes, another principal approves or rejects, and an
// approved request is applied as one batch, only if every name it
// changes is still at the version it was made against.
type ChangeRequest struct {
	ID      string             `json:"id"`
	State   ChangeRequestState `json:"state"`
	Comment string             `json:"comment,omitempty"`
	// Author is the principal that proposed it, and AuthorKey its access
	// key's id ("" without access control): neither may approve it.
	Author    string `json:"author"`
	AuthorKey string `json:"author_key,omitempty"`
	// Items is the proposed batch. Every item's ExpectVersion is the
	// version of its name the request was made against, so the batch
	// applies only while they are all still current. A SecureString
	// put's value is kept sealed (Cipher) until the request is applied.
	Items []ChangeItem `json:"items"`
	// Reviews are the approvals and rejections, oldest first.
	Reviews []ChangeReview `json:"reviews,omitempty"`
	// Reason says why a request is stale, or why applying it failed.
	Reason string `json:"reason,omitempty"`
	// AppliedBy and Applied say who applied it and when; the batch it
	// wrote has the request's ID as its batch id in the change log and
	// the audit history.
	AppliedBy string    `json:"applied_by,omitempty"`
	Applied   time.Time `json:"applied,omitzero"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Revision  int64     `json:"revision"`
}

// ChangeItem is one write of a change request.
type ChangeItem struct {
	BatchItem
	// Sealed reports that a put's value is sealed (a SecureString).
	Sealed bool `json:"sealed,omitempty"`
}

// ChangeReview is one review of a change request.
type ChangeReview struct {
	Principal string    `json:"principal"`
	Key       string    `json:"key,omitempty"`
	Verdict   string    `json:"verdict"` // VerdictApprove or VerdictReject
	Comment   string    `json:"comment,omitempty"`
	Time      time.Time `json:"time"`
}

// Names returns the names a request changes, in item order, each once.
func (cr *ChangeRequest) Names() []string {
	seen := make(map[string]bool, len(cr.Items))
	out := make([]string, 0, len(cr.Items))
	for i := range cr.Items {
		n := cr.Items[i].Name()
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Path returns the longest path that holds every name of a request
// ("/" when they share no segment).
func (cr *ChangeRequest) Path() string {
	return CommonPath(cr.Names())
}

// CommonPath returns the longest path, ending in "/", that every name
// starts with ("/" when they share nothing but the root); a single name
// is its own path.
func CommonPath(names []string) string {
	if len(names) == 0 {
		return "/"
	}
	if len(names) == 1 {
		return names[0]
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		return prefix[:i+1]
	}
	return "/"
}

// ChangeRequestQuery selects change requests, newest first.
type ChangeRequestQuery struct {
	// Prefix selects the requests that change a name at or under it
	// ("" or "/" for all). A store may also return requests that only
	// share a path with it; callers that need exactness filter by Names.
	Prefix    string
	State     ChangeRequestState // "" for every state
	Limit     int                // 0 means DefaultPageSize; at most MaxPageSize
	NextToken string
}

// ChangeRequestPage is a page of change requests.
type ChangeRequestPage struct {
	ChangeRequests []*ChangeRequest
	NextToken      string
}

// ChangeRequestStore keeps change requests, compare-and-set on Revision
// like RolloutStore, so two reviewers (or two nodes applying) can never
// both move a request on.
type ChangeRequestStore interface {
	// CreateChangeRequest stores a new request with Revision 1. Errors:
	// EINVALID (no ID or no items); ECONFLICT when the ID is taken.
	CreateChangeRequest(ctx context.Context, cr *ChangeRequest) error
	// ChangeRequest returns a request by ID. Errors: ENOTFOUND.
	ChangeRequest(ctx context.Context, id string) (*ChangeRequest, error)
	// ChangeRequests lists requests, newest first. Errors: EINVALID
	// (InvalidNextToken).
	ChangeRequests(ctx context.Context, q *ChangeRequestQuery) (*ChangeRequestPage, error)
	// UpdateChangeRequest replaces the stored request if its revision is
	// still cr.Revision, and increments cr.Revision. Errors: ENOTFOUND;
	// ECONFLICT when the revision moved on.
	UpdateChangeRequest(ctx context.Context, cr *ChangeRequest) error
}

// Details of change-request errors.
const (
	// DetailApprovalRequired: the name is on a path whose changes need
	// approval, and the caller may not write there directly (EFORBIDDEN).
	DetailApprovalRequired = "ApprovalRequired"
	// DetailChangeRequestStale: a name of the request moved on from the
	// version it was made against (ECONFLICT).
	DetailChangeRequestStale = "ChangeRequestStale"
)
