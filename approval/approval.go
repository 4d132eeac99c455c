// Package approval carries change requests through their life: proposed
// on a path whose changes need approval, approved or rejected by another
// principal, and applied as one batch through the checked write path,
// only while every name is still at the version the request was made
// against.
//
// Who may do what is the server's say (package http checks the access
// policy: vane:ProposeChange, vane:ApproveChange); the rules that hold
// whoever asks are kept here: nobody approves their own request, a
// request is applied once and only after an approval, a stale request
// is never applied. Each step is recorded in the audit history and sent
// to the event rules that name it.
package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/event"
)

// Audit actions of the steps of a change request. The writes of an
// applied request are recorded as the writes they are, with the request's
// ID as their batch.
const (
	AuditPropose = "vane:ProposeChange"
	AuditApprove = "vane:ApproveChange"
	AuditReject  = "vane:RejectChange"
	AuditApply   = "vane:ApplyChange"
	AuditCancel  = "vane:CancelChange"
)

// Actor is who takes a step: a principal's name and, with access control
// on, its access key's id.
type Actor struct {
	Name string
	Key  string
}

// Service proposes, reviews and applies change requests.
type Service struct {
	// Store is the checked write path (package guard over the index):
	// requests are applied with its Batch and checked when proposed with
	// its CheckBatch when it has one.
	Store    vane.Store
	Requests vane.ChangeRequestStore
	// Cipher seals the values of proposed SecureString puts until they
	// are applied; without one such proposals are refused.
	Cipher vane.Cipher
	// Audit, Events: where steps are recorded and sent (nil: not).
	Audit  vane.AuditLog
	Events vane.EventStore
	// Seq returns the change log's newest sequence, to order events.
	Seq             func() int64
	Region, Account string
	// Queued, if set, is told when events were queued.
	Queued func()
	Now    func() time.Time
	Logger *slog.Logger
}

// MaxCommentBytes bounds a request's or a review's comment.
const MaxCommentBytes = 4096

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// NewID returns a new change request id: "cr-" and 16 random hex digits
// (also a valid batch id, which the applied batch carries).
func NewID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	return "cr-" + hex.EncodeToString(b[:])
}

// batchChecker is the check of a batch before it is written (package
// guard's Store).
type batchChecker interface {
	CheckBatch(ctx context.Context, in *vane.BatchInput) error
}

// Propose records a new pending request to make items, by author. Each
// name's first item is made a compare-and-set on the name's current
// version (an item that already expects a version must expect the
// current one), so the request applies only while nothing else changed
// the names. Items are checked as a batch is, so a request that could
// never be applied is refused at once.
func (s *Service) Propose(ctx context.Context, author Actor, comment string, items []vane.BatchItem) (*vane.ChangeRequest, error) {
	if err := checkComment(comment); err != nil {
		return nil, err
	}
	in := &vane.BatchInput{Items: items}
	if err := vane.CheckBatch(in); err != nil {
		return nil, err
	}
	now := s.now()
	cr := &vane.ChangeRequest{ID: NewID(), State: vane.ChangePending, Comment: comment, Author: author.Name, AuthorKey: author.Key,
		Items: make([]vane.ChangeItem, len(items)), Created: now, Updated: now}
	seen := make(map[string]bool, len(items))
	for i := range items {
		it := items[i] // a copy: the caller's items are not changed
		if err := s.prepare(ctx, &it, seen); err != nil {
			return nil, &vane.BatchError{Index: i, Op: it.Op, Name: it.Name(), Err: err}
		}
		cr.Items[i] = vane.ChangeItem{BatchItem: it}
	}
	if c, ok := vane.StoreAs[batchChecker](s.Store); ok {
		if err := c.CheckBatch(ctx, in); err != nil {
			return nil, err
		}
	}
	for i := range cr.Items {
		if err := s.seal(ctx, &cr.Items[i]); err != nil {
			return nil, &vane.BatchError{Index: i, Op: cr.Items[i].Op, Name: cr.Items[i].Name(), Err: err}
		}
	}
	if err := s.Requests.CreateChangeRequest(ctx, cr); err != nil {
		return nil, err
	}
	s.record(ctx, cr, AuditPropose, vane.EventChangeProposed, author,
		fmt.Sprintf("%d item(s)", len(cr.Items)))
	return cr, nil
}

