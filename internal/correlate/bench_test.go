package correlate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// Benchmark data: benchChains transactions of three traces (api → SQS →
// worker → S3 → render), ten spans each, spread over an hour, plus one big
// transaction of 50 traces and 5,000 spans (an entry fanning out to 7
// consumers, each fanning out to 6). Set ARIADNE_BENCH_CHAINS to change
// the size; the default builds about 185k spans in a few seconds. With
// ARIADNE_BENCH_DIR the store is kept there and reused by later runs.
const (
	benchSpansPerTrace = 10
	bigFanout1         = 7
	bigFanout2         = 6
	bigSpansPerTrace   = 100
)

type benchData struct {
	eng     *duckdb.Engine
	entries []model.TraceID // entry trace of every chain
	big     model.TraceID
	refs    int // refs written
	spans   int
}

var (
	benchOnce sync.Once
	bench     *benchData
	benchErr  error
)

func benchChains() int {
	if n, err := strconv.Atoi(os.Getenv("ARIADNE_BENCH_CHAINS")); err == nil && n > 0 {
		return n
	}
	return 6000
}

func benchTrace(n int) model.TraceID {
	var t model.TraceID
	r := rand.New(rand.NewPCG(uint64(n), 42))
	for i := range t {
		t[i] = byte(r.Uint32())
	}
	return t
}

// addTrace appends a trace of n spans (root + children) starting at start.
func addTrace(b *model.Batch, id model.TraceID, start int64, n int, service string, failed bool) model.SpanID {
	root := model.SpanID{}
	for i := 0; i < n; i++ {
		var sid model.SpanID
		copy(sid[:], id[:8])
		sid[7] ^= byte(i + 1)
		sid[6] ^= byte((i + 1) >> 8)
		s := model.Span{TraceID: id, SpanID: sid, StartTime: start + int64(i)*1e6, DurationNs: 2e6,
			Name: fmt.Sprintf("op-%d", i), Service: service, Kind: model.KindInternal}
		if i == 0 {
			root = sid
			s.DurationNs = int64(n+2) * 1e6
			s.Kind = model.KindServer
			s.Function = service
			s.InvocationID = fmt.Sprintf("%x", id[:8])
		} else {
			s.ParentSpanID = root
		}
		if failed && i == n-1 {
			s.StatusCode = model.StatusError
		}
		b.Spans = append(b.Spans, s)
	}
	return root
}

func buildBench(tb testing.TB) *benchData {
	benchOnce.Do(func() {
		dir := os.Getenv("ARIADNE_BENCH_DIR")
		if dir == "" {
			dir, benchErr = os.MkdirTemp("", "correlate-bench")
			if benchErr != nil {
				return
			}
		}
		ctx := context.Background()
		eng, err := duckdb.Open(ctx, duckdb.Settings{Dir: dir, MemoryLimit: "1GB"})
		if err != nil {
			benchErr = err
			return
		}
		d := &benchData{eng: eng}
		chains := benchChains()
		base := time.Now().Add(-time.Hour).UnixNano()
		step := int64(time.Hour) / int64(chains)
		// A kept store (ARIADNE_BENCH_DIR) already holds the data, which is
		// generated deterministically: only the ids are rebuilt.
		_, err = eng.Trace(ctx, benchTrace(-1))
		kept := err == nil
		var b model.Batch
		flush := func() {
			if benchErr == nil && len(b.Spans) > 0 && !kept {
				benchErr = eng.Write(ctx, &b)
			}
			b = model.Batch{}
		}
		for c := 0; c < chains; c++ {
			t := base + int64(c)*step
			ids := []model.TraceID{benchTrace(3 * c), benchTrace(3*c + 1), benchTrace(3*c + 2)}
			d.entries = append(d.entries, ids[0])
			var roots []model.SpanID
			for i, id := range ids {
				roots = append(roots, addTrace(&b, id, t+int64(i)*50e6, benchSpansPerTrace, fmt.Sprintf("svc-%d", i), c%50 == 0 && i == 2))
			}
			for i, k := range []string{fmt.Sprintf("sqs:m-%d", c), fmt.Sprintf("s3:r-%d", c)} {
				b.MessageRefs = append(b.MessageRefs,
					model.MessageRef{Key: k, Role: model.RoleProducer, TraceID: ids[i], SpanID: roots[i], Time: t + int64(i)*50e6 + 12e6, Destination: "q"},
					model.MessageRef{Key: k, Role: model.RoleConsumer, TraceID: ids[i+1], SpanID: roots[i+1], Time: t + int64(i+1)*50e6, Destination: "q"})
				d.refs += 2
			}
			d.spans += 3 * benchSpansPerTrace
			if len(b.Spans) >= 3000 {
				flush()
			}
		}
		// The big transaction, in the middle of the hour.
		t := base + int64(time.Hour)/2
		d.big = benchTrace(-1)
		root := addTrace(&b, d.big, t, bigSpansPerTrace, "entry", false)
		n := 0
		for i := 0; i < bigFanout1; i++ {
			mid := benchTrace(-100 - i)
			k := fmt.Sprintf("sns:big-%d", i)
			b.MessageRefs = append(b.MessageRefs,
				model.MessageRef{Key: k, Role: model.RoleProducer, TraceID: d.big, SpanID: root, Time: t + 1e8},
				model.MessageRef{Key: k, Role: model.RoleConsumer, TraceID: mid, Time: t + 2e8})
			midRoot := addTrace(&b, mid, t+2e8, bigSpansPerTrace, fmt.Sprintf("mid-%d", i), false)
			b.MessageRefs[len(b.MessageRefs)-1].SpanID = midRoot
			for j := 0; j < bigFanout2; j++ {
				n++
				leaf := benchTrace(-1000 - n)
				k := fmt.Sprintf("sqs:big-%d-%d", i, j)
				leafRoot := addTrace(&b, leaf, t+4e8, bigSpansPerTrace, fmt.Sprintf("leaf-%d", j), false)
				b.MessageRefs = append(b.MessageRefs,
					model.MessageRef{Key: k, Role: model.RoleProducer, TraceID: mid, SpanID: midRoot, Time: t + 3e8},
					model.MessageRef{Key: k, Role: model.RoleConsumer, TraceID: leaf, SpanID: leafRoot, Time: t + 4e8})
			}
		}
		flush()
		d.spans += (1 + bigFanout1 + bigFanout1*bigFanout2) * bigSpansPerTrace
		bench = d
	})
	if benchErr != nil {
		tb.Fatalf("build benchmark store: %v", benchErr)
	}
	return bench
}

