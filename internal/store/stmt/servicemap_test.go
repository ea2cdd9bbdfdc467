package stmt

import (
	"math"
	"math/rand/v2"
	"slices"
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

// TestMapSplit: the rolled minutes are the sealed, valid whole minutes of
// the range, and the raw pieces cover the rest of it exactly.
func TestMapSplit(t *testing.T) {
	const m = MinuteNs
	base := 1000 * m
	for _, tc := range []struct {
		name         string
		r            store.TimeRange
		step, sealed int64
		invalid      []store.TimeRange
		minutes, raw []store.TimeRange
		ok           bool
	}{
		{name: "aligned", r: store.TimeRange{Start: base, End: base + 5*m}, sealed: base + 60*m,
			minutes: []store.TimeRange{{Start: base, End: base + 5*m}}, ok: true},
		{name: "partial ends", r: store.TimeRange{Start: base + 10, End: base + 3*m + 10}, sealed: base + 60*m,
			minutes: []store.TimeRange{{Start: base + m, End: base + 3*m}},
			raw:     []store.TimeRange{{Start: base + 10, End: base + m}, {Start: base + 3*m, End: base + 3*m + 10}}, ok: true},
		{name: "open tail past sealed", r: store.TimeRange{Start: base}, sealed: base + 2*m,
			minutes: []store.TimeRange{{Start: base, End: base + 2*m}},
			raw:     []store.TimeRange{{Start: base + 2*m}}, ok: true},
		{name: "stale minute", r: store.TimeRange{Start: base, End: base + 4*m}, sealed: base + 60*m,
			invalid: []store.TimeRange{{Start: base + m, End: base + 2*m}},
			minutes: []store.TimeRange{{Start: base, End: base + m}, {Start: base + 2*m, End: base + 4*m}},
			raw:     []store.TimeRange{{Start: base + m, End: base + 2*m}}, ok: true},
		{name: "step straddles a minute", r: store.TimeRange{Start: base, End: base + 4*m}, step: 90e9, sealed: base + 60*m,
			minutes: []store.TimeRange{{Start: base, End: base + m}, {Start: base + 2*m, End: base + 4*m}},
			raw:     []store.TimeRange{{Start: base + m, End: base + 2*m}}, ok: true},
		{name: "nothing sealed", r: store.TimeRange{Start: base, End: base + 4*m}, sealed: base},
		{name: "under a minute", r: store.TimeRange{Start: base + 1, End: base + m}, sealed: base + 60*m},
	} {
		t.Run(tc.name, func(t *testing.T) {
			minutes, raw, ok := MapSplit(tc.r, tc.step, tc.sealed, tc.invalid)
			if ok != tc.ok || !slices.Equal(minutes, tc.minutes) || !slices.Equal(raw, tc.raw) {
				t.Errorf("MapSplit = %v, %v, %v; want %v, %v, %v", minutes, raw, ok, tc.minutes, tc.raw, tc.ok)
			}
		})
	}
}

// closeLatency: every percentile within MapHistRelError (+1 ns rounding).
func closeLatency(got, want store.Latency) bool {
	ok := func(g, w int64) bool {
		return math.Abs(float64(g-w)) <= MapHistRelError*math.Abs(float64(w))+1
	}
	return ok(got.P50, want.P50) && ok(got.P95, want.P95) && ok(got.P99, want.P99)
}

// TestHistLatency checks the percentile estimate against quantile_cont's
// definition on random data: within MapHistRelError, exact for small sets.
func TestHistLatency(t *testing.T) {
	if MapHistRelError > store.MaxPercentileError {
		t.Fatalf("MapHistRelError %v exceeds the contract's %v", MapHistRelError, store.MaxPercentileError)
	}
	exact := func(xs []int64, p float64) int64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		pos := float64(len(s)-1) * p
		i := math.Floor(pos)
		v := float64(s[int(i)])
		if f := pos - i; f > 0 {
			v += f * float64(s[int(i)+1]-s[int(i)])
		}
		return int64(v + 0.5)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := range 300 {
		n := 1 + rng.IntN(2000)
		if trial < 50 {
			n = 1 + trial%4
		}
		xs := make([]int64, n)
		for i := range xs {
			xs[i] = int64(math.Exp(rng.Float64() * 25))
			if trial%7 == 0 {
				xs[i] -= 1e6 // negative lags
			}
		}
		// Split into "minutes" and merge, as the rollups do.
		var h MapHist
		for lo := 0; lo < n; lo += 37 {
			part := map[int16][]int64{}
			for _, x := range xs[lo:min(n, lo+37)] {
				part[MapHistBucket(x)] = append(part[MapHistBucket(x)], x)
			}
			for b, v := range part {
				h.Add(b, int64(len(v)), slices.Min(v), slices.Max(v))
			}
		}
		got := h.Latency()
		want := store.Latency{P50: exact(xs, 0.5), P95: exact(xs, 0.95), P99: exact(xs, 0.99)}
		if n <= 2 && got != want {
			t.Errorf("%v: %+v, want %+v exactly", xs, got, want)
		}
		if !closeLatency(got, want) {
			t.Errorf("n=%d: %+v, want %+v", n, got, want)
		}
	}
}
