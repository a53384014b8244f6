package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/im"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Area is the migration area name.
const Area = "im"

// Migrations returns the embedded migrations for db.Migrate(ctx, Area, Migrations()).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Store implements im.Store.
type Store struct {
	db *sqldb.DB
	reader
}

var _ im.Store = (*Store)(nil)

// New returns a store over a migrated database.
func New(db *sqldb.DB) *Store { return &Store{db: db, reader: reader{q: db}} }

// InTx runs fn in one write transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx im.Tx) error) error {
	return s.db.InTx(ctx, func(stx *sqldb.Tx) error {
		return fn(&tx{reader: reader{q: stx}, tx: stx})
	})
}

// PruneEvents deletes events written before cutoff.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(t *sqldb.Tx) error {
		var maxPos sql.NullInt64
		if err := t.QueryRowContext(ctx, `SELECT MAX(pos) FROM im_events WHERE at < ?`, sqldb.Millis(cutoff)).Scan(&maxPos); err != nil {
			return err
		}
		if !maxPos.Valid {
			return nil
		}
		res, err := t.ExecContext(ctx, `DELETE FROM im_events WHERE pos <= ?`, maxPos.Int64)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = t.ExecContext(ctx, `UPDATE im_stream SET pruned_through = ? WHERE id = 1 AND pruned_through < ?`, maxPos.Int64, maxPos.Int64)
		return err
	})
	return n, wrap(err, "prune events")
}

type reader struct{ q sqldb.Querier }

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return core.Wrap(err, "im store: %s", what)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

