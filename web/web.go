// Package web is Vane's dashboard: one page, /ui/, and the few files it
// loads, embedded in the binary, so that `vane serve` needs nothing else
// and a fresh clone runs it with no JavaScript build.
//
// The page is a small hand-written ES-module application that talks to
// the same /v1 JSON API as the CLI, with a session cookie in place of the
// bearer token (package http). We chose that over server-rendered
// templates for two reasons:
//
//   - Every read and write the dashboard makes is an ordinary API request,
//     so access control, validation, the checked write path and the audit
//     history apply to it by construction: the dashboard has no data route
//     of its own that could skip a check.
//   - A change made elsewhere must show on an open page within a second.
//     The page already holds the flags as data and follows the watch
//     stream (GET /v1/watch), so it re-renders one cell, where a
//     server-rendered page would need a second rendering path for the
//     update.
//
// There is no framework and no build step: modern browsers load ES
// modules natively, and the whole application is a few tens of kilobytes
// before compression. Pages build the DOM with textContent only, never
// innerHTML from data, and the Content-Security-Policy this package sends
// forbids inline script and style, and any script not served from here.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every file of the dashboard: scripts,
// styles and connections from this server only, no inline script or
// style attribute, no framing, no plugins.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// file is one embedded file, ready to serve.
type file struct {
	body, gzipped []byte // gzipped is nil when compressing doesn't pay
	etag, ctype   string
}

// Handler serves the dashboard under prefix (such as "/ui/"): the page
// itself at prefix and its files below it.
type Handler struct {
	prefix string
	files  map[string]*file
}

// New returns the dashboard's handler for URLs under prefix, which must
// end in "/".
func New(prefix string) *Handler {
	h := &Handler{prefix: prefix, files: map[string]*file{}}
	sub, _ := fs.Sub(static, "static")
	fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &file{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			ctype: mime.TypeByExtension(path.Ext(name))}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		if buf.Len() < len(b)*9/10 {
			f.gzipped = buf.Bytes()
		}
		h.files[name] = f
		return nil
	})
	return h
}

// Size returns the total size of the dashboard's files, as stored and as
// sent to a client that accepts gzip.
func (h *Handler) Size() (raw, gzipped int) {
	for _, f := range h.files {
		raw += len(f.body)
		if f.gzipped != nil {
			gzipped += len(f.gzipped)
		} else {
			gzipped += len(f.body)
		}
	}
	return raw, gzipped
}

// ServeHTTP serves a file of the dashboard. Files are revalidated on
// every load (ETag), so a new binary's files are never mixed with an
// old one's from the browser's cache.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	f := h.files[name]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", f.etag)
	hdr.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gzipped != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		body = f.gzipped
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}
