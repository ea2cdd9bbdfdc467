package ui

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// asset returns the path of one hashed JavaScript file of the embedded build.
func asset(t *testing.T) string {
	t.Helper()
	entries, err := fs.ReadDir(embedded, "dist/assets")
	if err != nil {
		t.Fatalf("read embedded assets: %v", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".js") {
			return "/assets/" + e.Name()
		}
	}
	t.Fatal("no JavaScript asset in dist/assets: run make web")
	return ""
}

func TestHandler(t *testing.T) {
	js := asset(t)
	tests := []struct {
		name, method, path string
		status             int
		cache, typ, body   string
	}{
		{"root serves the app", "GET", "/", 200, "no-cache", "text/html", `<div id="root">`},
		{"client route serves the app", "GET", "/search?service=payment", 200, "no-cache", "text/html", `<div id="root">`},
		{"deep client route", "GET", "/trace/0af7651916cd43dd8448eb211c80319c", 200, "no-cache", "text/html", `<div id="root">`},
		{"hashed asset is immutable", "GET", js, 200, "immutable", "javascript", ""},
		{"unhashed file revalidates", "GET", "/favicon.svg", 200, "no-cache", "image/svg+xml", "<svg"},
		{"missing asset is 404, not HTML", "GET", "/assets/index-deadbeef.js", 404, "", "", ""},
		{"API paths are never the app", "GET", "/api/v1/nothing", 404, "", "", ""},
		{"dot segments are cleaned", "GET", "/assets/../index.html", 200, "no-cache", "text/html", `<div id="root">`},
		{"HEAD works", "HEAD", "/", 200, "no-cache", "text/html", ""},
		{"POST is refused", "POST", "/", 405, "", "", ""},
	}
	h := Handler()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			res := rec.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tc.status)
			}
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, tc.cache) {
				t.Errorf("Cache-Control = %q, want it to contain %q", got, tc.cache)
			}
			if got := res.Header.Get("Content-Type"); !strings.Contains(got, tc.typ) {
				t.Errorf("Content-Type = %q, want it to contain %q", got, tc.typ)
			}
			body, _ := io.ReadAll(res.Body)
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body does not contain %q", tc.body)
			}
		})
	}
}

func TestHandlerSecurityHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/search", nil))
	h := rec.Result().Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want scripts from self only", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("X-Frame-Options = %q", h.Get("X-Frame-Options"))
	}
	// The policy forbids inline scripts, so the page must have none.
	index, _ := fs.ReadFile(embedded, "dist/index.html")
	if regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`).Match(index) {
		t.Error("index.html has an inline script, which the Content-Security-Policy blocks")
	}
}

func TestHandlerGzip(t *testing.T) {
	js := asset(t)
	h := Handler()
	for i := 0; i < 2; i++ { // the second answer comes from the cache
		req := httptest.NewRequest("GET", js, nil)
		req.Header.Set("Accept-Encoding", "br, gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
		}
		if !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
			t.Errorf("Content-Type = %q", res.Header.Get("Content-Type"))
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || len(plain) == 0 {
			t.Fatalf("decompress: %v (%d bytes)", err, len(plain))
		}
	}
	// A client that does not ask for gzip gets the plain file.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", js, nil))
	if rec.Result().Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that did not ask for it")
	}
	if rec.Result().Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("Vary = %q on the plain answer, want Accept-Encoding", rec.Result().Header.Get("Vary"))
	}
}

// TestBuildIsComplete guards against committing a half-built dist: every
// asset that index.html loads must be embedded.
func TestBuildIsComplete(t *testing.T) {
	index, err := fs.ReadFile(embedded, "dist/index.html")
	if err != nil {
		t.Fatalf("dist/index.html: %v (run make web)", err)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d files; want the script and the stylesheet at least", len(refs))
	}
	for _, m := range refs {
		if _, err := fs.Stat(embedded, "dist"+m[1]); err != nil {
			t.Errorf("index.html loads %s, which is not embedded: %v", m[1], err)
		}
	}
}
