-- Correlation walks a transaction both ways: key → traces (message_refs_key)
-- and trace → keys, the refs every trace found so far produced or
-- consumed. Without this index the second direction scans message_refs
-- once per step of the walk.
CREATE INDEX message_refs_trace_id ON message_refs (trace_id);
