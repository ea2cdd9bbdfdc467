package clickhouse

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// trickyTexts (as in internal/store/duckdb) are user texts a literal must carry unchanged: quotes,
// backslashes, NUL, LIKE wildcards, non-ASCII, invalid UTF-8 (which comes
// back replaced, as ingest stores it) and statement syntax.
var trickyTexts = []string{
	"", "plain", "it's", "''", `back\slash`, `\'`, `'\`, `\\'\\`, "nul\x00byte", "\x00", "\x00'\x00",
	"50%_off", `%\_`, "é café ∑ 😀", "caf\xff\xfe", "line\nbreak\ttab\r", `"quoted"`, "?", "$1",
	"--comment", "/* x */", "'; DROP TABLE span_rows; --", "'||chr(0)||'",
}

// TestLiteralsOnClickHouse runs the dialect's literals through the real
// ClickHouse engine (chDB): each must come back as the text it was made
// of.
func TestLiteralsOnClickHouse(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	d := stmt.ClickHouse(e.t)
	for _, s := range trickyTexts {
		var got string
		if err := e.conn.QueryRow(t.Context(), "SELECT "+d.Str(s)).Scan(&got); err != nil {
			t.Errorf("SELECT %s: %v", d.Str(s), err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("SELECT %s = %q, want %q", d.Str(s), got, want)
		}
	}
	var got []string
	q := "SELECT [" + d.Strs(trickyTexts) + "]"
	if err := e.conn.QueryRow(t.Context(), q).Scan(&got); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if want := validAll(trickyTexts); !slices.Equal(got, want) {
		t.Errorf("Strs = %q, want %q", got, want)
	}
	for _, c := range containsCases {
		for _, fold := range []bool{false, true} {
			cond := d.Contains(d.Str(c.hay), c.needle)
			want := c.want
			if fold {
				cond, want = d.ContainsFold(d.Str(c.hay), c.needle), c.fold
			}
			var ok uint8
			if err := e.conn.QueryRow(t.Context(), "SELECT "+cond).Scan(&ok); err != nil {
				t.Errorf("SELECT %s: %v", cond, err)
				continue
			}
			if (ok != 0) != want {
				t.Errorf("SELECT %s = %v, want %v", cond, ok, want)
			}
		}
	}
}

func validAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

// containsCases are substring tests whose wildcards, escapes and quotes
// must be taken literally; want is with case, fold without.
var containsCases = []struct {
	hay, needle string
	want, fold  bool
}{
	{"get 50%_off now", "50%_off", true, true},
	{"get 50 percent xoff", "50%_off", false, false}, // % and _ as wildcards would match
	{"get 50%xoff", "50%_off", false, false},
	{`a\b`, `a\b`, true, true},
	{"ab", `a\b`, false, false}, // \ as LIKE escape would match
	{`a\\b`, `\\`, true, true},
	{`a\b`, `\\`, false, false},
	{"it's", "IT'S", false, true},
	{"it''s", "it's", false, false},
	{"TIMEOUT upstream", "timeout", false, true},
	{"nul\x00byte", "l\x00b", true, true},
	{"nulbyte", "l\x00b", false, false},
	{"école", "éCOLE", false, true},
	{"école", "ÉCOLE", false, true},
	{"caf\uFFFD", "caf\xff", true, true}, // the needle's invalid byte is replaced as the stored text's was
	{"anything", "", true, true},
}

// TestTrickyTextSearch stores a trace whose service, operation,
// attributes, status message, log body and message key are tricky texts,
// next to a decoy that mishandled escapes or wildcards would match, and
// finds it by each of them.
func TestTrickyTextSearch(t *testing.T) {
	e := openAt(nil)(t).(*Engine)
	defer e.Close()
	trickySearch(t, e)
}

// trickySearch is the engine-independent body of TestTrickyTextSearch,
// the same in both engines' packages (internal/store/duckdb).
func trickySearch(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
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
	target, decoy := model.TraceID{1, 1}, model.TraceID{2, 2}
	span := func(tid model.TraceID, id byte, service, name, status string, attrs, res model.Attributes) model.Span {
		return model.Span{TraceID: tid, SpanID: model.SpanID{id}, StartTime: base + int64(id)*1e6, DurationNs: 1e6, Name: name,
			Kind: model.KindServer, Service: service, StatusMessage: status, Attributes: attrs, ResourceAttributes: res}
	}
	b := model.Batch{
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
	}
	if err := s.Write(ctx, &b); err != nil {
		t.Fatal(err)
	}
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
		var got []model.TraceID
		for _, tr := range res.Traces {
			got = append(got, tr.TraceID)
		}
		if !slices.Equal(got, c.want) {
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
	refs, err := s.(store.MessageRefReader).MessageRefs(ctx, refKey)
	if err != nil || len(refs) != 1 || refs[0].TraceID != target {
		t.Errorf("MessageRefs(%q) = %+v, %v", refKey, refs, err)
	}
}
