-- +goose Up
CREATE TABLE approval_templates (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    schema_json TEXT NOT NULL,
    flow_json   TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (org_id, code, version)
);

CREATE TABLE approval_requests (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    template_id      TEXT NOT NULL REFERENCES approval_templates(id),
    template_code    TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    title            TEXT NOT NULL,
    submitter_id     TEXT NOT NULL,
    dept_id          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    form_json        TEXT NOT NULL,
    chosen_json      TEXT NOT NULL DEFAULT '{}',
    route_json       TEXT NOT NULL,
    cursor_pos       INTEGER NOT NULL,
    round            INTEGER NOT NULL,
    activation       INTEGER NOT NULL,
    last_approvers   TEXT NOT NULL DEFAULT '[]',
    urged_at         BIGINT NOT NULL DEFAULT 0,
    seq              INTEGER NOT NULL DEFAULT 0,
    version          BIGINT NOT NULL,
    search_text      TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX approval_requests_org ON approval_requests (org_id, created_at, id);
CREATE INDEX approval_requests_submitter ON approval_requests (submitter_id, created_at, id);

CREATE TABLE approval_tasks (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    request_id   TEXT NOT NULL REFERENCES approval_requests(id),
    node         TEXT NOT NULL,
    step_index   INTEGER NOT NULL,
    activation   INTEGER NOT NULL,
    ord          INTEGER NOT NULL,
    assignee_id  TEXT NOT NULL,
    on_behalf_of TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    due_at       BIGINT NOT NULL DEFAULT 0,
    acted_at     BIGINT NOT NULL DEFAULT 0,
    reminded_at  BIGINT NOT NULL DEFAULT 0,
    escalated    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX approval_tasks_request ON approval_tasks (request_id);
CREATE INDEX approval_tasks_assignee ON approval_tasks (assignee_id, state);
CREATE INDEX approval_tasks_due ON approval_tasks (state, due_at);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE approval_timeline (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES approval_requests(id),
    seq          INTEGER NOT NULL,
    at           BIGINT NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    node         TEXT NOT NULL DEFAULT '',
    comment      TEXT NOT NULL DEFAULT '',
    attachments  TEXT NOT NULL DEFAULT '[]',
    details_json TEXT NOT NULL DEFAULT '{}',
    UNIQUE (request_id, seq)
);

CREATE TABLE approval_cc (
    request_id TEXT NOT NULL REFERENCES approval_requests(id),
    user_id    TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, user_id)
);
CREATE INDEX approval_cc_user ON approval_cc (user_id);

CREATE TABLE approval_outcomes (
    org_id       TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    action_id    TEXT NOT NULL,
    outcome_json TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, actor_id, action_id)
);

CREATE TABLE approval_delegations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    delegate_id TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX approval_delegations_user ON approval_delegations (org_id, user_id);

-- +goose Down
DROP TABLE approval_delegations;
DROP TABLE approval_outcomes;
DROP TABLE approval_cc;
DROP TABLE approval_timeline;
DROP TABLE approval_tasks;
DROP TABLE approval_requests;
DROP TABLE approval_templates;
