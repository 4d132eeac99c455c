package http_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vanehq/vane"
)

type labelResult struct {
	Version       int64    `json:"version"`
	InvalidLabels []string `json:"invalid_labels"`
	RemovedLabels []string `json:"removed_labels"`
}

func TestLabels(t *testing.T) {
	s := MustOpen(t)
	for i := 1; i <= 3; i++ {
		s.MustPut(t, "/lab/p", fmt.Sprint("v", i))
	}

	t.Run("LabelLatest", func(t *testing.T) {
		var res labelResult
		s.Do(t, "PUT", "/v1/labels/lab/p", `{"labels":["prod","1bad"]}`).Want(t, 200, &res)
		if res.Version != 3 || !reflect.DeepEqual(res.InvalidLabels, []string{"1bad"}) {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("LabelVersionMovesLabel", func(t *testing.T) {
		var res labelResult
		r := s.Do(t, "PUT", "/v1/labels/lab/p", `{"version":1,"labels":["prod","beta"]}`).Want(t, 200, &res)
		if res.Version != 1 || res.InvalidLabels == nil || len(res.InvalidLabels) != 0 {
			t.Fatalf("result %+v (%s)", res, r.Body)
		}
		var p Parameter
		s.Do(t, "GET", "/v1/parameters/lab/p:prod", "").Want(t, 200, &p)
		if p.Version != 1 || !reflect.DeepEqual(p.Labels, []string{"beta", "prod"}) {
			t.Fatalf("prod is on %+v", p)
		}
	})
	t.Run("Unlabel", func(t *testing.T) {
		var res labelResult
		s.Do(t, "DELETE", "/v1/labels/lab/p?version=1&label=beta&label=nothere", "").Want(t, 200, &res)
		if !reflect.DeepEqual(res.RemovedLabels, []string{"beta"}) || !reflect.DeepEqual(res.InvalidLabels, []string{"nothere"}) {
			t.Fatalf("result %+v", res)
		}
		s.Do(t, "GET", "/v1/parameters/lab/p:beta", "").WantError(t, 404, vane.ENOTFOUND, "")
	})
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code, detail, contains   string
	}{
		{"ErrParameterNotFound", "PUT", "/v1/labels/lab/nope", `{"labels":["a"]}`, 404, vane.ENOTFOUND, vane.DetailParameterNotFound, ""},
		{"ErrVersionNotFound", "PUT", "/v1/labels/lab/p", `{"version":9,"labels":["a"]}`, 404, vane.ENOTFOUND, vane.DetailParameterVersionNotFound, ""},
		{"ErrNoLabels", "PUT", "/v1/labels/lab/p", `{"version":1}`, 400, vane.EINVALID, "", "labels"},
		{"ErrVersionType", "PUT", "/v1/labels/lab/p", `{"version":"1","labels":["a"]}`, 400, vane.EINVALID, "", `field "version" must be a number`},
		{"ErrLabelsType", "PUT", "/v1/labels/lab/p", `{"labels":"a"}`, 400, vane.EINVALID, "", `field "labels" must be an array`},
		{"ErrUnknownField", "PUT", "/v1/labels/lab/p", `{"label":["a"]}`, 400, vane.EINVALID, "", `unknown field "label"`},
		{"ErrUnlabelNoVersion", "DELETE", "/v1/labels/lab/p?label=a", "", 400, vane.EINVALID, "", `"version" is required`},
		{"ErrUnlabelNoLabel", "DELETE", "/v1/labels/lab/p?version=1", "", 400, vane.EINVALID, "", `"label" is required`},
		{"ErrUnlabelBadVersion", "DELETE", "/v1/labels/lab/p?version=one&label=a", "", 400, vane.EINVALID, "", `"version"`},
		{"ErrUnlabelNotFound", "DELETE", "/v1/labels/lab/nope?version=1&label=a", "", 404, vane.ENOTFOUND, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, c.method, c.path, c.body).WantError(t, c.status, c.code, c.detail, c.contains)
		})
	}
	t.Run("ErrLabelLimit", func(t *testing.T) {
		var labels []string
		for i := range vane.MaxLabelsPerVersion {
			labels = append(labels, fmt.Sprintf(`"l%d"`, i))
		}
		s.Do(t, "PUT", "/v1/labels/lab/p", `{"version":2,"labels":[`+strings.Join(labels, ",")+`]}`).Want(t, 200, nil)
		s.Do(t, "PUT", "/v1/labels/lab/p", `{"version":2,"labels":["one-more"]}`).
			WantError(t, 422, vane.ELIMIT, vane.DetailParameterVersionLabelLimitExceeded)
	})
}