const convCols = `id, org_id, kind, name, owner_id, COALESCE(direct_key,''), department_id, subtree, announcement, receipts_off, last_seq, last_message_at, member_count, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanConv(s scanner, extra ...any) (im.Conversation, error) {
	var c im.Conversation
	var subtree, ann, roff int
	var lastAt, created, updated int64
	dest := append([]any{&c.ID, &c.OrgID, &c.Kind, &c.Name, &c.OwnerID, &c.DirectKey, &c.DepartmentID, &subtree, &ann, &roff, &c.LastSeq, &lastAt, &c.MemberCount, &created, &updated}, extra...)
	if err := s.Scan(dest...); err != nil {
		return c, err
	}
	c.Subtree, c.Announcement, c.ReceiptsOff = subtree != 0, ann != 0, roff != 0
	c.LastMessageAt, c.CreatedAt, c.UpdatedAt = sqldb.FromMillis(lastAt), sqldb.FromMillis(created), sqldb.FromMillis(updated)
	return c, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.Errorf(core.ENotFound, "%s not found", what)
	}
	return wrap(err, what)
}

func (r reader) Conversation(ctx context.Context, id string) (im.Conversation, error) {
	c, err := scanConv(r.q.QueryRowContext(ctx, `SELECT `+convCols+` FROM im_conversations WHERE id = ?`, id))
	return c, notFound(err, "conversation")
}

func (r reader) DirectConversation(ctx context.Context, key string) (im.Conversation, error) {
	c, err := scanConv(r.q.QueryRowContext(ctx, `SELECT `+convCols+` FROM im_conversations WHERE direct_key = ?`, key))
	return c, notFound(err, "conversation")
}

func (r reader) DepartmentGroups(ctx context.Context, orgID string) ([]im.Conversation, error) {
	q, args := `SELECT `+convCols+` FROM im_conversations WHERE kind = ? AND org_id = ? ORDER BY id`, []any{im.Department, orgID}
	if orgID == "" {
		q, args = `SELECT `+convCols+` FROM im_conversations WHERE kind = ? ORDER BY id`, []any{im.Department}
	}
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "department groups")
	}
	defer rows.Close()
	var out []im.Conversation
	for rows.Next() {
		c, err := scanConv(rows)
		if err != nil {
			return nil, wrap(err, "department groups")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "department groups")
}

const memberCols = `conversation_id, user_id, role, muted, pinned, read_seq, joined_seq, joined_pos, joined_at`

func scanMember(s scanner) (im.Member, error) {
	var m im.Member
	var muted, pinned int
	var joined int64
	if err := s.Scan(&m.ConversationID, &m.UserID, &m.Role, &muted, &pinned, &m.ReadSeq, &m.JoinedSeq, &m.JoinedPos, &joined); err != nil {
		return m, err
	}
	m.Muted, m.Pinned, m.JoinedAt = muted != 0, pinned != 0, sqldb.FromMillis(joined)
	return m, nil
}

func (r reader) Member(ctx context.Context, convID, userID string) (im.Member, error) {
	m, err := scanMember(r.q.QueryRowContext(ctx, `SELECT `+memberCols+` FROM im_members WHERE conversation_id = ? AND user_id = ?`, convID, userID))
	return m, notFound(err, "member")
}

func (r reader) Members(ctx context.Context, convID, after string, limit int) ([]im.Member, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+memberCols+` FROM im_members WHERE conversation_id = ? AND user_id > ? ORDER BY user_id LIMIT ?`, convID, after, limit)
	if err != nil {
		return nil, wrap(err, "members")
	}
	defer rows.Close()
	var out []im.Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, wrap(err, "members")
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "members")
}

func (r reader) strings(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, wrap(err, what)
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err(), what)
}

func (r reader) MemberIDs(ctx context.Context, convID string) ([]string, error) {
	return r.strings(ctx, "member ids", `SELECT user_id FROM im_members WHERE conversation_id = ? ORDER BY user_id`, convID)
}

func (r reader) ConversationIDsOf(ctx context.Context, userID string) ([]string, error) {
	return r.strings(ctx, "conversations of user", `SELECT conversation_id FROM im_members WHERE user_id = ? ORDER BY conversation_id`, userID)
}

func (r reader) ConversationsOf(ctx context.Context, userID string) ([]im.ConversationView, error) {
	// One query: membership, conversation, unread count and the last
	// message (joined by the conversation's last seq) together.
	rows, err := r.q.QueryContext(ctx, `SELECT `+prefixed("c.", convCols)+`, m.role, m.muted, m.pinned, m.read_seq,
		(SELECT COUNT(*) FROM im_messages x WHERE x.conversation_id = c.id AND x.seq > m.read_seq AND x.sender_id <> m.user_id AND x.recalled_at = 0),
		COALESCE(l.id, ''), `+nullable("l.", msgCols)+`
		FROM im_members m JOIN im_conversations c ON c.id = m.conversation_id
		LEFT JOIN im_messages l ON l.conversation_id = c.id AND l.seq = c.last_seq
		WHERE m.user_id = ? ORDER BY m.pinned DESC, c.last_message_at DESC, c.id`, userID)
	if err != nil {
		return nil, wrap(err, "conversations of user")
	}
	defer rows.Close()
	var out []im.ConversationView
	for rows.Next() {
		var v im.ConversationView
		var muted, pinned int
		var lastID string
		var lm im.Message
		var mentions string
		var all, urgent int
		var created, edited, recalled int64
		c, err := scanConv(rows, &v.Role, &muted, &pinned, &v.ReadSeq, &v.Unread, &lastID,
			&lm.ID, &lm.ConversationID, &lm.Seq, &lm.SenderID, &lm.ClientMsgID, &lm.Kind, &lm.Text, &mentions, &all, &lm.ReplyToID, &lm.ReplyQuote, &lm.FileID, &urgent, &created, &edited, &recalled, &lm.RecalledBy)
		if err != nil {
			return nil, wrap(err, "conversations of user")
		}
		v.Conversation, v.Muted, v.Pinned = c, muted != 0, pinned != 0
		if lastID != "" {
			if mentions != "" {
				_ = json.Unmarshal([]byte(mentions), &lm.Mentions)
			}
			lm.MentionAll, lm.Urgent = all != 0, urgent != 0
			lm.CreatedAt, lm.EditedAt, lm.RecalledAt = sqldb.FromMillis(created), sqldb.FromMillis(edited), sqldb.FromMillis(recalled)
			v.LastMessage = &lm
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err(), "conversations of user")
}

// nullable selects cols of a LEFT JOINed table with defaults for "no row".
func nullable(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		def := "''"
		switch c {
		case "seq", "mention_all", "urgent", "created_at", "edited_at", "recalled_at":
			def = "0"
		}
		parts[i] = "COALESCE(" + p + c + ", " + def + ")"
	}
	return strings.Join(parts, ", ")
}

func prefixed(p, cols string) string {
	out := p + strings.ReplaceAll(cols, ", ", ", "+p)
	return strings.ReplaceAll(out, p+"COALESCE(", "COALESCE("+p)
}

func (r reader) Unread(ctx context.Context, convID, userID string) (int, error) {
	var n int
	err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM im_messages x JOIN im_members m ON m.conversation_id = x.conversation_id AND m.user_id = ?
		WHERE x.conversation_id = ? AND x.seq > m.read_seq AND x.sender_id <> m.user_id AND x.recalled_at = 0`, userID, convID).Scan(&n)
	return n, wrap(err, "unread")
}

