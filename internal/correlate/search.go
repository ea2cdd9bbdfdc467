package correlate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// TransactionQuery selects transactions. Conditions combine with AND.
type TransactionQuery struct {
	store.TimeRange
	// FailedOnly keeps transactions where any hop failed.
	FailedOnly bool
	// Channel keeps transactions with a hop through this destination
	// (queue, topic, stream, bucket, table, bus) or of this kind (sqs,
	// sns, kinesis, s3, ddb, events, lambda, sfn).
	Channel string
	// MessageID keeps the transaction(s) that carried this message.
	MessageID string
	// Limit caps the result; at most MaxSearchLimit. Default 20.
	Limit int
}

// MaxSearchLimit caps TransactionQuery.Limit: every result is a walk.
const MaxSearchLimit = 100

// TransactionSummary is one row of a transaction search.
type TransactionSummary struct {
	// TraceID is the first trace of the transaction (its entry).
	TraceID      model.TraceID
	RootService  string
	RootName     string
	TraceIDs     []model.TraceID
	TraceCount   int
	EdgeCount    int
	FailedTraces int
	Status       string
	StartTime    int64
	DurationNs   int64
	// Channels are the destinations of its hops, sorted.
	Channels  []string
	Truncated bool
}

// seedFactor is how many seed traces a search looks at per wanted result:
// several seeds often fall in one transaction.
const seedFactor = 5

// Transactions searches transactions, newest seeds first. Seeds come from
// the most selective condition (message id, then channel, then failure,
// then any trace of the range); each seed not already covered is walked,
// and the other conditions filter the transactions built.
func (c *Correlator) Transactions(ctx context.Context, q TransactionQuery) ([]TransactionSummary, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, MaxSearchLimit)
	seeds, err := c.seeds(ctx, q, limit*seedFactor)
	if err != nil {
		return nil, fmt.Errorf("search transactions: %w", err)
	}
	covered := map[model.TraceID]bool{}
	out := []TransactionSummary{}
	for _, s := range seeds {
		if len(out) >= limit {
			break
		}
		if covered[s] {
			continue
		}
		tx, err := c.Transaction(ctx, s)
		if IsNotFound(err) {
			covered[s] = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("search transactions: %w", err)
		}
		for _, ti := range tx.Traces {
			covered[ti.TraceID] = true
		}
		if q.FailedOnly && tx.Status != StatusError {
			continue
		}
		if q.Channel != "" && !slices.Contains(tx.Destinations, q.Channel) && !slices.ContainsFunc(tx.Edges, func(e Edge) bool {
			return e.Channel == q.Channel
		}) {
			continue
		}
		out = append(out, summarize(tx))
	}
	return out, nil
}

func (c *Correlator) seeds(ctx context.Context, q TransactionQuery, n int) ([]model.TraceID, error) {
	var ids []model.TraceID
	addRefs := func(refs []model.MessageRef) {
		for _, r := range refs {
			if !slices.Contains(ids, r.TraceID) {
				ids = append(ids, r.TraceID)
			}
		}
	}
	switch {
	case q.MessageID != "":
		refs, _, err := c.st.RefsByKeys(ctx, candidateKeys(q.MessageID), maxMessageRefs)
		if err != nil {
			return nil, err
		}
		addRefs(refs)
	case q.Channel != "" && !slices.Contains(knownKinds(), q.Channel):
		// A destination; a kind (sqs, s3, …) is filtered on the edges of
		// the transactions the other seeds give.
		refs, _, err := c.st.RefsByDestination(ctx, q.Channel, q.TimeRange, n*4)
		if err != nil {
			return nil, err
		}
		addRefs(refs)
	default:
		res, err := c.st.SearchTraces(ctx, store.TraceQuery{TimeRange: q.TimeRange, ErrorOnly: q.FailedOnly, Limit: min(n, store.MaxLimit)})
		if err != nil {
			return nil, err
		}
		for _, t := range res.Traces {
			ids = append(ids, t.TraceID)
		}
	}
	return ids, nil
}

func summarize(tx *Transaction) TransactionSummary {
	s := TransactionSummary{
		TraceCount: len(tx.Traces), EdgeCount: len(tx.Edges), FailedTraces: tx.FailedTraces,
		Status: tx.Status, StartTime: tx.StartTime, DurationNs: tx.DurationNs, Truncated: tx.Truncated,
		Channels: slices.Clone(tx.Destinations),
	}
	for _, ti := range tx.Traces {
		s.TraceIDs = append(s.TraceIDs, ti.TraceID)
	}
	if len(tx.Traces) > 0 {
		s.TraceID, s.RootService, s.RootName = tx.Traces[0].TraceID, tx.Traces[0].RootService, tx.Traces[0].RootName
	}
	return s
}

