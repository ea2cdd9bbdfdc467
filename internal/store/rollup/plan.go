package rollup

import (
	"cmp"
	"math"
	"slices"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// Plan is how a read of a range takes it: Minutes from the rollups, Raw
// from the raw tables with the same statements in histogram mode.
type Plan struct {
	Minutes []store.TimeRange // minute-aligned, ascending, disjoint
	Raw     []store.TimeRange // the rest of the range (0 = unbounded, as in TimeRange)
}

// MinuteSpans is how many spans a rolled-up minute holds.
type MinuteSpans struct {
	Minute, Spans int64
}

// NewPlan plans r (Split) and keeps the plan only when its rolled minutes
// hold at least minSpans spans (Settings.MinSpans): below, the raw
// statements are fast and give exact percentiles. spans are the rolled
// minutes' counts, in any order; ok is false when r is read raw.
func NewPlan(r store.TimeRange, step, sealed int64, invalid []store.TimeRange, spans []MinuteSpans, minSpans int64) (p Plan, ok bool) {
	if minSpans < 0 {
		return Plan{}, false
	}
	if p.Minutes, p.Raw, ok = Split(r, step, sealed, invalid); !ok {
		return Plan{}, false
	}
	var n int64
	for _, c := range spans {
		for _, u := range p.Minutes {
			if c.Minute >= u.Start && c.Minute < u.End {
				n += c.Spans
				break
			}
		}
	}
	if n < minSpans {
		return Plan{}, false
	}
	return p, true
}

// MaxRawPieces bounds the raw pieces of a rollup plan: a range cut
// into more pieces (many stale minutes) is read raw as a whole.
const MaxRawPieces = 8

// Split splits r into the whole minutes a map read takes from the
// rollups and the pieces it reads raw (0 = unbounded, as in TimeRange).
// The rolled minutes are those of [ceil(r.Start), floor(r.End)) before
// sealed (the end of the rolled-up minutes) minus invalid (stale or
// unrolled minutes); when step > 0 (RED), a minute that straddles a
// boundary r.Start + i·step is read raw too, so every rolled minute falls
// in one step. ok is false when no minute is rolled or the raw pieces
// would exceed MaxRawPieces: the caller reads r raw.
func Split(r store.TimeRange, step, sealed int64, invalid []store.TimeRange) (minutes, raw []store.TimeRange, ok bool) {
	lo := CeilMinute(r.Start)
	hi := int64(math.MaxInt64)
	if r.End != 0 {
		hi = FloorMinute(r.End)
	}
	hi = min(hi, sealed)
	if hi <= lo {
		return nil, nil, false
	}
	invalid = slices.Clone(invalid)
	if step > 0 {
		for b := r.Start + step; b < r.End; b += step {
			if b%stmt.MinuteNs != 0 {
				invalid = append(invalid, store.TimeRange{Start: FloorMinute(b), End: FloorMinute(b) + stmt.MinuteNs})
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
	if len(raw) > MaxRawPieces {
		return nil, nil, false
	}
	return minutes, raw, true
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
