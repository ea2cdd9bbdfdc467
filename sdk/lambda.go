package ariadne

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/sdk/internal/refs"
)

// MarkerSpanName names the start marker span (docs/attributes.md, Markers).
const MarkerSpanName = "ariadne.invocation.start"

// Start is the one-line setup for a Lambda main: it builds an SDK from the
// environment, wraps handler and hands it to lambda.Start. It does not
// return. Configuration errors are printed to stderr (the function's log)
// and the function still runs. Every invocation flushes before it returns,
// so nothing is left to do at shutdown.
func Start(handler any, opts ...Option) {
	s, err := New(context.Background(), opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ariadne: %v\n", err)
	}
	lambda.Start(s.Wrap(handler))
}

// Wrap instruments any handler aws-lambda-go accepts (the same signatures as
// lambda.Start, or a lambda.Handler) and returns a lambda.Handler for
// lambda.Start. Options are passed to lambda.NewHandlerWithOptions.
func (s *SDK) Wrap(handler any, opts ...lambda.Option) lambda.Handler {
	if w, ok := handler.(*wrapper); ok {
		return w // wrapping twice would trace every invocation twice
	}
	inner := lambda.NewHandlerWithOptions(handler, opts...)
	if !s.Enabled() {
		return inner
	}
	return &wrapper{sdk: s, inner: inner}
}

// WrapFunc is Wrap for a typed handler, checked at compile time.
func WrapFunc[TIn, TOut any](s *SDK, h func(context.Context, TIn) (TOut, error), opts ...lambda.Option) lambda.Handler {
	return s.Wrap(h, opts...)
}

type wrapper struct {
	sdk   *SDK
	inner lambda.Handler
}

// Invoke runs one invocation under an invocation span.
func (w *wrapper) Invoke(ctx context.Context, payload []byte) (resp []byte, err error) {
	run, ok := safeValue(func() *run { return w.sdk.begin(ctx, payload) })
	if !ok || run == nil {
		return w.inner.Invoke(ctx, payload)
	}
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			safe(func() { run.finish(nil, nil, r, stack) })
			panic(r)
		}
	}()
	resp, err = w.inner.Invoke(run.ctx, payload)
	// aws-lambda-go's Handler.Invoke returns bytes of a pooled buffer that
	// it has already released; keep our own copy while we read it and
	// until the runtime has sent it.
	resp = bytes.Clone(resp)
	out := resp
	safe(func() { out = run.finish(resp, err, nil, nil) })
	return out, err
}

// run is one invocation in flight.
type run struct {
	sdk     *SDK
	ctx     context.Context
	span    trace.Span
	inv     *invocation
	trig    Trigger
	started time.Time
	timer   *time.Timer

	once     sync.Once
	msgSpans []trace.Span
}

func (s *SDK) begin(ctx context.Context, payload []byte) *run {
	now := time.Now()
	lc, _ := lambdacontext.FromContext(ctx)
	var reqID, arn string
	if lc != nil {
		reqID, arn = lc.AwsRequestID, lc.InvokedFunctionArn
	}
	cold := s.cold.Swap(false)
	trig := ParseTrigger(payload)
	if reqID != "" {
		// The caller of lambda:Invoke sees this id in x-amzn-requestid.
		trig.Refs = append(trig.Refs, refs.Lambda(reqID))
	}

	inv := &invocation{sdk: s, requestID: reqID, function: s.fn.name}
	inv.budget.Store(int64(s.cfg.MaxInvocationBytes))
	ctx = contextWithInvocation(ctx, inv)
	if !trig.Parent.IsValid() && lc != nil {
		// A synchronous lambda:Invoke instrumented by awsv2 carries the
		// caller's context in the client context.
		trig.Parent = parseTraceparent(lc.ClientContext.Custom["traceparent"])
	}
	if trig.Parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, trig.Parent)
	}

	kind := trace.SpanKindServer
	if trig.FaaS == "pubsub" || trig.FaaS == "datasource" {
		kind = trace.SpanKindConsumer
	}
	attrs := make([]attribute.KeyValue, 0, 16+len(trig.Attrs))
	if reqID != "" {
		attrs = append(attrs, attribute.String("faas.invocation_id", reqID))
	}
	attrs = append(attrs,
		attribute.Bool("faas.coldstart", cold),
		attribute.String("faas.trigger", trig.FaaS),
		attribute.String("ariadne.trigger", trig.Kind),
	)
	if s.fn.name != "" {
		attrs = append(attrs, attribute.String("faas.name", s.fn.name))
	}
	if s.fn.version != "" {
		attrs = append(attrs, attribute.String("faas.version", s.fn.version))
	}
	if s.fn.memoryMB > 0 {
		attrs = append(attrs, attribute.Int("ariadne.memory_limit_mb", s.fn.memoryMB))
	}
	if arn != "" {
		attrs = append(attrs,
			attribute.String("aws.lambda.invoked_arn", arn),
			attribute.String("cloud.resource_id", functionARN(arn)),
		)
		if acct := arnAccount(arn); acct != "" {
			attrs = append(attrs, attribute.String("cloud.account.id", acct))
		}
	}
	if len(trig.Refs) > 0 {
		attrs = append(attrs, attribute.StringSlice(refs.Consumer, trig.Refs))
	}
	if len(trig.Messages) == 1 && trig.Messages[0].ReceiveCount > 0 {
		// One message per invocation: its receive count is the attempt.
		attrs = append(attrs, attribute.Int("ariadne.attempt", trig.Messages[0].ReceiveCount))
	}
	attrs = append(attrs, trig.Attrs...)
	if p, ok := s.CapturePayload(ctx, payload); ok {
		attrs = append(attrs, attribute.String("ariadne.request.payload", p))
	}
	name := s.fn.name
	if name == "" {
		name = "lambda.invoke"
	}
	startOpts := []trace.SpanStartOption{
		trace.WithSpanKind(kind),
		trace.WithTimestamp(now),
		trace.WithAttributes(attrs...),
	}
	if len(trig.Links) > 0 && len(trig.Links) <= 128 {
		startOpts = append(startOpts, trace.WithLinks(trig.Links...))
	}
	ctx, span := s.tracer.Start(ctx, name, startOpts...)
	r := &run{sdk: s, ctx: ctx, span: span, inv: inv, trig: trig, started: now}

	deadline, hasDeadline := ctx.Deadline()
	if reqID != "" {
		// Without a request id the server cannot key an invocation row.
		s.startMarker(ctx, now, reqID, cold, deadline, hasDeadline)
	}

	r.startMessages()
	if hasDeadline {
		if d := time.Until(deadline) - s.cfg.TimeoutMargin; d > 0 {
			r.timer = time.AfterFunc(d, func() { safe(r.timeout) })
		}
	}
	return r
}

