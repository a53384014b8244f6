-- +goose Up
-- App installs: one app in one organisation, as the admin approved it.
-- grants and settings are JSON text.
CREATE TABLE plugins_installs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    bot_user_id TEXT NOT NULL,
    dir         TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    grants      TEXT NOT NULL,
    settings    TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX plugins_installs_org_app ON plugins_installs (org_id, app_id);

-- +goose Down
DROP TABLE plugins_installs;
