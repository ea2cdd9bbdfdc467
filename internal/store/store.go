// Package store defines what Ariadne asks of a storage engine: durable,
// idempotent writes of normalised batches and the reads the API, the CLI and
// the derived-intelligence packages run. Engines live in sub-packages
// (duckdb, later clickhouse) and must all pass storetest's conformance suite.
//
// The package owns the contracts and the query types; it must not import an
// engine, and engines must not import ingest or api.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
)

// Errors every engine returns for the same conditions, so the API and the
// ingest edge can classify them once (errors.Is).
var (
	// ErrNotFound: the requested object does not exist. Permanent.
	ErrNotFound = errors.New("not found")
	// ErrOverloaded: the write queue is full; the caller should retry later
	// (HTTP 429 / gRPC RESOURCE_EXHAUSTED with Retry-After). Nothing was written.
	ErrOverloaded = errors.New("store overloaded")
	// ErrUnavailable: the engine cannot accept or serve right now (closing,
	// backend unreachable). Retryable: HTTP 503 / gRPC UNAVAILABLE.
	ErrUnavailable = errors.New("store unavailable")
	// ErrInvalid: the query or data is malformed. Permanent: HTTP 400.
	ErrInvalid = errors.New("invalid request")
)

// Writer stores batches.
type Writer interface {
	// Write stores b durably. It MUST return nil only after every row of b
	// is committed (it survives a kill -9 of the process right after).
	// Concurrent calls MAY share one commit (group commit). A write of a span
	// whose (trace_id, span_id) is already stored MUST NOT create a second
	// span. On ErrOverloaded or ErrUnavailable nothing of b is visible.
	// Write MUST NOT retain b after it returns. Safe for concurrent use.
	Write(ctx context.Context, b *model.Batch) error
}

// Reader answers the queries of API v1. All methods are safe for concurrent
// use. Returned values belong to the caller.
type Reader interface {
	// Trace returns the spans, logs and invocation rows of one trace, each in
	// time order. ErrNotFound when no span or log of that trace is stored.
	Trace(ctx context.Context, id model.TraceID) (*model.Trace, error)
	// SearchTraces returns traces matching q, newest first, at most q.Limit.
	SearchTraces(ctx context.Context, q TraceQuery) (*TraceResult, error)
	// Services lists service names seen in [start, end), sorted.
	Services(ctx context.Context, r TimeRange) ([]string, error)
	// Operations lists span names of a service ("" = all) in the range, sorted.
	Operations(ctx context.Context, service string, r TimeRange) ([]string, error)
	// AttributeKeys lists span attribute keys in the range that start with
	// prefix, sorted, at most limit.
	AttributeKeys(ctx context.Context, prefix string, r TimeRange, limit int) ([]string, error)
	// AttributeValues lists values of key that start with prefix, most
	// frequent first, at most limit.
	AttributeValues(ctx context.Context, key, prefix string, r TimeRange, limit int) ([]string, error)
}

// Maintainer runs housekeeping.
type Maintainer interface {
	// DeleteBefore removes spans, logs, invocations and message refs older
	// than t (Unix ns) and returns how many rows went.
	DeleteBefore(ctx context.Context, t int64) (int64, error)
}

// Store is a whole engine.
type Store interface {
	Writer
	Reader
	Maintainer
	// Close flushes and commits everything accepted, then releases the
	// engine. Idempotent.
	Close() error
}

// TimeRange is [Start, End) in Unix ns; a zero bound is open.
type TimeRange struct {
	Start int64
	End   int64
}

// TraceQuery selects traces. A trace matches when one of its spans matches
// every span-level condition (service, operation, attributes, text) and the
// whole trace matches the trace-level ones (duration, error).
type TraceQuery struct {
	TimeRange
	Service   string
	Operation string
	// ErrorOnly keeps traces with at least one span in error.
	ErrorOnly bool
	// MinDuration and MaxDuration bound the duration of the whole trace
	// (last span end − first span start), ns; 0 means unbounded.
	MinDuration int64
	MaxDuration int64
	// Attributes are equality conditions on span attributes (canonical string form).
	Attributes []model.Attr
	// Text is searched, case-insensitively, in log bodies, captured payloads,
	// span names and status/error messages.
	Text string
	// Limit caps the result (engines cap it at MaxLimit too).
	Limit int
	// Cursor continues a previous search (TraceResult.NextCursor), opaque.
	Cursor string
}

// MaxLimit is the largest page a search returns.
const MaxLimit = 1000

// TraceSummary is one row of a trace search.
type TraceSummary struct {
	TraceID     model.TraceID
	RootService string
	RootName    string
	StartTime   int64
	DurationNs  int64
	SpanCount   int
	ErrorCount  int
}

// TraceResult is one page of a trace search.
type TraceResult struct {
	Traces     []TraceSummary
	NextCursor string // "" on the last page
}

// MessageRefReader finds the message references of one strong ID, the
// lookup correlation joins producers to consumers with. It is separate from
// Reader so that code written against Reader keeps compiling; every engine
// implements it.
type MessageRefReader interface {
	// MessageRefs returns every row stored for key, in time order (producers
	// before consumers at equal times). An unknown key yields an empty
	// slice, not ErrNotFound.
	MessageRefs(ctx context.Context, key string) ([]model.MessageRef, error)
}

// CommitInfo describes one commit of the write path, for metrics: the app
// turns it into a latency histogram and counters without the engine
// importing a metrics library.
type CommitInfo struct {
	Batches  int           // Write calls acknowledged by this commit
	Rows     int           // rows committed (duplicates already dropped)
	Dropped  int           // re-sent spans and logs not written again
	Duration time.Duration // from taking the batches to the durable commit
	Err      error         // nil on success
}

// WriteStats is a snapshot of an engine's write path.
type WriteStats struct {
	QueuedRows    int64  // rows accepted and waiting for a commit
	QueueCapacity int64  // bound of QueuedRows; over it Write answers ErrOverloaded
	Commits       uint64 // successful commits
	FailedCommits uint64
	CommittedRows uint64
	DroppedRows   uint64 // re-sent spans and logs ignored (idempotent writes)
	Overloaded    uint64 // Write calls refused with ErrOverloaded
}

// StatsReporter is implemented by engines that expose write statistics.
type StatsReporter interface {
	WriteStats() WriteStats
}
