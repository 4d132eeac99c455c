package http

// This file serves the AWS Systems Manager Parameter Store protocol (JSON
// 1.1: POST / with X-Amz-Target: AmazonSSM.<Operation>) from the same store
// as the native API, so that the aws CLI, boto3 and the AWS SDKs work
// against Vane unchanged. The operations themselves are in ssm_parameter.go;
// doc/aws-compat.md lists what is supported and how Vane differs from AWS.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vanehq/vane"
)

// SSM wire constants.
const (
	ssmTargetPrefix = "AmazonSSM."
	ssmContentType  = "application/x-amz-json-1.1"
)

// Route labels (metrics, access log) of SSM requests: one per operation, so
// that dashboards tell GetParameter from PutParameter although both are
// POST /. The set is fixed: an unknown target never becomes a label.
const (
	ssmRoutePrefix  = "POST / "
	ssmRouteUnknown = "POST / (unknown target)"
)

// SSM error names that are not vane errors: failures of the protocol itself
// or of SSM features Vane does not have.
const (
	ssmUnknownOperation    = "UnknownOperationException"
	ssmSerialization       = "SerializationException"
	ssmInvalidResourceType = "InvalidResourceType"
	ssmInternalServerError = "InternalServerError"
	ssmValidation          = "ValidationException"
)

// ssmHandler serves the SSM protocol for one Server. Server fields must not
// change once the handler is built, so the ARN prefix is computed once.
type ssmHandler struct {
	s         *Server
	tokens    *pageTokens
	arnPrefix string // arn:aws:ssm:REGION:ACCOUNT:parameter/
	account   string
}

// ssmOperation is one SSM operation: route is its metrics label, serve
// decodes the request and returns the response value.
type ssmOperation struct {
	route string
	serve func(h *ssmHandler, w http.ResponseWriter, r *http.Request) (any, error)
}

// ssmOp adapts a typed operation to ssmOperation: it decodes the body into
// a new Req.
func ssmOp[Req any](name string, fn func(h *ssmHandler, r *http.Request, req *Req) (any, error)) ssmOperation {
	return ssmOperation{
		route: ssmRoutePrefix + ssmTargetPrefix + name,
		serve: func(h *ssmHandler, w http.ResponseWriter, r *http.Request) (any, error) {
			var req Req
			if err := decodeSSM(w, r, &req); err != nil {
				return nil, err
			}
			return fn(h, r, &req)
		},
	}
}

// ssmOperations are the operations served, by X-Amz-Target suffix. Any
// other target is UnknownOperationException.
var ssmOperations = map[string]ssmOperation{
	"PutParameter":            ssmOp("PutParameter", (*ssmHandler).putParameter),
	"GetParameter":            ssmOp("GetParameter", (*ssmHandler).getParameter),
	"GetParameters":           ssmOp("GetParameters", (*ssmHandler).getParameters),
	"GetParametersByPath":     ssmOp("GetParametersByPath", (*ssmHandler).getParametersByPath),
	"DeleteParameter":         ssmOp("DeleteParameter", (*ssmHandler).deleteParameter),
	"DeleteParameters":        ssmOp("DeleteParameters", (*ssmHandler).deleteParameters),
	"DescribeParameters":      ssmOp("DescribeParameters", (*ssmHandler).describeParameters),
	"GetParameterHistory":     ssmOp("GetParameterHistory", (*ssmHandler).getParameterHistory),
	"LabelParameterVersion":   ssmOp("LabelParameterVersion", (*ssmHandler).labelParameterVersion),
	"UnlabelParameterVersion": ssmOp("UnlabelParameterVersion", (*ssmHandler).unlabelParameterVersion),
	"AddTagsToResource":       ssmOp("AddTagsToResource", (*ssmHandler).addTagsToResource),
	"ListTagsForResource":     ssmOp("ListTagsForResource", (*ssmHandler).listTagsForResource),
	"RemoveTagsFromResource":  ssmOp("RemoveTagsFromResource", (*ssmHandler).removeTagsFromResource),
}

// registerSSMRoutes mounts the SSM protocol on POST /. The pattern "/{$}"
// matches the root only: a bare "/" would be a subtree matching every path,
// and turn each 404 or 405 of the native API into an SSM error.
func (s *Server) registerSSMRoutes(mux *http.ServeMux) {
	region, account := s.Region, s.Account
	if region == "" {
		region = vane.DefaultRegion
	}
	if account == "" {
		account = vane.DefaultAccount
	}
	h := &ssmHandler{s: s, tokens: newPageTokens(s.TokenKey), arnPrefix: vane.ARNPrefix(region, account), account: account}
	mux.HandleFunc("POST /{$}", h.handleSSM)
}

