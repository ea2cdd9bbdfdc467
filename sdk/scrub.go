package ariadne

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/ariadnehq/ariadne/sdk/internal/redact"
)

// Export-time scrubbing is the last line of defence: the SDK's own
// attributes are redacted where they are made, but a function's manual
// spans (span.SetAttributes("password", …), span.RecordError(err)) and
// logs written through the plain OTel log API pass only through here.

// prescrubbed are attributes already redacted in full where they were made;
// running value patterns over 16 KiB payloads twice would only cost time.
var prescrubbed = map[attribute.Key]bool{
	"ariadne.request.payload":  true,
	"ariadne.response.payload": true,
	"exception.stacktrace":     true,
}

// scrubbed is a span with redacted attributes, events and status. Embedding
// the interface satisfies its unexported method; the rest is delegated.
type scrubbed struct {
	sdktrace.ReadOnlySpan
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	status sdktrace.Status
}

func (s scrubbed) Attributes() []attribute.KeyValue { return s.attrs }
func (s scrubbed) Events() []sdktrace.Event         { return s.events }
func (s scrubbed) Status() sdktrace.Status          { return s.status }

// scrubAttrs returns attrs with secrets masked, or attrs itself (no copy)
// when nothing changed, which is the common case.
func scrubAttrs(r *redact.Redactor, attrs []attribute.KeyValue) []attribute.KeyValue {
	var out []attribute.KeyValue
	for i, a := range attrs {
		nv, changed := scrubValue(r, a)
		if !changed {
			if out != nil {
				out = append(out, a)
			}
			continue
		}
		if out == nil {
			out = make([]attribute.KeyValue, i, len(attrs))
			copy(out, attrs[:i])
		}
		out = append(out, attribute.KeyValue{Key: a.Key, Value: nv})
	}
	if out == nil {
		return attrs
	}
	return out
}

func scrubValue(r *redact.Redactor, a attribute.KeyValue) (attribute.Value, bool) {
	if prescrubbed[a.Key] {
		return a.Value, false
	}
	switch a.Value.Type() {
	case attribute.STRING:
		v := a.Value.AsString()
		if v == redact.Mask {
			return a.Value, false
		}
		if r.SensitiveKey(lastKey(string(a.Key))) {
			return attribute.StringValue(redact.Mask), true
		}
		if nv := r.String(v); nv != v {
			return attribute.StringValue(nv), true
		}
	case attribute.STRINGSLICE:
		if r.SensitiveKey(lastKey(string(a.Key))) {
			return attribute.StringSliceValue([]string{redact.Mask}), true
		}
		vs := a.Value.AsStringSlice()
		changed := false
		for i, v := range vs {
			if nv := r.String(v); nv != v {
				vs[i], changed = nv, true
			}
		}
		if changed {
			return attribute.StringSliceValue(vs), true
		}
	}
	return a.Value, false
}

func scrubSpan(r *redact.Redactor, s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	attrs := s.Attributes()
	newAttrs := scrubAttrs(r, attrs)
	events := s.Events()
	var newEvents []sdktrace.Event
	for i, ev := range events {
		if len(ev.Attributes) == 0 {
			continue
		}
		ea := scrubAttrs(r, ev.Attributes)
		if &ea[0] == &ev.Attributes[0] {
			continue // unchanged
		}
		if newEvents == nil {
			newEvents = append([]sdktrace.Event(nil), events...)
		}
		newEvents[i].Attributes = ea
	}
	st := s.Status()
	newStatus := st
	if st.Description != "" {
		newStatus.Description = r.String(st.Description)
	}
	sameAttrs := len(newAttrs) == 0 || len(attrs) == 0 || &newAttrs[0] == &attrs[0]
	if sameAttrs && newEvents == nil && newStatus == st {
		return s
	}
	if newEvents == nil {
		newEvents = events
	}
	return scrubbed{ReadOnlySpan: s, attrs: newAttrs, events: newEvents, status: newStatus}
}

// scrubbingExport wraps a span exporter's ExportSpans.
func scrubbingExport(r *redact.Redactor, e sdktrace.SpanExporter) func(context.Context, []sdktrace.ReadOnlySpan) error {
	return func(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
		out := make([]sdktrace.ReadOnlySpan, len(spans))
		for i, s := range spans {
			out[i] = scrubSpan(r, s)
		}
		return e.ExportSpans(ctx, out)
	}
}

// scrubLog redacts a queued log record in place (it is the SDK's clone).
func scrubLog(r *redact.Redactor, rec *sdklog.Record) {
	if b := rec.Body(); b.Type() == attribute.STRING {
		if nv := r.String(b.AsString()); nv != b.AsString() {
			rec.SetBody(attribute.StringValue(nv))
		}
	}
	var attrs []attribute.KeyValue
	changed := false
	rec.WalkAttributes(func(kv attribute.KeyValue) bool {
		if nv, ch := scrubValue(r, kv); ch {
			kv.Value, changed = nv, true
		}
		attrs = append(attrs, kv)
		return true
	})
	if changed {
		rec.SetAttributes(attrs...)
	}
}
