package correlate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

// hopCase is one kind of asynchronous hop: producers that call AWS as a
// real function would, and the event AWS would then deliver to the
// consumer, built from the ids the (fake) service returned.
type hopCase struct {
	name string
	// producers run inside invocations of the producer function; each
	// call is one producer trace.
	producers []func(ctx context.Context, f *function) error
	// event builds the consumer's event from the ids issued by the fake.
	event func(t *testing.T, h *harness) string
	// consumerReqID, when set, returns the consumer invocation's request
	// id (Lambda invoke: the id the caller saw).
	consumerReqID func(h *harness) string
	awsOpts       []awsv2.Option
	// wantChannel is the edge channel; wantKeys, when set, checks the keys
	// of the edges exactly (DynamoDB: the hash of the keys only).
	wantChannel string
	wantIDs     int // message ids over all edges
	wantKeys    func(h *harness) []string
}

func sqsClient(f *function) *sqs.Client { return sqs.NewFromConfig(f.cfg) }

const queueURL = "https://sqs.us-east-1.amazonaws.com/000000000000/orders"

func TestHops(t *testing.T) {
	var ddbKeys []string
	cases := []hopCase{
		{
			name: "SQS SendMessage",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := sqsClient(f).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(`{"orderId":"o-1"}`)})
				return err
			}},
			event:       func(t *testing.T, h *harness) string { return sqsEvent("orders", h.aws.take("sqs"), nil) },
			wantChannel: "sqs", wantIDs: 1,
		},
		{
			name: "SQS batch of ten from ten producers",
			producers: slices.Repeat([]func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := sqsClient(f).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(`{"orderId":"o-2"}`)})
				return err
			}}, 10),
			event:       func(t *testing.T, h *harness) string { return sqsEvent("orders", h.aws.take("sqs"), nil) },
			wantChannel: "sqs", wantIDs: 10,
		},
		{
			name: "SQS SendMessageBatch to one consumer",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				var ents []sqstypes.SendMessageBatchRequestEntry
				for i := range 4 {
					ents = append(ents, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf(`{"n":%d}`, i))})
				}
				_, err := sqsClient(f).SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: ents})
				return err
			}},
			event:       func(t *testing.T, h *harness) string { return sqsEvent("orders", h.aws.take("sqs"), nil) },
			wantChannel: "sqs", wantIDs: 4,
		},
		{
			name: "SNS Publish",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := sns.NewFromConfig(f.cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:order-events"), Message: aws.String(`{"orderId":"o-3"}`)})
				return err
			}},
			event:       func(t *testing.T, h *harness) string { return snsEvent("order-events", h.aws.take("sns")[0]) },
			wantChannel: "sns", wantIDs: 1,
		},
		{
			name: "SNS to SQS, envelope unwrapped",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := sns.NewFromConfig(f.cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:order-events"), Message: aws.String(`{"orderId":"o-4"}`)})
				return err
			}},
			event: func(t *testing.T, h *harness) string {
				// SNS gives the SQS message an id of its own; only the
				// envelope's MessageId matches the publisher.
				return sqsEvent("orders", []string{newUUID()}, []string{snsEnvelope("order-events", h.aws.take("sns")[0], `{"orderId":"o-4"}`)})
			},
			wantChannel: "sns", wantIDs: 1,
		},
		{
			name: "Kinesis PutRecords",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := kinesis.NewFromConfig(f.cfg).PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("clicks"), Records: []kintypes.PutRecordsRequestEntry{
					{PartitionKey: aws.String("p1"), Data: []byte(`{"click":1}`)}, {PartitionKey: aws.String("p2"), Data: []byte(`{"click":2}`)},
					{PartitionKey: aws.String("p3"), Data: []byte(`{"click":3}`)},
				}})
				return err
			}},
			event:       func(t *testing.T, h *harness) string { return kinesisEvent("clicks", h.aws.take("kinesis")) },
			wantChannel: "kinesis", wantIDs: 3,
		},
		{
			name: "S3 PutObject",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := s3.NewFromConfig(f.cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
					Bucket: aws.String("invoices"), Key: aws.String("o-5.pdf"), Body: strings.NewReader("%PDF-1.4")})
				return err
			}},
			event:       func(t *testing.T, h *harness) string { return s3Event("invoices", "o-5.pdf", h.aws.take("s3")[0]) },
			wantChannel: "s3", wantIDs: 1,
		},
		{
			name:    "DynamoDB stream, keys hashed",
			awsOpts: []awsv2.Option{awsv2.WithDynamoDBKeys("orders", "pk", "sk")},
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := ddb.NewFromConfig(f.cfg).PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("orders"), Item: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "ORDER#o-6"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "v1"},
					"total": &ddbtypes.AttributeValueMemberN{Value: "42"}, "status": &ddbtypes.AttributeValueMemberS{Value: "paid"},
				}})
				return err
			}},
			event: func(t *testing.T, h *harness) string {
				return ddbEvent("orders", `{"pk":{"S":"ORDER#o-6"},"sk":{"S":"v1"}}`,
					`{"pk":{"S":"ORDER#o-6"},"sk":{"S":"v1"},"total":{"N":"42"},"status":{"S":"paid"}}`)
			},
			wantChannel: "ddb", wantIDs: 1,
			wantKeys: func(*harness) []string {
				// md5 of the canonical keys, never of the whole item.
				ddbKeys = []string{"ddb:orders:" + md5hex(`{"pk":{"S":"ORDER#o-6"},"sk":{"S":"v1"}}`)}
				return ddbKeys
			},
		},
		{
			name: "DynamoDB stream, key schema unknown (candidate keys)",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := ddb.NewFromConfig(f.cfg).PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("carts"), Item: map[string]ddbtypes.AttributeValue{
					"cartId": &ddbtypes.AttributeValueMemberS{Value: "c-7"}, "total": &ddbtypes.AttributeValueMemberN{Value: "3"},
				}})
				return err
			}},
			event: func(t *testing.T, h *harness) string {
				return ddbEvent("carts", `{"cartId":{"S":"c-7"}}`, `{"cartId":{"S":"c-7"},"total":{"N":"3"}}`)
			},
			wantChannel: "ddb", wantIDs: 1,
			wantKeys: func(*harness) []string { return []string{"ddb:carts:" + md5hex(`{"cartId":{"S":"c-7"}}`)} },
		},
		{
			name: "EventBridge PutEvents",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := eventbridge.NewFromConfig(f.cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
					{Source: aws.String("shop"), DetailType: aws.String("OrderPlaced"), Detail: aws.String(`{"orderId":"o-8"}`), EventBusName: aws.String("shop-bus")},
				}})
				return err
			}},
			event:       func(t *testing.T, h *harness) string { return ebEvent(h.aws.take("events")[0]) },
			wantChannel: "events", wantIDs: 1,
		},
		{
			name: "Lambda Invoke",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := lambdasvc.NewFromConfig(f.cfg).Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: aws.String("pricing"), Payload: []byte(`{"sku":"A-1"}`)})
				return err
			}},
			event:         func(t *testing.T, h *harness) string { return `{"sku":"A-1"}` },
			consumerReqID: func(h *harness) string { return h.aws.take("lambda")[0] },
			wantChannel:   "lambda", wantIDs: 1,
		},
		{
			name: "Step Functions StartExecution",
			producers: []func(context.Context, *function) error{func(ctx context.Context, f *function) error {
				_, err := sfn.NewFromConfig(f.cfg).StartExecution(ctx, &sfn.StartExecutionInput{
					StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:fulfil"), Input: aws.String(`{"orderId":"o-9"}`)})
				return err
			}},
			event: func(t *testing.T, h *harness) string {
				h.aws.mu.Lock()
				defer h.aws.mu.Unlock()
				if !strings.Contains(h.aws.lastSFN, "_ariadne") {
					t.Fatalf("StartExecution input has no correlation field: %s", h.aws.lastSFN)
				}
				return h.aws.lastSFN
			},
			wantChannel: "sfn", wantIDs: 1,
		},
	}
	h := newHarness(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prod := h.function(t, fmt.Sprintf("producer-%d", i), tc.awsOpts...)
			cons := h.function(t, fmt.Sprintf("consumer-%d", i))
			var producers []model.TraceID
			for j, p := range tc.producers {
				tid, _, err := prod.invoke(t, fmt.Sprintf("req-p-%d-%d", i, j), `{"source":"test"}`, func(ctx context.Context, _ json.RawMessage) (any, error) {
					return map[string]any{"ok": true}, p(ctx, prod)
				})
				if err != nil {
					t.Fatalf("producer %d: %v", j, err)
				}
				producers = append(producers, tid)
			}
			reqID := fmt.Sprintf("req-c-%d", i)
			if tc.consumerReqID != nil {
				reqID = tc.consumerReqID(h)
			}
			consumer, _, err := cons.invoke(t, reqID, tc.event(t, h), nil)
			if err != nil {
				t.Fatalf("consumer: %v", err)
			}
			tx, err := h.cor.Transaction(t.Context(), consumer)
			if err != nil {
				t.Fatalf("Transaction: %v", err)
			}
			checkJoined(t, tx, producers, consumer)
			var ids []string
			for _, e := range tx.Edges {
				if e.ConsumerTraceID != consumer || !slices.Contains(producers, e.ProducerTraceID) {
					t.Errorf("edge %s → %s is not producer → consumer", e.ProducerTraceID, e.ConsumerTraceID)
				}
				if e.Channel != tc.wantChannel {
					t.Errorf("edge channel %q, want %q (keys %v)", e.Channel, tc.wantChannel, e.Keys)
				}
				if !e.LagKnown || e.ProducerEnd == 0 {
					t.Errorf("edge %v: lag unknown", e.Keys)
				}
				ids = append(ids, e.MessageIDs...)
				if tc.wantKeys != nil && !slices.Equal(e.Keys, tc.wantKeys(h)) {
					t.Errorf("edge keys %v, want %v", e.Keys, tc.wantKeys(h))
				}
			}
			if len(ids) != tc.wantIDs {
				t.Errorf("%d message ids over %d edges (%v), want %d", len(ids), len(tx.Edges), ids, tc.wantIDs)
			}
			if len(tx.Edges) != len(producers) {
				t.Errorf("%d edges, want one per producer (%d)", len(tx.Edges), len(producers))
			}
			// The same transaction from the producer's side.
			back, err := h.cor.Transaction(t.Context(), producers[0])
			if err != nil {
				t.Fatal(err)
			}
			checkJoined(t, back, producers, consumer)
		})
	}
}

