-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER approval_timeline_no_update BEFORE UPDATE ON approval_timeline
BEGIN
    SELECT RAISE(ABORT, 'approval_timeline is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER approval_timeline_no_delete BEFORE DELETE ON approval_timeline
BEGIN
    SELECT RAISE(ABORT, 'approval_timeline is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER approval_timeline_no_delete;
DROP TRIGGER approval_timeline_no_update;
