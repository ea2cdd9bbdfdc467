package duckdb

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// column maps one table column to a field of T in both directions. The
// column lists of the appenders and of every SELECT are derived from these
// specs so that adding a column is one edit here plus one migration; the
// DDL lives in migrations/*.sql and a test checks both agree.
type column[T any] struct {
	name string
	typ  string // DuckDB type as DESCRIBE shows it; checked against the table by a test
	// get returns the value to append. It may return slices held by sc,
	// valid until the next call: the appender copies them at once.
	get func(r *T, sc *scratch) any
	// put writes the value of r into the current row of a chunk (chunk.go)
	// without boxing it; nil makes the writer store get's value instead.
	put func(r *T, a *chunkAppender, col int, sc *scratch)
	// set stores a scanned value into r.
	set func(r *T, v any) error
}

type table[T any] struct {
	name string
	cols []column[T]
}

// columnList is "a, b, c" for SELECT lists.
func (t *table[T]) columnList(prefix string) string {
	var b strings.Builder
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(prefix)
		b.WriteString(quoteIdent(c.name))
	}
	return b.String()
}

// types is the DuckDB type of every column, in order.
func (t *table[T]) types() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.typ
	}
	return out
}

// scan stores the values of one scanned row into r.
func (t *table[T]) scan(vals []any, r *T) error {
	for i := range t.cols {
		if err := t.cols[i].set(r, vals[i]); err != nil {
			return fmt.Errorf("scan %s.%s: %w", t.name, t.cols[i].name, err)
		}
	}
	return nil
}

// quoteIdent quotes names that are keywords in one of the dialects we
// target; double quotes work in DuckDB and ClickHouse alike.
func quoteIdent(s string) string { return `"` + s + `"` }

// scratch holds per-column buffers reused between rows so appending a span
// does not allocate a fresh []any for every list column.
type scratch struct {
	lists [8][]any
	buf   []byte
	ext   []byte // the ext of the span being appended (spanext.go)
	// resCache maps resource encodings to their boxed value, so spans of
	// one resource share one string per commit; reset clears it.
	resCache map[string]any
}

// reset forgets what is only valid during one commit.
func (sc *scratch) reset() { clear(sc.resCache) }

func (sc *scratch) resource(a model.Attributes) any {
	if len(a) == 0 {
		return nil
	}
	sc.buf = shared.AppendResource(sc.buf[:0], a)
	if v, ok := sc.resCache[string(sc.buf)]; ok { // no allocation for the lookup
		return v
	}
	s := string(sc.buf)
	var v any = s
	if sc.resCache == nil {
		sc.resCache = make(map[string]any)
	}
	sc.resCache[s] = v
	return v
}

func (sc *scratch) keys(slot int, a model.Attributes) any {
	if len(a) == 0 {
		return nil
	}
	l := sc.lists[slot][:0]
	for i := range a {
		l = append(l, validUTF8(a[i].Key))
	}
	sc.lists[slot] = l
	return l
}

func (sc *scratch) values(slot int, a model.Attributes) any {
	if len(a) == 0 {
		return nil
	}
	l := sc.lists[slot][:0]
	for i := range a {
		l = append(l, validUTF8(a[i].Value.Str))
	}
	sc.lists[slot] = l
	return l
}

// Scratch slots: each list column of a row needs its own.
const (
	slotAttrKeys = iota
	slotAttrValues
	slotMessageIDs
)

// decodeAttrs rebuilds attributes from the scanned attr_keys, attr_values
// and attr_types values (shared.DecodeAttrs).
func decodeAttrs(keys, values, types any) (model.Attributes, error) {
	ks, err := asStrings(keys)
	if err != nil {
		return nil, err
	}
	vs, err := asStrings(values)
	if err != nil {
		return nil, err
	}
	ts, err := asString(types)
	if err != nil {
		return nil, err
	}
	return shared.DecodeAttrs(ks, vs, ts)
}

func traceUUID(id model.TraceID) duckdb.UUID { return duckdb.UUID(id) }

func spanU64(id model.SpanID) uint64 { return binary.BigEndian.Uint64(id[:]) }

func u64Span(v uint64) model.SpanID {
	var id model.SpanID
	binary.BigEndian.PutUint64(id[:], v)
	return id
}

// uuidLiteral is the SQL text of a trace id; hex only, so safe to inline.
func uuidLiteral(id model.TraceID) string {
	u := duckdb.UUID(id)
	return "'" + u.String() + "'::UUID"
}

// Scanned-value converters: the driver returns NULL as nil, UUID as
// []byte, lists as []any.

