package metrics

import (
	"context"
	"time"

	"github.com/vanehq/vane"
)

// resultOK is the result label of a store operation that succeeded; failed
// ones are labelled with their vane error code.
const resultOK = "ok"

// op names a store method in the op label.
type op int

const (
	opPut op = iota
	opGet
	opDelete
	opByPath
	opDescribe
	opHistory
	opLabel
	opUnlabel
	opAddTags
	opRemoveTags
	opTags
	opTagsByPath
	opChanges
	opSnapshot
	opCompact
	opClose
	opBatch
	opLatest
	opGetAt
	opSnapshotAt
	numOps
)

var opNames = [numOps]string{
	opPut:        "put",
	opGet:        "get",
	opDelete:     "delete",
	opByPath:     "by_path",
	opDescribe:   "describe",
	opHistory:    "history",
	opLabel:      "label",
	opUnlabel:    "unlabel",
	opAddTags:    "add_tags",
	opRemoveTags: "remove_tags",
	opTags:       "tags",
	opTagsByPath: "tags_by_path",
	opChanges:    "changes",
	opSnapshot:   "snapshot",
	opCompact:    "compact",
	opClose:      "close",
	opBatch:      "batch",
	opLatest:     "latest",
	opGetAt:      "get_at",
	opSnapshotAt: "snapshot_at",
}

// String returns the op label value.
func (o op) String() string { return opNames[o] }

// Store returns s wrapped so that every method call is timed in
// vane_store_operation_duration_seconds{op,result}. Wrap the storage
// backend itself, below any cache or index, so the histogram shows what the
// backend costs. A nil *Metrics returns s unchanged.
func (m *Metrics) Store(s vane.Store) vane.Store {
	if m == nil {
		return s
	}
	return &store{next: s, m: m}
}

// store times every call to the wrapped store.
type store struct {
	next vane.Store
	m    *Metrics
}

var _ vane.Store = (*store)(nil)

func (s *store) observe(o op, start time.Time, err error) {
	d := time.Since(start).Seconds()
	if err == nil {
		s.m.storeOK[o].Observe(d)
		return
	}
	s.m.storeDuration.WithLabelValues(o.String(), vane.ErrorCode(err)).Observe(d)
}

func (s *store) Put(ctx context.Context, in *vane.PutInput) (*vane.Parameter, error) {
	start := time.Now()
	p, err := s.next.Put(ctx, in)
	s.observe(opPut, start, err)
	return p, err
}

func (s *store) Batch(ctx context.Context, in *vane.BatchInput) (*vane.BatchResult, error) {
	start := time.Now()
	r, err := s.next.Batch(ctx, in)
	s.observe(opBatch, start, err)
	return r, err
}

func (s *store) Get(ctx context.Context, selector string) (*vane.Parameter, error) {
	start := time.Now()
	p, err := s.next.Get(ctx, selector)
	s.observe(opGet, start, err)
	return p, err
}

func (s *store) Delete(ctx context.Context, in *vane.DeleteInput) error {
	start := time.Now()
	err := s.next.Delete(ctx, in)
	s.observe(opDelete, start, err)
	return err
}

func (s *store) ByPath(ctx context.Context, in *vane.ByPathInput) (*vane.Page, error) {
	start := time.Now()
	p, err := s.next.ByPath(ctx, in)
	s.observe(opByPath, start, err)
	return p, err
}

func (s *store) Describe(ctx context.Context, in *vane.DescribeInput) (*vane.Page, error) {
	start := time.Now()
	p, err := s.next.Describe(ctx, in)
	s.observe(opDescribe, start, err)
	return p, err
}

func (s *store) History(ctx context.Context, in *vane.HistoryInput) (*vane.Page, error) {
	start := time.Now()
	p, err := s.next.History(ctx, in)
	s.observe(opHistory, start, err)
	return p, err
}

func (s *store) Label(ctx context.Context, in *vane.LabelInput) (*vane.LabelResult, error) {
	start := time.Now()
	r, err := s.next.Label(ctx, in)
	s.observe(opLabel, start, err)
	return r, err
}

func (s *store) Unlabel(ctx context.Context, in *vane.LabelInput) (*vane.UnlabelResult, error) {
	start := time.Now()
	r, err := s.next.Unlabel(ctx, in)
	s.observe(opUnlabel, start, err)
	return r, err
}

func (s *store) AddTags(ctx context.Context, in *vane.TagInput) error {
	start := time.Now()
	err := s.next.AddTags(ctx, in)
	s.observe(opAddTags, start, err)
	return err
}

func (s *store) RemoveTags(ctx context.Context, in *vane.TagInput) error {
	start := time.Now()
	err := s.next.RemoveTags(ctx, in)
	s.observe(opRemoveTags, start, err)
	return err
}

func (s *store) Tags(ctx context.Context, name string) ([]vane.Tag, error) {
	start := time.Now()
	t, err := s.next.Tags(ctx, name)
	s.observe(opTags, start, err)
	return t, err
}

// TagsByPath implements vane.PathTagger, timed as the op "tags_by_path".
func (s *store) TagsByPath(ctx context.Context, path string) (map[string][]vane.Tag, error) {
	start := time.Now()
	t, err := vane.TagsByPath(ctx, s.next, path)
	s.observe(opTagsByPath, start, err)
	return t, err
}

// Latest implements vane.LatestReader, timed as the op "latest".
func (s *store) Latest(ctx context.Context, names []string) ([]*vane.Parameter, error) {
	start := time.Now()
	ps, err := vane.Latest(ctx, s.next, names)
	s.observe(opLatest, start, err)
	return ps, err
}

// GetAt implements vane.AtTimeReader, timed as the op "get_at".
func (s *store) GetAt(ctx context.Context, name string, at time.Time) (*vane.Parameter, error) {
	start := time.Now()
	p, err := vane.GetAt(ctx, s.next, name, at)
	s.observe(opGetAt, start, err)
	return p, err
}

// SnapshotAt implements vane.AtTimeReader, timed as the op "snapshot_at".
func (s *store) SnapshotAt(ctx context.Context, path string, at time.Time) (*vane.AtSnapshot, error) {
	start := time.Now()
	snap, err := vane.SnapshotAt(ctx, s.next, path, at)
	s.observe(opSnapshotAt, start, err)
	return snap, err
}

func (s *store) Changes(ctx context.Context, after int64, prefix string, limit int) ([]vane.Change, error) {
	start := time.Now()
	c, err := s.next.Changes(ctx, after, prefix, limit)
	s.observe(opChanges, start, err)
	return c, err
}

func (s *store) Snapshot(ctx context.Context) ([]*vane.Parameter, int64, error) {
	start := time.Now()
	ps, seq, err := s.next.Snapshot(ctx)
	s.observe(opSnapshot, start, err)
	return ps, seq, err
}

func (s *store) Compact(ctx context.Context, before time.Time) (int64, error) {
	start := time.Now()
	n, err := s.next.Compact(ctx, before)
	s.observe(opCompact, start, err)
	return n, err
}

func (s *store) Close() error {
	start := time.Now()
	err := s.next.Close()
	s.observe(opClose, start, err)
	return err
}
