package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// Access turns on access control. Every request but the health probes then
// needs a credential: an access key as a bearer token ("Authorization:
// Bearer ID.SECRET", or OFREP's "X-API-Key: ID.SECRET"), or as AWS SigV4
// credentials on the SSM protocol. What a key may do is its policy's say,
// action by action and name by name; listings, snapshots and watch streams
// show only the names the key may read. Refusals are recorded in the audit
// history.
type Access struct {
	Keys *auth.Authenticator
	// Store lists and reads keys for the key administration routes.
	Store auth.KeyStore
	// Sessions, if set, lets the dashboard sign in with a key and hold a
	// session cookie (see SessionCookie).
	Sessions *auth.Sessions
}

type principalKey struct{}

// principalOf returns the authenticated caller of a request, or nil when
// access control is off.
func principalOf(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

// publicRequest reports whether a request is served without a
// credential: the health probes, which load balancers call; the
// dashboard's own files, which hold no data; and signing in.
func publicRequest(r *http.Request) bool {
	p := r.URL.Path
	return p == "/healthz" || p == "/readyz" || isUIPath(p) ||
		(p == "/" && r.Method == http.MethodGet) || (p == "/v1/session" && r.Method == http.MethodPost)
}

// authenticate checks the credential of a request and returns the request
// with the caller in its context. On failure it writes the answer itself
// and returns the status it sent.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, int) {
	if s.Access == nil || publicRequest(r) {
		return r, 0
	}
	var p *auth.Principal
	var err error
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		p, err = s.authenticateSigV4(r, auth.DefaultSigV4Service)
		if err != nil {
			return r, s.refuseSigV4(w, r, err)
		}
	} else if isAppConfigPath(r.URL.Path) && strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-") {
		// AppConfig's clients sign for the service "appconfig"; a bearer
		// token is taken there too, as on the native API.
		p, err = s.authenticateSigV4(r, appConfigSigningName)
		if err != nil {
			return r, s.refuseAppConfigSigV4(w, r, err)
		}
	} else {
		token := bearerToken(r)
		if token == "" {
			if p, rs, status, ok := s.authenticateSession(w, r); ok {
				if status != 0 {
					return r, status
				}
				ctx := context.WithValue(r.Context(), principalKey{}, p)
				ctx = context.WithValue(ctx, sessionKey{}, rs)
				ctx = vane.NewContextWithPrincipal(ctx, p.Key.Name)
				return r.WithContext(ctx), 0
			}
			s.auditRefusal(r.Context(), "", "vane:Authenticate", r.URL.Path, vane.EUNAUTHORIZED, "no credential")
			w.Header().Set("WWW-Authenticate", `Bearer realm="vane"`)
			s.writeError(w, r, vane.Errorf(vane.EUNAUTHORIZED, "a credential is required: send an access key as \"Authorization: Bearer KEY_ID.SECRET\""))
			return r, http.StatusUnauthorized
		}
		if p, err = s.Access.Keys.Authenticate(r.Context(), token); err != nil {
			s.auditRefusal(r.Context(), "", "vane:Authenticate", r.URL.Path, vane.ErrorCode(err), err.Error())
			w.Header().Set("WWW-Authenticate", `Bearer realm="vane", error="invalid_token"`)
			s.writeError(w, r, err)
			return r, ErrorStatus(vane.ErrorCode(err))
		}
	}
	ctx := context.WithValue(r.Context(), principalKey{}, p)
	ctx = vane.NewContextWithPrincipal(ctx, p.Key.Name)
	return r.WithContext(ctx), 0
}

