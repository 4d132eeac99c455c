package http

import (
	"context"
	"net/http"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// MaxBatchBodyBytes bounds the body of POST /v1/batch: the names and
// values a batch may hold (vane.MaxBatchBytes) and room for the JSON
// around them.
const MaxBatchBodyBytes = 2 * vane.MaxBatchBytes

// batchRequest is the body of POST /v1/batch.
type batchRequest struct {
	ID    string             `json:"id"`
	Items []batchItemRequest `json:"items"`
	// Comment is the change request's, when the batch needs approval.
	Comment string `json:"comment"`
}

// batchItemRequest is one item: op and name, then the fields of the
// single-item request of the same op (PUT /v1/parameters, /v1/labels,
// /v1/tags, DELETE /v1/parameters).
type batchItemRequest struct {
	Op   string `json:"op"`
	Name string `json:"name"`
	putRequest
	Version int64    `json:"version"` // label, unlabel: the version (0: the latest, label only)
	Labels  []string `json:"labels"`  // label, unlabel
	Keys    []string `json:"keys"`    // untag
}

// batchItemJSON is the outcome of one item.
type batchItemJSON struct {
	Op            string   `json:"op"`
	Name          string   `json:"name"`
	Version       int64    `json:"version,omitempty"`
	RemovedLabels []string `json:"removed_labels,omitempty"`
	InvalidLabels []string `json:"invalid_labels,omitempty"`
}

type batchJSON struct {
	ID    string          `json:"id"`
	Items []batchItemJSON `json:"items"`
}

// batchActions are the actions each op needs, as its single-item route.
var batchActions = map[vane.BatchOp]string{
	vane.BatchPut: auth.ActionPutParameter, vane.BatchDelete: auth.ActionDeleteParameter,
	vane.BatchLabel: auth.ActionLabelParameterVersion, vane.BatchUnlabel: auth.ActionUnlabelParameterVersion,
	vane.BatchTag: auth.ActionAddTagsToResource, vane.BatchUntag: auth.ActionRemoveTagsFromResource,
}

// registerBatchRoutes adds POST /v1/batch.
func (s *Server) registerBatchRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/batch", s.handleBatch)
}

// handleBatch serves POST /v1/batch: several writes applied all or
// nothing (vane.ParameterStore.Batch). The caller must be allowed every
// item's action on its name, as for the single-item routes, or nothing is
// written. When an item needs approval (SettingApprovalPaths) and the
// caller may propose it, the whole batch becomes one change request
// (202).
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, comment, err := decodeBatch(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	propose := false
	for i := range in.Items {
		it := &in.Items[i]
		action := batchActions[it.Op]
		if s.Approvals != nil && s.needsApproval(r.Context(), vane.CanonicalName(it.Name())) {
			propose, action = true, auth.ActionProposeChange
		}
		if err := s.allowName(r.Context(), action, it.Name()); err != nil {
			s.writeError(w, r, &vane.BatchError{Index: i, Op: it.Op, Name: it.Name(), Err: err})
			return
		}
	}
	if propose {
		s.proposed(w, r.WithContext(context.WithValue(r.Context(), proposeKey{}, true)), comment, in.Items...)
		return
	}
	res, err := s.Store.Batch(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := batchJSON{ID: res.ID, Items: make([]batchItemJSON, len(res.Items))}
	for i, ir := range res.Items {
		it := &in.Items[i]
		o := batchItemJSON{Op: string(it.Op), Name: it.Name()}
		switch {
		case ir.Parameter != nil:
			o.Name, o.Version = ir.Parameter.Name, ir.Parameter.Version
		case ir.Label != nil:
			o.Version, o.InvalidLabels = ir.Label.Version, ir.Label.InvalidLabels
		case ir.Unlabel != nil:
			o.RemovedLabels, o.InvalidLabels = ir.Unlabel.RemovedLabels, ir.Unlabel.InvalidLabels
		}
		out.Items[i] = o
	}
	writeJSON(w, http.StatusOK, &out)
}

// decodeBatch reads the body of POST /v1/batch into a batch, checking its
// shape (vane.CheckBatch), and its comment; errors name the item.
func decodeBatch(w http.ResponseWriter, r *http.Request) (*vane.BatchInput, string, error) {
	defer bodyDeadline(w)()
	var req batchRequest
	if err := decodeJSONFrom(http.MaxBytesReader(w, r.Body, MaxBatchBodyBytes), &req); err != nil {
		return nil, "", err
	}
	in, err := batchInput(req.ID, req.Items)
	return in, req.Comment, err
}

// batchInput returns the batch of the items of a request body, checked
// (vane.CheckBatch); errors name the item.
func batchInput(id string, items []batchItemRequest) (*vane.BatchInput, error) {
	in := &vane.BatchInput{ID: id, Items: make([]vane.BatchItem, len(items))}
	for i, ir := range items {
		it, err := ir.item()
		if err != nil {
			return nil, &vane.BatchError{Index: i, Op: vane.BatchOp(ir.Op), Name: ir.Name, Err: err}
		}
		in.Items[i] = it
	}
	if err := vane.CheckBatch(in); err != nil {
		return nil, err
	}
	return in, nil
}

// item returns the store's form of one item.
func (ir *batchItemRequest) item() (vane.BatchItem, error) {
	if ir.Name == "" {
		return vane.BatchItem{}, invalidf("field \"name\" is required")
	}
	op := vane.BatchOp(ir.Op)
	it := vane.BatchItem{Op: op}
	switch op {
	case vane.BatchPut:
		if ir.Value == nil {
			return it, invalidf("field \"value\" is required")
		}
		it.Put = &vane.PutInput{Name: ir.Name, Value: *ir.Value, Type: vane.Type(ir.Type), Description: ir.Description,
			AllowedPattern: ir.AllowedPattern, KeyID: ir.KeyID, DataType: ir.DataType, Tier: vane.Tier(ir.Tier),
			Overwrite: ir.Overwrite, Tags: tagList(ir.Tags), ExpectVersion: ir.ExpectVersion, Policies: ir.policies()}
	case vane.BatchDelete:
		it.Delete = &vane.DeleteInput{Name: ir.Name, ExpectVersion: ir.ExpectVersion}
	case vane.BatchLabel, vane.BatchUnlabel:
		it.Label = &vane.LabelInput{Name: ir.Name, Version: ir.Version, Labels: ir.Labels}
		it.ExpectVersion = ir.ExpectVersion
	case vane.BatchTag:
		it.Tags = &vane.TagInput{Name: ir.Name, Tags: tagList(ir.Tags)}
		it.ExpectVersion = ir.ExpectVersion
	case vane.BatchUntag:
		it.Tags = &vane.TagInput{Name: ir.Name, Keys: ir.Keys}
		it.ExpectVersion = ir.ExpectVersion
	default:
		return it, invalidf("field \"op\" must be one of put, delete, label, unlabel, tag, untag, not %q", ir.Op)
	}
	return it, nil
}
