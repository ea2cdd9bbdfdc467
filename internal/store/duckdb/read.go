package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// selectRows runs a query whose select list is t's columns and maps rows.
func selectRows[T any](ctx context.Context, db *sql.DB, t *table[T], query string, args ...any) ([]T, error) {
	rs, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []T
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		var r T
		if err := t.scan(vals, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// Trace implements store.Reader. The ART-indexed trace_index says where in
// time the trace's rows lie; the range condition lets zone maps skip all
// but one or two row groups of each big table.
func (e *Engine) Trace(ctx context.Context, id model.TraceID) (*model.Trace, error) {
	lit := uuidLiteral(id)
	var lo, hi, nSpans, nLogs, nInvs sql.NullInt64
	err := e.db.QueryRowContext(ctx,
		"SELECT min(start_min), max(end_max), sum(span_count), sum(log_count), sum(invocation_count) FROM trace_index WHERE trace_id = "+lit).
		Scan(&lo, &hi, &nSpans, &nLogs, &nInvs)
	if err != nil {
		return nil, unavailable("read trace "+id.String(), err)
	}
	if !lo.Valid {
		return nil, fmt.Errorf("read trace %s: %w", id, store.ErrNotFound)
	}
	s := e.schema
	where := func(timeCol string) string {
		return fmt.Sprintf(" WHERE trace_id = %s AND %s BETWEEN %d AND %d", lit, quoteIdent(timeCol), lo.Int64, hi.Int64)
	}
	var (
		spans []spanRow
		logs  []logRow
		invs  []model.Invocation
	)
	if nSpans.Int64 > 0 {
		spans, err = selectRows(ctx, e.db, &s.spans,
			"SELECT "+s.spans.columnList("")+" FROM spans"+where("start_time")+" ORDER BY start_time, span_id")
		if err != nil {
			return nil, unavailable("read trace spans", err)
		}
	}
	if nLogs.Int64 > 0 {
		logs, err = selectRows(ctx, e.db, &s.logs,
			"SELECT "+s.logs.columnList("")+" FROM logs"+where("time")+" ORDER BY time, observed_time")
		if err != nil {
			return nil, unavailable("read trace logs", err)
		}
	}
	if nInvs.Int64 > 0 {
		invs, err = selectRows(ctx, e.db, &s.invocations,
			"SELECT "+s.invocations.columnList("")+" FROM invocations"+where("start")+` ORDER BY "start", request_id, source`)
		if err != nil {
			return nil, unavailable("read trace invocations", err)
		}
	}
	if len(spans) == 0 && len(logs) == 0 {
		// Only invocation rows, or rows since removed by retention.
		return nil, fmt.Errorf("read trace %s: %w", id, store.ErrNotFound)
	}
	t := &model.Trace{Invocations: invs}
	if len(spans) > 0 {
		t.Spans = make([]model.Span, len(spans))
		for i := range spans {
			t.Spans[i] = spans[i].Span
		}
	}
	if len(logs) > 0 {
		t.Logs = make([]model.LogRecord, len(logs))
		for i := range logs {
			t.Logs[i] = logs[i].LogRecord
		}
	}
	return t, nil
}

// MessageRefs implements store.MessageRefReader.
func (e *Engine) MessageRefs(ctx context.Context, key string) ([]model.MessageRef, error) {
	t := &e.schema.refs
	refs, err := selectRows(ctx, e.db, t,
		"SELECT "+t.columnList("")+` FROM message_refs WHERE "key" = ? ORDER BY "time", role, trace_id, span_id`, key)
	if err != nil {
		return nil, unavailable("read message refs", err)
	}
	if refs == nil {
		refs = []model.MessageRef{}
	}
	return refs, nil
}

// rangeCond is the SQL condition of r on a time column.
func rangeCond(col string, r store.TimeRange) string {
	var c []string
	if r.Start != 0 {
		c = append(c, fmt.Sprintf("%s >= %d", col, r.Start))
	}
	if r.End != 0 {
		c = append(c, fmt.Sprintf("%s < %d", col, r.End))
	}
	if len(c) == 0 {
		return "TRUE"
	}
	return strings.Join(c, " AND ")
}

func checkRange(r store.TimeRange) error {
	if r.Start != 0 && r.End != 0 && r.End < r.Start {
		return fmt.Errorf("time range ends before it starts: %w", store.ErrInvalid)
	}
	return nil
}

func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []string{}
	for rs.Next() {
		var s sql.NullString
		if err := rs.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s.String)
	}
	return out, rs.Err()
}

// Services implements store.Reader.
func (e *Engine) Services(ctx context.Context, r store.TimeRange) ([]string, error) {
	if err := checkRange(r); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out, err := queryStrings(ctx, e.db,
		"SELECT DISTINCT service FROM spans WHERE "+rangeCond("start_time", r)+" AND service <> '' ORDER BY 1")
	if err != nil {
		return nil, unavailable("list services", err)
	}
	return out, nil
}

// Operations implements store.Reader.
func (e *Engine) Operations(ctx context.Context, service string, r store.TimeRange) ([]string, error) {
	if err := checkRange(r); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	q := "SELECT DISTINCT name FROM spans WHERE " + rangeCond("start_time", r) + " AND name <> ''"
	var args []any
	if service != "" {
		q += " AND service = ?"
		args = append(args, service)
	}
	out, err := queryStrings(ctx, e.db, q+" ORDER BY 1", args...)
	if err != nil {
		return nil, unavailable("list operations", err)
	}
	return out, nil
}

// Autocomplete lists look at the newest spans of the range only, about
// this many at the store's average density: unnesting every attribute of
// a 10M-span hour would take seconds, and recent keys and values are the
// ones a user looks for. Values are filtered by key first, so they can
// afford a wider window.
const (
	autocompleteKeySpans   = 20_000
	autocompleteValueSpans = 200_000
)

