package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

var _ store.ServiceMapReader = (*Engine)(nil)

// Service map, RED and cost queries (store.ServiceMapReader). The SQL is
// written by builders over a small dialect, so that a ClickHouse engine
// needs a second dialect value rather than second copies of the queries:
// every aggregate, list lookup and percentile the builders use goes
// through it.
//
// Each builder renders one query in three shapes (aggMode): exact (group
// by the row's keys, quantile_cont percentiles: the answer for a range
// read from raw data), histogram (the same groups split by duration
// bucket, so that answers for several pieces of a range merge) and rollup
// (the histogram per minute and environment: what the rollup job stores
// for sealed minutes, servicemap_rollup.go). The three share every CTE,
// join and filter, so a rollup minute holds exactly what a raw query of
// that minute returns.

// sqlDialect renders the engine-specific pieces of the map queries.
type sqlDialect struct {
	// quantiles is the 0.5, 0.95, 0.99 percentiles of x as one list value.
	quantiles func(x string) string
	// countIf counts rows where cond holds.
	countIf func(cond string) string
	// attr is the value of span attribute key (a trusted literal), NULL
	// when absent.
	attr func(key string) string
	// argMin and argMax are the x of the row with the smallest (largest)
	// by.
	argMin, argMax func(x, by string) string
	// keyKind is the kind prefix of a strong-ID key ("sqs" of "sqs:…").
	keyKind func(key string) string
	// filterAgg applies an aggregate to the rows where cond holds.
	filterAgg func(agg, cond string) string
	// bucket is the histogram bucket of x (servicemap_hist.go).
	bucket func(x string) string
	// minute is x (Unix ns) rounded down to its minute.
	minute func(x string) string
	// intDiv divides integers, rounding down.
	intDiv func(a, b string) string
	// environment is the deployment environment a resource_attributes
	// value names (deployment.environment.name, else the older
	// deployment.environment), NULL when none.
	environment func(resource string) string
	// peerKind and peerName split a spans.peer value "<kind>:<name>".
	peerKind, peerName func(peer string) string
}

func duckDialect() sqlDialect {
	return sqlDialect{
		quantiles: func(x string) string { return "quantile_cont(" + x + ", [0.5, 0.95, 0.99])" },
		countIf:   func(c string) string { return "count_if(" + c + ")" },
		attr: func(k string) string {
			return "attr_values[list_position(attr_keys, '" + k + "')]"
		},
		argMin:    func(x, by string) string { return "arg_min(" + x + ", " + by + ")" },
		argMax:    func(x, by string) string { return "arg_max(" + x + ", " + by + ")" },
		keyKind:   func(k string) string { return "split_part(" + k + ", ':', 1)" },
		filterAgg: func(agg, c string) string { return agg + " FILTER (WHERE " + c + ")" },
		bucket: func(x string) string {
			return fmt.Sprintf("CASE WHEN (%[1]s) > 0 THEN 1 + CAST(floor(%[2]d * log2(%[1]s)) AS SMALLINT) "+
				"WHEN (%[1]s) < 0 THEN -1 - CAST(floor(%[2]d * log2(-(%[1]s))) AS SMALLINT) ELSE 0 END", x, histPerOctave)
		},
		minute: func(x string) string { return "(" + x + " // 60000000000 * 60000000000)" },
		intDiv: func(a, b string) string { return "((" + a + ") // (" + b + "))" },
		environment: func(r string) string {
			// Resource JSON is [["key","value",type],…] (codec.go); the
			// captured value is still JSON-escaped, so it is decoded as a
			// JSON string.
			ext := func(key string) string {
				return `json_extract_string('"' || regexp_extract(` + r + `, '\["` + strings.ReplaceAll(key, ".", `\.`) +
					`","((?:[^"\\]|\\.)*)",', 1) || '"', '$')`
			}
			return "CASE WHEN contains(" + r + `, '["deployment.environment.name",') THEN ` + ext("deployment.environment.name") +
				" WHEN contains(" + r + `, '["deployment.environment",') THEN ` + ext("deployment.environment") + " END"
		},
		peerKind: func(p string) string { return "split_part(" + p + ", ':', 1)" },
		peerName: func(p string) string { return "substr(" + p + ", strpos(" + p + ", ':') + 1)" },
	}
}

// aggMode is the shape of a map query's answer.
type aggMode int

