// Package http is Vane's HTTP server. It serves the native REST API under
// /v1 (see doc/api.md), the health and readiness probes and the Prometheus
// metrics, on the standard library's ServeMux.
package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vanehq/vane"
)

// MaxBodyBytes is the largest request body the server reads; larger ones
// fail with 413 too_large.
const MaxBodyBytes = 1 << 20

// errorStatus maps each vane error code to its HTTP status. It is the only
// place codes become statuses; an unknown code is served as 500.
var errorStatus = map[string]int{
	vane.EINVALID:      http.StatusBadRequest,
	vane.EUNAUTHORIZED: http.StatusUnauthorized,
	vane.EFORBIDDEN:    http.StatusForbidden,
	vane.ENOTFOUND:     http.StatusNotFound,
	vane.ECONFLICT:     http.StatusConflict,
	vane.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	vane.ELIMIT:        http.StatusUnprocessableEntity,
	vane.EINTERNAL:     http.StatusInternalServerError,
	vane.EUNAVAILABLE:  http.StatusServiceUnavailable,
	vane.EGONE:         http.StatusGone,
	vane.ETHROTTLED:    http.StatusTooManyRequests,
}

// ErrorStatus returns the HTTP status of a vane error code.
func ErrorStatus(code string) int {
	if s, ok := errorStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorResponse is the body of every error response.
type errorResponse struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
	// Field names the request field or JSON path the error is about.
	Field string `json:"field,omitempty"`
}

// writeError writes err in the error shape with the status of its code.
// Internal errors are logged with the request id and shown to the client
// only as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := vane.ErrorCode(err)
	status := ErrorStatus(code)
	body := errorBody{Code: code, Message: vane.ErrorMessage(err), Detail: vane.ErrorDetail(err), Field: vane.ErrorField(err)}
	if status == http.StatusInternalServerError {
		level := slog.LevelError
		if r.Context().Err() != nil {
			// The client went away; the store error is most likely only
			// the cancellation.
			level = slog.LevelWarn
		}
		s.Logger.LogAttrs(r.Context(), level, "internal error",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.String("error", err.Error()))
		body = errorBody{Code: vane.EINTERNAL, Message: vane.ErrorMessage(errors.New("hidden"))}
	}
	writeJSON(w, status, errorResponse{Error: body})
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := getBuffer()
	defer putBuffer(buf)
	b, err := marshal(*buf, v)
	if err != nil {
		// Only a bug can get here: every response type is marshalable.
		b = []byte(`{"error":{"code":"internal","message":"Internal error."}}`)
		status = http.StatusInternalServerError
	}
	b = append(b, '\n')
	*buf = b
	h := w.Header()
	h["Content-Type"] = jsonContentType
	setContentLength(h, len(b))
	w.WriteHeader(status)
	w.Write(b)
}

// setContentLength declares the length of a body about to be written
// whole. net/http computes it itself, without allocating, for a body
// that fits its response buffer (2 KiB) and is written before the
// handler returns; a longer one would be sent chunked without it.
func setContentLength(h http.Header, n int) {
	const netHTTPBuffer = 2048
	if n > netHTTPBuffer {
		h.Set("Content-Length", strconv.Itoa(n))
	}
}

// jsonContentType is the Content-Type header value of JSON responses,
// shared (never modified) so that setting it allocates nothing.
var jsonContentType = []string{"application/json"}

// writeText writes a short plain-text response.
func writeText(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	io.WriteString(w, text)
}

// invalidf returns an EINVALID error with a ValidationException detail.
func invalidf(format string, args ...any) error {
	return vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, format, args...)
}

// decodeJSON reads the request body, at most MaxBodyBytes of it, into v,
// which must be a pointer to a struct. Unknown fields, wrong JSON types,
// malformed JSON and trailing data are EINVALID with a message naming the
// field; an oversized body is ETOOLARGE.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	defer bodyDeadline(w)()
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	return decodeJSONFrom(r.Body, v)
}

// bodyDeadline bounds how long a slow client may take to send the body;
// the function it returns lifts the deadline, so that it can't cancel the
// rest of the request.
func bodyDeadline(w http.ResponseWriter) (lift func()) {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) != nil {
		return func() {}
	}
	return func() { rc.SetReadDeadline(time.Time{}) }
}

