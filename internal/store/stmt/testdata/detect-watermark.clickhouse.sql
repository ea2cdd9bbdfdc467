SELECT watermark FROM ariadne.detector_state WHERE name = 'errors'
