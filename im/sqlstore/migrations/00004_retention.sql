-- +goose Up
-- One retention policy per organisation; no row means keep forever.
CREATE TABLE im_retention_policies (
    org_id TEXT PRIMARY KEY,
    message_days INTEGER NOT NULL DEFAULT 0,
    file_days INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- Legal holds: a conversation (conversation_id) or a person (user_id) whose
-- messages retention must not purge while released_at = 0. Released holds
-- stay as the record of what was held, by whom and for which case.
CREATE TABLE im_legal_holds (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    case_number TEXT NOT NULL,
    placed_by TEXT NOT NULL DEFAULT '',
    placed_at BIGINT NOT NULL,
    released_by TEXT NOT NULL DEFAULT '',
    released_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX im_legal_holds_org ON im_legal_holds (org_id, released_at);

-- Retention walks each conversation by seq (the existing unique index) and
-- files by age; a person's export finds what they sent by sender.
CREATE INDEX im_messages_sender ON im_messages (sender_id, id);
CREATE INDEX im_files_created ON im_files (created_at);

-- +goose Down
DROP INDEX im_files_created;
DROP INDEX im_messages_sender;
DROP TABLE im_legal_holds;
DROP TABLE im_retention_policies;
