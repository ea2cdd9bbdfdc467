// Package storetest is the conformance suite every storage engine runs:
// the behaviour store.Store promises, written once so the embedded DuckDB
// engine and the ClickHouse engine cannot drift apart.
//
// It speaks only the interfaces of package store and imports no engine.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// Opener opens the engine under test. Each test gets empty storage; within
// one test (the same t.Name()), opening again after Close MUST reach the
// same storage, which is how the suite checks that data survives a reopen.
// The suite closes what it opens; Close must be idempotent.
type Opener func(t *testing.T) store.Store

// Option adds engine capabilities to the suite.
type Option func(*options)

type options struct {
	queueBound func(t *testing.T, rows int) store.Store
}

// WithQueueBound lets the suite open the engine with a write queue bounded
// at rows, to check overload answers. Without it that test is skipped.
func WithQueueBound(open func(t *testing.T, rows int) store.Store) Option {
	return func(o *options) { o.queueBound = open }
}

// Run runs the whole suite.
func Run(t *testing.T, open Opener, opts ...Option) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"RoundTripSpan", testRoundTripSpan},
		{"RoundTripLogsAndInvocations", testRoundTripLogs},
		{"TraceNotFound", testTraceNotFound},
		{"MessageRefs", testMessageRefs},
		{"Correlation", testCorrelation},
		{"IdempotentRewrite", testIdempotent},
		{"SearchFilters", testSearchFilters},
		{"SearchPagination", testPagination},
		{"SearchWholeTraceDuration", testWholeTraceDuration},
		{"SearchText", testSearchText},
		{"TrickyTextSearch", testTrickyTextSearch},
		{"TrickyTextReaders", testTrickyTextReaders},
		{"SearchInvalid", testSearchInvalid},
		{"Autocomplete", testAutocomplete},
		{"Retention", testRetention},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CloseCommitsAccepted", testCloseCommits},
		{"Reopen", testReopen},
		{"Invocations", testInvocations},
		{"ServiceMap", testServiceMap},
		{"Detect", testDetect},
		{"IssueSeries", testIssueSeries},
		{"LogSearch", testLogSearch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
	t.Run("Overload", func(t *testing.T) {
		if o.queueBound == nil {
			t.Skip("engine has no queue bound option")
		}
		testOverload(t, o.queueBound)
	})
}