const msgCols = `id, conversation_id, seq, sender_id, client_msg_id, kind, text, mentions, mention_all, reply_to_id, reply_quote, file_id, urgent, created_at, edited_at, recalled_at, recalled_by`

func scanMsg(s scanner) (im.Message, error) {
	var m im.Message
	var mentions string
	var all, urgent int
	var created, edited, recalled int64
	if err := s.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.SenderID, &m.ClientMsgID, &m.Kind, &m.Text, &mentions, &all, &m.ReplyToID, &m.ReplyQuote, &m.FileID, &urgent, &created, &edited, &recalled, &m.RecalledBy); err != nil {
		return m, err
	}
	if mentions != "" {
		if err := json.Unmarshal([]byte(mentions), &m.Mentions); err != nil {
			return m, err
		}
	}
	m.MentionAll, m.Urgent = all != 0, urgent != 0
	m.CreatedAt, m.EditedAt, m.RecalledAt = sqldb.FromMillis(created), sqldb.FromMillis(edited), sqldb.FromMillis(recalled)
	return m, nil
}

func (r reader) Message(ctx context.Context, id string) (im.Message, error) {
	m, err := scanMsg(r.q.QueryRowContext(ctx, `SELECT `+msgCols+` FROM im_messages WHERE id = ?`, id))
	if err != nil {
		return m, notFound(err, "message")
	}
	return m, r.fillReactions(ctx, []*im.Message{&m})
}

func (r reader) MessageByClientID(ctx context.Context, convID, senderID, clientMsgID string) (im.Message, error) {
	m, err := scanMsg(r.q.QueryRowContext(ctx, `SELECT `+msgCols+` FROM im_messages WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?`, convID, senderID, clientMsgID))
	if err != nil {
		return m, notFound(err, "message")
	}
	return m, r.fillReactions(ctx, []*im.Message{&m})
}

func (r reader) Messages(ctx context.Context, convID string, hq im.HistoryQuery) ([]im.Message, error) {
	var q string
	var args []any
	switch {
	case hq.After > 0 || hq.Before == 0 && hq.After == 0:
		q = `SELECT ` + msgCols + ` FROM im_messages WHERE conversation_id = ? AND seq > ?`
		args = []any{convID, hq.After}
		if hq.Before > 0 {
			q += ` AND seq < ?`
			args = append(args, hq.Before)
		}
		if hq.After == 0 {
			// No bound: the latest page, newest first.
			q += ` ORDER BY seq DESC LIMIT ?`
		} else {
			q += ` ORDER BY seq LIMIT ?`
		}
	default:
		q = `SELECT ` + msgCols + ` FROM im_messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`
		args = []any{convID, hq.Before}
	}
	args = append(args, hq.Limit)
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(err, "messages")
	}
	out := []im.Message{}
	for rows.Next() {
		m, err := scanMsg(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "messages")
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "messages")
	}
	ptrs := make([]*im.Message, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, r.fillReactions(ctx, ptrs)
}

