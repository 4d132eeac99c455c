package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// The AppConfigData protocol: a client starts a configuration session for
// an application, environment and profile and gets a token; each
// GetLatestConfiguration spends a token and returns the next one, with the
// configuration when it differs from what the client was last given and
// an empty body when it does not.
//
// A token carries its session's whole state, signed with the server's
// token key (Server.TokenKey, shared by every node), so any node can serve
// any poll. What a token can't carry is whether it was spent: each node
// remembers, per session, the last poll it served (pollSessions), which
// makes a token good for one call on a node. Behind a load balancer a
// token already spent on one node would be taken once more by another;
// it gives nothing the caller's credential doesn't, since every poll is
// authorized again.

const (
	// tokenLifetime is how long a configuration token may be used.
	tokenLifetime = 24 * time.Hour
	// defaultPollInterval is the NextPollIntervalInSeconds of a session
	// that set no RequiredMinimumPollIntervalInSeconds, as AWS's.
	defaultPollInterval = 60
	// minPollInterval and maxPollInterval bound
	// RequiredMinimumPollIntervalInSeconds, as AWS's model does.
	minPollInterval = 15
	maxPollInterval = 86400
	tokenOp         = "appconfigdata"
)

// pollToken is the state a configuration token carries.
type pollToken struct {
	Session   string `json:"s"` // random, names the session
	Poll      int64  `json:"n"` // 0 for the initial token, then 1, 2, ...
	App       string `json:"a"`
	Env       string `json:"e"`
	Profile   string `json:"p"`
	Principal string `json:"k,omitempty"` // who started the session
	MinPoll   int    `json:"m,omitempty"` // RequiredMinimumPollIntervalInSeconds, 0 for none
	Held      string `json:"h,omitempty"` // the hash of the configuration the client holds
	Issued    int64  `json:"t"`           // Unix seconds
}

// seal returns the token for t.
func (ac *appConfig) seal(t *pollToken) string {
	b, _ := json.Marshal(t)
	return ac.tokens.seal(tokenOp, "", string(b))
}

// open returns the state a token carries, checking that this server
// issued it, that it has not expired and that it belongs to the caller.
func (ac *appConfig) open(ctx context.Context, token string, now time.Time) (*pollToken, error) {
	corrupted := func() error {
		return badToken("Corrupted", "the configuration token is not valid: it was not issued by this server, or it was changed")
	}
	if token == "" {
		return nil, badRequest("ConfigurationToken is required: start a session with StartConfigurationSession")
	}
	raw, err := ac.tokens.open(tokenOp, "", token)
	if err != nil || raw == "" {
		return nil, corrupted()
	}
	var t pollToken
	if json.Unmarshal([]byte(raw), &t) != nil || t.Session == "" {
		return nil, corrupted()
	}
	if now.Sub(time.Unix(t.Issued, 0)) > tokenLifetime {
		return nil, badToken("Expired", "the configuration token has expired: tokens are valid for 24 hours; start a new session")
	}
	if t.Principal != vane.PrincipalFromContext(ctx) {
		return nil, badToken("Corrupted", "the configuration token was issued to another credential")
	}
	return &t, nil
}

// pollSessions remembers, per session, the last poll this node served, so
// that a token is good for one call.
type pollSessions struct {
	mu    sync.Mutex
	last  map[string]sessionPoll
	swept time.Time
}

type sessionPoll struct {
	poll int64
	at   time.Time
}

func newPollSessions() *pollSessions {
	return &pollSessions{last: map[string]sessionPoll{}}
}

// spend records poll n of a session and reports whether it was not
// served before. Sessions idle for longer than a token lives are
// forgotten: their tokens have expired.
func (ps *pollSessions) spend(session string, n int64, now time.Time) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if now.Sub(ps.swept) > time.Hour {
		for k, v := range ps.last {
			if now.Sub(v.at) > tokenLifetime {
				delete(ps.last, k)
			}
		}
		ps.swept = now
	}
	if last, ok := ps.last[session]; ok && n <= last.poll {
		return false
	}
	ps.last[session] = sessionPoll{poll: n, at: now}
	return true
}

// startSessionRequest is the body of StartConfigurationSession.
type startSessionRequest struct {
	ApplicationIdentifier                string
	EnvironmentIdentifier                string
	ConfigurationProfileIdentifier       string
	RequiredMinimumPollIntervalInSeconds *int
}

