// Package event sends the changes of the change log to the targets of
// event rules: signed webhooks, Slack-compatible incoming webhooks, and
// the server's log.
//
// # Delivery
//
// Each rule is a background job of its own (package job), under a lease
// named after the rule, so on a shared database one node delivers a
// rule's events and another takes over within a lease when it dies. The
// job reads the change log from its durable cursor and turns the changes
// its rule selects into pending deliveries in the store (Changes). It
// then sends them one at a time, oldest first (Tick): a rule's events
// arrive in change-log order, and an event whose target fails holds back
// the ones after it until it is delivered or given up on. Failed
// attempts are retried with exponential backoff and jitter, up to
// RetryPolicy.MaxAttempts; then the delivery is dead (the rule's
// dead-letter list) and the next one goes. Every attempt is kept.
//
// Delivery is at least once: the cursor is saved every third of a lease,
// and a node that dies between sending an event and recording it sends it
// again. The event's ID is the same every time (the rule's ID and the
// change's sequence), so a receiver de-duplicates by it.
//
// A rule whose target keeps failing costs its own job's time only: writes
// never wait for deliveries, and every rule has its own runner.
package event

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// Headers of a webhook delivery.
const (
	HeaderSignature = "Vane-Signature" // "v1=" and the hex HMAC-SHA256 of "TIMESTAMP.BODY"
	HeaderTimestamp = "Vane-Timestamp" // Unix seconds when the attempt was signed
	HeaderEventID   = "Vane-Event-Id"  // the event's id, the same on every attempt
)

// ReplayWindow is how far a receiver should accept a signature's
// timestamp from its own clock (Verify's default).
const ReplayWindow = 5 * time.Minute

// DetailType and Source are those of AWS's "Parameter Store Change" event,
// so that consumers written for EventBridge parse Vane's events as they
// are.
const (
	DetailType = "Parameter Store Change"
	Source     = "aws.ssm"
)

// Event is the JSON body of a webhook delivery, in the shape of AWS's
// "Parameter Store Change" event.
type Event struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     Detail   `json:"detail"`
}

// Detail is the detail of an Event: AWS's fields, then Vane's.
type Detail struct {
	Name            string   `json:"name"`
	Type            string   `json:"type,omitempty"`
	Operation       string   `json:"operation"`
	Version         int64    `json:"version,omitempty"`
	Sequence        int64    `json:"sequence"`
	Principal       string   `json:"principal"`
	PreviousVersion int64    `json:"previous_version,omitempty"`
	RequestID       string   `json:"request_id,omitempty"`
	Labels          []string `json:"labels,omitempty"`
	TagKeys         []string `json:"tag_keys,omitempty"`
	Rule            string   `json:"rule"`
	// Expires and LastEvaluated explain a notice: the flag's expiry, and
	// when it was last evaluated ("" for never).
	Expires       string `json:"expires,omitempty"`
	LastEvaluated string `json:"last_evaluated,omitempty"`
	// Policy notices: the policy's JSON text, and for an Expiration
	// whether the parameter was deleted (Finished) or not (Failed, with
	// the reason).
	PolicyText   string `json:"policy-text,omitempty"`
	ActionStatus string `json:"action-status,omitempty"`
	ActionReason string `json:"action-reason,omitempty"`
	// Value is set only when the rule asks for values, and never for a
	// SecureString.
	Value *string `json:"value,omitempty"`
	// ChangeRequest describes the request of a change-request event.
	ChangeRequest *ChangeRequestDetail `json:"change_request,omitempty"`
}

// Operation returns the event operation of a change. rolledBack reports
// whether a put written by a rollout was its roll back (nil: never).
func Operation(c *vane.Change, rolledBack func(rolloutID string, version int64) bool) string {
	switch c.Op {
	case vane.OpPut:
		if id, ok := strings.CutPrefix(c.Principal, "rollout:"); ok {
			if rolledBack != nil && rolledBack(id, c.Version) {
				return vane.EventRollback
			}
			return vane.EventRolloutStep
		}
		if c.Version == 1 {
			return vane.EventCreate
		}
		return vane.EventUpdate
	case vane.OpDelete:
		return vane.EventDelete
	case vane.OpLabel:
		return vane.EventLabel
	case vane.OpUnlabel:
		return vane.EventUnlabel
	}
	return vane.EventTag
}

// IsNotice reports whether an operation is a lifecycle notice or a
// change request's step rather than a change: a rule sends those only
// when it names them.
func IsNotice(op string) bool {
	switch op {
	case vane.EventFlagExpired, vane.EventFlagUnused, vane.EventExpiration, vane.EventExpirationNotification, vane.EventNoChangeNotification,
		vane.EventChangeProposed, vane.EventChangeApproved, vane.EventChangeRejected, vane.EventChangeApplied, vane.EventChangeCancelled, vane.EventChangeStale:
		return true
	}
	return false
}

// PolicyDetailType is the detail-type of the events of parameter
// policies, as AWS names it.
const PolicyDetailType = "Parameter Store Policy Action"

// Selects reports whether a rule selects an operation on a name: empty
// Operations select every change, but notices only when named.
func Selects(r *vane.EventRule, name, op string) bool {
	if len(r.Operations) == 0 && IsNotice(op) || len(r.Operations) > 0 && !slices.Contains(r.Operations, op) {
		return false
	}
	return MatchPath(r.Path, name)
}