func (r reader) fillReactions(ctx context.Context, ms []*im.Message) error {
	if len(ms) == 0 {
		return nil
	}
	byID := make(map[string]*im.Message, len(ms))
	ph := make([]string, 0, len(ms))
	args := make([]any, 0, len(ms))
	for _, m := range ms {
		byID[m.ID] = m
		ph = append(ph, "?")
		args = append(args, m.ID)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT message_id, emoji, user_id FROM im_reactions WHERE message_id IN (`+strings.Join(ph, ",")+`) ORDER BY message_id, emoji, at, user_id`, args...)
	if err != nil {
		return wrap(err, "reactions")
	}
	defer rows.Close()
	for rows.Next() {
		var mid, emoji, uid string
		if err := rows.Scan(&mid, &emoji, &uid); err != nil {
			return wrap(err, "reactions")
		}
		m := byID[mid]
		if n := len(m.Reactions); n > 0 && m.Reactions[n-1].Emoji == emoji {
			m.Reactions[n-1].UserIDs = append(m.Reactions[n-1].UserIDs, uid)
		} else {
			m.Reactions = append(m.Reactions, im.Reaction{Emoji: emoji, UserIDs: []string{uid}})
		}
	}
	return wrap(rows.Err(), "reactions")
}

func (r reader) ReadStates(ctx context.Context, convID string, seq int64, except string) (read, unread []string, err error) {
	rows, err := r.q.QueryContext(ctx, `SELECT user_id, read_seq FROM im_members WHERE conversation_id = ? AND joined_seq < ? AND user_id <> ? AND role <> ? ORDER BY user_id`, convID, seq, except, string(im.RoleBot))
	if err != nil {
		return nil, nil, wrap(err, "read states")
	}
	defer rows.Close()
	read, unread = []string{}, []string{}
	for rows.Next() {
		var uid string
		var rs int64
		if err := rows.Scan(&uid, &rs); err != nil {
			return nil, nil, wrap(err, "read states")
		}
		if rs >= seq {
			read = append(read, uid)
		} else {
			unread = append(unread, uid)
		}
	}
	return read, unread, wrap(rows.Err(), "read states")
}

func scanEvents(rows *sql.Rows, err error) ([]im.Event, error) {
	if err != nil {
		return nil, wrap(err, "events")
	}
	defer rows.Close()
	out := []im.Event{}
	for rows.Next() {
		var e im.Event
		var data string
		var at int64
		if err := rows.Scan(&e.Pos, &e.ConversationID, &e.UserID, &e.Type, &data, &at); err != nil {
			return nil, wrap(err, "events")
		}
		e.Data, e.At = json.RawMessage(data), sqldb.FromMillis(at)
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "events")
}

func (r reader) EventsAfter(ctx context.Context, pos int64, limit int) ([]im.Event, error) {
	return scanEvents(r.q.QueryContext(ctx, `SELECT pos, conversation_id, user_id, type, data, at FROM im_events WHERE pos > ? ORDER BY pos LIMIT ?`, pos, limit))
}

func (r reader) UserEventsAfter(ctx context.Context, userID string, pos int64, limit int) ([]im.Event, error) {
	return scanEvents(r.q.QueryContext(ctx, `SELECT pos, conversation_id, user_id, type, data, at FROM (
		SELECT e.pos, e.conversation_id, e.user_id, e.type, e.data, e.at FROM im_events e
			JOIN im_members m ON m.conversation_id = e.conversation_id AND m.user_id = ?
			WHERE e.user_id = '' AND e.pos > ? AND e.pos > m.joined_pos
		UNION ALL
		SELECT pos, conversation_id, user_id, type, data, at FROM im_events WHERE user_id = ? AND pos > ?
	) u ORDER BY pos LIMIT ?`, userID, pos, userID, pos, limit))
}

func (r reader) StreamState(ctx context.Context) (head, pruned int64, err error) {
	err = r.q.QueryRowContext(ctx, `SELECT pos, pruned_through FROM im_stream WHERE id = 1`).Scan(&head, &pruned)
	return head, pruned, wrap(err, "stream state")
}

type tx struct {
	reader
	tx *sqldb.Tx
}

func (t *tx) Now() time.Time { return t.tx.Now }

func (t *tx) CreateConversation(ctx context.Context, c im.Conversation) error {
	var dk any
	if c.DirectKey != "" {
		dk = c.DirectKey
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO im_conversations (id, org_id, kind, name, owner_id, direct_key, department_id, subtree, announcement, receipts_off, last_seq, last_message_at, member_count, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?)`,
		c.ID, c.OrgID, c.Kind, c.Name, c.OwnerID, dk, c.DepartmentID, b2i(c.Subtree), b2i(c.Announcement), b2i(c.ReceiptsOff), sqldb.Millis(c.CreatedAt), sqldb.Millis(c.UpdatedAt))
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "the conversation already exists")
	}
	return wrap(err, "create conversation")
}

