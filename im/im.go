package im

import (
	"encoding/json"
	"time"
)

// ConversationKind says how a conversation came to be and who manages its
// members.
type ConversationKind string

const (
	// Direct is a conversation between exactly two people; creating it again
	// returns the existing one.
	Direct ConversationKind = "direct"
	// Group is a group people create and manage themselves.
	Group ConversationKind = "group"
	// Department is a department group (部门群): its members are the current
	// staff of an org-chart department (optionally its whole subtree) and are
	// kept in step from org-chart events; nobody adds or removes them by hand.
	Department ConversationKind = "department"
)

// Role of a member in a conversation.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	// RoleBot is a bot: an installed app's bot a group's managers added, or
	// the bot that opened a direct conversation. It posts (and its app
	// reads, with the scopes the hospital granted) like a member, but it is
	// no reader: read receipts, unread lists and urgent-message
	// acknowledgements leave it out, and it never manages the group.
	RoleBot Role = "bot"
)

// MaxGroupMembers caps a group (the "groups up to 5,000").
const MaxGroupMembers = 5000

// Conversation is a direct chat, a group or a department group.
type Conversation struct {
	ID            string           `json:"id"`
	OrgID         string           `json:"org_id"`
	Kind          ConversationKind `json:"kind"`
	Name          string           `json:"name"`
	OwnerID       string           `json:"owner_id,omitempty"`
	DirectKey     string           `json:"-"` // "orgID:userA:userB" with a<b, unique; empty for groups
	DepartmentID  string           `json:"department_id,omitempty"`
	Subtree       bool             `json:"subtree,omitempty"`
	Announcement  bool             `json:"announcement"` // only owner and admins may send
	ReceiptsOff   bool             `json:"receipts_off"` // read receipts not shown for this conversation
	LastSeq       int64            `json:"last_seq"`
	LastMessageAt time.Time        `json:"last_message_at,omitzero"`
	MemberCount   int              `json:"member_count"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

// Member is one person's membership of a conversation and their own settings
// for it.
type Member struct {
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
	Role           Role   `json:"role"`
	Muted          bool   `json:"muted"`
	Pinned         bool   `json:"pinned"`
	// ReadSeq is the highest message seq the member has read.
	ReadSeq int64 `json:"read_seq"`
	// JoinedSeq is the conversation's last seq when the member joined; they
	// are not counted as readers (or non-readers) of earlier messages.
	JoinedSeq int64 `json:"joined_seq"`
	// JoinedPos is the stream position of the join; replay starts after it.
	JoinedPos int64     `json:"-"`
	JoinedAt  time.Time `json:"joined_at"`
}

// IsManager reports whether the member is the owner or an admin.
func (m Member) IsManager() bool { return m.Role == RoleOwner || m.Role == RoleAdmin }

// IsBot reports whether the member is a bot.
func (m Member) IsBot() bool { return m.Role == RoleBot }

// MessageKind says what a message carries.
type MessageKind string

const (
	KindText  MessageKind = "text"
	KindFile  MessageKind = "file"
	KindImage MessageKind = "image"
	// KindCard is a card posted by a bot or an app: Text holds a JSON object
	// naming what it shows ({"type":"approval","request_id":…}); clients
	// fetch the live card for the reader (an approval card's buttons depend
	// on who looks at it) and fall back to its "summary".
	KindCard MessageKind = "card"
)

// Message is one message. A recalled message keeps its id and seq (so
// everyone's order stays the same) but loses its content.
type Message struct {
	ID             string      `json:"id"`
	ConversationID string      `json:"conversation_id"`
	Seq            int64       `json:"seq"`
	SenderID       string      `json:"sender_id"`
	ClientMsgID    string      `json:"client_msg_id"`
	Kind           MessageKind `json:"kind"`
	Text           string      `json:"text"`
	Mentions       []string    `json:"mentions,omitempty"`
	MentionAll     bool        `json:"mention_all,omitempty"`
	ReplyToID      string      `json:"reply_to_id,omitempty"`
	// ReplyQuote is a short copy of the quoted message, blanked when that
	// message is recalled.
	ReplyQuote string     `json:"reply_quote,omitempty"`
	FileID     string     `json:"file_id,omitempty"`
	Urgent     bool       `json:"urgent,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	EditedAt   time.Time  `json:"edited_at,omitzero"`
	RecalledAt time.Time  `json:"recalled_at,omitzero"`
	RecalledBy string     `json:"recalled_by,omitempty"`
	Reactions  []Reaction `json:"reactions,omitempty"`
}

