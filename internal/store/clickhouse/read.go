package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// each runs query and calls row for every result row with its Scan.
func (e *Engine) each(ctx context.Context, query string, row func(scan func(...any) error) error) error {
	rs, err := e.conn.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := row(rs.Scan); err != nil {
			return err
		}
	}
	return rs.Err()
}

// selectRows runs a query whose select list is t's columns.
func selectRows[R any](ctx context.Context, e *Engine, t *table[R], query string, fix func(*R) error) ([]R, error) {
	var out []R
	dests := make([]any, 0, len(t.cols))
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var r R
		if err := scan(t.dests(dests, &r)...); err != nil {
			return err
		}
		if err := fix(&r); err != nil {
			return fmt.Errorf("decode %s row: %w", t.name, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// Trace implements store.Reader: trace_index (sorted by trace id) says
// where in time the trace's rows lie, which prunes the big tables to a
// partition or two and a few granules (bloom filter on trace_id).
func (e *Engine) Trace(ctx context.Context, id model.TraceID) (*model.Trace, error) {
	if err := e.readable("read trace"); err != nil {
		return nil, err
	}
	d := stmt.ClickHouse(e.t)
	var lo, hi int64
	var nSpans, nLogs, nInvs uint64
	var found uint64
	err := e.conn.QueryRow(ctx, stmt.TraceExtent(d, id)).Scan(&found, &lo, &hi, &nSpans, &nLogs, &nInvs)
	if err != nil {
		return nil, e.fail("read trace "+id.String(), err)
	}
	if found == 0 {
		return nil, fmt.Errorf("read trace %s: %w", id, store.ErrNotFound)
	}
	s := e.sch
	var (
		spans []spanRow
		logs  []logRow
		invs  []invRow
	)
	if nSpans > 0 {
		spans, err = selectRows(ctx, e, &s.spans, stmt.TraceSpanRows(d, s.spans.list(), id, lo, hi), (*spanRow).fix)
		if err != nil {
			return nil, e.fail("read trace spans", err)
		}
	}
	if nLogs > 0 {
		logs, err = selectRows(ctx, e, &s.logs, stmt.TraceLogRows(d, s.logs.list(), id, lo, hi), (*logRow).fix)
		if err != nil {
			return nil, e.fail("read trace logs", err)
		}
	}
	if nInvs > 0 {
		invs, err = selectRows(ctx, e, &s.invocations, stmt.TraceInvocationRows(d, s.invocations.list(), id, lo, hi), (*invRow).fix)
		if err != nil {
			return nil, e.fail("read trace invocations", err)
		}
	}
	spans = dedupSpans(spans)
	if len(spans) == 0 && len(logs) == 0 {
		return nil, fmt.Errorf("read trace %s: %w", id, store.ErrNotFound)
	}
	t := &model.Trace{}
	for i := range spans {
		t.Spans = append(t.Spans, spans[i].Span)
	}
	for i := range logs {
		t.Logs = append(t.Logs, logs[i].LogRecord)
	}
	for i := range invs {
		t.Invocations = append(t.Invocations, invs[i].Invocation)
	}
	return t, nil
}

// dedupSpans drops the second copy of a span two nodes stored at once
// (until a merge of the ReplacingMergeTree removes it), keeping order.
func dedupSpans(rows []spanRow) []spanRow {
	if len(rows) < 2 {
		return rows
	}
	seen := make(map[spanKey]bool, len(rows))
	out := rows[:0]
	for _, r := range rows {
		k := spanKey{r.TraceID, spanU64(r.SpanID)}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}

// MessageRefs implements store.MessageRefReader.
func (e *Engine) MessageRefs(ctx context.Context, key string) ([]model.MessageRef, error) {
	if err := e.readable("read message refs"); err != nil {
		return nil, err
	}
	t := &e.sch.refs
	rows, err := selectRows(ctx, e, t, stmt.MessageRefs(stmt.ClickHouse(e.t), t.list(), key), (*refRow).fix)
	if err != nil {
		return nil, e.fail("read message refs", err)
	}
	out := make([]model.MessageRef, len(rows))
	for i := range rows {
		out[i] = rows[i].MessageRef
	}
	return out, nil
}

func (e *Engine) strings(ctx context.Context, op, query string) ([]string, error) {
	out := []string{}
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var s string
		if err := scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, e.fail(op, err)
	}
	return out, nil
}

// Services implements store.Reader.
func (e *Engine) Services(ctx context.Context, r store.TimeRange) ([]string, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	if err := e.readable("list services"); err != nil {
		return nil, err
	}
	return e.strings(ctx, "list services", stmt.Services(stmt.ClickHouse(e.t), r))
}

// Operations implements store.Reader.
func (e *Engine) Operations(ctx context.Context, service string, r store.TimeRange) ([]string, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	if err := e.readable("list operations"); err != nil {
		return nil, err
	}
	return e.strings(ctx, "list operations", stmt.Operations(stmt.ClickHouse(e.t), service, r))
}

// autocompleteSpans bounds the spans an autocomplete list looks at: the
// newest of the range (recent keys and values are the ones a user looks
// for), about as many as the embedded engine reads.
const (
	autocompleteKeySpans   = 20_000
	autocompleteValueSpans = 200_000
)

// AttributeKeys implements store.Reader: span and resource attribute keys.
func (e *Engine) AttributeKeys(ctx context.Context, prefix string, r store.TimeRange, limit int) ([]string, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, fmt.Errorf("list attribute keys: %w", err)
	}
	if err := e.readable("list attribute keys"); err != nil {
		return nil, err
	}
	q := stmt.AttributeKeys(stmt.ClickHouse(e.t), prefix, r, autocompleteKeySpans)
	counts, err := e.attrCounts(ctx, q, func(a model.Attr) (string, bool) {
		return a.Key, strings.HasPrefix(a.Key, prefix)
	})
	if err != nil {
		return nil, e.fail("list attribute keys", err)
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
	if err := e.readable("list attribute values"); err != nil {
		return nil, err
	}
	q := stmt.AttributeValues(stmt.ClickHouse(e.t), key, prefix, r, autocompleteValueSpans)
	counts, err := e.attrCounts(ctx, q, func(a model.Attr) (string, bool) {
		return a.Value.Str, a.Key == key && strings.HasPrefix(a.Value.Str, prefix)
	})
	if err != nil {
		return nil, e.fail("list attribute values", err)
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

// attrCounts adds up autocomplete rows: (0, item, count) for span
// attributes, (1, resource text, count) for resources.
func (e *Engine) attrCounts(ctx context.Context, q string, pick func(model.Attr) (string, bool)) (map[string]int64, error) {
	counts := map[string]int64{}
	err := e.each(ctx, q, func(scan func(...any) error) error {
		var (
			kind uint8
			item string
			n    uint64
		)
		if err := scan(&kind, &item, &n); err != nil {
			return err
		}
		if kind == 0 {
			counts[item] += int64(n)
			return nil
		}
		attrs, err := shared.DecodeResource(item)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			if v, ok := pick(a); ok {
				counts[v] += int64(n)
			}
		}
		return nil
	})
	return counts, err
}

// DeleteBefore implements store.Maintainer with lightweight deletes (rows
// are masked at once and dropped by merges); the tables' TTL does the same
// by whole parts when retention is configured.
func (e *Engine) DeleteBefore(ctx context.Context, t int64) (int64, error) {
	if err := e.readable("delete old data"); err != nil {
		return 0, err
	}
	d := stmt.ClickHouse(e.t)
	var total int64
	for _, rt := range stmt.RetentionTables(d) {
		var n uint64
		if err := e.conn.QueryRow(ctx, stmt.RetentionCount(d, rt, t)).Scan(&n); err != nil {
			return total, e.fail("delete old "+rt.Table, err)
		}
		if n == 0 {
			continue
		}
		if err := e.conn.Exec(ctx, stmt.RetentionDelete(d, rt, t, e.layout.Cluster != "", e.layout.OnCluster())); err != nil {
			return total, e.fail("delete old "+rt.Table, err)
		}
		if !rt.Index {
			total += int64(n)
		}
	}
	return total, e.deleteRollupsBefore(ctx, t)
}
