-- +goose Up
-- One row per hook delivery claimed in the cluster: every node runs every
-- enabled install and hears every event; the node whose insert succeeds
-- delivers, the others skip. Pruned by claimed_at.
CREATE TABLE plugins_hook_claims (
    install_id TEXT NOT NULL,
    hook       TEXT NOT NULL,
    event_key  TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (install_id, hook, event_key)
);
CREATE INDEX plugins_hook_claims_at ON plugins_hook_claims (claimed_at);

-- +goose Down
DROP TABLE plugins_hook_claims;
