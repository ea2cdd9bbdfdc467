// Package awsv2 instruments aws-sdk-go-v2 clients for Ariadne with one
// option on aws.Config: a client span per call, producer-side strong IDs
// taken from the responses of the calls that start an asynchronous hop
// (every id of a batch), request payloads captured through the SDK's
// redaction, and W3C trace context injected where the message carries
// attributes. It never changes what a call returns or whether it fails.
package awsv2

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/internal/refs"
)

const middlewareID = "ariadne.trace"

// Option configures the instrumentation.
type Option func(*tracer)

// WithDynamoDBKeys declares the key attributes of a table, so PutItem (which
// carries the whole item) records exactly one strong ID. Without it the
// key schema is learned from calls that carry a Key, and until then a
// PutItem records candidate keys (see the README).
func WithDynamoDBKeys(table string, attrs ...string) Option {
	return func(t *tracer) { t.schemas.set(table, attrs) }
}

// Instrument adds the middleware to every client made from cfg.
func Instrument(cfg *aws.Config, s *ariadne.SDK, opts ...Option) {
	cfg.APIOptions = append(cfg.APIOptions, APIOptions(s, opts...)...)
}

// APIOptions returns the middleware for config.WithAPIOptions or a
// client's Options.APIOptions.
func APIOptions(s *ariadne.SDK, opts ...Option) []func(*middleware.Stack) error {
	if s == nil || !s.Enabled() {
		return nil
	}
	t := &tracer{sdk: s, schemas: &schemas{m: map[string][]string{}}}
	for _, o := range opts {
		o(t)
	}
	return []func(*middleware.Stack) error{func(st *middleware.Stack) error {
		if _, ok := st.Initialize.Get(middlewareID); ok {
			// Instrumented twice (say, config and client options): a
			// duplicate ID would fail every call.
			return nil
		}
		// After the rest of Initialize, so the service metadata is in the
		// context and our parameter changes are not seen by validators of
		// the caller's input.
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc(middlewareID, t.handle), middleware.After)
	}}
}

type tracer struct {
	sdk     *ariadne.SDK
	schemas *schemas
}

// call is what one operation contributes to its span.
type call struct {
	kind     trace.SpanKind
	attrs    []attribute.KeyValue
	producer []string
	params   any // replaced input (trace context injected), if any
	capture  []byte
}

func (t *tracer) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	service := awsmiddleware.GetServiceID(ctx)
	op := awsmiddleware.GetOperationName(ctx)
	name := service + "." + op
	c := &call{kind: spanKind(service, op)}
	ctx, span := t.sdk.Tracer().Start(ctx, name, trace.WithSpanKind(c.kind))
	ok := safe(func() { t.before(ctx, span, service, op, in.Parameters, c) })
	if ok && !t.sdk.Config().MetadataOnly {
		// The caller's input, before our trace context was added to it.
		safe(func() {
			payload := c.capture
			if payload == nil {
				payload = captureInput(in.Parameters)
			}
			if p, ok := t.sdk.CapturePayload(ctx, payload); ok {
				c.attrs = append(c.attrs, attribute.String("ariadne.request.payload", p))
			}
		})
	}
	if ok && c.params != nil {
		in.Parameters = c.params
	}

	out, md, err := next.HandleInitialize(ctx, in)

	safe(func() { t.after(span, service, op, in.Parameters, out.Result, md, err, c) })
	span.End()
	return out, md, err
}

func (t *tracer) before(ctx context.Context, span trace.Span, service, op string, params any, c *call) {
	c.attrs = append(c.attrs,
		attribute.String("rpc.system", "aws-api"),
		attribute.String("rpc.service", service),
		attribute.String("rpc.method", op),
	)
	if r := awsmiddleware.GetRegion(ctx); r != "" {
		c.attrs = append(c.attrs, attribute.String("cloud.region", r))
	}
	switch service {
	case "SQS":
		t.beforeSQS(ctx, span, params, c)
	case "SNS":
		t.beforeSNS(ctx, span, params, c)
	case "Kinesis":
		beforeKinesis(params, c)
	case "EventBridge":
		beforeEvents(params, c)
	case "DynamoDB":
		t.beforeDynamoDB(params, c)
	case "S3":
		beforeS3(params, c)
	case "Lambda":
		t.beforeLambda(ctx, span, params, c)
	case "SFN":
		t.beforeSFN(params, c)
	}
}

func (t *tracer) after(span trace.Span, service, op string, params, result any, md middleware.Metadata, err error, c *call) {
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok && id != "" {
		c.attrs = append(c.attrs, attribute.String("aws.request_id", id))
	}
	var raw *smithyhttp.Response
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil && r.Response != nil {
		raw = r
		c.attrs = append(c.attrs, attribute.Int("http.response.status_code", r.StatusCode))
	}
	if err == nil {
		switch service {
		case "SQS":
			afterSQS(result, c)
		case "SNS":
			afterSNS(result, c)
		case "Kinesis":
			afterKinesis(result, c)
		case "EventBridge":
			afterEvents(result, c)
		case "DynamoDB":
			t.afterDynamoDB(params, c)
		case "S3":
			afterS3(op, raw, c)
		case "Lambda":
			afterLambda(op, raw, result, c)
		case "SFN":
			afterSFN(result, c)
		}
	}
	if len(c.producer) > 0 {
		c.attrs = append(c.attrs, attribute.StringSlice(refs.Producer, c.producer))
		if len(c.producer) == 1 {
			if _, id, ok := strings.Cut(c.producer[0], ":"); ok && c.kind == trace.SpanKindProducer {
				c.attrs = append(c.attrs, attribute.String("messaging.message.id", id))
			}
		}
	}
	span.SetAttributes(c.attrs...)
	if err != nil {
		var apiErr smithy.APIError
		if ok := asAPIError(err, &apiErr); ok {
			span.SetAttributes(attribute.String("error.type", apiErr.ErrorCode()))
		}
		t.sdk.RecordError(span, err)
	}
}

func asAPIError(err error, target *smithy.APIError) bool {
	for e := err; e != nil; {
		if a, ok := e.(smithy.APIError); ok {
			*target = a
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// spanKind is PRODUCER for the calls that start an asynchronous hop.
func spanKind(service, op string) trace.SpanKind {
	switch service + "." + op {
	case "SQS.SendMessage", "SQS.SendMessageBatch", "SNS.Publish", "SNS.PublishBatch",
		"Kinesis.PutRecord", "Kinesis.PutRecords", "EventBridge.PutEvents":
		return trace.SpanKindProducer
	}
	return trace.SpanKindClient
}

// safe swallows panics: instrumentation must never break an AWS call.
func safe(f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	f()
	return true
}

// traceparent renders the span's context for message attributes.
func traceparent(span trace.Span) string {
	sc := span.SpanContext()
	if !sc.IsValid() {
		return ""
	}
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}

// schemas remembers DynamoDB key attributes per table for one
// instrumentation instance.
type schemas struct {
	mu sync.Mutex
	m  map[string][]string
}

func (s *schemas) set(table string, attrs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) < 1024 {
		s.m[table] = append([]string(nil), attrs...)
	}
}

func (s *schemas) get(table string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[table]
}
