package clickhouse

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ariadnehq/ariadne/internal/model"
	"github.com/ariadnehq/ariadne/internal/store"
	"github.com/ariadnehq/ariadne/internal/store/shared"
)

var _ store.ServiceMapReader = (*Engine)(nil)

// Service map, RED and cost queries: the embedded engine's queries
// (internal/store/duckdb/servicemap.go) in ClickHouse's SQL. Differences
// that shape them: empty strings instead of NULLs in the tables, outer
// joins that give NULLs only with join_use_nulls, the -If combinators
// instead of FILTER, quantilesExactInclusive for quantile_cont (both
// interpolate linearly between the closest ranks).

// entryCond: spans that are node entries (the requests a node served): an
// invocation's span (a function's span with a trigger), a server or
// consumer span of a service, or a root.
const entryCond = `if(function != '', trigger != '' OR parent_span_id = 0, kind IN (2, 5) OR parent_span_id = 0)`

// callSlack widens the server-span side of MapCalls beyond the range.
const callSlack = int64(60e9)

// hopProducerSpan bounds how long a producer span may last before the ref
// that ends it: Lambda's longest invocation.
const hopProducerSpan = int64(15 * 60e9)

const (
	quantiles   = "quantilesExactInclusive(0.5, 0.95, 0.99)"
	quantilesIf = "quantilesExactInclusiveIf(0.5, 0.95, 0.99)"
)

func clampMapRows(limit int) int {
	if limit <= 0 || limit > store.MaxMapRows {
		return store.MaxMapRows
	}
	return limit
}

// withNulls makes outer joins fill missing sides with NULL, as SQL does.
func withNulls(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"join_use_nulls": 1}))
}

// spanFilter is the environment and trace condition of a map query's span
// scans, on the columns of table alias prefix ("p.").
func spanFilter(prefix, env string, traces []model.TraceID) string {
	var b strings.Builder
	if env != "" {
		// The current and the deprecated key: ingest stores the resource as sent.
		fmt.Fprintf(&b, " AND (position(%sresource_attributes, %s) > 0 OR position(%sresource_attributes, %s) > 0)",
			prefix, sqlStr(shared.ResourcePattern("deployment.environment.name", env)),
			prefix, sqlStr(shared.ResourcePattern("deployment.environment", env)))
	}
	if len(traces) > 0 {
		b.WriteString(" AND " + prefix + "trace_id IN (" + traceList(traces) + ")")
	}
	return b.String()
}

func attr(k string) string { return "attributes[" + sqlStr(k) + "]" }

// peerExprs returns the kind and name of the peer an unmatched client span
// names, from the most specific convention to the least (” for none).
func peerExprs() (kind, name string) {
	bucket := attr("aws.s3.bucket")
	rpcSystem, rpcService := attr("rpc.system"), attr("rpc.service")
	host := "multiIf(" + attr("server.address") + " != '', " + attr("server.address") + ", " +
		attr("net.peer.name") + " != '', " + attr("net.peer.name") + ", " + attr("http.host") + ")"
	messaging := "(messaging_system != '' OR kind = 4)"
	kind = `multiIf(` + messaging + `, multiIf(messaging_system IN ('aws_sns', 'kafka', 'gcp_pubsub'), 'topic',
			messaging_system = 'aws_kinesis', 'stream', messaging_system = 'aws_eventbridge', 'eventbus', 'queue'),
		db_system != '', 'database',
		` + bucket + ` != '', 'bucket',
		` + rpcSystem + ` = 'aws-api' AND ` + rpcService + ` IN ('Lambda', 'SFN'), '',
		` + rpcSystem + ` = 'aws-api', 'aws',
		` + host + ` != '', 'http',
		'')`
	name = `multiIf(` + messaging + `, multiIf(destination != '', toString(destination), messaging_system != '', toString(messaging_system), 'unknown'),
		db_system != '', toString(db_system),
		` + bucket + ` != '', ` + bucket + `,
		` + rpcSystem + ` = 'aws-api', ` + rpcService + `,
		` + host + `)`
	return kind, name
}

