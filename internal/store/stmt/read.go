package stmt

import (
	"fmt"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// TraceExtent is the statement of where one trace's rows lie, from
// trace_index (sorted, or ART-indexed, by trace id): one row (index rows,
// first row time, last row time, spans, logs, invocation rows). A trace
// read then prunes the big tables to that range.
func TraceExtent(d Dialect, id model.TraceID) string {
	return fmt.Sprintf("SELECT count(*), min(start_min), max(end_max), sum(span_count), sum(log_count), sum(invocation_count) FROM %s WHERE trace_id = %s",
		d.Table("trace_index"), d.Trace(id))
}

// TraceSpanRows is the statement reading the spans of trace id that start
// in [lo, hi]; cols is the engine's select list of its span rows.
func TraceSpanRows(d Dialect, cols string, id model.TraceID, lo, hi int64) string {
	return d.traceRows("spans", cols, "start_time", id, lo, hi) + " ORDER BY start_time, span_id"
}

// TraceLogRows is TraceSpanRows for the trace's logs.
func TraceLogRows(d Dialect, cols string, id model.TraceID, lo, hi int64) string {
	return d.traceRows("logs", cols, `"time"`, id, lo, hi) + ` ORDER BY "time", observed_time`
}

// TraceInvocationRows is TraceSpanRows for the trace's invocation rows.
func TraceInvocationRows(d Dialect, cols string, id model.TraceID, lo, hi int64) string {
	return d.traceRows("invocations", cols, `"start"`, id, lo, hi) + ` ORDER BY "start", request_id, source`
}

func (d Dialect) traceRows(table, cols, timeCol string, id model.TraceID, lo, hi int64) string {
	return fmt.Sprintf("SELECT %s FROM %s WHERE trace_id = %s AND %s BETWEEN %d AND %d",
		cols, d.Table(table), d.Trace(id), timeCol, lo, hi)
}

// MessageRefs is the statement reading the message references of key,
// in time order; cols is the engine's select list of its ref rows.
// ClickHouse may hold a re-sent batch twice until a merge.
func MessageRefs(d Dialect, cols, key string) string {
	distinct := ""
	if d.ch {
		distinct = "DISTINCT "
	}
	return fmt.Sprintf(`SELECT %s%s FROM %s WHERE "key" = %s ORDER BY "time", "key", role, trace_id, span_id`,
		distinct, cols, d.Table("message_refs"), d.Str(key))
}

// Services is the statement listing the services with spans starting in
// r.
func Services(d Dialect, r store.TimeRange) string {
	return fmt.Sprintf("SELECT DISTINCT service FROM %s WHERE %s AND service <> '' ORDER BY service",
		d.Table("spans"), Range("start_time", r))
}

// Operations is the statement listing the span names of service ("":
// every service) with spans starting in r.
func Operations(d Dialect, service string, r store.TimeRange) string {
	cond := ""
	if service != "" {
		cond = " AND service = " + d.Str(service)
	}
	return fmt.Sprintf("SELECT DISTINCT name FROM %s WHERE %s AND name <> ''%s ORDER BY name",
		d.Table("spans"), Range("start_time", r), cond)
}

// Autocomplete lists look at the newest spans of their range only: recent
// keys and values are the ones a user looks for, and unnesting every
// attribute of a busy hour takes seconds. DuckDB narrows the range to
// about that many spans from its cached bounds; ClickHouse, which caches
// nothing, reads the newest rows of the range, which its sort order
// finds without a full sort.

// AttributeKeys is the statement of the span and resource attribute keys
// starting with prefix among the newest (at most recent) spans starting in
// r. Its rows are (0, key, 0) for span attributes and (1, resource, 0)
// for resources, whose keys the engine decodes and filters by prefix.
func AttributeKeys(d Dialect, prefix string, r store.TimeRange, recent int) string {
	if d.ch {
		return fmt.Sprintf(`WITH recent AS (
	SELECT attributes, resource_attributes FROM %s WHERE %s ORDER BY start_time DESC LIMIT %d)
SELECT 0, k, toUInt64(0) FROM (SELECT DISTINCT arrayJoin(mapKeys(attributes)) AS k FROM recent) WHERE startsWith(k, %s)
UNION ALL
SELECT 1, toString(resource_attributes), toUInt64(0) FROM recent WHERE resource_attributes != '' GROUP BY resource_attributes`,
			d.Table("spans"), Range("start_time", r), recent, d.Str(prefix))
	}
	return fmt.Sprintf(`WITH recent AS (
	SELECT attr_keys, resource_attributes FROM spans WHERE %s)
SELECT 0, k, 0 FROM (SELECT DISTINCT unnest(attr_keys) AS k FROM recent) WHERE starts_with(k, %s)
UNION ALL
SELECT 1, resource_attributes, 0 FROM recent WHERE resource_attributes <> '' GROUP BY resource_attributes`,
		Range("start_time", r), d.Str(prefix))
}

// AttributeValues is the statement of the values of attribute key
// starting with prefix among the newest (at most recent) spans starting
// in r that hold key. Its rows are (0, value, spans) for span attributes
// and (1, resource, spans) for resources holding key, whose values the
// engine decodes and filters.
func AttributeValues(d Dialect, key, prefix string, r store.TimeRange, recent int) string {
	k, p := d.Str(key), d.Str(prefix)
	hasKey := d.Contains("resource_attributes", shared.ResourceKeyPattern(key))
	if d.ch {
		return fmt.Sprintf(`WITH recent AS (
	SELECT attributes, resource_attributes FROM %s
	WHERE %s AND (mapContains(attributes, %s) OR %s)
	ORDER BY start_time DESC LIMIT %d)
SELECT 0, v, count() FROM (SELECT arrayJoin(arrayFilter((v, k) -> k = %s, mapValues(attributes), mapKeys(attributes))) AS v FROM recent)
WHERE startsWith(v, %s) GROUP BY v
UNION ALL
SELECT 1, toString(resource_attributes), count() FROM recent WHERE %s GROUP BY resource_attributes`,
			d.Table("spans"), Range("start_time", r), k, hasKey, recent, k, p, hasKey)
	}
	return fmt.Sprintf(`WITH recent AS (
	SELECT attr_keys, attr_values, resource_attributes FROM spans
	WHERE %s AND (list_contains(attr_keys, %s) OR %s))
SELECT 0, v, count(*) FROM (SELECT unnest(attr_keys) AS k, unnest(attr_values) AS v FROM recent)
WHERE k = %s AND starts_with(v, %s) GROUP BY v
UNION ALL
SELECT 1, resource_attributes, count(*) FROM recent WHERE %s GROUP BY resource_attributes`,
		Range("start_time", r), k, hasKey, k, p, hasKey)
}

// RetentionTable is a table retention deletes old rows from, by the time
// column Col.
type RetentionTable struct {
	Table, Col string
	// Index rows are not telemetry: they are not counted as deleted rows.
	Index bool
}

// RetentionTables are the tables DeleteBefore cuts, trace_index last: an
// index row goes with its oldest row, so a trace cut by the deletes drops
// out of reads instead of pointing at deleted rows.
func RetentionTables(d Dialect) []RetentionTable {
	spans := "spans"
	if !d.ch {
		spans = "span_rows" // DuckDB's spans is a view over it
	}
	return []RetentionTable{
		{Table: spans, Col: "start_time"},
		{Table: "logs", Col: `"time"`},
		{Table: "invocations", Col: `"start"`},
		{Table: "message_refs", Col: `"time"`},
		{Table: "trace_index", Col: "start_min", Index: true},
	}
}

// RetentionCount is the statement counting the rows of t before cut.
func RetentionCount(d Dialect, t RetentionTable, cut int64) string {
	return fmt.Sprintf("SELECT count(*) FROM %s WHERE %s < %d", d.Table(t.Table), t.Col, cut)
}

// RetentionDelete is the statement deleting the rows of t before cut. On
// a ClickHouse cluster (cluster true) the Distributed table takes no
// DELETE: it goes to the local table of every shard, onCluster being the
// engine's ON CLUSTER clause ("" where each node runs its own).
func RetentionDelete(d Dialect, t RetentionTable, cut int64, cluster bool, onCluster string) string {
	table := d.Table(t.Table)
	if d.ch && cluster {
		table = d.Table(t.Table+"_local") + onCluster
	}
	return fmt.Sprintf("DELETE FROM %s WHERE %s < %d", table, t.Col, cut)
}
