package clickhouse

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenData is a small transaction touching every table: a web request
// calling function api, which queries a database and sends to a queue
// that function worker consumes; logs, invocation rows, message refs.
func goldenData(base int64) model.Batch {
	tr := func(b byte) model.TraceID {
		return model.TraceID{0xa1, b, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, b}
	}
	sp := func(b byte) model.SpanID { return model.SpanID{0xb2, b, 3, 4, 5, 6, 7, b} }
	res := model.Attributes{{Key: "deployment.environment.name", Value: model.Value{Type: model.TypeString, Str: "prod"}}}
	web, wrk := tr(1), tr(2)
	return model.Batch{
		Spans: []model.Span{
			{TraceID: web, SpanID: sp(1), StartTime: base, DurationNs: 50e6, Name: "GET /", Kind: model.KindServer, Service: "web",
				ResourceAttributes: res, Attributes: model.Attributes{{Key: "tenant", Value: model.Value{Type: model.TypeString, Str: "acme"}}}},
			{TraceID: web, SpanID: sp(2), ParentSpanID: sp(1), StartTime: base + 1e6, DurationNs: 40e6, Name: "POST", Kind: model.KindClient,
				Service: "web", ResourceAttributes: res},
			{TraceID: web, SpanID: sp(3), ParentSpanID: sp(2), StartTime: base + 2e6, DurationNs: 30e6, Name: "POST /orders",
				Kind: model.KindServer, Service: "api", Function: "api", Trigger: "apigateway", ColdStart: true, InvocationID: "req-1",
				ResourceAttributes: res},
			{TraceID: web, SpanID: sp(4), ParentSpanID: sp(3), StartTime: base + 3e6, DurationNs: 5e6, Name: "SELECT", Kind: model.KindClient,
				Service: "api", Function: "api", DBSystem: "postgresql", StatusCode: model.StatusError, ErrorType: "Timeout",
				ErrorMessage: "query timed out", ResourceAttributes: res},
			{TraceID: web, SpanID: sp(5), ParentSpanID: sp(3), StartTime: base + 10e6, DurationNs: 10e6, Name: "send", Kind: model.KindProducer,
				Service: "api", Function: "api", MessagingSystem: "aws_sqs", Destination: "jobs", MessageIDs: []string{"m-1"}, ResourceAttributes: res},
			{TraceID: wrk, SpanID: sp(6), StartTime: base + 3e9, DurationNs: 100e6, Name: "worker", Kind: model.KindConsumer,
				Service: "worker", Function: "worker", Trigger: "sqs", MessagingSystem: "aws_sqs", Destination: "jobs", ResourceAttributes: res},
		},
		Logs: []model.LogRecord{
			{Time: base + 4e6, ObservedTime: base + 4e6, TraceID: web, SpanID: sp(3), SeverityNumber: 17, SeverityText: "ERROR",
				Body: model.Value{Type: model.TypeString, Str: "payment declined"}, Service: "api", Function: "api", InvocationID: "req-1"},
		},
		Invocations: []model.Invocation{
			{RequestID: "req-1", Function: "api", Source: "sdk", Start: base + 2e6, DurationNs: 30e6, Status: model.InvocationOK,
				ColdStart: true, TraceID: web, SpanID: sp(3)},
			{RequestID: "req-1", Source: "telemetry", Start: base + 2e6, DurationNs: 31e6, BilledDurationNs: 100e6, MemoryMB: 512,
				InitDurationNs: 200e6, Status: model.InvocationOK},
			{RequestID: "req-2", Function: "worker", Source: "sdk", Start: base + 3e9, DurationNs: 100e6, Status: model.InvocationError,
				ErrorType: "Boom", TraceID: wrk, SpanID: sp(6)},
		},
		MessageRefs: []model.MessageRef{
			{Key: "sqs:m-1", Role: model.RoleProducer, TraceID: web, SpanID: sp(5), Time: base + 20e6, Destination: "jobs"},
			{Key: "sqs:m-1", Role: model.RoleConsumer, TraceID: wrk, SpanID: sp(6), Time: base + 3e9, Destination: "jobs"},
		},
	}
}

var (
	tokenRe   = regexp.MustCompile(`'[0-9a-f]{24}'`)
	appliedRe = regexp.MustCompile(`(INSERT INTO ` + "`golden[a-z_]*`" + `\.` + "`schema_migrations`" + ` \(version, name, applied_at\) VALUES \(\d+, '[^']*', )\d+\)`)
)

