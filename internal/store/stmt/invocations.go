package stmt

import (
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// The statements of store.InvocationReader. An invocation is several rows
// (the platform's, the logs', the SDK's) merged in Go (package
// invocation); a listing first finds the request ids of a page, then reads
// their rows. cols is the engine's select list, as in refs.go.

// InvocationKeys is the request ids of q's invocations after cur (nil: from
// the newest), newest first by the earliest start of their rows, at most
// n, each with that start. The conditions are only necessary ones on the
// rows, so that a selective filter skips most invocations here; the
// caller decides exactly on the merged record (q.Match).
func InvocationKeys(d Dialect, q store.InvocationQuery, cur *shared.InvKey, n int) string {
	var having []string
	if q.Function != "" {
		having = append(having, d.AnyRow("function = "+d.Str(q.Function)))
	}
	// A merged status comes from some row with that status, except a
	// timeout, which may also come from a start marker past its deadline;
	// a cold start from some row saying so; a duration from some row's
	// duration or a start marker's deadline.
	if len(q.Statuses) > 0 {
		var lits []string
		for _, st := range q.Statuses {
			lits = append(lits, d.Str(string(st)))
			if st == model.InvocationTimeout {
				lits = append(lits, d.Str(string(model.InvocationStarted)))
			}
		}
		having = append(having, d.AnyRow("status IN ("+strings.Join(lits, ", ")+")"))
	}
	if q.ColdStart != nil && *q.ColdStart {
		having = append(having, d.AnyRow("cold_start OR init_duration > 0"))
	}
	if q.MinDuration > 0 {
		having = append(having, `max(greatest(duration, CASE WHEN deadline > 0 THEN deadline - "start" ELSE 0 END)) >= `+Int(q.MinDuration))
	}
	if cur != nil {
		s := Int(cur.Start)
		having = append(having, `(min("start") < `+s+` OR (min("start") = `+s+" AND request_id < "+d.Str(cur.ID)+"))")
	}
	query := `SELECT request_id, min("start") AS s FROM ` + d.Table("invocations") + " WHERE " + Range(`"start"`, q.TimeRange) + " GROUP BY request_id"
	if len(having) > 0 {
		query += " HAVING " + strings.Join(having, " AND ")
	}
	return query + " ORDER BY s DESC, request_id DESC LIMIT " + Int(int64(n))
}

// InvocationRows is every row of the invocations ids whose start lies in
// [lo, hi]: the rows of a page, from InvocationKeys' starts widened by the
// longest an invocation runs. ClickHouse bounds a statement's size, so it
// is given a few hundred ids at a time.
func InvocationRows(d Dialect, cols string, ids []string, lo, hi int64) string {
	return corrSelect(d) + cols + " FROM " + d.Table("invocations") + " WHERE request_id IN (" + d.Strs(ids) + `) AND "start" BETWEEN ` +
		Int(lo) + " AND " + Int(hi)
}

// Invocation is every row of the invocation requestID.
func Invocation(d Dialect, cols, requestID string) string {
	return corrSelect(d) + cols + " FROM " + d.Table("invocations") + " WHERE request_id = " + d.Str(requestID)
}

// InvocationLogs is the log records of the invocation requestID in r, in
// time order, at most limit.
func InvocationLogs(d Dialect, cols, requestID string, r store.TimeRange, limit int) string {
	return "SELECT " + cols + " FROM " + d.Table("logs") + " WHERE invocation_id = " + d.Str(requestID) + " AND " + Range(`"time"`, r) +
		` ORDER BY "time", observed_time LIMIT ` + Int(int64(limit))
}
