package api

import (
	"encoding/hex"
	"strconv"

	"github.com/ariadnehq/ariadne/internal/model"
)

// Append-style encoding of a whole trace, straight from the model. A trace
// answer can hold tens of thousands of spans (15 MiB of JSON for 20,000), and
// going through the wire structs with encoding/json cost most of the answer
// time. The output is the JSON of TraceResponse, field for field; the wire
// types stay the documentation and what Go clients decode into, and
// TestAppendTraceMatchesWireTypes keeps the two identical.

// encodedJSON is an answer already encoded; writeJSON sends it as it is.
type encodedJSON []byte

// appendTrace appends the TraceResponse JSON of t.
func appendTrace(dst []byte, t *model.Trace) []byte {
	dst = append(dst, `{"spans":[`...)
	for i := range t.Spans {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendSpan(dst, &t.Spans[i])
	}
	dst = append(dst, `],"logs":[`...)
	for i := range t.Logs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendLog(dst, &t.Logs[i])
	}
	dst = append(dst, `],"invocations":[`...)
	for i := range t.Invocations {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendInvocation(dst, &t.Invocations[i])
	}
	return append(dst, "]}\n"...)
}

func appendSpan(dst []byte, s *model.Span) []byte {
	dst = append(dst, `{"traceId":`...)
	dst = appendID(dst, s.TraceID[:])
	dst = append(dst, `,"spanId":`...)
	dst = appendID(dst, s.SpanID[:])
	dst = append(dst, `,"parentSpanId":`...)
	dst = appendID(dst, s.ParentSpanID[:])
	dst = appendStringField(dst, "traceState", s.TraceState)
	dst = appendStringField(dst, "name", s.Name)
	dst = appendStringField(dst, "kind", s.Kind.String())
	dst = appendStringField(dst, "service", s.Service)
	dst = appendStringField(dst, "scopeName", s.ScopeName)
	dst = appendStringField(dst, "scopeVersion", s.ScopeVersion)
	dst = appendIntField(dst, "startTime", s.StartTime)
	dst = appendIntField(dst, "durationNs", s.DurationNs)
	dst = append(dst, `,"status":{"code":`...)
	dst = appendString(dst, s.StatusCode.String())
	dst = appendStringField(dst, "message", s.StatusMessage)
	dst = append(dst, '}')
	dst = appendStringField(dst, "function", s.Function)
	dst = appendStringField(dst, "invocationId", s.InvocationID)
	dst = appendBoolField(dst, "coldStart", s.ColdStart)
	dst = appendStringField(dst, "trigger", s.Trigger)
	dst = appendStringField(dst, "messagingSystem", s.MessagingSystem)
	dst = appendStringField(dst, "messagingOperation", s.MessagingOperation)
	dst = appendStringField(dst, "destination", s.Destination)
	dst = append(dst, `,"messageIds":[`...)
	for i, id := range s.MessageIDs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, id)
	}
	dst = append(dst, ']')
	dst = appendStringField(dst, "httpMethod", s.HTTPMethod)
	dst = appendStringField(dst, "httpRoute", s.HTTPRoute)
	dst = appendIntField(dst, "httpStatus", int64(s.HTTPStatus))
	dst = appendStringField(dst, "dbSystem", s.DBSystem)
	dst = appendStringField(dst, "errorType", s.ErrorType)
	dst = appendStringField(dst, "errorMessage", s.ErrorMessage)
	dst = appendStringField(dst, "requestPayload", s.RequestPayload)
	dst = appendStringField(dst, "responsePayload", s.ResponsePayload)
	dst = append(dst, `,"attributes":`...)
	dst = appendAttrs(dst, s.Attributes)
	dst = append(dst, `,"resourceAttributes":`...)
	dst = appendAttrs(dst, s.ResourceAttributes)
	dst = append(dst, `,"events":[`...)
	for i := range s.Events {
		e := &s.Events[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"time":`...)
		dst = strconv.AppendInt(dst, e.Time, 10)
		dst = appendStringField(dst, "name", e.Name)
		dst = append(dst, `,"attributes":`...)
		dst = appendAttrs(dst, e.Attributes)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"links":[`...)
	for i := range s.Links {
		l := &s.Links[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"traceId":`...)
		dst = appendID(dst, l.TraceID[:])
		dst = append(dst, `,"spanId":`...)
		dst = appendID(dst, l.SpanID[:])
		dst = appendStringField(dst, "traceState", l.TraceState)
		dst = append(dst, `,"attributes":`...)
		dst = appendAttrs(dst, l.Attributes)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

func appendLog(dst []byte, l *model.LogRecord) []byte {
	dst = append(dst, `{"time":`...)
	dst = strconv.AppendInt(dst, l.Time, 10)
	dst = appendIntField(dst, "observedTime", l.ObservedTime)
	dst = append(dst, `,"traceId":`...)
	dst = appendID(dst, l.TraceID[:])
	dst = append(dst, `,"spanId":`...)
	dst = appendID(dst, l.SpanID[:])
	dst = appendIntField(dst, "severityNumber", int64(l.SeverityNumber))
	dst = appendStringField(dst, "severityText", l.SeverityText)
	dst = append(dst, `,"body":`...)
	dst = appendValue(dst, l.Body)
	dst = appendStringField(dst, "service", l.Service)
	dst = appendStringField(dst, "function", l.Function)
	dst = appendStringField(dst, "invocationId", l.InvocationID)
	dst = appendStringField(dst, "scopeName", l.ScopeName)
	dst = append(dst, `,"attributes":`...)
	dst = appendAttrs(dst, l.Attributes)
	dst = append(dst, `,"resourceAttributes":`...)
	dst = appendAttrs(dst, l.ResourceAttributes)
	return append(dst, '}')
}

func appendInvocation(dst []byte, v *model.Invocation) []byte {
	dst = append(dst, `{"requestId":`...)
	dst = appendString(dst, v.RequestID)
	dst = appendStringField(dst, "function", v.Function)
	dst = appendStringField(dst, "source", v.Source)
	dst = appendIntField(dst, "start", v.Start)
	dst = appendIntField(dst, "durationNs", v.DurationNs)
	dst = appendIntField(dst, "billedDurationNs", v.BilledDurationNs)
	dst = appendIntField(dst, "initDurationNs", v.InitDurationNs)
	dst = appendIntField(dst, "deadline", v.Deadline)
	dst = appendIntField(dst, "memoryMb", int64(v.MemoryMB))
	dst = appendIntField(dst, "maxMemoryMb", int64(v.MaxMemoryMB))
	dst = appendStringField(dst, "status", string(v.Status))
	dst = appendStringField(dst, "errorType", v.ErrorType)
	dst = appendBoolField(dst, "coldStart", v.ColdStart)
	dst = appendIntField(dst, "attempt", int64(v.Attempt))
	dst = append(dst, `,"traceId":`...)
	dst = appendID(dst, v.TraceID[:])
	dst = append(dst, `,"spanId":`...)
	dst = appendID(dst, v.SpanID[:])
	return append(dst, '}')
}

// appendAttrs writes attributes as an object in order; a repeated key keeps
// its first value (see Attributes).
func appendAttrs(dst []byte, attrs model.Attributes) []byte {
	dst = append(dst, '{')
	var seen map[string]struct{}
	if len(attrs) > 16 {
		seen = make(map[string]struct{}, len(attrs))
	}
	first := true
	for i := range attrs {
		a := &attrs[i]
		if repeated(attrs, i, seen) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, a.Key)
		dst = append(dst, ':')
		dst = appendValue(dst, a.Value)
	}
	return append(dst, '}')
}

// repeated reports whether attrs[i]'s key came before: by scanning for the
// short lists spans usually carry, by the seen map for long ones.
func repeated(attrs model.Attributes, i int, seen map[string]struct{}) bool {
	k := attrs[i].Key
	if seen != nil {
		if _, ok := seen[k]; ok {
			return true
		}
		seen[k] = struct{}{}
		return false
	}
	for j := 0; j < i; j++ {
		if attrs[j].Key == k {
			return true
		}
	}
	return false
}

// appendID writes a hex id, "" when it is all zero.
func appendID(dst []byte, id []byte) []byte {
	for _, b := range id {
		if b != 0 {
			dst = append(dst, '"')
			dst = hex.AppendEncode(dst, id)
			return append(dst, '"')
		}
	}
	return append(dst, `""`...)
}

func appendStringField(dst []byte, name, v string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, v)
}

func appendIntField(dst []byte, name string, v int64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, v, 10)
}

func appendBoolField(dst []byte, name string, v bool) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendBool(dst, v)
}
