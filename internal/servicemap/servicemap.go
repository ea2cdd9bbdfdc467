// Package servicemap draws the system as a graph and measures it: nodes
// for functions, services, queues, topics, streams, buckets, tables,
// workflows, databases and external hosts; edges for synchronous calls
// and for asynchronous hops through their channel, each with rate, error
// rate, latency percentiles and, for hops, the time messages waited (queue
// lag); RED time series per service, function and operation; and what
// functions and transactions cost.
//
// Everything is derived at request time from aggregate queries of
// store.ServiceMapReader, so the package keeps no state and runs unchanged
// on every node of a scale-out deployment. The store answers them from
// raw data or, for settled minutes, from per-minute rollups of the same
// queries that agree with the raw data on every count (percentiles within
// store.MaxPercentileError; docs/servicemap.md "Rollups"). The package
// owns how rows become nodes and edges (the same for every engine); it
// must not write to the store, import an engine, or run per-span work in
// Go.
package servicemap

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Settings bound the answers. Zero fields take the defaults.
type Settings struct {
	// MaxNodes caps the nodes of a map (default 2000): the busiest stay.
	MaxNodes int
	// MaxEdges caps the edges of a map (default 5000).
	MaxEdges int
	// MaxSeries caps the series of one RED answer (default 50).
	MaxSeries int
	// Pricing prices invocations; zero means invocation.DefaultPricing().
	Pricing invocation.Pricing
}

// Defaults of Settings.
const (
	DefaultMaxNodes  = 2000
	DefaultMaxEdges  = 5000
	DefaultMaxSeries = 50
)

func (s Settings) withDefaults() Settings {
	if s.MaxNodes <= 0 {
		s.MaxNodes = DefaultMaxNodes
	}
	if s.MaxEdges <= 0 {
		s.MaxEdges = DefaultMaxEdges
	}
	if s.MaxSeries <= 0 {
		s.MaxSeries = DefaultMaxSeries
	}
	if s.Pricing == (invocation.Pricing{}) {
		s.Pricing = invocation.DefaultPricing()
	}
	return s
}

// Mapper answers map, RED and cost queries over one store. Safe for
// concurrent use; it holds no mutable state.
type Mapper struct {
	st  store.ServiceMapReader
	set Settings
}

// New returns a Mapper over st.
func New(st store.ServiceMapReader, s Settings) *Mapper {
	return &Mapper{st: st, set: s.withDefaults()}
}

// Pricing is the price list in force.
func (m *Mapper) Pricing() invocation.Pricing { return m.set.Pricing }

// Node kinds. Function and service nodes run code (their spans are
// stored); the others are what that code called or sent to.
const (
	KindFunction = "function"
	KindService  = "service"
	KindQueue    = store.PeerQueue
	KindTopic    = store.PeerTopic
	KindStream   = store.PeerStream
	KindBus      = store.PeerBus
	KindBucket   = store.PeerBucket
	KindTable    = store.PeerTable
	KindWorkflow = store.PeerWorkflow
	KindDatabase = store.PeerDatabase
	KindHTTP     = store.PeerHTTP
	KindAWS      = store.PeerAWS
)

// Edge kinds.
const (
	// EdgeCall is a synchronous call: a client span and the callee's
	// server span, or a client span to an uninstrumented peer.
	EdgeCall = "call"
	// EdgeProduce is a send to a channel (queue, topic, stream, bucket …).
	EdgeProduce = "produce"
	// EdgeRoute is a channel delivering to another (a topic to the
	// queues subscribed to it).
	EdgeRoute = "route"
	// EdgeConsume is a channel's messages processed by a consumer; it
	// carries the queue lag.
	EdgeConsume = "consume"
	// EdgeInvoke is an asynchronous invocation of one function by
	// another (Lambda Invoke with InvocationType Event) without channel.
	EdgeInvoke = "invoke"
)

// Query selects a map.
type Query struct {
	// Start and End (Unix ns) bound the spans. With TraceIDs they are
	// optional and only narrow the scan (the traces' time span); rates
	// are then 0, as a set of traces has no meaningful rate.
	Start, End int64
	// Environment keeps spans of deployment.environment.name = it.
	Environment string
	// TraceIDs, when set, draws only these traces: the map of one
	// transaction (internal/correlate finds its traces).
	TraceIDs []model.TraceID
}

