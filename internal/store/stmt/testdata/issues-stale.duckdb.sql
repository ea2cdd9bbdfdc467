UPDATE issues SET status = 'resolved', resolved_at = 200, updated_at = 200 WHERE status = 'open' AND last_seen < 100