// Recalled reports whether the message was recalled.
func (m Message) Recalled() bool { return !m.RecalledAt.IsZero() }

// Reaction is one emoji on a message and who put it there.
type Reaction struct {
	Emoji   string   `json:"emoji"`
	UserIDs []string `json:"user_ids"`
}

// ConversationView is a conversation as one member sees it in their list.
type ConversationView struct {
	Conversation
	Role        Role     `json:"role"`
	Muted       bool     `json:"muted"`
	Pinned      bool     `json:"pinned"`
	ReadSeq     int64    `json:"read_seq"`
	Unread      int      `json:"unread"`
	LastMessage *Message `json:"last_message,omitempty"`
}

// ReadState is one member's read position, used for receipt lists.
type ReadState struct {
	UserID  string `json:"user_id"`
	ReadSeq int64  `json:"read_seq"`
}

// Receipt answers "who has read message N".
type Receipt struct {
	MessageID string   `json:"message_id"`
	Seq       int64    `json:"seq"`
	ReadCount int      `json:"read_count"`
	Read      []string `json:"read"`
	Unread    []string `json:"unread"`
}

// Event is one entry of the durable event log. Exactly one of
// ConversationID-only (all current members receive it) or UserID (a personal
// event for that user; ConversationID may name the conversation it is about)
// addresses it.
type Event struct {
	Pos            int64           `json:"pos"`
	Type           string          `json:"type"`
	ConversationID string          `json:"conversation_id,omitempty"`
	UserID         string          `json:"user_id,omitempty"`
	Data           json.RawMessage `json:"data"`
	At             time.Time       `json:"at"`
}

// Personal reports whether the event is for one user only.
func (e Event) Personal() bool { return e.UserID != "" }

// Event types. They are part of the wire protocol (im/ws/PROTOCOL.md).
const (
	EvMessagePosted       = "message.posted"       // data: Message
	EvMessageEdited       = "message.edited"       // data: Message
	EvMessageRecalled     = "message.recalled"     // data: Message (content removed)
	EvReaction            = "message.reaction"     // data: ReactionChange
	EvMembersAdded        = "members.added"        // data: MembersChange
	EvMembersRemoved      = "members.removed"      // data: MembersChange
	EvConversationUpdated = "conversation.updated" // data: Conversation
	EvReceipts            = "receipts"             // data: ReceiptsChange (batched)
	EvJoined              = "conversation.joined"  // personal; data: Conversation
	EvLeft                = "conversation.left"    // personal; data: {conversation_id}
	EvReadPosition        = "read.position"        // personal; data: ReadPosition
	EvMemberPrefs         = "member.prefs"         // personal; data: Member
)

// ReactionChange is the data of a message.reaction event.
type ReactionChange struct {
	MessageID string `json:"message_id"`
	Seq       int64  `json:"seq"`
	UserID    string `json:"user_id"`
	Emoji     string `json:"emoji"`
	Added     bool   `json:"added"`
}

// MembersChange is the data of members.added and members.removed.
type MembersChange struct {
	ConversationID string   `json:"conversation_id"`
	UserIDs        []string `json:"user_ids"`
	ByUserID       string   `json:"by_user_id,omitempty"`
}

// ReadPosition is a user's own read position (synced to their other devices).
type ReadPosition struct {
	ConversationID string `json:"conversation_id"`
	ReadSeq        int64  `json:"read_seq"`
	Unread         int    `json:"unread"`
}

// ReceiptsChange is a batch of read-position changes in one conversation,
// coalesced over a short window so a large group reading at once becomes a
// few events rather than members × members.
type ReceiptsChange struct {
	ConversationID string      `json:"conversation_id"`
	Readers        []ReadState `json:"readers"`
}

// LeftData is the data of a conversation.left event.
type LeftData struct {
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"` // "left", "removed", "staff_left"
}

// HistoryQuery selects a page of messages: those with seq < Before (when
// not 0) or seq > After (when not 0), newest first for Before, oldest first
// for After, at most Limit.
type HistoryQuery struct {
	Before int64
	After  int64
	Limit  int
}
