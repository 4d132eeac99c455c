package vane

import (
	"context"
	"time"
)

// Event operations: what an event rule selects, and the detail.operation
// of the events it sends. The first four are those of AWS's "Parameter
// Store Change" event; the others are Vane's.
const (
	EventCreate      = "Create"                  // a put that created the parameter (version 1)
	EventUpdate      = "Update"                  // any other put
	EventDelete      = "Delete"                  // the parameter was deleted
	EventLabel       = "LabelParameterVersion"   // labels attached to a version
	EventUnlabel     = "UnlabelParameterVersion" // labels removed
	EventTag         = "Tag"                     // tags added or removed
	EventRolloutStep = "RolloutStep"             // a put written by a rollout's step
	EventRollback    = "Rollback"                // a put written by a rollout rolling back
	// Notices: not changes, but a flag's state seen by the lifecycle
	// scan. A rule sends them only when it names them.
	EventFlagExpired = "FlagExpired" // a flag is past its document's expires
	EventFlagUnused  = "FlagUnused"  // a flag has not been evaluated for the rule's UnusedDays
	// Parameter policies acting (PolicyExpiration ...): notices as well.
	EventExpiration             = PolicyExpiration
	EventExpirationNotification = PolicyExpirationNotification
	EventNoChangeNotification   = PolicyNoChangeNotification
	// Change requests moving on (ChangeRequest): steps, not changes; a
	// rule sends them only when it names them. The writes of an applied
	// request come as the changes they are (Create, Update, ...).
	EventChangeProposed  = "ChangeRequestProposed"
	EventChangeApproved  = "ChangeRequestApproved"
	EventChangeRejected  = "ChangeRequestRejected"
	EventChangeApplied   = "ChangeRequestApplied"
	EventChangeCancelled = "ChangeRequestCancelled"
	EventChangeStale     = "ChangeRequestStale"
)

// DefaultUnusedDays is an EventRule's UnusedDays when it gives none.
const DefaultUnusedDays = 30

// EventOperations are the operations a rule may select, in the order the
// documentation lists them.
var EventOperations = []string{EventCreate, EventUpdate, EventDelete, EventLabel, EventUnlabel, EventTag, EventRolloutStep, EventRollback,
	EventFlagExpired, EventFlagUnused, EventExpiration, EventExpirationNotification, EventNoChangeNotification,
	EventChangeProposed, EventChangeApproved, EventChangeRejected, EventChangeApplied, EventChangeCancelled, EventChangeStale}

// Event rule targets.
const (
	TargetWebhook = "webhook" // a signed JSON POST to URL
	TargetSlack   = "slack"   // a Slack-compatible incoming webhook at URL
	TargetLog     = "log"     // a line in the server's log
)

// EventRule selects changes and sends them to a target. Changes after
// StartSeq (the change log's newest sequence when the rule was created)
// are delivered, at least once and in change-log order.
type EventRule struct {
	ID   string
	Name string // for people; unique
	// Path selects names: a path prefix ("/myapp/prod/", or one name),
	// or a glob where "*" matches within one segment and "**" across
	// segments ("/myapp/*/features/*").
	Path string
	// Operations selects operations (EventCreate ...); empty selects every
	// change, and notices (EventFlagExpired, EventFlagUnused) only when
	// named.
	Operations []string
	Target     string // TargetWebhook, TargetSlack or TargetLog
	URL        string // webhook and slack targets
	// SealedSecret is the webhook signing secret, sealed by the keyring
	// (a Cipher); stores keep it as given.
	SealedSecret string
	// IncludeValues adds the value of String and StringList parameters to
	// put events; SecureString values are never sent.
	IncludeValues bool
	Disabled      bool
	// UnusedDays is how long a flag goes without evaluations before a
	// FlagUnused notice (0: DefaultUnusedDays).
	UnusedDays int
	StartSeq   int64
	CreatedBy  string
	Created    time.Time
	Updated    time.Time
	Revision   int64
}

// EventState is where a delivery stands.
type EventState string

// Delivery states.
const (
	EventPending   EventState = "pending"   // waiting for its first or next attempt
	EventDelivered EventState = "delivered" // the target accepted it (2xx)
	EventDead      EventState = "dead"      // every attempt failed: the rule's dead-letter list
)