// startConfigurationSession serves StartConfigurationSession
// (POST /configurationsessions).
func (ac *appConfig) startConfigurationSession(w http.ResponseWriter, r *http.Request) {
	var req startSessionRequest
	if err := decodeAppConfigJSON(w, r, &req); err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	for _, m := range []struct{ name, value string }{
		{"ApplicationIdentifier", req.ApplicationIdentifier},
		{"EnvironmentIdentifier", req.EnvironmentIdentifier},
		{"ConfigurationProfileIdentifier", req.ConfigurationProfileIdentifier},
	} {
		if m.value == "" || len(m.value) > 128 {
			ac.s.writeAppConfigError(w, r, badRequest(m.name+" is required: a name or ID of 1 to 128 characters"))
			return
		}
	}
	minPoll := 0
	if p := req.RequiredMinimumPollIntervalInSeconds; p != nil {
		if *p < minPollInterval || *p > maxPollInterval {
			ac.s.writeAppConfigError(w, r, badRequest("RequiredMinimumPollIntervalInSeconds must be from 15 to 86400, not "+strconv.Itoa(*p)))
			return
		}
		minPoll = *p
	}
	ctx := r.Context()
	app, err := ac.resolveApplication(ctx, req.ApplicationIdentifier)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	env, err := ac.resolveEnvironment(ctx, app, req.EnvironmentIdentifier)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	profile, err := ac.resolveProfile(ctx, app, env, req.ConfigurationProfileIdentifier)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	var id [12]byte
	rand.Read(id[:])
	t := &pollToken{Session: base64.RawURLEncoding.EncodeToString(id[:]), App: app, Env: env, Profile: profile,
		Principal: vane.PrincipalFromContext(ctx), MinPoll: minPoll, Issued: ac.s.now().Unix()}
	writeJSON(w, http.StatusCreated, map[string]string{"InitialConfigurationToken": ac.seal(t)})
}

