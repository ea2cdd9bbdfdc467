// Package ariadne is Ariadne's Go instrumentation SDK for serverless and
// event-driven functions. One call (New, or Start for a Lambda main) reads
// ARIADNE_* settings and builds an OpenTelemetry tracer and logger provider
// that export OTLP/HTTP to an Ariadne server; Wrap instruments any
// aws-lambda-go handler; HTTPHandler, HTTPTransport and SlogHandler cover
// net/http and log/slog; the awsv2 sub-package instruments aws-sdk-go-v2.
//
// The package owns redaction (nothing leaves the function unredacted), the
// wire attributes of docs/attributes.md, and the guarantee that it never
// hurts the function: no panic escapes it, exports have a short deadline and
// a cool-down after failure, and every queue is bounded. It must not import
// the Ariadne server.
package ariadne

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/ariadnehq/ariadne/sdk/internal/redact"
)

// ScopeName is the instrumentation scope of every span the SDK creates.
const ScopeName = "github.com/ariadnehq/ariadne/sdk"

// SDK is one configured instance. Its methods are safe for concurrent use.
// A disabled SDK (ARIADNE_DISABLE) is a valid no-op.
type SDK struct {
	cfg      Config
	redactor *redact.Redactor
	prop     propagation.TextMapPropagator
	fn       lambdaEnv

	tp     *sdktrace.TracerProvider
	lp     *sdklog.LoggerProvider
	tracer trace.Tracer
	logger otellog.Logger
	spans  *spanQueue
	logs   *logQueue
	guard  *guard

	// cold is true until the first invocation of this process; it belongs
	// to the instance, not the package, so tests and multiple SDKs agree.
	cold atomic.Bool

	stop     chan struct{}
	wg       sync.WaitGroup
	shutdown sync.Once
}

// New builds an SDK from the environment (ARIADNE_*, AWS_LAMBDA_*) and
// options. Configuration problems are returned together with a usable SDK
// built from the valid part, so a caller may log the error and carry on.
func New(ctx context.Context, opts ...Option) (*SDK, error) {
	st := settings{getenv: os.Getenv}
	for _, o := range opts {
		o(&st)
	}
	cfg, envErr := ConfigFromEnv(st.getenv)
	for _, e := range st.edits {
		e(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		envErr = errors.Join(envErr, err)
		def := DefaultConfig()
		if cfg.SampleRate < 0 || cfg.SampleRate > 1 {
			cfg.SampleRate = def.SampleRate
		}
		if cfg.ExportTimeout <= 0 {
			cfg.ExportTimeout = def.ExportTimeout
		}
		if cfg.MaxQueue <= 0 {
			cfg.MaxQueue = def.MaxQueue
		}
		if cfg.CoolDown < 0 {
			cfg.CoolDown = def.CoolDown
		}
		if cfg.TimeoutMargin < 0 {
			cfg.TimeoutMargin = def.TimeoutMargin
		}
	}
	s := &SDK{
		cfg:  cfg,
		prop: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		fn:   readLambdaEnv(st.getenv),
		stop: make(chan struct{}),
		redactor: redact.New(redact.Config{
			IgnoredKeys:   cfg.IgnoredKeys,
			AllowedKeys:   cfg.AllowedKeys,
			MaxValueBytes: cfg.MaxValueBytes,
		}),
	}
	s.cold.Store(st.getenv("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency")
	if cfg.Disabled {
		s.tracer = noop.NewTracerProvider().Tracer(ScopeName)
		s.logger = lognoop.NewLoggerProvider().Logger(ScopeName)
		return s, envErr
	}
	if err := s.build(ctx, st); err != nil {
		// Without exporters there is nothing to do; fall back to a no-op
		// rather than failing the function's init.
		s.cfg.Disabled = true
		s.tracer = noop.NewTracerProvider().Tracer(ScopeName)
		s.logger = lognoop.NewLoggerProvider().Logger(ScopeName)
		return s, errors.Join(envErr, err)
	}
	return s, envErr
}

func (s *SDK) build(ctx context.Context, st settings) error {
	cfg := s.cfg
	spanExp := st.spanExporter
	logExp := st.logExporter
	if spanExp == nil {
		opts := []otlptracehttp.Option{
			otlptracehttp.WithEndpointURL(joinURL(cfg.Endpoint, "/v1/traces")),
			otlptracehttp.WithTimeout(cfg.ExportTimeout),
			// Retrying inside an invocation only stretches it; the guard's
			// cool-down is the retry policy.
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
		}
		e, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return fmt.Errorf("create span exporter: %w", err)
		}
		spanExp = e
	}
	if logExp == nil {
		opts := []otlploghttp.Option{
			otlploghttp.WithEndpointURL(joinURL(cfg.Endpoint, "/v1/logs")),
			otlploghttp.WithTimeout(cfg.ExportTimeout),
			otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}),
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlploghttp.WithHeaders(cfg.Headers))
		}
		e, err := otlploghttp.New(ctx, opts...)
		if err != nil {
			return fmt.Errorf("create log exporter: %w", err)
		}
		logExp = e
	}
	s.guard = newGuard(cfg.ExportTimeout, cfg.CoolDown)
	if st.logger != nil {
		log := st.logger
		cool := cfg.CoolDown
		s.guard.onFail = func(err error) {
			log.Warn("ariadne: export failed; skipping exports during the cool-down", "err", err, "cooldown", cool)
		}
	}
	s.spans = newSpanQueue(newBatcher(cfg.MaxQueue, cfg.MaxQueueBytes, 512, spanSize, s.guard, scrubbingExport(s.redactor, spanExp)))
	s.logs = &logQueue{redactor: s.redactor, b: newBatcher(cfg.MaxQueue, cfg.MaxQueueBytes, 512, logSize, s.guard, logExp.Export)}

	res := resource.NewWithAttributes("", s.resourceAttrs()...)
	var sampler sdktrace.Sampler = sdktrace.AlwaysSample()
	if cfg.SampleRate < 1 {
		sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRate))
	}
	s.tp = sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
		sdktrace.WithSpanProcessor(s.spans),
	)
	s.lp = sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(s.logs),
	)
	s.tracer = s.tp.Tracer(ScopeName)
	s.logger = s.lp.Logger(ScopeName)
	if cfg.SetGlobal {
		otel.SetTracerProvider(s.tp)
		otel.SetTextMapPropagator(s.prop)
	}
	s.wg.Add(1)
	go s.loop(spanExp, logExp)
	return nil
}

