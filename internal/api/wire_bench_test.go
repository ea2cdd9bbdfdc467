package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
)

// benchTrace is shaped like the benchmark data set (tracegen): n spans of
// 11 attributes each, a few of them arrays and maps.
func benchTrace(n int) *model.Trace {
	t := &model.Trace{}
	for i := 0; i < n; i++ {
		attrs := make(model.Attributes, 0, 11)
		for k := 0; k < 8; k++ {
			attrs = append(attrs, model.Attr{Key: fmt.Sprintf("key%02d", k), Value: model.Value{Type: model.TypeString, Str: fmt.Sprintf("value-%d", i*k)}})
		}
		attrs = append(attrs,
			model.Attr{Key: "n", Value: model.Value{Type: model.TypeInt, Str: "12345"}},
			model.Attr{Key: "ids", Value: model.Value{Type: model.TypeArray, Str: `{"arrayValue":{"values":[{"stringValue":"sqs:1"},{"stringValue":"sqs:2"}]}}`}},
			model.Attr{Key: "m", Value: model.Value{Type: model.TypeMap, Str: `{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}`}},
		)
		t.Spans = append(t.Spans, model.Span{
			TraceID: model.TraceID{1}, SpanID: model.SpanID{byte(i), byte(i >> 8), 1}, ParentSpanID: model.SpanID{1},
			StartTime: 1795645800000000000 + int64(i)*1000, DurationNs: 5000, Name: "op", Service: "svc",
			Attributes: attrs, ResourceAttributes: attrs[:2],
		})
	}
	return t
}

// BenchmarkTraceJSON compares the append encoder the API serves with with
// encoding/json over the wire types it replaced.
func BenchmarkTraceJSON(b *testing.B) {
	for _, n := range []int{10, 1000} {
		tr := benchTrace(n)
		size := int64(len(appendTrace(nil, tr)))
		b.Run(fmt.Sprintf("append/spans=%d", n), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var buf []byte
			for i := 0; i < b.N; i++ {
				buf = appendTrace(buf[:0], tr)
			}
		})
		b.Run(fmt.Sprintf("encoding-json/spans=%d", n), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var buf bytes.Buffer
			for i := 0; i < b.N; i++ {
				buf.Reset()
				if err := json.NewEncoder(&buf).Encode(toTraceResponse(tr)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
