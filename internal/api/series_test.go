package api

import (
	"testing"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

// TestSeriesRange: the whole minutes of a range in at most the buckets
// asked, whatever the seconds of now.
func TestSeriesRange(t *testing.T) {
	a := New(nil, Settings{})
	now := time.Date(2026, 11, 25, 23, 0, 37, 5, time.UTC)
	ns := func(d time.Duration) int64 { return now.Add(d).UnixNano() }
	minute := int64(time.Minute)
	for _, tc := range []struct {
		name    string
		buckets string
		r       store.TimeRange
		step    time.Duration
		n       int
	}{
		{"last hour in 30", "30", store.TimeRange{Start: ns(-time.Hour)}, 2 * time.Minute, 30},
		{"last hour in 60", "60", store.TimeRange{Start: ns(-time.Hour)}, time.Minute, 60},
		{"last 15 minutes in 30", "30", store.TimeRange{Start: ns(-15 * time.Minute)}, time.Minute, 15},
		{"last day in 24", "24", store.TimeRange{Start: ns(-24 * time.Hour)}, time.Hour, 24},
		{"default lookback", "48", store.TimeRange{}, 30 * time.Minute, 48},
		{"within a minute", "10", store.TimeRange{Start: ns(-10 * time.Second), End: ns(-time.Second)}, time.Minute, 1},
	} {
		sr, err := a.seriesRange(tc.buckets, tc.r, now)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if sr.Step != int64(tc.step) || sr.Buckets() != tc.n || sr.Start%minute != 0 || sr.Check() != nil {
			t.Errorf("%s: %+v (%d buckets), want step %s and %d buckets", tc.name, sr, sr.Buckets(), tc.step, tc.n)
		}
		if start := tc.r.Start; start != 0 && (sr.Start < start-minute || sr.Start > start+minute) {
			t.Errorf("%s: starts at %d, more than a minute from %d", tc.name, sr.Start, start)
		}
	}
	for _, bad := range []string{"0", "201", "x", "-1"} {
		if _, err := a.seriesRange(bad, store.TimeRange{}, now); err == nil {
			t.Errorf("buckets=%s accepted", bad)
		}
	}
	if sr, err := a.seriesRange("", store.TimeRange{}, now); err != nil || sr != (store.SeriesRange{}) {
		t.Errorf("no buckets: %+v %v", sr, err)
	}
}