// MessageMatch is a message whose payload contains the searched text.
type MessageMatch struct {
	MessageID   string
	Key         string
	Channel     string
	Destination string
	Role        model.RefRole
	TraceID     model.TraceID
	SpanID      model.SpanID
	Time        int64
}

// maxMatchTraces bounds the traces a payload search inspects.
const maxMatchTraces = 50

// SearchMessages finds messages by a value inside their payload (an order
// id, say): the store's free-text search finds the traces, and each span
// whose request or response payload contains text contributes the keys it
// produced or consumed. At most limit matches, newest traces first.
func (c *Correlator) SearchMessages(ctx context.Context, text string, r store.TimeRange, limit int) ([]MessageMatch, error) {
	if text == "" {
		return nil, fmt.Errorf("search messages: empty text: %w", store.ErrInvalid)
	}
	limit = min(max(limit, 1), MaxSearchLimit)
	res, err := c.st.SearchTraces(ctx, store.TraceQuery{TimeRange: r, Text: text, Limit: maxMatchTraces})
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	out := []MessageMatch{}
	if len(res.Traces) == 0 {
		return out, nil
	}
	ids := make([]model.TraceID, len(res.Traces))
	for i, t := range res.Traces {
		ids[i] = t.TraceID
	}
	spans, _, err := c.st.SpansOfTraces(ctx, ids, store.SpanFull, c.set.MaxSpans)
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	lower := strings.ToLower(text)
	hit := map[spanKey]*model.Span{}
	for i := range spans {
		s := &spans[i]
		if strings.Contains(strings.ToLower(s.RequestPayload), lower) || strings.Contains(strings.ToLower(s.ResponsePayload), lower) {
			hit[keyOf(s)] = s
		}
	}
	refs, _, err := c.st.RefsOfTraces(ctx, ids, c.set.MaxRefs)
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	// Newest first, like the trace search.
	slices.Reverse(refs)
	// A batch payload (an SQS event of ten records) holds the text once,
	// in one record: the message is the one whose id comes last before
	// the text. Spans whose payload places no id (a send whose ids are in
	// the response only) name all their messages, and count only when no
	// payload placed the text precisely.
	var placed, loose []MessageMatch
	seen := map[string]bool{}
	for _, rf := range refs {
		s := hit[spanKey{rf.TraceID, rf.SpanID}]
		if s == nil || seen[rf.Key] || channelOf(rf.Key) == "link" || channelOf(rf.Key) == "lambda" {
			continue
		}
		seen[rf.Key] = true
		m := MessageMatch{MessageID: idOfKey(rf.Key), Key: rf.Key, Channel: channelOf(rf.Key),
			Destination: rf.Destination, Role: rf.Role, TraceID: rf.TraceID, SpanID: rf.SpanID, Time: rf.Time}
		switch owner := placedID(s, lower); {
		case owner == "":
			loose = append(loose, m)
		case strings.HasSuffix(rf.Key, ":"+owner) || m.MessageID == owner:
			placed = append(placed, m)
		}
	}
	if len(placed) == 0 {
		placed = loose
	}
	out = append(out, placed[:min(len(placed), limit)]...)
	return out, nil
}

// placedID returns the message id that appears last before the first
// occurrence of text (lower case) in the span's payloads (or, failing
// that, first after it), among the ids the span carries; "" when none does.
func placedID(s *model.Span, lower string) string {
	for _, p := range []string{s.RequestPayload, s.ResponsePayload} {
		lp := strings.ToLower(p)
		at := strings.Index(lp, lower)
		if at < 0 {
			continue
		}
		best, bestAt := "", -1
		next, nextAt := "", len(lp)
		for _, id := range s.MessageIDs {
			if id == "" {
				continue
			}
			lid := strings.ToLower(id)
			if i := strings.LastIndex(lp[:at], lid); i > bestAt {
				best, bestAt = id, i
			}
			if i := strings.Index(lp[at:], lid); i >= 0 && at+i < nextAt {
				next, nextAt = id, at+i
			}
		}
		// A record's id normally precedes its body (SQS, SNS, EventBridge
		// put "messageId"/"id" first); with no id before, the next one.
		if best != "" {
			return best
		}
		if next != "" {
			return next
		}
	}
	return ""
}
