package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// invReader asserts that the engine reads invocation records.
func invReader(t *testing.T, s store.Store) store.InvocationReader {
	t.Helper()
	r, ok := s.(store.InvocationReader)
	if !ok {
		t.Fatalf("%T does not implement store.InvocationReader", s)
	}
	return r
}

// invocationData is 40 invocations of two functions, one second apart, the
// newest last: every fifth one times out (known from the platform only),
// every seventh is an SDK error with a telemetry report, every third is a
// cold start; the others are ok from telemetry and log lines.
func invocationData() (model.Batch, []string) {
	var b model.Batch
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("req-%02d", i)
		ids = append(ids, id)
		fn := "alpha"
		if i%2 == 1 {
			fn = "beta"
		}
		start := base + int64(i)*int64(time.Second)
		dur := int64(i+1) * int64(10*time.Millisecond)
		tel := model.Invocation{RequestID: id, Function: fn, Source: "telemetry", Start: start, DurationNs: dur,
			BilledDurationNs: dur, MemoryMB: 128, MaxMemoryMB: 30, Status: model.InvocationOK, TraceID: traceID(uint64(500 + i))}
		logs := tel
		logs.Source, logs.Start, logs.TraceID = "logs", start+int64(time.Millisecond), model.TraceID{}
		if i%3 == 0 {
			tel.InitDurationNs = int64(80 * time.Millisecond)
		}
		switch {
		case i%5 == 0:
			tel.Status, tel.ErrorType = model.InvocationTimeout, "Sandbox.Timedout"
			logs.Status = model.InvocationTimeout
		case i%7 == 0:
			b.Invocations = append(b.Invocations, model.Invocation{RequestID: id, Function: fn, Source: "sdk",
				Start: start + 2, DurationNs: dur - 5, Status: model.InvocationError, ErrorType: "ValidationError",
				TraceID: traceID(uint64(900 + i)), SpanID: spanID(uint64(900+i), 1)})
		}
		b.Invocations = append(b.Invocations, logs, tel)
	}
	return b, ids
}

