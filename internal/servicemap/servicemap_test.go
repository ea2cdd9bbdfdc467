package servicemap_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/servicemap"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// base is 2026-03-01T12:00:00Z.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) int64 { return base.Add(d).UnixNano() }

func tid(n int) model.TraceID {
	var t model.TraceID
	binary.BigEndian.PutUint64(t[:8], 0x5e7a000000000000|uint64(n))
	binary.BigEndian.PutUint64(t[8:], uint64(n)*0x9e3779b97f4a7c15+1)
	return t
}

func sid(trace, n int) model.SpanID {
	var s model.SpanID
	binary.BigEndian.PutUint64(s[:], uint64(trace<<16|n)*0xbf58476d1ce4e5b9+1)
	return s
}

func str(s string) model.Value { return model.Value{Type: model.TypeString, Str: s} }

// topology writes n orders of a small shop, with known figures:
//
//	web (service, stock OTel) GET /checkout ─call→ checkout (function)
//	checkout ─call→ postgresql (database), ─produce→ queue orders
//	queue orders ─consume→ fulfil (function), 2 s later
//	fulfil ─call→ api.stripe.com (http), failing for every 4th order
//
// Every order is in environment prod except every 5th (staging).
func topology(n int) model.Batch {
	var b model.Batch
	for i := range n {
		t0 := at(time.Duration(i) * time.Second)
		env := "prod"
		if i%5 == 4 {
			env = "staging"
		}
		res := func(svc string) model.Attributes {
			return model.Attributes{{Key: "service.name", Value: str(svc)}, {Key: "deployment.environment.name", Value: str(env)}}
		}
		web, fn := tid(2*i+1), tid(2*i+2)
		msg := fmt.Sprintf("sqs:msg-%d", i)
		fail := i%4 == 3
		stripeStatus := model.StatusOK
		if fail {
			stripeStatus = model.StatusError
		}
		b.Spans = append(b.Spans,
			model.Span{TraceID: web, SpanID: sid(2*i+1, 1), StartTime: t0, DurationNs: 300e6, Name: "GET /checkout",
				Kind: model.KindServer, Service: "web", ResourceAttributes: res("web")},
			model.Span{TraceID: web, SpanID: sid(2*i+1, 2), ParentSpanID: sid(2*i+1, 1), StartTime: t0 + 10e6, DurationNs: 200e6,
				Name: "POST", Kind: model.KindClient, Service: "web", ResourceAttributes: res("web"),
				Attributes: model.Attributes{{Key: "server.address", Value: str("checkout.internal")}}},
			model.Span{TraceID: web, SpanID: sid(2*i+1, 3), ParentSpanID: sid(2*i+1, 2), StartTime: t0 + 20e6, DurationNs: 150e6,
				Name: "POST /checkout", Kind: model.KindServer, Service: "checkout", Function: "checkout", Trigger: "apigateway",
				ColdStart: i == 0, InvocationID: fmt.Sprintf("req-c-%d", i), ResourceAttributes: res("checkout")},
			model.Span{TraceID: web, SpanID: sid(2*i+1, 4), ParentSpanID: sid(2*i+1, 3), StartTime: t0 + 30e6, DurationNs: 20e6,
				Name: "INSERT orders", Kind: model.KindClient, Service: "checkout", Function: "checkout", DBSystem: "postgresql",
				ResourceAttributes: res("checkout")},
			model.Span{TraceID: web, SpanID: sid(2*i+1, 5), ParentSpanID: sid(2*i+1, 3), StartTime: t0 + 60e6, DurationNs: 40e6,
				Name: "orders send", Kind: model.KindProducer, Service: "checkout", Function: "checkout",
				MessagingSystem: "aws_sqs", Destination: "orders", ResourceAttributes: res("checkout")},
			model.Span{TraceID: fn, SpanID: sid(2*i+2, 1), StartTime: t0 + 100e6 + 2e9, DurationNs: 500e6,
				Name: "fulfil", Kind: model.KindConsumer, Service: "fulfil", Function: "fulfil", Trigger: "sqs",
				MessagingSystem: "aws_sqs", Destination: "orders", StatusCode: stripeStatus,
				InvocationID: fmt.Sprintf("req-f-%d", i), ResourceAttributes: res("fulfil")},
			model.Span{TraceID: fn, SpanID: sid(2*i+2, 2), ParentSpanID: sid(2*i+2, 1), StartTime: t0 + 150e6 + 2e9, DurationNs: 100e6,
				Name: "POST", Kind: model.KindClient, Service: "fulfil", Function: "fulfil", StatusCode: stripeStatus,
				Attributes: model.Attributes{{Key: "server.address", Value: str("api.stripe.com")}}, ResourceAttributes: res("fulfil")},
		)
		b.MessageRefs = append(b.MessageRefs,
			model.MessageRef{Key: msg, Role: model.RoleProducer, TraceID: web, SpanID: sid(2*i+1, 5), Time: t0 + 100e6, Destination: "orders"},
			model.MessageRef{Key: msg, Role: model.RoleConsumer, TraceID: fn, SpanID: sid(2*i+2, 1), Time: t0 + 100e6 + 2e9, Destination: "orders"},
		)
		b.Invocations = append(b.Invocations,
			model.Invocation{RequestID: fmt.Sprintf("req-c-%d", i), Function: "checkout", Source: "telemetry", Start: t0 + 20e6,
				DurationNs: 150e6, BilledDurationNs: 151e6, MemoryMB: 1024, Status: model.InvocationOK, TraceID: web},
			model.Invocation{RequestID: fmt.Sprintf("req-f-%d", i), Function: "fulfil", Source: "sdk", Start: t0 + 100e6 + 2e9,
				DurationNs: 500e6, MemoryMB: 512, Status: model.InvocationOK, TraceID: fn},
		)
	}
	return b
}

