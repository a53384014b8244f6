-- +goose Up
-- The audit log: append-only, hash-chained. Rounds never updates or deletes
-- these rows.
CREATE TABLE audit_entries (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    at          BIGINT NOT NULL,
    org_id      TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_kind  TEXT NOT NULL DEFAULT '',
    app_id      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    result      TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_entries_org ON audit_entries (org_id, seq);
CREATE INDEX audit_entries_actor ON audit_entries (actor_id, seq);
CREATE INDEX audit_entries_object ON audit_entries (object_type, object_id, seq);
CREATE INDEX audit_entries_at ON audit_entries (at);

-- The chain head: the last seq and hash. Appending locks this row, which
-- serialises appends across server nodes and lets Verify notice rows removed
-- from the end.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_entries;