// startMarker exports the start marker of docs/attributes.md: the server
// turns a marker without a matching end into a timeout or crash.
func (s *SDK) startMarker(ctx context.Context, now time.Time, reqID string, cold bool, deadline time.Time, hasDeadline bool) {
	markerAttrs := []attribute.KeyValue{
		attribute.String("ariadne.marker", "start"),
		attribute.String("faas.invocation_id", reqID),
		attribute.Bool("faas.coldstart", cold),
	}
	if hasDeadline {
		markerAttrs = append(markerAttrs, attribute.Int64("ariadne.deadline", deadline.UnixNano()))
	}
	if s.fn.name != "" {
		markerAttrs = append(markerAttrs, attribute.String("faas.name", s.fn.name))
	}
	_, marker := s.tracer.Start(ctx, MarkerSpanName,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(now),
		trace.WithAttributes(markerAttrs...))
	// Zero duration; ending it queues it as urgent, so the background loop
	// exports it while the handler runs.
	marker.End(trace.WithTimestamp(now))
}

// startMessages opens one processing span per SQS message, linked to its
// producer, as OTel's messaging conventions recommend for batches.
func (r *run) startMessages() {
	if len(r.trig.Messages) == 0 {
		return
	}
	r.inv.messages = make(map[string]trace.Span, len(r.trig.Messages))
	var dest string
	for _, a := range r.trig.Attrs {
		if a.Key == "messaging.destination.name" {
			dest = a.Value.AsString()
		}
	}
	for _, m := range r.trig.Messages {
		attrs := []attribute.KeyValue{
			attribute.String("messaging.system", "aws_sqs"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", dest),
			attribute.String("messaging.message.id", m.ID),
		}
		if m.ReceiveCount > 0 {
			attrs = append(attrs, attribute.Int("ariadne.sqs.receive_count", m.ReceiveCount))
		}
		opts := []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithTimestamp(r.started),
			trace.WithAttributes(attrs...),
		}
		if m.Producer.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: m.Producer}))
		}
		_, sp := r.sdk.tracer.Start(r.ctx, "process "+dest, opts...)
		r.inv.messages[m.ID] = sp
		r.msgSpans = append(r.msgSpans, sp)
	}
}

// timeout runs on the pre-deadline timer: the handler is still running and
// may be killed any moment, so end the span now with what it is waiting
// for, and flush.
func (r *run) timeout() {
	fired := false
	r.once.Do(func() {
		fired = true
		now := time.Now()
		for _, s := range r.sdk.spans.inFlight(r.span.SpanContext().TraceID()) {
			r.span.AddEvent("ariadne.inflight", trace.WithTimestamp(now), trace.WithAttributes(
				attribute.String("ariadne.inflight.name", s.Name()),
				attribute.Int64("ariadne.inflight.elapsed_ns", now.Sub(s.StartTime()).Nanoseconds()),
				attribute.String("ariadne.inflight.span_id", s.SpanContext().SpanID().String()),
			))
		}
		r.span.SetAttributes(attribute.Bool("ariadne.timeout", true))
		r.span.SetStatus(codes.Error, "timing out")
		for _, sp := range r.msgSpans {
			sp.SetStatus(codes.Error, "timing out")
			sp.End(trace.WithTimestamp(now))
		}
		r.span.End(trace.WithTimestamp(now))
	})
	if fired {
		r.sdk.flushSoon()
	}
}

