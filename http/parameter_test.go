package http_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

func TestPutGetParameter(t *testing.T) {
	s := MustOpen(t)

	var p Parameter
	r := s.Do(t, "PUT", "/v1/parameters/myapp/prod/db_url",
		`{"value":"postgres://db","type":"String","description":"primary","tags":{"team":"core"}}`).Want(t, 201, &p)
	if p.Name != "/myapp/prod/db_url" || p.Type != "String" || p.Value != "postgres://db" || p.Version != 1 ||
		p.Tier != "Standard" || p.DataType != "text" || p.Description != "primary" || p.LastModifiedUser != vane.AnonymousPrincipal {
		t.Fatalf("created %+v", p)
	}
	if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/v1/parameters/myapp/prod/db_url" {
		t.Fatalf("ETag %q Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
	}
	lm, err := time.Parse(time.RFC3339Nano, p.LastModified)
	if err != nil || !strings.HasSuffix(p.LastModified, "Z") || time.Since(lm) > time.Minute {
		t.Fatalf("last_modified %q is not a recent RFC 3339 UTC time: %v", p.LastModified, err)
	}
	var raw map[string]any
	json.Unmarshal(r.Body, &raw)
	for _, absent := range []string{"labels", "key_id", "allowed_pattern", "selector"} {
		if _, ok := raw[absent]; ok {
			t.Errorf("empty optional field %q is present: %s", absent, r.Body)
		}
	}

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		s.Do(t, "PUT", "/v1/parameters/myapp/prod/db_url", `{"value":"x","type":"String"}`).
			WantError(t, 409, vane.ECONFLICT, vane.DetailParameterAlreadyExists)
	})
	t.Run("Overwrite", func(t *testing.T) {
		var p Parameter
		r := s.Do(t, "PUT", "/v1/parameters/myapp/prod/db_url", `{"value":"postgres://db2","overwrite":true}`).Want(t, 200, &p)
		if p.Version != 2 || p.Value != "postgres://db2" || p.Type != "String" || p.Description != "primary" {
			t.Fatalf("overwritten %+v", p)
		}
		if r.Header.Get("ETag") != `"2"` || r.Header.Get("Location") != "" {
			t.Fatalf("ETag %q Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
		}
	})
	t.Run("Get", func(t *testing.T) {
		var p Parameter
		r := s.Do(t, "GET", "/v1/parameters/myapp/prod/db_url", "").Want(t, 200, &p)
		if p.Version != 2 || p.Value != "postgres://db2" || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("got %+v ETag %q", p, r.Header.Get("ETag"))
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s.Do(t, "GET", "/v1/parameters/myapp/prod/nope", "").
			WantError(t, 404, vane.ENOTFOUND, vane.DetailParameterNotFound, "/myapp/prod/nope")
	})
	t.Run("ErrMissingType", func(t *testing.T) {
		s.Do(t, "PUT", "/v1/parameters/myapp/prod/untyped", `{"value":"x"}`).
			WantError(t, 400, vane.EINVALID, vane.DetailValidation, "type")
	})
	t.Run("ErrBadType", func(t *testing.T) {
		s.Do(t, "PUT", "/v1/parameters/myapp/prod/t", `{"value":"x","type":"Integer"}`).
			WantError(t, 400, vane.EINVALID, vane.DetailUnsupportedParameterType)
	})
}

func TestRootLevelName(t *testing.T) {
	s := MustOpen(t)
	var p Parameter
	s.Do(t, "PUT", "/v1/parameters/toplevel", `{"value":"v","type":"String"}`).Want(t, 201, &p)
	if p.Name != "toplevel" {
		t.Fatalf("root-level name %q, want toplevel", p.Name)
	}
	s.Do(t, "GET", "/v1/parameters/toplevel", "").Want(t, 200, &p)
	if p.Value != "v" {
		t.Fatalf("got %+v", p)
	}
	var page Page
	s.Do(t, "GET", "/v1/parameters?path=/", "").Want(t, 200, &page)
	if len(page.Parameters) != 1 || page.Parameters[0].Name != "toplevel" {
		t.Fatalf("root listing %+v", page)
	}
	s.Do(t, "DELETE", "/v1/parameters/toplevel", "").Want(t, 204, nil)
	s.Do(t, "GET", "/v1/parameters/toplevel", "").WantError(t, 404, vane.ENOTFOUND, "")
}

