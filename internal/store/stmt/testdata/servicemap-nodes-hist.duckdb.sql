SELECT service, "function", CASE WHEN (duration_ns) > 0 THEN 1 + CAST(floor(8 * log2(duration_ns)) AS SMALLINT) WHEN (duration_ns) < 0 THEN -1 - CAST(floor(8 * log2(-(duration_ns))) AS SMALLINT) ELSE 0 END AS b, count(*), count_if(status_code = 2), count_if(cold_start), min(duration_ns), max(duration_ns)
FROM spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND (CASE WHEN "function" IS NOT NULL THEN "trigger" IS NOT NULL OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END)
GROUP BY service, "function", b
