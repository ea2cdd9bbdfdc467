SELECT service, version, fields, first_seen, last_seen FROM ariadne.contracts WHERE channel = 'jobs' ORDER BY first_seen, service, version LIMIT 1000;
SELECT fields, first_seen, last_seen, rev FROM ariadne.contracts WHERE key = 'jobs\0api\01.2';
INSERT INTO ariadne.contracts (key, channel, service, version, fields, first_seen, last_seen, rev, revs) VALUES ('jobs\0api\01.2', 'jobs', 'api', '1.2', '{"id":"string"}', 1, 2, 'r1', ['r1']);
fields = '{"id":"string"}', first_seen = 1, last_seen = 2
