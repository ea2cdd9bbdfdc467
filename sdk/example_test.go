package ariadne_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	ariadne "github.com/ariadnehq/ariadne/sdk"
)

func handler(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
}

// The whole setup for a Lambda function.
func ExampleStart() {
	// In main, instead of lambda.Start(handler):
	ariadne.Start(handler)
}

// Keeping the SDK instance to instrument logs (and, with the awsv2
// package, AWS clients) as well.
func ExampleSDK_Wrap() {
	sdk, err := ariadne.New(context.Background(), ariadne.WithService("checkout"))
	if err != nil {
		slog.Error("ariadne settings", "err", err) // the SDK still works
	}
	log := slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo))
	_ = log
	lambda.Start(sdk.Wrap(handler))
}

// An SQS consumer that reports partial batch failures, each message traced
// under its own processing span.
func ExampleProcessSQS() {
	sdk, _ := ariadne.New(context.Background())
	lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return ariadne.ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error {
			// ctx carries this message's span: calls made with it are
			// traced under the message.
			return nil
		}), nil
	}))
}

// A plain HTTP service.
func ExampleSDK_HTTPHandler() {
	sdk, _ := ariadne.New(context.Background())
	defer sdk.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	client := &http.Client{Transport: sdk.HTTPTransport(nil)} // outgoing calls carry traceparent
	_ = client
	_ = http.ListenAndServe("127.0.0.1:8080", sdk.HTTPHandler(mux))
}