// prepare checks one item as its store checks it, and pins the version of
// its name when it is the name's first item (seen records the names).
// A put that keeps the type of an existing parameter is given that type,
// so that a SecureString's value is known to be one.
func (s *Service) prepare(ctx context.Context, it *vane.BatchItem, seen map[string]bool) error {
	var err error
	switch it.Op {
	case vane.BatchPut:
		p := *it.Put
		it.Put = &p
		_, err = vane.CheckPut(it.Put)
	case vane.BatchDelete:
		d := *it.Delete
		it.Delete = &d
		_, err = vane.CheckDelete(it.Delete)
	case vane.BatchLabel, vane.BatchUnlabel:
		_, _, _, err = vane.CheckLabels(it.Label, it.Op == vane.BatchUnlabel)
	case vane.BatchTag:
		err = vane.ValidateTags(it.Tags.Tags)
	}
	if err != nil {
		return err
	}
	name, err := vane.ValidateName(it.Name())
	if err != nil {
		return err
	}
	cur, err := s.Store.Get(ctx, name)
	if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
		return err
	}
	var version int64
	if cur != nil {
		version = cur.Version
		if it.Op == vane.BatchPut && it.Put.Type == "" {
			it.Put.Type = cur.Type
		}
		if it.Op == vane.BatchPut && it.Put.Type == vane.TypeSecureString && it.Put.KeyID == "" {
			it.Put.KeyID = cur.KeyID
		}
	}
	if seen[name] {
		return nil
	}
	seen[name] = true
	if it.Op == vane.BatchPut {
		// The put's own rules against the version it is made against
		// (it must overwrite an existing name, match its pattern...).
		if _, err := vane.ApplyPut(cur, it.Put, name, s.now(), ""); err != nil {
			return err
		}
	}
	var expect *int64
	switch {
	case it.Op == vane.BatchPut:
		expect = it.Put.ExpectVersion
	case it.Op == vane.BatchDelete:
		expect = it.Delete.ExpectVersion
	}
	if expect == nil {
		expect = it.ExpectVersion
	}
	if expect != nil && *expect != version {
		return vane.DetailErrorf(vane.ECONFLICT, vane.DetailVersionMismatch,
			"version mismatch on %q: expected version %d, current version is %d", name, *expect, version)
	}
	it.ExpectVersion = &version
	return nil
}

// seal seals the value of a SecureString put.
func (s *Service) seal(ctx context.Context, it *vane.ChangeItem) error {
	if it.Op != vane.BatchPut || it.Put.Type != vane.TypeSecureString {
		return nil
	}
	if s.Cipher == nil {
		return vane.Errorf(vane.EINVALID, "SecureString values cannot be proposed: the server has no keyring")
	}
	keyID := it.Put.KeyID
	if keyID == "" {
		keyID = vane.DefaultKeyID
	}
	sealed, err := s.Cipher.Seal(ctx, keyID, it.Put.Value)
	if err != nil {
		return err
	}
	it.Put.Value, it.Sealed = sealed, true
	return nil
}

// Review approves (vane.VerdictApprove) or rejects a pending request.
// Nobody reviews their own request: EFORBIDDEN. Approving a request
// whose names moved on marks it stale instead (ECONFLICT,
// DetailChangeRequestStale).
func (s *Service) Review(ctx context.Context, id string, by Actor, verdict, comment string) (*vane.ChangeRequest, error) {
	if verdict != vane.VerdictApprove && verdict != vane.VerdictReject {
		return nil, vane.Errorf(vane.EINVALID, "verdict %q is not approve or reject", verdict)
	}
	if err := checkComment(comment); err != nil {
		return nil, err
	}
	cr, err := s.Requests.ChangeRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if isAuthor(cr, by) {
		if verdict == vane.VerdictApprove {
			return nil, vane.Errorf(vane.EFORBIDDEN, "%s is the author of change request %s and may not approve it: another principal must", by.Name, id)
		}
		return nil, vane.Errorf(vane.EFORBIDDEN, "%s is the author of change request %s: cancel it rather than reject it", by.Name, id)
	}
	if cr.State != vane.ChangePending {
		return nil, stateError(cr, "reviewed")
	}
	if verdict == vane.VerdictApprove {
		if reason, err := s.stale(ctx, cr); err != nil {
			return nil, err
		} else if reason != "" {
			return nil, s.markStale(ctx, cr, by, reason)
		}
	}
	now := s.now()
	cr.Reviews = append(cr.Reviews, vane.ChangeReview{Principal: by.Name, Key: by.Key, Verdict: verdict, Comment: comment, Time: now})
	cr.State, cr.Updated = vane.ChangeApproved, now
	action, op := AuditApprove, vane.EventChangeApproved
	if verdict == vane.VerdictReject {
		cr.State, action, op = vane.ChangeRejected, AuditReject, vane.EventChangeRejected
	}
	if err := s.update(ctx, cr); err != nil {
		return nil, err
	}
	s.record(ctx, cr, action, op, by, comment)
	return cr, nil
}

