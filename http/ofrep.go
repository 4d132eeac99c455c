package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
	"github.com/vanehq/vane/flag"
)

// The OpenFeature Remote Evaluation Protocol (OFREP) routes. A flag key is
// a name relative to Server.OFREPBase: with the base
// /myapp/prod/features/, the key "new-checkout" is the flag
// /myapp/prod/features/new-checkout. Keys may hold slashes.
const (
	ofrepSingle = "POST /ofrep/v1/evaluate/flags/{key...}"
	ofrepBulk   = "POST /ofrep/v1/evaluate/flags"
	ofrepEvents = "GET /ofrep/v1/events"
	ofrepConfig = "GET /ofrep/v1/configuration"
)

// OFREP error codes (OpenFeature's).
const (
	ofrepFlagNotFound   = "FLAG_NOT_FOUND"
	ofrepParseError     = "PARSE_ERROR"
	ofrepInvalidContext = "INVALID_CONTEXT"
	ofrepGeneral        = "GENERAL"
)

// ofrepInactivityDelay is what the bulk response tells clients about
// closing the event stream when inactive.
const ofrepInactivityDelay = 120

type ofrepRequest struct {
	Context map[string]any `json:"context"`
}

// ofrepEvaluation is an evaluation success or failure of OFREP.
type ofrepEvaluation struct {
	Key          string         `json:"key"`
	Value        any            `json:"value,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	Variant      string         `json:"variant,omitempty"`
	Metadata     map[string]any `json:"metadata,omitempty"`
	ErrorCode    string         `json:"errorCode,omitempty"`
	ErrorDetails string         `json:"errorDetails,omitempty"`
}

type ofrepEventStream struct {
	Type               string `json:"type"`
	URL                string `json:"url"`
	InactivityDelaySec int    `json:"inactivityDelaySec"`
}

type ofrepBulkResponse struct {
	Flags        []*ofrepEvaluation `json:"flags"`
	EventStreams []ofrepEventStream `json:"eventStreams,omitempty"`

	// n and each stand for Flags in appendJSON, as in bulkEvaluationJSON.
	n    int
	each func(i int, e *ofrepEvaluation)
}

// ofrepFailure is a request-level OFREP error.
type ofrepFailure struct {
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorDetails string `json:"errorDetails"`
}

// registerOFREPRoutes adds the OFREP routes.
func (s *Server) registerOFREPRoutes(mux *http.ServeMux) {
	mux.HandleFunc(ofrepSingle, s.handleOFREPSingle)
	mux.HandleFunc(ofrepBulk, s.handleOFREPBulk)
	mux.HandleFunc(ofrepEvents, s.handleOFREPEvents)
	mux.HandleFunc(ofrepConfig, s.handleOFREPConfiguration)
}

// ofrepBase returns the canonical base path of OFREP keys.
func (s *Server) ofrepBase() string {
	if s.OFREPBase == "" {
		return "/"
	}
	return s.OFREPBase
}

// readOFREPRequest decodes an optional {"context": {...}} body; the error
// is an OFREP INVALID_CONTEXT message.
func readOFREPRequest(w http.ResponseWriter, r *http.Request) (flag.Context, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("the request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return flag.Context{}, nil
	}
	if _, ctx, ok := parseEvalBody(b, false); ok {
		if ctx == nil {
			ctx = flag.Context{}
		}
		return ctx, nil
	}
	var req struct {
		Context flag.Context `json:"context"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "context" {
				return nil, errors.New("\"context\" must be a JSON object")
			}
			return nil, fmt.Errorf("the request body must be a JSON object, not %s", typeErr.Value)
		}
		return nil, fmt.Errorf("the request body is not a JSON object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if req.Context == nil {
		req.Context = flag.Context{}
	}
	return req.Context, nil
}

// ofrepEvaluate evaluates one flag parameter for OFREP into out and
// returns the status of a single evaluation.
func (s *Server) ofrepEvaluate(out *ofrepEvaluation, key string, p *vane.Parameter, ctx flag.Context, now time.Time) int {
	var e evaluationJSON
	s.evaluate(&e, p, ctx, now)
	*out = ofrepEvaluation{Key: key}
	if e.Value == nil {
		out.ErrorCode, out.ErrorDetails = e.ErrorCode, e.ErrorMessage
		if out.ErrorCode == "" {
			out.ErrorCode = ofrepGeneral
		}
		return http.StatusBadRequest
	}
	out.Value, out.Reason, out.Variant = e.Value, string(e.Reason), e.Variant
	out.Metadata = scalarMetadata(e.Metadata)
	return http.StatusOK
}

// scalarMetadata keeps the metadata entries OFREP allows: booleans,
// strings and numbers.
func scalarMetadata(m map[string]any) map[string]any {
	var out map[string]any
	for k, v := range m {
		switch v.(type) {
		case bool, string, float64:
			if out == nil {
				out = make(map[string]any, len(m))
			}
			out[k] = v
		}
	}
	return out
}

