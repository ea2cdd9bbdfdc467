-- Inferred payload contracts (DESIGN.md §2 contracts), owned by
-- internal/detect: one row per channel and producer (service, version).
CREATE TABLE contracts (
    channel             VARCHAR NOT NULL,
    service             VARCHAR NOT NULL,
    version             VARCHAR NOT NULL,
    fields              VARCHAR NOT NULL, -- JSON object: field path → type
    first_seen          BIGINT NOT NULL,
    last_seen           BIGINT NOT NULL,
    PRIMARY KEY (channel, service, version)
);
