package rollup

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// The readers: a map query over a range takes the rollups for the whole
// minutes that are sealed and not stale, and the raw tables, with the
// same statement in histogram mode, for the rest (the partial minutes at
// either end, the open tail, stale minutes), and merges the two. Counts,
// errors and cold starts add up exactly; percentiles come from the merged
// histograms. A query of trace ids, or of a RED operation, reads raw
// data only, with exact percentiles.

// Extra is the column a histogram row holds between its keys and its
// histogram tail.
type Extra int

// The extra columns, by the type a driver scans them as.
const (
	NoExtra Extra = iota
	Flag          // a boolean: the calls' messaging flag
	Metric        // a small integer (UInt8 on ClickHouse): the hops' 0 duration, 1 lag
	Int           // a 64-bit integer: RED's time bucket
)

// Shape is the layout of a histogram row: Keys string keys (NULL reads
// as ""), the Extra column, then bucket, count, errors, cold starts when
// Cold, smallest and largest.
type Shape struct {
	Keys  int
	Extra Extra
	Cold  bool
}

// Row is one histogram row. Keys and the row are reused from one call of
// the callback to the next.
type Row struct {
	Keys            []string
	Extra           int64 // Flag: 1 for true
	Bucket          int16
	N, Errors, Cold int64
	Lo, Hi          int64
}

// Source runs the statements of one answer. An engine implements it on
// one view of the data: DuckDB on one transaction, so that every piece
// of the answer sees one snapshot; ClickHouse on its connection.
type Source interface {
	// Groups runs query, whose rows have shape s, and calls row for each.
	Groups(ctx context.Context, query string, s Shape, row func(*Row)) error
	// HopExtent is the first step of a hops read (stmt.MapHopExtent) over
	// r; ok is false when no consumer of r has a producer.
	HopExtent(ctx context.Context, r store.TimeRange) (lo, hi int64, ok bool, err error)
}

// Planner plans a read of a range and runs it on the engine's Source.
type Planner interface {
	// Rolled plans r (step > 0: RED, whose rolled minutes must each fall
	// in one step) and, when the plan uses the rollups, calls read with a
	// Source and the plan; ok is false when it does not, and the caller
	// reads raw. Errors are the engine's, classified and wrapped with op.
	Rolled(ctx context.Context, op string, r store.TimeRange, step int64, read func(Source, Plan) error) (ok bool, err error)
}

// Nodes answers a map nodes query from the rollups; ok is false when the
// caller must read raw. limit bounds the rows, truncated says it cut.
func Nodes(ctx context.Context, pl Planner, d stmt.Dialect, q store.MapQuery, limit int) (rows []store.NodeRow, truncated, ok bool, err error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	var g Groups[[2]string]
	add := func(r *Row) {
		a := g.Get([2]string{r.Keys[0], r.Keys[1]})
		a.N += r.N
		a.Errors += r.Errors
		a.Cold += r.Cold
		a.Dur.Add(r.Bucket, r.N, r.Lo, r.Hi)
	}
	shape := Shape{Keys: 2, Cold: true}
	ok, err = pl.Rolled(ctx, "read map nodes", q.TimeRange, 0, func(src Source, p Plan) error {
		if err := src.Groups(ctx, stmt.RollupNodes(d, q.Environment, p.Minutes), shape, add); err != nil {
			return err
		}
		for _, r := range p.Raw {
			pq := q
			pq.TimeRange = r
			if err := src.Groups(ctx, stmt.MapNodes(d, pq, 0, stmt.MapHistogram), shape, add); err != nil {
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
	out, truncated = cut(out, limit)
	return out, truncated, true, nil
}

// Calls answers a map calls query from the rollups, as Nodes.
func Calls(ctx context.Context, pl Planner, d stmt.Dialect, q store.MapQuery, limit int) (rows []store.CallRow, truncated, ok bool, err error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	var g Groups[[6]string]
	add := func(r *Row) {
		a := g.Get([6]string(r.Keys))
		a.N += r.N
		a.Errors += r.Errors
		a.Messaging = a.Messaging || r.Extra != 0
		a.Dur.Add(r.Bucket, r.N, r.Lo, r.Hi)
	}
	shape := Shape{Keys: 6, Extra: Flag}
	ok, err = pl.Rolled(ctx, "read map calls", q.TimeRange, 0, func(src Source, p Plan) error {
		if err := src.Groups(ctx, stmt.RollupCalls(d, q.Environment, p.Minutes), shape, add); err != nil {
			return err
		}
		for _, r := range p.Raw {
			pq := q
			pq.TimeRange = r
			if err := src.Groups(ctx, stmt.MapCalls(d, pq, 0, stmt.MapHistogram), shape, add); err != nil {
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
	out, truncated = cut(out, limit)
	return out, truncated, true, nil
}

// Hops answers a map hops query from the rollups, as Nodes.
func Hops(ctx context.Context, pl Planner, d stmt.Dialect, q store.MapQuery, limit int) (rows []store.HopRow, truncated, ok bool, err error) {
	if len(q.TraceIDs) > 0 {
		return nil, false, false, nil
	}
	var g Groups[[8]string]
	add := func(r *Row) {
		a := g.Get([8]string(r.Keys))
		if r.Extra == 0 {
			a.N += r.N
			a.Errors += r.Errors
			a.Dur.Add(r.Bucket, r.N, r.Lo, r.Hi)
		} else {
			a.Lag.Add(r.Bucket, r.N, r.Lo, r.Hi)
		}
	}
	shape := Shape{Keys: 8, Extra: Metric}
	ok, err = pl.Rolled(ctx, "read map hops", q.TimeRange, 0, func(src Source, p Plan) error {
		if err := src.Groups(ctx, stmt.RollupHops(d, q.Environment, p.Minutes), shape, add); err != nil {
			return err
		}
		for _, r := range p.Raw {
			plo, phi, found, err := src.HopExtent(ctx, r)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			pq := q
			pq.TimeRange = r
			if err := src.Groups(ctx, stmt.MapHops(d, pq, plo, phi, 0, stmt.MapHistogram), shape, add); err != nil {
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
	out, truncated = cut(out, limit)
	return out, truncated, true, nil
}

// RED answers RED series of entry spans from the node rollups, as
// Nodes; series of an operation, or grouped by operation, are read raw.
func RED(ctx context.Context, pl Planner, d stmt.Dialect, q store.REDQuery, limit int) (rows []store.REDRow, truncated, ok bool, err error) {
	if q.Operation != "" || q.GroupBy == "operation" {
		return nil, false, false, nil
	}
	type key struct {
		g string
		t int64
	}
	var g Groups[key]
	add := func(r *Row) {
		a := g.Get(key{r.Keys[0], r.Extra})
		a.N += r.N
		a.Errors += r.Errors
		a.Cold += r.Cold
		a.Dur.Add(r.Bucket, r.N, r.Lo, r.Hi)
	}
	shape := Shape{Keys: 1, Extra: Int, Cold: true}
	ok, err = pl.Rolled(ctx, "read RED series", q.TimeRange, q.Step, func(src Source, p Plan) error {
		if err := src.Groups(ctx, stmt.RollupRED(d, q, p.Minutes), shape, add); err != nil {
			return err
		}
		for _, r := range p.Raw {
			if err := src.Groups(ctx, stmt.RED(d, q, r, 0, stmt.MapHistogram), shape, add); err != nil {
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
	out, truncated = cut(out, limit)
	return out, truncated, true, nil
}

func cut[R any](rows []R, limit int) ([]R, bool) {
	if len(rows) > limit {
		return rows[:limit], true
	}
	return rows, false
}
