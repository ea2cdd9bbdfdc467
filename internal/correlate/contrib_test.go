package correlate_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/ariadnehq/ariadne/internal/model"
)

// contribFunc is a Lambda handler instrumented only with OpenTelemetry Go
// contrib: otellambda around the handler, otelaws on the AWS clients. No
// Ariadne code runs in the function.
func contribFunc(tp *sdktrace.TracerProvider, h func(ctx context.Context, raw json.RawMessage) (any, error)) func(t *testing.T, reqID, event string) model.TraceID {
	return func(t *testing.T, reqID, event string) model.TraceID {
		t.Helper()
		var tid model.TraceID
		inner := func(ctx context.Context, raw json.RawMessage) (any, error) {
			tid = model.TraceID(trace.SpanContextFromContext(ctx).TraceID())
			if h == nil {
				return map[string]bool{"ok": true}, nil
			}
			return h(ctx, raw)
		}
		// As a contrib user writes it: lambda.Start(otellambda.InstrumentHandler(h, …)).
		handler := lambda.NewHandler(otellambda.InstrumentHandler(inner, otellambda.WithTracerProvider(tp), otellambda.WithFlusher(tp)))
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
			AwsRequestID: reqID, InvokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:contrib",
		})
		if _, err := handler.Invoke(ctx, []byte(event)); err != nil {
			t.Fatalf("invoke: %v", err)
		}
		return tid
	}
}

// TestOTelContribOnly runs functions instrumented with nothing but the
// OpenTelemetry Go contrib packages for aws-lambda-go (otellambda v0.68.0,
// the newest the module proxy serves) and aws-sdk-go-v2 (otelaws v0.72.0,
// deprecated upstream but still the one there is). What they emit decides
// what can join:
//
//   - otelaws records the AWS request id (aws.request_id) of every call and
//     otellambda the invocation's request id (faas.invocation_id): a Lambda
//     Invoke joins the caller to the callee.
//   - otelaws records no SQS or SNS message id and no span link, and
//     otellambda records nothing of the triggering event, so SQS and SNS
//     hops cannot join. They are checked to stay apart, so a future
//     version that emits ids shows up here.
//   - S3: the producer's PutObject request id is recorded, but otellambda
//     does not record the S3 event's responseElements, so the consumer side
//     has no key: the hop does not join either.
func TestOTelContribOnly(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	tp := h.otelProvider(t, "contrib-producer")
	cfg := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint:     aws.String(h.awsURL),
		RetryMaxAttempts: 1,
	}
	otelaws.AppendMiddlewares(&cfg.APIOptions, otelaws.WithTracerProvider(tp), otelaws.WithTextMapPropagator(propagation.TraceContext{}))

	producer := contribFunc(tp, func(ctx context.Context, _ json.RawMessage) (any, error) {
		if _, err := lambdasvc.NewFromConfig(cfg).Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: aws.String("pricing"), Payload: []byte(`{"sku":"A-1"}`)}); err != nil {
			return nil, err
		}
		if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(`{"orderId":"o-1"}`)}); err != nil {
			return nil, err
		}
		if _, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:order-events"), Message: aws.String(`{}`)}); err != nil {
			return nil, err
		}
		_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("invoices"), Key: aws.String("o-1.pdf"), Body: strings.NewReader("%PDF")})
		return nil, err
	})
	entry := producer(t, "req-contrib-entry", `{"source":"test"}`)

	consumers := map[string]model.TraceID{}
	ctp := h.otelProvider(t, "contrib-consumer")
	consumer := contribFunc(ctp, nil)
	consumers["lambda"] = consumer(t, h.aws.take("lambda")[0], `{"sku":"A-1"}`)
	consumers["sqs"] = consumer(t, "req-contrib-sqs", sqsEvent("orders", h.aws.take("sqs"), nil))
	consumers["sns"] = consumer(t, "req-contrib-sns", snsEvent("order-events", h.aws.take("sns")[0]))
	consumers["s3"] = consumer(t, "req-contrib-s3", s3Event("invoices", "o-1.pdf", h.aws.take("s3")[0]))

	tx, err := h.cor.Transaction(ctx, entry)
	if err != nil {
		t.Fatal(err)
	}
	in := map[model.TraceID]bool{}
	for _, ti := range tx.Traces {
		in[ti.TraceID] = true
	}
	for hop, want := range map[string]bool{"lambda": true, "sqs": false, "sns": false, "s3": false} {
		if in[consumers[hop]] != want {
			t.Errorf("%s consumer joined = %v, want %v", hop, in[consumers[hop]], want)
		}
	}
	if len(tx.Edges) != 1 || tx.Edges[0].Channel != "lambda" || tx.Edges[0].ConsumerTraceID != consumers["lambda"] || !tx.Edges[0].LagKnown {
		t.Fatalf("edges %+v, want the one Lambda invoke", tx.Edges)
	}
	if ps := tx.Edges[0].ProducerSpanID; ps.IsZero() {
		t.Error("invoke edge without producer span")
	}
}