// recentRange narrows r to its newest part holding about n spans.
func (e *Engine) recentRange(ctx context.Context, r store.TimeRange, n int64) (store.TimeRange, error) {
	bd, err := e.bounds.get(ctx, e.db)
	if err != nil || bd.empty {
		return r, err
	}
	end := r.End
	if end == 0 || end > bd.hi+1 {
		end = bd.hi + 1
	}
	return store.TimeRange{Start: max(r.Start, end-bd.window(n)), End: end}, nil
}

func clampLimit(limit int) int {
	if limit <= 0 || limit > store.MaxLimit {
		return store.MaxLimit
	}
	return limit
}

// AttributeKeys implements store.Reader. It lists span and resource
// attribute keys, as searches match both.
func (e *Engine) AttributeKeys(ctx context.Context, prefix string, r store.TimeRange, limit int) ([]string, error) {
	if err := checkRange(r); err != nil {
		return nil, fmt.Errorf("list attribute keys: %w", err)
	}
	r, err := e.recentRange(ctx, r, autocompleteKeySpans)
	if err != nil {
		return nil, unavailable("list attribute keys", err)
	}
	q := fmt.Sprintf(`WITH recent AS (
	SELECT attr_keys, resource_attributes FROM spans WHERE %s)
SELECT 0, k, 0 FROM (SELECT DISTINCT unnest(attr_keys) AS k FROM recent) WHERE starts_with(k, ?)
UNION ALL
SELECT 1, resource_attributes, 0 FROM recent WHERE resource_attributes <> '' GROUP BY 2`,
		rangeCond("start_time", r))
	counts, err := e.attrCounts(ctx, q, func(a model.Attr) (string, bool) {
		return a.Key, strings.HasPrefix(a.Key, prefix)
	}, prefix)
	if err != nil {
		return nil, unavailable("list attribute keys", err)
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[:min(len(keys), clampLimit(limit))], nil
}

// AttributeValues implements store.Reader.
func (e *Engine) AttributeValues(ctx context.Context, key, prefix string, r store.TimeRange, limit int) ([]string, error) {
	if err := checkRange(r); err != nil {
		return nil, fmt.Errorf("list attribute values: %w", err)
	}
	r, err := e.recentRange(ctx, r, autocompleteValueSpans)
	if err != nil {
		return nil, unavailable("list attribute values", err)
	}
	keyPat := shared.ResourceKeyPattern(key)
	q := fmt.Sprintf(`WITH recent AS (
	SELECT attr_keys, attr_values, resource_attributes FROM spans
	WHERE %s AND (list_contains(attr_keys, ?) OR contains(resource_attributes, ?)))
SELECT 0, v, count(*) FROM (SELECT unnest(attr_keys) AS k, unnest(attr_values) AS v FROM recent)
WHERE k = ? AND starts_with(v, ?) GROUP BY v
UNION ALL
SELECT 1, resource_attributes, count(*) FROM recent WHERE contains(resource_attributes, ?) GROUP BY 2`,
		rangeCond("start_time", r))
	counts, err := e.attrCounts(ctx, q, func(a model.Attr) (string, bool) {
		return a.Value.Str, a.Key == key && strings.HasPrefix(a.Value.Str, prefix)
	}, key, keyPat, key, prefix, keyPat)
	if err != nil {
		return nil, unavailable("list attribute values", err)
	}
	vals := make([]string, 0, len(counts))
	for v := range counts {
		vals = append(vals, v)
	}
	slices.SortFunc(vals, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return vals[:min(len(vals), clampLimit(limit))], nil
}

// attrCounts runs an autocomplete query whose rows are (0, item, count)
// for span attributes and (1, resource JSON, count) for resources, and
// adds up the counts per item; pick extracts the item from a resource
// attribute.
func (e *Engine) attrCounts(ctx context.Context, q string, pick func(model.Attr) (string, bool), args ...any) (map[string]int64, error) {
	rs, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	counts := map[string]int64{}
	for rs.Next() {
		var (
			kind int
			item string
			n    int64
		)
		if err := rs.Scan(&kind, &item, &n); err != nil {
			return nil, err
		}
		if kind == 0 {
			counts[item] += n
			continue
		}
		attrs, err := shared.DecodeResource(item)
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			if v, ok := pick(a); ok {
				counts[v] += n
			}
		}
	}
	return counts, rs.Err()
}

// DeleteBefore implements store.Maintainer. DuckDB reuses the freed blocks
// for new data but does not shrink the file.
func (e *Engine) DeleteBefore(ctx context.Context, t int64) (int64, error) {
	defer e.bounds.invalidate()
	var total int64
	for _, d := range []struct{ table, col string }{
		{"span_rows", "start_time"},
		{"logs", "time"},
		{"invocations", "start"},
		{"message_refs", "time"},
		// An index row goes with its oldest row: a trace cut by t then
		// drops out of reads instead of showing counts of deleted spans.
		{"trace_index", "start_min"},
	} {
		res, err := e.db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s < ?", d.table, quoteIdent(d.col)), t)
		if err != nil {
			return total, unavailable("delete old "+d.table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, unavailable("delete old "+d.table, err)
		}
		if d.table != "trace_index" {
			total += n
		}
	}
	// Only minutes wholly before t: a minute cut by t keeps its later spans.
	if _, err := e.db.ExecContext(ctx, "DELETE FROM attr_filters WHERE bucket + ? <= ?", afBucket, t); err != nil {
		return total, unavailable("delete old attribute filters", err)
	}
	return total, e.deleteRollupsBefore(ctx, t)
}
