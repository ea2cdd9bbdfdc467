package stmt

import (
	"strings"
	"testing"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var corrTraces = []model.TraceID{
	{0xa1, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1},
	{0xa1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2},
}

func TestRefsGolden(t *testing.T) {
	const cols = `"key", role, trace_id, span_id, "time", destination`
	golden(t, "refs-of-traces", func(d Dialect) string { return RefsOfTraces(d, cols, corrTraces, false, 100) })
	golden(t, "refs-of-traces-scan", func(d Dialect) string { return RefsOfTraces(d, cols, corrTraces, true, 100) })
	// Keys are user text: a quote, a backslash, a NUL, LIKE's wildcards.
	keys := []string{"sqs:m-1", `it's \ a`, "nul\x00key", "50%_off", "naïve"}
	golden(t, "refs-by-keys", func(d Dialect) string { return RefsByKeys(d, cols, keys, false, 10) })
	golden(t, "refs-by-keys-scan", func(d Dialect) string { return RefsByKeys(d, cols, keys, true, 10) })
	golden(t, "refs-row-estimate", RefsRowEstimate)
	golden(t, "refs-by-destination", func(d Dialect) string {
		return RefsByDestination(d, cols, "jobs'queue", store.TimeRange{Start: 1000, End: 2000}, 50)
	})
	golden(t, "refs-by-destination-open", func(d Dialect) string {
		return RefsByDestination(d, cols, "jobs", store.TimeRange{}, 50)
	})
	golden(t, "refs-trace-spans", func(d Dialect) string { return TraceSpans(d, corrTraces) })
	golden(t, "refs-spans-of-traces", func(d Dialect) string {
		return SpansOfTraces(d, "trace_id, span_id, start_time", corrTraces, 1000, 61000, 5000)
	})
}

// The summary leaves out the attribute columns in both engines.
func TestSpanSummaryOmits(t *testing.T) {
	for _, dl := range dialects {
		omits := SpanSummaryOmits(dl.d)
		if !strings.Contains(strings.Join(omits, " "), "resource_attributes") {
			t.Errorf("%s: summary keeps resource_attributes: %v", dl.name, omits)
		}
	}
}
