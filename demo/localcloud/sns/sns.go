// Package sns is a local stand-in for Amazon SNS speaking the Query
// protocol (form-encoded requests, XML responses) that aws-sdk-go-v2 uses:
// topics, Publish and PublishBatch, and subscriptions that deliver to SQS
// queues (in the SNS JSON envelope, or raw) and to Lambda functions (as an
// asynchronous invoke with the SNS event).
//
// Delivery is delegated to the SendToQueue and InvokeFunction callbacks;
// the package owns its listener and its in-memory topics only.
package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ariadnehq/ariadne/demo/localcloud/internal/httpsvc"
)

// Attribute is an SNS message attribute.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Settings configures the service.
type Settings struct {
	Region    string // default us-east-1
	AccountID string // default 000000000000
	Addr      string // default 127.0.0.1:0
	Logger    *slog.Logger
	// SendToQueue delivers to an SQS queue ARN.
	SendToQueue func(ctx context.Context, queueARN, body string, attrs map[string]Attribute, traceHeader string) error
	// InvokeFunction invokes a Lambda function ARN asynchronously.
	InvokeFunction func(ctx context.Context, functionARN string, payload []byte, traceHeader string) error
}

// Subscription is one topic subscription.
type Subscription struct {
	ARN          string
	TopicARN     string
	Protocol     string // "sqs" or "lambda"
	Endpoint     string // queue or function ARN
	Raw          bool   // RawMessageDelivery (sqs only)
	FilterPolicy string // JSON; only exact string matches are supported
}

type topic struct {
	name, arn string
	attrs     map[string]string
	subs      []*Subscription
}

// Service is a running local SNS.
type Service struct {
	set      Settings
	srv      *httpsvc.Server
	endpoint string

	mu     sync.Mutex
	topics map[string]*topic // by ARN
}

// New starts the service.
func New(ctx context.Context, set Settings) (*Service, error) {
	httpsvc.Defaults(&set.Region, &set.AccountID, &set.Addr, &set.Logger)
	s := &Service{set: set, topics: map[string]*topic{}}
	srv, err := httpsvc.Start(ctx, "sns", set.Addr, http.HandlerFunc(s.serveHTTP), set.Logger)
	if err != nil {
		return nil, err
	}
	s.srv, s.endpoint = srv, srv.Endpoint
	return s, nil
}

// Endpoint is the base URL for aws-sdk-go-v2's sns client.
func (s *Service) Endpoint() string { return s.endpoint }

// TopicARN returns the ARN of a topic name.
func (s *Service) TopicARN(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.set.Region, s.set.AccountID, name)
}

// Close stops the listener. Idempotent.
func (s *Service) Close() error {
	s.srv.Close()
	return nil
}