// MatchPath reports whether a rule's path selects a name: a plain path
// selects itself and the names below it ("/a/b" and "/a/b/" both select
// "/a/b/c"); a glob matches the whole name, "*" and "?" within a segment
// and "**" across segments.
func MatchPath(pattern, name string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		p := strings.TrimSuffix(pattern, "/")
		return p == "" || name == p || strings.HasPrefix(name, p+"/")
	}
	return globMatch(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func globMatch(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if globMatch(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// CheckRule checks a rule's fields as a user gave them. Errors: EINVALID
// naming the field.
func CheckRule(r *vane.EventRule) error {
	bad := func(field, format string, args ...any) error {
		e := vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "event rule: "+format, args...)
		e.Field = field
		return e
	}
	if r.Name == "" || len(r.Name) > 128 {
		return bad("name", "name must be 1 to 128 characters")
	}
	if !strings.HasPrefix(r.Path, "/") {
		return bad("path", "path %q must begin with /", r.Path)
	}
	if strings.Contains(r.Path, "*") || strings.Contains(r.Path, "?") || strings.Contains(r.Path, "[") {
		if _, err := path.Match(strings.ReplaceAll(r.Path, "**", "*"), ""); err != nil {
			return bad("path", "path %q is not a valid glob", r.Path)
		}
	}
	for _, op := range r.Operations {
		if !slices.Contains(vane.EventOperations, op) {
			return bad("operations", "operation %q is not one of %s", op, strings.Join(vane.EventOperations, ", "))
		}
	}
	if r.UnusedDays < 0 || r.UnusedDays > 3650 {
		return bad("unused_days", "unused_days must be from 0 (the default, %d) to 3650, not %d", vane.DefaultUnusedDays, r.UnusedDays)
	}
	switch r.Target {
	case vane.TargetLog:
		if r.URL != "" {
			return bad("url", "a log target takes no url")
		}
	case vane.TargetWebhook, vane.TargetSlack:
		if !strings.HasPrefix(r.URL, "https://") && !strings.HasPrefix(r.URL, "http://") {
			return bad("url", "url %q must be an http:// or https:// URL", r.URL)
		}
	default:
		return bad("target", "target %q must be webhook, slack or log", r.Target)
	}
	return nil
}

// EventID is the id of a rule's event for the change at seq.
func EventID(ruleID string, seq int64) string { return ruleID + "-" + strconv.FormatInt(seq, 10) }

// Build returns the event a rule sends for a change. value is the
// parameter's value at the change's version, given only when the rule
// asks for values and the type is not SecureString.
func Build(r *vane.EventRule, c *vane.Change, op, region, account string, value *string) *Event {
	d := Detail{Name: c.Name, Type: string(c.Type), Operation: op, Version: c.Version, Sequence: c.Seq,
		Principal: c.Principal, RequestID: c.RequestID, Labels: c.Labels, TagKeys: c.TagKeys, Rule: r.Name}
	if c.Op == vane.OpPut && c.Version > 1 {
		d.PreviousVersion = c.Version - 1
	}
	if r.IncludeValues && c.Type != vane.TypeSecureString {
		d.Value = value
	}
	name := c.Name
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return &Event{Version: "0", ID: EventID(r.ID, c.Seq), DetailType: DetailType, Source: Source, Account: account,
		Time: c.Time.UTC().Format(time.RFC3339), Region: region,
		Resources: []string{fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, account, name)}, Detail: d}
}

// Sign returns the signature header value of a body sent at ts.
func Sign(secret string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook delivery as a receiver should: the signature
// over the timestamp and the body, and a timestamp within window of now
// (ReplayWindow when window is 0). It is what doc/events.md shows.
func Verify(secret, signature, timestamp string, body []byte, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = ReplayWindow
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("event: timestamp %q is not Unix seconds", timestamp)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > window || d < -window {
		return fmt.Errorf("event: timestamp %s is outside the replay window of %s", ts.UTC().Format(time.RFC3339), window)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return fmt.Errorf("event: the signature does not match")
	}
	return nil
}

// slackMessage is the body of a Slack-compatible incoming webhook.
type slackMessage struct {
	Text string `json:"text"`
}

// SlackText is the message a Slack target gets for an event: what
// changed, who changed it, and a link to it (when linkBase, the
// dashboard's URL, is known).
func SlackText(e *Event, linkBase string) string {
	d := &e.Detail
	if d.ChangeRequest != nil {
		return changeRequestText(e, linkBase)
	}
	what := map[string]string{
		vane.EventCreate: "created", vane.EventUpdate: "updated", vane.EventDelete: "deleted",
		vane.EventLabel: "labelled", vane.EventUnlabel: "unlabelled", vane.EventTag: "re-tagged",
		vane.EventRolloutStep: "changed by a rollout step", vane.EventRollback: "rolled back",
	}[d.Operation]
	if what == "" {
		what = d.Operation
	}
	text := fmt.Sprintf("%s was %s by %s", d.Name, what, d.Principal)
	if d.Version > 0 && d.Operation != vane.EventDelete {
		text += fmt.Sprintf(" (version %d)", d.Version)
	}
	if linkBase != "" {
		page := "flag"
		if !strings.Contains(d.Name, "/features/") {
			page = "parameters?path="
		}
		text += fmt.Sprintf(": %s/ui/#/%s%s", strings.TrimSuffix(linkBase, "/"), page, d.Name)
	}
	return text
}

// marshal encodes an event for sending.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("event: " + err.Error()) // only plain structs are encoded
	}
	return b
}
