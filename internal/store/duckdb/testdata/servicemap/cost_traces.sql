WITH r AS (
	SELECT request_id,
		coalesce(max("function") FILTER (WHERE source = 'sdk'), max("function") FILTER (WHERE source = 'sdk-start'), max("function") FILTER (WHERE source = 'telemetry'), max("function")) AS fn,
		coalesce(max(billed_duration) FILTER (WHERE source = 'telemetry' AND billed_duration IS NOT NULL AND billed_duration <> 0), max(billed_duration) FILTER (WHERE source = 'logs' AND billed_duration IS NOT NULL AND billed_duration <> 0), max(billed_duration) FILTER (WHERE source = 'sdk' AND billed_duration IS NOT NULL AND billed_duration <> 0), max(billed_duration) FILTER (WHERE billed_duration <> 0)) AS billed,
		coalesce(max(memory_mb) FILTER (WHERE source = 'telemetry' AND memory_mb IS NOT NULL AND memory_mb <> 0), max(memory_mb) FILTER (WHERE source = 'logs' AND memory_mb IS NOT NULL AND memory_mb <> 0), max(memory_mb) FILTER (WHERE source = 'sdk' AND memory_mb IS NOT NULL AND memory_mb <> 0), max(memory_mb) FILTER (WHERE source = 'sdk-start' AND memory_mb IS NOT NULL AND memory_mb <> 0), max(memory_mb) FILTER (WHERE memory_mb <> 0)) AS mem
	FROM invocations WHERE "start" >= 1000000000000 AND "start" < 1003600000000 AND request_id IN (SELECT request_id FROM invocations WHERE trace_id IN ('0af76519-16cd-43dd-8448-eb211c80319c'::UUID)) GROUP BY request_id
)
SELECT coalesce(fn, '') AS f, count(*) AS n, count_if(coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), coalesce(sum(billed / 1e9 * mem / 1024.0) FILTER (WHERE coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS gbs, CAST(coalesce(sum(billed) FILTER (WHERE coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS DOUBLE)
FROM r WHERE fn = ? GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT 101
-- args: ["checkout"]