func joinURL(base, path string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + path
}

// loop exports in the background: start markers at once, full batches, and
// whatever is queued every few seconds for long-running services.
func (s *SDK) loop(spanExp sdktrace.SpanExporter, logExp sdklog.Exporter) {
	defer s.wg.Done()
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ExportTimeout)
			_ = spanExp.Shutdown(ctx)
			_ = logExp.Shutdown(ctx)
			cancel()
			return
		case <-s.spans.b.kick:
			_ = s.spans.b.flush(context.Background())
		case <-s.logs.b.kick:
			_ = s.logs.b.flush(context.Background())
		case <-t.C:
			_ = s.spans.b.flush(context.Background())
			_ = s.logs.b.flush(context.Background())
		}
	}
}

func (s *SDK) resourceAttrs() []attribute.KeyValue {
	service := s.cfg.Service
	if service == "" {
		service = s.fn.name
	}
	if service == "" {
		service = "unknown_service:go"
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", service),
		attribute.String("telemetry.sdk.name", "ariadne"),
		attribute.String("telemetry.sdk.language", "go"),
	}
	if s.cfg.Version != "" {
		attrs = append(attrs, attribute.String("service.version", s.cfg.Version))
	}
	if s.cfg.Environment != "" {
		attrs = append(attrs, attribute.String("deployment.environment.name", s.cfg.Environment))
	}
	if s.fn.name != "" {
		attrs = append(attrs,
			attribute.String("faas.name", s.fn.name),
			attribute.String("cloud.provider", "aws"),
			attribute.String("cloud.platform", "aws_lambda"),
		)
		if s.fn.version != "" {
			attrs = append(attrs, attribute.String("faas.version", s.fn.version))
		}
		if s.fn.memoryMB > 0 {
			attrs = append(attrs, attribute.Int64("faas.max_memory", int64(s.fn.memoryMB)<<20))
		}
		if s.fn.logStream != "" {
			attrs = append(attrs, attribute.String("faas.instance", s.fn.logStream))
		}
	}
	if s.fn.region != "" {
		attrs = append(attrs, attribute.String("cloud.region", s.fn.region))
	}
	return attrs
}

// lambdaEnv is what the Lambda runtime tells a process about itself.
type lambdaEnv struct {
	name, version, region, logStream string
	memoryMB                         int
}

func readLambdaEnv(getenv func(string) string) lambdaEnv {
	mem, _ := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	return lambdaEnv{
		name:      getenv("AWS_LAMBDA_FUNCTION_NAME"),
		version:   getenv("AWS_LAMBDA_FUNCTION_VERSION"),
		region:    region,
		logStream: getenv("AWS_LAMBDA_LOG_STREAM_NAME"),
		memoryMB:  mem,
	}
}

// Enabled reports whether the SDK records anything.
func (s *SDK) Enabled() bool { return !s.cfg.Disabled }

// Config returns the effective configuration.
func (s *SDK) Config() Config { return s.cfg }

// Tracer returns the SDK's tracer, for manual spans.
func (s *SDK) Tracer() trace.Tracer { return s.tracer }

// TracerProvider returns the provider, or nil when disabled.
func (s *SDK) TracerProvider() *sdktrace.TracerProvider { return s.tp }

// LoggerProvider returns the log provider, or nil when disabled.
func (s *SDK) LoggerProvider() *sdklog.LoggerProvider { return s.lp }

// Propagator returns the W3C trace-context and baggage propagator.
func (s *SDK) Propagator() propagation.TextMapPropagator { return s.prop }

// Stats counts what the SDK exported and dropped, for tests and for a
// function that wants to log them.
type Stats struct {
	SpansExported, SpansDropped uint64
	LogsExported, LogsDropped   uint64
	ExportFailures              uint64
	CoolingDown                 bool
}