// checkJoined asserts that tx holds exactly the producers and the consumer.
func checkJoined(t *testing.T, tx *correlate.Transaction, producers []model.TraceID, consumer model.TraceID) {
	t.Helper()
	var got []model.TraceID
	for _, ti := range tx.Traces {
		got = append(got, ti.TraceID)
		if ti.Missing {
			t.Errorf("trace %s missing", ti.TraceID)
		}
	}
	want := append(slices.Clone(producers), consumer)
	sortIDs(got)
	sortIDs(want)
	if !slices.Equal(got, want) {
		t.Errorf("transaction of %d traces %v, want %d %v (truncated %v)", len(got), got, len(want), want, tx.TruncatedReasons)
	}
	if tx.Status != correlate.StatusOK || tx.DurationNs <= 0 {
		t.Errorf("status %q duration %d", tx.Status, tx.DurationNs)
	}
}

func sortIDs(ids []model.TraceID) {
	slices.SortFunc(ids, func(a, b model.TraceID) int { return strings.Compare(a.String(), b.String()) })
}

// Events as AWS delivers them to Lambda.

func sqsEvent(queue string, ids []string, bodies []string) string {
	type rec map[string]any
	var recs []rec
	for i, id := range ids {
		body := fmt.Sprintf(`{"n":%d}`, i)
		if i < len(bodies) {
			body = bodies[i]
		}
		recs = append(recs, rec{
			"messageId": id, "receiptHandle": "AQEB" + id, "body": body,
			"attributes": map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1764111600000",
				"SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1764111600010"},
			"messageAttributes": map[string]any{}, "md5OfBody": md5hex(body), "eventSource": "aws:sqs",
			"eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:" + queue, "awsRegion": "us-east-1",
		})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

func snsEnvelope(topic, id, msg string) string {
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": id,
		"TopicArn": "arn:aws:sns:us-east-1:000000000000:" + topic, "Message": msg,
		"Timestamp": "2026-11-25T23:00:00.000Z", "SignatureVersion": "1", "Signature": "EXAMPLE"})
	return string(b)
}

