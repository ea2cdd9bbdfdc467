SELECT request_id, min("start") AS s FROM ariadne.invocations WHERE true GROUP BY request_id ORDER BY s DESC, request_id DESC LIMIT 64
