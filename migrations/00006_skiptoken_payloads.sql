-- +goose Up
-- Paging cursors too long to travel in a $skiptoken (long string sort keys), by the SHA-256 of their JSON. Every
-- replica reads what another wrote; rows unused for 7 days are deleted.
CREATE TABLE skiptoken_payloads (
    digest     bytea PRIMARY KEY,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE skiptoken_payloads;
