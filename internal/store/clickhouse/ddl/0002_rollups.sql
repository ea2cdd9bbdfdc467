-- Service map rollups, version 2 (internal/store/clickhouse/servicemap_rollup.go;
-- docs/servicemap.md "Rollups"): per-minute histograms of the map's
-- queries, the embedded engine's rollup tables laid out for ClickHouse.
--
-- Any node may roll a minute, and two may roll the same one. Every roll
-- of a batch of minutes writes its rows under a new version (the server
-- clock when the roll began), then one row per minute in rollup_minutes;
-- a read takes, per minute, the rows of the newest version listed there.
-- So a minute is read only once a roll of it is complete, rolling it
-- twice counts nothing twice, and a roll interrupted or raced leaves rows
-- nobody reads (removed with the minute by DeleteBefore or the TTL).
--
-- rollup_marks is the dirty marking of the embedded engine: materialized
-- views add, with every insert of spans or message refs, the minutes it
-- touches and the server time; the job rolls the minutes a mark reaches
-- again, and reads treat them as stale until it has.

CREATE TABLE IF NOT EXISTS {{local "rollup_nodes"}}{{onCluster}}
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
ENGINE = {{engine "MergeTree" "rollup_nodes"}}
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version, environment, service, function)
{{ttl "minute"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS {{local "rollup_calls"}}{{onCluster}}
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
ENGINE = {{engine "MergeTree" "rollup_calls"}}
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version, environment, caller_service, caller_function)
{{ttl "minute"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- metric 0: the consumer spans' durations; 1: the queue lags.
CREATE TABLE IF NOT EXISTS {{local "rollup_hops"}}{{onCluster}}
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
ENGINE = {{engine "MergeTree" "rollup_hops"}}
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version, environment, producer_service, producer_function)
{{ttl "minute"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- One row per roll of a minute with spans: the minute's rows of that
-- version are complete. spans: the spans the minute held, for reads that
-- choose rollups only above a size.
CREATE TABLE IF NOT EXISTS {{local "rollup_minutes"}}{{onCluster}}
(
    minute              Int64 CODEC(Delta(8), ZSTD(1)),
    version             Int64 CODEC(ZSTD(1)),
    spans               Int64 CODEC(T64, ZSTD(1)),
    rolled_at           Int64 CODEC(ZSTD(1))
)
ENGINE = {{engine "MergeTree" "rollup_minutes"}}
PARTITION BY intDiv(minute, 86400000000000)
ORDER BY (minute, version)
{{ttl "minute"}}SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- The minutes each insert of spans or refs touched, and when (server
-- clock, Unix ns). Kept a day past marking: a mark the job has not read
-- by then is dropped (a job stopped that long rolls the minutes again
-- only by retention).
CREATE TABLE IF NOT EXISTS {{local "rollup_marks"}}{{onCluster}}
(
    minute              Int64 CODEC(ZSTD(1)),
    marked_at           Int64 CODEC(Delta(8), ZSTD(1))
)
ENGINE = {{engine "MergeTree" "rollup_marks"}}
PARTITION BY intDiv(marked_at, 86400000000000)
ORDER BY (marked_at, minute)
TTL toDateTime(intDiv(marked_at, 1000000000)) + INTERVAL 1 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{local "rollup_marks_spans"}}{{onCluster}} TO {{local "rollup_marks"}}
AS SELECT DISTINCT intDiv(start_time, 60000000000) * 60000000000 AS minute, toUnixTimestamp64Nano(now64(9)) AS marked_at
FROM {{local "spans"}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{local "rollup_marks_refs"}}{{onCluster}} TO {{local "rollup_marks"}}
AS SELECT DISTINCT intDiv(time, 60000000000) * 60000000000 AS minute, toUnixTimestamp64Nano(now64(9)) AS marked_at
FROM {{local "message_refs"}};

{{if distributed}}CREATE TABLE IF NOT EXISTS {{table "rollup_nodes"}}{{onCluster}} AS {{local "rollup_nodes"}}
ENGINE = Distributed({{cluster}}, {{db}}, {{localName "rollup_nodes"}}, rand());

CREATE TABLE IF NOT EXISTS {{table "rollup_calls"}}{{onCluster}} AS {{local "rollup_calls"}}
ENGINE = Distributed({{cluster}}, {{db}}, {{localName "rollup_calls"}}, rand());

CREATE TABLE IF NOT EXISTS {{table "rollup_hops"}}{{onCluster}} AS {{local "rollup_hops"}}
ENGINE = Distributed({{cluster}}, {{db}}, {{localName "rollup_hops"}}, rand());

CREATE TABLE IF NOT EXISTS {{table "rollup_minutes"}}{{onCluster}} AS {{local "rollup_minutes"}}
ENGINE = Distributed({{cluster}}, {{db}}, {{localName "rollup_minutes"}}, rand());

CREATE TABLE IF NOT EXISTS {{table "rollup_marks"}}{{onCluster}} AS {{local "rollup_marks"}}
ENGINE = Distributed({{cluster}}, {{db}}, {{localName "rollup_marks"}}, rand());

{{end}}-- The job's progress, shared by every node: minutes before sealed are
-- rolled up (or reached by a mark not yet read), marks up to marks_read
-- are read. Written by whichever node finished a run last; a value that
-- goes back only makes work be done again.
CREATE TABLE IF NOT EXISTS {{table "rollup_state"}}{{onCluster}}
(
    name                String,
    sealed              Int64,
    marks_read          Int64,
    updated_at          Int64
)
ENGINE = KeeperMap({{keeperPath "rollup_state"}})
PRIMARY KEY name;
