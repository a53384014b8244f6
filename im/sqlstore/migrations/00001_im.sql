-- +goose Up
-- One row: the installation-wide event position counter. Taking a position
-- is an UPDATE of this row inside the writing transaction, so positions are
-- gapless and commit in order even with several nodes.
CREATE TABLE im_stream (
    id INTEGER PRIMARY KEY,
    pos BIGINT NOT NULL,
    pruned_through BIGINT NOT NULL DEFAULT 0
);
INSERT INTO im_stream (id, pos, pruned_through) VALUES (1, 0, 0);

CREATE TABLE im_conversations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    owner_id TEXT NOT NULL DEFAULT '',
    direct_key TEXT,
    department_id TEXT NOT NULL DEFAULT '',
    subtree INTEGER NOT NULL DEFAULT 0,
    announcement INTEGER NOT NULL DEFAULT 0,
    receipts_off INTEGER NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_message_at BIGINT NOT NULL DEFAULT 0,
    member_count INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX im_conversations_direct ON im_conversations (direct_key);
CREATE INDEX im_conversations_dept ON im_conversations (org_id, department_id);

CREATE TABLE im_members (
    conversation_id TEXT NOT NULL REFERENCES im_conversations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    muted INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    read_seq BIGINT NOT NULL DEFAULT 0,
    joined_seq BIGINT NOT NULL DEFAULT 0,
    joined_pos BIGINT NOT NULL DEFAULT 0,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX im_members_user ON im_members (user_id);
CREATE INDEX im_members_read ON im_members (conversation_id, read_seq);

CREATE TABLE im_messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES im_conversations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    sender_id TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    mentions TEXT NOT NULL DEFAULT '',
    mention_all INTEGER NOT NULL DEFAULT 0,
    reply_to_id TEXT NOT NULL DEFAULT '',
    reply_quote TEXT NOT NULL DEFAULT '',
    file_id TEXT NOT NULL DEFAULT '',
    urgent INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    edited_at BIGINT NOT NULL DEFAULT 0,
    recalled_at BIGINT NOT NULL DEFAULT 0,
    recalled_by TEXT NOT NULL DEFAULT '',
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_msg_id)
);
CREATE INDEX im_messages_reply ON im_messages (reply_to_id);

CREATE TABLE im_reactions (
    message_id TEXT NOT NULL REFERENCES im_messages (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    emoji TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

-- The durable event log clients resume from. user_id = '' means "for every
-- current member of conversation_id"; otherwise the event is personal.
CREATE TABLE im_events (
    pos BIGINT PRIMARY KEY,
    conversation_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX im_events_conv ON im_events (conversation_id, pos);
CREATE INDEX im_events_user ON im_events (user_id, pos);
CREATE INDEX im_events_at ON im_events (at);

-- +goose Down
DROP TABLE im_events;
DROP TABLE im_reactions;
DROP TABLE im_messages;
DROP TABLE im_members;
DROP TABLE im_conversations;
DROP TABLE im_stream;
