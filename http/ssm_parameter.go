package http

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// Bounds of the SSM service model (botocore ssm/2014-11-06/service-2.json)
// that the store does not enforce itself, and the page sizes used when a
// request gives no MaxResults.
const (
	ssmMaxNames           = 10   // GetParameters, DeleteParameters: ParameterNameList
	ssmMaxNameLength      = 2048 // PSParameterName
	ssmMaxPoliciesLength  = 4096 // ParameterPolicies
	ssmByPathMaxResults   = 10   // GetParametersByPathMaxResults
	ssmDescribeMaxResults = 50   // MaxResults
	ssmHistoryMaxResults  = 50   // MaxResults
	ssmByPathPageSize     = 10
	ssmDescribePageSize   = 10
	ssmHistoryPageSize    = 50
)

// ssmResourceTypes is the ResourceTypeForTagging enum; Vane has parameters
// only.
var ssmResourceTypes = []string{"Document", "ManagedInstance", "MaintenanceWindow", "Parameter",
	"PatchBaseline", "OpsItem", "OpsMetadata", "Automation", "Association"}

// ssmParameter is SSM's Parameter shape.
type ssmParameter struct {
	Name     string `json:"Name"`
	Type     string `json:"Type,omitempty"`
	Value    string `json:"Value"`
	Version  int64  `json:"Version,omitempty"`
	Selector string `json:"Selector,omitempty"`
	// SourceResult is set by AWS only for /aws/reference/secretsmanager/
	// names, which Vane does not serve; it stays empty.
	SourceResult     string    `json:"SourceResult,omitempty"`
	LastModifiedDate epochTime `json:"LastModifiedDate,omitzero"`
	ARN              string    `json:"ARN,omitempty"`
	DataType         string    `json:"DataType,omitempty"`
}

// ssmPolicy is SSM's ParameterInlinePolicy; AWS sends "Policies": [] on
// every metadata and history entry without policies.
type ssmPolicy struct {
	PolicyText   string `json:"PolicyText,omitempty"`
	PolicyType   string `json:"PolicyType,omitempty"`
	PolicyStatus string `json:"PolicyStatus,omitempty"`
}

// ssmParameterMetadata is SSM's ParameterMetadata shape.
type ssmParameterMetadata struct {
	Name             string      `json:"Name"`
	ARN              string      `json:"ARN,omitempty"`
	Type             string      `json:"Type,omitempty"`
	KeyID            string      `json:"KeyId,omitempty"`
	LastModifiedDate epochTime   `json:"LastModifiedDate,omitzero"`
	LastModifiedUser string      `json:"LastModifiedUser,omitempty"`
	Description      string      `json:"Description,omitempty"`
	AllowedPattern   string      `json:"AllowedPattern,omitempty"`
	Version          int64       `json:"Version,omitempty"`
	Tier             string      `json:"Tier,omitempty"`
	Policies         []ssmPolicy `json:"Policies"`
	DataType         string      `json:"DataType,omitempty"`
}

// ssmParameterHistory is SSM's ParameterHistory shape.
type ssmParameterHistory struct {
	Name             string      `json:"Name"`
	Type             string      `json:"Type,omitempty"`
	KeyID            string      `json:"KeyId,omitempty"`
	LastModifiedDate epochTime   `json:"LastModifiedDate,omitzero"`
	LastModifiedUser string      `json:"LastModifiedUser,omitempty"`
	Description      string      `json:"Description,omitempty"`
	Value            string      `json:"Value"`
	AllowedPattern   string      `json:"AllowedPattern,omitempty"`
	Version          int64       `json:"Version,omitempty"`
	Labels           []string    `json:"Labels"`
	Tier             string      `json:"Tier,omitempty"`
	Policies         []ssmPolicy `json:"Policies"`
	DataType         string      `json:"DataType,omitempty"`
}

// ssmTag is SSM's Tag shape in responses.
type ssmTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// ssmTagRequest is SSM's Tag shape in requests, where both members are
// required.
type ssmTagRequest struct {
	Key   *string
	Value *string
}

// ssmFilter is SSM's ParameterStringFilter; the store checks it.
type ssmFilter struct {
	Key    string
	Option string
	Values []string
}

// ssmDeprecatedFilter is SSM's ParametersFilter, the older filter form of
// DescribeParameters.
type ssmDeprecatedFilter struct {
	Key    string
	Values []string
}