// apiError is an SNS error with its Query protocol code.
type apiError struct {
	code, message string
	status        int
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errNotFound(what string) error {
	return &apiError{code: "NotFound", message: what + " does not exist", status: 404}
}

func errInvalid(msg string) error {
	return &apiError{code: "InvalidParameter", message: "Invalid parameter: " + msg, status: 400}
}

// CreateTopic creates a topic (idempotent) and returns its ARN.
func (s *Service) CreateTopic(name string, attrs map[string]string) (string, error) {
	if name == "" || len(name) > 256 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return "", errInvalid("Topic Name")
	}
	arn := s.TopicARN(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[arn]; !ok {
		if attrs == nil {
			attrs = map[string]string{}
		}
		s.topics[arn] = &topic{name: name, arn: arn, attrs: attrs}
	}
	return arn, nil
}

// Subscribe adds a subscription and returns its ARN. Subscriptions to SQS
// and Lambda are confirmed at once, as for same-account endpoints on AWS.
func (s *Service) Subscribe(topicARN, protocol, endpoint string, attrs map[string]string) (string, error) {
	if protocol != "sqs" && protocol != "lambda" {
		return "", errInvalid("Protocol " + protocol + " is not supported by localcloud (sqs, lambda)")
	}
	if !strings.HasPrefix(endpoint, "arn:aws:"+protocol+":") {
		return "", errInvalid("Endpoint must be an " + protocol + " ARN")
	}
	sub := &Subscription{ARN: topicARN + ":" + newID(), TopicARN: topicARN, Protocol: protocol, Endpoint: endpoint}
	if err := sub.set(attrs); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[topicARN]
	if !ok {
		return "", errNotFound("Topic")
	}
	for _, old := range t.subs {
		if old.Protocol == protocol && old.Endpoint == endpoint {
			return old.ARN, nil
		}
	}
	t.subs = append(t.subs, sub)
	return sub.ARN, nil
}

func (sub *Subscription) set(attrs map[string]string) error {
	for k, v := range attrs {
		switch k {
		case "RawMessageDelivery":
			sub.Raw = v == "true"
		case "FilterPolicy":
			if v != "" {
				var p map[string][]any
				if err := json.Unmarshal([]byte(v), &p); err != nil {
					return errInvalid("FilterPolicy: only {\"attribute\":[\"value\",…]} policies are supported")
				}
			}
			sub.FilterPolicy = v
		case "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn":
		default:
			return errInvalid("AttributeName " + k)
		}
	}
	return nil
}

// matches applies a filter policy of exact string (or number) values.
func (sub *Subscription) matches(attrs map[string]Attribute) bool {
	if sub.FilterPolicy == "" {
		return true
	}
	var p map[string][]any
	if json.Unmarshal([]byte(sub.FilterPolicy), &p) != nil {
		return false
	}
	for name, allowed := range p {
		a, ok := attrs[name]
		if !ok {
			return false
		}
		found := false
		for _, v := range allowed {
			if fmt.Sprint(v) == a.StringValue {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// PublishInput is one message to publish.
type PublishInput struct {
	TopicARN         string
	Message          string
	Subject          string
	MessageStructure string // "json" selects per-protocol messages
	Attributes       map[string]Attribute
	TraceHeader      string
}

// Publish delivers a message to every subscription of the topic and
// returns its MessageId. Deliveries happen before Publish returns.
func (s *Service) Publish(ctx context.Context, in PublishInput) (string, error) {
	if in.Message == "" {
		return "", errInvalid("Empty message")
	}
	if len(in.Message) > 256*1024 {
		return "", errInvalid("Message too long")
	}
	perProtocol := map[string]string{}
	if in.MessageStructure == "json" {
		if err := json.Unmarshal([]byte(in.Message), &perProtocol); err != nil || perProtocol["default"] == "" {
			return "", errInvalid("Message Structure - No default entry in JSON message body")
		}
	}
	s.mu.Lock()
	t, ok := s.topics[in.TopicARN]
	var subs []Subscription
	if ok {
		for _, sub := range t.subs {
			subs = append(subs, *sub)
		}
	}
	s.mu.Unlock()
	if !ok {
		return "", errNotFound("Topic")
	}
	id := newUUID()
	now := time.Now().UTC()
	for _, sub := range subs {
		if !sub.matches(in.Attributes) {
			continue
		}
		msg := in.Message
		if in.MessageStructure == "json" {
			msg = perProtocol["default"]
			if m, ok := perProtocol[sub.Protocol]; ok {
				msg = m
			}
		}
		if err := s.deliver(ctx, sub, id, msg, in, now); err != nil {
			s.set.Logger.Warn("sns delivery failed", "subscription", sub.ARN, "err", err)
		}
	}
	return id, nil
}

func (s *Service) deliver(ctx context.Context, sub Subscription, id, msg string, in PublishInput, now time.Time) error {
	entity := s.entity(sub, id, msg, in, now)
	switch sub.Protocol {
	case "sqs":
		if s.set.SendToQueue == nil {
			return errors.New("no SQS delivery configured")
		}
		if sub.Raw {
			return s.set.SendToQueue(ctx, sub.Endpoint, msg, in.Attributes, in.TraceHeader)
		}
		body, err := json.Marshal(envelope(entity))
		if err != nil {
			return fmt.Errorf("encode envelope: %w", err)
		}
		return s.set.SendToQueue(ctx, sub.Endpoint, string(body), nil, in.TraceHeader)
	case "lambda":
		if s.set.InvokeFunction == nil {
			return errors.New("no Lambda delivery configured")
		}
		ev := events.SNSEvent{Records: []events.SNSEventRecord{{
			EventVersion: "1.0", EventSubscriptionArn: sub.ARN, EventSource: "aws:sns", SNS: entity,
		}}}
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode sns event: %w", err)
		}
		return s.set.InvokeFunction(ctx, sub.Endpoint, payload, in.TraceHeader)
	}
	return nil
}

func (s *Service) entity(sub Subscription, id, msg string, in PublishInput, now time.Time) events.SNSEntity {
	attrs := map[string]any{}
	for k, a := range in.Attributes {
		v := a.StringValue
		if strings.HasPrefix(a.DataType, "Binary") {
			v = encodeBase64(a.BinaryValue)
		}
		attrs[k] = map[string]string{"Type": a.DataType, "Value": v}
	}
	return events.SNSEntity{
		Signature: "EXAMPLEpH+localcloud", MessageID: id, Type: "Notification", TopicArn: in.TopicARN,
		MessageAttributes: attrs, SignatureVersion: "1", Timestamp: now, Message: msg, Subject: in.Subject,
		SigningCertURL: "https://sns." + s.set.Region + ".amazonaws.com/SimpleNotificationService-localcloud.pem",
		UnsubscribeURL: s.endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + sub.ARN,
	}
}

// envelope is the JSON SNS puts in an SQS message body (non-raw delivery);
// its field names differ from the Lambda event's.
func envelope(e events.SNSEntity) map[string]any {
	m := map[string]any{
		"Type": e.Type, "MessageId": e.MessageID, "TopicArn": e.TopicArn, "Message": e.Message,
		"Timestamp": e.Timestamp.Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": e.SignatureVersion,
		"Signature": e.Signature, "SigningCertURL": e.SigningCertURL, "UnsubscribeURL": e.UnsubscribeURL,
	}
	if e.Subject != "" {
		m["Subject"] = e.Subject
	}
	if len(e.MessageAttributes) > 0 {
		m["MessageAttributes"] = e.MessageAttributes
	}
	return m
}

// Subscriptions lists subscriptions, of one topic if topicARN is not empty.
func (s *Service) Subscriptions(topicARN string) []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, t := range s.topics {
		if topicARN != "" && t.arn != topicARN {
			continue
		}
		for _, sub := range t.subs {
			out = append(out, *sub)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newUUID() string {
	h := newID()
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}
