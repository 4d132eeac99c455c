package http

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// SettingProtectedEnvironments, a StringList of environment names (the
// second segment of /{app}/{env}/features/{flag}), marks environments in
// which the dashboard asks for confirmation before it changes a flag.
// Unset, it is DefaultProtectedEnvironments.
const SettingProtectedEnvironments = "/vane/settings/protected-environments"

// DefaultProtectedEnvironments is SettingProtectedEnvironments unset.
const DefaultProtectedEnvironments = "prod,production"

// DefaultStaleDays is how long a flag may go unevaluated, or serve one
// variant to everyone, before the retirement report lists it.
const DefaultStaleDays = 30

// Reasons a flag is stale, in the order the report gives them.
const (
	StaleNeverEvaluated = "never_evaluated"
	StaleNotEvaluated   = "not_evaluated"
	StaleUniform        = "uniform"
	StaleExpired        = "expired"
)

func (s *Server) registerFlagRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/flags", s.handleListFlags)
	mux.HandleFunc("GET /v1/flags/stale", s.handleStaleFlags)
}

// flagSummaryJSON is one flag at a glance: the dashboard overview's
// cell and the retirement report's row.
type flagSummaryJSON struct {
	Name           string     `json:"name"`
	App            string     `json:"app,omitempty"`
	Env            string     `json:"env,omitempty"`
	Flag           string     `json:"flag,omitempty"`
	Version        int64      `json:"version"`
	Modified       string     `json:"modified"`
	ModifiedBy     string     `json:"modified_by,omitempty"`
	State          string     `json:"state"`
	Enabled        bool       `json:"enabled,omitempty"`
	Rollout        *float64   `json:"rollout,omitempty"`
	Rules          int        `json:"rules,omitempty"`
	Variants       int        `json:"variants,omitempty"`
	DefaultVariant string     `json:"default_variant,omitempty"`
	Kind           string     `json:"kind,omitempty"`
	Description    string     `json:"description,omitempty"`
	Owner          string     `json:"owner,omitempty"`
	Expires        string     `json:"expires,omitempty"`
	LastEvaluated  string     `json:"last_evaluated,omitempty"`
	Evaluations    int64      `json:"evaluations_30d,omitempty"`
	Stale          []string   `json:"stale,omitempty"`
	Reasons        []staleWhy `json:"reasons,omitempty"`
	Writable       bool       `json:"writable,omitempty"`
	Error          string     `json:"error,omitempty"`
}

// staleWhy is one reason a flag is stale.
type staleWhy struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// environmentJSON is an environment of the overview's columns.
type environmentJSON struct {
	Name      string `json:"name"`
	Protected bool   `json:"protected,omitempty"`
}

// SplitFlagName splits a flag name that follows the convention
// /{app}/{env}/features/{flag} into its parts; ok is false for any other
// name.
func SplitFlagName(name string) (app, env, key string, ok bool) {
	rest, ok := strings.CutPrefix(name, "/")
	if !ok {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) != 4 || parts[2] != "features" || parts[0] == "" || parts[1] == "" || parts[3] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[3], true
}

// flagScan is the flags under a path that the caller may read, with
// what the summaries need.
type flagScan struct {
	params []*vane.Parameter
	usage  map[string]vane.UsageTotal
	// tracked is false when the server keeps no usage.
	tracked bool
}

// scanFlags reads the flags under path (and path itself, when it names a
// flag) that the caller may list, and their usage.
func (s *Server) scanFlags(ctx context.Context, path string, now time.Time) (*flagScan, error) {
	canon, err := vane.ValidatePath(path)
	if err != nil {
		return nil, err
	}
	out, err := vane.AtOrUnder(ctx, s.Store, canon, isFlag)
	if err != nil {
		return nil, err
	}
	sc := &flagScan{params: s.filterParameters(ctx, auth.ActionGetParametersByPath, out)}
	if s.Usage != nil {
		sc.tracked = true
		since := now.UTC().AddDate(0, 0, -30).Format(time.DateOnly)
		// A plain prefix: path may name a flag itself, whose usage rows
		// are under its name, not below it.
		prefix := canon
		if prefix != "/" {
			prefix = strings.TrimSuffix(prefix, "/")
		}
		totals, err := s.Usage.UsageTotals(ctx, prefix, since)
		if err != nil {
			return nil, err
		}
		sc.usage = make(map[string]vane.UsageTotal, len(totals))
		for _, u := range totals {
			sc.usage[u.Name] = u
		}
	}
	return sc, nil
}

