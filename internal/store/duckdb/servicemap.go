package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

var _ store.ServiceMapReader = (*Engine)(nil)

// Service map, RED and cost queries (store.ServiceMapReader): the
// statements are package stmt's (stmt/servicemap.go), shared with the
// ClickHouse engine; this file runs them and scans their rows. Sealed
// minutes are read from the rollups (servicemap_rollup.go,
// servicemap_plan.go).

// MapCalls implements store.ServiceMapReader.
func (e *Engine) MapCalls(ctx context.Context, q store.MapQuery) ([]store.CallRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map calls: %w", err)
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.Calls(ctx, rollups{e}, stmt.DuckDB(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	query := stmt.MapCalls(stmt.DuckDB(), q, limit, stmt.MapExact)
	out := []store.CallRow{}
	err := e.scanRows(ctx, query, func(rs *sql.Rows) error {
		var (
			cs, cf, ss, sf, pk, p sql.NullString
			messaging             sql.NullBool
			r                     store.CallRow
			lat                   any
		)
		if err := rs.Scan(&cs, &cf, &ss, &sf, &pk, &p, &messaging, &r.Count, &r.Errors, &lat); err != nil {
			return err
		}
		r.Caller = store.Endpoint{Service: cs.String, Function: cf.String}
		r.Callee = store.Endpoint{Service: ss.String, Function: sf.String}
		r.PeerKind, r.Peer, r.Messaging = pk.String, p.String, messaging.Bool
		var err error
		if r.Latency, err = asLatency(lat); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, unavailable("read map calls", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// hopExtent is the first step of MapHops (stmt.MapHopExtent); ok is
// false when no consumer of r has a producer.
func (e *Engine) hopExtent(ctx context.Context, qr queryer, r store.TimeRange, traces []model.TraceID) (plo, phi int64, ok bool, err error) {
	var lo, hi sql.NullInt64
	var n int64
	err = qr.QueryRowContext(ctx, stmt.MapHopExtent(stmt.DuckDB(), r, traces)).Scan(&lo, &hi, &n)
	return lo.Int64, hi.Int64, n > 0, err
}

// queryer is what a query needs: the pool or one transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// MapHops implements store.ServiceMapReader in two steps: the time extent
// of the producer refs that join consumers of the range (hopExtent), then
// the hops with the producer spans' scan cut to that extent.
func (e *Engine) MapHops(ctx context.Context, q store.MapQuery) ([]store.HopRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map hops: %w", err)
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.Hops(ctx, rollups{e}, stmt.DuckDB(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	plo, phi, found, err := e.hopExtent(ctx, e.db, q.TimeRange, q.TraceIDs)
	if err != nil {
		return nil, false, unavailable("read map hops", err)
	}
	out := []store.HopRow{}
	if !found {
		return out, false, nil
	}
	query := stmt.MapHops(stmt.DuckDB(), q, plo, phi, limit, stmt.MapExact)
	err = e.scanRows(ctx, query, func(rs *sql.Rows) error {
		var (
			pS, pF, cS, cF, ch, pd, cd, csys sql.NullString
			r                                store.HopRow
			lat, lag                         any
		)
		if err := rs.Scan(&pS, &pF, &cS, &cF, &ch, &pd, &cd, &csys, &r.Count, &r.Errors, &lat, &lag, &r.LagCount); err != nil {
			return err
		}
		r.Producer = store.Endpoint{Service: pS.String, Function: pF.String}
		r.Consumer = store.Endpoint{Service: cS.String, Function: cF.String}
		r.Channel, r.ProducerDestination, r.ConsumerDestination, r.ConsumerSystem = ch.String, pd.String, cd.String, csys.String
		var err error
		if r.Latency, err = asLatency(lat); err != nil {
			return err
		}
		if r.Lag, err = asLatency(lag); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, unavailable("read map hops", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// MapNodes implements store.ServiceMapReader.
func (e *Engine) MapNodes(ctx context.Context, q store.MapQuery) ([]store.NodeRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map nodes: %w", err)
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.Nodes(ctx, rollups{e}, stmt.DuckDB(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	query := stmt.MapNodes(stmt.DuckDB(), q, limit, stmt.MapExact)
	out := []store.NodeRow{}
	err := e.scanRows(ctx, query, func(rs *sql.Rows) error {
		var (
			s, f sql.NullString
			r    store.NodeRow
			lat  any
		)
		if err := rs.Scan(&s, &f, &r.Count, &r.Errors, &r.ColdStarts, &lat); err != nil {
			return err
		}
		r.Endpoint = store.Endpoint{Service: s.String, Function: f.String}
		var err error
		r.Latency, err = asLatency(lat)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, false, unavailable("read map nodes", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// RED implements store.ServiceMapReader.
func (e *Engine) RED(ctx context.Context, q store.REDQuery) ([]store.REDRow, bool, error) {
	if err := shared.CheckREDQuery(q); err != nil {
		return nil, false, fmt.Errorf("read RED series: %w", err)
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.RED(ctx, rollups{e}, stmt.DuckDB(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	query := stmt.RED(stmt.DuckDB(), q, q.TimeRange, limit, stmt.MapExact)
	out := []store.REDRow{}
	err := e.scanRows(ctx, query, func(rs *sql.Rows) error {
		var (
			r   store.REDRow
			lat any
		)
		if err := rs.Scan(&r.Group, &r.Bucket, &r.Count, &r.Errors, &r.ColdStarts, &lat); err != nil {
			return err
		}
		var err error
		r.Latency, err = asLatency(lat)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, false, unavailable("read RED series", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// Cost implements store.ServiceMapReader.
func (e *Engine) Cost(ctx context.Context, q store.CostQuery) ([]store.CostRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read cost: %w", err)
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	query := stmt.Cost(stmt.DuckDB(), q, limit)
	out := []store.CostRow{}
	err := e.scanRows(ctx, query, func(rs *sql.Rows) error {
		var (
			r      store.CostRow
			billed sql.NullFloat64
		)
		if err := rs.Scan(&r.Function, &r.Invocations, &r.Billed, &r.GBSeconds, &billed); err != nil {
			return err
		}
		r.BilledNs = int64(billed.Float64)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, unavailable("read cost", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// scanRows runs query and calls row for every result row.
func (e *Engine) scanRows(ctx context.Context, query string, row func(*sql.Rows) error) error {
	rs, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := row(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// asLatency reads the three-element percentile list of the exact queries
// (NULL when no row was aggregated).
func asLatency(v any) (store.Latency, error) {
	switch x := v.(type) {
	case nil:
		return store.Latency{}, nil
	case []any:
		if len(x) != 3 {
			return store.Latency{}, fmt.Errorf("%d percentiles, want 3", len(x))
		}
		var out [3]int64
		for i, e := range x {
			switch f := e.(type) {
			case float64:
				out[i] = int64(f + 0.5)
			case nil:
			default:
				n, err := asInt64(e)
				if err != nil {
					return store.Latency{}, err
				}
				out[i] = n
			}
		}
		return store.Latency{P50: out[0], P95: out[1], P99: out[2]}, nil
	}
	return store.Latency{}, fmt.Errorf("unexpected %T for percentiles", v)
}
