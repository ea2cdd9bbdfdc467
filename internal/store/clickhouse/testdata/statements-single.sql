CREATE DATABASE IF NOT EXISTS `golden`;

CREATE TABLE IF NOT EXISTS `golden`.`schema_migrations`
(
    version             UInt32,
    name                String,
    applied_at          Int64
)
ENGINE = KeeperMap('/ariadne/golden/schema_migrations')
PRIMARY KEY version;

SELECT max(version) FROM `golden`.`schema_migrations`;

CREATE TABLE IF NOT EXISTS `golden`.`spans`
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

CREATE TABLE IF NOT EXISTS `golden`.`logs`
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

CREATE TABLE IF NOT EXISTS `golden`.`invocations`
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

CREATE TABLE IF NOT EXISTS `golden`.`message_refs`
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

CREATE TABLE IF NOT EXISTS `golden`.`trace_index`
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

CREATE TABLE IF NOT EXISTS `golden`.`issue_counts`
(
    issue_id            String,
    bucket              Int64 CODEC(Delta(8), ZSTD(1)),
    count               Int64 CODEC(T64, ZSTD(1))
)
ENGINE = SummingMergeTree
PARTITION BY intDiv(bucket, 86400000000000)
ORDER BY (issue_id, bucket)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS `golden`.`issues`
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
ENGINE = KeeperMap('/ariadne/golden/issues')
PRIMARY KEY id;

CREATE TABLE IF NOT EXISTS `golden`.`detector_state`
(
    name                String,
    watermark           Int64,
    updated_at          Int64,
    rev                 String,
    revs                Array(String)
)
ENGINE = KeeperMap('/ariadne/golden/detector_state')
PRIMARY KEY name;

CREATE TABLE IF NOT EXISTS `golden`.`alert_rules`
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
ENGINE = KeeperMap('/ariadne/golden/alert_rules')
PRIMARY KEY id;

CREATE TABLE IF NOT EXISTS `golden`.`alert_events`
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
ENGINE = KeeperMap('/ariadne/golden/alert_events')
PRIMARY KEY id;

CREATE TABLE IF NOT EXISTS `golden`.`contracts`
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
ENGINE = KeeperMap('/ariadne/golden/contracts')
PRIMARY KEY key;

INSERT INTO `golden`.`schema_migrations` (version, name, applied_at) VALUES (1, '0001_init.sql', <now>);

CREATE TABLE IF NOT EXISTS `golden`.`rollup_nodes`
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

CREATE TABLE IF NOT EXISTS `golden`.`rollup_calls`
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

CREATE TABLE IF NOT EXISTS `golden`.`rollup_hops`
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

CREATE TABLE IF NOT EXISTS `golden`.`rollup_minutes`
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

