package sqlstore

import (
	"context"

	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/im"
)

const fileCols = `id, conversation_id, org_id, uploader_id, name, content_type, size, sha256, width, height, has_thumb, created_at`

func (r reader) File(ctx context.Context, id string) (im.File, error) {
	var f im.File
	var thumb int
	var created int64
	err := r.q.QueryRowContext(ctx, `SELECT `+fileCols+` FROM im_files WHERE id = ?`, id).Scan(&f.ID, &f.ConversationID, &f.OrgID, &f.UploaderID, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.Width, &f.Height, &thumb, &created)
	f.HasThumb, f.CreatedAt = thumb != 0, sqldb.FromMillis(created)
	return f, notFound(err, "file")
}

func (r reader) UsedBytes(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := r.q.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM im_files WHERE uploader_id = ?`, userID).Scan(&n)
	return n, wrap(err, "used bytes")
}

func (t *tx) InsertFile(ctx context.Context, f im.File) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO im_files (`+fileCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.ConversationID, f.OrgID, f.UploaderID, f.Name, f.ContentType, f.Size, f.SHA256, f.Width, f.Height, b2i(f.HasThumb), sqldb.Millis(f.CreatedAt))
	return wrap(err, "insert file")
}

func (t *tx) DeleteFile(ctx context.Context, id string) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM im_files WHERE id = ?`, id)
	return wrap(err, "delete file")
}
