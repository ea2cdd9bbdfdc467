package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ariadnehq/ariadne/demo/localcloud/sns"
	"github.com/ariadnehq/ariadne/demo/localcloud/sqs"
)

var creds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
})

type fixture struct {
	sns     *sns.Service
	sqs     *sqs.Service
	snsc    *awssns.Client
	sqsc    *awssqs.Client
	mu      sync.Mutex
	invokes map[string][][]byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{invokes: map[string][][]byte{}}
	q, err := sqs.New(ctx, sqs.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	s, err := sns.New(ctx, sns.Settings{
		SendToQueue: func(_ context.Context, arn, body string, attrs map[string]sns.Attribute, trace string) error {
			in := sqs.SendInput{Body: body, TraceHeader: trace, Attributes: map[string]sqs.MessageAttribute{}}
			for k, a := range attrs {
				v := a.StringValue
				in.Attributes[k] = sqs.MessageAttribute{DataType: a.DataType, StringValue: &v, BinaryValue: a.BinaryValue}
			}
			_, err := q.Send(arn, in)
			return err
		},
		InvokeFunction: func(_ context.Context, arn string, payload []byte, _ string) error {
			f.mu.Lock()
			f.invokes[arn] = append(f.invokes[arn], payload)
			f.mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f.sns, f.sqs = s, q
	f.snsc = awssns.New(awssns.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds, RetryMaxAttempts: 1})
	f.sqsc = awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(q.Endpoint()), Credentials: creds, RetryMaxAttempts: 1})
	return f
}

func TestFanOut(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	topic, err := f.snsc.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	queues := map[string]string{}
	for _, name := range []string{"enveloped", "raw"} {
		out, err := f.sqsc.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		queues[name] = aws.ToString(out.QueueUrl)
		attrs := map[string]string{}
		if name == "raw" {
			attrs["RawMessageDelivery"] = "true"
		}
		if _, err := f.snsc.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(f.sqs.QueueARN(name)), Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	fnARN := "arn:aws:lambda:us-east-1:000000000000:function:notify"
	if _, err := f.snsc.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("lambda"), Endpoint: aws.String(fnARN)}); err != nil {
		t.Fatal(err)
	}
	subs, err := f.snsc.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: topic.TopicArn})
	if err != nil || len(subs.Subscriptions) != 3 {
		t.Fatalf("subscriptions: %v %+v", err, subs)
	}

	pub, err := f.snsc.Publish(ctx, &awssns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"order":1}`), Subject: aws.String("new order"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("created")}}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := f.snsc.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: topic.TopicArn, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("second")}, {Id: aws.String("b"), Message: aws.String("third")}}})
	if err != nil || len(batch.Successful) != 2 || len(batch.Failed) != 0 {
		t.Fatalf("publish batch: %v %+v", err, batch)
	}
	wantIDs := []string{aws.ToString(pub.MessageId), aws.ToString(batch.Successful[0].MessageId), aws.ToString(batch.Successful[1].MessageId)}

	recv := func(name string) []sqstypes.Message {
		out, err := f.sqsc.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(queues[name]), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	env := recv("enveloped")
	if len(env) != 3 {
		t.Fatalf("enveloped queue got %d messages, want 3", len(env))
	}
	var first struct {
		Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL string
		MessageAttributes                                                                                                   map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(env[0].Body)), &first); err != nil {
		t.Fatalf("envelope %s: %v", aws.ToString(env[0].Body), err)
	}
	if first.Type != "Notification" || first.MessageId != wantIDs[0] || first.TopicArn != topicARN || first.Message != `{"order":1}` ||
		first.Subject != "new order" || first.MessageAttributes["kind"].Value != "created" || first.Timestamp == "" || first.SignatureVersion != "1" {
		t.Errorf("envelope = %+v", first)
	}
	raw := recv("raw")
	if len(raw) != 3 || aws.ToString(raw[0].Body) != `{"order":1}` || aws.ToString(raw[0].MessageAttributes["kind"].StringValue) != "created" {
		t.Errorf("raw delivery = %+v", raw)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.invokes[fnARN]) != 3 {
		t.Fatalf("lambda got %d events, want 3", len(f.invokes[fnARN]))
	}
	for i, payload := range f.invokes[fnARN] {
		var ev events.SNSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		r := ev.Records[0]
		if r.EventSource != "aws:sns" || r.SNS.MessageID != wantIDs[i] || r.SNS.TopicArn != topicARN || r.SNS.Timestamp.IsZero() {
			t.Errorf("lambda event %d = %+v", i, r)
		}
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.snsc.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:missing"), Message: aws.String("x")})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("publish to a missing topic: %v, want NotFoundException", err)
	}
	topic, err := f.snsc.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.snsc.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("a@b.c")})
	var inv *snstypes.InvalidParameterException
	if !errors.As(err, &inv) {
		t.Errorf("subscribe email: %v, want InvalidParameterException", err)
	}
}

func TestFilterPolicy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	arn, _ := f.sns.CreateTopic("events", nil)
	fn := "arn:aws:lambda:us-east-1:000000000000:function:only-paid"
	if _, err := f.sns.Subscribe(arn, "lambda", fn, map[string]string{"FilterPolicy": `{"status":["paid"]}`}); err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"paid", "open", "paid"} {
		if _, err := f.snsc.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(status),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"status": {DataType: aws.String("String"), StringValue: aws.String(status)}}}); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.invokes[fn]) != 2 {
		t.Errorf("filtered subscription got %d events, want 2", len(f.invokes[fn]))
	}
}
