SELECT service, "function", CAST(CASE WHEN (duration_ns) > 0 THEN 1 + CAST(floor(8 * log2(greatest(duration_ns, 1))) AS SMALLINT) WHEN (duration_ns) < 0 THEN -1 - CAST(floor(8 * log2(greatest(-(duration_ns), 1))) AS SMALLINT) ELSE 0 END AS SMALLINT) AS b, toInt64(count(*)), toInt64(countIf(status_code = 2)), toInt64(countIf(cold_start)), min(duration_ns), max(duration_ns)
FROM ariadne.spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND (CASE WHEN "function" != '' THEN "trigger" != '' OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END)
GROUP BY service, "function", b