// EventDelivery is one event of one rule: built when the change is read
// from the change log, and kept with its attempts for inspection. Its ID
// stays the same across attempts and redeliveries, so receivers can
// de-duplicate by it.
type EventDelivery struct {
	ID        string
	RuleID    string
	Seq       int64 // the change-log sequence of the change
	Name      string
	Operation string
	Body      string // the event as sent (JSON)
	State     EventState
	Attempts  int
	// NextAttempt is when a pending delivery is tried next.
	NextAttempt time.Time
	LastStatus  int    // the target's HTTP status at the last attempt (0: none)
	LastError   string // why the last attempt failed
	Created     time.Time
	Delivered   time.Time // zero until delivered
}

// EventAttempt is one try of a delivery.
type EventAttempt struct {
	DeliveryID string
	N          int // 1 for the first attempt
	Time       time.Time
	Status     int // HTTP status, 0 when there was no answer
	Latency    time.Duration
	Error      string // "" when delivered
}

// EventDeliveryQuery selects deliveries, newest first.
type EventDeliveryQuery struct {
	RuleID    string     // required
	State     EventState // "" for every state
	Limit     int        // 0 means DefaultPageSize; at most MaxPageSize
	NextToken string
}

// EventDeliveryPage is a page of deliveries.
type EventDeliveryPage struct {
	Deliveries []*EventDelivery
	NextToken  string
}

// EventStore keeps event rules and their deliveries. Every node of a
// shared database sees the same rules; the node holding a rule's lease
// delivers its events.
type EventStore interface {
	// CreateEventRule stores a new rule with Revision 1. Errors: EINVALID
	// (no ID, name or path); ECONFLICT (the ID or the name is taken).
	CreateEventRule(ctx context.Context, r *EventRule) error
	// EventRule returns a rule by ID. Errors: ENOTFOUND.
	EventRule(ctx context.Context, id string) (*EventRule, error)
	// EventRules returns every rule, by name.
	EventRules(ctx context.Context) ([]*EventRule, error)
	// UpdateEventRule replaces the stored rule if its revision is still
	// r.Revision, and increments r.Revision. Errors: ENOTFOUND;
	// ECONFLICT (the revision moved on, or the new name is taken).
	UpdateEventRule(ctx context.Context, r *EventRule) error
	// DeleteEventRule removes a rule with its deliveries and attempts.
	// Errors: ENOTFOUND.
	DeleteEventRule(ctx context.Context, id string) error

	// EnqueueEvents stores new pending deliveries. A delivery whose ID
	// exists is left as it is, so the same change handed over twice (the
	// change log is read at least once) is one delivery.
	EnqueueEvents(ctx context.Context, ds []*EventDelivery) error
	// EnqueueAttempted is EnqueueEvents for deliveries already attempted
	// (any state), with their attempts (by DeliveryID), in one
	// transaction: the common case of a rule whose target answers costs
	// one write. The attempts of a delivery that existed are dropped.
	EnqueueAttempted(ctx context.Context, ds []*EventDelivery, as []*EventAttempt) error
	// PendingEvents returns up to limit pending deliveries of a rule, in
	// sequence order.
	PendingEvents(ctx context.Context, ruleID string, limit int) ([]*EventDelivery, error)
	// RecordAttempt appends an attempt and stores the delivery's new
	// State, Attempts, NextAttempt, LastStatus, LastError and Delivered.
	// Errors: ENOTFOUND (the delivery is gone: its rule was deleted).
	RecordAttempt(ctx context.Context, d *EventDelivery, a *EventAttempt) error
	// RecordAttempts records attempts (as[i] of ds[i]) as RecordAttempt
	// does, in one transaction; deliveries that are gone are skipped.
	// The store numbers attempts itself (N counts up across
	// redeliveries) and sets each attempt's N.
	RecordAttempts(ctx context.Context, ds []*EventDelivery, as []*EventAttempt) error
	// EventDelivery returns a delivery by ID. Errors: ENOTFOUND.
	EventDelivery(ctx context.Context, id string) (*EventDelivery, error)
	// EventDeliveries lists a rule's deliveries, newest (highest
	// sequence) first. Errors: EINVALID (InvalidNextToken).
	EventDeliveries(ctx context.Context, q *EventDeliveryQuery) (*EventDeliveryPage, error)
	// EventAttempts returns a delivery's attempts, oldest first.
	EventAttempts(ctx context.Context, deliveryID string) ([]*EventAttempt, error)
	// RedeliverEvent makes a delivery pending again, due at now, with no
	// attempts counted (its past attempts stay listed). Errors:
	// ENOTFOUND.
	RedeliverEvent(ctx context.Context, id string, now time.Time) (*EventDelivery, error)
	// PruneEventDeliveries removes delivered and dead deliveries (with
	// their attempts) created before before, and returns how many.
	PruneEventDeliveries(ctx context.Context, before time.Time) (int64, error)
}