func testInvocations(t *testing.T, open Opener) {
	s := openStore(t, open)
	r := invReader(t, s)
	b, ids := invocationData()
	// A start marker whose deadline passed long ago, and one still running.
	marker := func(id string, start, deadline int64) model.Invocation {
		return model.Invocation{RequestID: id, Function: "gamma", Source: "sdk-start", Start: start, Deadline: deadline,
			Status: model.InvocationStarted, ColdStart: true, TraceID: traceID(77), SpanID: spanID(77, 1)}
	}
	late := base + int64(100*time.Second)
	b.Invocations = append(b.Invocations,
		marker("gone", base+int64(50*time.Second), base+int64(53*time.Second)),
		marker("running", late, late+int64(time.Hour)))
	logs := []model.LogRecord{
		{Time: base + 2, ObservedTime: base + 2, InvocationID: "req-00", Function: "alpha", Body: model.Value{Type: model.TypeString, Str: "second"}},
		{Time: base + 1, ObservedTime: base + 1, InvocationID: "req-00", Function: "alpha", Body: model.Value{Type: model.TypeString, Str: "first"}},
		{Time: base + 3, ObservedTime: base + 3, InvocationID: "req-01", Function: "beta", Body: model.Value{Type: model.TypeString, Str: "other"}},
	}
	b.Logs = logs
	write(t, s, b)
	now := late + int64(time.Minute)
	ctx := t.Context()

	t.Run("one", func(t *testing.T) {
		got, err := r.Invocation(ctx, "req-14", now)
		if err != nil {
			t.Fatal(err)
		}
		want := model.Invocation{RequestID: "req-14", Function: "alpha", Source: "sdk,telemetry,logs",
			Start: base + 14*int64(time.Second), DurationNs: 150e6, BilledDurationNs: 150e6, MemoryMB: 128, MaxMemoryMB: 30,
			Status: model.InvocationError, ErrorType: "ValidationError", TraceID: traceID(914), SpanID: spanID(914, 1)}
		diff(t, "req-14", got, want)
		got, err = r.Invocation(ctx, "gone", now)
		if err != nil || got.Status != model.InvocationTimeout || got.DurationNs != int64(3*time.Second) {
			t.Errorf("start marker past its deadline: %+v, %v", got, err)
		}
		got, err = r.Invocation(ctx, "running", now)
		if err != nil || got.Status != model.InvocationStarted {
			t.Errorf("start marker before its deadline: %+v, %v", got, err)
		}
		if _, err := r.Invocation(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown request id: %v, want ErrNotFound", err)
		}
	})

	list := func(t *testing.T, q store.InvocationQuery) ([]string, string) {
		t.Helper()
		q.Now = now
		recs, cur, err := r.Invocations(ctx, q)
		if err != nil {
			t.Fatalf("Invocations(%+v): %v", q, err)
		}
		out := []string{}
		for _, rec := range recs {
			out = append(out, rec.RequestID)
		}
		return out, cur
	}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    store.InvocationQuery
		want []string
	}{
		{"function and status", store.InvocationQuery{Function: "alpha", Statuses: []model.InvocationStatus{model.InvocationTimeout}, Limit: 100},
			[]string{"req-30", "req-20", "req-10", "req-00"}},
		{"errors from the SDK", store.InvocationQuery{Statuses: []model.InvocationStatus{model.InvocationError}, Limit: 100},
			[]string{"req-28", "req-21", "req-14", "req-07"}}, // 0 and 35 time out: the platform's fate wins
		{"deadline passed", store.InvocationQuery{Function: "gamma", Limit: 100}, []string{"running", "gone"}},
		{"started", store.InvocationQuery{Statuses: []model.InvocationStatus{model.InvocationStarted}, Limit: 100}, []string{"running"}},
		{"cold beta", store.InvocationQuery{Function: "beta", ColdStart: &yes, Limit: 100}, []string{"req-39", "req-33", "req-27", "req-21", "req-15", "req-09", "req-03"}},
		{"warm, short", store.InvocationQuery{ColdStart: &no, MaxDuration: 50e6, Function: "beta", Limit: 100}, []string{"req-01"}},
		{"long", store.InvocationQuery{MinDuration: 381e6, Limit: 100}, []string{"gone", "req-39", "req-38"}}, // gone: timed out at its 3 s deadline,
		{"time range", store.InvocationQuery{TimeRange: store.TimeRange{Start: base + 10*int64(time.Second), End: base + 13*int64(time.Second)}, Limit: 100},
			[]string{"req-12", "req-11", "req-10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := list(t, tc.q)
			diff(t, tc.name, got, tc.want)
		})
	}

	t.Run("pages", func(t *testing.T) {
		var all []string
		cur := ""
		for range 20 {
			page, next := list(t, store.InvocationQuery{Function: "alpha", Limit: 6, Cursor: cur})
			if len(page) > 6 {
				t.Fatalf("page of %d, limit 6", len(page))
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			cur = next
		}
		var want []string
		for i := 38; i >= 0; i -= 2 {
			want = append(want, ids[i])
		}
		diff(t, "every alpha invocation, newest first", all, want)
	})

	t.Run("logs", func(t *testing.T) {
		got, err := r.InvocationLogs(ctx, "req-00", store.TimeRange{Start: base, End: base + 10}, 10)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "logs of req-00", got, []model.LogRecord{logs[1], logs[0]})
		got, err = r.InvocationLogs(ctx, "req-39", store.TimeRange{}, 10)
		if err != nil || len(got) != 0 {
			t.Errorf("no logs: %v, %v", got, err)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, q := range []store.InvocationQuery{
			{Cursor: "!!"},
			{MinDuration: -1},
			{MinDuration: 10, MaxDuration: 5},
			{Statuses: []model.InvocationStatus{"weird"}},
			{TimeRange: store.TimeRange{Start: 10, End: 5}},
		} {
			q.Now = now
			if _, _, err := r.Invocations(ctx, q); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Invocations(%+v): %v, want ErrInvalid", q, err)
			}
		}
	})
}
