package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/approval"
	"github.com/vanehq/vane/auth"
)

// SettingApprovalPaths, a StringList of paths, makes changes to the names
// under them need approval: with access control on, a write there needs
// vane:BypassApproval on the name besides the write's own action. On the
// native API a caller without it but with vane:ProposeChange gets a
// change request (202) instead of the write; elsewhere (the SSM and
// AppConfig APIs, rollouts, schedules) the write is refused, naming the
// setting.
const SettingApprovalPaths = "/vane/settings/approval-paths"

// approvalActions are the actions that change a parameter, and so need
// approval on the paths of SettingApprovalPaths.
var approvalActions = map[string]bool{
	auth.ActionPutParameter: true, auth.ActionDeleteParameter: true, auth.ActionDeleteParameters: true,
	auth.ActionLabelParameterVersion: true, auth.ActionUnlabelParameterVersion: true,
	auth.ActionAddTagsToResource: true, auth.ActionRemoveTagsFromResource: true,
	auth.ActionStartRollout: true, auth.ActionScheduleChange: true,
}

// approvalPath returns the path of SettingApprovalPaths that name is at
// or under, or "".
func (s *Server) approvalPath(ctx context.Context, name string) string {
	v, ok := s.settings.Get(ctx, SettingApprovalPaths)
	if !ok {
		return ""
	}
	for _, path := range strings.Split(v, ",") {
		canon, err := vane.ValidatePath(strings.TrimSpace(path))
		if err != nil {
			continue
		}
		if canon == "/" || strings.HasPrefix(name, canon) || name == strings.TrimSuffix(canon, "/") {
			return canon
		}
	}
	return ""
}

// needsApproval reports whether the caller's change to name needs
// approval: the name is on a path of SettingApprovalPaths and the caller
// may not bypass it. Without access control nothing does.
func (s *Server) needsApproval(ctx context.Context, name string) bool {
	p := principalOf(ctx)
	if p == nil || s.approvalPath(ctx, name) == "" {
		return false
	}
	return !p.Decide(auth.ActionBypassApproval, name).Allowed
}

// approvalRefusal is allow's refusal of a change that needs approval.
func (s *Server) approvalRefusal(ctx context.Context, action, name string) error {
	p := principalOf(ctx)
	path := s.approvalPath(ctx, name)
	s.auditRefusal(ctx, p.Key.ID, action, name, vane.EFORBIDDEN, "approval required: "+path+" is listed in "+SettingApprovalPaths)
	return vane.DetailErrorf(vane.EFORBIDDEN, vane.DetailApprovalRequired,
		"changes to %s need approval (%s is listed in %s): access key %s (%s) may not write there directly (vane:BypassApproval); propose the change with vane cr create, or write it on the native API with vane:ProposeChange",
		name, path, SettingApprovalPaths, p.Key.Name, p.Key.ID)
}

type proposeKey struct{}

// namedWrite wraps a native write route whose {name...} is one parameter:
// the caller must be allowed action on it, or, when the change needs
// approval, vane:ProposeChange; the handler then sees proposing(ctx) and
// hands its write to propose instead of making it.
func (s *Server) namedWrite(action string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := pathName(r)
		if sel, err := vane.ParseSelector(name); err == nil && s.Approvals != nil && s.needsApproval(r.Context(), sel.Name) &&
			principalOf(r.Context()).Decide(auth.ActionProposeChange, sel.Name).Allowed {
			h(w, r.WithContext(context.WithValue(r.Context(), proposeKey{}, true)))
			return
		}
		if err := s.allowName(r.Context(), action, name); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r)
	}
}

// proposing reports whether the request's writes are to be proposed.
func proposing(ctx context.Context) bool {
	p, _ := ctx.Value(proposeKey{}).(bool)
	return p
}

// actor returns the caller as the approval service knows it.
func actor(ctx context.Context) approval.Actor {
	a := approval.Actor{Name: vane.PrincipalFromContext(ctx)}
	if p := principalOf(ctx); p != nil {
		a.Key = p.Key.ID
	}
	return a
}

