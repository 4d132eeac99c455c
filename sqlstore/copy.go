package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
)

// Copy sizes. A write transaction carries up to copyBatch rows, sent as
// multi-row INSERTs of up to copyInsertRows rows each, which keeps every
// statement well under the placeholder limits of SQLite (32766) and
// PostgreSQL (65535) for the widest table, event_rules, with 14 columns.
const (
	copyBatch      = 1000
	copyInsertRows = 100
)

// CopyStats counts the rows Copy copied, per table.
type CopyStats struct {
	Parameters int64
	Versions   int64
	Labels     int64
	Tags       int64
	Changes    int64
	Audit      int64 // audit history entries
	Usage      int64 // flag usage rows
	Keys       int64 // access keys
	Leases     int64 // background job leases, with their change-log cursors
	Rollouts   int64
	Schedules  int64 // scheduled changes
	// ChangeRequests counts the change requests, of every state.
	ChangeRequests int64
	// EventRules, EventDeliveries and EventAttempts count the event rules,
	// their deliveries and the deliveries' attempts.
	EventRules      int64
	EventDeliveries int64
	EventAttempts   int64
	// MaxSeq is the highest change-log sequence copied; the destination's
	// next change gets MaxSeq+1.
	MaxSeq     int64
	MaxAuditID int64 // the highest audit entry id copied; dst's next entry gets MaxAuditID+1
	// MaxRolloutSeq, MaxScheduleSeq and MaxChangeRequestSeq are the
	// highest seq of the rollouts, scheduled changes and change requests
	// copied, which order their listings; dst's next ones get higher seqs.
	MaxRolloutSeq       int64
	MaxScheduleSeq      int64
	MaxChangeRequestSeq int64
	// Floor is the compaction floor copied: the source no longer kept the
	// changes up to this sequence, and the destination reports them gone
	// likewise (0: nothing was compacted).
	Floor int64
}

// Total is the number of rows copied, all tables together.
func (st *CopyStats) Total() int64 {
	return st.Parameters + st.Versions + st.Labels + st.Tags + st.Changes + st.Audit + st.Usage + st.Keys +
		st.Leases + st.Rollouts + st.Schedules + st.ChangeRequests + st.EventRules + st.EventDeliveries + st.EventAttempts
}

func (st *CopyStats) count(table string) *int64 {
	switch table {
	case "parameters":
		return &st.Parameters
	case "versions":
		return &st.Versions
	case "labels":
		return &st.Labels
	case "tags":
		return &st.Tags
	case "audit":
		return &st.Audit
	case "flag_usage":
		return &st.Usage
	case "access_keys":
		return &st.Keys
	case "leases":
		return &st.Leases
	case "rollouts":
		return &st.Rollouts
	case "schedules":
		return &st.Schedules
	case "change_requests":
		return &st.ChangeRequests
	case "event_rules":
		return &st.EventRules
	case "event_deliveries":
		return &st.EventDeliveries
	case "event_attempts":
		return &st.EventAttempts
	default:
		return &st.Changes
	}
}

// copyColumn is a column of a copied table; every column of the schema is
// either text or an integer. A nullable column is text that may be NULL
// (rollouts.active_name); no other column of the schema may be.
type copyColumn struct {
	name     string
	integer  bool
	nullable bool
}

// copyTable describes a table for Copy: its columns, the first keyCols of
// which are its primary key, and the integer column (sumCol) whose count,
// max and sum the verification compares in SQL.
type copyTable struct {
	name    string
	columns []copyColumn
	keyCols int
	sumCol  string
}

func textColumn(name string) copyColumn { return copyColumn{name: name} }
func intColumn(name string) copyColumn  { return copyColumn{name: name, integer: true} }

func nullTextColumn(name string) copyColumn { return copyColumn{name: name, nullable: true} }

