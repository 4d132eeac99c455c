package http

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

func TestSSMErrorFor(t *testing.T) {
	for _, tt := range []struct {
		err    error
		typ    string
		status int
	}{
		{vane.NotFoundError("/x"), "ParameterNotFound", 400},
		{vane.VersionNotFoundError("/x", 3), "ParameterVersionNotFound", 400},
		{vane.ResourceNotFoundError("/x"), "InvalidResourceId", 400},
		{vane.Errorf(vane.ENOTFOUND, "gone"), "ParameterNotFound", 400},
		{vane.DetailErrorf(vane.ECONFLICT, vane.DetailParameterAlreadyExists, ""), "ParameterAlreadyExists", 400},
		{vane.DetailErrorf(vane.ECONFLICT, vane.DetailVersionMismatch, ""), "TooManyUpdates", 400},
		{vane.MaxVersionsError("/x", 1), "ParameterMaxVersionLimitExceeded", 400},
		{vane.LabelLimitError("/x", 1), "ParameterVersionLabelLimitExceeded", 400},
		{vane.DetailErrorf(vane.ELIMIT, vane.DetailTooManyTags, ""), "TooManyTagsError", 400},
		{vane.Errorf(vane.ELIMIT, "some other limit"), "ValidationException", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailParameterPatternMismatch, ""), "ParameterPatternMismatchException", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidAllowedPattern, ""), "InvalidAllowedPatternException", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailHierarchyLevelLimitExceeded, ""), "HierarchyLevelLimitExceededException", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailUnsupportedParameterType, ""), "UnsupportedParameterType", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidNextToken, ""), "InvalidNextToken", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidFilterKey, ""), "InvalidFilterKey", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidFilterOption, ""), "InvalidFilterOption", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidFilterValue, ""), "InvalidFilterValue", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailInvalidKeyID, ""), "InvalidKeyId", 400},
		{vane.DetailErrorf(vane.EINVALID, vane.DetailValidation, ""), "ValidationException", 400},
		{vane.Errorf(vane.EINVALID, "bad"), "ValidationException", 400},
		// A detail under a code it does not belong to gets the code's
		// default, not the detail's name.
		{vane.DetailErrorf(vane.EINVALID, vane.DetailParameterNotFound, ""), "ValidationException", 400},
		{vane.DetailErrorf(vane.ETOOLARGE, vane.DetailValidation, ""), "ValidationException", 400},
		{vane.DetailErrorf(vane.EFORBIDDEN, vane.DetailReservedName, ""), "AccessDeniedException", 400},
		{vane.Errorf(vane.EFORBIDDEN, "no"), "AccessDeniedException", 400},
		{vane.Errorf(vane.EUNAUTHORIZED, "who"), "UnrecognizedClientException", 400},
		{vane.Errorf(vane.EUNAVAILABLE, "down"), "InternalServerError", 503},
		{vane.Errorf(vane.EINTERNAL, "bug"), "InternalServerError", 500},
		{vane.Errorf("no_such_code", "?"), "InternalServerError", 500},
		{errors.New("driver error"), "InternalServerError", 500},
		{fmt.Errorf("wrapped: %w", vane.NotFoundError("/x")), "ParameterNotFound", 400},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			if got := ssmErrorFor(tt.err); got.Type != tt.typ || got.Status != tt.status {
				t.Fatalf("ssmErrorFor(%v) = %s %d, want %s %d", tt.err, got.Type, got.Status, tt.typ, tt.status)
			}
		})
	}
}

