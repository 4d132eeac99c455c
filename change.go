package vane

import (
	"context"
	"time"
)

// Op is the kind of mutation a change-log record describes.
type Op string

// Change-log operations.
const (
	OpPut     Op = "put"
	OpDelete  Op = "delete"
	OpLabel   Op = "label"
	OpUnlabel Op = "unlabel"
	OpTag     Op = "tag"
	OpUntag   Op = "untag"
)

// Change is one record of the change log. Seq increases in commit order:
// a reader that has seen sequence N never later finds a committed change
// with a lower number. It may have gaps (a backend's sequence can skip
// numbers, for example after a rolled-back write).
type Change struct {
	Seq       int64
	Op        Op
	Name      string
	Version   int64 // put: the new version; delete: the last version; label/unlabel: the version; tag/untag: the latest version
	Type      Type  // put only
	Labels    []string
	TagKeys   []string
	Time      time.Time
	Principal string
	// RequestID is the id of the API request that made the change (the
	// X-Request-Id its caller got); "" for background jobs' changes.
	RequestID string
	// Batch is the id of the batch (ParameterStore.Batch) the change was
	// part of; "" for a single write.
	Batch string
}

// AnonymousPrincipal is recorded for changes made without an identity.
const AnonymousPrincipal = "anonymous"

type principalKey struct{}

// NewContextWithPrincipal returns a context carrying the identity of the
// caller; stores record it in the change log and as LastModifiedUser.
func NewContextWithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// PrincipalFromContext returns the caller's identity, or AnonymousPrincipal.
func PrincipalFromContext(ctx context.Context) string {
	if p, ok := ctx.Value(principalKey{}).(string); ok && p != "" {
		return p
	}
	return AnonymousPrincipal
}
