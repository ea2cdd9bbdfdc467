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

var _ store.CorrelationReader = (*Engine)(nil)

// refChunk bounds the values of one IN list (max_query_size).
const refChunk = 500

// RefsOfTraces implements store.CorrelationReader (bloom filter on
// message_refs.trace_id).
func (e *Engine) RefsOfTraces(ctx context.Context, ids []model.TraceID, limit int) ([]model.MessageRef, bool, error) {
	ids = uniqueTraces(ids)
	d, cols, limit := stmt.ClickHouse(e.t), e.sch.refs.list(), shared.Clamp(limit, store.MaxCorrelationRows)
	return e.refsIn(ctx, len(ids), func(lo, hi int) string {
		return stmt.RefsOfTraces(d, cols, ids[lo:hi], false, limit)
	}, limit, "read refs of traces")
}

// RefsByKeys implements store.CorrelationReader (the table's sort key).
func (e *Engine) RefsByKeys(ctx context.Context, keys []string, limit int) ([]model.MessageRef, bool, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	d, cols, limit := stmt.ClickHouse(e.t), e.sch.refs.list(), shared.Clamp(limit, store.MaxCorrelationRows)
	return e.refsIn(ctx, len(keys), func(lo, hi int) string {
		return stmt.RefsByKeys(d, cols, keys[lo:hi], false, limit)
	}, limit, "read refs by keys")
}

// refsIn looks n values up, refChunk at a time, query(lo, hi) being the
// statement of values [lo, hi), and orders and cuts the union.
func (e *Engine) refsIn(ctx context.Context, n int, query func(lo, hi int) string, limit int, op string) ([]model.MessageRef, bool, error) {
	out := []model.MessageRef{}
	if n == 0 {
		return out, false, nil
	}
	if err := e.readable(op); err != nil {
		return nil, false, err
	}
	for lo := 0; lo < n; lo += refChunk {
		// limit+1 per chunk: enough to tell whether the union overflows.
		rows, err := selectRows(ctx, e, &e.sch.refs, query(lo, min(n, lo+refChunk)), (*refRow).fix)
		if err != nil {
			return nil, false, e.fail(op, err)
		}
		for i := range rows {
			out = append(out, rows[i].MessageRef)
		}
	}
	if n > refChunk {
		slices.SortFunc(out, compareRefs)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// RefsByDestination implements store.CorrelationReader.
func (e *Engine) RefsByDestination(ctx context.Context, dest string, r store.TimeRange, limit int) ([]model.MessageRef, bool, error) {
	if err := shared.CheckRange(r); err != nil {
		return nil, false, fmt.Errorf("read refs by destination: %w", err)
	}
	if err := e.readable("read refs by destination"); err != nil {
		return nil, false, err
	}
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	t := &e.sch.refs
	rows, err := selectRows(ctx, e, t, stmt.RefsByDestination(stmt.ClickHouse(e.t), t.list(), dest, r, limit), (*refRow).fix)
	if err != nil {
		return nil, false, e.fail("read refs by destination", err)
	}
	out := make([]model.MessageRef, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].MessageRef)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// SpansOfTraces implements store.CorrelationReader. Like Trace it first
// asks trace_index where in time the traces lie; traces far apart in time
// are read by one query per cluster of nearby traces.
func (e *Engine) SpansOfTraces(ctx context.Context, ids []model.TraceID, fields store.SpanFields, limit int) ([]model.Span, bool, error) {
	ids = uniqueTraces(ids)
	limit = shared.Clamp(limit, store.MaxCorrelationRows)
	out := []model.Span{}
	if len(ids) == 0 {
		return out, false, nil
	}
	if err := e.readable("read spans of traces"); err != nil {
		return nil, false, err
	}
	clusters, err := e.traceClusters(ctx, ids)
	if err != nil {
		return nil, false, e.fail("locate traces", err)
	}
	d, t := stmt.ClickHouse(e.t), &e.sch.spans
	if fields == store.SpanSummary {
		t = e.sch.spanSummary
	}
	var rows []spanRow
	for _, c := range clusters {
		got, err := selectRows(ctx, e, t, stmt.SpansOfTraces(d, t.list(), c.ids, c.lo, c.hi, limit), (*spanRow).fix)
		if err != nil {
			return nil, false, e.fail("read spans of traces", err)
		}
		rows = append(rows, got...)
		if len(rows) > limit {
			break
		}
	}
	if len(clusters) > 1 {
		slices.SortStableFunc(rows, func(a, b spanRow) int {
			if c := cmp.Compare(a.StartTime, b.StartTime); c != 0 {
				return c
			}
			return cmp.Compare(spanU64(a.SpanID), spanU64(b.SpanID))
		})
	}
	rows = dedupSpans(rows)
	for i := range rows {
		out = append(out, rows[i].Span)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// traceClusterGap is how far apart two traces' time ranges may lie and
// still be read by one query.
const traceClusterGap = int64(60e9)

type traceCluster struct {
	ids    []model.TraceID
	lo, hi int64
}

// traceClusters groups ids by where their spans lie (trace_index),
// merging ranges closer than traceClusterGap; traces without spans drop.
func (e *Engine) traceClusters(ctx context.Context, ids []model.TraceID) ([]traceCluster, error) {
	type span struct {
		id     model.TraceID
		lo, hi int64
	}
	var ranges []span
	d := stmt.ClickHouse(e.t)
	for _, chunk := range chunks(ids, refChunk) {
		err := e.each(ctx, stmt.TraceSpans(d, chunk), func(scan func(...any) error) error {
			var (
				t      string
				lo, hi int64
				n      uint64 // a capacity hint in DuckDB; ClickHouse's reads have none
			)
			if err := scan(&t, &lo, &hi, &n); err != nil {
				return err
			}
			ranges = append(ranges, span{asTraceID(t), lo, hi})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(ranges, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	var out []traceCluster
	for _, r := range ranges {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+traceClusterGap && len(out[n-1].ids) < refChunk {
			c := &out[n-1]
			c.ids = append(c.ids, r.id)
			c.hi = max(c.hi, r.hi)
			continue
		}
		out = append(out, traceCluster{ids: []model.TraceID{r.id}, lo: r.lo, hi: r.hi})
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