// handleSSM serves POST /: it dispatches on X-Amz-Target. The request id
// goes out as x-amzn-RequestId as well, where AWS clients look for it.
func (h *ssmHandler) handleSSM(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	if id := header["X-Request-Id"]; len(id) == 1 {
		header["X-Amzn-Requestid"] = id // the middleware's value, shared: it is the same id
	} else {
		header.Set("X-Amzn-RequestId", RequestID(r.Context()))
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := ssmOperations[strings.TrimPrefix(target, ssmTargetPrefix)]
	if !ok || !strings.HasPrefix(target, ssmTargetPrefix) {
		// The middleware labels metrics with r.Pattern, which ServeMux set
		// on this same request; a fixed label keeps the set bounded.
		r.Pattern = ssmRouteUnknown
		h.writeError(w, r, unknownOperation(target))
		return
	}
	r.Pattern = op.route
	resp, err := op.serve(h, w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeSSM(w, http.StatusOK, resp)
}

// unknownOperation is the error for a target Vane does not serve.
func unknownOperation(target string) error {
	switch {
	case target == "":
		return &ssmError{ssmUnknownOperation, "the X-Amz-Target header is missing: SSM requests name their operation as X-Amz-Target: AmazonSSM.<Operation>"}
	case !strings.HasPrefix(target, ssmTargetPrefix):
		return &ssmError{ssmUnknownOperation, fmt.Sprintf("unknown target %q: this endpoint serves AWS Systems Manager (AmazonSSM.<Operation>) and Vane's native API under /v1", truncateInput(target))}
	}
	return &ssmError{ssmUnknownOperation, fmt.Sprintf("operation %q is not supported: Vane serves the Parameter Store operations (see doc/aws-compat.md)", truncateInput(strings.TrimPrefix(target, ssmTargetPrefix)))}
}

// truncateInput keeps echoed client input short.
func truncateInput(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "..."
		}
	}
	return s[:max] + "..."
}

// ssmError is an SSM error with no vane code: a failure of the protocol
// (unknown operation, undecodable body) or a feature Vane lacks. It is
// always a client error, HTTP 400.
type ssmError struct {
	Type    string
	Message string
}

func (e *ssmError) Error() string { return e.Type + ": " + e.Message }

// ssmErrorKey selects a row of ssmErrors: a vane code and detail, or a
// code alone (detail "") for the code's default.
type ssmErrorKey struct{ code, detail string }

// ssmErrorRow is an SSM error name (__type) with its HTTP status.
type ssmErrorRow struct {
	Type   string
	Status int
}

