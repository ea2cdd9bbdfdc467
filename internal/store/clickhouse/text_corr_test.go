package clickhouse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// corrTrickyTexts are user texts that break a statement built by splicing: a
// quote, a backslash (an escape in ClickHouse, none in DuckDB), a NUL (the
// end of a C string), LIKE's wildcards and non-ASCII letters. Each has a
// decoy that a wrong escape or an unescaped wildcard would also find.
var corrTrickyTexts = []struct{ text, decoy string }{
	{"it's", "its"},
	{`back\slash`, "backslash"},
	{`end\`, "end"},
	{`\'; DROP TABLE logs; --`, `'; DROP TABLE logs; --`},
	{"nul\x00byte", "nulbyte"},
	{"50%_off", "50 x off"},
	{"a_b", "axb"},
	{"naïve ✓ Ωμέγα", "naive ✓ Ωμέγα"},
}

// TestCorrTrickyText is the embedded engine's test of the same name (a
// copy until the conformance suite takes it).
func TestCorrTrickyText(t *testing.T) {
	s := openAt(nil)(t)
	defer s.Close()
	checkCorrTrickyText(t, s)
}

// checkCorrTrickyText stores an invocation, a log record and a message ref
// per text and per decoy, each named by it (function, request id, body,
// key, destination), and looks each text up through every reader whose
// statement carries user text: only the text's own rows may come back.
func checkCorrTrickyText(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano()
	var b model.Batch
	for i, tt := range corrTrickyTexts {
		for j, text := range []string{tt.text, tt.decoy} {
			at := base + int64(2*i+j)*int64(time.Second)
			tr := model.TraceID{0xc0, byte(i), byte(j), 15: 1}
			b.Invocations = append(b.Invocations, model.Invocation{RequestID: text, Function: text, Source: "telemetry", Start: at,
				DurationNs: 1e6, Status: model.InvocationOK})
			b.Logs = append(b.Logs, model.LogRecord{Time: at, ObservedTime: at, TraceID: tr, SeverityNumber: 9,
				Body: model.Value{Type: model.TypeString, Str: "<" + text + ">"}, Service: "svc", Function: text, InvocationID: text})
			b.MessageRefs = append(b.MessageRefs, model.MessageRef{Key: text, Role: model.RoleProducer, TraceID: tr,
				SpanID: model.SpanID{1, byte(i), byte(j)}, Time: at, Destination: text})
		}
	}
	if err := s.Write(ctx, &b); err != nil {
		t.Fatal(err)
	}
	r := store.TimeRange{Start: base, End: base + int64(time.Hour)}
	now := base + int64(time.Hour)
	inv := s.(store.InvocationReader)
	logs := s.(store.LogReader)
	refs := s.(store.CorrelationReader)
	for _, tt := range corrTrickyTexts {
		text := tt.text
		t.Run(fmt.Sprintf("%q", text), func(t *testing.T) {
			got, err := inv.Invocation(ctx, text, now)
			if err != nil || got.RequestID != text || got.Function != text {
				t.Errorf("Invocation = %q of %q, %v", got.RequestID, got.Function, err)
			}
			page, _, err := inv.Invocations(ctx, store.InvocationQuery{TimeRange: r, Function: text, Now: now})
			if err != nil || len(page) != 1 || page[0].RequestID != text {
				t.Errorf("Invocations by function = %v, %v", corrRequestIDs(page), err)
			}
			lr, err := inv.InvocationLogs(ctx, text, r, 10)
			if err != nil || len(lr) != 1 || lr[0].InvocationID != text {
				t.Errorf("InvocationLogs = %v, %v", corrBodies(lr), err)
			}
			for name, q := range map[string]store.LogQuery{
				"text":       {TimeRange: r, Text: text},
				"text-upper": {TimeRange: r, Text: strings.ToUpper(text)},
				"function":   {TimeRange: r, Function: text},
				"request":    {TimeRange: r, RequestID: text},
			} {
				lr, _, err := logs.SearchLogs(ctx, q)
				if err != nil || len(lr) != 1 || lr[0].Body.Str != "<"+text+">" {
					t.Errorf("SearchLogs by %s = %q, %v", name, corrBodies(lr), err)
				}
			}
			rs, _, err := refs.RefsByKeys(ctx, []string{text}, 10)
			if err != nil || len(rs) != 1 || rs[0].Key != text {
				t.Errorf("RefsByKeys = %v, %v", rs, err)
			}
			rs, _, err = refs.RefsByDestination(ctx, text, r, 10)
			if err != nil || len(rs) != 1 || rs[0].Destination != text {
				t.Errorf("RefsByDestination = %v, %v", rs, err)
			}
		})
	}
	// Page by page, one invocation a page: each cursor carries a request
	// id into the next statement.
	var paged []string
	cur := ""
	for range 2 * len(corrTrickyTexts) {
		page, next, err := inv.Invocations(ctx, store.InvocationQuery{TimeRange: r, Limit: 1, Cursor: cur, Now: now})
		if err != nil {
			t.Fatalf("Invocations after %d: %v", len(paged), err)
		}
		paged = append(paged, corrRequestIDs(page)...)
		if cur = next; cur == "" {
			break
		}
	}
	var want []string
	for i := len(corrTrickyTexts) - 1; i >= 0; i-- { // newest first
		want = append(want, corrTrickyTexts[i].decoy, corrTrickyTexts[i].text)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("Invocations paged = %q, want %q", paged, want)
	}
	// Every key at once, as a correlation walk asks: the texts' refs and
	// none of the decoys'. Unknown keys make the list long enough for
	// DuckDB to join the values against a scan rather than look each up.
	var keys, ask []string
	for _, tt := range corrTrickyTexts {
		keys = append(keys, tt.text)
	}
	for i := range 100 {
		ask = append(ask, fmt.Sprintf("unknown-%d", i))
	}
	rs, _, err := refs.RefsByKeys(ctx, append(ask, keys...), 100)
	var got []string
	for _, ref := range rs {
		got = append(got, ref.Key)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if err != nil || !slices.Equal(got, keys) {
		t.Errorf("RefsByKeys(all) = %q, %v; want %q", got, err, keys)
	}
	// Issue ids come from the client too: unknown ones are quiet series.
	series, err := s.(store.IssueSeriesReader).IssueSeries(ctx, keys, store.SeriesRange{Start: r.Start, End: r.End, Step: int64(time.Minute)})
	if err != nil || len(series) != len(keys) {
		t.Fatalf("IssueSeries = %d series, %v", len(series), err)
	}
	for _, k := range keys {
		if c := series[k]; len(c) != 60 || slices.Max(c) != 0 {
			t.Errorf("IssueSeries[%q] = %v", k, c)
		}
	}
}

func corrRequestIDs(invs []model.Invocation) []string {
	var out []string
	for _, inv := range invs {
		out = append(out, inv.RequestID)
	}
	return out
}

func corrBodies(recs []model.LogRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Body.Str)
	}
	return out
}