func asTraceID(v any) (model.TraceID, error) {
	var id model.TraceID
	switch x := v.(type) {
	case nil:
		return id, nil
	case []byte:
		if len(x) != 16 {
			return id, fmt.Errorf("uuid of %d bytes", len(x))
		}
		copy(id[:], x)
		return id, nil
	case duckdb.UUID:
		return model.TraceID(x), nil
	}
	return id, fmt.Errorf("unexpected %T for uuid", v)
}

func asSpanID(v any) (model.SpanID, error) {
	switch x := v.(type) {
	case nil:
		return model.SpanID{}, nil
	case uint64:
		return u64Span(x), nil
	}
	return model.SpanID{}, fmt.Errorf("unexpected %T for span id", v)
}

func asString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return "", fmt.Errorf("unexpected %T for string", v)
}

func asStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("unexpected %T in string list", e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected %T for list", v)
}

func asInt64(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	}
	return 0, fmt.Errorf("unexpected %T for integer", v)
}

func asBool(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	return false, fmt.Errorf("unexpected %T for bool", v)
}

// nullIfEmpty stores "" as NULL. The model has no NULL strings, so this
// loses nothing, and DuckDB appends, checkpoints and compresses NULLs of
// the many mostly-empty derived columns about 12% cheaper overall than
// empty strings (measured on the ingest benchmark).
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return validUTF8(s)
}

// validUTF8 replaces invalid UTF-8, which DuckDB would otherwise store and
// then read back as NULL, losing the whole string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Small adapters so the column specs stay one line each.

func strCol[T any](name string, f func(*T) *string) column[T] {
	return column[T]{
		name: name, typ: "VARCHAR",
		get: func(r *T, _ *scratch) any { return nullIfEmpty(*f(r)) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.strOrNull(col, *f(r)) },
		set: func(r *T, v any) (err error) { *f(r), err = asString(v); return },
	}
}

func i64Col[T any](name string, f func(*T) *int64) column[T] {
	return column[T]{
		name: name, typ: "BIGINT",
		get: func(r *T, _ *scratch) any { return *f(r) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.i64(col, *f(r)) },
		set: func(r *T, v any) (err error) { *f(r), err = asInt64(v); return },
	}
}

func i32Col[T any](name string, f func(*T) *int32) column[T] {
	return column[T]{
		name: name, typ: "INTEGER",
		get: func(r *T, _ *scratch) any { return *f(r) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.i32(col, *f(r)) },
		set: func(r *T, v any) error { n, err := asInt64(v); *f(r) = int32(n); return err },
	}
}

func u32Col[T any](name string, f func(*T) *uint32) column[T] {
	return column[T]{
		name: name, typ: "UINTEGER",
		get: func(r *T, _ *scratch) any { return *f(r) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.u32(col, *f(r)) },
		set: func(r *T, v any) error { n, err := asInt64(v); *f(r) = uint32(n); return err },
	}
}

func u8Col[T any, U ~uint8](name string, f func(*T) *U) column[T] {
	return column[T]{
		name: name, typ: "UTINYINT",
		get: func(r *T, _ *scratch) any { return uint8(*f(r)) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.u8(col, uint8(*f(r))) },
		set: func(r *T, v any) error { n, err := asInt64(v); *f(r) = U(n); return err },
	}
}

func boolCol[T any](name string, f func(*T) *bool) column[T] {
	return column[T]{
		name: name, typ: "BOOLEAN",
		get: func(r *T, _ *scratch) any { return *f(r) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.bool(col, *f(r)) },
		set: func(r *T, v any) (err error) { *f(r), err = asBool(v); return },
	}
}

func traceIDCol[T any](name string, f func(*T) *model.TraceID) column[T] {
	return column[T]{
		name: name, typ: "UUID",
		get: func(r *T, _ *scratch) any { return traceUUID(*f(r)) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.uuid(col, *f(r)) },
		set: func(r *T, v any) (err error) { *f(r), err = asTraceID(v); return },
	}
}

func spanIDCol[T any](name string, f func(*T) *model.SpanID) column[T] {
	return column[T]{
		name: name, typ: "UBIGINT",
		get: func(r *T, _ *scratch) any { return spanU64(*f(r)) },
		put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.u64(col, spanU64(*f(r))) },
		set: func(r *T, v any) (err error) { *f(r), err = asSpanID(v); return },
	}
}

