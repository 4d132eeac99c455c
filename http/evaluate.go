package http

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// flagCache holds compiled flags by name, each for the version it was
// compiled from, so a flag is compiled once per change, not per request.
type flagCache struct {
	m sync.Map // name → *compiledFlag
}

type compiledFlag struct {
	version int64
	flag    *flag.Flag
	err     error
	tally   *flag.Tally // nil when usage is not tracked
}

// compile returns the compiled form of p, compiling it if p is a version
// the cache has not seen; r, if not nil, counts its evaluations.
func (c *flagCache) compile(p *vane.Parameter, r *flag.Recorder) *compiledFlag {
	if v, ok := c.m.Load(p.Name); ok {
		if cf := v.(*compiledFlag); cf.version == p.Version {
			return cf
		}
	}
	cf := &compiledFlag{version: p.Version}
	if p.Type != vane.TypeString {
		cf.err = &flag.Error{Path: "$", Message: "a flag must be a String parameter, not " + string(p.Type)}
	} else {
		cf.flag, cf.err = flag.Parse(p.Name, p.Value)
	}
	if r != nil {
		cf.tally = r.Tally(p.Name, cf.flag)
	}
	c.m.Store(p.Name, cf)
	return cf
}

// evaluateRequest is the body of POST /v1/evaluate and
// /v1/evaluate/{name...}.
type evaluateRequest struct {
	Path    string       `json:"path"`
	Context flag.Context `json:"context"`
}

// evaluationJSON is the result of evaluating one flag.
type evaluationJSON struct {
	Name         string         `json:"name"`
	Value        any            `json:"value"`
	Variant      string         `json:"variant,omitempty"`
	Reason       flag.Reason    `json:"reason"`
	Rule         string         `json:"rule,omitempty"`
	Metadata     map[string]any `json:"metadata,omitempty"`
	Version      int64          `json:"version"`
	ErrorCode    string         `json:"error_code,omitempty"`
	ErrorMessage string         `json:"error_message,omitempty"`
}

type bulkEvaluationJSON struct {
	Path  string            `json:"path"`
	Flags []*evaluationJSON `json:"flags"`
}

// decodeEvaluateRequest is decodeJSON for evaluation bodies, which services
// send on every request: the common shape is read by parseEvalBody, and
// anything else by encoding/json as decodeJSON reads it.
func decodeEvaluateRequest(w http.ResponseWriter, r *http.Request, req *evaluateRequest) error {
	defer bodyDeadline(w)()
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	if path, ctx, ok := parseEvalBody(b, true); ok {
		req.Path, req.Context = path, ctx
		return nil
	}
	return decodeJSONFrom(bytes.NewReader(b), req)
}

// registerEvaluateRoutes adds the flag evaluation routes.
func (s *Server) registerEvaluateRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/evaluate/{name...}", s.named(auth.ActionEvaluate, s.handleEvaluate))
	mux.HandleFunc("POST /v1/evaluate", s.handleEvaluateAll)
}

// compiled returns the compiled form of a flag parameter, from the cache
// that evaluations share.
func (s *Server) compiled(p *vane.Parameter) *compiledFlag {
	var rec *flag.Recorder
	if s.Usage != nil {
		rec = &s.usage
	}
	return s.flags.compile(p, rec)
}

// evaluate evaluates one flag parameter at time now into out.
func (s *Server) evaluate(out *evaluationJSON, p *vane.Parameter, ctx flag.Context, now time.Time) {
	cf := s.compiled(p)
	*out = evaluationJSON{Name: p.Name, Version: p.Version}
	if cf.err != nil {
		out.Reason, out.ErrorCode = flag.ReasonError, flag.ErrParse
		out.ErrorMessage = "the stored flag document is invalid: " + cf.err.Error()
	} else {
		r := cf.flag.Evaluate(ctx, now)
		out.Value, out.Variant, out.Reason, out.Rule, out.Metadata = r.Value, r.Variant, r.Reason, r.Rule, r.Metadata
		out.ErrorCode = r.ErrorCode
		if r.ErrorCode == flag.ErrTargetingKeyMissing {
			out.ErrorMessage = "the flag has a percentage rollout and the context has no targetingKey (or user_id, or its bucket_by attribute)"
		}
	}
	if cf.tally != nil {
		cf.tally.AddResult(out.Reason, out.Variant)
	}
}

// handleEvaluate serves POST /v1/evaluate/{name...}: one flag, evaluated
// for the context in the body.
func (s *Server) handleEvaluate(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req evaluateRequest
	if r.ContentLength != 0 { // the body, and so the context, is optional
		if err := decodeEvaluateRequest(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if req.Path != "" {
		s.writeError(w, r, invalidf("field \"path\" is for POST /v1/evaluate (every flag under a path); this route evaluates the flag its URL names"))
		return
	}
	name := pathName(r)
	if !flag.IsFlagName(name) {
		s.writeError(w, r, invalidf("%s is not a flag: flags are parameters under a \"features\" path segment, such as /myapp/prod/features/new-checkout", name))
		return
	}
	p, err := s.Store.Get(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out evaluationJSON
	s.evaluate(&out, p, req.Context, s.now())
	writeJSON(w, http.StatusOK, &out)
}

// handleEvaluateAll serves POST /v1/evaluate: every flag under the path in
// the body, evaluated for one context at one instant.
func (s *Server) handleEvaluateAll(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req evaluateRequest
	if err := decodeEvaluateRequest(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Path == "" {
		s.writeError(w, r, invalidf("field \"path\" is required: the path whose flags to evaluate, such as /myapp/prod/"))
		return
	}
	path, err := vane.ValidatePath(req.Path)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	flags, err := s.flagsUnder(r.Context(), path)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	flags = s.filterParameters(r.Context(), auth.ActionEvaluate, flags)
	now := s.now()
	// One allocation for every result, not one each.
	results := make([]evaluationJSON, len(flags))
	out := &bulkEvaluationJSON{Path: path, Flags: make([]*evaluationJSON, len(flags))}
	for i, p := range flags {
		s.evaluate(&results[i], p, req.Context, now)
		out.Flags[i] = &results[i]
	}
	writeJSON(w, http.StatusOK, out)
}

// flagsUnder returns the latest version of every flag under path.
func (s *Server) flagsUnder(ctx context.Context, path string) ([]*vane.Parameter, error) {
	return vane.AllUnder(ctx, s.Store, path, isFlag)
}

// isFlag reports whether a parameter is a flag, by its name.
func isFlag(p *vane.Parameter) bool { return flag.IsFlagName(p.Name) }
