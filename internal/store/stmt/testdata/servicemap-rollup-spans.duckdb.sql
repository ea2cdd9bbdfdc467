SELECT (start_time // 60000000000 * 60000000000) AS m, count(*) AS n FROM spans WHERE start_time >= 1000020000000 AND start_time < 1000200000000 GROUP BY m
