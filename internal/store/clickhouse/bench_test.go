package clickhouse

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
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

// Storage benchmarks on the data set of the embedded engine's benchmarks
// (internal/store/duckdb/bench_test.go, whose generator this copies):
// tracegen-shaped, 10 spans per trace, 11 attributes per span drawn from
// 97 keys × 1000 values, 10 services, 20 operations, 2% of spans in error,
// spread over one hour. ARIADNE_BENCH_SPANS sets the size (default 200k):
//
//	ARIADNE_BENCH_SPANS=10000000 go test -run '^$' -bench . -benchtime 1x -timeout 2h ./internal/store/clickhouse
//
// The engine is ClickHouse 26 as chDB behind chdbserver's HTTP interface on
// this machine: every statement is serialised by chDB's single session and
// crosses HTTP twice, and inserts go through a temporary file; a ClickHouse
// server over the native protocol would be faster. Bytes per span are
// ClickHouse's own part sizes, before and after merging.

const (
	benchSpansPerTrace = 10
	benchTracesPerReq  = 100 // one OTLP export of 1000 spans
	benchWriters       = 16
	benchHour          = int64(time.Hour)
)

func benchSpans() int {
	if v, err := strconv.Atoi(os.Getenv("ARIADNE_BENCH_SPANS")); err == nil && v > 0 {
		return v
	}
	return 200_000
}

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
				TraceID: tid, SpanID: sid, ParentSpanID: root,
				StartTime:  start + int64(j)*int64(100*time.Microsecond),
				DurationNs: int64(rng.IntN(100_000_000)) + 1000,
				Name:       g.ops[svc*2+rng.IntN(2)],
				Kind:       model.KindServer, StatusCode: model.StatusOK, Service: g.services[svc],
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

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var fixture struct {
	sync.Mutex
	e      *Engine
	traces int
}

// partBytes is the on-disk size of the active parts of the database's
// tables, and the rows of spans.
func partBytes(b *testing.B, e *Engine) (bytes map[string]uint64) {
	bytes = map[string]uint64{}
	err := e.each(b.Context(), "SELECT table, sum(bytes_on_disk) FROM system.parts WHERE active AND database = "+sqlStr(e.Database())+" GROUP BY table",
		func(scan func(...any) error) error {
			var t string
			var n uint64
			err := scan(&t, &n)
			bytes[t] = n
			return err
		})
	if err != nil {
		b.Fatal(err)
	}
	return bytes
}