// copyTables returns the tables of the schema in an order that inserts a
// parameter before the rows that reference it (the job, change request and
// event tables, last, reference nothing). It is a function, not a variable, so that there is
// no package-level state. Sums are of columns whose sum cannot overflow a
// BIGINT: not of times in nanoseconds, such as leases.expires_at.
func copyTables() []copyTable {
	return []copyTable{
		{name: "parameters", keyCols: 1, sumCol: "version",
			columns: []copyColumn{textColumn("name"), intColumn("version"), intColumn("created_at")}},
		{name: "versions", keyCols: 2, sumCol: "version",
			columns: []copyColumn{textColumn("name"), intColumn("version"), textColumn("type"), textColumn("value"),
				textColumn("tier"), textColumn("description"), textColumn("allowed_pattern"), textColumn("data_type"),
				textColumn("key_id"), intColumn("modified_at"), textColumn("modified_by"), textColumn("policies")}},
		{name: "labels", keyCols: 2, sumCol: "version",
			columns: []copyColumn{textColumn("name"), textColumn("label"), intColumn("version")}},
		{name: "tags", keyCols: 2, sumCol: "length(value)",
			columns: []copyColumn{textColumn("name"), textColumn("key"), textColumn("value")}},
		{name: "changes", keyCols: 1, sumCol: "seq",
			columns: []copyColumn{intColumn("seq"), textColumn("op"), textColumn("name"), intColumn("version"),
				textColumn("type"), textColumn("labels"), textColumn("tag_keys"), intColumn("at"), textColumn("principal"),
				textColumn("request_id"), textColumn("batch_id")}},
		{name: "audit", keyCols: 1, sumCol: "id",
			columns: []copyColumn{intColumn("id"), intColumn("at"), textColumn("principal"), textColumn("source"), textColumn("request_id"),
				textColumn("action"), textColumn("name"), intColumn("old_version"), intColumn("new_version"), textColumn("result"), textColumn("detail"),
				textColumn("batch_id")}},
		{name: "access_keys", keyCols: 1, sumCol: "created_at",
			columns: []copyColumn{textColumn("id"), textColumn("name"), textColumn("secret_hash"), textColumn("secret_sealed"),
				textColumn("policy"), intColumn("created_at"), intColumn("last_used_at"), intColumn("expires_at"), intColumn("disabled")}},
		{name: "flag_usage", keyCols: 3, sumCol: "count",
			columns: []copyColumn{textColumn("name"), textColumn("day"), textColumn("variant"), intColumn("count"), intColumn("last_at")}},
		{name: "leases", keyCols: 1, sumCol: "cursor",
			columns: []copyColumn{textColumn("job"), textColumn("holder"), intColumn("expires_at"), intColumn("cursor")}},
		{name: "rollouts", keyCols: 1, sumCol: "seq",
			columns: []copyColumn{intColumn("seq"), textColumn("id"), textColumn("name"), nullTextColumn("active_name"),
				intColumn("revision"), textColumn("body")}},
		{name: "schedules", keyCols: 1, sumCol: "seq",
			columns: []copyColumn{intColumn("seq"), textColumn("id"), textColumn("name"), textColumn("state"), intColumn("at"),
				intColumn("revision"), textColumn("body")}},
		{name: "change_requests", keyCols: 1, sumCol: "seq",
			columns: []copyColumn{intColumn("seq"), textColumn("id"), textColumn("state"), textColumn("path"),
				intColumn("revision"), textColumn("body")}},
		{name: "event_rules", keyCols: 1, sumCol: "revision",
			columns: []copyColumn{textColumn("id"), textColumn("name"), textColumn("path"), textColumn("operations"),
				textColumn("target"), textColumn("url"), textColumn("sealed_secret"), intColumn("include_values"),
				intColumn("disabled"), intColumn("unused_days"), intColumn("start_seq"), textColumn("created_by"), intColumn("created_at"),
				intColumn("updated_at"), intColumn("revision")}},
		{name: "event_deliveries", keyCols: 1, sumCol: "seq",
			columns: []copyColumn{textColumn("id"), textColumn("rule_id"), intColumn("seq"), textColumn("name"),
				textColumn("operation"), textColumn("body"), textColumn("state"), intColumn("attempts"),
				intColumn("next_attempt_at"), intColumn("last_status"), textColumn("last_error"), intColumn("created_at"),
				intColumn("delivered_at")}},
		{name: "event_attempts", keyCols: 2, sumCol: "n",
			columns: []copyColumn{textColumn("delivery_id"), intColumn("n"), intColumn("at"), intColumn("status"),
				intColumn("latency_ns"), textColumn("error")}},
	}
}

