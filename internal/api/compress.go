package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// minGzip is the smallest answer sent compressed: below it gzip's header
// and the work outweigh what it saves.
const minGzip = 1024

// gzipLevel favours speed: a large trace answer is tens of MiB of JSON that
// compresses about tenfold even at the fastest level, and the time to
// compress adds to every request's latency, including over loopback.
const gzipLevel = gzip.BestSpeed

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzipLevel) // the level is valid
	return w
}}

// gzipBody compresses body in one piece, so that the answer still has a
// Content-Length and an encoding failure cannot truncate it (compressing
// into memory does not fail).
func gzipBody(body []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body)/6 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(body)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip:
// named with a non-zero quality, or covered by "*" without being refused.
func acceptsGzip(r *http.Request) bool {
	star := false
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			enc, params, _ := strings.Cut(part, ";")
			enc = strings.ToLower(strings.TrimSpace(enc))
			if enc != "gzip" && enc != "x-gzip" && enc != "*" {
				continue
			}
			ok := true
			for p := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					ok = err == nil && q > 0
				}
			}
			if enc == "*" {
				star = ok
				continue
			}
			return ok
		}
	}
	return star
}
