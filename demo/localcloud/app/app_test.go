package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ariadnehq/ariadne/demo/localcloud/app"
	"github.com/ariadnehq/ariadne/demo/localcloud/lambda"
	"github.com/ariadnehq/ariadne/demo/localcloud/localcloudtest"
)

var bins localcloudtest.Binaries

func TestMain(m *testing.M) { os.Exit(localcloudtest.Main(m, &bins)) }

// env is a started application with SDK clients and what it reported.
type env struct {
	cloud  *app.Cloud
	sqs    *awssqs.Client
	sns    *awssns.Client
	s3     *awss3.Client
	lambda *awslambda.Client
	dir    string

	mu      sync.Mutex
	records []lambda.Record
}

func start(t *testing.T, desc string, set app.Settings) *env {
	t.Helper()
	e := &env{dir: t.TempDir()}
	desc = strings.ReplaceAll(desc, "$FN", bins.Function)
	desc = strings.ReplaceAll(desc, "$EXT", bins.Extension)
	desc = strings.ReplaceAll(desc, "$DIR", e.dir)
	d, err := app.ParseDescription(strings.NewReader(desc))
	if err != nil {
		t.Fatal(err)
	}
	set.OnInvocation = func(r lambda.Record) {
		e.mu.Lock()
		e.records = append(e.records, r)
		e.mu.Unlock()
	}
	set.Lambda.ShutdownGrace = 300 * time.Millisecond
	set.Lambda.RetryDelays = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	c, err := app.Start(context.Background(), d, set)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cfg := c.AWSConfig()
	e.cloud = c
	e.sqs = awssqs.NewFromConfig(cfg, func(o *awssqs.Options) { o.BaseEndpoint = aws.String(c.SQSEndpoint) })
	e.sns = awssns.NewFromConfig(cfg, func(o *awssns.Options) { o.BaseEndpoint = aws.String(c.SNSEndpoint) })
	e.s3 = awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.BaseEndpoint = aws.String(c.S3Endpoint) })
	e.lambda = awslambda.NewFromConfig(cfg, func(o *awslambda.Options) { o.BaseEndpoint = aws.String(c.LambdaEndpoint) })
	return e
}

// events reads what the test function wrote to $DIR/name.jsonl.
func (e *env) events(name string) [][]byte {
	return localcloudtest.ReadLines(filepath.Join(e.dir, name+".jsonl"))
}