// BenchmarkTransactionBig fetches the transaction of 50 traces and 5,000
// spans (target: ≤ 100 ms).
func BenchmarkTransactionBig(b *testing.B) {
	d := buildBench(b)
	c := correlate.New(d.eng, correlate.Settings{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var tx *correlate.Transaction
	for i := 0; i < b.N; i++ {
		var err error
		if tx, err = c.Transaction(ctx, d.big); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if len(tx.Traces) != 50 || len(tx.Spans) != 5000 || len(tx.Edges) != 49 {
		b.Fatalf("big transaction: %d traces, %d spans, %d edges", len(tx.Traces), len(tx.Spans), len(tx.Edges))
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tx")
}

// BenchmarkJoin builds the transactions of random chains, as the API does
// for each request, and reports the rate at which refs are joined, to set
// against the rate at which ingest writes them.
func BenchmarkJoin(b *testing.B) {
	d := buildBench(b)
	c := correlate.New(d.eng, correlate.Settings{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	refs := 0
	for i := 0; i < b.N; i++ {
		tx, err := c.Transaction(ctx, d.entries[r.IntN(len(d.entries))])
		if err != nil {
			b.Fatal(err)
		}
		if len(tx.Traces) != 3 || len(tx.Edges) != 2 {
			b.Fatalf("chain: %d traces, %d edges", len(tx.Traces), len(tx.Edges))
		}
		refs += 4
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(refs)/secs, "refs/s")
	b.ReportMetric(float64(b.N)/secs, "tx/s")
	b.ReportMetric(float64(d.spans), "store-spans")
}

// BenchmarkJoinBulk places 1,000 random traces in their transactions with
// one bulk walk (Components): the rate at which refs can be joined when
// the work is batched, as ingest batches its writes.
func BenchmarkJoinBulk(b *testing.B) {
	d := buildBench(b)
	c := correlate.New(d.eng, correlate.Settings{})
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	const seeds = 1000
	b.ReportAllocs()
	b.ResetTimer()
	joined := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ids := make([]model.TraceID, seeds)
		for j := range ids {
			ids[j] = d.entries[r.IntN(len(d.entries))]
		}
		b.StartTimer()
		groups, trunc, err := c.Components(ctx, ids)
		if err != nil || trunc {
			b.Fatal(err, trunc)
		}
		for _, g := range groups {
			if len(g) != 3 {
				b.Fatalf("group of %d traces, want 3", len(g))
			}
		}
		joined += 4 * len(groups) // each chain has 4 refs
	}
	b.StopTimer()
	b.ReportMetric(float64(joined)/b.Elapsed().Seconds(), "refs/s")
}
