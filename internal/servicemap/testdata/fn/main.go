// Command fn is the test application of the service map acceptance test:
// one binary, four Lambda functions chosen by ROLE, each wrapped by the
// Ariadne SDK with its AWS clients instrumented.
//
//	api       API Gateway (HTTP API) → publishes the order to SNS TOPIC_ARN,
//	          logs it, answers 200 with its own trace id
//	billing   SQS (SNS envelope) → writes invoices/<orderId>.json to S3
//	shipping  SQS (SNS envelope) → logs a shipment
//	render    S3 notification → fails for an order id containing "fail"
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"go.opentelemetry.io/otel/trace"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

type order struct {
	ID     string `json:"orderId"`
	Amount int    `json:"amount"`
}

type fn struct {
	log *slog.Logger
	sns *sns.Client
	s3  *s3.Client
}

func main() {
	sdk, err := ariadne.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	cfg := aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}, nil
		}),
		RetryMaxAttempts: 1,
	}
	awsv2.Instrument(&cfg, sdk)
	f := &fn{
		log: slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo)),
		sns: sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_SNS")) }),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_S3"))
			o.UsePathStyle = true
		}),
	}
	switch role := os.Getenv("ROLE"); role {
	case "api":
		lambda.Start(sdk.Wrap(f.api))
	case "billing", "shipping":
		lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return ariadne.ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error { return f.queued(ctx, role, m) }), nil
		}))
	case "render":
		lambda.Start(sdk.Wrap(f.render))
	default:
		fmt.Fprintln(os.Stderr, "unknown ROLE", role)
		os.Exit(2)
	}
}

func (f *fn) api(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var o order
	if err := json.Unmarshal([]byte(req.Body), &o); err != nil || o.ID == "" {
		return events.APIGatewayV2HTTPResponse{StatusCode: 400, Body: `{"error":"bad order"}`}, nil
	}
	f.log.InfoContext(ctx, "order accepted", "orderId", o.ID, "amount", o.Amount)
	if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(os.Getenv("TOPIC_ARN")), Message: aws.String(req.Body)}); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("publish order %s: %w", o.ID, err)
	}
	body, _ := json.Marshal(map[string]string{"orderId": o.ID, "traceId": trace.SpanContextFromContext(ctx).TraceID().String()})
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(body)}, nil
}

// queued handles one SQS message carrying an SNS envelope.
func (f *fn) queued(ctx context.Context, role string, m events.SQSMessage) error {
	var env struct{ Message string }
	if err := json.Unmarshal([]byte(m.Body), &env); err != nil {
		return fmt.Errorf("decode envelope: %w", err)
	}
	var o order
	if err := json.Unmarshal([]byte(env.Message), &o); err != nil {
		return fmt.Errorf("decode order: %w", err)
	}
	if role == "shipping" {
		f.log.InfoContext(ctx, "shipment planned", "orderId", o.ID)
		return nil
	}
	invoice, _ := json.Marshal(map[string]any{"orderId": o.ID, "amount": o.Amount})
	_, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("invoices"), Key: aws.String("invoices/" + o.ID + ".json"),
		Body: strings.NewReader(string(invoice))})
	if err != nil {
		return fmt.Errorf("store invoice %s: %w", o.ID, err)
	}
	f.log.InfoContext(ctx, "invoice stored", "orderId", o.ID)
	return nil
}

func (f *fn) render(ctx context.Context, ev events.S3Event) error {
	for _, r := range ev.Records {
		f.log.InfoContext(ctx, "rendering", "key", r.S3.Object.Key)
		if strings.Contains(r.S3.Object.Key, "fail") {
			return errors.New("render invoice: corrupt template")
		}
	}
	return nil
}
