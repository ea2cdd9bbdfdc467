SELECT DISTINCT service FROM ariadne.spans WHERE start_time >= 1000 AND start_time < 2000 AND service <> '' ORDER BY service;
SELECT DISTINCT service FROM ariadne.spans WHERE true AND service <> '' ORDER BY service
