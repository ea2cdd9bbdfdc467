package awsv2

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/sdk/internal/refs"
)

// maxMessageAttributes is the SQS and SNS limit; injecting an eleventh
// attribute would make the caller's send fail.
const maxMessageAttributes = 10

func messaging(c *call, system, dest string) {
	c.attrs = append(c.attrs,
		attribute.String("messaging.system", system),
		attribute.String("messaging.destination.name", dest),
	)
	if c.kind == trace.SpanKindProducer {
		c.attrs = append(c.attrs, attribute.String("messaging.operation.type", "publish"))
	}
}

// --- SQS ---

func sqsAttrs(in map[string]sqstypes.MessageAttributeValue, tp string) map[string]sqstypes.MessageAttributeValue {
	if tp == "" || len(in) >= maxMessageAttributes {
		return in
	}
	for k := range in {
		if strings.EqualFold(k, "traceparent") {
			return in
		}
	}
	out := make(map[string]sqstypes.MessageAttributeValue, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out["traceparent"] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(tp)}
	return out
}

func (t *tracer) beforeSQS(_ context.Context, span trace.Span, params any, c *call) {
	tp := traceparent(span)
	switch in := params.(type) {
	case *sqs.SendMessageInput:
		messaging(c, "aws_sqs", refs.LastSegment(aws.ToString(in.QueueUrl)))
		cp := *in
		cp.MessageAttributes = sqsAttrs(in.MessageAttributes, tp)
		c.params = &cp
	case *sqs.SendMessageBatchInput:
		messaging(c, "aws_sqs", refs.LastSegment(aws.ToString(in.QueueUrl)))
		c.attrs = append(c.attrs, attribute.Int("messaging.batch.message_count", len(in.Entries)))
		cp := *in
		cp.Entries = make([]sqstypes.SendMessageBatchRequestEntry, len(in.Entries))
		for i, e := range in.Entries {
			e.MessageAttributes = sqsAttrs(e.MessageAttributes, tp)
			cp.Entries[i] = e
		}
		c.params = &cp
	case *sqs.ReceiveMessageInput:
		messaging(c, "aws_sqs", refs.LastSegment(aws.ToString(in.QueueUrl)))
	case *sqs.DeleteMessageInput:
		messaging(c, "aws_sqs", refs.LastSegment(aws.ToString(in.QueueUrl)))
	}
}

func afterSQS(result any, c *call) {
	switch out := result.(type) {
	case *sqs.SendMessageOutput:
		if out.MessageId != nil {
			c.producer = append(c.producer, refs.SQS(*out.MessageId))
		}
	case *sqs.SendMessageBatchOutput:
		for _, e := range out.Successful {
			if e.MessageId != nil {
				c.producer = append(c.producer, refs.SQS(*e.MessageId))
			}
		}
		if len(out.Failed) > 0 {
			c.attrs = append(c.attrs, attribute.Int("ariadne.batch.failed_count", len(out.Failed)))
		}
	case *sqs.ReceiveMessageOutput:
		c.attrs = append(c.attrs, attribute.Int("messaging.batch.message_count", len(out.Messages)))
	}
}

// --- SNS ---

