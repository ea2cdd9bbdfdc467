package ariadne

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/sdk/internal/refs"
)

// Trigger names, the values of ariadne.trigger.
const (
	TriggerAPIGateway    = "apigateway"
	TriggerAPIGatewayV2  = "apigatewayv2"
	TriggerALB           = "alb"
	TriggerSQS           = "sqs"
	TriggerSNS           = "sns"
	TriggerSNSViaSQS     = "sns+sqs"
	TriggerS3            = "s3"
	TriggerKinesis       = "kinesis"
	TriggerDynamoDB      = "dynamodb"
	TriggerEventBridge   = "eventbridge"
	TriggerStepFunctions = "stepfunctions"
	TriggerSchedule      = "schedule"
	TriggerInvoke        = "invoke"
)

// sfnField is the key Ariadne injects into Step Functions state (see
// docs/attributes.md, "Step Functions correlation").
const sfnField = "_ariadne"

// Trigger is what the wrapper learned from an event.
type Trigger struct {
	// Kind is ariadne.trigger.
	Kind string
	// FaaS is the coarse faas.trigger.
	FaaS string
	// Refs are the consumer strong-ID keys of every record.
	Refs []string
	// Attrs are extra span attributes (messaging.*, http.*, …).
	Attrs []attribute.KeyValue
	// Parent is a remote parent from HTTP headers, if any.
	Parent trace.SpanContext
	// Links are producer contexts found in the records.
	Links []trace.Link
	// Messages are the SQS messages of a batch, one processing span each.
	Messages []Message
	// SFN is the Step Functions correlation found in the input, if any.
	SFN *SFNCorrelation
}

// Message is one SQS message of a batch.
type Message struct {
	ID           string
	ReceiveCount int
	Producer     trace.SpanContext
	Refs         []string
}

// SFNCorrelation is the workflow correlation id and the step that produced
// this input.
type SFNCorrelation struct {
	ID   string `json:"sfn"`
	Step int    `json:"step"`
}

type rawRecord struct {
	EventSource  string `json:"eventSource"`
	EventSource2 string `json:"EventSource"`
	EventID      string `json:"eventID"`
	// SQS
	MessageID         string                     `json:"messageId"`
	Body              string                     `json:"body"`
	Attributes        map[string]string          `json:"attributes"`
	MessageAttributes map[string]json.RawMessage `json:"messageAttributes"`
	EventSourceARN    string                     `json:"eventSourceARN"`
	// SNS
	Sns *snsEntity `json:"Sns"`
	// S3
	S3 *struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key string `json:"key"`
		} `json:"object"`
	} `json:"s3"`
	ResponseElements map[string]string `json:"responseElements"`
	EventName        string            `json:"eventName"`
	// Kinesis
	Kinesis *struct {
		SequenceNumber string `json:"sequenceNumber"`
		PartitionKey   string `json:"partitionKey"`
	} `json:"kinesis"`
	// DynamoDB
	Dynamodb *struct {
		Keys map[string]json.RawMessage `json:"Keys"`
	} `json:"dynamodb"`
}

type snsEntity struct {
	Message           string                     `json:"Message"`
	Type              string                     `json:"Type"`
	MessageID         string                     `json:"MessageId"`
	TopicArn          string                     `json:"TopicArn"`
	MessageAttributes map[string]json.RawMessage `json:"MessageAttributes"`
}

