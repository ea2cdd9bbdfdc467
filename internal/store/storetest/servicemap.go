package storetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// mapReader asserts that the engine answers the service map queries.
func mapReader(t *testing.T, s store.Store) store.ServiceMapReader {
	t.Helper()
	r, ok := s.(store.ServiceMapReader)
	if !ok {
		t.Fatalf("%T does not implement store.ServiceMapReader", s)
	}
	return r
}

// mapData is 10 requests, one second apart: a web service (env prod,
// every second request staging) calls function api (client → server),
// which queries postgresql and sends to queue jobs; function worker
// consumes each message 3 s after the send; every third worker fails.
// api has a platform invocation row (billed 100 ms at 512 MB) and an SDK
// row per request; worker only SDK rows.
func mapData() model.Batch {
	var b model.Batch
	for i := range 10 {
		t0 := base + int64(i)*int64(time.Second)
		env := "prod"
		if i%2 == 1 {
			env = "staging"
		}
		res := model.Attributes{{Key: "deployment.environment.name", Value: model.Value{Type: model.TypeString, Str: env}}}
		web, wrk := traceID(uint64(700+i)), traceID(uint64(800+i))
		ws := func(n uint64) model.SpanID { return spanID(uint64(700+i), n) }
		status := model.StatusUnset
		if i%3 == 2 {
			status = model.StatusError
		}
		b.Spans = append(b.Spans,
			model.Span{TraceID: web, SpanID: ws(1), StartTime: t0, DurationNs: 50e6, Name: "GET /", Kind: model.KindServer,
				Service: "web", ResourceAttributes: res},
			model.Span{TraceID: web, SpanID: ws(2), ParentSpanID: ws(1), StartTime: t0 + 1e6, DurationNs: 40e6, Name: "POST",
				Kind: model.KindClient, Service: "web", ResourceAttributes: res},
			model.Span{TraceID: web, SpanID: ws(3), ParentSpanID: ws(2), StartTime: t0 + 2e6, DurationNs: 30e6, Name: "POST /orders",
				Kind: model.KindServer, Service: "api", Function: "api", Trigger: "apigateway", ColdStart: i == 0, ResourceAttributes: res},
			model.Span{TraceID: web, SpanID: ws(4), ParentSpanID: ws(3), StartTime: t0 + 3e6, DurationNs: 5e6, Name: "SELECT",
				Kind: model.KindClient, Service: "api", Function: "api", DBSystem: "postgresql", ResourceAttributes: res},
			model.Span{TraceID: web, SpanID: ws(5), ParentSpanID: ws(3), StartTime: t0 + 10e6, DurationNs: 10e6, Name: "send",
				Kind: model.KindProducer, Service: "api", Function: "api", MessagingSystem: "aws_sqs", Destination: "jobs", ResourceAttributes: res},
			model.Span{TraceID: wrk, SpanID: spanID(uint64(800+i), 1), StartTime: t0 + 20e6 + 3e9, DurationNs: 100e6, Name: "worker",
				Kind: model.KindConsumer, Service: "worker", Function: "worker", Trigger: "sqs", StatusCode: status,
				MessagingSystem: "aws_sqs", Destination: "jobs", ResourceAttributes: res},
		)
		key := "sqs:map-" + string(rune('a'+i))
		b.MessageRefs = append(b.MessageRefs,
			model.MessageRef{Key: key, Role: model.RoleProducer, TraceID: web, SpanID: ws(5), Time: t0 + 20e6, Destination: "jobs"},
			model.MessageRef{Key: key, Role: model.RoleConsumer, TraceID: wrk, SpanID: spanID(uint64(800+i), 1), Time: t0 + 20e6 + 3e9, Destination: "jobs"},
		)
		req := "map-req-" + string(rune('a'+i))
		b.Invocations = append(b.Invocations,
			model.Invocation{RequestID: req, Function: "api", Source: "sdk", Start: t0 + 2e6, DurationNs: 30e6, Status: model.InvocationOK, TraceID: web},
			model.Invocation{RequestID: req, Function: "", Source: "telemetry", Start: t0 + 2e6, DurationNs: 31e6,
				BilledDurationNs: 100e6, MemoryMB: 512, Status: model.InvocationOK},
			model.Invocation{RequestID: req + "-w", Function: "worker", Source: "sdk", Start: t0 + 20e6 + 3e9, DurationNs: 100e6,
				MemoryMB: 128, Status: model.InvocationOK, TraceID: wrk},
		)
	}
	return b
}

