WITH k AS (
	SELECT request_id,
		arg_max("function", CASE source WHEN 'sdk' THEN 4 WHEN 'sdk-start' THEN 3 WHEN 'telemetry' THEN 2 ELSE 1 END) FILTER (WHERE "function" IS NOT NULL) AS fn,
		max(CASE source WHEN 'telemetry' THEN 4 WHEN 'logs' THEN 3 WHEN 'sdk' THEN 2 ELSE 1 END * 1152921504606846976 + billed_duration) FILTER (WHERE billed_duration <> 0) AS bk,
		max(CASE source WHEN 'telemetry' THEN 5 WHEN 'logs' THEN 4 WHEN 'sdk' THEN 3 WHEN 'sdk-start' THEN 2 ELSE 1 END * 4294967296 + memory_mb) FILTER (WHERE memory_mb <> 0) AS mk
	FROM invocations WHERE "start" >= 1000000000000 AND "start" < 1003600000000 AND request_id IN (SELECT request_id FROM invocations WHERE trace_id IN ('0af76519-16cd-43dd-8448-eb211c80319c'::UUID)) GROUP BY request_id
), r AS (
	SELECT fn, bk - ((bk + 576460752303423488) // (1152921504606846976)) * 1152921504606846976 AS billed, mk - ((mk + 2147483648) // (4294967296)) * 4294967296 AS mem FROM k
)
SELECT coalesce(fn, '') AS f, count(*) AS n, count_if(coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), coalesce(sum(billed / 1e9 * mem / 1024.0) FILTER (WHERE coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS gbs, CAST(coalesce(sum(billed) FILTER (WHERE coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS DOUBLE)
FROM r WHERE fn = 'checkout' GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT 101