// Stats returns the current counters.
func (s *SDK) Stats() Stats {
	if s.spans == nil {
		return Stats{}
	}
	return Stats{
		SpansExported:  s.spans.b.exported.Load(),
		SpansDropped:   s.spans.b.dropped.Load(),
		LogsExported:   s.logs.b.exported.Load(),
		LogsDropped:    s.logs.b.dropped.Load(),
		ExportFailures: s.guard.failures.Load(),
		CoolingDown:    !s.guard.open(),
	}
}

// Flush exports what is queued, spans and logs in parallel, within ctx and
// the export timeout. During a cool-down it returns at once.
func (s *SDK) Flush(ctx context.Context) error {
	if s.spans == nil {
		return nil
	}
	var logErr error
	var wg sync.WaitGroup
	if s.logs.b.len() > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logErr = s.logs.b.flush(ctx)
		}()
	}
	spanErr := s.spans.b.flush(ctx)
	wg.Wait()
	return errors.Join(spanErr, logErr)
}

// flushSoon is the end-of-invocation flush: bounded by the export timeout
// plus a little scheduling slack, whatever the invocation's context says.
func (s *SDK) flushSoon() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ExportTimeout+50*time.Millisecond)
	defer cancel()
	_ = s.Flush(ctx)
}

// Shutdown flushes and stops the SDK. It is idempotent.
func (s *SDK) Shutdown(ctx context.Context) error {
	var err error
	s.shutdown.Do(func() {
		if s.tp == nil {
			return
		}
		err = errors.Join(s.tp.Shutdown(ctx), s.lp.Shutdown(ctx))
		close(s.stop)
		s.wg.Wait()
	})
	return err
}

// invocation is the per-invocation (or per-request) state carried in the
// context: the payload budget and, inside Lambda, the invocation span.
type invocation struct {
	sdk       *SDK
	budget    atomic.Int64
	requestID string
	function  string
	messages  map[string]trace.Span // SQS message id -> processing span
}

type invocationKey struct{}

func invocationFrom(ctx context.Context) *invocation {
	inv, _ := ctx.Value(invocationKey{}).(*invocation)
	return inv
}

// maxRedactBytes is the largest payload the SDK redacts and captures.
const maxRedactBytes = 1 << 20

// CapturePayload redacts and caps p for a payload attribute and charges it
// to the invocation's budget. It returns false when nothing may be
// captured: metadata-only mode, a disabled SDK, or an exhausted budget.
func (s *SDK) CapturePayload(ctx context.Context, p []byte) (string, bool) {
	if s.cfg.MetadataOnly || s.cfg.Disabled || len(p) == 0 {
		return "", false
	}
	if len(p) > maxRedactBytes {
		// Redacting megabytes would cost the function tens of
		// milliseconds, and a cut-off prefix cannot be redacted safely
		// (a truncated JSON document loses its keys).
		return "[payload of " + strconv.Itoa(len(p)) + " bytes not captured]", true
	}
	out, ok := safeValue(func() string { return s.redactor.Payload(p) })
	if !ok {
		return "", false
	}
	if inv := invocationFrom(ctx); inv != nil && s.cfg.MaxInvocationBytes > 0 {
		left := inv.budget.Add(-int64(len(out)))
		if left < 0 {
			// Keep what still fits so a large event does not hide the rest.
			fit := int64(len(out)) + left
			if fit <= 64 {
				return "", false
			}
			out = redact.CapTo(out, int(fit))
		}
	}
	return out, true
}

// RecordError records err on span as OTel's "exception" event and sets the
// span's status, with the message redacted and capped: error texts quote
// inputs (a declined card number, a rejected token) more often than not.
// Use it instead of span.RecordError on spans that leave the function.
func (s *SDK) RecordError(span trace.Span, err error) {
	if err == nil {
		return
	}
	s.recordError(span, err, fmt.Sprintf("%T", err))
}

func (s *SDK) recordError(span trace.Span, err error, typ string, extra ...attribute.KeyValue) {
	msg := s.redactor.Cap(s.redactor.String(err.Error()))
	attrs := append([]attribute.KeyValue{
		attribute.String("exception.type", typ),
		attribute.String("exception.message", msg),
	}, extra...)
	span.AddEvent("exception", trace.WithAttributes(attrs...))
	span.SetStatus(codes.Error, msg)
}

// RedactValue masks v if key names a secret, else secret-shaped parts of v.
func (s *SDK) RedactValue(key, v string) string { return s.redactor.Value(key, v) }

// RedactString masks secret-shaped parts of free text.
func (s *SDK) RedactString(v string) string { return s.redactor.String(v) }

// RedactURL masks query parameters and user info of a URL.
func (s *SDK) RedactURL(u string) string { return s.redactor.URL(u) }

// safe runs f and swallows a panic: SDK bookkeeping must never take the
// function down.
func safe(f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	f()
	return true
}

func safeValue[T any](f func() T) (v T, ok bool) {
	ok = safe(func() { v = f() })
	return v, ok
}
