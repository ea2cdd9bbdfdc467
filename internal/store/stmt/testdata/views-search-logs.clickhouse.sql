SELECT body FROM ariadne.logs WHERE true ORDER BY "time" DESC, observed_time DESC, trace_id, span_id, body, severity, invocation_id LIMIT 100 OFFSET 0