func TestPutInvalid(t *testing.T) {
	s := MustOpen(t)
	for _, c := range []struct {
		name, path, body string
		status           int
		code, contains   string
	}{
		{"ErrBadName", "/v1/parameters/a/b!c", `{"value":"v","type":"String"}`, 400, vane.EINVALID, "only a-z"},
		{"ErrReservedName", "/v1/parameters/ssm/x", `{"value":"v","type":"String"}`, 400, vane.EINVALID, "reserved"},
		{"ErrReservedAWSName", "/v1/parameters/aws/x", `{"value":"v","type":"String"}`, 403, vane.EFORBIDDEN, "reserved"},
		{"ErrEmptyBody", "/v1/parameters/a/b", ``, 400, vane.EINVALID, "empty"},
		{"ErrMalformedJSON", "/v1/parameters/a/b", `{"value":"v",`, 400, vane.EINVALID, "not valid JSON"},
		{"ErrSyntax", "/v1/parameters/a/b", `{"value" "v"}`, 400, vane.EINVALID, "not valid JSON"},
		{"ErrNotObject", "/v1/parameters/a/b", `["v"]`, 400, vane.EINVALID, "JSON object"},
		{"ErrUnknownField", "/v1/parameters/a/b", `{"valeu":"v","type":"String"}`, 400, vane.EINVALID, `unknown field "valeu"`},
		{"ErrWrongTypeNumber", "/v1/parameters/a/b", `{"value":"v","type":"String","expect_version":"1"}`, 400, vane.EINVALID, `field "expect_version" must be a number`},
		{"ErrWrongTypeFraction", "/v1/parameters/a/b", `{"value":"v","type":"String","expect_version":1.5}`, 400, vane.EINVALID, `field "expect_version" must be a whole number`},
		{"ErrWrongTypeString", "/v1/parameters/a/b", `{"value":42,"type":"String"}`, 400, vane.EINVALID, `field "value" must be a string`},
		{"ErrWrongTypeBool", "/v1/parameters/a/b", `{"value":"v","type":"String","overwrite":"yes"}`, 400, vane.EINVALID, `field "overwrite" must be true or false`},
		{"ErrWrongTypeTags", "/v1/parameters/a/b", `{"value":"v","type":"String","tags":["a"]}`, 400, vane.EINVALID, `field "tags" must be an object`},
		{"ErrTrailingData", "/v1/parameters/a/b", `{"value":"v","type":"String"}{}`, 400, vane.EINVALID, "single JSON object"},
		{"ErrMissingValue", "/v1/parameters/a/b", `{"type":"String"}`, 400, vane.EINVALID, `field "value" is required`},
		{"ErrEmptyValue", "/v1/parameters/a/b", `{"value":"","type":"String"}`, 400, vane.EINVALID, "empty"},
		{"ErrUnknownQuery", "/v1/parameters/a/b?overwrite=true", `{"value":"v","type":"String"}`, 400, vane.EINVALID, `unknown query parameter "overwrite"`},
		{"ErrTooLargeStandard", "/v1/parameters/a/b", `{"value":"` + strings.Repeat("x", vane.MaxStandardValueLength+1) + `","type":"String"}`, 413, vane.ETOOLARGE, "4097"},
		{"ErrTooManyTags", "/v1/parameters/a/b", `{"value":"v","type":"String","tags":` + manyTags(vane.MaxTagsPerResource+1) + `}`, 422, vane.ELIMIT, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, "PUT", c.path, c.body).WantError(t, c.status, c.code, "", c.contains)
		})
	}
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		body := `{"value":"` + strings.Repeat("x", 1<<20) + `","type":"String"}`
		s.Do(t, "PUT", "/v1/parameters/a/b", body).WantError(t, 413, vane.ETOOLARGE, "", "larger than 1048576 bytes")
	})
	t.Run("AdvancedAllowsMore", func(t *testing.T) {
		var p Parameter
		body := `{"value":"` + strings.Repeat("x", vane.MaxStandardValueLength+1) + `","type":"String","tier":"Advanced"}`
		s.Do(t, "PUT", "/v1/parameters/a/big", body).Want(t, 201, &p)
		if p.Tier != "Advanced" {
			t.Fatalf("tier %q", p.Tier)
		}
	})
	t.Run("TooManyTagsIsLimit", func(t *testing.T) {
		s.Do(t, "PUT", "/v1/parameters/a/tags", `{"value":"v","type":"String","tags":`+manyTags(vane.MaxTagsPerResource+1)+`}`).
			WantError(t, 422, vane.ELIMIT, vane.DetailTooManyTags)
	})
}

