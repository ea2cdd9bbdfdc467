SELECT count() FROM ariadne.alert_events WHERE rule_id = 'rule' AND issue_id = 'iss' AND type = 'firing' AND episode = 3;
INSERT INTO ariadne.alert_events (id, rule_id, issue_id, type, episode, state, attempts, next_attempt, lease_holder, lease_until, last_error, created, delivered_at, rev, revs) VALUES ('ev1', 'rule', 'iss', 'firing', 3, 'pending', 0, 4, '', 0, '', 4, 0, 'r1', ['r1'])
