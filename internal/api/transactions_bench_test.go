package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
)

// BenchmarkTransactionJSON encodes a transaction of 50 traces and 5,000
// span summaries, the size the correlation benchmark fetches.
func BenchmarkTransactionJSON(b *testing.B) {
	tx := &correlate.Transaction{Status: "ok"}
	for i := 0; i < 5000; i++ {
		var t model.TraceID
		t[0] = byte(i / 100)
		var s model.SpanID
		s[0], s[1] = byte(i>>8), byte(i)
		tx.Spans = append(tx.Spans, model.Span{TraceID: t, SpanID: s, ParentSpanID: s, Name: fmt.Sprintf("op-%d", i%20),
			Service: "svc", Function: "fn", StartTime: 1795645800000000000 + int64(i), DurationNs: 1000,
			InvocationID: "8f5d2c1e-0000-4000-8000-000000000001", MessageIDs: []string{"0b8e5f7a-1111-4222-8333-944455556666"}})
	}
	for i := 0; i < 50; i++ {
		tx.Traces = append(tx.Traces, correlate.TraceInfo{Status: "ok"})
	}
	b.ReportAllocs()
	var buf bytes.Buffer
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := json.NewEncoder(&buf).Encode(toTransactionResponse(tx)); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
