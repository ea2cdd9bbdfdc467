package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ariadnehq/ariadne/demo/localcloud/sqs"
)

func start(t *testing.T) (*sqs.Service, *awssqs.Client) {
	t.Helper()
	svc, err := sqs.New(context.Background(), sqs.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	client := awssqs.New(awssqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(svc.Endpoint()), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
	return svc, client
}

func createQueue(t *testing.T, c *awssqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func TestSendReceiveAttributes(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	url := createQueue(t, c, "orders", nil)
	got, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v; want %s", got, err, url)
	}
	// A message captured from real SQS (body "foobar2", one attribute), whose
	// checksums AWS computed.
	vector, err := c.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String("foobar2"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"AtTimestamp": {DataType: aws.String("String"), StringValue: aws.String("2021-02-15T12:00:33+09:00")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(vector.MD5OfMessageBody) != "cbac77acf401ef89c3297bd9fc41ec0b" ||
		aws.ToString(vector.MD5OfMessageAttributes) != "9fd5e217089075be61cd1d67e35e5117" {
		t.Errorf("checksums = %s %s, want AWS's cbac77acf401ef89c3297bd9fc41ec0b 9fd5e217089075be61cd1d67e35e5117",
			aws.ToString(vector.MD5OfMessageBody), aws.ToString(vector.MD5OfMessageAttributes))
	}
	if _, err := c.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	url = createQueue(t, c, "orders", nil)
	sent, err := c.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String("Message Body"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"Attribute1": {DataType: aws.String("String"), StringValue: aws.String("AttributeValue1")},
			"Attribute2": {DataType: aws.String("Number"), StringValue: aws.String("123")},
			"Attribute3": {DataType: aws.String("Binary"), BinaryValue: []byte("1100")},
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UnixMilli()
	rcv, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rcv.Messages) != 1 {
		t.Fatalf("received %d messages", len(rcv.Messages))
	}
	m := rcv.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != "Message Body" {
		t.Errorf("message = %+v", m)
	}
	if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["AWSTraceHeader"] == "" || m.Attributes["SenderId"] == "" {
		t.Errorf("system attributes = %v", m.Attributes)
	}
	if ts, _ := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); ts == 0 || ts > before {
		t.Errorf("SentTimestamp = %s", m.Attributes["SentTimestamp"])
	}
	if string(m.MessageAttributes["Attribute3"].BinaryValue) != "1100" || aws.ToString(m.MessageAttributes["Attribute2"].StringValue) != "123" {
		t.Errorf("message attributes = %+v", m.MessageAttributes)
	}
	if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Errorf("received MD5OfMessageAttributes = %s, sent %s", aws.ToString(m.MD5OfMessageAttributes), aws.ToString(sent.MD5OfMessageAttributes))
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	url := createQueue(t, c, "q", nil)
	_, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var noQueue *types.QueueDoesNotExist
	if !errors.As(err, &noQueue) {
		t.Errorf("GetQueueUrl(missing) = %v, want QueueDoesNotExist", err)
	}
	_, err = c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("1")}, {Id: aws.String("a"), MessageBody: aws.String("2")}}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Errorf("batch with repeated ids = %v, want BatchEntryIdsNotDistinct", err)
	}
	_, err = c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("bogus")})
	var badHandle *types.ReceiptHandleIsInvalid
	if !errors.As(err, &badHandle) {
		t.Errorf("delete with bogus receipt = %v, want ReceiptHandleIsInvalid", err)
	}
}

func TestVisibilityTimeoutAndBatches(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	url := createQueue(t, c, "work", map[string]string{"VisibilityTimeout": "1"})
	var entries []types.SendMessageBatchRequestEntry
	for i := range 3 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprint("m", i))})
	}
	sent, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil || len(sent.Successful) != 3 {
		t.Fatalf("send batch: %v %+v", err, sent)
	}
	receive := func(wait int32) []types.Message {
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	first := receive(0)
	if len(first) != 3 {
		t.Fatalf("first receive got %d messages, want 3", len(first))
	}
	if again := receive(0); len(again) != 0 {
		t.Fatalf("received %d in-flight messages", len(again))
	}
	// Keep m0 invisible longer; delete m1 now; m2 returns after 1 s.
	cv, err := c.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("x"), ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: 30}}})
	if err != nil || len(cv.Successful) != 1 {
		t.Fatalf("change visibility: %v %+v", err, cv)
	}
	del, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url),
		Entries: []types.DeleteMessageBatchRequestEntry{{Id: aws.String("y"), ReceiptHandle: first[1].ReceiptHandle}}})
	if err != nil || len(del.Successful) != 1 {
		t.Fatalf("delete batch: %v %+v", err, del)
	}
	start := time.Now()
	back := receive(3) // long poll until m2's visibility timeout expires
	if len(back) != 1 || aws.ToString(back[0].Body) != aws.ToString(first[2].Body) || back[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the visibility timeout got %+v, want %s received twice", back, aws.ToString(first[2].Body))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("long poll returned after %v, want about 1s", took)
	}
	attrs, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "2" || attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("attributes = %v, %v", attrs.Attributes, err)
	}
}

