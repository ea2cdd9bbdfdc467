package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Kinds of the detectors that follow messages across hops.
const (
	KindSilentFailure = "silent_async_failure"
	KindDeadLetter    = "dead_letter"
)

// maxWalks bounds the transactions (or message lives) one window builds:
// each is several queries, and a failure storm must not turn a detection
// run into thousands of them. The window's first ones are representative;
// the issue's count then undercounts, which the explanation does not hide.
const maxWalks = 100

func correlator(r store.DetectReader) (*correlate.Correlator, error) {
	cs, ok := r.(correlate.Store)
	if !ok {
		return nil, fmt.Errorf("store %T cannot correlate: %w", r, store.ErrInvalid)
	}
	if _, ok := r.(store.MessageRefReader); !ok {
		return nil, fmt.Errorf("store %T has no message refs: %w", r, store.ErrInvalid)
	}
	return correlate.New(cs, correlate.Settings{MaxTraces: 50, MaxRefs: 2_000, MaxSpans: 2_000}), nil
}

// asyncTriggers are the triggers whose caller does not wait for the
// outcome: a failure there is invisible to whoever started the work.
var asyncTriggers = []string{"sqs", "sns", "sns+sqs", "s3", "kinesis", "dynamodb", "eventbridge"}

// silentDetector finds transactions whose entry succeeded while a later,
// asynchronous hop failed: the user got "OK", the work did not happen.
type silentDetector struct{}

func (silentDetector) Name() string { return "silent.v1" }

func (silentDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{Errors: true}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	// Failed traces of consumers, each once, in time order.
	var failed []model.TraceID
	seen := map[model.TraceID]bool{}
	for i := range spans {
		s := &spans[i]
		if seen[s.TraceID] || !(s.Kind == model.KindConsumer || slices.Contains(asyncTriggers, s.Trigger)) {
			continue
		}
		seen[s.TraceID] = true
		failed = append(failed, s.TraceID)
	}
	if len(failed) == 0 {
		return nil, nil
	}
	c, err := correlator(r)
	if err != nil {
		return nil, err
	}
	g := newGroups()
	examples := map[string]string{}
	done := map[model.TraceID]bool{}
	for i, id := range failed {
		if i == maxWalks {
			break
		}
		if done[id] {
			continue
		}
		tx, err := c.Transaction(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("build transaction of %s: %w", id, err)
		}
		for _, tr := range tx.Traces {
			done[tr.TraceID] = true
		}
		if len(tx.Traces) < 2 {
			continue
		}
		entry := tx.Traces[0]
		if entry.Status != correlate.StatusOK || entry.Missing || entry.TraceID == id {
			continue
		}
		var bad correlate.TraceInfo
		for _, tr := range tx.Traces {
			if tr.TraceID == id {
				bad = tr
			}
		}
		var via string
		for _, e := range tx.Edges {
			if e.ConsumerTraceID == id {
				via = e.Destination
			}
		}
		entryFn := entry.Function
		if entryFn == "" {
			entryFn = entry.RootService
		}
		badFn := bad.Function
		if badFn == "" {
			badFn = bad.RootService
		}
		fp := entryFn + "\x1f" + entry.RootName + "\x1f" + badFn + "\x1f" + via
		at := bad.StartTime + bad.DurationNs
		gr := g.add(KindSilentFailure, fp, at, entry.TraceID, func(o *store.IssueOccurrence) {
			o.Function, o.Channel, o.Severity = entryFn, via, SeverityError
			o.Title = fmt.Sprintf("%s succeeded but %s failed later", entryFn, badFn)
			if via != "" {
				o.Title += " (via " + via + ")"
			}
		})
		gr.extra["hops"] = max(gr.extra["hops"], int64(bad.Depth))
		for _, s := range tx.Spans {
			if s.TraceID == id && s.IsError() && s.ErrorMessage != "" {
				examples[fp] = s.ErrorMessage
			}
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		parts := strings.Split(o.Fingerprint, "\x1f")
		o.Explanation = fmt.Sprintf("Requests to %s (%s) returned success, but the work they handed on failed asynchronously in %s",
			parts[0], parts[1], parts[2])
		if parts[3] != "" {
			o.Explanation += " after passing through " + parts[3]
		}
		if e := examples[o.Fingerprint]; e != "" {
			o.Explanation += fmt.Sprintf(" with %q", truncate(e, 300))
		}
		o.Explanation += fmt.Sprintf(" (last at %s). Nobody who called %s was told; look at the sample traces' transactions.", when(o.Last), parts[0])
	}), nil
}

// dlqMarkers are the destination substrings of dead-letter queues, as
// package correlate recognises them.
var dlqMarkers = []string{"dlq", "dead-letter", "deadletter", "dead_letter"}

// isDeadLetterQueue says whether a destination is named as a dead-letter
// queue.
func isDeadLetterQueue(destination string) bool {
	d := strings.ToLower(destination)
	for _, m := range dlqMarkers {
		if strings.Contains(d, m) {
			return true
		}
	}
	return false
}

// deliveryKey names the invocation that received a message from its
// dead-letter queue.
type deliveryKey struct {
	trace model.TraceID
	inv   string
}

