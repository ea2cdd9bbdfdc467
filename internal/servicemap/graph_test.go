package servicemap_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/ariadnehq/ariadne/internal/servicemap"
	"github.com/ariadnehq/ariadne/internal/store"
)

// rows is a store.ServiceMapReader answering canned rows: the graph rules
// (which node a row makes, how rows merge, the bounds) are tested here on
// shapes the real topologies of the other tests do not have; the engine's
// side is the conformance suite's.
type rows struct {
	nodes     []store.NodeRow
	calls     []store.CallRow
	hops      []store.HopRow
	truncated bool
}

func (r *rows) MapCalls(context.Context, store.MapQuery) ([]store.CallRow, bool, error) {
	return r.calls, r.truncated, nil
}
func (r *rows) MapHops(context.Context, store.MapQuery) ([]store.HopRow, bool, error) {
	return r.hops, false, nil
}
func (r *rows) MapNodes(context.Context, store.MapQuery) ([]store.NodeRow, bool, error) {
	return r.nodes, false, nil
}
func (r *rows) RED(context.Context, store.REDQuery) ([]store.REDRow, bool, error) {
	return nil, false, nil
}
func (r *rows) Cost(context.Context, store.CostQuery) ([]store.CostRow, bool, error) {
	return nil, false, nil
}

func fn(name string) store.Endpoint  { return store.Endpoint{Service: name, Function: name} }
func svc(name string) store.Endpoint { return store.Endpoint{Service: name} }
func lat(ms int64) store.Latency {
	return store.Latency{P50: ms * 1e6, P95: 2 * ms * 1e6, P99: 3 * ms * 1e6}
}

func TestGraphRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rows      rows
		set       servicemap.Settings
		nodes     []string
		edges     []string // "<id> <count>/<errors>"
		truncated []string
	}{
		{
			name: "fan-out through a topic to two queues",
			rows: rows{
				calls: []store.CallRow{{Caller: fn("api"), PeerKind: "topic", Peer: "orders", Messaging: true, Count: 4, Latency: lat(5)}},
				hops: []store.HopRow{
					{Producer: fn("api"), Consumer: fn("billing"), Channel: "sns", ProducerDestination: "orders",
						ConsumerDestination: "billing-q", ConsumerSystem: "aws_sqs", Count: 4, Errors: 1, Latency: lat(50), Lag: lat(900), LagCount: 4},
					{Producer: fn("api"), Consumer: fn("audit"), Channel: "sns", ProducerDestination: "orders",
						ConsumerDestination: "orders", ConsumerSystem: "aws_sns", Count: 4, Latency: lat(20), Lag: lat(100), LagCount: 3},
				},
			},
			nodes: []string{"function:api", "function:audit", "function:billing", "queue:billing-q", "topic:orders"},
			edges: []string{
				"function:api|topic:orders|produce 4/0",
				"queue:billing-q|function:billing|consume 4/1",
				"topic:orders|function:audit|consume 4/0",
				"topic:orders|queue:billing-q|route 4/0",
			},
		},
		{
			name: "async invoke without channel, producer span missing, sends seen only as hops",
			rows: rows{
				hops: []store.HopRow{
					{Producer: fn("a"), Consumer: fn("b"), Channel: "lambda", Count: 2, Latency: lat(10), Lag: lat(30), LagCount: 2},
					{Consumer: fn("c"), Channel: "sqs", ConsumerDestination: "jobs", ConsumerSystem: "aws_sqs", Count: 3, Latency: lat(10)},
					{Producer: fn("d"), Consumer: fn("e"), Channel: "kinesis", ProducerDestination: "clicks", Count: 2, Latency: lat(10)},
					{Producer: fn("d"), Consumer: fn("f"), Channel: "kinesis", ProducerDestination: "clicks", Count: 5, Latency: lat(10)},
				},
			},
			nodes: []string{"function:a", "function:b", "function:c", "function:d", "function:e", "function:f", "queue:jobs", "stream:clicks"},
			edges: []string{
				"function:a|function:b|invoke 2/0",
				"function:d|stream:clicks|produce 7/0",
				"queue:jobs|function:c|consume 3/0",
				"stream:clicks|function:e|consume 2/0",
				"stream:clicks|function:f|consume 5/0",
			},
		},
		{
			name: "services, peers and merged groups",
			rows: rows{
				nodes: []store.NodeRow{{Endpoint: svc("web"), Count: 10, Errors: 1, Latency: lat(100)}},
				calls: []store.CallRow{
					{Caller: svc("web"), Callee: fn("api"), Count: 6, Errors: 1, Latency: lat(80)},
					{Caller: svc("web"), Callee: fn("api"), Count: 4, Latency: lat(40)},
					{Caller: fn("api"), PeerKind: "database", Peer: "postgresql", Count: 9, Latency: lat(3)},
					{Caller: fn("api"), PeerKind: "bucket", Peer: "invoices", Count: 1, Latency: lat(3)},
				},
			},
			nodes: []string{"bucket:invoices", "database:postgresql", "function:api", "service:web"},
			edges: []string{
				"function:api|bucket:invoices|produce 1/0",
				"function:api|database:postgresql|call 9/0",
				"service:web|function:api|call 10/1",
			},
		},
		{
			name: "bounds keep the busiest",
			set:  servicemap.Settings{MaxEdges: 2, MaxNodes: 3},
			rows: rows{
				truncated: true,
				calls: []store.CallRow{
					{Caller: svc("a"), PeerKind: "http", Peer: "h1", Count: 30},
					{Caller: svc("a"), PeerKind: "http", Peer: "h2", Count: 20},
					{Caller: svc("b"), PeerKind: "http", Peer: "h3", Count: 10},
				},
			},
			nodes:     []string{"http:h1", "http:h2", "service:a"},
			edges:     []string{"service:a|http:h1|call 30/0", "service:a|http:h2|call 20/0"},
			truncated: []string{"max rows", "max edges", "max nodes"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := servicemap.New(&tc.rows, tc.set).Build(t.Context(), servicemap.Query{Start: 1, End: 1 + 60e9})
			if err != nil {
				t.Fatal(err)
			}
			var nodes, edges []string
			for _, n := range m.Nodes {
				nodes = append(nodes, n.ID)
			}
			for _, e := range m.Edges {
				edges = append(edges, fmt.Sprintf("%s %d/%d", e.ID, e.Count, e.Errors))
			}
			if !slices.Equal(nodes, tc.nodes) {
				t.Errorf("nodes\n got %v\nwant %v", nodes, tc.nodes)
			}
			if !slices.Equal(edges, tc.edges) {
				t.Errorf("edges\n got %v\nwant %v", edges, tc.edges)
			}
			if !slices.Equal(m.TruncatedReasons, tc.truncated) || m.Truncated != (len(tc.truncated) > 0) {
				t.Errorf("truncated %v %v, want %v", m.Truncated, m.TruncatedReasons, tc.truncated)
			}
		})
	}
}

