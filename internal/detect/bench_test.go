package detect_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/detect"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

// benchData writes n invocations over ten minutes, each an invocation span
// plus 9 children (10 spans), with the faults of a bad day: 2% errors (20
// distinct messages), 0.5% timeouts with an in-flight call, 0.2% OOM kills,
// and every fourth invocation an SQS batch of 4 messages, one in ten
// received a second time and one in twenty reported failed.
func benchData(b testing.TB, e *duckdb.Engine, n int, base int64) (spans int) {
	b.Helper()
	ctx := context.Background()
	step := int64(10*time.Minute) / int64(n)
	var batch model.Batch
	flush := func() {
		if err := e.Write(ctx, &batch); err != nil {
			b.Fatal(err)
		}
		batch = model.Batch{}
	}
	for i := range n {
		start := base + int64(i)*step
		var tid model.TraceID
		copy(tid[:], fmt.Sprintf("%016x", i))
		rid := "req-" + strconv.Itoa(i)
		fn := "fn-" + strconv.Itoa(i%8)
		inv := model.Span{TraceID: tid, SpanID: model.SpanID{1}, StartTime: start, DurationNs: int64(120 * time.Millisecond),
			Name: fn, Kind: model.KindServer, StatusCode: model.StatusOK, Service: fn, Function: fn, InvocationID: rid, Trigger: "apigateway"}
		status := model.InvocationOK
		switch {
		case i%50 == 7:
			inv.StatusCode, inv.ErrorType = model.StatusError, "ValidationError"
			inv.ErrorMessage = fmt.Sprintf("order %d rejected: rule %d", i, i%20)
			status = model.InvocationError
		case i%200 == 11:
			inv.StatusCode = model.StatusError
			inv.Attributes = model.Attributes{{Key: "ariadne.timeout", Value: model.Value{Type: model.TypeBool, Str: "true"}}}
			inv.Events = []model.Event{{Time: start, Name: "ariadne.inflight", Attributes: model.Attributes{
				{Key: "ariadne.inflight.name", Value: model.Value{Type: model.TypeString, Str: "DynamoDB.Query"}},
				{Key: "ariadne.inflight.elapsed_ns", Value: model.Value{Type: model.TypeInt, Str: "2800000000"}}}}}
			status = model.InvocationTimeout
		case i%500 == 13:
			status = model.InvocationOOM
		}
		batch.Spans = append(batch.Spans, inv)
		for c := range 9 {
			sp := model.Span{TraceID: tid, SpanID: model.SpanID{byte(c + 2)}, ParentSpanID: inv.SpanID, StartTime: start + int64(c)*int64(time.Millisecond),
				DurationNs: int64(5 * time.Millisecond), Name: "DynamoDB.GetItem", Kind: model.KindClient, StatusCode: model.StatusOK,
				Service: fn, Function: fn, DBSystem: "dynamodb",
				Attributes: model.Attributes{{Key: "rpc.service", Value: model.Value{Type: model.TypeString, Str: "DynamoDB"}}}}
			if i%4 == 0 && c < 4 {
				rc := "1"
				if (i/4+c)%10 == 0 {
					rc = "2"
				}
				sp.Name, sp.Kind, sp.Destination = "process jobs", model.KindConsumer, "jobs"
				sp.MessageIDs = []string{fmt.Sprintf("m-%d-%d", i, c)}
				sp.Attributes = model.Attributes{{Key: "ariadne.sqs.receive_count", Value: model.Value{Type: model.TypeInt, Str: rc}}}
				if (i/4+c)%20 == 3 {
					sp.StatusCode, sp.ErrorMessage = model.StatusError, "job failed: bad input"
					sp.Attributes = append(sp.Attributes, model.Attr{Key: "ariadne.batch.failed", Value: model.Value{Type: model.TypeBool, Str: "true"}})
				}
			}
			batch.Spans = append(batch.Spans, sp)
		}
		batch.Invocations = append(batch.Invocations, model.Invocation{RequestID: rid, Function: fn, Source: "telemetry", Start: start,
			DurationNs: inv.DurationNs, BilledDurationNs: inv.DurationNs, MemoryMB: 128, MaxMemoryMB: 60, Status: status, TraceID: tid})
		spans += 10
		if len(batch.Spans) >= 10_000 {
			flush()
		}
	}
	flush()
	return spans
}

// renamed gives a detector a fresh watermark per benchmark iteration.
type renamed struct {
	detect.Detector
	name string
}

func (r renamed) Name() string { return r.name }

// BenchmarkDetect runs every detector over ten minutes of telemetry and
// reports the spans per second detection processes, to compare with the
// ingest rate (docs/benchmarks-detect.md).
func BenchmarkDetect(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("ARIADNE_BENCH_INVOCATIONS")); err == nil && v > 0 {
		n = v
	}
	e, err := duckdb.Open(context.Background(), duckdb.Settings{Dir: b.TempDir(), MemoryLimit: "2GB"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()
	spans := benchData(b, e, n, base)
	end := time.Unix(0, base).Add(11 * time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var ds []detect.Detector
		for _, d := range detect.Detectors() {
			ds = append(ds, renamed{d, fmt.Sprintf("bench-%d-%s", i, d.Name())})
		}
		r := detect.New(e, detect.Settings{Now: func() time.Time { return end }, Lag: detect.NoLag, Lookback: 12 * time.Minute,
			MaxWindow: 12 * time.Minute, Detectors: ds})
		res, err := r.RunOnce(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if res.Occurrences == 0 {
			b.Fatal("nothing detected")
		}
	}
	b.ReportMetric(float64(spans)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "invocations/s")
}

var _ store.DetectReader = (*duckdb.Engine)(nil)
