package otlp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/ingest/otlp/anyvalue"
	"github.com/ariadnehq/ariadne/internal/model"
)

const maxValueDepthCeiling = anyvalue.MaxDepth

// DefaultService is the service of items whose resource has no service.name.
const DefaultService = "unknown_service"

// Attribute keys the normaliser reads (docs/attributes.md).
const (
	keyServiceName         = "service.name"
	keyFaasName            = "faas.name"
	keyCloudResourceID     = "cloud.resource_id"
	keyInvokedARN          = "aws.lambda.invoked_arn"
	keyFaasMaxMemory       = "faas.max_memory"
	keyFaasInvocationID    = "faas.invocation_id"
	keyFaasColdstart       = "faas.coldstart"
	keyFaasTrigger         = "faas.trigger"
	keyAriadneTrigger      = "ariadne.trigger"
	keyMessagingSystem     = "messaging.system"
	keyMessagingOpType     = "messaging.operation.type"
	keyMessagingOp         = "messaging.operation"
	keyMessagingDestName   = "messaging.destination.name"
	keyMessagingDest       = "messaging.destination"
	keyMessagingMessageID  = "messaging.message.id"
	keyRefsProducer        = "ariadne.refs.producer"
	keyRefsConsumer        = "ariadne.refs.consumer"
	keyAWSRequestID        = "aws.request_id"
	keyRPCMethod           = "rpc.method"
	keyRPCService          = "rpc.service"
	keyAWSS3Bucket         = "aws.s3.bucket"
	keyFaasDocCollection   = "faas.document.collection"
	keyHTTPRequestMethod   = "http.request.method"
	keyHTTPMethod          = "http.method"
	keyHTTPRoute           = "http.route"
	keyHTTPResponseStatus  = "http.response.status_code"
	keyHTTPStatus          = "http.status_code"
	keyDBSystemName        = "db.system.name"
	keyDBSystem            = "db.system"
	keyErrorType           = "error.type"
	keyRequestPayload      = "ariadne.request.payload"
	keyResponsePayload     = "ariadne.response.payload"
	keyAriadneTimeout      = "ariadne.timeout"
	keyAriadneMarker       = "ariadne.marker"
	keyAriadneDeadline     = "ariadne.deadline"
	keyAriadneAttempt      = "ariadne.attempt"
	keyAriadneMemoryMB     = "ariadne.memory_limit_mb"
	keyExceptionType       = "exception.type"
	keyExceptionMessage    = "exception.message"
	eventException         = "exception"
	markerStart            = "start"
	sourceSDK              = "sdk"
	sourceSDKStart         = "sdk-start"
	messageKeyFallbackKind = "msg"
)

// Reason says why one span or log record was refused.
type Reason uint8

// Reasons are metric label values; keep them stable.
const (
	ReasonInvalidID Reason = iota
	ReasonTooManyAttributes
	ReasonTooManyEvents
	ReasonTooManyLinks
	ReasonValueTooLong
	ReasonTooDeep
	numReasons
)

var reasonNames = [numReasons]string{
	"invalid_id", "too_many_attributes", "too_many_events", "too_many_links",
	"value_too_long", "too_deep",
}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Rejections counts the items refused by one normalisation, by reason, and
// keeps the first refusal's detail for the partial-success message.
type Rejections struct {
	Total    int64
	ByReason [numReasons]int64
	First    string
}

func (r *Rejections) add(reason Reason, n int64, detail string) {
	r.Total += n
	r.ByReason[reason] += n
	if r.First == "" {
		r.First = detail
	}
}