// manyTags returns a JSON object of n tags.
func manyTags(n int) string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestCompareAndSet(t *testing.T) {
	s := MustOpen(t)
	const path = "/v1/parameters/cas/p"
	t.Run("IfNoneMatchCreates", func(t *testing.T) {
		s.Do(t, "PUT", path, `{"value":"1","type":"String"}`, "If-None-Match", "*").Want(t, 201, nil)
	})
	t.Run("ErrIfNoneMatchExists", func(t *testing.T) {
		s.Do(t, "PUT", path, `{"value":"x","overwrite":true}`, "If-None-Match", "*").
			WantError(t, 409, vane.ECONFLICT, vane.DetailVersionMismatch)
	})
	t.Run("ErrExpectVersionMismatch", func(t *testing.T) {
		s.Do(t, "PUT", path, `{"value":"x","expect_version":2}`).
			WantError(t, 409, vane.ECONFLICT, vane.DetailVersionMismatch, "expected version 2, current version is 1")
	})
	t.Run("ExpectVersion", func(t *testing.T) {
		var p Parameter
		s.Do(t, "PUT", path, `{"value":"2","expect_version":1}`).Want(t, 200, &p)
		if p.Version != 2 {
			t.Fatalf("version %d", p.Version)
		}
	})
	t.Run("ErrIfMatchMismatch", func(t *testing.T) {
		s.Do(t, "PUT", path, `{"value":"x"}`, "If-Match", `"1"`).
			WantError(t, 409, vane.ECONFLICT, vane.DetailVersionMismatch)
	})
	t.Run("IfMatch", func(t *testing.T) {
		// The ETag of a GET is what If-Match takes back.
		etag := s.Do(t, "GET", path, "").Want(t, 200, nil).Header.Get("ETag")
		var p Parameter
		s.Do(t, "PUT", path, `{"value":"3"}`, "If-Match", etag).Want(t, 200, &p)
		if p.Version != 3 {
			t.Fatalf("version %d", p.Version)
		}
	})
	t.Run("ErrIfMatchAndBodyDiffer", func(t *testing.T) {
		s.Do(t, "PUT", path, `{"value":"x","expect_version":3}`, "If-Match", `"2"`).WantError(t, 400, vane.EINVALID, "", "differ")
	})
	t.Run("ErrIfMatchMalformed", func(t *testing.T) {
		s.Do(t, "PUT", path, `{"value":"x"}`, "If-Match", `"abc"`).WantError(t, 400, vane.EINVALID, "", "If-Match")
		s.Do(t, "PUT", path, `{"value":"x"}`, "If-Match", `*`).WantError(t, 400, vane.EINVALID, "", "If-Match")
		s.Do(t, "PUT", path, `{"value":"x"}`, "If-None-Match", `"3"`).WantError(t, 400, vane.EINVALID, "", "If-None-Match")
	})
	t.Run("ErrDeleteExpectVersionMismatch", func(t *testing.T) {
		s.Do(t, "DELETE", path+"?expect_version=2", "").WantError(t, 409, vane.ECONFLICT, vane.DetailVersionMismatch)
	})
	t.Run("ErrDeleteIfMatchMismatch", func(t *testing.T) {
		s.Do(t, "DELETE", path, "", "If-Match", `"1"`).WantError(t, 409, vane.ECONFLICT, vane.DetailVersionMismatch)
	})
	t.Run("ErrDeleteBadExpectVersion", func(t *testing.T) {
		s.Do(t, "DELETE", path+"?expect_version=x", "").WantError(t, 400, vane.EINVALID, "", `"expect_version"`)
	})
	t.Run("Delete", func(t *testing.T) {
		r := s.Do(t, "DELETE", path, "", "If-Match", `"3"`).Want(t, 204, nil)
		if len(r.Body) != 0 {
			t.Fatalf("204 with a body: %q", r.Body)
		}
	})
	t.Run("ErrDeleteNotFound", func(t *testing.T) {
		s.Do(t, "DELETE", path, "").WantError(t, 404, vane.ENOTFOUND, vane.DetailParameterNotFound)
	})
}

