package storetest_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/storetest"
)

// TestRun runs the suite against memStore, a reference store written
// straight from the contract, so that a failure against a real backend is
// the backend's and not the suite's.
func TestRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T) vane.Store { return newMemStore() })
}

// memStore is an in-memory vane.Store: one mutex around maps, every rule
// delegated to the root package as a backend does inside its transaction.
type memStore struct {
	mu     sync.Mutex
	params map[string]*memParam
	log    []vane.Change // kept records, in sequence order
	seq    int64         // the last sequence assigned
	floor  int64         // the highest sequence Compact removed
}

type memParam struct {
	versions []*vane.Parameter // kept versions, oldest first, without labels
	labels   map[string]int64  // label -> version
	tags     []vane.Tag
}

var _ vane.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{params: map[string]*memParam{}} }

func (p *memParam) latest() *vane.Parameter { return p.versions[len(p.versions)-1] }

func (p *memParam) version(v int64) *vane.Parameter {
	for _, pv := range p.versions {
		if pv.Version == v {
			return pv
		}
	}
	return nil
}

func (p *memParam) labelsOf(v int64) []string {
	var out []string
	for l, lv := range p.labels {
		if lv == v {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// view returns a copy of a version with its labels.
func (p *memParam) view(pv *vane.Parameter) *vane.Parameter {
	c := *pv
	c.Labels = p.labelsOf(pv.Version)
	return &c
}

type batchKey struct{}

func (m *memStore) record(ctx context.Context, c vane.Change) {
	c.Batch, _ = ctx.Value(batchKey{}).(string)
	m.seq++
	c.Seq = m.seq
	c.Time = time.Now()
	c.Principal = vane.PrincipalFromContext(ctx)
	c.RequestID = vane.RequestFromContext(ctx).RequestID
	m.log = append(m.log, c)
}

func (m *memStore) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.put(ctx, in)
}

func (m *memStore) put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	name, err := vane.CheckPut(in)
	if err != nil {
		return nil, err
	}
	mp := m.params[name]
	var cur *vane.Parameter
	if mp != nil {
		cur = mp.latest()
	}
	p, err := vane.ApplyPut(cur, in, name, time.Now(), vane.PrincipalFromContext(ctx))
	if err != nil {
		return nil, err
	}
	if mp == nil {
		tags, err := vane.MergeTags(nil, in.Tags)
		if err != nil {
			return nil, err
		}
		mp = &memParam{labels: map[string]int64{}, tags: tags}
		m.params[name] = mp
	} else if len(mp.versions) >= vane.MaxVersions {
		oldest := mp.versions[0].Version
		if len(mp.labelsOf(oldest)) > 0 {
			return nil, vane.MaxVersionsError(name, oldest)
		}
		mp.versions = mp.versions[1:]
	}
	mp.versions = append(mp.versions, p)
	m.record(ctx, vane.Change{Op: vane.OpPut, Name: name, Version: p.Version, Type: p.Type})
	return mp.view(p), nil
}

// Batch applies the items under one lock, and restores the state from
// before the batch when one fails.
func (m *memStore) Batch(ctx context.Context, in *vane.BatchInput) (*vane.BatchResult, error) {
	if err := vane.CheckBatch(in); err != nil {
		return nil, err
	}
	id := in.ID
	if id == "" {
		id = vane.NewBatchID()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	saved, log, seq := make(map[string]*memParam, len(m.params)), slices.Clone(m.log), m.seq
	for n, p := range m.params {
		saved[n] = &memParam{versions: slices.Clone(p.versions), labels: maps.Clone(p.labels), tags: slices.Clone(p.tags)}
	}
	out, err := vane.ApplyBatch(in, memBatch{m, context.WithValue(ctx, batchKey{}, id)})
	if err != nil {
		m.params, m.log, m.seq = saved, log, seq
		return nil, err
	}
	out.ID = id
	return out, nil
}

// memBatch applies a batch's items with the store's lock held.
type memBatch struct {
	m   *memStore
	ctx context.Context
}

func (b memBatch) Version(name string) (int64, error) {
	canon, err := vane.ValidateName(name)
	if err != nil {
		return 0, err
	}
	if mp := b.m.params[canon]; mp != nil {
		return mp.latest().Version, nil
	}
	return 0, nil
}

func (b memBatch) Put(in *vane.PutInput) (*vane.Parameter, error)       { return b.m.put(b.ctx, in) }
func (b memBatch) Delete(in *vane.DeleteInput) error                    { return b.m.delete(b.ctx, in) }
func (b memBatch) Label(in *vane.LabelInput) (*vane.LabelResult, error) { return b.m.label(b.ctx, in) }
func (b memBatch) Unlabel(in *vane.LabelInput) (*vane.UnlabelResult, error) {
	return b.m.unlabel(b.ctx, in)
}
func (b memBatch) AddTags(in *vane.TagInput) error    { return b.m.addTags(b.ctx, in) }
func (b memBatch) RemoveTags(in *vane.TagInput) error { return b.m.removeTags(b.ctx, in) }

func (m *memStore) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	sel, err := vane.ParseSelector(selector)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mp := m.params[sel.Name]
	if mp == nil {
		return nil, vane.NotFoundError(sel.Name)
	}
	pv := mp.latest()
	switch {
	case sel.Version > 0:
		if pv = mp.version(sel.Version); pv == nil {
			return nil, vane.VersionNotFoundError(sel.Name, sel.Version)
		}
	case sel.Label != "":
		v, ok := mp.labels[sel.Label]
		if !ok {
			return nil, vane.NotFoundError(sel.Name + ":" + sel.Label)
		}
		pv = mp.version(v)
	}
	out := mp.view(pv)
	out.Selector = sel.String()
	return out, nil
}

func (m *memStore) Delete(ctx context.Context, in *vane.DeleteInput) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.delete(ctx, in)
}