// Message is the OTLP partial-success error_message, "" when nothing was
// refused. item names the unit ("spans", "log records").
func (r *Rejections) Message(item string) string {
	if r.Total == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rejected %d %s (", r.Total, item)
	sep := ""
	for i, n := range r.ByReason {
		if n > 0 {
			fmt.Fprintf(&b, "%s%s: %d", sep, Reason(i), n)
			sep = ", "
		}
	}
	b.WriteString("); first: ")
	b.WriteString(r.First)
	return b.String()
}

// itemError is one item's refusal inside the normaliser.
type itemError struct {
	reason Reason
	detail string
}

// normalizer turns one request's OTLP data, decoded by pdata (pdata.go) or
// read off the wire (wire.go), into model rows under one set of limits. It
// is used for one request and then dropped; it is not safe for concurrent use.
type normalizer struct {
	lim   Limits
	vlim  anyvalue.Limits
	batch *model.Batch
	// arena backs the attribute lists of all spans (or log records) of the
	// request, so that a batch costs one allocation for them, not one per item.
	arena []model.Attr
}

func newNormalizer(lim Limits, b *model.Batch) *normalizer {
	lim = lim.withDefaults()
	return &normalizer{
		lim:   lim,
		vlim:  anyvalue.Limits{MaxDepth: lim.MaxValueDepth, MaxBytes: lim.MaxValueBytes},
		batch: b,
	}
}

// resource is what every item of one OTLP resource shares.
type resource struct {
	attrs        model.Attributes
	service      string
	function     string
	invocationID string
	memoryMB     int32
	err          *itemError
}

// resourceOf derives what spans and logs take from their resource.
func resourceOf(attrs model.Attributes) resource {
	res := resource{service: DefaultService, attrs: attrs}
	var resourceID string
	for _, a := range attrs {
		switch a.Key {
		case keyServiceName:
			if a.Value.Str != "" && a.Value.Type == model.TypeString {
				res.service = a.Value.Str
			}
		case keyFaasName:
			res.function = a.Value.Str
		case keyCloudResourceID:
			resourceID = a.Value.Str
		case keyFaasInvocationID:
			res.invocationID = a.Value.Str
		case keyFaasMaxMemory:
			if bytes, ok := intOfValue(a.Value); ok && bytes > 0 {
				res.memoryMB = clampInt32(bytes >> 20)
			}
		}
	}
	if res.function == "" && resourceID != "" {
		res.function = functionFromResourceID(resourceID)
	}
	return res
}

// reserveSpans makes room for n more spans in b, all zero.
func reserveSpans(b *model.Batch, n int) {
	if cap(b.Spans)-len(b.Spans) < n {
		grown := make([]model.Span, len(b.Spans), len(b.Spans)+n)
		copy(grown, b.Spans)
		b.Spans = grown
		return
	}
	// A caller's spare capacity may still hold spans of an earlier batch.
	clear(b.Spans[len(b.Spans):cap(b.Spans)])
}

// newSpan appends a zero span to b and returns it. Slots past the length
// are kept zero (make zeroes them, dropSpan re-zeroes them), so taking one
// writes nothing: assigning a zero Span would run GC write barriers over
// every pointer field, which showed in the profile.
func newSpan(b *model.Batch) *model.Span {
	if len(b.Spans) < cap(b.Spans) {
		b.Spans = b.Spans[:len(b.Spans)+1]
	} else {
		b.Spans = append(b.Spans, model.Span{})
	}
	return &b.Spans[len(b.Spans)-1]
}

// dropSpan removes the last span of b, leaving its slot zero for newSpan.
func dropSpan(b *model.Batch) {
	b.Spans[len(b.Spans)-1] = model.Span{}
	b.Spans = b.Spans[:len(b.Spans)-1]
}

// spanExtras are the attribute values that only the invocation and
// message-ref derivation need; they do not become span columns.
type spanExtras struct {
	messageID      string
	refsProducer   model.Value
	refsConsumer   model.Value
	faasTrigger    bool
	timeout        bool
	marker         string
	deadline       int64
	attempt        int32
	memoryMB       int32
	errorTypeAttr  string
	resourceIDAttr string
	invokedARN     string
	ownInvocation  bool // faas.invocation_id is on the span itself
	awsRequestID   string
	rpcMethod      string
	rpcService     string
}

func invalidID(name string, sp *model.Span) *itemError {
	return &itemError{ReasonInvalidID, fmt.Sprintf("span %q: trace id %s or span id %s is zero", truncate(name), sp.TraceID, sp.SpanID)}
}

// checkSpanShape applies the limits that need only counts and lengths.
func (n *normalizer) checkSpanShape(sp *model.Span, name, statusMsg string, attrs, events, links int) *itemError {
	switch {
	case len(name) > n.lim.MaxValueBytes:
		return &itemError{ReasonValueTooLong, fmt.Sprintf("span %s: name of %d bytes, limit %d", sp.SpanID, len(name), n.lim.MaxValueBytes)}
	case len(statusMsg) > n.lim.MaxValueBytes:
		return &itemError{ReasonValueTooLong, fmt.Sprintf("span %s: status message of %d bytes, limit %d", sp.SpanID, len(statusMsg), n.lim.MaxValueBytes)}
	case attrs > n.lim.MaxAttributes:
		return &itemError{ReasonTooManyAttributes, fmt.Sprintf("span %s: %d attributes, limit %d", sp.SpanID, attrs, n.lim.MaxAttributes)}
	case events > n.lim.MaxEvents:
		return &itemError{ReasonTooManyEvents, fmt.Sprintf("span %s: %d events, limit %d", sp.SpanID, events, n.lim.MaxEvents)}
	case links > n.lim.MaxLinks:
		return &itemError{ReasonTooManyLinks, fmt.Sprintf("span %s: %d links, limit %d", sp.SpanID, links, n.lim.MaxLinks)}
	}
	return nil
}

func setTimes(sp *model.Span, start, end uint64) {
	sp.StartTime = int64(start)
	if end > start {
		sp.DurationNs = int64(end - start)
	}
}

// setKindStatus keeps only the enumeration values OTLP defines; anything
// else is the unspecified/unset value.
func setKindStatus(sp *model.Span, kind, code int32) {
	if kind >= 0 && kind <= int32(model.KindConsumer) {
		sp.Kind = model.SpanKind(kind)
	}
	if code >= 0 && code <= int32(model.StatusError) {
		sp.StatusCode = model.StatusCode(code)
	}
}

// finish fills the derived columns of a converted span from its attributes,
// its events and its resource, moves the payloads into their columns, and
// appends the span's message refs and invocation rows. Every decoder calls
// it, so the conventions live in one place.
func (n *normalizer) finish(sp *model.Span, res *resource) {
	var d spanExtras
	var opOld, destOld, methodOld, dbOld string
	var statusOld int64
	kept := sp.Attributes[:0]
	for _, a := range sp.Attributes {
		v := a.Value
		switch a.Key {
		case keyRequestPayload:
			// Payloads live in their own columns, not twice.
			sp.RequestPayload = v.Str
			continue
		case keyResponsePayload:
			sp.ResponsePayload = v.Str
			continue
		case keyFaasName:
			sp.Function = v.Str
		case keyCloudResourceID:
			d.resourceIDAttr = v.Str
		case keyInvokedARN:
			d.invokedARN = v.Str
		case keyFaasInvocationID:
			sp.InvocationID = v.Str
			d.ownInvocation = true
		case keyAWSRequestID:
			d.awsRequestID = v.Str
		case keyRPCMethod:
			d.rpcMethod = v.Str
		case keyRPCService:
			d.rpcService = v.Str
		case keyFaasColdstart:
			sp.ColdStart = boolOfValue(v)
		case keyAriadneTrigger:
			sp.Trigger = v.Str
		case keyFaasTrigger:
			d.faasTrigger = true
			if sp.Trigger == "" {
				sp.Trigger = v.Str
			}
		case keyMessagingSystem:
			sp.MessagingSystem = v.Str
		case keyMessagingOpType:
			sp.MessagingOperation = v.Str
		case keyMessagingOp:
			opOld = v.Str
		case keyMessagingDestName:
			sp.Destination = v.Str
		case keyMessagingDest:
			if v.Type == model.TypeString {
				destOld = v.Str
			}
		case keyAWSS3Bucket, keyFaasDocCollection:
			// An object event's channel is its bucket (S3 calls and
			// triggers name no messaging destination).
			if destOld == "" {
				destOld = v.Str
			}
		case keyMessagingMessageID:
			d.messageID = v.Str
		case keyRefsProducer:
			d.refsProducer = v
		case keyRefsConsumer:
			d.refsConsumer = v
		case keyHTTPRequestMethod:
			sp.HTTPMethod = v.Str
		case keyHTTPMethod:
			methodOld = v.Str
		case keyHTTPRoute:
			sp.HTTPRoute = v.Str
		case keyHTTPResponseStatus:
			if c, ok := intOfValue(v); ok {
				sp.HTTPStatus = clampInt32(c)
			}
		case keyHTTPStatus:
			statusOld, _ = intOfValue(v)
		case keyDBSystemName:
			sp.DBSystem = v.Str
		case keyDBSystem:
			dbOld = v.Str
		case keyErrorType:
			d.errorTypeAttr = v.Str
		case keyAriadneTimeout:
			d.timeout = boolOfValue(v)
		case keyAriadneMarker:
			d.marker = v.Str
		case keyAriadneDeadline:
			d.deadline, _ = intOfValue(v)
		case keyAriadneAttempt:
			if a, ok := intOfValue(v); ok {
				d.attempt = clampInt32(a)
			}
		case keyAriadneMemoryMB:
			if m, ok := intOfValue(v); ok {
				d.memoryMB = clampInt32(m)
			}
		}
		kept = append(kept, a)
	}
	if len(kept) == 0 {
		kept = nil
	}
	sp.Attributes = kept
	if sp.MessagingOperation == "" {
		sp.MessagingOperation = opOld
	}
	if sp.Destination == "" {
		sp.Destination = destOld
	}
	if sp.HTTPMethod == "" {
		sp.HTTPMethod = methodOld
	}
	if sp.HTTPStatus == 0 && statusOld != 0 {
		sp.HTTPStatus = clampInt32(statusOld)
	}
	if sp.DBSystem == "" {
		sp.DBSystem = dbOld
	}
	for i := range sp.Events {
		ev := &sp.Events[i]
		if ev.Name != eventException {
			continue
		}
		// The last exception wins: it is the one that ended the span.
		if t := ev.Attributes.String(keyExceptionType); t != "" {
			sp.ErrorType = t
		}
		if m := ev.Attributes.String(keyExceptionMessage); m != "" {
			sp.ErrorMessage = m
		}
	}
	if sp.Function == "" {
		sp.Function = res.function
	}
	if sp.Function == "" && d.resourceIDAttr != "" {
		sp.Function = functionFromResourceID(d.resourceIDAttr)
	}
	if sp.Function == "" && d.invokedARN != "" {
		// The ARN the caller used names the function too, possibly with an
		// alias; stock OTel Lambda instrumentation sets only this one.
		sp.Function = functionFromResourceID(d.invokedARN)
	}
	if sp.InvocationID == "" {
		sp.InvocationID = res.invocationID
	}
	if sp.ErrorType == "" && d.errorTypeAttr != "" && d.errorTypeAttr != "_OTHER" {
		sp.ErrorType = d.errorTypeAttr
	}
	if sp.ErrorMessage == "" && sp.StatusCode == model.StatusError {
		sp.ErrorMessage = sp.StatusMessage
	}
	n.messageRefs(sp, &d)
	n.invocation(sp, &d, res)
}

func (n *normalizer) messageRefs(sp *model.Span, d *spanExtras) {
	b := n.batch
	first := len(b.MessageRefs)
	// seen dedupes refs and ids once a span has many (a batch send of
	// thousands of ids must stay linear); a few are compared directly.
	var seen map[string]struct{}
	dup := func(key string) bool {
		refs := b.MessageRefs[first:]
		if seen == nil && len(refs) < 16 {
			for _, r := range refs {
				if r.Key == key {
					return true
				}
			}
			return false
		}
		if seen == nil {
			seen = make(map[string]struct{}, 2*len(refs))
			for _, r := range refs {
				seen[r.Key] = struct{}{}
			}
		}
		_, ok := seen[key]
		return ok
	}
	add := func(key string, role model.RefRole, t int64) {
		if key == "" || dup(key) {
			return
		}
		if seen != nil {
			seen[key] = struct{}{}
		}
		b.MessageRefs = append(b.MessageRefs, model.MessageRef{
			Key: key, Role: role, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: t, Destination: sp.Destination,
		})
		sp.MessageIDs = append(sp.MessageIDs, idOfKey(key))
	}
	start, end := sp.StartTime, sp.EndTime()
	eachString(d.refsProducer, func(k string) { add(k, model.RoleProducer, end) })
	eachString(d.refsConsumer, func(k string) { add(k, model.RoleConsumer, start) })
	if d.messageID != "" {
		key := shortSystem(sp.MessagingSystem) + ":" + d.messageID
		switch messageRole(sp) {
		case model.RoleProducer:
			add(key, model.RoleProducer, end)
		case model.RoleConsumer:
			add(key, model.RoleConsumer, start)
		default:
			if !dup(key) {
				sp.MessageIDs = append(sp.MessageIDs, d.messageID)
			}
		}
	}
	// OpenTelemetry's aws-sdk-go-v2 instrumentation records no message
	// ids, only the AWS request id, which for these calls is the strong id
	// itself (DESIGN.md §3): the callee's request id of a Lambda Invoke,
	// the request the S3 event names. rpc.method is "Lambda/Invoke" since
	// semconv 1.39, "Invoke" next to rpc.service "Lambda" before.
	if d.awsRequestID != "" {
		op := d.rpcMethod
		if d.rpcService != "" && !strings.Contains(op, "/") {
			op = d.rpcService + "/" + op
		}
		switch op {
		case "Lambda/Invoke":
			add("lambda:"+d.awsRequestID, model.RoleProducer, end)
		case "S3/PutObject", "S3/CopyObject", "S3/CompleteMultipartUpload":
			add("s3:"+d.awsRequestID, model.RoleProducer, end)
		}
	}
	// The entry span of an invocation (OTel's aws-lambda-go instrumentation
	// puts faas.invocation_id on it) is the callee side of a Lambda Invoke.
	if d.ownInvocation && (sp.Kind == model.KindServer || sp.Kind == model.KindConsumer) {
		add("lambda:"+sp.InvocationID, model.RoleConsumer, start)
	}
	// Links give two rows each under one key: the linked span as producer,
	// this span as consumer. Their ids are span ids, not message ids, so
	// they stay out of MessageIDs. The linked span's own end is unknown
	// here; this span's start is the latest the producing side can be.
	for i := range sp.Links {
		lk := &sp.Links[i]
		if lk.TraceID.IsZero() || lk.SpanID.IsZero() {
			continue
		}
		key := linkKey(lk.TraceID, lk.SpanID)
		b.MessageRefs = append(b.MessageRefs,
			model.MessageRef{Key: key, Role: model.RoleProducer, TraceID: lk.TraceID, SpanID: lk.SpanID, Time: start, Destination: sp.Destination},
			model.MessageRef{Key: key, Role: model.RoleConsumer, TraceID: sp.TraceID, SpanID: sp.SpanID, Time: start, Destination: sp.Destination},
		)
	}
}

// messageRole says on which side of a hop a span with messaging.message.id
// stands: by kind, and for internal spans by the operation type.
func messageRole(sp *model.Span) model.RefRole {
	switch sp.Kind {
	case model.KindProducer, model.KindClient:
		return model.RoleProducer
	case model.KindConsumer, model.KindServer:
		return model.RoleConsumer
	}
	switch sp.MessagingOperation {
	case "publish", "create", "send":
		return model.RoleProducer
	case "receive", "process", "deliver":
		return model.RoleConsumer
	}
	return 0
}

func (n *normalizer) invocation(sp *model.Span, d *spanExtras, res *resource) {
	if sp.InvocationID == "" {
		return
	}
	function := sp.Function
	if function == "" {
		function = sp.Service
	}
	mem := d.memoryMB
	if mem == 0 {
		mem = res.memoryMB
	}
	inv := model.Invocation{
		RequestID: sp.InvocationID,
		Function:  function,
		Start:     sp.StartTime,
		Deadline:  d.deadline,
		MemoryMB:  mem,
		ColdStart: sp.ColdStart,
		Attempt:   d.attempt,
		TraceID:   sp.TraceID,
		SpanID:    sp.SpanID,
	}
	switch {
	case d.marker == markerStart:
		inv.Source = sourceSDKStart
		inv.Status = model.InvocationStarted
	case d.marker != "":
		return // a marker kind this server does not know yet
	case sp.Kind == model.KindServer || d.faasTrigger || sp.Trigger != "":
		// The function's entry span: children may carry the invocation id
		// too, but only the entry span has a trigger or is the server side.
		inv.Source = sourceSDK
		inv.DurationNs = sp.DurationNs
		inv.ErrorType = sp.ErrorType
		switch {
		case d.timeout:
			inv.Status = model.InvocationTimeout
		case sp.StatusCode == model.StatusError:
			inv.Status = model.InvocationError
		default:
			inv.Status = model.InvocationOK
		}
	default:
		return
	}
	n.batch.Invocations = append(n.batch.Invocations, inv)
}

func setSeverity(lr *model.LogRecord, sn int32) {
	if sn > 0 && sn <= 255 {
		lr.SeverityNumber = uint8(sn)
	}
}

func (n *normalizer) bodyError(err error) *itemError {
	if errors.Is(err, anyvalue.ErrTooDeep) {
		return &itemError{ReasonTooDeep, fmt.Sprintf("log record: body nested deeper than %d", n.lim.MaxValueDepth)}
	}
	return &itemError{ReasonValueTooLong, fmt.Sprintf("log record: body longer than %d bytes", n.lim.MaxValueBytes)}
}

// finishLog checks what is left of the limits and fills the columns a log
// record takes from its attributes and its resource; every log decoder
// calls it.
func (n *normalizer) finishLog(lr *model.LogRecord, res *resource) *itemError {
	if len(lr.SeverityText) > n.lim.MaxValueBytes {
		return &itemError{ReasonValueTooLong, fmt.Sprintf("log record: severity text of %d bytes, limit %d", len(lr.SeverityText), n.lim.MaxValueBytes)}
	}
	if lr.Time == 0 {
		lr.Time = lr.ObservedTime
	}
	lr.Service = res.service
	lr.Function = res.function
	lr.InvocationID = res.invocationID
	lr.ResourceAttributes = res.attrs
	var resourceID string
	for _, kv := range lr.Attributes {
		switch kv.Key {
		case keyFaasName:
			lr.Function = kv.Value.Str
		case keyFaasInvocationID:
			lr.InvocationID = kv.Value.Str
		case keyCloudResourceID:
			resourceID = kv.Value.Str
		}
	}
	if lr.Function == "" && resourceID != "" {
		lr.Function = functionFromResourceID(resourceID)
	}
	return nil
}

// functionFromResourceID takes the function name out of a Lambda ARN
// (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]); any
// other resource id is itself the best name there is.
func functionFromResourceID(id string) string {
	const marker = ":function:"
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	i := strings.Index(id, marker)
	if i < 0 {
		return id
	}
	name := id[i+len(marker):]
	if j := strings.IndexByte(name, ':'); j >= 0 {
		name = name[:j]
	}
	return name
}

// shortSystem maps messaging.system to the kind prefix of DESIGN.md §3 keys,
// so that a stock OTel SQS span and our SDK's refs produce the same key.
func shortSystem(system string) string {
	switch system {
	case "aws_sqs":
		return "sqs"
	case "aws_sns":
		return "sns"
	case "":
		return messageKeyFallbackKind
	}
	return system
}

func linkKey(t model.TraceID, s model.SpanID) string {
	var buf [5 + 32 + 1 + 16]byte
	copy(buf[:], "link:")
	hex.Encode(buf[5:], t[:])
	buf[37] = ':'
	hex.Encode(buf[38:], s[:])
	return string(buf[:])
}

// idOfKey strips the kind prefix of a strong-ID key ("sqs:abc" → "abc").
func idOfKey(key string) string {
	if i := strings.IndexByte(key, ':'); i >= 0 {
		return key[i+1:]
	}
	return key
}

// eachString calls f for a string value or every string of an array value.
func eachString(v model.Value, f func(string)) {
	switch v.Type {
	case model.TypeString:
		f(v.Str)
	case model.TypeArray:
		anyvalue.EachString(v, f)
	}
}

// intOfValue reads an int attribute, also when a sender put it as a double
// or a decimal string.
func intOfValue(v model.Value) (int64, bool) {
	switch v.Type {
	case model.TypeInt, model.TypeString:
		n, err := strconv.ParseInt(v.Str, 10, 64)
		return n, err == nil
	case model.TypeDouble:
		f, err := strconv.ParseFloat(v.Str, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

func boolOfValue(v model.Value) bool {
	return (v.Type == model.TypeBool || v.Type == model.TypeString) && v.Str == "true"
}

func clampInt32(n int64) int32 {
	switch {
	case n > 1<<31-1:
		return 1<<31 - 1
	case n < -1<<31:
		return -1 << 31
	}
	return int32(n)
}

// truncate keeps error details short whatever the input.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
