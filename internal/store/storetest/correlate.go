package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// testCorrelation checks store.CorrelationReader: ref lookups in both
// directions with their limits, lookups by destination, and spans of many
// traces in summary and full form, including traces far apart in time.
func testCorrelation(t *testing.T, open Opener) {
	s := openStore(t, open)
	cr, ok := s.(store.CorrelationReader)
	if !ok {
		t.Fatal("engine does not implement store.CorrelationReader")
	}
	ctx := t.Context()
	ref := func(key string, role model.RefRole, tr uint64, at int64, dest string) model.MessageRef {
		return model.MessageRef{Key: key, Role: role, TraceID: traceID(tr), SpanID: spanID(tr, 1), Time: base + at, Destination: dest}
	}
	refs := []model.MessageRef{
		ref("sqs:a", model.RoleProducer, 1, 10, "q1"),
		ref("sqs:b", model.RoleProducer, 1, 10, "q1"),
		ref("sqs:a", model.RoleConsumer, 2, 20, "q1"),
		ref("sqs:b", model.RoleConsumer, 3, 30, "q1"),
		ref("sns:c", model.RoleProducer, 3, 40, "topic"),
		// A consumer an hour later, written in a later batch.
		ref("sns:c", model.RoleConsumer, 4, int64(time.Hour), "topic"),
	}
	// Spans: traces 1–3 near base, trace 4 an hour later; trace 5 has
	// spans but no refs.
	var b model.Batch
	for _, tr := range []struct {
		n     uint64
		start time.Duration
	}{{1, 0}, {2, time.Millisecond}, {3, 2 * time.Millisecond}, {5, 3 * time.Millisecond}} {
		sb := traceSpec{n: tr.n, start: tr.start, spans: 3, dur: time.Millisecond, service: "svc", name: "op",
			payload: `{"order":"o-1"}`, attrs: model.Attributes{{Key: "k", Value: model.Value{Type: model.TypeString, Str: "v"}}}}.build()
		b.Spans = append(b.Spans, sb.Spans...)
	}
	b.MessageRefs = refs[:5]
	late := traceSpec{n: 4, start: time.Hour, spans: 2, dur: time.Millisecond, service: "late", name: "op"}.build()
	late.MessageRefs = refs[5:]
	write(t, s, b, late)

	got, trunc, err := cr.RefsOfTraces(ctx, []model.TraceID{traceID(1), traceID(4), traceID(1), traceID(404)}, 100)
	if err != nil || trunc {
		t.Fatalf("RefsOfTraces = %v, %v", trunc, err)
	}
	diff(t, "refs of traces 1 and 4", got, []model.MessageRef{refs[0], refs[1], refs[5]})

	got, trunc, err = cr.RefsOfTraces(ctx, []model.TraceID{traceID(1), traceID(2), traceID(3)}, 2)
	if err != nil || !trunc || len(got) != 2 {
		t.Fatalf("RefsOfTraces(limit 2) = %d rows, truncated %v, %v; want 2, true", len(got), trunc, err)
	}

	got, trunc, err = cr.RefsByKeys(ctx, []string{"sqs:b", "sns:c", "none", "sqs:b"}, 100)
	if err != nil || trunc {
		t.Fatalf("RefsByKeys = %v, %v", trunc, err)
	}
	diff(t, "refs of sqs:b and sns:c", got, []model.MessageRef{refs[1], refs[3], refs[4], refs[5]})

	// Long lists (a bulk walk) may take another path in an engine; the
	// answer must not change.
	many := []string{"sns:c", "sqs:b"}
	manyIDs := []model.TraceID{traceID(1), traceID(4)}
	for i := range 700 {
		many = append(many, fmt.Sprintf("sqs:unknown-%d", i))
		manyIDs = append(manyIDs, traceID(uint64(5000+i)))
	}
	got, trunc, err = cr.RefsByKeys(ctx, many, 100)
	if err != nil || trunc {
		t.Fatalf("RefsByKeys(702 keys) = %v, %v", trunc, err)
	}
	diff(t, "refs of 702 keys", got, []model.MessageRef{refs[1], refs[3], refs[4], refs[5]})
	got, trunc, err = cr.RefsOfTraces(ctx, manyIDs, 100)
	if err != nil || trunc {
		t.Fatalf("RefsOfTraces(702 ids) = %v, %v", trunc, err)
	}
	diff(t, "refs of 702 traces", got, []model.MessageRef{refs[0], refs[1], refs[5]})

	got, _, err = cr.RefsByKeys(ctx, nil, 100)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("RefsByKeys(none) = %v, %v; want empty", got, err)
	}

	got, trunc, err = cr.RefsByDestination(ctx, "q1", store.TimeRange{Start: base, End: base + 25}, 100)
	if err != nil || trunc {
		t.Fatalf("RefsByDestination = %v, %v", trunc, err)
	}
	diff(t, "refs of q1 before +25ns, newest first", got, []model.MessageRef{refs[2], refs[0], refs[1]})

	spans, trunc, err := cr.SpansOfTraces(ctx, []model.TraceID{traceID(4), traceID(1)}, store.SpanSummary, 100)
	if err != nil || trunc {
		t.Fatalf("SpansOfTraces = %v, %v", trunc, err)
	}
	if len(spans) != 5 {
		t.Fatalf("SpansOfTraces(1, 4) = %d spans, want 5", len(spans))
	}
	for i, sp := range spans {
		if i > 0 && sp.StartTime < spans[i-1].StartTime {
			t.Errorf("spans not in time order at %d", i)
		}
		if sp.Attributes != nil || sp.RequestPayload != "" {
			t.Errorf("summary span %s has attributes or payload", sp.SpanID)
		}
		if sp.Name == "" || sp.Service == "" || sp.DurationNs == 0 {
			t.Errorf("summary span %+v lacks name, service or duration", sp)
		}
	}
	if spans[0].TraceID != traceID(1) || spans[4].TraceID != traceID(4) {
		t.Errorf("first/last span of traces %s/%s, want trace 1 then 4", spans[0].TraceID, spans[4].TraceID)
	}

	full, _, err := cr.SpansOfTraces(ctx, []model.TraceID{traceID(2)}, store.SpanFull, 100)
	if err != nil || len(full) != 3 {
		t.Fatalf("SpansOfTraces(full) = %d spans, %v", len(full), err)
	}
	want := mustTrace(t, s, traceID(2)).Spans
	diff(t, "full spans of trace 2", full, want)

	spans, trunc, err = cr.SpansOfTraces(ctx, []model.TraceID{traceID(1), traceID(2), traceID(3), traceID(5)}, store.SpanSummary, 7)
	if err != nil || !trunc || len(spans) != 7 {
		t.Fatalf("SpansOfTraces(limit 7) = %d spans, truncated %v, %v", len(spans), trunc, err)
	}
	spans, _, err = cr.SpansOfTraces(ctx, []model.TraceID{traceID(404)}, store.SpanSummary, 7)
	if err != nil || spans == nil || len(spans) != 0 {
		t.Fatalf("SpansOfTraces(unknown) = %v, %v; want empty", spans, err)
	}
}
