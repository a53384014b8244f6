-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION approval_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'approval_timeline is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER approval_timeline_no_change BEFORE UPDATE OR DELETE ON approval_timeline
    FOR EACH ROW EXECUTE FUNCTION approval_timeline_append_only();

-- +goose Down
DROP TRIGGER approval_timeline_no_change ON approval_timeline;
DROP FUNCTION approval_timeline_append_only();