// buildMapCalls writes the MapCalls query (see the embedded engine's for
// the plan): client spans of the range and server spans with a parent meet
// in a full outer join on (trace, parent = span); a match is an
// instrumented call, a client span alone a call to the peer its attributes
// name, and a server span alone is joined once more, to any span of the
// range, to find the node that called it.
func (e *Engine) buildMapCalls(q store.MapQuery, limit int) string {
	sRange := store.TimeRange{}
	if q.Start != 0 {
		sRange.Start = q.Start - callSlack
	}
	if q.End != 0 {
		sRange.End = q.End + callSlack
	}
	kind, name := peerExprs()
	return fmt.Sprintf(`WITH s AS (
	SELECT trace_id, parent_span_id, toString(service) AS service, toString(function) AS function, status_code, duration_ns
	FROM %[1]s WHERE %[2]s AND kind = 2 AND parent_span_id != 0%[3]s
), c AS (
	SELECT trace_id, span_id, toString(service) AS service, toString(function) AS function, status_code, duration_ns,
		(kind = 4 OR messaging_system != '') AS messaging, %[6]s AS pk, %[7]s AS pn
	FROM %[1]s WHERE %[4]s AND kind IN (3, 4)%[5]s
), cs AS (
	SELECT c.service AS service, c.function AS function, c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s.function AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		if(s.trace_id IS NULL, c.pk, '') AS peer_kind, if(s.trace_id IS NULL, c.pn, '') AS peer,
		coalesce(c.messaging, false) AS messaging,
		(coalesce(c.status_code, 0) = 2 OR coalesce(s.status_code, 0) = 2) AS err, c.duration_ns AS dur
	FROM c FULL OUTER JOIN s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
), j AS (
	SELECT assumeNotNull(service) AS service, assumeNotNull(function) AS function, assumeNotNull(s_service) AS s_service,
		assumeNotNull(s_function) AS s_function, '' AS peer_kind, '' AS peer, false AS messaging, err, assumeNotNull(dur) AS dur
	FROM cs WHERE has_client AND s_trace IS NOT NULL
	UNION ALL
	SELECT assumeNotNull(service), assumeNotNull(function), '', '', assumeNotNull(peer_kind), assumeNotNull(peer), messaging, err, assumeNotNull(dur)
	FROM cs WHERE has_client AND s_trace IS NULL AND peer_kind != ''
	UNION ALL
	SELECT toString(p.service), toString(p.function), assumeNotNull(o.s_service), assumeNotNull(o.s_function), '', '', false,
		(p.status_code = 2 OR o.s_status = 2), assumeNotNull(o.s_dur)
	FROM (SELECT s_trace, s_parent, s_service, s_function, s_status, s_dur FROM cs WHERE NOT has_client) AS o
	INNER JOIN %[1]s AS p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE %[8]s%[9]s AND (toString(p.service) != o.s_service OR toString(p.function) != o.s_function)
)
SELECT service, function, s_service, s_function, peer_kind, peer, max(messaging), count() AS n, countIf(err), %[10]s(dur)
FROM j
GROUP BY service, function, s_service, s_function, peer_kind, peer
ORDER BY n DESC, service, function, s_service, s_function, peer_kind, peer LIMIT %[11]d`,
		e.t("spans"), rangeCond("start_time", sRange), spanFilter("", "", q.TraceIDs),
		rangeCond("start_time", q.TimeRange), spanFilter("", q.Environment, q.TraceIDs),
		kind, name,
		rangeCond("p.start_time", q.TimeRange), spanFilter("p.", q.Environment, q.TraceIDs),
		quantiles, limit+1)
}

