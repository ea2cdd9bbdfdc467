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

var _ store.CorrelationReader = (*Engine)(nil)

// refChunk bounds the values of one IN list.
const refChunk = 500

// How DuckDB looks refs up (measured on 400k refs, DuckDB 1.5): a short
// IN list over an ART-indexed column becomes one index lookup per value,
// about 90 µs each; a hash semi-join against the values scans the table at
// about 20 ns per row. Lists of up to indexOnlyValues always use the index
// (a request's walk); longer ones (a bulk walk) scan when the lookups
// would cost more, that is when values × lookupPerRow exceeds the rows.
const (
	indexOnlyValues = 64
	lookupPerRow    = 4500
	scanChunk       = 20_000
)

// RefsOfTraces implements store.CorrelationReader through the trace_id
// index of message_refs (migration 0002).
func (e *Engine) RefsOfTraces(ctx context.Context, ids []model.TraceID, limit int) ([]model.MessageRef, bool, error) {
	ids = uniqueTraces(ids)
	cols, limit := e.schema.refs.columnList(""), shared.Clamp(limit, store.MaxCorrelationRows)
	return e.refsIn(ctx, len(ids), func(lo, hi int, scan bool) string {
		return stmt.RefsOfTraces(stmt.DuckDB(), cols, ids[lo:hi], scan, limit)
	}, limit, "read refs of traces")
}

// RefsByKeys implements store.CorrelationReader through the key index.
func (e *Engine) RefsByKeys(ctx context.Context, keys []string, limit int) ([]model.MessageRef, bool, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	cols, limit := e.schema.refs.columnList(""), shared.Clamp(limit, store.MaxCorrelationRows)
	return e.refsIn(ctx, len(keys), func(lo, hi int, scan bool) string {
		return stmt.RefsByKeys(stmt.DuckDB(), cols, keys[lo:hi], scan, limit)
	}, limit, "read refs by keys")
}