// TestStatementsGolden runs every read and write of the engine once, on
// the ClickHouse engine, recording each statement the engine sends (DDL,
// the lookups and inserts of a commit, every query), and pins them in
// testdata/statements-*.sql: a change of generated SQL shows in review,
// and every statement there ran on ClickHouse 26. Random tokens and clock
// readings are masked.
func TestStatementsGolden(t *testing.T) {
	for _, layout := range []struct {
		name, cluster string
	}{{"single", ""}, {"cluster", "ariadne"}} {
		t.Run(layout.name, func(t *testing.T) {
			var (
				mu    sync.Mutex
				stmts []string
			)
			db := "golden"
			if layout.cluster != "" {
				db = "golden_cluster"
			}
			dropDatabase(t, db)
			t.Cleanup(func() { dropDatabase(t, db) })
			s := testSettings(t, db)
			s.Rollups.Interval = -1 // the rollup job's statements depend on timing
			s.Cluster, s.noOnCluster = layout.cluster, layout.cluster != ""
			s.record = func(q string) {
				mu.Lock()
				stmts = append(stmts, q)
				mu.Unlock()
			}
			e, err := Open(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			runEverything(t, e)
			mu.Lock()
			got := strings.Join(stmts, ";\n\n") + ";\n"
			mu.Unlock()
			got = tokenRe.ReplaceAllString(got, "'<token>'")
			got = appliedRe.ReplaceAllString(got, "${1}<now>)")
			path := filepath.Join("testdata", "statements-"+layout.name+".sql")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) || i < len(wl); i++ {
					g, w := "<end>", "<end>"
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Errorf("statements differ from %s at line %d (go test -run TestStatementsGolden -update rewrites it):\n got %s\nwant %s", path, i+1, g, w)
						break
					}
				}
			}
		})
	}
}

