package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// accessKeyJSON is an access key as the API shows it: never a secret or
// a stored form of one.
type accessKeyJSON struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Created  string         `json:"created"`
	LastUsed string         `json:"last_used,omitempty"`
	Expires  string         `json:"expires,omitempty"`
	Disabled bool           `json:"disabled"`
	Policy   rawJSONOrEmpty `json:"policy"`
}

// rawJSONOrEmpty is a stored policy document, passed through as JSON.
type rawJSONOrEmpty string

// MarshalJSON implements json.Marshaler.
func (r rawJSONOrEmpty) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("null"), nil
	}
	return []byte(r), nil
}

func newAccessKeyJSON(k *auth.Key) *accessKeyJSON {
	return &accessKeyJSON{ID: k.ID, Name: k.Name, Created: formatTime(k.Created), LastUsed: formatTime(k.LastUsed),
		Expires: formatTime(k.Expires), Disabled: k.Disabled, Policy: rawJSONOrEmpty(k.Policy)}
}

// registerAccessKeyRoutes adds the access key administration routes, all
// needing vane:Admin. Without access control they answer 404.
func (s *Server) registerAccessKeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/access-keys", s.admin(s.handleListAccessKeys))
	mux.HandleFunc("POST /v1/access-keys", s.admin(s.handleCreateAccessKey))
	mux.HandleFunc("PATCH /v1/access-keys/{id}", s.admin(s.handleUpdateAccessKey))
	mux.HandleFunc("DELETE /v1/access-keys/{id}", s.admin(s.handleDeleteAccessKey))
	mux.HandleFunc("POST /v1/access-keys/{id}/simulate", s.admin(s.handleSimulate))
}

// accessKeys returns the key administration, or an error when access
// control is off.
func (s *Server) accessKeys() (*Access, error) {
	if s.Access == nil || s.Access.Store == nil {
		return nil, vane.Errorf(vane.ENOTFOUND, "this server runs without access control (vane serve --dev): there are no access keys")
	}
	return s.Access, nil
}

func (s *Server) handleListAccessKeys(w http.ResponseWriter, r *http.Request) {
	a, err := s.accessKeys()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keys, err := a.Store.ListKeys(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Keys []*accessKeyJSON `json:"keys"`
	}{Keys: make([]*accessKeyJSON, len(keys))}
	for i, k := range keys {
		out.Keys[i] = newAccessKeyJSON(k)
	}
	writeJSON(w, http.StatusOK, &out)
}

// parseExpiry reads an optional RFC 3339 time or date; "" is none.
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, invalidf("field \"expires\" must be an RFC 3339 time or a date, not %q", s)
	}
	return t, nil
}

func (s *Server) handleCreateAccessKey(w http.ResponseWriter, r *http.Request) {
	a, err := s.accessKeys()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req struct {
		Name    string   `json:"name"`
		PolicyR *jsonRaw `json:"policy"`
		Expires string   `json:"expires"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.PolicyR == nil {
		s.writeError(w, r, invalidf("field \"policy\" is required: the key's policy document (IAM JSON grammar), e.g. %s", auth.AllowAllPolicy))
		return
	}
	expires, err := parseExpiry(req.Expires)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key, secret, err := a.Keys.CreateKey(r.Context(), req.Name, req.PolicyR.text(), expires)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditKeyChange(r.Context(), "vane:CreateKey", key, "name="+key.Name)
	writeJSON(w, http.StatusCreated, map[string]any{
		"key":    newAccessKeyJSON(key),
		"secret": secret,
		"token":  auth.BearerToken(key.ID, secret),
	})
}

func (s *Server) handleUpdateAccessKey(w http.ResponseWriter, r *http.Request) {
	a, err := s.accessKeys()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req struct {
		Name     *string  `json:"name"`
		Policy   *jsonRaw `json:"policy"`
		Expires  *string  `json:"expires"`
		Disabled *bool    `json:"disabled"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := &auth.KeyUpdate{Name: req.Name, Disabled: req.Disabled}
	detail := ""
	if req.Policy != nil {
		p := req.Policy.text()
		u.Policy = &p
		detail += "policy changed "
	}
	if req.Expires != nil {
		t, err := parseExpiry(*req.Expires)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		u.Expires = &t
		detail += "expires=" + *req.Expires + " "
	}
	if req.Disabled != nil {
		detail += map[bool]string{true: "disabled ", false: "enabled "}[*req.Disabled]
	}
	if req.Name != nil {
		detail += "name=" + *req.Name
	}
	key, err := a.Keys.UpdateKey(r.Context(), r.PathValue("id"), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditKeyChange(r.Context(), "vane:UpdateKey", key, detail)
	writeJSON(w, http.StatusOK, newAccessKeyJSON(key))
}

func (s *Server) handleDeleteAccessKey(w http.ResponseWriter, r *http.Request) {
	a, err := s.accessKeys()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if p := principalOf(r.Context()); p != nil && p.Key.ID == id {
		s.writeError(w, r, vane.Errorf(vane.ECONFLICT, "a key may not delete itself: use another admin key"))
		return
	}
	if err := a.Keys.DeleteKey(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditKeyChange(r.Context(), "vane:DeleteKey", &auth.Key{ID: id}, "")
	w.WriteHeader(http.StatusNoContent)
}

// handleSimulate serves POST /v1/access-keys/{id}/simulate {"action",
// "resource"}: whether the key's policy allows the action, and why.
func (s *Server) handleSimulate(w http.ResponseWriter, r *http.Request) {
	a, err := s.accessKeys()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req struct {
		Action   string `json:"action"`
		Resource string `json:"resource"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Action == "" || req.Resource == "" {
		s.writeError(w, r, invalidf("fields \"action\" (such as ssm:GetParameter) and \"resource\" (a name such as /myapp/prod/x, or an ARN) are required"))
		return
	}
	k, err := a.Store.GetKey(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	policy, err := auth.ParsePolicy(k.Policy)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d := policy.Decide(req.Action, req.Resource)
	writeJSON(w, http.StatusOK, map[string]any{
		"key": k.ID, "name": k.Name, "action": req.Action, "resource": req.Resource,
		"allowed": d.Allowed, "explicit_deny": d.ExplicitDeny(), "statement": d.Statement, "sid": d.Sid,
		"explanation": d.String(), "disabled": k.Disabled, "expired": k.Expired(s.now()),
	})
}

// auditKeyChange records a credential change; never a secret.
func (s *Server) auditKeyChange(ctx context.Context, action string, k *auth.Key, detail string) {
	s.auditAction(ctx, action, k.ID, detail)
}

// jsonRaw takes a policy given either as a JSON object or as a string
// holding one.
type jsonRaw struct{ raw []byte }

// UnmarshalJSON implements json.Unmarshaler.
func (j *jsonRaw) UnmarshalJSON(b []byte) error {
	j.raw = append([]byte(nil), b...)
	return nil
}

// text returns the policy document: a string's content, or the object.
func (j *jsonRaw) text() string {
	if len(j.raw) > 0 && j.raw[0] == '"' {
		var s string
		if err := json.Unmarshal(j.raw, &s); err == nil {
			return s
		}
	}
	return string(j.raw)
}
