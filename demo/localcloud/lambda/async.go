package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"time"
)

// maxPendingAsync bounds the events queued for asynchronous invocation.
const maxPendingAsync = 10000

// InvokeAsync queues an asynchronous (Event) invocation and returns its
// request id at once. Lambda's retry policy applies: a function error is
// retried MaxRetryAttempts times (default 2) after RetryDelays; a throttle
// is retried until MaxEventAge. Afterwards the event goes to the on-success
// or on-failure destination and, on failure, to the dead-letter target.
// Every attempt reuses the request id, as on Lambda.
func (s *Service) InvokeAsync(ctx context.Context, in InvokeInput) (string, error) {
	fn, err := s.lookup(in.Function)
	if err != nil {
		return "", fmt.Errorf("invoke async: %w", err)
	}
	if len(in.Payload) > maxAsyncPayload {
		return "", fmt.Errorf("invoke async %s: %w", fn.cfg.Name, ErrTooLarge)
	}
	if s.pending.Add(1) > maxPendingAsync {
		s.pending.Add(-1)
		return "", fmt.Errorf("invoke async %s: %w", fn.cfg.Name, ErrThrottled)
	}
	if in.TraceHeader == "" {
		in.TraceHeader = newTraceHeader()
	}
	in.Payload = append([]byte(nil), in.Payload...)
	id := newRequestID()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.pending.Add(-1)
		s.runAsync(fn, in, id)
	}()
	return id, nil
}

func (s *Service) runAsync(fn *function, in InvokeInput, id string) {
	queued := time.Now()
	cfg := fn.cfg.Async
	for attempt := 1; ; {
		res, err := s.invoke(s.ctx, fn, in, id, attempt, true)
		switch {
		case errors.Is(err, ErrThrottled):
			if time.Since(queued) > cfg.MaxEventAge {
				s.asyncFailed(fn, in, id, attempt-1, nil, "EventAgeExceeded")
				return
			}
			if !sleep(s.ctx, s.set.ThrottleRetryDelay) {
				return
			}
			continue
		case err != nil:
			return // service closing
		case res.Status == StatusOK:
			if cfg.OnSuccess != "" {
				s.deliver(cfg.OnSuccess, s.invocationRecord(fn, in, id, attempt, res, "Success"), nil)
			}
			return
		}
		if attempt > *cfg.MaxRetryAttempts {
			s.asyncFailed(fn, in, id, attempt, res, "RetriesExhausted")
			return
		}
		if time.Since(queued) > cfg.MaxEventAge {
			s.asyncFailed(fn, in, id, attempt, res, "EventAgeExceeded")
			return
		}
		delay := s.set.RetryDelays[min(attempt-1, len(s.set.RetryDelays)-1)]
		if !sleep(s.ctx, delay) {
			return
		}
		attempt++
	}
}

func (s *Service) asyncFailed(fn *function, in InvokeInput, id string, attempts int, res *Result, condition string) {
	cfg := fn.cfg.Async
	if cfg.OnFailure != "" {
		s.deliver(cfg.OnFailure, s.invocationRecord(fn, in, id, attempts, res, condition), nil)
	}
	if cfg.DeadLetterTarget != "" {
		attrs := map[string]string{"RequestID": id, "ErrorCode": "200", "ErrorMessage": condition}
		if res != nil {
			var doc struct {
				ErrorMessage string `json:"errorMessage"`
			}
			if json.Unmarshal(res.Payload, &doc) == nil && doc.ErrorMessage != "" {
				attrs["ErrorMessage"] = doc.ErrorMessage
			}
		}
		s.deliver(cfg.DeadLetterTarget, in.Payload, attrs)
	}
}

// invocationRecord builds the document Lambda sends to a destination.
func (s *Service) invocationRecord(fn *function, in InvokeInput, id string, attempts int, res *Result, condition string) []byte {
	doc := map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId": id, "functionArn": fn.arn + ":$LATEST",
			"condition": condition, "approximateInvokeCount": attempts,
		},
		"requestPayload": rawOrString(in.Payload),
	}
	if res != nil {
		rc := map[string]any{"statusCode": 200, "executedVersion": "$LATEST"}
		if res.FunctionError != "" {
			rc["functionError"] = res.FunctionError
		}
		doc["responseContext"] = rc
		doc["responsePayload"] = rawOrString(res.Payload)
	}
	return mustJSON(doc)
}

func rawOrString(b []byte) any {
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	return string(b)
}

func (s *Service) deliver(arn string, body []byte, attrs map[string]string) {
	if s.set.Deliver == nil {
		s.set.Logger.Warn("no destination delivery configured", "target", arn)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.set.Deliver(ctx, arn, body, attrs); err != nil {
		s.set.Logger.Error("deliver to destination", "target", arn, "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