func openStore(t testing.TB, b model.Batch) *duckdb.Engine {
	t.Helper()
	e, err := duckdb.Open(context.Background(), duckdb.Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if err := e.Write(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return e
}

// edgeKey is what the tests compare of an edge.
type edgeKey struct{ from, to, kind string }

type edgeWant struct {
	count, errors int64
	p50           int64
	lagP50        int64 // -1: no lag expected
}

func edgesOf(m *servicemap.Map) map[edgeKey]servicemap.Edge {
	out := map[edgeKey]servicemap.Edge{}
	for _, e := range m.Edges {
		out[edgeKey{e.From, e.To, e.Kind}] = e
	}
	return out
}

func TestMapTopology(t *testing.T) {
	const n = 20
	st := openStore(t, topology(n))
	m := servicemap.New(st, servicemap.Settings{})
	start, end := at(-time.Minute), at(time.Hour)
	for _, tc := range []struct {
		name  string
		q     servicemap.Query
		nodes map[string]int64 // id → count
		edges map[edgeKey]edgeWant
	}{
		{
			name: "all",
			q:    servicemap.Query{Start: start, End: end},
			nodes: map[string]int64{
				"service:web": n, "function:checkout": n, "function:fulfil": n,
				"database:postgresql": n, "queue:orders": n, "http:api.stripe.com": n,
			},
			edges: map[edgeKey]edgeWant{
				{"service:web", "function:checkout", "call"}:         {n, 0, 200e6, -1},
				{"function:checkout", "database:postgresql", "call"}: {n, 0, 20e6, -1},
				{"function:checkout", "queue:orders", "produce"}:     {n, 0, 40e6, -1},
				{"queue:orders", "function:fulfil", "consume"}:       {n, n / 4, 500e6, 2e9},
				{"function:fulfil", "http:api.stripe.com", "call"}:   {n, n / 4, 100e6, -1},
			},
		},
		{
			name: "environment",
			q:    servicemap.Query{Start: start, End: end, Environment: "staging"},
			nodes: map[string]int64{
				"service:web": n / 5, "function:checkout": n / 5, "function:fulfil": n / 5,
				"database:postgresql": n / 5, "queue:orders": n / 5, "http:api.stripe.com": n / 5,
			},
			edges: map[edgeKey]edgeWant{
				{"service:web", "function:checkout", "call"}:         {n / 5, 0, 200e6, -1},
				{"function:checkout", "database:postgresql", "call"}: {n / 5, 0, 20e6, -1},
				{"function:checkout", "queue:orders", "produce"}:     {n / 5, 0, 40e6, -1},
				{"queue:orders", "function:fulfil", "consume"}:       {n / 5, 1, 500e6, 2e9}, // i = 19
				{"function:fulfil", "http:api.stripe.com", "call"}:   {n / 5, 1, 100e6, -1},
			},
		},
		{
			name: "transaction",
			q:    servicemap.Query{TraceIDs: []model.TraceID{tid(7), tid(8)}}, // order 3: fails
			nodes: map[string]int64{
				"service:web": 1, "function:checkout": 1, "function:fulfil": 1,
				"database:postgresql": 1, "queue:orders": 1, "http:api.stripe.com": 1,
			},
			edges: map[edgeKey]edgeWant{
				{"service:web", "function:checkout", "call"}:         {1, 0, 200e6, -1},
				{"function:checkout", "database:postgresql", "call"}: {1, 0, 20e6, -1},
				{"function:checkout", "queue:orders", "produce"}:     {1, 0, 40e6, -1},
				{"queue:orders", "function:fulfil", "consume"}:       {1, 1, 500e6, 2e9},
				{"function:fulfil", "http:api.stripe.com", "call"}:   {1, 1, 100e6, -1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Build(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Truncated {
				t.Errorf("truncated: %v", got.TruncatedReasons)
			}
			if len(got.Nodes) != len(tc.nodes) {
				t.Errorf("%d nodes, want %d: %+v", len(got.Nodes), len(tc.nodes), got.Nodes)
			}
			for _, nd := range got.Nodes {
				want, ok := tc.nodes[nd.ID]
				if !ok {
					t.Errorf("unexpected node %+v", nd)
					continue
				}
				if nd.Count != want {
					t.Errorf("node %s: count %d, want %d", nd.ID, nd.Count, want)
				}
			}
			edges := edgesOf(got)
			if len(edges) != len(tc.edges) {
				t.Errorf("%d edges, want %d: %+v", len(edges), len(tc.edges), got.Edges)
			}
			for k, want := range tc.edges {
				e, ok := edges[k]
				if !ok {
					t.Errorf("missing edge %v", k)
					continue
				}
				if e.Count != want.count || e.Errors != want.errors || e.P50 != want.p50 {
					t.Errorf("edge %v: count %d errors %d p50 %d, want %d %d %d", k, e.Count, e.Errors, e.P50, want.count, want.errors, want.p50)
				}
				switch {
				case want.lagP50 < 0 && e.Lag != nil:
					t.Errorf("edge %v: lag %+v, want none", k, e.Lag)
				case want.lagP50 >= 0 && (e.Lag == nil || e.Lag.P50 != want.lagP50 || e.LagCount != want.count):
					t.Errorf("edge %v: lag %+v over %d, want p50 %d over %d", k, e.Lag, e.LagCount, want.lagP50, want.count)
				}
			}
		})
	}
}

func TestRED(t *testing.T) {
	const n = 20
	st := openStore(t, topology(n))
	m := servicemap.New(st, servicemap.Settings{})
	for _, tc := range []struct {
		name    string
		q       servicemap.REDQuery
		series  int
		points  int
		counts  []int64 // of the first series
		errors  []int64
		coldSum int64
	}{
		{"function", servicemap.REDQuery{Start: at(0), End: at(20 * time.Second), Step: int64(5 * time.Second), Function: "checkout"},
			1, 4, []int64{5, 5, 5, 5}, []int64{0, 0, 0, 0}, 1},
		{"errors", servicemap.REDQuery{Start: at(0), End: at(30 * time.Second), Step: int64(10 * time.Second), Function: "fulfil"},
			1, 3, []int64{8, 10, 2}, []int64{2, 2, 1}, 0},
		{"operation", servicemap.REDQuery{Start: at(0), End: at(20 * time.Second), Step: int64(10 * time.Second), Service: "checkout", Operation: "INSERT orders"},
			1, 2, []int64{10, 10}, []int64{0, 0}, 0},
		{"by service", servicemap.REDQuery{Start: at(0), End: at(20 * time.Second), Step: int64(20 * time.Second), GroupBy: "service"},
			3, 1, nil, nil, 1},
		{"empty", servicemap.REDQuery{Start: at(time.Hour), End: at(2 * time.Hour), Step: int64(time.Hour), Service: "web"},
			1, 1, []int64{0}, []int64{0}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.RED(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Series) != tc.series {
				t.Fatalf("%d series, want %d: %+v", len(got.Series), tc.series, got.Series)
			}
			var cold int64
			for _, s := range got.Series {
				if len(s.Points) != tc.points {
					t.Errorf("series %q: %d points, want %d", s.Group, len(s.Points), tc.points)
				}
				for _, p := range s.Points {
					cold += p.ColdStarts
				}
			}
			if cold != tc.coldSum {
				t.Errorf("cold starts %d, want %d", cold, tc.coldSum)
			}
			for i, want := range tc.counts {
				p := got.Series[0].Points[i]
				if p.Count != want || p.Errors != tc.errors[i] {
					t.Errorf("point %d: count %d errors %d, want %d %d", i, p.Count, p.Errors, want, tc.errors[i])
				}
			}
		})
	}
}

func TestCost(t *testing.T) {
	const n = 20
	st := openStore(t, topology(n))
	m := servicemap.New(st, servicemap.Settings{})
	got, err := m.Cost(t.Context(), servicemap.CostQuery{Start: at(-time.Minute), End: at(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Functions) != 2 {
		t.Fatalf("functions %+v", got.Functions)
	}
	c := got.Functions[0]
	// checkout: 20 × 0.151 s × 1 GB; fulfil has no billing figures.
	wantGBs := 20 * 0.151
	wantUSD := wantGBs*0.0000166667 + 20*0.2/1e6
	if c.Function != "checkout" || c.Invocations != n || c.Billed != n || abs(c.GBSeconds-wantGBs) > 1e-9 || abs(c.CostUSD-wantUSD) > 1e-12 {
		t.Errorf("checkout %+v, want %v GB-s, $%v", c, wantGBs, wantUSD)
	}
	if f := got.Functions[1]; f.Function != "fulfil" || f.Invocations != n || f.Billed != 0 || f.CostUSD != 0 {
		t.Errorf("fulfil %+v", f)
	}
	one, err := m.Cost(t.Context(), servicemap.CostQuery{TraceIDs: []model.TraceID{tid(1), tid(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if one.Total.Invocations != 2 || one.Total.Billed != 1 {
		t.Errorf("transaction cost %+v", one.Total)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestREDAlignsWholeMinuteSteps: a step of whole minutes starts on a
// multiple of itself, so points fall on round times (and on the store's
// per-minute rollups); other steps start where asked.
func TestREDAlignsWholeMinuteSteps(t *testing.T) {
	st := openStore(t, topology(20))
	m := servicemap.New(st, servicemap.Settings{})
	got, err := m.RED(t.Context(), servicemap.REDQuery{Start: at(20 * time.Second), End: at(2 * time.Minute),
		Step: int64(time.Minute), Function: "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != at(0) || len(got.Series) != 1 || len(got.Series[0].Points) != 2 ||
		got.Series[0].Points[0].Time != at(0) || got.Series[0].Points[0].Count != 20 {
		t.Errorf("aligned: start %d (want %d), %+v", got.Start, at(0), got.Series)
	}
	got, err = m.RED(t.Context(), servicemap.REDQuery{Start: at(20 * time.Second), End: at(2 * time.Minute),
		Step: int64(30 * time.Second), Function: "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != at(20*time.Second) || got.Series[0].Points[0].Time != at(20*time.Second) {
		t.Errorf("30 s steps: start %d, want %d", got.Start, at(20*time.Second))
	}
}