type tagsResult struct {
	Tags map[string]string `json:"tags"`
}

func TestTags(t *testing.T) {
	s := MustOpen(t)
	s.Do(t, "PUT", "/v1/parameters/tag/p", `{"value":"v","type":"String","tags":{"team":"core"}}`).Want(t, 201, nil)

	var res tagsResult
	s.Do(t, "GET", "/v1/tags/tag/p", "").Want(t, 200, &res)
	if !reflect.DeepEqual(res.Tags, map[string]string{"team": "core"}) {
		t.Fatalf("tags %v", res.Tags)
	}
	res = tagsResult{}
	s.Do(t, "PUT", "/v1/tags/tag/p", `{"tags":{"env":"prod","team":"platform","owner":"ann"}}`).Want(t, 200, &res)
	if !reflect.DeepEqual(res.Tags, map[string]string{"env": "prod", "team": "platform", "owner": "ann"}) {
		t.Fatalf("tags after PUT %v", res.Tags)
	}
	res = tagsResult{}
	s.Do(t, "DELETE", "/v1/tags/tag/p?key=env&key=owner&key=absent", "").Want(t, 200, &res)
	if !reflect.DeepEqual(res.Tags, map[string]string{"team": "platform"}) {
		t.Fatalf("tags after DELETE %v", res.Tags)
	}
	s.Do(t, "DELETE", "/v1/tags/tag/p?key=team", "").Want(t, 200, nil)
	r := s.Do(t, "GET", "/v1/tags/tag/p", "").Want(t, 200, nil)
	if strings.TrimSpace(string(r.Body)) != `{"tags":{}}` {
		t.Fatalf("no tags served as %s", r.Body)
	}

	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code, detail, contains   string
	}{
		{"ErrGetNotFound", "GET", "/v1/tags/tag/nope", "", 404, vane.ENOTFOUND, vane.DetailInvalidResourceID, ""},
		{"ErrPutNotFound", "PUT", "/v1/tags/tag/nope", `{"tags":{"a":"b"}}`, 404, vane.ENOTFOUND, vane.DetailInvalidResourceID, ""},
		{"ErrDeleteNotFound", "DELETE", "/v1/tags/tag/nope?key=a", "", 404, vane.ENOTFOUND, vane.DetailInvalidResourceID, ""},
		{"ErrNoTags", "PUT", "/v1/tags/tag/p", `{"tags":{}}`, 400, vane.EINVALID, "", "tag"},
		{"ErrTagsType", "PUT", "/v1/tags/tag/p", `{"tags":{"a":1}}`, 400, vane.EINVALID, "", `must be a string`},
		{"ErrReservedKey", "PUT", "/v1/tags/tag/p", `{"tags":{"aws:x":"1"}}`, 400, vane.EINVALID, "", "reserved"},
		{"ErrNoKey", "DELETE", "/v1/tags/tag/p", "", 400, vane.EINVALID, "", `"key" is required`},
		{"ErrTooMany", "PUT", "/v1/tags/tag/p", `{"tags":` + manyTags(vane.MaxTagsPerResource+1) + `}`, 422, vane.ELIMIT, vane.DetailTooManyTags, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Do(t, c.method, c.path, c.body).WantError(t, c.status, c.code, c.detail, c.contains)
		})
	}
}