// proposed serves a write that needs approval as a change request when
// the request is proposing: 202 with the request. It returns false, and
// writes nothing, when the write is to be made.
func (s *Server) proposed(w http.ResponseWriter, r *http.Request, comment string, items ...vane.BatchItem) bool {
	if !proposing(r.Context()) {
		return false
	}
	cr, err := s.Approvals.Propose(r.Context(), actor(r.Context()), comment, items)
	if err != nil {
		s.writeError(w, r, err)
		return true
	}
	w.Header().Set("Location", "/v1/change-requests/"+cr.ID)
	writeJSON(w, http.StatusAccepted, map[string]any{
		"change_request": s.showChangeRequest(r.Context(), cr, nil),
		"message":        "the change needs approval: change request " + cr.ID + " was created; another principal approves it, then it is applied",
	})
	return true
}

// registerChangeRequestRoutes adds the change-request routes.
func (s *Server) registerChangeRequestRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/change-requests", s.handleListChangeRequests)
	mux.HandleFunc("POST /v1/change-requests", s.handleCreateChangeRequest)
	mux.HandleFunc("GET /v1/change-requests/{id}", s.handleGetChangeRequest)
	mux.HandleFunc("POST /v1/change-requests/{id}/{step}", s.handleChangeRequestStep)
}

// changeRequestJSON is a change request as the API shows it.
type changeRequestJSON struct {
	ID        string                  `json:"id"`
	State     vane.ChangeRequestState `json:"state"`
	Comment   string                  `json:"comment,omitempty"`
	Author    string                  `json:"author"`
	Items     []changeItemJSON        `json:"items"`
	Reviews   []vane.ChangeReview     `json:"reviews"`
	Reason    string                  `json:"reason,omitempty"`
	AppliedBy string                  `json:"applied_by,omitempty"`
	Applied   *time.Time              `json:"applied,omitempty"`
	Created   time.Time               `json:"created"`
	Updated   time.Time               `json:"updated"`
	// Names says where each name stands now (GET of one request only).
	Names []nameStateJSON `json:"names,omitempty"`
	// Stale is set with Names: a name moved on, so the request can no
	// longer be applied.
	Stale *bool `json:"stale,omitempty"`
}

