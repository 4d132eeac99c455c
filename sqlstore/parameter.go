package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// versionColumns are the columns scanned by scanParameter, prefixed by the
// versions table alias v.
const versionColumns = `v.name, v.version, v.type, v.value, v.tier, v.description, v.allowed_pattern, v.data_type, v.key_id, v.modified_at, v.modified_by, v.policies`

// latestFrom joins each parameter to its latest version.
const latestFrom = ` FROM parameters p JOIN versions v ON v.name = p.name AND v.version = p.version`

type scanner interface{ Scan(...any) error }

func scanParameter(row scanner) (*vane.Parameter, error) {
	var p vane.Parameter
	var at int64
	if err := row.Scan(&p.Name, &p.Version, &p.Type, &p.Value, &p.Tier, &p.Description, &p.AllowedPattern,
		&p.DataType, &p.KeyID, &at, &p.LastModifiedUser, &p.Policies); err != nil {
		return nil, err
	}
	p.LastModified = time.Unix(0, at).UTC()
	return &p, nil
}

// writer makes the writes of one transaction: a single write, or the
// items of a batch, which see each other's effects. It implements
// vane.BatchWriter.
type writer struct {
	ctx     context.Context
	tx      txn
	now     time.Time
	batch   string // the batch's id, "" for a single write
	changed bool   // a change-log record was appended
}

// change appends the change-log record (and audit entry) of a write.
func (w *writer) change(c vane.Change) error {
	c.Time, c.Principal, c.Batch = w.now, vane.PrincipalFromContext(w.ctx), w.batch
	w.changed = true
	return appendChange(w.ctx, w.tx, c)
}

