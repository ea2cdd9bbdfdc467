SELECT id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created FROM ariadne.alert_rules ORDER BY created, id LIMIT 1000;
SELECT id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created FROM ariadne.alert_rules WHERE id = 'rule';
INSERT INTO ariadne.alert_rules (id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created) VALUES ('rule', 'on-call\'s', '', 'api', true, 5, 60000000000, 'webhook', 'http://x', '', 7);
DELETE FROM ariadne.alert_rules WHERE id = 'rule';
DELETE FROM ariadne.alert_events WHERE rule_id = 'rule'