func (t *copyTable) columnList() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// selectAfter returns the query for the next batch of rows in primary-key
// order, after the key given as arguments (none for the first batch). Row
// values compare lexicographically in both SQLite and PostgreSQL.
func (t *copyTable) selectAfter(first bool) string {
	keys := make([]string, t.keyCols)
	for i := range keys {
		keys[i] = t.columns[i].name
	}
	q := `SELECT ` + t.columnList() + ` FROM ` + t.name
	if !first {
		if t.keyCols == 1 {
			q += ` WHERE ` + keys[0] + ` > ?`
		} else {
			q += ` WHERE (` + strings.Join(keys, ", ") + `) > (?` + strings.Repeat(`, ?`, t.keyCols-1) + `)`
		}
	}
	return q + ` ORDER BY ` + strings.Join(keys, ", ") + ` LIMIT ?`
}

// insert returns a statement inserting n rows.
func (t *copyTable) insert(n int) string {
	row := `(?` + strings.Repeat(`, ?`, len(t.columns)-1) + `)`
	return `INSERT INTO ` + t.name + ` (` + t.columnList() + `) VALUES ` + row + strings.Repeat(`, `+row, n-1)
}

// readBatch reads up to copyBatch rows after key (nil: from the start).
// Each row is its column values, string or int64, or nil for a NULL of a
// nullable column.
func (t *copyTable) readBatch(ctx context.Context, tx txn, key []any) ([][]any, error) {
	args := append(append([]any(nil), key...), copyBatch)
	rows, err := tx.query(ctx, t.selectAfter(key == nil), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		strs := make([]string, len(t.columns))
		ints := make([]int64, len(t.columns))
		nulls := make([]sql.NullString, len(t.columns))
		dest := make([]any, len(t.columns))
		for i, c := range t.columns {
			switch {
			case c.integer:
				dest[i] = &ints[i]
			case c.nullable:
				dest[i] = &nulls[i]
			default:
				dest[i] = &strs[i]
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, tx.s.translate(err)
		}
		row := make([]any, len(t.columns))
		for i, c := range t.columns {
			switch {
			case c.integer:
				row[i] = ints[i]
			case c.nullable:
				// A NULL stays nil, which inserts NULL.
				if nulls[i].Valid {
					row[i] = nulls[i].String
				}
			default:
				row[i] = strs[i]
			}
		}
		out = append(out, row)
	}
	return out, tx.s.translate(rows.Err())
}

// scan calls fn with each batch of the table's rows, in key order.
func (t *copyTable) scan(ctx context.Context, tx txn, fn func([][]any) error) error {
	var key []any
	for {
		batch, err := t.readBatch(ctx, tx, key)
		if err != nil {
			return fmt.Errorf("read %s: %w", t.name, err)
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
		}
		if len(batch) < copyBatch {
			return nil
		}
		key = batch[len(batch)-1][:t.keyCols]
	}
}

// tableSum is what the verification compares of a table: the count, max
// and sum of one integer column computed by the database, and the number
// and digest of the rows read.
type tableSum struct {
	Count, Max, Sum int64 // by SQL
	Rows            int64 // rows read
	Digest          uint64
}

// aggregate computes the SQL part of a tableSum.
func (t *copyTable) aggregate(ctx context.Context, tx txn) (tableSum, error) {
	var s tableSum
	err := tx.queryRow(ctx, `SELECT COUNT(*), CAST(COALESCE(MAX(`+t.sumCol+`), 0) AS BIGINT), CAST(COALESCE(SUM(`+t.sumCol+`), 0) AS BIGINT) FROM `+t.name).
		Scan(&s.Count, &s.Max, &s.Sum)
	if err != nil {
		return s, fmt.Errorf("count %s: %w", t.name, tx.s.translate(err))
	}
	return s, nil
}

// add counts rows into the sum's digest: the sum of a 64-bit FNV-1a hash of
// each row, which does not depend on the order the rows are read in (so on
// neither database's collation). A NULL hashes apart from every string,
// the empty one included.
func (s *tableSum) add(rows [][]any) {
	h := fnv.New64a()
	var buf [8]byte
	for _, row := range rows {
		h.Reset()
		for _, v := range row {
			switch v := v.(type) {
			case int64:
				binary.BigEndian.PutUint64(buf[:], uint64(v))
				h.Write([]byte{'i'})
				h.Write(buf[:])
			case string:
				binary.BigEndian.PutUint64(buf[:], uint64(len(v)))
				h.Write([]byte{'s'})
				h.Write(buf[:])
				h.Write([]byte(v))
			case nil:
				h.Write([]byte{'n'})
			}
		}
		s.Digest += h.Sum64()
		s.Rows++
	}
}

// Copy copies every row of src's parameters, versions, labels, tags,
// changes, audit history, flag usage, access keys, job leases, rollouts,
// scheduled changes, change requests, event rules, event deliveries and
// their attempts to dst, keeping version numbers, times, principals, labels, tags,
// change-log sequence numbers and the jobs' cursors, and reports progress
// (rows committed to dst, rows to copy) after each batch when progress is
// not nil.
//
// dst must hold no parameter, change, job lease, rollout, scheduled
// change, change request, event rule or event delivery, and nothing else may write to
// it until Copy returns. src is read in one read transaction, so the copy
// is a consistent snapshot even if src is written meanwhile; dst is written
// in transactions of about a thousand rows, so a copy that fails part-way
// leaves dst partly filled, and it must be emptied before copying again.
//
// Afterwards dst's change sequence continues after the highest sequence
// copied, and dst has src's compaction floor, so that a reader asking dst
// for changes src had already compacted away is told they are gone rather
// than handed a log with a hole. On SQLite, inserting explicit values into the AUTOINCREMENT seq
// column already advances it. Any other destination is taken to be
// PostgreSQL, which Copy recognises by its Dialect.Rebind being set (SQLite
// keeps "?" placeholders), and its changes.seq, audit.id, rollouts.seq,
// schedules.seq and change_requests.seq to be serial columns whose
// sequences Copy sets with setval, so that new rollouts, scheduled changes
// and change requests list after the copied ones.
//
// Finally Copy verifies the copy: per table, the count, max and sum of an
// integer column computed by each database, and an order-independent digest
// of every row read from dst, must match those of the src snapshot, and so
// must the compaction floor. It returns an error naming each table that
// differs.
func Copy(ctx context.Context, dst, src *Store, progress func(done, total int64)) (*CopyStats, error) {
	if err := checkEmpty(ctx, dst); err != nil {
		return nil, err
	}
	stats, want, err := copyRows(ctx, dst, src, progress)
	if err != nil {
		if stats.Total() > 0 {
			err = fmt.Errorf("%w (the destination holds a partial copy: empty it before copying again)", err)
		}
		return nil, err
	}
	if err := setSequence(ctx, dst, "changes", "seq", stats.MaxSeq); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: set the change sequence: %w", err)
	}
	if err := setSequence(ctx, dst, "audit", "id", stats.MaxAuditID); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: set the audit sequence: %w", err)
	}
	if err := setSequence(ctx, dst, "rollouts", "seq", stats.MaxRolloutSeq); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: set the rollout sequence: %w", err)
	}
	if err := setSequence(ctx, dst, "schedules", "seq", stats.MaxScheduleSeq); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: set the schedule sequence: %w", err)
	}
	if err := setSequence(ctx, dst, "change_requests", "seq", stats.MaxChangeRequestSeq); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: set the change request sequence: %w", err)
	}
	if err := setFloor(ctx, dst, stats.Floor); err != nil {
		return nil, fmt.Errorf("sqlstore: copy: set the compaction floor: %w", err)
	}
	if err := verifyCopy(ctx, dst, want, stats.Floor); err != nil {
		return nil, err
	}
	return stats, nil
}