// Apply writes an approved request's batch, by by, with the request's ID
// as the batch id: all of it or, when a name moved on from the version it
// was made against, nothing, and the request is marked stale (ECONFLICT,
// DetailChangeRequestStale). Another failure leaves it approved, with the
// reason, to be applied again.
func (s *Service) Apply(ctx context.Context, id string, by Actor) (*vane.ChangeRequest, error) {
	cr, err := s.Requests.ChangeRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if cr.State == vane.ChangePending {
		return nil, vane.Errorf(vane.ECONFLICT, "change request %s is pending: it is applied once another principal approves it", id)
	}
	if cr.State != vane.ChangeApproved {
		return nil, stateError(cr, "applied")
	}
	// Claim it: of two appliers racing, the second finds the revision
	// moved on.
	cr.AppliedBy, cr.Applied, cr.Reason, cr.Updated = by.Name, s.now(), "", s.now()
	if err := s.update(ctx, cr); err != nil {
		return nil, err
	}
	in := &vane.BatchInput{ID: cr.ID, Items: make([]vane.BatchItem, len(cr.Items))}
	for i := range cr.Items {
		it := cr.Items[i].BatchItem
		if cr.Items[i].Sealed {
			p := *it.Put
			if p.Value, err = s.open(ctx, p.Value); err != nil {
				return nil, s.failed(ctx, cr, err)
			}
			it.Put = &p
		}
		in.Items[i] = it
	}
	if _, err := s.Store.Batch(vane.NewContextWithPrincipal(ctx, by.Name), in); err != nil {
		if vane.ErrorDetail(err) == vane.DetailVersionMismatch {
			reason, serr := s.stale(ctx, cr)
			if serr != nil || reason == "" {
				reason = vane.ErrorMessage(err)
			}
			return nil, s.markStale(ctx, cr, by, reason)
		}
		return nil, s.failed(ctx, cr, err)
	}
	cr.State, cr.Updated = vane.ChangeApplied, s.now()
	if err := s.update(ctx, cr); err != nil {
		// The batch is written; the request still says approved, and
		// applying it again finds it stale.
		s.logger().Error("change request applied but not marked applied", "id", cr.ID, "error", err.Error())
		return nil, err
	}
	s.record(ctx, cr, AuditApply, vane.EventChangeApplied, by, "batch "+cr.ID)
	return cr, nil
}

// Cancel withdraws an open request; only its author may.
func (s *Service) Cancel(ctx context.Context, id string, by Actor) (*vane.ChangeRequest, error) {
	cr, err := s.Requests.ChangeRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if !isAuthor(cr, by) {
		return nil, vane.Errorf(vane.EFORBIDDEN, "only the author of change request %s (%s) may cancel it", id, cr.Author)
	}
	if !cr.State.Open() {
		return nil, stateError(cr, "cancelled")
	}
	cr.State, cr.Updated = vane.ChangeCancelled, s.now()
	if err := s.update(ctx, cr); err != nil {
		return nil, err
	}
	s.record(ctx, cr, AuditCancel, vane.EventChangeCancelled, by, "")
	return cr, nil
}

// NameState is where one name of a request stands now.
type NameState struct {
	Name string
	// Base is the version the request was made against (0: the name did
	// not exist); Current is its version now.
	Base, Current int64
	// Before is the name's value at Base, for a String or StringList
	// (nil otherwise: a SecureString's value is never shown).
	Before *vane.Parameter
}

// Stale reports whether the name moved on since the request was made.
func (n *NameState) Stale() bool { return n.Base != n.Current }

// States returns where each name of a request stands now, in the order
// of the request's names.
func (s *Service) States(ctx context.Context, cr *vane.ChangeRequest) ([]NameState, error) {
	var out []NameState
	for i := range cr.Items {
		it := &cr.Items[i]
		if it.ExpectVersion == nil {
			continue // not the first item of its name
		}
		ns := NameState{Name: it.Name(), Base: *it.ExpectVersion}
		cur, err := s.Store.Get(ctx, ns.Name)
		if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
			return nil, err
		}
		if cur != nil {
			ns.Current = cur.Version
		}
		if ns.Base > 0 {
			p := cur
			if ns.Current != ns.Base {
				p, err = s.Store.Get(ctx, fmt.Sprintf("%s:%d", ns.Name, ns.Base))
				if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
					return nil, err
				}
			}
			if p != nil && p.Type != vane.TypeSecureString {
				ns.Before = p
			}
		}
		out = append(out, ns)
	}
	return out, nil
}

// stale returns why a request can no longer be applied ("" when it can).
func (s *Service) stale(ctx context.Context, cr *vane.ChangeRequest) (string, error) {
	states, err := s.States(ctx, cr)
	if err != nil {
		return "", err
	}
	var moved []string
	for _, ns := range states {
		if ns.Stale() {
			moved = append(moved, fmt.Sprintf("%s is at version %d, the request was made against %d", ns.Name, ns.Current, ns.Base))
		}
	}
	return strings.Join(moved, "; "), nil
}