const (
	// modeExact groups by the row's keys with exact percentiles.
	modeExact aggMode = iota
	// modeHist also groups by duration bucket (histRow columns).
	modeHist
	// modeRollup also groups by minute and environment (the rollup
	// tables' columns), over every environment.
	modeRollup
)

// histAggs is the tail of a modeHist or modeRollup row: bucket, count,
// errors (and extra aggregates), smallest and largest duration.
func histAggs(d sqlDialect, dur, err string, extra ...string) string {
	s := d.bucket(dur) + " AS b, count(*), " + d.countIf(err)
	for _, x := range extra {
		s += ", " + x
	}
	return s + ", min(" + dur + "), max(" + dur + ")"
}

// Spans are node entries (the requests a node served) when they are an
// invocation's span (a function's span with a trigger), a server or
// consumer span of a service, or a root.
const entryCond = `(CASE WHEN "function" IS NOT NULL THEN "trigger" IS NOT NULL OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END)`

// callSlack widens the server-span side of MapCalls beyond the range: a
// callee's span starts after its caller's, possibly past the range end,
// and clocks of two hosts disagree a little.
const callSlack = int64(60e9)

// hopProducerSpan bounds how long a producer span may last before the
// ref that ends it: Lambda's longest invocation.
const hopProducerSpan = int64(15 * 60e9)

func clampMapRows(limit int) int {
	if limit <= 0 || limit > store.MaxMapRows {
		return store.MaxMapRows
	}
	return limit
}

func checkMapQuery(r store.TimeRange, traces int) error {
	if err := checkRange(r); err != nil {
		return err
	}
	if traces > store.MaxMapTraces {
		return fmt.Errorf("%d trace ids, at most %d: %w", traces, store.MaxMapTraces, store.ErrInvalid)
	}
	return nil
}

// spanFilter is the condition shared by every span scan of a map query:
// the environment and the trace ids. Values travel as arguments.
func spanFilter(env string, traces []model.TraceID, args *[]any) string {
	return spanFilterOf("", env, traces, args)
}

// spanFilterOf is spanFilter on the columns of table alias prefix ("p.").
func spanFilterOf(prefix, env string, traces []model.TraceID, args *[]any) string {
	var b strings.Builder
	if env != "" {
		// Both the current and the deprecated key, as ingest stores the
		// resource as sent.
		b.WriteString(" AND (contains(" + prefix + "resource_attributes, ?) OR contains(" + prefix + "resource_attributes, ?))")
		*args = append(*args, shared.ResourcePattern("deployment.environment.name", env), shared.ResourcePattern("deployment.environment", env))
	}
	if len(traces) > 0 {
		b.WriteString(" AND " + prefix + "trace_id IN (" + traceList(traces) + ")")
	}
	return b.String()
}

func traceList(ids []model.TraceID) string {
	lits := make([]string, len(ids))
	for i, id := range ids {
		lits[i] = uuidLiteral(id)
	}
	return strings.Join(lits, ", ")
}

// peerExprs returns the kind and name of the peer a client span names,
// from the most specific convention to the least: the SQL twin of
// spanPeer, which computes the spans.peer column at ingest. Queries read
// the column; this stays for migration 0005's backfill (which holds a
// copy) and for the test that holds spanPeer equal to it.
func peerExprs(d sqlDialect) (kind, name string) {
	bucket := d.attr("aws.s3.bucket")
	rpcSystem := d.attr("rpc.system")
	rpcService := d.attr("rpc.service")
	host := "coalesce(" + d.attr("server.address") + ", " + d.attr("net.peer.name") + ", " + d.attr("http.host") + ")"
	messaging := "(messaging_system IS NOT NULL OR kind = 4)"
	kind = `CASE
		WHEN ` + messaging + ` THEN CASE messaging_system
			WHEN 'aws_sns' THEN 'topic' WHEN 'kafka' THEN 'topic' WHEN 'gcp_pubsub' THEN 'topic'
			WHEN 'aws_kinesis' THEN 'stream' WHEN 'aws_eventbridge' THEN 'eventbus' ELSE 'queue' END
		WHEN db_system IS NOT NULL THEN 'database'
		WHEN ` + bucket + ` IS NOT NULL THEN 'bucket'
		WHEN ` + rpcSystem + ` = 'aws-api' AND ` + rpcService + ` IN ('Lambda', 'SFN') THEN NULL
		WHEN ` + rpcSystem + ` = 'aws-api' THEN 'aws'
		WHEN ` + host + ` IS NOT NULL THEN 'http'
		ELSE NULL END`
	name = `CASE
		WHEN ` + messaging + ` THEN coalesce(destination, messaging_system, 'unknown')
		WHEN db_system IS NOT NULL THEN db_system
		WHEN ` + bucket + ` IS NOT NULL THEN ` + bucket + `
		WHEN ` + rpcSystem + ` = 'aws-api' THEN ` + rpcService + `
		ELSE ` + host + ` END`
	return kind, name
}

