package clickhouse

import (
	"errors"
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

// BenchmarkMapSealed is the map and a RED series of the benchmark hour
// (whose spans make nodes and client spans but no calls: the calls query
// does all its work and finds nothing)
// read raw (a second node on the same database with the rollups off) and
// from the rollups once every minute of the hour is sealed and rolled up
// (RollupNow on the store's node; "roll-s" is how long rolling the hour
// took):
//
//	ARIADNE_BENCH_SPANS=300000 go test -run '^$' -bench MapSealed -benchtime 3x ./internal/store/clickhouse
func BenchmarkMapSealed(b *testing.B) {
	e, g := benchStore(b)
	hour := store.TimeRange{Start: g.base, End: g.base + benchHour}
	raw, err := Open(b.Context(), Settings{DSN: server(b).DSN("default"), Database: e.Database(),
		Rollups: RollupSettings{Interval: -1, MinSpans: -1}})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	t0 := time.Now()
	if err := e.RollupNow(b.Context()); err != nil {
		b.Fatal(err)
	}
	roll := time.Since(t0)
	if _, ok, err := e.rollupPlan(b.Context(), hour, 0); err != nil || !ok {
		b.Fatalf("the sealed hour is not read from the rollups (%v)", err)
	}
	for _, node := range []struct {
		name string
		e    *Engine
	}{{"raw", raw}, {"sealed", e}} {
		b.Run(node.name+"/map-calls", func(b *testing.B) {
			latencies(b, 3, func(int) error {
				_, _, err := node.e.MapCalls(b.Context(), store.MapQuery{TimeRange: hour})
				return err
			})
			b.ReportMetric(roll.Seconds(), "roll-s")
		})
		b.Run(node.name+"/map-nodes", func(b *testing.B) {
			latencies(b, 3, func(int) error {
				_, _, err := node.e.MapNodes(b.Context(), store.MapQuery{TimeRange: hour})
				return err
			})
		})
		b.Run(node.name+"/map-hops", func(b *testing.B) {
			latencies(b, 3, func(int) error {
				_, _, err := node.e.MapHops(b.Context(), store.MapQuery{TimeRange: hour})
				return err
			})
		})
		b.Run(node.name+"/red-service-by-minute", func(b *testing.B) {
			latencies(b, 3, func(int) error {
				rows, _, err := node.e.RED(b.Context(), store.REDQuery{TimeRange: hour, Service: "svc-3", Step: int64(time.Minute)})
				if err == nil && len(rows) == 0 {
					return errors.New("no RED rows")
				}
				return err
			})
		})
	}
}