// refsIn looks n values up, query(lo, hi, scan) being the statement of
// values [lo, hi) (scan: see scanCheaper), and orders and cuts the union.
func (e *Engine) refsIn(ctx context.Context, n int, query func(lo, hi int, scan bool) string, limit int, op string) ([]model.MessageRef, bool, error) {
	out := []model.MessageRef{}
	scan, err := e.scanCheaper(ctx, n)
	if err != nil {
		return nil, false, unavailable(op, err)
	}
	chunk := refChunk
	if scan {
		chunk = scanChunk
	}
	for lo := 0; lo < n; lo += chunk {
		// limit+1 per chunk: enough to tell whether the union overflows.
		rows, err := selectRows(ctx, e.db, &e.schema.refs, query(lo, min(n, lo+chunk), scan))
		if err != nil {
			return nil, false, unavailable(op, err)
		}
		out = append(out, rows...)
	}
	if n > chunk {
		slices.SortFunc(out, compareRefs)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// scanCheaper says whether n lookups cost more than one pass over
// message_refs, from the table's estimated row count (catalog metadata,
// no scan).
func (e *Engine) scanCheaper(ctx context.Context, n int) (bool, error) {
	if n <= indexOnlyValues {
		return false, nil
	}
	var rows sql.NullInt64
	err := e.db.QueryRowContext(ctx, stmt.RefsRowEstimate(stmt.DuckDB())).Scan(&rows)
	if err != nil {
		return false, err
	}
	return int64(n)*lookupPerRow > rows.Int64, nil
}

// RefsByDestination implements store.CorrelationReader. message_refs is
// small next to spans (only messaging spans have refs) and has no index on
// destination, so this scans the refs of the range.
func (e *Engine) RefsByDestination(ctx context.Context, dest string, r store.TimeRange, limit int) ([]model.MessageRef, bool, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, false, fmt.Errorf("read refs by destination: %w", err)
	}
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	t := &e.schema.refs
	rows, err := selectRows(ctx, e.db, t, stmt.RefsByDestination(stmt.DuckDB(), t.columnList(""), dest, r, limit))
	if err != nil {
		return nil, false, unavailable("read refs by destination", err)
	}
	if rows == nil {
		rows = []model.MessageRef{}
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// spanSummaryTable reads the columns of a store.SpanSummary: all but
// those stmt.SpanSummaryOmits, with ext decoded without events, links and
// payloads.
func (s *schema) spanSummaryTable() *table[spanRow] {
	t := &table[spanRow]{name: s.spans.name}
	omit := stmt.SpanSummaryOmits(stmt.DuckDB())
	for _, c := range s.spans.cols {
		switch {
		case slices.Contains(omit, c.name):
		case c.name == "ext":
			t.cols = append(t.cols, spanExtCol(false))
		default:
			t.cols = append(t.cols, c)
		}
	}
	return t
}

// SpansOfTraces implements store.CorrelationReader. Like Trace it first
// asks the ART-indexed trace_index where in time the traces lie, so that
// zone maps prune the spans table; traces far apart in time (a consumer an
// hour after its producer) are read with one query per cluster of nearby
// traces rather than one scan of everything in between.
func (e *Engine) SpansOfTraces(ctx context.Context, ids []model.TraceID, fields store.SpanFields, limit int) ([]model.Span, bool, error) {
	ids = uniqueTraces(ids)
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	out := []model.Span{}
	if len(ids) == 0 {
		return out, false, nil
	}
	clusters, err := e.traceClusters(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	t := &e.schema.spans
	if fields == store.SpanSummary {
		t = e.schema.spanSummaryTable()
	}
	for _, c := range clusters {
		q := stmt.SpansOfTraces(stmt.DuckDB(), t.columnList(""), c.ids, c.lo, c.hi, limit)
		// The expected count is a capacity hint, bounded by what may be returned.
		if out, err = scanSpans(ctx, e.db, t, q, out, min(c.spans, limit+1-len(out))); err != nil {
			return nil, false, unavailable("read spans of traces", err)
		}
		if len(out) > limit {
			break
		}
	}
	if len(clusters) > 1 {
		slices.SortStableFunc(out, func(a, b model.Span) int {
			if c := cmp.Compare(a.StartTime, b.StartTime); c != 0 {
				return c
			}
			return cmp.Compare(spanU64(a.SpanID), spanU64(b.SpanID))
		})
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// scanSpans appends the spans a query selects to out, growing it once by
// the expected count: a transaction's 5,000 spans are 2.5 MB of
// model.Span, which repeated doubling would copy several times over.
func scanSpans(ctx context.Context, db *sql.DB, t *table[spanRow], query string, out []model.Span, expect int) ([]model.Span, error) {
	rs, err := db.QueryContext(ctx, query)
	if err != nil {
		return out, err
	}
	defer rs.Close()
	out = slices.Grow(out, expect)
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var r spanRow
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return out, err
		}
		r = spanRow{}
		if err := t.scan(vals, &r); err != nil {
			return out, err
		}
		out = append(out, r.Span)
	}
	return out, rs.Err()
}

// traceClusterGap is how far apart two traces' time ranges may lie and still be
// read by one query: below it, scanning the gap costs less than a query.
const traceClusterGap = int64(60e9)

type traceCluster struct {
	ids    []model.TraceID
	lo, hi int64
	spans  int // span count of the cluster's traces, from trace_index
}

// traceClusters groups ids by where their spans lie in time (trace_index),
// merging ranges closer than traceClusterGap. Traces without spans are dropped.
func (e *Engine) traceClusters(ctx context.Context, ids []model.TraceID) ([]traceCluster, error) {
	type span struct {
		id     model.TraceID
		lo, hi int64
		n      int
	}
	var ranges []span
	for lo := 0; lo < len(ids); lo += refChunk {
		hi := min(len(ids), lo+refChunk)
		rs, err := e.db.QueryContext(ctx, stmt.TraceSpans(stmt.DuckDB(), ids[lo:hi]))
		if err != nil {
			return nil, unavailable("locate traces", err)
		}
		for rs.Next() {
			var (
				raw       any
				lo, hi, n sql.NullInt64
			)
			if err := rs.Scan(&raw, &lo, &hi, &n); err != nil {
				rs.Close()
				return nil, unavailable("locate traces", err)
			}
			id, err := asTraceID(raw)
			if err != nil {
				rs.Close()
				return nil, unavailable("locate traces", err)
			}
			ranges = append(ranges, span{id, lo.Int64, hi.Int64, int(n.Int64)})
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return nil, unavailable("locate traces", err)
		}
	}
	slices.SortFunc(ranges, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	var out []traceCluster
	for _, r := range ranges {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+traceClusterGap && len(out[n-1].ids) < refChunk {
			c := &out[n-1]
			c.ids = append(c.ids, r.id)
			c.hi = max(c.hi, r.hi)
			c.spans += r.n
			continue
		}
		out = append(out, traceCluster{ids: []model.TraceID{r.id}, lo: r.lo, hi: r.hi, spans: r.n})
	}
	return out, nil
}

func uniqueTraces(ids []model.TraceID) []model.TraceID {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b model.TraceID) int { return strings.Compare(string(a[:]), string(b[:])) })
	return slices.Compact(ids)
}

func compareRefs(a, b model.MessageRef) int {
	if c := cmp.Compare(a.Time, b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Role, b.Role); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.TraceID[:]), string(b.TraceID[:])); c != 0 {
		return c
	}
	return cmp.Compare(spanU64(a.SpanID), spanU64(b.SpanID))
}
