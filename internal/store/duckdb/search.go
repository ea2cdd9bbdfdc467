package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Search plan (spike advice 6). Traces are ordered by their start (first
// span start), newest first, ties by trace id; the cursor is the (start,
// trace id) of the last trace returned.
//
// The query runs over windows that grow backwards from the range end, ×4
// each time; the first one covers about windowSpans spans at the store's
// average density (at least a minute). Each window [ws, end) finds the traces having a
// matching span that starts in it, merges their trace_index rows into whole
// trace summaries, and applies the trace-level conditions. Every trace
// whose start is ≥ ws has all its spans in the window, so the results with
// start ≥ ws are complete; when they are more than Limit the page is done,
// otherwise the window grows. The last window reaches the range start and
// keeps every result.
const (
	windowSpans  = 100_000
	minWindow    = int64(time.Minute)
	windowGrowth = 4
	defaultLimit = 20
)

// SearchTraces implements store.Reader.
func (e *Engine) SearchTraces(ctx context.Context, q store.TraceQuery) (*store.TraceResult, error) {
	if err := shared.CheckTraceQuery(q); err != nil {
		return nil, fmt.Errorf("search traces: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, store.MaxLimit)
	cur, err := shared.DecodeTraceCursor(q.Cursor)
	if err != nil {
		return nil, fmt.Errorf("search traces: %w", err)
	}

	// Bounds of the data, to know when a window is the last one.
	bd, err := e.bounds.get(ctx, e.db)
	if err != nil {
		return nil, unavailable("search traces", err)
	}
	res := &store.TraceResult{Traces: []store.TraceSummary{}}
	if bd.empty {
		return res, nil
	}
	end := q.End
	if end == 0 || end > bd.hi+1 {
		end = bd.hi + 1
	}
	start := max(q.Start, bd.lo)
	if start >= end {
		return res, nil
	}
	top := end
	if cur != nil && cur.Start < top {
		top = cur.Start + 1
	}
	// Attribute conditions read only the minutes whose filters may hold
	// their pairs (attrfilter.go); often none.
	var ranges [][2]int64
	if len(q.Attributes) > 0 {
		if ranges, err = e.attrRanges(ctx, q.Attributes, start, end); err != nil {
			return nil, unavailable("search traces", err)
		}
		if len(ranges) == 0 {
			return res, nil
		}
	}
	width := bd.window(e.windowSpans)
	for {
		ws := top - width
		final := ws <= start
		if final {
			ws = start
		}
		var rows []store.TraceSummary
		var within [][2]int64
		if ranges != nil {
			within = clipRanges(ranges, ws, end)
		}
		if ranges == nil || len(within) > 0 {
			sql := stmt.SearchTraces(stmt.DuckDB(), stmt.SearchWindow{Query: q, Cursor: cur, Start: ws, End: end,
				Final: final, Limit: limit + 1, Ranges: within})
			if rows, err = e.searchRows(ctx, sql); err != nil {
				return nil, unavailable("search traces", err)
			}
		}
		if len(rows) > limit || final {
			if len(rows) > limit {
				rows = rows[:limit]
				last := rows[limit-1]
				res.NextCursor = shared.EncodeTraceCursor(shared.TraceCursor{Start: last.StartTime, Trace: last.TraceID})
			}
			res.Traces = rows
			return res, nil
		}
		width *= windowGrowth
	}
}

func (e *Engine) searchRows(ctx context.Context, query string) ([]store.TraceSummary, error) {
	rs, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []store.TraceSummary
	for rs.Next() {
		var (
			tid        any
			n, errs    sql.NullInt64
			rsvc, rnam sql.NullString
			s          store.TraceSummary
		)
		if err := rs.Scan(&tid, &s.StartTime, &s.DurationNs, &n, &errs, &rsvc, &rnam); err != nil {
			return nil, err
		}
		if s.TraceID, err = asTraceID(tid); err != nil {
			return nil, err
		}
		s.SpanCount, s.ErrorCount = int(n.Int64), int(errs.Int64)
		s.RootService, s.RootName = rsvc.String, rnam.String
		out = append(out, s)
	}
	return out, rs.Err()
}