func snsAttrs(in map[string]snstypes.MessageAttributeValue, tp string) map[string]snstypes.MessageAttributeValue {
	if tp == "" || len(in) >= maxMessageAttributes {
		return in
	}
	for k := range in {
		if strings.EqualFold(k, "traceparent") {
			return in
		}
	}
	out := make(map[string]snstypes.MessageAttributeValue, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out["traceparent"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(tp)}
	return out
}

func (t *tracer) beforeSNS(_ context.Context, span trace.Span, params any, c *call) {
	tp := traceparent(span)
	switch in := params.(type) {
	case *sns.PublishInput:
		dest := aws.ToString(in.TopicArn)
		if dest == "" {
			dest = aws.ToString(in.TargetArn)
		}
		messaging(c, "aws_sns", refs.LastSegment(dest))
		cp := *in
		cp.MessageAttributes = snsAttrs(in.MessageAttributes, tp)
		c.params = &cp
	case *sns.PublishBatchInput:
		messaging(c, "aws_sns", refs.LastSegment(aws.ToString(in.TopicArn)))
		c.attrs = append(c.attrs, attribute.Int("messaging.batch.message_count", len(in.PublishBatchRequestEntries)))
		cp := *in
		cp.PublishBatchRequestEntries = make([]snstypes.PublishBatchRequestEntry, len(in.PublishBatchRequestEntries))
		for i, e := range in.PublishBatchRequestEntries {
			e.MessageAttributes = snsAttrs(e.MessageAttributes, tp)
			cp.PublishBatchRequestEntries[i] = e
		}
		c.params = &cp
	}
}

func afterSNS(result any, c *call) {
	switch out := result.(type) {
	case *sns.PublishOutput:
		if out.MessageId != nil {
			c.producer = append(c.producer, refs.SNS(*out.MessageId))
		}
	case *sns.PublishBatchOutput:
		for _, e := range out.Successful {
			if e.MessageId != nil {
				c.producer = append(c.producer, refs.SNS(*e.MessageId))
			}
		}
		if len(out.Failed) > 0 {
			c.attrs = append(c.attrs, attribute.Int("ariadne.batch.failed_count", len(out.Failed)))
		}
	}
}

// --- Kinesis ---

func beforeKinesis(params any, c *call) {
	switch in := params.(type) {
	case *kinesis.PutRecordInput:
		messaging(c, "aws_kinesis", streamName(in.StreamName, in.StreamARN))
	case *kinesis.PutRecordsInput:
		messaging(c, "aws_kinesis", streamName(in.StreamName, in.StreamARN))
		c.attrs = append(c.attrs, attribute.Int("messaging.batch.message_count", len(in.Records)))
	}
}

func streamName(name, arn *string) string {
	if n := aws.ToString(name); n != "" {
		return n
	}
	return refs.LastSegment(aws.ToString(arn))
}

func afterKinesis(result any, c *call) {
	switch out := result.(type) {
	case *kinesis.PutRecordOutput:
		if out.SequenceNumber != nil {
			c.producer = append(c.producer, refs.Kinesis(aws.ToString(out.ShardId), *out.SequenceNumber))
		}
	case *kinesis.PutRecordsOutput:
		for _, r := range out.Records {
			if r.SequenceNumber != nil {
				c.producer = append(c.producer, refs.Kinesis(aws.ToString(r.ShardId), *r.SequenceNumber))
			}
		}
		if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
			c.attrs = append(c.attrs, attribute.Int("ariadne.batch.failed_count", int(n)))
		}
	}
}

// --- EventBridge ---

func beforeEvents(params any, c *call) {
	if in, ok := params.(*eventbridge.PutEventsInput); ok {
		bus := "default"
		if len(in.Entries) > 0 && aws.ToString(in.Entries[0].EventBusName) != "" {
			bus = refs.LastSegment(aws.ToString(in.Entries[0].EventBusName))
		}
		messaging(c, "aws_eventbridge", bus)
		c.attrs = append(c.attrs, attribute.Int("messaging.batch.message_count", len(in.Entries)))
	}
}

func afterEvents(result any, c *call) {
	if out, ok := result.(*eventbridge.PutEventsOutput); ok {
		for _, e := range out.Entries {
			if e.EventId != nil {
				c.producer = append(c.producer, refs.Events(*e.EventId))
			}
		}
		if n := out.FailedEntryCount; n > 0 {
			c.attrs = append(c.attrs, attribute.Int("ariadne.batch.failed_count", int(n)))
		}
	}
}

// --- S3 ---

func beforeS3(params any, c *call) {
	bucketKey := func(b, k *string) {
		c.attrs = append(c.attrs, attribute.String("aws.s3.bucket", aws.ToString(b)))
		if k != nil {
			c.attrs = append(c.attrs, attribute.String("aws.s3.key", *k))
		}
	}
	switch in := params.(type) {
	case *s3.PutObjectInput:
		// The body is a stream the SDK must send; captureInput skips it.
		bucketKey(in.Bucket, in.Key)
	case *s3.GetObjectInput:
		bucketKey(in.Bucket, in.Key)
	case *s3.CopyObjectInput:
		bucketKey(in.Bucket, in.Key)
	case *s3.CompleteMultipartUploadInput:
		bucketKey(in.Bucket, in.Key)
	case *s3.DeleteObjectInput:
		bucketKey(in.Bucket, in.Key)
	}
}

func afterS3(op string, raw *smithyhttp.Response, c *call) {
	switch op {
	case "PutObject", "CopyObject", "CompleteMultipartUpload":
		// The object-created notification carries this id in
		// responseElements["x-amz-request-id"].
		if raw != nil {
			if id := raw.Header.Get("X-Amz-Request-Id"); id != "" {
				c.producer = append(c.producer, refs.S3(id))
			}
		}
	}
}

// --- Lambda ---

