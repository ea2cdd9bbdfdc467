package correlate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Message states, the outcome of a message's life as far as it is known.
const (
	// MessageProduced: sent, no delivery seen (yet).
	MessageProduced = "produced"
	// MessageDelivered: a consumer started; its outcome is not stored.
	MessageDelivered = "delivered"
	// MessageProcessed: the last attempt on every destination succeeded.
	MessageProcessed = "processed"
	// MessagePartiallyFailed: the last attempt ran in a batch that
	// reported this message in batchItemFailures (ariadne.batch.failed);
	// the queue will deliver it again.
	MessagePartiallyFailed = "partially_failed"
	// MessageFailed: the last attempt failed.
	MessageFailed = "failed"
	// MessageDeadLettered: the message reached a dead-letter queue.
	MessageDeadLettered = "dead_lettered"
)

// Attempt outcomes.
const (
	OutcomeOK               = "ok"
	OutcomeError            = "error"
	OutcomeBatchItemFailure = "batch_item_failure"
	OutcomeUnknown          = "unknown"
)

// Message is the life of one message: who produced it and every attempt
// to consume it, in time order.
type Message struct {
	// ID is the id asked for; Keys the strong-id keys found for it.
	ID          string
	Keys        []string
	Channel     string
	Destination string
	State       string
	Producers   []MessageEvent
	Attempts    []MessageEvent
	// DeadLetter is the dead-letter destination when State is dead_lettered.
	DeadLetter string
	// TraceIDs of every trace involved, for the transaction view.
	TraceIDs []model.TraceID
	// Truncated: a bound cut the refs or spans read.
	Truncated bool
}

// MessageEvent is one side of the message's life: its production, or one
// delivery attempt.
type MessageEvent struct {
	Key          string
	Time         int64 // producer: span end; attempt: consumer span start
	TraceID      model.TraceID
	SpanID       model.SpanID
	Service      string
	Function     string
	Name         string
	InvocationID string
	Destination  string
	// Attempt is 1-based: the SQS receive count or Lambda's attempt number
	// when the span carries one, else the attempt's rank in time.
	Attempt      int
	Outcome      string
	ErrorMessage string
	DurationNs   int64
}

// knownKinds are the key prefixes a bare message id is tried under
// (docs/attributes.md); ids shown in the UI are keys without the prefix, so
// prefixing each kind finds the key whatever the hop.
func knownKinds() []string {
	return []string{"sqs", "sns", "kinesis", "s3", "ddb", "events", "lambda", "sfn", "link", "msg"}
}

// candidateKeys turns a message id as a user gives it into keys to look up:
// the id itself when it already is a key, and the id under every kind.
func candidateKeys(id string) []string {
	kinds := knownKinds()
	out := make([]string, 0, len(kinds)+1)
	if k, _, ok := strings.Cut(id, ":"); ok && slices.Contains(kinds, k) {
		out = append(out, id)
	}
	for _, k := range kinds {
		out = append(out, k+":"+id)
	}
	return out
}

// maxMessageRefs bounds the refs read for one message; a message with more
// deliveries than that is a broken consumer, and its first ones tell why.
const maxMessageRefs = 2_000

