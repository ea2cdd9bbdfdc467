// Package ui serves Ariadne's web UI: the single-page application that
// `make web` builds from web/ into dist/, embedded in the binary so that a
// server needs no files beside it and `go build` needs no npm.
//
// The package only serves files. It must not answer API paths: the server
// mounts the API on /api/ and this handler on "/", and a request for a
// missing /api/ path that reaches here still gets a 404, never index.html.
package ui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var embedded embed.FS

// Cache lifetimes: Vite names every file under assets/ by a hash of its
// contents, so they never change; everything else (index.html, favicon) must
// be revalidated so that an upgraded server is picked up at once.
const (
	immutableCache = "public, max-age=31536000, immutable"
	revalidate     = "no-cache"
)

// contentSecurityPolicy allows the app's own files and API only: no inline
// script (the theme bootstrap is a file for this reason), no third-party
// origin, no framing. A captured payload that contains HTML is shown as
// text by React; this is the second line of defence.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the UI: a file of dist when one matches the path, and
// index.html for any other path that is not an API path and has no file
// extension, so that client-side routes (/search, /trace/…) load the app.
func Handler() http.Handler {
	dist, err := fs.Sub(embedded, "dist")
	if err != nil {
		// The embed pattern guarantees dist exists; this cannot happen at run time.
		panic("ui: embedded dist missing: " + err.Error())
	}
	return &handler{files: dist, gz: map[string][]byte{}}
}

type handler struct {
	files fs.FS
	mu    sync.Mutex
	gz    map[string][]byte // gzip of compressible files, made on first request
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if name == "" {
		name = "index.html"
	}
	data, err := fs.ReadFile(h.files, name)
	if err != nil {
		// A path with an extension names a file (a stale asset after an
		// upgrade, a typo): answer 404 rather than HTML the browser would
		// try to run as a script.
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		name = "index.html"
		if data, err = fs.ReadFile(h.files, name); err != nil {
			http.Error(w, "UI not built: run make web", http.StatusNotFound)
			return
		}
	}
	hdr := w.Header()
	if strings.HasPrefix(name, "assets/") {
		hdr.Set("Cache-Control", immutableCache)
	} else {
		hdr.Set("Cache-Control", revalidate)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	if name == "index.html" {
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "same-origin")
	}
	if compressible(name) {
		// Caches must key on the encoding whether or not this answer is compressed.
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			hdr.Set("Content-Encoding", "gzip")
			if hdr.Get("Content-Type") == "" {
				hdr.Set("Content-Type", contentType(name))
			}
			data = h.gzipped(name, data)
		}
	}
	// Embedded files have no modification time; hashed names and no-cache
	// already make revalidation right, so no Last-Modified is sent.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// gzipped returns the gzip of a file, compressing it once per handler. The
// set of files is fixed by the embed, so the cache is bounded.
func (h *handler) gzipped(name string, data []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if z, ok := h.gz[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(data)
	zw.Close()
	h.gz[name] = buf.Bytes()
	return h.gz[name]
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".html", ".js", ".css", ".svg", ".json", ".map", ".txt":
		return true
	}
	return false
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".map":
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
