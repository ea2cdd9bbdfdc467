package duckdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Storage benchmarks on data shaped like Jaeger's tracegen: 10 spans per
// trace, 11 attributes per span drawn from 97 keys × 1000 values, 10
// services, 20 operations, 2% of spans in error, all spread over one hour
// in time order. ARIADNE_BENCH_SPANS sets the store size (default 200k;
// the recorded run in docs/benchmarks-store.md uses 10M):
//
//	ARIADNE_BENCH_SPANS=10000000 go test -run '^$' -bench . -benchtime 1x ./internal/store/duckdb
//
// BenchmarkIngest builds the store the query benchmarks then share. With
// ARIADNE_BENCH_DIR set, the store is kept in that directory and later runs
// of the query benchmarks alone reuse it instead of ingesting again:
//
//	ARIADNE_BENCH_DIR=/tmp/ab ARIADNE_BENCH_SPANS=10000000 go test -run '^$' -bench Ingest -benchtime 1x ./internal/store/duckdb
//	ARIADNE_BENCH_DIR=/tmp/ab ARIADNE_BENCH_SPANS=10000000 go test -run '^$' -bench 'TraceByID|Search|Autocomplete' -benchtime 1x ./internal/store/duckdb

const (
	benchSpansPerTrace = 10
	benchTracesPerReq  = 100 // one OTLP export of 1000 spans
	benchWriters       = 16
	benchHour          = int64(time.Hour)
)

// envInt reads a tuning knob of the benchmarks; def when unset.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchSpans() int {
	if v, err := strconv.Atoi(os.Getenv("ARIADNE_BENCH_SPANS")); err == nil && v > 0 {
		return v
	}
	return 200_000
}

// benchStore is the store built by the last ingest, shared by the query
// benchmarks of one `go test` run (benchmarks run sequentially).
type benchStore struct {
	e      *Engine
	dir    string
	spans  int
	traces int
}

// fixture is the only package-level state, and only in this test file.
var fixture struct {
	sync.Mutex
	s *benchStore
}

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Lock()
	if s := fixture.s; s != nil {
		s.e.Close()
		if keptDir() == "" {
			os.RemoveAll(s.dir)
		}
	}
	fixture.Unlock()
	os.Exit(code)
}

// gen produces tracegen-shaped batches deterministically from a trace number.
type gen struct {
	keys     [97]string
	vals     [1000]string
	services [10]string
	ops      [20]string
	traces   int
	base     int64
}

func newGen(traces int) *gen {
	g := &gen{traces: traces, base: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	for i := range g.keys {
		g.keys[i] = "k" + strconv.Itoa(i)
	}
	for i := range g.vals {
		g.vals[i] = "v" + strconv.Itoa(i)
	}
	for i := range g.services {
		g.services[i] = "svc-" + strconv.Itoa(i)
	}
	for i := range g.ops {
		g.ops[i] = "op-" + strconv.Itoa(i)
	}
	return g
}

func benchTraceID(i int) model.TraceID {
	var t model.TraceID
	x := uint64(i)*0x9e3779b97f4a7c15 + 0x1234
	binary.BigEndian.PutUint64(t[:8], x)
	binary.BigEndian.PutUint64(t[8:], uint64(i))
	return t
}

func (g *gen) traceStart(i int) int64 { return g.base + int64(i)*benchHour/int64(g.traces) }

// batch fills b with traces [first, first+n).
func (g *gen) batch(b *model.Batch, first, n int) {
	b.Spans = b.Spans[:0]
	for i := first; i < first+n && i < g.traces; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		tid := benchTraceID(i)
		start := g.traceStart(i)
		var root model.SpanID
		for j := range benchSpansPerTrace {
			var sid model.SpanID
			binary.BigEndian.PutUint64(sid[:], rng.Uint64()|1)
			svc := (i + j) % len(g.services)
			s := model.Span{
				TraceID:      tid,
				SpanID:       sid,
				ParentSpanID: root,
				StartTime:    start + int64(j)*int64(100*time.Microsecond),
				DurationNs:   int64(rng.IntN(100_000_000)) + 1000,
				Name:         g.ops[svc*2+rng.IntN(2)],
				Kind:         model.KindServer,
				StatusCode:   model.StatusOK,
				Service:      g.services[svc],
			}
			if j == 0 {
				root = sid
			} else {
				s.Kind = model.KindClient
				s.DurationNs /= 2
			}
			if rng.IntN(50) == 0 {
				s.StatusCode = model.StatusError
				s.StatusMessage = "deadline exceeded: upstream timeout"
			}
			s.Attributes = make(model.Attributes, 11)
			for k := range s.Attributes {
				s.Attributes[k] = model.Attr{Key: g.keys[rng.IntN(len(g.keys))],
					Value: model.Value{Type: model.TypeString, Str: g.vals[rng.IntN(len(g.vals))]}}
			}
			s.ResourceAttributes = model.Attributes{{Key: "service.name", Value: model.Value{Type: model.TypeString, Str: s.Service}}}
			b.Spans = append(b.Spans, s)
		}
	}
}

