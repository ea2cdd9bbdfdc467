// Package traffic generates sample telemetry of a small serverless shop and
// sends it to Ariadne through the real OpenTelemetry Go SDK and OTLP/gRPC
// exporters, exactly as an instrumented application would. It stands in for
// the demo application until that application runs on the local cloud; the
// timestamps are synthetic (no sleeping), the shapes follow
// docs/attributes.md.
package traffic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Settings choose where and how much to send.
type Settings struct {
	// Endpoint is the OTLP/gRPC host:port.
	Endpoint string
	// Seed makes the generated traffic repeatable.
	Seed uint64
}

// Generator owns one tracer and logger provider per function, as separate
// processes would.
type Generator struct {
	rnd   *mrand.Rand
	funcs map[string]*function
}

type function struct {
	name   string
	tp     *sdktrace.TracerProvider
	lp     *sdklog.LoggerProvider
	tracer trace.Tracer
	logger otellog.Logger
	warm   bool
}

var functionNames = []string{"checkout-api", "payment", "inventory", "receipt", "email"}

// New connects one exporter pair per function to s.Endpoint.
func New(ctx context.Context, s Settings) (*Generator, error) {
	g := &Generator{rnd: mrand.New(mrand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15)), funcs: map[string]*function{}}
	for _, name := range functionNames {
		te, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(s.Endpoint), otlptracegrpc.WithInsecure())
		if err != nil {
			g.Shutdown(ctx)
			return nil, fmt.Errorf("create trace exporter: %w", err)
		}
		le, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(s.Endpoint), otlploggrpc.WithInsecure())
		if err != nil {
			g.Shutdown(ctx)
			return nil, fmt.Errorf("create log exporter: %w", err)
		}
		res := resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName(name),
			semconv.ServiceVersion("1.4.2"),
			semconv.FaaSName(name),
			semconv.FaaSVersion("$LATEST"),
			semconv.FaaSMaxMemory(512<<20),
			semconv.CloudProviderAWS,
			semconv.CloudPlatformAWSLambda,
			semconv.CloudRegion("eu-west-1"),
			semconv.CloudResourceID("arn:aws:lambda:eu-west-1:123456789012:function:"+name),
			attribute.String("deployment.environment.name", "demo"),
		)
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(le)), sdklog.WithResource(res))
		g.funcs[name] = &function{name: name, tp: tp, lp: lp,
			tracer: tp.Tracer("github.com/ariadnehq/ariadne/demo/traffic"),
			logger: lp.Logger("github.com/ariadnehq/ariadne/demo/traffic")}
	}
	return g, nil
}

