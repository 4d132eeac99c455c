package http

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// parameterJSON is the wire form of a vane.Parameter.
type parameterJSON struct {
	Name             string   `json:"name"`
	Type             string   `json:"type,omitempty"`
	Value            string   `json:"value,omitempty"`
	Version          int64    `json:"version,omitempty"`
	Labels           []string `json:"labels,omitempty"`
	Tier             string   `json:"tier,omitempty"`
	Description      string   `json:"description,omitempty"`
	AllowedPattern   string   `json:"allowed_pattern,omitempty"`
	DataType         string   `json:"data_type,omitempty"`
	KeyID            string   `json:"key_id,omitempty"`
	LastModified     string   `json:"last_modified,omitempty"`
	LastModifiedUser string   `json:"last_modified_user,omitempty"`
	Selector         string   `json:"selector,omitempty"`
	// Policies is the version's parameter policies, a JSON array.
	Policies jsonRawMessage `json:"policies,omitempty"`
}

func newParameterJSON(p *vane.Parameter) *parameterJSON {
	return &parameterJSON{
		Name:             p.Name,
		Type:             string(p.Type),
		Value:            p.Value,
		Version:          p.Version,
		Labels:           p.Labels,
		Tier:             string(p.Tier),
		Description:      p.Description,
		AllowedPattern:   p.AllowedPattern,
		DataType:         p.DataType,
		KeyID:            p.KeyID,
		LastModified:     formatTime(p.LastModified),
		LastModifiedUser: p.LastModifiedUser,
		Selector:         p.Selector,
		Policies:         jsonRawMessage(p.Policies),
	}
}

// formatTime formats t as RFC 3339 with nanoseconds in UTC; "" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// pageJSON is the wire form of a vane.Page.
type pageJSON struct {
	Parameters []*parameterJSON `json:"parameters"`
	NextToken  string           `json:"next_token,omitempty"`
}

func newPageJSON(p *vane.Page) *pageJSON {
	out := &pageJSON{Parameters: make([]*parameterJSON, 0, len(p.Parameters)), NextToken: p.NextToken}
	for _, param := range p.Parameters {
		out.Parameters = append(out.Parameters, newParameterJSON(param))
	}
	return out
}

// putRequest is the body of PUT /v1/parameters/{name...}.
type putRequest struct {
	Value          *string           `json:"value"`
	Type           string            `json:"type"`
	Description    *string           `json:"description"`
	AllowedPattern *string           `json:"allowed_pattern"`
	Tier           string            `json:"tier"`
	DataType       string            `json:"data_type"`
	KeyID          string            `json:"key_id"`
	Overwrite      bool              `json:"overwrite"`
	Tags           map[string]string `json:"tags"`
	ExpectVersion  *int64            `json:"expect_version"`
	// Policies replaces the parameter's policies (a JSON array in AWS's
	// grammar; [] removes them); absent keeps them.
	Policies *jsonRaw `json:"policies"`
}

// policies returns the request's policies as text (a string holding the
// array, or the array itself), or nil when absent.
func (req *putRequest) policies() *string {
	if req.Policies == nil {
		return nil
	}
	t := req.Policies.text()
	return &t
}

// registerParameterRoutes adds the routes that read and write parameters.
func (s *Server) registerParameterRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/parameters/{name...}", s.named(auth.ActionGetParameter, s.handleGetParameter))
	mux.HandleFunc("PUT /v1/parameters/{name...}", s.namedWrite(auth.ActionPutParameter, s.handlePutParameter))
	mux.HandleFunc("DELETE /v1/parameters/{name...}", s.namedWrite(auth.ActionDeleteParameter, s.handleDeleteParameter))
	mux.HandleFunc("GET /v1/parameters", s.handleListParameters)
	mux.HandleFunc("GET /v1/history/{name...}", s.named(auth.ActionGetParameterHistory, s.handleHistory))
}

// pathName returns the parameter name a request path carries: "/" and the
// rest of the path after the route's prefix.
func pathName(r *http.Request) string {
	return "/" + r.PathValue("name")
}

