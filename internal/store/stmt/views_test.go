package stmt

import (
	"testing"

	"github.com/ariadnehq/ariadne/internal/store"
)

func TestViewsGolden(t *testing.T) {
	golden(t, "views-issue-series", func(d Dialect) string {
		return IssueSeries(d, []string{"iss-1", "it's"}, store.SeriesRange{Start: 60e9, End: 3660e9, Step: 60e9})
	})
	golden(t, "views-search-logs", func(d Dialect) string {
		return SearchLogs(d, "body", store.LogQuery{}, nil, 100)
	})
	golden(t, "views-search-logs-filtered", func(d Dialect) string {
		return SearchLogs(d, "body", store.LogQuery{
			TimeRange:   store.TimeRange{Start: 1000, End: 2000},
			Function:    "fn'x",
			Service:     "svc",
			RequestID:   "req\\1",
			MinSeverity: 17,
			Text:        "50%_off naïve 'q'",
		}, &store.LogCursor{Time: 1900, Skip: 3}, 50)
	})
}
