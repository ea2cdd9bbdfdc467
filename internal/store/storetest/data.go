package storetest

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
)

// base is the suite's epoch: all test data lies after it.
const base int64 = 1772366400000000000 // 2026-03-01T12:00:00Z

func traceID(n uint64) model.TraceID {
	var t model.TraceID
	binary.BigEndian.PutUint64(t[:8], 0xa11ad0e000000000|n)
	binary.BigEndian.PutUint64(t[8:], n*0x9e3779b97f4a7c15+1)
	return t
}

func spanID(trace, n uint64) model.SpanID {
	var s model.SpanID
	binary.BigEndian.PutUint64(s[:], (trace<<16|n)*0xbf58476d1ce4e5b9+1)
	return s
}

// traceSpec describes one generated trace.
type traceSpec struct {
	n        uint64        // trace number: the trace id derives from it
	start    time.Duration // offset from base
	spans    int           // ≥ 1: a root and children
	dur      time.Duration // of every span; the trace lasts longer
	service  string        // root service; children are "<service>-child"
	name     string        // root span name
	err      bool          // the last child is in error
	attrs    model.Attributes
	text     string           // put in the root's status message
	logBody  string           // a log record on the root with this body, when set
	payload  string           // the root's request payload
	resource model.Attributes // on every span
	childGap time.Duration
}

func (ts traceSpec) build() model.Batch {
	var b model.Batch
	tid := traceID(ts.n)
	start := base + int64(ts.start)
	gap := ts.childGap
	if gap == 0 {
		gap = time.Millisecond
	}
	for i := 0; i < ts.spans; i++ {
		s := model.Span{
			TraceID:            tid,
			SpanID:             spanID(ts.n, uint64(i+1)),
			StartTime:          start + int64(i)*int64(gap),
			DurationNs:         int64(ts.dur),
			Name:               ts.name,
			Kind:               model.KindServer,
			Service:            ts.service,
			ResourceAttributes: ts.resource,
		}
		if i > 0 {
			s.ParentSpanID = spanID(ts.n, 1)
			s.Name = fmt.Sprintf("%s/child%d", ts.name, i)
			s.Service = ts.service + "-child"
			s.Kind = model.KindClient
		} else {
			s.Attributes = ts.attrs
			s.StatusMessage = ts.text
			s.RequestPayload = ts.payload
		}
		if ts.err && i == ts.spans-1 {
			s.StatusCode = model.StatusError
			s.ErrorType = "TimeoutError"
		}
		b.Spans = append(b.Spans, s)
	}
	if ts.logBody != "" {
		b.Logs = append(b.Logs, model.LogRecord{
			Time: start + 10, ObservedTime: start + 11, TraceID: tid, SpanID: spanID(ts.n, 1),
			SeverityNumber: 9, SeverityText: "INFO", Body: model.Value{Type: model.TypeString, Str: ts.logBody},
			Service: ts.service,
		})
	}
	return b
}

// fullSpan sets every field of a span, with attributes of every type.
func fullSpan(n uint64) model.Span {
	tid := traceID(n)
	every := model.Attributes{
		{Key: "s", Value: model.Value{Type: model.TypeString, Str: "héllo wörld"}},
		{Key: "b", Value: model.Value{Type: model.TypeBool, Str: "true"}},
		{Key: "i", Value: model.Value{Type: model.TypeInt, Str: "-42"}},
		{Key: "d", Value: model.Value{Type: model.TypeDouble, Str: "3.25"}},
		{Key: "y", Value: model.Value{Type: model.TypeBytes, Str: "AAEC"}},
		{Key: "a", Value: model.Value{Type: model.TypeArray, Str: `[{"stringValue":"x"},{"intValue":"1"}]`}},
		{Key: "m", Value: model.Value{Type: model.TypeMap, Str: `{"k":{"boolValue":false}}`}},
		{Key: "e", Value: model.Value{Type: model.TypeEmpty, Str: ""}},
		{Key: "s", Value: model.Value{Type: model.TypeString, Str: "duplicate key kept in order"}},
	}
	return model.Span{
		TraceID:            tid,
		SpanID:             spanID(n, 1),
		ParentSpanID:       spanID(n, 99),
		TraceState:         "vendor=a,other=b",
		Flags:              0x101,
		StartTime:          base + 123456789,
		DurationNs:         987654321,
		Name:               "POST /orders",
		Kind:               model.KindConsumer,
		StatusCode:         model.StatusError,
		StatusMessage:      "boom: timed out",
		Service:            "orders",
		ScopeName:          "github.com/ariadnehq/ariadne/sdk",
		ScopeVersion:       "0.1.0",
		Function:           "orders-fn",
		InvocationID:       "c0ffee-1",
		ColdStart:          true,
		Trigger:            "sqs",
		MessagingSystem:    "aws_sqs",
		MessagingOperation: "process",
		Destination:        "orders-queue",
		MessageIDs:         []string{"m-1", "m-2", "m-3"},
		HTTPMethod:         "POST",
		HTTPRoute:          "/orders",
		HTTPStatus:         504,
		DBSystem:           "dynamodb",
		ErrorType:          "TimeoutError",
		ErrorMessage:       "Task timed out after 3.00 seconds",
		Attributes:         every,
		ResourceAttributes: model.Attributes{
			{Key: "service.name", Value: model.Value{Type: model.TypeString, Str: "orders"}},
			{Key: "faas.max_memory", Value: model.Value{Type: model.TypeInt, Str: "536870912"}},
			{Key: `we"ird\key`, Value: model.Value{Type: model.TypeString, Str: "va\"l\nue ü \x01"}},
		},
		Events: []model.Event{
			{Time: base + 123456790, Name: "exception", Attributes: model.Attributes{
				{Key: "exception.type", Value: model.Value{Type: model.TypeString, Str: "TimeoutError"}},
				{Key: "exception.escaped", Value: model.Value{Type: model.TypeBool, Str: "true"}},
			}},
			{Time: base + 123456791, Name: "no attributes"},
		},
		Links: []model.Link{
			{TraceID: traceID(n + 1000), SpanID: spanID(n+1000, 7), TraceState: "k=v", Attributes: model.Attributes{
				{Key: "messaging.message.id", Value: model.Value{Type: model.TypeString, Str: "m-1"}},
			}},
			{TraceID: traceID(n + 1001), SpanID: spanID(n+1001, 8)},
		},
		RequestPayload:  `{"order":42,"note":"\u00e9 \"quoted\""}`,
		ResponsePayload: `{"error":"timeout"}`,
	}
}