func (e *env) receiveAll(t *testing.T, queue string, wait int32) []sqstypes.Message {
	t.Helper()
	out, err := e.sqs.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{
		QueueUrl: aws.String(e.cloud.QueueURL(queue)), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// reports returns the platform.report records the test extension of a
// function received, by request id.
func (e *env) reports(t *testing.T, fn string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range localcloudtest.ReadExtension(t, filepath.Join(e.dir, fn+"-ext.jsonl")) {
		if l.Event.Type != "platform.report" {
			continue
		}
		var r struct{ RequestID, Status string }
		if err := json.Unmarshal(l.Event.Record, &r); err != nil {
			t.Fatal(err)
		}
		out[r.RequestID] = append(out[r.RequestID], r.Status)
	}
	return out
}

// requestIDs returns the request ids of a function's invocation attempts.
func (e *env) requestIDs(fn string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for _, r := range e.records {
		if r.Function == fn {
			ids = append(ids, r.RequestID)
		}
	}
	return ids
}

func sqsRecords(t *testing.T, line []byte) []events.SQSMessage {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	return ev.Records
}

func TestSQSMessageRetriedUntilDeadLetterQueue(t *testing.T) {
	e := start(t, `{
		"queues": [
			{"name": "jobs", "visibilityTimeout": "1s", "deadLetter": {"queue": "jobs-dlq", "maxReceiveCount": 2}},
			{"name": "jobs-dlq"}
		],
		"functions": [{
			"name": "worker", "binary": "$FN",
			"env": {"TESTFN_OUT": "$DIR/worker.jsonl", "TESTEXT_OUT": "$DIR/ext.jsonl"},
			"triggers": [{"queue": "jobs", "batchSize": 5}]
		}]
	}`, app.Settings{Extensions: []string{bins.Extension}})
	ctx := context.Background()
	sent, err := e.sqs.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(e.cloud.QueueURL("jobs")), MessageBody: aws.String("please fail")})
	if err != nil {
		t.Fatal(err)
	}
	var dead []sqstypes.Message
	localcloudtest.Eventually(t, 10*time.Second, "the message in the dead-letter queue", func() bool {
		dead = append(dead, e.receiveAll(t, "jobs-dlq", 1)...)
		return len(dead) > 0
	})
	if len(dead) != 1 || aws.ToString(dead[0].MessageId) != aws.ToString(sent.MessageId) || aws.ToString(dead[0].Body) != "please fail" {
		t.Fatalf("dead-letter queue holds %+v", dead)
	}
	lines := e.events("worker")
	if len(lines) != 2 {
		t.Fatalf("worker ran %d times, want 2 (maxReceiveCount)", len(lines))
	}
	for i, l := range lines {
		r := sqsRecords(t, l)[0]
		if r.MessageId != aws.ToString(sent.MessageId) || r.Attributes["ApproximateReceiveCount"] != fmt.Sprint(i+1) ||
			r.EventSource != "aws:sqs" || r.EventSourceARN != e.cloud.QueueARN("jobs") || r.Md5OfBody == "" {
			t.Errorf("attempt %d record = %+v", i+1, r)
		}
	}
	// The attached extension saw both failed invocations.
	failed := 0
	for _, l := range localcloudtest.ReadExtension(t, filepath.Join(e.dir, "ext.jsonl")) {
		if l.Event.Type == "platform.report" && strings.Contains(string(l.Event.Record), `"status":"error"`) {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("extension received %d failed platform.report events, want 2", failed)
	}
}

func TestPartialBatchFailure(t *testing.T) {
	e := start(t, `{
		"queues": [
			{"name": "orders", "visibilityTimeout": "1s", "deadLetter": {"queue": "orders-dlq", "maxReceiveCount": 2}},
			{"name": "orders-dlq"}
		],
		"functions": [{
			"name": "fulfil", "binary": "$FN",
			"env": {"TESTFN_OUT": "$DIR/fulfil.jsonl", "TESTFN_PARTIAL": "1"},
			"triggers": [{"queue": "orders", "batchSize": 10, "batchingWindow": "300ms", "reportBatchItemFailures": true}]
		}]
	}`, app.Settings{})
	ctx := context.Background()
	out, err := e.sqs.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(e.cloud.QueueURL("orders")),
		Entries: []sqstypes.SendMessageBatchRequestEntry{
			{Id: aws.String("1"), MessageBody: aws.String("ok one")},
			{Id: aws.String("2"), MessageBody: aws.String("fail two")},
			{Id: aws.String("3"), MessageBody: aws.String("ok three")},
		}})
	if err != nil || len(out.Successful) != 3 {
		t.Fatalf("send batch: %v %+v", err, out)
	}
	failedID := aws.ToString(out.Successful[1].MessageId)
	var dead []sqstypes.Message
	localcloudtest.Eventually(t, 10*time.Second, "the failed message in the dead-letter queue", func() bool {
		dead = append(dead, e.receiveAll(t, "orders-dlq", 1)...)
		return len(dead) > 0
	})
	if len(dead) != 1 || aws.ToString(dead[0].MessageId) != failedID {
		t.Fatalf("dead-letter queue holds %+v, want only %s", dead, failedID)
	}
	lines := e.events("fulfil")
	if len(lines) != 2 {
		t.Fatalf("%d invocations, want 2", len(lines))
	}
	if first := sqsRecords(t, lines[0]); len(first) != 3 {
		t.Errorf("first batch has %d records, want 3", len(first))
	}
	if second := sqsRecords(t, lines[1]); len(second) != 1 || second[0].MessageId != failedID || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("second batch = %+v, want only the failed message, received twice", second)
	}
	if left := e.receiveAll(t, "orders", 0); len(left) != 0 {
		t.Errorf("%d messages left in the source queue", len(left))
	}
}

