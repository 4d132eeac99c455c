package index_test

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/vanehq/vane"
)

// fakeStore is a vane.Store whose methods call its function fields; a nil
// field makes the method fail with EINTERNAL.
type fakeStore struct {
	PutFunc        func(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error)
	BatchFunc      func(ctx context.Context, in *vane.BatchInput) (*vane.BatchResult, error)
	GetFunc        func(ctx context.Context, selector string) (*vane.Parameter, error)
	DeleteFunc     func(ctx context.Context, in *vane.DeleteInput) error
	ByPathFunc     func(ctx context.Context, in *vane.ByPathInput) (*vane.Page, error)
	DescribeFunc   func(ctx context.Context, in *vane.DescribeInput) (*vane.Page, error)
	HistoryFunc    func(ctx context.Context, in *vane.HistoryInput) (*vane.Page, error)
	LabelFunc      func(ctx context.Context, in *vane.LabelInput) (*vane.LabelResult, error)
	UnlabelFunc    func(ctx context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error)
	AddTagsFunc    func(ctx context.Context, in *vane.TagInput) error
	RemoveTagsFunc func(ctx context.Context, in *vane.TagInput) error
	TagsFunc       func(ctx context.Context, name string) ([]vane.Tag, error)
	ChangesFunc    func(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error)
	SnapshotFunc   func(ctx context.Context) ([]*vane.Parameter, int64, error)
	CompactFunc    func(ctx context.Context, before time.Time) (int64, error)
	CloseFunc      func() error
}

var _ vane.Store = (*fakeStore)(nil)

func unset(method string) error {
	return vane.Errorf(vane.EINTERNAL, "fakeStore: %s is not set", method)
}

func (f *fakeStore) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	if f.PutFunc == nil {
		return nil, unset("Put")
	}
	return f.PutFunc(ctx, in)
}

func (f *fakeStore) Batch(ctx context.Context, in *vane.BatchInput) (*vane.BatchResult, error) {
	if f.BatchFunc == nil {
		return nil, unset("Batch")
	}
	return f.BatchFunc(ctx, in)
}

func (f *fakeStore) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	if f.GetFunc == nil {
		return nil, unset("Get")
	}
	return f.GetFunc(ctx, selector)
}

func (f *fakeStore) Delete(ctx context.Context, in *vane.DeleteInput) error {
	if f.DeleteFunc == nil {
		return unset("Delete")
	}
	return f.DeleteFunc(ctx, in)
}

func (f *fakeStore) ByPath(ctx context.Context, in *vane.ByPathInput) (*vane.Page, error) {
	if f.ByPathFunc == nil {
		return nil, unset("ByPath")
	}
	return f.ByPathFunc(ctx, in)
}

func (f *fakeStore) Describe(ctx context.Context, in *vane.DescribeInput) (*vane.Page, error) {
	if f.DescribeFunc == nil {
		return nil, unset("Describe")
	}
	return f.DescribeFunc(ctx, in)
}

func (f *fakeStore) History(ctx context.Context, in *vane.HistoryInput) (*vane.Page, error) {
	if f.HistoryFunc == nil {
		return nil, unset("History")
	}
	return f.HistoryFunc(ctx, in)
}

func (f *fakeStore) Label(ctx context.Context, in *vane.LabelInput) (*vane.LabelResult, error) {
	if f.LabelFunc == nil {
		return nil, unset("Label")
	}
	return f.LabelFunc(ctx, in)
}

func (f *fakeStore) Unlabel(ctx context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error) {
	if f.UnlabelFunc == nil {
		return nil, unset("Unlabel")
	}
	return f.UnlabelFunc(ctx, in)
}

func (f *fakeStore) AddTags(ctx context.Context, in *vane.TagInput) error {
	if f.AddTagsFunc == nil {
		return unset("AddTags")
	}
	return f.AddTagsFunc(ctx, in)
}

func (f *fakeStore) RemoveTags(ctx context.Context, in *vane.TagInput) error {
	if f.RemoveTagsFunc == nil {
		return unset("RemoveTags")
	}
	return f.RemoveTagsFunc(ctx, in)
}

func (f *fakeStore) Tags(ctx context.Context, name string) ([]vane.Tag, error) {
	if f.TagsFunc == nil {
		return nil, unset("Tags")
	}
	return f.TagsFunc(ctx, name)
}

func (f *fakeStore) Changes(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
	if f.ChangesFunc == nil {
		return nil, unset("Changes")
	}
	return f.ChangesFunc(ctx, after, prefix, limit)
}

