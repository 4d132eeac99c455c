package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
)

// BaselineHandler returns a bare net/http handler that answers every request
// with status 200, Content-Type application/json and the constant body. It
// is the floor a Vane GET is compared against: the least work net/http can
// do to serve the same bytes. body is copied, so the caller may reuse it.
func BaselineHandler(body []byte) http.Handler {
	b := bytes.Clone(body)
	if b == nil {
		b = []byte{}
	}
	length := strconv.Itoa(len(b))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		w.WriteHeader(http.StatusOK)
		w.Write(b)
	})
}

// Response is a recorded HTTP response to replay: the request's method and
// URL path it answers, and the exact status, Content-Type and body.
type Response struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

// ReplayHandler returns a bare net/http handler that answers a request
// whose method and URL path match one of rs with that response's exact
// status, Content-Type, Content-Length and body, as BaselineHandler does
// for one constant body, and any other request with 404 and no body. Like
// BaselineHandler it does not read the request body (net/http drains a
// small one before reusing the connection). It returns an error if two
// responses answer the same method and path, or a status is not 200–599.
func ReplayHandler(rs []Response) (http.Handler, error) {
	type reply struct {
		status      int
		contentType string
		length      string
		body        []byte
	}
	routes := make(map[string]*reply, len(rs))
	for _, r := range rs {
		k := r.Method + " " + r.Path
		if _, dup := routes[k]; dup {
			return nil, fmt.Errorf("bench: two responses for %s", k)
		}
		if r.Status < 200 || r.Status > 599 {
			return nil, fmt.Errorf("bench: %s: status %d is not 200–599", k, r.Status)
		}
		b := bytes.Clone(r.Body)
		if b == nil {
			b = []byte{}
		}
		routes[k] = &reply{status: r.Status, contentType: r.ContentType, length: strconv.Itoa(len(b)), body: b}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNotFound)
			return
		}
		h := w.Header()
		if rp.contentType != "" {
			h.Set("Content-Type", rp.contentType)
		}
		h.Set("Content-Length", rp.length)
		w.WriteHeader(rp.status)
		w.Write(rp.body)
	}), nil
}
