package rollup

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
)

// closeLatency: every percentile within HistRelError (+1 ns rounding).
func closeLatency(got, want store.Latency) bool {
	ok := func(g, w int64) bool {
		return math.Abs(float64(g-w)) <= HistRelError*math.Abs(float64(w))+1
	}
	return ok(got.P50, want.P50) && ok(got.P95, want.P95) && ok(got.P99, want.P99)
}

// TestHistLatency checks the percentile estimate against quantile_cont's
// definition on random data: within HistRelError, exact for small sets.
func TestHistLatency(t *testing.T) {
	if HistRelError > store.MaxPercentileError {
		t.Fatalf("HistRelError %v exceeds the contract's %v", HistRelError, store.MaxPercentileError)
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
		var h Hist
		for lo := 0; lo < n; lo += 37 {
			part := map[int16][]int64{}
			for _, x := range xs[lo:min(n, lo+37)] {
				part[Bucket(x)] = append(part[Bucket(x)], x)
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
