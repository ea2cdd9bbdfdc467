package api

import (
	"context"
	"net/http"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
)

// Transactions (DESIGN.md §5, docs/correlation.md): the connected component
// of traces joined by strong ids and span links. The store behind the API
// must implement store.CorrelationReader; every engine does, and when one
// does not the endpoints answer 404 rather than fail at start-up.

// correlator returns the correlate view of the API's store, or a 404 error.
func (a *API) correlator() (*correlate.Correlator, error) {
	cs, ok := a.r.(correlate.Store)
	if !ok {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "this store does not support correlation"}
	}
	return correlate.New(cs, correlate.Settings{}), nil
}

// TransactionResponse answers GET /api/v1/transactions/{traceId}.
type TransactionResponse struct {
	TraceID          string             `json:"traceId"`
	Status           string             `json:"status"` // "ok" | "error"
	FailedTraces     int                `json:"failedTraces"`
	StartTime        int64              `json:"startTime"`
	EndTime          int64              `json:"endTime"`
	DurationNs       int64              `json:"durationNs"`
	Truncated        bool               `json:"truncated"`
	TruncatedReasons []string           `json:"truncatedReasons"`
	Destinations     []string           `json:"destinations"` // queues, topics, … its messages went through
	Traces           []TransactionTrace `json:"traces"`
	Edges            []TransactionEdge  `json:"edges"`
	CriticalPath     []CriticalPathStep `json:"criticalPath"`
	Spans            []TransactionSpan  `json:"spans"`
}

// TransactionTrace is one trace of a transaction.
type TransactionTrace struct {
	TraceID     string `json:"traceId"`
	Depth       int    `json:"depth"` // hops from the requested trace
	RootService string `json:"rootService"`
	RootName    string `json:"rootName"`
	Function    string `json:"function"`
	Trigger     string `json:"trigger"`
	StartTime   int64  `json:"startTime"`
	DurationNs  int64  `json:"durationNs"`
	SpanCount   int    `json:"spanCount"`
	ErrorCount  int    `json:"errorCount"`
	Status      string `json:"status"`
	Missing     bool   `json:"missing"` // referenced, but no span stored
}

// TransactionEdge is one async hop.
type TransactionEdge struct {
	ProducerTraceID string   `json:"producerTraceId"`
	ProducerSpanID  string   `json:"producerSpanId"`
	ConsumerTraceID string   `json:"consumerTraceId"`
	ConsumerSpanID  string   `json:"consumerSpanId"`
	Channel         string   `json:"channel"`
	Destination     string   `json:"destination"`
	MessageIDs      []string `json:"messageIds"`
	Keys            []string `json:"keys"`
	ProducerEnd     int64    `json:"producerEnd"` // 0 when the producer span is not stored
	ConsumerStart   int64    `json:"consumerStart"`
	LagNs           *int64   `json:"lagNs"` // null when unknown
	Status          string   `json:"status"`
}

// CriticalPathStep is a span or the wait of a hop.
type CriticalPathStep struct {
	Kind        string `json:"kind"` // "span" | "hop"
	TraceID     string `json:"traceId"`
	SpanID      string `json:"spanId"`
	Service     string `json:"service"`
	Name        string `json:"name"`
	StartTime   int64  `json:"startTime"`
	EndTime     int64  `json:"endTime"`
	Channel     string `json:"channel"`
	Destination string `json:"destination"`
}

// TransactionSpan is a span summary: enough to draw every trace of the
// transaction on one timeline; the details come from /traces/{traceId}.
type TransactionSpan struct {
	TraceID            string   `json:"traceId"`
	SpanID             string   `json:"spanId"`
	ParentSpanID       string   `json:"parentSpanId"`
	Name               string   `json:"name"`
	Kind               string   `json:"kind"`
	Service            string   `json:"service"`
	StartTime          int64    `json:"startTime"`
	DurationNs         int64    `json:"durationNs"`
	Status             Status   `json:"status"`
	Function           string   `json:"function"`
	InvocationID       string   `json:"invocationId"`
	ColdStart          bool     `json:"coldStart"`
	Trigger            string   `json:"trigger"`
	MessagingSystem    string   `json:"messagingSystem"`
	MessagingOperation string   `json:"messagingOperation"`
	Destination        string   `json:"destination"`
	MessageIDs         []string `json:"messageIds"`
	HTTPStatus         int32    `json:"httpStatus"`
	ErrorType          string   `json:"errorType"`
	ErrorMessage       string   `json:"errorMessage"`
}

// TransactionsResponse answers GET /api/v1/transactions.
type TransactionsResponse struct {
	Transactions []TransactionSummary `json:"transactions"`
}

// TransactionSummary is one row of a transaction search.
type TransactionSummary struct {
	TraceID      string   `json:"traceId"` // the entry trace
	RootService  string   `json:"rootService"`
	RootName     string   `json:"rootName"`
	TraceIDs     []string `json:"traceIds"`
	TraceCount   int      `json:"traceCount"`
	EdgeCount    int      `json:"edgeCount"`
	FailedTraces int      `json:"failedTraces"`
	Status       string   `json:"status"`
	StartTime    int64    `json:"startTime"`
	DurationNs   int64    `json:"durationNs"`
	Channels     []string `json:"channels"`
	Truncated    bool     `json:"truncated"`
}