// keptDir is where a benchmark store is kept between runs, "" for none.
func keptDir() string {
	if d := os.Getenv("ARIADNE_BENCH_DIR"); d != "" {
		return filepath.Join(d, "store-"+strconv.Itoa(benchSpans()))
	}
	return ""
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ingest writes the whole generated data set with benchWriters concurrent
// clients, each write acknowledged only once durable.
// spanBytes is the size of a span's strings and fixed fields, the payload
// b.SetBytes reports throughput in.
func spanBytes(s *model.Span) int64 {
	n := int64(16 + 8 + 8 + 8 + 8 + 2 + len(s.Name) + len(s.Service) + len(s.StatusMessage))
	for _, a := range s.Attributes {
		n += int64(len(a.Key) + len(a.Value.Str))
	}
	for _, a := range s.ResourceAttributes {
		n += int64(len(a.Key) + len(a.Value.Str))
	}
	return n
}

func ingest(b *testing.B, e *Engine, g *gen) (payload int64) {
	var total atomic.Int64
	reqs := (g.traces + benchTracesPerReq - 1) / benchTracesPerReq
	var next sync.Mutex
	cursor := 0
	var wg sync.WaitGroup
	for range envInt("ARIADNE_BENCH_WRITERS", benchWriters) {
		wg.Go(func() {
			var batch model.Batch
			for {
				next.Lock()
				r := cursor
				cursor++
				next.Unlock()
				if r >= reqs {
					return
				}
				g.batch(&batch, r*benchTracesPerReq, benchTracesPerReq)
				var n int64
				for i := range batch.Spans {
					n += spanBytes(&batch.Spans[i])
				}
				total.Add(n)
				for {
					err := e.Write(context.Background(), &batch)
					if err == nil {
						break
					}
					if !errorsIsOverloaded(err) {
						b.Error(err)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return total.Load()
}

func errorsIsOverloaded(err error) bool { return errors.Is(err, store.ErrOverloaded) }

func dirSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// BenchmarkIngest measures durable ingest (spans per process CPU-second,
// with group commits) and the settled file size per span, then keeps the
// store for the query benchmarks.
func BenchmarkIngest(b *testing.B) {
	spans := benchSpans()
	traces := spans / benchSpansPerTrace
	g := newGen(traces)
	for range b.N {
		fixture.Lock()
		if old := fixture.s; old != nil {
			old.e.Close()
			os.RemoveAll(old.dir)
			fixture.s = nil
		}
		fixture.Unlock()
		dir := keptDir()
		var err error
		if dir != "" {
			err = os.RemoveAll(dir)
		} else {
			dir, err = os.MkdirTemp("", "ariadne-bench-")
		}
		if err != nil {
			b.Fatal(err)
		}
		e, err := Open(b.Context(), Settings{Dir: dir,
			MaxBatchRows: envInt("ARIADNE_BENCH_MAX_BATCH_ROWS", 0),
			QueueSpans:   envInt("ARIADNE_BENCH_QUEUE_ROWS", 0),
			Rollups:      benchRollups()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu0, wall0 := cpuTime(), time.Now()
		payload := ingest(b, e, g)
		b.SetBytes(payload)
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		st := e.WriteStats()
		if err := e.Checkpoint(b.Context()); err != nil {
			b.Fatal(err)
		}
		size := dirSize(dir)
		if fi, err := os.Stat(filepath.Join(dir, FileName+".wal")); err == nil {
			b.ReportMetric(float64(fi.Size()), "wal-bytes")
		}
		b.ReportMetric(float64(traces*benchSpansPerTrace)/cpu.Seconds(), "spans/cpu-s")
		b.ReportMetric(float64(traces*benchSpansPerTrace)/wall.Seconds(), "spans/s")
		b.ReportMetric(float64(size)/float64(traces*benchSpansPerTrace), "bytes/span")
		b.ReportMetric(float64(st.CommittedRows)/float64(max(st.Commits, 1)), "rows/commit")
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB") // Maxrss is in KiB on Linux
		}
		fixture.Lock()
		fixture.s = &benchStore{e: e, dir: dir, spans: traces * benchSpansPerTrace, traces: traces}
		fixture.Unlock()
	}
}

// benchFixture returns the store built by BenchmarkIngest, building it if the
// query benchmarks run alone.
func benchFixture(b *testing.B) (*benchStore, *gen) {
	fixture.Lock()
	s := fixture.s
	fixture.Unlock()
	if s == nil && keptDir() != "" {
		if _, err := os.Stat(filepath.Join(keptDir(), FileName)); err == nil {
			e, err := Open(b.Context(), Settings{Dir: keptDir()})
			if err != nil {
				b.Fatal(err)
			}
			spans := benchSpans()
			s = &benchStore{e: e, dir: keptDir(), spans: spans, traces: spans / benchSpansPerTrace}
			fixture.Lock()
			fixture.s = s
			fixture.Unlock()
		}
	}
	if s == nil {
		b.Run("build", BenchmarkIngest)
		fixture.Lock()
		s = fixture.s
		fixture.Unlock()
		if s == nil {
			b.Fatal("no benchmark store")
		}
	}
	return s, newGen(s.traces)
}

// latencies runs f b.N times (at least atLeast) and reports p50/p99 in ms.
func latencies(b *testing.B, atLeast int, f func(i int) error) {
	b.Helper()
	b.ReportAllocs()
	var ds []time.Duration
	n := max(b.N, atLeast)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range n {
		t0 := time.Now()
		if err := f(i); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	// CPU per operation does not grow when other processes compete for
	// the cores, unlike the latencies; on an idle machine a query's wall
	// time lies between cpu-ms/op divided by the thread count and cpu-ms/op.
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(n), "cpu-ms/op")
	slices.Sort(ds)
	pct := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(ds[len(ds)-1])/1e6, "max-ms")
}

func BenchmarkTraceByID(b *testing.B) {
	s, _ := benchFixture(b)
	rng := rand.New(rand.NewPCG(1, 2))
	// Warm the caches first: the claim is for a warm store.
	for range 20 {
		if _, err := s.e.Trace(b.Context(), benchTraceID(rng.IntN(s.traces))); err != nil {
			b.Fatal(err)
		}
	}
	latencies(b, 200, func(int) error {
		tr, err := s.e.Trace(b.Context(), benchTraceID(rng.IntN(s.traces)))
		if err == nil && len(tr.Spans) != benchSpansPerTrace {
			return fmt.Errorf("got %d spans", len(tr.Spans))
		}
		return err
	})
}

func BenchmarkSearch(b *testing.B) {
	s, g := benchFixture(b)
	hour := store.TimeRange{Start: g.base, End: g.base + benchHour}
	for _, tc := range []struct {
		name string
		q    store.TraceQuery
	}{
		{"service", store.TraceQuery{Service: "svc-3"}},
		{"operation", store.TraceQuery{Service: "svc-3", Operation: "op-7"}},
		{"duration", store.TraceQuery{MinDuration: int64(99 * time.Millisecond)}},
		{"attribute", store.TraceQuery{Attributes: []model.Attr{{Key: "k42", Value: model.Value{Type: model.TypeString, Str: "v317"}}}}},
		// A pair no span holds: without the attribute filters it reads the whole hour.
		{"attribute-absent", store.TraceQuery{Attributes: []model.Attr{{Key: "k42", Value: model.Value{Type: model.TypeString, Str: "v1000"}}}}},
		{"text", store.TraceQuery{Text: "TIMEOUT"}},
		{"error+service", store.TraceQuery{Service: "svc-5", ErrorOnly: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := tc.q
			q.TimeRange = hour
			q.Limit = 20
			for range 2 { // warm
				if _, err := s.e.SearchTraces(b.Context(), q); err != nil {
					b.Fatal(err)
				}
			}
			var found int
			latencies(b, 30, func(int) error {
				r, err := s.e.SearchTraces(b.Context(), q)
				if err == nil {
					found = len(r.Traces)
				}
				return err
			})
			b.ReportMetric(float64(found), "traces")
		})
	}
}

func BenchmarkAutocomplete(b *testing.B) {
	s, g := benchFixture(b)
	hour := store.TimeRange{Start: g.base, End: g.base + benchHour}
	for _, tc := range []struct {
		name string
		f    func() error
	}{
		{"services", func() error { _, err := s.e.Services(b.Context(), hour); return err }},
		{"attribute-keys", func() error { _, err := s.e.AttributeKeys(b.Context(), "k1", hour, 50); return err }},
		{"attribute-values", func() error { _, err := s.e.AttributeValues(b.Context(), "k42", "v3", hour, 50); return err }},
	} {
		b.Run(tc.name, func(b *testing.B) { latencies(b, 10, func(int) error { return tc.f() }) })
	}
}