// Put implements vane.ParameterStore.
func (s *Store) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	var p *vane.Parameter
	err := s.write(ctx, "", func(w *writer) (err error) {
		p, err = w.Put(in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Batch implements vane.ParameterStore.
func (s *Store) Batch(ctx context.Context, in *vane.BatchInput) (*vane.BatchResult, error) {
	if err := vane.CheckBatch(in); err != nil {
		return nil, err
	}
	id := in.ID
	if id == "" {
		id = vane.NewBatchID()
	}
	var out *vane.BatchResult
	err := s.write(ctx, id, func(w *writer) (err error) {
		out, err = vane.ApplyBatch(in, w)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.ID = id
	return out, nil
}

// Version implements vane.BatchWriter.
func (w *writer) Version(name string) (int64, error) {
	canon, err := vane.ValidateName(name)
	if err != nil {
		return 0, err
	}
	v, err := currentVersion(w.ctx, w.tx, canon, vane.NotFoundError)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return 0, nil
	}
	return v, err
}

// Put writes a version of a parameter.
func (w *writer) Put(in *vane.PutInput) (*vane.Parameter, error) {
	ctx, tx, now := w.ctx, w.tx, w.now
	name, err := vane.CheckPut(in)
	if err != nil {
		return nil, err
	}
	cur, err := latest(ctx, tx, name)
	if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
		return nil, err
	}
	p, err := vane.ApplyPut(cur, in, name, now, vane.PrincipalFromContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := tx.s.seal(ctx, p); err != nil {
		return nil, err
	}
	if cur == nil {
		if _, err := tx.exec(ctx, `INSERT INTO parameters (name, version, created_at) VALUES (?, ?, ?)`,
			name, p.Version, now.UnixNano()); err != nil {
			return nil, tx.s.translate(err)
		}
		tags, _ := vane.MergeTags(nil, in.Tags) // counted by CheckPut
		for _, t := range tags {
			if _, err := tx.exec(ctx, `INSERT INTO tags (name, key, value) VALUES (?, ?, ?)`, name, t.Key, t.Value); err != nil {
				return nil, tx.s.translate(err)
			}
		}
	} else {
		// Versions are numbered from 1 without gaps, so a parameter
		// below version MaxVersions cannot hold MaxVersions of them.
		if cur.Version >= vane.MaxVersions {
			if err := dropOldestVersion(ctx, tx, name); err != nil {
				return nil, err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE parameters SET version = ? WHERE name = ?`, p.Version, name); err != nil {
			return nil, tx.s.translate(err)
		}
	}
	if _, err := tx.exec(ctx, `INSERT INTO versions (name, version, type, value, tier, description, allowed_pattern, data_type, key_id, modified_at, modified_by, policies)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		name, p.Version, p.Type, p.Value, p.Tier, p.Description, p.AllowedPattern, p.DataType, p.KeyID,
		now.UnixNano(), p.LastModifiedUser, p.Policies); err != nil {
		return nil, tx.s.translate(err)
	}
	if err := w.change(vane.Change{Op: vane.OpPut, Name: name, Version: p.Version, Type: p.Type}); err != nil {
		return nil, err
	}
	p.LastModified = time.Unix(0, now.UnixNano()).UTC()
	return p, nil
}

// dropOldestVersion makes room for one more version when a parameter keeps
// vane.MaxVersions: the oldest goes, unless a label holds it.
func dropOldestVersion(ctx context.Context, tx txn, name string) error {
	var n, oldest int64
	if err := tx.queryRow(ctx, `SELECT COUNT(*), MIN(version) FROM versions WHERE name = ?`, name).Scan(&n, &oldest); err != nil {
		return tx.s.translate(err)
	}
	if n < vane.MaxVersions {
		return nil
	}
	var labelled int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM labels WHERE name = ? AND version = ?`, name, oldest).Scan(&labelled); err != nil {
		return tx.s.translate(err)
	}
	if labelled > 0 {
		return vane.MaxVersionsError(name, oldest)
	}
	_, err := tx.exec(ctx, `DELETE FROM versions WHERE name = ? AND version = ?`, name, oldest)
	return tx.s.translate(err)
}

// latest reads the latest version of a parameter without labels.
func latest(ctx context.Context, tx txn, name string) (*vane.Parameter, error) {
	p, err := scanParameter(tx.queryRow(ctx, `SELECT `+versionColumns+latestFrom+` WHERE p.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vane.NotFoundError(name)
	}
	return p, tx.s.translate(err)
}

// currentVersion returns a parameter's latest version number.
func currentVersion(ctx context.Context, tx txn, name string, notFound func(string) error) (int64, error) {
	var v int64
	err := tx.queryRow(ctx, `SELECT version FROM parameters WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(name)
	}
	return v, tx.s.translate(err)
}

func appendChange(ctx context.Context, tx txn, c vane.Change) error {
	if c.RequestID == "" {
		c.RequestID = vane.RequestFromContext(ctx).RequestID
	}
	_, err := tx.exec(ctx, `INSERT INTO changes (op, name, version, type, labels, tag_keys, at, principal, request_id, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Op, c.Name, c.Version, c.Type, joinList(c.Labels), joinList(c.TagKeys), c.Time.UnixNano(), c.Principal, c.RequestID, c.Batch)
	if err != nil {
		return err
	}
	// The audit entry is written with the change, so that no change is
	// made without one.
	return insertAudit(ctx, tx, vane.AuditOf(ctx, c))
}

// Get implements vane.ParameterStore.
func (s *Store) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	sel, err := vane.ParseSelector(selector)
	if err != nil {
		return nil, err
	}
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	var p *vane.Parameter
	switch {
	case sel.Version > 0:
		p, err = scanParameter(tx.queryRow(ctx, `SELECT `+versionColumns+` FROM versions v WHERE v.name = ? AND v.version = ?`, sel.Name, sel.Version))
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := currentVersion(ctx, tx, sel.Name, vane.NotFoundError); err != nil {
				return nil, err
			}
			return nil, vane.VersionNotFoundError(sel.Name, sel.Version)
		}
	case sel.Label != "":
		p, err = scanParameter(tx.queryRow(ctx, `SELECT `+versionColumns+` FROM labels l JOIN versions v ON v.name = l.name AND v.version = l.version
			WHERE l.name = ? AND l.label = ?`, sel.Name, sel.Label))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, vane.DetailErrorf(vane.ENOTFOUND, vane.DetailParameterNotFound, "parameter %q has no label %q", sel.Name, sel.Label)
		}
	default:
		p, err = latest(ctx, tx, sel.Name)
	}
	if err != nil {
		return nil, tx.s.translate(err)
	}
	if err := loadLabels(ctx, tx, []*vane.Parameter{p}); err != nil {
		return nil, err
	}
	p.Selector = sel.String()
	return p, nil
}

// loadLabels fills in the labels of each listed version.
func loadLabels(ctx context.Context, tx txn, ps []*vane.Parameter) error {
	for _, p := range ps {
		rows, err := tx.query(ctx, `SELECT label FROM labels WHERE name = ? AND version = ? ORDER BY label`, p.Name, p.Version)
		if err != nil {
			return tx.s.translate(err)
		}
		p.Labels = nil
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return tx.s.translate(err)
			}
			p.Labels = append(p.Labels, l)
		}
		if err := rows.Close(); err != nil {
			return tx.s.translate(err)
		}
		if err := rows.Err(); err != nil {
			return tx.s.translate(err)
		}
	}
	return nil
}

// Delete implements vane.ParameterStore.
func (s *Store) Delete(ctx context.Context, in *vane.DeleteInput) error {
	return s.write(ctx, "", func(w *writer) error { return w.Delete(in) })
}

// Delete removes a parameter.
func (w *writer) Delete(in *vane.DeleteInput) error {
	ctx, tx := w.ctx, w.tx
	name, err := vane.CheckDelete(in)
	if err != nil {
		return err
	}
	v, err := currentVersion(ctx, tx, name, vane.NotFoundError)
	if err != nil {
		return err
	}
	if err := vane.CheckDeleteVersion(in, name, v); err != nil {
		return err
	}
	// versions, labels and tags go with it: ON DELETE CASCADE.
	if _, err := tx.exec(ctx, `DELETE FROM parameters WHERE name = ?`, name); err != nil {
		return tx.s.translate(err)
	}
	return w.change(vane.Change{Op: vane.OpDelete, Name: name, Version: v})
}

// Label implements vane.ParameterStore.
func (s *Store) Label(ctx context.Context, in *vane.LabelInput) (*vane.LabelResult, error) {
	var res *vane.LabelResult
	err := s.write(ctx, "", func(w *writer) (err error) {
		res, err = w.Label(in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Label attaches labels to a version.
func (w *writer) Label(in *vane.LabelInput) (*vane.LabelResult, error) {
	ctx, tx := w.ctx, w.tx
	name, valid, invalid, err := vane.CheckLabels(in, false)
	if err != nil {
		return nil, err
	}
	version, err := labelledVersion(ctx, tx, name, in.Version)
	if err != nil {
		return nil, err
	}
	res := &vane.LabelResult{Version: version, InvalidLabels: invalid}
	if len(valid) == 0 {
		return res, nil
	}
	have := map[string]bool{}
	p := &vane.Parameter{Name: name, Version: version}
	if err := loadLabels(ctx, tx, []*vane.Parameter{p}); err != nil {
		return nil, err
	}
	for _, l := range p.Labels {
		have[l] = true
	}
	n := len(have)
	for _, l := range valid {
		if !have[l] {
			n++
		}
	}
	if n > vane.MaxLabelsPerVersion {
		return nil, vane.LabelLimitError(name, version)
	}
	for _, l := range valid {
		if _, err := tx.exec(ctx, `INSERT INTO labels (name, label, version) VALUES (?, ?, ?)
			ON CONFLICT (name, label) DO UPDATE SET version = excluded.version`, name, l, version); err != nil {
			return nil, tx.s.translate(err)
		}
	}
	if err := w.change(vane.Change{Op: vane.OpLabel, Name: name, Version: version, Labels: valid}); err != nil {
		return nil, err
	}
	return res, nil
}

// labelledVersion resolves the version a label operation targets (0: the
// latest) and checks that it exists.
func labelledVersion(ctx context.Context, tx txn, name string, version int64) (int64, error) {
	cur, err := currentVersion(ctx, tx, name, vane.NotFoundError)
	if err != nil {
		return 0, err
	}
	if version == 0 {
		return cur, nil
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM versions WHERE name = ? AND version = ?`, name, version).Scan(&n); err != nil {
		return 0, tx.s.translate(err)
	}
	if n == 0 {
		return 0, vane.VersionNotFoundError(name, version)
	}
	return version, nil
}

// Unlabel implements vane.ParameterStore.
func (s *Store) Unlabel(ctx context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error) {
	var res *vane.UnlabelResult
	err := s.write(ctx, "", func(w *writer) (err error) {
		res, err = w.Unlabel(in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Unlabel removes labels from a version.
func (w *writer) Unlabel(in *vane.LabelInput) (*vane.UnlabelResult, error) {
	ctx, tx := w.ctx, w.tx
	name, valid, invalid, err := vane.CheckLabels(in, true)
	if err != nil {
		return nil, err
	}
	version, err := labelledVersion(ctx, tx, name, in.Version)
	if err != nil {
		return nil, err
	}
	res := &vane.UnlabelResult{InvalidLabels: invalid}
	for _, l := range valid {
		r, err := tx.exec(ctx, `DELETE FROM labels WHERE name = ? AND label = ? AND version = ?`, name, l, version)
		if err != nil {
			return nil, tx.s.translate(err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.RemovedLabels = append(res.RemovedLabels, l)
		} else {
			res.InvalidLabels = append(res.InvalidLabels, l)
		}
	}
	if len(res.RemovedLabels) == 0 {
		return res, nil
	}
	if err := w.change(vane.Change{Op: vane.OpUnlabel, Name: name, Version: version, Labels: res.RemovedLabels}); err != nil {
		return nil, err
	}
	return res, nil
}

// AddTags implements vane.ParameterStore.
func (s *Store) AddTags(ctx context.Context, in *vane.TagInput) error {
	return s.write(ctx, "", func(w *writer) error { return w.AddTags(in) })
}

// AddTags adds or replaces tags.
func (w *writer) AddTags(in *vane.TagInput) error {
	ctx, tx := w.ctx, w.tx
	name, err := vane.CheckTagInput(in, false)
	if err != nil {
		return err
	}
	v, err := currentVersion(ctx, tx, name, vane.ResourceNotFoundError)
	if err != nil {
		return err
	}
	have, err := tags(ctx, tx, name)
	if err != nil {
		return err
	}
	if _, err := vane.MergeTags(have, in.Tags); err != nil {
		return err
	}
	added, _ := vane.MergeTags(nil, in.Tags)
	keys := make([]string, len(added))
	for i, t := range added {
		keys[i] = t.Key
		if _, err := tx.exec(ctx, `INSERT INTO tags (name, key, value) VALUES (?, ?, ?)
			ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`, name, t.Key, t.Value); err != nil {
			return tx.s.translate(err)
		}
	}
	return w.change(vane.Change{Op: vane.OpTag, Name: name, Version: v, TagKeys: keys})
}

// RemoveTags implements vane.ParameterStore.
func (s *Store) RemoveTags(ctx context.Context, in *vane.TagInput) error {
	return s.write(ctx, "", func(w *writer) error { return w.RemoveTags(in) })
}

// RemoveTags removes tags by key.
func (w *writer) RemoveTags(in *vane.TagInput) error {
	ctx, tx := w.ctx, w.tx
	name, err := vane.CheckTagInput(in, true)
	if err != nil {
		return err
	}
	v, err := currentVersion(ctx, tx, name, vane.ResourceNotFoundError)
	if err != nil {
		return err
	}
	keys := dedupe(in.Keys)
	for _, k := range keys {
		if _, err := tx.exec(ctx, `DELETE FROM tags WHERE name = ? AND key = ?`, name, k); err != nil {
			return tx.s.translate(err)
		}
	}
	return w.change(vane.Change{Op: vane.OpUntag, Name: name, Version: v, TagKeys: keys})
}

// Tags implements vane.ParameterStore.
func (s *Store) Tags(ctx context.Context, name string) ([]vane.Tag, error) {
	name, err := vane.ValidateName(name)
	if err != nil {
		return nil, err
	}
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := currentVersion(ctx, tx, name, vane.ResourceNotFoundError); err != nil {
		return nil, err
	}
	return tags(ctx, tx, name)
}

func tags(ctx context.Context, tx txn, name string) ([]vane.Tag, error) {
	rows, err := tx.query(ctx, `SELECT key, value FROM tags WHERE name = ? ORDER BY key`, name)
	if err != nil {
		return nil, tx.s.translate(err)
	}
	defer rows.Close()
	out := []vane.Tag{}
	for rows.Next() {
		var t vane.Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, tx.s.translate(err)
		}
		out = append(out, t)
	}
	return out, tx.s.translate(rows.Err())
}

func dedupe(l []string) []string {
	seen := make(map[string]bool, len(l))
	out := make([]string, 0, len(l))
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

var _ vane.PathTagger = (*Store)(nil)

// TagsByPath implements vane.PathTagger with one range scan of the tags
// table (names sort bytewise on both backends, so the range of a path is
// vane.PathRange).
func (s *Store) TagsByPath(ctx context.Context, path string) (map[string][]vane.Tag, error) {
	if c, err := vane.ValidatePath(path); err != nil || c != path {
		return nil, vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, "path %q is not a canonical path", path)
	}
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	lo, hi := vane.PathRange(path)
	q, args := `SELECT name, key, value FROM tags WHERE name >= ? ORDER BY name, key`, []any{lo}
	if hi != "" {
		q, args = `SELECT name, key, value FROM tags WHERE name >= ? AND name < ? ORDER BY name, key`, []any{lo, hi}
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, tx.s.translate(err)
	}
	defer rows.Close()
	out := map[string][]vane.Tag{}
	for rows.Next() {
		var name string
		var t vane.Tag
		if err := rows.Scan(&name, &t.Key, &t.Value); err != nil {
			return nil, tx.s.translate(err)
		}
		out[name] = append(out[name], t)
	}
	return out, tx.s.translate(rows.Err())
}

// latestChunk is how many names Latest reads per query; the IN lists are
// padded to a power of two up to it, so that a few prepared statements
// serve every size.
const latestChunk = 512

// Latest implements vane.LatestReader: the latest version of each of
// names that exists, with its labels, read in one transaction (one
// query for the versions and one for the labels per latestChunk names).
func (s *Store) Latest(ctx context.Context, names []string) ([]*vane.Parameter, error) {
	tx, err := s.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]*vane.Parameter, 0, len(names))
	for len(names) > 0 {
		chunk := names[:min(len(names), latestChunk)]
		names = names[len(chunk):]
		n := 1
		for n < len(chunk) {
			n *= 2
		}
		args := make([]any, n)
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)] // padded with the last name
		}
		in := "(?" + strings.Repeat(", ?", n-1) + ")"
		rows, err := tx.query(ctx, `SELECT `+versionColumns+latestFrom+` WHERE p.name IN `+in, args...)
		if err != nil {
			return nil, err
		}
		byName := make(map[string]*vane.Parameter, len(chunk))
		for rows.Next() {
			p, err := scanParameter(rows)
			if err != nil {
				rows.Close()
				return nil, tx.s.translate(err)
			}
			if byName[p.Name] == nil {
				byName[p.Name] = p
				out = append(out, p)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, tx.s.translate(err)
		}
		rows, err = tx.query(ctx, `SELECT l.name, l.label FROM labels l JOIN parameters p ON p.name = l.name AND p.version = l.version
			WHERE l.name IN `+in+` ORDER BY l.name, l.label`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var name, label string
			if err := rows.Scan(&name, &label); err != nil {
				rows.Close()
				return nil, tx.s.translate(err)
			}
			if p := byName[name]; p != nil {
				p.Labels = append(p.Labels, label)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, tx.s.translate(err)
		}
	}
	return out, nil
}
