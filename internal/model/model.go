// Package model holds Ariadne's domain types: what a span, a log record, an
// invocation and a message reference are once ingest has decoded and
// normalised them. Every other package speaks these types. The package
// imports nothing of Ariadne's and does no I/O.
package model

// Span is one OpenTelemetry span after normalisation. The derived fields
// (Function … ErrorMessage) are filled at ingest from OpenTelemetry semantic
// conventions and from the attributes of Ariadne's SDK (docs/attributes.md);
// they duplicate what Attributes say so that queries need not parse maps.
type Span struct {
	TraceID      TraceID
	SpanID       SpanID
	ParentSpanID SpanID
	TraceState   string
	Flags        uint32

	StartTime     int64 // Unix ns
	DurationNs    int64
	Name          string
	Kind          SpanKind
	StatusCode    StatusCode
	StatusMessage string
	Service       string
	ScopeName     string
	ScopeVersion  string

	// Derived columns (DESIGN.md §2).
	Function           string
	InvocationID       string // AWS request id
	ColdStart          bool
	Trigger            string
	MessagingSystem    string
	MessagingOperation string
	Destination        string
	MessageIDs         []string // every id of a batch
	HTTPMethod         string
	HTTPRoute          string
	HTTPStatus         int32 // 0 when the span is not an HTTP span
	DBSystem           string
	ErrorType          string
	ErrorMessage       string

	Attributes         Attributes
	ResourceAttributes Attributes
	Events             []Event
	Links              []Link

	RequestPayload  string
	ResponsePayload string
}

// EndTime is the span's end in Unix ns.
func (s *Span) EndTime() int64 { return s.StartTime + s.DurationNs }

// IsError reports whether the span failed.
func (s *Span) IsError() bool { return s.StatusCode == StatusError }

// Event is a span event (an exception, a log-like annotation).
type Event struct {
	Time       int64 // Unix ns
	Name       string
	Attributes Attributes
}

// Link points from a span to another span, possibly in another trace.
type Link struct {
	TraceID    TraceID
	SpanID     SpanID
	TraceState string
	Attributes Attributes
}

// SpanKind follows the OTLP enumeration values.
type SpanKind uint8

const (
	KindUnspecified SpanKind = 0
	KindInternal    SpanKind = 1
	KindServer      SpanKind = 2
	KindClient      SpanKind = 3
	KindProducer    SpanKind = 4
	KindConsumer    SpanKind = 5
)

var kindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

func (k SpanKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unspecified"
}

// ParseSpanKind is the inverse of SpanKind.String; ok is false for an unknown name.
func ParseSpanKind(s string) (SpanKind, bool) {
	for i, n := range kindNames {
		if n == s {
			return SpanKind(i), true
		}
	}
	return 0, false
}

// StatusCode follows the OTLP enumeration values.
type StatusCode uint8

const (
	StatusUnset StatusCode = 0
	StatusOK    StatusCode = 1
	StatusError StatusCode = 2
)

var statusNames = [...]string{"unset", "ok", "error"}

func (c StatusCode) String() string {
	if int(c) < len(statusNames) {
		return statusNames[c]
	}
	return "unset"
}

// ParseStatusCode is the inverse of StatusCode.String.
func ParseStatusCode(s string) (StatusCode, bool) {
	for i, n := range statusNames {
		if n == s {
			return StatusCode(i), true
		}
	}
	return 0, false
}

// LogRecord is one OpenTelemetry log record after normalisation.
type LogRecord struct {
	Time               int64 // Unix ns; ObservedTime when the record had none
	ObservedTime       int64
	TraceID            TraceID
	SpanID             SpanID
	Flags              uint32
	SeverityNumber     uint8
	SeverityText       string
	Body               Value
	Service            string
	Function           string
	InvocationID       string
	ScopeName          string
	Attributes         Attributes
	ResourceAttributes Attributes
}

// InvocationStatus is the fate of one function invocation.
type InvocationStatus string

const (
	InvocationOK        InvocationStatus = "ok"
	InvocationError     InvocationStatus = "error"
	InvocationTimeout   InvocationStatus = "timeout"
	InvocationOOM       InvocationStatus = "oom"
	InvocationCrash     InvocationStatus = "crash"
	InvocationThrottled InvocationStatus = "throttled"
	// InvocationStarted is known only from a start marker: no end has been
	// seen yet. Queries turn it into timeout or crash once the deadline passed.
	InvocationStarted InvocationStatus = "started"
)

// Invocation is what one source knows about one function invocation. Several
// sources (SDK span, SDK start marker, Telemetry API, platform log lines) may
// each contribute a row for the same RequestID; readers merge them by Source
// precedence (DESIGN.md §2).
type Invocation struct {
	RequestID        string
	Function         string
	Source           string // "sdk", "sdk-start", "telemetry", "logs"
	Start            int64  // Unix ns
	DurationNs       int64
	BilledDurationNs int64
	InitDurationNs   int64
	Deadline         int64 // Unix ns; 0 when unknown
	MemoryMB         int32
	MaxMemoryMB      int32
	Status           InvocationStatus
	ErrorType        string
	ColdStart        bool
	Attempt          int32
	TraceID          TraceID
	SpanID           SpanID
}

// RefRole says on which side of an asynchronous hop a message reference was seen.
type RefRole uint8

const (
	RoleProducer RefRole = 1
	RoleConsumer RefRole = 2
)

func (r RefRole) String() string {
	switch r {
	case RoleProducer:
		return "producer"
	case RoleConsumer:
		return "consumer"
	}
	return "unknown"
}

// MessageRef is one strong ID seen on one side of an asynchronous hop
// (DESIGN.md §3). Correlation joins producer and consumer rows on Key.
type MessageRef struct {
	Key         string // "sqs:<MessageId>", "s3:<request id>", …
	Role        RefRole
	TraceID     TraceID
	SpanID      SpanID
	Time        int64 // Unix ns: producer span end, consumer span start
	Destination string
}

// Batch is the unit of writing: everything decoded from one request.
type Batch struct {
	Spans       []Span
	Logs        []LogRecord
	Invocations []Invocation
	MessageRefs []MessageRef
}

// Len is the number of rows in the batch.
func (b *Batch) Len() int {
	return len(b.Spans) + len(b.Logs) + len(b.Invocations) + len(b.MessageRefs)
}

// Trace is everything stored for one trace id, each list in time order.
type Trace struct {
	Spans       []Span
	Logs        []LogRecord
	Invocations []Invocation
}
