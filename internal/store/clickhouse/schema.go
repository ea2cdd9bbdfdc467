package clickhouse

import (
	"encoding/binary"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	chcol "github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// column maps one table column to a row type R for inserts (get) and for
// scans (dest: where the driver scans the column; fix turns the scanned
// row into the model value). The INSERT and SELECT lists and the schema
// check derive from these specs, so adding a column is one edit here and
// one migration in ddl/.
type column[R any] struct {
	name string
	typ  string // as ClickHouse's DESCRIBE shows it
	get  func(r *R) any
	dest func(r *R) any
}

type table[R any] struct {
	name string
	cols []column[R]
}

// list is "a, b, c".
func (t *table[R]) list() string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = quoteIdent(c.name)
	}
	return strings.Join(names, ", ")
}

func (t *table[R]) types() []clickhouse.ColumnNameAndType {
	out := make([]clickhouse.ColumnNameAndType, len(t.cols))
	for i, c := range t.cols {
		out[i] = clickhouse.ColumnNameAndType{Name: c.name, Type: c.typ}
	}
	return out
}

func (t *table[R]) values(dst []any, r *R) []any {
	dst = dst[:0]
	for i := range t.cols {
		dst = append(dst, t.cols[i].get(r))
	}
	return dst
}

func (t *table[R]) dests(dst []any, r *R) []any {
	dst = dst[:0]
	for i := range t.cols {
		dst = append(dst, t.cols[i].dest(r))
	}
	return dst
}

// without is t minus the named columns (SpanSummary reads).
func (t *table[R]) without(names ...string) *table[R] {
	out := &table[R]{name: t.name}
	for _, c := range t.cols {
		skip := false
		for _, n := range names {
			skip = skip || c.name == n
		}
		if !skip {
			out.cols = append(out.cols, c)
		}
	}
	return out
}

func quoteIdent(s string) string { return "`" + s + "`" }

// attrMap is an ordered map with repeated keys: how attributes cross the
// driver (clickhouse-go's IterableOrderedMap) into Map columns and back.
type attrMap struct{ keys, vals []string }

func (m *attrMap) Put(k, v any) {
	ks, _ := k.(string)
	vs, _ := v.(string)
	m.keys, m.vals = append(m.keys, ks), append(m.vals, vs)
}

func (m *attrMap) Iterator() chcol.MapIterator { return &attrIter{m: m, i: -1} }

type attrIter struct {
	m *attrMap
	i int
}

func (it *attrIter) Next() bool { it.i++; return it.i < len(it.m.keys) }
func (it *attrIter) Key() any   { return it.m.keys[it.i] }
func (it *attrIter) Value() any { return it.m.vals[it.i] }

func toAttrMap(a model.Attributes) *attrMap {
	m := &attrMap{keys: make([]string, len(a)), vals: make([]string, len(a))}
	for i := range a {
		m.keys[i], m.vals[i] = shared.ValidUTF8(a[i].Key), shared.ValidUTF8(a[i].Value.Str)
	}
	return m
}

// Trace and span ids.

func tid(id model.TraceID) string { return string(id[:]) }

func asTraceID(s string) model.TraceID {
	var id model.TraceID
	copy(id[:], s)
	return id
}

func spanU64(id model.SpanID) uint64 { return binary.BigEndian.Uint64(id[:]) }

func u64Span(v uint64) model.SpanID {
	var id model.SpanID
	binary.BigEndian.PutUint64(id[:], v)
	return id
}

// Row types: the model value plus what columns scan into before fix turns
// them into model fields.

type spanRow struct {
	model.Span
	tid, res, types, events, links string
	sid, psid                      uint64
	kind, status                   uint8
	attrs                          attrMap
	msgIDs                         []string
}

func (r *spanRow) fix() error {
	r.TraceID, r.SpanID, r.ParentSpanID = asTraceID(r.tid), u64Span(r.sid), u64Span(r.psid)
	r.Kind, r.StatusCode = model.SpanKind(r.kind), model.StatusCode(r.status)
	if len(r.msgIDs) > 0 {
		r.MessageIDs = r.msgIDs
	}
	var err error
	if r.Attributes, err = shared.DecodeAttrs(r.attrs.keys, r.attrs.vals, r.types); err != nil {
		return err
	}
	if r.ResourceAttributes, err = shared.DecodeResource(r.res); err != nil {
		return err
	}
	if r.Events, err = shared.DecodeEvents(r.events); err != nil {
		return err
	}
	r.Links, err = shared.DecodeLinks(r.links)
	return err
}

