SELECT request_id, "function", "start" FROM invocations WHERE request_id IN ('req-1', 'it''s', ('nul' || chr(0) || 'id')) AND "start" BETWEEN 1000 AND 2000