// decodeJSONFrom is decodeJSON's decoding, from any reader.
func decodeJSONFrom(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// Anything after the object is a client bug worth reporting, such as
	// two objects sent in one body.
	if _, err := dec.Token(); err != io.EOF {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return jsonError(err)
		}
		return invalidf("request body must hold a single JSON object")
	}
	return nil
}

// jsonError translates an encoding/json decoding error to a vane error.
func jsonError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		invalidUn *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return vane.DetailErrorf(vane.ETOOLARGE, vane.DetailValidation,
			"request body is larger than %d bytes", MaxBodyBytes)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return invalidf("request body was not received within %s", bodyReadTimeout)
	case errors.Is(err, io.EOF):
		return invalidf("request body is empty: a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf("request body is not valid JSON: unexpected end of input")
	case errors.As(err, &syntax):
		return invalidf("request body is not valid JSON: %s (at byte %d)", syntax.Error(), syntax.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return invalidf("request body must be a JSON object, not %s", typeErr.Value)
		}
		if num, ok := strings.CutPrefix(typeErr.Value, "number "); ok {
			// A number that does not fit the field: a fraction, or out
			// of range.
			return invalidf("field %q must be a whole number in range, not %s", typeErr.Field, num)
		}
		return invalidf("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type), article(typeErr.Value))
	case errors.As(err, &invalidUn):
		return err // a bug: the caller passed a non-pointer
	}
	// encoding/json reports unknown fields only as a formatted error, with
	// no type to test; the text "json: unknown field %q" has been stable
	// since DisallowUnknownFields was added.
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalidf("unknown field %s", field)
	}
	return invalidf("request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// article returns the JSON type name that encoding/json reports with an
// article, for messages.
func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "null":
		return kind
	case "bool":
		return "true or false"
	}
	return "a " + kind
}

// jsonKind names the JSON type that decodes into t, for error messages.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("of type %s", t)
}

// query is a request's query string checked against the parameters a
// route accepts.
type query url.Values

// parseQuery parses the query string of r and rejects parameters other
// than allowed, so that a misspelt parameter is an error rather than
// silently ignored.
func parseQuery(r *http.Request, allowed ...string) (query, error) {
	if r.URL.RawQuery == "" {
		return nil, nil
	}
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalidf("query string is malformed: %s", err)
	}
	for key := range v {
		if !slices.Contains(allowed, key) {
			if len(allowed) == 0 {
				return nil, invalidf("unknown query parameter %q: this route takes none", key)
			}
			return nil, invalidf("unknown query parameter %q: this route takes %s", key, strings.Join(allowed, ", "))
		}
	}
	return query(v), nil
}

// has reports whether the parameter is present.
func (q query) has(key string) bool {
	_, ok := q[key]
	return ok
}

// all returns every value of a parameter that may repeat.
func (q query) all(key string) []string { return q[key] }

// one returns the single value of a parameter, "" when absent.
func (q query) one(key string) (string, error) {
	switch vs := q[key]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", invalidf("query parameter %q is given more than once", key)
}

// number returns the single integer value of a parameter and whether it was
// given; the value must be at least min.
func (q query) number(key string, min int64) (int64, bool, error) {
	s, err := q.one(key)
	if err != nil || !q.has(key) {
		return 0, false, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min {
		return 0, false, invalidf("query parameter %q must be a whole number of at least %d, not %q", key, min, s)
	}
	return n, true, nil
}

// boolean returns the boolean value of a parameter, false when absent.
func (q query) boolean(key string) (bool, error) {
	s, err := q.one(key)
	if err != nil || !q.has(key) {
		return false, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalidf("query parameter %q must be true or false, not %q", key, s)
	}
	return b, nil
}

// limit returns the "limit" parameter, 0 (the store's default page size)
// when absent or 0, checked against the store's page bounds.
func (q query) limit() (int, error) {
	n, _, err := q.number("limit", 0)
	if err != nil || n > vane.MaxPageSize {
		return 0, invalidf("query parameter \"limit\" must be a whole number from 1 to %d (0 or absent for %d)", vane.MaxPageSize, vane.DefaultPageSize)
	}
	return int(n), nil
}
