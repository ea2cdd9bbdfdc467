SELECT '' AS g, 1000000000000 + intDiv(start_time - 1000000000000, 60000000000) * 60000000000 AS b, count(*), countIf(status_code = 2), countIf(cold_start), quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns)
FROM ariadne.spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND "function" = 'checkout' AND (CASE WHEN "function" != '' THEN "trigger" != '' OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END)
GROUP BY g, b ORDER BY g, b LIMIT 101
