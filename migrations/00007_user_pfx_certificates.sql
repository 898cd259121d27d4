-- +goose Up
-- userPFXCertificate (/deviceManagement/userPfxCertificates), by store's naming rule: the key is text, Intune's
-- {userId without hyphens}-{lower-cased thumbprint}; enums are integers (their members' values); the blob is
-- bytea; each DateTimeOffset is ticks and offset, as for connectors.
CREATE TABLE user_pfx_certificates (
    tenant_id              uuid             NOT NULL,
    id                     text COLLATE "C" NOT NULL,
    thumbprint             text COLLATE "C",
    intended_purpose       integer          NOT NULL,
    user_principal_name    text COLLATE "C",
    start_ticks            bigint           NOT NULL,
    start_offset           smallint         NOT NULL,
    expiration_ticks       bigint           NOT NULL,
    expiration_offset      smallint         NOT NULL,
    provider_name          text COLLATE "C",
    key_name               text COLLATE "C",
    padding_scheme         integer          NOT NULL,
    encrypted_pfx_blob     bytea,
    encrypted_pfx_password text COLLATE "C",
    created_ticks          bigint           NOT NULL,
    created_offset         smallint         NOT NULL,
    last_modified_ticks    bigint           NOT NULL,
    last_modified_offset   smallint         NOT NULL,
    version                bigint           NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT upc_ticks_range CHECK (start_ticks BETWEEN 0 AND 3155378975999999999
        AND expiration_ticks BETWEEN 0 AND 3155378975999999999
        AND created_ticks BETWEEN 0 AND 3155378975999999999
        AND last_modified_ticks BETWEEN 0 AND 3155378975999999999),
    CONSTRAINT upc_offset_range CHECK (start_offset BETWEEN -840 AND 840 AND expiration_offset BETWEEN -840 AND 840
        AND created_offset BETWEEN -840 AND 840 AND last_modified_offset BETWEEN -840 AND 840),
    CONSTRAINT upc_version_positive CHECK (version > 0)
);
-- Listings by user, and by expiry (what a tool renewing certificates asks for).
CREATE INDEX upc_user_principal_name ON user_pfx_certificates (tenant_id, left(user_principal_name, 256) NULLS FIRST, id);
CREATE INDEX upc_expiration ON user_pfx_certificates (tenant_id, expiration_ticks, id);

-- +goose Down
DROP TABLE user_pfx_certificates;