// finish records the outcome, ends the spans and flushes. It returns the
// response to send, which differs from resp only when a Step Functions
// correlation must travel on.
func (r *run) finish(resp []byte, err error, panicked any, stack []byte) []byte {
	if r.timer != nil {
		r.timer.Stop()
	}
	out := resp
	r.once.Do(func() {
		s := r.sdk
		switch {
		case panicked != nil:
			s.recordError(r.span, fmt.Errorf("panic: %v", panicked), fmt.Sprintf("%T", panicked),
				attribute.String("exception.stacktrace", string(stack)))
			r.span.SetAttributes(attribute.Bool("ariadne.panic", true))
		case err != nil:
			s.RecordError(r.span, err)
		}
		if err == nil && panicked == nil {
			out = r.continueSFN(resp)
			r.httpStatus(resp)
			if p, ok := s.CapturePayload(r.ctx, out); ok {
				r.span.SetAttributes(attribute.String("ariadne.response.payload", p))
			}
		}
		r.endMessages(resp, err, panicked)
		r.span.End()
	})
	// Flush even when the timeout timer ended the span first: the handler
	// did return after all, and what it did since must not wait for the
	// next invocation (which may never come).
	r.sdk.flushSoon()
	return out
}

// httpStatus records the status code of an API Gateway or ALB response.
func (r *run) httpStatus(resp []byte) {
	if r.trig.FaaS != "http" || len(resp) == 0 {
		return
	}
	var v struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(resp, &v) != nil || v.StatusCode == 0 {
		return
	}
	r.span.SetAttributes(attribute.Int("http.response.status_code", v.StatusCode))
	if v.StatusCode >= 500 {
		r.span.SetStatus(codes.Error, "")
	}
}

// endMessages ends the processing spans, marking the messages the handler
// reported in BatchItemFailures (or all of them if the invocation failed,
// since SQS will then redeliver the whole batch).
func (r *run) endMessages(resp []byte, err error, panicked any) {
	failed := map[string]bool{}
	if err == nil && panicked == nil && bytes.Contains(resp, []byte("atchItemFailures")) {
		// SQS, Kinesis and DynamoDB streams share the partial batch
		// response shape; for streams the identifier is a sequence number.
		var v struct {
			Failures []struct {
				ID string `json:"itemIdentifier"`
			} `json:"batchItemFailures"`
		}
		if json.Unmarshal(resp, &v) == nil {
			for _, f := range v.Failures {
				failed[f.ID] = true
			}
		}
	}
	if len(failed) > 0 {
		r.span.SetAttributes(attribute.Int("ariadne.batch.failed_count", len(failed)))
	}
	for _, m := range r.trig.Messages {
		sp := r.inv.messages[m.ID]
		if sp == nil {
			continue
		}
		switch {
		case err != nil || panicked != nil:
			sp.SetStatus(codes.Error, "invocation failed")
		case failed[m.ID]:
			sp.SetAttributes(attribute.Bool("ariadne.batch.failed", true))
			sp.SetStatus(codes.Error, "reported in batchItemFailures")
		}
		sp.End()
	}
}

// continueSFN carries the Step Functions correlation to the next state: the
// result gets the next step number and the span records it as produced.
func (r *run) continueSFN(resp []byte) []byte {
	c := r.trig.SFN
	if c == nil || !r.sdk.cfg.StepFunctionsInjection {
		return resp
	}
	t := bytes.TrimSpace(resp)
	if len(t) == 0 || t[0] != '{' {
		return resp
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(t, &obj) != nil {
		return resp
	}
	next := SFNCorrelation{ID: c.ID, Step: c.Step + 1}
	raw, _ := json.Marshal(next)
	obj[sfnField] = raw
	b, err := json.Marshal(obj)
	if err != nil {
		return resp
	}
	r.span.SetAttributes(attribute.StringSlice(refs.Producer, []string{refs.SFN(next.ID, next.Step)}))
	return b
}

func contextWithInvocation(ctx context.Context, inv *invocation) context.Context {
	return context.WithValue(ctx, invocationKey{}, inv)
}

// MessageContext returns ctx with the processing span of one SQS message
// of the current batch as the active span, so work done for that message
// (and its outbound calls) is traced under it.
func MessageContext(ctx context.Context, messageID string) context.Context {
	inv := invocationFrom(ctx)
	if inv == nil || inv.messages == nil {
		return ctx
	}
	if sp := inv.messages[messageID]; sp != nil {
		return trace.ContextWithSpan(ctx, sp)
	}
	return ctx
}

// functionARN drops an alias or version qualifier: the function's identity.
func functionARN(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 7 {
		return strings.Join(parts[:7], ":")
	}
	return arn
}

func arnAccount(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 4 {
		return parts[4]
	}
	return ""
}
