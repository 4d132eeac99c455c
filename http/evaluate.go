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

	// n and each, when each is set, stand for Flags in appendJSON: each
	// fills in evaluation i of n as it is encoded, so a bulk evaluation
	// holds one result at a time rather than a slice of them.
	n    int
	each func(i int, e *evaluationJSON)
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
	writeJSON(w, http.StatusOK, &bulkEvaluationJSON{Path: path, n: len(flags), each: func(i int, e *evaluationJSON) {
		s.evaluate(e, flags[i], req.Context, now)
	}})
}

// flagsUnder returns the latest version of every flag under path. The
// lists are kept until the next change, when the store has an index (with
// a change-log sequence): services evaluate the same paths over and over
// between changes. Callers must not modify the list.
func (s *Server) flagsUnder(ctx context.Context, path string) ([]*vane.Parameter, error) {
	seqer, ok := vane.StoreAs[interface{ Seq() int64 }](s.Store)
	if !ok {
		return vane.AllUnder(ctx, s.Store, path, isFlag)
	}
	// The sequence is read first, so a list is never older than the
	// sequence it is kept under.
	seq := seqer.Seq()
	if list, ok := s.flagLists.get(path, seq); ok {
		return list, nil
	}
	list, err := vane.AllUnder(ctx, s.Store, path, isFlag)
	if err == nil {
		s.flagLists.put(path, seq, list)
	}
	return list, err
}

// flagLists holds the flags under each evaluated path as of one
// change-log sequence.
type flagLists struct {
	mu     sync.Mutex
	seq    int64
	byPath map[string][]*vane.Parameter
}

// maxFlagLists bounds how many paths' lists are kept.
const maxFlagLists = 256

func (c *flagLists) get(path string, seq int64) ([]*vane.Parameter, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq != seq {
		return nil, false
	}
	list, ok := c.byPath[path]
	return list, ok
}

func (c *flagLists) put(path string, seq int64, list []*vane.Parameter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case seq < c.seq:
		return // a newer sequence's lists are kept already
	case seq > c.seq || len(c.byPath) >= maxFlagLists:
		c.seq, c.byPath = seq, make(map[string][]*vane.Parameter)
	}
	c.byPath[path] = list
}

// isFlag reports whether a parameter is a flag, by its name.
func isFlag(p *vane.Parameter) bool { return flag.IsFlagName(p.Name) }
