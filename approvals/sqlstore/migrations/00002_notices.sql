-- +goose Up
-- The notice outbox: what the approvals bot owes people after an action,
-- written in the action's transaction and deleted once posted.
CREATE TABLE approval_notices (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    task        INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX approval_notices_created ON approval_notices (created_at);

-- +goose Down
DROP TABLE approval_notices;
