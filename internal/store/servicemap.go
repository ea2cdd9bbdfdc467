package store

import (
	"context"

	"github.com/ariadnehq/ariadne/internal/model"
)

// ServiceMapReader answers the aggregate queries behind the service map,
// RED metrics and cost (internal/servicemap). Each method returns rows
// already grouped by the engine, so the work is one scan of the range on
// the engine's side and a few thousand rows on ours, whatever the span
// count; the graph itself is built by package servicemap, the same for
// every engine.
//
// It is separate from Reader, like CorrelationReader, so that code written
// against Reader keeps compiling; every engine implements it. Every method
// returns at most q.Limit rows (clamped to MaxMapRows), the rows with the
// most calls first, and truncated = true when more groups existed. Methods
// are safe for concurrent use; returned slices belong to the caller.
//
// An engine may answer from per-minute rollups of these same queries
// rather than scanning the raw rows (the DuckDB engine does for sealed
// minutes: docs/servicemap.md "Rollups"). Groups, counts, errors, cold
// starts and lag counts must then equal the raw answer exactly;
// percentiles may come from mergeable histograms, within
// MaxPercentileError of quantile_cont over the same values. Queries of
// trace ids are always answered from raw rows.
type ServiceMapReader interface {
	// MapCalls groups the client-side spans of the query (kind client or
	// producer) by the node that made them and by what they reached: the
	// node of a server span that is their child (Callee set: an
	// instrumented synchronous call), or, when no such child exists, the
	// peer their attributes name (Peer set: a database, a queue, a topic,
	// a bucket, an external HTTP host, an AWS service). Latency is the
	// client span's duration; a call is an error when the client span or
	// the callee's server span is.
	MapCalls(ctx context.Context, q MapQuery) (rows []CallRow, truncated bool, err error)
	// MapHops groups the asynchronous hops of the query: producer and
	// consumer message refs joined on their key (DESIGN.md §2), one hop
	// per (producer span, consumer trace) however many keys join them
	// (a batch sent and received whole, a span link next to a message id).
	// A consumer whose span is a child of the producer span is a
	// synchronous call and left out (MapCalls has it). The consumer's ref
	// must lie in the range; its producer may be older (by MaxHopLag).
	MapHops(ctx context.Context, q MapQuery) (rows []HopRow, truncated bool, err error)
	// MapNodes gives the RED figures of every node that received requests
	// in the range: its entry spans (an invocation's span for a function;
	// server, consumer and root spans for a service).
	MapNodes(ctx context.Context, q MapQuery) (rows []NodeRow, truncated bool, err error)
	// RED returns time series of the entry spans of one service or
	// function (or of one operation's spans), one point per Step-wide
	// bucket from Start that has data, grouped as q.GroupBy asks.
	RED(ctx context.Context, q REDQuery) (rows []REDRow, truncated bool, err error)
	// Cost groups invocation records (merged per request id: billing
	// figures from the platform first, then the SDK) by function.
	Cost(ctx context.Context, q CostQuery) (rows []CostRow, truncated bool, err error)
}

// MaxMapRows caps the rows of one ServiceMapReader call.
const MaxMapRows = 10_000

// MaxPercentileError bounds the relative error of a percentile that an
// engine reads from rollups instead of raw rows.
const MaxPercentileError = 0.05

// MaxMapTraces caps MapQuery.TraceIDs and CostQuery.TraceIDs.
const MaxMapTraces = 1000

// MaxHopLag is how long before the range a producer of a consumed message
// may lie and still be joined: SQS keeps a message for at most 14 days,
// but a longer window would make every map query scan that far back.
const MaxHopLag = int64(24 * 3600e9)

// MapQuery selects the spans and refs of a map.
type MapQuery struct {
	TimeRange
	// Environment keeps spans whose resource has
	// deployment.environment.name = Environment; "" keeps all.
	Environment string
	// TraceIDs, when not empty, keeps only these traces (the map of one
	// transaction); at most MaxMapTraces.
	TraceIDs []model.TraceID
	// Limit caps the rows (0 or more than MaxMapRows: MaxMapRows).
	Limit int
}

