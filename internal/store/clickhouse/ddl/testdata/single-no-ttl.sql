-- version 0 
CREATE DATABASE IF NOT EXISTS `ariadne`;

-- version 0 
CREATE TABLE IF NOT EXISTS `ariadne`.`schema_migrations`
(
    version             UInt32,
    name                String,
    applied_at          Int64
)
ENGINE = KeeperMap('/ariadne/ariadne/schema_migrations')
PRIMARY KEY version;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`spans`
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
ENGINE = ReplacingMergeTree
PARTITION BY intDiv(start_time, 86400000000000)
ORDER BY (intDiv(start_time, 60000000000), trace_id, start_time, span_id)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`logs`
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
ENGINE = MergeTree
PARTITION BY intDiv(time, 86400000000000)
ORDER BY (service, time)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`invocations`
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
ENGINE = MergeTree
PARTITION BY intDiv(start, 86400000000000)
ORDER BY (function, start, request_id)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`message_refs`
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
ENGINE = ReplacingMergeTree
PARTITION BY intDiv(time, 86400000000000)
ORDER BY (key, role, trace_id, span_id, time)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`trace_index`
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
ENGINE = MergeTree
PARTITION BY intDiv(start_min, 86400000000000)
ORDER BY trace_id
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`issue_counts`
(
    issue_id            String,
    bucket              Int64 CODEC(Delta(8), ZSTD(1)),
    count               Int64 CODEC(T64, ZSTD(1))
)
ENGINE = SummingMergeTree
PARTITION BY intDiv(bucket, 86400000000000)
ORDER BY (issue_id, bucket)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`issues`
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
ENGINE = KeeperMap('/ariadne/ariadne/issues')
PRIMARY KEY id;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`detector_state`
(
    name                String,
    watermark           Int64,
    updated_at          Int64,
    rev                 String,
    revs                Array(String)
)
ENGINE = KeeperMap('/ariadne/ariadne/detector_state')
PRIMARY KEY name;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`alert_rules`
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
ENGINE = KeeperMap('/ariadne/ariadne/alert_rules')
PRIMARY KEY id;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`alert_events`
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
ENGINE = KeeperMap('/ariadne/ariadne/alert_events')
PRIMARY KEY id;

-- version 1 0001_init.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`contracts`
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
ENGINE = KeeperMap('/ariadne/ariadne/contracts')
PRIMARY KEY key;

-- version 2 0002_rollups.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`rollup_nodes`
(
    minute              Int64 CODEC(Delta(8), ZSTD(1)),
    environment         LowCardinality(String) CODEC(ZSTD(1)),
    service             LowCardinality(String) CODEC(ZSTD(1)),
    function            LowCardinality(String) CODEC(ZSTD(1)),
    bucket              Int16 CODEC(ZSTD(1)),
    count               Int64 CODEC(T64, ZSTD(1)),
    errors              Int64 CODEC(T64, ZSTD(1)),
    cold_starts         Int64 CODEC(T64, ZSTD(1)),
    min_ns              Int64 CODEC(ZSTD(1)),
    max_ns              Int64 CODEC(ZSTD(1)),
    version             Int64 CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version, environment, service, function)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- version 2 0002_rollups.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`rollup_calls`
(
    minute              Int64 CODEC(Delta(8), ZSTD(1)),
    environment         LowCardinality(String) CODEC(ZSTD(1)),
    caller_service      LowCardinality(String) CODEC(ZSTD(1)),
    caller_function     LowCardinality(String) CODEC(ZSTD(1)),
    callee_service      LowCardinality(String) CODEC(ZSTD(1)),
    callee_function     LowCardinality(String) CODEC(ZSTD(1)),
    peer_kind           LowCardinality(String) CODEC(ZSTD(1)),
    peer                LowCardinality(String) CODEC(ZSTD(1)),
    messaging           Bool CODEC(ZSTD(1)),
    bucket              Int16 CODEC(ZSTD(1)),
    count               Int64 CODEC(T64, ZSTD(1)),
    errors              Int64 CODEC(T64, ZSTD(1)),
    min_ns              Int64 CODEC(ZSTD(1)),
    max_ns              Int64 CODEC(ZSTD(1)),
    version             Int64 CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version, environment, caller_service, caller_function)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- version 2 0002_rollups.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`rollup_hops`
(
    minute              Int64 CODEC(Delta(8), ZSTD(1)),
    environment         LowCardinality(String) CODEC(ZSTD(1)),
    producer_service    LowCardinality(String) CODEC(ZSTD(1)),
    producer_function   LowCardinality(String) CODEC(ZSTD(1)),
    consumer_service    LowCardinality(String) CODEC(ZSTD(1)),
    consumer_function   LowCardinality(String) CODEC(ZSTD(1)),
    channel             LowCardinality(String) CODEC(ZSTD(1)),
    producer_destination LowCardinality(String) CODEC(ZSTD(1)),
    consumer_destination LowCardinality(String) CODEC(ZSTD(1)),
    consumer_system     LowCardinality(String) CODEC(ZSTD(1)),
    metric              UInt8 CODEC(ZSTD(1)),
    bucket              Int16 CODEC(ZSTD(1)),
    count               Int64 CODEC(T64, ZSTD(1)),
    errors              Int64 CODEC(T64, ZSTD(1)),
    min_ns              Int64 CODEC(ZSTD(1)),
    max_ns              Int64 CODEC(ZSTD(1)),
    version             Int64 CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version, environment, producer_service, producer_function)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- version 2 0002_rollups.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`rollup_minutes`
(
    minute              Int64 CODEC(Delta(8), ZSTD(1)),
    version             Int64 CODEC(ZSTD(1)),
    spans               Int64 CODEC(T64, ZSTD(1)),
    rolled_at           Int64 CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- version 2 0002_rollups.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`rollup_marks`
(
    minute              Int64 CODEC(ZSTD(1)),
    marked_at           Int64 CODEC(Delta(8), ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY intDiv(marked_at, 86400000000000)
ORDER BY (marked_at, minute)
TTL toDateTime(intDiv(marked_at, 1000000000)) + INTERVAL 1 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- version 2 0002_rollups.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS `ariadne`.`rollup_marks_spans` TO `ariadne`.`rollup_marks`
AS SELECT DISTINCT intDiv(start_time, 60000000000) * 60000000000 AS minute, toUnixTimestamp64Nano(now64(9)) AS marked_at
FROM `ariadne`.`spans`;

-- version 2 0002_rollups.sql
CREATE MATERIALIZED VIEW IF NOT EXISTS `ariadne`.`rollup_marks_refs` TO `ariadne`.`rollup_marks`
AS SELECT DISTINCT intDiv(time, 60000000000) * 60000000000 AS minute, toUnixTimestamp64Nano(now64(9)) AS marked_at
FROM `ariadne`.`message_refs`;

-- version 2 0002_rollups.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`rollup_state`
(
    name                String,
    sealed              Int64,
    marks_read          Int64,
    updated_at          Int64
)
ENGINE = KeeperMap('/ariadne/ariadne/rollup_state')
PRIMARY KEY name;

-- version 3 0003_detector_journal.sql
CREATE TABLE IF NOT EXISTS `ariadne`.`detector_journal`
(
    token               String,
    name                String,
    window_start        Int64,
    window_end          Int64,
    occurrences         String,
    committed_at        Int64
)
ENGINE = KeeperMap('/ariadne/ariadne/detector_journal')
PRIMARY KEY token;