type logRow struct {
	model.LogRecord
	tid, res, types, body string
	sid                   uint64
	bodyType              uint8
	attrs                 attrMap
}

func (r *logRow) fix() error {
	r.TraceID, r.SpanID = asTraceID(r.tid), u64Span(r.sid)
	r.Body = model.Value{Type: model.ValueType(r.bodyType), Str: r.body}
	var err error
	if r.Attributes, err = shared.DecodeAttrs(r.attrs.keys, r.attrs.vals, r.types); err != nil {
		return err
	}
	r.ResourceAttributes, err = shared.DecodeResource(r.res)
	return err
}

type invRow struct {
	model.Invocation
	tid, status string
	sid         uint64
}

func (r *invRow) fix() error {
	r.TraceID, r.SpanID, r.Status = asTraceID(r.tid), u64Span(r.sid), model.InvocationStatus(r.status)
	return nil
}

type refRow struct {
	model.MessageRef
	tid  string
	sid  uint64
	role uint8
}

func (r *refRow) fix() error {
	r.TraceID, r.SpanID, r.Role = asTraceID(r.tid), u64Span(r.sid), model.RefRole(r.role)
	return nil
}

// indexRow is one trace_index row.
type indexRow struct {
	TraceID     model.TraceID
	StartMin    int64
	EndMax      int64
	SpanStart   int64
	SpanEnd     int64
	SpanCount   uint32
	ErrorCount  uint32
	LogCount    uint32
	InvCount    uint32
	HasRoot     bool
	RootService string
	RootName    string

	rootAt int64 // start of the span that named the root, while building
}

// Column adapters.

func str[R any](name, typ string, f func(*R) *string) column[R] {
	return column[R]{name: name, typ: typ,
		get:  func(r *R) any { return shared.ValidUTF8(*f(r)) },
		dest: func(r *R) any { return f(r) }}
}

func lc[R any](name string, f func(*R) *string) column[R] {
	return str(name, "LowCardinality(String)", f)
}

func plain[R any, V any](name, typ string, f func(*R) *V) column[R] {
	return column[R]{name: name, typ: typ,
		get:  func(r *R) any { return *f(r) },
		dest: func(r *R) any { return f(r) }}
}

// schema is every table spec.
type schema struct {
	spans       table[spanRow]
	spanSummary *table[spanRow]
	logs        table[logRow]
	invocations table[invRow]
	refs        table[refRow]
	index       table[indexRow]
}

func newSchema() *schema {
	s := buildSchema()
	s.spanSummary = s.spans.without(stmt.SpanSummaryOmits(stmt.ClickHouse(nil))...)
	return s
}

