SELECT watermark FROM detector_state WHERE name = 'errors'
