WITH c AS (
	SELECT "key", trace_id, span_id FROM ariadne.message_refs WHERE role = 2 AND "time" >= 1000000000000 AND "time" < 1003600000000
), p AS (
	SELECT "key", trace_id, span_id FROM ariadne.message_refs WHERE role = 1 AND "time" BETWEEN 940000000000 AND 1003600000000 AND "key" IN (SELECT "key" FROM c)
), pairs AS (
	SELECT DISTINCT p.trace_id AS pt, p.span_id AS psid, c.trace_id AS ct, c.span_id AS csid, splitByChar(':', c."key")[1] AS ch
	FROM p JOIN c ON p."key" = c."key"
	WHERE NOT (p.trace_id = c.trace_id AND p.span_id = c.span_id)
), cs AS (
	SELECT trace_id, span_id, parent_span_id, toString(service) AS service, toString("function") AS "function", start_time, duration_ns, status_code,
		toString(destination) AS destination, toString(messaging_system) AS messaging_system
	FROM ariadne.spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND span_id IN (SELECT csid FROM pairs)
), ps AS (
	SELECT trace_id, span_id, toString(service) AS service, toString("function") AS "function", start_time + duration_ns AS end_time,
		if(destination != '', toString(destination), attributes['aws.s3.bucket']) AS dest
	FROM ariadne.spans WHERE start_time BETWEEN 40000000000 AND 1003600000000 AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt AS pt, pairs.psid AS psid, pairs.ct AS ct, pairs.ch AS ch,
		ps.service AS p_service, ps."function" AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs."function" AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys
	FROM pairs JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS (
	SELECT pt, psid, ct,
		argMin(ch, ch = 'link') AS hch,
		any(p_service) AS hp_service, any(p_function) AS hp_function,
		max(p_end) AS hp_end, any(p_dest) AS hp_dest,
		argMin(c_service, c_start) AS hc_service, argMin(c_function, c_start) AS hc_function,
		min(c_start) AS hc_start, argMin(c_dur, c_start) AS hc_dur, max(c_err) AS hc_err,
		max(c_dest) AS hc_dest, max(c_sys) AS hc_sys
	FROM j GROUP BY pt, psid, ct
	-- A span link to a span that is not stored (a platform's or an X-Ray
	-- context) names no producer and no channel; the message it stands
	-- for is counted by its real key.
	HAVING NOT (argMin(ch, ch = 'link') = 'link' AND max(p_end) IS NULL)
)
SELECT coalesce(hp_service, ''), coalesce(hp_function, ''), coalesce(hc_service, ''), coalesce(hc_function, ''), coalesce(hch, ''), coalesce(hp_dest, ''), coalesce(hc_dest, ''), coalesce(hc_sys, ''),
	count(*) AS n, countIf(hc_err), quantilesExactInclusive(0.5, 0.95, 0.99)(hc_dur), quantilesExactInclusiveIf(0.5, 0.95, 0.99)(hc_start - hp_end, hp_end IS NOT NULL), count(hp_end)
FROM h
GROUP BY hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys
ORDER BY n DESC, hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys LIMIT 101