// arn returns the ARN of a parameter.
func (h *ssmHandler) arn(name string) string {
	return h.arnPrefix + strings.TrimPrefix(name, "/")
}

// user returns LastModifiedUser for a principal: AWS sends the ARN of the
// IAM identity, so a bare principal is shown as an IAM user of the
// server's account, and one that is already an ARN as is.
func (h *ssmHandler) user(principal string) string {
	if principal == "" || strings.HasPrefix(principal, "arn:") {
		return principal
	}
	return "arn:aws:iam::" + h.account + ":user/" + principal
}

// value returns the value of p to send. A SecureString is opened when the
// caller asked for decryption and the server has a Cipher; otherwise every
// value goes out as stored (sealed, for a SecureString in a store that
// seals).
func (h *ssmHandler) value(ctx context.Context, p *vane.Parameter, decrypt bool) (string, error) {
	if !decrypt || p.Type != vane.TypeSecureString || h.s.Cipher == nil {
		return p.Value, nil
	}
	if err := h.s.allowDecrypt(ctx, p); err != nil {
		return "", err
	}
	v, err := h.s.Cipher.Open(ctx, p.Value)
	if err == nil {
		return v, nil
	}
	if vane.ErrorCode(err) == vane.EINVALID && vane.ErrorDetail(err) != vane.DetailInvalidKeyID {
		// The request was fine: a stored value that does not open is the
		// server's problem, so it is internal (and logged), not a 400.
		return "", fmt.Errorf("http: open SecureString %q version %d: %v", p.Name, p.Version, err)
	}
	return "", err
}

// parameter returns the Parameter shape of p.
func (h *ssmHandler) parameter(ctx context.Context, p *vane.Parameter, decrypt bool) (*ssmParameter, error) {
	v, err := h.value(ctx, p, decrypt)
	if err != nil {
		return nil, err
	}
	return &ssmParameter{
		Name:             p.Name,
		Type:             string(p.Type),
		Value:            v,
		Version:          p.Version,
		Selector:         p.Selector,
		LastModifiedDate: epochTime(p.LastModified),
		ARN:              h.arn(p.Name),
		DataType:         p.DataType,
	}, nil
}

