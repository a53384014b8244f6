-- +goose Up
-- Tables carry the identity_ prefix: every area shares one database.
CREATE TABLE identity_users (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL DEFAULT '',
    login               TEXT NOT NULL,
    -- login_key is the lower-cased login: logins are unique case-insensitively.
    login_key           TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL,
    password_hash       TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX identity_users_org ON identity_users (org_id, login_key);

CREATE TABLE identity_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES identity_users (id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX identity_sessions_user ON identity_sessions (user_id, revoked_at);
CREATE INDEX identity_sessions_expires ON identity_sessions (expires_at);

CREATE TABLE identity_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES identity_users (id),
    token_hash   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX identity_tokens_user ON identity_tokens (user_id, revoked_at);

CREATE TABLE identity_login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE identity_login_throttle;
DROP TABLE identity_tokens;
DROP TABLE identity_sessions;
DROP TABLE identity_users;
