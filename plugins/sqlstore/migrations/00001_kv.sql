-- +goose Up
-- Apps' key-value storage. The namespace is the install id the host bound
-- the app's connection to; values are base64 TEXT (no BLOB/BYTEA).
CREATE TABLE plugins_kv (
    install_id TEXT NOT NULL,
    k          TEXT NOT NULL,
    v          TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (install_id, k)
);

-- +goose Down
DROP TABLE plugins_kv;
