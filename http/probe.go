package http

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// registerProbeRoutes adds /healthz, /readyz and, when a Gatherer is set,
// /metrics.
func (s *Server) registerProbeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	if s.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(s.Logger.Handler(), slog.LevelError),
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
}

// handleHealthz serves GET /healthz: 200 whenever the process serves HTTP.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

// handleReadyz serves GET /readyz: 200 when the server is open and Ready
// (if set) returns nil, else 503 with the reason.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if !s.open.Load() {
		writeText(w, http.StatusServiceUnavailable, "not ready: server is not open")
		return
	}
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.ReadyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ready")
}
