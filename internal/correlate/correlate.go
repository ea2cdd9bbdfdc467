// Package correlate follows requests across asynchronous hops. It joins
// the producer and consumer sides of queues, topics, streams, object
// events, table streams, invocations and workflows on the strong ids that
// ingest wrote to message_refs (DESIGN.md §2, §3) and derives, on request:
//
//   - a transaction: the connected component of traces joined that way,
//     with its async edges (channel, destination, message ids, queue lag),
//     its status, its critical path across hops and its duration;
//   - the life of one message: produced → delivered → attempts → outcome;
//   - searches for transactions and messages.
//
// Everything is computed by bounded queries over store.CorrelationReader
// at request time. The package keeps no state between requests, so it runs
// unchanged on every node of a scale-out deployment, and a consumer that
// arrives an hour after its producer joins the transaction as soon as its
// refs are committed. It must not write to the store or import an engine.
package correlate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Store is what the package reads: batched ref and span lookups, plus the
// trace search that finds transactions by failure or by payload text.
type Store interface {
	store.CorrelationReader
	SearchTraces(ctx context.Context, q store.TraceQuery) (*store.TraceResult, error)
}

// Settings bound the work of one request. Zero fields take the defaults.
type Settings struct {
	// MaxTraces caps the traces of one transaction (default 200). A
	// component larger than that is returned cut, with Truncated set.
	MaxTraces int
	// MaxDepth caps the hops walked from the requested trace (default 32).
	MaxDepth int
	// MaxRefs caps the message-ref rows read for one transaction (default
	// 20 000): one hot key shared by thousands of traces must not make a
	// request read them all.
	MaxRefs int
	// MaxSpans caps the spans returned with a transaction (default 20 000).
	MaxSpans int
}

// Defaults of Settings.
const (
	DefaultMaxTraces = 200
	DefaultMaxDepth  = 32
	DefaultMaxRefs   = 20_000
	DefaultMaxSpans  = 20_000
)

func (s Settings) withDefaults() Settings {
	if s.MaxTraces <= 0 {
		s.MaxTraces = DefaultMaxTraces
	}
	if s.MaxDepth <= 0 {
		s.MaxDepth = DefaultMaxDepth
	}
	if s.MaxRefs <= 0 {
		s.MaxRefs = DefaultMaxRefs
	}
	if s.MaxSpans <= 0 {
		s.MaxSpans = DefaultMaxSpans
	}
	return s
}

// Correlator answers correlation queries over one store. Safe for
// concurrent use; it holds no mutable state.
type Correlator struct {
	st  Store
	set Settings
}

// New returns a Correlator over st.
func New(st Store, s Settings) *Correlator {
	return &Correlator{st: st, set: s.withDefaults()}
}

// Status of a transaction or of one hop.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// Transaction is the connected component of traces joined by strong ids
// and span links, as far as the bounds allowed.
type Transaction struct {
	// TraceID is the trace the transaction was asked for.
	TraceID model.TraceID
	// Traces in order of their first span (missing ones last).
	Traces []TraceInfo
	// Spans of every trace, summaries only (store.SpanSummary), in time order.
	Spans []model.Span
	// Edges are the async hops, in order of the consumer's start.
	Edges []Edge
	// Status is StatusError when any span of any trace failed, whatever
	// the entry request answered.
	Status string
	// FailedTraces counts the traces with a span in error.
	FailedTraces int
	// Destinations are the queues, topics, streams, buckets, tables and
	// buses the transaction's messages went through, as either side saw
	// them (a message redriven to a DLQ keeps its id), sorted.
	Destinations []string
	// CriticalPath leads from the entry to the span that ended last, across hops.
	CriticalPath []Step
	// StartTime and EndTime are the first span start and the last span end
	// (Unix ns); DurationNs is their difference.
	StartTime  int64
	EndTime    int64
	DurationNs int64
	// Truncated is set when a bound stopped the walk or the span read;
	// TruncatedReasons says which ("max traces", "max depth", "max refs",
	// "max spans").
	Truncated        bool
	TruncatedReasons []string
}

