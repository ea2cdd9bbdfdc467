package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// TestServiceMapGolden pins the service map, RED and cost statements in
// both dialects. The engines' tests check what they return.
func TestServiceMapGolden(t *testing.T) {
	tid, _ := model.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	r := store.TimeRange{Start: 1_000_000_000_000, End: 1_003_600_000_000}
	minutes := []store.TimeRange{{Start: 1_000_020_000_000, End: 1_000_200_000_000}, {Start: 1_000_260_000_000, End: 1_000_320_000_000}}
	for _, tc := range []struct {
		name  string
		build func(Dialect) string
	}{
		{"calls", func(d Dialect) string { return MapCalls(d, store.MapQuery{TimeRange: r}, 100, MapExact) }},
		{"calls-environment-traces", func(d Dialect) string {
			return MapCalls(d, store.MapQuery{Environment: "pr'od", TraceIDs: []model.TraceID{tid}}, 100, MapExact)
		}},
		{"calls-hist", func(d Dialect) string { return MapCalls(d, store.MapQuery{TimeRange: r}, 0, MapHistogram) }},
		{"calls-rollup", func(d Dialect) string { return MapCalls(d, store.MapQuery{TimeRange: r}, 0, MapRollup) }},
		{"hop-extent", func(d Dialect) string { return MapHopExtent(d, r, []model.TraceID{tid}) }},
		{"hops", func(d Dialect) string {
			return MapHops(d, store.MapQuery{TimeRange: r}, r.Start-60e9, r.End, 100, MapExact)
		}},
		{"hops-hist", func(d Dialect) string {
			return MapHops(d, store.MapQuery{TimeRange: r, Environment: "prod"}, r.Start-60e9, r.End, 0, MapHistogram)
		}},
		{"hops-rollup", func(d Dialect) string {
			return MapHops(d, store.MapQuery{TimeRange: r}, r.Start-60e9, r.End, 0, MapRollup)
		}},
		{"nodes-environment", func(d Dialect) string {
			return MapNodes(d, store.MapQuery{TimeRange: r, Environment: "prod"}, 100, MapExact)
		}},
		{"nodes-hist", func(d Dialect) string { return MapNodes(d, store.MapQuery{TimeRange: r}, 0, MapHistogram) }},
		{"nodes-rollup", func(d Dialect) string { return MapNodes(d, store.MapQuery{TimeRange: r}, 0, MapRollup) }},
		{"red-function", func(d Dialect) string {
			return RED(d, store.REDQuery{TimeRange: r, Function: "checkout", Step: 60e9}, r, 100, MapExact)
		}},
		{"red-operation-by-service", func(d Dialect) string {
			return RED(d, store.REDQuery{TimeRange: r, Operation: "GET /", GroupBy: "service", Step: 60e9}, r, 100, MapExact)
		}},
		{"red-hist", func(d Dialect) string {
			return RED(d, store.REDQuery{TimeRange: r, Service: "web", Step: 60e9}, store.TimeRange{Start: r.Start, End: r.Start + 60e9}, 0, MapHistogram)
		}},
		{"cost-traces", func(d Dialect) string {
			return Cost(d, store.CostQuery{TimeRange: r, Function: "checkout", TraceIDs: []model.TraceID{tid}}, 100)
		}},
		{"rollup-nodes", func(d Dialect) string { return RollupNodes(d, "prod", minutes) }},
		{"rollup-calls", func(d Dialect) string { return RollupCalls(d, "", minutes) }},
		{"rollup-hops", func(d Dialect) string { return RollupHops(d, "prod", minutes) }},
		{"rollup-red", func(d Dialect) string {
			return RollupRED(d, store.REDQuery{TimeRange: r, Service: "web", GroupBy: "function", Step: 300e9}, minutes)
		}},
		{"rollup-spans", func(d Dialect) string { return RollupSpans(d, minutes[0]) }},
		{"rollup-insert-nodes", func(d Dialect) string {
			return RollupInsert(d, "rollup_nodes", MapNodes(d, store.MapQuery{TimeRange: minutes[0]}, 0, MapRollup), 1_000_500_000_000)
		}},
		{"rollup-minutes-insert", func(d Dialect) string {
			return RollupMinutesInsert(d, minutes[0], 1_000_500_000_000, 1_000_600_000_000)
		}},
		{"rollup-late-consumers", func(d Dialect) string {
			return RollupLateConsumers(d, []int64{minutes[0].Start, minutes[1].Start}, minutes[0].Start, r.End)
		}},
		{"rollup-data-minutes", func(d Dialect) string { return RollupDataMinutes(d, r.Start, r.End) }},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, "servicemap-"+tc.name, tc.build) })
	}
}
