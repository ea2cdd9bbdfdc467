-- Issues and alerts (DESIGN.md §2), owned by internal/detect and
-- internal/alert. Unlike the telemetry tables these rows are updated in
-- place, so they have primary keys; they are small (one row per issue,
-- rule or notification) and live outside the column-spec appenders.

-- One row per issue: every occurrence of one (kind, fingerprint).
CREATE TABLE issues (
    id                  VARCHAR PRIMARY KEY,
    kind                VARCHAR NOT NULL,
    fingerprint         VARCHAR NOT NULL,
    title               VARCHAR,
    function            VARCHAR,
    channel             VARCHAR,
    severity            VARCHAR,
    status              VARCHAR NOT NULL,
    first_seen          BIGINT NOT NULL,
    last_seen           BIGINT NOT NULL,
    count               BIGINT NOT NULL,
    sample_traces       VARCHAR, -- space-separated hex trace ids, newest last
    explanation         VARCHAR,
    opened_at           BIGINT NOT NULL,
    resolved_at         BIGINT NOT NULL,
    regressions         INTEGER NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- Occurrences per issue and minute, for alert thresholds over a window.
CREATE TABLE issue_counts (
    issue_id            VARCHAR NOT NULL,
    bucket              BIGINT NOT NULL, -- Unix ns, start of the minute
    count               BIGINT NOT NULL,
    PRIMARY KEY (issue_id, bucket)
);

-- The end of the last window each detector committed.
CREATE TABLE detector_state (
    name                VARCHAR PRIMARY KEY,
    watermark           BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE alert_rules (
    id                  VARCHAR PRIMARY KEY,
    name                VARCHAR,
    kind                VARCHAR,
    function            VARCHAR,
    any_new             BOOLEAN NOT NULL,
    threshold           BIGINT NOT NULL,
    window_ns           BIGINT NOT NULL,
    target              VARCHAR NOT NULL,
    url                 VARCHAR,
    to_addrs            VARCHAR,
    created             BIGINT NOT NULL
);

-- One notification per (rule, issue, type, episode); delivery leases make
-- one node deliver it.
CREATE TABLE alert_events (
    id                  VARCHAR PRIMARY KEY,
    rule_id             VARCHAR NOT NULL,
    issue_id            VARCHAR NOT NULL,
    type                VARCHAR NOT NULL,
    episode             BIGINT NOT NULL,
    state               VARCHAR NOT NULL,
    attempts            INTEGER NOT NULL,
    next_attempt        BIGINT NOT NULL,
    lease_holder        VARCHAR,
    lease_until         BIGINT NOT NULL,
    last_error          VARCHAR,
    created             BIGINT NOT NULL,
    delivered_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX alert_events_once ON alert_events (rule_id, issue_id, type, episode);
