package ariadne

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkSpanStartEnd compares a span through the Ariadne SDK with the
// same span through a plain OTel SDK with its default batch processor.
func BenchmarkSpanStartEnd(b *testing.B) {
	attrs := []attribute.KeyValue{attribute.String("order.id", "o-1"), attribute.Int("qty", 2)}
	run := func(b *testing.B, tr trace.Tracer) {
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			_, sp := tr.Start(ctx, "work", trace.WithAttributes(attrs...))
			sp.End()
		}
	}
	b.Run("otel", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		defer tp.Shutdown(context.Background())
		run(b, tp.Tracer("bench"))
	})
	b.Run("ariadne", func(b *testing.B) {
		s, err := New(context.Background(), WithGetenv(testEnv(nil)), WithoutGlobal(), WithSpanExporter(tracetest.NewNoopExporter()))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		run(b, s.Tracer())
	})
	b.Run("otel-client-span", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		defer tp.Shutdown(context.Background())
		tr := tp.Tracer("bench")
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			_, sp := tr.Start(ctx, "DynamoDB.Query", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			sp.End()
		}
	})
	b.Run("ariadne-client-span", func(b *testing.B) {
		// Client spans are also tracked as in flight for the timeout timer.
		s, err := New(context.Background(), WithGetenv(testEnv(nil)), WithoutGlobal(), WithSpanExporter(tracetest.NewNoopExporter()))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		ctx := context.Background()
		tr := s.Tracer()
		b.ReportAllocs()
		for b.Loop() {
			_, sp := tr.Start(ctx, "DynamoDB.Query", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			sp.End()
		}
	})
}

// BenchmarkInvoke is the wrapper's cost per invocation (spans, marker,
// trigger parsing, payload capture and the end-of-invocation flush to a
// no-op exporter) against the bare aws-lambda-go handler.
func BenchmarkInvoke(b *testing.B) {
	event := readEvent(b, "sqs-event.json")
	handler := func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"ok": true}, nil
	}
	ctx, cancel := lambdaCtx("req-bench", time.Hour)
	defer cancel()
	bench := func(b *testing.B, h lambda.Handler) {
		b.ReportAllocs()
		b.SetBytes(int64(len(event)))
		for b.Loop() {
			if _, err := h.Invoke(ctx, event); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("plain", func(b *testing.B) { bench(b, lambda.NewHandler(handler)) })
	b.Run("wrapped", func(b *testing.B) {
		s, err := New(context.Background(), WithGetenv(testEnv(nil)), WithoutGlobal(), WithSpanExporter(tracetest.NewNoopExporter()))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		bench(b, s.Wrap(handler))
	})
	b.Run("wrapped-otlp-healthy", func(b *testing.B) {
		url, _ := healthyServer(b)
		bench(b, otlpSDK(b, url).Wrap(handler))
	})
	b.Run("wrapped-otlp-cooldown", func(b *testing.B) {
		s := otlpSDK(b, refused(b))
		h := s.Wrap(handler)
		_, _ = h.Invoke(ctx, event) // fails and starts the cool-down
		bench(b, h)
	})
}

// BenchmarkNew is the cold-start cost of initialising the SDK with its
// OTLP/HTTP exporters (no network is touched until the first export).
func BenchmarkNew(b *testing.B) {
	env := testEnv(map[string]string{"ARIADNE_ENDPOINT": "http://127.0.0.1:4318"})
	b.ReportAllocs()
	for b.Loop() {
		s, err := New(context.Background(), WithGetenv(env), WithoutGlobal())
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Shutdown(context.Background())
	}
}

func BenchmarkParseTrigger(b *testing.B) {
	for _, f := range []string{"sqs-event.json", "apigw-request.json", "dynamodb-event.json"} {
		ev := readEvent(b, f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(ev)))
			for b.Loop() {
				_ = ParseTrigger(ev)
			}
		})
	}
}

func BenchmarkCapturePayload(b *testing.B) {
	s, _, _ := newMemSDK(b, nil)
	ev := readEvent(b, "apigw-request.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		_, _ = s.CapturePayload(context.Background(), ev)
	}
}
