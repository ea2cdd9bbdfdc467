// Command orders is a small Lambda function instrumented with the Ariadne
// SDK, for the demo and for end-to-end tests: behind API Gateway (HTTP API)
// it accepts an order, logs it, sends it to SQS through an instrumented
// aws-sdk-go-v2 client, and answers 201. Behind SQS it processes each
// message under its own span and reports partial batch failures.
//
// Settings: ARIADNE_* (see sdk/README.md); ORDERS_QUEUE_URL, the queue to
// send to (unset: nothing is sent); AWS_ENDPOINT_URL, an endpoint for all
// AWS calls (a local emulator); AWS_REGION and the usual credentials
// variables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

type order struct {
	ID    string `json:"orderId"`
	Item  string `json:"item"`
	Qty   int    `json:"qty"`
	Email string `json:"email,omitempty"`
}

type app struct {
	log   *slog.Logger
	sqs   *sqs.Client
	queue string
}

func main() {
	sdk, err := ariadne.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	cfg := awsConfig()
	awsv2.Instrument(&cfg, sdk)
	a := &app{
		log:   slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo)),
		sqs:   sqs.NewFromConfig(cfg),
		queue: os.Getenv("ORDERS_QUEUE_URL"),
	}
	lambda.Start(sdk.Wrap(a.handle))
}

// awsConfig reads what the demo needs from the environment without pulling
// in aws-sdk-go-v2/config.
func awsConfig() aws.Config {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{
				AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
				SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
				SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
			}, nil
		}),
		RetryMaxAttempts: 2,
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg
}

// handle serves both triggers; the raw event decides which.
func (a *app) handle(ctx context.Context, raw json.RawMessage) (any, error) {
	switch ariadne.ParseTrigger(raw).Kind {
	case ariadne.TriggerSQS, ariadne.TriggerSNSViaSQS:
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode sqs event: %w", err)
		}
		return ariadne.ProcessSQS(ctx, ev, a.process), nil
	default:
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("decode http event: %w", err)
		}
		return a.accept(ctx, req)
	}
}

func (a *app) accept(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var o order
	if err := json.Unmarshal([]byte(req.Body), &o); err != nil || o.ID == "" {
		return events.APIGatewayV2HTTPResponse{StatusCode: 400, Body: `{"error":"bad order"}`}, nil
	}
	a.log.InfoContext(ctx, "order accepted", "orderId", o.ID, "qty", o.Qty)
	if a.queue != "" {
		out, err := a.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(a.queue), MessageBody: aws.String(req.Body)})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("send order %s: %w", o.ID, err)
		}
		a.log.InfoContext(ctx, "order queued", "orderId", o.ID, "messageId", aws.ToString(out.MessageId))
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: `{"orderId":"` + o.ID + `"}`,
		Headers: map[string]string{"Content-Type": "application/json"}}, nil
}

func (a *app) process(ctx context.Context, m events.SQSMessage) error {
	var o order
	if err := json.Unmarshal([]byte(m.Body), &o); err != nil {
		return fmt.Errorf("decode order: %w", err)
	}
	if o.Qty <= 0 {
		a.log.WarnContext(ctx, "order rejected", "orderId", o.ID, "qty", o.Qty)
		return errors.New("quantity must be positive")
	}
	a.log.InfoContext(ctx, "order processed", "orderId", o.ID)
	return nil
}
