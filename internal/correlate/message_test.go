package correlate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ariadnehq/ariadne/internal/correlate"
	ariadne "github.com/ariadnehq/ariadne/sdk"
)

type sqsRec struct {
	id, body string
	receives int
}

// sqsEventRC is an SQS event with receive counts, its fields in the order
// Lambda sends them (the message id before the body).
func sqsEventRC(queue string, recs []sqsRec) string {
	var ev events.SQSEvent
	for _, r := range recs {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: r.id, ReceiptHandle: "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq" + fmt.Sprint(r.receives), Body: r.body,
			Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(r.receives), "SentTimestamp": "1764111600000",
				"SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1764111600010"},
			MessageAttributes: map[string]events.SQSMessageAttribute{}, Md5OfBody: md5hex(r.body), EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:" + queue, AWSRegion: "us-east-1",
		})
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// sqsHandler processes each message with ariadne.ProcessSQS (one span per
// message, batchItemFailures for the ones fail rejects) and fails the
// whole invocation when failAll is set.
func sqsHandler(fail func(events.SQSMessage) bool, failAll bool) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		if failAll {
			return nil, errors.New("payment service unavailable")
		}
		return ariadne.ProcessSQS(ctx, ev, func(ctx context.Context, m events.SQSMessage) error {
			if fail(m) {
				return errors.New("invalid order")
			}
			return nil
		}), nil
	}
}

// TestMessageLife follows three messages of one batch send: A and C are
// processed at once; B is reported in batchItemFailures, fails again on its
// second delivery, is redriven to the dead-letter queue and processed from
// there. The life of each, and the state after every step, come from the
// store alone.
func TestMessageLife(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	prod := h.function(t, "checkout")
	worker := h.function(t, "fulfil")
	dlq := h.function(t, "fulfil-dlq")

	bodies := []string{`{"orderId":"order-11"}`, `{"orderId":"order-77"}`, `{"orderId":"order-13"}`}
	producer, _, err := prod.invoke(t, "req-checkout", `{}`, func(ctx context.Context, _ json.RawMessage) (any, error) {
		var ents []sqstypes.SendMessageBatchRequestEntry
		for i, b := range bodies {
			ents = append(ents, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
		}
		_, err := sqsClient(prod).SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: ents})
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := h.aws.take("sqs")
	a, b, c := ids[0], ids[1], ids[2]

	state := func(id string) *correlate.Message {
		t.Helper()
		m, err := h.cor.Message(ctx, id)
		if err != nil {
			t.Fatalf("Message(%s): %v", id, err)
		}
		return m
	}
	if m := state(b); m.State != correlate.MessageProduced || len(m.Producers) != 1 || m.Producers[0].TraceID != producer {
		t.Fatalf("before delivery: state %q, producers %+v", m.State, m.Producers)
	}

	// Attempt 1: the batch of three; B is a batch item failure.
	_, _, err = worker.invoke(t, "req-fulfil-1", sqsEventRC("orders", []sqsRec{{a, bodies[0], 1}, {b, bodies[1], 1}, {c, bodies[2], 1}}),
		sqsHandler(func(m events.SQSMessage) bool { return m.MessageId == b }, false))
	if err != nil {
		t.Fatal(err)
	}
	if m := state(b); m.State != correlate.MessagePartiallyFailed || len(m.Attempts) != 1 || m.Attempts[0].Outcome != correlate.OutcomeBatchItemFailure {
		t.Fatalf("after attempt 1: state %q attempts %+v", m.State, m.Attempts)
	}
	for _, id := range []string{a, c} {
		if m := state(id); m.State != correlate.MessageProcessed || len(m.Attempts) != 1 || m.Attempts[0].Attempt != 1 {
			t.Errorf("message %s: state %q attempts %+v, want processed once", id, m.State, m.Attempts)
		}
	}

	// Attempt 2: B alone, and the whole invocation fails.
	_, _, _ = worker.invoke(t, "req-fulfil-2", sqsEventRC("orders", []sqsRec{{b, bodies[1], 2}}), sqsHandler(nil, true))
	if m := state(b); m.State != correlate.MessageFailed || len(m.Attempts) != 2 || m.Attempts[1].Attempt != 2 || m.Attempts[1].Outcome != correlate.OutcomeError {
		t.Fatalf("after attempt 2: state %q attempts %+v", m.State, m.Attempts)
	}

	// Redriven to the DLQ with the same message id, and processed there.
	_, _, err = dlq.invoke(t, "req-dlq-1", sqsEventRC("orders-dlq", []sqsRec{{b, bodies[1], 1}}),
		sqsHandler(func(events.SQSMessage) bool { return false }, false))
	if err != nil {
		t.Fatal(err)
	}
	m := state(b)
	if m.State != correlate.MessageDeadLettered || m.DeadLetter != "orders-dlq" || len(m.Attempts) != 3 {
		t.Fatalf("after redrive: state %q dead letter %q, %d attempts", m.State, m.DeadLetter, len(m.Attempts))
	}
	if m.Channel != "sqs" || m.Destination != "orders" || len(m.TraceIDs) != 4 {
		t.Errorf("channel %q destination %q traces %d", m.Channel, m.Destination, len(m.TraceIDs))
	}
	for i, want := range []string{"fulfil", "fulfil", "fulfil-dlq"} {
		if m.Attempts[i].Function != want {
			t.Errorf("attempt %d by %q, want %q", i+1, m.Attempts[i].Function, want)
		}
	}

	// By a value inside the payload.
	found, err := h.cor.SearchMessages(ctx, "order-77", storeRange(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].MessageID != b || found[0].Channel != "sqs" {
		t.Fatalf("SearchMessages(order-77) = %+v, want message %s", found, b)
	}

	// The transaction: producer, two attempts and the DLQ consumer; one
	// attempt failed, so the transaction failed although checkout was fine.
	tx, err := h.cor.Transaction(ctx, producer)
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Traces) != 4 || tx.Status != correlate.StatusError || tx.FailedTraces < 1 {
		t.Fatalf("transaction: %d traces, status %q, %d failed", len(tx.Traces), tx.Status, tx.FailedTraces)
	}
	if tx.Traces[0].TraceID != producer || tx.Traces[0].Status != correlate.StatusOK {
		t.Errorf("entry trace %s status %s, want checkout ok", tx.Traces[0].TraceID, tx.Traces[0].Status)
	}

	// Search: by message id, by channel, failed only.
	for _, q := range []correlate.TransactionQuery{
		{MessageID: b}, {Channel: "orders-dlq"}, {Channel: "sqs"}, {FailedOnly: true}, {MessageID: "sqs:" + a, FailedOnly: true},
	} {
		q.TimeRange = storeRange()
		res, err := h.cor.Transactions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].TraceID != producer || res[0].TraceCount != 4 || res[0].Status != correlate.StatusError {
			t.Errorf("Transactions(%+v) = %+v, want the one transaction", q, res)
		}
	}
	res, err := h.cor.Transactions(ctx, correlate.TransactionQuery{TimeRange: storeRange(), Channel: "no-such-queue"})
	if err != nil || len(res) != 0 {
		t.Errorf("Transactions(unknown channel) = %+v, %v", res, err)
	}
	if _, err := h.cor.Message(ctx, "no-such-message"); !correlate.IsNotFound(err) {
		t.Errorf("Message(unknown) = %v, want not found", err)
	}
}
