WITH c AS (
	SELECT "key", trace_id, span_id FROM message_refs WHERE role = 2 AND "time" >= 1000000000000 AND "time" < 1003600000000
), p AS (
	SELECT "key", trace_id, span_id FROM message_refs WHERE role = 1 AND "time" BETWEEN 940000000000 AND 1003600000000 AND "key" IN (SELECT "key" FROM c)
), pairs AS MATERIALIZED (
	SELECT p.trace_id AS pt, p.span_id AS psid, c.trace_id AS ct, c.span_id AS csid, split_part(c."key", ':', 1) AS ch
	FROM p JOIN c ON p."key" = c."key"
	WHERE NOT (p.trace_id = c.trace_id AND p.span_id = c.span_id)
), cs AS (
	SELECT trace_id, span_id, parent_span_id, service, "function", start_time, duration_ns, status_code,
		destination, messaging_system
	FROM spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND span_id IN (SELECT csid FROM pairs) AND (contains(resource_attributes, '["deployment.environment.name","prod",') OR contains(resource_attributes, '["deployment.environment","prod",'))
), ps AS (
	SELECT trace_id, span_id, service, "function", start_time + duration_ns AS end_time,
		coalesce(destination, CASE WHEN split_part(peer, ':', 1) = 'bucket' THEN substr(peer, strpos(peer, ':') + 1) END) AS dest
	FROM spans WHERE start_time BETWEEN 40000000000 AND 1003600000000 AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt AS pt, pairs.psid AS psid, pairs.ct AS ct, pairs.ch AS ch,
		ps.service AS p_service, ps."function" AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs."function" AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys
	FROM pairs JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS MATERIALIZED (
	SELECT pt, psid, ct,
		arg_min(ch, ch = 'link') AS hch,
		any_value(p_service) AS hp_service, any_value(p_function) AS hp_function,
		max(p_end) AS hp_end, any_value(p_dest) AS hp_dest,
		arg_min(c_service, c_start) AS hc_service, arg_min(c_function, c_start) AS hc_function,
		min(c_start) AS hc_start, arg_min(c_dur, c_start) AS hc_dur, bool_or(c_err) AS hc_err,
		max(c_dest) AS hc_dest, max(c_sys) AS hc_sys
	FROM j GROUP BY pt, psid, ct
	-- A span link to a span that is not stored (a platform's or an X-Ray
	-- context) names no producer and no channel; the message it stands
	-- for is counted by its real key.
	HAVING NOT (arg_min(ch, ch = 'link') = 'link' AND max(p_end) IS NULL)
)
SELECT hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys, 0 AS metric, CASE WHEN (hc_dur) > 0 THEN 1 + CAST(floor(8 * log2(hc_dur)) AS SMALLINT) WHEN (hc_dur) < 0 THEN -1 - CAST(floor(8 * log2(-(hc_dur))) AS SMALLINT) ELSE 0 END AS b, count(*), count_if(hc_err), min(hc_dur), max(hc_dur)
FROM h GROUP BY hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys, b
UNION ALL
SELECT hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys, 1 AS metric, CASE WHEN (hc_start - hp_end) > 0 THEN 1 + CAST(floor(8 * log2(hc_start - hp_end)) AS SMALLINT) WHEN (hc_start - hp_end) < 0 THEN -1 - CAST(floor(8 * log2(-(hc_start - hp_end))) AS SMALLINT) ELSE 0 END AS b, count(*), count_if(false), min(hc_start - hp_end), max(hc_start - hp_end)
FROM h WHERE hp_end IS NOT NULL GROUP BY hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys, b
