SELECT key, role FROM message_refs WHERE "key" = 'sqs:it''s' ORDER BY "time", "key", role, trace_id, span_id
