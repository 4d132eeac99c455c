package vane

import (
	"errors"
	"fmt"
)

// Error codes. Every error Vane returns to a caller carries one of these;
// transports map them to wire form in one table each (HTTP status, SSM
// __type, OFREP errorCode).
const (
	ECONFLICT     = "conflict"       // the request conflicts with current state
	EINTERNAL     = "internal"       // a bug or an unexpected failure
	EINVALID      = "invalid"        // the request is malformed or breaks a rule
	ENOTFOUND     = "not_found"      // the named thing does not exist
	ETOOLARGE     = "too_large"      // a value or body is larger than allowed
	ELIMIT        = "limit_exceeded" // a count limit (labels, tags, versions) is reached
	EUNAUTHORIZED = "unauthorized"   // no valid credential
	EFORBIDDEN    = "forbidden"      // the credential may not do this
	EUNAVAILABLE  = "unavailable"    // a dependency is down; retry later
	ETHROTTLED    = "throttled"      // the caller sends too many requests; retry later
	EGONE         = "gone"           // the requested history is no longer kept
)

// Details name the precise failure with the names AWS SSM uses, so the SSM
// transport can return the exact __type and the native API can show it.
const (
	DetailParameterNotFound                  = "ParameterNotFound"
	DetailParameterVersionNotFound           = "ParameterVersionNotFound"
	DetailParameterAlreadyExists             = "ParameterAlreadyExists"
	DetailParameterMaxVersionLimitExceeded   = "ParameterMaxVersionLimitExceeded"
	DetailParameterVersionLabelLimitExceeded = "ParameterVersionLabelLimitExceeded"
	DetailParameterPatternMismatch           = "ParameterPatternMismatchException"
	DetailInvalidAllowedPattern              = "InvalidAllowedPatternException"
	DetailHierarchyLevelLimitExceeded        = "HierarchyLevelLimitExceededException"
	DetailUnsupportedParameterType           = "UnsupportedParameterType"
	DetailTooManyTags                        = "TooManyTagsError"
	DetailInvalidResourceID                  = "InvalidResourceId"
	DetailInvalidNextToken                   = "InvalidNextToken"
	DetailInvalidFilterKey                   = "InvalidFilterKey"
	DetailInvalidFilterOption                = "InvalidFilterOption"
	DetailInvalidFilterValue                 = "InvalidFilterValue"
	DetailInvalidKeyID                       = "InvalidKeyId"
	DetailVersionMismatch                    = "VersionMismatch"
	DetailValidation                         = "ValidationException"
	DetailReservedName                       = "AccessDeniedException"
)

// Error is the one error type of Vane. Code is one of the E* constants,
// Detail an optional protocol-level name (one of the Detail* constants) and
// Message a human-readable sentence safe to show to the caller. Field,
// when set, names the input the error is about: a request field or a
// JSON path into a value ("$.rules[0].variant"), so a form can show the
// message next to it.
type Error struct {
	Code    string
	Detail  string
	Message string
	Field   string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("vane: %s (%s): %s", e.Code, e.Detail, e.Message)
	}
	return fmt.Sprintf("vane: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// DetailErrorf returns an *Error with a code, a protocol detail name and a
// formatted message.
func DetailErrorf(code, detail, format string, args ...any) *Error {
	return &Error{Code: code, Detail: detail, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error,
// EINTERNAL for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	} else if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e.Code
	}
	return EINTERNAL
}

// ErrorDetail returns the protocol detail name of err, or "".
func ErrorDetail(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e.Detail
	}
	return ""
}

// ErrorField returns the input an error names (see Error.Field), or "".
// The error of a batch item names the item: items[3], or items[3].value
// when the item's own error names its field.
func ErrorField(err error) string {
	if be, ok := errors.AsType[*BatchError](err); ok && be != nil {
		f := fmt.Sprintf("items[%d]", be.Index)
		if inner := ErrorField(be.Err); inner != "" {
			f += "." + inner
		}
		return f
	}
	if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the caller-safe message of err. Errors that are not
// *Error are internal: their text may hold internals, so a generic message
// is returned instead.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	} else if be, ok := errors.AsType[*BatchError](err); ok && be != nil {
		return fmt.Sprintf("item %d (%s %s): %s; nothing in the batch was written", be.Index, be.Op, be.Name, ErrorMessage(be.Err))
	} else if e, ok := errors.AsType[*Error](err); ok && e != nil {
		return e.Message
	}
	return "Internal error."
}