func (t *tx) UpdateConversation(ctx context.Context, c im.Conversation) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE im_conversations SET name = ?, owner_id = ?, announcement = ?, receipts_off = ?, updated_at = ? WHERE id = ?`,
		c.Name, c.OwnerID, b2i(c.Announcement), b2i(c.ReceiptsOff), sqldb.Millis(c.UpdatedAt), c.ID)
	return affected(res, err, "conversation")
}

func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return wrap(err, what)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return core.Errorf(core.ENotFound, "%s not found", what)
	}
	return nil
}

func (t *tx) NextSeq(ctx context.Context, convID string) (int64, error) {
	var seq int64
	err := t.tx.QueryRowContext(ctx, `UPDATE im_conversations SET last_seq = last_seq + 1, last_message_at = ? WHERE id = ? RETURNING last_seq`, sqldb.Millis(t.tx.Now), convID).Scan(&seq)
	return seq, notFound(err, "conversation")
}

func (t *tx) InsertMessage(ctx context.Context, m im.Message) error {
	mentions := ""
	if len(m.Mentions) > 0 {
		b, _ := json.Marshal(m.Mentions)
		mentions = string(b)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO im_messages (`+msgCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ConversationID, m.Seq, m.SenderID, m.ClientMsgID, m.Kind, m.Text, mentions, b2i(m.MentionAll), m.ReplyToID, m.ReplyQuote, m.FileID, b2i(m.Urgent),
		sqldb.Millis(m.CreatedAt), sqldb.Millis(m.EditedAt), sqldb.Millis(m.RecalledAt), m.RecalledBy)
	if sqldb.IsUniqueViolation(err) {
		return core.Errorf(core.EConflict, "a message with this client_msg_id exists")
	}
	return wrap(err, "insert message")
}

func (t *tx) UpdateMessage(ctx context.Context, m im.Message) error {
	mentions := ""
	if len(m.Mentions) > 0 {
		b, _ := json.Marshal(m.Mentions)
		mentions = string(b)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE im_messages SET text = ?, mentions = ?, mention_all = ?, reply_quote = ?, file_id = ?, edited_at = ?, recalled_at = ?, recalled_by = ? WHERE id = ?`,
		m.Text, mentions, b2i(m.MentionAll), m.ReplyQuote, m.FileID, sqldb.Millis(m.EditedAt), sqldb.Millis(m.RecalledAt), m.RecalledBy, m.ID)
	return affected(res, err, "message")
}

func (t *tx) ClearQuotes(ctx context.Context, messageID string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE im_messages SET reply_quote = '' WHERE reply_to_id = ?`, messageID)
	return wrap(err, "clear quotes")
}

