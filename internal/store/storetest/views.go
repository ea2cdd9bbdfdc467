package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// testIssueSeries checks store.IssueSeriesReader: per-minute counts summed
// into the requested buckets, zeros for quiet buckets and unknown issues.
// Engines without the interface skip it (the API then answers 501).
func testIssueSeries(t *testing.T, open Opener) {
	s := openStore(t, open)
	sr, ok := s.(store.IssueSeriesReader)
	if !ok {
		t.Skipf("%T does not implement store.IssueSeriesReader", s)
	}
	is, ok := s.(store.IssueStore)
	if !ok {
		t.Fatalf("%T implements IssueSeriesReader but not IssueStore", s)
	}
	ctx := t.Context()
	min := int64(time.Minute)
	t0 := base - base%min
	occ := func(fp string, last int64, n int64) store.IssueOccurrence {
		return store.IssueOccurrence{Kind: "error", Fingerprint: fp, Title: fp, Function: "fn", Severity: "error",
			First: last - 1, Last: last, Count: n}
	}
	// Two windows: the second adds to a minute the first counted.
	if err := is.CommitDetection(ctx, "series", 0, t0+10*min, []store.IssueOccurrence{
		occ("a", t0+5*1e9, 2), occ("a", t0+3*min+1, 4), occ("b", t0+9*min, 1),
	}, t0+10*min); err != nil {
		t.Fatal(err)
	}
	if err := is.CommitDetection(ctx, "series", t0+10*min, t0+20*min, []store.IssueOccurrence{
		occ("a", t0+3*min+30*1e9, 1), occ("a", t0+12*min, 7),
	}, t0+20*min); err != nil {
		t.Fatal(err)
	}
	a, b := store.IssueID("error", "a"), store.IssueID("error", "b")
	got, err := sr.IssueSeries(ctx, []string{a, b, "unknown"}, store.SeriesRange{Start: t0, End: t0 + 15*min, Step: 5 * min})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "series", got, map[string][]int64{a: {2 + 4 + 1, 0, 7}, b: {0, 1, 0}, "unknown": {0, 0, 0}})

	// A range cut inside a bucket: the last bucket only counts up to End.
	got, err = sr.IssueSeries(ctx, []string{a}, store.SeriesRange{Start: t0 + 3*min, End: t0 + 12*min, Step: 2 * min})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "cut series", got, map[string][]int64{a: {5, 0, 0, 0, 0}})

	got, err = sr.IssueSeries(ctx, nil, store.SeriesRange{Start: t0, End: t0 + min, Step: min})
	if err != nil || len(got) != 0 {
		t.Errorf("no ids: %v %v", got, err)
	}
	for _, bad := range []store.SeriesRange{
		{Start: t0, End: t0, Step: min},
		{Start: t0, End: t0 + min, Step: min / 2},
		{Start: t0, End: t0 + 2000*min, Step: min},
	} {
		if _, err := sr.IssueSeries(ctx, []string{a}, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("IssueSeries(%+v): %v, want ErrInvalid", bad, err)
		}
	}
}

// testLogSearch checks store.LogReader: filters, newest-first order, and
// paging through records that share a timestamp.
func testLogSearch(t *testing.T, open Opener) {
	s := openStore(t, open)
	lr, ok := s.(store.LogReader)
	if !ok {
		t.Skipf("%T does not implement store.LogReader", s)
	}
	ctx := t.Context()
	str := func(v string) model.Value { return model.Value{Type: model.TypeString, Str: v} }
	var logs []model.LogRecord
	add := func(at int64, fn string, sev uint8, body string) {
		logs = append(logs, model.LogRecord{Time: base + at, ObservedTime: base + at, TraceID: traceID(uint64(len(logs) + 1)),
			SpanID: spanID(uint64(len(logs)+1), 1), SeverityNumber: sev, SeverityText: map[uint8]string{9: "INFO", 17: "ERROR"}[sev],
			Body: str(body), Service: fn + "-svc", Function: fn, InvocationID: fn + "-req"})
	}
	add(1, "pay", 9, "charged 12 EUR")
	add(2, "pay", 17, "Charge failed: card declined")
	add(3, "ship", 9, "label printed")
	for range 5 {
		add(4, "pay", 9, "same nanosecond")
	}
	add(5, "pay", 0, "no severity, charge pending")
	write(t, s, model.Batch{Logs: logs})

	search := func(q store.LogQuery) ([]model.LogRecord, string) {
		t.Helper()
		got, next, err := lr.SearchLogs(ctx, q)
		if err != nil {
			t.Fatalf("SearchLogs(%+v): %v", q, err)
		}
		return got, next
	}
	bodies := func(ls []model.LogRecord) []string {
		out := []string{}
		for _, l := range ls {
			out = append(out, l.Body.Str)
		}
		return out
	}
	got, next := search(store.LogQuery{Function: "pay", MinSeverity: 17})
	diff(t, "errors of pay", bodies(got), []string{"Charge failed: card declined"})
	if next != "" {
		t.Errorf("a short page has a cursor %q", next)
	}
	diff(t, "whole record", got[0], logs[1])
	got, _ = search(store.LogQuery{Text: "CHARGE"})
	diff(t, "text", bodies(got), []string{"no severity, charge pending", "Charge failed: card declined", "charged 12 EUR"})
	got, _ = search(store.LogQuery{Service: "ship-svc"})
	diff(t, "service", bodies(got), []string{"label printed"})
	got, _ = search(store.LogQuery{RequestID: "ship-req"})
	diff(t, "request id", bodies(got), []string{"label printed"})
	got, _ = search(store.LogQuery{TimeRange: store.TimeRange{Start: base + 2, End: base + 4}})
	diff(t, "range", bodies(got), []string{"label printed", "Charge failed: card declined"})

	// Pages of two through the five records of one nanosecond and on.
	var all []model.LogRecord
	cursor := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		got, next := search(store.LogQuery{Function: "pay", Limit: 2, Cursor: cursor})
		if len(got) > 2 {
			t.Fatalf("page of %d records, limit 2", len(got))
		}
		all = append(all, got...)
		if next == "" {
			break
		}
		cursor = next
	}
	want, _ := search(store.LogQuery{Function: "pay"})
	if len(want) != 8 {
		t.Fatalf("pay has %d logs, want 8", len(want))
	}
	diff(t, "paged", all, want)
	for i := 1; i < len(all); i++ {
		if all[i].Time > all[i-1].Time {
			t.Errorf("record %d is newer than the one before", i)
		}
	}
	if _, _, err := lr.SearchLogs(ctx, store.LogQuery{Cursor: "nope"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad cursor: %v, want ErrInvalid", err)
	}
}
