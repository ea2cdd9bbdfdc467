SELECT watermark, rev, revs FROM ariadne.detector_state WHERE name = 'errors'
