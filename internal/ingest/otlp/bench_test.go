package otlp

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/ariadnehq/ariadne/bench/tracegen"
	"github.com/ariadnehq/ariadne/internal/model"
)

// benchTraces is one request of the benchmark data set: 100 traces of 10
// spans, 11 attributes each from 97 keys × 1000 values (tracegen's shape).
func benchTemplate(b *testing.B) *tracegen.Template {
	b.Helper()
	tpl, err := tracegen.New(1, 100)
	if err != nil {
		b.Fatal(err)
	}
	return tpl
}

// reportSpans adds per-item figures (spans, or log records for the log
// benchmarks, which reuse the "span" unit names). cpu-ns/span is the process CPU time
// (all threads: GC included) per span: on a machine shared with other work
// it is the figure that means something, where wall-clock ns/op does not.
func reportSpans(b *testing.B, spans int, cpuStart time.Duration) {
	b.Helper()
	total := float64(spans) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/span")
	b.ReportMetric(float64((cpuTime()-cpuStart).Nanoseconds())/total, "cpu-ns/span")
}

// cpuTime is the CPU time this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeNormalizeProto is the CPU ingest spends per request before
// the store: the direct protobuf path, decoding and normalisation in one.
func BenchmarkDecodeNormalizeProto(b *testing.B) {
	tpl := benchTemplate(b)
	lim := DefaultLimits()
	b.SetBytes(int64(len(tpl.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		var batch model.Batch
		rej, err := DecodeNormalizeTraces(tpl.Body, EncodingProto, lim, &batch)
		if err != nil || rej.Total != 0 || len(batch.Spans) != tpl.Spans {
			b.Fatalf("normalised %d spans, %d rejected, err %v", len(batch.Spans), rej.Total, err)
		}
	}
	reportSpans(b, tpl.Spans, cpu)
}

// BenchmarkDecodeNormalizeProtoPdata is the same work through pdata's
// decoder, the path JSON bodies take; the difference is why the direct
// path exists.
func BenchmarkDecodeNormalizeProtoPdata(b *testing.B) {
	tpl := benchTemplate(b)
	lim := DefaultLimits()
	b.SetBytes(int64(len(tpl.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		td, err := DecodeTraces(tpl.Body, EncodingProto)
		if err != nil {
			b.Fatal(err)
		}
		var batch model.Batch
		if rej := NormalizeTraces(td, lim, &batch); rej.Total != 0 || len(batch.Spans) != tpl.Spans {
			b.Fatalf("normalised %d spans, %d rejected", len(batch.Spans), rej.Total)
		}
	}
	reportSpans(b, tpl.Spans, cpu)
}

// BenchmarkDecodeProto is pdata's share of BenchmarkDecodeNormalizeProtoPdata.
func BenchmarkDecodeProto(b *testing.B) {
	tpl := benchTemplate(b)
	b.SetBytes(int64(len(tpl.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeTraces(tpl.Body, EncodingProto); err != nil {
			b.Fatal(err)
		}
	}
	reportSpans(b, tpl.Spans, cpu)
}

// BenchmarkNormalize is normalisation alone, on an already decoded request.
func BenchmarkNormalize(b *testing.B) {
	tpl := benchTemplate(b)
	td, err := DecodeTraces(tpl.Body, EncodingProto)
	if err != nil {
		b.Fatal(err)
	}
	lim := DefaultLimits()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		var batch model.Batch
		NormalizeTraces(td, lim, &batch)
	}
	reportSpans(b, tpl.Spans, cpu)
}

func BenchmarkDecodeNormalizeJSON(b *testing.B) {
	tpl := benchTemplate(b)
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(tpl.Body); err != nil {
		b.Fatal(err)
	}
	body, err := req.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	lim := DefaultLimits()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		td, err := DecodeTraces(body, EncodingJSON)
		if err != nil {
			b.Fatal(err)
		}
		var batch model.Batch
		NormalizeTraces(td, lim, &batch)
	}
	reportSpans(b, tpl.Spans, cpu)
}

type discardWriter struct{}

func (discardWriter) Write(context.Context, *model.Batch) error { return nil }

// BenchmarkHTTPHandler is the whole OTLP/HTTP path short of the network and
// the store: headers, gzip, decoding, normalisation, metrics, response.
func BenchmarkHTTPHandler(b *testing.B) {
	tpl := benchTemplate(b)
	body := gzipped(b, tpl.Body)
	r, err := NewReceiver(discardWriter{}, Settings{})
	if err != nil {
		b.Fatal(err)
	}
	h := r.HTTPHandler()
	b.SetBytes(int64(len(tpl.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, PathTraces, bytes.NewReader(body))
		req.Header.Set("Content-Type", ContentTypeProto)
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	reportSpans(b, tpl.Spans, cpu)
}

// BenchmarkGRPCExport is the OTLP/gRPC path over a real loopback
// connection, client cost included.
func BenchmarkGRPCExport(b *testing.B) {
	tpl := benchTemplate(b)
	h := newGRPCHarness(b, Limits{})
	h.r.w = discardWriter{}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(tpl.Body); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b.SetBytes(int64(len(tpl.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := h.traces.Export(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportSpans(b, tpl.Spans, cpu)
}

// benchLogs is a request of 1000 log records shaped like a function's log
// lines: a message body, trace context and three attributes.
func benchLogs(b *testing.B) []byte {
	b.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "orders")
	rl.Resource().Attributes().PutStr("faas.name", "orders-fn")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < 1000; i++ {
		l := lrs.AppendEmpty()
		l.SetTimestamp(pcommon.Timestamp(t0 + i))
		l.SetTraceID(tid1)
		l.SetSpanID(sid1)
		l.SetSeverityNumber(plog.SeverityNumberInfo)
		l.Body().SetStr("processed order o-" + strconv.Itoa(i) + " in 12 ms")
		l.Attributes().PutStr("faas.invocation_id", "8f5c-req-"+strconv.Itoa(i%10))
		l.Attributes().PutStr("ariadne.source", "lambda")
		l.Attributes().PutInt("line", int64(i))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkDecodeNormalizeLogsProto(b *testing.B) {
	body := benchLogs(b)
	lim := DefaultLimits()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		var batch model.Batch
		if _, err := DecodeNormalizeLogs(body, EncodingProto, lim, &batch); err != nil || len(batch.Logs) != 1000 {
			b.Fatalf("%d logs, err %v", len(batch.Logs), err)
		}
	}
	reportSpans(b, 1000, cpu)
}

func BenchmarkDecodeNormalizeLogsPdata(b *testing.B) {
	body := benchLogs(b)
	lim := DefaultLimits()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		ld, err := DecodeLogs(body, EncodingProto)
		if err != nil {
			b.Fatal(err)
		}
		var batch model.Batch
		NormalizeLogs(ld, lim, &batch)
	}
	reportSpans(b, 1000, cpu)
}
