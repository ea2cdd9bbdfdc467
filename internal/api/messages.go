package api

import (
	"context"
	"net/http"

	"github.com/ariadnehq/ariadne/internal/correlate"
)

// Messages (docs/correlation.md): the life of one message, and the search
// for messages by a value inside their payload.

// MessageResponse answers GET /api/v1/messages/{messageId}.
type MessageResponse struct {
	MessageID string `json:"messageId"`
	// Keys are the strong-id keys found for the id ("sqs:<id>", …).
	Keys        []string `json:"keys"`
	Channel     string   `json:"channel"`
	Destination string   `json:"destination"`
	// State: produced | delivered | processed | partially_failed | failed | dead_lettered.
	State      string         `json:"state"`
	DeadLetter string         `json:"deadLetter"`
	Producers  []MessageEvent `json:"producers"`
	Attempts   []MessageEvent `json:"attempts"`
	TraceIDs   []string       `json:"traceIds"`
	Truncated  bool           `json:"truncated"`
}

// MessageEvent is the production of a message or one delivery attempt.
type MessageEvent struct {
	Key          string `json:"key"`
	Time         int64  `json:"time"`
	TraceID      string `json:"traceId"`
	SpanID       string `json:"spanId"`
	Service      string `json:"service"`
	Function     string `json:"function"`
	Name         string `json:"name"`
	InvocationID string `json:"invocationId"`
	Destination  string `json:"destination"`
	Attempt      int    `json:"attempt"` // 0 for producers
	// Outcome of an attempt: ok | error | batch_item_failure | unknown.
	Outcome      string `json:"outcome"`
	ErrorMessage string `json:"errorMessage"`
	DurationNs   int64  `json:"durationNs"`
}

// MessagesResponse answers GET /api/v1/messages?q=TEXT.
type MessagesResponse struct {
	Messages []MessageMatch `json:"messages"`
}

// MessageMatch is a message whose producer or consumer payload holds the text.
type MessageMatch struct {
	MessageID   string `json:"messageId"`
	Key         string `json:"key"`
	Channel     string `json:"channel"`
	Destination string `json:"destination"`
	Role        string `json:"role"` // producer | consumer: the side whose payload matched
	TraceID     string `json:"traceId"`
	SpanID      string `json:"spanId"`
	Time        int64  `json:"time"`
}

// GET /api/v1/messages/{messageId}: a bare id, or a full key such as
// kinesis:shardId-000000000001:4963….
func (a *API) getMessage(ctx context.Context, r *http.Request) (any, error) {
	if err := checkParams(r.URL.Query(), nil, ""); err != nil {
		return nil, err
	}
	id := r.PathValue("messageId")
	if id == "" || len(id) > maxParamLen {
		return nil, invalid("messageId", "want a message id of 1 to %d bytes", maxParamLen)
	}
	c, err := a.correlator()
	if err != nil {
		return nil, err
	}
	m, err := c.Message(ctx, id)
	if correlate.IsNotFound(err) {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "no message " + id + " (never seen, or removed by retention)"}
	}
	if err != nil {
		return nil, err
	}
	out := MessageResponse{MessageID: m.ID, Keys: nonNil(m.Keys), Channel: m.Channel, Destination: m.Destination,
		State: m.State, DeadLetter: m.DeadLetter, Producers: toMessageEvents(m.Producers),
		Attempts: toMessageEvents(m.Attempts), TraceIDs: hexTraces(m.TraceIDs), Truncated: m.Truncated}
	for i := range out.Producers {
		out.Producers[i].Attempt = 0
	}
	return out, nil
}

func toMessageEvents(evs []correlate.MessageEvent) []MessageEvent {
	out := make([]MessageEvent, len(evs))
	for i, e := range evs {
		out[i] = MessageEvent{Key: e.Key, Time: e.Time, TraceID: hexTrace(e.TraceID), SpanID: hexSpan(e.SpanID),
			Service: e.Service, Function: e.Function, Name: e.Name, InvocationID: e.InvocationID,
			Destination: e.Destination, Attempt: e.Attempt, Outcome: e.Outcome, ErrorMessage: e.ErrorMessage,
			DurationNs: e.DurationNs}
	}
	return out
}

var messageSearchParams = []string{"q", "start", "end", "limit"}

// GET /api/v1/messages?q=TEXT&start=&end=&limit=: messages by payload value.
func (a *API) searchMessages(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query()
	if err := checkParams(v, messageSearchParams, ""); err != nil {
		return nil, err
	}
	text := v.Get("q")
	if text == "" {
		return nil, invalid("q", "want the text to look for in message payloads")
	}
	rng, err := parseRange(v, a.set.Now(), a.set.DefaultLookback)
	if err != nil {
		return nil, err
	}
	limit, err := parseLimit("limit", v.Get("limit"), a.set.DefaultLimit, correlate.MaxSearchLimit)
	if err != nil {
		return nil, err
	}
	c, err := a.correlator()
	if err != nil {
		return nil, err
	}
	res, err := c.SearchMessages(ctx, text, rng, limit)
	if err != nil {
		return nil, err
	}
	out := MessagesResponse{Messages: make([]MessageMatch, len(res))}
	for i, m := range res {
		out.Messages[i] = MessageMatch{MessageID: m.MessageID, Key: m.Key, Channel: m.Channel,
			Destination: m.Destination, Role: m.Role.String(), TraceID: hexTrace(m.TraceID),
			SpanID: hexSpan(m.SpanID), Time: m.Time}
	}
	return out, nil
}
