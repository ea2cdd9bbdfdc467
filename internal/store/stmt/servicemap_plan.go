package stmt

import (
	"cmp"
	"math"
	"slices"

	"github.com/ariadnehq/ariadne/internal/store"
)

// MapMaxRawPieces bounds the raw pieces of a rollup plan: a range cut
// into more pieces (many stale minutes) is read raw as a whole.
const MapMaxRawPieces = 8

// MapSplit splits r into the whole minutes a map read takes from the
// rollups and the pieces it reads raw (0 = unbounded, as in TimeRange).
// The rolled minutes are those of [ceil(r.Start), floor(r.End)) before
// sealed (the end of the rolled-up minutes) minus invalid (stale or
// unrolled minutes); when step > 0 (RED), a minute that straddles a
// boundary r.Start + i·step is read raw too, so every rolled minute falls
// in one step. ok is false when no minute is rolled or the raw pieces
// would exceed MapMaxRawPieces: the caller reads r raw.
func MapSplit(r store.TimeRange, step, sealed int64, invalid []store.TimeRange) (minutes, raw []store.TimeRange, ok bool) {
	lo := ceilMinute(r.Start)
	hi := int64(math.MaxInt64)
	if r.End != 0 {
		hi = floorMinute(r.End)
	}
	hi = min(hi, sealed)
	if hi <= lo {
		return nil, nil, false
	}
	invalid = slices.Clone(invalid)
	if step > 0 {
		for b := r.Start + step; b < r.End; b += step {
			if b%MinuteNs != 0 {
				invalid = append(invalid, store.TimeRange{Start: floorMinute(b), End: floorMinute(b) + MinuteNs})
			}
		}
	}
	minutes = subtractRanges(lo, hi, invalid)
	if len(minutes) == 0 {
		return nil, nil, false
	}
	cur := r.Start
	for _, u := range minutes {
		if u.Start > cur {
			raw = append(raw, store.TimeRange{Start: cur, End: u.Start})
		}
		cur = u.End
	}
	if r.End == 0 || cur < r.End {
		raw = append(raw, store.TimeRange{Start: cur, End: r.End})
	}
	if len(raw) > MapMaxRawPieces {
		return nil, nil, false
	}
	return minutes, raw, true
}

// floorMinute is the start of t's minute (t ≥ 0, as SQL's integer
// division agrees).
func floorMinute(t int64) int64 { return t / MinuteNs * MinuteNs }

func ceilMinute(t int64) int64 {
	m := floorMinute(t)
	if m < t {
		m += MinuteNs
	}
	return m
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
