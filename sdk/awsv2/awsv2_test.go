package awsv2_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

// fakeAWS answers in each service's real wire protocol and remembers the
// ids it handed out, so the test can check that every one was recorded.
type fakeAWS struct {
	t   testing.TB
	seq atomic.Int64

	mu          sync.Mutex
	traceparent []string // seen in message attributes
	issued      []string // strong ids handed out in responses
	bodies      []string
}

func (f *fakeAWS) id(prefix string) string {
	id := fmt.Sprintf("%s-%04d", prefix, f.seq.Add(1))
	if prefix != "req" && prefix != "exec" {
		f.mu.Lock()
		f.issued = append(f.issued, id)
		f.mu.Unlock()
	}
	return id
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	target := r.Header.Get("X-Amz-Target")
	reqID := f.id("req")
	w.Header().Set("X-Amzn-Requestid", reqID)
	writeJSON := func(ct string, v any) {
		w.Header().Set("Content-Type", ct)
		_ = json.NewEncoder(w).Encode(v)
	}
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	switch {
	case target == "AmazonSQS.SendMessage":
		f.noteSQS(in["MessageAttributes"])
		writeJSON("application/x-amz-json-1.0", map[string]any{
			"MessageId": f.id("sqs"), "MD5OfMessageBody": md5hex(in["MessageBody"].(string)),
		})
	case target == "AmazonSQS.SendMessageBatch":
		var ok []map[string]any
		for _, e := range in["Entries"].([]any) {
			e := e.(map[string]any)
			f.noteSQS(e["MessageAttributes"])
			ok = append(ok, map[string]any{"Id": e["Id"], "MessageId": f.id("sqs"), "MD5OfMessageBody": md5hex(e["MessageBody"].(string))})
		}
		writeJSON("application/x-amz-json-1.0", map[string]any{"Successful": ok, "Failed": []any{}})
	case target == "Kinesis_20131202.PutRecord":
		writeJSON("application/x-amz-json-1.1", map[string]any{"ShardId": "shardId-000000000001", "SequenceNumber": f.id("seq")})
	case target == "Kinesis_20131202.PutRecords":
		var recs []map[string]any
		for range in["Records"].([]any) {
			recs = append(recs, map[string]any{"ShardId": "shardId-000000000002", "SequenceNumber": f.id("seq")})
		}
		writeJSON("application/x-amz-json-1.1", map[string]any{"FailedRecordCount": 0, "Records": recs})
	case target == "AWSEvents.PutEvents":
		var ents []map[string]any
		for range in["Entries"].([]any) {
			ents = append(ents, map[string]any{"EventId": f.id("evt")})
		}
		writeJSON("application/x-amz-json-1.1", map[string]any{"FailedEntryCount": 0, "Entries": ents})
	case strings.HasPrefix(target, "DynamoDB_20120810."):
		out := map[string]any{}
		if strings.HasSuffix(target, "BatchWriteItem") {
			out["UnprocessedItems"] = map[string]any{}
		}
		writeJSON("application/x-amz-json-1.0", out)
	case target == "AWSStepFunctions.StartExecution":
		writeJSON("application/x-amz-json-1.0", map[string]any{
			"executionArn": "arn:aws:states:us-east-1:123456789012:execution:flow:" + f.id("exec"), "startDate": 1.7e9,
		})
	case r.Method == http.MethodPost && strings.Contains(string(body), "Action=Publish"):
		form, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		if form.Get("Action") == "PublishBatch" {
			var members strings.Builder
			for i := 1; form.Get(fmt.Sprintf("PublishBatchRequestEntries.member.%d.Id", i)) != ""; i++ {
				f.noteSNS(form, fmt.Sprintf("PublishBatchRequestEntries.member.%d.", i))
				fmt.Fprintf(&members, "<member><Id>%s</Id><MessageId>%s</MessageId></member>",
					form.Get(fmt.Sprintf("PublishBatchRequestEntries.member.%d.Id", i)), f.id("sns"))
			}
			fmt.Fprintf(w, `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>%s</Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishBatchResponse>`, members.String(), reqID)
			return
		}
		f.noteSNS(form, "")
		fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishResponse>`, f.id("sns"), reqID)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/bucket/"):
		w.Header().Set("X-Amz-Request-Id", f.id("s3"))
		w.Header().Set("ETag", `"`+md5hex(string(body))+`"`)
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/"):
		w.Header().Set("X-Amzn-Requestid", f.id("lambda"))
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	default:
		f.t.Errorf("unexpected request %s %s target=%q body=%.200s", r.Method, r.URL, target, body)
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (f *fakeAWS) noteSQS(attrs any) {
	m, _ := attrs.(map[string]any)
	if tp, ok := m["traceparent"].(map[string]any); ok {
		f.mu.Lock()
		f.traceparent = append(f.traceparent, tp["StringValue"].(string))
		f.mu.Unlock()
	}
}

func (f *fakeAWS) noteSNS(form url.Values, prefix string) {
	for i := 1; ; i++ {
		name := form.Get(fmt.Sprintf("%sMessageAttributes.entry.%d.Name", prefix, i))
		if name == "" {
			return
		}
		if name == "traceparent" {
			f.mu.Lock()
			f.traceparent = append(f.traceparent, form.Get(fmt.Sprintf("%sMessageAttributes.entry.%d.Value.StringValue", prefix, i)))
			f.mu.Unlock()
		}
	}
}

type env struct {
	sdk  *ariadne.SDK
	mem  *tracetest.InMemoryExporter
	fake *fakeAWS
	cfg  aws.Config
}

func newEnv(t *testing.T, opts ...awsv2.Option) *env {
	t.Helper()
	fake := &fakeAWS{t: t}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	mem := tracetest.NewInMemoryExporter()
	s, err := ariadne.New(context.Background(),
		ariadne.WithGetenv(func(string) string { return "" }),
		ariadne.WithoutGlobal(), ariadne.WithSpanExporter(mem),
		ariadne.WithConfig(func(c *ariadne.Config) { c.Service = "producer" }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}
	awsv2.Instrument(&cfg, s, opts...)
	return &env{sdk: s, mem: mem, fake: fake, cfg: cfg}
}

// spans flushes and returns exported spans by name.
func (e *env) spans(t *testing.T) map[string][]tracetest.SpanStub {
	t.Helper()
	if err := e.sdk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string][]tracetest.SpanStub{}
	for _, s := range e.mem.GetSpans() {
		out[s.Name] = append(out[s.Name], s)
	}
	return out
}

func strs(attrs []attribute.KeyValue, key string) []string {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value.AsStringSlice()
		}
	}
	return nil
}

func str(attrs []attribute.KeyValue, key string) string {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

func TestProducerStrongIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ctx, parent := e.sdk.Tracer().Start(ctx, "handler")

	sqsc := sqs.NewFromConfig(e.cfg)
	q := aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/orders")
	if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String(`{"id":1}`)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if _, err := sqsc.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("two")},
		{Id: aws.String("c"), MessageBody: aws.String("three")},
	}}); err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	snsc := sns.NewFromConfig(e.cfg)
	topic := aws.String("arn:aws:sns:us-east-1:123456789012:orders")
	if _, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic, Message: aws.String("hello")}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if _, err := snsc.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: topic, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("x"), Message: aws.String("m1")}, {Id: aws.String("y"), Message: aws.String("m2")},
	}}); err != nil {
		t.Fatalf("PublishBatch: %v", err)
	}
	kin := kinesis.NewFromConfig(e.cfg)
	if _, err := kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("clicks"), PartitionKey: aws.String("p"), Data: []byte("d")}); err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	if _, err := kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("clicks"), Records: []kintypes.PutRecordsRequestEntry{
		{PartitionKey: aws.String("p1"), Data: []byte("1")}, {PartitionKey: aws.String("p2"), Data: []byte("2")},
	}}); err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	eb := eventbridge.NewFromConfig(e.cfg)
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{}`)},
		{Source: aws.String("shop"), DetailType: aws.String("OrderPaid"), Detail: aws.String(`{}`)},
	}}); err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	s3c := s3.NewFromConfig(e.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k/1.json"), Body: strings.NewReader(`{"a":1}`)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	lc := lambda.NewFromConfig(e.cfg)
	if _, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("pricing"), Payload: []byte(`{"sku":"A"}`)}); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	sf := sfn.NewFromConfig(e.cfg)
	if _, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:flow"), Input: aws.String(`{"order":"o-1"}`)}); err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	parent.End()

	got := e.spans(t)
	want := map[string][]string{
		"SQS.SendMessage":       {"sqs:sqs-"},
		"SQS.SendMessageBatch":  {"sqs:sqs-", "sqs:sqs-", "sqs:sqs-"},
		"SNS.Publish":           {"sns:sns-"},
		"SNS.PublishBatch":      {"sns:sns-", "sns:sns-"},
		"Kinesis.PutRecord":     {"kinesis:shardId-000000000001:seq-"},
		"Kinesis.PutRecords":    {"kinesis:shardId-000000000002:seq-", "kinesis:shardId-000000000002:seq-"},
		"EventBridge.PutEvents": {"events:evt-", "events:evt-"},
		"S3.PutObject":          {"s3:s3-"},
		"Lambda.Invoke":         {"lambda:lambda-"},
		"SFN.StartExecution":    {"sfn:"},
	}
	seen := map[string]bool{}
	for name, prefixes := range want {
		spans := got[name]
		if len(spans) != 1 {
			t.Errorf("%s: %d spans", name, len(spans))
			continue
		}
		sp := spans[0]
		if sp.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s: not a child of the caller's span", name)
		}
		ids := strs(sp.Attributes, "ariadne.refs.producer")
		if len(ids) != len(prefixes) {
			t.Errorf("%s: producer refs %q, want %d", name, ids, len(prefixes))
			continue
		}
		for i, id := range ids {
			if !strings.HasPrefix(id, prefixes[i]) || seen[id] {
				t.Errorf("%s: ref %q (want prefix %q, unique)", name, id, prefixes[i])
			}
			seen[id] = true
		}
	}
	// Every id the fake handed out in a response body or header is recorded.
	e.fake.mu.Lock()
	issued := append([]string(nil), e.fake.issued...)
	e.fake.mu.Unlock()
	if len(issued) != 14 {
		t.Errorf("fake issued %d ids, want 14", len(issued))
	}
	for _, id := range issued {
		found := false
		for ref := range seen {
			if strings.HasSuffix(ref, ":"+id) {
				found = true
			}
		}
		if !found {
			t.Errorf("id %s from a response is not in any span", id)
		}
	}
	if k := got["SQS.SendMessage"][0].SpanKind; k != trace.SpanKindProducer {
		t.Errorf("SendMessage kind = %v", k)
	}
	if d := str(got["SQS.SendMessage"][0].Attributes, "messaging.destination.name"); d != "orders" {
		t.Errorf("destination = %q", d)
	}
	if p := str(got["SQS.SendMessage"][0].Attributes, "ariadne.request.payload"); !strings.Contains(p, `{\"id\":1}`) && !strings.Contains(p, `"MessageBody":"{\"id\":1}"`) && !strings.Contains(p, `"MessageBody":{"id":1}`) {
		t.Errorf("request payload = %s", p)
	}
	// SQS x4 (1 + 3) and SNS x3 (1 + 2) carry the caller's trace.
	e.fake.mu.Lock()
	tps := append([]string(nil), e.fake.traceparent...)
	e.fake.mu.Unlock()
	if len(tps) != 7 {
		t.Errorf("traceparent injected into %d messages, want 7: %q", len(tps), tps)
	}
	for _, tp := range tps {
		if !strings.Contains(tp, parent.SpanContext().TraceID().String()) {
			t.Errorf("traceparent %q not in trace %s", tp, parent.SpanContext().TraceID())
		}
	}
}

