package stmt

import (
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// SearchBounds is the statement of the extent of the stored traces that a
// search sizes its windows by: one row (n, lo, hi), lo and hi the first
// and last span start. DuckDB's n counts spans, exactly; ClickHouse's
// counts trace_index rows, which it answers from part metadata without
// reading data (a sum of span counts would read every row, and a re-sent
// batch would count twice).
func SearchBounds(d Dialect) string {
	if d.ch {
		return "SELECT count(), min(start_min), max(start_min) FROM " + d.Table("trace_index")
	}
	return "SELECT sum(span_count), min(span_start), max(span_start) FROM trace_index WHERE span_count > 0"
}

// SearchWindow is one window of a trace search: the traces with a span
// that matches every span-level condition of Query and starts in [Start,
// End) (without such conditions: the traces with spans overlapping it),
// merged over all their trace_index rows, cut by the trace-level
// conditions and Cursor, newest first. A zero Start or End is open.
type SearchWindow struct {
	Query  store.TraceQuery
	Cursor *shared.TraceCursor
	Start  int64
	End    int64
	// Final keeps the traces starting before Start too: the last window
	// reaches the range start, and those have no later window to wait for.
	Final bool
	Limit int
	// Ranges, when not nil, are the parts of [Start, End) where matching
	// spans may start (DuckDB's attribute filters); each is read by its
	// own branch, so that zone maps prune what lies between.
	Ranges [][2]int64
}

// SearchTraces is the statement of one search window. Its rows are
// (trace_id, start, duration, spans, errors, root service, root name).
// ClickHouse's span and error counts may count a re-sent batch twice:
// that engine takes them from SearchSpanCounts, and its errors only say
// whether there are any.
func SearchTraces(d Dialect, w SearchWindow) string {
	q := w.Query
	var b strings.Builder
	b.WriteString("WITH m AS (\n")
	if q.Service != "" || q.Operation != "" || len(q.Attributes) > 0 || q.Text != "" {
		ranges := w.Ranges
		if ranges == nil {
			ranges = [][2]int64{{w.Start, w.End}}
		}
		conds := d.searchSpanConds(q, store.TimeRange{Start: w.Start, End: w.End})
		for i, r := range ranges {
			if i > 0 {
				b.WriteString("\nUNION\n")
			}
			fmt.Fprintf(&b, "SELECT DISTINCT trace_id FROM %s WHERE %s%s",
				d.Table("spans"), Range("start_time", store.TimeRange{Start: r[0], End: r[1]}), conds)
		}
	} else {
		conds := []string{"span_count > 0"}
		if w.End != 0 {
			conds = append(conds, "span_start < "+Int(w.End))
		}
		if w.Start != 0 {
			conds = append(conds, "span_end >= "+Int(w.Start))
		}
		fmt.Fprintf(&b, "SELECT DISTINCT trace_id FROM %s WHERE %s", d.Table("trace_index"), strings.Join(conds, " AND "))
	}
	// The root is the root span where the trace has one, else its
	// earliest span.
	rootBy, withSpans := "(NOT has_root, span_start)", "span_count > 0"
	rs, rn := "rs", "rn"
	if d.ch {
		rs, rn = "toString(rs)", "toString(rn)" // LowCardinality
	}
	fmt.Fprintf(&b, `
), t AS (
SELECT trace_id,
	%s AS ts,
	%s AS te,
	sum(span_count) AS n,
	sum(error_count) AS errs,
	%s AS rs,
	%s AS rn
FROM %s WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, n, errs, %s, %s FROM t WHERE n > 0`,
		d.AggIf("min", "span_start", withSpans), d.AggIf("max", "span_end", withSpans),
		d.ArgMinIf("root_service", rootBy, withSpans), d.ArgMinIf("root_name", rootBy, withSpans),
		d.Table("trace_index"), rs, rn)
	if !w.Final {
		b.WriteString(" AND ts >= " + Int(w.Start))
	}
	if q.ErrorOnly {
		b.WriteString(" AND errs > 0")
	}
	if q.MinDuration > 0 {
		b.WriteString(" AND te - ts >= " + Int(q.MinDuration))
	}
	if q.MaxDuration > 0 {
		b.WriteString(" AND te - ts <= " + Int(q.MaxDuration))
	}
	if c := w.Cursor; c != nil {
		fmt.Fprintf(&b, " AND (ts < %d OR (ts = %d AND trace_id < %s))", c.Start, c.Start, d.Trace(c.Trace))
	}
	fmt.Fprintf(&b, "\nORDER BY ts DESC, trace_id DESC LIMIT %d", w.Limit)
	return b.String()
}

// searchSpanConds is the WHERE text of q's span-level conditions, each
// part starting with " AND "; win bounds the log scan of a text search.
func (d Dialect) searchSpanConds(q store.TraceQuery, win store.TimeRange) string {
	var b strings.Builder
	if q.Service != "" {
		b.WriteString(" AND service = " + d.Str(q.Service))
	}
	if q.Operation != "" {
		b.WriteString(" AND name = " + d.Str(q.Operation))
	}
	for _, a := range q.Attributes {
		fmt.Fprintf(&b, " AND ((%s) OR %s)", d.AttrEq(a.Key, a.Value.Str),
			d.Contains("resource_attributes", shared.ResourcePattern(a.Key, a.Value.Str)))
	}
	if q.Text != "" {
		var fields []string
		for _, c := range []string{"status_message", "error_message", "request_payload", "response_payload"} {
			fields = append(fields, d.ContainsFold(c, q.Text))
		}
		other := strings.Join(fields, " OR ")
		// DuckDB keeps these fields in ext, a JSON text (spanext.go).
		// Text that JSON writes as it is occurs in ext wherever it occurs
		// in one of them, so ext is tested first, as one string, and the
		// fields extracted only where it matches.
		if !d.ch && jsonVerbatim(q.Text) {
			other = d.ContainsFold("ext", q.Text) + " AND (" + other + ")"
		}
		fmt.Fprintf(&b, " AND (%s OR (%s) OR trace_id IN (SELECT trace_id FROM %s WHERE %s AND %s))",
			d.ContainsFold("name", q.Text), other, d.Table("logs"), Range(`"time"`, win), d.ContainsFold("body", q.Text))
	}
	return b.String()
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

// SearchSpanCounts is the statement counting the spans and error spans of
// the traces ids, whose spans start in [lo, hi], by span id: rows
// (trace_id, spans, errors). ClickHouse fills a search page's counts
// with it, as a re-sent or half-committed batch cannot inflate them.
func SearchSpanCounts(d Dialect, ids []model.TraceID, lo, hi int64) string {
	isErr := fmt.Sprintf("status_code = %d", model.StatusError)
	errs := "count(DISTINCT span_id) FILTER (WHERE " + isErr + ")"
	if d.ch {
		errs = "uniqExactIf(span_id, " + isErr + ")"
	}
	return fmt.Sprintf("SELECT trace_id, %s, %s FROM %s WHERE trace_id IN (%s) AND start_time BETWEEN %d AND %d GROUP BY trace_id",
		d.CountDistinct("span_id"), errs, d.Table("spans"), d.Traces(ids), lo, hi)
}
