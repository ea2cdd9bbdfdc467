SELECT DISTINCT "key", role, trace_id, span_id, "time", destination FROM ariadne.message_refs WHERE destination = 'jobs' AND true ORDER BY "time" DESC, "key", role, trace_id, span_id LIMIT 51
