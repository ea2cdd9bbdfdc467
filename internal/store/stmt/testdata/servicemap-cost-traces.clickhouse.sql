WITH k AS (
	SELECT request_id,
		argMaxIf("function", CASE source WHEN 'sdk' THEN 4 WHEN 'sdk-start' THEN 3 WHEN 'telemetry' THEN 2 ELSE 1 END, "function" != '') AS fn,
		maxIf(CASE source WHEN 'telemetry' THEN 4 WHEN 'logs' THEN 3 WHEN 'sdk' THEN 2 ELSE 1 END * 1152921504606846976 + billed_duration, billed_duration <> 0) AS bk,
		maxIf(CASE source WHEN 'telemetry' THEN 5 WHEN 'logs' THEN 4 WHEN 'sdk' THEN 3 WHEN 'sdk-start' THEN 2 ELSE 1 END * 4294967296 + memory_mb, memory_mb <> 0) AS mk
	FROM ariadne.invocations WHERE "start" >= 1000000000000 AND "start" < 1003600000000 AND request_id IN (SELECT request_id FROM ariadne.invocations WHERE trace_id IN (unhex('0af7651916cd43dd8448eb211c80319c'))) GROUP BY request_id
), r AS (
	SELECT fn, bk - intDiv(bk + 576460752303423488, 1152921504606846976) * 1152921504606846976 AS billed, mk - intDiv(mk + 2147483648, 4294967296) * 4294967296 AS mem FROM k
)
SELECT coalesce(fn, '') AS f, count(*) AS n, countIf(coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), coalesce(sumIf(billed / 1e9 * mem / 1024.0, coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS gbs, CAST(coalesce(sumIf(billed, coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS DOUBLE)
FROM r WHERE fn = 'checkout' GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT 101