func TestSendMessageRespectsAttributeLimit(t *testing.T) {
	e := newEnv(t)
	attrs := map[string]sqstypes.MessageAttributeValue{}
	for i := 0; i < 10; i++ {
		attrs[fmt.Sprintf("a%d", i)] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String("https://q/1/orders"), MessageBody: aws.String("x"), MessageAttributes: attrs}
	if _, err := sqs.NewFromConfig(e.cfg).SendMessage(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.traceparent) != 0 || len(in.MessageAttributes) != 10 {
		t.Fatalf("injected past the limit or changed the caller's input")
	}
}

func ddbKey(table, canonical string) string {
	return "ddb:" + table + ":" + md5hex(canonical)
}

func TestDynamoDBKeys(t *testing.T) {
	e := newEnv(t, awsv2.WithDynamoDBKeys("users", "userId"))
	c := ddb.NewFromConfig(e.cfg)
	ctx := context.Background()
	item := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "order#1"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "line#2"},
		"qty": &ddbtypes.AttributeValueMemberN{Value: "3"}, "note": &ddbtypes.AttributeValueMemberS{Value: "x"},
	}
	// Unknown schema: candidates include the real key.
	if _, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("orders"), Item: item}); err != nil {
		t.Fatal(err)
	}
	// A keyed call teaches the schema ...
	key := map[string]ddbtypes.AttributeValue{"pk": item["pk"], "sk": item["sk"]}
	if _, err := c.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String("orders"), Key: key, UpdateExpression: aws.String("SET qty = :q"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":q": &ddbtypes.AttributeValueMemberN{Value: "4"}}}); err != nil {
		t.Fatal(err)
	}
	// ... so the next PutItem records exactly one key.
	if _, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("orders"), Item: item}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String("orders"), Key: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{
		"users": {
			{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"userId": &ddbtypes.AttributeValueMemberS{Value: "u1"}, "name": &ddbtypes.AttributeValueMemberS{Value: "Ann"}}}},
			{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"userId": &ddbtypes.AttributeValueMemberS{Value: "u2"}, "name": &ddbtypes.AttributeValueMemberS{Value: "Bob"}}}},
			{DeleteRequest: &ddbtypes.DeleteRequest{Key: map[string]ddbtypes.AttributeValue{"userId": &ddbtypes.AttributeValueMemberS{Value: "u3"}}}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String("users"), Item: map[string]ddbtypes.AttributeValue{"userId": &ddbtypes.AttributeValueMemberS{Value: "u4"}}}},
		{Update: &ddbtypes.Update{TableName: aws.String("orders"), Key: key, UpdateExpression: aws.String("SET qty = :q"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":q": &ddbtypes.AttributeValueMemberN{Value: "5"}}}},
		{Delete: &ddbtypes.Delete{TableName: aws.String("users"), Key: map[string]ddbtypes.AttributeValue{"userId": &ddbtypes.AttributeValueMemberN{Value: "7"}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	orderKey := ddbKey("orders", `{"pk":{"S":"order#1"},"sk":{"S":"line#2"}}`)
	got := e.spans(t)
	puts := got["DynamoDB.PutItem"]
	if len(puts) != 2 {
		t.Fatalf("%d PutItem spans", len(puts))
	}
	if c := strs(puts[0].Attributes, "ariadne.refs.producer"); !slices.Contains(c, orderKey) || len(c) < 2 {
		t.Errorf("candidates %q lack %s", c, orderKey)
	}
	if p := str(puts[0].Attributes, "ariadne.request.payload"); p != `{"Item":{"note":{"S":"x"},"pk":{"S":"order#1"},"qty":{"N":"3"},"sk":{"S":"line#2"}},"TableName":"orders"}` {
		t.Errorf("PutItem payload %s", p)
	}
	if c := strs(puts[1].Attributes, "ariadne.refs.producer"); !slices.Equal(c, []string{orderKey}) {
		t.Errorf("learned put = %q", c)
	}
	for _, name := range []string{"DynamoDB.UpdateItem", "DynamoDB.DeleteItem"} {
		if c := strs(got[name][0].Attributes, "ariadne.refs.producer"); !slices.Equal(c, []string{orderKey}) {
			t.Errorf("%s = %q", name, c)
		}
	}
	bw := strs(got["DynamoDB.BatchWriteItem"][0].Attributes, "ariadne.refs.producer")
	wantBW := []string{ddbKey("users", `{"userId":{"S":"u1"}}`), ddbKey("users", `{"userId":{"S":"u2"}}`), ddbKey("users", `{"userId":{"S":"u3"}}`)}
	if !slices.Equal(bw, wantBW) {
		t.Errorf("batch write = %q\nwant %q", bw, wantBW)
	}
	tw := strs(got["DynamoDB.TransactWriteItems"][0].Attributes, "ariadne.refs.producer")
	wantTW := []string{ddbKey("users", `{"userId":{"S":"u4"}}`), orderKey, ddbKey("users", `{"userId":{"N":"7"}}`)}
	if !slices.Equal(tw, wantTW) {
		t.Errorf("transact write = %q\nwant %q", tw, wantTW)
	}
}

func TestFailedCallRecordsErrorNoRefs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Query-Error", "AWS.SimpleQueueService.NonExistentQueue;Sender")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`))
	}))
	defer srv.Close()
	e := newEnv(t)
	e.cfg.BaseEndpoint = aws.String(srv.URL)
	_, err := sqs.NewFromConfig(e.cfg).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String("https://q/1/missing"), MessageBody: aws.String("x")})
	if err == nil {
		t.Fatal("expected an error")
	}
	sp := e.spans(t)["SQS.SendMessage"][0]
	if sp.Status.Code.String() != "Error" || len(strs(sp.Attributes, "ariadne.refs.producer")) != 0 {
		t.Fatalf("status %v refs %q", sp.Status, strs(sp.Attributes, "ariadne.refs.producer"))
	}
	if et := str(sp.Attributes, "error.type"); et == "" {
		t.Errorf("no error.type")
	}
}

