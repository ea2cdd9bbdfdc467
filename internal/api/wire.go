package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// The wire types below are the JSON of API v1. They are exported so that Go
// clients (the CLI) decode exactly what the server encodes. Every list is
// encoded as [] rather than null and every field is always present, so that
// a UI can read them without guards. Absent ids are "".

// TraceResponse answers GET /api/v1/traces/{traceId}.
type TraceResponse struct {
	Spans       []Span       `json:"spans"`
	Logs        []Log        `json:"logs"`
	Invocations []Invocation `json:"invocations"`
}

// Span is one span.
type Span struct {
	TraceID      string `json:"traceId"`
	SpanID       string `json:"spanId"`
	ParentSpanID string `json:"parentSpanId"`
	TraceState   string `json:"traceState"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Service      string `json:"service"`
	ScopeName    string `json:"scopeName"`
	ScopeVersion string `json:"scopeVersion"`
	StartTime    int64  `json:"startTime"`
	DurationNs   int64  `json:"durationNs"`
	Status       Status `json:"status"`

	Function           string   `json:"function"`
	InvocationID       string   `json:"invocationId"`
	ColdStart          bool     `json:"coldStart"`
	Trigger            string   `json:"trigger"`
	MessagingSystem    string   `json:"messagingSystem"`
	MessagingOperation string   `json:"messagingOperation"`
	Destination        string   `json:"destination"`
	MessageIDs         []string `json:"messageIds"`
	HTTPMethod         string   `json:"httpMethod"`
	HTTPRoute          string   `json:"httpRoute"`
	HTTPStatus         int32    `json:"httpStatus"` // 0 when not an HTTP span
	DBSystem           string   `json:"dbSystem"`
	ErrorType          string   `json:"errorType"`
	ErrorMessage       string   `json:"errorMessage"`
	RequestPayload     string   `json:"requestPayload"`
	ResponsePayload    string   `json:"responsePayload"`

	Attributes         Attributes `json:"attributes"`
	ResourceAttributes Attributes `json:"resourceAttributes"`
	Events             []Event    `json:"events"`
	Links              []Link     `json:"links"`
}

// Status is a span status; Code is "unset", "ok" or "error".
type Status struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Event is a span event.
type Event struct {
	Time       int64      `json:"time"`
	Name       string     `json:"name"`
	Attributes Attributes `json:"attributes"`
}

// Link is a span link.
type Link struct {
	TraceID    string     `json:"traceId"`
	SpanID     string     `json:"spanId"`
	TraceState string     `json:"traceState"`
	Attributes Attributes `json:"attributes"`
}

// Log is one log record. Body is a typed JSON value like an attribute's.
type Log struct {
	Time               int64           `json:"time"`
	ObservedTime       int64           `json:"observedTime"`
	TraceID            string          `json:"traceId"`
	SpanID             string          `json:"spanId"`
	SeverityNumber     uint8           `json:"severityNumber"`
	SeverityText       string          `json:"severityText"`
	Body               json.RawMessage `json:"body"`
	Service            string          `json:"service"`
	Function           string          `json:"function"`
	InvocationID       string          `json:"invocationId"`
	ScopeName          string          `json:"scopeName"`
	Attributes         Attributes      `json:"attributes"`
	ResourceAttributes Attributes      `json:"resourceAttributes"`
}

// Invocation is what one source knows of one function invocation.
type Invocation struct {
	RequestID        string `json:"requestId"`
	Function         string `json:"function"`
	Source           string `json:"source"`
	Start            int64  `json:"start"`
	DurationNs       int64  `json:"durationNs"`
	BilledDurationNs int64  `json:"billedDurationNs"`
	InitDurationNs   int64  `json:"initDurationNs"`
	Deadline         int64  `json:"deadline"` // 0 when unknown
	MemoryMB         int32  `json:"memoryMb"`
	MaxMemoryMB      int32  `json:"maxMemoryMb"`
	Status           string `json:"status"`
	ErrorType        string `json:"errorType"`
	ColdStart        bool   `json:"coldStart"`
	Attempt          int32  `json:"attempt"`
	TraceID          string `json:"traceId"`
	SpanID           string `json:"spanId"`
}

// SearchResponse answers GET /api/v1/traces.
type SearchResponse struct {
	Traces []TraceSummary `json:"traces"`
	// NextCursor continues the search (cursor=…); "" on the last page.
	NextCursor string `json:"nextCursor"`
}

// TraceSummary is one row of a search.
type TraceSummary struct {
	TraceID     string `json:"traceId"`
	RootService string `json:"rootService"`
	RootName    string `json:"rootName"`
	StartTime   int64  `json:"startTime"`
	DurationNs  int64  `json:"durationNs"`
	SpanCount   int    `json:"spanCount"`
	ErrorCount  int    `json:"errorCount"`
}

// ServicesResponse answers GET /api/v1/services.
type ServicesResponse struct {
	Services []string `json:"services"`
}

// OperationsResponse answers GET /api/v1/operations.
type OperationsResponse struct {
	Operations []string `json:"operations"`
}

// AttributesResponse answers GET /api/v1/attributes.
type AttributesResponse struct {
	Attributes []string `json:"attributes"`
}

// ValuesResponse answers GET /api/v1/attributes/{key}/values. Values are in
// their canonical string form, the form attr.KEY=VALUE searches take.
type ValuesResponse struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// KeyValue is one attribute on the wire.
type KeyValue struct {
	Key   string
	Value json.RawMessage
}

// Attributes encode as a JSON object whose keys keep the OTLP order, which a
// Go map would lose. A repeated key keeps its first value: OTLP forbids
// repeats, and a JSON object with duplicate keys means different things to
// different parsers.
type Attributes []KeyValue

// MarshalJSON writes the attributes as an object in order.
func (a Attributes) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	seen := make(map[string]struct{}, len(a))
	for _, kv := range a {
		if _, dup := seen[kv.Key]; dup {
			continue
		}
		seen[kv.Key] = struct{}{}
		if len(seen) > 1 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, kv.Key)
		buf = append(buf, ':')
		if len(kv.Value) == 0 {
			buf = append(buf, "null"...)
		} else {
			buf = append(buf, kv.Value...)
		}
	}
	return append(buf, '}'), nil
}

// UnmarshalJSON reads an object, keeping the order of its keys.
func (a *Attributes) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decode attributes: %w", err)
	}
	if tok == nil { // null
		*a = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("decode attributes: want a JSON object")
	}
	out := Attributes{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode attributes: %w", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("decode attribute %q: %w", key, err)
		}
		out = append(out, KeyValue{Key: key, Value: v})
	}
	*a = out
	return nil
}

// Get returns the raw JSON value of key, or nil.
func (a Attributes) Get(key string) json.RawMessage {
	for _, kv := range a {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

func hexTrace(id model.TraceID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

func hexSpan(id model.SpanID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

// toTraceResponse converts a stored trace to its wire form.
func toTraceResponse(t *model.Trace) TraceResponse {
	out := TraceResponse{
		Spans:       make([]Span, len(t.Spans)),
		Logs:        make([]Log, len(t.Logs)),
		Invocations: make([]Invocation, len(t.Invocations)),
	}
	for i := range t.Spans {
		out.Spans[i] = toSpan(&t.Spans[i])
	}
	for i := range t.Logs {
		out.Logs[i] = toLog(&t.Logs[i])
	}
	for i := range t.Invocations {
		out.Invocations[i] = toInvocation(&t.Invocations[i])
	}
	return out
}

func toSpan(s *model.Span) Span {
	out := Span{
		TraceID:      hexTrace(s.TraceID),
		SpanID:       hexSpan(s.SpanID),
		ParentSpanID: hexSpan(s.ParentSpanID),
		TraceState:   s.TraceState,
		Name:         s.Name,
		Kind:         s.Kind.String(),
		Service:      s.Service,
		ScopeName:    s.ScopeName,
		ScopeVersion: s.ScopeVersion,
		StartTime:    s.StartTime,
		DurationNs:   s.DurationNs,
		Status:       Status{Code: s.StatusCode.String(), Message: s.StatusMessage},

		Function:           s.Function,
		InvocationID:       s.InvocationID,
		ColdStart:          s.ColdStart,
		Trigger:            s.Trigger,
		MessagingSystem:    s.MessagingSystem,
		MessagingOperation: s.MessagingOperation,
		Destination:        s.Destination,
		MessageIDs:         append([]string{}, s.MessageIDs...),
		HTTPMethod:         s.HTTPMethod,
		HTTPRoute:          s.HTTPRoute,
		HTTPStatus:         s.HTTPStatus,
		DBSystem:           s.DBSystem,
		ErrorType:          s.ErrorType,
		ErrorMessage:       s.ErrorMessage,
		RequestPayload:     s.RequestPayload,
		ResponsePayload:    s.ResponsePayload,

		Attributes:         toAttributes(s.Attributes),
		ResourceAttributes: toAttributes(s.ResourceAttributes),
		Events:             make([]Event, len(s.Events)),
		Links:              make([]Link, len(s.Links)),
	}
	for i, e := range s.Events {
		out.Events[i] = Event{Time: e.Time, Name: e.Name, Attributes: toAttributes(e.Attributes)}
	}
	for i, l := range s.Links {
		out.Links[i] = Link{TraceID: hexTrace(l.TraceID), SpanID: hexSpan(l.SpanID),
			TraceState: l.TraceState, Attributes: toAttributes(l.Attributes)}
	}
	return out
}

func toLog(l *model.LogRecord) Log {
	return Log{
		Time:               l.Time,
		ObservedTime:       l.ObservedTime,
		TraceID:            hexTrace(l.TraceID),
		SpanID:             hexSpan(l.SpanID),
		SeverityNumber:     l.SeverityNumber,
		SeverityText:       l.SeverityText,
		Body:               ValueJSON(l.Body),
		Service:            l.Service,
		Function:           l.Function,
		InvocationID:       l.InvocationID,
		ScopeName:          l.ScopeName,
		Attributes:         toAttributes(l.Attributes),
		ResourceAttributes: toAttributes(l.ResourceAttributes),
	}
}

func toInvocation(v *model.Invocation) Invocation {
	return Invocation{
		RequestID:        v.RequestID,
		Function:         v.Function,
		Source:           v.Source,
		Start:            v.Start,
		DurationNs:       v.DurationNs,
		BilledDurationNs: v.BilledDurationNs,
		InitDurationNs:   v.InitDurationNs,
		Deadline:         v.Deadline,
		MemoryMB:         v.MemoryMB,
		MaxMemoryMB:      v.MaxMemoryMB,
		Status:           string(v.Status),
		ErrorType:        v.ErrorType,
		ColdStart:        v.ColdStart,
		Attempt:          v.Attempt,
		TraceID:          hexTrace(v.TraceID),
		SpanID:           hexSpan(v.SpanID),
	}
}

func toSummary(s *store.TraceSummary) TraceSummary {
	return TraceSummary{
		TraceID:     hexTrace(s.TraceID),
		RootService: s.RootService,
		RootName:    s.RootName,
		StartTime:   s.StartTime,
		DurationNs:  s.DurationNs,
		SpanCount:   s.SpanCount,
		ErrorCount:  s.ErrorCount,
	}
}

func toAttributes(attrs model.Attributes) Attributes {
	out := make(Attributes, len(attrs))
	for i, a := range attrs {
		out[i] = KeyValue{Key: a.Key, Value: ValueJSON(a.Value)}
	}
	return out
}

// ValueJSON converts a canonical model.Value back to a typed JSON value:
// strings, numbers, booleans, arrays and objects. Bytes stay base64 strings.
// Where JSON has no form for the value (a NaN double) or the canonical
// string is not what its type promises, the value is sent as its string, so
// the client still sees what was stored.
func ValueJSON(v model.Value) json.RawMessage { return appendValue(nil, v) }

// appendValue appends the JSON of v (see ValueJSON).
func appendValue(dst []byte, v model.Value) []byte {
	switch v.Type {
	case model.TypeEmpty:
		return append(dst, "null"...)
	case model.TypeBool:
		if v.Str == "true" || v.Str == "false" {
			return append(dst, v.Str...)
		}
	case model.TypeInt:
		// Re-formatted, since ParseInt accepts "+7" and "007", which JSON does not.
		if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
			return strconv.AppendInt(dst, n, 10)
		}
	case model.TypeDouble:
		if f, err := strconv.ParseFloat(v.Str, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return strconv.AppendFloat(dst, f, 'g', -1, 64)
		}
	case model.TypeArray, model.TypeMap:
		// On failure the partial output lies beyond len(dst) and is
		// overwritten by the fallback.
		if out, err := anyValueToPlain(dst, []byte(v.Str), v.Type); err == nil {
			return out
		}
	}
	return appendString(dst, v.Str)
}

func quote(s string) json.RawMessage { return appendString(nil, s) }

// appendString appends s as a JSON string: the hot path of trace encoding
// (every attribute key and string value), shared with the stored form of
// arrays and maps so that both escape alike.
func appendString(dst []byte, s string) []byte { return anyvalue.AppendJSONString(dst, s) }