// summarize describes one flag; days is the staleness threshold.
func (s *Server) summarize(p *vane.Parameter, sc *flagScan, days int, now time.Time) *flagSummaryJSON {
	out := &flagSummaryJSON{Name: p.Name, Version: p.Version, Modified: formatTime(p.LastModified), ModifiedBy: p.LastModifiedUser}
	out.App, out.Env, out.Flag, _ = SplitFlagName(p.Name)
	if u, ok := sc.usage[p.Name]; ok {
		out.LastEvaluated, out.Evaluations = formatTime(u.Last), u.Count
	}
	cf := s.compiled(p)
	if cf.err != nil {
		out.State, out.Error = "invalid", cf.err.Error()
		return out
	}
	f := cf.flag
	out.Kind, out.Enabled, out.Rules = string(f.Kind()), f.Enabled(), f.Rules()
	out.Description, out.Owner = f.Description, f.Owner
	if !f.Expires.IsZero() {
		out.Expires = formatTime(f.Expires)
	}
	if f.Kind() != flag.Boolean {
		out.Variants = len(f.Variants())
	}
	if r := f.Rollout(); r >= 0 {
		out.Rollout = &r
	}
	v, static := f.Static()
	switch {
	case static && v == true:
		out.State, out.Enabled = "on", true
	case static:
		out.State, out.Enabled = "off", false
	case !f.Enabled():
		out.State = "off"
	case f.Rules() > 0:
		out.State = "targeted"
	case out.Rollout != nil && *out.Rollout < 100:
		out.State = "rollout"
	default:
		out.State = "on"
	}
	if !static {
		out.DefaultVariant = f.DefaultVariant()
	}
	out.Reasons = staleReasons(p, f, sc, days, now)
	for _, r := range out.Reasons {
		out.Stale = append(out.Stale, r.Code)
	}
	return out
}

// staleReasons says why a flag should be considered for retirement.
func staleReasons(p *vane.Parameter, f *flag.Flag, sc *flagScan, days int, now time.Time) []staleWhy {
	var out []staleWhy
	cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
	if sc.tracked {
		u, ok := sc.usage[p.Name]
		switch {
		case !ok:
			out = append(out, staleWhy{StaleNeverEvaluated, "never evaluated"})
		case u.Last.Before(cutoff):
			out = append(out, staleWhy{StaleNotEvaluated, fmt.Sprintf("not evaluated for %d days (last %s)",
				int(now.Sub(u.Last).Hours()/24), u.Last.UTC().Format(time.DateOnly))})
		}
	}
	if variant, ok := f.Uniform(); ok && p.LastModified.Before(cutoff) {
		how := "enabled, no targeting"
		if _, static := f.Static(); static {
			how = "a bare " + p.Value
		} else if !f.Enabled() {
			how = "disabled"
		} else if r := f.Rollout(); r >= 0 {
			how = "rollout at " + strconv.FormatFloat(r, 'f', -1, 64) + "%"
		}
		out = append(out, staleWhy{StaleUniform, fmt.Sprintf("serves %q to everyone (%s) since %s",
			variant, how, p.LastModified.UTC().Format(time.DateOnly))})
	}
	if !f.Expires.IsZero() && f.Expires.Before(now) {
		out = append(out, staleWhy{StaleExpired, "past its expiry date " + f.Expires.UTC().Format(time.DateOnly)})
	}
	return out
}

// flagsQuery reads the query of the flag routes: the path (default "/")
// and the staleness threshold in days.
func flagsQuery(r *http.Request) (path string, days int, err error) {
	q, err := parseQuery(r, "path", "days")
	if err != nil {
		return "", 0, err
	}
	if days, err = staleDays(q); err != nil {
		return "", 0, err
	}
	if path, err = pathQuery(q); err != nil || path != "" {
		return path, days, err
	}
	return "/", days, nil
}

