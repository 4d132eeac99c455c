package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

var _ vane.EventStore = (*Store)(nil)

const (
	eventRuleColumns = `id, name, path, operations, target, url, sealed_secret, include_values, disabled,
		unused_days, start_seq, created_by, created_at, updated_at, revision`
	eventDeliveryColumns = `id, rule_id, seq, name, operation, body, state, attempts, next_attempt_at,
		last_status, last_error, created_at, delivered_at`
)

// checkEventRule validates what the store relies on: the keys, a target
// it knows and operations it can keep comma-separated.
func checkEventRule(r *vane.EventRule) error {
	switch {
	case r.ID == "":
		return vane.Errorf(vane.EINVALID, "an event rule needs an id")
	case r.Name == "":
		return vane.Errorf(vane.EINVALID, "event rule %s: the name is empty", r.ID)
	case r.Path == "":
		return vane.Errorf(vane.EINVALID, "event rule %s: the path is empty", r.ID)
	}
	switch r.Target {
	case vane.TargetWebhook, vane.TargetSlack, vane.TargetLog:
	default:
		return vane.Errorf(vane.EINVALID, "event rule %s: target %q is not one of %s, %s and %s",
			r.ID, r.Target, vane.TargetWebhook, vane.TargetSlack, vane.TargetLog)
	}
	for _, op := range r.Operations {
		if !slices.Contains(vane.EventOperations, op) {
			return vane.Errorf(vane.EINVALID, "event rule %s: operation %q is not one of %s",
				r.ID, op, strings.Join(vane.EventOperations, ", "))
		}
	}
	return nil
}

// ruleArgs are the values of eventRuleColumns but id, in order.
func ruleArgs(r *vane.EventRule) []any {
	return []any{r.Name, r.Path, joinList(r.Operations), r.Target, r.URL, r.SealedSecret,
		boolInt(r.IncludeValues), boolInt(r.Disabled), r.UnusedDays, r.StartSeq, r.CreatedBy,
		keyNanos(r.Created), keyNanos(r.Updated), r.Revision}
}

func scanEventRule(row interface{ Scan(...any) error }) (*vane.EventRule, error) {
	var r vane.EventRule
	var ops string
	var include, disabled, created, updated int64
	if err := row.Scan(&r.ID, &r.Name, &r.Path, &ops, &r.Target, &r.URL, &r.SealedSecret, &include, &disabled,
		&r.UnusedDays, &r.StartSeq, &r.CreatedBy, &created, &updated, &r.Revision); err != nil {
		return nil, err
	}
	r.Operations = splitList(ops)
	r.IncludeValues, r.Disabled = include != 0, disabled != 0
	r.Created, r.Updated = keyTime(created), keyTime(updated)
	return &r, nil
}

func scanEventDelivery(row interface{ Scan(...any) error }) (*vane.EventDelivery, error) {
	var d vane.EventDelivery
	var state string
	var next, created, delivered int64
	if err := row.Scan(&d.ID, &d.RuleID, &d.Seq, &d.Name, &d.Operation, &d.Body, &state, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &delivered); err != nil {
		return nil, err
	}
	d.State = vane.EventState(state)
	d.NextAttempt, d.Created, d.Delivered = keyTime(next), keyTime(created), keyTime(delivered)
	return &d, nil
}

// ruleNameTaken returns the ECONFLICT error for a rule whose name is held
// by another rule than id, or nil.
func ruleNameTaken(ctx context.Context, tx txn, id, name string) error {
	var other string
	err := tx.queryRow(ctx, `SELECT id FROM event_rules WHERE name = ? AND id <> ?`, name, id).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return tx.s.translate(err)
	}
	return vane.Errorf(vane.ECONFLICT, "the event rule name %q is taken by rule %s", name, other)
}