func TestLongPollWakesOnSend(t *testing.T) {
	ctx := context.Background()
	_, c := start(t)
	url := createQueue(t, c, "lp", nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(200 * time.Millisecond)
		if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("hi")}); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 5})
	wg.Wait()
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("long poll: %v %+v", err, out)
	}
	if took := time.Since(start); took < 150*time.Millisecond || took > 2*time.Second {
		t.Errorf("long poll returned after %v, want just after the send", took)
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	ctx := context.Background()
	svc, c := start(t)
	dlqURL := createQueue(t, c, "jobs-dlq", nil)
	url := createQueue(t, c, "jobs", map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":"2"}`, svc.QueueARN("jobs-dlq")),
	})
	sent, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("poison")})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 3})
		if err != nil || len(out.Messages) != 1 {
			t.Fatalf("receive %d: %v %+v", i, err, out)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("third receive from the source queue: %v %+v, want nothing", err, out.Messages)
	}
	dl, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil || len(dl.Messages) != 1 {
		t.Fatalf("receive from DLQ: %v %+v", err, dl)
	}
	if aws.ToString(dl.Messages[0].MessageId) != aws.ToString(sent.MessageId) || dl.Messages[0].Attributes["DeadLetterQueueSourceArn"] != svc.QueueARN("jobs") {
		t.Errorf("dead-lettered message = %+v", dl.Messages[0])
	}
}

func TestEventSourceBatchItemFailures(t *testing.T) {
	tests := []struct {
		name       string
		report     bool
		response   string
		fnErr      bool
		wantLeft   int // messages back on the queue afterwards
		wantInvoke int
	}{
		{"success deletes all", true, `{"batchItemFailures":[]}`, false, 0, 1},
		{"partial failure keeps failed", true, `{"batchItemFailures":[{"itemIdentifier":"ID1"}]}`, false, 1, 1},
		{"unknown identifier fails batch", true, `{"batchItemFailures":[{"itemIdentifier":"nope"}]}`, false, 3, 1},
		{"failures ignored without the setting", false, `{"batchItemFailures":[{"itemIdentifier":"ID1"}]}`, false, 0, 1},
		{"function error keeps all", true, `{"errorMessage":"x"}`, true, 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			svc, c := start(t)
			url := createQueue(t, c, "src", map[string]string{"VisibilityTimeout": "30"})
			var ids []string
			for i := range 3 {
				out, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(fmt.Sprint(i))})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, aws.ToString(out.MessageId))
			}
			var mu sync.Mutex
			var batches [][]byte
			invoked := make(chan struct{}, 10)
			err := svc.AddEventSource(sqs.EventSource{Queue: "src", Function: "f", BatchSize: 10, MaximumBatchingWindow: 100 * time.Millisecond,
				ReportBatchItemFailures: tc.report,
				Invoke: func(_ context.Context, fn string, payload []byte, _ string) ([]byte, bool, error) {
					mu.Lock()
					batches = append(batches, payload)
					mu.Unlock()
					defer func() { invoked <- struct{}{} }()
					resp := tc.response
					if len(ids) > 1 {
						resp = replaceID1(resp, ids[1])
					}
					return []byte(resp), tc.fnErr, nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-invoked:
			case <-time.After(5 * time.Second):
				t.Fatal("never invoked")
			}
			left := -1
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) && left != tc.wantLeft {
				time.Sleep(20 * time.Millisecond)
				attrs, err := svc.Attributes("src")
				if err != nil {
					t.Fatal(err)
				}
				left, _ = strconv.Atoi(attrs["ApproximateNumberOfMessagesNotVisible"])
			}
			if left != tc.wantLeft {
				t.Errorf("%d messages left in flight, want %d", left, tc.wantLeft)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(batches) != tc.wantInvoke {
				t.Errorf("%d invocations, want %d", len(batches), tc.wantInvoke)
			}
		})
	}
}

func replaceID1(s, id string) string {
	const tok = `"ID1"`
	for i := 0; i+len(tok) <= len(s); i++ {
		if s[i:i+len(tok)] == tok {
			return s[:i] + `"` + id + `"` + s[i+len(tok):]
		}
	}
	return s
}
