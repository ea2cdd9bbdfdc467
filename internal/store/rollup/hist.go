package rollup

import (
	"math"
	"slices"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Duration histograms: how the map's percentiles survive being summed
// over minutes. They are the reading side of stmt's MapBucket, and share
// its resolution (stmt.MapHistPerOctave), so the two are one definition;
// both engines merge their rollup and raw pieces with them.
//
// A duration d falls in bucket 1 + ⌊8·log2 d⌋ (d > 0), 0 (d = 0) or the
// mirror −1 − ⌊8·log2 −d⌋ (d < 0, a negative queue lag under clock
// skew): fixed log-scale buckets of width 2^(1/8), about 9 %, the same
// for every row, so histograms of any minutes, environments and engines
// merge by adding counts. Each bucket also keeps the smallest and largest
// value it holds.
//
// A percentile is read the way quantile_cont computes it from the sorted
// values — the order statistics around (n−1)·p, interpolated — with each
// order statistic estimated from its bucket: the bucket's minimum for
// its first value, its maximum for its last, and otherwise the bucket's
// harmonic midpoint clamped to [min, max]. Every estimate is within
// (γ−1)/(γ+1) = 4.3 % (γ = 2^(1/8)) of the true order statistic, and so
// is the interpolation of two of them; it is exact when a bucket holds at
// most two distinct values (the usual case for small groups) and for the
// largest and smallest values.

// HistRelError bounds the relative error of a percentile read from a
// histogram against the exact one over the same values.
const HistRelError = 0.0433

// histBin is one bucket of a histogram.
type histBin struct {
	b      int16
	n      int64
	lo, hi int64
}

// Hist is a mergeable duration histogram.
type Hist struct {
	bins map[int16]*histBin
	n    int64
}

// Add adds n values of bucket b whose smallest is lo and largest hi.
func (h *Hist) Add(b int16, n, lo, hi int64) {
	if n <= 0 {
		return
	}
	if h.bins == nil {
		h.bins = make(map[int16]*histBin, 16)
	}
	x := h.bins[b]
	if x == nil {
		h.bins[b] = &histBin{b: b, n: n, lo: lo, hi: hi}
	} else {
		x.n += n
		x.lo = min(x.lo, lo)
		x.hi = max(x.hi, hi)
	}
	h.n += n
}

// N is the number of values added.
func (h *Hist) N() int64 { return h.n }

// Bucket is the bucket of d (the Go twin of stmt's Dialect.MapBucket).
func Bucket(d int64) int16 {
	switch {
	case d > 0:
		return int16(1 + math.Floor(stmt.MapHistPerOctave*math.Log2(float64(d))))
	case d < 0:
		return -int16(1 + math.Floor(stmt.MapHistPerOctave*math.Log2(-float64(d))))
	}
	return 0
}

// binMid is the value that best represents bucket b: the harmonic mean
// of its bounds, which minimises the largest relative error.
func binMid(b int16) float64 {
	switch {
	case b == 0:
		return 0
	case b < 0:
		return -binMid(-b)
	}
	lo := math.Exp2(float64(b-1) / stmt.MapHistPerOctave)
	hi := math.Exp2(float64(b) / stmt.MapHistPerOctave)
	return 2 * lo * hi / (lo + hi)
}

// Latency reads p50, p95 and p99; zero for an empty histogram.
func (h *Hist) Latency() store.Latency {
	if h.n == 0 {
		return store.Latency{}
	}
	bins := make([]*histBin, 0, len(h.bins))
	for _, b := range h.bins {
		bins = append(bins, b)
	}
	slices.SortFunc(bins, func(a, b *histBin) int { return int(a.b) - int(b.b) })
	// value estimates the k-th smallest value (0-based).
	value := func(k int64) float64 {
		var cum int64
		for _, b := range bins {
			if k < cum+b.n {
				j := k - cum
				switch {
				case j == 0:
					return float64(b.lo)
				case j == b.n-1:
					return float64(b.hi)
				}
				return min(max(binMid(b.b), float64(b.lo)), float64(b.hi))
			}
			cum += b.n
		}
		return float64(bins[len(bins)-1].hi)
	}
	q := func(p float64) int64 {
		pos := float64(h.n-1) * p
		i := math.Floor(pos)
		v := value(int64(i))
		if f := pos - i; f > 0 {
			v += f * (value(int64(i)+1) - v)
		}
		return int64(v + 0.5)
	}
	return store.Latency{P50: q(0.5), P95: q(0.95), P99: q(0.99)}
}
