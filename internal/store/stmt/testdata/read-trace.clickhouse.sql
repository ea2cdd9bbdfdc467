SELECT count(*), min(start_min), max(end_max), sum(span_count), sum(log_count), sum(invocation_count) FROM ariadne.trace_index WHERE trace_id = unhex('0af7651916cd43dd8448eb211c80319c');
SELECT trace_id, span_id FROM ariadne.spans WHERE trace_id = unhex('0af7651916cd43dd8448eb211c80319c') AND start_time BETWEEN 1000 AND 2000 ORDER BY start_time, span_id;
SELECT trace_id, body FROM ariadne.logs WHERE trace_id = unhex('0af7651916cd43dd8448eb211c80319c') AND "time" BETWEEN 1000 AND 2000 ORDER BY "time", observed_time;
SELECT request_id, source FROM ariadne.invocations WHERE trace_id = unhex('0af7651916cd43dd8448eb211c80319c') AND "start" BETWEEN 1000 AND 2000 ORDER BY "start", request_id, source
