-- +goose Up
-- Secrets every replica must share: graphd's own token signing key, the paging token HMAC key. The first
-- replica to need one creates it; the others read it.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE server_secrets;
