-- +goose Up
-- Urgent messages (DING): who must acknowledge, who has, and the reminder
-- schedule. next_remind_at = 0 means no more reminders (all acknowledged or
-- escalated).
CREATE TABLE im_dings (
    message_id TEXT PRIMARY KEY REFERENCES im_messages (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    reminders INTEGER NOT NULL DEFAULT 0,
    next_remind_at BIGINT NOT NULL DEFAULT 0,
    escalated_to TEXT NOT NULL DEFAULT '',
    escalated_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX im_dings_due ON im_dings (next_remind_at);

CREATE TABLE im_ding_recipients (
    message_id TEXT NOT NULL REFERENCES im_dings (message_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    via TEXT NOT NULL DEFAULT '',
    acked_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX im_ding_recipients_user ON im_ding_recipients (user_id, acked_at);

-- +goose Down
DROP TABLE im_ding_recipients;
DROP TABLE im_dings;
