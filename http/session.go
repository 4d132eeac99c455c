package http

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// The dashboard signs in with an access key and then holds a session
// cookie instead of the key. A session is accepted on the native API
// only (/v1/...): the dashboard calls the same routes, with the same
// checks and audit, as the CLI. Every state-changing request made with a
// session must carry the session's anti-forgery token in CSRFHeader; the
// cookie is SameSite=Strict as well, so a request from another site has
// neither.
const (
	SessionCookie = "vane_session"
	CSRFHeader    = "X-Vane-CSRF"
)

// maxPermissionChecks bounds one POST /v1/session/check.
const maxPermissionChecks = 500

type sessionKey struct{}

// requestSession is the dashboard session a request was authenticated
// with: its token (from the cookie) and its record.
type requestSession struct {
	token string
	*auth.Session
}

// sessionOf returns the session a request was authenticated with, or nil
// for a request authenticated otherwise.
func sessionOf(ctx context.Context) *requestSession {
	rs, _ := ctx.Value(sessionKey{}).(*requestSession)
	return rs
}

// safeMethod reports whether a method only reads.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// crossSite reports why a state-changing request looks forged by a page
// of another site, or "". Browsers send Sec-Fetch-Site and Origin with
// such requests; other clients send neither and are not affected.
func crossSite(r *http.Request) string {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return "the request was sent by a page of another site (Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site") + ")"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if origin == "null" || err != nil || !strings.EqualFold(u.Host, r.Host) {
		return "the request comes from origin " + origin + ", not from this server"
	}
	return ""
}

// refuseForgery refuses a state-changing browser request that carries a
// session cookie, or reaches a server without access control, from
// another site, or with a session but without its anti-forgery token. It
// writes the answer and returns its status, or 0 to go on.
func (s *Server) refuseForgery(w http.ResponseWriter, r *http.Request) int {
	if safeMethod(r.Method) {
		return 0
	}
	_, err := r.Cookie(SessionCookie)
	if err != nil && s.Access != nil {
		return 0 // an access key in a header: a page of another site can't send it
	}
	why := crossSite(r)
	if why == "" {
		return 0
	}
	s.auditRefusal(r.Context(), "", "vane:Authenticate", r.URL.Path, vane.EFORBIDDEN, "cross-site request refused: "+why)
	s.writeError(w, r, vane.Errorf(vane.EFORBIDDEN, "cross-site request refused: %s", why))
	return http.StatusForbidden
}

// authenticateSession authenticates a native API request by its session
// cookie; ok is false when the request has none.
func (s *Server) authenticateSession(w http.ResponseWriter, r *http.Request) (p *auth.Principal, rs *requestSession, status int, ok bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || s.Access.Sessions == nil || !strings.HasPrefix(r.URL.Path, "/v1/") {
		return nil, nil, 0, false
	}
	sess, p, err := s.Access.Sessions.Resume(r.Context(), c.Value)
	if err != nil {
		s.auditRefusal(r.Context(), "", "vane:Authenticate", r.URL.Path, vane.ErrorCode(err), "session: "+err.Error())
		s.clearSessionCookie(w, r)
		s.writeError(w, r, err)
		return nil, nil, ErrorStatus(vane.ErrorCode(err)), true
	}
	if !safeMethod(r.Method) && !auth.CheckCSRF(c.Value, r.Header.Get(CSRFHeader)) {
		s.auditRefusal(r.Context(), p.Key.ID, "vane:Authenticate", r.URL.Path, vane.EFORBIDDEN, "session without its anti-forgery token")
		s.writeError(w, r, vane.Errorf(vane.EFORBIDDEN,
			"request refused as a possible cross-site request forgery: a request made with a dashboard session must carry the session's %s header", CSRFHeader))
		return nil, nil, http.StatusForbidden, true
	}
	return p, &requestSession{token: c.Value, Session: sess}, 0, true
}

func (s *Server) registerSessionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/session", s.handleGetSession)
	mux.HandleFunc("POST /v1/session", s.handleSignIn)
	mux.HandleFunc("DELETE /v1/session", s.handleSignOut)
	mux.HandleFunc("POST /v1/session/check", s.handleCheckPermissions)
}