func TestSNSFanOut(t *testing.T) {
	e := start(t, `{
		"queues": [{"name": "billing"}, {"name": "audit"}],
		"topics": [{"name": "orders", "subscriptions": [{"queue": "billing"}, {"queue": "audit", "raw": true}]}],
		"functions": [{"name": "notify", "binary": "$FN", "env": {"TESTFN_OUT": "$DIR/notify.jsonl", "TESTEXT_OUT": "$DIR/notify-ext.jsonl"},
			"triggers": [{"topic": "orders"}]}]
	}`, app.Settings{Extensions: []string{bins.Extension}})
	ctx := context.Background()
	pub, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(e.cloud.TopicARN("orders")), Message: aws.String(`{"id":42}`)})
	if err != nil {
		t.Fatal(err)
	}
	msgID := aws.ToString(pub.MessageId)
	billing := e.receiveAll(t, "billing", 2)
	var env struct{ Type, MessageId, Message string }
	if len(billing) != 1 || json.Unmarshal([]byte(aws.ToString(billing[0].Body)), &env) != nil || env.MessageId != msgID || env.Message != `{"id":42}` {
		t.Errorf("billing got %+v, want an SNS envelope of %s", billing, msgID)
	}
	audit := e.receiveAll(t, "audit", 2)
	if len(audit) != 1 || aws.ToString(audit[0].Body) != `{"id":42}` {
		t.Errorf("audit (raw) got %+v", audit)
	}
	localcloudtest.Eventually(t, 5*time.Second, "the function's SNS event", func() bool { return len(e.events("notify")) == 1 })
	var ev events.SNSEvent
	if err := json.Unmarshal(e.events("notify")[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Records[0].SNS.MessageID != msgID || ev.Records[0].EventSource != "aws:sns" {
		t.Errorf("function got %+v", ev.Records[0])
	}
	// The function wrote its event while running; the invocation's record
	// comes when it has ended.
	localcloudtest.Eventually(t, 5*time.Second, "the invocation's record", func() bool { return len(e.requestIDs("notify")) == 1 })
	ids := e.requestIDs("notify")
	localcloudtest.Eventually(t, 5*time.Second, "the extension's platform.report", func() bool { return len(e.reports(t, "notify")[ids[0]]) == 1 })
}

func TestS3PutObjectInvokesFunction(t *testing.T) {
	e := start(t, `{
		"buckets": [{"name": "uploads"}],
		"functions": [{"name": "thumbnail", "binary": "$FN", "env": {"TESTFN_OUT": "$DIR/thumb.jsonl", "TESTEXT_OUT": "$DIR/thumbnail-ext.jsonl"},
			"triggers": [{"bucket": "uploads", "suffix": ".png"}]}]
	}`, app.Settings{Extensions: []string{bins.Extension}})
	put, err := e.s3.PutObject(context.Background(), &awss3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("cat.png"), Body: strings.NewReader("png")})
	if err != nil {
		t.Fatal(err)
	}
	reqID, _ := awsmiddleware.GetRequestIDMetadata(put.ResultMetadata)
	localcloudtest.Eventually(t, 5*time.Second, "the function's S3 event", func() bool { return len(e.events("thumb")) == 1 })
	var ev events.S3Event
	if err := json.Unmarshal(e.events("thumb")[0], &ev); err != nil {
		t.Fatal(err)
	}
	r := ev.Records[0]
	if reqID == "" || r.ResponseElements["x-amz-request-id"] != reqID || r.S3.Object.Key != "cat.png" || r.EventName != "ObjectCreated:Put" {
		t.Errorf("S3 event record = %+v, PutObject request id %s", r, reqID)
	}
	// The function wrote its event while running; the invocation's record
	// comes when it has ended.
	localcloudtest.Eventually(t, 5*time.Second, "the invocation's record", func() bool { return len(e.requestIDs("thumbnail")) == 1 })
	ids := e.requestIDs("thumbnail")
	localcloudtest.Eventually(t, 5*time.Second, "the extension's platform.report", func() bool { return len(e.reports(t, "thumbnail")[ids[0]]) == 1 })
}

