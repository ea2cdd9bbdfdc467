// Command fn is the test application of the detectors' scenario test: one
// binary, wrapped by Ariadne's SDK with its AWS clients instrumented, whose
// role (ROLE) and event choose the fault it injects for real:
//
//	api     {"action":"ok"}      answers
//	        {"action":"fail"}    returns "charge order <id>: card declined (code <n>)"
//	        {"action":"slow"}    DynamoDB Query against a server that never answers (timeout)
//	        {"action":"hog"}     touches 400 MB (killed for memory)
//	        {"action":"crash"}   exits without answering
//	        {"action":"enqueue","kind":K}  sends {"kind":K} to the SQS queue "jobs"
//	        {"action":"order","body":{…}}  sends {"kind":"order", …body} to "jobs"
//	        {"action":"sleep","ms":N}       sleeps
//	        {"action":"invoke","target":F}  invokes function F synchronously (throttled
//	                                        when F is at its reserved concurrency)
//	worker  SQS batch: body {"kind":"order"} without a number "amount" fails,
//	        {"kind":"poison"} always fails, {"kind":"flaky"}
//	        fails on its first receive, {"kind":"charge","id":I} writes the
//	        order item to DynamoDB and then fails on its first receive (the
//	        charge that runs twice); failures go to batchItemFailures
//	sink    SQS batch (the dead-letter queue): accepts everything
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

type request struct {
	Action string         `json:"action"`
	ID     string         `json:"id"`
	Code   int            `json:"code"`
	Kind   string         `json:"kind"`
	MS     int            `json:"ms"`
	Target string         `json:"target"`
	Body   map[string]any `json:"body"`
}

type fn struct {
	ddb *dynamodb.Client
	sqs *sqs.Client
	sns *sns.Client
	lam *awslambda.Client
}

var hoard [][]byte

func main() {
	// INIT_MS makes every cold start that much slower (heavy initialisation).
	if ms, _ := strconv.Atoi(os.Getenv("INIT_MS")); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	sdk, err := ariadne.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	cfg := aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
		RetryMaxAttempts: 1,
	}
	awsv2.Instrument(&cfg, sdk)
	f := &fn{
		ddb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
		}),
		sqs: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_SQS")) }),
		sns: sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_SNS")) }),
		lam: awslambda.NewFromConfig(cfg, func(o *awslambda.Options) {
			o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_LAMBDA"))
		}),
	}
	switch os.Getenv("ROLE") {
	case "sink":
		lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return ariadne.ProcessSQS(ctx, ev, func(context.Context, events.SQSMessage) error { return nil }), nil
		}))
	case "subscriber":
		// Orders published on a topic, delivered through a queue in SNS's
		// envelope; an order without an amount can't be billed.
		lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return ariadne.ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error {
				var env struct{ Message string }
				var order struct {
					Amount *float64 `json:"amount"`
				}
				if json.Unmarshal([]byte(m.Body), &env) != nil || json.Unmarshal([]byte(env.Message), &order) != nil {
					return fmt.Errorf("message %s is not an SNS notification of an order", m.MessageId)
				}
				if order.Amount == nil {
					return errors.New("bill order: amount missing")
				}
				return nil
			}), nil
		}))
	case "worker":
		lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return ariadne.ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error {
				var job struct {
					Kind, ID string
					Amount   *float64 `json:"amount"`
				}
				_ = json.Unmarshal([]byte(m.Body), &job)
				if job.Kind == "order" && job.Amount == nil {
					return errors.New("bill order: amount missing")
				}
				if job.Kind == "charge" {
					_, err := f.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("charges"), Item: map[string]types.AttributeValue{
						"orderId": &types.AttributeValueMemberS{Value: job.ID}, "amount": &types.AttributeValueMemberN{Value: "42"}}})
					if err != nil {
						return fmt.Errorf("record charge: %w", err)
					}
					if m.Attributes["ApproximateReceiveCount"] == "1" {
						return errors.New("payment gateway timeout")
					}
					return nil
				}
				switch {
				case job.Kind == "poison":
					return fmt.Errorf("job %s failed: poison input", m.MessageId)
				case job.Kind == "flaky" && m.Attributes["ApproximateReceiveCount"] == "1":
					return errors.New("upstream busy, try again")
				}
				return nil
			}), nil
		}))
	default:
		lambda.Start(sdk.Wrap(f.api))
	}
}

func (f *fn) api(ctx context.Context, req request) (map[string]string, error) {
	switch req.Action {
	case "fail":
		return nil, fmt.Errorf("charge order %s: card declined (code %d)", req.ID, req.Code)
	case "slow":
		_, err := f.ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: req.ID}}})
		if err != nil {
			time.Sleep(5 * time.Second) // as slow code does: past the deadline
		}
		return nil, err
	case "enqueue":
		q, err := f.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
		if err != nil {
			return nil, fmt.Errorf("find queue jobs: %w", err)
		}
		body, _ := json.Marshal(map[string]string{"kind": req.Kind})
		if _, err := f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(string(body))}); err != nil {
			return nil, fmt.Errorf("enqueue job: %w", err)
		}
	case "order":
		q, err := f.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
		if err != nil {
			return nil, fmt.Errorf("find queue jobs: %w", err)
		}
		req.Body["kind"] = "order"
		body, _ := json.Marshal(req.Body)
		if _, err := f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(string(body))}); err != nil {
			return nil, fmt.Errorf("send order: %w", err)
		}
	case "publish":
		body, _ := json.Marshal(req.Body)
		if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(os.Getenv("ORDER_EVENTS_TOPIC")), Message: aws.String(string(body))}); err != nil {
			return nil, fmt.Errorf("publish order: %w", err)
		}
	case "sleep":
		time.Sleep(time.Duration(req.MS) * time.Millisecond)
	case "invoke":
		out, err := f.lam.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(req.Target), Payload: []byte(`{"action":"ok"}`)})
		if err != nil {
			return nil, fmt.Errorf("invoke %s: %w", req.Target, err)
		}
		return map[string]string{"answer": string(out.Payload)}, nil
	case "hog":
		time.Sleep(300 * time.Millisecond) // let the start marker leave
		for range 400 {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			hoard = append(hoard, b)
		}
	case "crash":
		time.Sleep(300 * time.Millisecond)
		os.Exit(3)
	}
	return map[string]string{"ok": req.Action}, nil
}
