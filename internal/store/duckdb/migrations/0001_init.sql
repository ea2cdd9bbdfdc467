-- Ariadne schema version 1 (DESIGN.md §2). Column names are the contract;
-- schema.go holds the same column lists for the appenders and the readers,
-- and a test checks the two agree.
--
-- Types follow docs in shared/reference/duckdb-spike.md: UUID trace ids
-- (RLE-compressed, fast equality), UBIGINT span ids (big-endian bytes of the
-- 8-byte id, 0 = none), times as BIGINT Unix ns, attributes as parallel
-- key/value lists (faster ingest than MAP) plus a types string holding one
-- digit per attribute (model.ValueType) so values round-trip exactly; NULL
-- when every value is a string.
-- Resource attributes, the same on every row of a process, are one JSON
-- text per row that dictionary compression stores once (codec.go).
-- Empty strings are stored as NULL (cheaper to ingest); readers map NULL
-- back to "".

CREATE TABLE spans (
    trace_id            UUID NOT NULL,
    span_id             UBIGINT NOT NULL,
    parent_span_id      UBIGINT NOT NULL,
    trace_state         VARCHAR,
    flags               UINTEGER,
    start_time          BIGINT NOT NULL,
    duration_ns         BIGINT NOT NULL,
    name                VARCHAR,
    kind                UTINYINT,
    status_code         UTINYINT,
    status_message      VARCHAR,
    service             VARCHAR,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    function            VARCHAR,
    invocation_id       VARCHAR,
    cold_start          BOOLEAN,
    trigger             VARCHAR,
    messaging_system    VARCHAR,
    messaging_operation VARCHAR,
    destination         VARCHAR,
    message_ids         VARCHAR[],
    http_method         VARCHAR,
    http_route          VARCHAR,
    http_status         INTEGER,
    db_system           VARCHAR,
    error_type          VARCHAR,
    error_message       VARCHAR,
    attr_keys           VARCHAR[],
    attr_values         VARCHAR[],
    attr_types          VARCHAR,
    resource_attributes VARCHAR, -- JSON [["key","value",type],…], NULL when none
    events              VARCHAR, -- JSON, NULL when none
    links               VARCHAR, -- JSON, NULL when none
    request_payload     VARCHAR,
    response_payload    VARCHAR
);

CREATE TABLE logs (
    time                BIGINT NOT NULL,
    observed_time       BIGINT,
    trace_id            UUID,
    span_id             UBIGINT,
    flags               UINTEGER,
    severity            UTINYINT,
    severity_text       VARCHAR,
    body                VARCHAR,
    body_type           UTINYINT,
    service             VARCHAR,
    function            VARCHAR,
    invocation_id       VARCHAR,
    scope_name          VARCHAR,
    attr_keys           VARCHAR[],
    attr_values         VARCHAR[],
    attr_types          VARCHAR,
    resource_attributes VARCHAR
);

-- Durations in ns; deadline Unix ns (0 = unknown).
CREATE TABLE invocations (
    request_id          VARCHAR NOT NULL,
    function            VARCHAR,
    source              VARCHAR,
    start               BIGINT NOT NULL,
    duration            BIGINT,
    billed_duration     BIGINT,
    init_duration       BIGINT,
    deadline            BIGINT,
    memory_mb           INTEGER,
    max_memory_mb       INTEGER,
    status              VARCHAR,
    error_type          VARCHAR,
    cold_start          BOOLEAN,
    attempt             INTEGER,
    trace_id            UUID,
    span_id             UBIGINT
);

CREATE TABLE message_refs (
    key                 VARCHAR NOT NULL,
    role                UTINYINT NOT NULL, -- model.RefRole: 1 producer, 2 consumer
    trace_id            UUID,
    span_id             UBIGINT,
    time                BIGINT NOT NULL,
    destination         VARCHAR
);

-- One row per trace per commit: where the trace's rows lie in time (so a
-- trace-by-id read zone-map-prunes the big tables) and partial aggregates
-- that searches merge instead of scanning every span of a candidate trace.
-- start_min/end_max cover spans, logs and invocations; span_* cover spans
-- only (0 when span_count = 0). root_* name the root span when has_root,
-- else the earliest span of the commit. The counts let a trace read skip
-- the tables that hold nothing of the trace.
CREATE TABLE trace_index (
    trace_id            UUID NOT NULL,
    start_min           BIGINT NOT NULL,
    end_max             BIGINT NOT NULL,
    span_start          BIGINT NOT NULL,
    span_end            BIGINT NOT NULL,
    span_count          INTEGER NOT NULL,
    error_count         INTEGER NOT NULL,
    log_count           INTEGER NOT NULL,
    invocation_count    INTEGER NOT NULL,
    has_root            BOOLEAN NOT NULL,
    root_service        VARCHAR,
    root_name           VARCHAR
);

CREATE INDEX trace_index_trace_id ON trace_index (trace_id);

-- Correlation looks message refs up by key; only messaging spans have refs,
-- so the index stays small next to the spans table.
CREATE INDEX message_refs_key ON message_refs ("key");
