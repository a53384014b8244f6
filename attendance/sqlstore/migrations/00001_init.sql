-- +goose Up
CREATE TABLE attendance_rules (
    org_id TEXT PRIMARY KEY,
    rules  TEXT NOT NULL
);
CREATE TABLE attendance_punches (
    id        TEXT PRIMARY KEY,
    org_id    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    at        BIGINT NOT NULL,
    method    TEXT NOT NULL,
    place     TEXT NOT NULL,
    source_id TEXT
);
CREATE INDEX attendance_punches_user ON attendance_punches (org_id, user_id, at);
CREATE UNIQUE INDEX attendance_punches_source ON attendance_punches (source_id);
CREATE TABLE attendance_overtime (
    org_id    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    day       TEXT NOT NULL,
    minutes   INTEGER NOT NULL,
    source_id TEXT NOT NULL PRIMARY KEY
);
CREATE INDEX attendance_overtime_user ON attendance_overtime (org_id, user_id, day);
-- +goose Down
DROP TABLE attendance_overtime;
DROP TABLE attendance_punches;
DROP TABLE attendance_rules;
