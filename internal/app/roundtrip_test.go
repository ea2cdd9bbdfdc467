package app_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
)

// TestOTelSDKRoundTrip sends spans and logs with the real OpenTelemetry Go
// exporters and checks that every field comes back from the store exactly.
func TestOTelSDKRoundTrip(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	exporters := map[string]func() (*otlptrace.Exporter, error){
		"grpc": func() (*otlptrace.Exporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(a.OTLPGRPCAddr()), otlptracegrpc.WithInsecure())
		},
		"http": func() (*otlptrace.Exporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(a.OTLPHTTPAddr()), otlptracehttp.WithInsecure())
		},
		"http-gzip": func() (*otlptrace.Exporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(a.OTLPHTTPAddr()), otlptracehttp.WithInsecure(),
				otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		},
	}
	for name, newExp := range exporters {
		t.Run(name, func(t *testing.T) {
			exp, err := newExp()
			if err != nil {
				t.Fatal(err)
			}
			rec := tracetest.NewSpanRecorder()
			res := resource.NewSchemaless(
				attribute.String("service.name", "roundtrip-"+name),
				attribute.Int("res.int", 7),
				attribute.StringSlice("res.list", []string{"a", "b"}),
			)
			tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
				sdktrace.WithSpanProcessor(rec), sdktrace.WithBatcher(exp))
			tracer := tp.Tracer("roundtrip", trace.WithInstrumentationVersion("1.2.3"))

			_, other := tracer.Start(ctx, "linked-elsewhere", trace.WithNewRoot())
			other.End()
			start := time.Unix(1_764_000_000, 123456789)
			rctx, root := tracer.Start(ctx, "GET /orders/{id}", trace.WithNewRoot(), trace.WithTimestamp(start),
				trace.WithSpanKind(trace.SpanKindServer),
				trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("link.why", "retry")}}),
				trace.WithAttributes(
					attribute.String("http.request.method", "GET"),
					attribute.String("http.route", "/orders/{id}"),
					attribute.Int("http.response.status_code", 500),
					attribute.Bool("flag", true),
					attribute.Float64("ratio", 0.1),
					attribute.Float64("big", 1e300),
					attribute.Int64("neg", -42),
					attribute.StringSlice("tags", []string{"x", "", "ünïcode"}),
					attribute.Int64Slice("ints", []int64{1, -2, 1 << 62}),
					attribute.Float64Slice("floats", []float64{1.5, -0.25}),
					attribute.BoolSlice("bools", []bool{true, false}),
					attribute.String("empty", ""),
				))
			_, child := tracer.Start(rctx, "SELECT orders", trace.WithTimestamp(start.Add(time.Millisecond)),
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system.name", "postgresql")))
			child.AddEvent("rows", trace.WithTimestamp(start.Add(2*time.Millisecond)), trace.WithAttributes(attribute.Int("n", 3)))
			child.End(trace.WithTimestamp(start.Add(3 * time.Millisecond)))
			root.RecordError(errors.New("boom: order 17 not found"), trace.WithTimestamp(start.Add(4*time.Millisecond)))
			root.SetStatus(codes.Error, "order lookup failed")
			root.End(trace.WithTimestamp(start.Add(5 * time.Millisecond)))
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatalf("export: %v", err)
			}

			sent := map[model.SpanID]sdktrace.ReadOnlySpan{}
			for _, s := range rec.Ended() {
				sent[model.SpanID(s.SpanContext().SpanID())] = s
			}
			for _, traceID := range []trace.TraceID{root.SpanContext().TraceID(), other.SpanContext().TraceID()} {
				got, err := a.Store().Trace(ctx, model.TraceID(traceID))
				if err != nil {
					t.Fatalf("read trace %s: %v", traceID, err)
				}
				for _, g := range got.Spans {
					want, ok := sent[g.SpanID]
					if !ok {
						t.Fatalf("stored span %s was never sent", g.SpanID)
					}
					delete(sent, g.SpanID)
					compareSpan(t, want, g)
				}
			}
			if len(sent) != 0 {
				t.Fatalf("%d sent spans missing from the store", len(sent))
			}
		})
	}
}

