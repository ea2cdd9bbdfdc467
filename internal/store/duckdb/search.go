package duckdb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
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
	if err := checkQuery(q); err != nil {
		return nil, fmt.Errorf("search traces: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, store.MaxLimit)
	cur, err := decodeCursor(q.Cursor)
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
	if cur != nil && cur.start < top {
		top = cur.start + 1
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
			sql, args := buildSearch(q, cur, ws, end, final, limit+1, within)
			if rows, err = e.searchRows(ctx, sql, args); err != nil {
				return nil, unavailable("search traces", err)
			}
		}
		if len(rows) > limit || final {
			if len(rows) > limit {
				rows = rows[:limit]
				last := rows[limit-1]
				res.NextCursor = encodeCursor(cursor{start: last.StartTime, trace: last.TraceID})
			}
			res.Traces = rows
			return res, nil
		}
		width *= windowGrowth
	}
}

func checkQuery(q store.TraceQuery) error {
	if err := checkRange(q.TimeRange); err != nil {
		return err
	}
	if q.MinDuration < 0 || q.MaxDuration < 0 {
		return fmt.Errorf("negative duration bound: %w", store.ErrInvalid)
	}
	if q.MaxDuration != 0 && q.MaxDuration < q.MinDuration {
		return fmt.Errorf("max duration below min duration: %w", store.ErrInvalid)
	}
	if q.Limit < 0 {
		return fmt.Errorf("negative limit: %w", store.ErrInvalid)
	}
	for _, a := range q.Attributes {
		if a.Key == "" {
			return fmt.Errorf("attribute condition without a key: %w", store.ErrInvalid)
		}
	}
	return nil
}

// buildSearch writes the SQL of one window. All user input travels as
// parameters; numbers and trace ids are formatted in. ranges, when not
// nil, are the parts of [ws, end) where matching spans may start: each is
// read by its own branch, so that zone maps prune what lies between.
func buildSearch(q store.TraceQuery, cur *cursor, ws, end int64, final bool, limit int, ranges [][2]int64) (string, []any) {
	var args []any
	var b strings.Builder
	spanConds := q.Service != "" || q.Operation != "" || len(q.Attributes) > 0 || q.Text != ""
	b.WriteString("WITH m AS (\n")
	if spanConds {
		if ranges == nil {
			ranges = [][2]int64{{ws, end}}
		}
		conds, cargs := spanConditions(q, ws, end)
		for i, r := range ranges {
			if i > 0 {
				b.WriteString("\nUNION\n")
			}
			fmt.Fprintf(&b, "SELECT DISTINCT trace_id FROM spans WHERE start_time >= %d AND start_time < %d%s", r[0], r[1], conds)
			args = append(args, cargs...)
		}
	} else {
		fmt.Fprintf(&b, "SELECT DISTINCT trace_id FROM trace_index WHERE span_count > 0 AND span_start < %d AND span_end >= %d", end, ws)
	}
	b.WriteString(`
), t AS (
SELECT trace_id,
	min(span_start) FILTER (WHERE span_count > 0) AS ts,
	max(span_end) FILTER (WHERE span_count > 0) AS te,
	sum(span_count) AS n,
	sum(error_count) AS errs,
	arg_min(root_service, (NOT has_root, span_start)) FILTER (WHERE span_count > 0) AS rs,
	arg_min(root_name, (NOT has_root, span_start)) FILTER (WHERE span_count > 0) AS rn
FROM trace_index WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, n, errs, rs, rn FROM t WHERE ts IS NOT NULL`)
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
		fmt.Fprintf(&b, " AND (ts < %d OR (ts = %d AND trace_id < %s))", cur.start, cur.start, uuidLiteral(cur.trace))
	}
	fmt.Fprintf(&b, "\nORDER BY ts DESC, trace_id DESC LIMIT %d", limit)
	return b.String(), args
}

// spanConditions is the WHERE text (each part starting with " AND ") and
// the arguments of q's span conditions; [ws, end) bounds the log scan of a
// text search.
func spanConditions(q store.TraceQuery, ws, end int64) (string, []any) {
	var args []any
	var b strings.Builder
	{
		if q.Service != "" {
			b.WriteString(" AND service = ?")
			args = append(args, q.Service)
		}
		if q.Operation != "" {
			b.WriteString(" AND name = ?")
			args = append(args, q.Operation)
		}
		for _, a := range q.Attributes {
			// list_contains prunes cheaply before the positional check
			// that the value belongs to the key (spike advice 6).
			b.WriteString(" AND ((list_contains(attr_values, ?) AND attr_values[list_position(attr_keys, ?)] = ?)" +
				" OR contains(resource_attributes, ?))")
			v := a.Value.Str
			args = append(args, v, a.Key, v, shared.ResourcePattern(a.Key, v))
		}
		if q.Text != "" {
			p := likePattern(q.Text)
			b.WriteString(` AND (name ILIKE ? ESCAPE '\' OR (`)
			args = append(args, p)
			// The other fields are in ext (spanext.go). Text that JSON
			// writes as it is occurs in ext wherever it occurs in one of
			// them, so ext is tested first, as one string, and the fields
			// extracted only where it matches.
			if jsonVerbatim(q.Text) {
				b.WriteString(`ext ILIKE ? ESCAPE '\' AND (`)
				args = append(args, p)
			} else {
				b.WriteString("(")
			}
			for i, c := range []string{"status_message", "error_message", "request_payload", "response_payload"} {
				if i > 0 {
					b.WriteString(" OR ")
				}
				b.WriteString(c + ` ILIKE ? ESCAPE '\'`)
				args = append(args, p)
			}
			b.WriteString("))")
			fmt.Fprintf(&b, ` OR trace_id IN (SELECT trace_id FROM logs WHERE "time" >= %d AND "time" < %d AND body ILIKE ? ESCAPE '\'))`, ws, end)
			args = append(args, p)
		}
	}
	return b.String(), args
}

// jsonVerbatim reports whether every JSON writer (ours and DuckDB's)
// writes text as it is inside a string: printable ASCII without quote,
// backslash or slash.
func jsonVerbatim(text string) bool {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' {
			return false
		}
	}
	return true
}

// likePattern makes text a literal ILIKE substring pattern.
func likePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(text) + "%"
}

func (e *Engine) searchRows(ctx context.Context, query string, args []any) ([]store.TraceSummary, error) {
	rs, err := e.db.QueryContext(ctx, query, args...)
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

// cursor is where the previous page stopped.
type cursor struct {
	start int64
	trace model.TraceID
}

// Cursors are "v1.<start>.<trace id hex>" in URL-safe base64: opaque to
// clients, versioned for us.
func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1." + strconv.FormatInt(c.start, 10) + "." + c.trace.String()))
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	start, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	t, err := model.ParseTraceID(parts[2])
	if err != nil {
		return nil, fmt.Errorf("bad cursor: %w", store.ErrInvalid)
	}
	return &cursor{start: start, trace: t}, nil
}
