package bench

import (
	"bytes"
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