// ssmErrors maps vane errors to SSM errors. It is the only place vane codes
// and details become SSM error names: a code and detail pair is looked up
// first, then the code alone; an error that is not a vane error, or has an
// unknown code, is InternalServerError. Every name but InternalServerError
// is a 400, as AWS sends them. An unavailable store is served as a 503
// InternalServerError: the AWS SDKs, boto3 and the CLI retry 500, 502, 503
// and 504 whatever the name, and InternalServerError is an error every
// operation declares, so typed clients still recognize it.
var ssmErrors = map[ssmErrorKey]ssmErrorRow{
	{vane.ENOTFOUND, vane.DetailParameterNotFound}:        {"ParameterNotFound", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidPolicyType}:         {"InvalidPolicyTypeException", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidPolicyAttribute}:    {"InvalidPolicyAttributeException", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailPoliciesLimitExceeded}:     {"PoliciesLimitExceededException", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailIncompatiblePolicy}:        {"IncompatiblePolicyException", http.StatusBadRequest},
	{vane.ENOTFOUND, vane.DetailParameterVersionNotFound}: {"ParameterVersionNotFound", http.StatusBadRequest},
	{vane.ENOTFOUND, vane.DetailInvalidResourceID}:        {"InvalidResourceId", http.StatusBadRequest},
	{vane.ENOTFOUND, ""}:                                  {"ParameterNotFound", http.StatusBadRequest},

	{vane.ECONFLICT, vane.DetailParameterAlreadyExists}: {"ParameterAlreadyExists", http.StatusBadRequest},
	// SSM requests carry no expected version, so a mismatch can only be
	// a concurrent write: AWS's name for that is TooManyUpdates.
	{vane.ECONFLICT, vane.DetailVersionMismatch}: {"TooManyUpdates", http.StatusBadRequest},
	{vane.ECONFLICT, ""}:                         {"TooManyUpdates", http.StatusBadRequest},

	{vane.ELIMIT, vane.DetailParameterMaxVersionLimitExceeded}:   {"ParameterMaxVersionLimitExceeded", http.StatusBadRequest},
	{vane.ELIMIT, vane.DetailParameterVersionLabelLimitExceeded}: {"ParameterVersionLabelLimitExceeded", http.StatusBadRequest},
	{vane.ELIMIT, vane.DetailTooManyTags}:                        {"TooManyTagsError", http.StatusBadRequest},
	{vane.ELIMIT, ""}:                                            {ssmValidation, http.StatusBadRequest},

	{vane.EINVALID, vane.DetailParameterPatternMismatch}:    {"ParameterPatternMismatchException", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidAllowedPattern}:       {"InvalidAllowedPatternException", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailHierarchyLevelLimitExceeded}: {"HierarchyLevelLimitExceededException", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailUnsupportedParameterType}:    {"UnsupportedParameterType", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidNextToken}:            {"InvalidNextToken", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidFilterKey}:            {"InvalidFilterKey", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidFilterOption}:         {"InvalidFilterOption", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidFilterValue}:          {"InvalidFilterValue", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailInvalidKeyID}:                {"InvalidKeyId", http.StatusBadRequest},
	{vane.EINVALID, vane.DetailValidation}:                  {ssmValidation, http.StatusBadRequest},
	{vane.EINVALID, ""}:                                     {ssmValidation, http.StatusBadRequest},

	// A value longer than its tier allows, or a body over MaxBodyBytes.
	{vane.ETOOLARGE, ""}: {ssmValidation, http.StatusBadRequest},

	{vane.EFORBIDDEN, vane.DetailReservedName}: {"AccessDeniedException", http.StatusBadRequest},
	{vane.EFORBIDDEN, ""}:                      {"AccessDeniedException", http.StatusBadRequest},
	// AWS's name for a credential it does not know.
	{vane.EUNAUTHORIZED, ""}: {"UnrecognizedClientException", http.StatusBadRequest},

	{vane.EUNAVAILABLE, ""}: {ssmInternalServerError, http.StatusServiceUnavailable},
	// AWS SDKs back off and retry on this type.
	{vane.ETHROTTLED, ""}: {"ThrottlingException", http.StatusBadRequest},
	{vane.EINTERNAL, ""}:  {ssmInternalServerError, http.StatusInternalServerError},
	// No SSM operation reads the change log, so none can meet a compacted
	// one; if one ever did, it would be the server's failure.
	{vane.EGONE, ""}: {ssmInternalServerError, http.StatusInternalServerError},
}

// ssmErrorFor returns the SSM error name and status of a vane error.
func ssmErrorFor(err error) ssmErrorRow {
	code, detail := vane.ErrorCode(err), vane.ErrorDetail(err)
	if row, ok := ssmErrors[ssmErrorKey{code, detail}]; ok {
		return row
	}
	if row, ok := ssmErrors[ssmErrorKey{code, ""}]; ok {
		return row
	}
	return ssmErrors[ssmErrorKey{vane.EINTERNAL, ""}]
}

// ssmErrorBody is the error shape of the JSON protocols. SSM's error shapes
// name their message member either "message" or "Message"; clients read
// either, so both are sent.
type ssmErrorBody struct {
	Type     string `json:"__type"`
	Message  string `json:"message"`
	Message2 string `json:"Message"`
}

// writeError writes err in the SSM error shape. The name goes in __type
// and in X-Amzn-ErrorType, which aws-sdk-go-v2 reads before the body.
// Internal errors are logged with the request id and shown only as a
// generic message.
func (h *ssmHandler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var row ssmErrorRow
	var msg string
	var pe *ssmError
	if errors.As(err, &pe) {
		row, msg = ssmErrorRow{pe.Type, http.StatusBadRequest}, pe.Message
	} else {
		row, msg = ssmErrorFor(err), vane.ErrorMessage(err)
	}
	if row.Status == http.StatusInternalServerError {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn // most likely only the client going away
		}
		h.s.logger().LogAttrs(r.Context(), level, "internal error",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.String("error", err.Error()))
		msg = vane.ErrorMessage(errors.New("hidden"))
	}
	w.Header().Set("X-Amzn-ErrorType", row.Type)
	writeSSM(w, row.Status, &ssmErrorBody{Type: row.Type, Message: msg, Message2: msg})
}

// writeSSM writes v as an SSM JSON response.
func writeSSM(w http.ResponseWriter, status int, v any) {
	buf := getBuffer()
	defer putBuffer(buf)
	b, err := marshal(*buf, v)
	*buf = b
	if err != nil {
		// Only a bug can get here: every response type is marshalable.
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalServerError","message":"Internal error.","Message":"Internal error."}`)
		w.Header().Set("X-Amzn-ErrorType", ssmInternalServerError)
	}
	h := w.Header()
	h["Content-Type"] = ssmContentTypeHeader
	setContentLength(h, len(b))
	w.WriteHeader(status)
	w.Write(b)
}

