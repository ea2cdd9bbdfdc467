// Command checkout-api is the shop's front door: an HTTP API (API Gateway
// HTTP API event) that accepts an order, sends the charge command to the
// SQS queue "payments" and publishes the order-placed event on the SNS
// topic "orders". ORDER_SCHEMA=2 is the "new release" that renames amount
// to total — the producer deploy that breaks the payment consumer.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/demo/shop/internal/order"
	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

type handler struct {
	sns      *sns.Client
	sqs      *sqs.Client
	topic    string
	queue    string // name of the payments queue
	queueURL string // resolved on the first order
	schema   string
	log      *slog.Logger
}

func main() {
	ctx := context.Background()
	sdk, err := ariadne.New(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	cfg, err := order.AWSConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	awsv2.Instrument(&cfg, sdk)
	h := &handler{sns: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), topic: os.Getenv("ORDERS_TOPIC_ARN"),
		queue: os.Getenv("PAYMENTS_QUEUE"), schema: os.Getenv("ORDER_SCHEMA"),
		log: slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo))}
	lambda.Start(sdk.Wrap(h.handle))
}

func reply(status int, v any) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(v)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: string(b), Headers: map[string]string{"content-type": "application/json"}}
}

func (h *handler) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var o order.Order
	if err := json.Unmarshal([]byte(req.Body), &o); err != nil {
		return reply(400, map[string]string{"error": "malformed order: " + err.Error()}), nil
	}
	if o.OrderID == "" || len(o.Items) == 0 {
		return reply(400, map[string]string{"error": "an order needs an orderId and items"}), nil
	}
	o.PlacedAt = time.Now().UTC().Format(time.RFC3339Nano)
	if h.schema == "2" {
		// Release 2.0 "cleaned up" the payload: amount is now total.
		o.Total, o.Amount = o.Amount, nil
	}
	body, err := json.Marshal(o)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("encode order %s: %w", o.OrderID, err)
	}
	if h.queueURL == "" {
		q, err := h.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(h.queue)})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("find queue %s: %w", h.queue, err)
		}
		h.queueURL = aws.ToString(q.QueueUrl)
	}
	if _, err := h.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(h.queueURL), MessageBody: aws.String(string(body))}); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("request payment of order %s: %w", o.OrderID, err)
	}
	if _, err := h.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(h.topic), Message: aws.String(string(body))}); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("publish order %s: %w", o.OrderID, err)
	}
	h.log.InfoContext(ctx, "order accepted", "orderId", o.OrderID, "items", len(o.Items))
	return reply(202, map[string]string{"orderId": o.OrderID, "traceId": trace.SpanContextFromContext(ctx).TraceID().String()}), nil
}
