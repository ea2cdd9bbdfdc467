SELECT * FROM ariadne.spans WHERE start_time < 1772366460000000000 AND (start_time + duration_ns) < 1772366460000000000 AND ((status_code = 2)) ORDER BY start_time, span_id LIMIT 11