func (m *memStore) delete(ctx context.Context, in *vane.DeleteInput) error {
	name, err := vane.CheckDelete(in)
	if err != nil {
		return err
	}
	mp := m.params[name]
	if mp == nil {
		return vane.NotFoundError(name)
	}
	if err := vane.CheckDeleteVersion(in, name, mp.latest().Version); err != nil {
		return err
	}
	delete(m.params, name)
	m.record(ctx, vane.Change{Op: vane.OpDelete, Name: name, Version: mp.latest().Version})
	return nil
}

// page returns the parameters of sorted names after the token's key, up to
// limit, picking each with pick (nil to skip it).
func (m *memStore) page(names []string, token string, limit int, pick func(name string) *vane.Parameter) (*vane.Page, error) {
	after, err := vane.DecodeToken(token)
	if err != nil {
		return nil, err
	}
	n, err := vane.PageLimit(limit)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := &vane.Page{}
	for _, name := range names {
		if name <= after {
			continue
		}
		p := pick(name)
		if p == nil {
			continue
		}
		if len(out.Parameters) == n {
			out.NextToken = vane.EncodeToken(out.Parameters[n-1].Name)
			break
		}
		out.Parameters = append(out.Parameters, p)
	}
	return out, nil
}

func (m *memStore) ByPath(ctx context.Context, in *vane.ByPathInput) (*vane.Page, error) {
	path, err := vane.ValidatePath(in.Path)
	if err != nil {
		return nil, err
	}
	filters, err := vane.CheckFilters(in.Filters, true)
	if err != nil {
		return nil, err
	}
	labels := vane.LabelFilter(filters)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.page(slices.Collect(maps.Keys(m.params)), in.NextToken, in.Limit, func(name string) *vane.Parameter {
		if !vane.UnderPath(name, path, in.Recursive) {
			return nil
		}
		mp := m.params[name]
		pv := mp.latest()
		if labels != nil {
			pv = nil
			for _, l := range labels {
				if v, ok := mp.labels[l]; ok {
					pv = mp.version(v)
					break
				}
			}
			if pv == nil {
				return nil
			}
		}
		if !vane.MatchFilters(filters, pv, nil) {
			return nil
		}
		return mp.view(pv)
	})
}

func (m *memStore) Describe(ctx context.Context, in *vane.DescribeInput) (*vane.Page, error) {
	filters, err := vane.CheckFilters(in.Filters, false)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.page(slices.Collect(maps.Keys(m.params)), in.NextToken, in.Limit, func(name string) *vane.Parameter {
		mp := m.params[name]
		if !vane.MatchFilters(filters, mp.latest(), mp.tags) {
			return nil
		}
		c := *mp.latest()
		c.Value = ""
		return &c
	})
}

func (m *memStore) History(ctx context.Context, in *vane.HistoryInput) (*vane.Page, error) {
	name, err := vane.ValidateName(in.Name)
	if err != nil {
		return nil, err
	}
	after, err := vane.DecodeVersionToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	n, err := vane.PageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mp := m.params[name]
	if mp == nil {
		return nil, vane.NotFoundError(name)
	}
	out := &vane.Page{}
	for _, pv := range mp.versions {
		if pv.Version <= after {
			continue
		}
		if len(out.Parameters) == n {
			out.NextToken = vane.EncodeVersionToken(out.Parameters[n-1].Version)
			break
		}
		out.Parameters = append(out.Parameters, mp.view(pv))
	}
	return out, nil
}

func (m *memStore) Label(ctx context.Context, in *vane.LabelInput) (*vane.LabelResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.label(ctx, in)
}

