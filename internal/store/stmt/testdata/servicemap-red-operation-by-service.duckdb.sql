SELECT coalesce(service, '') AS g, 1000000000000 + ((start_time - 1000000000000) // (60000000000)) * 60000000000 AS b, count(*), count_if(status_code = 2), count_if(cold_start), quantile_cont(duration_ns, [0.5, 0.95, 0.99])
FROM spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND name = 'GET /'
GROUP BY g, b ORDER BY g, b LIMIT 101