// callKeys are the group keys of MapCalls, in CallRow order.
const callKeys = `service, "function", s_service, s_function, peer_kind, peer`

// buildMapCalls writes the MapCalls query. Client spans of the range and
// server spans with a parent meet in one full outer join on (trace,
// parent = span): a match is an instrumented call, a client span alone is
// a call to the peer it names (spans.peer), and a server span alone (its
// caller made no client span) is joined once more, to any span of the
// range, to find the node that called it. That last join's build side is
// those orphans only, usually none, so the common case scans the spans
// once for the clients and once for the servers. A call belongs to the
// minute and environment of its calling span.
func buildMapCalls(d sqlDialect, q store.MapQuery, limit int, mode aggMode) (string, []any) {
	var args []any
	sFilter := spanFilter("", q.TraceIDs, &args)
	cFilter := spanFilter(q.Environment, q.TraceIDs, &args)
	pFilter := spanFilterOf("p.", q.Environment, q.TraceIDs, &args)
	sRange := store.TimeRange{}
	if q.Start != 0 {
		sRange.Start = q.Start - callSlack
	}
	if q.End != 0 {
		sRange.End = q.End + callSlack
	}
	// In rollup mode every row carries its calling span's time and
	// environment.
	var cX, csX, callX, adoptX string
	if mode == modeRollup {
		cX = ", start_time AS t, " + d.environment("resource_attributes") + " AS env"
		csX = ", c.t, c.env"
		callX = ", t, env"
		adoptX = ", p.start_time AS t, " + d.environment("p.resource_attributes") + " AS env"
	}
	var final string
	switch mode {
	case modeExact:
		final = fmt.Sprintf(`SELECT %s, bool_or(messaging), count(*) AS n, %s, %s
FROM j
GROUP BY %s
ORDER BY n DESC, %s LIMIT %d`, callKeys, d.countIf("err"), d.quantiles("dur"), callKeys, callKeys, limit+1)
	case modeHist:
		final = fmt.Sprintf(`SELECT %s, bool_or(messaging), %s
FROM j
GROUP BY %s, b`, callKeys, histAggs(d, "dur", "err"), callKeys)
	case modeRollup:
		final = fmt.Sprintf(`SELECT %s AS m, env, %s, bool_or(messaging), %s
FROM j
GROUP BY m, env, %s, b`, d.minute("t"), callKeys, histAggs(d, "dur", "err"), callKeys)
	}
	query := fmt.Sprintf(`WITH s AS (
	SELECT trace_id, parent_span_id, service, "function", status_code, duration_ns
	FROM spans WHERE %s AND kind = 2 AND parent_span_id <> 0%s
), c AS (
	SELECT trace_id, span_id, service, "function", kind, status_code, duration_ns, messaging_system, peer%s
	FROM spans WHERE %s AND kind IN (3, 4)%s
), cs AS MATERIALIZED (
	SELECT c.service, c."function", c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s."function" AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		CASE WHEN s.trace_id IS NULL THEN %s END AS peer_kind,
		CASE WHEN s.trace_id IS NULL THEN %s END AS peer,
		c.kind = 4 OR c.messaging_system IS NOT NULL AS messaging,
		c.status_code = 2 OR coalesce(s.status_code, 0) = 2 AS err, c.duration_ns AS dur%s
	FROM c FULL OUTER JOIN s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
), called AS (
	SELECT service, "function", s_service, s_function,
		CAST(NULL AS VARCHAR) AS peer_kind, CAST(NULL AS VARCHAR) AS peer, false AS messaging, err, dur%s
	FROM cs WHERE has_client AND s_trace IS NOT NULL
), peers AS (
	SELECT service, "function", CAST(NULL AS VARCHAR) AS s_service, CAST(NULL AS VARCHAR) AS s_function,
		peer_kind, peer, messaging, err, dur%s
	FROM cs WHERE has_client AND s_trace IS NULL AND peer_kind IS NOT NULL
), orphans AS (
	SELECT s_trace, s_parent, s_service, s_function, s_status, s_dur FROM cs WHERE NOT has_client
), adopted AS (
	SELECT p.service, p."function", o.s_service, o.s_function,
		CAST(NULL AS VARCHAR) AS peer_kind, CAST(NULL AS VARCHAR) AS peer, false AS messaging,
		p.status_code = 2 OR o.s_status = 2 AS err, o.s_dur AS dur%s
	FROM orphans o JOIN spans p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE %s%s AND (p.service IS DISTINCT FROM o.s_service OR p."function" IS DISTINCT FROM o.s_function)
), j AS (
	SELECT * FROM called UNION ALL SELECT * FROM peers UNION ALL SELECT * FROM adopted
)
%s`,
		rangeCond("start_time", sRange), sFilter,
		cX, rangeCond("start_time", q.TimeRange), cFilter,
		d.peerKind("c.peer"), d.peerName("c.peer"), csX,
		callX, callX, adoptX,
		rangeCond("p.start_time", q.TimeRange), pFilter,
		final)
	return query, args
}