// getLatestConfiguration serves GetLatestConfiguration
// (GET /configuration?configuration_token=...).
func (ac *appConfig) getLatestConfiguration(w http.ResponseWriter, r *http.Request) {
	now := ac.s.now()
	ctx := r.Context()
	t, err := ac.open(ctx, r.URL.Query().Get("configuration_token"), now)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if t.Poll > 0 && t.MinPoll > 0 && now.Before(time.Unix(t.Issued, 0).Add(time.Duration(t.MinPoll)*time.Second)) {
		ac.s.writeAppConfigError(w, r, badToken("PollIntervalNotSatisfied",
			"poll again after "+strconv.Itoa(t.MinPoll)+" seconds, the session's RequiredMinimumPollIntervalInSeconds"))
		return
	}
	c, err := ac.configuration(ctx, t)
	if err != nil {
		ac.s.writeAppConfigError(w, r, err)
		return
	}
	if !ac.sessions.spend(t.Session, t.Poll, now) {
		ac.s.writeAppConfigError(w, r, badToken("Expired",
			"this configuration token was already used: each is good for one call; use the NextPollConfigurationToken of that call"))
		return
	}
	held := c.hash()
	next := *t
	next.Poll, next.Issued, next.Held = t.Poll+1, now.Unix(), held
	interval := defaultPollInterval
	if t.MinPoll > 0 {
		interval = t.MinPoll
	}
	h := w.Header()
	h.Set("Next-Poll-Configuration-Token", ac.seal(&next))
	h.Set("Next-Poll-Interval-In-Seconds", strconv.Itoa(interval))
	h.Set("Content-Type", c.contentType)
	if held == t.Held {
		// The client has this configuration already.
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	// The warnings go with the document they are about.
	for i, warning := range c.warnings {
		if i == maxWarningHeaders {
			h.Add(warningHeader, strconv.Itoa(len(c.warnings)-i)+" more flags left out; the server log names them")
			break
		}
		h.Add(warningHeader, warning)
	}
	h.Set("Version-Label", c.label)
	h.Set("Content-Length", strconv.Itoa(len(c.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(c.body)
}

// warningHeader carries, in GetLatestConfiguration's response metadata,
// the flags left out of a feature-flags document and why, one per header
// line, at most maxWarningHeaders of them.
const (
	warningHeader     = "X-Vane-Warning"
	maxWarningHeaders = 20
)

// servedConfig is what a configuration profile serves at one moment.
type servedConfig struct {
	body        []byte
	contentType string
	label       string   // Version-Label
	warnings    []string // flags left out of a feature-flags document
	names       []string // the parameters it was made of
	sum         string   // hash(), once computed
	once        sync.Once
}

// hash identifies the content of c: the same body of the same type has
// the same hash on every node, so a client polling several nodes gets an
// empty body from each once it holds the content.
func (c *servedConfig) hash() string {
	c.once.Do(func() {
		sum := sha256.Sum256(append([]byte(c.contentType+"\n"), c.body...))
		c.sum = hex.EncodeToString(sum[:16])
	})
	return c.sum
}

// configuration returns what a session's profile serves now.
func (ac *appConfig) configuration(ctx context.Context, t *pollToken) (*servedConfig, error) {
	base := "/" + t.App + "/" + t.Env + "/"
	name := base + t.Profile
	if t.Profile == featuresProfile {
		name += "/"
	} else if err := ac.s.allow(ctx, auth.ActionGetParameter, name); err != nil {
		return nil, err
	}
	seqer, cached := vane.StoreAs[interface{ Seq() int64 }](ac.s.Store)
	var seq int64
	if cached {
		// The sequence is read first, so a configuration is never older
		// than the sequence it is kept under.
		seq = seqer.Seq()
		if c := ac.served.get(name, seq); c != nil && ac.readsAll(ctx, c.names) {
			if principalOf(ctx) != nil {
				ac.s.auditReads(ctx, auth.ActionGetParameter, c.names)
			}
			return c, nil
		}
	}
	var c *servedConfig
	if t.Profile == featuresProfile {
		flags, err := vane.AllUnder(ctx, ac.s.Store, name, isFlag)
		if err != nil {
			return nil, err
		}
		all := len(flags)
		flags = ac.s.filterParameters(ctx, auth.ActionGetParameter, flags)
		c = ac.featureConfig(ctx, base, flags)
		if len(flags) < all {
			return c, nil // what this caller may read, not everyone's
		}
	} else {
		var err error
		if c, err = ac.parameterConfig(ctx, t.Profile, name); err != nil {
			return nil, err
		}
	}
	if cached {
		ac.served.put(name, seq, c)
	}
	return c, nil
}

// parameterConfig returns what the profile serving the parameter name
// serves: its value, with its content type and version.
func (ac *appConfig) parameterConfig(ctx context.Context, profile, name string) (*servedConfig, error) {
	p, err := ac.s.Store.Get(ctx, name)
	if vane.ErrorCode(err) == vane.ENOTFOUND {
		return nil, notFound("Configuration", "the parameter "+name+" that configuration profile "+profile+" serves no longer exists")
	}
	if err != nil {
		return nil, err
	}
	if p.Type == vane.TypeSecureString {
		return nil, badRequest("the parameter " + name + " is a SecureString: AppConfig serves String and StringList parameters only")
	}
	tags, err := ac.s.Store.Tags(ctx, name)
	if err != nil && vane.ErrorCode(err) != vane.ENOTFOUND {
		return nil, err
	}
	return &servedConfig{body: []byte(p.Value), contentType: configContentType(p.Value, tags),
		label: strconv.FormatInt(p.Version, 10), names: []string{name}}, nil
}

// readsAll reports whether the caller may read every one of names.
func (ac *appConfig) readsAll(ctx context.Context, names []string) bool {
	visible := ac.s.visible(ctx, auth.ActionGetParameter)
	if visible == nil {
		return true
	}
	for _, n := range names {
		if !visible(n) {
			return false
		}
	}
	return true
}

// contentTypeTag is the tag that sets the Content-Type a parameter is
// served with through AppConfig.
const contentTypeTag = "ContentType"

// configContentType returns the Content-Type of a parameter served as a
// configuration: its ContentType tag if it has one, else JSON for a JSON
// object or array, YAML for a value that reads as a YAML document, and
// text otherwise.
func configContentType(value string, tags []vane.Tag) string {
	for _, t := range tags {
		if t.Key == contentTypeTag && t.Value != "" {
			return t.Value
		}
	}
	v := strings.TrimSpace(value)
	if (strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[")) && json.Valid([]byte(v)) {
		return "application/json"
	}
	if looksLikeYAML(value) {
		return "application/x-yaml"
	}
	return "text/plain"
}

// looksLikeYAML reports whether a value reads as a YAML document: it
// starts with a document marker, or it has several lines and its first
// line that is not blank or a comment is a mapping key ("key:" or
// "key: value") or a sequence entry ("- item").
func looksLikeYAML(v string) bool {
	if !strings.Contains(v, "\n") {
		return false
	}
	for line := range strings.Lines(v) {
		line = strings.TrimRight(line, "\r\n")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if t == "---" || strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "- ") {
			return true
		}
		key, rest, ok := strings.Cut(t, ":")
		return ok && key != "" && !strings.ContainsAny(key, " \t{}[]\"'") && (rest == "" || rest[0] == ' ')
	}
	return false
}