func (t *tracer) beforeLambda(_ context.Context, span trace.Span, params any, c *call) {
	in, ok := params.(*lambda.InvokeInput)
	if !ok {
		return
	}
	c.attrs = append(c.attrs,
		attribute.String("faas.invoked_name", refs.LastSegment(aws.ToString(in.FunctionName))),
		attribute.String("faas.invoked_provider", "aws"),
	)
	c.capture = in.Payload
	if c.capture == nil {
		c.capture = []byte{}
	}
	// A synchronous invoke can carry a client context; the callee's wrapper
	// reads traceparent from it and continues this trace.
	if in.ClientContext == nil && (in.InvocationType == "" || in.InvocationType == "RequestResponse") {
		if tp := traceparent(span); tp != "" {
			b, _ := json.Marshal(map[string]any{"custom": map[string]string{"traceparent": tp}})
			cp := *in
			cp.ClientContext = aws.String(base64.StdEncoding.EncodeToString(b))
			c.params = &cp
		}
	}
}

func afterLambda(op string, raw *smithyhttp.Response, result any, c *call) {
	if op != "Invoke" {
		return
	}
	if raw != nil {
		if id := raw.Header.Get("X-Amzn-Requestid"); id != "" {
			c.producer = append(c.producer, refs.Lambda(id))
		}
	}
	if out, ok := result.(*lambda.InvokeOutput); ok && out.FunctionError != nil {
		c.attrs = append(c.attrs, attribute.String("aws.lambda.function_error", *out.FunctionError))
	}
}

// --- Step Functions ---

func (t *tracer) beforeSFN(params any, c *call) {
	in, ok := params.(*sfn.StartExecutionInput)
	if !ok {
		if s, ok := params.(*sfn.StartSyncExecutionInput); ok {
			c.attrs = append(c.attrs, attribute.String("aws.sfn.state_machine_arn", aws.ToString(s.StateMachineArn)))
		}
		return
	}
	c.attrs = append(c.attrs, attribute.String("aws.sfn.state_machine_arn", aws.ToString(in.StateMachineArn)))
	if !t.sdk.Config().StepFunctionsInjection {
		return
	}
	input := strings.TrimSpace(aws.ToString(in.Input))
	if input == "" {
		input = "{}"
	}
	if input[0] != '{' {
		return
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(input), &obj) != nil {
		return
	}
	if _, present := obj["_ariadne"]; present {
		return
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	corr := hex.EncodeToString(id[:])
	obj["_ariadne"], _ = json.Marshal(map[string]any{"sfn": corr, "step": 0})
	b, err := json.Marshal(obj)
	if err != nil {
		return
	}
	cp := *in
	cp.Input = aws.String(string(b))
	c.params = &cp
	// Recorded before the call: the id is ours, not the response's, and
	// the execution may start even if the response is lost.
	c.producer = append(c.producer, refs.SFN(corr, 0))
}

func afterSFN(result any, c *call) {
	if out, ok := result.(*sfn.StartExecutionOutput); ok && out.ExecutionArn != nil {
		c.attrs = append(c.attrs, attribute.String("aws.sfn.execution_arn", *out.ExecutionArn))
	}
}

// --- DynamoDB ---

func (t *tracer) beforeDynamoDB(params any, c *call) {
	var tables []string
	switch in := params.(type) {
	case *ddb.PutItemInput:
		tables = append(tables, aws.ToString(in.TableName))
	case *ddb.UpdateItemInput:
		tables = append(tables, aws.ToString(in.TableName))
		t.learn(aws.ToString(in.TableName), in.Key)
	case *ddb.DeleteItemInput:
		tables = append(tables, aws.ToString(in.TableName))
		t.learn(aws.ToString(in.TableName), in.Key)
	case *ddb.GetItemInput:
		tables = append(tables, aws.ToString(in.TableName))
		t.learn(aws.ToString(in.TableName), in.Key)
	case *ddb.QueryInput:
		tables = append(tables, aws.ToString(in.TableName))
	case *ddb.ScanInput:
		tables = append(tables, aws.ToString(in.TableName))
	case *ddb.BatchWriteItemInput:
		for tbl, reqs := range in.RequestItems {
			tables = append(tables, tbl)
			for _, r := range reqs {
				if r.DeleteRequest != nil {
					t.learn(tbl, r.DeleteRequest.Key)
				}
			}
		}
	case *ddb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				tables = append(tables, aws.ToString(it.Put.TableName))
			case it.Update != nil:
				tables = append(tables, aws.ToString(it.Update.TableName))
				t.learn(aws.ToString(it.Update.TableName), it.Update.Key)
			case it.Delete != nil:
				tables = append(tables, aws.ToString(it.Delete.TableName))
				t.learn(aws.ToString(it.Delete.TableName), it.Delete.Key)
			}
		}
	}
	sort.Strings(tables)
	tables = compact(tables)
	c.attrs = append(c.attrs, attribute.String("db.system", "dynamodb"))
	if len(tables) > 0 {
		c.attrs = append(c.attrs, attribute.StringSlice("aws.dynamodb.table_names", tables))
	}
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// afterDynamoDB records the stream keys of every successful write: the
// stream record of the change carries the same keys.
func (t *tracer) afterDynamoDB(params any, c *call) {
	switch in := params.(type) {
	case *ddb.PutItemInput:
		c.producer = append(c.producer, t.itemKeys(aws.ToString(in.TableName), in.Item)...)
	case *ddb.UpdateItemInput:
		c.producer = appendKey(c.producer, aws.ToString(in.TableName), in.Key)
	case *ddb.DeleteItemInput:
		c.producer = appendKey(c.producer, aws.ToString(in.TableName), in.Key)
	case *ddb.BatchWriteItemInput:
		for tbl, reqs := range in.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					c.producer = append(c.producer, t.itemKeys(tbl, r.PutRequest.Item)...)
				case r.DeleteRequest != nil:
					c.producer = appendKey(c.producer, tbl, r.DeleteRequest.Key)
				}
			}
		}
	case *ddb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				c.producer = append(c.producer, t.itemKeys(aws.ToString(it.Put.TableName), it.Put.Item)...)
			case it.Update != nil:
				c.producer = appendKey(c.producer, aws.ToString(it.Update.TableName), it.Update.Key)
			case it.Delete != nil:
				c.producer = appendKey(c.producer, aws.ToString(it.Delete.TableName), it.Delete.Key)
			}
		}
	}
}

