package otlp

// Normalisation of data pdata has decoded: OTLP/JSON bodies, and callers
// that already hold ptrace.Traces or plog.Logs. Protobuf bodies take the
// direct path of wire.go; both end in normalizer.finish and finishLog.

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
)

// NormalizeTraces appends the spans of td, the message refs and invocation
// rows derived from them to b. Spans that break lim or carry a zero trace or
// span id are left out and counted in the result; the rest are kept.
func NormalizeTraces(td ptrace.Traces, lim Limits, b *model.Batch) Rejections {
	n := newNormalizer(lim, b)
	return n.traces(td)
}

// NormalizeLogs appends the log records of ld to b, leaving out and counting
// those that break lim.
func NormalizeLogs(ld plog.Logs, lim Limits, b *model.Batch) Rejections {
	n := newNormalizer(lim, b)
	return n.logs(ld)
}

func (n *normalizer) resource(r pcommon.Resource) resource {
	m := r.Attributes()
	attrs, ie := n.attrs(m, "resource")
	if ie != nil {
		return resource{service: DefaultService, err: ie}
	}
	return resourceOf(attrs)
}

// attr converts one attribute under the limits.
func (n *normalizer) attr(k string, v pcommon.Value) (model.Value, *itemError) {
	if len(k) > n.lim.MaxKeyBytes {
		return model.Value{}, &itemError{ReasonValueTooLong, fmt.Sprintf("attribute key of %d bytes, limit %d", len(k), n.lim.MaxKeyBytes)}
	}
	// Strings are most attributes; skip the general conversion for them.
	if v.Type() == pcommon.ValueTypeStr {
		s := v.Str()
		if len(s) > n.lim.MaxValueBytes {
			return model.Value{}, &itemError{ReasonValueTooLong, fmt.Sprintf("attribute %q: value of %d bytes, limit %d", truncate(k), len(s), n.lim.MaxValueBytes)}
		}
		return model.Value{Type: model.TypeString, Str: s}, nil
	}
	mv, err := anyvalue.FromPcommon(v, n.vlim)
	switch {
	case errors.Is(err, anyvalue.ErrTooDeep):
		return model.Value{}, &itemError{ReasonTooDeep, fmt.Sprintf("attribute %q: value nested deeper than %d", truncate(k), n.lim.MaxValueDepth)}
	case errors.Is(err, anyvalue.ErrTooLong):
		return model.Value{}, &itemError{ReasonValueTooLong, fmt.Sprintf("attribute %q: value longer than %d bytes", truncate(k), n.lim.MaxValueBytes)}
	case err != nil:
		return model.Value{}, &itemError{ReasonValueTooLong, fmt.Sprintf("attribute %q: %v", truncate(k), err)}
	}
	return mv, nil
}

// attrs converts a whole attribute list that is not a span's own (events,
// links, logs).
func (n *normalizer) attrs(m pcommon.Map, what string) (model.Attributes, *itemError) {
	if m.Len() > n.lim.MaxAttributes {
		return nil, &itemError{ReasonTooManyAttributes, fmt.Sprintf("%s has %d attributes, limit %d", what, m.Len(), n.lim.MaxAttributes)}
	}
	if m.Len() == 0 {
		return nil, nil
	}
	out := make(model.Attributes, 0, m.Len())
	for k, v := range m.All() {
		mv, ie := n.attr(k, v)
		if ie != nil {
			ie.detail = what + " " + ie.detail
			return nil, ie
		}
		out = append(out, model.Attr{Key: k, Value: mv})
	}
	return out, nil
}

func (n *normalizer) traces(td ptrace.Traces) Rejections {
	var rej Rejections
	rss := td.ResourceSpans()
	total, totalAttrs := 0, 0
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			total += spans.Len()
			for k := 0; k < spans.Len(); k++ {
				if l := spans.At(k).Attributes().Len(); l <= n.lim.MaxAttributes {
					totalAttrs += l
				}
			}
		}
	}
	if total == 0 {
		return rej
	}
	b := n.batch
	reserveSpans(b, total)
	n.arena = make([]model.Attr, 0, totalAttrs)

	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := n.resource(rs.Resource())
		sss := rs.ScopeSpans()
		if res.err != nil {
			cnt := 0
			for j := 0; j < sss.Len(); j++ {
				cnt += sss.At(j).Spans().Len()
			}
			if cnt > 0 {
				rej.add(res.err.reason, int64(cnt), res.err.detail)
			}
			continue
		}
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			scopeName, scopeVersion := ss.Scope().Name(), ss.Scope().Version()
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := newSpan(b)
				mark := len(n.arena)
				if ie := n.span(sp, spans.At(k), &res); ie != nil {
					dropSpan(b)
					n.arena = n.arena[:mark]
					rej.add(ie.reason, 1, ie.detail)
					continue
				}
				sp.ScopeName, sp.ScopeVersion = scopeName, scopeVersion
				n.finish(sp, &res)
			}
		}
	}
	return rej
}