// Shutdown flushes and closes every exporter; it returns once all data was
// acknowledged by the server (or failed).
func (g *Generator) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range g.funcs {
		errs = append(errs, f.tp.Shutdown(ctx), f.lp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Flush exports everything generated so far.
func (g *Generator) Flush(ctx context.Context) error {
	var errs []error
	for _, f := range g.funcs {
		errs = append(errs, f.tp.ForceFlush(ctx), f.lp.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Order generates one order's journey starting at t: the API call, the
// payment and inventory consumers behind an SNS topic and SQS queues, the
// receipt written to S3 and the e-mail function. About one order in twelve
// fails somewhere. It returns the entry trace id.
func (g *Generator) Order(ctx context.Context, t time.Time) string {
	orderID := fmt.Sprintf("ord-%06d", g.rnd.IntN(1_000_000))
	items := 1 + g.rnd.IntN(5)
	amount := float64(500+g.rnd.IntN(20000)) / 100
	fail := g.rnd.IntN(12)

	api := g.funcs["checkout-api"]
	snsID := uuid()
	body := fmt.Sprintf(`{"orderId":%q,"items":%d,"amount":%.2f,"currency":"EUR"}`, orderID, items, amount)
	rctx, root := g.invocation(ctx, api, "POST /orders", t, trace.SpanKindServer, "apigatewayv2",
		attribute.String("http.request.method", "POST"),
		attribute.String("http.route", "/orders"),
		attribute.Int("http.response.status_code", 202),
		attribute.String("ariadne.request.payload", body),
		attribute.String("ariadne.response.payload", fmt.Sprintf(`{"orderId":%q,"status":"accepted"}`, orderID)),
	)
	cur := t.Add(g.ms(2, 30))
	api.log(rctx, cur, otellog.SeverityInfo, "accepted order "+orderID)
	cur = g.child(rctx, api, "DynamoDB.PutItem", cur, g.ms(4, 25), trace.SpanKindClient, nil,
		attribute.String("db.system.name", "aws.dynamodb"),
		attribute.String("aws.dynamodb.table_names", "orders"))
	pubEnd := g.child(rctx, api, "SNS.Publish", cur, g.ms(8, 40), trace.SpanKindProducer, nil,
		attribute.String("messaging.system", "aws_sns"),
		attribute.String("messaging.operation.type", "publish"),
		attribute.String("messaging.destination.name", "orders"),
		attribute.StringSlice("ariadne.refs.producer", []string{"sns:" + snsID}))
	root.End(trace.WithTimestamp(pubEnd.Add(g.ms(1, 5))))

	// payment: SNS → SQS → function → card processor.
	pay := g.funcs["payment"]
	sqsPay := uuid()
	pt := pubEnd.Add(g.ms(20, 400))
	pctx, pspan := g.invocation(ctx, pay, "payment", pt, trace.SpanKindConsumer, "sns+sqs",
		attribute.String("messaging.system", "aws_sqs"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", "payments"),
		attribute.StringSlice("ariadne.refs.consumer", []string{"sns:" + snsID, "sqs:" + sqsPay}),
		attribute.Int("ariadne.sqs.receive_count", 1),
		attribute.String("ariadne.request.payload", body))
	cur = pt.Add(g.ms(1, 10))
	var cardErr error
	status := 200
	if fail == 0 {
		cardErr = errors.New("card processor returned 502 Bad Gateway")
		status = 502
	}
	cur = g.child(pctx, pay, "POST cards.example.test/charge", cur, g.ms(80, 900), trace.SpanKindClient, cardErr,
		attribute.String("http.request.method", "POST"),
		attribute.String("server.address", "cards.example.test"),
		attribute.Int("http.response.status_code", status))
	if cardErr != nil {
		pay.log(pctx, cur, otellog.SeverityError, "charge failed for "+orderID+": "+cardErr.Error())
		pspan.RecordError(cardErr, trace.WithTimestamp(cur))
		pspan.SetStatus(codes.Error, cardErr.Error())
	} else {
		pay.log(pctx, cur, otellog.SeverityInfo, fmt.Sprintf("charged %.2f EUR for %s", amount, orderID))
	}
	pspan.End(trace.WithTimestamp(cur.Add(g.ms(1, 4))))

	// inventory: SNS → SQS → function → S3 PutObject (receipt).
	inv := g.funcs["inventory"]
	sqsInv := uuid()
	s3Req := requestID()
	it := pubEnd.Add(g.ms(20, 300))
	ictx, ispan := g.invocation(ctx, inv, "inventory", it, trace.SpanKindConsumer, "sns+sqs",
		attribute.String("messaging.system", "aws_sqs"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", "inventory"),
		attribute.StringSlice("ariadne.refs.consumer", []string{"sns:" + snsID, "sqs:" + sqsInv}),
		attribute.Int("ariadne.sqs.receive_count", 1))
	cur = g.child(ictx, inv, "DynamoDB.UpdateItem", it.Add(g.ms(1, 5)), g.ms(5, 30), trace.SpanKindClient, nil,
		attribute.String("db.system.name", "aws.dynamodb"),
		attribute.String("aws.dynamodb.table_names", "stock"))
	cur = g.child(ictx, inv, "S3.PutObject", cur, g.ms(10, 60), trace.SpanKindProducer, nil,
		attribute.String("rpc.system", "aws-api"),
		attribute.String("rpc.service", "S3"),
		attribute.String("rpc.method", "PutObject"),
		attribute.String("aws.s3.bucket", "receipts"),
		attribute.StringSlice("ariadne.refs.producer", []string{"s3:" + s3Req}))
	inv.log(ictx, cur, otellog.SeverityInfo, fmt.Sprintf("reserved %d items for %s", items, orderID))
	ispan.End(trace.WithTimestamp(cur.Add(g.ms(1, 3))))

	// receipt: S3 event → function; fails now and then (a silent async failure).
	rec := g.funcs["receipt"]
	rt := cur.Add(g.ms(50, 700))
	rctx2, rspan := g.invocation(ctx, rec, "receipt", rt, trace.SpanKindConsumer, "s3",
		attribute.StringSlice("ariadne.refs.consumer", []string{"s3:" + s3Req}))
	cur = rt.Add(g.ms(5, 80))
	if fail == 1 {
		err := errors.New("template field customer.email missing")
		rec.log(rctx2, cur, otellog.SeverityError, "render receipt for "+orderID+": "+err.Error())
		rspan.RecordError(err, trace.WithTimestamp(cur), trace.WithAttributes(attribute.String("exception.type", "*render.FieldError")))
		rspan.SetStatus(codes.Error, err.Error())
	} else {
		lambdaReq := uuid()
		cur = g.child(rctx2, rec, "Lambda.Invoke email", cur, g.ms(10, 30), trace.SpanKindClient, nil,
			attribute.StringSlice("ariadne.refs.producer", []string{"lambda:" + lambdaReq}))
		em := g.funcs["email"]
		et := cur.Add(g.ms(5, 200))
		ectx, espan := g.invocationID(ctx, em, "email", et, trace.SpanKindServer, "invoke", lambdaReq,
			attribute.StringSlice("ariadne.refs.consumer", []string{"lambda:" + lambdaReq}))
		em.log(ectx, et.Add(g.ms(5, 50)), otellog.SeverityInfo, "sent receipt for "+orderID)
		espan.End(trace.WithTimestamp(et.Add(g.ms(60, 300))))
	}
	rspan.End(trace.WithTimestamp(cur.Add(g.ms(1, 5))))
	return root.SpanContext().TraceID().String()
}

func (g *Generator) invocation(ctx context.Context, f *function, name string, t time.Time, kind trace.SpanKind, trigger string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return g.invocationID(ctx, f, name, t, kind, trigger, uuid(), attrs...)
}

func (g *Generator) invocationID(ctx context.Context, f *function, name string, t time.Time, kind trace.SpanKind, trigger, requestID string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	cold := !f.warm || g.rnd.IntN(20) == 0
	f.warm = true
	attrs = append(attrs,
		attribute.String("faas.invocation_id", requestID),
		attribute.Bool("faas.coldstart", cold),
		attribute.String("ariadne.trigger", trigger),
	)
	// Each invocation is its own trace, as it is without context propagation
	// through AWS: correlation joins them on the strong ids.
	return f.tracer.Start(trace.ContextWithSpanContext(ctx, trace.SpanContext{}), name,
		trace.WithNewRoot(), trace.WithTimestamp(t), trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// child records one finished child span and returns its end time.
func (g *Generator) child(ctx context.Context, f *function, name string, start time.Time, d time.Duration, kind trace.SpanKind, err error, attrs ...attribute.KeyValue) time.Time {
	_, s := f.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	end := start.Add(d)
	if err != nil {
		s.RecordError(err, trace.WithTimestamp(end))
		s.SetStatus(codes.Error, err.Error())
	}
	s.End(trace.WithTimestamp(end))
	return end
}

func (f *function) log(ctx context.Context, t time.Time, sev otellog.Severity, msg string) {
	var r otellog.Record
	r.SetTimestamp(t)
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetBody(attribute.StringValue(msg))
	r.AddAttributes(attribute.String("faas.name", f.name))
	f.logger.Emit(ctx, r)
}

func (g *Generator) ms(lo, hi int) time.Duration {
	return time.Duration(lo+g.rnd.IntN(hi-lo+1)) * time.Millisecond
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%X", b)
}