// attrCols is the key, value and type columns of one attribute list. The
// set of the last column decodes all three, so it reads its siblings from
// a holder filled by the first two.
func attrCols[T any](prefix string, keySlot, valSlot int, f func(*T) *model.Attributes, hold func(*T) *attrHold) []column[T] {
	return []column[T]{
		{
			name: prefix + "_keys", typ: "VARCHAR[]",
			get: func(r *T, sc *scratch) any { return sc.keys(keySlot, *f(r)) },
			put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.keys(col, *f(r)) },
			set: func(r *T, v any) error { hold(r).keys = v; return nil },
		},
		{
			name: prefix + "_values", typ: "VARCHAR[]",
			get: func(r *T, sc *scratch) any { return sc.values(valSlot, *f(r)) },
			put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.values(col, *f(r)) },
			set: func(r *T, v any) error { hold(r).values = v; return nil },
		},
		{
			name: prefix + "_types", typ: "VARCHAR",
			get: func(r *T, _ *scratch) any { return nullIfEmpty(shared.TypesString(*f(r))) },
			put: func(r *T, a *chunkAppender, col int, _ *scratch) { a.strOrNull(col, shared.TypesString(*f(r))) },
			set: func(r *T, v any) (err error) {
				h := hold(r)
				*f(r), err = decodeAttrs(h.keys, h.values, v)
				*h = attrHold{}
				return err
			},
		},
	}
}

// attrListCols is the key and value columns of an attribute list whose
// types are stored elsewhere (spans keep them in ext); the column that
// reads the types decodes the list (spanExtCol).
func attrListCols[T any](prefix string, keySlot, valSlot int, f func(*T) *model.Attributes, hold func(*T) *attrHold) []column[T] {
	return attrCols(prefix, keySlot, valSlot, f, hold)[:2]
}

// resourceCol stores resource attributes as one JSON text (codec.go).
func resourceCol[T any](f func(*T) *model.Attributes) column[T] {
	return column[T]{
		name: "resource_attributes", typ: "VARCHAR",
		get: func(r *T, sc *scratch) any { return sc.resource(*f(r)) },
		put: func(r *T, a *chunkAppender, col int, sc *scratch) {
			if s, ok := sc.resource(*f(r)).(string); ok {
				a.str(col, s)
			} else {
				a.null(col)
			}
		},
		set: func(r *T, v any) error {
			s, err := asString(v)
			if err != nil {
				return err
			}
			*f(r), err = shared.DecodeResource(s)
			return err
		},
	}
}

// attrHold carries the scanned key and value lists to the types column.
type attrHold struct{ keys, values any }

// Row types with room for the attribute holders used while scanning.

type spanRow struct {
	model.Span
	attrs attrHold
}

type logRow struct {
	model.LogRecord
	attrs attrHold
}

