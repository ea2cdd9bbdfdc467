-- Service map rollups (docs/servicemap.md "Rollups"; servicemap_rollup.go).
--
-- spans.peer: what a client or producer span names as its callee,
-- "<kind>:<name>" (servicemap_peer.go computes it at ingest). The UPDATE
-- backfills existing rows with the SQL the map used before the column
-- existed (peerExprs in servicemap.go; a test holds the two equal).
ALTER TABLE spans ADD COLUMN peer VARCHAR;

UPDATE spans SET peer = (CASE
		WHEN (messaging_system IS NOT NULL OR kind = 4) THEN CASE messaging_system
			WHEN 'aws_sns' THEN 'topic' WHEN 'kafka' THEN 'topic' WHEN 'gcp_pubsub' THEN 'topic'
			WHEN 'aws_kinesis' THEN 'stream' WHEN 'aws_eventbridge' THEN 'eventbus' ELSE 'queue' END
		WHEN db_system IS NOT NULL THEN 'database'
		WHEN attr_values[list_position(attr_keys, 'aws.s3.bucket')] IS NOT NULL THEN 'bucket'
		WHEN attr_values[list_position(attr_keys, 'rpc.system')] = 'aws-api'
			AND attr_values[list_position(attr_keys, 'rpc.service')] IN ('Lambda', 'SFN') THEN NULL
		WHEN attr_values[list_position(attr_keys, 'rpc.system')] = 'aws-api' THEN 'aws'
		WHEN coalesce(attr_values[list_position(attr_keys, 'server.address')], attr_values[list_position(attr_keys, 'net.peer.name')],
			attr_values[list_position(attr_keys, 'http.host')]) IS NOT NULL THEN 'http'
		ELSE NULL END) || ':' || coalesce(CASE
		WHEN (messaging_system IS NOT NULL OR kind = 4) THEN coalesce(destination, messaging_system, 'unknown')
		WHEN db_system IS NOT NULL THEN db_system
		WHEN attr_values[list_position(attr_keys, 'aws.s3.bucket')] IS NOT NULL THEN attr_values[list_position(attr_keys, 'aws.s3.bucket')]
		WHEN attr_values[list_position(attr_keys, 'rpc.system')] = 'aws-api' THEN attr_values[list_position(attr_keys, 'rpc.service')]
		ELSE coalesce(attr_values[list_position(attr_keys, 'server.address')], attr_values[list_position(attr_keys, 'net.peer.name')],
			attr_values[list_position(attr_keys, 'http.host')]) END, '')
WHERE kind IN (3, 4);

-- Every commit appends the minutes (Unix ns of their start) its spans,
-- message refs and invocations fall in; the rollup job turns them into
-- rollup_todo and deletes them.
CREATE TABLE rollup_marks (
    minute              BIGINT NOT NULL,
    marked_at           BIGINT NOT NULL
);

-- Sealed minutes whose rollups must be (re)computed.
CREATE TABLE rollup_todo (
    minute              BIGINT NOT NULL
);

-- One row: minutes before "sealed" are sealed (rolled up, or listed in
-- rollup_todo, or within the reach of a pending mark). 0: nothing yet,
-- so the first run rolls up whatever the store holds.
CREATE TABLE rollup_state (
    sealed              BIGINT NOT NULL
);
INSERT INTO rollup_state VALUES (0);

-- Spans per rolled-up minute (only minutes with spans have a row).
CREATE TABLE rollup_minutes (
    minute              BIGINT NOT NULL,
    spans               BIGINT NOT NULL,
    rolled_at           BIGINT NOT NULL
);

-- The rollups: one row per minute, environment, group and duration
-- bucket (servicemap_hist.go), with the bucket's smallest and largest
-- value. NULL keys are NULL in the raw data too.

-- Entry spans per node (MapNodes, RED without an operation).
CREATE TABLE rollup_nodes (
    minute              BIGINT NOT NULL,
    environment         VARCHAR,
    service             VARCHAR,
    function            VARCHAR,
    bucket              SMALLINT NOT NULL,
    count               BIGINT NOT NULL,
    errors              BIGINT NOT NULL,
    cold_starts         BIGINT NOT NULL,
    min_ns              BIGINT NOT NULL,
    max_ns              BIGINT NOT NULL
);

-- MapCalls groups, by the minute of the calling span.
CREATE TABLE rollup_calls (
    minute              BIGINT NOT NULL,
    environment         VARCHAR,
    caller_service      VARCHAR,
    caller_function     VARCHAR,
    callee_service      VARCHAR,
    callee_function     VARCHAR,
    peer_kind           VARCHAR,
    peer                VARCHAR,
    messaging           BOOLEAN NOT NULL,
    bucket              SMALLINT NOT NULL,
    count               BIGINT NOT NULL,
    errors              BIGINT NOT NULL,
    min_ns              BIGINT NOT NULL,
    max_ns              BIGINT NOT NULL
);

-- MapHops groups, by the minute of the consuming span. metric 0: the
-- consumer span's duration (count = hops, errors); 1: the queue lag
-- (count = hops whose producer span is stored).
CREATE TABLE rollup_hops (
    minute              BIGINT NOT NULL,
    environment         VARCHAR,
    producer_service    VARCHAR,
    producer_function   VARCHAR,
    consumer_service    VARCHAR,
    consumer_function   VARCHAR,
    channel             VARCHAR,
    producer_destination VARCHAR,
    consumer_destination VARCHAR,
    consumer_system     VARCHAR,
    metric              UTINYINT NOT NULL,
    bucket              SMALLINT NOT NULL,
    count               BIGINT NOT NULL,
    errors              BIGINT NOT NULL,
    min_ns              BIGINT NOT NULL,
    max_ns              BIGINT NOT NULL
);
