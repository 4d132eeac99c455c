package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// The AWS AppConfig protocols (REST-JSON): the data plane (AppConfigData:
// configuration sessions and polls) and the control plane (AppConfig:
// applications, environments, configuration profiles, hosted versions,
// deployments). Both sign for the service "appconfig", and AWS's SDKs
// send both to the one endpoint a user sets, so they share Vane's root
// with the SSM protocol (POST /) and the native API (/v1/...), whose paths
// none of theirs meet.
//
// Vane has no separate AppConfig objects; they are views of the parameter
// tree (doc/aws-compat.md, "AppConfig"):
//
//   - an application is a parameter name's first segment, an environment
//     its second: /{app}/{env}/...;
//   - the configuration profile named after the flags segment ("features")
//     serves every flag under /{app}/{env}/features/ as one feature-flags
//     document in the schema of Powertools for AWS Lambda;
//   - any other profile P serves the value of the parameter /{app}/{env}/P.
//
// IDs are derived from names (appConfigID), so they are the same on every
// node and after a restart, and a client may use a name wherever AWS
// takes an identifier.

// appConfigSigningName is the service name AppConfig's clients sign for,
// in both planes.
const appConfigSigningName = "appconfig"

// featuresProfile is the configuration profile that serves the flags of an
// environment as one Powertools document.
const featuresProfile = "features"

// isAppConfigPath reports whether a request path belongs to one of the
// AppConfig protocols: the data plane's two paths, and every path of the
// control plane's model (including the operations Vane does not serve,
// and the model's misspelled /deployementstrategies/), so that they all
// get SigV4 for "appconfig" and AWS's error shapes. It runs for every
// request: one segment is cut, nothing is allocated.
func isAppConfigPath(p string) bool {
	if len(p) < 2 || p[0] != '/' {
		return false
	}
	first, _, deeper := strings.Cut(p[1:], "/")
	switch first {
	case "configurationsessions", "configuration":
		return !deeper
	case "applications", "deploymentstrategies", "deployementstrategies", "extensions", "extensionassociations", "settings", "tags":
		return true
	}
	return false
}

// registerAppConfigRoutes adds the AppConfig protocols' routes.
func (s *Server) registerAppConfigRoutes(mux *http.ServeMux) {
	ac := &appConfig{s: s, tokens: newPageTokens(s.TokenKey), sessions: newPollSessions()}
	mux.HandleFunc("POST /configurationsessions", ac.startConfigurationSession)
	mux.HandleFunc("GET /configuration", ac.getLatestConfiguration)
	ac.registerControlRoutes(mux)
}

// appConfig serves the AppConfig protocols.
type appConfig struct {
	s        *Server
	tokens   *pageTokens
	sessions *pollSessions
	served   servedConfigs
}

// appConfigError is an error of the AppConfig protocols in AWS's terms:
// the exception's name, its status and its members beyond the message.
type appConfigError struct {
	Type   string
	Status int
	msg    string
	// Reason and Details of a BadRequestException; ResourceType of a
	// ResourceNotFoundException.
	Reason       string
	Details      any
	ResourceType string
	// Members are the exception's other members, by their model names
	// (Measure, Limit and Size of a PayloadTooLargeException).
	Members map[string]any
}

func (e *appConfigError) Error() string { return e.Type + ": " + e.msg }

// badToken is the BadRequestException for a configuration token that
// can't be used, with AWS's problem: Corrupted, Expired or
// PollIntervalNotSatisfied.
func badToken(problem, msg string) *appConfigError {
	return &appConfigError{Type: "BadRequestException", Status: http.StatusBadRequest, msg: msg,
		Reason: "InvalidParameters",
		Details: map[string]any{"InvalidParameters": map[string]any{
			"ConfigurationToken": map[string]string{"Problem": problem}}}}
}

// notFound is the ResourceNotFoundException for a missing application,
// environment, configuration profile or configuration.
func notFound(resourceType, msg string) *appConfigError {
	return &appConfigError{Type: "ResourceNotFoundException", Status: http.StatusNotFound, msg: msg, ResourceType: resourceType}
}

// badRequest is a BadRequestException without details.
func badRequest(msg string) *appConfigError {
	return &appConfigError{Type: "BadRequestException", Status: http.StatusBadRequest, msg: msg}
}

