SELECT body FROM ariadne.logs WHERE invocation_id = 'req-1' AND "time" >= 1000 ORDER BY "time", observed_time LIMIT 100
