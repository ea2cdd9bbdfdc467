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
	"github.com/ariadnehq/ariadne/internal/store/stmt"
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
	d := stmt.DuckDB()
	var found int64
	var lo, hi, nSpans, nLogs, nInvs sql.NullInt64
	err := e.db.QueryRowContext(ctx, stmt.TraceExtent(d, id)).Scan(&found, &lo, &hi, &nSpans, &nLogs, &nInvs)
	if err != nil {
		return nil, unavailable("read trace "+id.String(), err)
	}
	if found == 0 {
		return nil, fmt.Errorf("read trace %s: %w", id, store.ErrNotFound)
	}
	s := e.schema
	var (
		spans []spanRow
		logs  []logRow
		invs  []model.Invocation
	)
	if nSpans.Int64 > 0 {
		spans, err = selectRows(ctx, e.db, &s.spans, stmt.TraceSpanRows(d, s.spans.columnList(""), id, lo.Int64, hi.Int64))
		if err != nil {
			return nil, unavailable("read trace spans", err)
		}
	}
	if nLogs.Int64 > 0 {
		logs, err = selectRows(ctx, e.db, &s.logs, stmt.TraceLogRows(d, s.logs.columnList(""), id, lo.Int64, hi.Int64))
		if err != nil {
			return nil, unavailable("read trace logs", err)
		}
	}
	if nInvs.Int64 > 0 {
		invs, err = selectRows(ctx, e.db, &s.invocations, stmt.TraceInvocationRows(d, s.invocations.columnList(""), id, lo.Int64, hi.Int64))
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
	refs, err := selectRows(ctx, e.db, t, stmt.MessageRefs(stmt.DuckDB(), t.columnList(""), key))
	if err != nil {
		return nil, unavailable("read message refs", err)
	}
	if refs == nil {
		refs = []model.MessageRef{}
	}
	return refs, nil
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
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out, err := queryStrings(ctx, e.db, stmt.Services(stmt.DuckDB(), r))
	if err != nil {
		return nil, unavailable("list services", err)
	}
	return out, nil
}

// Operations implements store.Reader.
func (e *Engine) Operations(ctx context.Context, service string, r store.TimeRange) ([]string, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	out, err := queryStrings(ctx, e.db, stmt.Operations(stmt.DuckDB(), service, r))
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

// AttributeKeys implements store.Reader. It lists span and resource
// attribute keys, as searches match both.
func (e *Engine) AttributeKeys(ctx context.Context, prefix string, r store.TimeRange, limit int) ([]string, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list attribute keys: %w", err)
	}
	r, err := e.recentRange(ctx, r, autocompleteKeySpans)
	if err != nil {
		return nil, unavailable("list attribute keys", err)
	}
	q := stmt.AttributeKeys(stmt.DuckDB(), prefix, r, autocompleteKeySpans)
	counts, err := e.attrCounts(ctx, q, func(a model.Attr) (string, bool) {
		return a.Key, strings.HasPrefix(a.Key, prefix)
	})
	if err != nil {
		return nil, unavailable("list attribute keys", err)
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[:min(len(keys), shared.Clamp(limit, store.MaxLimit))], nil
}

// AttributeValues implements store.Reader.
func (e *Engine) AttributeValues(ctx context.Context, key, prefix string, r store.TimeRange, limit int) ([]string, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list attribute values: %w", err)
	}
	r, err := e.recentRange(ctx, r, autocompleteValueSpans)
	if err != nil {
		return nil, unavailable("list attribute values", err)
	}
	q := stmt.AttributeValues(stmt.DuckDB(), key, prefix, r, autocompleteValueSpans)
	counts, err := e.attrCounts(ctx, q, func(a model.Attr) (string, bool) {
		return a.Value.Str, a.Key == key && strings.HasPrefix(a.Value.Str, prefix)
	})
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
	return vals[:min(len(vals), shared.Clamp(limit, store.MaxLimit))], nil
}

// attrCounts runs an autocomplete query whose rows are (0, item, count)
// for span attributes and (1, resource JSON, count) for resources, and
// adds up the counts per item; pick extracts the item from a resource
// attribute.
func (e *Engine) attrCounts(ctx context.Context, q string, pick func(model.Attr) (string, bool)) (map[string]int64, error) {
	rs, err := e.db.QueryContext(ctx, q)
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
	d := stmt.DuckDB()
	var total int64
	for _, rt := range stmt.RetentionTables(d) {
		res, err := e.db.ExecContext(ctx, stmt.RetentionDelete(d, rt, t, false, ""))
		if err != nil {
			return total, unavailable("delete old "+rt.Table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, unavailable("delete old "+rt.Table, err)
		}
		if !rt.Index {
			total += n
		}
	}
	// Only minutes wholly before t: a minute cut by t keeps its later spans.
	if _, err := e.db.ExecContext(ctx, "DELETE FROM attr_filters WHERE bucket + ? <= ?", afBucket, t); err != nil {
		return total, unavailable("delete old attribute filters", err)
	}
	return total, e.deleteRollupsBefore(ctx, t)
}
