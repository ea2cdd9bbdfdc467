DELETE FROM span_rows WHERE start_time < 1000