func TestDisabledAndMetadataOnly(t *testing.T) {
	off, _ := ariadne.New(context.Background(), ariadne.WithGetenv(func(k string) string {
		return map[string]string{"ARIADNE_DISABLE": "true"}[k]
	}), ariadne.WithoutGlobal())
	if opts := awsv2.APIOptions(off); opts != nil {
		t.Fatal("a disabled SDK must not add middleware")
	}

	fake := &fakeAWS{t: t}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	mem := tracetest.NewInMemoryExporter()
	s, _ := ariadne.New(context.Background(), ariadne.WithGetenv(func(string) string { return "" }), ariadne.WithoutGlobal(),
		ariadne.WithSpanExporter(mem), ariadne.WithMetadataOnly())
	defer s.Shutdown(context.Background())
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		})}
	awsv2.Instrument(&cfg, s)
	if _, err := sqs.NewFromConfig(cfg).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String("https://q/1/o"), MessageBody: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	_ = s.Flush(context.Background())
	sp := mem.GetSpans()[0]
	if str(sp.Attributes, "ariadne.request.payload") != "" || len(strs(sp.Attributes, "ariadne.refs.producer")) != 1 {
		t.Fatalf("metadata-only span %v", sp.Attributes)
	}
}

func TestInstrumentTwiceIsHarmless(t *testing.T) {
	e := newEnv(t)
	awsv2.Instrument(&e.cfg, e.sdk) // a second time
	if _, err := sqs.NewFromConfig(e.cfg).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String("https://q/1/o"), MessageBody: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.spans(t)["SQS.SendMessage"]); n != 1 {
		t.Fatalf("%d spans for one call", n)
	}
}
