package detect

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// KindColdStart: cold starts make up a function's slowest invocations.
const KindColdStart = "cold_start"

// Periodic is implemented by detectors that judge statistics over a fixed
// period: the runner gives them only whole windows of Period, aligned to
// it, so every node computes the same figures over the same invocations.
type Periodic interface {
	Period() time.Duration
}

// Cold-start thresholds: below minInvocations a percentile says nothing;
// a cold start must cost at least minAdded over the function's p95 to be
// worth an issue.
const (
	coldPeriod         = 10 * time.Minute
	coldMinInvocations = 20
	coldMinAdded       = int64(100 * time.Millisecond)
)

// coldDetector raises an issue when cold starts dominate a function's p95
// latency: there are at least as many cold starts as the slowest 5 % of
// invocations, and a cold start's latency (init + duration, what the
// caller waits) exceeds the function's p95 by at least coldMinAdded.
type coldDetector struct{ period time.Duration }

// ColdStarts returns the cold-start detector judging periods of p (the
// default detector uses 10 minutes; tests use seconds).
func ColdStarts(p time.Duration) Detector { return coldDetector{period: p} }

// Name carries a non-default period: windows of another length are
// another watermark.
func (d coldDetector) Name() string {
	if d.period == coldPeriod {
		return "coldstart.v1"
	}
	return "coldstart.v1." + d.period.String()
}

func (d coldDetector) Period() time.Duration { return d.period }

func (d coldDetector) Detect(ctx context.Context, r store.DetectReader, w Window) ([]store.IssueOccurrence, error) {
	mr, ok := r.(store.ServiceMapReader)
	if !ok {
		return nil, nil // the engine has no RED figures: nothing to compare with
	}
	nodes, _, err := mr.MapNodes(ctx, store.MapQuery{TimeRange: w.TimeRange})
	if err != nil {
		return nil, err
	}
	type stats struct {
		count, p50, p95 int64
	}
	byFn := map[string]stats{}
	for _, n := range nodes {
		if n.Function != "" && n.Count >= coldMinInvocations {
			byFn[n.Function] = stats{n.Count, n.Latency.P50, n.Latency.P95}
		}
	}
	if len(byFn) == 0 {
		return nil, nil
	}
	colds, trunc, err := r.DetectInvocations(ctx, store.DetectInvocationQuery{TimeRange: w.TimeRange, ColdStarts: true, Now: w.Now}, w.limit())
	if err != nil {
		return nil, err
	}
	if err := truncated(w, trunc); err != nil {
		return nil, err
	}
	type coldSet struct {
		latencies []int64
		inits     []int64
		traces    []model.TraceID
		last      int64
	}
	per := map[string]*coldSet{}
	for i := range colds {
		inv := &colds[i]
		if _, ok := byFn[inv.Function]; !ok {
			continue
		}
		c := per[inv.Function]
		if c == nil {
			c = &coldSet{}
			per[inv.Function] = c
		}
		c.latencies = append(c.latencies, inv.InitDurationNs+inv.DurationNs)
		c.inits = append(c.inits, inv.InitDurationNs)
		c.traces = append(c.traces, inv.TraceID)
		c.last = max(c.last, inv.Start+inv.DurationNs)
	}
	var out []store.IssueOccurrence
	fns := make([]string, 0, len(per))
	for f := range per {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	for _, f := range fns {
		c, st := per[f], byFn[f]
		tail := max(1, st.count/20)
		med := median(c.latencies)
		if int64(len(c.latencies)) < tail || med-st.p95 < coldMinAdded {
			continue
		}
		added := med - st.p50
		occ := store.IssueOccurrence{Kind: KindColdStart, Fingerprint: f, Function: f, Severity: SeverityWarning,
			First: w.Start, Last: c.last, Count: int64(len(c.latencies)),
			Title: fmt.Sprintf("cold starts dominate %s's p95 (%d of %d invocations, +%s each)", f, len(c.latencies), st.count, seconds(added)),
			Explanation: fmt.Sprintf("In the %s to %s, %d of %d invocations of %s were cold starts (%.0f %%): at least the slowest 5 %%. A cold start made its caller wait %s (median; init %s) against a p95 of %s and a median of %s for all invocations. Provisioned concurrency, a smaller deployment package, or lazier initialisation would shorten them.",
				d.period, when(w.End), len(c.latencies), st.count, f, 100*float64(len(c.latencies))/float64(st.count),
				seconds(med), seconds(median(c.inits)), seconds(st.p95), seconds(st.p50))}
		for _, t := range c.traces {
			if !t.IsZero() && len(occ.Traces) < store.MaxSampleTraces {
				occ.Traces = append(occ.Traces, t)
			}
		}
		out = append(out, occ)
	}
	return out, nil
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