// staleDays reads the "days" query parameter.
func staleDays(q query) (int, error) {
	n, ok, err := q.number("days", 1)
	if err != nil {
		return 0, err
	}
	if !ok {
		return DefaultStaleDays, nil
	}
	if n > 3650 {
		return 0, invalidf("query parameter \"days\" must be from 1 to 3650, not %d", n)
	}
	return int(n), nil
}

// handleListFlags serves GET /v1/flags?path=: every flag under path the
// caller may list, summarised, with the environments and applications
// they belong to. It is the dashboard's overview.
func (s *Server) handleListFlags(w http.ResponseWriter, r *http.Request) {
	path, days, err := flagsQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	now := s.now()
	sc, err := s.scanFlags(ctx, path, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principalOf(ctx)
	protected := s.protectedEnvironments(ctx)
	envs := map[string]bool{}
	apps := map[string]bool{}
	flags := make([]*flagSummaryJSON, 0, len(sc.params))
	for _, param := range sc.params {
		f := s.summarize(param, sc, days, now)
		f.Reasons = nil // the codes in Stale say it; /v1/flags/stale explains
		f.Writable = p == nil || p.Decide(auth.ActionPutParameter, param.Name).Allowed
		if f.Env != "" {
			envs[f.Env] = true
			apps[f.App] = true
		}
		flags = append(flags, f)
	}
	envNames := sortedKeys(envs)
	sort.SliceStable(envNames, func(i, j int) bool { return envRank(envNames[i]) < envRank(envNames[j]) })
	envList := make([]environmentJSON, 0, len(envs))
	for _, name := range envNames {
		envList = append(envList, environmentJSON{Name: name, Protected: protected[strings.ToLower(name)]})
	}
	s.writeCompressedJSON(w, r, map[string]any{
		"path": path, "environments": envList, "applications": sortedKeys(apps),
		"usage_tracked": sc.tracked, "stale_days": days, "flags": flags,
	})
}

// handleStaleFlags serves GET /v1/flags/stale?path=&days=: the flags to
// consider retiring, each with its reasons.
func (s *Server) handleStaleFlags(w http.ResponseWriter, r *http.Request) {
	path, days, err := flagsQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	sc, err := s.scanFlags(r.Context(), path, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []*flagSummaryJSON{}
	for _, p := range sc.params {
		if f := s.summarize(p, sc, days, now); len(f.Reasons) > 0 {
			f.Stale = nil
			out = append(out, f)
		}
	}
	s.writeCompressedJSON(w, r, map[string]any{"path": path, "days": days, "usage_tracked": sc.tracked, "flags": out})
}

// protectedEnvironments returns the lower-cased names of
// SettingProtectedEnvironments.
func (s *Server) protectedEnvironments(ctx context.Context) map[string]bool {
	v, ok := s.settings.Get(ctx, SettingProtectedEnvironments)
	if !ok {
		v = DefaultProtectedEnvironments
	}
	out := map[string]bool{}
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out[strings.ToLower(e)] = true
		}
	}
	return out
}

// envRank orders environments the way changes travel through them, for
// the overview's columns: development first, production last, and names
// it does not know between staging and production, by name.
func envRank(name string) int {
	switch strings.ToLower(name) {
	case "local", "dev", "develop", "development", "sandbox":
		return 0
	case "test", "testing", "qa", "ci", "int", "integration":
		return 1
	case "stage", "staging", "preprod", "pre-prod", "uat":
		return 2
	case "canary", "beta":
		return 4
	case "prod", "production", "live", "prd":
		return 5
	}
	return 3
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writeCompressedJSON is writeJSON with status 200, gzipped when the
// client accepts it and the body is worth it: listings for the dashboard
// run to hundreds of kilobytes of repetitive JSON.
func (s *Server) writeCompressedJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Add("Vary", "Accept-Encoding")
	if len(b) >= 1024 && acceptsGzip(r) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(b)
		zw.Close()
		b = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, weight, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			w := strings.ReplaceAll(weight, " ", "")
			return w != "q=0" && w != "q=0.0" && w != "q=0.00" && w != "q=0.000"
		}
	}
	return false
}
