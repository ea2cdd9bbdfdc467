WITH s AS (
	SELECT trace_id, parent_span_id, service, "function", status_code, duration_ns
	FROM spans WHERE start_time >= 940000000000 AND start_time < 1063600000000 AND kind = 2 AND parent_span_id <> 0
), c AS (
	SELECT trace_id, span_id, service, "function", kind, status_code, duration_ns, messaging_system, peer
	FROM spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND kind IN (3, 4)
), cs AS MATERIALIZED (
	SELECT c.service AS service, c."function" AS "function", c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s."function" AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		CASE WHEN s.trace_id IS NULL THEN split_part(c.peer, ':', 1) ELSE CAST(NULL AS VARCHAR) END AS peer_kind,
		CASE WHEN s.trace_id IS NULL THEN substr(c.peer, strpos(c.peer, ':') + 1) ELSE CAST(NULL AS VARCHAR) END AS peer,
		(c.kind = 4 OR c.messaging_system IS NOT NULL) AS messaging,
		(c.status_code = 2 OR coalesce(s.status_code, 0) = 2) AS err, c.duration_ns AS dur
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
	SELECT p.service AS service, p."function" AS "function", o.s_service AS s_service, o.s_function AS s_function,
		CAST(NULL AS VARCHAR) AS peer_kind, CAST(NULL AS VARCHAR) AS peer, false AS messaging,
		(p.status_code = 2 OR o.s_status = 2) AS err, o.s_dur AS dur
	FROM orphans AS o JOIN spans AS p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE p.start_time >= 1000000000000 AND p.start_time < 1003600000000 AND (p.service IS DISTINCT FROM o.s_service OR p."function" IS DISTINCT FROM o.s_function)
), j AS (
	SELECT * FROM called UNION ALL SELECT * FROM peers UNION ALL SELECT * FROM adopted
)
SELECT service, "function", s_service, s_function, peer_kind, peer, bool_or(messaging), CASE WHEN (dur) > 0 THEN 1 + CAST(floor(8 * log2(dur)) AS SMALLINT) WHEN (dur) < 0 THEN -1 - CAST(floor(8 * log2(-(dur))) AS SMALLINT) ELSE 0 END AS b, count(*), count_if(err), min(dur), max(dur)
FROM j
GROUP BY service, "function", s_service, s_function, peer_kind, peer, b
