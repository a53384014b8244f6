package im

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core"
)

// Reader reads conversations, messages and the event log.
//
// Errors: core.ENotFound for a missing conversation, member or message;
// core.EUnavailable when the database is down.
type Reader interface {
	Conversation(ctx context.Context, id string) (Conversation, error)
	// DirectConversation finds a direct conversation by its DirectKey.
	DirectConversation(ctx context.Context, key string) (Conversation, error)
	// DepartmentGroups lists the department groups of an organisation (of
	// every organisation when orgID is "").
	DepartmentGroups(ctx context.Context, orgID string) ([]Conversation, error)
	// Member returns the membership, ENotFound when userID is not a member.
	Member(ctx context.Context, convID, userID string) (Member, error)
	// Members returns up to limit members with user id > afterUserID, in
	// user id order.
	Members(ctx context.Context, convID, afterUserID string, limit int) ([]Member, error)
	// MemberIDs returns every member's user id.
	MemberIDs(ctx context.Context, convID string) ([]string, error)
	// ConversationIDsOf lists the conversations userID is a member of.
	ConversationIDsOf(ctx context.Context, userID string) ([]string, error)
	// ConversationsOf lists userID's conversations with unread counts and
	// last messages, pinned first, then by latest activity.
	ConversationsOf(ctx context.Context, userID string) ([]ConversationView, error)
	// Unread counts messages after the user's read position not sent by them
	// and not recalled.
	Unread(ctx context.Context, convID, userID string) (int, error)
	Message(ctx context.Context, id string) (Message, error)
	MessageByClientID(ctx context.Context, convID, senderID, clientMsgID string) (Message, error)
	// Messages returns a page of history with reactions filled in.
	Messages(ctx context.Context, convID string, q HistoryQuery) ([]Message, error)
	// ReadStates splits the members who joined before seq into those who
	// have read it (read_seq >= seq) and those who have not, excluding
	// exceptUserID (the sender) and bots (RoleBot), who read nothing.
	ReadStates(ctx context.Context, convID string, seq int64, exceptUserID string) (read, unread []string, err error)
	// EventsAfter returns every event with position > pos, in position order
	// (the tailer's view).
	EventsAfter(ctx context.Context, pos int64, limit int) ([]Event, error)
	// UserEventsAfter returns the events userID may see with position > pos,
	// in position order: events of conversations they are currently a
	// member of (after their join) and their personal events.
	UserEventsAfter(ctx context.Context, userID string, pos int64, limit int) ([]Event, error)
	// MessagesForIndex returns up to limit messages with id > afterID in id
	// order, with their organisation (for reindexing).
	MessagesForIndex(ctx context.Context, afterID string, limit int) ([]IndexedMessage, error)
	// File returns an uploaded file's record.
	File(ctx context.Context, id string) (File, error)
	// UsedBytes is the total size of the files userID uploaded.
	UsedBytes(ctx context.Context, userID string) (int64, error)
	// Ding returns an urgent message's state with its recipients (ENotFound
	// when the message is not urgent).
	Ding(ctx context.Context, messageID string) (Ding, error)
	// DueDings returns dings whose next reminder is due at or before now.
	DueDings(ctx context.Context, now time.Time, limit int) ([]Ding, error)
	// StreamState returns the last assigned position and the last position
	// pruned from the log (a resume from before it must resync).
	StreamState(ctx context.Context) (head, prunedThrough int64, err error)
}

