package servicemap_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/servicemap"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// Service map and RED benchmarks over the real DuckDB engine and its
// per-minute rollups, on one hour of serverless-shaped data: every order
// is two traces of five spans —
//
//	gw-K (service) GET /orders → client → fn-K-api (function, cold 1%)
//	fn-K-api → postgresql (db client span) and → SQS queue-K (producer, ref)
//	fn-K-worker (function, SQS consumer, ref, 0.5–3 s later)
//	fn-K-worker → api-K.example.com (http client) and an internal span
//
// for K in 0..19 (20 chains: 60 nodes, 100 edges), 5 string attributes
// per span, 2% errors, and two invocation records per order with billing
// figures. ARIADNE_BENCH_SPANS sets the span count (default 100k; the
// recorded run in docs/benchmarks-servicemap.md used 10M):
//
//	ARIADNE_BENCH_SPANS=10000000 go test -run '^$' -bench . -benchtime 5x ./internal/servicemap
//
// With ARIADNE_BENCH_DIR set the store is kept there and reused by later
// runs of the same size. ARIADNE_BENCH_ROLLUPS=off answers from raw data
// only, for comparison.

const benchChains = 20

func benchSpans() int {
	if v, err := strconv.Atoi(os.Getenv("ARIADNE_BENCH_SPANS")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

var benchStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).UnixNano()

// benchOrder appends the rows of order i to b.
func benchOrder(b *model.Batch, i, orders int, rng *rand.Rand) {
	k := i % benchChains
	t0 := benchStart + int64(i)*int64(time.Hour)/int64(orders)
	web, wrk := tid(2*i+1), tid(2*i+2)
	errFlag := func() model.StatusCode {
		if rng.IntN(50) == 0 {
			return model.StatusError
		}
		return model.StatusUnset
	}
	attrs := func() model.Attributes {
		a := make(model.Attributes, 5)
		for j := range a {
			a[j] = model.Attr{Key: fmt.Sprintf("app.k%d", j), Value: str(fmt.Sprintf("v%d", rng.IntN(1000)))}
		}
		return a
	}
	env := "prod"
	if k%4 == 3 {
		env = "staging"
	}
	res := func(svc string) model.Attributes {
		return model.Attributes{{Key: "service.name", Value: str(svc)}, {Key: "deployment.environment.name", Value: str(env)},
			{Key: "cloud.provider", Value: str("aws")}}
	}
	gw, api, worker := fmt.Sprintf("gw-%d", k), fmt.Sprintf("fn-%d-api", k), fmt.Sprintf("fn-%d-worker", k)
	gwRes, apiRes, wRes := res(gw), res(api), res(worker)
	dur := func(ms int) int64 { return int64(ms)*1e6 + rng.Int64N(int64(ms)*1e6) }
	apiReq, wReq := fmt.Sprintf("req-a-%d", i), fmt.Sprintf("req-w-%d", i)
	lag := int64(500e6) + rng.Int64N(2500e6)
	apiDur := dur(80)
	b.Spans = append(b.Spans,
		model.Span{TraceID: web, SpanID: sid(2*i+1, 1), StartTime: t0, DurationNs: apiDur + 20e6, Name: "GET /orders",
			Kind: model.KindServer, Service: gw, HTTPMethod: "GET", HTTPRoute: "/orders", HTTPStatus: 200, Attributes: attrs(), ResourceAttributes: gwRes},
		model.Span{TraceID: web, SpanID: sid(2*i+1, 2), ParentSpanID: sid(2*i+1, 1), StartTime: t0 + 5e6, DurationNs: apiDur + 10e6,
			Name: "POST", Kind: model.KindClient, Service: gw, Attributes: attrs(), ResourceAttributes: gwRes},
		model.Span{TraceID: web, SpanID: sid(2*i+1, 3), ParentSpanID: sid(2*i+1, 2), StartTime: t0 + 10e6, DurationNs: apiDur,
			Name: "POST /orders", Kind: model.KindServer, Service: api, Function: api, Trigger: "apigateway", InvocationID: apiReq,
			ColdStart: rng.IntN(100) == 0, StatusCode: errFlag(), Attributes: attrs(), ResourceAttributes: apiRes},
		model.Span{TraceID: web, SpanID: sid(2*i+1, 4), ParentSpanID: sid(2*i+1, 3), StartTime: t0 + 12e6, DurationNs: dur(10),
			Name: "INSERT orders", Kind: model.KindClient, Service: api, Function: api, DBSystem: "postgresql", StatusCode: errFlag(),
			Attributes: attrs(), ResourceAttributes: apiRes},
		model.Span{TraceID: web, SpanID: sid(2*i+1, 5), ParentSpanID: sid(2*i+1, 3), StartTime: t0 + 40e6, DurationNs: 20e6,
			Name: "SQS.SendMessage", Kind: model.KindProducer, Service: api, Function: api, MessagingSystem: "aws_sqs",
			Destination: fmt.Sprintf("queue-%d", k), Attributes: attrs(), ResourceAttributes: apiRes},
		model.Span{TraceID: wrk, SpanID: sid(2*i+2, 1), StartTime: t0 + 60e6 + lag, DurationNs: dur(200),
			Name: worker, Kind: model.KindConsumer, Service: worker, Function: worker, Trigger: "sqs", InvocationID: wReq,
			MessagingSystem: "aws_sqs", Destination: fmt.Sprintf("queue-%d", k), StatusCode: errFlag(),
			ColdStart: rng.IntN(100) == 0, Attributes: attrs(), ResourceAttributes: wRes},
		model.Span{TraceID: wrk, SpanID: sid(2*i+2, 2), ParentSpanID: sid(2*i+2, 1), StartTime: t0 + 70e6 + lag, DurationNs: dur(50),
			Name: "POST", Kind: model.KindClient, Service: worker, Function: worker, StatusCode: errFlag(),
			Attributes: append(attrs(), model.Attr{Key: "server.address", Value: str(fmt.Sprintf("api-%d.example.com", k))}), ResourceAttributes: wRes},
		model.Span{TraceID: wrk, SpanID: sid(2*i+2, 3), ParentSpanID: sid(2*i+2, 1), StartTime: t0 + 130e6 + lag, DurationNs: dur(5),
			Name: "render", Kind: model.KindInternal, Service: worker, Function: worker, Attributes: attrs(), ResourceAttributes: wRes},
		model.Span{TraceID: wrk, SpanID: sid(2*i+2, 4), ParentSpanID: sid(2*i+2, 1), StartTime: t0 + 140e6 + lag, DurationNs: dur(5),
			Name: "validate", Kind: model.KindInternal, Service: worker, Function: worker, Attributes: attrs(), ResourceAttributes: wRes},
		model.Span{TraceID: wrk, SpanID: sid(2*i+2, 5), ParentSpanID: sid(2*i+2, 1), StartTime: t0 + 150e6 + lag, DurationNs: dur(5),
			Name: "store", Kind: model.KindInternal, Service: worker, Function: worker, Attributes: attrs(), ResourceAttributes: wRes},
	)
	key := fmt.Sprintf("sqs:m-%d", i)
	b.MessageRefs = append(b.MessageRefs,
		model.MessageRef{Key: key, Role: model.RoleProducer, TraceID: web, SpanID: sid(2*i+1, 5), Time: t0 + 60e6, Destination: fmt.Sprintf("queue-%d", k)},
		model.MessageRef{Key: key, Role: model.RoleConsumer, TraceID: wrk, SpanID: sid(2*i+2, 1), Time: t0 + 60e6 + lag, Destination: fmt.Sprintf("queue-%d", k)},
	)
	b.Invocations = append(b.Invocations,
		model.Invocation{RequestID: apiReq, Function: api, Source: "telemetry", Start: t0 + 10e6, DurationNs: apiDur,
			BilledDurationNs: (apiDur/1e6 + 1) * 1e6, MemoryMB: 512, Status: model.InvocationOK, TraceID: web},
		model.Invocation{RequestID: wReq, Function: worker, Source: "telemetry", Start: t0 + 60e6 + lag, DurationNs: 200e6,
			BilledDurationNs: 200e6, MemoryMB: 1024, Status: model.InvocationOK, TraceID: wrk},
	)
}

// benchNow pins the rollup job's clock (Unix ns); 0 is the real time.
var benchNow atomic.Int64

// benchStore opens (and fills, unless ARIADNE_BENCH_DIR already holds a
// store of this size) the benchmark store; fresh when it was filled now.
func benchStore(b *testing.B) (*duckdb.Engine, bool) {
	b.Helper()
	spans := benchSpans()
	orders := max(1, spans/10)
	dir := b.TempDir()
	reuse := false
	if d := os.Getenv("ARIADNE_BENCH_DIR"); d != "" {
		dir = filepath.Join(d, fmt.Sprintf("servicemap-%d", spans))
		_, err := os.Stat(filepath.Join(dir, "complete"))
		reuse = err == nil
	}
	ctx := context.Background()
	minSpans := int64(0)
	if os.Getenv("ARIADNE_BENCH_ROLLUPS") == "off" {
		minSpans = -1 // read raw data only, for comparison
	}
	e, err := duckdb.Open(ctx, duckdb.Settings{Dir: dir, Rollups: duckdb.RollupSettings{
		MinSpans: minSpans,
		Interval: -1, // the benchmark runs the job
		Now: func() time.Time {
			if n := benchNow.Load(); n != 0 {
				return time.Unix(0, n)
			}
			return time.Now()
		},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	if reuse {
		return e, false
	}
	start, cpu0 := time.Now(), cpuTime()
	const perBatch = 1000 // orders, 10k spans
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	next := make(chan int)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				for range next { // drain after a failure so the feeder ends
				}
			}()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for lo := range next {
				var bt model.Batch
				for i := lo; i < min(orders, lo+perBatch); i++ {
					benchOrder(&bt, i, orders, rng)
				}
				for {
					err := e.Write(ctx, &bt)
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrOverloaded) {
						errs <- err
						return
					}
					time.Sleep(50 * time.Millisecond) // retry as a client would
				}
			}
		}()
	}
	for lo := 0; lo < orders; lo += perBatch {
		next <- lo
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	if err := e.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d spans in %s, %s CPU (the generator's included)", orders*10,
		time.Since(start).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
	_ = os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
	return e, true
}

// cpuTime is the process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rollup runs the rollup job to the end and reports its cost.
func rollup(b *testing.B, e *duckdb.Engine, what string) {
	cpu0, wall0 := cpuTime(), time.Now()
	if err := e.RollupNow(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("rollup job (%s): %s wall, %s CPU", what, time.Since(wall0).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond))
}

// BenchmarkMapAndRED is the acceptance figure: the whole map of the hour
// and the RED series (one-minute step) of one function. The store's
// rollup job (driven by the benchmark, not a timer) has rolled up every
// minute first; on a freshly built store the live/* cases run before
// that, with the job's clock just after the data's hour, so that the last
// minutes are still open and read raw, as for a range ending now.
func BenchmarkMapAndRED(b *testing.B) {
	e, fresh := benchStore(b)
	m := servicemap.New(e, servicemap.Settings{})
	end := benchStart + int64(time.Hour)
	ctx := context.Background()
	mapRED := func() error {
		if _, err := m.Build(ctx, servicemap.Query{Start: benchStart, End: end}); err != nil {
			return err
		}
		_, err := m.RED(ctx, servicemap.REDQuery{Start: benchStart, End: end, Step: int64(time.Minute), Function: "fn-3-api"})
		return err
	}
	// A range as the UI asks for it: "the last hour" from a time inside
	// a minute.
	mapREDMid := func() error {
		s, e := benchStart+int64(17*time.Second), end-int64(23*time.Second)
		if _, err := m.Build(ctx, servicemap.Query{Start: s, End: e}); err != nil {
			return err
		}
		_, err := m.RED(ctx, servicemap.REDQuery{Start: s, End: e, Step: int64(time.Minute), Function: "fn-3-api"})
		return err
	}
	if fresh {
		// "Now" is the end of the data: the job seals up to two minutes
		// before it (the calls slack and the grace), as it would live.
		benchNow.Store(end)
		rollup(b, e, "live: all but the open tail")
		st, err := e.RollupStats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("live: sealed up to %s, the hour ends %s", time.Unix(0, st.Sealed).UTC(), time.Unix(0, end).UTC())
		b.Run("live/map+red", func(b *testing.B) {
			for b.Loop() {
				if err := mapRED(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("live/map+red-midminute", func(b *testing.B) {
			for b.Loop() {
				if err := mapREDMid(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	benchNow.Store(0)
	rollup(b, e, "the rest")
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"map", func() error {
			g, err := m.Build(ctx, servicemap.Query{Start: benchStart, End: end})
			if err == nil && (len(g.Nodes) != 5*benchChains+1 || len(g.Edges) != 5*benchChains) {
				err = fmt.Errorf("%d nodes, %d edges", len(g.Nodes), len(g.Edges))
			}
			return err
		}},
		{"map-env", func() error {
			_, err := m.Build(ctx, servicemap.Query{Start: benchStart, End: end, Environment: "staging"})
			return err
		}},
		{"red-function", func() error {
			_, err := m.RED(ctx, servicemap.REDQuery{Start: benchStart, End: end, Step: int64(time.Minute), Function: "fn-3-api"})
			return err
		}},
		{"red-by-service", func() error {
			_, err := m.RED(ctx, servicemap.REDQuery{Start: benchStart, End: end, Step: int64(time.Minute), GroupBy: "service"})
			return err
		}},
		{"map+red", mapRED},
		{"map+red-midminute", mapREDMid},
		{"cost", func() error {
			_, err := m.Cost(ctx, servicemap.CostQuery{Start: benchStart, End: end})
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
