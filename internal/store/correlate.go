package store

import (
	"context"

	"github.com/ariadnehq/ariadne/internal/model"
)

// CorrelationReader is what internal/correlate asks of an engine to build
// transactions and message lives: batched message-ref lookups in both
// directions (trace → keys, key → traces) and the spans of many traces at
// once. Every method is bounded by a limit the caller passes, so that one
// hot key (a topic id a million consumers share) or one huge transaction
// cannot turn a request into a full scan of the store; a method that stops
// at its limit says so with truncated = true.
//
// It is separate from Reader, like MessageRefReader, so that code written
// against Reader keeps compiling; every engine implements it. All methods
// are safe for concurrent use and the returned slices belong to the caller.
type CorrelationReader interface {
	// RefsOfTraces returns the message refs whose trace_id is one of ids —
	// producer and consumer rows alike, including the producer rows that a
	// span link in another trace wrote on behalf of one of these traces —
	// at most limit rows, ordered by (time, key, role, trace_id, span_id).
	// Unknown ids yield nothing; no ids yield an empty slice.
	RefsOfTraces(ctx context.Context, ids []model.TraceID, limit int) (refs []model.MessageRef, truncated bool, err error)
	// RefsByKeys returns every row stored under any of keys, at most limit
	// rows, in the same order as RefsOfTraces.
	RefsByKeys(ctx context.Context, keys []string, limit int) (refs []model.MessageRef, truncated bool, err error)
	// RefsByDestination returns rows whose destination is dest (exact)
	// and whose time lies in r, newest first, at most limit rows: the
	// entry point of "transactions through this queue".
	RefsByDestination(ctx context.Context, dest string, r TimeRange, limit int) (refs []model.MessageRef, truncated bool, err error)
	// SpansOfTraces returns the spans of the traces ids, ordered by
	// (start_time, span_id), at most limit spans in total. With
	// fields == SpanSummary the map and payload fields (Attributes,
	// ResourceAttributes, Events, Links, RequestPayload, ResponsePayload)
	// are left empty, which is what drawing a transaction needs and a good
	// deal cheaper to read; SpanFull fills everything, as Trace does.
	SpansOfTraces(ctx context.Context, ids []model.TraceID, fields SpanFields, limit int) (spans []model.Span, truncated bool, err error)
}

// SpanFields selects how much of a span SpansOfTraces reads.
type SpanFields uint8

const (
	// SpanSummary reads identity, timing, status and the derived columns.
	SpanSummary SpanFields = iota
	// SpanFull reads every field.
	SpanFull
)

// MaxCorrelationRows caps the limit of every CorrelationReader call;
// engines clamp larger limits to it.
const MaxCorrelationRows = 100_000