// GET /api/v1/transactions/{traceId}.
func (a *API) getTransaction(ctx context.Context, r *http.Request) (any, error) {
	if err := checkParams(r.URL.Query(), nil, ""); err != nil {
		return nil, err
	}
	raw := r.PathValue("traceId")
	id, err := model.ParseTraceID(raw)
	if err != nil || id.IsZero() {
		return nil, invalid("traceId", "%q: want 32 hex digits, not all zero", raw)
	}
	c, err := a.correlator()
	if err != nil {
		return nil, err
	}
	tx, err := c.Transaction(ctx, id)
	if correlate.IsNotFound(err) {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "no trace " + id.String() + " (never received, or removed by retention)"}
	}
	if err != nil {
		return nil, err
	}
	return toTransactionResponse(tx), nil
}

var transactionSearchParams = []string{"start", "end", "failed", "channel", "messageId", "limit"}

// GET /api/v1/transactions?start=&end=&failed=&channel=&messageId=&limit=.
func (a *API) searchTransactions(ctx context.Context, r *http.Request) (any, error) {
	v := r.URL.Query()
	if err := checkParams(v, transactionSearchParams, ""); err != nil {
		return nil, err
	}
	var q correlate.TransactionQuery
	var err error
	if q.TimeRange, err = parseRange(v, a.set.Now(), a.set.DefaultLookback); err != nil {
		return nil, err
	}
	if v.Has("failed") {
		if q.FailedOnly, err = parseBool("failed", v.Get("failed")); err != nil {
			return nil, err
		}
	}
	q.Channel = v.Get("channel")
	q.MessageID = v.Get("messageId")
	if q.Limit, err = parseLimit("limit", v.Get("limit"), a.set.DefaultLimit, correlate.MaxSearchLimit); err != nil {
		return nil, err
	}
	c, err := a.correlator()
	if err != nil {
		return nil, err
	}
	res, err := c.Transactions(ctx, q)
	if err != nil {
		return nil, err
	}
	out := TransactionsResponse{Transactions: make([]TransactionSummary, len(res))}
	for i, s := range res {
		out.Transactions[i] = TransactionSummary{
			TraceID: hexTrace(s.TraceID), RootService: s.RootService, RootName: s.RootName,
			TraceIDs: hexTraces(s.TraceIDs), TraceCount: s.TraceCount, EdgeCount: s.EdgeCount,
			FailedTraces: s.FailedTraces, Status: s.Status, StartTime: s.StartTime, DurationNs: s.DurationNs,
			Channels: nonNil(s.Channels), Truncated: s.Truncated,
		}
	}
	return out, nil
}

func hexTraces(ids []model.TraceID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = hexTrace(id)
	}
	return out
}

func toTransactionResponse(tx *correlate.Transaction) TransactionResponse {
	out := TransactionResponse{
		TraceID: hexTrace(tx.TraceID), Status: tx.Status, FailedTraces: tx.FailedTraces,
		StartTime: tx.StartTime, EndTime: tx.EndTime, DurationNs: tx.DurationNs,
		Truncated: tx.Truncated, TruncatedReasons: nonNil(tx.TruncatedReasons), Destinations: nonNil(tx.Destinations),
		Traces:       make([]TransactionTrace, len(tx.Traces)),
		Edges:        make([]TransactionEdge, len(tx.Edges)),
		CriticalPath: make([]CriticalPathStep, len(tx.CriticalPath)),
		Spans:        make([]TransactionSpan, len(tx.Spans)),
	}
	for i, t := range tx.Traces {
		out.Traces[i] = TransactionTrace{TraceID: hexTrace(t.TraceID), Depth: t.Depth, RootService: t.RootService,
			RootName: t.RootName, Function: t.Function, Trigger: t.Trigger, StartTime: t.StartTime,
			DurationNs: t.DurationNs, SpanCount: t.SpanCount, ErrorCount: t.ErrorCount, Status: t.Status, Missing: t.Missing}
	}
	for i, e := range tx.Edges {
		te := TransactionEdge{ProducerTraceID: hexTrace(e.ProducerTraceID), ProducerSpanID: hexSpan(e.ProducerSpanID),
			ConsumerTraceID: hexTrace(e.ConsumerTraceID), ConsumerSpanID: hexSpan(e.ConsumerSpanID),
			Channel: e.Channel, Destination: e.Destination, MessageIDs: nonNil(e.MessageIDs), Keys: nonNil(e.Keys),
			ProducerEnd: e.ProducerEnd, ConsumerStart: e.ConsumerStart, Status: e.Status}
		if e.LagKnown {
			lag := e.LagNs
			te.LagNs = &lag
		}
		out.Edges[i] = te
	}
	for i, s := range tx.CriticalPath {
		out.CriticalPath[i] = CriticalPathStep{Kind: s.Kind, TraceID: hexTrace(s.TraceID), SpanID: hexSpan(s.SpanID),
			Service: s.Service, Name: s.Name, StartTime: s.StartTime, EndTime: s.EndTime,
			Channel: s.Channel, Destination: s.Destination}
	}
	for i := range tx.Spans {
		s := &tx.Spans[i]
		out.Spans[i] = TransactionSpan{TraceID: hexTrace(s.TraceID), SpanID: hexSpan(s.SpanID),
			ParentSpanID: hexSpan(s.ParentSpanID), Name: s.Name, Kind: s.Kind.String(), Service: s.Service,
			StartTime: s.StartTime, DurationNs: s.DurationNs,
			Status:   Status{Code: s.StatusCode.String(), Message: s.StatusMessage},
			Function: s.Function, InvocationID: s.InvocationID, ColdStart: s.ColdStart, Trigger: s.Trigger,
			MessagingSystem: s.MessagingSystem, MessagingOperation: s.MessagingOperation, Destination: s.Destination,
			MessageIDs: nonNil(s.MessageIDs), HTTPStatus: s.HTTPStatus, ErrorType: s.ErrorType, ErrorMessage: s.ErrorMessage}
	}
	return out
}