// MapCalls implements store.ServiceMapReader.
func (e *Engine) MapCalls(ctx context.Context, q store.MapQuery) ([]store.CallRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map calls: %w", err)
	}
	if err := e.readable("read map calls"); err != nil {
		return nil, false, err
	}
	limit := clampMapRows(q.Limit)
	out := []store.CallRow{}
	err := e.each(withNulls(ctx), e.buildMapCalls(q, limit), func(scan func(...any) error) error {
		var (
			r         store.CallRow
			messaging bool
			n, errs   uint64
			lat       []float64
		)
		if err := scan(&r.Caller.Service, &r.Caller.Function, &r.Callee.Service, &r.Callee.Function, &r.PeerKind, &r.Peer,
			&messaging, &n, &errs, &lat); err != nil {
			return err
		}
		r.Messaging, r.Count, r.Errors, r.Latency = messaging, int64(n), int64(errs), latency(lat)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read map calls", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// latency reads a quantiles array (NaN for an empty group).
func latency(v []float64) store.Latency {
	var out [3]int64
	for i := 0; i < len(v) && i < 3; i++ {
		if !math.IsNaN(v[i]) {
			out[i] = int64(v[i] + 0.5)
		}
	}
	return store.Latency{P50: out[0], P95: out[1], P99: out[2]}
}

// buildMapHops writes the second step of MapHops: the pairs of refs that
// join, their spans, one row per hop, grouped. plo and phi bound the
// producer refs' times (the first step), so the producer spans' scan is
// pruned to where they can be.
func (e *Engine) buildMapHops(q store.MapQuery, plo, phi int64, limit int) string {
	refTraces := ""
	if len(q.TraceIDs) > 0 {
		refTraces = " AND trace_id IN (" + traceList(q.TraceIDs) + ")"
	}
	return fmt.Sprintf(`WITH c AS (
	SELECT key, trace_id, span_id FROM %[1]s WHERE role = 2 AND %[2]s%[3]s
), p AS (
	SELECT key, trace_id, span_id FROM %[1]s WHERE role = 1 AND time BETWEEN %[4]d AND %[5]d AND key IN (SELECT key FROM c)
), pairs AS (
	SELECT DISTINCT p.trace_id AS pt, p.span_id AS psid, c.trace_id AS ct, c.span_id AS csid, splitByChar(':', c.key)[1] AS ch
	FROM p INNER JOIN c ON p.key = c.key
	WHERE NOT (p.trace_id = c.trace_id AND p.span_id = c.span_id)
), cs AS (
	SELECT trace_id, span_id, parent_span_id, toString(service) AS service, toString(function) AS function, start_time, duration_ns,
		status_code, toString(destination) AS destination, toString(messaging_system) AS messaging_system
	FROM %[6]s WHERE %[7]s AND span_id IN (SELECT csid FROM pairs)%[8]s
), ps AS (
	SELECT trace_id, span_id, toString(service) AS service, toString(function) AS function, start_time + duration_ns AS end_time,
		if(destination != '', toString(destination), %[9]s) AS dest
	FROM %[6]s WHERE start_time BETWEEN %[10]d AND %[5]d AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt AS pt, pairs.psid AS psid, pairs.ct AS ct, pairs.ch AS ch,
		ps.service AS p_service, ps.function AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs.function AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys
	FROM pairs INNER JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS (
	SELECT pt, psid, ct,
		argMin(ch, ch = 'link') AS hch,
		any(p_service) AS hp_service, any(p_function) AS hp_function, max(p_end) AS hp_end, any(p_dest) AS hp_dest,
		argMin(c_service, c_start) AS hc_service, argMin(c_function, c_start) AS hc_function,
		min(c_start) AS hc_start, argMin(c_dur, c_start) AS hc_dur, max(c_err) AS hc_err,
		max(c_dest) AS hc_dest, max(c_sys) AS hc_sys
	FROM j GROUP BY pt, psid, ct
	-- A span link to a span that is not stored names no producer and no
	-- channel; the message it stands for is counted by its real key.
	HAVING NOT (hch = 'link' AND hp_end IS NULL)
)
SELECT coalesce(hp_service, ''), coalesce(hp_function, ''), coalesce(hc_service, ''), coalesce(hc_function, ''), hch,
	coalesce(hp_dest, ''), coalesce(hc_dest, ''), coalesce(hc_sys, ''),
	count() AS n, countIf(hc_err = 1), %[11]s(hc_dur), %[12]s(hc_start - hp_end, hp_end IS NOT NULL), countIf(hp_end IS NOT NULL)
FROM h
GROUP BY hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys
ORDER BY n DESC, hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys LIMIT %[13]d`,
		e.t("message_refs"), rangeCond("time", q.TimeRange), refTraces,
		plo, phi,
		e.t("spans"), rangeCond("start_time", q.TimeRange), spanFilter("", q.Environment, q.TraceIDs),
		attr("aws.s3.bucket"), plo-hopProducerSpan,
		quantiles, quantilesIf, limit+1)
}

// MapHops implements store.ServiceMapReader in two steps: the time extent
// of the producer refs that join consumers of the range (message_refs is
// sorted by key), then the hops with the producer spans' scan cut to it.
func (e *Engine) MapHops(ctx context.Context, q store.MapQuery) ([]store.HopRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map hops: %w", err)
	}
	if err := e.readable("read map hops"); err != nil {
		return nil, false, err
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
		pEnd = math.MaxInt64
	}
	var (
		plo, phi int64
		n        uint64
	)
	err := e.conn.QueryRow(ctx, fmt.Sprintf(`SELECT min(time), max(time), count() FROM %s
WHERE role = 1 AND time BETWEEN %d AND %d AND key IN (SELECT key FROM %s WHERE role = 2 AND %s%s)`,
		e.t("message_refs"), lagFrom, pEnd, e.t("message_refs"), rangeCond("time", q.TimeRange), refTraces)).Scan(&plo, &phi, &n)
	if err != nil {
		return nil, false, e.fail("read map hops", err)
	}
	out := []store.HopRow{}
	if n == 0 {
		return out, false, nil
	}
	err = e.each(withNulls(ctx), e.buildMapHops(q, plo, phi, limit), func(scan func(...any) error) error {
		var (
			r                     store.HopRow
			count, errs, lagCount uint64
			lat, lag              []float64
		)
		if err := scan(&r.Producer.Service, &r.Producer.Function, &r.Consumer.Service, &r.Consumer.Function, &r.Channel,
			&r.ProducerDestination, &r.ConsumerDestination, &r.ConsumerSystem, &count, &errs, &lat, &lag, &lagCount); err != nil {
			return err
		}
		r.Count, r.Errors, r.LagCount = int64(count), int64(errs), int64(lagCount)
		r.Latency, r.Lag = latency(lat), latency(lag)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read map hops", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// MapNodes implements store.ServiceMapReader.
func (e *Engine) MapNodes(ctx context.Context, q store.MapQuery) ([]store.NodeRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read map nodes: %w", err)
	}
	if err := e.readable("read map nodes"); err != nil {
		return nil, false, err
	}
	limit := clampMapRows(q.Limit)
	query := fmt.Sprintf(`SELECT toString(service) AS s, toString(function) AS f, count() AS n, countIf(status_code = 2), countIf(cold_start), %s(duration_ns)
FROM %s WHERE %s AND %s%s
GROUP BY s, f ORDER BY n DESC, s, f LIMIT %d`,
		quantiles, e.t("spans"), rangeCond("start_time", q.TimeRange), entryCond, spanFilter("", q.Environment, q.TraceIDs), limit+1)
	out := []store.NodeRow{}
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var (
			r              store.NodeRow
			n, errs, colds uint64
			lat            []float64
		)
		if err := scan(&r.Service, &r.Function, &n, &errs, &colds, &lat); err != nil {
			return err
		}
		r.Count, r.Errors, r.ColdStarts, r.Latency = int64(n), int64(errs), int64(colds), latency(lat)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read map nodes", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// RED implements store.ServiceMapReader.
func (e *Engine) RED(ctx context.Context, q store.REDQuery) ([]store.REDRow, bool, error) {
	if err := shared.CheckREDQuery(q); err != nil {
		return nil, false, fmt.Errorf("read RED series: %w", err)
	}
	if err := e.readable("read RED series"); err != nil {
		return nil, false, err
	}
	limit := clampMapRows(q.Limit)
	var cond strings.Builder
	if q.Service != "" {
		cond.WriteString(" AND service = " + sqlStr(q.Service))
	}
	if q.Function != "" {
		cond.WriteString(" AND function = " + sqlStr(q.Function))
	}
	if q.Operation != "" {
		cond.WriteString(" AND name = " + sqlStr(q.Operation))
	} else {
		cond.WriteString(" AND " + entryCond)
	}
	cond.WriteString(spanFilter("", q.Environment, nil))
	group := "''"
	switch q.GroupBy {
	case "service":
		group = "toString(service)"
	case "function":
		group = "toString(function)"
	case "operation":
		group = "toString(name)"
	}
	query := fmt.Sprintf(`SELECT %s AS g, %d + intDiv(start_time - %d, %d) * %d AS b, count(), countIf(status_code = 2), countIf(cold_start), %s(duration_ns)
FROM %s WHERE %s%s
GROUP BY g, b ORDER BY g, b LIMIT %d`,
		group, q.Start, q.Start, q.Step, q.Step, quantiles, e.t("spans"), rangeCond("start_time", q.TimeRange), cond.String(), limit+1)
	out := []store.REDRow{}
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var (
			r              store.REDRow
			n, errs, colds uint64
			lat            []float64
		)
		if err := scan(&r.Group, &r.Bucket, &n, &errs, &colds, &lat); err != nil {
			return err
		}
		r.Count, r.Errors, r.ColdStarts, r.Latency = int64(n), int64(errs), int64(colds), latency(lat)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read RED series", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// Cost implements store.ServiceMapReader: invocation rows merged per
// request id the way package invocation does for the fields a price needs
// (function from the SDK first; billed duration and memory from the
// platform first), then summed per function.
func (e *Engine) Cost(ctx context.Context, q store.CostQuery) ([]store.CostRow, bool, error) {
	if err := shared.CheckMapQuery(q.TimeRange, len(q.TraceIDs)); err != nil {
		return nil, false, fmt.Errorf("read cost: %w", err)
	}
	if err := e.readable("read cost"); err != nil {
		return nil, false, err
	}
	limit := clampMapRows(q.Limit)
	inv := e.t("invocations")
	cond := rangeCond("start", q.TimeRange)
	if len(q.TraceIDs) > 0 {
		cond += " AND request_id IN (SELECT request_id FROM " + inv + " WHERE trace_id IN (" + traceList(q.TraceIDs) + "))"
	}
	pick := func(col string, sources ...string) string {
		parts := make([]string, 0, len(sources)+1)
		for _, s := range sources {
			parts = append(parts, fmt.Sprintf("nullIf(maxIf(%s, source = '%s' AND %s != 0), 0)", col, s, col))
		}
		parts = append(parts, fmt.Sprintf("nullIf(maxIf(%s, %s != 0), 0)", col, col))
		return "coalesce(" + strings.Join(parts, ", ") + ")"
	}
	fn := func(src string) string {
		return fmt.Sprintf("nullIf(maxIf(toString(function), source = '%s' AND function != ''), '')", src)
	}
	fnCond := ""
	if q.Function != "" {
		fnCond = " WHERE fn = " + sqlStr(q.Function)
	}
	billed := "coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0"
	query := fmt.Sprintf(`WITH r AS (
	SELECT request_id,
		coalesce(%s, %s, %s, nullIf(max(toString(function)), '')) AS fn,
		%s AS billed,
		%s AS mem
	FROM %s WHERE %s GROUP BY request_id
)
SELECT coalesce(fn, '') AS f, count() AS n, countIf(%s), coalesce(sumIf(billed / 1e9 * mem / 1024.0, %s), 0) AS gbs, toFloat64(coalesce(sumIf(billed, %s), 0))
FROM r%s GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT %d`,
		fn("sdk"), fn("sdk-start"), fn("telemetry"),
		pick("billed_duration", "telemetry", "logs", "sdk"),
		pick("memory_mb", "telemetry", "logs", "sdk", "sdk-start"),
		inv, cond, billed, billed, billed, fnCond, limit+1)
	out := []store.CostRow{}
	err := e.each(ctx, query, func(scan func(...any) error) error {
		var (
			r          store.CostRow
			n, nBilled uint64
			gbs        float64
			billedNs   float64
		)
		if err := scan(&r.Function, &n, &nBilled, &gbs, &billedNs); err != nil {
			return err
		}
		r.Invocations, r.Billed, r.GBSeconds, r.BilledNs = int64(n), int64(nBilled), gbs, int64(billedNs)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, e.fail("read cost", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