// ssmContentTypeHeader is the Content-Type header value of SSM
// responses, shared (never modified) so that setting it allocates nothing.
var ssmContentTypeHeader = []string{ssmContentType}

// decodeSSM reads the request body, at most MaxBodyBytes of it, into v, a
// pointer to a request struct. Member names are matched as encoding/json
// does, and unknown members are ignored as AWS ignores them, so requests
// from SDKs newer than this server still work. An empty body is an empty
// request. Malformed JSON and wrong JSON types are SerializationException,
// as AWS answers them, with a message naming the member.
func decodeSSM(w http.ResponseWriter, r *http.Request, v any) error {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) == nil {
		defer rc.SetReadDeadline(time.Time{})
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || errors.Is(err, os.ErrDeadlineExceeded) {
			return jsonError(err)
		}
		return invalidf("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	// Unmarshal accepts exactly what the decoder below accepts, one value
	// and nothing after it, without the decoder's buffer; the decoder
	// words the errors.
	if json.Unmarshal(body, v) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return &ssmError{ssmSerialization, vane.ErrorMessage(jsonError(err))}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &ssmError{ssmSerialization, "request body must hold a single JSON object"}
	}
	return nil
}

// ssmCheck collects a request's violations of the constraints of the SSM
// service model that the store does not check itself (required members,
// list sizes, page sizes), and reports them all at once, worded as AWS
// words them: "1 validation error detected: Value '11' at 'maxResults'
// failed to satisfy constraint: Member must have value less than or equal
// to 10". Member names are camelCase there, as in AWS's messages. String
// values are not echoed: they may be secrets.
type ssmCheck struct{ errs []string }

func (c *ssmCheck) fail(value, field, constraint string) {
	if value != "" {
		value += " "
	}
	c.errs = append(c.errs, fmt.Sprintf("Value %sat '%s' failed to satisfy constraint: Member must %s", value, field, constraint))
}

// required checks that a required member is present.
func (c *ssmCheck) required(field string, present bool) {
	if !present {
		c.fail("null", field, "not be null")
	}
}

// length checks the length in characters of a string member.
func (c *ssmCheck) length(field, s string, min, max int) {
	switch n := utf8.RuneCountInString(s); {
	case n < min:
		c.fail("", field, fmt.Sprintf("have length greater than or equal to %d", min))
	case max > 0 && n > max:
		c.fail("", field, fmt.Sprintf("have length less than or equal to %d", max))
	}
}

// count checks the number of members of a list.
func (c *ssmCheck) count(field string, n, min, max int) {
	switch {
	case n < min:
		c.fail(fmt.Sprintf("'%d members'", n), field, fmt.Sprintf("have length greater than or equal to %d", min))
	case max > 0 && n > max:
		c.fail(fmt.Sprintf("'%d members'", n), field, fmt.Sprintf("have length less than or equal to %d", max))
	}
}

// number checks an optional integer member against its range.
func (c *ssmCheck) number(field string, v *int64, min, max int64) {
	switch {
	case v == nil:
	case *v < min:
		c.fail(fmt.Sprintf("'%d'", *v), field, fmt.Sprintf("have value greater than or equal to %d", min))
	case max > 0 && *v > max:
		c.fail(fmt.Sprintf("'%d'", *v), field, fmt.Sprintf("have value less than or equal to %d", max))
	}
}

// enum checks a string member against its allowed values.
func (c *ssmCheck) enum(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail("'"+truncateInput(v)+"'", field, "satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// maxReported bounds the violations a message lists: a request with a
// thousand bad tags gets a readable error.
const maxReported = 10

// err returns the collected violations as one ValidationException, or nil.
func (c *ssmCheck) err() error {
	switch n := len(c.errs); {
	case n == 0:
		return nil
	case n == 1:
		return invalidf("1 validation error detected: %s", c.errs[0])
	case n > maxReported:
		return invalidf("%d validation errors detected: %s; and %d more", n, strings.Join(c.errs[:maxReported], "; "), n-maxReported)
	}
	return invalidf("%d validation errors detected: %s", len(c.errs), strings.Join(c.errs, "; "))
}

// epochTime is a timestamp as the JSON protocols send it: seconds since
// the epoch as a JSON number, with milliseconds (1700000000.123).
type epochTime time.Time

// IsZero reports whether the time is unset, for the omitzero option.
func (t epochTime) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON implements json.Marshaler.
func (t epochTime) MarshalJSON() ([]byte, error) { return t.appendJSON(nil) }

func (t epochTime) appendJSON(b []byte) ([]byte, error) {
	return strconv.AppendFloat(b, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}
