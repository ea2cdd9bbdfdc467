SELECT id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at FROM ariadne.alert_events WHERE true ORDER BY created DESC, id LIMIT 10;
SELECT id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at FROM ariadne.alert_events WHERE rule_id = 'rule' ORDER BY created DESC, id LIMIT 5;
SELECT id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at FROM ariadne.alert_events WHERE id = 'ev'