// Stats are the RED figures of a node or an edge.
type Stats struct {
	Count  int64
	Errors int64
	// Rate is Count per second over the range; 0 for a map of traces.
	Rate float64
	// ErrorRate is Errors / Count.
	ErrorRate float64
	// Percentiles of the duration, ns. Where several groups of rows were
	// merged into one node or edge (rare: a topic reached by two kinds of
	// key), P50 is the busiest group's and P95, P99 the largest.
	P50, P95, P99 int64
}

// Node is one vertex of the map.
type Node struct {
	// ID is "<kind>:<name>", unique in the map.
	ID   string
	Kind string
	Name string
	// Service is the service.name of a function node's spans.
	Service string
	// Instrumented: the node's own spans are stored, so Stats are the
	// requests it served; otherwise Stats sum the edges into it.
	Instrumented bool
	Stats
	ColdStarts int64
	// ColdStartShare is ColdStarts / Count.
	ColdStartShare float64
}

// Edge is one arc of the map.
type Edge struct {
	// ID is "<from>|<to>|<kind>", unique in the map.
	ID   string
	From string
	To   string
	Kind string
	Stats
	// Lag is the time messages waited between the producer span's end
	// and the consumer span's start, on consume and invoke edges whose
	// producer span is stored (LagCount hops).
	Lag      *Latency
	LagCount int64
}

// Latency is a set of percentiles, ns.
type Latency struct {
	P50, P95, P99 int64
}

// Map is the graph of a time range or of a set of traces.
type Map struct {
	Start, End int64
	Nodes      []Node
	Edges      []Edge
	// Truncated is set when a bound cut the answer; TruncatedReasons say
	// which ("max nodes", "max edges", "max rows").
	Truncated        bool
	TruncatedReasons []string
}

// Build draws the map of q.
func (m *Mapper) Build(ctx context.Context, q Query) (*Map, error) {
	if len(q.TraceIDs) > store.MaxMapTraces {
		return nil, fmt.Errorf("build map: %d traces, at most %d: %w", len(q.TraceIDs), store.MaxMapTraces, store.ErrInvalid)
	}
	sq := store.MapQuery{TimeRange: store.TimeRange{Start: q.Start, End: q.End}, Environment: q.Environment, TraceIDs: q.TraceIDs}
	// The three queries are independent: run them at once, so that an
	// engine that answers each on one thread uses the cores it has.
	var (
		nodes      []store.NodeRow
		calls      []store.CallRow
		hops       []store.HopRow
		tn, tc, th bool
		errs       [3]error
		wg         sync.WaitGroup
	)
	wg.Go(func() { nodes, tn, errs[0] = m.st.MapNodes(ctx, sq) })
	wg.Go(func() { calls, tc, errs[1] = m.st.MapCalls(ctx, sq) })
	hops, th, errs[2] = m.st.MapHops(ctx, sq)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("build map: %w", err)
		}
	}
	g := newGraph(q.Start, q.End)
	if len(q.TraceIDs) > 0 {
		g.noRates = true
	}
	for _, r := range nodes {
		g.entry(r)
	}
	for _, r := range calls {
		g.call(r)
	}
	for _, r := range hops {
		g.hop(r)
	}
	out := g.finish(m.set.MaxNodes, m.set.MaxEdges)
	if tn || tc || th {
		out.Truncated = true
		out.TruncatedReasons = append([]string{"max rows"}, out.TruncatedReasons...)
	}
	return out, nil
}

// graph accumulates nodes and edges while rows are read.
type graph struct {
	start, end int64
	nodes      map[string]*Node
	edges      map[string]*edgeAcc
	// hopSends are the produce edges that hops, not calls, created.
	hopSends map[string]bool
	// noRates: the map of a set of traces has counts but no rates.
	noRates bool
}

type edgeAcc struct {
	Edge
	busiest int64 // count of the group whose P50 the edge shows
	lagBusy int64
}

func newGraph(start, end int64) *graph {
	return &graph{start: start, end: end, nodes: map[string]*Node{}, edges: map[string]*edgeAcc{}, hopSends: map[string]bool{}}
}