// span converts s into sp. On a refusal sp is garbage and the caller drops it.
func (n *normalizer) span(sp *model.Span, s ptrace.Span, res *resource) *itemError {
	sp.TraceID = model.TraceID(s.TraceID())
	sp.SpanID = model.SpanID(s.SpanID())
	if sp.TraceID.IsZero() || sp.SpanID.IsZero() {
		return invalidID(s.Name(), sp)
	}
	attrs := s.Attributes()
	if ie := n.checkSpanShape(sp, s.Name(), s.Status().Message(), attrs.Len(), s.Events().Len(), s.Links().Len()); ie != nil {
		return ie
	}
	sp.ParentSpanID = model.SpanID(s.ParentSpanID())
	sp.TraceState = s.TraceState().AsRaw()
	sp.Flags = s.Flags()
	setTimes(sp, uint64(s.StartTimestamp()), uint64(s.EndTimestamp()))
	sp.Name = s.Name()
	setKindStatus(sp, int32(s.Kind()), int32(s.Status().Code()))
	sp.StatusMessage = s.Status().Message()
	sp.Service = res.service
	sp.ResourceAttributes = res.attrs

	start := len(n.arena)
	for k, v := range attrs.All() {
		mv, ie := n.attr(k, v)
		if ie != nil {
			ie.detail = "span " + sp.SpanID.String() + ": " + ie.detail
			return ie
		}
		n.arena = append(n.arena, model.Attr{Key: k, Value: mv})
	}
	if len(n.arena) > start {
		sp.Attributes = n.arena[start:len(n.arena):len(n.arena)]
	}
	if evs := s.Events(); evs.Len() > 0 {
		sp.Events = make([]model.Event, evs.Len())
		for i := 0; i < evs.Len(); i++ {
			ev := evs.At(i)
			if len(ev.Name()) > n.lim.MaxValueBytes {
				return &itemError{ReasonValueTooLong, fmt.Sprintf("span %s: event name of %d bytes, limit %d", sp.SpanID, len(ev.Name()), n.lim.MaxValueBytes)}
			}
			a, ie := n.attrs(ev.Attributes(), "span "+sp.SpanID.String()+": event")
			if ie != nil {
				return ie
			}
			sp.Events[i] = model.Event{Time: int64(ev.Timestamp()), Name: ev.Name(), Attributes: a}
		}
	}
	if lks := s.Links(); lks.Len() > 0 {
		sp.Links = make([]model.Link, lks.Len())
		for i := 0; i < lks.Len(); i++ {
			lk := lks.At(i)
			a, ie := n.attrs(lk.Attributes(), "span "+sp.SpanID.String()+": link")
			if ie != nil {
				return ie
			}
			sp.Links[i] = model.Link{
				TraceID:    model.TraceID(lk.TraceID()),
				SpanID:     model.SpanID(lk.SpanID()),
				TraceState: lk.TraceState().AsRaw(),
				Attributes: a,
			}
		}
	}
	return nil
}

func (n *normalizer) logs(ld plog.Logs) Rejections {
	var rej Rejections
	rls := ld.ResourceLogs()
	total := 0
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			total += sls.At(j).LogRecords().Len()
		}
	}
	if total == 0 {
		return rej
	}
	b := n.batch
	if cap(b.Logs)-len(b.Logs) < total {
		grown := make([]model.LogRecord, len(b.Logs), len(b.Logs)+total)
		copy(grown, b.Logs)
		b.Logs = grown
	}
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := n.resource(rl.Resource())
		sls := rl.ScopeLogs()
		if res.err != nil {
			cnt := 0
			for j := 0; j < sls.Len(); j++ {
				cnt += sls.At(j).LogRecords().Len()
			}
			if cnt > 0 {
				rej.add(res.err.reason, int64(cnt), res.err.detail)
			}
			continue
		}
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			scope := sl.Scope().Name()
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr, ie := n.log(lrs.At(k), &res)
				if ie != nil {
					rej.add(ie.reason, 1, ie.detail)
					continue
				}
				lr.ScopeName = scope
				b.Logs = append(b.Logs, lr)
			}
		}
	}
	return rej
}

func (n *normalizer) log(l plog.LogRecord, res *resource) (model.LogRecord, *itemError) {
	lr := model.LogRecord{
		Time:         int64(l.Timestamp()),
		ObservedTime: int64(l.ObservedTimestamp()),
		TraceID:      model.TraceID(l.TraceID()),
		SpanID:       model.SpanID(l.SpanID()),
		Flags:        uint32(l.Flags()),
		SeverityText: l.SeverityText(),
	}
	setSeverity(&lr, int32(l.SeverityNumber()))
	body, err := anyvalue.FromPcommon(l.Body(), n.vlim)
	if err != nil {
		return lr, n.bodyError(err)
	}
	lr.Body = body
	a, ie := n.attrs(l.Attributes(), "log record:")
	if ie != nil {
		return lr, ie
	}
	lr.Attributes = a
	return lr, n.finishLog(&lr, res)
}
