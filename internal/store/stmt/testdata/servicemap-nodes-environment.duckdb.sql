SELECT service, "function", count(*) AS n, count_if(status_code = 2), count_if(cold_start), quantile_cont(duration_ns, [0.5, 0.95, 0.99])
FROM spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND (CASE WHEN "function" IS NOT NULL THEN "trigger" IS NOT NULL OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END) AND (contains(resource_attributes, '["deployment.environment.name","prod",') OR contains(resource_attributes, '["deployment.environment","prod",'))
GROUP BY service, "function" ORDER BY n DESC, service, "function" LIMIT 101