// checkEmpty fails unless dst holds no parameter, change, lease, rollout,
// scheduled change, change request, event rule or event delivery: any of them would make
// the copy fail part-way on a taken key, or mix with what is copied. (A
// server started on dst, even with no parameter, takes its jobs' leases.)
func checkEmpty(ctx context.Context, dst *Store) error {
	tx, err := dst.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: copy: destination: %w", err)
	}
	defer tx.Rollback()
	var params, changes, leases, rollouts, schedules, requests, rules, deliveries int64
	if err := tx.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM parameters), (SELECT COUNT(*) FROM changes),
		(SELECT COUNT(*) FROM leases), (SELECT COUNT(*) FROM rollouts), (SELECT COUNT(*) FROM schedules),
		(SELECT COUNT(*) FROM change_requests), (SELECT COUNT(*) FROM event_rules), (SELECT COUNT(*) FROM event_deliveries)`).
		Scan(&params, &changes, &leases, &rollouts, &schedules, &requests, &rules, &deliveries); err != nil {
		return fmt.Errorf("sqlstore: copy: destination: %w", tx.s.translate(err))
	}
	if params > 0 || changes > 0 || leases > 0 || rollouts > 0 || schedules > 0 || requests > 0 || rules > 0 || deliveries > 0 {
		return fmt.Errorf("sqlstore: copy: the destination is not empty (%d parameters, %d changes, %d job leases, %d rollouts, %d scheduled changes, %d change requests, %d event rules, %d event deliveries): copy only into a new database",
			params, changes, leases, rollouts, schedules, requests, rules, deliveries)
	}
	return nil
}

// copyRows copies the tables and returns what was copied with the sums of
// the src snapshot.
func copyRows(ctx context.Context, dst, src *Store, progress func(done, total int64)) (*CopyStats, map[string]tableSum, error) {
	stats := &CopyStats{}
	tx, err := src.beginRead(ctx)
	if err != nil {
		return stats, nil, fmt.Errorf("sqlstore: copy: source: %w", err)
	}
	defer tx.Rollback()

	if err := tx.queryRow(ctx, `SELECT seq FROM change_floor WHERE id = 1`).Scan(&stats.Floor); err != nil {
		return stats, nil, fmt.Errorf("sqlstore: copy: source: read the compaction floor: %w", tx.s.translate(err))
	}
	sums := map[string]tableSum{}
	var total int64
	for _, t := range copyTables() {
		s, err := t.aggregate(ctx, tx)
		if err != nil {
			return stats, nil, fmt.Errorf("sqlstore: copy: source: %w", err)
		}
		sums[t.name] = s
		total += s.Count
	}
	if progress != nil {
		progress(0, total)
	}
	var done int64
	for _, t := range copyTables() {
		sum := sums[t.name]
		err := t.scan(ctx, tx, func(rows [][]any) error {
			if err := writeBatch(ctx, dst, &t, rows); err != nil {
				return fmt.Errorf("write %s: %w", t.name, err)
			}
			sum.add(rows)
			*stats.count(t.name) += int64(len(rows))
			switch t.name {
			case "changes":
				stats.MaxSeq = rows[len(rows)-1][0].(int64)
			case "audit":
				stats.MaxAuditID = rows[len(rows)-1][0].(int64)
			case "rollouts":
				stats.MaxRolloutSeq = rows[len(rows)-1][0].(int64)
			case "schedules":
				stats.MaxScheduleSeq = rows[len(rows)-1][0].(int64)
			case "change_requests":
				stats.MaxChangeRequestSeq = rows[len(rows)-1][0].(int64)
			}
			done += int64(len(rows))
			if progress != nil {
				progress(done, max(total, done))
			}
			return nil
		})
		if err != nil {
			return stats, nil, fmt.Errorf("sqlstore: copy: %w", err)
		}
		sums[t.name] = sum
	}
	return stats, sums, nil
}

// writeBatch inserts rows into dst in one write transaction.
func writeBatch(ctx context.Context, dst *Store, t *copyTable, rows [][]any) error {
	tx, err := dst.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for len(rows) > 0 {
		n := min(len(rows), copyInsertRows)
		args := make([]any, 0, n*len(t.columns))
		for _, row := range rows[:n] {
			args = append(args, row...)
		}
		if _, err := tx.exec(ctx, t.insert(n), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return tx.commit()
}

// setSequence makes the next row of dst's table get a column value of
// maxSeq+1 (the next change the sequence maxSeq+1, for example). See Copy
// for how it tells PostgreSQL from SQLite.
func setSequence(ctx context.Context, dst *Store, table, column string, maxSeq int64) error {
	if dst.Dialect.Rebind == nil || maxSeq == 0 {
		return nil
	}
	tx, err := dst.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var set sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), ?)`, table, column, maxSeq).Scan(&set); err != nil {
		return tx.s.translate(err)
	}
	if !set.Valid {
		// pg_get_serial_sequence is NULL when the column owns no sequence.
		return errors.New(table + "." + column + " has no sequence")
	}
	return tx.commit()
}

