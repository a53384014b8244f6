-- +goose Up
-- Files and images uploaded into conversations. The bytes live in the file
-- store (local disk or MinIO) under key; this row says who may fetch them
-- (members of conversation_id) and counts against the uploader's quota.
CREATE TABLE im_files (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES im_conversations (id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    uploader_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    has_thumb INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX im_files_uploader ON im_files (uploader_id);

-- +goose Down
DROP TABLE im_files;
