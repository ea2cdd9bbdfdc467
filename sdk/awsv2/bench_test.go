package awsv2_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	ariadne "github.com/ariadnehq/ariadne/sdk"
	"github.com/ariadnehq/ariadne/sdk/awsv2"
)

// BenchmarkSendMessage is one SQS SendMessage against a local server,
// without and with the instrumentation (span, payload capture, trace
// context injection, producer ID).
func BenchmarkSendMessage(b *testing.B) {
	srv := httptest.NewServer(&fakeAWS{t: b})
	defer srv.Close()
	base := aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/1/orders"), MessageBody: aws.String(`{"orderId":"o-1","qty":2}`)}
	run := func(b *testing.B, cfg aws.Config) {
		c := sqs.NewFromConfig(cfg)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.SendMessage(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("plain", func(b *testing.B) { run(b, base) })
	b.Run("instrumented", func(b *testing.B) {
		s, err := ariadne.New(context.Background(), ariadne.WithGetenv(func(string) string { return "" }),
			ariadne.WithoutGlobal(), ariadne.WithSpanExporter(tracetest.NewNoopExporter()))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		cfg := base.Copy()
		awsv2.Instrument(&cfg, s)
		run(b, cfg)
	})
}