type rawEvent struct {
	Records []rawRecord `json:"Records"`
	// HTTP
	Version    string `json:"version"`
	HTTPMethod string `json:"httpMethod"`
	Path       string `json:"path"`
	Resource   string `json:"resource"`
	RouteKey   string `json:"routeKey"`
	RawPath    string `json:"rawPath"`
	// Headers stay raw: decoding every header of every API request into a
	// map cost more than the rest of trigger parsing together, and only a
	// few are read.
	Headers           json.RawMessage `json:"headers"`
	MultiValueHeaders json.RawMessage `json:"multiValueHeaders"`
	RequestContext    *struct {
		RequestID    string          `json:"requestId"`
		Stage        string          `json:"stage"`
		APIID        string          `json:"apiId"`
		DomainName   string          `json:"domainName"`
		ResourcePath string          `json:"resourcePath"`
		HTTPMethod   string          `json:"httpMethod"`
		ELB          json.RawMessage `json:"elb"`
		HTTP         *struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"http"`
	} `json:"requestContext"`
	// EventBridge
	ID         string `json:"id"`
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	// Step Functions
	SFN *SFNCorrelation `json:"_ariadne"`
}

// ParseTrigger classifies a Lambda event and extracts its consumer strong
// IDs. It never fails: an event it does not recognise is a direct invoke.
func ParseTrigger(payload []byte) Trigger {
	t, ok := safeValue(func() Trigger { return parseTrigger(payload) })
	if !ok {
		return Trigger{Kind: TriggerInvoke, FaaS: "other"}
	}
	return t
}

func parseTrigger(payload []byte) Trigger {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' {
		return Trigger{Kind: TriggerInvoke, FaaS: "other"}
	}
	var ev rawEvent
	if err := json.Unmarshal(p, &ev); err != nil {
		return Trigger{Kind: TriggerInvoke, FaaS: "other"}
	}
	if len(ev.Records) > 0 {
		src := ev.Records[0].EventSource
		if src == "" {
			src = ev.Records[0].EventSource2
		}
		switch src {
		case "aws:sqs":
			return sqsTrigger(ev.Records)
		case "aws:sns":
			return snsTrigger(ev.Records)
		case "aws:s3":
			return s3Trigger(ev.Records)
		case "aws:kinesis":
			return kinesisTrigger(ev.Records)
		case "aws:dynamodb":
			return dynamoTrigger(ev.Records)
		}
	}
	if rc := ev.RequestContext; rc != nil {
		switch {
		case len(rc.ELB) > 0:
			return httpTrigger(TriggerALB, &ev, ev.HTTPMethod, ev.Path, "")
		case ev.Version == "2.0" && rc.HTTP != nil:
			route := ev.RouteKey
			if _, r, ok := strings.Cut(route, " "); ok {
				route = r
			}
			t := httpTrigger(TriggerAPIGatewayV2, &ev, rc.HTTP.Method, rc.HTTP.Path, route)
			t.Attrs = append(t.Attrs, attribute.String("aws.api_gateway.request_id", rc.RequestID))
			return t
		case ev.HTTPMethod != "":
			t := httpTrigger(TriggerAPIGateway, &ev, ev.HTTPMethod, ev.Path, ev.Resource)
			t.Attrs = append(t.Attrs, attribute.String("aws.api_gateway.request_id", rc.RequestID))
			return t
		}
	}
	if ev.ID != "" && ev.Source != "" && ev.DetailType != "" {
		t := Trigger{Kind: TriggerEventBridge, FaaS: "pubsub", Refs: []string{refs.Events(ev.ID)}}
		if ev.Source == "aws.events" && ev.DetailType == "Scheduled Event" {
			t.Kind, t.FaaS = TriggerSchedule, "timer"
		}
		t.Attrs = append(t.Attrs,
			attribute.String("messaging.system", "aws_eventbridge"),
			attribute.String("messaging.message.id", ev.ID),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("aws.eventbridge.source", ev.Source),
			attribute.String("aws.eventbridge.detail_type", ev.DetailType),
		)
		return t
	}
	if c := findSFN(p); c != nil {
		return Trigger{
			Kind: TriggerStepFunctions, FaaS: "other", SFN: c,
			Refs: []string{refs.SFN(c.ID, c.Step)},
		}
	}
	return Trigger{Kind: TriggerInvoke, FaaS: "other"}
}

// findSFN looks for the correlation field at the top level and one level
// down, because a state's ResultPath often nests the previous result.
func findSFN(p []byte) *SFNCorrelation {
	if !bytes.Contains(p, []byte(sfnField)) {
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(p, &top) != nil {
		return nil
	}
	var best *SFNCorrelation
	consider := func(raw json.RawMessage) {
		var c SFNCorrelation
		if json.Unmarshal(raw, &c) == nil && c.ID != "" && (best == nil || c.Step > best.Step) {
			best = &c
		}
	}
	if raw, ok := top[sfnField]; ok {
		consider(raw)
	}
	for _, v := range top {
		if len(v) > 0 && v[0] == '{' && bytes.Contains(v, []byte(sfnField)) {
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) == nil {
				if raw, ok := inner[sfnField]; ok {
					consider(raw)
				}
			}
		}
	}
	return best
}

func httpTrigger(kind string, ev *rawEvent, method, path, route string) Trigger {
	hdr := func(name string) string {
		if v := headerValue(ev.Headers, name); v != "" {
			return v
		}
		return headerValue(ev.MultiValueHeaders, name)
	}
	t := Trigger{Kind: kind, FaaS: "http"}
	if tp := hdr("traceparent"); tp != "" {
		h := http.Header{}
		h.Set("Traceparent", tp)
		if ts := hdr("tracestate"); ts != "" {
			h.Set("Tracestate", ts)
		}
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(h)))
		if sc.IsValid() {
			t.Parent = sc
		}
	}
	if method != "" {
		t.Attrs = append(t.Attrs, attribute.String("http.request.method", method))
	}
	if path != "" {
		t.Attrs = append(t.Attrs, attribute.String("url.path", path))
	}
	if route != "" {
		t.Attrs = append(t.Attrs, attribute.String("http.route", route))
	}
	if ua := hdr("user-agent"); ua != "" {
		t.Attrs = append(t.Attrs, attribute.String("user_agent.original", ua))
	}
	if host := hdr("host"); host != "" {
		t.Attrs = append(t.Attrs, attribute.String("server.address", host))
	}
	return t
}

// headerValue finds one header (any case) in the raw JSON object of an
// event's headers or multiValueHeaders (first value) without decoding the
// rest.
func headerValue(raw json.RawMessage, name string) string {
	for i := 0; i+len(name)+2 <= len(raw); i++ {
		if raw[i] != '"' || i+len(name)+1 >= len(raw) || raw[i+len(name)+1] != '"' ||
			!strings.EqualFold(string(raw[i+1:i+1+len(name)]), name) {
			continue
		}
		j := i + len(name) + 2
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
			j++
		}
		if j >= len(raw) || raw[j] != ':' {
			continue // a value that happens to equal the name
		}
		j++
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r' || raw[j] == '[') {
			j++
		}
		if j >= len(raw) || raw[j] != '"' {
			return ""
		}
		d := json.NewDecoder(bytes.NewReader(raw[j:]))
		var v string
		if d.Decode(&v) != nil {
			return ""
		}
		return v
	}
	return ""
}

func sqsTrigger(recs []rawRecord) Trigger {
	t := Trigger{Kind: TriggerSQS, FaaS: "pubsub"}
	queue := refs.LastSegment(recs[0].EventSourceARN)
	viaSNS := 0
	for _, r := range recs {
		m := Message{ID: r.MessageID}
		m.Refs = append(m.Refs, refs.SQS(r.MessageID))
		m.ReceiveCount, _ = strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		if tp := sqsAttr(r.MessageAttributes, "traceparent"); tp != "" {
			m.Producer = parseTraceparent(tp)
		}
		if !m.Producer.IsValid() {
			m.Producer = parseXRay(r.Attributes["AWSTraceHeader"])
		}
		if env := snsEnvelope(r.Body); env != nil {
			viaSNS++
			m.Refs = append(m.Refs, refs.SNS(env.MessageID))
			m.Refs = append(m.Refs, nestedRefs(env.Message)...)
			if !m.Producer.IsValid() {
				if tp := snsAttr(env.MessageAttributes, "traceparent"); tp != "" {
					m.Producer = parseTraceparent(tp)
				}
			}
		} else {
			m.Refs = append(m.Refs, nestedRefs(r.Body)...)
		}
		t.Refs = append(t.Refs, m.Refs...)
		if m.Producer.IsValid() {
			t.Links = append(t.Links, trace.Link{SpanContext: m.Producer})
		}
		t.Messages = append(t.Messages, m)
	}
	if viaSNS > 0 {
		t.Kind = TriggerSNSViaSQS
	}
	t.Attrs = append(t.Attrs,
		attribute.String("messaging.system", "aws_sqs"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", queue),
		attribute.Int("messaging.batch.message_count", len(recs)),
	)
	if len(recs) == 1 {
		t.Attrs = append(t.Attrs, attribute.String("messaging.message.id", recs[0].MessageID))
		if c := t.Messages[0].ReceiveCount; c > 0 {
			t.Attrs = append(t.Attrs, attribute.Int("ariadne.sqs.receive_count", c))
		}
	}
	return t
}

// snsEnvelope recognises an SNS notification delivered to SQS without raw
// message delivery.
func snsEnvelope(body string) *snsEntity {
	if !strings.Contains(body, `"TopicArn"`) || !strings.Contains(body, `"MessageId"`) {
		return nil
	}
	var e snsEntity
	if json.Unmarshal([]byte(body), &e) != nil || e.MessageID == "" || e.TopicArn == "" {
		return nil
	}
	if e.Type != "" && e.Type != "Notification" {
		return nil
	}
	return &e
}

func sqsAttr(attrs map[string]json.RawMessage, name string) string {
	for k, raw := range attrs {
		if strings.EqualFold(k, name) {
			var a struct {
				StringValue string `json:"stringValue"`
			}
			if json.Unmarshal(raw, &a) == nil {
				return a.StringValue
			}
		}
	}
	return ""
}

// nestedRefs finds the strong IDs of an event delivered inside a message:
// an S3 notification or an EventBridge event sent to a queue or topic. The
// producer recorded those ids, not the queue's or topic's.
func nestedRefs(body string) []string {
	if len(body) < 20 || body[0] != '{' {
		return nil
	}
	switch {
	case strings.Contains(body, `"aws:s3"`) && strings.Contains(body, "x-amz-request-id"):
		var ev struct {
			Records []rawRecord `json:"Records"`
		}
		if json.Unmarshal([]byte(body), &ev) != nil {
			return nil
		}
		var out []string
		for _, r := range ev.Records {
			if id := r.ResponseElements["x-amz-request-id"]; r.EventSource == "aws:s3" && id != "" {
				out = append(out, refs.S3(id))
			}
		}
		return out
	case strings.Contains(body, `"detail-type"`):
		var ev struct {
			ID         string `json:"id"`
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if json.Unmarshal([]byte(body), &ev) != nil || ev.ID == "" || ev.Source == "" {
			return nil
		}
		return []string{refs.Events(ev.ID)}
	}
	return nil
}

func snsAttr(attrs map[string]json.RawMessage, name string) string {
	for k, raw := range attrs {
		if strings.EqualFold(k, name) {
			var a struct {
				Value string `json:"Value"`
			}
			if json.Unmarshal(raw, &a) == nil {
				return a.Value
			}
		}
	}
	return ""
}

func snsTrigger(recs []rawRecord) Trigger {
	t := Trigger{Kind: TriggerSNS, FaaS: "pubsub"}
	var topic string
	for _, r := range recs {
		if r.Sns == nil {
			continue
		}
		topic = refs.LastSegment(r.Sns.TopicArn)
		t.Refs = append(t.Refs, refs.SNS(r.Sns.MessageID))
		t.Refs = append(t.Refs, nestedRefs(r.Sns.Message)...)
		if sc := parseTraceparent(snsAttr(r.Sns.MessageAttributes, "traceparent")); sc.IsValid() {
			t.Links = append(t.Links, trace.Link{SpanContext: sc})
		}
	}
	t.Attrs = append(t.Attrs,
		attribute.String("messaging.system", "aws_sns"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", topic),
	)
	if len(recs) == 1 && recs[0].Sns != nil {
		t.Attrs = append(t.Attrs, attribute.String("messaging.message.id", recs[0].Sns.MessageID))
	}
	return t
}

func s3Trigger(recs []rawRecord) Trigger {
	t := Trigger{Kind: TriggerS3, FaaS: "datasource"}
	for _, r := range recs {
		if id := r.ResponseElements["x-amz-request-id"]; id != "" {
			t.Refs = append(t.Refs, refs.S3(id))
		}
	}
	if r := recs[0]; r.S3 != nil {
		t.Attrs = append(t.Attrs,
			attribute.String("aws.s3.bucket", r.S3.Bucket.Name),
			attribute.String("aws.s3.key", r.S3.Object.Key),
			attribute.String("faas.document.collection", r.S3.Bucket.Name),
			attribute.String("faas.document.name", r.S3.Object.Key),
			attribute.String("faas.document.operation", r.EventName),
		)
	}
	return t
}

func kinesisTrigger(recs []rawRecord) Trigger {
	t := Trigger{Kind: TriggerKinesis, FaaS: "pubsub"}
	for _, r := range recs {
		if r.Kinesis == nil {
			continue
		}
		shard, _, _ := strings.Cut(r.EventID, ":")
		t.Refs = append(t.Refs, refs.Kinesis(shard, r.Kinesis.SequenceNumber))
	}
	t.Attrs = append(t.Attrs,
		attribute.String("messaging.system", "aws_kinesis"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", refs.LastSegment(recs[0].EventSourceARN)),
		attribute.Int("messaging.batch.message_count", len(recs)),
	)
	return t
}

func dynamoTrigger(recs []rawRecord) Trigger {
	t := Trigger{Kind: TriggerDynamoDB, FaaS: "datasource"}
	table := refs.TableFromARN(recs[0].EventSourceARN)
	for _, r := range recs {
		if r.Dynamodb == nil || len(r.Dynamodb.Keys) == 0 {
			continue
		}
		tbl := refs.TableFromARN(r.EventSourceARN)
		if k, ok := refs.DynamoDBRaw(tbl, r.Dynamodb.Keys); ok {
			t.Refs = append(t.Refs, k)
		}
	}
	t.Attrs = append(t.Attrs,
		attribute.String("db.system", "dynamodb"),
		attribute.String("aws.dynamodb.table_names", table),
		attribute.String("faas.document.collection", table),
		attribute.Int("messaging.batch.message_count", len(recs)),
	)
	return t
}

// parseTraceparent reads a W3C traceparent value.
func parseTraceparent(v string) trace.SpanContext {
	if v == "" {
		return trace.SpanContext{}
	}
	h := http.Header{}
	h.Set("Traceparent", v)
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(h)))
}

// parseXRay reads an X-Ray trace header ("Root=1-5759e988-bd862e3fe1be46a9
// 94272793;Parent=53995c3f42cd8ad8;Sampled=1"), which SQS carries as the
// AWSTraceHeader system attribute; X-Ray ids map 1:1 onto W3C ids.
func parseXRay(v string) trace.SpanContext {
	if v == "" {
		return trace.SpanContext{}
	}
	var root, parent string
	sampled := false
	for _, part := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = val
		case "Parent":
			parent = val
		case "Sampled":
			sampled = val == "1"
		}
	}
	fields := strings.Split(root, "-")
	if len(fields) != 3 || len(fields[1])+len(fields[2]) != 32 || len(parent) != 16 {
		return trace.SpanContext{}
	}
	var tid trace.TraceID
	var sid trace.SpanID
	if _, err := hex.Decode(tid[:], []byte(fields[1]+fields[2])); err != nil {
		return trace.SpanContext{}
	}
	if _, err := hex.Decode(sid[:], []byte(parent)); err != nil {
		return trace.SpanContext{}
	}
	cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid, Remote: true}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg)
}