// sessionJSON describes the caller to the dashboard.
type sessionJSON struct {
	Auth      bool   `json:"auth"`
	KeyID     string `json:"key_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Principal string `json:"principal"`
	Admin     bool   `json:"admin"`
	CSRFToken string `json:"csrf_token,omitempty"`
	Expires   string `json:"expires,omitempty"`
}

func (s *Server) describeCaller(ctx context.Context, p *auth.Principal, token string, expires time.Time) sessionJSON {
	if p == nil {
		return sessionJSON{Principal: vane.PrincipalFromContext(ctx), Admin: true}
	}
	out := sessionJSON{Auth: true, KeyID: p.Key.ID, Name: p.Key.Name, Principal: p.Key.Name,
		Admin: p.Decide(auth.ActionAdmin, "*").Allowed}
	if token != "" {
		out.CSRFToken = auth.CSRFToken(token)
	}
	if !expires.IsZero() {
		out.Expires = formatTime(expires)
	}
	return out
}

// handleGetSession serves GET /v1/session: who the caller is, and the
// anti-forgery token of its session.
func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	var token string
	var expires time.Time
	if rs := sessionOf(ctx); rs != nil {
		token, expires = rs.token, rs.Expires // resumed by authenticate
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.describeCaller(ctx, principalOf(ctx), token, expires))
}

// handleSignIn serves POST /v1/session: sign in with an access key's id
// and secret. It is the one /v1 route served without a credential.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		KeyID  string `json:"key_id"`
		Secret string `json:"secret"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Access == nil {
		s.writeError(w, r, invalidf("access control is off (vane serve --dev): there is nothing to sign in to"))
		return
	}
	if s.Access.Sessions == nil {
		s.writeError(w, r, vane.Errorf(vane.EUNAVAILABLE, "this server has no dashboard sessions"))
		return
	}
	if in.KeyID == "" || in.Secret == "" {
		s.writeError(w, r, invalidf("key_id and secret are both required"))
		return
	}
	ctx := r.Context()
	token, sess, p, err := s.Access.Sessions.SignIn(ctx, strings.TrimSpace(in.KeyID), strings.TrimSpace(in.Secret))
	if err != nil {
		s.auditRefusal(ctx, in.KeyID, "vane:SignIn", "", vane.ErrorCode(err), err.Error())
		s.writeError(w, r, err)
		return
	}
	ctx = vane.NewContextWithPrincipal(ctx, p.Key.Name)
	s.auditAction(ctx, "vane:SignIn", p.Key.ID, "session until "+formatTime(sess.Expires))
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: sess.Expires,
		MaxAge: int(time.Until(sess.Expires).Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.describeCaller(ctx, p, token, sess.Expires))
}

// handleSignOut serves DELETE /v1/session: the session ends on the
// server, on every node.
func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	rs := sessionOf(r.Context())
	if rs == nil {
		s.writeError(w, r, invalidf("this request was not made with a dashboard session: there is nothing to sign out of"))
		return
	}
	if err := s.Access.Sessions.SignOut(r.Context(), rs.token); err != nil {
		s.writeError(w, r, err)
		return
	}
	if p := principalOf(r.Context()); p != nil {
		s.auditAction(r.Context(), "vane:SignOut", p.Key.ID, "")
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// handleCheckPermissions serves POST /v1/session/check: which of the
// given actions the caller's own policy allows, so the dashboard offers
// only the buttons that would work. It only reads the caller's policy.
func (s *Server) handleCheckPermissions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Checks []struct {
			Action   string `json:"action"`
			Resource string `json:"resource"`
		} `json:"checks"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.Checks) > maxPermissionChecks {
		s.writeError(w, r, invalidf("at most %d checks are allowed in one request, not %d", maxPermissionChecks, len(in.Checks)))
		return
	}
	p := principalOf(r.Context())
	out := make([]bool, len(in.Checks))
	for i, c := range in.Checks {
		if c.Action == "" || c.Resource == "" {
			s.writeError(w, r, invalidf("checks[%d]: action and resource are both required", i))
			return
		}
		out[i] = p == nil || p.Decide(c.Action, c.Resource).Allowed
	}
	writeJSON(w, http.StatusOK, map[string][]bool{"allowed": out})
}

// auditAction records an action that changes no parameter, such as a
// sign-in.
func (s *Server) auditAction(ctx context.Context, action, name, detail string) {
	if s.Audit == nil {
		return
	}
	req := vane.RequestFromContext(ctx)
	e := vane.AuditEntry{Time: s.now(), Principal: vane.PrincipalFromContext(ctx), Source: req.Source,
		RequestID: req.RequestID, Action: action, Name: name, Result: vane.AuditOK, Detail: detail}
	if err := s.Audit.AppendAudit(context.WithoutCancel(ctx), []vane.AuditEntry{e}); err != nil {
		s.logger().Error("audit", "action", action, "request_id", req.RequestID, "error", err.Error())
	}
}