func snsEvent(topic, id string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"EventSource": "aws:sns", "EventVersion": "1.0",
		"EventSubscriptionArn": "arn:aws:sns:us-east-1:000000000000:" + topic + ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
		"Sns": map[string]any{"Type": "Notification", "MessageId": id, "TopicArn": "arn:aws:sns:us-east-1:000000000000:" + topic,
			"Subject": nil, "Message": `{"orderId":"o-3"}`, "Timestamp": "2026-11-25T23:00:00.000Z",
			"SignatureVersion": "1", "Signature": "EXAMPLE", "MessageAttributes": map[string]any{}},
	}}})
	return string(b)
}

func kinesisEvent(stream string, ids []string) string {
	var recs []any
	for _, id := range ids {
		shard, seq, _ := strings.Cut(id, ":")
		recs = append(recs, map[string]any{
			"kinesis": map[string]any{"kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq,
				"data": "eyJjbGljayI6MX0=", "approximateArrivalTimestamp": 1764111600.477},
			"eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": shard + ":" + seq,
			"eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::000000000000:role/LambdaRole",
			"awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream,
		})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

func s3Event(bucket, key, reqID string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-25T23:00:00.123Z",
		"eventName": "ObjectCreated:Put", "userIdentity": map[string]any{"principalId": "EXAMPLE"},
		"requestParameters": map[string]any{"sourceIPAddress": "127.0.0.1"},
		"responseElements":  map[string]any{"x-amz-request-id": reqID, "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
		"s3": map[string]any{"s3SchemaVersion": "1.0", "configurationId": "invoices",
			"bucket": map[string]any{"name": bucket, "ownerIdentity": map[string]any{"principalId": "EXAMPLE"}, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{"key": key, "size": 8, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0065F2A9C1D2E3F4A5"}},
	}}})
	return string(b)
}

func ddbEvent(table, keys, image string) string {
	return fmt.Sprintf(`{"Records":[{"eventID":"f07f8ca4b0b26cb9c4e5e77e69f274ee","eventName":"INSERT","eventVersion":"1.1",
"eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1764111600,
"Keys":%s,"NewImage":%s,"SequenceNumber":"1405400000000002063282832","SizeBytes":54,"StreamViewType":"NEW_AND_OLD_IMAGES"},
"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/%s/stream/2026-11-25T00:00:00.000"}]}`, keys, image, table)
}

func ebEvent(id string) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": "OrderPlaced", "source": "shop",
		"account": "000000000000", "time": "2026-11-25T23:00:00Z", "region": "us-east-1", "resources": []string{},
		"detail": map[string]any{"orderId": "o-8"}})
	return string(b)
}

