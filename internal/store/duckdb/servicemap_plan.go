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
)

// The read side of the rollups (servicemap_rollup.go): a map query over a
// range uses the rollups for the whole minutes that are sealed and not
// stale, and the raw tables, with the same query in histogram mode, for
// the rest: the partial minutes at either end of the range, the open tail
// and any stale minute. Counts, errors and cold starts add up exactly;
// percentiles come from the merged histograms (servicemap_hist.go). All
// reads of one answer share one transaction, so they see one snapshot.
//
// A query of trace ids, or one whose usable minutes hold fewer than
// RollupSettings.MinSpans spans, reads raw data only, with exact
// percentiles.

// rollPlan splits a range into minutes read from the rollups and pieces
// read raw.
type rollPlan struct {
	minutes []store.TimeRange // minute-aligned, ascending, disjoint
	raw     []store.TimeRange // the rest of the range (0 = unbounded, as in TimeRange)
}

// maxRawPieces bounds the raw pieces of a plan: a range cut into more
// pieces (many stale minutes) is read raw as a whole.
const maxRawPieces = 8

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
			hi = min(hi, m)
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
	if step > 0 {
		for b := r.Start + step; b < r.End; b += step {
			if b%minuteNs != 0 {
				invalid = append(invalid, store.TimeRange{Start: floorMinute(b), End: floorMinute(b) + minuteNs})
			}
		}
	}
	var p rollPlan
	p.minutes = subtractRanges(lo, hi, invalid)
	if len(p.minutes) == 0 {
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
	// The raw pieces: the range minus the rolled-up minutes.
	cur := r.Start
	for _, u := range p.minutes {
		if u.Start > cur {
			p.raw = append(p.raw, store.TimeRange{Start: cur, End: u.Start})
		}
		cur = u.End
	}
	if r.End == 0 || cur < r.End {
		p.raw = append(p.raw, store.TimeRange{Start: cur, End: r.End})
	}
	if len(p.raw) > maxRawPieces {
		return rollPlan{}, false, nil
	}
	return p, true, nil
}

// subtractRanges is [lo, hi) minus the union of cut.
func subtractRanges(lo, hi int64, cut []store.TimeRange) []store.TimeRange {
	slices.SortFunc(cut, func(a, b store.TimeRange) int { return cmp.Compare(a.Start, b.Start) })
	var out []store.TimeRange
	cur := lo
	for _, c := range cut {
		if c.End <= cur {
			continue
		}
		if c.Start >= hi {
			break
		}
		if c.Start > cur {
			out = append(out, store.TimeRange{Start: cur, End: c.Start})
		}
		cur = max(cur, c.End)
	}
	if cur < hi {
		out = append(out, store.TimeRange{Start: cur, End: hi})
	}
	return out
}