// appConfigErrorFor maps Vane's errors to AppConfig's exceptions.
func appConfigErrorFor(err error) *appConfigError {
	var ae *appConfigError
	if errors.As(err, &ae) {
		return ae
	}
	msg := vane.ErrorMessage(err)
	switch vane.ErrorCode(err) {
	case vane.EINVALID:
		return badRequest(msg)
	case vane.ENOTFOUND:
		return notFound("Configuration", msg)
	case vane.EFORBIDDEN:
		return &appConfigError{Type: "AccessDeniedException", Status: http.StatusForbidden, msg: msg}
	case vane.EUNAUTHORIZED:
		return &appConfigError{Type: "UnrecognizedClientException", Status: http.StatusForbidden, msg: msg}
	case vane.ECONFLICT:
		return &appConfigError{Type: "ConflictException", Status: http.StatusConflict, msg: msg}
	case vane.ETOOLARGE:
		return &appConfigError{Type: "PayloadTooLargeException", Status: http.StatusRequestEntityTooLarge, msg: msg}
	case vane.ELIMIT:
		return &appConfigError{Type: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired, msg: msg}
	case vane.ETHROTTLED:
		return &appConfigError{Type: "ThrottlingException", Status: http.StatusTooManyRequests, msg: msg}
	}
	return &appConfigError{Type: "InternalServerException", Status: http.StatusInternalServerError,
		msg: "an internal error occurred; the server log has it under this request's id"}
}

// writeAppConfigError writes err in the REST-JSON error shape: the name in
// X-Amzn-ErrorType, which the SDKs read first, and the members in the
// body. Internal errors are logged and shown only as a generic message.
func (s *Server) writeAppConfigError(w http.ResponseWriter, r *http.Request, err error) int {
	e := appConfigErrorFor(err)
	if e.Status >= 500 {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn
		}
		s.logger().LogAttrs(r.Context(), level, "internal error",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("error", err.Error()))
	}
	body := map[string]any{"Message": e.msg, "message": e.msg}
	if e.Reason != "" {
		body["Reason"] = e.Reason
	}
	if e.Details != nil {
		body["Details"] = e.Details
	}
	if e.ResourceType != "" {
		body["ResourceType"] = e.ResourceType
	}
	for k, v := range e.Members {
		body[k] = v
	}
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	writeJSON(w, e.Status, body)
	return e.Status
}

// refuseAppConfigSigV4 answers an AppConfig request whose signature failed,
// and returns the status.
func (s *Server) refuseAppConfigSigV4(w http.ResponseWriter, r *http.Request, err error) int {
	var se *auth.SigV4Error
	if errors.As(err, &se) {
		s.auditRefusal(r.Context(), se.AccessKeyID, "vane:Authenticate", "", se.Type, err.Error())
		// REST-JSON services answer a refused credential with 403, where
		// the JSON 1.1 protocol of SSM answers 400.
		return s.writeAppConfigError(w, r, &appConfigError{Type: se.Type, Status: http.StatusForbidden, msg: se.Message})
	}
	if code := vane.ErrorCode(err); code != vane.EINTERNAL && code != vane.EUNAVAILABLE {
		s.auditRefusal(r.Context(), "", "vane:Authenticate", "", code, err.Error())
	}
	return s.writeAppConfigError(w, r, err)
}

// appConfigID returns the ID AppConfig reports for an object of a kind
// ("application", "environment", "profile") with a key naming it (the
// application's name; application and environment; application and
// profile): seven characters of [0-9a-z], as AWS's IDs, derived from the
// name so that every node and every restart gives the same one.
func appConfigID(kind, key string) string {
	sum := sha256.Sum256([]byte("vane appconfig " + kind + "\x00" + key))
	n := binary.BigEndian.Uint64(sum[:8])
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var id [7]byte
	for i := range id {
		id[i] = digits[n%36]
		n /= 36
	}
	return string(id[:])
}