// markStale records that a request can no longer be applied and returns
// the error saying so.
func (s *Service) markStale(ctx context.Context, cr *vane.ChangeRequest, by Actor, reason string) error {
	cr.State, cr.Reason, cr.Updated = vane.ChangeStale, reason, s.now()
	if err := s.update(ctx, cr); err != nil {
		return err
	}
	s.record(ctx, cr, AuditApply, vane.EventChangeStale, by, "stale: "+reason)
	return vane.DetailErrorf(vane.ECONFLICT, vane.DetailChangeRequestStale,
		"change request %s is stale and was not applied: %s; propose it again against the current versions", cr.ID, reason)
}

// failed records why applying a request failed, leaving it approved, and
// returns err.
func (s *Service) failed(ctx context.Context, cr *vane.ChangeRequest, err error) error {
	cr.Reason, cr.AppliedBy, cr.Applied, cr.Updated = "applying failed: "+err.Error(), "", time.Time{}, s.now()
	if uerr := s.update(ctx, cr); uerr != nil {
		s.logger().Error("record a failed apply", "id", cr.ID, "error", uerr.Error())
	}
	return err
}

// update stores a request's new state; a concurrent step is ECONFLICT.
func (s *Service) update(ctx context.Context, cr *vane.ChangeRequest) error {
	err := s.Requests.UpdateChangeRequest(ctx, cr)
	if vane.ErrorCode(err) == vane.ECONFLICT {
		return vane.Errorf(vane.ECONFLICT, "change request %s was changed by someone else meanwhile: reload it", cr.ID)
	}
	return err
}

func (s *Service) open(ctx context.Context, sealed string) (string, error) {
	if s.Cipher == nil {
		return "", vane.Errorf(vane.EUNAVAILABLE, "the server has no keyring to open a proposed SecureString value")
	}
	return s.Cipher.Open(ctx, sealed)
}

// record writes a step's audit entries (one per name, so that the
// history of a name shows it) and queues its events.
func (s *Service) record(ctx context.Context, cr *vane.ChangeRequest, action, op string, by Actor, detail string) {
	names := cr.Names()
	now := s.now()
	if s.Audit != nil {
		req := vane.RequestFromContext(ctx)
		d := "change request " + cr.ID + ": " + string(cr.State)
		if detail != "" {
			d += ": " + detail
		}
		if len(d) > 300 {
			d = d[:300]
		}
		entries := make([]vane.AuditEntry, len(names))
		for i, n := range names {
			entries[i] = vane.AuditEntry{Time: now, Principal: by.Name, Source: req.Source, RequestID: req.RequestID,
				Action: action, Name: n, Result: vane.AuditOK, Detail: d, Batch: cr.ID}
		}
		if err := s.Audit.AppendAudit(context.WithoutCancel(ctx), entries); err != nil {
			s.logger().Error("audit a change request", "id", cr.ID, "error", err.Error())
		}
	}
	if s.Events == nil {
		return
	}
	rules, err := s.Events.EventRules(ctx)
	if err != nil {
		s.logger().Error("read event rules for a change request", "id", cr.ID, "error", err.Error())
		return
	}
	var seq int64
	if s.Seq != nil {
		seq = s.Seq()
	}
	ds := event.ChangeRequestEvents(rules, cr, op, by.Name, s.Region, s.Account, seq, now)
	if len(ds) == 0 {
		return
	}
	if err := s.Events.EnqueueEvents(context.WithoutCancel(ctx), ds); err != nil {
		s.logger().Error("queue change request events", "id", cr.ID, "error", err.Error())
		return
	}
	if s.Queued != nil {
		s.Queued()
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// isAuthor reports whether by proposed cr: the same principal, or the
// same access key.
func isAuthor(cr *vane.ChangeRequest, by Actor) bool {
	return by.Name == cr.Author || (by.Key != "" && by.Key == cr.AuthorKey)
}

// stateError is the ECONFLICT of a step a request's state does not allow.
func stateError(cr *vane.ChangeRequest, step string) error {
	why := ""
	if cr.Reason != "" {
		why = " (" + cr.Reason + ")"
	}
	return vane.Errorf(vane.ECONFLICT, "change request %s is %s%s and can no longer be %s", cr.ID, cr.State, why, step)
}

func checkComment(c string) error {
	if len(c) > MaxCommentBytes {
		return vane.Errorf(vane.EINVALID, "a comment holds at most %d bytes, not %d", MaxCommentBytes, len(c))
	}
	return nil
}