// handleOFREPSingle serves POST /ofrep/v1/evaluate/flags/{key}.
func (s *Server) handleOFREPSingle(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	ctx, err := readOFREPRequest(w, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &ofrepEvaluation{Key: key, ErrorCode: ofrepInvalidContext, ErrorDetails: err.Error()})
		return
	}
	name := s.ofrepBase() + strings.TrimPrefix(key, "/")
	if !flag.IsFlagName(name) {
		writeJSON(w, http.StatusNotFound, &ofrepEvaluation{Key: key, ErrorCode: ofrepFlagNotFound,
			ErrorDetails: fmt.Sprintf("%s is not a flag (flags are under a \"features\" path segment)", name)})
		return
	}
	if err := s.allow(r.Context(), auth.ActionEvaluate, name); err != nil {
		s.writeOFREPError(w, r, err)
		return
	}
	p, err := s.Store.Get(r.Context(), name)
	if err != nil {
		if code := vane.ErrorCode(err); code == vane.ENOTFOUND || code == vane.EINVALID {
			writeJSON(w, http.StatusNotFound, &ofrepEvaluation{Key: key, ErrorCode: ofrepFlagNotFound, ErrorDetails: "no flag " + name})
		} else {
			s.writeOFREPError(w, r, err)
		}
		return
	}
	var out ofrepEvaluation
	status := s.ofrepEvaluate(&out, key, p, ctx, s.now())
	writeJSON(w, status, &out)
}

// handleOFREPBulk serves POST /ofrep/v1/evaluate/flags: every flag under
// the base, with a strong ETag of the response (a 304 when If-None-Match
// holds it) and the event stream to follow.
func (s *Server) handleOFREPBulk(w http.ResponseWriter, r *http.Request) {
	ctx, err := readOFREPRequest(w, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &ofrepFailure{ErrorCode: ofrepInvalidContext, ErrorDetails: err.Error()})
		return
	}
	base := s.ofrepBase()
	flags, err := s.flagsUnder(r.Context(), base)
	if err != nil {
		s.writeOFREPError(w, r, err)
		return
	}
	flags = s.filterParameters(r.Context(), auth.ActionEvaluate, flags)
	now := s.now()
	out := &ofrepBulkResponse{n: len(flags), each: func(i int, e *ofrepEvaluation) {
		s.ofrepEvaluate(e, strings.TrimPrefix(flags[i].Name, base), flags[i], ctx, now)
	}}
	if _, ok := vane.StoreAs[Subscriber](s.Store); ok {
		out.EventStreams = []ofrepEventStream{{Type: "sse", URL: requestOrigin(r) + "/ofrep/v1/events", InactivityDelaySec: ofrepInactivityDelay}}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	body, err := marshal(*buf, out)
	*buf = body
	if err != nil {
		s.writeOFREPError(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("ETag", tag)
	h["Cache-Control"] = privateNoCache
	if noneMatch(r.Header.Values("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body = append(body, '\n')
	*buf = body
	h["Content-Type"] = jsonContentType
	setContentLength(h, len(body))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// privateNoCache is the shared Cache-Control value of bulk evaluations.
var privateNoCache = []string{"private, no-cache"}

// requestOrigin returns the scheme and host the client used.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleOFREPConfiguration serves GET /ofrep/v1/configuration.
func (s *Server) handleOFREPConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "vane",
		"capabilities": map[string]any{
			"cacheInvalidation": map[string]any{"polling": map[string]any{"enabled": true, "minPollingIntervalMs": 1000}},
			"flagEvaluation":    map[string]any{"supportedTypes": []string{"boolean", "string", "int", "float", "object"}},
		},
	})
}

// writeOFREPError writes a store failure in OFREP's general error shape.
func (s *Server) writeOFREPError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := "internal error"
	if vane.ErrorCode(err) == vane.EFORBIDDEN {
		status, msg = http.StatusForbidden, vane.ErrorMessage(err)
	} else if vane.ErrorCode(err) == vane.EUNAVAILABLE {
		status, msg = http.StatusServiceUnavailable, vane.ErrorMessage(err)
	} else {
		s.logger().Error("ofrep", "request_id", RequestID(r.Context()), "error", err.Error())
	}
	writeJSON(w, status, &ofrepFailure{ErrorCode: ofrepGeneral, ErrorDetails: msg})
}

// handleOFREPEvents serves GET /ofrep/v1/events: Server-Sent Events with
// one {"type":"refetchEvaluation"} message per change to a flag under the
// base, heartbeats, and a last refetch before the stream ends when the
// watcher falls behind.
func (s *Server) handleOFREPEvents(w http.ResponseWriter, r *http.Request) {
	sub, ok := vane.StoreAs[Subscriber](s.Store)
	if !ok {
		writeJSON(w, http.StatusServiceUnavailable, &ofrepFailure{ErrorCode: ofrepGeneral, ErrorDetails: "this server does not run the in-memory index that event streams need"})
		return
	}
	opts := s.watchOptions()
	ch, _, cancel := sub.Subscribe(opts.Buffer)
	defer cancel()
	base := s.ofrepBase()
	visible := s.visible(r.Context(), auth.ActionEvaluate)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	refetch := func(id int64) bool {
		data, _ := json.Marshal(map[string]any{"type": "refetchEvaluation", "lastModified": s.now().Unix()})
		if _, err := fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", id, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	tick := time.NewTicker(opts.Heartbeat)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case c, ok := <-ch:
			if !ok {
				refetch(last)
				return
			}
			last = c.Seq
			if vane.PrefixMatch(c.Name, base) && flag.IsFlagName(c.Name) && (visible == nil || visible(c.Name)) && !refetch(c.Seq) {
				return
			}
		}
	}
}
