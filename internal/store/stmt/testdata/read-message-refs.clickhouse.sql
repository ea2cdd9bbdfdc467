SELECT DISTINCT key, role FROM ariadne.message_refs WHERE "key" = 'sqs:it\'s' ORDER BY "time", "key", role, trace_id, span_id
