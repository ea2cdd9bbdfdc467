WITH s AS (
	SELECT trace_id, parent_span_id, toString(service) AS service, toString("function") AS "function", status_code, duration_ns
	FROM ariadne.spans WHERE start_time >= 940000000000 AND start_time < 1063600000000 AND kind = 2 AND parent_span_id <> 0
), c AS (
	SELECT trace_id, span_id, toString(service) AS service, toString("function") AS "function", kind, status_code, duration_ns, messaging_system, multiIf((messaging_system != '' OR kind = 4), multiIf(messaging_system IN ('aws_sns', 'kafka', 'gcp_pubsub'), 'topic',
			messaging_system = 'aws_kinesis', 'stream', messaging_system = 'aws_eventbridge', 'eventbus', 'queue'),
		db_system != '', 'database',
		attributes['aws.s3.bucket'] != '', 'bucket',
		attributes['rpc.system'] = 'aws-api' AND attributes['rpc.service'] IN ('Lambda', 'SFN'), '',
		attributes['rpc.system'] = 'aws-api', 'aws',
		multiIf(attributes['server.address'] != '', attributes['server.address'], attributes['net.peer.name'] != '', attributes['net.peer.name'], attributes['http.host']) != '', 'http',
		'') AS pk, multiIf((messaging_system != '' OR kind = 4), multiIf(destination != '', toString(destination), messaging_system != '', toString(messaging_system), 'unknown'),
		db_system != '', toString(db_system),
		attributes['aws.s3.bucket'] != '', attributes['aws.s3.bucket'],
		attributes['rpc.system'] = 'aws-api', attributes['rpc.service'],
		multiIf(attributes['server.address'] != '', attributes['server.address'], attributes['net.peer.name'] != '', attributes['net.peer.name'], attributes['http.host'])) AS pn, start_time AS t, CASE WHEN position(resource_attributes, '["deployment.environment.name",') > 0 THEN JSONExtractString(concat('"', extract(resource_attributes, '\\["deployment\\.environment\\.name","((?:[^"\\\\]|\\\\.)*)",'), '"')) WHEN position(resource_attributes, '["deployment.environment",') > 0 THEN JSONExtractString(concat('"', extract(resource_attributes, '\\["deployment\\.environment","((?:[^"\\\\]|\\\\.)*)",'), '"')) ELSE '' END AS env
	FROM ariadne.spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND kind IN (3, 4)
), cs AS (
	SELECT c.service AS service, c."function" AS "function", c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s."function" AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		CASE WHEN s.trace_id IS NULL THEN c.pk ELSE '' END AS peer_kind,
		CASE WHEN s.trace_id IS NULL THEN c.pn ELSE '' END AS peer,
		(c.kind = 4 OR c.messaging_system != '') AS messaging,
		(c.status_code = 2 OR coalesce(s.status_code, 0) = 2) AS err, c.duration_ns AS dur, c.t AS t, c.env AS env
	FROM c FULL OUTER JOIN s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
), called AS (
	SELECT assumeNotNull(service) AS service, assumeNotNull("function") AS "function", assumeNotNull(s_service) AS s_service, assumeNotNull(s_function) AS s_function,
		'' AS peer_kind, '' AS peer, false AS messaging, err, assumeNotNull(dur) AS dur, assumeNotNull(t) AS t, assumeNotNull(env) AS env
	FROM cs WHERE has_client AND s_trace IS NOT NULL
), peers AS (
	SELECT assumeNotNull(service) AS service, assumeNotNull("function") AS "function", '' AS s_service, '' AS s_function,
		assumeNotNull(peer_kind) AS peer_kind, assumeNotNull(peer) AS peer, assumeNotNull(messaging) AS messaging, err, assumeNotNull(dur) AS dur, assumeNotNull(t) AS t, assumeNotNull(env) AS env
	FROM cs WHERE has_client AND s_trace IS NULL AND peer_kind != ''
), orphans AS (
	SELECT s_trace, s_parent, s_service, s_function, s_status, s_dur FROM cs WHERE NOT has_client
), adopted AS (
	SELECT toString(p.service) AS service, toString(p."function") AS "function", assumeNotNull(o.s_service) AS s_service, assumeNotNull(o.s_function) AS s_function,
		'' AS peer_kind, '' AS peer, false AS messaging,
		(p.status_code = 2 OR o.s_status = 2) AS err, assumeNotNull(o.s_dur) AS dur, p.start_time AS t, CASE WHEN position(p.resource_attributes, '["deployment.environment.name",') > 0 THEN JSONExtractString(concat('"', extract(p.resource_attributes, '\\["deployment\\.environment\\.name","((?:[^"\\\\]|\\\\.)*)",'), '"')) WHEN position(p.resource_attributes, '["deployment.environment",') > 0 THEN JSONExtractString(concat('"', extract(p.resource_attributes, '\\["deployment\\.environment","((?:[^"\\\\]|\\\\.)*)",'), '"')) ELSE '' END AS env
	FROM orphans AS o JOIN ariadne.spans AS p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE p.start_time >= 1000000000000 AND p.start_time < 1003600000000 AND (toString(p.service) != o.s_service OR toString(p."function") != o.s_function)
), j AS (
	SELECT * FROM called UNION ALL SELECT * FROM peers UNION ALL SELECT * FROM adopted
)
SELECT (intDiv(t, 60000000000) * 60000000000) AS m, env, service, "function", s_service, s_function, peer_kind, peer, max(messaging), CAST(CASE WHEN (dur) > 0 THEN 1 + CAST(floor(8 * log2(greatest(dur, 1))) AS SMALLINT) WHEN (dur) < 0 THEN -1 - CAST(floor(8 * log2(greatest(-(dur), 1))) AS SMALLINT) ELSE 0 END AS SMALLINT) AS b, toInt64(count(*)), toInt64(countIf(err)), min(dur), max(dur)
FROM j
GROUP BY m, env, service, "function", s_service, s_function, peer_kind, peer, b
