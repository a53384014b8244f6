package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/im"
)

var _ im.RetentionStore = (*Store)(nil)

func (s *Store) RetentionPolicy(ctx context.Context, orgID string) (im.RetentionPolicy, error) {
	p := im.RetentionPolicy{OrgID: orgID}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT message_days, file_days, updated_at, updated_by FROM im_retention_policies WHERE org_id = ?`, orgID).
		Scan(&p.MessageDays, &p.FileDays, &at, &p.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	p.UpdatedAt = sqldb.FromMillis(at)
	return p, wrap(err, "retention policy")
}

func (s *Store) RetentionPolicies(ctx context.Context) ([]im.RetentionPolicy, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org_id, message_days, file_days, updated_at, updated_by FROM im_retention_policies
		WHERE message_days > 0 OR file_days > 0 ORDER BY org_id`)
	if err != nil {
		return nil, wrap(err, "retention policies")
	}
	defer rows.Close()
	var out []im.RetentionPolicy
	for rows.Next() {
		var p im.RetentionPolicy
		var at int64
		if err := rows.Scan(&p.OrgID, &p.MessageDays, &p.FileDays, &at, &p.UpdatedBy); err != nil {
			return nil, wrap(err, "retention policies")
		}
		p.UpdatedAt = sqldb.FromMillis(at)
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "retention policies")
}

func (s *Store) SetRetentionPolicy(ctx context.Context, p im.RetentionPolicy) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO im_retention_policies (org_id, message_days, file_days, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET message_days = excluded.message_days, file_days = excluded.file_days, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		p.OrgID, p.MessageDays, p.FileDays, sqldb.Millis(p.UpdatedAt), p.UpdatedBy)
	return wrap(err, "set retention policy")
}

const holdCols = `id, org_id, conversation_id, user_id, reason, case_number, placed_by, placed_at, released_by, released_at`

func scanHold(sc scanner) (im.LegalHold, error) {
	var h im.LegalHold
	var placed, released int64
	err := sc.Scan(&h.ID, &h.OrgID, &h.ConversationID, &h.UserID, &h.Reason, &h.CaseNumber, &h.PlacedBy, &placed, &h.ReleasedBy, &released)
	h.PlacedAt, h.ReleasedAt = sqldb.FromMillis(placed), sqldb.FromMillis(released)
	return h, err
}

func (s *Store) PlaceHold(ctx context.Context, h im.LegalHold) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO im_legal_holds (`+holdCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0)`,
		h.ID, h.OrgID, h.ConversationID, h.UserID, h.Reason, h.CaseNumber, h.PlacedBy, sqldb.Millis(h.PlacedAt))
	return wrap(err, "place hold")
}

func (s *Store) ReleaseHold(ctx context.Context, id, by string, at time.Time) (im.LegalHold, error) {
	var h im.LegalHold
	err := s.db.InTx(ctx, func(t *sqldb.Tx) error {
		res, err := t.ExecContext(ctx, `UPDATE im_legal_holds SET released_by = ?, released_at = ? WHERE id = ? AND released_at = 0`, by, sqldb.Millis(at), id)
		if err != nil {
			return wrap(err, "release hold")
		}
		n, _ := res.RowsAffected()
		if h, err = scanHold(t.QueryRowContext(ctx, `SELECT `+holdCols+` FROM im_legal_holds WHERE id = ?`, id)); err != nil {
			return notFound(err, "hold")
		}
		if n == 0 {
			return core.Errorf(core.EConflict, "the hold was already released")
		}
		return nil
	})
	return h, err
}

func (s *Store) Hold(ctx context.Context, id string) (im.LegalHold, error) {
	h, err := scanHold(s.db.QueryRowContext(ctx, `SELECT `+holdCols+` FROM im_legal_holds WHERE id = ?`, id))
	return h, notFound(err, "hold")
}

