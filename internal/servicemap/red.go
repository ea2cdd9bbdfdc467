package servicemap

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ariadnehq/ariadne/internal/store"
)

// MaxPoints bounds the points of one RED series: (End − Start) / Step.
const MaxPoints = 1440

// REDQuery selects RED series. Without Operation they count the entry
// spans of the service or function (the requests it served, as map nodes
// do); with it, every span of that name.
type REDQuery struct {
	Start, End  int64 // both required
	Step        int64 // bucket width, ns
	Service     string
	Function    string
	Operation   string
	Environment string
	// GroupBy splits into one series per "service", "function" or
	// "operation"; "" gives one series.
	GroupBy string
}

// Series is one RED time series: a point per step from Start, zeros
// where nothing happened, so charts need no gap logic.
//
// A step of whole minutes starts on a multiple of itself (Unix time):
// RED.Start is the query's Start moved back to that boundary, so points
// fall on round times, stay put as a chart refreshes, and each covers
// whole minutes, which the store can answer from its per-minute rollups
// (docs/servicemap.md "Rollups"). Other steps start at Start.
type Series struct {
	// Group is the service, function or operation of the series ("" when
	// not grouped).
	Group  string
	Points []Point
}

// Point is one step of a series.
type Point struct {
	Time int64 // start of the step, Unix ns
	Stats
	ColdStarts     int64
	ColdStartShare float64
}

// RED is the answer of a RED query.
type RED struct {
	Start, End, Step int64
	Series           []Series
	// Truncated: more groups than Settings.MaxSeries existed (the busiest
	// are kept), or the store cut its rows.
	Truncated bool
}

// RED returns the RED series of q.
func (m *Mapper) RED(ctx context.Context, q REDQuery) (*RED, error) {
	if q.Start == 0 || q.End <= q.Start {
		return nil, fmt.Errorf("read RED: need start before end: %w", store.ErrInvalid)
	}
	if q.Step <= 0 {
		return nil, fmt.Errorf("read RED: step must be positive: %w", store.ErrInvalid)
	}
	n := (q.End - q.Start + q.Step - 1) / q.Step
	if n > MaxPoints {
		return nil, fmt.Errorf("read RED: %d points, at most %d; widen the step: %w", n, MaxPoints, store.ErrInvalid)
	}
	if q.Step%int64(time.Minute) == 0 && q.Start > 0 {
		q.Start -= q.Start % q.Step
		n = (q.End - q.Start + q.Step - 1) / q.Step
	}
	rows, truncated, err := m.st.RED(ctx, store.REDQuery{
		TimeRange: store.TimeRange{Start: q.Start, End: q.End}, Service: q.Service, Function: q.Function,
		Operation: q.Operation, Environment: q.Environment, Step: q.Step, GroupBy: q.GroupBy,
	})
	if err != nil {
		return nil, fmt.Errorf("read RED: %w", err)
	}
	out := &RED{Start: q.Start, End: q.End, Step: q.Step, Series: []Series{}, Truncated: truncated}
	type group struct {
		name  string
		total int64
		rows  []store.REDRow
	}
	byName := map[string]*group{}
	var groups []*group
	for _, r := range rows {
		g := byName[r.Group]
		if g == nil {
			g = &group{name: r.Group}
			byName[r.Group] = g
			groups = append(groups, g)
		}
		g.total += r.Count
		g.rows = append(g.rows, r)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		if c := cmp.Compare(b.total, a.total); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	if len(groups) > m.set.MaxSeries {
		groups = groups[:m.set.MaxSeries]
		out.Truncated = true
	}
	if len(groups) == 0 && q.GroupBy == "" {
		groups = append(groups, &group{})
	}
	stepSecs := float64(q.Step) / 1e9
	for _, g := range groups {
		s := Series{Group: g.name, Points: make([]Point, n)}
		for i := range s.Points {
			s.Points[i].Time = q.Start + int64(i)*q.Step
		}
		for _, r := range g.rows {
			i := (r.Bucket - q.Start) / q.Step
			if i < 0 || i >= n {
				continue
			}
			p := &s.Points[i]
			p.Count, p.Errors, p.ColdStarts = r.Count, r.Errors, r.ColdStarts
			p.P50, p.P95, p.P99 = r.Latency.P50, r.Latency.P95, r.Latency.P99
			rates(&p.Stats, stepSecs)
			if p.Count > 0 {
				p.ColdStartShare = float64(p.ColdStarts) / float64(p.Count)
			}
		}
		out.Series = append(out.Series, s)
	}
	return out, nil
}
