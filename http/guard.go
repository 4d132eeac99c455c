package http

import "context"

// deleteChecker is a store that can tell in advance whether its write
// checks would refuse a delete (guard.Store), so that DeleteParameters
// refuses a whole call rather than a part of it.
type deleteChecker interface {
	CheckDelete(ctx context.Context, name string) error
}
