SELECT count(), min(start_min), max(start_min) FROM ariadne.trace_index
