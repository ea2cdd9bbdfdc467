SELECT count(*) FROM ariadne.spans WHERE start_time < 1000;
DELETE FROM ariadne.spans WHERE start_time < 1000;
SELECT count(*) FROM ariadne.logs WHERE "time" < 1000;
DELETE FROM ariadne.logs WHERE "time" < 1000;
SELECT count(*) FROM ariadne.invocations WHERE "start" < 1000;
DELETE FROM ariadne.invocations WHERE "start" < 1000;
SELECT count(*) FROM ariadne.message_refs WHERE "time" < 1000;
DELETE FROM ariadne.message_refs WHERE "time" < 1000;
SELECT count(*) FROM ariadne.trace_index WHERE start_min < 1000;
DELETE FROM ariadne.trace_index WHERE start_min < 1000