// minutesCond is the SQL condition selecting the plan's minutes.
func (p rollPlan) minutesCond() string {
	parts := make([]string, len(p.minutes))
	for i, m := range p.minutes {
		parts[i] = fmt.Sprintf("minute >= %d AND minute < %d", m.Start, m.End)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// groupAcc accumulates one group of rows from rollups and raw pieces.
type groupAcc struct {
	n, errors, cold int64
	messaging       bool
	dur, lag        hist
}

// groups accumulates groups by key K, in first-seen order.
type groups[K comparable] struct {
	m    map[K]*groupAcc
	keys []K
}

func (g *groups[K]) get(k K) *groupAcc {
	if g.m == nil {
		g.m = map[K]*groupAcc{}
	}
	a := g.m[k]
	if a == nil {
		a = &groupAcc{}
		g.m[k] = a
		g.keys = append(g.keys, k)
	}
	return a
}

// sorted returns the keys by count, descending, then by keys as SQL
// orders them (NULL, here "", last).
func sortedKeys[K comparable](g *groups[K], strs func(K) []string) []K {
	keys := slices.Clone(g.keys)
	slices.SortFunc(keys, func(a, b K) int {
		if c := cmp.Compare(g.m[b].n, g.m[a].n); c != 0 {
			return c
		}
		return compareNullsLast(strs(a), strs(b))
	})
	return keys
}

func compareNullsLast(a, b []string) int {
	for i := range a {
		switch {
		case a[i] == b[i]:
			continue
		case a[i] == "":
			return 1
		case b[i] == "":
			return -1
		}
		return strings.Compare(a[i], b[i])
	}
	return 0
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
func scanGroups(ctx context.Context, qr queryer, query string, args []any, nk int, extra []any, cold bool,
	add func(keys []string, h histRow)) error {
	rs, err := qr.QueryContext(ctx, query, args...)
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

// sumAggs is the tail of a rollup read: the histogram columns summed.
func sumAggs(cold bool) string {
	s := "bucket, CAST(sum(count) AS BIGINT), CAST(sum(errors) AS BIGINT)"
	if cold {
		s += ", CAST(sum(cold_starts) AS BIGINT)"
	}
	return s + ", min(min_ns), max(max_ns)"
}

func envCond(env string, args *[]any) string {
	if env == "" {
		return ""
	}
	*args = append(*args, env)
	return " AND environment = ?"
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
	var g groups[[2]string]
	add := func(k []string, h histRow) {
		a := g.get([2]string{k[0], k[1]})
		a.n += h.n
		a.errors += h.errors
		a.cold += h.cold
		a.dur.add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read map nodes", q.TimeRange, 0, func(tx *sql.Tx, p rollPlan) error {
		var args []any
		query := fmt.Sprintf(`SELECT service, "function", %s FROM rollup_nodes WHERE %s%s GROUP BY service, "function", bucket`,
			sumAggs(true), p.minutesCond(), envCond(q.Environment, &args))
		if err := scanGroups(ctx, tx, query, args, 2, nil, true, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			query, args := buildMapNodes(duckDialect(), pq, 0, modeHist)
			if err := scanGroups(ctx, tx, query, args, 2, nil, true, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.NodeRow{}
	for _, k := range sortedKeys(&g, func(k [2]string) []string { return k[:] }) {
		a := g.m[k]
		out = append(out, store.NodeRow{Endpoint: store.Endpoint{Service: k[0], Function: k[1]},
			Count: a.n, Errors: a.errors, ColdStarts: a.cold, Latency: a.dur.latency()})
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
	var g groups[[6]string]
	var messaging bool
	add := func(k []string, h histRow) {
		a := g.get([6]string(k))
		a.n += h.n
		a.errors += h.errors
		a.messaging = a.messaging || messaging
		a.dur.add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read map calls", q.TimeRange, 0, func(tx *sql.Tx, p rollPlan) error {
		var args []any
		keys := "caller_service, caller_function, callee_service, callee_function, peer_kind, peer"
		query := fmt.Sprintf(`SELECT %s, bool_or(messaging), %s FROM rollup_calls WHERE %s%s GROUP BY %s, bucket`,
			keys, sumAggs(false), p.minutesCond(), envCond(q.Environment, &args), keys)
		if err := scanGroups(ctx, tx, query, args, 6, []any{&messaging}, false, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			pq := q
			pq.TimeRange = r
			query, args := buildMapCalls(duckDialect(), pq, 0, modeHist)
			if err := scanGroups(ctx, tx, query, args, 6, []any{&messaging}, false, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.CallRow{}
	for _, k := range sortedKeys(&g, func(k [6]string) []string { return k[:] }) {
		a := g.m[k]
		out = append(out, store.CallRow{
			Caller: store.Endpoint{Service: k[0], Function: k[1]}, Callee: store.Endpoint{Service: k[2], Function: k[3]},
			PeerKind: k[4], Peer: k[5], Messaging: a.messaging, Count: a.n, Errors: a.errors, Latency: a.dur.latency()})
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
	var g groups[[8]string]
	var metric int64
	add := func(k []string, h histRow) {
		a := g.get([8]string(k))
		if metric == 0 {
			a.n += h.n
			a.errors += h.errors
			a.dur.add(h.b, h.n, h.lo, h.hi)
		} else {
			a.lag.add(h.b, h.n, h.lo, h.hi)
		}
	}
	ok, err := e.rolled(ctx, "read map hops", q.TimeRange, 0, func(tx *sql.Tx, p rollPlan) error {
		var args []any
		keys := "producer_service, producer_function, consumer_service, consumer_function, channel, producer_destination, consumer_destination, consumer_system"
		query := fmt.Sprintf(`SELECT %s, metric, %s FROM rollup_hops WHERE %s%s GROUP BY %s, metric, bucket`,
			keys, sumAggs(false), p.minutesCond(), envCond(q.Environment, &args), keys)
		if err := scanGroups(ctx, tx, query, args, 8, []any{&metric}, false, add); err != nil {
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
			query, args := buildMapHops(duckDialect(), pq, plo, phi, 0, modeHist)
			if err := scanGroups(ctx, tx, query, args, 8, []any{&metric}, false, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	out := []store.HopRow{}
	for _, k := range sortedKeys(&g, func(k [8]string) []string { return k[:] }) {
		a := g.m[k]
		if a.n == 0 {
			continue // lag rows alone cannot occur; be safe
		}
		out = append(out, store.HopRow{
			Producer: store.Endpoint{Service: k[0], Function: k[1]}, Consumer: store.Endpoint{Service: k[2], Function: k[3]},
			Channel: k[4], ProducerDestination: k[5], ConsumerDestination: k[6], ConsumerSystem: k[7],
			Count: a.n, Errors: a.errors, Latency: a.dur.latency(), Lag: a.lag.latency(), LagCount: a.lag.n})
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
	var g groups[key]
	var tb int64
	add := func(k []string, h histRow) {
		a := g.get(key{k[0], tb})
		a.n += h.n
		a.errors += h.errors
		a.cold += h.cold
		a.dur.add(h.b, h.n, h.lo, h.hi)
	}
	ok, err := e.rolled(ctx, "read RED series", q.TimeRange, q.Step, func(tx *sql.Tx, p rollPlan) error {
		var args []any
		var cond strings.Builder
		if q.Service != "" {
			cond.WriteString(" AND service = ?")
			args = append(args, q.Service)
		}
		if q.Function != "" {
			cond.WriteString(` AND "function" = ?`)
			args = append(args, q.Function)
		}
		cond.WriteString(envCond(q.Environment, &args))
		group := "''"
		switch q.GroupBy {
		case "service":
			group = "coalesce(service, '')"
		case "function":
			group = `coalesce("function", '')`
		}
		d := duckDialect()
		query := fmt.Sprintf(`SELECT %s AS g, %d + %s * %d AS tb, %s FROM rollup_nodes WHERE %s%s GROUP BY g, tb, bucket`,
			group, q.Start, d.intDiv(fmt.Sprintf("minute - %d", q.Start), fmt.Sprint(q.Step)), q.Step,
			sumAggs(true), p.minutesCond(), cond.String())
		if err := scanGroups(ctx, tx, query, args, 1, []any{&tb}, true, add); err != nil {
			return err
		}
		for _, r := range p.raw {
			query, args := buildRED(d, q, r, 0, modeHist)
			if err := scanGroups(ctx, tx, query, args, 1, []any{&tb}, true, add); err != nil {
				return err
			}
		}
		return nil
	})
	if !ok || err != nil {
		return nil, false, ok, err
	}
	keys := slices.Clone(g.keys)
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.g, b.g); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	out := []store.REDRow{}
	for _, k := range keys {
		a := g.m[k]
		out = append(out, store.REDRow{Group: k.g, Bucket: k.t, Count: a.n, Errors: a.errors, ColdStarts: a.cold, Latency: a.dur.latency()})
	}
	if len(out) > limit {
		return out[:limit], true, true, nil
	}
	return out, false, true, nil
}