func buildSchema() *schema {
	type S = spanRow
	type L = logRow
	type I = invRow
	type M = refRow
	type X = indexRow
	const fs16 = "FixedString(16)"
	return &schema{
		spans: table[S]{name: "spans", cols: []column[S]{
			{name: "trace_id", typ: fs16, get: func(r *S) any { return tid(r.TraceID) }, dest: func(r *S) any { return &r.tid }},
			{name: "span_id", typ: "UInt64", get: func(r *S) any { return spanU64(r.SpanID) }, dest: func(r *S) any { return &r.sid }},
			{name: "parent_span_id", typ: "UInt64", get: func(r *S) any { return spanU64(r.ParentSpanID) }, dest: func(r *S) any { return &r.psid }},
			str("trace_state", "String", func(r *S) *string { return &r.TraceState }),
			plain("flags", "UInt32", func(r *S) *uint32 { return &r.Flags }),
			plain("start_time", "Int64", func(r *S) *int64 { return &r.StartTime }),
			plain("duration_ns", "Int64", func(r *S) *int64 { return &r.DurationNs }),
			lc("name", func(r *S) *string { return &r.Name }),
			{name: "kind", typ: "UInt8", get: func(r *S) any { return uint8(r.Kind) }, dest: func(r *S) any { return &r.kind }},
			{name: "status_code", typ: "UInt8", get: func(r *S) any { return uint8(r.StatusCode) }, dest: func(r *S) any { return &r.status }},
			str("status_message", "String", func(r *S) *string { return &r.StatusMessage }),
			lc("service", func(r *S) *string { return &r.Service }),
			lc("scope_name", func(r *S) *string { return &r.ScopeName }),
			lc("scope_version", func(r *S) *string { return &r.ScopeVersion }),
			lc("function", func(r *S) *string { return &r.Function }),
			str("invocation_id", "String", func(r *S) *string { return &r.InvocationID }),
			plain("cold_start", "Bool", func(r *S) *bool { return &r.ColdStart }),
			lc("trigger", func(r *S) *string { return &r.Trigger }),
			lc("messaging_system", func(r *S) *string { return &r.MessagingSystem }),
			lc("messaging_operation", func(r *S) *string { return &r.MessagingOperation }),
			lc("destination", func(r *S) *string { return &r.Destination }),
			{name: "message_ids", typ: "Array(String)", get: func(r *S) any {
				ids := make([]string, len(r.MessageIDs))
				for i, s := range r.MessageIDs {
					ids[i] = shared.ValidUTF8(s)
				}
				return ids
			}, dest: func(r *S) any { return &r.msgIDs }},
			lc("http_method", func(r *S) *string { return &r.HTTPMethod }),
			lc("http_route", func(r *S) *string { return &r.HTTPRoute }),
			plain("http_status", "Int32", func(r *S) *int32 { return &r.HTTPStatus }),
			lc("db_system", func(r *S) *string { return &r.DBSystem }),
			lc("error_type", func(r *S) *string { return &r.ErrorType }),
			str("error_message", "String", func(r *S) *string { return &r.ErrorMessage }),
			{name: "attributes", typ: "Map(LowCardinality(String), String)", get: func(r *S) any { return toAttrMap(r.Attributes) },
				dest: func(r *S) any { return &r.attrs }},
			{name: "attr_types", typ: "LowCardinality(String)", get: func(r *S) any { return shared.TypesString(r.Attributes) },
				dest: func(r *S) any { return &r.types }},
			{name: "resource_attributes", typ: "LowCardinality(String)", get: func(r *S) any { return resourceText(r.ResourceAttributes) },
				dest: func(r *S) any { return &r.res }},
			{name: "events", typ: "String", get: func(r *S) any { return shared.EncodeEvents(r.Events) }, dest: func(r *S) any { return &r.events }},
			{name: "links", typ: "String", get: func(r *S) any { return shared.EncodeLinks(r.Links) }, dest: func(r *S) any { return &r.links }},
			str("request_payload", "String", func(r *S) *string { return &r.RequestPayload }),
			str("response_payload", "String", func(r *S) *string { return &r.ResponsePayload }),
		}},
		logs: table[L]{name: "logs", cols: []column[L]{
			plain("time", "Int64", func(r *L) *int64 { return &r.Time }),
			plain("observed_time", "Int64", func(r *L) *int64 { return &r.ObservedTime }),
			{name: "trace_id", typ: fs16, get: func(r *L) any { return tid(r.TraceID) }, dest: func(r *L) any { return &r.tid }},
			{name: "span_id", typ: "UInt64", get: func(r *L) any { return spanU64(r.SpanID) }, dest: func(r *L) any { return &r.sid }},
			plain("flags", "UInt32", func(r *L) *uint32 { return &r.Flags }),
			plain("severity", "UInt8", func(r *L) *uint8 { return &r.SeverityNumber }),
			lc("severity_text", func(r *L) *string { return &r.SeverityText }),
			{name: "body", typ: "String", get: func(r *L) any { return shared.ValidUTF8(r.Body.Str) }, dest: func(r *L) any { return &r.body }},
			{name: "body_type", typ: "UInt8", get: func(r *L) any { return uint8(r.Body.Type) }, dest: func(r *L) any { return &r.bodyType }},
			lc("service", func(r *L) *string { return &r.Service }),
			lc("function", func(r *L) *string { return &r.Function }),
			str("invocation_id", "String", func(r *L) *string { return &r.InvocationID }),
			lc("scope_name", func(r *L) *string { return &r.ScopeName }),
			{name: "attributes", typ: "Map(LowCardinality(String), String)", get: func(r *L) any { return toAttrMap(r.Attributes) },
				dest: func(r *L) any { return &r.attrs }},
			{name: "attr_types", typ: "LowCardinality(String)", get: func(r *L) any { return shared.TypesString(r.Attributes) },
				dest: func(r *L) any { return &r.types }},
			{name: "resource_attributes", typ: "LowCardinality(String)", get: func(r *L) any { return resourceText(r.ResourceAttributes) },
				dest: func(r *L) any { return &r.res }},
		}},
		invocations: table[I]{name: "invocations", cols: []column[I]{
			str("request_id", "String", func(r *I) *string { return &r.RequestID }),
			lc("function", func(r *I) *string { return &r.Function }),
			lc("source", func(r *I) *string { return &r.Source }),
			plain("start", "Int64", func(r *I) *int64 { return &r.Start }),
			plain("duration", "Int64", func(r *I) *int64 { return &r.DurationNs }),
			plain("billed_duration", "Int64", func(r *I) *int64 { return &r.BilledDurationNs }),
			plain("init_duration", "Int64", func(r *I) *int64 { return &r.InitDurationNs }),
			plain("deadline", "Int64", func(r *I) *int64 { return &r.Deadline }),
			plain("memory_mb", "Int32", func(r *I) *int32 { return &r.MemoryMB }),
			plain("max_memory_mb", "Int32", func(r *I) *int32 { return &r.MaxMemoryMB }),
			{name: "status", typ: "LowCardinality(String)", get: func(r *I) any { return string(r.Status) }, dest: func(r *I) any { return &r.status }},
			lc("error_type", func(r *I) *string { return &r.ErrorType }),
			plain("cold_start", "Bool", func(r *I) *bool { return &r.ColdStart }),
			plain("attempt", "Int32", func(r *I) *int32 { return &r.Attempt }),
			{name: "trace_id", typ: fs16, get: func(r *I) any { return tid(r.TraceID) }, dest: func(r *I) any { return &r.tid }},
			{name: "span_id", typ: "UInt64", get: func(r *I) any { return spanU64(r.SpanID) }, dest: func(r *I) any { return &r.sid }},
		}},
		refs: table[M]{name: "message_refs", cols: []column[M]{
			str("key", "String", func(r *M) *string { return &r.Key }),
			{name: "role", typ: "UInt8", get: func(r *M) any { return uint8(r.Role) }, dest: func(r *M) any { return &r.role }},
			{name: "trace_id", typ: fs16, get: func(r *M) any { return tid(r.TraceID) }, dest: func(r *M) any { return &r.tid }},
			{name: "span_id", typ: "UInt64", get: func(r *M) any { return spanU64(r.SpanID) }, dest: func(r *M) any { return &r.sid }},
			plain("time", "Int64", func(r *M) *int64 { return &r.Time }),
			lc("destination", func(r *M) *string { return &r.Destination }),
		}},
		index: table[X]{name: "trace_index", cols: []column[X]{
			{name: "trace_id", typ: fs16, get: func(r *X) any { return tid(r.TraceID) }, dest: func(r *X) any { return new(string) }},
			plain("start_min", "Int64", func(r *X) *int64 { return &r.StartMin }),
			{name: "end_offset", typ: "Int64", get: func(r *X) any { return r.EndMax - r.StartMin }, dest: func(r *X) any { return new(int64) }},
			{name: "span_start_offset", typ: "Int64", get: func(r *X) any { return offset(r.SpanCount, r.SpanStart, r.StartMin) },
				dest: func(r *X) any { return new(int64) }},
			{name: "span_end_offset", typ: "Int64", get: func(r *X) any { return offset(r.SpanCount, r.SpanEnd, r.StartMin) },
				dest: func(r *X) any { return new(int64) }},
			plain("span_count", "UInt32", func(r *X) *uint32 { return &r.SpanCount }),
			plain("error_count", "UInt32", func(r *X) *uint32 { return &r.ErrorCount }),
			plain("log_count", "UInt32", func(r *X) *uint32 { return &r.LogCount }),
			plain("invocation_count", "UInt32", func(r *X) *uint32 { return &r.InvCount }),
			plain("has_root", "Bool", func(r *X) *bool { return &r.HasRoot }),
			lc("root_service", func(r *X) *string { return &r.RootService }),
			lc("root_name", func(r *X) *string { return &r.RootName }),
		}},
	}
}

// offset is t − base for a trace index row with spans, 0 without.
func offset(spans uint32, t, base int64) int64 {
	if spans == 0 {
		return 0
	}
	return t - base
}

func resourceText(a model.Attributes) string {
	if len(a) == 0 {
		return ""
	}
	return string(shared.AppendResource(nil, a))
}

// sqlStr is s as a ClickHouse string literal, for the engine's own
// bookkeeping statements (the rest come from package stmt).
func sqlStr(s string) string { return stmt.ClickHouse(nil).Str(s) }
