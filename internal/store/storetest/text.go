package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// readerOf asserts that the engine implements the reader R.
func readerOf[R any](t *testing.T, s store.Store) R {
	t.Helper()
	r, ok := s.(R)
	if !ok {
		t.Fatalf("%T does not implement %v", s, reflect.TypeFor[R]())
	}
	return r
}

// testTrickyTextSearch stores a trace whose service, operation,
// attributes, status message, log body and message key are tricky texts,
// next to a decoy that mishandled escapes or wildcards would match, and
// finds it by each of them.
func testTrickyTextSearch(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx := t.Context()
	str := func(s string) model.Value { return model.Value{Type: model.TypeString, Str: s} }
	const (
		svc    = `it's \ "svc" 50%_é`
		op     = `GET /it's\50%_off/É`
		key    = `k'ey\%_`
		val    = `v"al\ue'%_ü`
		resKey = `r"es\key'`
		resVal = `rés\"v'`
		refKey = `sqs:it's\%_`
	)
	target, decoy := traceID(1), traceID(2)
	span := func(tid model.TraceID, id byte, service, name, status string, attrs, res model.Attributes) model.Span {
		return model.Span{TraceID: tid, SpanID: model.SpanID{id}, StartTime: base + int64(id)*1e6, DurationNs: 1e6, Name: name,
			Kind: model.KindServer, Service: service, StatusMessage: status, Attributes: attrs, ResourceAttributes: res}
	}
	write(t, s, model.Batch{
		Spans: []model.Span{
			span(target, 1, svc, op, "Caf\xff failed",
				model.Attributes{{Key: key, Value: str(val)}}, model.Attributes{{Key: resKey, Value: str(resVal)}}),
			// What a search matches if a quote is doubled once too often,
			// a backslash is read as an escape or % and _ as wildcards.
			span(decoy, 2, `it''s \\ "svc" 50%_é`, `GET /it's50 percent xoff/x`, "Cafe failed",
				model.Attributes{{Key: `k'ey\\%_`, Value: str(`v"al\\ue''%_ü`)}, {Key: `k'eyx`, Value: str(val)}},
				model.Attributes{{Key: `r"eskey'`, Value: str(resVal)}}),
		},
		Logs: []model.LogRecord{{Time: base + 1e6, ObservedTime: base + 1e6, TraceID: target, SpanID: model.SpanID{1},
			Body: str(`payment dec'lined\ 100%`), Service: svc}},
		MessageRefs: []model.MessageRef{
			{Key: refKey, Role: model.RoleProducer, TraceID: target, SpanID: model.SpanID{1}, Time: base + 2e6},
			{Key: `sqs:it's\x_`, Role: model.RoleProducer, TraceID: decoy, SpanID: model.SpanID{2}, Time: base + 2e6},
		},
	})
	r := store.TimeRange{Start: base, End: base + int64(time.Minute)}
	for _, c := range []struct {
		name string
		q    store.TraceQuery
		want []model.TraceID
	}{
		{"service", store.TraceQuery{Service: svc}, []model.TraceID{target}},
		{"operation", store.TraceQuery{Service: svc, Operation: op}, []model.TraceID{target}},
		{"attribute", store.TraceQuery{Attributes: []model.Attr{{Key: key, Value: str(val)}}}, []model.TraceID{target}},
		{"resource attribute", store.TraceQuery{Attributes: []model.Attr{{Key: resKey, Value: str(resVal)}}}, []model.TraceID{target}},
		{"text wildcards", store.TraceQuery{Text: "50%_OFF"}, []model.TraceID{target}},
		{"text backslash", store.TraceQuery{Text: `s\50`}, []model.TraceID{target}},
		{"text quote", store.TraceQuery{Text: `/IT'S\`}, []model.TraceID{target}},
		{"text non-ascii folded", store.TraceQuery{Text: "/é"}, []model.TraceID{target}},
		{"text invalid utf-8", store.TraceQuery{Text: "caf\xff"}, []model.TraceID{target}},
		{"text log body", store.TraceQuery{Text: `DEC'LINED\ 100%`}, []model.TraceID{target}},
		{"text nul", store.TraceQuery{Text: "it's\x00"}, nil},
		{"text both", store.TraceQuery{Text: `"svc"`}, nil}, // not in names, messages or logs
		{"service decoy", store.TraceQuery{Service: `it''s \\ "svc" 50%_é`}, []model.TraceID{decoy}},
	} {
		c.q.TimeRange = r
		res, err := s.SearchTraces(ctx, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := resultIDs(res); !slices.Equal(got, c.want) {
			t.Errorf("%s: found %v, want %v", c.name, got, c.want)
		}
	}
	ops, err := s.Operations(ctx, svc, r)
	if err != nil || !slices.Equal(ops, []string{op}) {
		t.Errorf("Operations(%q) = %q, %v", svc, ops, err)
	}
	keys, err := s.AttributeKeys(ctx, `k'ey\`, r, 10)
	if err != nil || !slices.Equal(keys, []string{key, `k'ey\\%_`}) {
		t.Errorf("AttributeKeys = %q, %v", keys, err)
	}
	vals, err := s.AttributeValues(ctx, key, `v"al\`, r, 10)
	if err != nil || !slices.Equal(vals, []string{val}) {
		t.Errorf("AttributeValues(%q) = %q, %v", key, vals, err)
	}
	vals, err = s.AttributeValues(ctx, resKey, "", r, 10)
	if err != nil || !slices.Equal(vals, []string{resVal}) {
		t.Errorf("AttributeValues(%q) = %q, %v", resKey, vals, err)
	}
	refs, err := readerOf[store.MessageRefReader](t, s).MessageRefs(ctx, refKey)
	if err != nil || len(refs) != 1 || refs[0].TraceID != target {
		t.Errorf("MessageRefs(%q) = %+v, %v", refKey, refs, err)
	}
}

// trickyTexts are user texts that break a statement built by splicing: a
// quote, a backslash (an escape in ClickHouse, none in DuckDB), a NUL (the
// end of a C string), LIKE's wildcards and non-ASCII letters. Each has a
// decoy that a wrong escape or an unescaped wildcard would also find.
var trickyTexts = []struct{ text, decoy string }{
	{"it's", "its"},
	{`back\slash`, "backslash"},
	{`end\`, "end"},
	{`\'; DROP TABLE logs; --`, `'; DROP TABLE logs; --`},
	{"nul\x00byte", "nulbyte"},
	{"50%_off", "50 x off"},
	{"a_b", "axb"},
	{"naïve ✓ Ωμέγα", "naive ✓ Ωμέγα"},
}

// testTrickyTextReaders stores an invocation, a log record and a message
// ref per text and per decoy, each named by it (function, request id,
// body, key, destination), and looks each text up through every reader
// whose statement carries user text: only the text's own rows may come
// back.
func testTrickyTextReaders(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx := t.Context()
	var b model.Batch
	for i, tt := range trickyTexts {
		for j, text := range []string{tt.text, tt.decoy} {
			at := base + int64(2*i+j)*int64(time.Second)
			tr := traceID(uint64(1 + 2*i + j))
			b.Invocations = append(b.Invocations, model.Invocation{RequestID: text, Function: text, Source: "telemetry", Start: at,
				DurationNs: 1e6, Status: model.InvocationOK})
			b.Logs = append(b.Logs, model.LogRecord{Time: at, ObservedTime: at, TraceID: tr, SeverityNumber: 9,
				Body: model.Value{Type: model.TypeString, Str: "<" + text + ">"}, Service: "svc", Function: text, InvocationID: text})
			b.MessageRefs = append(b.MessageRefs, model.MessageRef{Key: text, Role: model.RoleProducer, TraceID: tr,
				SpanID: model.SpanID{1, byte(i), byte(j)}, Time: at, Destination: text})
		}
	}
	write(t, s, b)
	r := store.TimeRange{Start: base, End: base + int64(time.Hour)}
	now := base + int64(time.Hour)
	inv := invReader(t, s)
	logs := readerOf[store.LogReader](t, s)
	refs := readerOf[store.CorrelationReader](t, s)
	for _, tt := range trickyTexts {
		text := tt.text
		t.Run(fmt.Sprintf("%q", text), func(t *testing.T) {
			got, err := inv.Invocation(ctx, text, now)
			if err != nil || got.RequestID != text || got.Function != text {
				t.Errorf("Invocation = %q of %q, %v", got.RequestID, got.Function, err)
			}
			page, _, err := inv.Invocations(ctx, store.InvocationQuery{TimeRange: r, Function: text, Now: now})
			if err != nil || len(page) != 1 || page[0].RequestID != text {
				t.Errorf("Invocations by function = %v, %v", requestIDs(page), err)
			}
			lr, err := inv.InvocationLogs(ctx, text, r, 10)
			if err != nil || len(lr) != 1 || lr[0].InvocationID != text {
				t.Errorf("InvocationLogs = %v, %v", bodies(lr), err)
			}
			for name, q := range map[string]store.LogQuery{
				"text":       {TimeRange: r, Text: text},
				"text-upper": {TimeRange: r, Text: strings.ToUpper(text)},
				"function":   {TimeRange: r, Function: text},
				"request":    {TimeRange: r, RequestID: text},
			} {
				lr, _, err := logs.SearchLogs(ctx, q)
				if err != nil || len(lr) != 1 || lr[0].Body.Str != "<"+text+">" {
					t.Errorf("SearchLogs by %s = %q, %v", name, bodies(lr), err)
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
	for range 2 * len(trickyTexts) {
		page, next, err := inv.Invocations(ctx, store.InvocationQuery{TimeRange: r, Limit: 1, Cursor: cur, Now: now})
		if err != nil {
			t.Fatalf("Invocations after %d: %v", len(paged), err)
		}
		paged = append(paged, requestIDs(page)...)
		if cur = next; cur == "" {
			break
		}
	}
	var want []string
	for i := len(trickyTexts) - 1; i >= 0; i-- { // newest first
		want = append(want, trickyTexts[i].decoy, trickyTexts[i].text)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("Invocations paged = %q, want %q", paged, want)
	}
	// Every key at once, as a correlation walk asks: the texts' refs and
	// none of the decoys'. Unknown keys make the list long enough for
	// DuckDB to join the values against a scan rather than look each up.
	var keys, ask []string
	for _, tt := range trickyTexts {
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
	series, err := readerOf[store.IssueSeriesReader](t, s).IssueSeries(ctx, keys,
		store.SeriesRange{Start: r.Start, End: r.End, Step: int64(time.Minute)})
	if err != nil || len(series) != len(keys) {
		t.Fatalf("IssueSeries = %d series, %v", len(series), err)
	}
	for _, k := range keys {
		if c := series[k]; len(c) != 60 || slices.Max(c) != 0 {
			t.Errorf("IssueSeries[%q] = %v", k, c)
		}
	}
}

func requestIDs(invs []model.Invocation) []string {
	var out []string
	for _, inv := range invs {
		out = append(out, inv.RequestID)
	}
	return out
}

func bodies(recs []model.LogRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Body.Str)
	}
	return out
}
