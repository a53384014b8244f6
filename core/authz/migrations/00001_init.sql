-- +goose Up
-- Casbin rules written by Rounds (custom roles and role assignments). The
-- built-in policy is compiled into the binary and never stored here.
-- ptype p: v0 role, v1 organisation, v2 object, v3 action, v4 effect.
-- ptype g: v0 subject ("user:<id>" or a role), v1 role, v2 organisation.
CREATE TABLE authz_rules (
    id    TEXT PRIMARY KEY,
    ptype TEXT NOT NULL,
    v0    TEXT NOT NULL DEFAULT '',
    v1    TEXT NOT NULL DEFAULT '',
    v2    TEXT NOT NULL DEFAULT '',
    v3    TEXT NOT NULL DEFAULT '',
    v4    TEXT NOT NULL DEFAULT '',
    v5    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX authz_rules_rule ON authz_rules (ptype, v0, v1, v2, v3, v4, v5);
CREATE INDEX authz_rules_v1 ON authz_rules (ptype, v1, v2);

-- Custom roles of an organisation: what casbin cannot say (that an empty role
-- exists, its description, who made it).
CREATE TABLE authz_roles (
    org_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    inherits    TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- +goose Down
DROP TABLE authz_roles;
DROP TABLE authz_rules;
