SELECT service, "function", count(*) AS n, countIf(status_code = 2), countIf(cold_start), quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns)
FROM ariadne.spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND (CASE WHEN "function" != '' THEN "trigger" != '' OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END) AND (position(resource_attributes, '["deployment.environment.name","prod",') > 0 OR position(resource_attributes, '["deployment.environment","prod",') > 0)
GROUP BY service, "function" ORDER BY n DESC, service, "function" LIMIT 101
