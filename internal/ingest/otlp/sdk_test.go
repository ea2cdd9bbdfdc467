package otlp

import (
	"context"
	"math"
	"net/url"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
)

// everyType is one attribute of each kind the OTel Go SDK can carry.
func everyType() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("s", "héllo \"quoted\"\n"),
		attribute.String("empty", ""),
		attribute.Bool("b", true),
		attribute.Int64("i", math.MinInt64),
		attribute.Float64("f", 0.1),
		attribute.Float64("nan", math.NaN()),
		attribute.Float64("inf", math.Inf(-1)),
		attribute.BoolSlice("bs", []bool{true, false}),
		attribute.Int64Slice("is", []int64{1, -2, math.MaxInt64}),
		attribute.Float64Slice("fs", []float64{1.5, math.Copysign(0, -1), 1e300}),
		attribute.StringSlice("ss", []string{"a", "", "ünï"}),
		attribute.ByteSlice("bytes", []byte{0, 1, 2, 0xff}),
		attribute.Slice("mixed", attribute.StringValue("x"), attribute.IntValue(3), attribute.SliceValue(attribute.BoolValue(false))),
		attribute.Map("map", attribute.String("k", "v"), attribute.Map("inner", attribute.Float64("pi", 3.14159))),
	}
}

// toPcommon builds the OTLP value the SDK's exporter sends for v.
func toPcommon(t *testing.T, v attribute.Value, dst pcommon.Value) {
	switch v.Type() {
	case attribute.BOOL:
		dst.SetBool(v.AsBool())
	case attribute.INT64:
		dst.SetInt(v.AsInt64())
	case attribute.FLOAT64:
		dst.SetDouble(v.AsFloat64())
	case attribute.STRING:
		dst.SetStr(v.AsString())
	case attribute.BOOLSLICE:
		s := dst.SetEmptySlice()
		for _, b := range v.AsBoolSlice() {
			s.AppendEmpty().SetBool(b)
		}
	case attribute.INT64SLICE:
		s := dst.SetEmptySlice()
		for _, n := range v.AsInt64Slice() {
			s.AppendEmpty().SetInt(n)
		}
	case attribute.FLOAT64SLICE:
		s := dst.SetEmptySlice()
		for _, f := range v.AsFloat64Slice() {
			s.AppendEmpty().SetDouble(f)
		}
	case attribute.STRINGSLICE:
		s := dst.SetEmptySlice()
		for _, x := range v.AsStringSlice() {
			s.AppendEmpty().SetStr(x)
		}
	case attribute.BYTESLICE:
		dst.SetEmptyBytes().FromRaw(v.AsByteSlice())
	case attribute.SLICE:
		s := dst.SetEmptySlice()
		for _, e := range v.AsSlice() {
			toPcommon(t, e, s.AppendEmpty())
		}
	case attribute.MAP:
		m := dst.SetEmptyMap()
		for _, kv := range v.AsMap() {
			toPcommon(t, kv.Value, m.PutEmpty(string(kv.Key)))
		}
	default:
		t.Fatalf("attribute type %v not covered", v.Type())
	}
}

// checkAttrs compares stored attributes with what the SDK recorded, by
// converting the stored ones back into OTLP values: the round trip must be
// exact, order included.
func checkAttrs(t *testing.T, what string, got model.Attributes, want []attribute.KeyValue) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d attributes, want %d: %v", what, len(got), len(want), got)
	}
	for i, kv := range want {
		if got[i].Key != string(kv.Key) {
			t.Fatalf("%s: attribute %d is %q, want %q", what, i, got[i].Key, kv.Key)
		}
		wantV := pcommon.NewValueEmpty()
		toPcommon(t, kv.Value, wantV)
		gotV := pcommon.NewValueEmpty()
		if err := anyvalue.ToPcommon(got[i].Value, gotV); err != nil {
			t.Fatalf("%s: attribute %q: %v", what, kv.Key, err)
		}
		if !sameValue(gotV, wantV) {
			t.Errorf("%s: attribute %q = %s, want %s", what, kv.Key, gotV.AsString(), wantV.AsString())
		}
	}
}