// TraceInfo summarises one trace of a transaction.
type TraceInfo struct {
	TraceID model.TraceID
	// Depth is the number of hops from the requested trace.
	Depth       int
	RootService string
	RootName    string
	Function    string
	Trigger     string
	StartTime   int64
	DurationNs  int64
	SpanCount   int
	ErrorCount  int
	Status      string
	// Missing: refs point at the trace (a span link, say) but none of its
	// spans is stored (not sampled, not received yet, or expired).
	Missing bool
}

// Edge is one asynchronous hop from a producer span to a consumer span.
// Several strong ids between the same producer span and consumer trace (a
// batch sent and received whole) form one edge listing every id.
type Edge struct {
	ProducerTraceID model.TraceID
	ProducerSpanID  model.SpanID
	ConsumerTraceID model.TraceID
	ConsumerSpanID  model.SpanID
	// Channel is the kind of hop: sqs, sns, kinesis, s3, ddb, events,
	// lambda, sfn, link (a span link without a known message id), or the
	// messaging system another instrumentation reported.
	Channel     string
	Destination string
	// MessageIDs are the ids of the keys (the key without its kind prefix);
	// links contribute none.
	MessageIDs []string
	Keys       []string
	// ProducerEnd and ConsumerStart are Unix ns; ProducerEnd is 0 when the
	// producer span is not stored.
	ProducerEnd   int64
	ConsumerStart int64
	// LagNs is ConsumerStart − ProducerEnd, the time the message waited;
	// meaningful only when LagKnown. It may be slightly negative when the
	// consumer's clock runs behind the producer's.
	LagNs    int64
	LagKnown bool
	// Status is the consumer span's: StatusError when the hop failed.
	Status string
}

// Step is one element of a critical path: a span, or the wait of an async
// hop between a producer span's end and its consumer's start.
type Step struct {
	Kind      string // "span" or "hop"
	TraceID   model.TraceID
	SpanID    model.SpanID
	Service   string
	Name      string
	StartTime int64
	EndTime   int64
	// Channel and Destination of a hop step.
	Channel     string
	Destination string
}

// Transaction builds the transaction containing trace id. It returns an
// error wrapping store.ErrNotFound when the trace has neither spans nor refs.
func (c *Correlator) Transaction(ctx context.Context, id model.TraceID) (*Transaction, error) {
	g, err := c.walk(ctx, []model.TraceID{id}, c.limits())
	if err != nil {
		return nil, fmt.Errorf("build transaction of %s: %w", id, err)
	}
	spans, trunc, err := c.st.SpansOfTraces(ctx, g.order, store.SpanSummary, c.set.MaxSpans)
	if err != nil {
		return nil, fmt.Errorf("build transaction of %s: %w", id, err)
	}
	if len(spans) == 0 && len(g.refs) == 0 {
		return nil, fmt.Errorf("build transaction of %s: %w", id, store.ErrNotFound)
	}
	if trunc {
		g.truncate("max spans")
	}
	return assemble(id, g, spans), nil
}

// graph is the result of a walk: the traces found (with their depth), the
// refs read, and the producer–consumer pairs between traces of the component.
type graph struct {
	depth   map[model.TraceID]int
	order   []model.TraceID // discovery order
	refs    []model.MessageRef
	pairs   []pair
	reasons []string
}

func (g *graph) truncate(reason string) {
	if !slices.Contains(g.reasons, reason) {
		g.reasons = append(g.reasons, reason)
	}
}

func (g *graph) add(id model.TraceID, depth int) {
	if _, ok := g.depth[id]; !ok {
		g.depth[id] = depth
		g.order = append(g.order, id)
	}
}

// pair joins two refs of one key: a producer and a consumer, or (when the
// key has no producer row) two consumers of the same message, such as the
// attempts of an SQS message whose sender was not instrumented.
type pair struct {
	from, to model.MessageRef
	edge     bool // from is a producer
}