func openStore(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func write(t *testing.T, s store.Store, bs ...model.Batch) {
	t.Helper()
	for i := range bs {
		if err := s.Write(t.Context(), &bs[i]); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
}

func mustTrace(t *testing.T, s store.Store, id model.TraceID) *model.Trace {
	t.Helper()
	tr, err := s.Trace(t.Context(), id)
	if err != nil {
		t.Fatalf("Trace(%s): %v", id, err)
	}
	return tr
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testRoundTripSpan(t *testing.T, open Opener) {
	s := openStore(t, open)
	sp := fullSpan(1)
	child := fullSpan(1)
	child.SpanID = spanID(1, 2)
	child.ParentSpanID = sp.SpanID
	child.StartTime += 5
	// An otherwise empty span: nil slices and zero values must stay so.
	child.Attributes, child.ResourceAttributes, child.Events, child.Links, child.MessageIDs = nil, nil, nil, nil, nil
	child.TraceState, child.RequestPayload, child.ResponsePayload = "", "", ""
	// Only string attributes, the common case engines may store compactly.
	plain := child
	plain.SpanID = spanID(1, 3)
	plain.StartTime += 5
	plain.Attributes = model.Attributes{
		{Key: "a", Value: model.Value{Type: model.TypeString, Str: "1"}},
		{Key: "b", Value: model.Value{Type: model.TypeString, Str: ""}},
	}
	write(t, s, model.Batch{Spans: []model.Span{child, sp, plain}})
	tr := mustTrace(t, s, sp.TraceID)
	if len(tr.Spans) != 3 {
		t.Fatalf("got %d spans, want 3", len(tr.Spans))
	}
	diff(t, "root span", tr.Spans[0], sp)
	diff(t, "span with string attributes", tr.Spans[2], plain)
	weird := sp.ResourceAttributes[len(sp.ResourceAttributes)-1]
	r, err := s.SearchTraces(t.Context(), store.TraceQuery{Attributes: []model.Attr{weird}})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "search by a resource attribute with quotes", resultIDs(r), ids(1))
	diff(t, "child span", tr.Spans[1], child)
	if len(tr.Logs) != 0 || len(tr.Invocations) != 0 {
		t.Errorf("unexpected logs %v or invocations %v", tr.Logs, tr.Invocations)
	}
}

func testRoundTripLogs(t *testing.T, open Opener) {
	s := openStore(t, open)
	sp := fullSpan(2)
	tid := sp.TraceID
	logs := []model.LogRecord{
		{
			Time: sp.StartTime + 1, ObservedTime: sp.StartTime + 2, TraceID: tid, SpanID: sp.SpanID, Flags: 1,
			SeverityNumber: 17, SeverityText: "ERROR",
			Body:    model.Value{Type: model.TypeMap, Str: `{"msg":{"stringValue":"x"}}`},
			Service: "orders", Function: "orders-fn", InvocationID: "c0ffee-1", ScopeName: "logger",
			Attributes:         model.Attributes{{Key: "code.lineno", Value: model.Value{Type: model.TypeInt, Str: "12"}}},
			ResourceAttributes: model.Attributes{{Key: "service.name", Value: model.Value{Type: model.TypeString, Str: "orders"}}},
		},
		{Time: sp.StartTime + 3, ObservedTime: sp.StartTime + 3, TraceID: tid, Body: model.Value{Type: model.TypeString, Str: "plain"}},
	}
	invs := []model.Invocation{{
		RequestID: "c0ffee-1", Function: "orders-fn", Source: "telemetry", Start: sp.StartTime,
		DurationNs: 3e9, BilledDurationNs: 3e9, InitDurationNs: 2e8, Deadline: sp.StartTime + 3e9,
		MemoryMB: 512, MaxMemoryMB: 511, Status: model.InvocationTimeout, ErrorType: "Runtime.Timeout",
		ColdStart: true, Attempt: 2, TraceID: tid, SpanID: sp.SpanID,
	}}
	write(t, s, model.Batch{Spans: []model.Span{sp}, Logs: logs, Invocations: invs})
	tr := mustTrace(t, s, tid)
	diff(t, "logs", tr.Logs, logs)
	diff(t, "invocations", tr.Invocations, invs)

	// A trace known only from logs is still a trace.
	lonely := model.LogRecord{Time: base + 5, ObservedTime: base + 5, TraceID: traceID(3),
		Body: model.Value{Type: model.TypeString, Str: "only a log"}}
	write(t, s, model.Batch{Logs: []model.LogRecord{lonely}})
	tr = mustTrace(t, s, traceID(3))
	diff(t, "logs-only trace", tr.Logs, []model.LogRecord{lonely})
}

func testTraceNotFound(t *testing.T, open Opener) {
	s := openStore(t, open)
	write(t, s, traceSpec{n: 1, spans: 2, dur: time.Millisecond, service: "a", name: "x"}.build())
	_, err := s.Trace(t.Context(), traceID(404))
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Trace(unknown) = %v, want ErrNotFound", err)
	}
}

func testMessageRefs(t *testing.T, open Opener) {
	s := openStore(t, open)
	mr, ok := s.(store.MessageRefReader)
	if !ok {
		t.Fatal("engine does not implement store.MessageRefReader")
	}
	refs := []model.MessageRef{
		{Key: "sqs:m-1", Role: model.RoleProducer, TraceID: traceID(1), SpanID: spanID(1, 1), Time: base + 10, Destination: "q"},
		{Key: "sqs:m-1", Role: model.RoleConsumer, TraceID: traceID(2), SpanID: spanID(2, 1), Time: base + 20, Destination: "q"},
		{Key: "sqs:m-2", Role: model.RoleProducer, TraceID: traceID(1), SpanID: spanID(1, 1), Time: base + 10, Destination: "q"},
	}
	write(t, s, model.Batch{MessageRefs: refs})
	got, err := mr.MessageRefs(t.Context(), "sqs:m-1")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "refs of sqs:m-1", got, refs[:2])
	got, err = mr.MessageRefs(t.Context(), "sqs:none")
	if err != nil || len(got) != 0 {
		t.Fatalf("MessageRefs(unknown) = %v, %v; want empty", got, err)
	}
}