func (f *fakeStore) Snapshot(ctx context.Context) ([]*vane.Parameter, int64, error) {
	if f.SnapshotFunc == nil {
		return nil, 0, unset("Snapshot")
	}
	return f.SnapshotFunc(ctx)
}

func (f *fakeStore) Compact(ctx context.Context, before time.Time) (int64, error) {
	if f.CompactFunc == nil {
		return 0, unset("Compact")
	}
	return f.CompactFunc(ctx, before)
}

func (f *fakeStore) Close() error {
	if f.CloseFunc == nil {
		return nil
	}
	return f.CloseFunc()
}

// memBackend is a small model of a backend behind a fakeStore: the latest
// version of each parameter, the labels of all versions and the change log.
// Tests change it directly (as another node would) or through the fake's
// write methods, and count the calls the index makes.
type memBackend struct {
	mu     sync.Mutex
	latest map[string]*vane.Parameter
	labels map[string]map[string]int64 // name → label → version
	log    []vane.Change

	gets, changes int // calls of Get and Changes
}

func newMemBackend() *memBackend {
	return &memBackend{latest: map[string]*vane.Parameter{}, labels: map[string]map[string]int64{}}
}

// store returns a fakeStore served by the model: Get (latest, version and
// label selectors), ByPath (a naive reference listing), Changes, Snapshot,
// Put, Delete, Label, Unlabel and AddTags.
func (m *memBackend) store() *fakeStore {
	return &fakeStore{
		GetFunc: func(_ context.Context, selector string) (*vane.Parameter, error) {
			sel, err := vane.ParseSelector(selector)
			if err != nil {
				return nil, err
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			m.gets++
			p, ok := m.latest[sel.Name]
			if !ok {
				return nil, vane.NotFoundError(sel.Name)
			}
			switch {
			case sel.Label != "":
				v, ok := m.labels[sel.Name][sel.Label]
				if !ok {
					return nil, vane.NotFoundError(sel.Name)
				}
				return m.version(sel.Name, v, sel), nil
			case sel.Version > 0:
				if sel.Version > p.Version {
					return nil, vane.VersionNotFoundError(sel.Name, sel.Version)
				}
				return m.version(sel.Name, sel.Version, sel), nil
			}
			return m.withLabels(p), nil
		},
		ByPathFunc: func(_ context.Context, in *vane.ByPathInput) (*vane.Page, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			return referenceByPath(m.sorted(), in)
		},
		ChangesFunc: func(_ context.Context, after int64, _ string, limit int) ([]vane.Change, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.changes++
			i := sort.Search(len(m.log), func(i int) bool { return m.log[i].Seq > after })
			return slices.Clone(m.log[i:min(i+limit, len(m.log))]), nil
		},
		SnapshotFunc: func(context.Context) ([]*vane.Parameter, int64, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			ps := m.sorted()
			for i, p := range ps {
				ps[i] = m.withLabels(p)
			}
			return ps, m.seq(), nil
		},
		PutFunc: func(_ context.Context, in *vane.PutInput) (*vane.Parameter, error) {
			return m.put(in.Name, in.Value), nil
		},
		DeleteFunc: func(_ context.Context, in *vane.DeleteInput) error {
			if !m.delete(in.Name) {
				return vane.NotFoundError(in.Name)
			}
			return nil
		},
		LabelFunc: func(_ context.Context, in *vane.LabelInput) (*vane.LabelResult, error) {
			v, err := m.label(in.Name, in.Version, in.Labels...)
			if err != nil {
				return nil, err
			}
			return &vane.LabelResult{Version: v}, nil
		},
		UnlabelFunc: func(_ context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error) {
			m.unlabel(in.Name, in.Labels...)
			return &vane.UnlabelResult{RemovedLabels: in.Labels}, nil
		},
		AddTagsFunc: func(_ context.Context, in *vane.TagInput) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			if _, ok := m.latest[in.Name]; !ok {
				return vane.ResourceNotFoundError(in.Name)
			}
			m.append(vane.Change{Op: vane.OpTag, Name: in.Name})
			return nil
		},
	}
}

func (m *memBackend) seq() int64 { return int64(len(m.log)) }

func (m *memBackend) append(c vane.Change) {
	c.Seq = m.seq() + 1
	c.Time = time.Now()
	m.log = append(m.log, c)
}

// sorted returns the latest versions in name order.
func (m *memBackend) sorted() []*vane.Parameter {
	ps := make([]*vane.Parameter, 0, len(m.latest))
	for _, p := range m.latest {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *vane.Parameter) int { return cmp.Compare(a.Name, b.Name) })
	return ps
}