// runEverything calls every method of the engine once with arguments that
// exercise its options, failing on any error.
func runEverything(t *testing.T, e *Engine) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	b := goldenData(base)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Write(ctx, &b))
	web, wrk := b.Spans[0].TraceID, b.Spans[5].TraceID
	r := store.TimeRange{Start: base, End: base + int64(time.Minute)}
	_, err := e.Trace(ctx, web)
	must(err)
	for _, q := range []store.TraceQuery{
		{},
		{TimeRange: r, Service: "api", Operation: "POST /orders", ErrorOnly: true, MinDuration: 1, MaxDuration: int64(time.Hour),
			Attributes: []model.Attr{{Key: "tenant", Value: model.Value{Str: "acme"}}}, Text: "declined", Limit: 5},
	} {
		res, err := e.SearchTraces(ctx, q)
		must(err)
		if q.Limit == 0 && len(res.Traces) != 2 {
			t.Fatalf("search found %d traces", len(res.Traces))
		}
	}
	_, err = e.Services(ctx, r)
	must(err)
	_, err = e.Operations(ctx, "api", r)
	must(err)
	_, err = e.AttributeKeys(ctx, "te", r, 10)
	must(err)
	_, err = e.AttributeValues(ctx, "tenant", "a", r, 10)
	must(err)
	_, err = e.MessageRefs(ctx, "sqs:m-1")
	must(err)
	_, _, err = e.RefsOfTraces(ctx, []model.TraceID{web, wrk}, 100)
	must(err)
	_, _, err = e.RefsByKeys(ctx, []string{"sqs:m-1"}, 100)
	must(err)
	_, _, err = e.RefsByDestination(ctx, "jobs", r, 100)
	must(err)
	_, _, err = e.SpansOfTraces(ctx, []model.TraceID{web, wrk}, store.SpanSummary, 100)
	must(err)
	yes := true
	_, _, err = e.Invocations(ctx, store.InvocationQuery{TimeRange: r, Function: "api", Statuses: []model.InvocationStatus{model.InvocationOK, model.InvocationTimeout},
		ColdStart: &yes, MinDuration: 1, Limit: 10, Now: base + int64(time.Hour)})
	must(err)
	_, err = e.Invocation(ctx, "req-1", base+int64(time.Hour))
	must(err)
	_, err = e.InvocationLogs(ctx, "req-1", r, 10)
	must(err)
	_, _, err = e.SearchLogs(ctx, store.LogQuery{TimeRange: r, Function: "api", Service: "api", RequestID: "req-1", MinSeverity: 9, Text: "Declined", Limit: 5})
	must(err)
	_, err = e.IssueSeries(ctx, []string{"i-1", "i-2"}, store.SeriesRange{Start: base, End: base + int64(time.Hour), Step: int64(10 * time.Minute)})
	must(err)
	mq := store.MapQuery{TimeRange: r, Environment: "prod"}
	calls, _, err := e.MapCalls(ctx, mq)
	must(err)
	if len(calls) != 3 {
		t.Errorf("map calls %+v", calls)
	}
	hops, _, err := e.MapHops(ctx, store.MapQuery{TimeRange: r, TraceIDs: []model.TraceID{web, wrk}})
	must(err)
	if len(hops) != 1 {
		t.Errorf("map hops %+v", hops)
	}
	_, _, err = e.MapNodes(ctx, mq)
	must(err)
	_, _, err = e.RED(ctx, store.REDQuery{TimeRange: r, Function: "api", Environment: "prod", Step: int64(10 * time.Second), GroupBy: "operation"})
	must(err)
	_, _, err = e.Cost(ctx, store.CostQuery{TimeRange: r, Function: "api", TraceIDs: []model.TraceID{web}})
	must(err)
	_, _, err = e.DetectSpans(ctx, r, store.DetectSpanFilter{Errors: true, AttrKeys: []string{"tenant"}, DestinationContains: []string{"dlq"},
		AttrAtLeast: []store.AttrBound{{Key: "retries", Min: 2}}, Producers: true}, 100)
	must(err)
	_, _, err = e.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: r, Statuses: []model.InvocationStatus{model.InvocationError},
		MinAttempt: 2, ColdStarts: true, Now: base + int64(time.Hour)}, 100)
	must(err)
	occ := []store.IssueOccurrence{{Kind: "error", Fingerprint: "fp", Title: "T", Function: "api", Severity: "error", First: base, Last: base + 1,
		Count: 1, Traces: []model.TraceID{web}}}
	must(e.CommitDetection(ctx, "golden", 0, base, occ, base))
	must(e.CommitDetection(ctx, "golden", base, base+1, occ, base))
	wm, err := e.DetectorWatermark(ctx, "golden")
	must(err)
	if wm != base+1 {
		t.Errorf("watermark %d", wm)
	}
	id := store.IssueID("error", "fp")
	_, err = e.Issues(ctx, store.IssueQuery{TimeRange: r, Kind: "error", Status: store.IssueOpen, Function: "api", Limit: 10})
	must(err)
	_, err = e.SetIssueStatus(ctx, id, store.IssueResolved, base+2)
	must(err)
	_, err = e.ResolveStale(ctx, base, base+3)
	must(err)
	_, err = e.IssueCounts(ctx, base)
	must(err)
	must(e.PutAlertRule(ctx, store.AlertRule{ID: "rule", Name: "any", AnyNew: true, Target: "webhook", URL: "http://x", Created: base}))
	_, err = e.AlertRules(ctx)
	must(err)
	ev := store.AlertEvent{RuleID: "rule", IssueID: id, Type: "firing", Episode: base, Created: base}
	_, err = e.EnqueueAlert(ctx, ev)
	must(err)
	evs, err := e.ClaimAlerts(ctx, "node-a", base, base+60e9, 10)
	must(err)
	if len(evs) != 1 {
		t.Fatalf("claimed %d", len(evs))
	}
	must(e.FinishAlert(ctx, evs[0].ID, "node-a", true, "", 0, base+1))
	_, err = e.AlertEvents(ctx, "rule", 10)
	must(err)
	must(e.DeleteAlertRule(ctx, "rule"))
	must(e.ObserveContracts(ctx, []store.Contract{{Channel: "jobs", Service: "api", Version: "1", Fields: map[string]string{"id": "string"},
		FirstSeen: base, LastSeen: base}}))
	_, err = e.Contracts(ctx, "jobs")
	must(err)
	n, err := e.DeleteBefore(ctx, base+int64(2*time.Second))
	must(err)
	if n != 11 { // 5 spans of the web trace, 1 log, 2 invocation rows, 1 ref... and trace_index not counted
		t.Logf("DeleteBefore removed %d rows", n)
	}
}
