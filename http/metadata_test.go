package http_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vanehq/vane"
)

func TestMetadata(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/meta/prod/db", `{"value":"v","type":"String","tags":{"team":"core","env":"prod"}}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/meta/prod/key", `{"value":"v","type":"SecureString","tags":{"team":"sec"}}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/meta/prod/deep/x", `{"value":"a,b","type":"StringList"}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/meta/dev/db", `{"value":"v","type":"String","tier":"Advanced","tags":{"team":"core"}}`).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/labels/meta/prod/db", `{"labels":["live"]}`).Want(t, 200, nil)

	names := func(t *testing.T, query string) string {
		t.Helper()
		var page Page
		r := s.Do(t, "GET", "/v1/metadata?"+query, "").Want(t, 200, &page)
		var out []string
		for _, p := range page.Parameters {
			if p.Value != "" || p.Labels != nil {
				t.Fatalf("metadata carries a value or labels: %s", r.Body)
			}
			out = append(out, p.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ name, query, want string }{
		{"All", "", "/meta/dev/db,/meta/prod/db,/meta/prod/deep/x,/meta/prod/key"},
		{"PathOneLevel", "path=/meta/prod", "/meta/prod/db,/meta/prod/key"},
		{"PathRecursive", "path=/meta/prod&recursive=true", "/meta/prod/db,/meta/prod/deep/x,/meta/prod/key"},
		{"Name", "name=/meta/dev/db", "/meta/dev/db"},
		{"NamePrefix", "name_prefix=/meta/prod/d", "/meta/prod/db,/meta/prod/deep/x"},
		{"NameContains", "name_contains=db", "/meta/dev/db,/meta/prod/db"},
		{"Type", "type=SecureString", "/meta/prod/key"},
		{"TypeAlternatives", "type=SecureString&type=StringList", "/meta/prod/deep/x,/meta/prod/key"},
		{"KeyID", "key_id=" + url.QueryEscape(vane.DefaultKeyID), "/meta/prod/key"},
		{"Tier", "tier=Advanced", "/meta/dev/db"},
		{"DataType", "data_type=text&path=/meta/dev", "/meta/dev/db"},
		{"TagExists", "tag=env", "/meta/prod/db"},
		{"TagValue", "tag=team=core", "/meta/dev/db,/meta/prod/db"},
		{"TagValueAlternatives", "tag=team=core&tag=team=sec&path=/meta/prod", "/meta/prod/db,/meta/prod/key"},
		{"Combined", "path=/meta/prod&type=String&tag=team=core", "/meta/prod/db"},
		{"NoMatch", "tag=team=nobody", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := names(t, c.query); got != c.want {
				t.Fatalf("%s: got %q, want %q", c.query, got, c.want)
			}
		})
	}
	t.Run("MetadataFields", func(t *testing.T) {
		var page Page
		s.Do(t, "GET", "/v1/metadata?name=/meta/prod/key", "").Want(t, 200, &page)
		p := page.Parameters[0]
		if p.Type != "SecureString" || p.KeyID != vane.DefaultKeyID || p.Version != 1 || p.Tier != "Standard" || p.LastModified == "" {
			t.Fatalf("metadata %+v", p)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		var got []string
		token := ""
		for range 10 {
			var page Page
			s.Do(t, "GET", "/v1/metadata?limit=1&next_token="+url.QueryEscape(token), "").Want(t, 200, &page)
			for _, p := range page.Parameters {
				got = append(got, p.Name)
			}
			if token = page.NextToken; token == "" {
				break
			}
		}
		if len(got) != 4 {
			t.Fatalf("paged %v", got)
		}
	})
	for _, c := range []struct{ name, query, contains string }{
		{"ErrNameAndPrefix", "name=/a&name_prefix=/a", "can't be combined"},
		{"ErrRecursiveWithoutPath", "recursive=true", `needs "path"`},
		{"ErrBadType", "type=Number", "Number"},
		{"ErrBadTier", "tier=Gold", "Gold"},
		{"ErrBadTag", "tag==x", `"tag"`},
		{"ErrEmptyTagValue", "tag=team=", "empty value"},
		{"ErrBadPath", "path=meta", ""},
		{"ErrBadLimit", "limit=many", `"limit"`},
		{"ErrUnknownParam", "prefix=/meta", `unknown query parameter "prefix"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, "GET", "/v1/metadata?"+c.query, "").WantError(t, 400, vane.EINVALID, "", c.contains)
		})
	}
}

// Change is the wire form of a change-log record.
type Change struct {
	Seq       int64    `json:"seq"`
	Op        string   `json:"op"`
	Name      string   `json:"name"`
	Version   int64    `json:"version"`
	Type      string   `json:"type"`
	Labels    []string `json:"labels"`
	TagKeys   []string `json:"tag_keys"`
	Time      string   `json:"time"`
	Principal string   `json:"principal"`
}

type changesResult struct {
	Changes []Change `json:"changes"`
	LastSeq *int64   `json:"last_seq"`
}

func TestChanges(t *testing.T) {
	s := MustOpen(t)
	// Identity headers from the client must not be trusted.
	hdr := []string{"X-Vane-Principal", "mallory", "X-Forwarded-User", "mallory", "Authorization", "Bearer mallory"}
	s.Do(t, "PUT", "/v1/parameters/ch/a", `{"value":"1","type":"String"}`, hdr...).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/ch/b", `{"value":"1","type":"String","tags":{"k":"v"}}`, hdr...).Want(t, 201, nil)
	s.Do(t, "PUT", "/v1/parameters/ch/a", `{"value":"2","overwrite":true}`).Want(t, 200, nil)
	s.Do(t, "PUT", "/v1/labels/ch/a", `{"version":1,"labels":["prod"]}`).Want(t, 200, nil)
	s.Do(t, "PUT", "/v1/tags/ch/a", `{"tags":{"team":"x"}}`).Want(t, 200, nil)
	s.Do(t, "PUT", "/v1/parameters/other/c", `{"value":"1","type":"String"}`).Want(t, 201, nil)
	s.Do(t, "DELETE", "/v1/parameters/ch/b", "").Want(t, 204, nil)

	var all changesResult
	s.Do(t, "GET", "/v1/changes", "").Want(t, 200, &all)
	if len(all.Changes) != 7 || *all.LastSeq != all.Changes[6].Seq {
		t.Fatalf("changes %+v", all)
	}
	var ops []string
	for i, c := range all.Changes {
		ops = append(ops, fmt.Sprintf("%s %s v%d", c.Op, c.Name, c.Version))
		if c.Principal != vane.AnonymousPrincipal {
			t.Fatalf("change %d principal %q, want anonymous", i, c.Principal)
		}
		if ts, err := time.Parse(time.RFC3339Nano, c.Time); err != nil || !strings.HasSuffix(c.Time, "Z") || ts.IsZero() {
			t.Fatalf("change time %q", c.Time)
		}
		if i > 0 && c.Seq <= all.Changes[i-1].Seq {
			t.Fatalf("sequence not increasing: %+v", all.Changes)
		}
	}
	t.Logf("ops: %q", ops)
	if all.Changes[0].Op != "put" || all.Changes[0].Type != "String" || all.Changes[0].Version != 1 {
		t.Fatalf("first change %+v", all.Changes[0])
	}
	if c := all.Changes[3]; c.Op != "label" || c.Version != 1 || len(c.Labels) != 1 || c.Labels[0] != "prod" {
		t.Fatalf("label change %+v", c)
	}
	if c := all.Changes[4]; c.Op != "tag" || len(c.TagKeys) != 1 || c.TagKeys[0] != "team" {
		t.Fatalf("tag change %+v", c)
	}
	if c := all.Changes[6]; c.Op != "delete" || c.Name != "/ch/b" {
		t.Fatalf("delete change %+v", c)
	}

	t.Run("After", func(t *testing.T) {
		var res changesResult
		after := all.Changes[4].Seq
		s.Do(t, "GET", fmt.Sprintf("/v1/changes?after=%d", after), "").Want(t, 200, &res)
		if len(res.Changes) != 2 || res.Changes[0].Seq != all.Changes[5].Seq || *res.LastSeq != all.Changes[6].Seq {
			t.Fatalf("after %d: %+v", after, res)
		}
	})
	t.Run("AfterEnd", func(t *testing.T) {
		var res changesResult
		last := *all.LastSeq
		r := s.Do(t, "GET", fmt.Sprintf("/v1/changes?after=%d", last), "").Want(t, 200, &res)
		if len(res.Changes) != 0 || res.Changes == nil || res.LastSeq == nil || *res.LastSeq != last {
			t.Fatalf("after the end: %s", r.Body)
		}
	})
	t.Run("PrefixAndLimit", func(t *testing.T) {
		var res changesResult
		s.Do(t, "GET", "/v1/changes?prefix=/ch/&limit=2", "").Want(t, 200, &res)
		if len(res.Changes) != 2 || res.Changes[0].Name != "/ch/a" || res.Changes[1].Name != "/ch/b" || *res.LastSeq != res.Changes[1].Seq {
			t.Fatalf("prefix+limit: %+v", res)
		}
		var rest changesResult
		s.Do(t, "GET", fmt.Sprintf("/v1/changes?prefix=/ch/&after=%d", *res.LastSeq), "").Want(t, 200, &rest)
		for _, c := range rest.Changes {
			if !strings.HasPrefix(c.Name, "/ch/") {
				t.Fatalf("prefix /ch/ returned %+v", c)
			}
		}
		if len(rest.Changes) != 4 {
			t.Fatalf("rest: %+v", rest)
		}
	})
	t.Run("LastModifiedUser", func(t *testing.T) {
		var p Parameter
		s.Do(t, "GET", "/v1/parameters/ch/a:1", "").Want(t, 200, &p)
		if p.LastModifiedUser != vane.AnonymousPrincipal {
			t.Fatalf("last_modified_user %q", p.LastModifiedUser)
		}
	})
	for _, c := range []struct{ name, query, contains string }{
		{"ErrBadAfter", "after=x", `"after"`},
		{"ErrNegativeAfter", "after=-1", `"after"`},
		{"ErrBadLimit", "limit=x", `"limit"`},
		{"ErrUnknownParam", "since=3", `unknown query parameter "since"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, "GET", "/v1/changes?"+c.query, "").WantError(t, 400, vane.EINVALID, "", c.contains)
		})
	}
}