func nodeID(kind, name string) string { return kind + ":" + name }

func endpointNode(e store.Endpoint) (id, kind, name string) {
	if e.Function != "" {
		return nodeID(KindFunction, e.Function), KindFunction, e.Function
	}
	return nodeID(KindService, e.Service), KindService, e.Service
}

func (g *graph) node(kind, name string) *Node {
	id := nodeID(kind, name)
	n := g.nodes[id]
	if n == nil {
		n = &Node{ID: id, Kind: kind, Name: name}
		g.nodes[id] = n
	}
	return n
}

func (g *graph) endpoint(e store.Endpoint) *Node {
	_, kind, name := endpointNode(e)
	n := g.node(kind, name)
	n.Instrumented = true
	if n.Service == "" {
		n.Service = e.Service
	}
	return n
}

func (g *graph) entry(r store.NodeRow) {
	n := g.endpoint(r.Endpoint)
	mergeStats(&n.Stats, r.Count, r.Errors, latency(r.Latency), new(int64))
	n.ColdStarts += r.ColdStarts
}

func latency(l store.Latency) Latency { return Latency(l) }

// mergeStats adds a group of count rows with percentiles l to s; busiest
// tracks the largest group so far.
func mergeStats(s *Stats, count, errors int64, l Latency, busiest *int64) {
	s.Count += count
	s.Errors += errors
	if count > *busiest {
		*busiest = count
		s.P50 = l.P50
	}
	s.P95 = max(s.P95, l.P95)
	s.P99 = max(s.P99, l.P99)
}

func (g *graph) edge(from, to *Node, kind string) *edgeAcc {
	id := from.ID + "|" + to.ID + "|" + kind
	e := g.edges[id]
	if e == nil {
		e = &edgeAcc{Edge: Edge{ID: id, From: from.ID, To: to.ID, Kind: kind}}
		g.edges[id] = e
	}
	return e
}

func (g *graph) call(r store.CallRow) {
	from := g.endpoint(r.Caller)
	var to *Node
	kind := EdgeCall
	if r.PeerKind != "" {
		to = g.node(r.PeerKind, r.Peer)
		if r.Messaging || isChannel(r.PeerKind) {
			kind = EdgeProduce
		}
	} else {
		to = g.endpoint(r.Callee)
	}
	e := g.edge(from, to, kind)
	mergeStats(&e.Stats, r.Count, r.Errors, latency(r.Latency), &e.busiest)
}

func isChannel(kind string) bool {
	switch kind {
	case KindQueue, KindTopic, KindStream, KindBus, KindBucket, KindWorkflow:
		return true
	}
	return false
}

// channelKind is the node kind of the channel a key kind goes through;
// "" for a direct function invocation.
func channelKind(channel, system string) string {
	switch channel {
	case "sqs":
		return KindQueue
	case "sns":
		return KindTopic
	case "kinesis":
		return KindStream
	case "s3":
		return KindBucket
	case "ddb":
		return KindTable
	case "events":
		return KindBus
	case "sfn":
		return KindWorkflow
	case "lambda":
		return ""
	}
	return systemKind(system)
}

// systemKind is the node kind of a destination of messaging.system.
func systemKind(system string) string {
	switch system {
	case "aws_sns", "kafka", "gcp_pubsub":
		return KindTopic
	case "aws_kinesis":
		return KindStream
	case "aws_eventbridge":
		return KindBus
	}
	return KindQueue
}