func testIdempotent(t *testing.T, open Opener) {
	s := openStore(t, open)
	b := traceSpec{n: 7, spans: 5, dur: time.Millisecond, service: "svc", name: "op"}.build()
	b.MessageRefs = []model.MessageRef{{Key: "sqs:x", Role: model.RoleProducer, TraceID: traceID(7), SpanID: spanID(7, 1), Time: base}}
	b.Logs = []model.LogRecord{
		{Time: base + 1, ObservedTime: base + 2, TraceID: traceID(7), SpanID: spanID(7, 1), Body: model.Value{Type: model.TypeString, Str: "same line"}},
		{Time: base + 1, ObservedTime: base + 2, TraceID: traceID(7), SpanID: spanID(7, 1), Body: model.Value{Type: model.TypeString, Str: "same line"}},
		{Time: base + 1, ObservedTime: base + 2, Body: model.Value{Type: model.TypeString, Str: "no trace"}},
	}
	write(t, s, b, b) // a client retry
	// The same spans again, interleaved with a new one, in one batch twice.
	extra := b.Spans[4]
	extra.SpanID = spanID(7, 6)
	mixed := model.Batch{Spans: []model.Span{b.Spans[0], extra, b.Spans[0], extra}}
	write(t, s, mixed)
	tr := mustTrace(t, s, traceID(7))
	if len(tr.Spans) != 6 {
		t.Fatalf("got %d spans after re-writes, want 6", len(tr.Spans))
	}
	// A batch whose spans lie hours apart, re-sent.
	far := traceSpec{n: 8, spans: 3, dur: time.Millisecond, service: "far", name: "op", childGap: 3 * time.Hour}.build()
	far.Logs = []model.LogRecord{
		{Time: base, TraceID: traceID(8), Body: model.Value{Type: model.TypeString, Str: "early"}},
		{Time: base + int64(5*time.Hour), TraceID: traceID(8), Body: model.Value{Type: model.TypeString, Str: "late"}},
	}
	write(t, s, far, far)
	if tr := mustTrace(t, s, traceID(8)); len(tr.Spans) != 3 || len(tr.Logs) != 2 {
		t.Errorf("re-sent spread-out batch: %d spans and %d logs, want 3 and 2", len(tr.Spans), len(tr.Logs))
	}
	// Equal lines within one batch are real and kept; the re-sent copies are not.
	if len(tr.Logs) != 2 {
		t.Errorf("got %d logs after a retried batch, want the 2 of the batch", len(tr.Logs))
	}
	seen := map[model.SpanID]bool{}
	for _, sp := range tr.Spans {
		if seen[sp.SpanID] {
			t.Errorf("span %s stored twice", sp.SpanID)
		}
		seen[sp.SpanID] = true
	}
	res, err := s.SearchTraces(t.Context(), store.TraceQuery{Service: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 1 || res.Traces[0].SpanCount != 6 {
		t.Errorf("search after re-writes = %+v, want one trace of 6 spans", res.Traces)
	}
	if mr, ok := s.(store.MessageRefReader); ok {
		refs, err := mr.MessageRefs(t.Context(), "sqs:x")
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) != 1 {
			t.Errorf("got %d message refs after a retried batch, want 1", len(refs))
		}
	}
}

// searchData is a store spread over several hours so searches cross the
// engines' time windows.
func searchData() []traceSpec {
	attr := func(k, v string) model.Attributes {
		return model.Attributes{{Key: k, Value: model.Value{Type: model.TypeString, Str: v}}}
	}
	prod := attr("deployment.environment", "prod")
	staging := attr("deployment.environment", "staging")
	return []traceSpec{
		{n: 1, start: 0, spans: 3, dur: 10 * time.Millisecond, service: "cart", name: "GET /cart", resource: prod},
		{n: 2, start: 10 * time.Minute, spans: 3, dur: 50 * time.Millisecond, service: "cart", name: "POST /cart", err: true, resource: prod},
		{n: 3, start: 40 * time.Minute, spans: 4, dur: 200 * time.Millisecond, service: "orders", name: "POST /orders", attrs: attr("tenant", "acme"), resource: prod},
		{n: 4, start: 2 * time.Hour, spans: 2, dur: 5 * time.Millisecond, service: "orders", name: "GET /orders", attrs: attr("tenant", "globex"), resource: staging},
		{n: 5, start: 3 * time.Hour, spans: 5, dur: time.Second, service: "cart", name: "GET /cart", attrs: attr("tenant", "acme"), err: true, resource: prod},
		{n: 6, start: 5 * time.Hour, spans: 1, dur: 30 * time.Millisecond, service: "pay", name: "charge",
			attrs: model.Attributes{{Key: "http.status_code", Value: model.Value{Type: model.TypeInt, Str: "502"}}}, resource: staging},
		{n: 7, start: 5*time.Hour + time.Minute, spans: 2, dur: 80 * time.Millisecond, service: "pay", name: "refund", attrs: attr("tenant", "acme"), resource: prod},
	}
}

func ids(ns ...uint64) []model.TraceID {
	out := []model.TraceID{}
	for _, n := range ns {
		out = append(out, traceID(n))
	}
	return out
}

func resultIDs(r *store.TraceResult) []model.TraceID {
	out := []model.TraceID{}
	for _, tr := range r.Traces {
		out = append(out, tr.TraceID)
	}
	return out
}

func testSearchFilters(t *testing.T, open Opener) {
	s := openStore(t, open)
	for _, ts := range searchData() {
		write(t, s, ts.build())
	}
	h := func(d time.Duration) int64 { return base + int64(d) }
	acme := []model.Attr{{Key: "tenant", Value: model.Value{Type: model.TypeString, Str: "acme"}}}
	tests := []struct {
		name string
		q    store.TraceQuery
		want []model.TraceID
	}{
		{"all newest first", store.TraceQuery{}, ids(7, 6, 5, 4, 3, 2, 1)},
		{"limit", store.TraceQuery{Limit: 2}, ids(7, 6)},
		{"time range", store.TraceQuery{TimeRange: store.TimeRange{Start: h(30 * time.Minute), End: h(4 * time.Hour)}}, ids(5, 4, 3)},
		{"open start", store.TraceQuery{TimeRange: store.TimeRange{End: h(time.Hour)}}, ids(3, 2, 1)},
		{"service of root", store.TraceQuery{Service: "cart"}, ids(5, 2, 1)},
		{"service of a child span", store.TraceQuery{Service: "orders-child"}, ids(4, 3)},
		{"operation", store.TraceQuery{Operation: "GET /cart"}, ids(5, 1)},
		{"service and operation", store.TraceQuery{Service: "cart", Operation: "POST /cart"}, ids(2)},
		{"errors", store.TraceQuery{ErrorOnly: true}, ids(5, 2)},
		{"errors of a service", store.TraceQuery{ErrorOnly: true, Service: "cart", TimeRange: store.TimeRange{Start: h(time.Hour)}}, ids(5)},
		{"min duration", store.TraceQuery{MinDuration: int64(200 * time.Millisecond)}, ids(5, 3)},
		{"max duration", store.TraceQuery{MaxDuration: int64(20 * time.Millisecond)}, ids(4, 1)},
		{"duration band", store.TraceQuery{MinDuration: int64(40 * time.Millisecond), MaxDuration: int64(100 * time.Millisecond)}, ids(7, 2)},
		{"attribute", store.TraceQuery{Attributes: acme}, ids(7, 5, 3)},
		{"typed attribute by canonical string", store.TraceQuery{Attributes: []model.Attr{{Key: "http.status_code", Value: model.Value{Type: model.TypeInt, Str: "502"}}}}, ids(6)},
		{"attribute value under another key", store.TraceQuery{Attributes: []model.Attr{{Key: "other", Value: model.Value{Str: "acme"}}}}, ids()},
		{"two attributes on one span", store.TraceQuery{Attributes: append(acme, model.Attr{Key: "tenant", Value: model.Value{Str: "globex"}})}, ids()},
		{"attribute and service and error", store.TraceQuery{Attributes: acme, Service: "cart", ErrorOnly: true}, ids(5)},
		{"attribute and duration", store.TraceQuery{Attributes: acme, MaxDuration: int64(500 * time.Millisecond)}, ids(7, 3)},
		{"everything", store.TraceQuery{Attributes: acme, Service: "pay", Operation: "refund",
			MinDuration: 1, MaxDuration: int64(time.Second), TimeRange: store.TimeRange{Start: h(4 * time.Hour), End: h(6 * time.Hour)}}, ids(7)},
		{"nothing matches", store.TraceQuery{Service: "nope"}, ids()},
		{"resource attribute", store.TraceQuery{Attributes: []model.Attr{{Key: "deployment.environment", Value: model.Value{Str: "staging"}}}}, ids(6, 4)},
		{"resource and span attribute", store.TraceQuery{Attributes: append(acme, model.Attr{Key: "deployment.environment", Value: model.Value{Str: "prod"}})}, ids(7, 5, 3)},
		{"resource key with another key's value", store.TraceQuery{Attributes: []model.Attr{{Key: "tenant", Value: model.Value{Str: "staging"}}}}, ids()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.SearchTraces(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "trace ids", resultIDs(r), tc.want)
			if len(r.Traces) < len(tc.want) || tc.q.Limit == 0 {
				if r.NextCursor != "" {
					t.Errorf("NextCursor = %q on the last page", r.NextCursor)
				}
			}
		})
	}
	t.Run("summary", func(t *testing.T) {
		r, err := s.SearchTraces(t.Context(), store.TraceQuery{Service: "cart", Operation: "GET /cart", TimeRange: store.TimeRange{Start: h(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.TraceSummary{{
			TraceID: traceID(5), RootService: "cart", RootName: "GET /cart", StartTime: h(3 * time.Hour),
			DurationNs: int64(4*time.Millisecond + time.Second), SpanCount: 5, ErrorCount: 1,
		}}
		diff(t, "summary", r.Traces, want)
	})
}

func testPagination(t *testing.T, open Opener) {
	s := openStore(t, open)
	var want []model.TraceID
	var b model.Batch
	const n = 37
	for i := uint64(1); i <= n; i++ {
		// Spread over 10 h, with pairs starting at the same instant so the
		// trace id must break ties.
		ts := traceSpec{n: i, start: time.Duration(i/2) * 17 * time.Minute, spans: 2, dur: time.Millisecond, service: "s", name: "op"}
		bb := ts.build()
		b.Spans = append(b.Spans, bb.Spans...)
	}
	write(t, s, b)
	all, err := s.SearchTraces(t.Context(), store.TraceQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	want = resultIDs(all)
	if len(want) != n {
		t.Fatalf("got %d traces, want %d", len(want), n)
	}
	for i := 1; i < len(all.Traces); i++ {
		if all.Traces[i].StartTime > all.Traces[i-1].StartTime {
			t.Fatalf("not newest first at %d", i)
		}
	}
	for _, q := range []store.TraceQuery{{}, {Service: "s"}} {
		t.Run(fmt.Sprintf("service=%q", q.Service), func(t *testing.T) {
			var got []model.TraceID
			q.Limit = 5
			for page := 0; ; page++ {
				if page > n {
					t.Fatal("pagination does not end")
				}
				r, err := s.SearchTraces(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Traces) > q.Limit {
					t.Fatalf("page of %d > limit %d", len(r.Traces), q.Limit)
				}
				got = append(got, resultIDs(r)...)
				if r.NextCursor == "" {
					break
				}
				q.Cursor = r.NextCursor
			}
			diff(t, "paged ids", got, want)
		})
	}
}

func testWholeTraceDuration(t *testing.T, open Opener) {
	s := openStore(t, open)
	// The root lasts 1 ms but a child starts 2 s later: the trace lasts
	// about 2 s. The spans arrive in separate writes, as from separate
	// functions.
	b := traceSpec{n: 1, spans: 3, dur: time.Millisecond, service: "edge", name: "enqueue", childGap: time.Second}.build()
	for _, sp := range b.Spans {
		write(t, s, model.Batch{Spans: []model.Span{sp}})
	}
	write(t, s, traceSpec{n: 2, start: time.Minute, spans: 3, dur: 100 * time.Millisecond, service: "edge", name: "fast"}.build())
	r, err := s.SearchTraces(t.Context(), store.TraceQuery{MinDuration: int64(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "long traces", resultIDs(r), ids(1))
	if len(r.Traces) == 1 {
		got := r.Traces[0]
		if got.DurationNs != int64(2*time.Second+time.Millisecond) || got.SpanCount != 3 || got.RootName != "enqueue" {
			t.Errorf("summary %+v: want duration 2.001s, 3 spans, root enqueue", got)
		}
	}
	// A span-level condition on the short root still sees the whole trace.
	r, err = s.SearchTraces(t.Context(), store.TraceQuery{Operation: "enqueue", MinDuration: int64(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "long traces by root operation", resultIDs(r), ids(1))
}

func testSearchText(t *testing.T, open Opener) {
	s := openStore(t, open)
	for _, ts := range []traceSpec{
		{n: 1, start: 0, spans: 1, dur: time.Millisecond, service: "a", name: "Checkout"},
		{n: 2, start: time.Minute, spans: 1, dur: time.Millisecond, service: "a", name: "x", text: "Connection RESET by peer"},
		{n: 3, start: 2 * time.Minute, spans: 1, dur: time.Millisecond, service: "a", name: "x", logBody: "user 42 paid 100% of the bill"},
		{n: 4, start: 3 * time.Minute, spans: 1, dur: time.Millisecond, service: "b", name: "x", payload: `{"sku":"ZX_81"}`},
		{n: 5, start: 4 * time.Minute, spans: 2, dur: time.Millisecond, service: "b", name: "y", err: true},
	} {
		write(t, s, ts.build())
	}
	tests := []struct {
		text    string
		service string
		want    []model.TraceID
	}{
		{"checkout", "", ids(1)},
		{"reset BY", "", ids(2)},
		{"100%", "", ids(3)},
		{"% of", "", ids(3)},
		{"zx_8", "", ids(4)},
		{"ZX%8", "", ids()},
		{"Z_", "", ids()},
		{"paid", "a", ids(3)},
		{"paid", "b", ids()},
		{"nothing like this", "", ids()},
	}
	for _, tc := range tests {
		t.Run(tc.text+"/"+tc.service, func(t *testing.T) {
			r, err := s.SearchTraces(t.Context(), store.TraceQuery{Text: tc.text, Service: tc.service})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "ids", resultIDs(r), tc.want)
		})
	}
	// Error messages of spans are searched too (ErrorType is not text).
	b := traceSpec{n: 6, start: 5 * time.Minute, spans: 1, dur: time.Millisecond, service: "c", name: "z"}.build()
	b.Spans[0].ErrorMessage = "Task timed out after 3.00 seconds"
	write(t, s, b)
	r, err := s.SearchTraces(t.Context(), store.TraceQuery{Text: "TIMED OUT"})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "error message match", resultIDs(r), ids(6))
}

func testSearchInvalid(t *testing.T, open Opener) {
	s := openStore(t, open)
	for _, q := range []store.TraceQuery{
		{Cursor: "not a cursor"},
		{TimeRange: store.TimeRange{Start: 10, End: 5}},
		{MinDuration: -1},
		{MinDuration: 10, MaxDuration: 5},
	} {
		if _, err := s.SearchTraces(t.Context(), q); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SearchTraces(%+v) = %v, want ErrInvalid", q, err)
		}
	}
	r, err := s.SearchTraces(t.Context(), store.TraceQuery{})
	if err != nil || len(r.Traces) != 0 || r.NextCursor != "" {
		t.Errorf("search of an empty store = %+v, %v", r, err)
	}
}

func testAutocomplete(t *testing.T, open Opener) {
	s := openStore(t, open)
	for _, ts := range searchData() {
		write(t, s, ts.build())
	}
	ctx := t.Context()
	all := store.TimeRange{}
	got, err := s.Services(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "services", got, []string{"cart", "cart-child", "orders", "orders-child", "pay", "pay-child"})
	got, err = s.Services(ctx, store.TimeRange{Start: base + int64(4*time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "services after 4h", got, []string{"pay", "pay-child"})
	got, err = s.Operations(ctx, "cart", all)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "operations of cart", got, []string{"GET /cart", "POST /cart"})
	got, err = s.AttributeKeys(ctx, "", all, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "attribute keys", got, []string{"deployment.environment", "http.status_code", "tenant"})
	got, err = s.AttributeKeys(ctx, "te", all, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "attribute keys with prefix", got, []string{"tenant"})
	got, err = s.AttributeValues(ctx, "tenant", "", all, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "tenant values, most frequent first", got, []string{"acme", "globex"})
	got, err = s.AttributeValues(ctx, "tenant", "g", all, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "tenant values with prefix", got, []string{"globex"})
	got, err = s.AttributeValues(ctx, "deployment.environment", "", all, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "resource attribute values", got, []string{"prod", "staging"})
	got, err = s.AttributeKeys(ctx, "dep", all, 10)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "resource attribute keys with prefix", got, []string{"deployment.environment"})
	got, err = s.AttributeValues(ctx, "tenant", "", all, 1)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "tenant values, limit 1", got, []string{"acme"})
}

func testRetention(t *testing.T, open Opener) {
	s := openStore(t, open)
	old := traceSpec{n: 1, start: 0, spans: 3, dur: time.Millisecond, service: "a", name: "old", logBody: "old log"}.build()
	old.Invocations = []model.Invocation{{RequestID: "r1", Function: "f", Source: "sdk", Start: base, TraceID: traceID(1), Status: model.InvocationOK}}
	old.MessageRefs = []model.MessageRef{{Key: "sqs:old", Role: model.RoleProducer, TraceID: traceID(1), Time: base}}
	young := traceSpec{n: 2, start: 2 * time.Hour, spans: 2, dur: time.Millisecond, service: "a", name: "young", logBody: "young log"}.build()
	write(t, s, old, young)
	n, err := s.DeleteBefore(t.Context(), base+int64(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 { // 3 spans, 1 log, 1 invocation, 1 ref
		t.Errorf("DeleteBefore removed %d rows, want 6", n)
	}
	if _, err := s.Trace(t.Context(), traceID(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old trace after retention: %v, want ErrNotFound", err)
	}
	if tr := mustTrace(t, s, traceID(2)); len(tr.Spans) != 2 || len(tr.Logs) != 1 {
		t.Errorf("young trace after retention: %d spans %d logs", len(tr.Spans), len(tr.Logs))
	}
	r, err := s.SearchTraces(t.Context(), store.TraceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "search after retention", resultIDs(r), ids(2))
	if mr, ok := s.(store.MessageRefReader); ok {
		if refs, err := mr.MessageRefs(t.Context(), "sqs:old"); err != nil || len(refs) != 0 {
			t.Errorf("old refs after retention: %v %v", refs, err)
		}
	}
}

func testConcurrentWriters(t *testing.T, open Opener) {
	s := openStore(t, open)
	const writers, each = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				n := uint64(w*each + i + 1)
				b := traceSpec{n: n, start: time.Duration(n) * time.Second, spans: 3, dur: time.Millisecond, service: "c", name: "op"}.build()
				if err := s.Write(context.Background(), &b); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Write: %v", err)
	}
	r, err := s.SearchTraces(t.Context(), store.TraceQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Traces) != writers*each {
		t.Fatalf("found %d traces, want %d", len(r.Traces), writers*each)
	}
	for _, tr := range r.Traces {
		if tr.SpanCount != 3 {
			t.Errorf("trace %s has %d spans, want 3", tr.TraceID, tr.SpanCount)
		}
	}
}

// testCloseCommits closes the store while writers are busy: every write
// that succeeded must be readable after a reopen, every refused one absent.
func testCloseCommits(t *testing.T, open Opener) {
	s := open(t)
	const writers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[uint64]bool{}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := uint64(w*100000 + i + 1)
				b := traceSpec{n: n, start: time.Duration(i) * time.Millisecond, spans: 2, dur: time.Millisecond, service: "c", name: "op"}.build()
				err := s.Write(context.Background(), &b)
				mu.Lock()
				ok[n] = err == nil
				mu.Unlock()
				if err != nil {
					if !errors.Is(err, store.ErrUnavailable) {
						t.Errorf("Write during Close: %v, want ErrUnavailable", err)
					}
					return
				}
			}
		})
	}
	time.Sleep(150 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s = openStore(t, open)
	acked := 0
	for n, good := range ok {
		_, err := s.Trace(t.Context(), traceID(n))
		switch {
		case good && err != nil:
			t.Errorf("acknowledged trace %d lost: %v", n, err)
		case !good && err == nil:
			t.Errorf("refused trace %d was stored", n)
		}
		if good {
			acked++
		}
	}
	if acked == 0 {
		t.Error("no write succeeded before Close")
	}
}

func testReopen(t *testing.T, open Opener) {
	s := open(t)
	b := model.Batch{Spans: []model.Span{fullSpan(9)}}
	write(t, s, b)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), &b); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Write after Close = %v, want ErrUnavailable", err)
	}
	s = openStore(t, open)
	tr := mustTrace(t, s, traceID(9))
	diff(t, "span after reopen", tr.Spans, b.Spans)
	// Still idempotent across the restart.
	write(t, s, b)
	tr = mustTrace(t, s, traceID(9))
	if len(tr.Spans) != 1 {
		t.Errorf("got %d spans after re-write across a reopen, want 1", len(tr.Spans))
	}
}

func testOverload(t *testing.T, open func(t *testing.T, rows int) store.Store) {
	const bound, batch, writers = 100, 60, 32
	s := open(t, bound)
	t.Cleanup(func() { _ = s.Close() })
	var wg sync.WaitGroup
	results := make([]error, writers)
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			b := traceSpec{n: uint64(w + 1), spans: batch, dur: time.Millisecond, service: "o", name: "op"}.build()
			<-start
			results[w] = s.Write(context.Background(), &b)
		})
	}
	close(start)
	wg.Wait()
	var over int
	for w, err := range results {
		_, rerr := s.Trace(t.Context(), traceID(uint64(w+1)))
		switch {
		case err == nil:
			if rerr != nil {
				t.Errorf("acknowledged trace %d: %v", w+1, rerr)
			}
		case errors.Is(err, store.ErrOverloaded):
			over++
			if !errors.Is(rerr, store.ErrNotFound) {
				t.Errorf("overloaded write %d is visible: %v", w+1, rerr)
			}
		default:
			t.Errorf("Write %d: %v", w+1, err)
		}
	}
	if over == 0 {
		t.Error("no write was refused with ErrOverloaded")
	}
	// A batch larger than the bound is taken once the queue has drained
	// (every Write above returned), or its client could never get it in.
	big := traceSpec{n: 999, spans: bound + 1, dur: time.Millisecond, service: "o", name: "op"}.build()
	if err := s.Write(t.Context(), &big); err != nil {
		t.Errorf("Write of a batch over the bound into an empty queue = %v, want it taken", err)
	}
	if tr, err := s.Trace(t.Context(), traceID(999)); err != nil || len(tr.Spans) != bound+1 {
		t.Errorf("batch over the bound: trace %v, %v; want %d spans", tr, err, bound+1)
	}
}
