package vane

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// Limits of a batch (ParameterStore.Batch): enough for an import of ten
// thousand parameters in one transaction, small enough that one batch
// cannot hold the write lock for long or fill the server's memory.
const (
	MaxBatchItems = 10000
	// MaxBatchBytes bounds the names and values of a batch's items,
	// counted in bytes.
	MaxBatchBytes = 16 << 20
)

// BatchOp is what one item of a batch does.
type BatchOp string

// Batch operations: each is the single-item method of the same name.
const (
	BatchPut     BatchOp = "put"
	BatchDelete  BatchOp = "delete"
	BatchLabel   BatchOp = "label"
	BatchUnlabel BatchOp = "unlabel"
	BatchTag     BatchOp = "tag"
	BatchUntag   BatchOp = "untag"
)

// BatchItem is one write of a batch: Op, and the input of the method it
// names (Put for BatchPut, Delete for BatchDelete, Label for BatchLabel
// and BatchUnlabel, Tags for BatchTag and BatchUntag); the others nil.
type BatchItem struct {
	Op     BatchOp
	Put    *PutInput
	Delete *DeleteInput
	Label  *LabelInput
	Tags   *TagInput
	// ExpectVersion, when set, makes the item a compare-and-set on its
	// name whatever its op: the batch fails with ECONFLICT unless the
	// name's version, when the item is applied, is *ExpectVersion (0: it
	// does not exist). A put's or delete's own ExpectVersion still
	// applies too.
	ExpectVersion *int64
}

// BatchInput is a set of writes to apply together.
type BatchInput struct {
	// ID names the batch in the change log and the audit history; the
	// store makes one (NewBatchID) when it is empty.
	ID    string
	Items []BatchItem
}

// BatchItemResult is what one item did: the parameter a put stored, the
// outcome of a label or unlabel; nothing for the others.
type BatchItemResult struct {
	Parameter *Parameter
	Label     *LabelResult
	Unlabel   *UnlabelResult
}

// BatchResult is the outcome of a batch applied: its id, and one result
// per item, in order.
type BatchResult struct {
	ID    string
	Items []BatchItemResult
}

