package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// testDetect checks the detection contracts: window reads by end time,
// issue folding with the watermark compare-and-set, regression, status
// changes, and alert delivery state (one notification per episode, one
// holder per lease).
func testDetect(t *testing.T, open Opener) {
	s := openStore(t, open)
	type detectStore interface {
		store.DetectReader
		store.IssueStore
		store.AlertStore
		store.ContractStore
	}
	ds, ok := s.(detectStore)
	if !ok {
		t.Fatalf("%T does not implement the detection interfaces", s)
	}
	ctx := t.Context()
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC).UnixNano()
	sec := int64(time.Second)
	tid := func(b byte) model.TraceID { return model.TraceID{b, 1} }
	span := func(b byte, start, dur int64, status model.StatusCode, attrs ...model.Attr) model.Span {
		return model.Span{TraceID: tid(b), SpanID: model.SpanID{b}, StartTime: start, DurationNs: dur, Name: "h",
			Kind: model.KindServer, StatusCode: status, Service: "svc", Function: "fn", Attributes: attrs}
	}
	dlq := span(2, base, 3*sec, model.StatusOK)
	dlq.Destination = "orders-dlq"
	write(t, s, model.Batch{
		Spans: []model.Span{
			span(1, base, sec, model.StatusError), // ends at base+1s
			dlq,                                   // ends at base+3s
			span(3, base+2*sec, sec, model.StatusOK, model.Attr{Key: "ariadne.batch.failed", Value: model.Value{Type: model.TypeBool, Str: "true"}},
				model.Attr{Key: "n", Value: model.Value{Type: model.TypeInt, Str: "2"}}),
			span(4, base-5*60*sec, 10*60*sec, model.StatusError), // long: starts before, ends at base+5m
		},
		Invocations: []model.Invocation{
			{RequestID: "r1", Function: "fn", Source: "telemetry", Start: base, DurationNs: sec, Status: model.InvocationOOM, MemoryMB: 128, MaxMemoryMB: 128},
			{RequestID: "r2", Function: "fn", Source: "telemetry", Start: base, DurationNs: sec, Status: model.InvocationOK, Attempt: 3},
			{RequestID: "r3", Function: "fn", Source: "telemetry", Start: base, DurationNs: sec, Status: model.InvocationOK, InitDurationNs: sec / 2},
			// r3's start marker: its deadline does not move r3's end once r3 ended.
			{RequestID: "r3", Function: "fn", Source: "sdk-start", Start: base, Deadline: base + 60*sec, Status: model.InvocationStarted},
			// r4 never ended: a timeout 30 s (the grace) after its deadline.
			{RequestID: "r4", Function: "fn", Source: "sdk-start", Start: base - 30*sec, Deadline: base - 25*sec, Status: model.InvocationStarted},
		},
	})

	w := store.TimeRange{Start: base, End: base + 10*sec}
	spans, trunc, err := ds.DetectSpans(ctx, w, store.DetectSpanFilter{Errors: true}, 10)
	if err != nil || trunc || len(spans) != 1 || spans[0].TraceID != tid(1) {
		t.Errorf("error spans ending in the window: %d spans, truncated %v, %v; want trace 1 only", len(spans), trunc, err)
	}
	spans, _, err = ds.DetectSpans(ctx, store.TimeRange{Start: base + 10*sec, End: base + 10*60*sec}, store.DetectSpanFilter{Errors: true}, 10)
	if err != nil || len(spans) != 1 || spans[0].TraceID != tid(4) {
		t.Errorf("a long span is found in the window where it ends: %d spans, %v", len(spans), err)
	}
	spans, _, err = ds.DetectSpans(ctx, w, store.DetectSpanFilter{AttrKeys: []string{"ariadne.batch.failed", "nope"}}, 10)
	if err != nil || len(spans) != 1 || spans[0].TraceID != tid(3) {
		t.Errorf("spans by attribute key: %d, %v", len(spans), err)
	}
	spans, _, err = ds.DetectSpans(ctx, w, store.DetectSpanFilter{AttrAtLeast: []store.AttrBound{{Key: "n", Min: 2}}}, 10)
	if err != nil || len(spans) != 1 || spans[0].TraceID != tid(3) {
		t.Errorf("spans by int attribute bound: %d, %v; want trace 3 (n=2), not 1 (n=1)", len(spans), err)
	}
	spans, _, err = ds.DetectSpans(ctx, w, store.DetectSpanFilter{DestinationContains: []string{"DLQ"}}, 10)
	if err != nil || len(spans) != 1 || spans[0].TraceID != tid(2) {
		t.Errorf("spans by destination: %d, %v", len(spans), err)
	}
	if _, trunc, _ := ds.DetectSpans(ctx, store.TimeRange{Start: base - 10*60*sec, End: base + 3600*sec}, store.DetectSpanFilter{Errors: true}, 1); !trunc {
		t.Errorf("two error spans with limit 1: not truncated")
	}
	invs, _, err := ds.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w, Now: base + 10*sec,
		Statuses: []model.InvocationStatus{model.InvocationOOM, model.InvocationTimeout}, MinAttempt: 2}, 10)
	got := map[string]model.InvocationStatus{}
	for _, inv := range invs {
		got[inv.RequestID] = inv.Status
	}
	if err != nil || len(got) != 3 || got["r1"] != model.InvocationOOM || got["r2"] != model.InvocationOK || got["r4"] != model.InvocationTimeout {
		t.Errorf("detect invocations: %v, %v; want r1 oom, r2 (attempt 3) ok, r4 timeout past its deadline", got, err)
	}

	invs, _, err = ds.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w, Now: base + 10*sec, ColdStarts: true}, 10)
	if err != nil || len(invs) != 1 || invs[0].RequestID != "r3" || invs[0].InitDurationNs != sec/2 {
		t.Errorf("cold starts: %+v, %v; want r3 with its init duration", invs, err)
	}

	// Folding, compare-and-set, regression.
	occ := func(n int64, at int64, tr byte) []store.IssueOccurrence {
		return []store.IssueOccurrence{{Kind: "error", Fingerprint: "fp", Title: "T", Function: "fn", Severity: "error",
			Explanation: "E", First: at, Last: at + sec, Count: n, Traces: []model.TraceID{tid(tr)}}}
	}
	if err := ds.CommitDetection(ctx, "d", 0, base, occ(2, base, 1), base); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	if err := ds.CommitDetection(ctx, "d", 0, base, occ(2, base, 1), base); !errors.Is(err, store.ErrConflict) {
		t.Errorf("commit from a stale watermark: %v, want ErrConflict", err)
	}
	if wm, err := ds.DetectorWatermark(ctx, "d"); err != nil || wm != base {
		t.Errorf("watermark %d, %v; want %d", wm, err, base)
	}
	if err := ds.CommitDetection(ctx, "d", base, base+sec, occ(3, base+5*sec, 2), base); err != nil {
		t.Fatalf("second commit: %v", err)
	}
	id := store.IssueID("error", "fp")
	is, err := ds.Issue(ctx, id)
	if err != nil || is.Count != 5 || is.FirstSeen != base || is.LastSeen != base+6*sec || is.Status != store.IssueOpen ||
		len(is.SampleTraces) != 2 || is.SampleTraces[1] != tid(2) || is.Function != "fn" {
		t.Errorf("folded issue %+v, %v", is, err)
	}
	if _, err := ds.SetIssueStatus(ctx, id, store.IssueResolved, base+10*sec); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if err := ds.CommitDetection(ctx, "d", base+sec, base+2*sec, occ(1, base+20*sec, 3), base); err != nil {
		t.Fatalf("third commit: %v", err)
	}
	is, _ = ds.Issue(ctx, id)
	if is.Status != store.IssueOpen || is.Regressions != 1 || is.OpenedAt != base+20*sec {
		t.Errorf("a resolved issue seen again: status %s, regressions %d, opened %d; want open, 1, %d", is.Status, is.Regressions, is.OpenedAt, base+20*sec)
	}
	if _, err := ds.SetIssueStatus(ctx, "nope", store.IssueResolved, base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of an unknown issue: %v", err)
	}
	list, err := ds.Issues(ctx, store.IssueQuery{Kind: "error", Status: store.IssueOpen, Function: "fn"})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("issues: %+v, %v", list, err)
	}
	if list, _ := ds.Issues(ctx, store.IssueQuery{Kind: "timeout"}); len(list) != 0 {
		t.Errorf("issues of another kind: %d", len(list))
	}
	if n, err := ds.ResolveStale(ctx, base+20*sec, base+30*sec); err != nil || n != 0 {
		t.Errorf("resolve stale, issue seen at the bound: %d, %v", n, err)
	}
	if n, err := ds.ResolveStale(ctx, base+22*sec, base+30*sec); err != nil || n != 1 {
		t.Errorf("resolve stale: %d, %v; want 1", n, err)
	}
	if is, _ := ds.Issue(ctx, id); is.Status != store.IssueResolved || is.ResolvedAt != base+30*sec {
		t.Errorf("stale issue: %s at %d", is.Status, is.ResolvedAt)
	}
	if _, err := ds.SetIssueStatus(ctx, id, store.IssueOpen, base+31*sec); err != nil {
		t.Fatal(err)
	}
	counts, err := ds.IssueCounts(ctx, base)
	if err != nil || counts[id] != 6 {
		t.Errorf("issue counts %v, %v; want 6", counts, err)
	}

	// Contracts: observations merge idempotently.
	obs := []store.Contract{{Channel: "orders", Service: "api", Version: "1", Fields: map[string]string{"id": "string", "amount": "number"},
		FirstSeen: base, LastSeen: base + sec}}
	for range 2 {
		if err := ds.ObserveContracts(ctx, obs); err != nil {
			t.Fatalf("observe: %v", err)
		}
	}
	if err := ds.ObserveContracts(ctx, []store.Contract{{Channel: "orders", Service: "api", Version: "1", Fields: map[string]string{"amount": "string"},
		FirstSeen: base + 5*sec, LastSeen: base + 5*sec}, {Channel: "orders", Service: "api", Version: "2", Fields: map[string]string{"id": "string"},
		FirstSeen: base + 9*sec, LastSeen: base + 9*sec}}); err != nil {
		t.Fatalf("observe: %v", err)
	}
	cs, err := ds.Contracts(ctx, "orders")
	if err != nil || len(cs) != 2 || cs[0].Version != "1" || cs[0].Fields["amount"] != "number|string" || cs[0].Fields["id"] != "string" ||
		cs[0].FirstSeen != base || cs[0].LastSeen != base+5*sec || cs[1].Version != "2" {
		t.Errorf("contracts %+v, %v", cs, err)
	}
	if cs, _ := ds.Contracts(ctx, "nope"); len(cs) != 0 {
		t.Errorf("contracts of an unknown channel: %+v", cs)
	}
	prod := span(9, base+4*sec, sec, model.StatusOK)
	prod.Kind = model.KindProducer
	write(t, s, model.Batch{Spans: []model.Span{prod}})
	spans, _, err = ds.DetectSpans(ctx, w, store.DetectSpanFilter{Producers: true}, 10)
	if err != nil || len(spans) != 1 || spans[0].TraceID != tid(9) {
		t.Errorf("producer spans: %d, %v", len(spans), err)
	}

	// Alerts.
	rule := store.AlertRule{ID: "r", Name: "any", AnyNew: true, Target: "webhook", URL: "http://x", Created: base}
	if err := ds.PutAlertRule(ctx, rule); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	if got, err := ds.AlertRule(ctx, "r"); err != nil || got != rule {
		t.Errorf("rule %+v, %v", got, err)
	}
	ev := store.AlertEvent{RuleID: "r", IssueID: id, Type: "resolved", Episode: 7, Created: base}
	if ok, err := ds.EnqueueAlert(ctx, ev); ok || err != nil {
		t.Errorf("resolved before firing enqueued: %v, %v", ok, err)
	}
	ev.Type = "firing"
	var wg sync.WaitGroup
	var mu sync.Mutex
	inserted := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := ds.EnqueueAlert(ctx, ev)
			if err != nil {
				t.Errorf("concurrent enqueue: %v", err)
			}
			if ok {
				mu.Lock()
				inserted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if inserted != 1 {
		t.Errorf("4 concurrent enqueues of one notification inserted %d", inserted)
	}
	claimed := 0
	for _, h := range []string{"a", "b"} {
		evs, err := ds.ClaimAlerts(ctx, h, base, base+60*sec, 10)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		claimed += len(evs)
	}
	if claimed != 1 {
		t.Errorf("two holders claimed %d leases of one event", claimed)
	}
	if err := ds.FinishAlert(ctx, store.IssueID("r\x00"+id+"\x00firing", "7"), "b", true, "", 0, base); !errors.Is(err, store.ErrConflict) {
		// "a" claimed first.
		t.Errorf("finish by a non-holder: %v", err)
	}
	evs, _ := ds.AlertEvents(ctx, "r", 10)
	if len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	if err := ds.FinishAlert(ctx, evs[0].ID, "a", false, "boom", base+sec, base); err != nil {
		t.Errorf("finish (retry): %v", err)
	}
	if evs, _ := ds.ClaimAlerts(ctx, "a", base, base+60*sec, 10); len(evs) != 0 {
		t.Errorf("claimed before the next attempt is due")
	}
	if evs, _ := ds.ClaimAlerts(ctx, "a", base+sec, base+60*sec, 10); len(evs) != 1 || evs[0].Attempts != 2 {
		t.Errorf("retry claim: %+v", evs)
	}
	if err := ds.FinishAlert(ctx, evs[0].ID, "a", true, "", 0, base+2*sec); err != nil {
		t.Errorf("finish (delivered): %v", err)
	}
	ev.Type = "resolved"
	if ok, err := ds.EnqueueAlert(ctx, ev); !ok || err != nil {
		t.Errorf("resolved after firing not enqueued: %v, %v", ok, err)
	}
	if err := ds.DeleteAlertRule(ctx, "r"); err != nil {
		t.Errorf("delete rule: %v", err)
	}
	if evs, _ := ds.AlertEvents(ctx, "r", 10); len(evs) != 0 {
		t.Errorf("events outlive their rule: %d", len(evs))
	}
	if err := ds.DeleteAlertRule(ctx, "r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete unknown rule: %v", err)
	}
}