CREATE TABLE IF NOT EXISTS `golden`.`rollup_marks`
(
    minute              Int64 CODEC(ZSTD(1)),
    marked_at           Int64 CODEC(Delta(8), ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY intDiv(marked_at, 86400000000000)
ORDER BY (marked_at, minute)
TTL toDateTime(intDiv(marked_at, 1000000000)) + INTERVAL 1 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS `golden`.`rollup_marks_spans` TO `golden`.`rollup_marks`
AS SELECT DISTINCT intDiv(start_time, 60000000000) * 60000000000 AS minute, toUnixTimestamp64Nano(now64(9)) AS marked_at
FROM `golden`.`spans`;

CREATE MATERIALIZED VIEW IF NOT EXISTS `golden`.`rollup_marks_refs` TO `golden`.`rollup_marks`
AS SELECT DISTINCT intDiv(time, 60000000000) * 60000000000 AS minute, toUnixTimestamp64Nano(now64(9)) AS marked_at
FROM `golden`.`message_refs`;

CREATE TABLE IF NOT EXISTS `golden`.`rollup_state`
(
    name                String,
    sealed              Int64,
    marks_read          Int64,
    updated_at          Int64
)
ENGINE = KeeperMap('/ariadne/golden/rollup_state')
PRIMARY KEY name;

INSERT INTO `golden`.`schema_migrations` (version, name, applied_at) VALUES (2, '0002_rollups.sql', <now>);

CREATE TABLE IF NOT EXISTS `golden`.`detector_journal`
(
    token               String,
    name                String,
    window_start        Int64,
    window_end          Int64,
    occurrences         String,
    committed_at        Int64
)
ENGINE = KeeperMap('/ariadne/golden/detector_journal')
PRIMARY KEY token;

INSERT INTO `golden`.`schema_migrations` (version, name, applied_at) VALUES (3, '0003_detector_journal.sql', <now>);

SELECT name, type FROM system.columns WHERE database = 'golden' AND table = 'spans' AND default_kind != 'ALIAS' ORDER BY position;

SELECT name, type FROM system.columns WHERE database = 'golden' AND table = 'logs' AND default_kind != 'ALIAS' ORDER BY position;

SELECT name, type FROM system.columns WHERE database = 'golden' AND table = 'invocations' AND default_kind != 'ALIAS' ORDER BY position;

SELECT name, type FROM system.columns WHERE database = 'golden' AND table = 'message_refs' AND default_kind != 'ALIAS' ORDER BY position;

SELECT name, type FROM system.columns WHERE database = 'golden' AND table = 'trace_index' AND default_kind != 'ALIAS' ORDER BY position;

SELECT name, engine_full FROM system.tables WHERE database = 'golden';

ALTER TABLE `golden`.`rollup_marks` REMOVE TTL;

SELECT trace_id, span_id FROM `golden`.`spans` WHERE start_time BETWEEN 1772366400000000000 AND 1772366403000000000 AND trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02'));

SELECT time, observed_time, trace_id, span_id, severity, MD5(body) FROM `golden`.`logs` WHERE time BETWEEN 1772366400004000000 AND 1772366400004000000 AND time IN (1772366400004000000);

SELECT `request_id`, `function`, `source`, `start`, `duration`, `billed_duration`, `init_duration`, `deadline`, `memory_mb`, `max_memory_mb`, `status`, `error_type`, `cold_start`, `attempt`, `trace_id`, `span_id` FROM `golden`.`invocations` WHERE request_id IN ('req-1', 'req-2') AND start BETWEEN 1772366400002000000 AND 1772366403000000000;

SELECT `key`, `role`, `trace_id`, `span_id`, `time`, `destination` FROM `golden`.`message_refs` WHERE key IN ('sqs:m-1');

INSERT INTO `golden`.`trace_index` (`trace_id`, `start_min`, `end_offset`, `span_start_offset`, `span_end_offset`, `span_count`, `error_count`, `log_count`, `invocation_count`, `has_root`, `root_service`, `root_name`) FORMAT Native -- 2 rows;

INSERT INTO `golden`.`invocations` (`request_id`, `function`, `source`, `start`, `duration`, `billed_duration`, `init_duration`, `deadline`, `memory_mb`, `max_memory_mb`, `status`, `error_type`, `cold_start`, `attempt`, `trace_id`, `span_id`) FORMAT Native -- 3 rows;

INSERT INTO `golden`.`logs` (`time`, `observed_time`, `trace_id`, `span_id`, `flags`, `severity`, `severity_text`, `body`, `body_type`, `service`, `function`, `invocation_id`, `scope_name`, `attributes`, `attr_types`, `resource_attributes`) FORMAT Native -- 1 rows;

INSERT INTO `golden`.`message_refs` (`key`, `role`, `trace_id`, `span_id`, `time`, `destination`) FORMAT Native -- 2 rows;

INSERT INTO `golden`.`spans` (`trace_id`, `span_id`, `parent_span_id`, `trace_state`, `flags`, `start_time`, `duration_ns`, `name`, `kind`, `status_code`, `status_message`, `service`, `scope_name`, `scope_version`, `function`, `invocation_id`, `cold_start`, `trigger`, `messaging_system`, `messaging_operation`, `destination`, `message_ids`, `http_method`, `http_route`, `http_status`, `db_system`, `error_type`, `error_message`, `attributes`, `attr_types`, `resource_attributes`, `events`, `links`, `request_payload`, `response_payload`) FORMAT Native -- 6 rows;

SELECT count(*), min(start_min), max(end_max), sum(span_count), sum(log_count), sum(invocation_count) FROM `golden`.`trace_index` WHERE trace_id = unhex('a101030405060708090a0b0c0d0e0f01');

SELECT `trace_id`, `span_id`, `parent_span_id`, `trace_state`, `flags`, `start_time`, `duration_ns`, `name`, `kind`, `status_code`, `status_message`, `service`, `scope_name`, `scope_version`, `function`, `invocation_id`, `cold_start`, `trigger`, `messaging_system`, `messaging_operation`, `destination`, `message_ids`, `http_method`, `http_route`, `http_status`, `db_system`, `error_type`, `error_message`, `attributes`, `attr_types`, `resource_attributes`, `events`, `links`, `request_payload`, `response_payload` FROM `golden`.`spans` WHERE trace_id = unhex('a101030405060708090a0b0c0d0e0f01') AND start_time BETWEEN 1772366400000000000 AND 1772366400050000000 ORDER BY start_time, span_id;

SELECT `time`, `observed_time`, `trace_id`, `span_id`, `flags`, `severity`, `severity_text`, `body`, `body_type`, `service`, `function`, `invocation_id`, `scope_name`, `attributes`, `attr_types`, `resource_attributes` FROM `golden`.`logs` WHERE trace_id = unhex('a101030405060708090a0b0c0d0e0f01') AND "time" BETWEEN 1772366400000000000 AND 1772366400050000000 ORDER BY "time", observed_time;

SELECT `request_id`, `function`, `source`, `start`, `duration`, `billed_duration`, `init_duration`, `deadline`, `memory_mb`, `max_memory_mb`, `status`, `error_type`, `cold_start`, `attempt`, `trace_id`, `span_id` FROM `golden`.`invocations` WHERE trace_id = unhex('a101030405060708090a0b0c0d0e0f01') AND "start" BETWEEN 1772366400000000000 AND 1772366400050000000 ORDER BY "start", request_id, source;

SELECT count(), min(start_min), max(start_min) FROM `golden`.`trace_index`;

WITH m AS (
SELECT DISTINCT trace_id FROM `golden`.`trace_index` WHERE span_count > 0
), t AS (
SELECT trace_id,
	minIf(span_start, span_count > 0) AS ts,
	maxIf(span_end, span_count > 0) AS te,
	sum(span_count) AS n,
	sum(error_count) AS errs,
	argMinIf(root_service, (NOT has_root, span_start), span_count > 0) AS rs,
	argMinIf(root_name, (NOT has_root, span_start), span_count > 0) AS rn
FROM `golden`.`trace_index` WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, n, errs, toString(rs), toString(rn) FROM t WHERE n > 0
ORDER BY ts DESC, trace_id DESC LIMIT 21;

SELECT trace_id, uniqExact(span_id), uniqExactIf(span_id, status_code = 2) FROM `golden`.`spans` WHERE trace_id IN (unhex('a102030405060708090a0b0c0d0e0f02'), unhex('a101030405060708090a0b0c0d0e0f01')) AND start_time BETWEEN 1772366400000000000 AND 1772366403100000000 GROUP BY trace_id;

SELECT count(), min(start_min), max(start_min) FROM `golden`.`trace_index`;

WITH m AS (
SELECT DISTINCT trace_id FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND service = 'api' AND name = 'POST /orders' AND ((has(mapValues(attributes), 'acme') AND mapContains(attributes, 'tenant') AND attributes['tenant'] = 'acme') OR position(resource_attributes, '["tenant","acme",') > 0) AND (positionCaseInsensitiveUTF8(name, 'declined') > 0 OR (positionCaseInsensitiveUTF8(status_message, 'declined') > 0 OR positionCaseInsensitiveUTF8(error_message, 'declined') > 0 OR positionCaseInsensitiveUTF8(request_payload, 'declined') > 0 OR positionCaseInsensitiveUTF8(response_payload, 'declined') > 0) OR trace_id IN (SELECT trace_id FROM `golden`.`logs` WHERE "time" >= 1772366400000000000 AND "time" < 1772366460000000000 AND positionCaseInsensitiveUTF8(body, 'declined') > 0))
), t AS (
SELECT trace_id,
	minIf(span_start, span_count > 0) AS ts,
	maxIf(span_end, span_count > 0) AS te,
	sum(span_count) AS n,
	sum(error_count) AS errs,
	argMinIf(root_service, (NOT has_root, span_start), span_count > 0) AS rs,
	argMinIf(root_name, (NOT has_root, span_start), span_count > 0) AS rn
FROM `golden`.`trace_index` WHERE trace_id IN (SELECT trace_id FROM m)
GROUP BY trace_id
)
SELECT trace_id, ts, te - ts, n, errs, toString(rs), toString(rn) FROM t WHERE n > 0 AND errs > 0 AND te - ts >= 1 AND te - ts <= 3600000000000
ORDER BY ts DESC, trace_id DESC LIMIT 6;

SELECT DISTINCT service FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND service <> '' ORDER BY service;

SELECT DISTINCT name FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND name <> '' AND service = 'api' ORDER BY name;

WITH recent AS (
	SELECT attributes, resource_attributes FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 ORDER BY start_time DESC LIMIT 20000)
SELECT 0, k, toUInt64(0) FROM (SELECT DISTINCT arrayJoin(mapKeys(attributes)) AS k FROM recent) WHERE startsWith(k, 'te')
UNION ALL
SELECT 1, toString(resource_attributes), toUInt64(0) FROM recent WHERE resource_attributes != '' GROUP BY resource_attributes;

WITH recent AS (
	SELECT attributes, resource_attributes FROM `golden`.`spans`
	WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND (mapContains(attributes, 'tenant') OR position(resource_attributes, '["tenant",') > 0)
	ORDER BY start_time DESC LIMIT 200000)
SELECT 0, v, count() FROM (SELECT arrayJoin(arrayFilter((v, k) -> k = 'tenant', mapValues(attributes), mapKeys(attributes))) AS v FROM recent)
WHERE startsWith(v, 'a') GROUP BY v
UNION ALL
SELECT 1, toString(resource_attributes), count() FROM recent WHERE position(resource_attributes, '["tenant",') > 0 GROUP BY resource_attributes;

SELECT DISTINCT `key`, `role`, `trace_id`, `span_id`, `time`, `destination` FROM `golden`.`message_refs` WHERE "key" = 'sqs:m-1' ORDER BY "time", "key", role, trace_id, span_id;

SELECT DISTINCT `key`, `role`, `trace_id`, `span_id`, `time`, `destination` FROM `golden`.`message_refs` WHERE trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02')) ORDER BY "time", "key", role, trace_id, span_id LIMIT 101;

SELECT DISTINCT `key`, `role`, `trace_id`, `span_id`, `time`, `destination` FROM `golden`.`message_refs` WHERE "key" IN ('sqs:m-1') ORDER BY "time", "key", role, trace_id, span_id LIMIT 101;

SELECT DISTINCT `key`, `role`, `trace_id`, `span_id`, `time`, `destination` FROM `golden`.`message_refs` WHERE destination = 'jobs' AND "time" >= 1772366400000000000 AND "time" < 1772366460000000000 ORDER BY "time" DESC, "key", role, trace_id, span_id LIMIT 101;

SELECT trace_id, min(span_start), max(span_end), sum(span_count) FROM `golden`.`trace_index` WHERE trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02')) AND span_count > 0 GROUP BY trace_id;

SELECT `trace_id`, `span_id`, `parent_span_id`, `trace_state`, `flags`, `start_time`, `duration_ns`, `name`, `kind`, `status_code`, `status_message`, `service`, `scope_name`, `scope_version`, `function`, `invocation_id`, `cold_start`, `trigger`, `messaging_system`, `messaging_operation`, `destination`, `message_ids`, `http_method`, `http_route`, `http_status`, `db_system`, `error_type`, `error_message` FROM `golden`.`spans` WHERE trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02')) AND start_time BETWEEN 1772366400000000000 AND 1772366403100000000 ORDER BY start_time, span_id LIMIT 101;

SELECT request_id, min("start") AS s FROM `golden`.`invocations` WHERE "start" >= 1772366400000000000 AND "start" < 1772366460000000000 GROUP BY request_id HAVING max(function = 'api') AND max(status IN ('ok', 'timeout', 'started')) AND max(cold_start OR init_duration > 0) AND max(greatest(duration, CASE WHEN deadline > 0 THEN deadline - "start" ELSE 0 END)) >= 1 ORDER BY s DESC, request_id DESC LIMIT 64;

SELECT DISTINCT `request_id`, `function`, `source`, `start`, `duration`, `billed_duration`, `init_duration`, `deadline`, `memory_mb`, `max_memory_mb`, `status`, `error_type`, `cold_start`, `attempt`, `trace_id`, `span_id` FROM `golden`.`invocations` WHERE request_id IN ('req-1') AND "start" BETWEEN 1772365200002000000 AND 1772367600002000000;

SELECT DISTINCT `request_id`, `function`, `source`, `start`, `duration`, `billed_duration`, `init_duration`, `deadline`, `memory_mb`, `max_memory_mb`, `status`, `error_type`, `cold_start`, `attempt`, `trace_id`, `span_id` FROM `golden`.`invocations` WHERE request_id = 'req-1';

SELECT `time`, `observed_time`, `trace_id`, `span_id`, `flags`, `severity`, `severity_text`, `body`, `body_type`, `service`, `function`, `invocation_id`, `scope_name`, `attributes`, `attr_types`, `resource_attributes` FROM `golden`.`logs` WHERE invocation_id = 'req-1' AND "time" >= 1772366400000000000 AND "time" < 1772366460000000000 ORDER BY "time", observed_time LIMIT 10;

SELECT `time`, `observed_time`, `trace_id`, `span_id`, `flags`, `severity`, `severity_text`, `body`, `body_type`, `service`, `function`, `invocation_id`, `scope_name`, `attributes`, `attr_types`, `resource_attributes` FROM `golden`.`logs` WHERE "time" >= 1772366400000000000 AND "time" < 1772366460000000000 AND function = 'api' AND service = 'api' AND invocation_id = 'req-1' AND severity >= 9 AND positionCaseInsensitiveUTF8(body, 'Declined') > 0 ORDER BY "time" DESC, observed_time DESC, trace_id, span_id, body, severity, invocation_id LIMIT 5 OFFSET 0;

SELECT issue_id, intDiv(bucket - 1772366400000000000, 600000000000) AS i, CAST(sum(count) AS BIGINT) FROM `golden`.`issue_counts` WHERE issue_id IN ('i-1', 'i-2') AND bucket >= 1772366400000000000 AND bucket < 1772370000000000000 GROUP BY issue_id, i;

SELECT toUInt8(0) AS k, sealed AS m, toInt64(0) AS n FROM `golden`.`rollup_state` WHERE name = 'servicemap'
UNION ALL SELECT toUInt8(2) AS k, minute AS m, toInt64(0) AS n FROM `golden`.`rollup_marks` WHERE marked_at > (SELECT max(marks_read) FROM `golden`.`rollup_state` WHERE name = 'servicemap') GROUP BY minute
UNION ALL SELECT toUInt8(3) AS k, minute AS m, argMax(spans, version) AS n FROM `golden`.`rollup_minutes` WHERE minute >= 1772366400000000000 AND minute < 1772366460000000000 GROUP BY minute;

WITH s AS (
	SELECT trace_id, parent_span_id, toString(service) AS service, toString("function") AS "function", status_code, duration_ns
	FROM `golden`.`spans` WHERE start_time >= 1772366340000000000 AND start_time < 1772366520000000000 AND kind = 2 AND parent_span_id <> 0
), c AS (
	SELECT trace_id, span_id, toString(service) AS service, toString("function") AS "function", kind, status_code, duration_ns, messaging_system, multiIf((messaging_system != '' OR kind = 4), multiIf(messaging_system IN ('aws_sns', 'kafka', 'gcp_pubsub'), 'topic',
			messaging_system = 'aws_kinesis', 'stream', messaging_system = 'aws_eventbridge', 'eventbus', 'queue'),
		db_system != '', 'database',
		attributes['aws.s3.bucket'] != '', 'bucket',
		attributes['rpc.system'] = 'aws-api' AND attributes['rpc.service'] IN ('Lambda', 'SFN'), '',
		attributes['rpc.system'] = 'aws-api', 'aws',
		multiIf(attributes['server.address'] != '', attributes['server.address'], attributes['net.peer.name'] != '', attributes['net.peer.name'], attributes['http.host']) != '', 'http',
		'') AS pk, multiIf((messaging_system != '' OR kind = 4), multiIf(destination != '', toString(destination), messaging_system != '', toString(messaging_system), 'unknown'),
		db_system != '', toString(db_system),
		attributes['aws.s3.bucket'] != '', attributes['aws.s3.bucket'],
		attributes['rpc.system'] = 'aws-api', attributes['rpc.service'],
		multiIf(attributes['server.address'] != '', attributes['server.address'], attributes['net.peer.name'] != '', attributes['net.peer.name'], attributes['http.host'])) AS pn
	FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND kind IN (3, 4) AND (position(resource_attributes, '["deployment.environment.name","prod",') > 0 OR position(resource_attributes, '["deployment.environment","prod",') > 0)
), cs AS (
	SELECT c.service AS service, c."function" AS "function", c.trace_id IS NOT NULL AS has_client,
		s.trace_id AS s_trace, s.parent_span_id AS s_parent, s.service AS s_service, s."function" AS s_function,
		s.status_code AS s_status, s.duration_ns AS s_dur,
		CASE WHEN s.trace_id IS NULL THEN c.pk ELSE '' END AS peer_kind,
		CASE WHEN s.trace_id IS NULL THEN c.pn ELSE '' END AS peer,
		(c.kind = 4 OR c.messaging_system != '') AS messaging,
		(c.status_code = 2 OR coalesce(s.status_code, 0) = 2) AS err, c.duration_ns AS dur
	FROM c FULL OUTER JOIN s ON s.trace_id = c.trace_id AND s.parent_span_id = c.span_id
), called AS (
	SELECT assumeNotNull(service) AS service, assumeNotNull("function") AS "function", assumeNotNull(s_service) AS s_service, assumeNotNull(s_function) AS s_function,
		'' AS peer_kind, '' AS peer, false AS messaging, err, assumeNotNull(dur) AS dur
	FROM cs WHERE has_client AND s_trace IS NOT NULL
), peers AS (
	SELECT assumeNotNull(service) AS service, assumeNotNull("function") AS "function", '' AS s_service, '' AS s_function,
		assumeNotNull(peer_kind) AS peer_kind, assumeNotNull(peer) AS peer, assumeNotNull(messaging) AS messaging, err, assumeNotNull(dur) AS dur
	FROM cs WHERE has_client AND s_trace IS NULL AND peer_kind != ''
), orphans AS (
	SELECT s_trace, s_parent, s_service, s_function, s_status, s_dur FROM cs WHERE NOT has_client
), adopted AS (
	SELECT toString(p.service) AS service, toString(p."function") AS "function", assumeNotNull(o.s_service) AS s_service, assumeNotNull(o.s_function) AS s_function,
		'' AS peer_kind, '' AS peer, false AS messaging,
		(p.status_code = 2 OR o.s_status = 2) AS err, assumeNotNull(o.s_dur) AS dur
	FROM orphans AS o JOIN `golden`.`spans` AS p ON p.trace_id = o.s_trace AND p.span_id = o.s_parent
	WHERE p.start_time >= 1772366400000000000 AND p.start_time < 1772366460000000000 AND (position(p.resource_attributes, '["deployment.environment.name","prod",') > 0 OR position(p.resource_attributes, '["deployment.environment","prod",') > 0) AND (toString(p.service) != o.s_service OR toString(p."function") != o.s_function)
), j AS (
	SELECT * FROM called UNION ALL SELECT * FROM peers UNION ALL SELECT * FROM adopted
)
SELECT service, "function", s_service, s_function, peer_kind, peer, max(messaging), count(*) AS n, countIf(err), quantilesExactInclusive(0.5, 0.95, 0.99)(dur)
FROM j
GROUP BY service, "function", s_service, s_function, peer_kind, peer
ORDER BY n DESC, service, "function", s_service, s_function, peer_kind, peer LIMIT 10001;

SELECT min("time"), max("time"), count(*) FROM `golden`.`message_refs`
WHERE role = 1 AND "time" BETWEEN 1772280000000000000 AND 1772366520000000000 AND "key" IN (
	SELECT "key" FROM `golden`.`message_refs` WHERE role = 2 AND "time" >= 1772366400000000000 AND "time" < 1772366460000000000 AND trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02')));

WITH c AS (
	SELECT "key", trace_id, span_id FROM `golden`.`message_refs` WHERE role = 2 AND "time" >= 1772366400000000000 AND "time" < 1772366460000000000 AND trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02'))
), p AS (
	SELECT "key", trace_id, span_id FROM `golden`.`message_refs` WHERE role = 1 AND "time" BETWEEN 1772366400020000000 AND 1772366400020000000 AND "key" IN (SELECT "key" FROM c)
), pairs AS (
	SELECT DISTINCT p.trace_id AS pt, p.span_id AS psid, c.trace_id AS ct, c.span_id AS csid, splitByChar(':', c."key")[1] AS ch
	FROM p JOIN c ON p."key" = c."key"
	WHERE NOT (p.trace_id = c.trace_id AND p.span_id = c.span_id)
), cs AS (
	SELECT trace_id, span_id, parent_span_id, toString(service) AS service, toString("function") AS "function", start_time, duration_ns, status_code,
		toString(destination) AS destination, toString(messaging_system) AS messaging_system
	FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND span_id IN (SELECT csid FROM pairs) AND trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'), unhex('a102030405060708090a0b0c0d0e0f02'))
), ps AS (
	SELECT trace_id, span_id, toString(service) AS service, toString("function") AS "function", start_time + duration_ns AS end_time,
		if(destination != '', toString(destination), attributes['aws.s3.bucket']) AS dest
	FROM `golden`.`spans` WHERE start_time BETWEEN 1772365500020000000 AND 1772366400020000000 AND span_id IN (SELECT psid FROM pairs)
), j AS (
	SELECT pairs.pt AS pt, pairs.psid AS psid, pairs.ct AS ct, pairs.ch AS ch,
		ps.service AS p_service, ps."function" AS p_function, ps.end_time AS p_end, ps.dest AS p_dest,
		cs.service AS c_service, cs."function" AS c_function, cs.start_time AS c_start, cs.duration_ns AS c_dur,
		cs.status_code = 2 AS c_err, cs.destination AS c_dest, cs.messaging_system AS c_sys
	FROM pairs JOIN cs ON cs.trace_id = pairs.ct AND cs.span_id = pairs.csid
	LEFT JOIN ps ON ps.trace_id = pairs.pt AND ps.span_id = pairs.psid
	WHERE NOT (cs.trace_id = pairs.pt AND cs.parent_span_id = pairs.psid)
), h AS (
	SELECT pt, psid, ct,
		argMin(ch, ch = 'link') AS hch,
		any(p_service) AS hp_service, any(p_function) AS hp_function,
		max(p_end) AS hp_end, any(p_dest) AS hp_dest,
		argMin(c_service, c_start) AS hc_service, argMin(c_function, c_start) AS hc_function,
		min(c_start) AS hc_start, argMin(c_dur, c_start) AS hc_dur, max(c_err) AS hc_err,
		max(c_dest) AS hc_dest, max(c_sys) AS hc_sys
	FROM j GROUP BY pt, psid, ct
	-- A span link to a span that is not stored (a platform's or an X-Ray
	-- context) names no producer and no channel; the message it stands
	-- for is counted by its real key.
	HAVING NOT (argMin(ch, ch = 'link') = 'link' AND max(p_end) IS NULL)
)
SELECT coalesce(hp_service, ''), coalesce(hp_function, ''), coalesce(hc_service, ''), coalesce(hc_function, ''), coalesce(hch, ''), coalesce(hp_dest, ''), coalesce(hc_dest, ''), coalesce(hc_sys, ''),
	count(*) AS n, countIf(hc_err), quantilesExactInclusive(0.5, 0.95, 0.99)(hc_dur), quantilesExactInclusiveIf(0.5, 0.95, 0.99)(hc_start - hp_end, hp_end IS NOT NULL), count(hp_end)
FROM h
GROUP BY hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys
ORDER BY n DESC, hp_service, hp_function, hc_service, hc_function, hch, hp_dest, hc_dest, hc_sys LIMIT 10001;

SELECT toUInt8(0) AS k, sealed AS m, toInt64(0) AS n FROM `golden`.`rollup_state` WHERE name = 'servicemap'
UNION ALL SELECT toUInt8(2) AS k, minute AS m, toInt64(0) AS n FROM `golden`.`rollup_marks` WHERE marked_at > (SELECT max(marks_read) FROM `golden`.`rollup_state` WHERE name = 'servicemap') GROUP BY minute
UNION ALL SELECT toUInt8(3) AS k, minute AS m, argMax(spans, version) AS n FROM `golden`.`rollup_minutes` WHERE minute >= 1772366400000000000 AND minute < 1772366460000000000 GROUP BY minute;

SELECT service, "function", count(*) AS n, countIf(status_code = 2), countIf(cold_start), quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns)
FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND (CASE WHEN "function" != '' THEN "trigger" != '' OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END) AND (position(resource_attributes, '["deployment.environment.name","prod",') > 0 OR position(resource_attributes, '["deployment.environment","prod",') > 0)
GROUP BY service, "function" ORDER BY n DESC, service, "function" LIMIT 10001;

SELECT coalesce(name, '') AS g, 1772366400000000000 + intDiv(start_time - 1772366400000000000, 10000000000) * 10000000000 AS b, count(*), countIf(status_code = 2), countIf(cold_start), quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ns)
FROM `golden`.`spans` WHERE start_time >= 1772366400000000000 AND start_time < 1772366460000000000 AND "function" = 'api' AND (CASE WHEN "function" != '' THEN "trigger" != '' OR parent_span_id = 0
	ELSE kind IN (2, 5) OR parent_span_id = 0 END) AND (position(resource_attributes, '["deployment.environment.name","prod",') > 0 OR position(resource_attributes, '["deployment.environment","prod",') > 0)
GROUP BY g, b ORDER BY g, b LIMIT 10001;

WITH k AS (
	SELECT request_id,
		argMaxIf("function", CASE source WHEN 'sdk' THEN 4 WHEN 'sdk-start' THEN 3 WHEN 'telemetry' THEN 2 ELSE 1 END, "function" != '') AS fn,
		maxIf(CASE source WHEN 'telemetry' THEN 4 WHEN 'logs' THEN 3 WHEN 'sdk' THEN 2 ELSE 1 END * 1152921504606846976 + billed_duration, billed_duration <> 0) AS bk,
		maxIf(CASE source WHEN 'telemetry' THEN 5 WHEN 'logs' THEN 4 WHEN 'sdk' THEN 3 WHEN 'sdk-start' THEN 2 ELSE 1 END * 4294967296 + memory_mb, memory_mb <> 0) AS mk
	FROM `golden`.`invocations` WHERE "start" >= 1772366400000000000 AND "start" < 1772366460000000000 AND request_id IN (SELECT request_id FROM `golden`.`invocations` WHERE trace_id IN (unhex('a101030405060708090a0b0c0d0e0f01'))) GROUP BY request_id
), r AS (
	SELECT fn, bk - intDiv(bk + 576460752303423488, 1152921504606846976) * 1152921504606846976 AS billed, mk - intDiv(mk + 2147483648, 4294967296) * 4294967296 AS mem FROM k
)
SELECT coalesce(fn, '') AS f, count(*) AS n, countIf(coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), coalesce(sumIf(billed / 1e9 * mem / 1024.0, coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS gbs, CAST(coalesce(sumIf(billed, coalesce(billed, 0) > 0 AND coalesce(mem, 0) > 0), 0) AS DOUBLE)
FROM r WHERE fn = 'api' GROUP BY f ORDER BY gbs DESC, n DESC, f LIMIT 10001;

SELECT `trace_id`, `span_id`, `parent_span_id`, `trace_state`, `flags`, `start_time`, `duration_ns`, `name`, `kind`, `status_code`, `status_message`, `service`, `scope_name`, `scope_version`, `function`, `invocation_id`, `cold_start`, `trigger`, `messaging_system`, `messaging_operation`, `destination`, `message_ids`, `http_method`, `http_route`, `http_status`, `db_system`, `error_type`, `error_message`, `attributes`, `attr_types`, `resource_attributes`, `events`, `links`, `request_payload`, `response_payload` FROM `golden`.`spans` WHERE start_time >= 1772365200000000000 AND start_time < 1772366460000000000 AND (start_time + duration_ns) >= 1772366400000000000 AND (start_time + duration_ns) < 1772366460000000000 AND ((status_code = 2) OR (hasAny(mapKeys(attributes), ['tenant'])) OR (toInt64OrNull(attributes['retries']) >= 2) OR (kind = 4 OR messaging_operation IN ('publish', 'send', 'create')) OR (positionCaseInsensitiveUTF8(destination, 'dlq') > 0)) ORDER BY start_time, span_id LIMIT 101;

SELECT request_id, min("start") AS s FROM `golden`.`invocations` WHERE "start" >= 1772365200000000000 AND "start" < 1772366460000000000 GROUP BY request_id HAVING (CASE WHEN max(status <> 'started') THEN maxIf("start" + coalesce(duration, 0), status <> 'started') ELSE max(CASE WHEN deadline > 0 THEN deadline + 30000000000 ELSE "start" END) END) >= 1772366400000000000 AND (CASE WHEN max(status <> 'started') THEN maxIf("start" + coalesce(duration, 0), status <> 'started') ELSE max(CASE WHEN deadline > 0 THEN deadline + 30000000000 ELSE "start" END) END) < 1772366460000000000 AND ((max(status IN ('error'))) OR (max(attempt) >= 2 OR max("start") - min("start") > 1000000000) OR (max(cold_start OR init_duration > 0))) ORDER BY s, request_id LIMIT 101;

SELECT DISTINCT `request_id`, `function`, `source`, `start`, `duration`, `billed_duration`, `init_duration`, `deadline`, `memory_mb`, `max_memory_mb`, `status`, `error_type`, `cold_start`, `attempt`, `trace_id`, `span_id` FROM `golden`.`invocations` WHERE request_id IN ('req-1', 'req-2') AND "start" BETWEEN 1772365200002000000 AND 1772367603000000000;

SELECT watermark, rev, revs FROM `golden`.`detector_state` WHERE name = 'golden';

SELECT token, window_start, window_end, occurrences, committed_at FROM `golden`.`detector_journal` WHERE name = 'golden' ORDER BY window_start, token;

INSERT INTO `golden`.`detector_journal` (token, name, window_start, window_end, occurrences, committed_at) VALUES ('<token>', 'golden', 0, 1772366400000000000, '[{"kind":"error","fp":"fp","title":"T","fn":"api","sev":"error","first":1772366400000000000,"last":1772366400000000001,"n":1,"traces":["a101030405060708090a0b0c0d0e0f01"]}]', 1772366400000000000);

INSERT INTO `golden`.`detector_state` (name, watermark, updated_at, rev, revs) VALUES ('golden', 1772366400000000000, 1772366400000000000, '<token>', ['<token>']);

SELECT id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, sample_traces, explanation, opened_at, resolved_at, regressions, updated_at, rev, revs FROM `golden`.`issues` WHERE id = 'c83eb6e7dbc0e102';

INSERT INTO `golden`.`issues` (id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, sample_traces, explanation, opened_at, resolved_at, regressions, updated_at, rev, revs) VALUES ('c83eb6e7dbc0e102', 'error', 'fp', 'T', 'api', '', 'error', 'open', 1772366400000000000, 1772366400000000001, 1, 'a101030405060708090a0b0c0d0e0f01', '', 1772366400000000000, 0, 0, 1772366400000000000, '<token>', ['fold:1772366400000000000:golden', '<token>']);

INSERT INTO `golden`.`issue_counts` (issue_id, bucket, count) VALUES ('c83eb6e7dbc0e102', 1772366400000000000, 1);

DELETE FROM `golden`.`detector_journal` WHERE token = '<token>';

SELECT watermark, rev, revs FROM `golden`.`detector_state` WHERE name = 'golden';

SELECT token, window_start, window_end, occurrences, committed_at FROM `golden`.`detector_journal` WHERE name = 'golden' ORDER BY window_start, token;

INSERT INTO `golden`.`detector_journal` (token, name, window_start, window_end, occurrences, committed_at) VALUES ('<token>', 'golden', 1772366400000000000, 1772366400000000001, '[{"kind":"error","fp":"fp","title":"T","fn":"api","sev":"error","first":1772366400000000000,"last":1772366400000000001,"n":1,"traces":["a101030405060708090a0b0c0d0e0f01"]}]', 1772366400000000000);

ALTER TABLE `golden`.`detector_state` UPDATE watermark = 1772366400000000001, updated_at = 1772366400000000000, rev = '<token>', revs = arraySlice(arrayPushBack(revs, '<token>'), -8) WHERE name = 'golden' AND rev = '<token>';

SELECT has(revs, '<token>') FROM `golden`.`detector_state` WHERE name = 'golden';

SELECT id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, sample_traces, explanation, opened_at, resolved_at, regressions, updated_at, rev, revs FROM `golden`.`issues` WHERE id = 'c83eb6e7dbc0e102';

ALTER TABLE `golden`.`issues` UPDATE kind = 'error', fingerprint = 'fp', title = 'T', function = 'api', channel = '', severity = 'error', status = 'open', first_seen = 1772366400000000000, last_seen = 1772366400000000001, count = 2, sample_traces = 'a101030405060708090a0b0c0d0e0f01', explanation = '', opened_at = 1772366400000000000, resolved_at = 0, regressions = 0, updated_at = 1772366400000000000, rev = '<token>', revs = ['fold:1772366400000000001:golden', '<token>', '<token>'] WHERE id = 'c83eb6e7dbc0e102' AND rev = '<token>';

SELECT has(revs, '<token>') FROM `golden`.`issues` WHERE id = 'c83eb6e7dbc0e102';

INSERT INTO `golden`.`issue_counts` (issue_id, bucket, count) VALUES ('c83eb6e7dbc0e102', 1772366400000000000, 1);

DELETE FROM `golden`.`detector_journal` WHERE token = '<token>';

SELECT watermark, rev, revs FROM `golden`.`detector_state` WHERE name = 'golden';

SELECT token, window_start, window_end, occurrences, committed_at FROM `golden`.`detector_journal` WHERE name = 'golden' ORDER BY window_start, token;

SELECT id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, sample_traces, explanation, opened_at, resolved_at, regressions, updated_at FROM `golden`.`issues` WHERE last_seen >= 1772366400000000000 AND last_seen < 1772366460000000000 AND kind = 'error' AND status = 'open' AND (function = 'api' OR channel = 'api') ORDER BY last_seen DESC, id LIMIT 10;

SELECT id, kind, fingerprint, title, function, channel, severity, status, first_seen, last_seen, count, sample_traces, explanation, opened_at, resolved_at, regressions, updated_at, rev, revs FROM `golden`.`issues` WHERE id = 'c83eb6e7dbc0e102';

ALTER TABLE `golden`.`issues` UPDATE kind = 'error', fingerprint = 'fp', title = 'T', function = 'api', channel = '', severity = 'error', status = 'resolved', first_seen = 1772366400000000000, last_seen = 1772366400000000001, count = 2, sample_traces = 'a101030405060708090a0b0c0d0e0f01', explanation = '', opened_at = 1772366400000000000, resolved_at = 1772366400000000002, regressions = 0, updated_at = 1772366400000000002, rev = '<token>', revs = ['fold:1772366400000000001:golden', '<token>', '<token>', '<token>'] WHERE id = 'c83eb6e7dbc0e102' AND rev = '<token>';

SELECT has(revs, '<token>') FROM `golden`.`issues` WHERE id = 'c83eb6e7dbc0e102';

SELECT id FROM `golden`.`issues` WHERE status = 'open' AND last_seen < 1772366400000000000 ORDER BY id;

SELECT issue_id, CAST(sum(count) AS BIGINT) FROM `golden`.`issue_counts` WHERE bucket >= 1772366400000000000 GROUP BY issue_id;

INSERT INTO `golden`.`alert_rules` (id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created) VALUES ('rule', 'any', '', '', true, 0, 0, 'webhook', 'http://x', '', 1772366400000000000);

SELECT id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created FROM `golden`.`alert_rules` ORDER BY created, id LIMIT 1000;

INSERT INTO `golden`.`alert_events` (id, rule_id, issue_id, type, episode, state, attempts, next_attempt, lease_holder, lease_until, last_error, created, delivered_at, rev, revs) VALUES ('c3420ed424cf9f0b', 'rule', 'c83eb6e7dbc0e102', 'firing', 1772366400000000000, 'pending', 0, 1772366400000000000, '', 0, '', 1772366400000000000, 0, '<token>', ['<token>']);

SELECT id, rev FROM `golden`.`alert_events` WHERE state = 'pending' AND next_attempt <= 1772366400000000000 AND lease_until <= 1772366400000000000 ORDER BY created, id LIMIT 10;

ALTER TABLE `golden`.`alert_events` UPDATE lease_holder = 'node-a', lease_until = 1772366460000000000, attempts = attempts + 1, rev = '<token>', revs = arraySlice(arrayPushBack(revs, '<token>'), -8) WHERE id = 'c3420ed424cf9f0b' AND rev = '<token>';

SELECT has(revs, '<token>') FROM `golden`.`alert_events` WHERE id = 'c3420ed424cf9f0b';

SELECT id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at FROM `golden`.`alert_events` WHERE id = 'c3420ed424cf9f0b';

SELECT lease_holder, rev FROM `golden`.`alert_events` WHERE id = 'c3420ed424cf9f0b';

ALTER TABLE `golden`.`alert_events` UPDATE state = 'delivered', delivered_at = 1772366400000000001, last_error = '', next_attempt = 0, lease_holder = '', lease_until = 0, rev = '<token>', revs = arraySlice(arrayPushBack(revs, '<token>'), -8) WHERE id = 'c3420ed424cf9f0b' AND rev = '<token>';

SELECT has(revs, '<token>') FROM `golden`.`alert_events` WHERE id = 'c3420ed424cf9f0b';

SELECT id, rule_id, issue_id, type, episode, state, attempts, next_attempt, last_error, created, delivered_at FROM `golden`.`alert_events` WHERE rule_id = 'rule' ORDER BY created DESC, id LIMIT 10;

SELECT id, name, kind, function, any_new, threshold, window_ns, target, url, to_addrs, created FROM `golden`.`alert_rules` WHERE id = 'rule';

DELETE FROM `golden`.`alert_rules` WHERE id = 'rule';

DELETE FROM `golden`.`alert_events` WHERE rule_id = 'rule';

SELECT fields, first_seen, last_seen, rev FROM `golden`.`contracts` WHERE key = 'jobs\0api\01';

INSERT INTO `golden`.`contracts` (key, channel, service, version, fields, first_seen, last_seen, rev, revs) VALUES ('jobs\0api\01', 'jobs', 'api', '1', '{"id":"string"}', 1772366400000000000, 1772366400000000000, '<token>', ['<token>']);

SELECT service, version, fields, first_seen, last_seen FROM `golden`.`contracts` WHERE channel = 'jobs' ORDER BY first_seen, service, version LIMIT 1000;

SELECT count(*) FROM `golden`.`spans` WHERE start_time < 1772366402000000000;

DELETE FROM `golden`.`spans` WHERE start_time < 1772366402000000000;

SELECT count(*) FROM `golden`.`logs` WHERE "time" < 1772366402000000000;

DELETE FROM `golden`.`logs` WHERE "time" < 1772366402000000000;

SELECT count(*) FROM `golden`.`invocations` WHERE "start" < 1772366402000000000;

DELETE FROM `golden`.`invocations` WHERE "start" < 1772366402000000000;

SELECT count(*) FROM `golden`.`message_refs` WHERE "time" < 1772366402000000000;

DELETE FROM `golden`.`message_refs` WHERE "time" < 1772366402000000000;

SELECT count(*) FROM `golden`.`trace_index` WHERE start_min < 1772366402000000000;

DELETE FROM `golden`.`trace_index` WHERE start_min < 1772366402000000000;

DELETE FROM `golden`.`rollup_minutes` WHERE minute < 1772366342000000001;

DELETE FROM `golden`.`rollup_nodes` WHERE minute < 1772366342000000001;

DELETE FROM `golden`.`rollup_calls` WHERE minute < 1772366342000000001;

DELETE FROM `golden`.`rollup_hops` WHERE minute < 1772366342000000001;
