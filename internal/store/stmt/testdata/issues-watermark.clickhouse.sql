SELECT watermark, rev FROM ariadne.detector_state WHERE name = 'errors'