// withLabels returns a copy of a latest version carrying its labels.
func (m *memBackend) withLabels(p *vane.Parameter) *vane.Parameter {
	c := *p
	c.Labels = nil
	for l, v := range m.labels[p.Name] {
		if v == p.Version {
			c.Labels = append(c.Labels, l)
		}
	}
	slices.Sort(c.Labels)
	return &c
}

// version returns an older version of a parameter; the model keeps only
// the latest value, so older ones read "old".
func (m *memBackend) version(name string, v int64, sel vane.Selector) *vane.Parameter {
	c := *m.withLabels(m.latest[name])
	if v != c.Version {
		c.Version, c.Value, c.Labels = v, "old", nil
		for l, lv := range m.labels[name] {
			if lv == v {
				c.Labels = append(c.Labels, l)
			}
		}
		slices.Sort(c.Labels)
	}
	c.Selector = sel.String()
	return &c
}

// put writes a new version of a String parameter.
func (m *memBackend) put(name, value string) *vane.Parameter {
	name = vane.CanonicalName(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	var v int64 = 1
	if cur, ok := m.latest[name]; ok {
		v = cur.Version + 1
	}
	p := &vane.Parameter{Name: name, Type: vane.TypeString, Value: value, Version: v, Tier: vane.TierStandard,
		DataType: vane.DataTypeText, LastModified: time.Now().UTC(), LastModifiedUser: "test"}
	m.latest[name] = p
	m.append(vane.Change{Op: vane.OpPut, Name: name, Version: v, Type: p.Type})
	c := *p
	return &c
}

// putType writes a new version with a given type (and key for SecureString).
func (m *memBackend) putType(name, value string, typ vane.Type) {
	name = vane.CanonicalName(name)
	m.put(name, value)
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.latest[name]
	p.Type = typ
	if typ == vane.TypeSecureString {
		p.KeyID = vane.DefaultKeyID
	}
}

// delete removes a parameter; it reports whether it existed.
func (m *memBackend) delete(name string) bool {
	name = vane.CanonicalName(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.latest[name]
	if !ok {
		return false
	}
	delete(m.latest, name)
	delete(m.labels, name)
	m.append(vane.Change{Op: vane.OpDelete, Name: name, Version: p.Version})
	return true
}

// label moves labels to a version (0: the latest).
func (m *memBackend) label(name string, version int64, labels ...string) (int64, error) {
	name = vane.CanonicalName(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.latest[name]
	if !ok {
		return 0, vane.NotFoundError(name)
	}
	if version == 0 {
		version = p.Version
	}
	if m.labels[name] == nil {
		m.labels[name] = map[string]int64{}
	}
	for _, l := range labels {
		m.labels[name][l] = version
	}
	m.append(vane.Change{Op: vane.OpLabel, Name: name, Version: version, Labels: labels})
	return version, nil
}

// unlabel removes labels from whatever version carries them.
func (m *memBackend) unlabel(name string, labels ...string) {
	name = vane.CanonicalName(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range labels {
		delete(m.labels[name], l)
	}
	m.append(vane.Change{Op: vane.OpUnlabel, Name: name, Labels: labels})
}

// calls returns the number of Get and Changes calls so far.
func (m *memBackend) calls() (gets, changes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets, m.changes
}

// referenceByPath is a deliberately naive by-path listing over latest
// versions sorted by name, following the backends' contract: checks in the
// order path, filters, limit, token; every match after the token in name
// order; a NextToken only when another match follows.
func referenceByPath(sorted []*vane.Parameter, in *vane.ByPathInput) (*vane.Page, error) {
	path, err := vane.ValidatePath(in.Path)
	if err != nil {
		return nil, err
	}
	filters, err := vane.CheckFilters(in.Filters, true)
	if err != nil {
		return nil, err
	}
	limit, err := vane.PageLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	after, err := vane.DecodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	var matches []*vane.Parameter
	for _, p := range sorted {
		if p.Name > after && vane.UnderPath(p.Name, path, in.Recursive) && vane.MatchFilters(filters, p, nil) {
			matches = append(matches, p)
		}
	}
	page := &vane.Page{Parameters: []*vane.Parameter{}}
	if len(matches) > limit {
		page.Parameters = matches[:limit]
		page.NextToken = vane.EncodeToken(matches[limit-1].Name)
	} else if matches != nil {
		page.Parameters = matches
	}
	return page, nil
}
