-- +goose Up
-- Publisher keys an organisation trusts; key_id is derived from the key.
CREATE TABLE marketplace_keys (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    public_key TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    added_at   BIGINT NOT NULL,
    UNIQUE (org_id, key_id)
);

-- One row per app per organisation. The releases (current and the one an
-- upgrade replaced) and the visibility are JSON documents: they are read and
-- written whole, never queried inside.
CREATE TABLE marketplace_installs (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    version    TEXT NOT NULL,
    current    TEXT NOT NULL,
    previous   TEXT NOT NULL,
    visibility TEXT NOT NULL,
    rev        BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (org_id, app_id)
);

-- +goose Down
DROP TABLE marketplace_installs;
DROP TABLE marketplace_keys;
