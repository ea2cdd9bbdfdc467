package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/ariadnehq/ariadne/internal/api/apitest"
)

// TestGzip: large answers go gzipped to clients that accept it, identical
// once decompressed; small ones, errors and refusing clients get identity.
func TestGzip(t *testing.T) {
	srv := apitest.Server(t, apitest.Store(t))
	fetch := func(path, accept string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		// A transport of its own: the default one would ask for gzip itself
		// and hide the encoding.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	trace := "/api/v1/traces/" + apitest.Checkout.String()
	_, plain := fetch(trace, "")
	if len(plain) < 1024 {
		t.Fatalf("the checkout trace is %d bytes: too small to test compression", len(plain))
	}
	for _, accept := range []string{"gzip", "br, gzip;q=0.5", "deflate, GZIP", "*", "gzip, deflate, br, zstd"} {
		resp, body := fetch(trace, accept)
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, Vary %q", accept, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			continue
		}
		if resp.ContentLength != int64(len(body)) || len(body) >= len(plain) {
			t.Errorf("Accept-Encoding %q: Content-Length %d, body %d bytes, plain %d", accept, resp.ContentLength, len(body), len(plain))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Accept-Encoding %q: decompressed answer differs (%v)", accept, err)
		}
	}
	for _, tc := range []struct{ path, accept string }{
		{trace, ""},
		{trace, "br"},
		{trace, "gzip;q=0"},
		{trace, "*, gzip;q=0"},
		{trace, "*;q=0"},
		{"/api/v1/services", "gzip"}, // small
		{"/api/v1/traces/0123456789abcdef0123456789abcdef", "gzip"}, // an error
	} {
		resp, _ := fetch(tc.path, tc.accept)
		if enc := resp.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("GET %s with Accept-Encoding %q: Content-Encoding %q, want none", tc.path, tc.accept, enc)
		}
	}
	if resp, _ := fetch(trace, "br"); resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("an identity answer that could have been compressed has Vary %q", resp.Header.Get("Vary"))
	}
}
