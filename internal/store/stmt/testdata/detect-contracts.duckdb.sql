SELECT service, version, fields, first_seen, last_seen FROM contracts WHERE channel = 'jobs' ORDER BY first_seen, service, version LIMIT 1000;
SELECT fields, first_seen, last_seen FROM contracts WHERE channel = 'jobs' AND service = 'api' AND version = '1.2';
INSERT INTO contracts (channel, service, version, fields, first_seen, last_seen) VALUES ('jobs', 'api', '1.2', '{"id":"string"}', 1, 2) ON CONFLICT (channel, service, version) DO UPDATE SET fields = excluded.fields, first_seen = excluded.first_seen, last_seen = excluded.last_seen
