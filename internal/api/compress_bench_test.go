package api

import (
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// BenchmarkGzipTrace: the cost of compressing a 20,000-span trace answer
// at the level the API uses, against the other choices it was picked from.
func BenchmarkGzipTrace(b *testing.B) {
	body := appendTrace(nil, benchTrace(20_000))
	b.Logf("%d spans: %.1f MiB of JSON, %.1f MiB gzipped", 20_000, float64(len(body))/(1<<20), float64(len(gzipBody(body)))/(1<<20))
	b.Run("api", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			gzipBody(body)
		}
	})
	for _, lvl := range []int{gzip.BestSpeed, 3, gzip.DefaultCompression} {
		b.Run(fmt.Sprintf("klauspost/level=%d", lvl), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				w, _ := gzip.NewWriterLevel(io.Discard, lvl)
				w.Write(body)
				w.Close()
			}
		})
		b.Run(fmt.Sprintf("stdlib/level=%d", lvl), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				w, _ := stdgzip.NewWriterLevel(io.Discard, lvl)
				w.Write(body)
				w.Close()
			}
		})
	}
}
