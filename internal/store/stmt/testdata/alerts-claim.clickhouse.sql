SELECT id, rev FROM ariadne.alert_events WHERE state = 'pending' AND next_attempt <= 100 AND lease_until <= 100 ORDER BY created, id LIMIT 10;
lease_holder = 'node-a', lease_until = 200, attempts = attempts + 1;
SELECT lease_holder, rev FROM ariadne.alert_events WHERE id = 'ev1';
state = 'failed', delivered_at = 0, last_error = 'HTTP 500: it\'s down', next_attempt = 0, lease_holder = '', lease_until = 0