// BenchmarkIngest writes the data set with 16 concurrent clients, each
// write acknowledged once ClickHouse accepted it, and measures the stored
// size per span, then keeps the store for the query benchmarks.
func BenchmarkIngest(b *testing.B) {
	spans := benchSpans()
	traces := spans / benchSpansPerTrace
	g := newGen(traces)
	for range b.N {
		db := fmt.Sprintf("bench_%d", spans)
		dropDatabase(b, db)
		e, err := Open(b.Context(), Settings{DSN: server(b).DSN("default"), Database: db})
		if err != nil {
			b.Fatal(err)
		}
		cpu0, wall0 := cpuTime(), time.Now()
		reqs := (traces + benchTracesPerReq - 1) / benchTracesPerReq
		var cursor atomic.Int64
		var wg sync.WaitGroup
		for range benchWriters {
			wg.Go(func() {
				var batch model.Batch
				for {
					r := int(cursor.Add(1) - 1)
					if r >= reqs {
						return
					}
					g.batch(&batch, r*benchTracesPerReq, benchTracesPerReq)
					for {
						err := e.Write(context.Background(), &batch)
						if err == nil {
							break
						}
						if !errors.Is(err, store.ErrOverloaded) {
							b.Error(err)
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		st := e.WriteStats()
		before := partBytes(b, e)
		for _, t := range []string{"spans", "trace_index"} {
			if err := e.conn.Exec(context.Background(), "OPTIMIZE TABLE "+e.t(t)+" FINAL"); err != nil {
				b.Fatal(err)
			}
		}
		after := partBytes(b, e)
		total := func(m map[string]uint64) (n uint64) {
			for _, v := range m {
				n += v
			}
			return n
		}
		n := float64(traces * benchSpansPerTrace)
		b.ReportMetric(n/wall.Seconds(), "spans/s")
		b.ReportMetric(n/cpu.Seconds(), "spans/client-cpu-s")
		b.ReportMetric(float64(st.CommittedRows)/float64(max(st.Commits, 1)), "rows/commit")
		b.ReportMetric(float64(total(before))/n, "bytes/span")
		b.ReportMetric(float64(total(after))/n, "bytes/span-merged")
		b.ReportMetric(float64(after["spans"])/n, "spans-table-bytes/span")
		b.ReportMetric(float64(after["trace_index"])/n, "index-bytes/span")
		b.Logf("%d spans in %s (%d commits); parts before merge %v, after %v", int(n), wall.Round(time.Millisecond), st.Commits, before, after)
		fixture.Lock()
		if fixture.e != nil {
			fixture.e.Close()
		}
		fixture.e, fixture.traces = e, traces
		fixture.Unlock()
	}
}

func benchStore(b *testing.B) (*Engine, *gen) {
	fixture.Lock()
	e := fixture.e
	fixture.Unlock()
	if e == nil {
		b.Run("build", BenchmarkIngest)
		fixture.Lock()
		e = fixture.e
		fixture.Unlock()
		if e == nil {
			b.Fatal("no benchmark store")
		}
	}
	return e, newGen(fixture.traces)
}

// latencies runs f b.N times (at least atLeast) and reports p50/p99 in ms.
func latencies(b *testing.B, atLeast int, f func(i int) error) {
	b.Helper()
	var ds []time.Duration
	n := max(b.N, atLeast)
	b.ResetTimer()
	for i := range n {
		t0 := time.Now()
		if err := f(i); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	pct := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func BenchmarkTraceByID(b *testing.B) {
	e, g := benchStore(b)
	rng := rand.New(rand.NewPCG(1, 2))
	latencies(b, 100, func(int) error {
		tr, err := e.Trace(b.Context(), benchTraceID(rng.IntN(g.traces)))
		if err == nil && len(tr.Spans) != benchSpansPerTrace {
			return fmt.Errorf("got %d spans", len(tr.Spans))
		}
		return err
	})
}

func BenchmarkSearch(b *testing.B) {
	e, g := benchStore(b)
	hour := store.TimeRange{Start: g.base, End: g.base + benchHour}
	for _, tc := range []struct {
		name string
		q    store.TraceQuery
	}{
		{"recent", store.TraceQuery{}},
		{"service", store.TraceQuery{Service: "svc-3"}},
		{"operation", store.TraceQuery{Service: "svc-3", Operation: "op-7"}},
		{"duration", store.TraceQuery{MinDuration: int64(99 * time.Millisecond)}},
		{"attribute", store.TraceQuery{Attributes: []model.Attr{{Key: "k42", Value: model.Value{Type: model.TypeString, Str: "v317"}}}}},
		{"text", store.TraceQuery{Text: "TIMEOUT"}},
		{"error+service", store.TraceQuery{Service: "svc-5", ErrorOnly: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := tc.q
			q.TimeRange = hour
			q.Limit = 20
			var found int
			latencies(b, 10, func(int) error {
				r, err := e.SearchTraces(b.Context(), q)
				if err == nil {
					found = len(r.Traces)
				}
				return err
			})
			b.ReportMetric(float64(found), "traces")
		})
	}
}

// BenchmarkRED is the RED series of one service over the hour, by minute,
// and the nodes of the map (RED per node) over the hour.
func BenchmarkRED(b *testing.B) {
	e, g := benchStore(b)
	hour := store.TimeRange{Start: g.base, End: g.base + benchHour}
	b.Run("service-by-minute", func(b *testing.B) {
		latencies(b, 10, func(int) error {
			rows, _, err := e.RED(b.Context(), store.REDQuery{TimeRange: hour, Service: "svc-3", Step: int64(time.Minute)})
			if err == nil && len(rows) == 0 {
				return errors.New("no RED rows")
			}
			return err
		})
	})
	b.Run("map-nodes", func(b *testing.B) {
		latencies(b, 5, func(int) error {
			_, _, err := e.MapNodes(b.Context(), store.MapQuery{TimeRange: hour})
			return err
		})
	})
	b.Run("map-calls", func(b *testing.B) {
		latencies(b, 3, func(int) error {
			_, _, err := e.MapCalls(b.Context(), store.MapQuery{TimeRange: hour})
			return err
		})
	})
}
