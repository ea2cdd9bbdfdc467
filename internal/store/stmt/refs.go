package stmt

import (
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

// The statements of correlation (store.CorrelationReader): message refs by
// trace, key and destination, and the spans of a set of traces.
//
// Every function takes cols, the engine's select list of the table read:
// each engine derives it from the column spec its rows are scanned by, so
// it stays engine-side and comes in as text.

// refOrder is the row order every ref lookup returns (the contract's).
const refOrder = ` ORDER BY "time", "key", role, trace_id, span_id`

// corrSelect opens a read of rows that ClickHouse may hold twice (a
// re-sent insert); DuckDB's inserts are exactly once.
func corrSelect(d Dialect) string {
	if d.ch {
		return "SELECT DISTINCT "
	}
	return "SELECT "
}

// RefsOfTraces is the refs of the traces ids in the contract's order, at
// most limit+1 of them (one more tells that there are more). With scan,
// DuckDB reads the whole of message_refs once instead of looking every
// id up in its index (see RefsRowEstimate); ClickHouse has one plan.
func RefsOfTraces(d Dialect, cols string, ids []model.TraceID, scan bool, limit int) string {
	lits := make([]string, len(ids))
	for i, id := range ids {
		lits[i] = d.Trace(id)
	}
	return refsIn(d, cols, "trace_id", lits, scan, limit)
}

// RefsByKeys is the refs of the message keys, as RefsOfTraces.
func RefsByKeys(d Dialect, cols string, keys []string, scan bool, limit int) string {
	lits := make([]string, len(keys))
	for i, k := range keys {
		lits[i] = d.Str(k)
	}
	return refsIn(d, cols, `"key"`, lits, scan, limit)
}

func refsIn(d Dialect, cols, col string, lits []string, scan bool, limit int) string {
	cond := col + " IN (" + strings.Join(lits, ", ") + ")"
	if scan && !d.ch {
		// A subquery is not pushed into the scan as an index filter:
		// DuckDB hash-joins it against one pass over the table.
		cond = col + " IN (SELECT v FROM (VALUES (" + strings.Join(lits, "), (") + ")) AS l(v))"
	}
	return corrSelect(d) + cols + " FROM " + d.Table("message_refs") + " WHERE " + cond + refOrder + " LIMIT " + Int(int64(limit)+1)
}

// RefsRowEstimate is the estimated row count of message_refs, from catalog
// metadata (no scan), on which DuckDB chooses between index lookups and a
// scan for a long list of values (RefsOfTraces' scan). Only DuckDB asks:
// ClickHouse's lookups have one plan whatever the size, and its rendering
// is empty.
func RefsRowEstimate(d Dialect) string {
	if d.ch {
		return ""
	}
	return "SELECT estimated_size FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'message_refs'"
}

// RefsByDestination is the refs sent to or received from dest in r,
// newest first, at most limit+1. message_refs is small next to spans (only
// messaging spans have refs): DuckDB scans the range, ClickHouse skips by
// its bloom filter on destination.
func RefsByDestination(d Dialect, cols, dest string, r store.TimeRange, limit int) string {
	return corrSelect(d) + cols + " FROM " + d.Table("message_refs") + " WHERE destination = " + d.Str(dest) + " AND " + Range(`"time"`, r) +
		` ORDER BY "time" DESC, "key", role, trace_id, span_id LIMIT ` + Int(int64(limit)+1)
}

// TraceSpans locates the traces ids: the time range of each one's spans
// and its span count, from trace_index, whose lookup by trace id is cheap
// in both engines (an ART index, the sort key). Traces without spans are
// left out. ClickHouse may count a trace's spans twice (a re-sent
// commit): the count is a capacity hint, never a result.
func TraceSpans(d Dialect, ids []model.TraceID) string {
	return "SELECT trace_id, min(span_start), max(span_end), sum(span_count) FROM " + d.Table("trace_index") +
		" WHERE trace_id IN (" + d.Traces(ids) + ") AND span_count > 0 GROUP BY trace_id"
}

// SpansOfTraces is the spans of the traces ids that start in [lo, hi] (a
// range from TraceSpans, which lets both engines skip the rest of the
// table), in start order, at most limit+1. ClickHouse's duplicates are
// dropped by the engine after the read, where its spans are merged.
func SpansOfTraces(d Dialect, cols string, ids []model.TraceID, lo, hi int64, limit int) string {
	return "SELECT " + cols + " FROM " + d.Table("spans") + " WHERE trace_id IN (" + d.Traces(ids) + ") AND start_time BETWEEN " +
		Int(lo) + " AND " + Int(hi) + " ORDER BY start_time, span_id LIMIT " + Int(int64(limit)+1)
}

// SpanSummaryOmits are the span columns a store.SpanSummary read leaves
// out: the attribute maps, and in ClickHouse the events, links and
// payloads, which DuckDB keeps in its ext column (a summary decodes ext
// without them).
func SpanSummaryOmits(d Dialect) []string {
	if d.ch {
		return []string{"attributes", "attr_types", "resource_attributes", "events", "links", "request_payload", "response_payload"}
	}
	return []string{"attr_keys", "attr_values", "resource_attributes"}
}