// limits bound one walk.
type limits struct{ traces, depth, refs int }

func (c *Correlator) limits() limits {
	return limits{c.set.MaxTraces, c.set.MaxDepth, c.set.MaxRefs}
}

// walk is the breadth-first search: refs of the traces found so far →
// keys → refs of those keys → traces paired with a trace found so far →
// … until nothing new turns up or a bound is hit. Each step is two
// batched, indexed lookups whatever the number of traces in the frontier,
// so a walk from many seeds costs about as many queries as one from one.
func (c *Correlator) walk(ctx context.Context, seeds []model.TraceID, lim limits) (*graph, error) {
	g := &graph{depth: map[model.TraceID]int{}}
	for _, s := range seeds {
		g.add(s, 0)
	}
	frontier := slices.Clone(g.order)
	keysSeen := map[string]struct{}{}
	refSeen := map[refID]struct{}{}
	byKey := map[string][]model.MessageRef{}
	pairsByKey := map[string][]pair{}
	for depth := 1; len(frontier) > 0; depth++ {
		budget := lim.refs - len(g.refs)
		if budget <= 0 {
			g.truncate("max refs")
			break
		}
		own, trunc, err := c.st.RefsOfTraces(ctx, frontier, budget)
		if err != nil {
			return nil, err
		}
		if trunc {
			g.truncate("max refs")
		}
		var keys []string
		for _, r := range own {
			if _, ok := keysSeen[r.Key]; !ok {
				keysSeen[r.Key] = struct{}{}
				keys = append(keys, r.Key)
			}
		}
		if len(keys) == 0 {
			break
		}
		if depth > lim.depth {
			g.truncate("max depth")
			break
		}
		budget = lim.refs - len(g.refs)
		if budget <= 0 {
			g.truncate("max refs")
			break
		}
		rows, trunc, err := c.st.RefsByKeys(ctx, keys, budget)
		if err != nil {
			return nil, err
		}
		if trunc {
			g.truncate("max refs")
		}
		changed := map[string]struct{}{}
		for _, r := range rows {
			id := refID{r.Key, r.Role, r.TraceID, r.SpanID}
			if _, dup := refSeen[id]; dup {
				continue
			}
			refSeen[id] = struct{}{}
			g.refs = append(g.refs, r)
			byKey[r.Key] = append(byKey[r.Key], r)
			changed[r.Key] = struct{}{}
		}
		var fresh []pair
		for k := range changed {
			pairsByKey[k] = pairKey(byKey[k])
			fresh = append(fresh, pairsByKey[k]...)
		}
		// Close over the new pairs: a trace joins when it is paired with a
		// member, which may itself have joined in this round.
		before := len(g.order)
		for grown := true; grown; {
			grown = false
			for _, p := range fresh {
				_, inFrom := g.depth[p.from.TraceID]
				_, inTo := g.depth[p.to.TraceID]
				if inFrom == inTo {
					continue
				}
				if len(g.order) >= lim.traces {
					g.truncate("max traces")
					break
				}
				if inFrom {
					g.add(p.to.TraceID, depth)
				} else {
					g.add(p.from.TraceID, depth)
				}
				grown = true
			}
		}
		frontier = slices.Clone(g.order[before:])
	}
	// Keep only pairs inside the component (a cut walk leaves some out).
	for _, ps := range pairsByKey {
		for _, p := range ps {
			_, a := g.depth[p.from.TraceID]
			_, b := g.depth[p.to.TraceID]
			if a && b {
				g.pairs = append(g.pairs, p)
			}
		}
	}
	slices.SortFunc(g.pairs, func(a, b pair) int {
		if c := compareRefTime(a.to, b.to); c != 0 {
			return c
		}
		return strings.Compare(a.from.Key, b.from.Key)
	})
	return g, nil
}

