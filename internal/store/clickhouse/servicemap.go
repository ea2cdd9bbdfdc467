package clickhouse

import (
	"context"
	"fmt"
	"math"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/rollup"
	"github.com/ariadnehq/ariadne/internal/store/shared"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

var _ store.ServiceMapReader = (*Engine)(nil)

// Service map, RED and cost queries (store.ServiceMapReader): the
// statements are package stmt's (stmt/servicemap.go), the embedded
// engine's in ClickHouse's dialect; this file runs them and scans their
// rows. Sealed minutes are read from the rollups (servicemap_rollup.go).

// dialect is the engine's rendering of package stmt's statements.
func (e *Engine) dialect() stmt.Dialect { return stmt.ClickHouse(e.t) }

// withNulls makes outer joins fill missing sides with NULL, as SQL does.
func withNulls(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"join_use_nulls": 1}))
}

// MapCalls implements store.ServiceMapReader.
func (e *Engine) MapCalls(ctx context.Context, q store.MapQuery) ([]store.CallRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map calls: %w", err)
	}
	if err := e.readable("read map calls"); err != nil {
		return nil, false, err
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.Calls(ctx, rollups{e}, e.dialect(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	out := []store.CallRow{}
	err := e.each(withNulls(ctx), stmt.MapCalls(e.dialect(), q, limit, stmt.MapExact), func(scan func(...any) error) error {
		var (
			r         store.CallRow
			messaging bool
			n, errs   uint64
			lat       []float64
		)
		if err := scan(&r.Caller.Service, &r.Caller.Function, &r.Callee.Service, &r.Callee.Function, &r.PeerKind, &r.Peer,
			&messaging, &n, &errs, &lat); err != nil {
			return err
		}
		r.Messaging, r.Count, r.Errors, r.Latency = messaging, int64(n), int64(errs), latency(lat)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read map calls", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// latency reads a quantiles array (NaN for an empty group).
func latency(v []float64) store.Latency {
	var out [3]int64
	for i := 0; i < len(v) && i < 3; i++ {
		if !math.IsNaN(v[i]) {
			out[i] = int64(v[i] + 0.5)
		}
	}
	return store.Latency{P50: out[0], P95: out[1], P99: out[2]}
}

// hopExtent is the first step of MapHops (stmt.MapHopExtent); ok is
// false when no consumer of r has a producer.
func (e *Engine) hopExtent(ctx context.Context, q store.MapQuery) (plo, phi int64, ok bool, err error) {
	var n uint64
	err = e.conn.QueryRow(ctx, stmt.MapHopExtent(e.dialect(), q.TimeRange, q.TraceIDs)).Scan(&plo, &phi, &n)
	return plo, phi, n > 0, err
}

// MapHops implements store.ServiceMapReader in two steps: the time extent
// of the producer refs that join consumers of the range (message_refs is
// sorted by key), then the hops with the producer spans' scan cut to it.
func (e *Engine) MapHops(ctx context.Context, q store.MapQuery) ([]store.HopRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map hops: %w", err)
	}
	if err := e.readable("read map hops"); err != nil {
		return nil, false, err
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.Hops(ctx, rollups{e}, e.dialect(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	plo, phi, found, err := e.hopExtent(ctx, q)
	if err != nil {
		return nil, false, e.fail("read map hops", err)
	}
	out := []store.HopRow{}
	if !found {
		return out, false, nil
	}
	err = e.each(withNulls(ctx), stmt.MapHops(e.dialect(), q, plo, phi, limit, stmt.MapExact), func(scan func(...any) error) error {
		var (
			r                     store.HopRow
			count, errs, lagCount uint64
			lat, lag              []float64
		)
		if err := scan(&r.Producer.Service, &r.Producer.Function, &r.Consumer.Service, &r.Consumer.Function, &r.Channel,
			&r.ProducerDestination, &r.ConsumerDestination, &r.ConsumerSystem, &count, &errs, &lat, &lag, &lagCount); err != nil {
			return err
		}
		r.Count, r.Errors, r.LagCount = int64(count), int64(errs), int64(lagCount)
		r.Latency, r.Lag = latency(lat), latency(lag)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read map hops", err)
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
	if err := e.readable("read map nodes"); err != nil {
		return nil, false, err
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.Nodes(ctx, rollups{e}, e.dialect(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	out := []store.NodeRow{}
	err := e.each(ctx, stmt.MapNodes(e.dialect(), q, limit, stmt.MapExact), func(scan func(...any) error) error {
		var (
			r              store.NodeRow
			n, errs, colds uint64
			lat            []float64
		)
		if err := scan(&r.Service, &r.Function, &n, &errs, &colds, &lat); err != nil {
			return err
		}
		r.Count, r.Errors, r.ColdStarts, r.Latency = int64(n), int64(errs), int64(colds), latency(lat)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read map nodes", err)
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
	if err := e.readable("read RED series"); err != nil {
		return nil, false, err
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	if rows, truncated, ok, err := rollup.RED(ctx, rollups{e}, e.dialect(), q, limit); ok || err != nil {
		return rows, truncated, err
	}
	out := []store.REDRow{}
	err := e.each(ctx, stmt.RED(e.dialect(), q, q.TimeRange, limit, stmt.MapExact), func(scan func(...any) error) error {
		var (
			r              store.REDRow
			n, errs, colds uint64
			lat            []float64
		)
		if err := scan(&r.Group, &r.Bucket, &n, &errs, &colds, &lat); err != nil {
			return err
		}
		r.Count, r.Errors, r.ColdStarts, r.Latency = int64(n), int64(errs), int64(colds), latency(lat)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read RED series", err)
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
	if err := e.readable("read cost"); err != nil {
		return nil, false, err
	}
	limit := shared.Clamp(q.Limit, store.MaxMapRows)
	out := []store.CostRow{}
	err := e.each(ctx, stmt.Cost(e.dialect(), q, limit), func(scan func(...any) error) error {
		var (
			r          store.CostRow
			n, nBilled uint64
			gbs        float64
			billedNs   float64
		)
		if err := scan(&r.Function, &n, &nBilled, &gbs, &billedNs); err != nil {
			return err
		}
		r.Invocations, r.Billed, r.GBSeconds, r.BilledNs = int64(n), int64(nBilled), gbs, int64(billedNs)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read cost", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
