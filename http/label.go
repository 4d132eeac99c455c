package http

import (
	"net/http"

	"github.com/vanehq/vane"
	"github.com/vanehq/vane/auth"
)

// labelRequest is the body of PUT /v1/labels/{name...}.
type labelRequest struct {
	Version int64    `json:"version"`
	Labels  []string `json:"labels"`
}

// labelResponse is the result of PUT /v1/labels/{name...}.
type labelResponse struct {
	Version       int64    `json:"version"`
	InvalidLabels []string `json:"invalid_labels"`
}

// unlabelResponse is the result of DELETE /v1/labels/{name...}.
type unlabelResponse struct {
	RemovedLabels []string `json:"removed_labels"`
	InvalidLabels []string `json:"invalid_labels"`
}

// registerLabelRoutes adds the routes that move labels between versions.
func (s *Server) registerLabelRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/labels/{name...}", s.namedWrite(auth.ActionLabelParameterVersion, s.handlePutLabels))
	mux.HandleFunc("DELETE /v1/labels/{name...}", s.namedWrite(auth.ActionUnlabelParameterVersion, s.handleDeleteLabels))
}

// handlePutLabels serves PUT /v1/labels/{name...}: it attaches labels to a
// version (the latest when version is 0 or omitted).
func (s *Server) handlePutLabels(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req labelRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	in := &vane.LabelInput{Name: pathName(r), Version: req.Version, Labels: req.Labels}
	if s.proposed(w, r, "", vane.BatchItem{Op: vane.BatchLabel, Label: in}) {
		return
	}
	res, err := s.Store.Label(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &labelResponse{Version: res.Version, InvalidLabels: nonNil(res.InvalidLabels)})
}

// handleDeleteLabels serves DELETE /v1/labels/{name...}?version=N&label=a:
// it removes labels from a version.
func (s *Server) handleDeleteLabels(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "version", "label")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version, ok, err := q.number("version", 1)
	if err != nil {
		s.writeError(w, r, err)
		return
	} else if !ok {
		s.writeError(w, r, invalidf("query parameter \"version\" is required"))
		return
	}
	labels := q.all("label")
	if len(labels) == 0 {
		s.writeError(w, r, invalidf("query parameter \"label\" is required, once per label"))
		return
	}
	in := &vane.LabelInput{Name: pathName(r), Version: version, Labels: labels}
	if s.proposed(w, r, "", vane.BatchItem{Op: vane.BatchUnlabel, Label: in}) {
		return
	}
	res, err := s.Store.Unlabel(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &unlabelResponse{
		RemovedLabels: nonNil(res.RemovedLabels),
		InvalidLabels: nonNil(res.InvalidLabels),
	})
}

// nonNil returns s, or an empty slice for nil, so that lists are served as
// [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