func (s *Store) Holds(ctx context.Context, orgID string, released bool) ([]im.LegalHold, error) {
	q := `SELECT ` + holdCols + ` FROM im_legal_holds WHERE org_id = ?`
	if !released {
		q += ` AND released_at = 0`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY placed_at DESC, id DESC`, orgID)
	if err != nil {
		return nil, wrap(err, "holds")
	}
	defer rows.Close()
	out := []im.LegalHold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, wrap(err, "holds")
		}
		out = append(out, h)
	}
	return out, wrap(rows.Err(), "holds")
}

// notHeld is true for a row of conversation conv (with sender or uploader
// person, in organisation org) that no active hold covers: not its
// conversation, not its sender, not a current member of its conversation.
func notHeld(org, conv, person string) string {
	return `NOT EXISTS (SELECT 1 FROM im_legal_holds h WHERE h.org_id = ` + org + ` AND h.released_at = 0 AND (
		h.conversation_id = ` + conv + `
		OR (h.user_id <> '' AND (h.user_id = ` + person + ` OR EXISTS (
			SELECT 1 FROM im_members hm WHERE hm.conversation_id = ` + conv + ` AND hm.user_id = h.user_id)))))`
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (s *Store) ExpiredConversations(ctx context.Context, orgID string, cutoff time.Time, afterID string, limit int) ([]string, error) {
	// No sender here: a held sender is checked per message.
	return reader{q: s.db}.strings(ctx, "expired conversations", `SELECT c.id FROM im_conversations c
		WHERE c.org_id = ? AND c.id > ? AND c.created_at < ? AND `+notHeld("c.org_id", "c.id", "''")+`
		ORDER BY c.id LIMIT ?`, orgID, afterID, sqldb.Millis(cutoff), limit)
}

func (s *Store) PurgeMessages(ctx context.Context, convID string, cutoff, at time.Time, afterSeq int64, limit int) (im.PurgeResult, error) {
	var res im.PurgeResult
	err := s.db.InTx(ctx, func(t *sqldb.Tx) error {
		res = im.PurgeResult{}
		// The hold check runs inside the purging transaction, so a hold
		// committed before it is always seen. The (conversation_id, seq)
		// index drives the walk.
		rows, err := t.QueryContext(ctx, `SELECT m.id, m.file_id, m.seq FROM im_messages m JOIN im_conversations c ON c.id = m.conversation_id
			WHERE m.conversation_id = ? AND m.seq > ? AND m.created_at < ? AND m.recalled_at = 0 AND `+notHeld("c.org_id", "m.conversation_id", "m.sender_id")+`
			ORDER BY m.seq LIMIT ?`, convID, afterSeq, sqldb.Millis(cutoff), limit)
		if err != nil {
			return wrap(err, "expired messages")
		}
		var fileIDs []string
		for rows.Next() {
			var id, fid string
			if err := rows.Scan(&id, &fid, &res.LastSeq); err != nil {
				rows.Close()
				return wrap(err, "expired messages")
			}
			res.MessageIDs = append(res.MessageIDs, id)
			if fid != "" {
				fileIDs = append(fileIDs, fid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "expired messages")
		}
		if len(res.MessageIDs) == 0 {
			return nil
		}
		if len(fileIDs) > 0 {
			r := reader{q: t}
			if res.Files, err = r.filesByID(ctx, fileIDs); err != nil {
				return err
			}
			if _, err := t.ExecContext(ctx, `DELETE FROM im_files WHERE id IN (`+sqldb.Marks(len(fileIDs))+`)`, anys(fileIDs)...); err != nil {
				return wrap(err, "purge files")
			}
		}
		ids, in := anys(res.MessageIDs), sqldb.Marks(len(res.MessageIDs))
		if _, err := t.ExecContext(ctx, `DELETE FROM im_reactions WHERE message_id IN (`+in+`)`, ids...); err != nil {
			return wrap(err, "purge reactions")
		}
		if _, err := t.ExecContext(ctx, `UPDATE im_messages SET reply_quote = '' WHERE reply_to_id IN (`+in+`)`, ids...); err != nil {
			return wrap(err, "purge quotes")
		}
		_, err = t.ExecContext(ctx, `UPDATE im_messages SET text = '', mentions = '', mention_all = 0, reply_quote = '', file_id = '', recalled_at = ?, recalled_by = ?
			WHERE id IN (`+in+`) AND recalled_at = 0`, append([]any{sqldb.Millis(at), im.PurgedBy}, ids...)...)
		return wrap(err, "purge messages")
	})
	return res, err
}

func (r reader) filesByID(ctx context.Context, ids []string) ([]im.File, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+fileCols+` FROM im_files WHERE id IN (`+sqldb.Marks(len(ids))+`) ORDER BY id`, anys(ids)...)
	if err != nil {
		return nil, wrap(err, "files")
	}
	return scanFiles(rows)
}

func scanFiles(rows *sql.Rows) ([]im.File, error) {
	defer rows.Close()
	var out []im.File
	for rows.Next() {
		var f im.File
		var thumb int
		var created int64
		if err := rows.Scan(&f.ID, &f.ConversationID, &f.OrgID, &f.UploaderID, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.Width, &f.Height, &thumb, &created); err != nil {
			return nil, wrap(err, "files")
		}
		f.HasThumb, f.CreatedAt = thumb != 0, sqldb.FromMillis(created)
		out = append(out, f)
	}
	return out, wrap(rows.Err(), "files")
}

func (s *Store) PurgeFiles(ctx context.Context, orgID string, cutoff time.Time, limit int) ([]im.File, error) {
	var out []im.File
	err := s.db.InTx(ctx, func(t *sqldb.Tx) error {
		rows, err := t.QueryContext(ctx, `SELECT `+prefixed("f.", fileCols)+` FROM im_files f
			WHERE f.org_id = ? AND f.created_at < ? AND `+notHeld("f.org_id", "f.conversation_id", "f.uploader_id")+`
			ORDER BY f.created_at, f.id LIMIT ?`, orgID, sqldb.Millis(cutoff), limit)
		if err != nil {
			return wrap(err, "expired files")
		}
		if out, err = scanFiles(rows); err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		for i, f := range out {
			ids[i] = f.ID
		}
		in := sqldb.Marks(len(ids))
		if _, err := t.ExecContext(ctx, `UPDATE im_messages SET file_id = '' WHERE file_id IN (`+in+`)`, anys(ids)...); err != nil {
			return wrap(err, "purge file references")
		}
		_, err = t.ExecContext(ctx, `DELETE FROM im_files WHERE id IN (`+in+`)`, anys(ids)...)
		return wrap(err, "purge files")
	})
	return out, err
}

func timeBounds(q string, args []any, col string, from, to time.Time) (string, []any) {
	if !from.IsZero() {
		q += ` AND ` + col + ` >= ?`
		args = append(args, sqldb.Millis(from))
	}
	if !to.IsZero() {
		q += ` AND ` + col + ` < ?`
		args = append(args, sqldb.Millis(to))
	}
	return q, args
}

func (s *Store) PersonMessages(ctx context.Context, orgID, userID string, from, to time.Time, afterID string, limit int) ([]im.Message, error) {
	q := `SELECT ` + prefixed("m.", msgCols) + ` FROM im_messages m JOIN im_conversations c ON c.id = m.conversation_id
		WHERE c.org_id = ? AND m.id > ? AND (m.sender_id = ? OR m.conversation_id IN (SELECT conversation_id FROM im_members WHERE user_id = ?))`
	q, args := timeBounds(q, []any{orgID, afterID, userID, userID}, "m.created_at", from, to)
	return s.messageList(ctx, "person messages", q+` ORDER BY m.id LIMIT ?`, append(args, limit)...)
}

func (s *Store) ConversationMessages(ctx context.Context, convID string, from, to time.Time, afterSeq int64, limit int) ([]im.Message, error) {
	q, args := timeBounds(`SELECT `+msgCols+` FROM im_messages WHERE conversation_id = ? AND seq > ?`, []any{convID, afterSeq}, "created_at", from, to)
	return s.messageList(ctx, "conversation messages", q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
}

func (s *Store) messageList(ctx context.Context, what, q string, args ...any) ([]im.Message, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	out := []im.Message{}
	for rows.Next() {
		m, err := scanMsg(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, what)
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, what)
	}
	ptrs := make([]*im.Message, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.fillReactions(ctx, ptrs)
}
