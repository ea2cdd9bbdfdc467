package stmt

import (
	"github.com/ariadnehq/ariadne/internal/store"
)

// The statements of the views: the issue list's sparklines
// (store.IssueSeriesReader) and log search (store.LogReader).

// IssueBucketIndex is the index of the step-wide bucket of start + i*step
// that the time col lies in, for col >= start.
func (d Dialect) IssueBucketIndex(col string, start, step int64) string {
	return d.IntDiv(col+" - "+Int(start), Int(step))
}

// IssueSeries is the occurrences of the issues ids per bucket of q: rows
// of (issue_id, bucket index, count). issue_counts keeps a count per issue
// and minute, found by its key (issue_id, bucket) in both engines, and is
// summed here: ClickHouse's rows are summed in the background, DuckDB's
// may be one per commit.
func IssueSeries(d Dialect, ids []string, q store.SeriesRange) string {
	return "SELECT issue_id, " + d.IssueBucketIndex("bucket", q.Start, q.Step) + " AS i, CAST(sum(count) AS BIGINT) FROM " + d.Table("issue_counts") +
		" WHERE issue_id IN (" + d.Strs(ids) + ") AND bucket >= " + Int(q.Start) + " AND bucket < " + Int(q.End) + " GROUP BY issue_id, i"
}

// logOrder is the order of SearchLogs: newest first, then columns that
// make the order of records of the same nanosecond the same at every call,
// which the cursor's skip count relies on.
const logOrder = ` ORDER BY "time" DESC, observed_time DESC, trace_id, span_id, body, severity, invocation_id`

// SearchLogs is a page of q's log records after cur (nil: the first),
// newest first, at most limit. The cursor is a time and how many records
// at or after it were already shown.
func SearchLogs(d Dialect, cols string, q store.LogQuery, cur *store.LogCursor, limit int) string {
	w := Range(`"time"`, q.TimeRange)
	if q.Function != "" {
		w += " AND function = " + d.Str(q.Function)
	}
	if q.Service != "" {
		w += " AND service = " + d.Str(q.Service)
	}
	if q.RequestID != "" {
		w += " AND invocation_id = " + d.Str(q.RequestID)
	}
	if q.MinSeverity > 0 {
		w += " AND severity >= " + Int(int64(q.MinSeverity))
	}
	if q.Text != "" {
		w += " AND " + d.ContainsFold("body", q.Text)
	}
	skip := 0
	if cur != nil {
		w += ` AND "time" <= ` + Int(cur.Time)
		skip = cur.Skip
	}
	return "SELECT " + cols + " FROM " + d.Table("logs") + " WHERE " + w + logOrder + " LIMIT " + Int(int64(limit)) + " OFFSET " + Int(int64(skip))
}
