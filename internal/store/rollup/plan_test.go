package rollup

import (
	"slices"
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/stmt"
)

// TestSplit: the rolled minutes are the sealed, valid whole minutes of
// the range, and the raw pieces cover the rest of it exactly.
func TestSplit(t *testing.T) {
	const m = stmt.MinuteNs
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
			minutes, raw, ok := Split(tc.r, tc.step, tc.sealed, tc.invalid)
			if ok != tc.ok || !slices.Equal(minutes, tc.minutes) || !slices.Equal(raw, tc.raw) {
				t.Errorf("Split = %v, %v, %v; want %v, %v, %v", minutes, raw, ok, tc.minutes, tc.raw, tc.ok)
			}
		})
	}
}