// TestStepFunctionsChain follows a workflow over two Lambda tasks: the
// execution's input carries the injected correlation field, each task
// consumes step n and hands step n+1 on in its result, which Step
// Functions passes to the next task.
func TestStepFunctionsChain(t *testing.T) {
	h := newHarness(t)
	starter := h.function(t, "checkout")
	reserve := h.function(t, "reserve-stock")
	charge := h.function(t, "charge-card")
	entry, _, err := starter.invoke(t, "req-sfn-start", `{}`, func(ctx context.Context, _ json.RawMessage) (any, error) {
		_, err := sfn.NewFromConfig(starter.cfg).StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:fulfil"), Input: aws.String(`{"orderId":"o-21"}`)})
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.aws.mu.Lock()
	input := h.aws.lastSFN
	h.aws.mu.Unlock()
	echo := func(ctx context.Context, raw json.RawMessage) (any, error) {
		var v map[string]any
		err := json.Unmarshal(raw, &v)
		v["done"] = true
		return v, err
	}
	first, out, err := reserve.invoke(t, "req-sfn-1", input, echo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"step":1`) {
		t.Fatalf("task result does not hand on step 1: %s", out)
	}
	second, _, err := charge.invoke(t, "req-sfn-2", string(out), echo)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := h.cor.Transaction(t.Context(), second)
	if err != nil {
		t.Fatal(err)
	}
	checkJoined(t, tx, []model.TraceID{entry, first}, second)
	if len(tx.Edges) != 2 {
		t.Fatalf("edges %+v, want start → reserve → charge", tx.Edges)
	}
	for i, want := range [][2]model.TraceID{{entry, first}, {first, second}} {
		e := tx.Edges[i]
		if e.ProducerTraceID != want[0] || e.ConsumerTraceID != want[1] || e.Channel != "sfn" || !e.LagKnown {
			t.Errorf("edge %d: %s → %s %s, want %s → %s sfn", i, e.ProducerTraceID, e.ConsumerTraceID, e.Channel, want[0], want[1])
		}
	}
	if n := len(tx.CriticalPath); n == 0 || tx.CriticalPath[0].TraceID != entry {
		t.Errorf("critical path %+v does not start at the execution's starter", tx.CriticalPath)
	}
}
