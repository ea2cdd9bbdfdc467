SELECT sum(span_count), min(span_start), max(span_start) FROM trace_index WHERE span_count > 0
