package clickhouse

import (
	"context"
	"fmt"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
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
		d      = stmt.ClickHouse(e.t)
		rows   []store.TraceSummary
		ws     int64
	)
	if err := e.conn.QueryRow(ctx, stmt.SearchBounds(d)).Scan(&count, &lo, &hi); err != nil {
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
		w := stmt.SearchWindow{Query: q, Cursor: cur, Start: ws, End: q.End, Final: final, Limit: limit + 1}
		err = e.each(ctx, stmt.SearchTraces(d, w), func(scan func(...any) error) error {
			var (
				t       string
				s       store.TraceSummary
				n, errs uint64 // may count a re-sent batch twice: countSpans counts
			)
			if err := scan(&t, &s.StartTime, &s.DurationNs, &n, &errs, &s.RootService, &s.RootName); err != nil {
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
	err := e.each(ctx, stmt.SearchSpanCounts(stmt.ClickHouse(e.t), ids, lo, hi), func(scan func(...any) error) error {
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
