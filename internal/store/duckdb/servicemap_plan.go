package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// The read side of the rollups (servicemap_rollup.go): a map query over a
// range uses the rollups for the whole minutes that are sealed and not
// stale, and the raw tables, with the same query in histogram mode, for
// the rest: the partial minutes at either end of the range, the open tail
// and any stale minute. Counts, errors and cold starts add up exactly;
// percentiles come from the merged histograms (stmt/servicemap_hist.go). All
// reads of one answer share one transaction, so they see one snapshot.
//
// A query of trace ids, or one whose usable minutes hold fewer than
// RollupSettings.MinSpans spans, reads raw data only, with exact
// percentiles.

// rollPlan splits a range into minutes read from the rollups and pieces
// read raw (stmt.MapSplit).
type rollPlan struct {
	minutes []store.TimeRange // minute-aligned, ascending, disjoint
	raw     []store.TimeRange // the rest of the range (0 = unbounded, as in TimeRange)
}

// rollupPlan plans r. When step > 0 (RED), minutes that straddle a
// boundary Start + i·step are read raw, so every rolled-up minute falls in
// one step.
func (e *Engine) rollupPlan(ctx context.Context, qr queryer, r store.TimeRange, step int64) (rollPlan, bool, error) {
	set := e.set.Rollups
	if set.MinSpans < 0 {
		return rollPlan{}, false, nil
	}
	lo := ceilMinute(r.Start)
	hi := int64(math.MaxInt64)
	if r.End != 0 {
		hi = floorMinute(r.End)
	}
	if hi <= lo {
		return rollPlan{}, false, nil
	}
	hiLit := "9223372036854775807"
	if r.End != 0 {
		hiLit = fmt.Sprint(hi)
	}
	rs, err := qr.QueryContext(ctx, fmt.Sprintf(`SELECT 0, max(sealed), 0 FROM rollup_state
UNION ALL SELECT 1, minute, 0 FROM rollup_todo WHERE minute >= %[1]d AND minute < %[2]s
UNION ALL SELECT 2, minute, 0 FROM (SELECT DISTINCT minute FROM rollup_marks)
UNION ALL SELECT 3, minute, spans FROM rollup_minutes WHERE minute >= %[1]d AND minute < %[2]s`, lo, hiLit))
	if err != nil {
		return rollPlan{}, false, err
	}
	var (
		sealed  = int64(math.MaxInt64)
		invalid []store.TimeRange
		counts  [][2]int64
	)
	for rs.Next() {
		var kind, m, n int64
		if err := rs.Scan(&kind, &m, &n); err != nil {
			rs.Close()
			return rollPlan{}, false, err
		}
		switch kind {
		case 0:
			sealed = m
		case 1:
			invalid = append(invalid, store.TimeRange{Start: m, End: m + minuteNs})
		case 2:
			invalid = append(invalid, store.TimeRange{Start: m - staleBefore, End: m + staleAfter + minuteNs})
		case 3:
			counts = append(counts, [2]int64{m, n})
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return rollPlan{}, false, err
	}
	var p rollPlan
	var ok bool
	p.minutes, p.raw, ok = stmt.MapSplit(r, step, sealed, invalid)
	if !ok {
		return rollPlan{}, false, nil
	}
	var spans int64
	for _, c := range counts {
		for _, u := range p.minutes {
			if c[0] >= u.Start && c[0] < u.End {
				spans += c[1]
				break
			}
		}
	}
	if spans < set.MinSpans {
		return rollPlan{}, false, nil
	}
	return p, true, nil
}

// histRow scans the common tail of a histogram row: bucket, count,
// errors, [cold starts,] smallest, largest.
type histRow struct {
	b               int16
	n, errors, cold int64
	lo, hi          int64
}

// nulls scans NULL strings as "".
func nulls(ss []sql.NullString) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String
	}
	return out
}

// scanGroups runs query and feeds each row's nk string keys and
// histogram tail to add. extra are scanned between the keys and the
// tail (a metric, a time bucket, the messaging flag).
func scanGroups(ctx context.Context, qr queryer, query string, nk int, extra []any, cold bool,
	add func(keys []string, h histRow)) error {
	rs, err := qr.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rs.Close()
	ks := make([]sql.NullString, nk)
	dst := make([]any, 0, nk+len(extra)+6)
	for i := range ks {
		dst = append(dst, &ks[i])
	}
	dst = append(dst, extra...)
	var h histRow
	var b int64
	dst = append(dst, &b, &h.n, &h.errors)
	if cold {
		dst = append(dst, &h.cold)
	}
	dst = append(dst, &h.lo, &h.hi)
	for rs.Next() {
		h.cold = 0
		if err := rs.Scan(dst...); err != nil {
			return err
		}
		h.b = int16(b)
		add(nulls(ks), h)
	}
	return rs.Err()
}

