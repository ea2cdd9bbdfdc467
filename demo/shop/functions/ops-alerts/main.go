// Command ops-alerts drains the dead-letter queue "payments-dlq": every
// payment SQS gave up on is logged for the on-call engineer and kept.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	ariadne "github.com/ariadnehq/ariadne/sdk"
)

func main() {
	sdk, err := ariadne.New(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ariadne:", err)
	}
	log := slog.New(sdk.SlogHandler(slog.NewJSONHandler(os.Stdout, nil), slog.LevelInfo))
	lambda.Start(sdk.Wrap(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return ariadne.ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error {
			log.WarnContext(ctx, "payment dead-lettered: needs a human", "messageId", m.MessageId,
				"receives", m.Attributes["ApproximateReceiveCount"])
			return nil
		}), nil
	}))
}
