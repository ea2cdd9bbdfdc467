package correlate_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/correlate"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/duckdb"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano()

func tid(n int) model.TraceID {
	var t model.TraceID
	binary.BigEndian.PutUint64(t[:8], 0xc0ffee0000000000|uint64(n))
	binary.BigEndian.PutUint64(t[8:], uint64(n)*0x9e3779b97f4a7c15+1)
	return t
}

func sid(trace, n int) model.SpanID {
	var s model.SpanID
	binary.BigEndian.PutUint64(s[:], uint64(trace)<<20|uint64(n)|1<<63)
	return s
}

// hopSpan is a one-span trace n starting at ms milliseconds after t0.
func hopSpan(n int, ms int64, failed bool) model.Span {
	s := model.Span{TraceID: tid(n), SpanID: sid(n, 1), StartTime: t0 + ms*1e6, DurationNs: 5e6,
		Name: fmt.Sprintf("fn-%d", n), Service: fmt.Sprintf("svc-%d", n), Kind: model.KindConsumer}
	if failed {
		s.StatusCode = model.StatusError
	}
	return s
}

func ref(key string, role model.RefRole, n int, ms int64) model.MessageRef {
	return model.MessageRef{Key: key, Role: role, TraceID: tid(n), SpanID: sid(n, 1), Time: t0 + ms*1e6, Destination: "q"}
}