// looksLikeID reports whether s has the form of an ID appConfigID makes.
func looksLikeID(s string) bool {
	if len(s) != 7 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// validSegment reports whether an application or environment name can be
// a path segment of a parameter name. "aws" and "vane" hold no
// applications: the first is reserved by SSM, the second by Vane's
// settings.
func validSegment(s string) bool {
	if s == "" || strings.ContainsRune(s, '/') || s == "aws" || s == "vane" || strings.EqualFold(s, "aws") {
		return false
	}
	_, err := vane.ValidatePath("/" + s + "/")
	return err == nil
}

// hasUnderFor reports whether a parameter the caller is allowed action on
// (ssm:GetParameter for the data plane, ssm:DescribeParameters for the
// control plane) is under path. What a caller may not see does not exist
// for it, so that no answer tells it which applications, environments or
// profiles others have.
func (ac *appConfig) hasUnderFor(ctx context.Context, action, path string) (bool, error) {
	visible := ac.s.visible(ctx, action)
	in := &vane.ByPathInput{Path: path, Recursive: true, Limit: 1}
	if visible != nil {
		in.Limit = vane.MaxPageSize
	}
	for {
		page, err := ac.s.Store.ByPath(ctx, in)
		if err != nil {
			return false, err
		}
		for _, p := range page.Parameters {
			if visible == nil || visible(p.Name) {
				return true, nil
			}
		}
		if visible == nil || page.NextToken == "" {
			return false, nil
		}
		in.NextToken = page.NextToken
	}
}

// readable returns the parameters under path the caller may read.
func (ac *appConfig) readable(ctx context.Context, path string) ([]*vane.Parameter, error) {
	return ac.allowedUnder(ctx, auth.ActionGetParameter, path)
}

// allowedUnder returns the parameters under path the caller is allowed
// action on.
func (ac *appConfig) allowedUnder(ctx context.Context, action, path string) ([]*vane.Parameter, error) {
	var keep func(*vane.Parameter) bool
	if visible := ac.s.visible(ctx, action); visible != nil {
		keep = func(p *vane.Parameter) bool { return visible(p.Name) }
	}
	return vane.AllUnder(ctx, ac.s.Store, path, keep)
}

// resolveApplication returns the name of the application an identifier
// (a name or an ID) names.
func (ac *appConfig) resolveApplication(ctx context.Context, ident string) (string, error) {
	return ac.resolveApplicationFor(ctx, auth.ActionGetParameter, ident)
}

// resolveApplicationFor is resolveApplication for the callers allowed
// action on a parameter of the application.
func (ac *appConfig) resolveApplicationFor(ctx context.Context, action, ident string) (string, error) {
	if validSegment(ident) {
		ok, err := ac.hasUnderFor(ctx, action, "/"+ident+"/")
		if err != nil || ok {
			return ident, err
		}
	}
	if looksLikeID(ident) {
		names, err := ac.childrenFor(ctx, action, "/")
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if validSegment(n) && appConfigID("application", n) == ident {
				return n, nil
			}
		}
	}
	return "", notFound("Application", "Application "+ident+" could not be found: an application is the first segment of parameter names, such as myapp in /myapp/prod/...")
}

// resolveEnvironment returns the name of the environment of app that an
// identifier names.
func (ac *appConfig) resolveEnvironment(ctx context.Context, app, ident string) (string, error) {
	return ac.resolveEnvironmentFor(ctx, auth.ActionGetParameter, app, ident)
}

// resolveEnvironmentFor is resolveEnvironment for the callers allowed
// action on a parameter of the environment.
func (ac *appConfig) resolveEnvironmentFor(ctx context.Context, action, app, ident string) (string, error) {
	if validSegment(ident) {
		ok, err := ac.hasUnderFor(ctx, action, "/"+app+"/"+ident+"/")
		if err != nil || ok {
			return ident, err
		}
	}
	if looksLikeID(ident) {
		names, err := ac.childrenFor(ctx, action, "/"+app+"/")
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if appConfigID("environment", app+"/"+n) == ident {
				return n, nil
			}
		}
	}
	return "", notFound("Environment", "Environment "+ident+" could not be found in application "+app+": an environment is the second segment of parameter names, such as prod in /"+app+"/prod/...")
}

