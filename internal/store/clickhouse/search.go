package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

const defaultLimit = 20

// Search plan (the embedded engine's): the query runs over windows that
// grow backwards from the range end, ×4 each time; the first covers about
// windowRows trace index rows at the store's average density (at least a
// minute). Each window [ws, end) finds the traces with a matching span
// that starts in it, merges their index rows into whole-trace summaries
// and applies the trace-level conditions. Every trace whose start is ≥ ws
// has all its spans in the window, so the results with start ≥ ws are
// complete; when there are more than Limit the page is done, otherwise the
// window grows. The last window reaches the range start and keeps every
// result. The density comes from part metadata (count, min and max of the
// partition key column), which ClickHouse answers without reading data;
// nothing is cached, so every node sees what every other node wrote.
const (
	windowRows   = 20_000
	minWindow    = int64(60e9)
	windowGrowth = 4
)

// SearchTraces implements store.Reader. Traces are ordered by their start
// (first span start), newest first, ties by trace id; the cursor is the
// (start, trace id) of the last trace returned.
//
// One query finds the traces with a span matching every span-level
// condition that starts in the range (without such conditions: the traces
// whose spans overlap the range), merges all their trace_index rows into
// summaries, applies the trace-level conditions and the cursor, and cuts
// the page. The page's span and error counts are then counted from the
// spans themselves (by span id), which a re-sent or half-committed batch
// cannot inflate.
func (e *Engine) SearchTraces(ctx context.Context, q store.TraceQuery) (*store.TraceResult, error) {
	if err := shared.CheckTraceQuery(q); err != nil {
		return nil, fmt.Errorf("search traces: %w", err)
	}
	cur, err := shared.DecodeTraceCursor(q.Cursor)
	if err != nil {
		return nil, fmt.Errorf("search traces: %w", err)
	}
	if err := e.readable("search traces"); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, store.MaxLimit)
	var (
		count  uint64
		lo, hi int64
		res    = &store.TraceResult{Traces: []store.TraceSummary{}}
		idx    = e.t("trace_index")
		rows   []store.TraceSummary
		ws     int64
	)
	if err := e.conn.QueryRow(ctx, "SELECT count(), min(start_min), max(start_min) FROM "+idx).Scan(&count, &lo, &hi); err != nil {
		return nil, e.fail("search traces", err)
	}
	if count == 0 {
		return res, nil
	}
	top := hi + 1
	if q.End != 0 && q.End < top {
		top = q.End
	}
	if cur != nil && cur.Start < top {
		top = cur.Start + 1
	}
	width := minWindow
	if count > windowRows {
		width = max(minWindow, int64(float64(hi-lo)*windowRows/float64(count)))
	}
	for final := false; !final; width *= windowGrowth {
		ws = top - width
		final = ws <= max(q.Start, lo)
		if final {
			ws = q.Start
		}
		rows = rows[:0]
		err = e.each(ctx, e.buildSearch(q, cur, ws, final, limit+1), func(scan func(...any) error) error {
			var (
				t      string
				s      store.TraceSummary
				errors uint8
			)
			if err := scan(&t, &s.StartTime, &s.DurationNs, &errors, &s.RootService, &s.RootName); err != nil {
				return err
			}
			s.TraceID = asTraceID(t)
			rows = append(rows, s)
			return nil
		})
		if err != nil {
			return nil, e.fail("search traces", err)
		}
		if len(rows) > limit {
			break
		}
	}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		res.NextCursor = shared.EncodeTraceCursor(shared.TraceCursor{Start: last.StartTime, Trace: last.TraceID})
	}
	if err := e.countSpans(ctx, rows); err != nil {
		return nil, e.fail("search traces", err)
	}
	for _, r := range rows {
		if r.SpanCount > 0 {
			res.Traces = append(res.Traces, r)
		}
	}
	return res, nil
}