// rolled runs read in a transaction when the plan of r uses rollups;
// ok is false when it does not (the caller reads raw).
func (e *Engine) rolled(ctx context.Context, op string, r store.TimeRange, step int64, read func(tx *sql.Tx, p rollPlan) error) (ok bool, err error) {
	if e.set.Rollups.MinSpans < 0 {
		return false, nil
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return false, unavailable(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	p, ok, err := e.rollupPlan(ctx, tx, r, step)
	if err != nil {
		return false, unavailable(op, err)
	}
	if !ok {
		return false, nil
	}
	if err := read(tx, p); err != nil {
		return false, unavailable(op, err)
	}
	return true, nil
}

func (e *Engine) rolledNodes(ctx context.Context, q store.MapQuery, limit int) ([]store.NodeRow, bool, bool, error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	d := stmt.DuckDB()
	var g stmt.MapGroups[[2]string]
	add := func(k []string, h histRow) {
		a := g.Get([2]string{k[0], k[1]})
		a.N += h.n
		a.Errors += h.errors
		a.Cold += h.cold
		a.Dur.Add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read map nodes", q.TimeRange, 0, func(tx *sql.Tx, p rollPlan) error {
		if err := scanGroups(ctx, tx, stmt.RollupNodes(d, q.Environment, p.minutes), 2, nil, true, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			if err := scanGroups(ctx, tx, stmt.MapNodes(d, pq, 0, stmt.MapHistogram), 2, nil, true, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.NodeRow{}
	for _, k := range g.ByCount(d, func(k [2]string) []string { return k[:] }) {
		a := g.Get(k)
		out = append(out, store.NodeRow{Endpoint: store.Endpoint{Service: k[0], Function: k[1]},
			Count: a.N, Errors: a.Errors, ColdStarts: a.Cold, Latency: a.Dur.Latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}

func (e *Engine) rolledCalls(ctx context.Context, q store.MapQuery, limit int) ([]store.CallRow, bool, bool, error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	d := stmt.DuckDB()
	var g stmt.MapGroups[[6]string]
	var messaging bool
	add := func(k []string, h histRow) {
		a := g.Get([6]string(k))
		a.N += h.n
		a.Errors += h.errors
		a.Messaging = a.Messaging || messaging
		a.Dur.Add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read map calls", q.TimeRange, 0, func(tx *sql.Tx, p rollPlan) error {
		if err := scanGroups(ctx, tx, stmt.RollupCalls(d, q.Environment, p.minutes), 6, []any{&messaging}, false, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			if err := scanGroups(ctx, tx, stmt.MapCalls(d, pq, 0, stmt.MapHistogram), 6, []any{&messaging}, false, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.CallRow{}
	for _, k := range g.ByCount(d, func(k [6]string) []string { return k[:] }) {
		a := g.Get(k)
		out = append(out, store.CallRow{
			Caller: store.Endpoint{Service: k[0], Function: k[1]}, Callee: store.Endpoint{Service: k[2], Function: k[3]},
			PeerKind: k[4], Peer: k[5], Messaging: a.Messaging, Count: a.N, Errors: a.Errors, Latency: a.Dur.Latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}

func (e *Engine) rolledHops(ctx context.Context, q store.MapQuery, limit int) ([]store.HopRow, bool, bool, error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	d := stmt.DuckDB()
	var g stmt.MapGroups[[8]string]
	var metric int64
	add := func(k []string, h histRow) {
		a := g.Get([8]string(k))
		if metric == 0 {
			a.N += h.n
			a.Errors += h.errors
			a.Dur.Add(h.b, h.n, h.lo, h.hi)
		} else {
			a.Lag.Add(h.b, h.n, h.lo, h.hi)
		}
	}
	ok, err := e.rolled(ctx, "read map hops", q.TimeRange, 0, func(tx *sql.Tx, p rollPlan) error {
		if err := scanGroups(ctx, tx, stmt.RollupHops(d, q.Environment, p.minutes), 8, []any{&metric}, false, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			plo, phi, found, err := e.hopExtent(ctx, tx, r, nil)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			pq := q
			pq.TimeRange = r
			if err := scanGroups(ctx, tx, stmt.MapHops(d, pq, plo, phi, 0, stmt.MapHistogram), 8, []any{&metric}, false, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.HopRow{}
	for _, k := range g.ByCount(d, func(k [8]string) []string { return k[:] }) {
		a := g.Get(k)
		if a.N == 0 {
			continue // lag rows alone cannot occur; be safe
		}
		out = append(out, store.HopRow{
			Producer: store.Endpoint{Service: k[0], Function: k[1]}, Consumer: store.Endpoint{Service: k[2], Function: k[3]},
			Channel: k[4], ProducerDestination: k[5], ConsumerDestination: k[6], ConsumerSystem: k[7],
			Count: a.N, Errors: a.Errors, Latency: a.Dur.Latency(), Lag: a.Lag.Latency(), LagCount: a.Lag.N()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}

// rolledRED answers RED series of entry spans from the node rollups;
// series of an operation, or grouped by operation, are read raw.
func (e *Engine) rolledRED(ctx context.Context, q store.REDQuery, limit int) ([]store.REDRow, bool, bool, error) {
	if q.Operation != "" || q.GroupBy == "operation" {
		return nil, false, false, nil
	}
	type key struct {
		g string
		t int64
	}
	d := stmt.DuckDB()
	var g stmt.MapGroups[key]
	var tb int64
	add := func(k []string, h histRow) {
		a := g.Get(key{k[0], tb})
		a.N += h.n
		a.Errors += h.errors
		a.Cold += h.cold
		a.Dur.Add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read RED series", q.TimeRange, q.Step, func(tx *sql.Tx, p rollPlan) error {
		if err := scanGroups(ctx, tx, stmt.RollupRED(d, q, p.minutes), 1, []any{&tb}, true, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			if err := scanGroups(ctx, tx, stmt.RED(d, q, r, 0, stmt.MapHistogram), 1, []any{&tb}, true, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	keys := g.Keys()
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.g, b.g); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	out := []store.REDRow{}
	for _, k := range keys {
		a := g.Get(k)
		out = append(out, store.REDRow{Group: k.g, Bucket: k.t, Count: a.N, Errors: a.Errors, ColdStarts: a.Cold, Latency: a.Dur.Latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}