// BatchError is the error of a batch one of whose items failed: nothing
// of the batch was written. Err is the item's own error, with its code,
// so ErrorCode of a BatchError is that of the item.
type BatchError struct {
	Index int // the failing item, from 0
	Op    BatchOp
	Name  string
	Err   error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("item %d (%s %s): %v; nothing in the batch was written", e.Index, e.Op, e.Name, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// itemError returns the BatchError of item i failing with err.
func itemError(i int, it *BatchItem, err error) error {
	return &BatchError{Index: i, Op: it.Op, Name: it.Name(), Err: err}
}

// Name returns the name an item writes, "" if it has no input.
func (it *BatchItem) Name() string {
	switch {
	case it.Put != nil:
		return it.Put.Name
	case it.Delete != nil:
		return it.Delete.Name
	case it.Label != nil:
		return it.Label.Name
	case it.Tags != nil:
		return it.Tags.Name
	}
	return ""
}

// CheckBatch checks the shape of a batch before a store applies it: at
// least one item and at most MaxBatchItems, names and values of at most
// MaxBatchBytes, each item an operation with its input and no other. The
// items' own rules are checked as each is applied. A batch id, if given,
// must be a token of at most 64 characters of [A-Za-z0-9._-].
func CheckBatch(in *BatchInput) error {
	if in == nil || len(in.Items) == 0 {
		return DetailErrorf(EINVALID, DetailValidation, "a batch needs at least one item")
	}
	if len(in.Items) > MaxBatchItems {
		return Errorf(ETOOLARGE, "a batch holds at most %d items, not %d: split it", MaxBatchItems, len(in.Items))
	}
	if !validBatchID(in.ID) {
		return DetailErrorf(EINVALID, DetailValidation, "batch id %q is not valid: at most 64 of A-Z a-z 0-9 . _ -", in.ID)
	}
	size := 0
	for i := range in.Items {
		it := &in.Items[i]
		set := 0
		for _, p := range []bool{it.Put != nil, it.Delete != nil, it.Label != nil, it.Tags != nil} {
			if p {
				set++
			}
		}
		var ok bool
		switch it.Op {
		case BatchPut:
			ok = it.Put != nil
		case BatchDelete:
			ok = it.Delete != nil
		case BatchLabel, BatchUnlabel:
			ok = it.Label != nil
		case BatchTag, BatchUntag:
			ok = it.Tags != nil
		default:
			return itemError(i, it, DetailErrorf(EINVALID, DetailValidation,
				"op %q is not one of put, delete, label, unlabel, tag, untag", it.Op))
		}
		if !ok || set != 1 {
			return itemError(i, it, DetailErrorf(EINVALID, DetailValidation, "a %s item carries the input of a %s, and nothing else", it.Op, it.Op))
		}
		size += len(it.Name())
		if it.Put != nil {
			size += len(it.Put.Value)
		}
		if it.Tags != nil {
			for _, t := range it.Tags.Tags {
				size += len(t.Key) + len(t.Value)
			}
		}
	}
	if size > MaxBatchBytes {
		return Errorf(ETOOLARGE, "a batch holds at most %d bytes of names and values, not %d: split it", MaxBatchBytes, size)
	}
	return nil
}

// NewBatchID returns a new batch id: "b-" and 16 random hex digits.
func NewBatchID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	return "b-" + hex.EncodeToString(b[:])
}

// validBatchID reports whether id is empty or a token a batch may be
// named by.
func validBatchID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ApplyBatch applies a checked batch item by item with the single-item
// functions given, which run in the batch's transaction and see the
// effects of the items before them, and collects the results. The first
// failure is returned as a *BatchError, and the caller must then not
// commit.
func ApplyBatch(in *BatchInput, w BatchWriter) (*BatchResult, error) {
	out := &BatchResult{ID: in.ID, Items: make([]BatchItemResult, len(in.Items))}
	for i := range in.Items {
		it := &in.Items[i]
		r := &out.Items[i]
		var err error
		if it.ExpectVersion != nil {
			err = checkItemVersion(w, it.Name(), *it.ExpectVersion)
		}
		switch {
		case err != nil:
		case it.Op == BatchPut:
			r.Parameter, err = w.Put(it.Put)
		case it.Op == BatchDelete:
			err = w.Delete(it.Delete)
		case it.Op == BatchLabel:
			r.Label, err = w.Label(it.Label)
		case it.Op == BatchUnlabel:
			r.Unlabel, err = w.Unlabel(it.Label)
		case it.Op == BatchTag:
			err = w.AddTags(it.Tags)
		case it.Op == BatchUntag:
			err = w.RemoveTags(it.Tags)
		}
		if err != nil {
			var be *BatchError
			if errors.As(err, &be) {
				return nil, err
			}
			return nil, itemError(i, it, err)
		}
	}
	return out, nil
}

// checkItemVersion applies an item's ExpectVersion.
func checkItemVersion(w BatchWriter, name string, want int64) error {
	if want < 0 {
		return DetailErrorf(EINVALID, DetailValidation, "expected version %d of %q is not valid: 0 (must not exist) or more", want, name)
	}
	v, err := w.Version(name)
	if err != nil {
		return err
	}
	if v != want {
		return DetailErrorf(ECONFLICT, DetailVersionMismatch,
			"version mismatch on %q: expected version %d, current version is %d", name, want, v)
	}
	return nil
}

// BatchWriter is what ApplyBatch drives: a store's single-item writes
// inside one transaction.
type BatchWriter interface {
	// Version returns the latest version of name as the batch has left
	// it so far, 0 when it does not exist.
	Version(name string) (int64, error)
	Put(in *PutInput) (*Parameter, error)
	Delete(in *DeleteInput) error
	Label(in *LabelInput) (*LabelResult, error)
	Unlabel(in *LabelInput) (*UnlabelResult, error)
	AddTags(in *TagInput) error
	RemoveTags(in *TagInput) error
}