func (g *graph) hop(r store.HopRow) {
	to := g.endpoint(r.Consumer)
	var from *Node
	if r.Producer != (store.Endpoint{}) {
		from = g.endpoint(r.Producer)
	}
	lag := latency(r.Lag)
	consume := func(e *edgeAcc) {
		mergeStats(&e.Stats, r.Count, r.Errors, latency(r.Latency), &e.busiest)
		if r.LagCount > 0 {
			if e.Lag == nil {
				e.Lag = &Latency{}
			}
			if r.LagCount > e.lagBusy {
				e.lagBusy = r.LagCount
				e.Lag.P50 = lag.P50
			}
			e.Lag.P95 = max(e.Lag.P95, lag.P95)
			e.Lag.P99 = max(e.Lag.P99, lag.P99)
			e.LagCount += r.LagCount
		}
	}
	kind := channelKind(r.Channel, r.ConsumerSystem)
	if kind == "" {
		if from != nil {
			consume(g.edge(from, to, EdgeInvoke))
		}
		return
	}
	name := r.ProducerDestination
	if name == "" {
		name = r.ConsumerDestination
	}
	if name == "" {
		name = r.Channel
	}
	ch := g.node(kind, name)
	if from != nil {
		// The send is normally an edge already (MapCalls saw the
		// producer span); add it only for producers whose span named no
		// destination, so sends are not counted twice.
		id := from.ID + "|" + ch.ID + "|" + EdgeProduce
		if _, ok := g.edges[id]; !ok || g.hopSends[id] {
			g.hopSends[id] = true
			e := g.edge(from, ch, EdgeProduce)
			mergeStats(&e.Stats, r.Count, 0, Latency{}, &e.busiest)
		}
	}
	if r.ConsumerDestination != "" && r.ConsumerDestination != name {
		next := g.node(systemKind(r.ConsumerSystem), r.ConsumerDestination)
		e := g.edge(ch, next, EdgeRoute)
		mergeStats(&e.Stats, r.Count, 0, Latency{}, &e.busiest)
		ch = next
	}
	consume(g.edge(ch, to, EdgeConsume))
}

// finish derives rates, sums the stats of uninstrumented nodes from their
// incoming edges, applies the bounds and sorts (nodes by id, edges by id)
// so that answers are stable.
func (g *graph) finish(maxNodes, maxEdges int) *Map {
	out := &Map{Start: g.start, End: g.end, Nodes: []Node{}, Edges: []Edge{}}
	secs := float64(g.end-g.start) / 1e9
	if g.start == 0 || g.end == 0 || g.noRates {
		secs = 0
	}
	edges := make([]*edgeAcc, 0, len(g.edges))
	for _, e := range g.edges {
		edges = append(edges, e)
	}
	slices.SortFunc(edges, func(a, b *edgeAcc) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(edges) > maxEdges {
		edges = edges[:maxEdges]
		out.Truncated = true
		out.TruncatedReasons = append(out.TruncatedReasons, "max edges")
	}
	busiest := map[string]*int64{}
	for _, e := range edges {
		to := g.nodes[e.To]
		if to.Instrumented {
			continue
		}
		b := busiest[to.ID]
		if b == nil {
			b = new(int64)
			busiest[to.ID] = b
		}
		mergeStats(&to.Stats, e.Count, e.Errors, Latency{e.P50, e.P95, e.P99}, b)
	}
	nodes := make([]*Node, 0, len(g.nodes))
	for _, n := range g.nodes {
		nodes = append(nodes, n)
	}
	if len(nodes) > maxNodes {
		// A node weighs what it served plus the traffic of its edges, so
		// that a busy caller without entry spans of its own (a cron, a
		// script) is kept with its callees.
		weight := map[string]int64{}
		for _, n := range nodes {
			weight[n.ID] = n.Count
		}
		for _, e := range edges {
			weight[e.From] += e.Count
			weight[e.To] += e.Count
		}
		slices.SortFunc(nodes, func(a, b *Node) int {
			if c := cmp.Compare(weight[b.ID], weight[a.ID]); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		nodes = nodes[:maxNodes]
		out.Truncated = true
		out.TruncatedReasons = append(out.TruncatedReasons, "max nodes")
	}
	kept := map[string]bool{}
	for _, n := range nodes {
		kept[n.ID] = true
		rates(&n.Stats, secs)
		if n.Count > 0 {
			n.ColdStartShare = float64(n.ColdStarts) / float64(n.Count)
		}
		out.Nodes = append(out.Nodes, *n)
	}
	for _, e := range edges {
		if !kept[e.From] || !kept[e.To] {
			continue
		}
		rates(&e.Stats, secs)
		out.Edges = append(out.Edges, e.Edge)
	}
	slices.SortFunc(out.Nodes, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Edges, func(a, b Edge) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func rates(s *Stats, secs float64) {
	if secs > 0 {
		s.Rate = float64(s.Count) / secs
	}
	if s.Count > 0 {
		s.ErrorRate = float64(s.Errors) / float64(s.Count)
	}
}