func testServiceMap(t *testing.T, open Opener) {
	s := openStore(t, open)
	write(t, s, mapData())
	r := mapReader(t, s)
	ctx := t.Context()
	all := store.TimeRange{Start: base, End: base + int64(time.Minute)}

	t.Run("Calls", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			q    store.MapQuery
			want []store.CallRow
		}{
			{"all", store.MapQuery{TimeRange: all}, []store.CallRow{
				{Caller: store.Endpoint{Service: "api", Function: "api"}, PeerKind: store.PeerDatabase, Peer: "postgresql", Count: 10, Latency: store.Latency{P50: 5e6, P95: 5e6, P99: 5e6}},
				{Caller: store.Endpoint{Service: "api", Function: "api"}, PeerKind: store.PeerQueue, Peer: "jobs", Messaging: true, Count: 10, Latency: store.Latency{P50: 10e6, P95: 10e6, P99: 10e6}},
				{Caller: store.Endpoint{Service: "web"}, Callee: store.Endpoint{Service: "api", Function: "api"}, Count: 10, Latency: store.Latency{P50: 40e6, P95: 40e6, P99: 40e6}},
			}},
			{"environment", store.MapQuery{TimeRange: all, Environment: "staging", Limit: 1}, []store.CallRow{
				{Caller: store.Endpoint{Service: "api", Function: "api"}, PeerKind: store.PeerDatabase, Peer: "postgresql", Count: 5, Latency: store.Latency{P50: 5e6, P95: 5e6, P99: 5e6}},
			}},
			{"traces", store.MapQuery{TraceIDs: []model.TraceID{traceID(700)}}, []store.CallRow{
				{Caller: store.Endpoint{Service: "api", Function: "api"}, PeerKind: store.PeerDatabase, Peer: "postgresql", Count: 1, Latency: store.Latency{P50: 5e6, P95: 5e6, P99: 5e6}},
				{Caller: store.Endpoint{Service: "api", Function: "api"}, PeerKind: store.PeerQueue, Peer: "jobs", Messaging: true, Count: 1, Latency: store.Latency{P50: 10e6, P95: 10e6, P99: 10e6}},
				{Caller: store.Endpoint{Service: "web"}, Callee: store.Endpoint{Service: "api", Function: "api"}, Count: 1, Latency: store.Latency{P50: 40e6, P95: 40e6, P99: 40e6}},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, truncated, err := r.MapCalls(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if truncated != (tc.q.Limit == 1) {
					t.Errorf("truncated = %v", truncated)
				}
				diff(t, "calls", sortCalls(got), tc.want)
			})
		}
	})

	t.Run("Hops", func(t *testing.T) {
		got, truncated, err := r.MapHops(ctx, store.MapQuery{TimeRange: all})
		if err != nil || truncated {
			t.Fatalf("MapHops: %v, truncated %v", err, truncated)
		}
		diff(t, "hops", got, []store.HopRow{{
			Producer: store.Endpoint{Service: "api", Function: "api"}, Consumer: store.Endpoint{Service: "worker", Function: "worker"},
			Channel: "sqs", ProducerDestination: "jobs", ConsumerDestination: "jobs", ConsumerSystem: "aws_sqs",
			Count: 10, Errors: 3, Latency: store.Latency{P50: 100e6, P95: 100e6, P99: 100e6},
			Lag: store.Latency{P50: 3e9, P95: 3e9, P99: 3e9}, LagCount: 10,
		}})
		// The producer lies before the range; the consumer in it.
		late, _, err := r.MapHops(ctx, store.MapQuery{TimeRange: store.TimeRange{Start: base + int64(3*time.Second), End: base + int64(time.Minute)}})
		if err != nil || len(late) != 1 || late[0].Count != 10 {
			t.Errorf("hops with producers before the range: %+v, %v", late, err)
		}
	})

	t.Run("Nodes", func(t *testing.T) {
		got, _, err := r.MapNodes(ctx, store.MapQuery{TimeRange: all})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "nodes", got, []store.NodeRow{
			{Endpoint: store.Endpoint{Service: "api", Function: "api"}, Count: 10, ColdStarts: 1, Latency: store.Latency{P50: 30e6, P95: 30e6, P99: 30e6}},
			{Endpoint: store.Endpoint{Service: "web"}, Count: 10, Latency: store.Latency{P50: 50e6, P95: 50e6, P99: 50e6}},
			{Endpoint: store.Endpoint{Service: "worker", Function: "worker"}, Count: 10, Errors: 3, Latency: store.Latency{P50: 100e6, P95: 100e6, P99: 100e6}},
		})
	})

	t.Run("RED", func(t *testing.T) {
		got, _, err := r.RED(ctx, store.REDQuery{TimeRange: store.TimeRange{Start: base, End: base + int64(20*time.Second)},
			Function: "worker", Step: int64(5 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		// worker spans start at 3.02 s + i s: buckets 0-5 s (i = 0, 1),
		// 5-10 s (2..6), 10-15 s (7..9).
		var counts, errs []int64
		for _, p := range got {
			counts = append(counts, p.Count)
			errs = append(errs, p.Errors)
		}
		diff(t, "counts", counts, []int64{2, 5, 3})
		diff(t, "errors", errs, []int64{0, 2, 1})
		if _, _, err := r.RED(ctx, store.REDQuery{TimeRange: all}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("RED without step: %v, want ErrInvalid", err)
		}
	})

	t.Run("Cost", func(t *testing.T) {
		got, _, err := r.Cost(ctx, store.CostQuery{TimeRange: all})
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].GBSeconds = math.Round(got[i].GBSeconds*1e9) / 1e9
		}
		diff(t, "cost", got, []store.CostRow{
			{Function: "api", Invocations: 10, Billed: 10, GBSeconds: 10 * 0.1 * 0.5, BilledNs: 10 * 100e6},
			{Function: "worker", Invocations: 10},
		})
		one, _, err := r.Cost(ctx, store.CostQuery{TraceIDs: []model.TraceID{traceID(700)}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range one {
			one[i].GBSeconds = math.Round(one[i].GBSeconds*1e9) / 1e9
		}
		diff(t, "cost of one trace", one, []store.CostRow{{Function: "api", Invocations: 1, Billed: 1, GBSeconds: 0.05, BilledNs: 100e6}})
	})
}

// sortCalls orders rows by caller, callee and peer: the contract orders
// by count only.
func sortCalls(rows []store.CallRow) []store.CallRow {
	key := func(r store.CallRow) string {
		return r.Caller.Service + "/" + r.Caller.Function + ">" + r.Callee.Service + "/" + r.Callee.Function + ">" + r.PeerKind + ":" + r.Peer
	}
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && key(rows[j]) < key(rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	return rows
}