// Message returns the life of the message with id (a bare message id, or
// a full key such as "kinesis:shardId-000000000001:4963…"). The error wraps
// store.ErrNotFound when no ref of that id is stored.
func (c *Correlator) Message(ctx context.Context, id string) (*Message, error) {
	if id == "" {
		return nil, fmt.Errorf("read message: empty id: %w", store.ErrInvalid)
	}
	refs, trunc, err := c.st.RefsByKeys(ctx, candidateKeys(id), maxMessageRefs)
	if err != nil {
		return nil, fmt.Errorf("read message %s: %w", id, err)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("read message %s: %w", id, store.ErrNotFound)
	}
	m := &Message{ID: id, Truncated: trunc}
	var traces []model.TraceID
	for _, r := range refs {
		if !slices.Contains(m.Keys, r.Key) {
			m.Keys = append(m.Keys, r.Key)
		}
		if !slices.Contains(traces, r.TraceID) {
			traces = append(traces, r.TraceID)
		}
	}
	spans, trunc, err := c.st.SpansOfTraces(ctx, traces, store.SpanFull, c.set.MaxSpans)
	if err != nil {
		return nil, fmt.Errorf("read message %s: %w", id, err)
	}
	m.Truncated = m.Truncated || trunc
	m.TraceIDs = traces
	byID := make(map[spanKey]*model.Span, len(spans))
	children := map[spanKey][]*model.Span{}
	for i := range spans {
		s := &spans[i]
		byID[keyOf(s)] = s
		if !s.ParentSpanID.IsZero() {
			p := spanKey{s.TraceID, s.ParentSpanID}
			children[p] = append(children[p], s)
		}
	}
	m.Channel = channelOf(m.Keys[0])
	if m.Channel == "link" {
		m.Channel = ""
	}
	// One event per span; an invocation span and its per-message
	// processing span are one attempt, seen through the processing span
	// (it carries the receive count and the batch item failure).
	type attemptKey struct {
		trace model.TraceID
		inv   string
	}
	attempts := map[attemptKey]int{}
	for _, r := range refs {
		s := byID[spanKey{r.TraceID, r.SpanID}]
		ev := MessageEvent{Key: r.Key, Time: r.Time, TraceID: r.TraceID, SpanID: r.SpanID,
			Destination: r.Destination, Outcome: OutcomeUnknown}
		if s != nil {
			fillEvent(&ev, s, children[keyOf(s)], idOfKey(r.Key))
		}
		switch r.Role {
		case model.RoleProducer:
			if !slices.ContainsFunc(m.Producers, func(p MessageEvent) bool { return p.SpanID == ev.SpanID && p.TraceID == ev.TraceID }) {
				m.Producers = append(m.Producers, ev)
			}
		case model.RoleConsumer:
			ak := attemptKey{r.TraceID, invocationOf(byID, s, r.SpanID)}
			if i, ok := attempts[ak]; ok {
				mergeAttempt(&m.Attempts[i], ev)
				continue
			}
			attempts[ak] = len(m.Attempts)
			m.Attempts = append(m.Attempts, ev)
		}
	}
	slices.SortStableFunc(m.Producers, func(a, b MessageEvent) int { return cmp.Compare(a.Time, b.Time) })
	slices.SortStableFunc(m.Attempts, func(a, b MessageEvent) int { return cmp.Compare(a.Time, b.Time) })
	for i := range m.Attempts {
		if m.Attempts[i].Attempt == 0 {
			m.Attempts[i].Attempt = i + 1
		}
	}
	if len(m.Producers) > 0 {
		m.Destination = m.Producers[0].Destination
	} else if len(m.Attempts) > 0 {
		m.Destination = m.Attempts[0].Destination
	}
	m.State, m.DeadLetter = messageState(m)
	return m, nil
}

// fillEvent completes ev from the span and, for an invocation span, from
// its child processing the same message.
func fillEvent(ev *MessageEvent, s *model.Span, kids []*model.Span, msgID string) {
	ev.Service, ev.Function, ev.Name, ev.InvocationID = s.Service, s.Function, s.Name, s.InvocationID
	ev.DurationNs = s.DurationNs
	if ev.Destination == "" {
		ev.Destination = s.Destination
	}
	src := s
	for _, k := range kids {
		if slices.Contains(k.MessageIDs, msgID) {
			src = k
			break
		}
	}
	ev.Outcome, ev.ErrorMessage = outcomeOf(src)
	if ev.Outcome == OutcomeOK && src != s && s.IsError() {
		// The message was fine but its batch failed as a whole.
		ev.Outcome, ev.ErrorMessage = OutcomeError, cmp.Or(s.ErrorMessage, s.StatusMessage)
	}
	ev.Attempt = attemptOf(src)
	if ev.Attempt == 0 {
		ev.Attempt = attemptOf(s)
	}
}