func (m *memStore) label(ctx context.Context, in *vane.LabelInput) (*vane.LabelResult, error) {
	name, valid, invalid, err := vane.CheckLabels(in, false)
	if err != nil {
		return nil, err
	}
	mp := m.params[name]
	if mp == nil {
		return nil, vane.NotFoundError(name)
	}
	v := in.Version
	if v == 0 {
		v = mp.latest().Version
	} else if mp.version(v) == nil {
		return nil, vane.VersionNotFoundError(name, v)
	}
	count := len(mp.labelsOf(v))
	for _, l := range valid {
		if mp.labels[l] != v {
			count++
		}
	}
	if count > vane.MaxLabelsPerVersion {
		return nil, vane.LabelLimitError(name, v)
	}
	for _, l := range valid {
		mp.labels[l] = v
	}
	if len(valid) > 0 {
		m.record(ctx, vane.Change{Op: vane.OpLabel, Name: name, Version: v, Labels: valid})
	}
	return &vane.LabelResult{Version: v, InvalidLabels: invalid}, nil
}

func (m *memStore) Unlabel(ctx context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unlabel(ctx, in)
}

func (m *memStore) unlabel(ctx context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error) {
	name, valid, invalid, err := vane.CheckLabels(in, true)
	if err != nil {
		return nil, err
	}
	mp := m.params[name]
	if mp == nil {
		return nil, vane.NotFoundError(name)
	}
	if mp.version(in.Version) == nil {
		return nil, vane.VersionNotFoundError(name, in.Version)
	}
	out := &vane.UnlabelResult{InvalidLabels: invalid}
	for _, l := range valid {
		if v, ok := mp.labels[l]; ok && v == in.Version {
			delete(mp.labels, l)
			out.RemovedLabels = append(out.RemovedLabels, l)
		} else {
			out.InvalidLabels = append(out.InvalidLabels, l)
		}
	}
	if len(out.RemovedLabels) > 0 {
		m.record(ctx, vane.Change{Op: vane.OpUnlabel, Name: name, Version: in.Version, Labels: out.RemovedLabels})
	}
	return out, nil
}

func (m *memStore) AddTags(ctx context.Context, in *vane.TagInput) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addTags(ctx, in)
}

func (m *memStore) addTags(ctx context.Context, in *vane.TagInput) error {
	name, err := vane.CheckTagInput(in, false)
	if err != nil {
		return err
	}
	mp := m.params[name]
	if mp == nil {
		return vane.ResourceNotFoundError(name)
	}
	tags, err := vane.MergeTags(mp.tags, in.Tags)
	if err != nil {
		return err
	}
	mp.tags = tags
	keys := make([]string, len(in.Tags))
	for i, t := range in.Tags {
		keys[i] = t.Key
	}
	m.record(ctx, vane.Change{Op: vane.OpTag, Name: name, Version: mp.latest().Version, TagKeys: keys})
	return nil
}

func (m *memStore) RemoveTags(ctx context.Context, in *vane.TagInput) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.removeTags(ctx, in)
}

func (m *memStore) removeTags(ctx context.Context, in *vane.TagInput) error {
	name, err := vane.CheckTagInput(in, true)
	if err != nil {
		return err
	}
	mp := m.params[name]
	if mp == nil {
		return vane.ResourceNotFoundError(name)
	}
	mp.tags = slices.DeleteFunc(mp.tags, func(t vane.Tag) bool { return slices.Contains(in.Keys, t.Key) })
	m.record(ctx, vane.Change{Op: vane.OpUntag, Name: name, Version: mp.latest().Version, TagKeys: in.Keys})
	return nil
}

func (m *memStore) Tags(ctx context.Context, name string) ([]vane.Tag, error) {
	name, err := vane.ValidateName(name)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mp := m.params[name]
	if mp == nil {
		return nil, vane.ResourceNotFoundError(name)
	}
	return slices.Clone(mp.tags), nil
}

func (m *memStore) Changes(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
	n, err := vane.PageLimit(limit)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if after < m.floor {
		return nil, vane.CompactedError(m.floor)
	}
	var out []vane.Change
	for _, c := range m.log {
		if c.Seq > after && vane.PrefixMatch(c.Name, prefix) && len(out) < n {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) Snapshot(ctx context.Context) ([]*vane.Parameter, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*vane.Parameter
	for _, mp := range m.params {
		out = append(out, mp.view(mp.latest()))
	}
	slices.SortFunc(out, func(a, b *vane.Parameter) int { return strings.Compare(a.Name, b.Name) })
	return out, m.seq, nil
}

func (m *memStore) Compact(ctx context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var removed int64
	kept := m.log[:0:0]
	for i, c := range m.log {
		if i < len(m.log)-1 && c.Time.Before(before) {
			removed++
			m.floor = max(m.floor, c.Seq)
			continue
		}
		kept = append(kept, c)
	}
	m.log = kept
	return removed, nil
}

func (m *memStore) Close() error { return nil }
