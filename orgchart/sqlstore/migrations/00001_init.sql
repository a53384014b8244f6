-- +goose Up
CREATE TABLE orgchart_orgs (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE orgchart_departments (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgchart_orgs (id),
    parent_id  TEXT REFERENCES orgchart_departments (id),
    name       TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX orgchart_departments_org ON orgchart_departments (org_id);
CREATE INDEX orgchart_departments_parent ON orgchart_departments (parent_id);

CREATE TABLE orgchart_staff (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES orgchart_orgs (id),
    employee_no           TEXT NOT NULL,
    employee_no_key       TEXT NOT NULL,
    name                  TEXT NOT NULL,
    phone                 TEXT NOT NULL DEFAULT '',
    email                 TEXT NOT NULL DEFAULT '',
    position              TEXT NOT NULL DEFAULT '',
    title                 TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    primary_department_id TEXT REFERENCES orgchart_departments (id),
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX orgchart_staff_employee_no ON orgchart_staff (org_id, employee_no_key);

CREATE TABLE orgchart_staff_departments (
    user_id       TEXT NOT NULL REFERENCES orgchart_staff (id),
    department_id TEXT NOT NULL REFERENCES orgchart_departments (id),
    PRIMARY KEY (user_id, department_id)
);
CREATE INDEX orgchart_staff_departments_dept ON orgchart_staff_departments (department_id);

CREATE TABLE orgchart_heads (
    user_id       TEXT NOT NULL REFERENCES orgchart_staff (id),
    department_id TEXT NOT NULL REFERENCES orgchart_departments (id),
    PRIMARY KEY (user_id, department_id)
);
CREATE INDEX orgchart_heads_dept ON orgchart_heads (department_id);

CREATE TABLE orgchart_duty_roles (
    org_id     TEXT NOT NULL REFERENCES orgchart_orgs (id),
    name       TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE orgchart_duty_role_holders (
    user_id TEXT NOT NULL REFERENCES orgchart_staff (id),
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE orgchart_groups (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE orgchart_group_members (
    group_id       TEXT NOT NULL REFERENCES orgchart_groups (id),
    org_id         TEXT NOT NULL REFERENCES orgchart_orgs (id),
    share          TEXT NOT NULL,
    department_ids TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, org_id)
);

-- +goose Down
DROP TABLE orgchart_group_members;
DROP TABLE orgchart_groups;
DROP TABLE orgchart_duty_role_holders;
DROP TABLE orgchart_duty_roles;
DROP TABLE orgchart_heads;
DROP TABLE orgchart_staff_departments;
DROP TABLE orgchart_staff;
DROP TABLE orgchart_departments;
DROP TABLE orgchart_orgs;
