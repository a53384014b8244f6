package sqlstore

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/im"
)

const dingCols = `message_id, conversation_id, org_id, sender_id, created_at, reminders, next_remind_at, escalated_to, escalated_at`

func scanDing(s scanner) (im.Ding, error) {
	var d im.Ding
	var created, next, esc int64
	err := s.Scan(&d.MessageID, &d.ConversationID, &d.OrgID, &d.SenderID, &created, &d.Reminders, &next, &d.EscalatedTo, &esc)
	d.CreatedAt, d.NextRemindAt, d.EscalatedAt = sqldb.FromMillis(created), sqldb.FromMillis(next), sqldb.FromMillis(esc)
	return d, err
}

func (r reader) recipients(ctx context.Context, d *im.Ding) error {
	rows, err := r.q.QueryContext(ctx, `SELECT user_id, via, acked_at FROM im_ding_recipients WHERE message_id = ? ORDER BY user_id`, d.MessageID)
	if err != nil {
		return wrap(err, "ding recipients")
	}
	defer rows.Close()
	d.Recipients = []im.DingRecipient{}
	for rows.Next() {
		var rc im.DingRecipient
		var at int64
		if err := rows.Scan(&rc.UserID, &rc.Via, &at); err != nil {
			return wrap(err, "ding recipients")
		}
		rc.AckedAt = sqldb.FromMillis(at)
		d.Recipients = append(d.Recipients, rc)
	}
	return wrap(rows.Err(), "ding recipients")
}

func (r reader) Ding(ctx context.Context, messageID string) (im.Ding, error) {
	d, err := scanDing(r.q.QueryRowContext(ctx, `SELECT `+dingCols+` FROM im_dings WHERE message_id = ?`, messageID))
	if err != nil {
		return d, notFound(err, "urgent message")
	}
	return d, r.recipients(ctx, &d)
}

func (r reader) DueDings(ctx context.Context, now time.Time, limit int) ([]im.Ding, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+dingCols+` FROM im_dings WHERE next_remind_at > 0 AND next_remind_at <= ? ORDER BY next_remind_at LIMIT ?`, sqldb.Millis(now), limit)
	if err != nil {
		return nil, wrap(err, "due dings")
	}
	var out []im.Ding
	for rows.Next() {
		d, err := scanDing(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "due dings")
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "due dings")
	}
	for i := range out {
		if err := r.recipients(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *tx) InsertDing(ctx context.Context, d im.Ding) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO im_dings (`+dingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.MessageID, d.ConversationID, d.OrgID, d.SenderID, sqldb.Millis(d.CreatedAt), d.Reminders, sqldb.Millis(d.NextRemindAt), d.EscalatedTo, sqldb.Millis(d.EscalatedAt)); err != nil {
		return wrap(err, "insert ding")
	}
	for _, r := range d.Recipients {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO im_ding_recipients (message_id, user_id, via, acked_at) VALUES (?, ?, ?, 0)`, d.MessageID, r.UserID, r.Via); err != nil {
			return wrap(err, "insert ding recipient")
		}
	}
	return nil
}

func (t *tx) AckDing(ctx context.Context, messageID, userID string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE im_ding_recipients SET acked_at = ? WHERE message_id = ? AND user_id = ? AND acked_at = 0`, sqldb.Millis(at), messageID, userID)
	return affected(res, err, "ding recipient")
}

func (t *tx) ClaimDingStep(ctx context.Context, cur, next im.Ding) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE im_dings SET reminders = ?, next_remind_at = ?, escalated_to = ?, escalated_at = ?
		WHERE message_id = ? AND reminders = ? AND next_remind_at = ?`,
		next.Reminders, sqldb.Millis(next.NextRemindAt), next.EscalatedTo, sqldb.Millis(next.EscalatedAt),
		cur.MessageID, cur.Reminders, sqldb.Millis(cur.NextRemindAt))
	if err != nil {
		return false, wrap(err, "claim ding step")
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