func TestSelectors(t *testing.T) {
	s := MustOpen(t)
	for i := 1; i <= 3; i++ {
		s.MustPut(t, "/sel/p", fmt.Sprint("v", i))
	}
	s.Do(t, "PUT", "/v1/labels/sel/p", `{"version":1,"labels":["prod"]}`).Want(t, 200, nil)

	for _, c := range []struct {
		name, path string
		version    int64
		selector   string
	}{
		{"Latest", "/v1/parameters/sel/p", 3, ""},
		{"VersionSuffix", "/v1/parameters/sel/p:2", 2, ":2"},
		{"VersionQuery", "/v1/parameters/sel/p?version=2", 2, ":2"},
		{"LabelSuffix", "/v1/parameters/sel/p:prod", 1, ":prod"},
		{"LabelQuery", "/v1/parameters/sel/p?label=prod", 1, ":prod"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Parameter
			r := s.Do(t, "GET", c.path, "").Want(t, 200, &p)
			if p.Version != c.version || p.Value != fmt.Sprint("v", c.version) || p.Selector != c.selector {
				t.Fatalf("got version %d value %q selector %q, want %d %q", p.Version, p.Value, p.Selector, c.version, c.selector)
			}
			if r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, c.version) {
				t.Fatalf("ETag %q", r.Header.Get("ETag"))
			}
			if c.version == 1 && (len(p.Labels) != 1 || p.Labels[0] != "prod") {
				t.Fatalf("labels %v", p.Labels)
			}
		})
	}
	for _, c := range []struct {
		name, path     string
		status         int
		code, detail   string
		messageHasPart string
	}{
		{"ErrVersionNotFound", "/v1/parameters/sel/p:9", 404, vane.ENOTFOUND, vane.DetailParameterVersionNotFound, "version 9"},
		{"ErrVersionNotFoundQuery", "/v1/parameters/sel/p?version=9", 404, vane.ENOTFOUND, vane.DetailParameterVersionNotFound, ""},
		{"ErrLabelNotFound", "/v1/parameters/sel/p:staging", 404, vane.ENOTFOUND, "", ""},
		{"ErrLabelNotFoundQuery", "/v1/parameters/sel/p?label=staging", 404, vane.ENOTFOUND, "", ""},
		{"ErrBadVersion", "/v1/parameters/sel/p?version=abc", 400, vane.EINVALID, "", `"version"`},
		{"ErrZeroVersion", "/v1/parameters/sel/p?version=0", 400, vane.EINVALID, "", `"version"`},
		{"ErrVersionAndLabel", "/v1/parameters/sel/p?version=1&label=prod", 400, vane.EINVALID, "", "not both"},
		{"ErrSuffixAndQuery", "/v1/parameters/sel/p:1?version=1", 400, vane.EINVALID, "", "not both"},
		{"ErrTwoVersions", "/v1/parameters/sel/p?version=1&version=2", 400, vane.EINVALID, "", "more than once"},
		{"ErrBadSuffix", "/v1/parameters/sel/p:1:2", 400, vane.EINVALID, "", ""},
		{"ErrUnknownQuery", "/v1/parameters/sel/p?versoin=1", 400, vane.EINVALID, "", `unknown query parameter "versoin"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, "GET", c.path, "").WantError(t, c.status, c.code, c.detail, c.messageHasPart)
		})
	}
}

func TestListParameters(t *testing.T) {
	s := MustOpen(t)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("/list/p%d", i)
		s.MustPut(t, name, "v")
		want = append(want, name)
	}
	s.MustPut(t, "/list/deep/q", "v")
	s.MustPut(t, "/other/r", "v")
	s.Do(t, "PUT", "/v1/parameters/list/secret", `{"value":"s","type":"SecureString"}`).Want(t, 201, nil)

	t.Run("Paging", func(t *testing.T) {
		var got []string
		token, pages := "", 0
		for {
			var page Page
			s.Do(t, "GET", "/v1/parameters?path=/list&type=String&limit=3&next_token="+url.QueryEscape(token), "").Want(t, 200, &page)
			pages++
			for _, p := range page.Parameters {
				if p.Value != "v" {
					t.Fatalf("listed %+v without its value", p)
				}
				got = append(got, p.Name)
			}
			if token = page.NextToken; token == "" {
				break
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
			t.Fatalf("paged %v in %d pages, want %v in 3", got, pages, want)
		}
	})
	t.Run("Recursive", func(t *testing.T) {
		var page Page
		s.Do(t, "GET", "/v1/parameters?path=/list/&recursive=true&limit=50", "").Want(t, 200, &page)
		if len(page.Parameters) != 9 || page.NextToken != "" {
			t.Fatalf("recursive listing has %d parameters, want 9", len(page.Parameters))
		}
	})
	t.Run("FilterType", func(t *testing.T) {
		var page Page
		s.Do(t, "GET", "/v1/parameters?path=/list&type=SecureString", "").Want(t, 200, &page)
		if len(page.Parameters) != 1 || page.Parameters[0].Name != "/list/secret" || page.Parameters[0].KeyID != vane.DefaultKeyID {
			t.Fatalf("SecureString listing %+v", page.Parameters)
		}
	})
	t.Run("FilterLabel", func(t *testing.T) {
		s.MustPut(t, "/list/p1", "v-new")
		s.Do(t, "PUT", "/v1/labels/list/p1", `{"version":1,"labels":["stable"]}`).Want(t, 200, nil)
		var page Page
		s.Do(t, "GET", "/v1/parameters?path=/list&label=stable", "").Want(t, 200, &page)
		if len(page.Parameters) != 1 || page.Parameters[0].Version != 1 || page.Parameters[0].Value != "v" {
			t.Fatalf("label listing %+v", page.Parameters)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		r := s.Do(t, "GET", "/v1/parameters?path=/nothing/here", "").Want(t, 200, nil)
		if strings.TrimSpace(string(r.Body)) != `{"parameters":[]}` {
			t.Fatalf("empty listing %s", r.Body)
		}
	})
	for _, c := range []struct{ name, query, contains string }{
		{"ErrNoPath", "", `"path" is required`},
		{"ErrBadPath", "path=nope", "path"},
		{"ErrBadLimit", "path=/list&limit=abc", `"limit"`},
		{"ErrNegativeLimit", "path=/list&limit=-1", `"limit"`},
		{"ErrLimitTooLarge", "path=/list&limit=1001", `"limit"`},
		{"ErrBadRecursive", "path=/list&recursive=maybe", `"recursive"`},
		{"ErrBadToken", "path=/list&next_token=garbage!", ""},
		{"ErrBadQueryString", "path=/list&%zz", "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, "GET", "/v1/parameters?"+c.query, "").WantError(t, 400, vane.EINVALID, "", c.contains)
		})
	}
}

func TestHistory(t *testing.T) {
	s := MustOpen(t)
	for i := 1; i <= 5; i++ {
		s.MustPut(t, "/hist/p", fmt.Sprint("v", i))
	}
	s.Do(t, "PUT", "/v1/labels/hist/p", `{"version":2,"labels":["prod"]}`).Want(t, 200, nil)

	var versions []int64
	token := ""
	for range 10 {
		var page Page
		s.Do(t, "GET", "/v1/history/hist/p?limit=2&next_token="+url.QueryEscape(token), "").Want(t, 200, &page)
		for _, p := range page.Parameters {
			versions = append(versions, p.Version)
			if p.Value != fmt.Sprint("v", p.Version) {
				t.Fatalf("history entry %+v", p)
			}
			if p.Version == 2 && (len(p.Labels) != 1 || p.Labels[0] != "prod") {
				t.Fatalf("version 2 labels %v", p.Labels)
			}
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	if fmt.Sprint(versions) != "[1 2 3 4 5]" {
		t.Fatalf("history versions %v, want oldest first", versions)
	}
	s.Do(t, "GET", "/v1/history/hist/nope", "").WantError(t, 404, vane.ENOTFOUND, vane.DetailParameterNotFound)
	s.Do(t, "GET", "/v1/history/hist/p?limit=x", "").WantError(t, 400, vane.EINVALID, "", `"limit"`)
	s.Do(t, "GET", "/v1/history/hist/p?next_token=bad", "").WantError(t, 400, vane.EINVALID, vane.DetailInvalidNextToken)
}

// TestPutPoliciesNative: the native API takes policies as a JSON array and
// shows them as one; their errors name AWS's exceptions.
func TestPutPoliciesNative(t *testing.T) {
	s := MustOpen(t)
	body := `{"type":"String","value":"v","tier":"Advanced","policies":[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"30","Unit":"Days"}}]}`
	s.Do(t, "PUT", "/v1/parameters/app/token", body).Want(t, 201, nil)
	var p struct {
		Policies []map[string]any `json:"policies"`
	}
	s.Do(t, "GET", "/v1/parameters/app/token", "").Want(t, 200, &p)
	if len(p.Policies) != 1 || p.Policies[0]["Type"] != "NoChangeNotification" {
		t.Fatalf("policies read back: %+v", p.Policies)
	}
	s.Do(t, "PUT", "/v1/parameters/app/token", `{"value":"w","overwrite":true,"policies":[{"Type":"Nope","Version":"1.0","Attributes":{}}]}`).
		WantError(t, 400, vane.EINVALID, vane.DetailInvalidPolicyType, "Nope")
}