// sameValue is exact equality with NaN equal to itself and -0 distinct from 0.
func sameValue(a, b pcommon.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case pcommon.ValueTypeDouble:
		x, y := a.Double(), b.Double()
		return (math.IsNaN(x) && math.IsNaN(y)) || math.Float64bits(x) == math.Float64bits(y)
	case pcommon.ValueTypeSlice:
		if a.Slice().Len() != b.Slice().Len() {
			return false
		}
		for i := 0; i < a.Slice().Len(); i++ {
			if !sameValue(a.Slice().At(i), b.Slice().At(i)) {
				return false
			}
		}
		return true
	case pcommon.ValueTypeMap:
		if a.Map().Len() != b.Map().Len() {
			return false
		}
		for k, av := range a.Map().All() {
			bv, ok := b.Map().Get(k)
			if !ok || !sameValue(av, bv) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

func testResource(t *testing.T) *sdkresource.Resource {
	res, err := sdkresource.New(context.Background(), sdkresource.WithAttributes(
		attribute.String("service.name", "sdk-svc"),
		attribute.String("faas.name", "sdk-fn"),
		attribute.Int64("faas.max_memory", 256<<20),
	))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOTelSDKTraceExportersRoundTrip sends spans through the real OTel Go
// SDK exporters, gRPC and HTTP, and checks every stored span field against
// what the SDK recorded.
func TestOTelSDKTraceExportersRoundTrip(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	u, _ := url.Parse(h.srv.URL)
	exporters := map[string]func(ctx context.Context) (sdktrace.SpanExporter, error){
		"otlptracegrpc": func(ctx context.Context) (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(h.addr), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithCompressor("gzip"))
		},
		"otlptracehttp": func(ctx context.Context) (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithInsecure(),
				otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		},
	}
	for name, newExp := range exporters {
		t.Run(name, func(t *testing.T) {
			h.w.Reset()
			ctx := ctxT(t)
			exp, err := newExp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(
				sdktrace.WithResource(testResource(t)),
				sdktrace.WithSpanProcessor(rec),
				sdktrace.WithBatcher(exp),
			)
			tracer := tp.Tracer("ariadne-test", trace.WithInstrumentationVersion("0.1.0"))

			_, other := tracer.Start(ctx, "producer", trace.WithSpanKind(trace.SpanKindProducer),
				trace.WithAttributes(attribute.String("messaging.system", "aws_sqs"), attribute.String("messaging.message.id", "m-1")))
			other.End()

			root, span := tracer.Start(ctx, "handler", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(everyType()...),
				trace.WithAttributes(attribute.String("faas.invocation_id", "req-42"), attribute.Bool("faas.coldstart", true),
					attribute.String("ariadne.request.payload", `{"id":1}`)),
				trace.WithLinks(trace.Link{SpanContext: other.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", "batch")}}))
			span.AddEvent("note", trace.WithAttributes(everyType()...))
			span.RecordError(&testError{"broken pipe"})
			_, child := tracer.Start(root, "DynamoDB.Query", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system.name", "aws.dynamodb")))
			time.Sleep(time.Millisecond)
			child.End()
			span.SetStatus(codes.Error, "it failed")
			span.End()

			if err := tp.ForceFlush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}

			stored := h.w.All()
			byID := map[model.SpanID]model.Span{}
			for _, s := range stored.Spans {
				byID[s.SpanID] = s
			}
			ended := rec.Ended()
			if len(stored.Spans) != len(ended) {
				t.Fatalf("stored %d spans, SDK ended %d", len(stored.Spans), len(ended))
			}
			for _, want := range ended {
				got, ok := byID[model.SpanID(want.SpanContext().SpanID())]
				if !ok {
					t.Fatalf("span %q not stored", want.Name())
				}
				checkSpan(t, got, want)
			}

			h := byID[model.SpanID(span.SpanContext().SpanID())]
			if h.Function != "sdk-fn" || h.InvocationID != "req-42" || !h.ColdStart || h.RequestPayload != `{"id":1}` ||
				h.ErrorType != "*otlp.testError" || h.ErrorMessage != "broken pipe" {
				t.Errorf("derived columns of the handler span: %+v", h)
			}
			if len(stored.Invocations) != 1 || stored.Invocations[0].RequestID != "req-42" ||
				stored.Invocations[0].Status != model.InvocationError || stored.Invocations[0].MemoryMB != 256 {
				t.Errorf("invocations %+v", stored.Invocations)
			}
			// producer message id + the handler as callee of a Lambda
			// invoke (lambda:req-42) + the link's two rows
			if len(stored.MessageRefs) != 4 {
				t.Errorf("message refs %+v", stored.MessageRefs)
			}
		})
	}
}

type testError struct{ msg string }

func (e *testError) Error() string { return e.msg }

func checkSpan(t *testing.T, got model.Span, want sdktrace.ReadOnlySpan) {
	t.Helper()
	sc := want.SpanContext()
	if got.TraceID != model.TraceID(sc.TraceID()) || got.ParentSpanID != model.SpanID(want.Parent().SpanID()) {
		t.Errorf("%s: ids %s/%s parent %s", want.Name(), got.TraceID, got.SpanID, got.ParentSpanID)
	}
	if got.Name != want.Name() || got.Kind != model.SpanKind(want.SpanKind()) || got.Flags&0xff != uint32(sc.TraceFlags()) {
		t.Errorf("%s: name %q kind %v flags %x", want.Name(), got.Name, got.Kind, got.Flags)
	}
	if got.StartTime != want.StartTime().UnixNano() || got.EndTime() != want.EndTime().UnixNano() {
		t.Errorf("%s: times %d..%d, want %d..%d", want.Name(), got.StartTime, got.EndTime(), want.StartTime().UnixNano(), want.EndTime().UnixNano())
	}
	wantStatus := map[codes.Code]model.StatusCode{codes.Unset: model.StatusUnset, codes.Ok: model.StatusOK, codes.Error: model.StatusError}[want.Status().Code]
	if got.StatusCode != wantStatus || got.StatusMessage != want.Status().Description {
		t.Errorf("%s: status %v %q", want.Name(), got.StatusCode, got.StatusMessage)
	}
	if got.Service != "sdk-svc" || got.ScopeName != "ariadne-test" || got.ScopeVersion != "0.1.0" {
		t.Errorf("%s: service %q scope %q %q", want.Name(), got.Service, got.ScopeName, got.ScopeVersion)
	}
	checkAttrs(t, want.Name()+" resource", got.ResourceAttributes, want.Resource().Attributes())
	var wantAttrs []attribute.KeyValue
	for _, kv := range want.Attributes() {
		if kv.Key != "ariadne.request.payload" {
			wantAttrs = append(wantAttrs, kv)
		}
	}
	checkAttrs(t, want.Name(), got.Attributes, wantAttrs)
	if len(got.Events) != len(want.Events()) {
		t.Fatalf("%s: %d events, want %d", want.Name(), len(got.Events), len(want.Events()))
	}
	for i, ev := range want.Events() {
		if got.Events[i].Name != ev.Name || got.Events[i].Time != ev.Time.UnixNano() {
			t.Errorf("%s: event %d = %q at %d", want.Name(), i, got.Events[i].Name, got.Events[i].Time)
		}
		checkAttrs(t, want.Name()+" event "+ev.Name, got.Events[i].Attributes, ev.Attributes)
	}
	if len(got.Links) != len(want.Links()) {
		t.Fatalf("%s: %d links, want %d", want.Name(), len(got.Links), len(want.Links()))
	}
	for i, l := range want.Links() {
		gl := got.Links[i]
		if gl.TraceID != model.TraceID(l.SpanContext.TraceID()) || gl.SpanID != model.SpanID(l.SpanContext.SpanID()) {
			t.Errorf("%s: link %d to %s/%s", want.Name(), i, gl.TraceID, gl.SpanID)
		}
		checkAttrs(t, want.Name()+" link", gl.Attributes, l.Attributes)
	}
}

// TestOTelSDKLogExporterRoundTrip sends log records through the real
// otlploggrpc exporter; bodies of every log value kind come back exactly.
func TestOTelSDKLogExporterRoundTrip(t *testing.T) {
	h := newGRPCHarness(t, Limits{})
	ctx := ctxT(t)
	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(h.addr), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(testResource(t)), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	logger := lp.Logger("ariadne-log-test")

	traceID := trace.TraceID{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}
	spanID := trace.SpanID{8, 8, 8, 8, 8, 8, 8, 8}
	spanCtx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: 1}))

	bodies := []struct {
		body attribute.Value
		want func(pcommon.Value)
	}{
		{attribute.StringValue("plain line"), func(v pcommon.Value) { v.SetStr("plain line") }},
		{attribute.Int64Value(-7), func(v pcommon.Value) { v.SetInt(-7) }},
		{attribute.Float64Value(2.5), func(v pcommon.Value) { v.SetDouble(2.5) }},
		{attribute.BoolValue(true), func(v pcommon.Value) { v.SetBool(true) }},
		{attribute.ByteSliceValue([]byte{1, 2, 3}), func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte{1, 2, 3}) }},
		{attribute.SliceValue(attribute.StringValue("a"), attribute.IntValue(1)), func(v pcommon.Value) {
			s := v.SetEmptySlice()
			s.AppendEmpty().SetStr("a")
			s.AppendEmpty().SetInt(1)
		}},
		{attribute.MapValue(attribute.String("k", "v"), attribute.Map("m", attribute.Bool("x", false))), func(v pcommon.Value) {
			m := v.SetEmptyMap()
			m.PutStr("k", "v")
			m.PutEmptyMap("m").PutBool("x", false)
		}},
	}
	start := time.Unix(1_700_000_000, 123)
	for i, b := range bodies {
		var rec otellog.Record
		rec.SetTimestamp(start.Add(time.Duration(i) * time.Second))
		rec.SetSeverity(otellog.SeverityError)
		rec.SetSeverityText("ERROR")
		rec.SetBody(b.body)
		rec.AddAttributes(attribute.String("faas.invocation_id", "req-9"), attribute.Int("n", i))
		logger.Emit(spanCtx, rec)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	logs := h.w.All().Logs
	if len(logs) != len(bodies) {
		t.Fatalf("stored %d logs, want %d", len(logs), len(bodies))
	}
	for i, b := range bodies {
		l := logs[i]
		want := pcommon.NewValueEmpty()
		b.want(want)
		got := pcommon.NewValueEmpty()
		if err := anyvalue.ToPcommon(l.Body, got); err != nil {
			t.Fatal(err)
		}
		if !sameValue(got, want) {
			t.Errorf("log %d body %s, want %s", i, got.AsString(), want.AsString())
		}
		if l.Time != start.Add(time.Duration(i)*time.Second).UnixNano() || l.SeverityNumber != uint8(otellog.SeverityError) ||
			l.SeverityText != "ERROR" || l.TraceID != model.TraceID(traceID) || l.SpanID != model.SpanID(spanID) ||
			l.Service != "sdk-svc" || l.Function != "sdk-fn" || l.InvocationID != "req-9" || l.ScopeName != "ariadne-log-test" {
			t.Errorf("log %d: %+v", i, l)
		}
		checkAttrs(t, "log", l.Attributes, []attribute.KeyValue{attribute.String("faas.invocation_id", "req-9"), attribute.Int("n", i)})
	}
}