// Tx is one write transaction. Everything done through it commits or fails
// together. Lock order, kept by the service and the store so transactions
// never deadlock: the conversation row (NextSeq, AddMember, RemoveMember,
// UpdateConversation), then member rows, then other rows, and the stream
// row last (Append, which must be the last write of every transaction, so
// positions commit in order).
type Tx interface {
	Reader
	// Now is fixed for the transaction.
	Now() time.Time
	// CreateConversation inserts c; EConflict when its DirectKey exists.
	CreateConversation(ctx context.Context, c Conversation) error
	// UpdateConversation writes name, announcement, receipts_off and
	// updated_at.
	UpdateConversation(ctx context.Context, c Conversation) error
	// NextSeq takes the conversation's next message seq (locking the
	// conversation row until commit, so seqs are gapless).
	NextSeq(ctx context.Context, convID string) (int64, error)
	// InsertMessage inserts m; EConflict when (conversation, sender,
	// client_msg_id) exists.
	InsertMessage(ctx context.Context, m Message) error
	// UpdateMessage writes text, mentions, edited_at, recalled_at,
	// recalled_by, file_id.
	UpdateMessage(ctx context.Context, m Message) error
	// ClearQuotes blanks the quote in every reply to messageID.
	ClearQuotes(ctx context.Context, messageID string) error
	// DeleteReactions removes every reaction on a message.
	DeleteReactions(ctx context.Context, messageID string) error
	// SetReaction adds or removes one reaction; changed is false when it
	// was already so.
	SetReaction(ctx context.Context, messageID, userID, emoji string, add bool) (changed bool, err error)
	// AddMember inserts m, filling JoinedSeq (the conversation's last seq),
	// JoinedPos (the committed stream head) and ReadSeq (= JoinedSeq), after
	// locking the conversation row so no message slips between them;
	// EConflict when already a member. It returns the stored member.
	AddMember(ctx context.Context, m Member) (Member, error)
	// UpdateMember writes role, muted and pinned.
	UpdateMember(ctx context.Context, m Member) error
	// RemoveMember deletes the membership; ENotFound when absent.
	RemoveMember(ctx context.Context, convID, userID string) error
	// AdvanceRead raises the member's read position to seq; changed is
	// false when it was already at or past it.
	AdvanceRead(ctx context.Context, convID, userID string, seq int64) (changed bool, err error)
	// InsertFile records an uploaded file.
	InsertFile(ctx context.Context, f File) error
	// DeleteFile removes a file's record (its bytes are the caller's).
	DeleteFile(ctx context.Context, id string) error
	// InsertDing records an urgent message and its recipients.
	InsertDing(ctx context.Context, d Ding) error
	// AckDing records userID's acknowledgement.
	AckDing(ctx context.Context, messageID, userID string, at time.Time) error
	// ClaimDingStep moves a ding from its state in cur (reminders,
	// next_remind_at) to next's reminders, next_remind_at, escalated_to and
	// escalated_at, only if it is still in cur's state; claimed is false
	// when another node got there first.
	ClaimDingStep(ctx context.Context, cur, next Ding) (claimed bool, err error)
	// Append writes events to the log and returns them with their
	// positions, which are strictly increasing in commit order across the
	// installation.
	Append(ctx context.Context, evs ...Event) ([]Event, error)
}

// Store is the messaging store. sqlstore implements it for SQLite and
// PostgreSQL; imtest holds its contract suite.
type Store interface {
	Reader
	// InTx runs fn in one transaction.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// PruneEvents deletes log events written before cutoff and records the
	// last pruned position.
	PruneEvents(ctx context.Context, cutoff time.Time) (int64, error)
}

// Directory is what im needs from the org chart. The org chart implements
// exactly these signatures; user ids are login ids.
type Directory interface {
	// DepartmentMembers lists the current staff of a department (and its
	// whole subtree when subtree is true).
	DepartmentMembers(ctx context.Context, orgID, deptID string, subtree bool) ([]string, error)
	// IsActive reports whether userID is current staff of orgID.
	IsActive(ctx context.Context, orgID, userID string) (bool, error)
}

// Authorizer decides the role part of a permission (org admins manage
// department groups). Object names are "im.conversation", "im.department_group".
// It returns core.EForbidden when not allowed.
type Authorizer interface {
	Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error
}

// AppBots answers which accounts are the bots of an organisation's
// installed, enabled apps: the bots a group's owner and admins may add to
// the group. cmd/rounds implements it over the marketplace.
type AppBots interface {
	// AppBots lists the bots of orgID's installed, enabled apps.
	AppBots(ctx context.Context, orgID string) ([]AppBot, error)
	// AppBot returns userID's bot when it is the bot of an installed,
	// enabled app of orgID; ENotFound otherwise.
	AppBot(ctx context.Context, orgID, userID string) (AppBot, error)
}

// AppBot is the bot account of an installed app.
type AppBot struct {
	UserID string `json:"user_id"`
	AppID  string `json:"app_id"`
	Name   string `json:"name"` // the app's name, e.g. 智能排班
}
