DELETE FROM ariadne.spans_local ON CLUSTER `c` WHERE start_time < 1000