func (t *tx) DeleteReactions(ctx context.Context, messageID string) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM im_reactions WHERE message_id = ?`, messageID)
	return wrap(err, "delete reactions")
}

func (t *tx) SetReaction(ctx context.Context, messageID, userID, emoji string, add bool) (bool, error) {
	var res sql.Result
	var err error
	if add {
		res, err = t.tx.ExecContext(ctx, `INSERT INTO im_reactions (message_id, user_id, emoji, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, messageID, userID, emoji, sqldb.Millis(t.tx.Now))
	} else {
		res, err = t.tx.ExecContext(ctx, `DELETE FROM im_reactions WHERE message_id = ? AND user_id = ? AND emoji = ?`, messageID, userID, emoji)
	}
	if err != nil {
		return false, wrap(err, "reaction")
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (t *tx) AddMember(ctx context.Context, m im.Member) (im.Member, error) {
	// Locking the conversation row first serialises the join with sends,
	// so JoinedSeq and JoinedPos are exact.
	err := t.tx.QueryRowContext(ctx, `UPDATE im_conversations SET member_count = member_count + 1 WHERE id = ? RETURNING last_seq`, m.ConversationID).Scan(&m.JoinedSeq)
	if err != nil {
		return m, notFound(err, "conversation")
	}
	if err := t.tx.QueryRowContext(ctx, `SELECT pos FROM im_stream WHERE id = 1`).Scan(&m.JoinedPos); err != nil {
		return m, wrap(err, "stream head")
	}
	m.ReadSeq = m.JoinedSeq
	m.JoinedAt = t.tx.Now
	_, err = t.tx.ExecContext(ctx, `INSERT INTO im_members (`+memberCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ConversationID, m.UserID, m.Role, b2i(m.Muted), b2i(m.Pinned), m.ReadSeq, m.JoinedSeq, m.JoinedPos, sqldb.Millis(m.JoinedAt))
	if sqldb.IsUniqueViolation(err) {
		return m, core.Errorf(core.EConflict, "already a member")
	}
	return m, wrap(err, "add member")
}

func (t *tx) UpdateMember(ctx context.Context, m im.Member) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE im_members SET role = ?, muted = ?, pinned = ? WHERE conversation_id = ? AND user_id = ?`,
		m.Role, b2i(m.Muted), b2i(m.Pinned), m.ConversationID, m.UserID)
	return affected(res, err, "member")
}

func (t *tx) RemoveMember(ctx context.Context, convID, userID string) error {
	// Lock order in every transaction: conversation row, then member rows,
	// then the stream row (Append). Sends take them in that order too.
	res, err := t.tx.ExecContext(ctx, `UPDATE im_conversations SET member_count = member_count - 1 WHERE id = ?`, convID)
	if err := affected(res, err, "conversation"); err != nil {
		return err
	}
	res, err = t.tx.ExecContext(ctx, `DELETE FROM im_members WHERE conversation_id = ? AND user_id = ?`, convID, userID)
	return affected(res, err, "member")
}

func (t *tx) AdvanceRead(ctx context.Context, convID, userID string, seq int64) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE im_members SET read_seq = ? WHERE conversation_id = ? AND user_id = ? AND read_seq < ?`, seq, convID, userID, seq)
	if err != nil {
		return false, wrap(err, "advance read")
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (t *tx) Append(ctx context.Context, evs ...im.Event) ([]im.Event, error) {
	if len(evs) == 0 {
		return evs, nil
	}
	var last int64
	if err := t.tx.QueryRowContext(ctx, `UPDATE im_stream SET pos = pos + ? WHERE id = 1 RETURNING pos`, len(evs)).Scan(&last); err != nil {
		return nil, wrap(err, "take positions")
	}
	out := make([]im.Event, len(evs))
	first := last - int64(len(evs)) + 1
	for i, e := range evs {
		e.Pos = first + int64(i)
		e.At = t.tx.Now
		if len(e.Data) == 0 {
			e.Data = json.RawMessage("{}")
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO im_events (pos, conversation_id, user_id, type, data, at) VALUES (?, ?, ?, ?, ?, ?)`,
			e.Pos, e.ConversationID, e.UserID, e.Type, string(e.Data), sqldb.Millis(e.At)); err != nil {
			return nil, wrap(err, "append event")
		}
		out[i] = e
	}
	return out, nil
}

func (r reader) MessagesForIndex(ctx context.Context, afterID string, limit int) ([]im.IndexedMessage, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+prefixed("m.", msgCols)+`, c.org_id FROM im_messages m JOIN im_conversations c ON c.id = m.conversation_id
		WHERE m.id > ? ORDER BY m.id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, wrap(err, "messages for index")
	}
	defer rows.Close()
	var out []im.IndexedMessage
	for rows.Next() {
		var x im.IndexedMessage
		m, err := scanMsg(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &x.OrgID)...) }))
		if err != nil {
			return nil, wrap(err, "messages for index")
		}
		x.Message = m
		out = append(out, x)
	}
	return out, wrap(rows.Err(), "messages for index")
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }
