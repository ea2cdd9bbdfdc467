package ariadne

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// SlogHandler returns a log/slog handler that exports every record at
// minLevel or above as an OTLP log record on the current trace and span,
// with faas.invocation_id and faas.name inside an invocation. If next is
// not nil the record is also passed to next, stamped with trace_id and
// span_id so plain-text logs can be joined to the trace too. Message and
// attributes are redacted on both paths: the Lambda extension forwards the
// function's stdout to Ariadne as well.
func (s *SDK) SlogHandler(next slog.Handler, minLevel slog.Level) slog.Handler {
	return &slogHandler{sdk: s, next: next, min: minLevel}
}

type slogHandler struct {
	sdk    *SDK
	next   slog.Handler
	min    slog.Level
	attrs  []slog.Attr // bound with WithAttrs, keys already prefixed
	prefix string      // group path of WithGroup, "a.b."
}

func (h *slogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return (l >= h.min && h.sdk.Enabled()) || (h.next != nil && h.next.Enabled(ctx, l))
}

func (h *slogHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	ok := safe(func() { err = h.handle(ctx, r) })
	if !ok && h.next != nil {
		return h.next.Handle(ctx, r)
	}
	return err
}

func (h *slogHandler) handle(ctx context.Context, r slog.Record) error {
	s := h.sdk
	msg := s.redactor.String(r.Message)
	var kvs []attribute.KeyValue
	var nextAttrs []slog.Attr
	add := func(key string, v slog.Value) { kvs = append(kvs, h.convert(key, v)) }
	for _, a := range h.attrs {
		flatten("", a, add)
	}
	r.Attrs(func(a slog.Attr) bool {
		flatten(h.prefix, a, add)
		if h.next != nil {
			// next applies its own groups; give it unprefixed keys.
			flatten("", a, func(k string, v slog.Value) {
				nextAttrs = append(nextAttrs, slog.Any(k, h.convert(k, v).Value.AsInterface()))
			})
		}
		return true
	})
	inv := invocationFrom(ctx)
	if inv != nil {
		if inv.requestID != "" {
			kvs = append(kvs, attribute.String("faas.invocation_id", inv.requestID))
		}
		if inv.function != "" {
			kvs = append(kvs, attribute.String("faas.name", inv.function))
		}
	}
	if r.Level >= h.min && s.Enabled() {
		var rec otellog.Record
		t := r.Time
		if t.IsZero() {
			t = time.Now()
		}
		rec.SetTimestamp(t)
		rec.SetObservedTimestamp(time.Now())
		rec.SetSeverity(severity(r.Level))
		rec.SetSeverityText(r.Level.String())
		rec.SetBody(attribute.StringValue(msg))
		rec.AddAttributes(kvs...)
		s.logger.Emit(ctx, rec)
	}
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
		// Attributes bound with WithAttrs live in next already.
		out.AddAttrs(nextAttrs...)
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			out.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
		if inv != nil && inv.requestID != "" {
			out.AddAttrs(slog.String("faas.invocation_id", inv.requestID))
		}
		return h.next.Handle(ctx, out)
	}
	return nil
}

// flatten turns groups into dotted keys, as OTLP attributes have no groups.
func flatten(prefix string, a slog.Attr, add func(string, slog.Value)) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, g := range v.Group() {
			flatten(p, g, add)
		}
		return
	}
	if a.Key == "" {
		return
	}
	add(prefix+a.Key, v)
}

func (h *slogHandler) convert(key string, v slog.Value) attribute.KeyValue {
	r := h.sdk.redactor
	if r.SensitiveKey(lastKey(key)) {
		return attribute.String(key, "[REDACTED]")
	}
	switch v.Kind() {
	case slog.KindString:
		return attribute.String(key, r.String(v.String()))
	case slog.KindInt64:
		return attribute.Int64(key, v.Int64())
	case slog.KindUint64:
		return attribute.Int64(key, int64(v.Uint64()))
	case slog.KindFloat64:
		return attribute.Float64(key, v.Float64())
	case slog.KindBool:
		return attribute.Bool(key, v.Bool())
	case slog.KindDuration:
		return attribute.Int64(key, int64(v.Duration()))
	case slog.KindTime:
		return attribute.String(key, v.Time().Format(time.RFC3339Nano))
	default:
		var s string
		if err, ok := v.Any().(error); ok {
			s = err.Error()
		} else {
			s = fmt.Sprint(v.Any())
		}
		return attribute.String(key, r.Cap(r.String(s)))
	}
}

func lastKey(k string) string {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '.' {
			return k[i+1:]
		}
	}
	return k
}

func severity(l slog.Level) otellog.Severity {
	switch {
	case l >= slog.LevelError:
		return otellog.SeverityError + otellog.Severity(l-slog.LevelError)
	case l >= slog.LevelWarn:
		return otellog.SeverityWarn + otellog.Severity(l-slog.LevelWarn)
	case l >= slog.LevelInfo:
		return otellog.SeverityInfo + otellog.Severity(l-slog.LevelInfo)
	default:
		d := otellog.SeverityDebug + otellog.Severity(l-slog.LevelDebug)
		if d < otellog.SeverityTrace1 {
			d = otellog.SeverityTrace1
		}
		return d
	}
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		if h.prefix != "" {
			a = slog.Attr{Key: h.prefix + a.Key, Value: a.Value}
		}
		c.attrs = append(c.attrs, a)
	}
	if h.next != nil {
		// next must not see secrets either: bind redacted values.
		red := make([]slog.Attr, 0, len(attrs))
		for _, a := range attrs {
			flatten("", a, func(k string, v slog.Value) {
				red = append(red, slog.Any(k, h.convert(k, v).Value.AsInterface()))
			})
		}
		c.next = h.next.WithAttrs(red)
	}
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	if h.next != nil {
		c.next = h.next.WithGroup(name)
	}
	return &c
}