// CreateEventRule implements vane.EventStore.
func (s *Store) CreateEventRule(ctx context.Context, r *vane.EventRule) error {
	if err := checkEventRule(r); err != nil {
		return err
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM event_rules WHERE id = ?`, r.ID).Scan(&n); err != nil {
		return s.translate(err)
	} else if n > 0 {
		return vane.Errorf(vane.ECONFLICT, "an event rule with id %s exists", r.ID)
	}
	if err := ruleNameTaken(ctx, tx, r.ID, r.Name); err != nil {
		return err
	}
	r.Revision = 1
	if _, err := tx.exec(ctx, `INSERT INTO event_rules (`+eventRuleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append([]any{r.ID}, ruleArgs(r)...)...); err != nil {
		r.Revision = 0
		return err
	}
	if err := tx.commit(); err != nil {
		r.Revision = 0
		return err
	}
	return nil
}

// EventRule implements vane.EventStore.
func (s *Store) EventRule(ctx context.Context, id string) (*vane.EventRule, error) {
	r, err := scanEventRule(s.readRow(ctx, `SELECT `+eventRuleColumns+` FROM event_rules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vane.Errorf(vane.ENOTFOUND, "event rule %q not found", id)
	}
	if err != nil {
		return nil, s.translate(err)
	}
	return r, nil
}

// EventRules implements vane.EventStore.
func (s *Store) EventRules(ctx context.Context) ([]*vane.EventRule, error) {
	rows, err := s.readQuery(ctx, `SELECT `+eventRuleColumns+` FROM event_rules ORDER BY name`)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []*vane.EventRule{}
	for rows.Next() {
		r, err := scanEventRule(rows)
		if err != nil {
			return nil, s.translate(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(err)
	}
	return out, nil
}

// UpdateEventRule implements vane.EventStore. Every field is replaced but
// the ID; r.Revision is left as it was when the update fails.
func (s *Store) UpdateEventRule(ctx context.Context, r *vane.EventRule) error {
	if err := checkEventRule(r); err != nil {
		return err
	}
	old := r.Revision
	r.Revision = old + 1
	if err := s.updateEventRule(ctx, r, old); err != nil {
		r.Revision = old
		return err
	}
	return nil
}

func (s *Store) updateEventRule(ctx context.Context, r *vane.EventRule, old int64) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur int64
	err = tx.queryRow(ctx, `SELECT revision FROM event_rules WHERE id = ?`, r.ID).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return vane.Errorf(vane.ENOTFOUND, "event rule %q not found", r.ID)
	case err != nil:
		return s.translate(err)
	case cur != old:
		return vane.Errorf(vane.ECONFLICT, "event rule %s was changed meanwhile (revision %d, not %d): read it again", r.ID, cur, old)
	}
	if err := ruleNameTaken(ctx, tx, r.ID, r.Name); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE event_rules SET name = ?, path = ?, operations = ?, target = ?, url = ?, sealed_secret = ?,
		include_values = ?, disabled = ?, unused_days = ?, start_seq = ?, created_by = ?, created_at = ?, updated_at = ?, revision = ?
		WHERE id = ?`, append(ruleArgs(r), r.ID)...); err != nil {
		return err
	}
	return tx.commit()
}

// DeleteEventRule implements vane.EventStore.
func (s *Store) DeleteEventRule(ctx context.Context, id string) error {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.exec(ctx, `DELETE FROM event_rules WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.translate(err)
	} else if n == 0 {
		return vane.Errorf(vane.ENOTFOUND, "event rule %q not found", id)
	}
	if _, err := tx.exec(ctx, `DELETE FROM event_attempts WHERE delivery_id IN (SELECT id FROM event_deliveries WHERE rule_id = ?)`, id); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM event_deliveries WHERE rule_id = ?`, id); err != nil {
		return err
	}
	return tx.commit()
}

// EnqueueEvents implements vane.EventStore. A delivery with no State is
// stored pending, and one with no Created time is created now (both are
// set in ds). A delivery of a rule that no longer exists is dropped, as
// deleting the rule would have removed it: a rule's job may hand over its
// last events while the rule is being deleted.
func (s *Store) EnqueueEvents(ctx context.Context, ds []*vane.EventDelivery) error {
	return s.enqueue(ctx, ds, nil)
}

// EnqueueAttempted implements vane.EventStore.
func (s *Store) EnqueueAttempted(ctx context.Context, ds []*vane.EventDelivery, as []*vane.EventAttempt) error {
	return s.enqueue(ctx, ds, as)
}

// enqueue stores new deliveries and, when as is given, the attempts
// already made of them, in one transaction.
func (s *Store) enqueue(ctx context.Context, ds []*vane.EventDelivery, as []*vane.EventAttempt) error {
	attempted := map[string][]*vane.EventAttempt{}
	for _, a := range as {
		attempted[a.DeliveryID] = append(attempted[a.DeliveryID], a)
	}
	for i, d := range ds {
		switch {
		case d.ID == "":
			return vane.Errorf(vane.EINVALID, "event delivery %d needs an id", i)
		case d.RuleID == "":
			return vane.Errorf(vane.EINVALID, "event delivery %s: the rule_id is empty", d.ID)
		case d.State != "" && d.State != vane.EventPending && (as == nil || (d.State != vane.EventDelivered && d.State != vane.EventDead)):
			return vane.Errorf(vane.EINVALID, "event delivery %s: state %q is not %s: a new delivery is pending", d.ID, d.State, vane.EventPending)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	rules := map[string]bool{} // rule id: exists
	for _, d := range ds {
		exists, ok := rules[d.RuleID]
		if !ok {
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM event_rules WHERE id = ?`, d.RuleID).Scan(&n); err != nil {
				return s.translate(err)
			}
			exists = n > 0
			rules[d.RuleID] = exists
		}
		if !exists {
			continue
		}
		if d.State == "" {
			d.State = vane.EventPending
		}
		if d.Created.IsZero() {
			d.Created = now
		}
		res, err := tx.exec(ctx, `INSERT INTO event_deliveries (`+eventDeliveryColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.RuleID, d.Seq, d.Name, d.Operation, d.Body, string(d.State), d.Attempts, keyNanos(d.NextAttempt),
			d.LastStatus, d.LastError, keyNanos(d.Created), keyNanos(d.Delivered))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.translate(err)
		} else if n == 0 {
			continue // queued before: its attempts are its own
		}
		for i, a := range attempted[d.ID] {
			at := a.Time
			if at.IsZero() {
				at = now
			}
			a.N, a.Time = i+1, at
			if _, err := tx.exec(ctx, `INSERT INTO event_attempts (delivery_id, n, at, status, latency_ns, error) VALUES (?, ?, ?, ?, ?, ?)`,
				d.ID, a.N, keyNanos(at), a.Status, int64(a.Latency), a.Error); err != nil {
				return err
			}
		}
	}
	return tx.commit()
}