// Endpoint names a node that runs code: a function when Function is set,
// else a service.
type Endpoint struct {
	Service  string
	Function string
}

// Latency holds duration percentiles, ns.
type Latency struct {
	P50, P95, P99 int64
}

// Peer kinds of CallRow.PeerKind: what an uninstrumented callee is.
const (
	PeerDatabase = "database"
	PeerHTTP     = "http"     // an external HTTP or RPC host
	PeerAWS      = "aws"      // an AWS service by name (rpc.service)
	PeerQueue    = "queue"    // SQS and other queues
	PeerTopic    = "topic"    // SNS, Kafka topics
	PeerStream   = "stream"   // Kinesis
	PeerBus      = "eventbus" // EventBridge
	PeerBucket   = "bucket"   // S3
	PeerTable    = "table"    // DynamoDB
	PeerWorkflow = "workflow" // Step Functions
)

// CallRow is one group of MapCalls.
type CallRow struct {
	Caller Endpoint
	// Callee is the instrumented callee; zero when Peer is set.
	Callee Endpoint
	// PeerKind and Peer name an uninstrumented callee (PeerDatabase and
	// "postgresql", PeerQueue and "orders", PeerHTTP and "api.stripe.com").
	PeerKind string
	Peer     string
	// Messaging is set when the client spans were sends of messages
	// (producer kind or a messaging system): the start of an async hop.
	Messaging bool
	Count     int64
	Errors    int64
	Latency   Latency
}

// HopRow is one group of MapHops.
type HopRow struct {
	Producer Endpoint
	Consumer Endpoint
	// Channel is the kind of the joining keys (DESIGN.md §2: sqs, sns,
	// kinesis, s3, ddb, events, lambda, sfn; link for span links; another
	// messaging system's name).
	Channel string
	// ProducerDestination is where the producer sent (its span's
	// destination, or the bucket of an S3 write); ConsumerDestination is
	// where the consumer read from, which differs when a topic fans out
	// to queues.
	ProducerDestination string
	ConsumerDestination string
	// ConsumerSystem is the consumer span's messaging system, to tell
	// what kind of node ConsumerDestination is.
	ConsumerSystem string
	// Count hops; Errors of them whose consumer span failed.
	Count  int64
	Errors int64
	// Latency of the consumer span.
	Latency Latency
	// Lag is consumer span start − producer span end over the hops whose
	// producer span is stored (LagCount of them).
	Lag      Latency
	LagCount int64
}

// NodeRow is the RED figures of one node's entry spans.
type NodeRow struct {
	Endpoint
	Count      int64
	Errors     int64
	ColdStarts int64
	Latency    Latency
}

// REDQuery selects a RED time series.
type REDQuery struct {
	TimeRange
	// Service, Function and Operation filter ("" = any). Without
	// Operation the series counts entry spans (as MapNodes); with it,
	// every span of that name.
	Service     string
	Function    string
	Operation   string
	Environment string
	// Step is the bucket width, ns (> 0). Start must be set; buckets are
	// [Start + i·Step, Start + (i+1)·Step).
	Step int64
	// GroupBy splits the series: "" (one series), "service", "function"
	// or "operation".
	GroupBy string
	Limit   int
}

// REDRow is one bucket of one series.
type REDRow struct {
	// Group is the value of the GroupBy column ("" without GroupBy).
	Group      string
	Bucket     int64 // bucket start, Unix ns
	Count      int64
	Errors     int64
	ColdStarts int64
	Latency    Latency
}

// CostQuery selects invocation records to price. The range bounds their
// start; TraceIDs, when set, keeps the invocations of these traces (a
// transaction's), at most MaxMapTraces.
type CostQuery struct {
	TimeRange
	Function string
	TraceIDs []model.TraceID
	Limit    int
}

// CostRow sums the invocations of one function.
type CostRow struct {
	Function    string
	Invocations int64
	// Billed counts the invocations whose billed duration and memory are
	// known; only they are priced.
	Billed int64
	// GBSeconds is the sum of billed duration × configured memory.
	GBSeconds float64
	// BilledNs is the sum of billed durations.
	BilledNs int64
}
