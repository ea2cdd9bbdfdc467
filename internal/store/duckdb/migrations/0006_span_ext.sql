-- Spans are stored in span_rows with one column, ext, in place of the 22
-- columns that most spans leave empty (the derived columns of DESIGN.md §2,
-- the rare OTLP fields, events, links and payloads). ext is a JSON object
-- of the fields a span has, NULL when it has none. DuckDB spends about
-- 100 ns per span on every column at ingest and checkpoint even when the
-- column is NULL (append, commit, WAL, compression), so the empty columns
-- cost a fifth of the ingest CPU (docs/benchmarks-store.md).
--
-- spans stays the name every reader uses and keeps every column name of
-- DESIGN.md §2: it is a view that extracts the fields from ext. The writer
-- appends to span_rows and the Go readers decode ext themselves (codec.go,
-- spanExt), so a query pays for the JSON only when it names a field.
--
-- CREATE TABLE AS keeps any column this list does not name (a later
-- migration's addition) after ext, in order.
CREATE TABLE span_rows AS SELECT
    trace_id, span_id, parent_span_id, flags, start_time, duration_ns, name, kind, status_code,
    service, scope_name, attr_keys, attr_values, resource_attributes,
    nullif(json_merge_patch('{}', json_object(
        'trace_state', trace_state,
        'scope_version', scope_version,
        'status_message', status_message,
        'function', "function",
        'invocation_id', invocation_id,
        'cold_start', CASE WHEN cold_start THEN true END,
        'trigger', "trigger",
        'messaging_system', messaging_system,
        'messaging_operation', messaging_operation,
        'destination', destination,
        'message_ids', CASE WHEN len(message_ids) > 0 THEN to_json(message_ids) END,
        'http_method', http_method,
        'http_route', http_route,
        'http_status', nullif(http_status, 0),
        'db_system', db_system,
        'error_type', error_type,
        'error_message', error_message,
        'attr_types', attr_types,
        'events', json(events),
        'links', json(links),
        'request_payload', request_payload,
        'response_payload', response_payload))::VARCHAR, '{}') AS ext,
    * EXCLUDE (trace_id, span_id, parent_span_id, flags, start_time, duration_ns, name, kind, status_code,
        service, scope_name, attr_keys, attr_values, resource_attributes,
        trace_state, scope_version, status_message, "function", invocation_id, cold_start, "trigger",
        messaging_system, messaging_operation, destination, message_ids, http_method, http_route,
        http_status, db_system, error_type, error_message, attr_types, events, links,
        request_payload, response_payload)
FROM spans;

ALTER TABLE span_rows ALTER COLUMN trace_id SET NOT NULL;
ALTER TABLE span_rows ALTER COLUMN span_id SET NOT NULL;
ALTER TABLE span_rows ALTER COLUMN parent_span_id SET NOT NULL;
ALTER TABLE span_rows ALTER COLUMN start_time SET NOT NULL;
ALTER TABLE span_rows ALTER COLUMN duration_ns SET NOT NULL;

DROP TABLE spans;

CREATE VIEW spans AS SELECT *,
    json_extract_string(ext, '$.trace_state') AS trace_state,
    json_extract_string(ext, '$.scope_version') AS scope_version,
    json_extract_string(ext, '$.status_message') AS status_message,
    json_extract_string(ext, '$.function') AS "function",
    json_extract_string(ext, '$.invocation_id') AS invocation_id,
    coalesce(json_extract_string(ext, '$.cold_start')::BOOLEAN, false) AS cold_start,
    json_extract_string(ext, '$.trigger') AS "trigger",
    json_extract_string(ext, '$.messaging_system') AS messaging_system,
    json_extract_string(ext, '$.messaging_operation') AS messaging_operation,
    json_extract_string(ext, '$.destination') AS destination,
    json_extract_string(ext, '$.message_ids[*]') AS message_ids,
    json_extract_string(ext, '$.http_method') AS http_method,
    json_extract_string(ext, '$.http_route') AS http_route,
    coalesce(json_extract_string(ext, '$.http_status')::INTEGER, 0) AS http_status,
    json_extract_string(ext, '$.db_system') AS db_system,
    json_extract_string(ext, '$.error_type') AS error_type,
    json_extract_string(ext, '$.error_message') AS error_message,
    json_extract_string(ext, '$.attr_types') AS attr_types,
    json_extract(ext, '$.events')::VARCHAR AS events,
    json_extract(ext, '$.links')::VARCHAR AS links,
    json_extract_string(ext, '$.request_payload') AS request_payload,
    json_extract_string(ext, '$.response_payload') AS response_payload
FROM span_rows;

-- A Bloom filter per minute of span start times over the attribute and
-- resource attribute key=value pairs of its spans (attrfilter.go): an
-- attribute search reads only the minutes whose filter may hold its pairs.
-- bits is NULL and dirty true while the filter is being built in memory
-- (the writer marks a minute dirty in the commit that first adds to it and
-- writes the bits when it is done with it); a dirty minute is searched
-- whole. A minute without a row holds no spans. The minutes already
-- stored when this table was created have no filter: they are dirty.
CREATE TABLE attr_filters (
    bucket              BIGINT NOT NULL, -- Unix ns, start of the minute
    bits                BIT,
    dirty               BOOLEAN NOT NULL
);
INSERT INTO attr_filters
    SELECT DISTINCT start_time - (start_time % 60000000000) - CASE WHEN start_time % 60000000000 < 0 THEN 60000000000 ELSE 0 END, NULL, true
    FROM span_rows;
