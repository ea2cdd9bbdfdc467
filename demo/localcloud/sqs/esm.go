package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Invoker invokes a function synchronously, as an event source mapping
// does. functionError is true when the function ran and failed (error,
// timeout, crash); err is for invocations that did not run (throttled,
// unknown function).
type Invoker func(ctx context.Context, function string, payload []byte, traceHeader string) (response []byte, functionError bool, err error)

// EventSource maps a queue to a function.
type EventSource struct {
	Queue                   string // name, URL or ARN
	Function                string
	BatchSize               int           // 1..10000, default 10
	MaximumBatchingWindow   time.Duration // gather messages this long when the batch is not full
	ReportBatchItemFailures bool          // honour batchItemFailures in the response
	// Pollers is the number of concurrent batches (default 1). Lambda
	// scales pollers with the backlog; here it is fixed.
	Pollers int
	Invoke  Invoker
}

// AddEventSource starts polling a queue for a function. The poller stops
// with Close.
func (s *Service) AddEventSource(es EventSource) error {
	if es.BatchSize == 0 {
		es.BatchSize = 10
	}
	if es.BatchSize < 1 || es.BatchSize > 10000 || es.Invoke == nil || es.Function == "" {
		return fmt.Errorf("add event source %s→%s: batch size 1..10000, a function and an invoker are required", es.Queue, es.Function)
	}
	s.mu.Lock()
	q, err := s.queueLocked(es.Queue)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("add event source %s→%s: %w", es.Queue, es.Function, err)
	}
	for range max(es.Pollers, 1) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.poll(es, q.arn)
		}()
	}
	return nil
}

func (s *Service) poll(es EventSource, arn string) {
	log := s.set.Logger.With("queue", es.Queue, "function", es.Function)
	for s.ctx.Err() == nil {
		batch, err := s.gather(es)
		if err != nil {
			if errors.Is(err, ErrQueueDoesNotExist) || s.ctx.Err() != nil {
				return
			}
			log.Warn("poll queue", "err", err)
			sleepCtx(s.ctx, time.Second)
			continue
		}
		if len(batch) == 0 {
			continue
		}
		payload, err := json.Marshal(lambdaEvent(batch, arn, s.set.Region))
		if err != nil {
			log.Error("encode sqs event", "err", err)
			continue
		}
		resp, fnErr, err := es.Invoke(s.ctx, es.Function, payload, batch[0].Attributes["AWSTraceHeader"])
		if err != nil || fnErr {
			// The messages become visible again after the visibility
			// timeout and are retried until the redrive policy moves them.
			if err != nil {
				log.Debug("invoke from queue", "err", err)
			}
			continue
		}
		failed := map[string]bool{}
		if es.ReportBatchItemFailures {
			failed = batchFailures(resp, batch)
		}
		for _, m := range batch {
			if !failed[m.MessageID] {
				if err := s.Delete(es.Queue, m.ReceiptHandle); err != nil {
					log.Warn("delete processed message", "err", err)
				}
			}
		}
	}
}

// gather receives up to BatchSize messages, long polling for the first and
// collecting more within the batching window.
func (s *Service) gather(es EventSource) ([]Message, error) {
	var batch []Message
	deadline := time.Now().Add(es.MaximumBatchingWindow)
	wait := time.Second
	for {
		msgs, err := s.Receive(s.ctx, es.Queue, ReceiveInput{Max: min(es.BatchSize-len(batch), maxBatchEntries), Wait: wait})
		if err != nil {
			return batch, err
		}
		batch = append(batch, msgs...)
		if len(batch) == 0 || len(batch) >= es.BatchSize || !time.Now().Before(deadline) {
			return batch, nil
		}
		wait = time.Until(deadline)
	}
}

// batchFailures reads a ReportBatchItemFailures response. As on Lambda, an
// unreadable response or an unknown item identifier fails the whole batch.
func batchFailures(resp []byte, batch []Message) map[string]bool {
	all := map[string]bool{}
	for _, m := range batch {
		all[m.MessageID] = true
	}
	if len(resp) == 0 || string(resp) == "null" {
		return nil
	}
	var r events.SQSEventResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return all
	}
	failed := map[string]bool{}
	for _, f := range r.BatchItemFailures {
		if !all[f.ItemIdentifier] {
			return all
		}
		failed[f.ItemIdentifier] = true
	}
	return failed
}

// lambdaEvent shapes received messages as the SQS event Lambda delivers.
func lambdaEvent(batch []Message, arn, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(batch))}
	for _, m := range batch {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, a := range m.MessageAttributes {
			attrs[k] = events.SQSMessageAttribute{
				StringValue: a.StringValue, BinaryValue: a.BinaryValue, DataType: a.DataType,
				StringListValues: orEmpty(a.StringListValues), BinaryListValues: orEmptyB(a.BinaryListValues),
			}
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: m.MessageID, ReceiptHandle: m.ReceiptHandle, Body: m.Body, Md5OfBody: m.MD5OfBody,
			Md5OfMessageAttributes: m.MD5OfMessageAttributes, Attributes: m.Attributes, MessageAttributes: attrs,
			EventSourceARN: arn, EventSource: "aws:sqs", AWSRegion: region,
		})
	}
	return ev
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func orEmptyB(v [][]byte) [][]byte {
	if v == nil {
		return [][]byte{}
	}
	return v
}
