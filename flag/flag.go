// Package flag gives feature flags their meaning: it parses and validates
// flag documents, compiles them once, and evaluates them against an
// evaluation context. It is pure (no I/O) and shared by the server and
// the SDK. PowertoolsDocument translates flags into the feature-flags
// document of Powertools for AWS Lambda, so that Powertools can evaluate
// them with Vane's answers.
package flag

import "fmt"

// Context is an evaluation context: attributes of the subject a flag is
// evaluated for, as decoded from JSON (string, float64, bool, nil, []any,
// map[string]any). "targetingKey" (or "user_id") identifies the subject
// for percentage rollouts.
type Context map[string]any

// Error is a problem with a flag document, at a JSON path such as
// "$.rules[0].conditions[1].value".
type Error struct {
	Path    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Path, e.Message) }

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Message: fmt.Sprintf(format, args...)}
}
