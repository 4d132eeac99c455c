package http

import (
	"net/http"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// tagsJSON is the body of PUT /v1/tags/{name...} and the result of every
// tag route.
type tagsJSON struct {
	Tags map[string]string `json:"tags"`
}

// registerTagRoutes adds the routes that read and change a parameter's
// tags.
func (s *Server) registerTagRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/tags/{name...}", s.named(auth.ActionListTagsForResource, s.handleGetTags))
	mux.HandleFunc("PUT /v1/tags/{name...}", s.namedWrite(auth.ActionAddTagsToResource, s.handlePutTags))
	mux.HandleFunc("DELETE /v1/tags/{name...}", s.namedWrite(auth.ActionRemoveTagsFromResource, s.handleDeleteTags))
}

// handleGetTags serves GET /v1/tags/{name...}.
func (s *Server) handleGetTags(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTags(w, r, pathName(r))
}

// handlePutTags serves PUT /v1/tags/{name...}: it adds or replaces the
// given tags and returns all the parameter's tags.
func (s *Server) handlePutTags(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req tagsJSON
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := pathName(r)
	in := &vane.TagInput{Name: name, Tags: tagList(req.Tags)}
	if s.proposed(w, r, "", vane.BatchItem{Op: vane.BatchTag, Tags: in}) {
		return
	}
	if err := s.Store.AddTags(r.Context(), in); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTags(w, r, name)
}

// handleDeleteTags serves DELETE /v1/tags/{name...}?key=a&key=b: it
// removes tags by key and returns the remaining ones.
func (s *Server) handleDeleteTags(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "key")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keys := q.all("key")
	if len(keys) == 0 {
		s.writeError(w, r, invalidf("query parameter \"key\" is required, once per tag key"))
		return
	}
	name := pathName(r)
	in := &vane.TagInput{Name: name, Keys: keys}
	if s.proposed(w, r, "", vane.BatchItem{Op: vane.BatchUntag, Tags: in}) {
		return
	}
	if err := s.Store.RemoveTags(r.Context(), in); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTags(w, r, name)
}

// writeTags responds with the current tags of a parameter. After a change
// it is a second read, so a concurrent change may show in the result.
func (s *Server) writeTags(w http.ResponseWriter, r *http.Request, name string) {
	tags, err := s.Store.Tags(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := tagsJSON{Tags: make(map[string]string, len(tags))}
	for _, t := range tags {
		out.Tags[t.Key] = t.Value
	}
	writeJSON(w, http.StatusOK, &out)
}