// etag returns the entity tag of a parameter version.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// handleGetParameter serves GET /v1/parameters/{name...}, with an optional
// ":version"/":label" suffix or ?version=/?label=, or with ?at=TIME the
// version that was the latest at TIME (vane.AtTimeReader).
func (s *Server) handleGetParameter(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "version", "label", "with_decryption", "audit", "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	audit, err := q.boolean("audit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	at, hasAt, err := q.timestamp("at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if hasAt && (q.has("version") || q.has("label") || strings.Contains(pathName(r), ":")) {
		s.writeError(w, r, invalidf("give either ?at= or a version or label (a :suffix, ?version= or ?label=), not both"))
		return
	}
	selector, err := readSelector(pathName(r), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var p *vane.Parameter
	if hasAt {
		p, err = vane.GetAt(r.Context(), s.Store, selector, at)
	} else {
		p, err = s.Store.Get(r.Context(), selector)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ps, err := s.decrypted(r.Context(), q, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if audit {
		// The caller asks for this read to be on record, as the
		// dashboard does when someone reveals a SecureString.
		detail := "read, audited on request"
		if ps[0] != p {
			detail = "read with decryption, audited on request"
		}
		s.auditAction(r.Context(), auth.ActionGetParameter, p.Name, detail)
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusOK, newParameterJSON(ps[0]))
}

// timestamp returns the single time value of a parameter, in RFC 3339
// form, and whether it was given.
func (q query) timestamp(key string) (time.Time, bool, error) {
	s, err := q.one(key)
	if err != nil || !q.has(key) {
		return time.Time{}, false, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, invalidf("query parameter %q must be a time in RFC 3339 form, such as 2026-11-21T14:11:49Z or 2026-11-21T15:11:49.5+01:00, not %q", key, s)
	}
	return t, true, nil
}

// readSelector combines a path name, which may end in a selector suffix,
// with the version and label query parameters into a store selector.
func readSelector(name string, q query) (string, error) {
	version, hasVersion, err := q.number("version", 1)
	if err != nil {
		return "", err
	}
	label, err := q.one("label")
	if err != nil {
		return "", err
	}
	hasLabel := q.has("label")
	switch {
	case hasVersion && hasLabel:
		return "", invalidf("give either ?version= or ?label=, not both")
	case (hasVersion || hasLabel) && strings.Contains(name, ":"):
		return "", invalidf("give the selector either as a :suffix of the name or as ?version=/?label=, not both")
	case hasVersion:
		return name + ":" + strconv.FormatInt(version, 10), nil
	case hasLabel:
		if label == "" {
			return "", invalidf("query parameter \"label\" must not be empty")
		}
		return name + ":" + label, nil
	}
	return name, nil
}

// handlePutParameter serves PUT /v1/parameters/{name...}: 201 with the
// parameter when it creates it, 200 when it adds a version.
func (s *Server) handlePutParameter(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req putRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Value == nil {
		s.writeError(w, r, invalidf("field \"value\" is required"))
		return
	}
	expect, err := expectVersion(r, req.ExpectVersion, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := &vane.PutInput{
		Name:           pathName(r),
		Value:          *req.Value,
		Type:           vane.Type(req.Type),
		Description:    req.Description,
		AllowedPattern: req.AllowedPattern,
		KeyID:          req.KeyID,
		DataType:       req.DataType,
		Tier:           vane.Tier(req.Tier),
		Overwrite:      req.Overwrite,
		Tags:           tagList(req.Tags),
		ExpectVersion:  expect,
		Policies:       req.policies(),
	}
	if s.proposed(w, r, "", vane.BatchItem{Op: vane.BatchPut, Put: in}) {
		return
	}
	p, err := s.Store.Put(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if p.Version == 1 {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/parameters/"+strings.TrimPrefix(p.Name, "/"))
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, status, newParameterJSON(p))
}

// expectVersion returns the compare-and-set version of a write: from the
// body (or query) value, the If-Match header, or If-None-Match: * (version
// 0, "does not exist") when noneMatch is allowed. A header and a body value
// must agree.
func expectVersion(r *http.Request, fromBody *int64, noneMatch bool) (*int64, error) {
	var fromHeader *int64
	ifMatch, ifNoneMatch := r.Header.Values("If-Match"), r.Header.Values("If-None-Match")
	switch {
	case len(ifMatch) > 0 && len(ifNoneMatch) > 0:
		return nil, invalidf("give either If-Match or If-None-Match, not both")
	case len(ifMatch) > 0:
		v, err := parseIfMatch(ifMatch)
		if err != nil {
			return nil, err
		}
		fromHeader = &v
	case len(ifNoneMatch) > 0:
		if !noneMatch {
			return nil, invalidf("If-None-Match is not supported here: use If-Match")
		}
		if len(ifNoneMatch) != 1 || strings.TrimSpace(ifNoneMatch[0]) != "*" {
			return nil, invalidf("If-None-Match supports only \"*\" (the parameter must not exist)")
		}
		var zero int64
		fromHeader = &zero
	}
	switch {
	case fromHeader == nil:
		return fromBody, nil
	case fromBody != nil && *fromBody != *fromHeader:
		return nil, invalidf("the expected version in the request (%d) and in the If-Match/If-None-Match header (%d) differ", *fromBody, *fromHeader)
	}
	return fromHeader, nil
}

// parseIfMatch parses an If-Match header holding one entity tag as served
// in ETag ("3"); the quotes may be left out.
func parseIfMatch(values []string) (int64, error) {
	if len(values) != 1 || strings.Contains(values[0], ",") {
		return 0, invalidf("If-Match must hold exactly one version, such as \"3\"")
	}
	v := strings.TrimSpace(values[0])
	if v == "*" {
		return 0, invalidf("If-Match: * is not supported: give the expected version, such as \"3\"")
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, invalidf("If-Match must be a version of at least 1, such as \"3\", not %q", values[0])
	}
	return n, nil
}

// tagList returns the tags of a JSON object sorted by key.
func tagList(m map[string]string) []vane.Tag {
	if len(m) == 0 {
		return nil
	}
	out := make([]vane.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, vane.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// handleDeleteParameter serves DELETE /v1/parameters/{name...}, with an
// optional ?expect_version= or If-Match.
func (s *Server) handleDeleteParameter(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "expect_version")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, ok, err := q.number("expect_version", 1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var fromQuery *int64
	if ok {
		fromQuery = &v
	}
	expect, err := expectVersion(r, fromQuery, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := &vane.DeleteInput{Name: pathName(r), ExpectVersion: expect}
	if s.proposed(w, r, "", vane.BatchItem{Op: vane.BatchDelete, Delete: in}) {
		return
	}
	if err := s.Store.Delete(r.Context(), in); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleListParameters serves GET /v1/parameters?path=...: the latest
// versions under a path.
func (s *Server) handleListParameters(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "path", "recursive", "type", "key_id", "label", "limit", "next_token", "with_decryption")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := byPathInput(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.Store.ByPath(r.Context(), in)
	if err == nil {
		page.Parameters = s.filterParameters(r.Context(), auth.ActionGetParametersByPath, page.Parameters)
		page.Parameters, err = s.decrypted(r.Context(), q, page.Parameters...)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPageJSON(page))
}

func byPathInput(q query) (*vane.ByPathInput, error) {
	in := &vane.ByPathInput{}
	var err error
	if in.Path, err = q.one("path"); err != nil {
		return nil, err
	} else if in.Path == "" {
		return nil, invalidf("query parameter \"path\" is required, such as path=/myapp/prod (\"/\" for root-level names)")
	}
	if in.Recursive, err = q.boolean("recursive"); err != nil {
		return nil, err
	}
	if in.Limit, err = q.limit(); err != nil {
		return nil, err
	}
	if in.NextToken, err = q.one("next_token"); err != nil {
		return nil, err
	}
	for _, f := range []struct{ param, key string }{
		{"type", vane.FilterType},
		{"key_id", vane.FilterKeyID},
		{"label", vane.FilterLabel},
	} {
		if vs := q.all(f.param); len(vs) > 0 {
			in.Filters = append(in.Filters, vane.Filter{Key: f.key, Option: vane.OptionEquals, Values: vs})
		}
	}
	return in, nil
}

// handleHistory serves GET /v1/history/{name...}: every kept version,
// oldest first.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "limit", "next_token", "with_decryption")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := &vane.HistoryInput{Name: pathName(r)}
	if in.Limit, err = q.limit(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.NextToken, err = q.one("next_token"); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.Store.History(r.Context(), in)
	if err == nil {
		page.Parameters, err = s.decrypted(r.Context(), q, page.Parameters...)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPageJSON(page))
}