// TestSSMErrorsCoverDetails checks that each detail the store returns for
// SSM has a row of its own under its code.
func TestSSMErrorsCoverDetails(t *testing.T) {
	for code, details := range map[string][]string{
		vane.ENOTFOUND: {vane.DetailParameterNotFound, vane.DetailParameterVersionNotFound, vane.DetailInvalidResourceID},
		vane.ECONFLICT: {vane.DetailParameterAlreadyExists, vane.DetailVersionMismatch},
		vane.ELIMIT:    {vane.DetailParameterMaxVersionLimitExceeded, vane.DetailParameterVersionLabelLimitExceeded, vane.DetailTooManyTags},
		vane.EINVALID: {vane.DetailParameterPatternMismatch, vane.DetailInvalidAllowedPattern, vane.DetailHierarchyLevelLimitExceeded,
			vane.DetailUnsupportedParameterType, vane.DetailInvalidNextToken, vane.DetailInvalidFilterKey, vane.DetailInvalidFilterOption,
			vane.DetailInvalidFilterValue, vane.DetailInvalidKeyID, vane.DetailValidation},
		vane.EFORBIDDEN: {vane.DetailReservedName},
	} {
		for _, d := range details {
			row, ok := ssmErrors[ssmErrorKey{code, d}]
			if !ok {
				t.Errorf("no row for %s/%s", code, d)
			} else if d != vane.DetailVersionMismatch && row.Type != d {
				t.Errorf("%s/%s maps to %s: the detail is already the SSM name", code, d, row.Type)
			}
		}
	}
	for _, code := range []string{vane.ECONFLICT, vane.EINTERNAL, vane.EINVALID, vane.ENOTFOUND, vane.ETOOLARGE, vane.ELIMIT, vane.EUNAUTHORIZED, vane.EFORBIDDEN, vane.EUNAVAILABLE, vane.EGONE} {
		if _, ok := ssmErrors[ssmErrorKey{code, ""}]; !ok {
			t.Errorf("no default row for code %s", code)
		}
	}
}

func TestPageTokens(t *testing.T) {
	tokens := newPageTokens(nil)
	store := vane.EncodeToken("/a/b")
	tok := tokens.seal("GetParametersByPath", "/a", store)
	if strings.Contains(tok, store) {
		t.Fatalf("token %q shows the store token", tok)
	}
	if got, err := tokens.open("GetParametersByPath", "/a", tok); err != nil || got != store {
		t.Fatalf("open = %q, %v", got, err)
	}
	if tokens.seal("op", "", "") != "" {
		t.Fatal("the last page got a token")
	}
	if got, err := tokens.open("op", "", ""); got != "" || err != nil {
		t.Fatalf("open of no token = %q, %v", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x20
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, tt := range map[string]struct{ op, scope, token string }{
		"ErrOtherOperation": {"DescribeParameters", "/a", tok},
		"ErrOtherScope":     {"GetParametersByPath", "/b", tok},
		"ErrMACChanged":     {"GetParametersByPath", "/a", flip(0)},
		"ErrKeyChanged":     {"GetParametersByPath", "/a", flip(len(raw) - 1)},
		"ErrOtherKey":       {"GetParametersByPath", "/a", newPageTokens(nil).seal("GetParametersByPath", "/a", store)},
		"ErrNotBase64":      {"GetParametersByPath", "/a", tok + "!"},
		"ErrTooShort":       {"GetParametersByPath", "/a", base64.RawURLEncoding.EncodeToString(raw[:tokenMACSize])},
		"ErrTooLong":        {"GetParametersByPath", "/a", strings.Repeat("A", maxTokenChars+1)},
		"ErrStoreToken":     {"GetParametersByPath", "/a", store},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tokens.open(tt.op, tt.scope, tt.token)
			if vane.ErrorCode(err) != vane.EINVALID || vane.ErrorDetail(err) != vane.DetailInvalidNextToken {
				t.Fatalf("open: %v, want InvalidNextToken", err)
			}
		})
	}
}

func TestSSMCheck(t *testing.T) {
	var c ssmCheck
	if c.err() != nil {
		t.Fatal("no violation, but an error")
	}
	for i := 0; i < 12; i++ {
		c.required(fmt.Sprintf("m%d", i), false)
	}
	msg := vane.ErrorMessage(c.err())
	if !strings.HasPrefix(msg, "12 validation errors detected: Value null at 'm0'") || !strings.HasSuffix(msg, "; and 2 more") {
		t.Fatalf("message %q", msg)
	}
}
