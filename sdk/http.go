package ariadne

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// capturedHeaders are recorded (redacted) on HTTP spans; others are not,
// to keep spans small.
var capturedHeaders = []string{"Content-Type", "User-Agent", "X-Request-Id", "X-Amzn-Trace-Id", "Authorization", "Cookie"}

// HTTPHandler traces incoming requests: W3C trace context is extracted, a
// SERVER span is opened per request with its own payload budget, and with
// CaptureHTTPBodies the request and response bodies are captured (redacted,
// capped) without changing what the handler reads or writes.
func (s *SDK) HTTPHandler(next http.Handler) http.Handler {
	if !s.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := s.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		if invocationFrom(ctx) == nil {
			inv := &invocation{sdk: s}
			inv.budget.Store(int64(s.cfg.MaxInvocationBytes))
			ctx = contextWithInvocation(ctx, inv)
		}
		name := r.Method
		if r.Pattern != "" {
			name = r.Pattern
		}
		attrs := []attribute.KeyValue{
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
			attribute.String("url.scheme", scheme(r)),
			attribute.String("server.address", r.Host),
		}
		if r.URL.RawQuery != "" {
			attrs = append(attrs, attribute.String("url.query", s.redactor.URL("?" + r.URL.RawQuery)[1:]))
		}
		if r.Pattern != "" {
			_, route, _ := strings.Cut(r.Pattern, " ")
			if route == "" {
				route = r.Pattern
			}
			attrs = append(attrs, attribute.String("http.route", route))
		}
		attrs = append(attrs, s.headerAttrs("http.request.header.", r.Header)...)
		ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()

		var reqBody *capBuffer
		if s.cfg.CaptureHTTPBodies && !s.cfg.MetadataOnly && r.Body != nil && r.Body != http.NoBody {
			reqBody = &capBuffer{max: s.cfg.MaxValueBytes}
			r.Body = &teeBody{rc: r.Body, buf: reqBody}
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if s.cfg.CaptureHTTPBodies && !s.cfg.MetadataOnly {
			rec.body = &capBuffer{max: s.cfg.MaxValueBytes}
		}
		defer func() {
			if p := recover(); p != nil {
				span.SetStatus(codes.Error, "panic")
				span.SetAttributes(attribute.Bool("ariadne.panic", true))
				span.End()
				panic(p)
			}
		}()
		r2 := r.WithContext(ctx)
		next.ServeHTTP(rec, r2)
		if r.Pattern == "" && r2.Pattern != "" {
			// A ServeMux below us routed the request; name the span by
			// the route, as OTel's HTTP conventions ask.
			route := r2.Pattern
			if _, rt, ok := strings.Cut(route, " "); ok {
				route = rt
			}
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}

		span.SetAttributes(attribute.Int("http.response.status_code", rec.status))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
		if reqBody != nil {
			if p, ok := s.CapturePayload(ctx, reqBody.Bytes()); ok {
				span.SetAttributes(attribute.String("ariadne.request.payload", p))
			}
		}
		if rec.body != nil {
			if p, ok := s.CapturePayload(ctx, rec.body.Bytes()); ok {
				span.SetAttributes(attribute.String("ariadne.response.payload", p))
			}
		}
	})
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func (s *SDK) headerAttrs(prefix string, h http.Header) []attribute.KeyValue {
	var out []attribute.KeyValue
	for _, k := range capturedHeaders {
		if v := h.Get(k); v != "" {
			out = append(out, attribute.String(prefix+strings.ToLower(k), s.redactor.Value(k, v)))
		}
	}
	return out
}

// HTTPTransport traces outgoing requests made through base (nil means
// http.DefaultTransport): a CLIENT span per request, W3C trace context
// injected into the request headers, optional body capture.
func (s *SDK) HTTPTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !s.Enabled() {
		return base
	}
	return &transport{sdk: s, base: base}
}

type transport struct {
	sdk  *SDK
	base http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	s := t.sdk
	ctx, span := s.tracer.Start(r.Context(), "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("url.full", s.redactor.URL(r.URL.String())),
			attribute.String("server.address", r.URL.Hostname()),
		))
	// RoundTrippers must not modify the caller's request.
	r2 := r.Clone(ctx)
	s.prop.Inject(ctx, propagation.HeaderCarrier(r2.Header))
	if s.cfg.CaptureHTTPBodies && !s.cfg.MetadataOnly && r.GetBody != nil {
		if rc, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, int64(s.cfg.MaxValueBytes)+1))
			_ = rc.Close()
			if p, ok := s.CapturePayload(ctx, b); ok {
				span.SetAttributes(attribute.String("ariadne.request.payload", p))
			}
		}
	}
	resp, err := t.base.RoundTrip(r2)
	if err != nil {
		s.RecordError(span, err)
		span.End()
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	if s.cfg.CaptureHTTPBodies && !s.cfg.MetadataOnly && resp.Body != nil {
		// The span ends when the caller finishes reading (or closes) the
		// body, so streaming responses are timed whole and not buffered.
		resp.Body = &endOnClose{rc: resp.Body, buf: &capBuffer{max: s.cfg.MaxValueBytes}, end: func(b []byte) {
			if p, ok := s.CapturePayload(ctx, b); ok {
				span.SetAttributes(attribute.String("ariadne.response.payload", p))
			}
			span.End()
		}}
		return resp, nil
	}
	span.End()
	return resp, nil
}

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	bytes.Buffer
	max int
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		if len(p) > room {
			c.Buffer.Write(p[:room])
		} else {
			c.Buffer.Write(p)
		}
	}
	return len(p), nil
}

type teeBody struct {
	rc  io.ReadCloser
	buf *capBuffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	_, _ = t.buf.Write(p[:n])
	return n, err
}

func (t *teeBody) Close() error { return t.rc.Close() }

type endOnClose struct {
	rc   io.ReadCloser
	buf  *capBuffer
	end  func([]byte)
	done bool
}

func (e *endOnClose) Read(p []byte) (int, error) {
	n, err := e.rc.Read(p)
	_, _ = e.buf.Write(p[:n])
	if err == io.EOF && !e.done {
		e.done = true
		e.end(e.buf.Bytes())
	}
	return n, err
}

func (e *endOnClose) Close() error {
	if !e.done {
		e.done = true
		e.end(e.buf.Bytes())
	}
	return e.rc.Close()
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        *capBuffer
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	if r.body != nil {
		_, _ = r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush and friends.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
