SELECT id FROM ariadne.issues WHERE status = 'open' AND last_seen < 100 ORDER BY id