// changeItemJSON is one proposed write, in the shape of a POST /v1/batch
// item. Value is left out for a SecureString, and when the caller may
// not read the name.
type changeItemJSON struct {
	Op            string            `json:"op"`
	Name          string            `json:"name"`
	Value         *string           `json:"value,omitempty"`
	Secret        bool              `json:"secret,omitempty"`
	Type          string            `json:"type,omitempty"`
	Description   *string           `json:"description,omitempty"`
	Version       int64             `json:"version,omitempty"`
	Labels        []string          `json:"labels,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Keys          []string          `json:"keys,omitempty"`
	ExpectVersion *int64            `json:"expect_version,omitempty"`
}

// nameStateJSON is where a name of a request stands now.
type nameStateJSON struct {
	Name string `json:"name"`
	// BaseVersion is the version the request was made against (0: the
	// name did not exist); CurrentVersion its version now.
	BaseVersion    int64   `json:"base_version"`
	CurrentVersion int64   `json:"current_version"`
	Stale          bool    `json:"stale"`
	Before         *string `json:"before,omitempty"` // the value at BaseVersion, when shown
	BeforeType     string  `json:"before_type,omitempty"`
}

// mayShowValues returns whether the caller may see a request's proposed
// values of name: its author, and who may read or approve the name.
func (s *Server) mayShowValues(ctx context.Context, cr *vane.ChangeRequest, name string) bool {
	p := principalOf(ctx)
	if p == nil || p.Key.ID == cr.AuthorKey {
		return true
	}
	return p.Decide(auth.ActionGetParameter, name).Allowed || p.Decide(auth.ActionApproveChange, name).Allowed
}

// mayView reports whether the caller may see a request at all: its
// author, or who may read or approve every one of its names.
func (s *Server) mayView(ctx context.Context, cr *vane.ChangeRequest) bool {
	p := principalOf(ctx)
	if p == nil || p.Key.ID == cr.AuthorKey {
		return true
	}
	for _, n := range cr.Names() {
		if !p.Decide(auth.ActionGetParameter, n).Allowed && !p.Decide(auth.ActionApproveChange, n).Allowed {
			return false
		}
	}
	return true
}

// showChangeRequest returns a request as the caller may see it, with
// where its names stand when states is not nil.
func (s *Server) showChangeRequest(ctx context.Context, cr *vane.ChangeRequest, states []approval.NameState) *changeRequestJSON {
	out := &changeRequestJSON{ID: cr.ID, State: cr.State, Comment: cr.Comment, Author: cr.Author, Reviews: cr.Reviews,
		Reason: cr.Reason, AppliedBy: cr.AppliedBy, Created: cr.Created, Updated: cr.Updated, Items: make([]changeItemJSON, len(cr.Items))}
	if out.Reviews == nil {
		out.Reviews = []vane.ChangeReview{}
	}
	if !cr.Applied.IsZero() && cr.State == vane.ChangeApplied {
		t := cr.Applied
		out.Applied = &t
	}
	shown := map[string]bool{}
	for _, n := range cr.Names() {
		shown[n] = s.mayShowValues(ctx, cr, n)
	}
	for i := range cr.Items {
		it := &cr.Items[i]
		o := changeItemJSON{Op: string(it.Op), Name: it.Name(), ExpectVersion: it.ExpectVersion}
		switch {
		case it.Put != nil:
			o.Type, o.Description, o.Secret = string(it.Put.Type), it.Put.Description, it.Sealed
			if !it.Sealed && shown[it.Name()] {
				v := it.Put.Value
				o.Value = &v
			}
			o.Tags = tagMap(it.Put.Tags)
		case it.Label != nil:
			o.Version, o.Labels = it.Label.Version, it.Label.Labels
		case it.Tags != nil:
			o.Tags, o.Keys = tagMap(it.Tags.Tags), it.Tags.Keys
		}
		out.Items[i] = o
	}
	if states != nil {
		stale := false
		out.Names = make([]nameStateJSON, len(states))
		for i, ns := range states {
			o := nameStateJSON{Name: ns.Name, BaseVersion: ns.Base, CurrentVersion: ns.Current, Stale: ns.Stale()}
			if ns.Before != nil && shown[ns.Name] {
				v := ns.Before.Value
				o.Before, o.BeforeType = &v, string(ns.Before.Type)
			}
			stale = stale || ns.Stale()
			out.Names[i] = o
		}
		out.Stale = &stale
	}
	return out
}

// tagMap returns tags as a map, nil when there are none.
func tagMap(tags []vane.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// approvals returns the approval service, or the error of a server
// without one.
func (s *Server) approvals() (*approval.Service, error) {
	if s.Approvals == nil {
		return nil, vane.Errorf(vane.EUNAVAILABLE, "change requests are not enabled on this server")
	}
	return s.Approvals, nil
}

// handleListChangeRequests serves GET /v1/change-requests: the requests
// the caller may see, newest first, by ?state= and ?path=.
func (s *Server) handleListChangeRequests(w http.ResponseWriter, r *http.Request) {
	ap, err := s.approvals()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	lq, err := parseListQuery(r, string(vane.ChangePending), string(vane.ChangeApproved), string(vane.ChangeRejected),
		string(vane.ChangeApplied), string(vane.ChangeCancelled), string(vane.ChangeStale))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cq := vane.ChangeRequestQuery{Prefix: lq.Prefix, State: vane.ChangeRequestState(lq.State), Limit: lq.Limit, NextToken: lq.NextToken}
	page, err := ap.Requests.ChangeRequests(r.Context(), &cq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		ChangeRequests []*changeRequestJSON `json:"change_requests"`
		NextToken      string               `json:"next_token,omitempty"`
	}{ChangeRequests: []*changeRequestJSON{}, NextToken: page.NextToken}
	for _, cr := range page.ChangeRequests {
		if !s.mayView(r.Context(), cr) || !touches(cr, cq.Prefix) {
			continue
		}
		out.ChangeRequests = append(out.ChangeRequests, s.showChangeRequest(r.Context(), cr, nil))
	}
	writeJSON(w, http.StatusOK, out)
}

// touches reports whether a request changes a name at or under path.
func touches(cr *vane.ChangeRequest, path string) bool {
	if path == "" || path == "/" {
		return true
	}
	trimmed := strings.TrimSuffix(path, "/")
	for _, n := range cr.Names() {
		if n == trimmed || strings.HasPrefix(n, trimmed+"/") {
			return true
		}
	}
	return false
}

// changeRequestBody is the body of POST /v1/change-requests: a comment
// and the items of a POST /v1/batch.
type changeRequestBody struct {
	Comment string             `json:"comment"`
	Items   []batchItemRequest `json:"items"`
}

// handleCreateChangeRequest serves POST /v1/change-requests: 201 with a
// new pending request. The caller must be allowed vane:ProposeChange on
// every name.
func (s *Server) handleCreateChangeRequest(w http.ResponseWriter, r *http.Request) {
	ap, err := s.approvals()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req changeRequestBody
	done := bodyDeadline(w)
	err = decodeJSONFrom(http.MaxBytesReader(w, r.Body, MaxBatchBodyBytes), &req)
	done()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := batchInput("", req.Items)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range in.Items {
		it := &in.Items[i]
		if err := s.allowName(r.Context(), auth.ActionProposeChange, it.Name()); err != nil {
			s.writeError(w, r, &vane.BatchError{Index: i, Op: it.Op, Name: it.Name(), Err: err})
			return
		}
	}
	cr, err := ap.Propose(r.Context(), actor(r.Context()), req.Comment, in.Items)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/change-requests/"+cr.ID)
	writeJSON(w, http.StatusCreated, s.showChangeRequest(r.Context(), cr, nil))
}

// loadChangeRequest reads the request of the route's {id}; one the caller
// may not see is not found.
func (s *Server) loadChangeRequest(r *http.Request) (*approval.Service, *vane.ChangeRequest, error) {
	ap, err := s.approvals()
	if err != nil {
		return nil, nil, err
	}
	cr, err := ap.Requests.ChangeRequest(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	if !s.mayView(r.Context(), cr) {
		return nil, nil, vane.Errorf(vane.ENOTFOUND, "change request %s not found", r.PathValue("id"))
	}
	return ap, cr, nil
}

// handleGetChangeRequest serves GET /v1/change-requests/{id}, with where
// each name stands now and the value it had when the request was made.
func (s *Server) handleGetChangeRequest(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	ap, cr, err := s.loadChangeRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	states, err := ap.States(r.Context(), cr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if states == nil {
		states = []approval.NameState{}
	}
	writeJSON(w, http.StatusOK, s.showChangeRequest(r.Context(), cr, states))
}

// reviewBody is the body of approve and reject.
type reviewBody struct {
	Comment string `json:"comment"`
}

// handleChangeRequestStep serves POST /v1/change-requests/{id}/{step}:
// approve and reject (vane:ApproveChange on every name, by anyone but the
// author), apply (by the author, or who may approve), cancel (by the
// author).
func (s *Server) handleChangeRequestStep(w http.ResponseWriter, r *http.Request) {
	step := r.PathValue("step")
	switch step {
	case "approve", "reject", "apply", "cancel":
	default:
		s.writeError(w, r, vane.Errorf(vane.ENOTFOUND, "no route for POST %s: the steps are approve, reject, apply and cancel", r.URL.Path))
		return
	}
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req reviewBody
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ap, cr, err := s.loadChangeRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, by := r.Context(), actor(r.Context())
	author := principalOf(ctx) != nil && principalOf(ctx).Key.ID == cr.AuthorKey
	if step == "approve" || step == "reject" || (step == "apply" && !author) {
		for _, n := range cr.Names() {
			if err := s.allow(ctx, auth.ActionApproveChange, n); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	var out *vane.ChangeRequest
	switch step {
	case "approve":
		out, err = ap.Review(ctx, cr.ID, by, vane.VerdictApprove, req.Comment)
	case "reject":
		out, err = ap.Review(ctx, cr.ID, by, vane.VerdictReject, req.Comment)
	case "apply":
		out, err = ap.Apply(ctx, cr.ID, by)
	case "cancel":
		out, err = ap.Cancel(ctx, cr.ID, by)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showChangeRequest(ctx, out, nil))
}
