SELECT count(*), min(start_min), max(end_max), sum(span_count), sum(log_count), sum(invocation_count) FROM trace_index WHERE trace_id = '0af76519-16cd-43dd-8448-eb211c80319c'::UUID;
SELECT trace_id, span_id FROM spans WHERE trace_id = '0af76519-16cd-43dd-8448-eb211c80319c'::UUID AND start_time BETWEEN 1000 AND 2000 ORDER BY start_time, span_id;
SELECT trace_id, body FROM logs WHERE trace_id = '0af76519-16cd-43dd-8448-eb211c80319c'::UUID AND "time" BETWEEN 1000 AND 2000 ORDER BY "time", observed_time;
SELECT request_id, source FROM invocations WHERE trace_id = '0af76519-16cd-43dd-8448-eb211c80319c'::UUID AND "start" BETWEEN 1000 AND 2000 ORDER BY "start", request_id, source
