package correlate_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/internal/model"
)

// otelProvider is a plain OpenTelemetry SDK (no Ariadne code) exporting
// OTLP/HTTP to the harness's receiver.
func (h *harness) otelProvider(t testing.TB, service string) *sdktrace.TracerProvider {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(h.otlpURL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// TestPlainOTel joins hops that only OpenTelemetry conventions describe:
// messaging.message.id on both sides, and a span link from the consumer
// to the producer. The consumer runs an hour after the producer and is
// written in a later request: the transaction read before it arrived has
// one trace, the one read after has both.
func TestPlainOTel(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	prodTP := h.otelProvider(t, "billing")
	consTP := h.otelProvider(t, "ledger")
	hourAgo := time.Now().Add(-time.Hour)

	tests := []struct {
		name        string
		messageID   string // "" for a link alone
		link        bool
		wantChannel string
		wantIDs     []string
	}{
		{"message id and link", "inv-1001", true, "rabbitmq", []string{"inv-1001"}},
		{"message id only", "inv-1002", false, "rabbitmq", []string{"inv-1002"}},
		{"link only", "", true, "rabbitmq", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attrs := []attribute.KeyValue{
				attribute.String("messaging.system", "rabbitmq"),
				attribute.String("messaging.destination.name", "invoices"),
			}
			pattrs := append(attrs, attribute.String("messaging.operation.type", "publish"))
			if tc.messageID != "" {
				pattrs = append(pattrs, attribute.String("messaging.message.id", tc.messageID))
			}
			_, ps := prodTP.Tracer("test").Start(ctx, "publish invoices", trace.WithSpanKind(trace.SpanKindProducer),
				trace.WithTimestamp(hourAgo), trace.WithAttributes(pattrs...))
			ps.End(trace.WithTimestamp(hourAgo.Add(3 * time.Millisecond)))
			producer := model.TraceID(ps.SpanContext().TraceID())

			tx, err := h.cor.Transaction(ctx, producer)
			if err != nil {
				t.Fatal(err)
			}
			if len(tx.Traces) != 1 || len(tx.Edges) != 0 {
				t.Fatalf("before the consumer: %d traces, %d edges", len(tx.Traces), len(tx.Edges))
			}

			cattrs := append(attrs, attribute.String("messaging.operation.type", "process"))
			if tc.messageID != "" {
				cattrs = append(cattrs, attribute.String("messaging.message.id", tc.messageID))
			}
			opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(cattrs...)}
			if tc.link {
				opts = append(opts, trace.WithLinks(trace.Link{SpanContext: ps.SpanContext()}))
			}
			_, cs := consTP.Tracer("test").Start(ctx, "process invoices", opts...)
			cs.End()
			consumer := model.TraceID(cs.SpanContext().TraceID())

			tx, err = h.cor.Transaction(ctx, producer)
			if err != nil {
				t.Fatal(err)
			}
			checkJoined(t, tx, []model.TraceID{producer}, consumer)
			if len(tx.Edges) != 1 {
				t.Fatalf("edges %+v, want one", tx.Edges)
			}
			e := tx.Edges[0]
			if e.Channel != tc.wantChannel || e.Destination != "invoices" || !equalStrings(e.MessageIDs, tc.wantIDs) {
				t.Errorf("edge channel %q destination %q ids %v, want %q invoices %v", e.Channel, e.Destination, e.MessageIDs, tc.wantChannel, tc.wantIDs)
			}
			if !e.LagKnown || e.LagNs < int64(59*time.Minute) || e.LagNs > int64(61*time.Minute) {
				t.Errorf("lag %v (known %v), want about an hour", time.Duration(e.LagNs), e.LagKnown)
			}
			if tx.DurationNs < int64(59*time.Minute) {
				t.Errorf("duration %v, want about an hour", time.Duration(tx.DurationNs))
			}
			if n := len(tx.CriticalPath); n != 3 || tx.CriticalPath[1].Kind != "hop" {
				t.Errorf("critical path %+v, want producer, hop, consumer", tx.CriticalPath)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
