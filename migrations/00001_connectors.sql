-- +goose Up
-- An Edm.DateTimeOffset is two columns: the UTC instant in 100 ns ticks since 0001-01-01 (ordering, comparison
-- and indexes use it) and the offset the client wrote, in minutes (so the value comes back as written).
-- timestamptz alone would lose the seventh fraction digit and the offset.
-- Strings are COLLATE "C": OData compares strings ordinally, by code point.
CREATE TABLE certificate_connector_details (
    tenant_id           uuid     NOT NULL,
    id                  uuid     NOT NULL,
    connector_name      text COLLATE "C",
    machine_name        text COLLATE "C",
    enrollment_ticks    bigint   NOT NULL,
    enrollment_offset   smallint NOT NULL,
    last_checkin_ticks  bigint   NOT NULL,
    last_checkin_offset smallint NOT NULL,
    connector_version   text COLLATE "C",
    version             bigint   NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT enrollment_ticks_range CHECK (enrollment_ticks BETWEEN 0 AND 3155378975999999999),
    CONSTRAINT last_checkin_ticks_range CHECK (last_checkin_ticks BETWEEN 0 AND 3155378975999999999),
    CONSTRAINT enrollment_offset_range CHECK (enrollment_offset BETWEEN -840 AND 840),
    CONSTRAINT last_checkin_offset_range CHECK (last_checkin_offset BETWEEN -840 AND 840),
    CONSTRAINT version_positive CHECK (version > 0)
);

-- +goose Down
DROP TABLE certificate_connector_details;