func openStore(t testing.TB) *duckdb.Engine {
	t.Helper()
	eng, err := duckdb.Open(context.Background(), duckdb.Settings{Dir: t.TempDir(), MemoryLimit: "512MB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

func TestBoundsAndPairing(t *testing.T) {
	eng := openStore(t)
	var b model.Batch
	// Fan-out: trace 1 publishes one message that 30 traces consume.
	b.Spans = append(b.Spans, hopSpan(1, 0, false))
	b.MessageRefs = append(b.MessageRefs, ref("sns:fan", model.RoleProducer, 1, 5))
	for i := 2; i <= 31; i++ {
		b.Spans = append(b.Spans, hopSpan(i, 100, false))
		b.MessageRefs = append(b.MessageRefs, ref("sns:fan", model.RoleConsumer, i, 100))
	}
	// Chain: 100 → 101 → … → 107.
	for i := 100; i < 108; i++ {
		b.Spans = append(b.Spans, hopSpan(i, int64(i-100)*10, false))
		if i < 107 {
			k := fmt.Sprintf("sqs:chain-%d", i)
			b.MessageRefs = append(b.MessageRefs, ref(k, model.RoleProducer, i, int64(i-100)*10+5), ref(k, model.RoleConsumer, i+1, int64(i-99)*10))
		}
	}
	// The same DynamoDB item written twice (200 at 0 ms, 202 at 50 ms),
	// each write streamed to a consumer (201 at 10 ms, 203 at 60 ms): each
	// record pairs with the write just before it.
	for i, ms := range []int64{0, 10, 50, 60} {
		n := 200 + i
		b.Spans = append(b.Spans, hopSpan(n, ms, false))
		role := model.RoleProducer
		if i%2 == 1 {
			role = model.RoleConsumer
		}
		b.MessageRefs = append(b.MessageRefs, ref("ddb:orders:0f343b0931126a20f133d67c2b018a3b", role, n, ms+5*int64(2-role)))
	}
	// Two attempts of a message whose sender is not instrumented.
	b.Spans = append(b.Spans, hopSpan(300, 0, true), hopSpan(301, 30_000, false))
	b.MessageRefs = append(b.MessageRefs, ref("sqs:orphan", model.RoleConsumer, 300, 0), ref("sqs:orphan", model.RoleConsumer, 301, 30_000))
	// A synchronous invoke whose callee (span 2) continued the caller's
	// trace under the Invoke span (span 1): no edge.
	caller := hopSpan(400, 0, false)
	callee := hopSpan(400, 1, false)
	callee.SpanID, callee.ParentSpanID = sid(400, 2), caller.SpanID
	b.Spans = append(b.Spans, caller, callee)
	b.MessageRefs = append(b.MessageRefs, ref("lambda:req-400", model.RoleProducer, 400, 6),
		model.MessageRef{Key: "lambda:req-400", Role: model.RoleConsumer, TraceID: tid(400), SpanID: sid(400, 2), Time: t0 + 1e6})
	if err := eng.Write(t.Context(), &b); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		set        correlate.Settings
		from       int
		wantTraces []int
		wantEdges  int
		reasons    []string
		status     string
	}{
		{"fan-out whole", correlate.Settings{}, 7, seq(1, 31), 30, nil, correlate.StatusOK},
		{"fan-out cut at max traces", correlate.Settings{MaxTraces: 10}, 1, nil, -1, []string{"max traces"}, correlate.StatusOK},
		{"chain whole from the middle", correlate.Settings{}, 103, seq(100, 107), 7, nil, correlate.StatusOK},
		{"chain cut at max depth", correlate.Settings{MaxDepth: 3}, 100, seq(100, 103), 3, []string{"max depth"}, correlate.StatusOK},
		{"chain cut at max refs", correlate.Settings{MaxRefs: 3}, 100, nil, -1, []string{"max refs"}, correlate.StatusOK},
		{"ddb first write", correlate.Settings{}, 201, []int{200, 201}, 1, nil, correlate.StatusOK},
		{"ddb second write", correlate.Settings{}, 202, []int{202, 203}, 1, nil, correlate.StatusOK},
		{"attempts without producer", correlate.Settings{}, 301, []int{300, 301}, 0, nil, correlate.StatusError},
		{"fan-out from the last consumer", correlate.Settings{}, 31, seq(1, 31), 30, nil, correlate.StatusOK},
		{"synchronous invoke in one trace", correlate.Settings{}, 400, []int{400}, 0, nil, correlate.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := correlate.New(eng, tc.set).Transaction(t.Context(), tid(tc.from))
			if err != nil {
				t.Fatal(err)
			}
			var got []model.TraceID
			for _, ti := range tx.Traces {
				got = append(got, ti.TraceID)
			}
			if tc.wantTraces != nil {
				want := ids(tc.wantTraces)
				sortIDs(got)
				sortIDs(want)
				if !slices.Equal(got, want) {
					t.Errorf("traces %d, want %d", len(got), len(want))
				}
			}
			if tc.set.MaxTraces > 0 && len(got) > tc.set.MaxTraces {
				t.Errorf("%d traces over the bound %d", len(got), tc.set.MaxTraces)
			}
			if tc.wantEdges >= 0 && len(tx.Edges) != tc.wantEdges {
				t.Errorf("%d edges, want %d", len(tx.Edges), tc.wantEdges)
			}
			if !slices.Equal(tx.TruncatedReasons, tc.reasons) || tx.Truncated != (tc.reasons != nil) {
				t.Errorf("truncated %v %v, want %v", tx.Truncated, tx.TruncatedReasons, tc.reasons)
			}
			if tx.Status != tc.status {
				t.Errorf("status %q, want %q", tx.Status, tc.status)
			}
			if !slices.Contains(got, tid(tc.from)) {
				t.Errorf("the requested trace is not in its transaction")
			}
		})
	}
	// The bulk form: seeds in four transactions, two of them twice.
	groups, trunc, err := correlate.New(eng, correlate.Settings{}).Components(t.Context(),
		[]model.TraceID{tid(100), tid(5), tid(107), tid(201), tid(1), tid(999)})
	if err != nil || trunc {
		t.Fatalf("Components: %v, truncated %v", err, trunc)
	}
	var sizes []int
	for _, g := range groups {
		sizes = append(sizes, len(g))
	}
	if !slices.Equal(sizes, []int{8, 31, 2, 1}) || groups[0][0] != tid(100) || groups[0][1] != tid(107) || groups[1][0] != tid(5) || groups[1][1] != tid(1) {
		t.Errorf("Components: sizes %v, groups %v", sizes, groups)
	}
	if _, err := correlate.New(eng, correlate.Settings{}).Transaction(t.Context(), tid(999)); !correlate.IsNotFound(err) {
		t.Errorf("unknown trace: %v, want not found", err)
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func ids(ns []int) []model.TraceID {
	out := make([]model.TraceID, len(ns))
	for i, n := range ns {
		out[i] = tid(n)
	}
	return out
}