// bearerToken returns the access key a request carries, or "".
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// authenticateSigV4 verifies the SigV4 signature of a request of an AWS
// protocol, signed for service. The body is read (at most MaxBodyBytes)
// and put back for the handler.
func (s *Server) authenticateSigV4(r *http.Request, service string) (*auth.Principal, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	r.Body.Close()
	if err != nil {
		return nil, vane.Errorf(vane.EINVALID, "the request body could not be read")
	}
	if len(body) > MaxBodyBytes {
		return nil, vane.Errorf(vane.ETOOLARGE, "the request body is larger than %d bytes", MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	keys := s.Access.Keys
	v := &auth.SigV4Verifier{Service: service, Now: s.Now, SigningKeys: &s.signingKeys, Secret: func(ctx context.Context, id string) (string, error) {
		secret, err := keys.SecretFor(ctx, id)
		var ke *auth.KeyError
		if errors.As(err, &ke) {
			// AWS answers alike for unknown and inactive keys; the
			// reason stays in the error for the audit history.
			return "", fmt.Errorf("%w: %w", auth.ErrSigV4UnknownKey, err)
		}
		return secret, err
	}}
	id, err := v.Verify(r.Context(), r, body)
	if err != nil {
		return nil, err
	}
	return keys.PrincipalFor(r.Context(), id)
}

// refuseSigV4 answers an SSM request whose credential failed, in AWS's
// shape, and returns the status.
func (s *Server) refuseSigV4(w http.ResponseWriter, r *http.Request, err error) int {
	var se *auth.SigV4Error
	if errors.As(err, &se) {
		s.auditRefusal(r.Context(), se.AccessKeyID, "vane:Authenticate", "", se.Type, err.Error())
		w.Header().Set("X-Amzn-ErrorType", se.Type)
		writeSSM(w, se.Status, &ssmErrorBody{Type: se.Type, Message: se.Message, Message2: se.Message})
		return se.Status
	}
	row := ssmErrorFor(err)
	if row.Status == http.StatusInternalServerError || row.Status == http.StatusServiceUnavailable {
		s.logger().Error("authenticate", "request_id", RequestID(r.Context()), "error", err.Error())
	} else {
		s.auditRefusal(r.Context(), "", "vane:Authenticate", "", vane.ErrorCode(err), err.Error())
	}
	(&ssmHandler{s: s}).writeError(w, r, err)
	return row.Status
}

// allow checks that the caller may perform action on name (a parameter
// name, or a resource ARN for kms:Decrypt and "*" for vane:Admin). A
// refusal is recorded and returned as EFORBIDDEN.
func (s *Server) allow(ctx context.Context, action, name string) error {
	p := principalOf(ctx)
	if p == nil {
		return nil
	}
	d := p.Decide(action, name)
	if d.Allowed {
		if approvalActions[action] && s.needsApproval(ctx, name) {
			return s.approvalRefusal(ctx, action, name)
		}
		s.auditRead(ctx, action, name)
		return nil
	}
	s.auditRefusal(ctx, p.Key.ID, action, name, vane.EFORBIDDEN, d.String())
	why := "no statement of its policy allows it"
	if d.ExplicitDeny() {
		why = "a statement of its policy denies it"
	}
	return vane.Errorf(vane.EFORBIDDEN, "access key %s (%s) is not authorized to perform %s on %s: %s", p.Key.Name, p.Key.ID, action, name, why)
}

// allowName is allow for a selector ("name", "name:3", an ARN): the
// check is on the parameter's name. A selector that does not parse is let
// through for the store to reject.
func (s *Server) allowName(ctx context.Context, action, selector string) error {
	if principalOf(ctx) == nil {
		return nil
	}
	sel, err := vane.ParseSelector(selector)
	if err != nil {
		return nil
	}
	return s.allow(ctx, action, sel.Name)
}

// visible returns whether the caller may perform action on a name, for
// filtering listings; nil means everything is visible.
func (s *Server) visible(ctx context.Context, action string) func(name string) bool {
	p := principalOf(ctx)
	if p == nil {
		return nil
	}
	f := p.Policy.PathFilter(action)
	if f.AllowsAll() {
		return nil
	}
	return f.Allows
}

// filterParameters keeps the parameters the caller may perform action on
// (and records the reads that SettingAuditedReadPaths asks for).
func (s *Server) filterParameters(ctx context.Context, action string, ps []*vane.Parameter) []*vane.Parameter {
	if principalOf(ctx) == nil {
		return ps
	}
	out := ps
	if ok := s.visible(ctx, action); ok != nil {
		out = ps[:0:0]
		for _, p := range ps {
			if ok(p.Name) {
				out = append(out, p)
			}
		}
	}
	names := make([]string, len(out))
	for i, p := range out {
		names[i] = p.Name
	}
	s.auditReads(ctx, action, names)
	return out
}

// SettingAuditedReadPaths, a StringList of paths, makes the server record
// in the audit history every read of a name under one of them (reads are
// not audited otherwise).
const SettingAuditedReadPaths = "/vane/settings/audited-read-paths"

// readActions are the actions that only read.
var readActions = map[string]bool{
	auth.ActionGetParameter: true, auth.ActionGetParameters: true, auth.ActionGetParametersByPath: true,
	auth.ActionGetParameterHistory: true, auth.ActionDescribeParameters: true, auth.ActionListTagsForResource: true,
	auth.ActionDecrypt: true, auth.ActionWatch: true, auth.ActionEvaluate: true,
}

// auditRead records an allowed read of name when its path is listed in
// SettingAuditedReadPaths.
func (s *Server) auditRead(ctx context.Context, action, name string) {
	s.auditReads(ctx, action, []string{name})
}

// auditReads records the allowed reads of names under the paths of
// SettingAuditedReadPaths, in one write.
func (s *Server) auditReads(ctx context.Context, action string, names []string) {
	if s.Audit == nil || !readActions[action] || len(names) == 0 {
		return
	}
	v, ok := s.settings.Get(ctx, SettingAuditedReadPaths)
	if !ok {
		return
	}
	var paths []string
	for _, path := range strings.Split(v, ",") {
		if canon, err := vane.ValidatePath(strings.TrimSpace(path)); err == nil {
			paths = append(paths, canon)
		}
	}
	req := vane.RequestFromContext(ctx)
	var entries []vane.AuditEntry
	for _, name := range names {
		if strings.HasPrefix(name, "/") && underAny(name, paths) {
			entries = append(entries, vane.AuditEntry{Time: s.now(), Principal: vane.PrincipalFromContext(ctx), Source: req.Source,
				RequestID: req.RequestID, Action: action, Name: name, Result: vane.AuditOK, Detail: "read"})
		}
	}
	if len(entries) == 0 {
		return
	}
	if err := s.Audit.AppendAudit(context.WithoutCancel(ctx), entries); err != nil {
		s.logger().Error("audit reads", "request_id", req.RequestID, "error", err.Error())
	}
}

// allowDecrypt checks kms:Decrypt on the key a SecureString is sealed with.
func (s *Server) allowDecrypt(ctx context.Context, p *vane.Parameter) error {
	if principalOf(ctx) == nil || p.Type != vane.TypeSecureString {
		return nil
	}
	keyID := p.KeyID
	if keyID == "" {
		keyID = vane.DefaultKeyID
	}
	return s.allow(ctx, auth.ActionDecrypt, auth.KMSKeyARN(s.Region, s.Account, keyID))
}

// auditRefusal records a refused request in the audit history.
func (s *Server) auditRefusal(ctx context.Context, keyID, action, name, result, detail string) {
	if s.Audit == nil {
		return
	}
	req := vane.RequestFromContext(ctx)
	principal := vane.PrincipalFromContext(ctx)
	if principalOf(ctx) == nil {
		principal = "unauthenticated"
		if keyID != "" {
			principal = "key " + keyID
		}
	}
	if len(detail) > 300 {
		detail = detail[:300]
	}
	e := vane.AuditEntry{Time: s.now(), Principal: principal, Source: req.Source, RequestID: req.RequestID,
		Action: action, Name: name, Result: result, Detail: detail}
	if err := s.Audit.AppendAudit(context.WithoutCancel(ctx), []vane.AuditEntry{e}); err != nil {
		s.logger().Error("audit a refusal", "request_id", req.RequestID, "error", err.Error())
	}
}

// named wraps a handler of a route whose {name...} is one parameter: the
// caller must be allowed action on that parameter.
func (s *Server) named(action string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.allowName(r.Context(), action, pathName(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r)
	}
}

// admin wraps a handler of a server-wide route: the caller must be
// allowed vane:Admin.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.allow(r.Context(), auth.ActionAdmin, "*"); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r)
	}
}
