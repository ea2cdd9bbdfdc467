INSERT INTO detector_state (name, watermark, updated_at) VALUES ('errors', 5, 6);
UPDATE detector_state SET watermark = 7, updated_at = 8 WHERE name = 'errors'