// TestGraphFigures checks the derived figures of one edge and node: rates
// over the range, the merged percentiles and the lag.
func TestGraphFigures(t *testing.T) {
	r := rows{
		nodes: []store.NodeRow{{Endpoint: fn("b"), Count: 30, Errors: 3, ColdStarts: 6, Latency: lat(50)}},
		hops: []store.HopRow{
			{Producer: fn("a"), Consumer: fn("b"), Channel: "sqs", ProducerDestination: "q", Count: 20, Errors: 2, Latency: lat(50), Lag: lat(1000), LagCount: 20},
			{Producer: fn("a"), Consumer: fn("b"), Channel: "link", ProducerDestination: "q", Count: 10, Errors: 1, Latency: lat(200), Lag: lat(10), LagCount: 5},
		},
	}
	m, err := servicemap.New(&r, servicemap.Settings{}).Build(t.Context(), servicemap.Query{Start: 0 + 1, End: 1 + 60e9})
	if err != nil {
		t.Fatal(err)
	}
	var e *servicemap.Edge
	for i := range m.Edges {
		if m.Edges[i].Kind == servicemap.EdgeConsume {
			e = &m.Edges[i]
		}
	}
	if e == nil {
		t.Fatalf("no consume edge: %+v", m.Edges)
	}
	want := servicemap.Stats{Count: 30, Errors: 3, Rate: 0.5, ErrorRate: 0.1, P50: 50e6, P95: 400e6, P99: 600e6}
	if e.Stats != want {
		t.Errorf("edge stats %+v, want %+v", e.Stats, want)
	}
	if e.Lag == nil || *e.Lag != (servicemap.Latency{P50: 1000e6, P95: 2000e6, P99: 3000e6}) || e.LagCount != 25 {
		t.Errorf("lag %+v over %d", e.Lag, e.LagCount)
	}
	for _, n := range m.Nodes {
		if n.ID == "function:b" && (n.ColdStartShare != 0.2 || n.Rate != 0.5 || !n.Instrumented) {
			t.Errorf("node %+v", n)
		}
		if n.ID == "queue:q" && (n.Count != 30 || n.Instrumented) {
			t.Errorf("channel node %+v: want the sum of its incoming edges", n)
		}
	}
}