func (t *tracer) learn(table string, key map[string]ddbtypes.AttributeValue) {
	if table == "" || len(key) == 0 || len(key) > 2 {
		return
	}
	if t.schemas.get(table) != nil {
		return
	}
	names := make([]string, 0, len(key))
	for k := range key {
		names = append(names, k)
	}
	sort.Strings(names)
	t.schemas.set(table, names)
}

func appendKey(dst []string, table string, key map[string]ddbtypes.AttributeValue) []string {
	m := make(map[string]any, len(key))
	for k, v := range key {
		j, ok := avJSON(v)
		if !ok {
			return dst
		}
		m[k] = j
	}
	if k, ok := refs.DynamoDB(table, m); ok {
		dst = append(dst, k)
	}
	return dst
}

// maxCandidates bounds the keys recorded for a PutItem whose key schema is
// unknown: every single scalar attribute and every pair of them, from the
// most key-like names first.
const maxCandidates = 36

func (t *tracer) itemKeys(table string, item map[string]ddbtypes.AttributeValue) []string {
	if schema := t.schemas.get(table); schema != nil {
		key := make(map[string]ddbtypes.AttributeValue, len(schema))
		for _, a := range schema {
			v, ok := item[a]
			if !ok {
				return nil
			}
			key[a] = v
		}
		return appendKey(nil, table, key)
	}
	var names []string
	for k, v := range item {
		if _, ok := avJSON(v); ok {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := keyRank(names[i]), keyRank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	if len(names) > 8 {
		names = names[:8]
	}
	var out []string
	for i, a := range names {
		out = appendKey(out, table, map[string]ddbtypes.AttributeValue{a: item[a]})
		for _, b := range names[i+1:] {
			if len(out) >= maxCandidates {
				return out
			}
			out = appendKey(out, table, map[string]ddbtypes.AttributeValue{a: item[a], b: item[b]})
		}
	}
	return out
}

func keyRank(name string) int {
	n := strings.ToLower(name)
	switch {
	case n == "pk" || n == "sk" || n == "id":
		return 0
	case strings.HasSuffix(n, "id") || strings.HasSuffix(n, "key") || strings.HasPrefix(n, "pk") || strings.HasPrefix(n, "sk"):
		return 1
	}
	return 2
}

// avJSON renders a key attribute (S, N or B) in AttributeValue JSON form.
func avJSON(v ddbtypes.AttributeValue) (map[string]string, bool) {
	switch x := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return map[string]string{"S": x.Value}, true
	case *ddbtypes.AttributeValueMemberN:
		return map[string]string{"N": x.Value}, true
	case *ddbtypes.AttributeValueMemberB:
		return map[string]string{"B": base64.StdEncoding.EncodeToString(x.Value)}, true
	}
	return nil, false
}
