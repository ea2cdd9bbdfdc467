package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
)

var _ store.ServiceMapReader = (*Engine)(nil)

// Service map, RED and cost queries (store.ServiceMapReader). The SQL is
// written by builders over a small dialect, so that a ClickHouse engine
// needs a second dialect value rather than second copies of the queries:
// every aggregate, list lookup and percentile the builders use goes
// through it. Everything is computed from the raw tables in one scan of
// the range; docs/benchmarks-servicemap.md has the figures that decided
// that no ingest-time rollup is needed yet.

// sqlDialect renders the engine-specific pieces of the map queries.
type sqlDialect struct {
	// quantiles is the 0.5, 0.95, 0.99 percentiles of x as one list value.
	quantiles func(x string) string
	// countIf counts rows where cond holds.
	countIf func(cond string) string
	// attr is the value of span attribute key (a trusted literal), NULL
	// when absent.
	attr func(key string) string
	// argMin is the x of the row with the smallest by.
	argMin func(x, by string) string
	// keyKind is the kind prefix of a strong-ID key ("sqs" of "sqs:…").
	keyKind func(key string) string
	// filterAgg applies an aggregate to the rows where cond holds.
	filterAgg func(agg, cond string) string
}

func duckDialect() sqlDialect {
	return sqlDialect{
		quantiles: func(x string) string { return "quantile_cont(" + x + ", [0.5, 0.95, 0.99])" },
		countIf:   func(c string) string { return "count_if(" + c + ")" },
		attr: func(k string) string {
			return "attr_values[list_position(attr_keys, '" + k + "')]"
		},
		argMin:    func(x, by string) string { return "arg_min(" + x + ", " + by + ")" },
		keyKind:   func(k string) string { return "split_part(" + k + ", ':', 1)" },
		filterAgg: func(agg, c string) string { return agg + " FILTER (WHERE " + c + ")" },
	}
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
		*args = append(*args, resourcePattern("deployment.environment.name", env), resourcePattern("deployment.environment", env))
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

// peerExprs returns the kind and name of the peer an unmatched client
// span names, from the most specific convention to the least.
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

// buildMapCalls writes the MapCalls query. Client spans of the range and
// server spans with a parent meet in one full outer join on (trace,
// parent = span): a match is an instrumented call, a client span alone is
// a call to the peer its attributes name, and a server span alone (its
// caller made no client span) is joined once more, to any span of the
// range, to find the node that called it. That last join's build side is
// those orphans only, usually none, so the common case scans the spans
// once for the clients and once for the servers.
func buildMapCalls(d sqlDialect, q store.MapQuery, limit int) (string, []any) {
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
	kind, name := peerExprs(d)
	query := fmt.Sprintf(`WITH s AS (
	SELECT trace_id, parent_span_id, service, "function", status_code, duration_ns
	FROM spans WHERE %s AND kind = 2 AND parent_span_id <> 0%s
), c AS (
	SELECT trace_id, span_id, service, "function", kind, status_code, duration_ns, messaging_system, destination, db_system, attr_keys, attr_values
	FROM spans WHERE %s AND kind IN (3, 4)%s
), cs AS MATERIALIZED (
	SELECT c.service, c."function", c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s."function" AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		CASE WHEN s.trace_id IS NULL THEN %s END AS peer_kind,
		CASE WHEN s.trace_id IS NULL THEN %s END AS peer,
		c.kind = 4 OR c.messaging_system IS NOT NULL AS messaging,
		c.status_code = 2 OR coalesce(s.status_code, 0) = 2 AS err, c.duration_ns AS dur
	FROM c FULL OUTER JOIN s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
), called AS (
	SELECT service, "function", s_service, s_function,
		CAST(NULL AS VARCHAR) AS peer_kind, CAST(NULL AS VARCHAR) AS peer, false AS messaging, err, dur
	FROM cs WHERE has_client AND s_trace IS NOT NULL
), peers AS (
	SELECT service, "function", CAST(NULL AS VARCHAR) AS s_service, CAST(NULL AS VARCHAR) AS s_function,
		peer_kind, peer, messaging, err, dur
	FROM cs WHERE has_client AND s_trace IS NULL AND peer_kind IS NOT NULL
), orphans AS (
	SELECT s_trace, s_parent, s_service, s_function, s_status, s_dur FROM cs WHERE NOT has_client
), adopted AS (
	SELECT p.service, p."function", o.s_service, o.s_function,
		CAST(NULL AS VARCHAR) AS peer_kind, CAST(NULL AS VARCHAR) AS peer, false AS messaging,
		p.status_code = 2 OR o.s_status = 2 AS err, o.s_dur AS dur
	FROM orphans o JOIN spans p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE %s%s AND (p.service IS DISTINCT FROM o.s_service OR p."function" IS DISTINCT FROM o.s_function)
), j AS (
	SELECT * FROM called UNION ALL SELECT * FROM peers UNION ALL SELECT * FROM adopted
)
SELECT service, "function", s_service, s_function, peer_kind, peer, bool_or(messaging), count(*) AS n, %s, %s
FROM j
GROUP BY service, "function", s_service, s_function, peer_kind, peer
ORDER BY n DESC, service, "function", s_service, s_function, peer_kind, peer LIMIT %d`,
		rangeCond("start_time", sRange), sFilter,
		rangeCond("start_time", q.TimeRange), cFilter,
		kind, name,
		rangeCond("p.start_time", q.TimeRange), pFilter,
		d.countIf("err"), d.quantiles("dur"), limit+1)
	return query, args
}

// MapCalls implements store.ServiceMapReader.
func (e *Engine) MapCalls(ctx context.Context, q store.MapQuery) ([]store.CallRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map calls: %w", err)
	}
	limit := clampMapRows(q.Limit)
	query, args := buildMapCalls(duckDialect(), q, limit)
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

// buildMapHops writes the second step of MapHops: the pairs of refs that
// join, their spans, one row per hop, grouped. plo and phi bound the
// producer refs' times (found by the first step), so the producer spans'
// scan is pruned to where they can be.
func buildMapHops(d sqlDialect, q store.MapQuery, plo, phi int64, limit int) (string, []any) {
	var args []any
	cFilter := spanFilter(q.Environment, q.TraceIDs, &args)
	refTraces := ""
	if len(q.TraceIDs) > 0 {
		refTraces = " AND trace_id IN (" + traceList(q.TraceIDs) + ")"
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
	SELECT trace_id, span_id, parent_span_id, service, "function", start_time, duration_ns, status_code, destination, messaging_system
	FROM spans WHERE %s AND span_id IN (SELECT csid FROM pairs)%s
), ps AS (
	SELECT trace_id, span_id, service, "function", start_time + duration_ns AS end_time, coalesce(destination, %s) AS dest
	FROM spans WHERE start_time BETWEEN %d AND %d AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt, pairs.psid, pairs.ct, pairs.ch,
		ps.service AS p_service, ps."function" AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs."function" AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys
	FROM pairs JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS (
	SELECT pt, psid, ct,
		%s AS ch,
		any_value(p_service) AS p_service, any_value(p_function) AS p_function,
		max(p_end) AS p_end, any_value(p_dest) AS p_dest,
		%s AS c_service, %s AS c_function,
		min(c_start) AS c_start, %s AS c_dur, bool_or(c_err) AS c_err,
		max(c_dest) AS c_dest, max(c_sys) AS c_sys
	FROM j GROUP BY pt, psid, ct
	-- A span link to a span that is not stored (a platform's or an X-Ray
	-- context) names no producer and no channel; the message it stands
	-- for is counted by its real key.
	HAVING NOT (%s = 'link' AND max(p_end) IS NULL)
)
SELECT p_service, p_function, c_service, c_function, ch, p_dest, c_dest, c_sys,
	count(*) AS n, %s, %s, %s, count(p_end)
FROM h
GROUP BY p_service, p_function, c_service, c_function, ch, p_dest, c_dest, c_sys
ORDER BY n DESC, p_service, p_function, c_service, c_function, ch, p_dest, c_dest, c_sys LIMIT %d`,
		rangeCond(`"time"`, q.TimeRange), refTraces,
		plo, phi,
		d.keyKind(`c."key"`),
		rangeCond("start_time", q.TimeRange), cFilter,
		d.attr("aws.s3.bucket"),
		plo-hopProducerSpan, phi,
		// A real key names the channel better than a span link does.
		d.argMin("ch", "ch = 'link'"),
		d.argMin("c_service", "c_start"), d.argMin("c_function", "c_start"), d.argMin("c_dur", "c_start"),
		d.argMin("ch", "ch = 'link'"),
		d.countIf("c_err"), d.quantiles("c_dur"),
		d.filterAgg(d.quantiles("c_start - p_end"), "p_end IS NOT NULL"),
		limit+1)
	return query, args
}

// MapHops implements store.ServiceMapReader in two steps: the time extent
// of the producer refs that join consumers of the range (message_refs is
// small and indexed by key), then the hops with the producer spans' scan
// cut to that extent.
func (e *Engine) MapHops(ctx context.Context, q store.MapQuery) ([]store.HopRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map hops: %w", err)
	}
	limit := clampMapRows(q.Limit)
	refTraces := ""
	if len(q.TraceIDs) > 0 {
		refTraces = " AND trace_id IN (" + traceList(q.TraceIDs) + ")"
	}
	lagFrom := int64(0)
	if q.Start != 0 {
		lagFrom = q.Start - store.MaxHopLag
	}
	pEnd := q.End
	if pEnd == 0 {
		pEnd = 1<<63 - 1
	}
	var plo, phi sql.NullInt64
	err := e.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT min("time"), max("time") FROM message_refs
WHERE role = 1 AND "time" BETWEEN %d AND %d AND "key" IN (
	SELECT "key" FROM message_refs WHERE role = 2 AND %s%s)`,
		lagFrom, pEnd, rangeCond(`"time"`, q.TimeRange), refTraces)).Scan(&plo, &phi)
	if err != nil {
		return nil, false, unavailable("read map hops", err)
	}
	out := []store.HopRow{}
	if !plo.Valid {
		return out, false, nil
	}
	query, args := buildMapHops(duckDialect(), q, plo.Int64, phi.Int64, limit)
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

func buildMapNodes(d sqlDialect, q store.MapQuery, limit int) (string, []any) {
	var args []any
	filter := spanFilter(q.Environment, q.TraceIDs, &args)
	return fmt.Sprintf(`SELECT service, "function", count(*) AS n, %s, %s, %s
FROM spans WHERE %s AND %s%s
GROUP BY service, "function" ORDER BY n DESC, service, "function" LIMIT %d`,
		d.countIf("status_code = 2"), d.countIf("cold_start"), d.quantiles("duration_ns"),
		rangeCond("start_time", q.TimeRange), entryCond, filter, limit+1), args
}

// MapNodes implements store.ServiceMapReader.
func (e *Engine) MapNodes(ctx context.Context, q store.MapQuery) ([]store.NodeRow, bool, error) {
	if err := checkMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map nodes: %w", err)
	}
	limit := clampMapRows(q.Limit)
	query, args := buildMapNodes(duckDialect(), q, limit)
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

func buildRED(d sqlDialect, q store.REDQuery, limit int) (string, []any) {
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
	query, args := buildRED(duckDialect(), q, limit)
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
func buildCost(d sqlDialect, q store.CostQuery, limit int) (string, []any) {
	var args []any
	cond := rangeCond(`"start"`, q.TimeRange)
	if len(q.TraceIDs) > 0 {
		cond += " AND request_id IN (SELECT request_id FROM invocations WHERE trace_id IN (" + traceList(q.TraceIDs) + "))"
	}
	pick := func(col string, sources ...string) string {
		parts := make([]string, 0, len(sources)+1)
		for _, s := range sources {
			parts = append(parts, d.filterAgg("max("+col+")", "source = '"+s+"' AND "+col+" IS NOT NULL AND "+col+" <> 0"))
		}
		parts = append(parts, d.filterAgg("max("+col+")", col+" <> 0"))
		return "coalesce(" + strings.Join(parts, ", ") + ")"
	}
	fnCond := ""
	if q.Function != "" {
		fnCond = " WHERE fn = ?"
		args = append(args, q.Function)
	}
	billed := "coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0"
	return fmt.Sprintf(`WITH r AS (
	SELECT request_id,
		coalesce(%s, %s, %s, max("function")) AS fn,
		%s AS billed,
		%s AS mem
	FROM invocations WHERE %s GROUP BY request_id
)
SELECT coalesce(fn, '') AS f, count(*) AS n, %s, coalesce(%s, 0) AS gbs, CAST(coalesce(%s, 0) AS DOUBLE)
FROM r%s GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT %d`,
		d.filterAgg(`max("function")`, `source = 'sdk'`), d.filterAgg(`max("function")`, `source = 'sdk-start'`),
		d.filterAgg(`max("function")`, `source = 'telemetry'`),
		pick("billed_duration", "telemetry", "logs", "sdk"),
		pick("memory_mb", "telemetry", "logs", "sdk", "sdk-start"),
		cond,
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