// Components groups traces into transactions without reading their spans:
// one walk from all seeds at once, then a union of the pairs found. It is
// the bulk form of Transaction — what a search, a detector or a sampler
// that must place every new trace in its transaction would call — and
// returns, for each group of seeds sharing a transaction, the transaction's
// trace ids (seeds first, in the order given). Bounds scale with the seed
// count, up to store.MaxCorrelationRows refs.
func (c *Correlator) Components(ctx context.Context, seeds []model.TraceID) ([][]model.TraceID, bool, error) {
	n := max(1, len(seeds))
	lim := c.limits()
	lim.traces = min(lim.traces*n, store.MaxCorrelationRows)
	lim.refs = min(lim.refs*n, store.MaxCorrelationRows)
	g, err := c.walk(ctx, seeds, lim)
	if err != nil {
		return nil, false, fmt.Errorf("group traces into transactions: %w", err)
	}
	parent := map[model.TraceID]model.TraceID{}
	var find func(model.TraceID) model.TraceID
	find = func(x model.TraceID) model.TraceID {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for _, p := range g.pairs {
		a, b := find(p.from.TraceID), find(p.to.TraceID)
		if a != b {
			parent[a] = b
		}
	}
	groups := map[model.TraceID]int{}
	placed := map[model.TraceID]bool{}
	var out [][]model.TraceID
	add := func(id model.TraceID) {
		if placed[id] {
			return
		}
		placed[id] = true
		r := find(id)
		i, ok := groups[r]
		if !ok {
			i = len(out)
			groups[r] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], id)
	}
	for _, s := range seeds {
		add(s)
	}
	for _, id := range g.order {
		add(id)
	}
	return out, len(g.reasons) > 0, nil
}

type refID struct {
	key   string
	role  model.RefRole
	trace model.TraceID
	span  model.SpanID
}

// pairKey pairs the rows of one key. Every consumer row is paired with
// the producer that most plausibly sent it: the latest one that ended no
// later than the consumer started, else the earliest (a delivery that
// began before the send call returned, or clocks apart).
// Strong ids are unique for most hops, so this matters only where they
// are not: DynamoDB key hashes repeat when the same item is written again,
// and pairing each stream record with the nearest write keeps unrelated
// writers of the same item out of the transaction. Rows of one span on
// both sides (a span linking to itself) pair with nothing.
func pairKey(rows []model.MessageRef) []pair {
	var prods, cons []model.MessageRef
	for _, r := range rows {
		switch r.Role {
		case model.RoleProducer:
			prods = append(prods, r)
		case model.RoleConsumer:
			cons = append(cons, r)
		}
	}
	var out []pair
	if len(prods) == 0 {
		// Consumers of one message without a known producer: chain them to
		// the first, so they still form one transaction.
		slices.SortFunc(cons, compareRefTime)
		for i := 1; i < len(cons); i++ {
			if cons[i].TraceID != cons[0].TraceID {
				out = append(out, pair{from: cons[0], to: cons[i]})
			}
		}
		return out
	}
	slices.SortFunc(prods, compareRefTime)
	for _, cr := range cons {
		best := -1
		for i, p := range prods {
			if p.Time <= cr.Time {
				best = i
			}
		}
		if best < 0 {
			best = 0
		}
		p := prods[best]
		if p.TraceID == cr.TraceID && p.SpanID == cr.SpanID {
			continue
		}
		out = append(out, pair{from: p, to: cr, edge: true})
	}
	return out
}

func compareRefTime(a, b model.MessageRef) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.TraceID[:]), string(b.TraceID[:])); c != 0 {
		return c
	}
	return strings.Compare(string(a.SpanID[:]), string(b.SpanID[:]))
}

// channelOf is the hop kind of a key: its prefix ("sqs:abc" → "sqs").
func channelOf(key string) string {
	k, _, ok := strings.Cut(key, ":")
	if !ok {
		return ""
	}
	return k
}

// idOfKey is the message id of a key: what follows the kind prefix.
func idOfKey(key string) string {
	_, id, ok := strings.Cut(key, ":")
	if !ok {
		return key
	}
	return id
}

// IsNotFound reports whether err means nothing was stored for the request.
func IsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