func TestAsyncRetriesThenFailureDestination(t *testing.T) {
	e := start(t, `{
		"queues": [{"name": "failures"}, {"name": "sent"}],
		"functions": [
			{"name": "flaky", "binary": "$FN", "async": {"onFailure": {"queue": "failures"}},
			 "extensions": ["$EXT"], "env": {"TESTEXT_OUT": "$DIR/flaky-ext.jsonl"}},
			{"name": "sender", "binary": "$FN", "timeout": "5s"}
		]
	}`, app.Settings{})
	ctx := context.Background()
	out, err := e.lambda.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("flaky"), InvocationType: lambdatypes.InvocationTypeEvent,
		Payload: []byte(`{"action":"error","message":"nope"}`)})
	if err != nil {
		t.Fatal(err)
	}
	reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	var msgs []sqstypes.Message
	localcloudtest.Eventually(t, 10*time.Second, "the on-failure record", func() bool {
		msgs = append(msgs, e.receiveAll(t, "failures", 1)...)
		return len(msgs) > 0
	})
	var rec struct {
		RequestContext struct {
			RequestID, Condition   string
			ApproximateInvokeCount int
		} `json:"requestContext"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(msgs[0].Body)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.RequestID != reqID || rec.RequestContext.Condition != "RetriesExhausted" || rec.RequestContext.ApproximateInvokeCount != 3 {
		t.Errorf("on-failure record = %s", aws.ToString(msgs[0].Body))
	}
	attempts := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		n := 0
		for _, r := range e.records {
			if r.Function == "flaky" && r.RequestID == reqID {
				n++
			}
		}
		return n
	}
	localcloudtest.Eventually(t, 5*time.Second, "three attempts' records", func() bool { return attempts() >= 3 })
	if n := attempts(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	// Every attempt ran with the same request id; the extension saw three
	// failed reports for it.
	localcloudtest.Eventually(t, 5*time.Second, "three platform.report events", func() bool {
		got := e.reports(t, "flaky")[reqID]
		return len(got) == 3 && got[0] == "error" && got[2] == "error"
	})

	// A function reaches the cloud's SQS through the environment it is
	// given, and its trace header travels as AWSTraceHeader.
	res, err := e.lambda.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("sender"), Payload: []byte(`{"action":"send","queue":"sent"}`)})
	if err != nil || res.FunctionError != nil {
		t.Fatalf("sender: %v %s", err, res.Payload)
	}
	var sent struct{ MessageID, Trace string }
	_ = json.Unmarshal(res.Payload, &sent)
	got := e.receiveAll(t, "sent", 2)
	if len(got) != 1 || aws.ToString(got[0].MessageId) != sent.MessageID {
		t.Fatalf("queue sent holds %+v, function reported %+v", got, sent)
	}
	root := strings.Split(sent.Trace, ";")[0]
	if root == "" || !strings.HasPrefix(got[0].Attributes["AWSTraceHeader"], root) {
		t.Errorf("AWSTraceHeader = %q, want the function's %q", got[0].Attributes["AWSTraceHeader"], root)
	}
}

func TestDescriptionErrors(t *testing.T) {
	tests := []struct {
		name, desc, want string
	}{
		{"unknown field", `{"functions":[],"bogus":1}`, `unknown field "bogus"`},
		{"missing binary", `{"functions":[{"name":"f"}]}`, "functions[0]: exactly one of binary and package is required"},
		{"unknown queue trigger", `{"functions":[{"name":"f","binary":"/x","triggers":[{"queue":"nope"}]}]}`, `functions[0].triggers[0].queue: unknown queue "nope"`},
		{"two sources in a trigger", `{"queues":[{"name":"q"}],"topics":[{"name":"t"}],"functions":[{"name":"f","binary":"/x","triggers":[{"queue":"q","topic":"t"}]}]}`,
			"functions[0].triggers[0]: exactly one of queue, topic, bucket is required"},
		{"bad dead letter", `{"queues":[{"name":"q","deadLetter":{"queue":"q2","maxReceiveCount":0}}],"functions":[]}`, `queues[0].deadLetter.queue: unknown queue "q2"`},
		{"duplicate", `{"queues":[{"name":"q"},{"name":"q"}],"functions":[]}`, `queues[1].name: duplicate queue "q"`},
		{"bad duration", `{"functions":[{"name":"f","binary":"/x","timeout":"soon"}]}`, `parse duration "soon"`},
		{"memory", `{"functions":[{"name":"f","binary":"/x","memoryMB":16}]}`, "functions[0].memoryMB: must be between 32 and 10240"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.ParseDescription(strings.NewReader(tc.desc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	e := start(t, `{"functions":[{"name":"f","binary":"$FN"}]}`, app.Settings{})
	if _, err := e.lambda.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`{"action":"echo"}`)}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.cloud.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.lambda.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("f")}); err == nil {
		t.Error("invoke after Close succeeded")
	}
}

func TestQueueTriggerThrottled(t *testing.T) {
	e := start(t, `{
		"queues": [{"name": "burst", "visibilityTimeout": "1s"}],
		"functions": [{
			"name": "slow", "binary": "$FN", "reservedConcurrency": 1,
			"env": {"TESTFN_OUT": "$DIR/slow.jsonl", "TESTFN_SLEEP_MS": "300"},
			"triggers": [{"queue": "burst", "batchSize": 1, "pollers": 3}]
		}]
	}`, app.Settings{})
	ctx := context.Background()
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := range 4 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprint("m", i))})
	}
	if _, err := e.sqs.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(e.cloud.QueueURL("burst")), Entries: entries}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	localcloudtest.Eventually(t, 15*time.Second, "every message processed", func() bool {
		for _, l := range e.events("slow") {
			for _, r := range sqsRecords(t, l) {
				seen[r.Body] = true
			}
		}
		return len(seen) == 4
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	throttled := 0
	for _, r := range e.records {
		if r.Status == lambda.StatusThrottled {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("three pollers on a function with reserved concurrency 1 were never throttled")
	}
}
