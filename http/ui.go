package http

import (
	"net/http"
	"strings"
)

// isUIPath reports whether a request path is the dashboard's.
func isUIPath(p string) bool { return p == "/ui" || strings.HasPrefix(p, "/ui/") }

// serveUI serves the dashboard's files, and redirects GET / (what a
// browser asks for first) and /ui to /ui/. It returns the status sent.
func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) int {
	if r.URL.Path == "/" || r.URL.Path == "/ui" {
		w.Header().Set("Location", "/ui/")
		w.WriteHeader(http.StatusFound)
		return http.StatusFound
	}
	rec := &statusRecorder{ResponseWriter: w}
	s.UI.ServeHTTP(rec, r)
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// statusRecorder notes the status a handler sent.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