// resolveProfile returns the name of the configuration profile of app, in
// env, that an identifier names: "features", or the name of a parameter
// relative to /{app}/{env}/.
func (ac *appConfig) resolveProfile(ctx context.Context, app, env, ident string) (string, error) {
	if ident == featuresProfile || looksLikeID(ident) && appConfigID("profile", app+"/"+featuresProfile) == ident {
		return featuresProfile, nil
	}
	base := "/" + app + "/" + env + "/"
	if name, err := vane.ValidateName(base + strings.TrimPrefix(ident, "/")); err == nil {
		// The permission first, as AWS checks it before looking: a
		// refusal says nothing of whether the parameter exists.
		if err := ac.s.allow(ctx, auth.ActionGetParameter, name); err != nil {
			return "", err
		}
		if _, err := ac.s.Store.Get(ctx, name); err == nil {
			return strings.TrimPrefix(name, base), nil
		} else if vane.ErrorCode(err) != vane.ENOTFOUND {
			return "", err
		}
	}
	if looksLikeID(ident) {
		ps, err := ac.readable(ctx, base)
		if err != nil {
			return "", err
		}
		for _, p := range ps {
			rel := strings.TrimPrefix(p.Name, base)
			if appConfigID("profile", app+"/"+rel) == ident {
				return rel, nil
			}
		}
	}
	return "", notFound("ConfigurationProfile", "Configuration profile "+ident+" could not be found in environment "+env+" of application "+app+
		": a profile is \"features\" (the flags under "+base+"features/) or the name of a parameter under "+base)
}

// childrenFor returns the distinct next segments of the names of the
// parameters under path that the caller is allowed action on, in order.
func (ac *appConfig) childrenFor(ctx context.Context, action, path string) ([]string, error) {
	ps, err := ac.allowedUnder(ctx, action, path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		rest := strings.TrimPrefix(p.Name, path)
		seg, _, more := strings.Cut(rest, "/")
		if !more {
			continue // a parameter named by the path's own level
		}
		if len(out) == 0 || out[len(out)-1] != seg {
			out = append(out, seg)
		}
	}
	return out, nil
}

// servedConfigs keeps what each profile served as of one change-log
// sequence, as flagLists does for evaluations: pollers ask for the same
// configurations over and over between changes, and a feature-flags
// document costs a translation of every flag to build.
type servedConfigs struct {
	mu    sync.Mutex
	seq   int64
	byKey map[string]*servedConfig
}

// maxServedConfigs bounds how many profiles' configurations are kept.
const maxServedConfigs = 1024

func (c *servedConfigs) get(key string, seq int64) *servedConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq != seq {
		return nil
	}
	return c.byKey[key]
}

func (c *servedConfigs) put(key string, seq int64, sc *servedConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case seq < c.seq:
		return
	case seq > c.seq || len(c.byKey) >= maxServedConfigs:
		c.seq, c.byKey = seq, make(map[string]*servedConfig)
	}
	c.byKey[key] = sc
}

// featureConfig translates flags (all under base+"features/") into one
// Powertools document, and logs each flag it had to leave out.
func (ac *appConfig) featureConfig(ctx context.Context, base string, flags []*vane.Parameter) *servedConfig {
	in := make([]flag.PowertoolsInput, 0, len(flags))
	c := &servedConfig{contentType: "application/json", names: make([]string, 0, len(flags))}
	for _, p := range flags {
		if p.Type != vane.TypeString {
			continue
		}
		in = append(in, flag.PowertoolsInput{Feature: strings.TrimPrefix(p.Name, base+featuresProfile+"/"), Value: p.Value})
		c.names = append(c.names, p.Name)
	}
	body, warnings := flag.PowertoolsDocument(in)
	for _, w := range warnings {
		name := base + featuresProfile + "/" + w.Feature
		ac.s.logger().LogAttrs(ctx, slog.LevelWarn, "appconfig: flag left out of the feature-flags document",
			slog.String("flag", name), slog.String("reason", w.Reason))
		// A header line: no control characters.
		c.warnings = append(c.warnings, strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return ' '
			}
			return r
		}, name+": "+w.Reason))
	}
	sum := sha256.Sum256(body)
	c.body, c.label = body, hex.EncodeToString(sum[:8])
	return c
}

// decodeAppConfigJSON reads a JSON request body into v, naming what is
// wrong in AppConfig's terms. Members it does not know are ignored, as
// AWS does for members of newer SDKs.
func decodeAppConfigJSON(w http.ResponseWriter, r *http.Request, v any) error {
	defer bodyDeadline(w)()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return badRequest(vane.ErrorMessage(jsonError(err)))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("the request body is not valid JSON for this operation: " + vane.ErrorMessage(jsonError(err)))
	}
	return nil
}