// parameters returns the Parameter shapes of ps, never nil.
func (h *ssmHandler) parameters(ctx context.Context, ps []*vane.Parameter, decrypt bool) ([]*ssmParameter, error) {
	out := make([]*ssmParameter, 0, len(ps))
	for _, p := range ps {
		sp, err := h.parameter(ctx, p, decrypt)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// checkTags checks the members of a request's tags and returns them as
// vane tags; the store checks the tag rules and counts.
func checkTags(c *ssmCheck, field string, tags []ssmTagRequest) []vane.Tag {
	var out []vane.Tag
	for i, t := range tags {
		c.required(fmt.Sprintf("%s.%d.member.key", field, i+1), t.Key != nil)
		c.required(fmt.Sprintf("%s.%d.member.value", field, i+1), t.Value != nil)
		if t.Key != nil && t.Value != nil {
			out = append(out, vane.Tag{Key: *t.Key, Value: *t.Value})
		}
	}
	return out
}

// checkNames checks the Names member of GetParameters and DeleteParameters.
func checkNames(c *ssmCheck, names []string) {
	c.required("names", names != nil)
	if names == nil {
		return
	}
	c.count("names", len(names), 1, ssmMaxNames)
	for i, n := range names {
		if i >= ssmMaxNames {
			break
		}
		c.length(fmt.Sprintf("names.%d.member", i+1), n, 1, ssmMaxNameLength)
	}
}

// validKeyID reports whether a KeyId matches the model's pattern
// ^([a-zA-Z0-9:/_-]+)$.
func validKeyID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// arnToName returns the parameter name of a Name member that may be a
// parameter ARN, as GetParameterHistory's may.
func arnToName(s string) (string, error) {
	if !strings.HasPrefix(s, "arn:") {
		return s, nil
	}
	sel, err := vane.ParseSelector(s)
	if err != nil {
		return "", err
	}
	if sel.Version > 0 || sel.Label != "" {
		return "", invalidf("%q selects a version or label, which this operation does not take", truncateInput(s))
	}
	return sel.Name, nil
}

// pageSize returns MaxResults, or the default page size when absent.
func pageSize(maxResults *int64, def int) int {
	if maxResults == nil {
		return def
	}
	return int(*maxResults)
}

// optional returns *s, or "" for nil.
func optional(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type ssmPutParameterRequest struct {
	Name           *string
	Description    *string
	Value          *string
	Type           string
	KeyId          *string
	Overwrite      bool
	AllowedPattern *string
	Tags           []ssmTagRequest
	Tier           string
	Policies       *string
	DataType       string
}

type ssmPutParameterResponse struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier,omitempty"`
}

// putParameter serves PutParameter. Policies (vane.ParsePolicies) are
// kept with the version; an empty list removes them.
func (h *ssmHandler) putParameter(r *http.Request, req *ssmPutParameterRequest) (any, error) {
	var c ssmCheck
	c.required("name", req.Name != nil)
	c.required("value", req.Value != nil)
	if req.KeyId != nil {
		c.length("keyId", *req.KeyId, 1, 0) // the store checks the maximum
		if !validKeyID(*req.KeyId) {
			c.fail("", "keyId", "satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$")
		}
	}
	tags := checkTags(&c, "tags", req.Tags)
	if req.Policies != nil {
		c.length("policies", *req.Policies, 1, ssmMaxPoliciesLength)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	in := &vane.PutInput{
		Name:           *req.Name,
		Value:          *req.Value,
		Type:           vane.Type(req.Type),
		Description:    req.Description,
		AllowedPattern: req.AllowedPattern,
		KeyID:          optional(req.KeyId),
		DataType:       req.DataType,
		Tier:           vane.Tier(req.Tier),
		Overwrite:      req.Overwrite,
		Tags:           tags,
		Policies:       req.Policies,
	}
	if err := h.s.allowName(r.Context(), auth.ActionPutParameter, in.Name); err != nil {
		return nil, err
	}
	p, err := h.s.Store.Put(r.Context(), in)
	if err != nil {
		return nil, err
	}
	return &ssmPutParameterResponse{Version: p.Version, Tier: string(p.Tier)}, nil
}

type ssmGetParameterRequest struct {
	Name           *string
	WithDecryption bool
}

type ssmGetParameterResponse struct {
	Parameter *ssmParameter `json:"Parameter"`
}

// getParameter serves GetParameter: a name, "name:version", "name:label"
// or a parameter ARN.
func (h *ssmHandler) getParameter(r *http.Request, req *ssmGetParameterRequest) (any, error) {
	var c ssmCheck
	c.required("name", req.Name != nil)
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionGetParameter, *req.Name); err != nil {
		return nil, err
	}
	p, err := h.s.Store.Get(r.Context(), *req.Name)
	if err != nil {
		return nil, err
	}
	sp, err := h.parameter(r.Context(), p, req.WithDecryption)
	if err != nil {
		return nil, err
	}
	return &ssmGetParameterResponse{Parameter: sp}, nil
}

type ssmGetParametersRequest struct {
	Names          []string
	WithDecryption bool
}

type ssmGetParametersResponse struct {
	Parameters        []*ssmParameter `json:"Parameters"`
	InvalidParameters []string        `json:"InvalidParameters"`
}

// getParameters serves GetParameters. Names that do not resolve (unknown
// names, versions and labels, and names that are not valid) are returned
// in InvalidParameters; each name and each parameter version is returned
// once; parameters come in name order, as AWS returns them.
func (h *ssmHandler) getParameters(r *http.Request, req *ssmGetParametersRequest) (any, error) {
	var c ssmCheck
	checkNames(&c, req.Names)
	if err := c.err(); err != nil {
		return nil, err
	}
	resp := &ssmGetParametersResponse{Parameters: []*ssmParameter{}, InvalidParameters: []string{}}
	asked := make(map[string]bool, len(req.Names))
	found := make(map[string]bool, len(req.Names))
	for _, name := range req.Names {
		if asked[name] {
			continue
		}
		asked[name] = true
		if err := h.s.allowName(r.Context(), auth.ActionGetParameters, name); err != nil {
			return nil, err
		}
		p, err := h.s.Store.Get(r.Context(), name)
		switch vane.ErrorCode(err) {
		case "":
		case vane.ENOTFOUND, vane.EINVALID:
			resp.InvalidParameters = append(resp.InvalidParameters, name)
			continue
		default:
			return nil, err
		}
		// "/x" and "x", or a name and its ARN, read one parameter.
		if key := p.Name + p.Selector; !found[key] {
			found[key] = true
			sp, err := h.parameter(r.Context(), p, req.WithDecryption)
			if err != nil {
				return nil, err
			}
			resp.Parameters = append(resp.Parameters, sp)
		}
	}
	sort.SliceStable(resp.Parameters, func(i, j int) bool { return resp.Parameters[i].Name < resp.Parameters[j].Name })
	return resp, nil
}

type ssmGetParametersByPathRequest struct {
	Path             *string
	Recursive        bool
	ParameterFilters []ssmFilter
	WithDecryption   bool
	MaxResults       *int64
	NextToken        *string
}

type ssmParametersPage struct {
	Parameters []*ssmParameter `json:"Parameters"`
	NextToken  string          `json:"NextToken,omitempty"`
}

// vaneFilters returns SSM's ParameterStringFilters as store filters.
func vaneFilters(fs []ssmFilter) []vane.Filter {
	var out []vane.Filter
	for _, f := range fs {
		out = append(out, vane.Filter{Key: f.Key, Option: f.Option, Values: f.Values})
	}
	return out
}

// getParametersByPath serves GetParametersByPath.
func (h *ssmHandler) getParametersByPath(r *http.Request, req *ssmGetParametersByPathRequest) (any, error) {
	var c ssmCheck
	c.required("path", req.Path != nil)
	c.number("maxResults", req.MaxResults, 1, ssmByPathMaxResults)
	if err := c.err(); err != nil {
		return nil, err
	}
	scope := fmt.Sprintf("%s\x00%t", *req.Path, req.Recursive)
	token, err := h.tokens.open("GetParametersByPath", scope, optional(req.NextToken))
	if err != nil {
		return nil, err
	}
	page, err := h.s.Store.ByPath(r.Context(), &vane.ByPathInput{
		Path:      *req.Path,
		Recursive: req.Recursive,
		Filters:   vaneFilters(req.ParameterFilters),
		Limit:     pageSize(req.MaxResults, ssmByPathPageSize),
		NextToken: token,
	})
	if err != nil {
		return nil, err
	}
	page.Parameters = h.s.filterParameters(r.Context(), auth.ActionGetParametersByPath, page.Parameters)
	ps, err := h.parameters(r.Context(), page.Parameters, req.WithDecryption)
	if err != nil {
		return nil, err
	}
	return &ssmParametersPage{Parameters: ps, NextToken: h.tokens.seal("GetParametersByPath", scope, page.NextToken)}, nil
}

type ssmDeleteParameterRequest struct {
	Name *string
}

// deleteParameter serves DeleteParameter.
func (h *ssmHandler) deleteParameter(r *http.Request, req *ssmDeleteParameterRequest) (any, error) {
	var c ssmCheck
	c.required("name", req.Name != nil)
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionDeleteParameter, *req.Name); err != nil {
		return nil, err
	}
	if err := h.s.Store.Delete(r.Context(), &vane.DeleteInput{Name: *req.Name}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type ssmDeleteParametersRequest struct {
	Names []string
}

type ssmDeleteParametersResponse struct {
	DeletedParameters []string `json:"DeletedParameters"`
	InvalidParameters []string `json:"InvalidParameters"`
}

// deleteParameters serves DeleteParameters: each name is deleted in its own
// transaction, as AWS does not make the call atomic either; names that do
// not exist or are not valid go to InvalidParameters.
func (h *ssmHandler) deleteParameters(r *http.Request, req *ssmDeleteParametersRequest) (any, error) {
	var c ssmCheck
	checkNames(&c, req.Names)
	if err := c.err(); err != nil {
		return nil, err
	}
	// The deletion guard refuses the whole call rather than a part of it.
	dc, guarded := vane.StoreAs[deleteChecker](h.s.Store)
	for _, name := range req.Names {
		if err := h.s.allowName(r.Context(), auth.ActionDeleteParameters, name); err != nil {
			return nil, err
		}
		if guarded {
			if err := dc.CheckDelete(r.Context(), name); err != nil {
				return nil, err
			}
		}
	}
	resp := &ssmDeleteParametersResponse{DeletedParameters: []string{}, InvalidParameters: []string{}}
	seen := make(map[string]bool, len(req.Names))
	for _, name := range req.Names {
		if seen[name] {
			continue
		}
		seen[name] = true
		err := h.s.Store.Delete(r.Context(), &vane.DeleteInput{Name: name})
		switch vane.ErrorCode(err) {
		case "":
			resp.DeletedParameters = append(resp.DeletedParameters, name)
		case vane.ENOTFOUND, vane.EINVALID:
			resp.InvalidParameters = append(resp.InvalidParameters, name)
		default:
			return nil, err
		}
	}
	return resp, nil
}

type ssmDescribeParametersRequest struct {
	Filters          []ssmDeprecatedFilter
	ParameterFilters []ssmFilter
	MaxResults       *int64
	NextToken        *string
	Shared           bool
}

type ssmDescribeParametersResponse struct {
	Parameters []*ssmParameterMetadata `json:"Parameters"`
	NextToken  string                  `json:"NextToken,omitempty"`
}

// describeParameters serves DescribeParameters. The deprecated Filters
// become store filters: Name as BeginsWith, Type and KeyId as Equals, all
// of them to match. Shared lists parameters other accounts share, of which
// Vane has none.
func (h *ssmHandler) describeParameters(r *http.Request, req *ssmDescribeParametersRequest) (any, error) {
	var c ssmCheck
	c.number("maxResults", req.MaxResults, 1, ssmDescribeMaxResults)
	for i, f := range req.Filters {
		c.enum(fmt.Sprintf("filters.%d.member.key", i+1), f.Key, vane.FilterName, vane.FilterType, vane.FilterKeyID)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	if len(req.Filters) > 0 && len(req.ParameterFilters) > 0 {
		return nil, invalidf("You can use either Filters or ParameterFilters in a single request, not both: Filters is deprecated, use ParameterFilters")
	}
	filters := vaneFilters(req.ParameterFilters)
	for _, f := range req.Filters {
		opt := vane.OptionEquals
		if f.Key == vane.FilterName {
			opt = vane.OptionBeginsWith
		}
		filters = append(filters, vane.Filter{Key: f.Key, Option: opt, Values: f.Values})
	}
	token, err := h.tokens.open("DescribeParameters", "", optional(req.NextToken))
	if err != nil {
		return nil, err
	}
	in := &vane.DescribeInput{Filters: filters, Limit: pageSize(req.MaxResults, ssmDescribePageSize), NextToken: token}
	if req.Shared {
		// Still let the store check the filters, then list nothing.
		if _, err := vane.CheckDescribe(in); err != nil {
			return nil, err
		}
		return &ssmDescribeParametersResponse{Parameters: []*ssmParameterMetadata{}}, nil
	}
	page, err := h.s.Store.Describe(r.Context(), in)
	if err != nil {
		return nil, err
	}
	page.Parameters = h.s.filterParameters(r.Context(), auth.ActionDescribeParameters, page.Parameters)
	resp := &ssmDescribeParametersResponse{
		Parameters: make([]*ssmParameterMetadata, 0, len(page.Parameters)),
		NextToken:  h.tokens.seal("DescribeParameters", "", page.NextToken),
	}
	for _, p := range page.Parameters {
		resp.Parameters = append(resp.Parameters, &ssmParameterMetadata{
			Name:             p.Name,
			ARN:              h.arn(p.Name),
			Type:             string(p.Type),
			KeyID:            p.KeyID,
			LastModifiedDate: epochTime(p.LastModified),
			LastModifiedUser: h.user(p.LastModifiedUser),
			Description:      p.Description,
			AllowedPattern:   p.AllowedPattern,
			Version:          p.Version,
			Tier:             string(p.Tier),
			Policies:         ssmPolicies(p, h.s.now()),
			DataType:         p.DataType,
		})
	}
	return resp, nil
}

type ssmGetParameterHistoryRequest struct {
	Name           *string
	WithDecryption bool
	MaxResults     *int64
	NextToken      *string
}

type ssmGetParameterHistoryResponse struct {
	Parameters []*ssmParameterHistory `json:"Parameters"`
	NextToken  string                 `json:"NextToken,omitempty"`
}

// getParameterHistory serves GetParameterHistory: every kept version,
// oldest first. The name may be an ARN.
func (h *ssmHandler) getParameterHistory(r *http.Request, req *ssmGetParameterHistoryRequest) (any, error) {
	var c ssmCheck
	c.required("name", req.Name != nil)
	c.number("maxResults", req.MaxResults, 1, ssmHistoryMaxResults)
	if err := c.err(); err != nil {
		return nil, err
	}
	name, err := arnToName(*req.Name)
	if err != nil {
		return nil, err
	}
	token, err := h.tokens.open("GetParameterHistory", name, optional(req.NextToken))
	if err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionGetParameterHistory, name); err != nil {
		return nil, err
	}
	page, err := h.s.Store.History(r.Context(), &vane.HistoryInput{
		Name:      name,
		Limit:     pageSize(req.MaxResults, ssmHistoryPageSize),
		NextToken: token,
	})
	if err != nil {
		return nil, err
	}
	resp := &ssmGetParameterHistoryResponse{
		Parameters: make([]*ssmParameterHistory, 0, len(page.Parameters)),
		NextToken:  h.tokens.seal("GetParameterHistory", name, page.NextToken),
	}
	for _, p := range page.Parameters {
		v, err := h.value(r.Context(), p, req.WithDecryption)
		if err != nil {
			return nil, err
		}
		resp.Parameters = append(resp.Parameters, &ssmParameterHistory{
			Name:             p.Name,
			Type:             string(p.Type),
			KeyID:            p.KeyID,
			LastModifiedDate: epochTime(p.LastModified),
			LastModifiedUser: h.user(p.LastModifiedUser),
			Description:      p.Description,
			Value:            v,
			AllowedPattern:   p.AllowedPattern,
			Version:          p.Version,
			Labels:           nonNil(p.Labels),
			Tier:             string(p.Tier),
			Policies:         ssmPolicies(p, h.s.now()),
			DataType:         p.DataType,
		})
	}
	return resp, nil
}

type ssmLabelParameterVersionRequest struct {
	Name             *string
	ParameterVersion *int64
	Labels           []string
}

type ssmLabelParameterVersionResponse struct {
	InvalidLabels    []string `json:"InvalidLabels"`
	ParameterVersion int64    `json:"ParameterVersion"`
}

// labelParameterVersion serves LabelParameterVersion: the latest version
// when ParameterVersion is absent.
func (h *ssmHandler) labelParameterVersion(r *http.Request, req *ssmLabelParameterVersionRequest) (any, error) {
	var c ssmCheck
	c.required("name", req.Name != nil)
	c.required("labels", req.Labels != nil)
	c.number("parameterVersion", req.ParameterVersion, 1, 0)
	if err := c.err(); err != nil {
		return nil, err
	}
	in := &vane.LabelInput{Name: *req.Name, Labels: req.Labels}
	if req.ParameterVersion != nil {
		in.Version = *req.ParameterVersion
	}
	if err := h.s.allowName(r.Context(), auth.ActionLabelParameterVersion, in.Name); err != nil {
		return nil, err
	}
	res, err := h.s.Store.Label(r.Context(), in)
	if err != nil {
		return nil, err
	}
	return &ssmLabelParameterVersionResponse{InvalidLabels: nonNil(res.InvalidLabels), ParameterVersion: res.Version}, nil
}

type ssmUnlabelParameterVersionRequest struct {
	Name             *string
	ParameterVersion *int64
	Labels           []string
}

type ssmUnlabelParameterVersionResponse struct {
	RemovedLabels []string `json:"RemovedLabels"`
	InvalidLabels []string `json:"InvalidLabels"`
}

// unlabelParameterVersion serves UnlabelParameterVersion.
func (h *ssmHandler) unlabelParameterVersion(r *http.Request, req *ssmUnlabelParameterVersionRequest) (any, error) {
	var c ssmCheck
	c.required("name", req.Name != nil)
	c.required("parameterVersion", req.ParameterVersion != nil)
	c.required("labels", req.Labels != nil)
	c.number("parameterVersion", req.ParameterVersion, 1, 0)
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionUnlabelParameterVersion, *req.Name); err != nil {
		return nil, err
	}
	res, err := h.s.Store.Unlabel(r.Context(), &vane.LabelInput{Name: *req.Name, Version: *req.ParameterVersion, Labels: req.Labels})
	if err != nil {
		return nil, err
	}
	return &ssmUnlabelParameterVersionResponse{RemovedLabels: nonNil(res.RemovedLabels), InvalidLabels: nonNil(res.InvalidLabels)}, nil
}

// checkResource checks the ResourceType and ResourceId of the tag
// operations; only parameters can be tagged here.
func checkResource(c *ssmCheck, typ, id *string) error {
	c.required("resourceType", typ != nil)
	c.required("resourceId", id != nil)
	if typ != nil {
		c.enum("resourceType", *typ, ssmResourceTypes...)
	}
	if err := c.err(); err != nil {
		return err
	}
	if *typ != "Parameter" {
		return &ssmError{ssmInvalidResourceType, fmt.Sprintf("resource type %s is not supported: Vane stores parameters only (ResourceType Parameter)", *typ)}
	}
	return nil
}

type ssmAddTagsToResourceRequest struct {
	ResourceType *string
	ResourceId   *string
	Tags         []ssmTagRequest
}

// addTagsToResource serves AddTagsToResource.
func (h *ssmHandler) addTagsToResource(r *http.Request, req *ssmAddTagsToResourceRequest) (any, error) {
	var c ssmCheck
	c.required("tags", req.Tags != nil)
	tags := checkTags(&c, "tags", req.Tags)
	if err := checkResource(&c, req.ResourceType, req.ResourceId); err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionAddTagsToResource, *req.ResourceId); err != nil {
		return nil, err
	}
	if err := h.s.Store.AddTags(r.Context(), &vane.TagInput{Name: *req.ResourceId, Tags: tags}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type ssmListTagsForResourceRequest struct {
	ResourceType *string
	ResourceId   *string
}

type ssmListTagsForResourceResponse struct {
	TagList []ssmTag `json:"TagList"`
}

// listTagsForResource serves ListTagsForResource: tags sorted by key.
func (h *ssmHandler) listTagsForResource(r *http.Request, req *ssmListTagsForResourceRequest) (any, error) {
	var c ssmCheck
	if err := checkResource(&c, req.ResourceType, req.ResourceId); err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionListTagsForResource, *req.ResourceId); err != nil {
		return nil, err
	}
	tags, err := h.s.Store.Tags(r.Context(), *req.ResourceId)
	if err != nil {
		return nil, err
	}
	resp := &ssmListTagsForResourceResponse{TagList: make([]ssmTag, 0, len(tags))}
	for _, t := range tags {
		resp.TagList = append(resp.TagList, ssmTag{Key: t.Key, Value: t.Value})
	}
	return resp, nil
}

type ssmRemoveTagsFromResourceRequest struct {
	ResourceType *string
	ResourceId   *string
	TagKeys      []string
}

// removeTagsFromResource serves RemoveTagsFromResource; keys the parameter
// does not have are ignored.
func (h *ssmHandler) removeTagsFromResource(r *http.Request, req *ssmRemoveTagsFromResourceRequest) (any, error) {
	var c ssmCheck
	c.required("tagKeys", req.TagKeys != nil)
	for i, k := range req.TagKeys {
		if i >= vane.MaxTagsPerRequest {
			break // the store reports the count
		}
		c.length(fmt.Sprintf("tagKeys.%d.member", i+1), k, 1, vane.MaxTagKeyLength)
	}
	if err := checkResource(&c, req.ResourceType, req.ResourceId); err != nil {
		return nil, err
	}
	if err := h.s.allowName(r.Context(), auth.ActionRemoveTagsFromResource, *req.ResourceId); err != nil {
		return nil, err
	}
	if err := h.s.Store.RemoveTags(r.Context(), &vane.TagInput{Name: *req.ResourceId, Keys: req.TagKeys}); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// ssmPolicies shows a version's policies as AWS does. PolicyStatus is
// Pending until the policy's time has come, then Finished (the lifecycle
// job acts on it then: package event).
func ssmPolicies(p *vane.Parameter, now time.Time) []ssmPolicy {
	out := []ssmPolicy{}
	if p.Policies == "" {
		return out
	}
	ps, _, err := vane.ParsePolicies(p.Policies)
	if err != nil {
		return out
	}
	for _, pol := range ps.List {
		status := "Pending"
		if !now.Before(ps.Due(pol, p.LastModified)) {
			status = "Finished"
		}
		out = append(out, ssmPolicy{PolicyText: pol.Text(), PolicyType: pol.Type, PolicyStatus: status})
	}
	return out
}