func deadLetterDelivery(m *correlate.Message) (deliveryKey, bool) {
	for _, a := range m.Attempts {
		if a.Destination == m.DeadLetter {
			return deliveryKey{a.TraceID, cmp.Or(a.InvocationID, "span:"+a.SpanID.String())}, true
		}
	}
	return deliveryKey{}, false
}

// oneLifePerDelivery drops the SNS lives of messages dead-lettered from a
// queue subscribed to a topic: such a delivery carries the SQS id and, from
// the envelope, the SNS id, and both lives end in the DLQ, one named after
// the topic. The queue's life is the one to report (the redrive is the
// queue's), so an SNS life counts only when no other life was dead-lettered
// in the same DLQ invocation. Its producers, which the queue's life lacks
// (SNS's delivery to SQS is not traced), are lent when that invocation
// holds one queue life: in a batch the pairing is by invocation, not by
// message, so which producer sent which message is unknown there, and an
// SNS life is dropped when any queue life shares its DLQ invocation, which
// undercounts only a dead letter whose SQS id went unseen.
func oneLifePerDelivery(lives []*correlate.Message) []*correlate.Message {
	queued := map[deliveryKey][]*correlate.Message{}
	for _, m := range lives {
		if k, ok := deadLetterDelivery(m); ok && m.Channel != "sns" {
			queued[k] = append(queued[k], m)
		}
	}
	out := make([]*correlate.Message, 0, len(lives))
	for _, m := range lives {
		k, ok := deadLetterDelivery(m)
		if q := queued[k]; ok && m.Channel == "sns" && len(q) > 0 {
			if len(q) == 1 && len(q[0].Producers) == 0 {
				q[0].Producers = m.Producers
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

// deadLetterDetector finds messages that reached a dead-letter queue: a
// delivery seen on a DLQ-named destination whose message's life (package
// correlate) says dead_lettered. The issue names the source channel, the
// consumer that kept failing and its last error.
type deadLetterDetector struct{}

func (deadLetterDetector) Name() string { return "deadletter.v1" }

func (deadLetterDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	spans, trunc, err := r.DetectSpans(ctx, w.TimeRange, store.DetectSpanFilter{DestinationContains: dlqMarkers}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for i := range spans {
		s := &spans[i]
		if s.Kind != model.KindConsumer && s.MessagingOperation != "process" && s.MessagingOperation != "receive" {
			continue
		}
		for _, id := range s.MessageIDs {
			if !seen[id] && !strings.HasPrefix(id, "lambda:") && len(ids) < maxWalks {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	c, err := correlator(r)
	if err != nil {
		return nil, err
	}
	var lives []*correlate.Message
	for _, id := range ids {
		m, err := c.Message(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read life of message %s: %w", id, err)
		}
		if m.State == correlate.MessageDeadLettered {
			lives = append(lives, m)
		}
	}
	g := newGroups()
	examples := map[string]string{}
	for _, m := range oneLifePerDelivery(lives) {
		var last correlate.MessageEvent
		var at int64
		for _, a := range m.Attempts {
			if a.Destination == m.DeadLetter {
				at = max(at, a.Time)
				continue
			}
			if a.Outcome != correlate.OutcomeOK {
				last = a
			}
		}
		if at == 0 {
			at = last.Time
		}
		fn := last.Function
		if fn == "" {
			fn = last.Service
		}
		fp := m.Destination + "\x1f" + m.DeadLetter + "\x1f" + fn
		trace := last.TraceID
		if len(m.Producers) > 0 {
			trace = m.Producers[0].TraceID
		}
		gr := g.add(KindDeadLetter, fp, at, trace, func(o *store.IssueOccurrence) {
			o.Function, o.Channel, o.Severity = fn, m.Destination, SeverityError
			o.Title = fmt.Sprintf("messages of %s dead-lettered to %s", m.Destination, m.DeadLetter)
			if fn != "" {
				o.Title += " after " + fn + " failed them"
			}
		})
		gr.extra["attempts"] = max(gr.extra["attempts"], int64(len(m.Attempts)))
		if last.ErrorMessage != "" {
			examples[fp] = last.ErrorMessage
		}
		if len(m.Producers) > 0 {
			examples[fp+"\x00producer"] = m.Producers[0].Service
		}
	}
	return g.list(func(gr *group) {
		o := &gr.occ
		parts := strings.Split(o.Fingerprint, "\x1f")
		o.Explanation = fmt.Sprintf("Messages of %s", parts[0])
		if p := examples[o.Fingerprint+"\x00producer"]; p != "" {
			o.Explanation += " (sent by " + p + ")"
		}
		o.Explanation += fmt.Sprintf(" were moved to the dead-letter queue %s (last at %s)", parts[1], when(o.Last))
		if parts[2] != "" {
			o.Explanation += " after " + parts[2] + " failed to process them"
		}
		if e := examples[o.Fingerprint]; e != "" {
			o.Explanation += fmt.Sprintf("; the last error was %q", truncate(e, 300))
		}
		o.Explanation += ". They will not be retried unless redriven; the sample traces show each message's whole life."
	}), nil
}
