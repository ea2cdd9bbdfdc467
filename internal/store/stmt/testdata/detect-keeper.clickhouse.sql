INSERT INTO ariadne.detector_state (name, watermark, updated_at, rev, revs) VALUES ('errors', 2, 3, 'r1', ['r1']);
ALTER TABLE ariadne.detector_state UPDATE watermark = 2, updated_at = 3, rev = 'r1', revs = arraySlice(arrayPushBack(revs, 'r1'), -8) WHERE name = 'errors' AND rev = 'r0';
SELECT has(revs, 'r1') FROM ariadne.detector_state WHERE name = 'errors';
SELECT watermark, rev, revs FROM ariadne.detector_state WHERE name = 'errors'
