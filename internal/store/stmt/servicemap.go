package stmt

import (
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

// Service map, RED and cost statements (store.ServiceMapReader).
//
// Each map builder renders one query in three shapes (MapMode): exact
// (group by the row's keys with exact percentiles: the answer for a range
// read from raw data), histogram (the same groups split by duration
// bucket, so that answers for several pieces of a range merge) and rollup
// (the histogram per minute and environment: what the rollup jobs store
// for sealed minutes). The three share every CTE, join and filter, so a
// rollup minute holds exactly what a raw query of that minute returns.
//
// The engines' schemas differ in ways the map meets at every step: DuckDB
// stores an absent string as NULL and ClickHouse as the empty string;
// ClickHouse's outer joins give NULLs only with join_use_nulls (its
// engine sets it for these reads) and its columns then turn Nullable,
// which its driver will not scan into a string, so the join's outputs
// are made non-null again;
// DuckDB computes a client span's peer at ingest (spans.peer) while
// ClickHouse derives it from the attributes Map; ClickHouse may hold a
// re-sent message ref twice until a merge. The map* primitives below
// carry those differences; the statements are written once.

// MapMode is the shape of a map query's answer.
type MapMode int

const (
	// MapExact groups by the row's keys with exact percentiles.
	MapExact MapMode = iota
	// MapHistogram also groups by duration bucket: a row ends in bucket,
	// count, errors, [cold starts,] smallest and largest duration.
	MapHistogram
	// MapRollup also groups by minute and environment (the rollup
	// tables' columns), over every environment.
	MapRollup
)

// MapCallSlack widens the server-span side of MapCalls beyond the range:
// a callee's span starts after its caller's, possibly past the range end,
// and clocks of two hosts disagree a little.
const MapCallSlack = int64(60e9)

// MapHopProducerSpan bounds how long a producer span may last before the
// ref that ends it: Lambda's longest invocation.
const MapHopProducerSpan = int64(15 * 60e9)

// MinuteNs is one minute in ns, the rollups' grain.
const MinuteNs = int64(60e9)

// mapQuantiles is the 0.5, 0.95 and 0.99 percentiles of x as one array
// value, interpolated between the closest ranks in both engines.
func (d Dialect) mapQuantiles(x string) string {
	if d.ch {
		return "quantilesExactInclusive(0.5, 0.95, 0.99)(" + x + ")"
	}
	return "quantile_cont(" + x + ", [0.5, 0.95, 0.99])"
}

// mapQuantilesIf is mapQuantiles over the rows where cond holds.
func (d Dialect) mapQuantilesIf(x, cond string) string {
	if d.ch {
		return "quantilesExactInclusiveIf(0.5, 0.95, 0.99)(" + x + ", " + cond + ")"
	}
	return d.mapQuantiles(x) + " FILTER (WHERE " + cond + ")"
}

// mapAny is x of any row where it is not NULL.
func (d Dialect) mapAny(x string) string {
	if d.ch {
		return "any(" + x + ")"
	}
	return "any_value(" + x + ")"
}

// mapKeyKind is the kind prefix of a strong-ID key ("sqs" of "sqs:…").
func (d Dialect) mapKeyKind(k string) string {
	if d.ch {
		return "splitByChar(':', " + k + ")[1]"
	}
	return "split_part(" + k + ", ':', 1)"
}

// MapMinute is x (Unix ns, ≥ 0) rounded down to its minute.
func (d Dialect) MapMinute(x string) string {
	if d.ch {
		return "(intDiv(" + x + ", 60000000000) * 60000000000)"
	}
	return "(" + x + " // 60000000000 * 60000000000)"
}

// MapHistPerOctave is the resolution of the duration histograms: a
// bucket spans a factor 2^(1/8) (MapHistogram).
const MapHistPerOctave = 8

// MapEmptyFirst says how the raw map statements of d order an empty key
// among the others: ClickHouse's "" first, DuckDB's NULL (read as "")
// last. A merged answer (package rollup) orders its groups alike.
func (d Dialect) MapEmptyFirst() bool { return d.ch }

// MapBucket is the histogram bucket of the duration x (rollup.Bucket is
// its Go twin): 1 + ⌊8·log2 x⌋ for x > 0, 0 for 0, the mirror for x < 0.
// ClickHouse's is cast to its column type, Int16, as its driver scans
// only the exact type.
func (d Dialect) MapBucket(x string) string {
	if d.ch {
		// ClickHouse computes every branch of every row: the logarithms'
		// arguments are kept ≥ 1 where their branch is not taken.
		return fmt.Sprintf("CAST(CASE WHEN (%[1]s) > 0 THEN 1 + CAST(floor(%[2]d * log2(greatest(%[1]s, 1))) AS SMALLINT) "+
			"WHEN (%[1]s) < 0 THEN -1 - CAST(floor(%[2]d * log2(greatest(-(%[1]s), 1))) AS SMALLINT) ELSE 0 END AS SMALLINT)", x, MapHistPerOctave)
	}
	return fmt.Sprintf("CASE WHEN (%[1]s) > 0 THEN 1 + CAST(floor(%[2]d * log2(%[1]s)) AS SMALLINT) "+
		"WHEN (%[1]s) < 0 THEN -1 - CAST(floor(%[2]d * log2(-(%[1]s))) AS SMALLINT) ELSE 0 END", x, MapHistPerOctave)
}

// mapEnvironment is the deployment environment a resource_attributes
// value names (deployment.environment.name, else the older
// deployment.environment); none (mapNone) when it names none. The
// resource is [["key","value",type],…] (shared/codec.go); the value
// captured is still JSON-escaped, so it is decoded as a JSON string.
func (d Dialect) mapEnvironment(r string) string {
	ext := func(key string) string {
		re := `\["` + strings.ReplaceAll(key, ".", `\.`) + `","((?:[^"\\]|\\.)*)",`
		if d.ch {
			return `JSONExtractString(concat('"', extract(` + r + `, ` + d.Str(re) + `), '"'))`
		}
		return `json_extract_string('"' || regexp_extract(` + r + `, ` + d.Str(re) + `, 1) || '"', '$')`
	}
	var b strings.Builder
	b.WriteString("CASE")
	for _, key := range []string{"deployment.environment.name", "deployment.environment"} {
		b.WriteString(" WHEN " + d.Contains(r, `["`+key+`",`) + " THEN " + ext(key))
	}
	b.WriteString(" ELSE " + d.mapNone() + " END")
	return b.String()
}

// mapPresent is the condition that the string column col holds a value.
func (d Dialect) mapPresent(col string) string {
	if d.ch {
		return col + " != ''"
	}
	return col + " IS NOT NULL"
}

// mapNone is the string value that stands for none.
func (d Dialect) mapNone() string {
	if d.ch {
		return "''"
	}
	return "CAST(NULL AS VARCHAR)"
}

// mapNotNull is x, a value an outer join made Nullable in ClickHouse,
// back as a plain value (where the rows it reaches hold one).
func (d Dialect) mapNotNull(x string) string {
	if d.ch {
		return "assumeNotNull(" + x + ")"
	}
	return x
}

// mapOut is a string key as an answer's column: ClickHouse's Nullable
// keys (outer joins) become empty strings, which DuckDB's NULL reads as.
func (d Dialect) mapOut(x string) string {
	if d.ch {
		return "coalesce(" + x + ", '')"
	}
	return x
}

// mapText is a string column as a plain string: ClickHouse's
// LowCardinality columns are converted before they meet in joins and
// unions.
func (d Dialect) mapText(col string) string {
	if d.ch {
		return "toString(" + col + ")"
	}
	return col
}

// mapDiffers is the condition that the string values a and b differ,
// none included.
func (d Dialect) mapDiffers(a, b string) string {
	if d.ch {
		return a + " != " + b
	}
	return a + " IS DISTINCT FROM " + b
}

// mapMaterialized makes a CTE read more than once be computed once
// (DuckDB; ClickHouse inlines CTEs).
func (d Dialect) mapMaterialized() string {
	if d.ch {
		return ""
	}
	return " MATERIALIZED"
}

// mapDedup removes the duplicate rows a re-sent insert may leave in
// ClickHouse's ReplacingMergeTree tables until they merge.
func (d Dialect) mapDedup() string {
	if d.ch {
		return "DISTINCT "
	}
	return ""
}

// mapAttr is the string value of span attribute key, none when absent.
func (d Dialect) mapAttr(key string) string {
	if d.ch {
		return "attributes[" + d.Str(key) + "]"
	}
	return "attr_values[list_position(attr_keys, " + d.Str(key) + ")]"
}

// mapClientPeer returns the columns a client span scan selects for its
// peer and, over them (table alias prefix), the kind and name of the peer
// a client span names. DuckDB reads the spans.peer column computed at
// ingest ("<kind>:<name>", internal/store/duckdb/servicemap_peer.go);
// ClickHouse derives both from the attributes, from the most specific
// convention to the least.
func (d Dialect) mapClientPeer(prefix string) (cols, kind, name string) {
	if !d.ch {
		p := prefix + "peer"
		return "peer", "split_part(" + p + ", ':', 1)", "substr(" + p + ", strpos(" + p + ", ':') + 1)"
	}
	bucket := d.mapAttr("aws.s3.bucket")
	rpcSystem, rpcService := d.mapAttr("rpc.system"), d.mapAttr("rpc.service")
	server, netPeer, httpHost := d.mapAttr("server.address"), d.mapAttr("net.peer.name"), d.mapAttr("http.host")
	host := "multiIf(" + server + " != '', " + server + ", " + netPeer + " != '', " + netPeer + ", " + httpHost + ")"
	messaging := "(messaging_system != '' OR kind = 4)"
	k := `multiIf(` + messaging + `, multiIf(messaging_system IN ('aws_sns', 'kafka', 'gcp_pubsub'), 'topic',
			messaging_system = 'aws_kinesis', 'stream', messaging_system = 'aws_eventbridge', 'eventbus', 'queue'),
		db_system != '', 'database',
		` + bucket + ` != '', 'bucket',
		` + rpcSystem + ` = 'aws-api' AND ` + rpcService + ` IN ('Lambda', 'SFN'), '',
		` + rpcSystem + ` = 'aws-api', 'aws',
		` + host + ` != '', 'http',
		'')`
	n := `multiIf(` + messaging + `, multiIf(destination != '', toString(destination), messaging_system != '', toString(messaging_system), 'unknown'),
		db_system != '', toString(db_system),
		` + bucket + ` != '', ` + bucket + `,
		` + rpcSystem + ` = 'aws-api', ` + rpcService + `,
		` + host + `)`
	return k + " AS pk, " + n + " AS pn", prefix + "pk", prefix + "pn"
}

// mapProducerDest is the destination a producer span sends to: its
// destination, else the bucket it names (an S3 event's source).
func (d Dialect) mapProducerDest() string {
	if d.ch {
		return "if(destination != '', toString(destination), " + d.mapAttr("aws.s3.bucket") + ")"
	}
	_, kind, name := d.mapClientPeer("")
	return "coalesce(destination, CASE WHEN " + kind + " = 'bucket' THEN " + name + " END)"
}

// mapEntry: spans are node entries (the requests a node served) when
// they are an invocation's span (a function's span with a trigger), a
// server or consumer span of a service, or a root.
func (d Dialect) mapEntry() string {
	return `(CASE WHEN ` + d.mapPresent(`"function"`) + ` THEN ` + d.mapPresent(`"trigger"`) + ` OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END)`
}

// mapInt64 is the count x as a signed 64-bit integer: ClickHouse counts
// are unsigned, and a histogram row is scanned alike from raw data and
// from the rollups' sums.
func (d Dialect) mapInt64(x string) string {
	if d.ch {
		return "toInt64(" + x + ")"
	}
	return x
}

// as is x named name, unless it is name already.
func as(x, name string) string {
	if x == name {
		return x
	}
	return x + " AS " + name
}

// histAggs is the tail of a MapHistogram or MapRollup row: bucket, count,
// errors (and extra aggregates), smallest and largest duration.
func (d Dialect) histAggs(dur, err string, extra ...string) string {
	s := d.MapBucket(dur) + " AS b, " + d.mapInt64("count(*)") + ", " + d.mapInt64(d.CountIf(err))
	for _, x := range extra {
		s += ", " + d.mapInt64(x)
	}
	return s + ", min(" + dur + "), max(" + dur + ")"
}

// spanFilter is the condition shared by every span scan of a map query,
// on the columns of table alias prefix ("p."): the environment and the
// trace ids.
func (d Dialect) spanFilter(prefix, env string, traces []model.TraceID) string {
	var b strings.Builder
	if env != "" {
		// Both the current and the deprecated key, as ingest stores the
		// resource as sent.
		b.WriteString(" AND (" + d.Contains(prefix+"resource_attributes", shared.ResourcePattern("deployment.environment.name", env)) +
			" OR " + d.Contains(prefix+"resource_attributes", shared.ResourcePattern("deployment.environment", env)) + ")")
	}
	if len(traces) > 0 {
		b.WriteString(" AND " + prefix + "trace_id IN (" + d.Traces(traces) + ")")
	}
	return b.String()
}

// mapCallKeys are the group keys of MapCalls, in store.CallRow order.
const mapCallKeys = `service, "function", s_service, s_function, peer_kind, peer`

// MapCalls is the MapCalls query. Client spans of the range and server
// spans with a parent meet in one full outer join on (trace, parent =
// span): a match is an instrumented call, a client span alone is a call to
// the peer it names, and a server span alone (its caller made no client
// span) is joined once more, to any span of the range, to find the node
// that called it. That last join's build side is those orphans only,
// usually none, so the common case scans the spans once for the clients
// and once for the servers. A call belongs to the minute and environment
// of its calling span. limit is the caller's: the exact answer holds up
// to limit+1 rows, to tell a truncated answer.
func MapCalls(d Dialect, q store.MapQuery, limit int, mode MapMode) string {
	sRange := store.TimeRange{}
	if q.Start != 0 {
		sRange.Start = q.Start - MapCallSlack
	}
	if q.End != 0 {
		sRange.End = q.End + MapCallSlack
	}
	nn := func(x string) string { return as(d.mapNotNull(x), x) }
	// In rollup mode every row carries its calling span's time and
	// environment.
	var cX, csX, callX, adoptX string
	if mode == MapRollup {
		cX = ", start_time AS t, " + d.mapEnvironment("resource_attributes") + " AS env"
		csX = ", c.t AS t, c.env AS env"
		callX = ", " + nn("t") + ", " + nn("env")
		adoptX = ", p.start_time AS t, " + d.mapEnvironment("p.resource_attributes") + " AS env"
	}
	var final string
	switch mode {
	case MapExact:
		final = fmt.Sprintf(`SELECT %s, %s, count(*) AS n, %s, %s
FROM j
GROUP BY %s
ORDER BY n DESC, %s LIMIT %d`, mapCallKeys, d.AnyRow("messaging"), d.CountIf("err"), d.mapQuantiles("dur"),
			mapCallKeys, mapCallKeys, limit+1)
	case MapHistogram:
		final = fmt.Sprintf(`SELECT %s, %s, %s
FROM j
GROUP BY %s, b`, mapCallKeys, d.AnyRow("messaging"), d.histAggs("dur", "err"), mapCallKeys)
	case MapRollup:
		final = fmt.Sprintf(`SELECT %s AS m, env, %s, %s, %s
FROM j
GROUP BY m, env, %s, b`, d.MapMinute("t"), mapCallKeys, d.AnyRow("messaging"), d.histAggs("dur", "err"), mapCallKeys)
	}
	peerCols, peerKind, peerName := d.mapClientPeer("c.")
	spans := d.Table("spans")
	return fmt.Sprintf(`WITH s AS (
	SELECT trace_id, parent_span_id, %[1]s, %[2]s, status_code, duration_ns
	FROM %[3]s WHERE %[4]s AND kind = 2 AND parent_span_id <> 0%[5]s
), c AS (
	SELECT trace_id, span_id, %[1]s, %[2]s, kind, status_code, duration_ns, messaging_system, %[6]s%[7]s
	FROM %[3]s WHERE %[8]s AND kind IN (3, 4)%[9]s
), cs AS%[10]s (
	SELECT c.service AS service, c."function" AS "function", c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s."function" AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		CASE WHEN s.trace_id IS NULL THEN %[11]s ELSE %[13]s END AS peer_kind,
		CASE WHEN s.trace_id IS NULL THEN %[12]s ELSE %[13]s END AS peer,
		(c.kind = 4 OR %[14]s) AS messaging,
		(c.status_code = 2 OR coalesce(s.status_code, 0) = 2) AS err, c.duration_ns AS dur%[15]s
	FROM c FULL OUTER JOIN s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
), called AS (
	SELECT %[16]s, %[17]s, %[18]s, %[19]s,
		%[13]s AS peer_kind, %[13]s AS peer, false AS messaging, err, %[20]s%[21]s
	FROM cs WHERE has_client AND s_trace IS NOT NULL
), peers AS (
	SELECT %[16]s, %[17]s, %[13]s AS s_service, %[13]s AS s_function,
		%[22]s, %[23]s, %[24]s, err, %[20]s%[21]s
	FROM cs WHERE has_client AND s_trace IS NULL AND %[25]s
), orphans AS (
	SELECT s_trace, s_parent, s_service, s_function, s_status, s_dur FROM cs WHERE NOT has_client
), adopted AS (
	SELECT %[26]s AS service, %[27]s AS "function", %[28]s, %[29]s,
		%[13]s AS peer_kind, %[13]s AS peer, false AS messaging,
		(p.status_code = 2 OR o.s_status = 2) AS err, %[30]s AS dur%[31]s
	FROM orphans AS o JOIN %[3]s AS p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE %[32]s%[33]s AND (%[34]s OR %[35]s)
), j AS (
	SELECT * FROM called UNION ALL SELECT * FROM peers UNION ALL SELECT * FROM adopted
)
%[36]s`,
		as(d.mapText("service"), "service"), as(d.mapText(`"function"`), `"function"`), spans,
		Range("start_time", sRange), d.spanFilter("", "", q.TraceIDs),
		peerCols, cX,
		Range("start_time", q.TimeRange), d.spanFilter("", q.Environment, q.TraceIDs),
		d.mapMaterialized(),
		peerKind, peerName, d.mapNone(),
		d.mapPresent("c.messaging_system"), csX,
		nn("service"), nn(`"function"`), nn("s_service"), nn("s_function"), nn("dur"), callX,
		nn("peer_kind"), nn("peer"), nn("messaging"), d.mapPresent("peer_kind"),
		d.mapText("p.service"), d.mapText(`p."function"`), d.mapNotNull("o.s_service")+" AS s_service", d.mapNotNull("o.s_function")+" AS s_function",
		d.mapNotNull("o.s_dur"), adoptX,
		Range("p.start_time", q.TimeRange), d.spanFilter("p.", q.Environment, q.TraceIDs),
		d.mapDiffers(d.mapText("p.service"), "o.s_service"), d.mapDiffers(d.mapText(`p."function"`), "o.s_function"),
		final)
}

// mapHopKeys are the group keys of MapHops, in store.HopRow order.
var mapHopKeys = []string{"hp_service", "hp_function", "hc_service", "hc_function", "hch", "hp_dest", "hc_dest", "hc_sys"}

// MapHopExtent is the first step of MapHops: the time extent of the
// producer refs that join the consumer refs of r (message_refs is small
// and sorted or indexed by key), from store.MaxHopLag before r to
// MapCallSlack after it, and their number (0: no consumer of r has a
// producer).
func MapHopExtent(d Dialect, r store.TimeRange, traces []model.TraceID) string {
	refTraces := ""
	if len(traces) > 0 {
		refTraces = " AND trace_id IN (" + d.Traces(traces) + ")"
	}
	lagFrom := int64(0)
	if r.Start != 0 {
		lagFrom = r.Start - store.MaxHopLag
	}
	// A producer's send may end a little after its consumer started when
	// their clocks disagree: the same slack as calls.
	pEnd := r.End + MapCallSlack
	if r.End == 0 {
		pEnd = 1<<63 - 1
	}
	refs := d.Table("message_refs")
	return fmt.Sprintf(`SELECT min("time"), max("time"), count(*) FROM %s
WHERE role = 1 AND "time" BETWEEN %d AND %d AND "key" IN (
	SELECT "key" FROM %s WHERE role = 2 AND %s%s)`,
		refs, lagFrom, pEnd, refs, Range(`"time"`, r), refTraces)
}

// MapHops is the second step of MapHops: the pairs of refs that join,
// their spans, one row per hop, grouped. plo and phi bound the producer
// refs' times (MapHopExtent), so the producer spans' scan is pruned to
// where they can be. A hop belongs to the minute and environment of its
// consuming span; in rollup mode the hops of one (producer span, consumer
// trace) in two minutes are two hops, as two one-minute queries would
// count them.
func MapHops(d Dialect, q store.MapQuery, plo, phi int64, limit int, mode MapMode) string {
	refTraces := ""
	if len(q.TraceIDs) > 0 {
		refTraces = " AND trace_id IN (" + d.Traces(q.TraceIDs) + ")"
	}
	var csX, jX, hX, hGroup, hMat string
	if mode == MapRollup {
		csX = ", " + d.mapEnvironment("resource_attributes") + " AS env"
		jX = ", cs.env AS c_env"
		hX = ", " + d.ArgMin("c_env", "c_start") + " AS hc_env"
		hGroup = ", " + d.MapMinute("j.c_start")
	}
	if mode != MapExact {
		hMat = d.mapMaterialized()
	}
	keys := strings.Join(mapHopKeys, ", ")
	out := make([]string, len(mapHopKeys))
	for i, k := range mapHopKeys {
		out[i] = d.mapOut(k)
	}
	outKeys := strings.Join(out, ", ")
	var final string
	switch mode {
	case MapExact:
		final = fmt.Sprintf(`SELECT %s,
	count(*) AS n, %s, %s, %s, count(hp_end)
FROM h
GROUP BY %s
ORDER BY n DESC, %s LIMIT %d`, outKeys,
			d.CountIf("hc_err"), d.mapQuantiles("hc_dur"),
			d.mapQuantilesIf("hc_start - hp_end", "hp_end IS NOT NULL"),
			keys, keys, limit+1)
	default:
		// Two histograms per group: the consumer spans' durations
		// (metric 0) and the lags (metric 1).
		pre, group := "", keys+", b"
		if mode == MapRollup {
			pre = d.MapMinute("hc_start") + " AS m, hc_env, "
			group = "m, hc_env, " + group
		}
		final = fmt.Sprintf(`SELECT %s%s, 0 AS metric, %s
FROM h GROUP BY %s
UNION ALL
SELECT %s%s, 1 AS metric, %s
FROM h WHERE hp_end IS NOT NULL GROUP BY %s`,
			pre, outKeys, d.histAggs("hc_dur", "hc_err"), group,
			pre, outKeys, d.histAggs(d.mapNotNull("hc_start - hp_end"), "false"), group)
	}
	refs, spans := d.Table("message_refs"), d.Table("spans")
	return fmt.Sprintf(`WITH c AS (
	SELECT "key", trace_id, span_id FROM %[1]s WHERE role = 2 AND %[2]s%[3]s
), p AS (
	SELECT "key", trace_id, span_id FROM %[1]s WHERE role = 1 AND "time" BETWEEN %[4]d AND %[5]d AND "key" IN (SELECT "key" FROM c)
), pairs AS%[6]s (
	SELECT %[7]sp.trace_id AS pt, p.span_id AS psid, c.trace_id AS ct, c.span_id AS csid, %[8]s AS ch
	FROM p JOIN c ON p."key" = c."key"
	WHERE NOT (p.trace_id = c.trace_id AND p.span_id = c.span_id)
), cs AS (
	SELECT trace_id, span_id, parent_span_id, %[9]s, %[10]s, start_time, duration_ns, status_code,
		%[11]s, %[12]s%[13]s
	FROM %[14]s WHERE %[15]s AND span_id IN (SELECT csid FROM pairs)%[16]s
), ps AS (
	SELECT trace_id, span_id, %[9]s, %[10]s, start_time + duration_ns AS end_time,
		%[17]s AS dest
	FROM %[14]s WHERE start_time BETWEEN %[18]d AND %[5]d AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt AS pt, pairs.psid AS psid, pairs.ct AS ct, pairs.ch AS ch,
		ps.service AS p_service, ps."function" AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs."function" AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys%[19]s
	FROM pairs JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS%[20]s (
	SELECT pt, psid, ct,
		%[21]s AS hch,
		%[22]s AS hp_service, %[23]s AS hp_function,
		max(p_end) AS hp_end, %[24]s AS hp_dest,
		%[25]s AS hc_service, %[26]s AS hc_function,
		min(c_start) AS hc_start, %[27]s AS hc_dur, %[28]s AS hc_err,
		max(c_dest) AS hc_dest, max(c_sys) AS hc_sys%[29]s
	FROM j GROUP BY pt, psid, ct%[30]s
	-- A span link to a span that is not stored (a platform's or an X-Ray
	-- context) names no producer and no channel; the message it stands
	-- for is counted by its real key.
	HAVING NOT (%[21]s = 'link' AND max(p_end) IS NULL)
)
%[31]s`,
		refs, Range(`"time"`, q.TimeRange), refTraces,
		plo, phi,
		d.mapMaterialized(), d.mapDedup(),
		d.mapKeyKind(`c."key"`),
		as(d.mapText("service"), "service"), as(d.mapText(`"function"`), `"function"`),
		as(d.mapText("destination"), "destination"), as(d.mapText("messaging_system"), "messaging_system"), csX,
		spans, Range("start_time", q.TimeRange), d.spanFilter("", q.Environment, q.TraceIDs),
		d.mapProducerDest(),
		plo-MapHopProducerSpan,
		jX, hMat,
		// A real key names the channel better than a span link does.
		d.ArgMin("ch", "ch = 'link'"),
		d.mapAny("p_service"), d.mapAny("p_function"), d.mapAny("p_dest"),
		d.ArgMin("c_service", "c_start"), d.ArgMin("c_function", "c_start"), d.ArgMin("c_dur", "c_start"),
		d.AnyRow("c_err"),
		hX, hGroup,
		final)
}

// MapNodes groups the entry spans of the range by node.
func MapNodes(d Dialect, q store.MapQuery, limit int, mode MapMode) string {
	where := Range("start_time", q.TimeRange) + " AND " + d.mapEntry() + d.spanFilter("", q.Environment, q.TraceIDs)
	spans := d.Table("spans")
	aggs := d.histAggs("duration_ns", "status_code = 2", d.CountIf("cold_start"))
	switch mode {
	case MapHistogram:
		return fmt.Sprintf(`SELECT service, "function", %s
FROM %s WHERE %s
GROUP BY service, "function", b`, aggs, spans, where)
	case MapRollup:
		return fmt.Sprintf(`SELECT %s AS m, %s AS env, service, "function", %s
FROM %s WHERE %s
GROUP BY m, env, service, "function", b`,
			d.MapMinute("start_time"), d.mapEnvironment("resource_attributes"), aggs, spans, where)
	}
	return fmt.Sprintf(`SELECT service, "function", count(*) AS n, %s, %s, %s
FROM %s WHERE %s
GROUP BY service, "function" ORDER BY n DESC, service, "function" LIMIT %d`,
		d.CountIf("status_code = 2"), d.CountIf("cold_start"), d.mapQuantiles("duration_ns"),
		spans, where, limit+1)
}

// redGroup is the series a RED row belongs to.
func redGroup(groupBy string) string {
	switch groupBy {
	case "service":
		return "coalesce(service, '')"
	case "function":
		return `coalesce("function", '')`
	case "operation":
		return "coalesce(name, '')"
	}
	return "''"
}

// RED is a RED query over the spans of within (q.TimeRange, or a piece
// of it; steps start at q.Start): exact, or (MapHistogram) split by duration
// bucket with the step's start as column tb.
func RED(d Dialect, q store.REDQuery, within store.TimeRange, limit int, mode MapMode) string {
	var cond strings.Builder
	if q.Service != "" {
		cond.WriteString(" AND service = " + d.Str(q.Service))
	}
	if q.Function != "" {
		cond.WriteString(` AND "function" = ` + d.Str(q.Function))
	}
	if q.Operation != "" {
		cond.WriteString(" AND name = " + d.Str(q.Operation))
	} else {
		cond.WriteString(" AND " + d.mapEntry())
	}
	cond.WriteString(d.spanFilter("", q.Environment, nil))
	step := fmt.Sprintf("%d + %s * %d", q.Start, d.IntDiv(fmt.Sprintf("start_time - %d", q.Start), Int(q.Step)), q.Step)
	if mode == MapHistogram {
		return fmt.Sprintf(`SELECT %s AS g, %s AS tb, %s
FROM %s WHERE %s%s
GROUP BY g, tb, b`,
			redGroup(q.GroupBy), step,
			d.histAggs("duration_ns", "status_code = 2", d.CountIf("cold_start")),
			d.Table("spans"), Range("start_time", within), cond.String())
	}
	return fmt.Sprintf(`SELECT %s AS g, %s AS b, count(*), %s, %s, %s
FROM %s WHERE %s%s
GROUP BY g, b ORDER BY g, b LIMIT %d`,
		redGroup(q.GroupBy), step,
		d.CountIf("status_code = 2"), d.CountIf("cold_start"), d.mapQuantiles("duration_ns"),
		d.Table("spans"), Range("start_time", q.TimeRange), cond.String(), limit+1)
}

// Cost merges invocation rows per request id the way package invocation
// does for the fields a price needs (function from the SDK first; billed
// duration and memory from the platform first), then sums per function.
//
// Each field is one aggregate rather than a coalesce of one per source:
// the rows rank by source, and an integer field is the largest value of
// the best-ranked rows that have one, found as max(rank·2^k + value) and
// decoded (|value| < 2^(k−1)). The function is the best-ranked row's (one
// function per request id). Per request that is 3 aggregates instead of
// 13, which made the hour of 2M invocation rows 2.5× quicker on DuckDB.
// A field no row has is NULL in DuckDB and 0 in ClickHouse (its -If
// aggregates of no rows), both of which the price reads as none.
func Cost(d Dialect, q store.CostQuery, limit int) string {
	inv := d.Table("invocations")
	cond := Range(`"start"`, q.TimeRange)
	if len(q.TraceIDs) > 0 {
		cond += " AND request_id IN (SELECT request_id FROM " + inv + " WHERE trace_id IN (" + d.Traces(q.TraceIDs) + "))"
	}
	// rank: the first source listed ranks highest, any other lowest (1).
	rank := func(sources ...string) string {
		var b strings.Builder
		b.WriteString("CASE source")
		for i, s := range sources {
			fmt.Fprintf(&b, " WHEN %s THEN %d", d.Str(s), len(sources)+1-i)
		}
		b.WriteString(" ELSE 1 END")
		return b.String()
	}
	key := func(col string, bits uint, sources ...string) string {
		return d.AggIf("max", fmt.Sprintf("%s * %d + %s", rank(sources...), int64(1)<<bits, col), col+" <> 0")
	}
	decode := func(k string, bits uint) string {
		return fmt.Sprintf("%s - %s * %d", k, d.IntDiv(fmt.Sprintf("%s + %d", k, int64(1)<<(bits-1)), Int(int64(1)<<bits)), int64(1)<<bits)
	}
	fnCond := ""
	if q.Function != "" {
		fnCond = " WHERE fn = " + d.Str(q.Function)
	}
	billed := "coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0"
	fn := d.ArgMaxIf(`"function"`, rank("sdk", "sdk-start", "telemetry"), d.mapPresent(`"function"`))
	return fmt.Sprintf(`WITH k AS (
	SELECT request_id,
		%s AS fn,
		%s AS bk,
		%s AS mk
	FROM %s WHERE %s GROUP BY request_id
), r AS (
	SELECT fn, %s AS billed, %s AS mem FROM k
)
SELECT coalesce(fn, '') AS f, count(*) AS n, %s, coalesce(%s, 0) AS gbs, CAST(coalesce(%s, 0) AS DOUBLE)
FROM r%s GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT %d`,
		fn,
		key("billed_duration", 60, "telemetry", "logs", "sdk"),
		key("memory_mb", 32, "telemetry", "logs", "sdk", "sdk-start"),
		inv, cond,
		decode("bk", 60), decode("mk", 32),
		d.CountIf(billed),
		d.AggIf("sum", "billed / 1e9 * mem / 1024.0", billed),
		d.AggIf("sum", "billed", billed),
		fnCond, limit+1)
}
