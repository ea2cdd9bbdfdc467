SELECT DISTINCT request_id, "function", "start" FROM ariadne.invocations WHERE request_id IN ('req-1', 'it\'s', 'nul\0id') AND "start" BETWEEN 1000 AND 2000
