package vane_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

// checkErr asserts that err carries code and detail and that its message
// contains msg; an empty code asserts that err is nil.
func checkErr(tb testing.TB, err error, code, detail, msg string) {
	tb.Helper()
	if code == "" {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		tb.Fatalf("got no error, want %s (%s) mentioning %q", code, detail, msg)
	}
	if got := vane.ErrorCode(err); got != code {
		tb.Errorf("ErrorCode = %q, want %q (err: %v)", got, code, err)
	}
	if got := vane.ErrorDetail(err); got != detail {
		tb.Errorf("ErrorDetail = %q, want %q (err: %v)", got, detail, err)
	}
	if got := vane.ErrorMessage(err); !strings.Contains(got, msg) {
		tb.Errorf("ErrorMessage = %q, want it to contain %q", got, msg)
	}
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

func TestErrorAccessors(t *testing.T) {
	detailed := &vane.Error{Code: vane.ENOTFOUND, Detail: vane.DetailParameterNotFound, Message: `parameter "x" not found`}
	plain := errors.New("dial tcp 10.0.0.5:5432: connect: connection refused (password=hunter2)")

	tests := []struct {
		name                  string
		err                   error
		code, detail, message string
	}{
		{"Nil", nil, "", "", ""},
		{"Error", detailed, vane.ENOTFOUND, vane.DetailParameterNotFound, `parameter "x" not found`},
		{"ErrorWithoutDetail", vane.Errorf(vane.EINVALID, "limit %d is too high", 7), vane.EINVALID, "", "limit 7 is too high"},
		{"DetailErrorf", vane.DetailErrorf(vane.ELIMIT, vane.DetailTooManyTags, "%d tags", 51), vane.ELIMIT, vane.DetailTooManyTags, "51 tags"},
		{"Wrapped", fmt.Errorf("sqlite: get: %w", detailed), vane.ENOTFOUND, vane.DetailParameterNotFound, `parameter "x" not found`},
		{"WrappedTwice", fmt.Errorf("http: %w", fmt.Errorf("store: %w", vane.Errorf(vane.ECONFLICT, "busy"))), vane.ECONFLICT, "", "busy"},
		{"Joined", errors.Join(plain, detailed), vane.ENOTFOUND, vane.DetailParameterNotFound, `parameter "x" not found`},
		{"Plain", plain, vane.EINTERNAL, "", "Internal error."},
		{"WrappedPlain", fmt.Errorf("postgres: %w", plain), vane.EINTERNAL, "", "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vane.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := vane.ErrorDetail(tt.err); got != tt.detail {
				t.Errorf("ErrorDetail = %q, want %q", got, tt.detail)
			}
			if got := vane.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
		})
	}
}

func TestErrorMessageDoesNotLeakInternalError(t *testing.T) {
	err := fmt.Errorf("open /var/lib/vane/vane.db: %w", errors.New("password=hunter2"))
	msg := vane.ErrorMessage(err)
	for _, secret := range []string{"hunter2", "/var/lib/vane", "vane.db"} {
		if strings.Contains(msg, secret) {
			t.Errorf("ErrorMessage = %q leaks %q", msg, secret)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *vane.Error
		want string
	}{
		{"WithDetail", vane.DetailErrorf(vane.ENOTFOUND, vane.DetailParameterVersionNotFound, "version %d of %q not found", 3, "/a"),
			`vane: not_found (ParameterVersionNotFound): version 3 of "/a" not found`},
		{"WithoutDetail", vane.Errorf(vane.EINVALID, "bad"), "vane: invalid: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestErrorConstructors checks the helpers stores use to build their errors.
func TestErrorConstructors(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		code, detail string
		msg          string
	}{
		{"NotFound", vane.NotFoundError("/a/b"), vane.ENOTFOUND, vane.DetailParameterNotFound, `"/a/b" not found`},
		{"VersionNotFound", vane.VersionNotFoundError("/a/b", 7), vane.ENOTFOUND, vane.DetailParameterVersionNotFound, `version 7 of parameter "/a/b"`},
		{"ResourceNotFound", vane.ResourceNotFoundError("x"), vane.ENOTFOUND, vane.DetailInvalidResourceID, `"x" not found`},
		{"MaxVersions", vane.MaxVersionsError("x", 4), vane.ELIMIT, vane.DetailParameterMaxVersionLimitExceeded, "version 4, has a label"},
		{"LabelLimit", vane.LabelLimitError("x", 2), vane.ELIMIT, vane.DetailParameterVersionLabelLimitExceeded, "more than 10 labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.err, tt.code, tt.detail, tt.msg)
		})
	}
}
