-- +goose Up
CREATE TABLE roster_settings (
    org_id    TEXT PRIMARY KEY,
    time_zone TEXT NOT NULL
);
CREATE TABLE roster_shifts (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    start_minute  INTEGER NOT NULL,
    end_minute    INTEGER NOT NULL,
    break_minutes INTEGER NOT NULL,
    paid_minutes  INTEGER NOT NULL,
    night         BOOLEAN NOT NULL,
    overnight     BOOLEAN NOT NULL,
    colour        TEXT NOT NULL,
    requires      TEXT NOT NULL,
    UNIQUE (org_id, code)
);
CREATE TABLE roster_rules (
    org_id        TEXT NOT NULL,
    department_id TEXT NOT NULL,
    rules         TEXT NOT NULL,
    PRIMARY KEY (org_id, department_id)
);
CREATE TABLE roster_profiles (
    org_id         TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    skills         TEXT NOT NULL,
    qualifications TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE roster_leave (
    org_id  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    day     INTEGER NOT NULL,
    source  TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, day)
);
CREATE TABLE rosters (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    department_id TEXT NOT NULL,
    from_day      INTEGER NOT NULL,
    to_day        INTEGER NOT NULL,
    status        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    published_version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rosters_dept ON rosters (org_id, department_id, from_day);
CREATE TABLE roster_versions (
    roster_id   TEXT NOT NULL REFERENCES rosters (id),
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    assignments TEXT NOT NULL,
    violations  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (roster_id, version)
);
-- +goose Down
DROP TABLE roster_versions;
DROP TABLE rosters;
DROP TABLE roster_leave;
DROP TABLE roster_profiles;
DROP TABLE roster_rules;
DROP TABLE roster_shifts;
DROP TABLE roster_settings;