// MapCalls implements store.ServiceMapReader.
func (e *Engine) MapCalls(ctx context.Context, q store.MapQuery) ([]store.CallRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map calls: %w", err)
	}
	limit := clampMapRows(q.Limit)
	if rows, truncated, ok, err := e.rolledCalls(ctx, q, limit); ok || err != nil {
		return rows, truncated, err
	}
	query, args := buildMapCalls(duckDialect(), q, limit, modeExact)
	out := []store.CallRow{}
	err := e.scanRows(ctx, query, args, func(rs *sql.Rows) error {
		var (
			cs, cf, ss, sf, pk, p sql.NullString
			messaging             sql.NullBool
			r                     store.CallRow
			lat                   any
		)
		if err := rs.Scan(&cs, &cf, &ss, &sf, &pk, &p, &messaging, &r.Count, &r.Errors, &lat); err != nil {
			return err
		}
		r.Caller = store.Endpoint{Service: cs.String, Function: cf.String}
		r.Callee = store.Endpoint{Service: ss.String, Function: sf.String}
		r.PeerKind, r.Peer, r.Messaging = pk.String, p.String, messaging.Bool
		var err error
		if r.Latency, err = asLatency(lat); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, unavailable("read map calls", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// hopKeys are the group keys of MapHops, in HopRow order.
const hopKeys = `p_service, p_function, c_service, c_function, ch, p_dest, c_dest, c_sys`

// buildMapHops writes the second step of MapHops: the pairs of refs that
// join, their spans, one row per hop, grouped. plo and phi bound the
// producer refs' times (found by the first step), so the producer spans'
// scan is pruned to where they can be. A hop belongs to the minute and
// environment of its consuming span; in rollup mode the hops of one
// (producer span, consumer trace) in two minutes are two hops, as two
// one-minute queries would count them.
func buildMapHops(d sqlDialect, q store.MapQuery, plo, phi int64, limit int, mode aggMode) (string, []any) {
	var args []any
	cFilter := spanFilter(q.Environment, q.TraceIDs, &args)
	refTraces := ""
	if len(q.TraceIDs) > 0 {
		refTraces = " AND trace_id IN (" + traceList(q.TraceIDs) + ")"
	}
	var csX, jX, hX, hGroup, hMat string
	if mode == modeRollup {
		csX = ", " + d.environment("resource_attributes") + " AS env"
		jX = ", cs.env AS c_env"
		hX = ", " + d.argMin("c_env", "c_start") + " AS c_env"
		hGroup = ", " + d.minute("j.c_start")
	}
	if mode != modeExact {
		hMat = " MATERIALIZED"
	}
	var final string
	switch mode {
	case modeExact:
		final = fmt.Sprintf(`SELECT %s,
	count(*) AS n, %s, %s, %s, count(p_end)
FROM h
GROUP BY %s
ORDER BY n DESC, %s LIMIT %d`, hopKeys,
			d.countIf("c_err"), d.quantiles("c_dur"),
			d.filterAgg(d.quantiles("c_start - p_end"), "p_end IS NOT NULL"),
			hopKeys, hopKeys, limit+1)
	default:
		// Two histograms per group: the consumer spans' durations
		// (metric 0) and the lags (metric 1).
		pre, group := "", hopKeys+", b"
		if mode == modeRollup {
			pre = d.minute("c_start") + " AS m, c_env, "
			group = "m, c_env, " + group
		}
		final = fmt.Sprintf(`SELECT %s%s, 0 AS metric, %s
FROM h GROUP BY %s
UNION ALL
SELECT %s%s, 1 AS metric, %s
FROM h WHERE p_end IS NOT NULL GROUP BY %s`,
			pre, hopKeys, histAggs(d, "c_dur", "c_err"), group,
			pre, hopKeys, histAggs(d, "c_start - p_end", "false"), group)
	}
	query := fmt.Sprintf(`WITH c AS (
	SELECT "key", trace_id, span_id FROM message_refs WHERE role = 2 AND %s%s
), p AS (
	SELECT "key", trace_id, span_id FROM message_refs WHERE role = 1 AND "time" BETWEEN %d AND %d AND "key" IN (SELECT "key" FROM c)
), pairs AS MATERIALIZED (
	SELECT p.trace_id AS pt, p.span_id AS psid, c.trace_id AS ct, c.span_id AS csid, %s AS ch
	FROM p JOIN c ON p."key" = c."key"
	WHERE NOT (p.trace_id = c.trace_id AND p.span_id = c.span_id)
), cs AS (
	SELECT trace_id, span_id, parent_span_id, service, "function", start_time, duration_ns, status_code, destination, messaging_system%s
	FROM spans WHERE %s AND span_id IN (SELECT csid FROM pairs)%s
), ps AS (
	SELECT trace_id, span_id, service, "function", start_time + duration_ns AS end_time,
		coalesce(destination, CASE WHEN %s = 'bucket' THEN %s END) AS dest
	FROM spans WHERE start_time BETWEEN %d AND %d AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt, pairs.psid, pairs.ct, pairs.ch,
		ps.service AS p_service, ps."function" AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs."function" AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys%s
	FROM pairs JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS%s (
	SELECT pt, psid, ct,
		%s AS ch,
		any_value(p_service) AS p_service, any_value(p_function) AS p_function,
		max(p_end) AS p_end, any_value(p_dest) AS p_dest,
		%s AS c_service, %s AS c_function,
		min(c_start) AS c_start, %s AS c_dur, bool_or(c_err) AS c_err,
		max(c_dest) AS c_dest, max(c_sys) AS c_sys%s
	FROM j GROUP BY pt, psid, ct%s
	-- A span link to a span that is not stored (a platform's or an X-Ray
	-- context) names no producer and no channel; the message it stands
	-- for is counted by its real key.
	HAVING NOT (%s = 'link' AND max(p_end) IS NULL)
)
%s`,
		rangeCond(`"time"`, q.TimeRange), refTraces,
		plo, phi,
		d.keyKind(`c."key"`),
		csX, rangeCond("start_time", q.TimeRange), cFilter,
		d.peerKind("peer"), d.peerName("peer"),
		plo-hopProducerSpan, phi,
		jX, hMat,
		// A real key names the channel better than a span link does.
		d.argMin("ch", "ch = 'link'"),
		d.argMin("c_service", "c_start"), d.argMin("c_function", "c_start"), d.argMin("c_dur", "c_start"),
		hX, hGroup,
		d.argMin("ch", "ch = 'link'"),
		final)
	return query, args
}

// hopExtent is the first step of MapHops: the time extent of the
// producer refs that join the consumer refs of r (message_refs is small
// and indexed by key), from MaxHopLag before r to callSlack after it; ok
// is false when no consumer of r has a producer.
func (e *Engine) hopExtent(ctx context.Context, qr queryer, r store.TimeRange, traces []model.TraceID) (plo, phi int64, ok bool, err error) {
	refTraces := ""
	if len(traces) > 0 {
		refTraces = " AND trace_id IN (" + traceList(traces) + ")"
	}
	lagFrom := int64(0)
	if r.Start != 0 {
		lagFrom = r.Start - store.MaxHopLag
	}
	// A producer's send may end a little after its consumer started when
	// their clocks disagree: the same slack as calls.
	pEnd := r.End + callSlack
	if r.End == 0 {
		pEnd = 1<<63 - 1
	}
	var lo, hi sql.NullInt64
	err = qr.QueryRowContext(ctx, fmt.Sprintf(`SELECT min("time"), max("time") FROM message_refs
WHERE role = 1 AND "time" BETWEEN %d AND %d AND "key" IN (
	SELECT "key" FROM message_refs WHERE role = 2 AND %s%s)`,
		lagFrom, pEnd, rangeCond(`"time"`, r), refTraces)).Scan(&lo, &hi)
	return lo.Int64, hi.Int64, lo.Valid, err
}

// queryer is what a query needs: the pool or one transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// MapHops implements store.ServiceMapReader in two steps: the time extent
// of the producer refs that join consumers of the range (hopExtent), then
// the hops with the producer spans' scan cut to that extent.
func (e *Engine) MapHops(ctx context.Context, q store.MapQuery) ([]store.HopRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map hops: %w", err)
	}
	limit := clampMapRows(q.Limit)
	if rows, truncated, ok, err := e.rolledHops(ctx, q, limit); ok || err != nil {
		return rows, truncated, err
	}
	plo, phi, found, err := e.hopExtent(ctx, e.db, q.TimeRange, q.TraceIDs)
	if err != nil {
		return nil, false, unavailable("read map hops", err)
	}
	out := []store.HopRow{}
	if !found {
		return out, false, nil
	}
	query, args := buildMapHops(duckDialect(), q, plo, phi, limit, modeExact)
	err = e.scanRows(ctx, query, args, func(rs *sql.Rows) error {
		var (
			pS, pF, cS, cF, ch, pd, cd, csys sql.NullString
			r                                store.HopRow
			lat, lag                         any
		)
		if err := rs.Scan(&pS, &pF, &cS, &cF, &ch, &pd, &cd, &csys, &r.Count, &r.Errors, &lat, &lag, &r.LagCount); err != nil {
			return err
		}
		r.Producer = store.Endpoint{Service: pS.String, Function: pF.String}
		r.Consumer = store.Endpoint{Service: cS.String, Function: cF.String}
		r.Channel, r.ProducerDestination, r.ConsumerDestination, r.ConsumerSystem = ch.String, pd.String, cd.String, csys.String
		var err error
		if r.Latency, err = asLatency(lat); err != nil {
			return err
		}
		if r.Lag, err = asLatency(lag); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, unavailable("read map hops", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// buildMapNodes groups the entry spans of the range by node.
func buildMapNodes(d sqlDialect, q store.MapQuery, limit int, mode aggMode) (string, []any) {
	var args []any
	filter := spanFilter(q.Environment, q.TraceIDs, &args)
	where := rangeCond("start_time", q.TimeRange) + " AND " + entryCond + filter
	switch mode {
	case modeHist:
		return fmt.Sprintf(`SELECT service, "function", %s
FROM spans WHERE %s
GROUP BY service, "function", b`,
			histAggs(d, "duration_ns", "status_code = 2", d.countIf("cold_start")), where), args
	case modeRollup:
		return fmt.Sprintf(`SELECT %s AS m, %s AS env, service, "function", %s
FROM spans WHERE %s
GROUP BY m, env, service, "function", b`,
			d.minute("start_time"), d.environment("resource_attributes"),
			histAggs(d, "duration_ns", "status_code = 2", d.countIf("cold_start")), where), args
	}
	return fmt.Sprintf(`SELECT service, "function", count(*) AS n, %s, %s, %s
FROM spans WHERE %s
GROUP BY service, "function" ORDER BY n DESC, service, "function" LIMIT %d`,
		d.countIf("status_code = 2"), d.countIf("cold_start"), d.quantiles("duration_ns"),
		where, limit+1), args
}

// MapNodes implements store.ServiceMapReader.
func (e *Engine) MapNodes(ctx context.Context, q store.MapQuery) ([]store.NodeRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map nodes: %w", err)
	}
	limit := clampMapRows(q.Limit)
	if rows, truncated, ok, err := e.rolledNodes(ctx, q, limit); ok || err != nil {
		return rows, truncated, err
	}
	query, args := buildMapNodes(duckDialect(), q, limit, modeExact)
	out := []store.NodeRow{}
	err := e.scanRows(ctx, query, args, func(rs *sql.Rows) error {
		var (
			s, f sql.NullString
			r    store.NodeRow
			lat  any
		)
		if err := rs.Scan(&s, &f, &r.Count, &r.Errors, &r.ColdStarts, &lat); err != nil {
			return err
		}
		r.Endpoint = store.Endpoint{Service: s.String, Function: f.String}
		var err error
		r.Latency, err = asLatency(lat)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, false, unavailable("read map nodes", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// MaxREDPoints bounds the buckets of one RED series; the API refuses a
// step that would need more.
const MaxREDPoints = 10_000

func checkREDQuery(q store.REDQuery) error {
	if err := checkRange(q.TimeRange); err != nil {
		return err
	}
	if q.Start == 0 || q.End == 0 {
		return fmt.Errorf("RED needs a start and an end: %w", store.ErrInvalid)
	}
	if q.Step <= 0 {
		return fmt.Errorf("RED step must be positive: %w", store.ErrInvalid)
	}
	if (q.End-q.Start)/q.Step > MaxREDPoints {
		return fmt.Errorf("RED step too small: more than %d points: %w", MaxREDPoints, store.ErrInvalid)
	}
	switch q.GroupBy {
	case "", "service", "function", "operation":
	default:
		return fmt.Errorf("RED group by %q: %w", q.GroupBy, store.ErrInvalid)
	}
	return nil
}

// buildRED writes a RED query over the spans of within (q.TimeRange, or
// a piece of it; steps start at q.Start): exact, or (modeHist) split by
// duration bucket with the step's start as column tb.
func buildRED(d sqlDialect, q store.REDQuery, within store.TimeRange, limit int, mode aggMode) (string, []any) {
	var args []any
	var cond strings.Builder
	if q.Service != "" {
		cond.WriteString(" AND service = ?")
		args = append(args, q.Service)
	}
	if q.Function != "" {
		cond.WriteString(` AND "function" = ?`)
		args = append(args, q.Function)
	}
	if q.Operation != "" {
		cond.WriteString(" AND name = ?")
		args = append(args, q.Operation)
	} else {
		cond.WriteString(" AND " + entryCond)
	}
	cond.WriteString(spanFilter(q.Environment, nil, &args))
	group := "''"
	switch q.GroupBy {
	case "service":
		group = "coalesce(service, '')"
	case "function":
		group = `coalesce("function", '')`
	case "operation":
		group = "coalesce(name, '')"
	}
	if mode == modeHist {
		return fmt.Sprintf(`SELECT %s AS g, %d + %s * %d AS tb, %s
FROM spans WHERE %s%s
GROUP BY g, tb, b`,
			group, q.Start, d.intDiv(fmt.Sprintf("start_time - %d", q.Start), fmt.Sprint(q.Step)), q.Step,
			histAggs(d, "duration_ns", "status_code = 2", d.countIf("cold_start")),
			rangeCond("start_time", within), cond.String()), args
	}
	return fmt.Sprintf(`SELECT %s AS g, %d + (start_time - %d) // %d * %d AS b, count(*), %s, %s, %s
FROM spans WHERE %s%s
GROUP BY g, b ORDER BY g, b LIMIT %d`,
		group, q.Start, q.Start, q.Step, q.Step,
		d.countIf("status_code = 2"), d.countIf("cold_start"), d.quantiles("duration_ns"),
		rangeCond("start_time", q.TimeRange), cond.String(), limit+1), args
}

// RED implements store.ServiceMapReader.
func (e *Engine) RED(ctx context.Context, q store.REDQuery) ([]store.REDRow, bool, error) {
	if err := checkREDQuery(q); err != nil {
		return nil, false, fmt.Errorf("read RED series: %w", err)
	}
	limit := clampMapRows(q.Limit)
	if rows, truncated, ok, err := e.rolledRED(ctx, q, limit); ok || err != nil {
		return rows, truncated, err
	}
	query, args := buildRED(duckDialect(), q, q.TimeRange, limit, modeExact)
	out := []store.REDRow{}
	err := e.scanRows(ctx, query, args, func(rs *sql.Rows) error {
		var (
			r   store.REDRow
			lat any
		)
		if err := rs.Scan(&r.Group, &r.Bucket, &r.Count, &r.Errors, &r.ColdStarts, &lat); err != nil {
			return err
		}
		var err error
		r.Latency, err = asLatency(lat)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, false, unavailable("read RED series", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// buildCost merges invocation rows per request id the way package
// invocation does for the fields a price needs (function from the SDK
// first; billed duration and memory from the platform first), then sums
// per function.
//
// Each field is one aggregate rather than a coalesce of one per source:
// the rows rank by source, and an integer field is the largest value of
// the best-ranked rows that have one, found as max(rank·2^k + value) and
// decoded (|value| < 2^(k−1)). The function is the best-ranked row's (one
// function per request id). Per request that is 3 aggregates instead of
// 13, which made the hour of 2M invocation rows 2.5× quicker.
func buildCost(d sqlDialect, q store.CostQuery, limit int) (string, []any) {
	var args []any
	cond := rangeCond(`"start"`, q.TimeRange)
	if len(q.TraceIDs) > 0 {
		cond += " AND request_id IN (SELECT request_id FROM invocations WHERE trace_id IN (" + traceList(q.TraceIDs) + "))"
	}
	// rank: the first source listed ranks highest, any other lowest (1).
	rank := func(sources ...string) string {
		var b strings.Builder
		b.WriteString("CASE source")
		for i, s := range sources {
			fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, len(sources)+1-i)
		}
		b.WriteString(" ELSE 1 END")
		return b.String()
	}
	key := func(col string, bits uint, sources ...string) string {
		return d.filterAgg(fmt.Sprintf("max(%s * %d + %s)", rank(sources...), int64(1)<<bits, col), col+" <> 0")
	}
	decode := func(k string, bits uint) string {
		return fmt.Sprintf("%s - %s * %d", k, d.intDiv(fmt.Sprintf("%s + %d", k, int64(1)<<(bits-1)), fmt.Sprint(int64(1)<<bits)), int64(1)<<bits)
	}
	fnCond := ""
	if q.Function != "" {
		fnCond = " WHERE fn = ?"
		args = append(args, q.Function)
	}
	billed := "coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0"
	return fmt.Sprintf(`WITH k AS (
	SELECT request_id,
		%s AS fn,
		%s AS bk,
		%s AS mk
	FROM invocations WHERE %s GROUP BY request_id
), r AS (
	SELECT fn, %s AS billed, %s AS mem FROM k
)
SELECT coalesce(fn, '') AS f, count(*) AS n, %s, coalesce(%s, 0) AS gbs, CAST(coalesce(%s, 0) AS DOUBLE)
FROM r%s GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT %d`,
		d.filterAgg(d.argMax(`"function"`, rank("sdk", "sdk-start", "telemetry")), `"function" IS NOT NULL`),
		key("billed_duration", 60, "telemetry", "logs", "sdk"),
		key("memory_mb", 32, "telemetry", "logs", "sdk", "sdk-start"),
		cond,
		decode("bk", 60), decode("mk", 32),
		d.countIf(billed),
		d.filterAgg("sum(billed / 1e9 * mem / 1024.0)", billed),
		d.filterAgg("sum(billed)", billed),
		fnCond, limit+1), args
}

// Cost implements store.ServiceMapReader.
func (e *Engine) Cost(ctx context.Context, q store.CostQuery) ([]store.CostRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read cost: %w", err)
	}
	limit := clampMapRows(q.Limit)
	query, args := buildCost(duckDialect(), q, limit)
	out := []store.CostRow{}
	err := e.scanRows(ctx, query, args, func(rs *sql.Rows) error {
		var (
			r      store.CostRow
			billed sql.NullFloat64
		)
		if err := rs.Scan(&r.Function, &r.Invocations, &r.Billed, &r.GBSeconds, &billed); err != nil {
			return err
		}
		r.BilledNs = int64(billed.Float64)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, unavailable("read cost", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// scanRows runs query and calls row for every result row.
func (e *Engine) scanRows(ctx context.Context, query string, args []any, row func(*sql.Rows) error) error {
	rs, err := e.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := row(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// asLatency reads the three-element percentile list of sqlDialect.quantiles
// (NULL when no row was aggregated).
func asLatency(v any) (store.Latency, error) {
	switch x := v.(type) {
	case nil:
		return store.Latency{}, nil
	case []any:
		if len(x) != 3 {
			return store.Latency{}, fmt.Errorf("%d percentiles, want 3", len(x))
		}
		var out [3]int64
		for i, e := range x {
			switch f := e.(type) {
			case float64:
				out[i] = int64(f + 0.5)
			case nil:
			default:
				n, err := asInt64(e)
				if err != nil {
					return store.Latency{}, err
				}
				out[i] = n
			}
		}
		return store.Latency{P50: out[0], P95: out[1], P99: out[2]}, nil
	}
	return store.Latency{}, fmt.Errorf("unexpected %T for percentiles", v)
}
