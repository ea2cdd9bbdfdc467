SELECT count(*) FROM span_rows WHERE start_time < 1000;
DELETE FROM span_rows WHERE start_time < 1000;
SELECT count(*) FROM logs WHERE "time" < 1000;
DELETE FROM logs WHERE "time" < 1000;
SELECT count(*) FROM invocations WHERE "start" < 1000;
DELETE FROM invocations WHERE "start" < 1000;
SELECT count(*) FROM message_refs WHERE "time" < 1000;
DELETE FROM message_refs WHERE "time" < 1000;
SELECT count(*) FROM trace_index WHERE start_min < 1000;
DELETE FROM trace_index WHERE start_min < 1000
