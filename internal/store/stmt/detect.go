package stmt

import (
	"strings"

	"github.com/ariadnehq/ariadne/internal/invocation"
	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// detectStartWindow bounds the start of rows that may end in r, so that
// the engines prune the scan by time (DuckDB's zone maps, ClickHouse's
// primary key).
func detectStartWindow(col string, r store.TimeRange) string {
	w := store.TimeRange{End: r.End}
	if r.Start != 0 {
		w.Start = r.Start - store.DetectMaxDuration
	}
	return Range(col, w)
}

// anyOf joins conditions with OR, each parenthesised; "" when there are
// none.
func anyOf(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return "((" + strings.Join(conds, ") OR (") + "))"
}

// DetectSpans selects cols of the spans ending in r that match f, in
// (start_time, span_id) order, one row past limit so that the caller sees
// truncation; "" when f matches nothing. cols is the engine's span column
// list (its schema).
func DetectSpans(d Dialect, cols string, r store.TimeRange, f store.DetectSpanFilter, limit int) string {
	var conds []string
	if f.Errors {
		conds = append(conds, "status_code = "+Int(int64(model.StatusError)))
	}
	if len(f.AttrKeys) > 0 {
		keys := "[" + d.Strs(f.AttrKeys) + "]"
		if d.ch {
			conds = append(conds, "hasAny(mapKeys(attributes), "+keys+")")
		} else {
			conds = append(conds, "list_has_any(attr_keys, "+keys+")")
		}
	}
	for _, b := range f.AttrAtLeast {
		// Values are stored in canonical string form: an int attribute
		// parses back exactly, anything else is NULL.
		if d.ch {
			conds = append(conds, "toInt64OrNull(attributes["+d.Str(b.Key)+"]) >= "+Int(b.Min))
		} else {
			conds = append(conds, "TRY_CAST(attr_values[list_position(attr_keys, "+d.Str(b.Key)+")] AS BIGINT) >= "+Int(b.Min))
		}
	}
	if f.Producers {
		conds = append(conds, "kind = "+Int(int64(model.KindProducer))+" OR messaging_operation IN ('publish', 'send', 'create')")
	}
	for _, dst := range f.DestinationContains {
		conds = append(conds, d.ContainsFold("destination", dst))
	}
	if len(conds) == 0 {
		return ""
	}
	return "SELECT " + cols + " FROM " + d.Table("spans") + " WHERE " + detectStartWindow("start_time", r) +
		" AND " + Range("(start_time + duration_ns)", r) + " AND " + anyOf(conds) +
		" ORDER BY start_time, span_id LIMIT " + Int(int64(limit)+1)
}

// DetectInvocationKeys selects (request_id, earliest start) of the
// invocations ending in q's range some row of which could make the merged
// record match q, oldest first, one past limit; "" when q selects nothing.
// The engine merges the records and decides.
func DetectInvocationKeys(d Dialect, q store.DetectInvocationQuery, limit int) string {
	var conds []string
	if len(q.Statuses) > 0 {
		var lits []string
		for _, s := range q.Statuses {
			lits = append(lits, d.Str(string(s)))
			// A timeout or a crash may still be only a start marker whose
			// deadline passed.
			if s == model.InvocationTimeout || s == model.InvocationCrash {
				lits = append(lits, d.Str(string(model.InvocationStarted)))
			}
		}
		conds = append(conds, d.AnyRow("status IN ("+strings.Join(lits, ", ")+")"))
	}
	if q.MinAttempt > 0 {
		// The merge counts attempts from the gaps between rows too (async
		// retries reuse the request id), so rows spread wider than one gap
		// are candidates.
		conds = append(conds, "max(attempt) >= "+Int(int64(q.MinAttempt))+
			` OR max("start") - min("start") > `+Int(invocation.AttemptGap))
	}
	if q.ColdStarts {
		conds = append(conds, d.AnyRow("cold_start OR init_duration > 0"))
	}
	if len(conds) == 0 {
		return ""
	}
	// A start marker's deadline only counts while nothing else ended the
	// invocation: rows are never updated, the marker stays "started".
	ended := "status <> 'started'"
	end := "CASE WHEN " + d.AnyRow(ended) + " THEN " + d.AggIf("max", `"start" + coalesce(duration, 0)`, ended) +
		` ELSE max(CASE WHEN deadline > 0 THEN deadline + ` + Int(invocation.DeadlineGrace) + ` ELSE "start" END) END`
	return `SELECT request_id, min("start") AS s FROM ` + d.Table("invocations") + " WHERE " + detectStartWindow(`"start"`, q.TimeRange) +
		" GROUP BY request_id HAVING " + Range("("+end+")", q.TimeRange) + " AND " + anyOf(conds) +
		" ORDER BY s, request_id LIMIT " + Int(int64(limit)+1)
}