func cat[T any](parts ...[]column[T]) []column[T] {
	var out []column[T]
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// schema is every table spec; built once per Engine (no package state).
type schema struct {
	spans       table[spanRow]
	logs        table[logRow]
	invocations table[model.Invocation]
	refs        table[model.MessageRef]
	index       table[indexRow]
}

// indexRow is one trace_index row.
type indexRow struct {
	TraceID     model.TraceID
	StartMin    int64
	EndMax      int64
	SpanStart   int64
	SpanEnd     int64
	SpanCount   int32
	ErrorCount  int32
	LogCount    int32
	InvCount    int32
	HasRoot     bool
	RootService string
	RootName    string

	rootAt int64 // start of the span that named the root, while building
}

func newSchema() *schema {
	type S = spanRow
	type L = logRow
	type I = model.Invocation
	type M = model.MessageRef
	type X = indexRow
	return &schema{
		// The table span_rows behind the view spans (migration 0006):
		// the columns most spans fill, then ext for the rest.
		spans: table[S]{name: "span_rows", cols: cat(
			[]column[S]{
				traceIDCol("trace_id", func(r *S) *model.TraceID { return &r.TraceID }),
				spanIDCol("span_id", func(r *S) *model.SpanID { return &r.SpanID }),
				spanIDCol("parent_span_id", func(r *S) *model.SpanID { return &r.ParentSpanID }),
				u32Col("flags", func(r *S) *uint32 { return &r.Flags }),
				i64Col("start_time", func(r *S) *int64 { return &r.StartTime }),
				i64Col("duration_ns", func(r *S) *int64 { return &r.DurationNs }),
				strCol("name", func(r *S) *string { return &r.Name }),
				u8Col("kind", func(r *S) *model.SpanKind { return &r.Kind }),
				u8Col("status_code", func(r *S) *model.StatusCode { return &r.StatusCode }),
				strCol("service", func(r *S) *string { return &r.Service }),
				strCol("scope_name", func(r *S) *string { return &r.ScopeName }),
			},
			attrListCols("attr", slotAttrKeys, slotAttrValues,
				func(r *S) *model.Attributes { return &r.Attributes }, func(r *S) *attrHold { return &r.attrs }),
			[]column[S]{
				resourceCol(func(r *S) *model.Attributes { return &r.ResourceAttributes }),
				spanExtCol(true),
			},
			// Derived for the service map (servicemap_peer.go); not read back.
			[]column[S]{{
				name: "peer", typ: "VARCHAR",
				get: func(r *S, _ *scratch) any { return nullIfEmpty(spanPeer(&r.Span)) },
				set: func(*S, any) error { return nil },
			}},
		)},
		logs: table[L]{name: "logs", cols: cat(
			[]column[L]{
				i64Col("time", func(r *L) *int64 { return &r.Time }),
				i64Col("observed_time", func(r *L) *int64 { return &r.ObservedTime }),
				traceIDCol("trace_id", func(r *L) *model.TraceID { return &r.TraceID }),
				spanIDCol("span_id", func(r *L) *model.SpanID { return &r.SpanID }),
				u32Col("flags", func(r *L) *uint32 { return &r.Flags }),
				u8Col("severity", func(r *L) *uint8 { return &r.SeverityNumber }),
				strCol("severity_text", func(r *L) *string { return &r.SeverityText }),
				strCol("body", func(r *L) *string { return &r.Body.Str }),
				u8Col("body_type", func(r *L) *model.ValueType { return &r.Body.Type }),
				strCol("service", func(r *L) *string { return &r.Service }),
				strCol("function", func(r *L) *string { return &r.Function }),
				strCol("invocation_id", func(r *L) *string { return &r.InvocationID }),
				strCol("scope_name", func(r *L) *string { return &r.ScopeName }),
			},
			attrCols("attr", slotAttrKeys, slotAttrValues,
				func(r *L) *model.Attributes { return &r.Attributes }, func(r *L) *attrHold { return &r.attrs }),
			[]column[L]{resourceCol(func(r *L) *model.Attributes { return &r.ResourceAttributes })},
		)},
		invocations: table[I]{name: "invocations", cols: []column[I]{
			strCol("request_id", func(r *I) *string { return &r.RequestID }),
			strCol("function", func(r *I) *string { return &r.Function }),
			strCol("source", func(r *I) *string { return &r.Source }),
			i64Col("start", func(r *I) *int64 { return &r.Start }),
			i64Col("duration", func(r *I) *int64 { return &r.DurationNs }),
			i64Col("billed_duration", func(r *I) *int64 { return &r.BilledDurationNs }),
			i64Col("init_duration", func(r *I) *int64 { return &r.InitDurationNs }),
			i64Col("deadline", func(r *I) *int64 { return &r.Deadline }),
			i32Col("memory_mb", func(r *I) *int32 { return &r.MemoryMB }),
			i32Col("max_memory_mb", func(r *I) *int32 { return &r.MaxMemoryMB }),
			{
				name: "status", typ: "VARCHAR",
				get: func(r *I, _ *scratch) any { return string(r.Status) },
				set: func(r *I, v any) error { s, err := asString(v); r.Status = model.InvocationStatus(s); return err },
			},
			strCol("error_type", func(r *I) *string { return &r.ErrorType }),
			boolCol("cold_start", func(r *I) *bool { return &r.ColdStart }),
			i32Col("attempt", func(r *I) *int32 { return &r.Attempt }),
			traceIDCol("trace_id", func(r *I) *model.TraceID { return &r.TraceID }),
			spanIDCol("span_id", func(r *I) *model.SpanID { return &r.SpanID }),
		}},
		refs: table[M]{name: "message_refs", cols: []column[M]{
			strCol("key", func(r *M) *string { return &r.Key }),
			u8Col("role", func(r *M) *model.RefRole { return &r.Role }),
			traceIDCol("trace_id", func(r *M) *model.TraceID { return &r.TraceID }),
			spanIDCol("span_id", func(r *M) *model.SpanID { return &r.SpanID }),
			i64Col("time", func(r *M) *int64 { return &r.Time }),
			strCol("destination", func(r *M) *string { return &r.Destination }),
		}},
		index: table[X]{name: "trace_index", cols: []column[X]{
			traceIDCol("trace_id", func(r *X) *model.TraceID { return &r.TraceID }),
			i64Col("start_min", func(r *X) *int64 { return &r.StartMin }),
			i64Col("end_max", func(r *X) *int64 { return &r.EndMax }),
			i64Col("span_start", func(r *X) *int64 { return &r.SpanStart }),
			i64Col("span_end", func(r *X) *int64 { return &r.SpanEnd }),
			i32Col("span_count", func(r *X) *int32 { return &r.SpanCount }),
			i32Col("error_count", func(r *X) *int32 { return &r.ErrorCount }),
			i32Col("log_count", func(r *X) *int32 { return &r.LogCount }),
			i32Col("invocation_count", func(r *X) *int32 { return &r.InvCount }),
			boolCol("has_root", func(r *X) *bool { return &r.HasRoot }),
			strCol("root_service", func(r *X) *string { return &r.RootService }),
			strCol("root_name", func(r *X) *string { return &r.RootName }),
		}},
	}
}
