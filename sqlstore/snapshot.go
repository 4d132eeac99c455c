package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"time"

	"github.com/vanehq/vane"
)

// Snapshot reading. A start of vane serve reads every latest version
// (Snapshot, for the index), which at a million parameters is most of the
// start. Two things keep it short:
//
//   - a large store is read in parts, by name range, on as many
//     connections as there are CPUs (at most maxSnapshotParts), each part
//     one streaming query. The parts are read in transactions that see the
//     same state: each reads the change log's newest sequence first, and
//     every write appends to the change log, so equal sequences mean equal
//     states; when a write slips in between, they are read again;
//   - the small columns that repeat from row to row (type, tier, data
//     type, key id, author) are read as bytes and interned, so a million
//     parameters hold a few copies of "String" rather than a million.

// maxSnapshotParts bounds the connections a snapshot reads on.
const maxSnapshotParts = 4

// snapshotPartRows is the fewest parameters worth a part of their own.
const snapshotPartRows = 50000

// Snapshot implements vane.ChangeLog.
func (s *Store) Snapshot(ctx context.Context) ([]*vane.Parameter, int64, error) {
	for attempt := 0; ; attempt++ {
		ps, seq, err := s.snapshot(ctx, attempt < 3)
		if !errors.Is(err, errMoved) {
			return ps, seq, err
		}
	}
}

// errMoved says that the parts of a snapshot saw different states.
var errMoved = errors.New("sqlstore: the store changed between the parts of a snapshot")

func (s *Store) snapshot(ctx context.Context, parallel bool) ([]*vane.Parameter, int64, error) {
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var seq, count int64
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq); err != nil {
		return nil, 0, tx.s.translate(err)
	}
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM parameters`).Scan(&count); err != nil {
		return nil, 0, tx.s.translate(err)
	}
	labels, err := allLabels(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	var versions int64
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM versions`).Scan(&versions); err != nil {
		return nil, 0, tx.s.translate(err)
	}
	scan := versions <= count+count/2
	if s.snapshotScan != 0 {
		scan = s.snapshotScan > 0
	}
	parts := 1
	if parallel {
		per := int64(snapshotPartRows)
		if s.snapshotPartRows > 0 {
			per = int64(s.snapshotPartRows)
		}
		parts = int(min(int64(min(runtime.GOMAXPROCS(0), maxSnapshotParts)), count/per))
		parts = max(parts, 1)
	}
	// The bounds of the parts: names at even offsets of the sorted names.
	bounds := []string{""}
	for i := 1; i < parts; i++ {
		var name string
		if err := tx.queryRow(ctx, `SELECT name FROM parameters ORDER BY name LIMIT 1 OFFSET ?`, count*int64(i)/int64(parts)).Scan(&name); err != nil {
			return nil, 0, tx.s.translate(err)
		}
		if name > bounds[len(bounds)-1] {
			bounds = append(bounds, name)
		}
	}
	bounds = append(bounds, "")
	results := make([][]*vane.Parameter, len(bounds)-1)
	errs := make(chan error, len(results))
	for i := range results {
		go func() {
			var err error
			results[i], err = s.snapshotPart(ctx, i, tx, seq, bounds[i], bounds[i+1], labels, int(count)/len(results), scan)
			errs <- err
		}()
	}
	for range results {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for _, r := range results {
		total += len(r)
	}
	out := make([]*vane.Parameter, 0, total)
	for _, r := range results {
		out = append(out, r...)
	}
	return out, seq, nil
}

// snapshotPart reads the latest versions of the names in [lo, hi) (hi ""
// for no bound): part 0 in tx, the others in read transactions of their
// own that must see the change-log sequence seq.
func (s *Store) snapshotPart(ctx context.Context, part int, tx txn, seq int64, lo, hi string, labels map[string][]string, sizeHint int, scan bool) ([]*vane.Parameter, error) {
	if part > 0 {
		own, err := s.beginRead(ctx)
		if err != nil {
			return nil, err
		}
		defer own.Rollback()
		var at int64
		if err := own.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&at); err != nil {
			return nil, own.s.translate(err)
		}
		if at != seq {
			return nil, errMoved
		}
		tx = own
	}
	// The latest version of a name is its highest kept one (versions
	// only grow, and a delete takes them all), so when the store keeps
	// few versions beyond the latest, reading the versions in key order
	// and keeping each name's last row costs less than seeking each
	// name's latest version through the join.
	q := `SELECT ` + versionColumns + latestFrom + ` WHERE p.name >= ?`
	col, order := "p.name", ` ORDER BY p.name`
	if scan {
		q, col, order = `SELECT `+versionColumns+` FROM versions v WHERE v.name >= ?`, "v.name", ` ORDER BY v.name, v.version`
	}
	args := []any{lo}
	if hi != "" {
		q += ` AND ` + col + ` < ?`
		args = append(args, hi)
	}
	rows, err := tx.query(ctx, q+order, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]*vane.Parameter, 0, sizeHint)
	in := interner{}
	var typ, tier, dataType, keyID, by sql.RawBytes
	for rows.Next() {
		p := new(vane.Parameter)
		var at int64
		if err := rows.Scan(&p.Name, &p.Version, &typ, &p.Value, &tier, &p.Description, &p.AllowedPattern,
			&dataType, &keyID, &at, &by, &p.Policies); err != nil {
			return nil, tx.s.translate(err)
		}
		p.Type, p.Tier = vane.Type(in.get(typ)), vane.Tier(in.get(tier))
		p.DataType, p.KeyID, p.LastModifiedUser = in.get(dataType), in.get(keyID), in.get(by)
		p.LastModified = time.Unix(0, at).UTC()
		p.Labels = labels[p.Name]
		if n := len(out); scan && n > 0 && out[n-1].Name == p.Name {
			out[n-1] = p // a later version of the same name
			continue
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, tx.s.translate(err)
	}
	return out, nil
}

// allLabels returns the labels of every latest version, by name.
func allLabels(ctx context.Context, tx txn) (map[string][]string, error) {
	byName := map[string][]string{}
	rows, err := tx.query(ctx, `SELECT l.name, l.label FROM labels l JOIN parameters p ON p.name = l.name AND p.version = l.version ORDER BY l.name, l.label`)
	if err != nil {
		return nil, tx.s.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, label string
		if err := rows.Scan(&name, &label); err != nil {
			return nil, tx.s.translate(err)
		}
		byName[name] = append(byName[name], label)
	}
	return byName, tx.s.translate(rows.Err())
}

// interner hands out one copy of each small string it is given; a value
// past maxInterned distinct ones is copied as it is.
type interner map[string]string

const maxInterned = 4096

func (in interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}