// invocationOf names the invocation a span ran in: its own or its nearest
// ancestor's invocation id (per-message processing spans carry none), else
// the id of its top-most stored ancestor.
func invocationOf(byID map[spanKey]*model.Span, s *model.Span, fallback model.SpanID) string {
	for depth := 0; s != nil && depth < 64; depth++ {
		if s.InvocationID != "" {
			return s.InvocationID
		}
		fallback = s.SpanID
		if s.ParentSpanID.IsZero() {
			break
		}
		s = byID[spanKey{s.TraceID, s.ParentSpanID}]
	}
	return "span:" + fallback.String()
}

func mergeAttempt(dst *MessageEvent, ev MessageEvent) {
	// Prefer what the per-message processing span says.
	if ev.Outcome == OutcomeBatchItemFailure || (dst.Outcome == OutcomeUnknown && ev.Outcome != OutcomeUnknown) ||
		(ev.Outcome == OutcomeError && dst.Outcome == OutcomeOK) {
		dst.Outcome, dst.ErrorMessage = ev.Outcome, ev.ErrorMessage
	}
	if dst.Attempt == 0 {
		dst.Attempt = ev.Attempt
	}
	if dst.InvocationID == "" {
		dst.InvocationID = ev.InvocationID
	}
	if ev.Time < dst.Time {
		dst.Time = ev.Time
	}
}

func outcomeOf(s *model.Span) (string, string) {
	if v, ok := s.Attributes.Get("ariadne.batch.failed"); ok && v.Str == "true" {
		return OutcomeBatchItemFailure, cmp.Or(s.ErrorMessage, s.StatusMessage)
	}
	if s.IsError() {
		return OutcomeError, cmp.Or(s.ErrorMessage, s.StatusMessage)
	}
	return OutcomeOK, ""
}

func attemptOf(s *model.Span) int {
	for _, k := range []string{"ariadne.sqs.receive_count", "ariadne.attempt"} {
		if v, ok := s.Attributes.Get(k); ok {
			if n, err := strconv.Atoi(v.Str); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// messageState derives the outcome. Redrive to a dead-letter queue keeps
// an SQS message's id, so a delivery from a queue named like a DLQ, after
// attempts elsewhere, means the message was dead-lettered. With fan-out
// (one SNS message in two queues) each destination's last attempt counts.
func messageState(m *Message) (state, dlq string) {
	if len(m.Attempts) == 0 {
		if len(m.Producers) > 0 && looksLikeDLQ(m.Producers[len(m.Producers)-1].Destination) {
			return MessageDeadLettered, m.Producers[len(m.Producers)-1].Destination
		}
		return MessageProduced, ""
	}
	lastByDest := map[string]MessageEvent{}
	var dests []string
	for _, a := range m.Attempts {
		if looksLikeDLQ(a.Destination) && a.Destination != m.Destination {
			return MessageDeadLettered, a.Destination
		}
		if _, ok := lastByDest[a.Destination]; !ok {
			dests = append(dests, a.Destination)
		}
		lastByDest[a.Destination] = a
	}
	state = MessageProcessed
	for _, d := range dests {
		switch lastByDest[d].Outcome {
		case OutcomeError:
			return MessageFailed, ""
		case OutcomeBatchItemFailure:
			state = MessagePartiallyFailed
		case OutcomeUnknown:
			if state == MessageProcessed {
				state = MessageDelivered
			}
		}
	}
	return state, ""
}

func looksLikeDLQ(dest string) bool {
	d := strings.ToLower(dest)
	return strings.Contains(d, "dlq") || strings.Contains(d, "dead-letter") || strings.Contains(d, "deadletter") ||
		strings.Contains(d, "dead_letter")
}
