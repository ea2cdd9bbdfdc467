package ariadne

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ProcessSQS runs f once per message of an SQS batch, each under that
// message's processing span, and returns the partial batch response that
// makes SQS redeliver only the messages f failed (the function must enable
// ReportBatchItemFailures on its event source mapping). Go has no
// Powertools batch utility; this is the smallest useful one.
func ProcessSQS(ctx context.Context, ev events.SQSEvent, f func(context.Context, events.SQSMessage) error) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		mctx := MessageContext(ctx, m.MessageId)
		if err := f(mctx, m); err != nil {
			if sp := trace.SpanFromContext(mctx); sp.SpanContext().IsValid() && sp != trace.SpanFromContext(ctx) {
				if inv := invocationFrom(ctx); inv != nil {
					inv.sdk.RecordError(sp, err)
				} else {
					sp.SetStatus(codes.Error, "")
				}
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}