// PendingEvents implements vane.EventStore. Deliveries of the same
// sequence come in ID order.
func (s *Store) PendingEvents(ctx context.Context, ruleID string, limit int) ([]*vane.EventDelivery, error) {
	if limit <= 0 {
		return nil, vane.Errorf(vane.EINVALID, "limit %d is not positive", limit)
	}
	return s.queryDeliveries(ctx, `SELECT `+eventDeliveryColumns+` FROM event_deliveries
		WHERE rule_id = ? AND state = ? ORDER BY seq, id LIMIT ?`, ruleID, string(vane.EventPending), limit)
}

func (s *Store) queryDeliveries(ctx context.Context, query string, args ...any) ([]*vane.EventDelivery, error) {
	rows, err := s.readQuery(ctx, query, args...)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []*vane.EventDelivery{}
	for rows.Next() {
		d, err := scanEventDelivery(rows)
		if err != nil {
			return nil, s.translate(err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(err)
	}
	return out, nil
}

// RecordAttempt implements vane.EventStore. The store numbers attempts:
// a.N becomes the attempt's place among every attempt of the delivery
// (1 for the first), which keeps counting after a redelivery resets
// d.Attempts, so that the attempts before it stay listed. A zero a.Time is
// now.
func (s *Store) RecordAttempt(ctx context.Context, d *vane.EventDelivery, a *vane.EventAttempt) error {
	return s.recordAttempts(ctx, []*vane.EventDelivery{d}, []*vane.EventAttempt{a}, true)
}

// RecordAttempts implements vane.EventStore: every attempt in one
// transaction, so a burst of deliveries costs one commit.
func (s *Store) RecordAttempts(ctx context.Context, ds []*vane.EventDelivery, as []*vane.EventAttempt) error {
	if len(ds) != len(as) {
		return vane.Errorf(vane.EINVALID, "%d deliveries and %d attempts: they go in pairs", len(ds), len(as))
	}
	if len(ds) == 0 {
		return nil
	}
	return s.recordAttempts(ctx, ds, as, false)
}

// recordAttempts stores attempts and their deliveries' state. A delivery
// that is gone is ENOTFOUND when strict, and skipped otherwise.
func (s *Store) recordAttempts(ctx context.Context, ds []*vane.EventDelivery, as []*vane.EventAttempt, strict bool) error {
	for i, d := range ds {
		a := as[i]
		switch {
		case d.ID == "":
			return vane.Errorf(vane.EINVALID, "an attempt needs the id of its delivery")
		case a.DeliveryID != "" && a.DeliveryID != d.ID:
			return vane.Errorf(vane.EINVALID, "the attempt's delivery_id %s is not the delivery's id %s", a.DeliveryID, d.ID)
		}
		switch d.State {
		case vane.EventPending, vane.EventDelivered, vane.EventDead:
		default:
			return vane.Errorf(vane.EINVALID, "event delivery %s: state %q is not %s, %s or %s",
				d.ID, d.State, vane.EventPending, vane.EventDelivered, vane.EventDead)
		}
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	type recorded struct {
		a  *vane.EventAttempt
		id string
		n  int
		at time.Time
	}
	var done []recorded
	for i, d := range ds {
		a := as[i]
		res, err := tx.exec(ctx, `UPDATE event_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?,
		last_error = ?, delivered_at = ? WHERE id = ?`,
			string(d.State), d.Attempts, keyNanos(d.NextAttempt), d.LastStatus, d.LastError, keyNanos(d.Delivered), d.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.translate(err)
		} else if n == 0 {
			if strict {
				return vane.Errorf(vane.ENOTFOUND, "event delivery %q not found: its rule was deleted", d.ID)
			}
			continue
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(n), 0) + 1 FROM event_attempts WHERE delivery_id = ?`, d.ID).Scan(&n); err != nil {
			return s.translate(err)
		}
		at := a.Time
		if at.IsZero() {
			at = s.now()
		}
		if _, err := tx.exec(ctx, `INSERT INTO event_attempts (delivery_id, n, at, status, latency_ns, error) VALUES (?, ?, ?, ?, ?, ?)`,
			d.ID, n, keyNanos(at), a.Status, int64(a.Latency), a.Error); err != nil {
			return err
		}
		done = append(done, recorded{a, d.ID, n, at})
	}
	if err := tx.commit(); err != nil {
		return err
	}
	for _, r := range done {
		r.a.DeliveryID, r.a.N, r.a.Time = r.id, r.n, r.at
	}
	return nil
}

// EventDelivery implements vane.EventStore.
func (s *Store) EventDelivery(ctx context.Context, id string) (*vane.EventDelivery, error) {
	d, err := scanEventDelivery(s.readRow(ctx, `SELECT `+eventDeliveryColumns+` FROM event_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vane.Errorf(vane.ENOTFOUND, "event delivery %q not found", id)
	}
	if err != nil {
		return nil, s.translate(err)
	}
	return d, nil
}

// EventDeliveries implements vane.EventStore. Deliveries of the same
// sequence come in descending ID order; the paging token is the seq and
// ID of the first delivery of the next page.
func (s *Store) EventDeliveries(ctx context.Context, q *vane.EventDeliveryQuery) (*vane.EventDeliveryPage, error) {
	if q.RuleID == "" {
		return nil, vane.Errorf(vane.EINVALID, "listing event deliveries needs a rule_id")
	}
	limit, err := vane.PageLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + eventDeliveryColumns + ` FROM event_deliveries WHERE rule_id = ?`
	args := []any{q.RuleID}
	if q.NextToken != "" {
		seq, id, err := deliveryToken(q.NextToken)
		if err != nil {
			return nil, err
		}
		query += ` AND (seq < ? OR (seq = ? AND id <= ?))`
		args = append(args, seq, seq, id)
	}
	if q.State != "" {
		query += ` AND state = ?`
		args = append(args, string(q.State))
	}
	query += ` ORDER BY seq DESC, id DESC LIMIT ?`
	ds, err := s.queryDeliveries(ctx, query, append(args, limit+1)...)
	if err != nil {
		return nil, err
	}
	page := &vane.EventDeliveryPage{Deliveries: ds}
	if len(ds) > limit {
		next := ds[limit]
		page.Deliveries = ds[:limit]
		page.NextToken = vane.EncodeToken(strconv.FormatInt(next.Seq, 10) + "," + next.ID)
	}
	return page, nil
}

// deliveryToken decodes a token of EventDeliveries: "seq,id".
func deliveryToken(token string) (int64, string, error) {
	tok, err := vane.DecodeToken(token)
	if err != nil {
		return 0, "", err
	}
	a, id, ok := strings.Cut(tok, ",")
	seq, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidNextToken, "the next token is not valid")
	}
	return seq, id, nil
}

// EventAttempts implements vane.EventStore. A delivery that does not
// exist has no attempts.
func (s *Store) EventAttempts(ctx context.Context, deliveryID string) ([]*vane.EventAttempt, error) {
	rows, err := s.readQuery(ctx, `SELECT n, at, status, latency_ns, error FROM event_attempts
		WHERE delivery_id = ? ORDER BY n`, deliveryID)
	if err != nil {
		return nil, s.translate(err)
	}
	defer rows.Close()
	out := []*vane.EventAttempt{}
	for rows.Next() {
		a := &vane.EventAttempt{DeliveryID: deliveryID}
		var at, latency int64
		if err := rows.Scan(&a.N, &at, &a.Status, &latency, &a.Error); err != nil {
			return nil, s.translate(err)
		}
		a.Time, a.Latency = keyTime(at), time.Duration(latency)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.translate(err)
	}
	return out, nil
}

// RedeliverEvent implements vane.EventStore. The delivery's Delivered
// time is cleared; its LastStatus and LastError, which describe its last
// attempt, are kept.
func (s *Store) RedeliverEvent(ctx context.Context, id string, now time.Time) (*vane.EventDelivery, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.exec(ctx, `UPDATE event_deliveries SET state = ?, attempts = 0, next_attempt_at = ?, delivered_at = 0 WHERE id = ?`,
		string(vane.EventPending), keyNanos(now), id)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, s.translate(err)
	} else if n == 0 {
		return nil, vane.Errorf(vane.ENOTFOUND, "event delivery %q not found", id)
	}
	d, err := scanEventDelivery(tx.queryRow(ctx, `SELECT `+eventDeliveryColumns+` FROM event_deliveries WHERE id = ?`, id))
	if err != nil {
		return nil, s.translate(err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return d, nil
}

// PruneEventDeliveries implements vane.EventStore.
func (s *Store) PruneEventDeliveries(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const old = `state IN (?, ?) AND created_at < ?`
	args := []any{string(vane.EventDelivered), string(vane.EventDead), unixNano(before)}
	if _, err := tx.exec(ctx, `DELETE FROM event_attempts WHERE delivery_id IN (SELECT id FROM event_deliveries WHERE `+old+`)`, args...); err != nil {
		return 0, err
	}
	res, err := tx.exec(ctx, `DELETE FROM event_deliveries WHERE `+old, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.translate(err)
	}
	return n, tx.commit()
}
