SELECT coalesce(service, '') AS g, 1000000000000 + intDiv(start_time - 1000000000000, 60000000000) * 60000000000 AS b, count(*), countIf(status_code = 2), countIf(cold_start), quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns)
FROM ariadne.spans WHERE start_time >= 1000000000000 AND start_time < 1003600000000 AND name = 'GET /'
GROUP BY g, b ORDER BY g, b LIMIT 101