// buildSearch writes the query of the window [ws, q.End) (not final: only
// the traces starting in it). User text travels as escaped literals;
// numbers and trace ids are formatted in.
func (e *Engine) buildSearch(q store.TraceQuery, cur *shared.TraceCursor, ws int64, final bool, limit int) string {
	var b strings.Builder
	spanConds := q.Service != "" || q.Operation != "" || len(q.Attributes) > 0 || q.Text != ""
	win := store.TimeRange{Start: ws, End: q.End}
	b.WriteString("WITH m AS (\n")
	if spanConds {
		fmt.Fprintf(&b, "SELECT DISTINCT trace_id FROM %s WHERE %s", e.t("spans"), rangeCond("start_time", win))
		if q.Service != "" {
			b.WriteString(" AND service = " + sqlStr(q.Service))
		}
		if q.Operation != "" {
			b.WriteString(" AND name = " + sqlStr(q.Operation))
		}
		for _, a := range q.Attributes {
			k, v := sqlStr(a.Key), sqlStr(a.Value.Str)
			// has() lets the bloom filter on the values skip granules.
			fmt.Fprintf(&b, " AND ((has(mapValues(attributes), %s) AND mapContains(attributes, %s) AND attributes[%s] = %s)"+
				" OR position(resource_attributes, %s) > 0)", v, k, k, v, sqlStr(shared.ResourcePattern(a.Key, a.Value.Str)))
		}
		if q.Text != "" {
			t := sqlStr(q.Text)
			b.WriteString(" AND (")
			for i, c := range []string{"name", "status_message", "error_message", "request_payload", "response_payload"} {
				if i > 0 {
					b.WriteString(" OR ")
				}
				fmt.Fprintf(&b, "positionCaseInsensitiveUTF8(%s, %s) > 0", c, t)
			}
			fmt.Fprintf(&b, " OR trace_id IN (SELECT trace_id FROM %s WHERE %s AND positionCaseInsensitiveUTF8(body, %s) > 0))",
				e.t("logs"), rangeCond("time", win), t)
		}
	} else {
		r := win
		conds := []string{"span_count > 0"}
		if r.End != 0 {
			conds = append(conds, fmt.Sprintf("span_start < %d", r.End))
		}
		if r.Start != 0 {
			conds = append(conds, fmt.Sprintf("span_end >= %d", r.Start))
		}
		fmt.Fprintf(&b, "SELECT DISTINCT trace_id FROM %s WHERE %s", e.t("trace_index"), strings.Join(conds, " AND "))
	}
	fmt.Fprintf(&b, `
), t AS (
SELECT trace_id,
	minIf(span_start, span_count > 0) AS ts,
	maxIf(span_end, span_count > 0) AS te,
	max(error_count > 0) AS errs,
	argMinIf(root_service, (NOT has_root, span_start), span_count > 0) AS rs,
	argMinIf(root_name, (NOT has_root, span_start), span_count > 0) AS rn,
	countIf(span_count > 0) AS with_spans
FROM %s WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, errs, toString(rs), toString(rn) FROM t WHERE with_spans > 0`, e.t("trace_index"))
	if !final {
		fmt.Fprintf(&b, " AND ts >= %d", ws)
	}
	if q.ErrorOnly {
		b.WriteString(" AND errs > 0")
	}
	if q.MinDuration > 0 {
		fmt.Fprintf(&b, " AND te - ts >= %d", q.MinDuration)
	}
	if q.MaxDuration > 0 {
		fmt.Fprintf(&b, " AND te - ts <= %d", q.MaxDuration)
	}
	if cur != nil {
		fmt.Fprintf(&b, " AND (ts < %d OR (ts = %d AND trace_id < %s))", cur.Start, cur.Start, traceLit(cur.Trace))
	}
	fmt.Fprintf(&b, "\nORDER BY ts DESC, trace_id DESC LIMIT %d", limit)
	return b.String()
}

// countSpans fills the span and error counts of rows from the spans.
func (e *Engine) countSpans(ctx context.Context, rows []store.TraceSummary) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]model.TraceID, len(rows))
	lo, hi := rows[0].StartTime, rows[0].StartTime+rows[0].DurationNs
	for i, r := range rows {
		ids[i] = r.TraceID
		lo, hi = min(lo, r.StartTime), max(hi, r.StartTime+r.DurationNs)
	}
	counts := map[model.TraceID][2]int{}
	q := fmt.Sprintf("SELECT trace_id, uniqExact(span_id), uniqExactIf(span_id, status_code = %d) FROM %s WHERE trace_id IN (%s) AND start_time BETWEEN %d AND %d GROUP BY trace_id",
		model.StatusError, e.t("spans"), traceList(ids), lo, hi)
	err := e.each(ctx, q, func(scan func(...any) error) error {
		var (
			t       string
			n, errs uint64
		)
		if err := scan(&t, &n, &errs); err != nil {
			return err
		}
		counts[asTraceID(t)] = [2]int{int(n), int(errs)}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range rows {
		c := counts[rows[i].TraceID]
		rows[i].SpanCount, rows[i].ErrorCount = c[0], c[1]
	}
	return nil
}
