INSERT INTO ariadne.detector_journal (token, name, window_start, window_end, occurrences, committed_at) VALUES ('t1', 'errors', 10, 20, '[{"kind":"error","title":"it\'s"}]', 21);
SELECT token, window_start, window_end, occurrences, committed_at FROM ariadne.detector_journal WHERE name = 'errors' ORDER BY window_start, token;
DELETE FROM ariadne.detector_journal WHERE token = 't1'