func compareSpan(t *testing.T, want sdktrace.ReadOnlySpan, got model.Span) {
	t.Helper()
	name := want.Name()
	eq := func(field string, w, g any) {
		t.Helper()
		if !reflect.DeepEqual(w, g) {
			t.Errorf("span %q %s: got %v, want %v", name, field, g, w)
		}
	}
	eq("trace id", model.TraceID(want.SpanContext().TraceID()), got.TraceID)
	eq("parent", model.SpanID(want.Parent().SpanID()), got.ParentSpanID)
	eq("name", want.Name(), got.Name)
	eq("kind", model.SpanKind(want.SpanKind()), got.Kind)
	eq("start", want.StartTime().UnixNano(), got.StartTime)
	eq("duration", want.EndTime().Sub(want.StartTime()).Nanoseconds(), got.DurationNs)
	wantStatus := map[codes.Code]model.StatusCode{codes.Unset: model.StatusUnset, codes.Ok: model.StatusOK, codes.Error: model.StatusError}[want.Status().Code]
	eq("status", wantStatus, got.StatusCode)
	eq("status message", want.Status().Description, got.StatusMessage)
	svc, _ := want.Resource().Set().Value("service.name")
	eq("service", svc.AsString(), got.Service)
	eq("scope", want.InstrumentationScope().Name+"@"+want.InstrumentationScope().Version, got.ScopeName+"@"+got.ScopeVersion)
	eq("attributes", otelMap(want.Attributes()), storedMap(t, got.Attributes))
	eq("resource", otelMap(want.Resource().Attributes()), storedMap(t, got.ResourceAttributes))
	if len(want.Events()) != len(got.Events) {
		t.Fatalf("span %q: %d events, want %d", name, len(got.Events), len(want.Events()))
	}
	for i, e := range want.Events() {
		eq("event name", e.Name, got.Events[i].Name)
		eq("event time", e.Time.UnixNano(), got.Events[i].Time)
		eq("event attributes", otelMap(e.Attributes), storedMap(t, got.Events[i].Attributes))
	}
	if len(want.Links()) != len(got.Links) {
		t.Fatalf("span %q: %d links, want %d", name, len(got.Links), len(want.Links()))
	}
	for i, l := range want.Links() {
		eq("link trace", model.TraceID(l.SpanContext.TraceID()), got.Links[i].TraceID)
		eq("link span", model.SpanID(l.SpanContext.SpanID()), got.Links[i].SpanID)
		eq("link attributes", otelMap(l.Attributes), storedMap(t, got.Links[i].Attributes))
	}
}

func otelMap(kvs []attribute.KeyValue) map[string]any {
	m := pcommon.NewMap()
	for _, kv := range kvs {
		k := string(kv.Key)
		switch kv.Value.Type() {
		case attribute.BOOL:
			m.PutBool(k, kv.Value.AsBool())
		case attribute.INT64:
			m.PutInt(k, kv.Value.AsInt64())
		case attribute.FLOAT64:
			m.PutDouble(k, kv.Value.AsFloat64())
		case attribute.STRING:
			m.PutStr(k, kv.Value.AsString())
		case attribute.BOOLSLICE:
			s := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsBoolSlice() {
				s.AppendEmpty().SetBool(v)
			}
		case attribute.INT64SLICE:
			s := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsInt64Slice() {
				s.AppendEmpty().SetInt(v)
			}
		case attribute.FLOAT64SLICE:
			s := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsFloat64Slice() {
				s.AppendEmpty().SetDouble(v)
			}
		case attribute.STRINGSLICE:
			s := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsStringSlice() {
				s.AppendEmpty().SetStr(v)
			}
		}
	}
	return m.AsRaw()
}

func storedMap(t *testing.T, a model.Attributes) map[string]any {
	t.Helper()
	m := pcommon.NewMap()
	if err := anyvalue.ToMap(a, m); err != nil {
		t.Fatalf("convert stored attributes: %v", err)
	}
	return m.AsRaw()
}

// TestOTelLogsRoundTrip sends log records with the real OTLP/gRPC log
// exporter and reads them back with their trace context and attributes.
func TestOTelLogsRoundTrip(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(a.OTLPGRPCAddr()), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "logsvc"))),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	tp := sdktrace.NewTracerProvider()
	sctx, span := tp.Tracer("t").Start(ctx, "work")
	logger := lp.Logger("roundtrip")
	base := time.Unix(1_764_000_100, 0)
	bodies := []string{"first line", "second: ünïcode", ""}
	for i, b := range bodies {
		var r otellog.Record
		r.SetTimestamp(base.Add(time.Duration(i) * time.Millisecond))
		r.SetSeverity(otellog.SeverityWarn)
		r.SetSeverityText("WARN")
		r.SetBody(attribute.StringValue(b))
		r.AddAttributes(attribute.Int("line", i), attribute.String("faas.invocation_id", "req-1"))
		logger.Emit(sctx, r)
	}
	span.End()
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("export logs: %v", err)
	}
	got, err := a.Store().Trace(ctx, model.TraceID(span.SpanContext().TraceID()))
	if err != nil {
		t.Fatalf("read logs back: %v", err)
	}
	if len(got.Logs) != len(bodies) {
		t.Fatalf("got %d logs, want %d", len(got.Logs), len(bodies))
	}
	sort.Slice(got.Logs, func(i, j int) bool { return got.Logs[i].Time < got.Logs[j].Time })
	for i, l := range got.Logs {
		if l.Body.Str != bodies[i] || l.Body.Type != model.TypeString {
			t.Errorf("log %d body = %+v, want %q", i, l.Body, bodies[i])
		}
		if l.Time != base.Add(time.Duration(i)*time.Millisecond).UnixNano() {
			t.Errorf("log %d time = %d", i, l.Time)
		}
		if l.SpanID != model.SpanID(span.SpanContext().SpanID()) {
			t.Errorf("log %d span id = %s", i, l.SpanID)
		}
		if l.SeverityNumber != uint8(otellog.SeverityWarn) || l.SeverityText != "WARN" {
			t.Errorf("log %d severity = %d %q", i, l.SeverityNumber, l.SeverityText)
		}
		if l.Service != "logsvc" || l.InvocationID != "req-1" {
			t.Errorf("log %d service/invocation = %q/%q", i, l.Service, l.InvocationID)
		}
		if v := l.Attributes.String("line"); v != string(rune('0'+i)) {
			t.Errorf("log %d attribute line = %q", i, v)
		}
	}
}
