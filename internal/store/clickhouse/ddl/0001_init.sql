-- Ariadne's ClickHouse schema, version 1: the same model as the embedded
-- engine (internal/store/duckdb/migrations), laid out for ClickHouse.
--
-- This file is a text/template rendered per deployment (ddl.go); the
-- golden files in testdata/ddl show every statement as rendered for one
-- server and for a replicated cluster. Statements end with ";" at the end
-- of a line. The template functions: table NAME is the table queries name
-- (the MergeTree table on one server; on a cluster the Distributed table
-- over local NAME, NAME_local, on every shard); engine X NAME is X on one
-- server and ReplicatedX with a per-shard Keeper path on a replicated
-- cluster; onCluster is ON CLUSTER on a cluster; ttl COLUMN is the
-- retention TTL of a Unix-ns column, when retention is set.
--
-- Layout, per table: times are Int64 Unix ns (as the model), partitions are
-- days of the row's time (retention drops whole parts, ttl_only_drop_parts).
-- Spans are sorted by (minute, trace id, start): a trace's spans lie
-- together, so a trace read is a few granules and the trace id and the
-- parent span id (mostly the root's) compress to about a byte per span,
-- half the size of a (service, time) order at the same search speed
-- (docs/benchmarks-clickhouse.md); searches prune by minute and scan the
-- LowCardinality service column. The other tables start with the column
-- their reads filter on (function, key, service) and then time. Trace ids
-- are FixedString(16), span ids UInt64 (big-endian bytes of the 8-byte id,
-- 0 = none), as in the embedded engine.
-- Codecs: Delta on sorted times, T64 on small integers, ZSTD everywhere;
-- LowCardinality on names, services and other repeating strings, including
-- the resource attributes, which repeat on every span of a process and are
-- stored as one canonical JSON text (the same encoding as the embedded
-- engine, so the same key=value substring test finds them). Span and log
-- attributes are a Map (order and repeated keys kept) plus a types string
-- holding one digit per attribute (model.ValueType), empty when every value
-- is a string, so values round-trip exactly.
--
-- Skip indexes: a bloom filter on trace_id in every table read by trace
-- (a trace read or a correlation step touches a few granules per
-- partition), bloom filters on the attribute keys and values (attribute
-- search and detection by key), on message keys and request ids.
--
-- Spans and message refs are ReplacingMergeTree on a key that identifies a
-- row: a span re-sent by a client is dropped by the writer when it sees it
-- stored, and if two nodes race to store it, merges keep one copy (reads
-- count spans by id meanwhile).

CREATE TABLE IF NOT EXISTS {{local "spans"}}{{onCluster}}
(
    trace_id            FixedString(16) CODEC(ZSTD(1)),
    span_id             UInt64 CODEC(ZSTD(1)),
    parent_span_id      UInt64 CODEC(ZSTD(1)),
    trace_state         String CODEC(ZSTD(1)),
    flags               UInt32 CODEC(T64, ZSTD(1)),
    start_time          Int64 CODEC(Delta(8), ZSTD(1)),
    duration_ns         Int64 CODEC(T64, ZSTD(1)),
    name                LowCardinality(String) CODEC(ZSTD(1)),
    kind                UInt8 CODEC(T64, ZSTD(1)),
    status_code         UInt8 CODEC(T64, ZSTD(1)),
    status_message      String CODEC(ZSTD(1)),
    service             LowCardinality(String) CODEC(ZSTD(1)),
    scope_name          LowCardinality(String) CODEC(ZSTD(1)),
    scope_version       LowCardinality(String) CODEC(ZSTD(1)),
    function            LowCardinality(String) CODEC(ZSTD(1)),
    invocation_id       String CODEC(ZSTD(1)),
    cold_start          Bool CODEC(ZSTD(1)),
    trigger             LowCardinality(String) CODEC(ZSTD(1)),
    messaging_system    LowCardinality(String) CODEC(ZSTD(1)),
    messaging_operation LowCardinality(String) CODEC(ZSTD(1)),
    destination         LowCardinality(String) CODEC(ZSTD(1)),
    message_ids         Array(String) CODEC(ZSTD(1)),
    http_method         LowCardinality(String) CODEC(ZSTD(1)),
    http_route          LowCardinality(String) CODEC(ZSTD(1)),
    http_status         Int32 CODEC(T64, ZSTD(1)),
    db_system           LowCardinality(String) CODEC(ZSTD(1)),
    error_type          LowCardinality(String) CODEC(ZSTD(1)),
    error_message       String CODEC(ZSTD(1)),
    attributes          Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    attr_types          LowCardinality(String) CODEC(ZSTD(1)),
    resource_attributes LowCardinality(String) CODEC(ZSTD(1)),
    events              String CODEC(ZSTD(1)),
    links               String CODEC(ZSTD(1)),
    request_payload     String CODEC(ZSTD(3)),
    response_payload    String CODEC(ZSTD(3)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_attr_keys mapKeys(attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_values mapValues(attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_start_time start_time TYPE minmax GRANULARITY 1
)
ENGINE = {{engine "ReplacingMergeTree" "spans"}}
PARTITION BY intDiv(start_time, 86400000000000)
ORDER BY (intDiv(start_time, 60000000000), trace_id, start_time, span_id)
{{ttl "start_time"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1{{dedupWindow}};

CREATE TABLE IF NOT EXISTS {{local "logs"}}{{onCluster}}
(
    time                Int64 CODEC(Delta(8), ZSTD(1)),
    observed_time       Int64 CODEC(Delta(8), ZSTD(1)),
    trace_id            FixedString(16) CODEC(ZSTD(1)),
    span_id             UInt64 CODEC(ZSTD(1)),
    flags               UInt32 CODEC(T64, ZSTD(1)),
    severity            UInt8 CODEC(T64, ZSTD(1)),
    severity_text       LowCardinality(String) CODEC(ZSTD(1)),
    body                String CODEC(ZSTD(1)),
    body_type           UInt8 CODEC(T64, ZSTD(1)),
    service             LowCardinality(String) CODEC(ZSTD(1)),
    function            LowCardinality(String) CODEC(ZSTD(1)),
    invocation_id       String CODEC(ZSTD(1)),
    scope_name          LowCardinality(String) CODEC(ZSTD(1)),
    attributes          Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    attr_types          LowCardinality(String) CODEC(ZSTD(1)),
    resource_attributes LowCardinality(String) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_invocation_id invocation_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_time time TYPE minmax GRANULARITY 1
)
ENGINE = {{engine "MergeTree" "logs"}}
PARTITION BY intDiv(time, 86400000000000)
ORDER BY (service, time)
{{ttl "time"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1{{dedupWindow}};

-- Durations in ns; deadline Unix ns (0 = unknown).
CREATE TABLE IF NOT EXISTS {{local "invocations"}}{{onCluster}}
(
    request_id          String CODEC(ZSTD(1)),
    function            LowCardinality(String) CODEC(ZSTD(1)),
    source              LowCardinality(String) CODEC(ZSTD(1)),
    start               Int64 CODEC(Delta(8), ZSTD(1)),
    duration            Int64 CODEC(T64, ZSTD(1)),
    billed_duration     Int64 CODEC(T64, ZSTD(1)),
    init_duration       Int64 CODEC(T64, ZSTD(1)),
    deadline            Int64 CODEC(ZSTD(1)),
    memory_mb           Int32 CODEC(T64, ZSTD(1)),
    max_memory_mb       Int32 CODEC(T64, ZSTD(1)),
    status              LowCardinality(String) CODEC(ZSTD(1)),
    error_type          LowCardinality(String) CODEC(ZSTD(1)),
    cold_start          Bool CODEC(ZSTD(1)),
    attempt             Int32 CODEC(T64, ZSTD(1)),
    trace_id            FixedString(16) CODEC(ZSTD(1)),
    span_id             UInt64 CODEC(ZSTD(1)),
    INDEX idx_request_id request_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = {{engine "MergeTree" "invocations"}}
PARTITION BY intDiv(start, 86400000000000)
ORDER BY (function, start, request_id)
{{ttl "start"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1{{dedupWindow}};

-- role is model.RefRole: 1 producer, 2 consumer. Sorted by key: correlation
-- looks refs up by key (and the map joins producers to consumers on it).
CREATE TABLE IF NOT EXISTS {{local "message_refs"}}{{onCluster}}
(
    key                 String CODEC(ZSTD(1)),
    role                UInt8 CODEC(T64, ZSTD(1)),
    trace_id            FixedString(16) CODEC(ZSTD(1)),
    span_id             UInt64 CODEC(ZSTD(1)),
    time                Int64 CODEC(ZSTD(1)),
    destination         LowCardinality(String) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_destination destination TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time time TYPE minmax GRANULARITY 1
)
ENGINE = {{engine "ReplacingMergeTree" "message_refs"}}
PARTITION BY intDiv(time, 86400000000000)
ORDER BY (key, role, trace_id, span_id, time)
{{ttl "time"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1{{dedupWindow}};

-- One row per trace per commit: where the trace's rows lie in time (a
-- trace read prunes the big tables to that range) and the pieces of its
-- search summary. start_min/end_max cover spans, logs and invocations;
-- span_* cover spans only (span_count = 0: none). The other times are
-- stored as offsets from start_min (small numbers: a third of the bytes
-- of absolute times in a table sorted by trace id) and read through
-- ALIAS columns. root_* name the root
-- span when has_root, else the earliest span of the commit. Every column
-- but the counts is idempotent under a re-sent commit (min, max, any
-- error); searches take span and error counts from the spans themselves.
CREATE TABLE IF NOT EXISTS {{local "trace_index"}}{{onCluster}}
(
    trace_id            FixedString(16) CODEC(ZSTD(1)),
    start_min           Int64 CODEC(ZSTD(1)),
    end_offset          Int64 CODEC(T64, ZSTD(1)),
    span_start_offset   Int64 CODEC(T64, ZSTD(1)),
    span_end_offset     Int64 CODEC(T64, ZSTD(1)),
    span_count          UInt32 CODEC(T64, ZSTD(1)),
    error_count         UInt32 CODEC(T64, ZSTD(1)),
    log_count           UInt32 CODEC(T64, ZSTD(1)),
    invocation_count    UInt32 CODEC(T64, ZSTD(1)),
    has_root            Bool CODEC(ZSTD(1)),
    root_service        LowCardinality(String) CODEC(ZSTD(1)),
    root_name           LowCardinality(String) CODEC(ZSTD(1)),
    end_max             Int64 ALIAS start_min + end_offset,
    span_start          Int64 ALIAS start_min + span_start_offset,
    span_end            Int64 ALIAS start_min + span_end_offset,
    INDEX idx_span_start start_min + span_start_offset TYPE minmax GRANULARITY 1
)
ENGINE = {{engine "MergeTree" "trace_index"}}
PARTITION BY intDiv(start_min, 86400000000000)
ORDER BY trace_id
{{ttl "start_min"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1{{dedupWindow}};

-- Occurrences per issue and minute, for alert thresholds over a window;
-- summed at read time.
CREATE TABLE IF NOT EXISTS {{local "issue_counts"}}{{onCluster}}
(
    issue_id            String,
    bucket              Int64 CODEC(Delta(8), ZSTD(1)),
    count               Int64 CODEC(T64, ZSTD(1))
)
ENGINE = {{engine "SummingMergeTree" "issue_counts"}}
PARTITION BY intDiv(bucket, 86400000000000)
ORDER BY (issue_id, bucket)
{{ttl "bucket"}}SETTINGS index_granularity = 8192{{dedupWindow}};

{{range $t := distributed}}CREATE TABLE IF NOT EXISTS {{table $t.Name}}{{onCluster}} AS {{local $t.Name}}
ENGINE = Distributed({{cluster}}, {{db}}, {{localName $t.Name}}, {{$t.ShardKey}});

{{end}}-- Issues, detector watermarks, alert rules and deliveries, contracts:
-- small, updated in place, and shared by every node, so they live in
-- Keeper (KeeperMap: linearizable writes, one row per key). Rows that
-- nodes update concurrently carry rev, the id of the write that made the
-- row, and revs, the last writes' ids: an update is conditional on rev
-- (strict mode makes it a compare-and-set) and its writer learns whether
-- it won by finding its id in revs.
CREATE TABLE IF NOT EXISTS {{table "issues"}}{{onCluster}}
(
    id                  String,
    kind                String,
    fingerprint         String,
    title               String,
    function            String,
    channel             String,
    severity            String,
    status              String,
    first_seen          Int64,
    last_seen           Int64,
    count               Int64,
    sample_traces       String,
    explanation         String,
    opened_at           Int64,
    resolved_at         Int64,
    regressions         Int32,
    updated_at          Int64,
    rev                 String,
    revs                Array(String)
)
ENGINE = KeeperMap({{keeperPath "issues"}})
PRIMARY KEY id;

-- The end of the last window each detector committed.
CREATE TABLE IF NOT EXISTS {{table "detector_state"}}{{onCluster}}
(
    name                String,
    watermark           Int64,
    updated_at          Int64,
    rev                 String,
    revs                Array(String)
)
ENGINE = KeeperMap({{keeperPath "detector_state"}})
PRIMARY KEY name;

CREATE TABLE IF NOT EXISTS {{table "alert_rules"}}{{onCluster}}
(
    id                  String,
    name                String,
    kind                String,
    function            String,
    any_new             Bool,
    threshold           Int64,
    window_ns           Int64,
    target              String,
    url                 String,
    to_addrs            String,
    created             Int64
)
ENGINE = KeeperMap({{keeperPath "alert_rules"}})
PRIMARY KEY id;

-- One notification per (rule, issue, type, episode): its id derives from
-- them, so a second enqueue by any node is refused by the key; a delivery
-- lease (lease_holder until lease_until) makes one node deliver it.
CREATE TABLE IF NOT EXISTS {{table "alert_events"}}{{onCluster}}
(
    id                  String,
    rule_id             String,
    issue_id            String,
    type                String,
    episode             Int64,
    state               String,
    attempts            Int32,
    next_attempt        Int64,
    lease_holder        String,
    lease_until         Int64,
    last_error          String,
    created             Int64,
    delivered_at        Int64,
    rev                 String,
    revs                Array(String)
)
ENGINE = KeeperMap({{keeperPath "alert_events"}})
PRIMARY KEY id;

-- Inferred payload contracts: one row per channel and producer (service,
-- version); key is channel, service and version joined by NUL.
CREATE TABLE IF NOT EXISTS {{table "contracts"}}{{onCluster}}
(
    key                 String,
    channel             String,
    service             String,
    version             String,
    fields              String,
    first_seen          Int64,
    last_seen           Int64,
    rev                 String,
    revs                Array(String)
)
ENGINE = KeeperMap({{keeperPath "contracts"}})
PRIMARY KEY key;