// setFloor gives dst the compaction floor of the source.
func setFloor(ctx context.Context, dst *Store, floor int64) error {
	if floor == 0 {
		return nil
	}
	tx, err := dst.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.exec(ctx, `UPDATE change_floor SET seq = ? WHERE id = 1`, floor); err != nil {
		return err
	}
	return tx.commit()
}

// verifyCopy compares dst with the sums and the compaction floor of the
// src snapshot.
func verifyCopy(ctx context.Context, dst *Store, want map[string]tableSum, wantFloor int64) error {
	tx, err := dst.beginRead(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: copy: verify: %w", err)
	}
	defer tx.Rollback()
	var problems []string
	var floor int64
	if err := tx.queryRow(ctx, `SELECT seq FROM change_floor WHERE id = 1`).Scan(&floor); err != nil {
		return fmt.Errorf("sqlstore: copy: verify: read the compaction floor: %w", tx.s.translate(err))
	}
	if floor != wantFloor {
		problems = append(problems, fmt.Sprintf("change_floor: %d in the source, %d in the destination", wantFloor, floor))
	}
	for _, t := range copyTables() {
		got, err := t.aggregate(ctx, tx)
		if err != nil {
			return fmt.Errorf("sqlstore: copy: verify: %w", err)
		}
		if err := t.scan(ctx, tx, func(rows [][]any) error { got.add(rows); return nil }); err != nil {
			return fmt.Errorf("sqlstore: copy: verify: %w", err)
		}
		w := want[t.name]
		switch {
		case w.Rows != w.Count:
			problems = append(problems, fmt.Sprintf("%s: read %d of the source's %d rows", t.name, w.Rows, w.Count))
		case got.Count != w.Count || got.Rows != got.Count:
			problems = append(problems, fmt.Sprintf("%s: %d rows in the source, %d in the destination", t.name, w.Count, got.Count))
		case got.Max != w.Max || got.Sum != w.Sum:
			problems = append(problems, fmt.Sprintf("%s: max/sum of %s %d/%d in the source, %d/%d in the destination",
				t.name, t.sumCol, w.Max, w.Sum, got.Max, got.Sum))
		case got.Digest != w.Digest:
			problems = append(problems, fmt.Sprintf("%s: the rows differ (digest %016x in the source, %016x in the destination)",
				t.name, w.Digest, got.Digest))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlstore: copy: verification failed: %s", strings.Join(problems, "; "))
	}
	return nil
}
