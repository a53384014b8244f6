package im

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
)

// SendRequest is a message to post. ClientMsgID is chosen by the client and
// makes the send idempotent: a retry with the same id returns the original
// message.
type SendRequest struct {
	ConversationID string      `json:"conversation_id"`
	ClientMsgID    string      `json:"client_msg_id"`
	Kind           MessageKind `json:"kind,omitempty"` // default text
	Text           string      `json:"text"`
	Mentions       []string    `json:"mentions,omitempty"`
	MentionAll     bool        `json:"mention_all,omitempty"`
	ReplyToID      string      `json:"reply_to_id,omitempty"`
	FileID         string      `json:"file_id,omitempty"`
	// Ding makes the message urgent (DING): its recipients must
	// acknowledge it and are reminded until they do.
	Ding *DingRequest `json:"ding,omitempty"`
}

const (
	maxClientMsgID = 64
	maxMentions    = 100
	maxQuoteRunes  = 200
	maxEmojiBytes  = 32
)

func validClientMsgID(id string) error {
	if id == "" || len(id) > maxClientMsgID {
		return core.Invalid("client_msg_id", "client_msg_id must be 1 to %d characters", maxClientMsgID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':') {
			return core.Invalid("client_msg_id", "client_msg_id may hold only letters, digits and - _ . :")
		}
	}
	return nil
}

func (s *Service) validText(text string, required bool) error {
	if !utf8.ValidString(text) {
		return core.Invalid("text", "text must be valid UTF-8")
	}
	if len(text) > s.cfg.MaxTextBytes {
		return (&core.Error{Code: core.ETooLarge, Field: "text", Message: "the text is too long"}).With("limit", s.cfg.MaxTextBytes)
	}
	if required && strings.TrimSpace(text) == "" {
		return core.Invalid("text", "the message is empty")
	}
	return nil
}

func quote(text string) string {
	if utf8.RuneCountInString(text) <= maxQuoteRunes {
		return text
	}
	r := []rune(text)
	return string(r[:maxQuoteRunes]) + "…"
}

// Send posts a message. Only members may; in announcement mode only owners
// and admins. The message gets the conversation's next seq in the same
// transaction that writes its event, so every member sees the same order.
func (s *Service) Send(ctx context.Context, a core.Actor, req SendRequest) (Message, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Message{}, err
	}
	if req.Kind == "" {
		req.Kind = KindText
	}
	if err := validClientMsgID(req.ClientMsgID); err != nil {
		return Message{}, err
	}
	switch req.Kind {
	case KindText:
		if req.FileID != "" {
			return Message{}, core.Invalid("file_id", "a text message carries no file")
		}
		if err := s.validText(req.Text, true); err != nil {
			return Message{}, err
		}
	case KindFile, KindImage:
		if !core.ValidID(req.FileID) {
			return Message{}, core.Invalid("file_id", "a %s message needs a file_id from an upload", req.Kind)
		}
		if err := s.validText(req.Text, false); err != nil {
			return Message{}, err
		}
	case KindCard:
		if a.Kind != core.ActorBot && a.Kind != core.ActorApp && !a.IsSystem() {
			return Message{}, core.Errorf(core.EForbidden, "only bots and apps post cards")
		}
		if err := validCard(req.Text); err != nil {
			return Message{}, err
		}
	default:
		return Message{}, core.Invalid("kind", "kind must be text, file or image")
	}
	if len(req.Mentions) > maxMentions {
		return Message{}, core.Invalid("mentions", "at most %d mentions", maxMentions)
	}
	mentions, err := cleanIDs(req.Mentions, "mentions")
	if err != nil {
		return Message{}, err
	}
	if req.ReplyToID != "" && !core.ValidID(req.ReplyToID) {
		return Message{}, core.Invalid("reply_to_id", "reply_to_id is not a valid id")
	}
	if !core.ValidID(req.ConversationID) {
		return Message{}, core.Invalid("conversation_id", "conversation_id is not a valid id")
	}
	// A retry of a send that committed: answer with the original (only the
	// sender's own message can match). Membership is checked in the
	// transaction below.
	if m, err := s.store.MessageByClientID(ctx, req.ConversationID, uid, req.ClientMsgID); err == nil {
		return m, nil
	} else if !core.IsCode(err, core.ENotFound) {
		return Message{}, err
	}
	var m Message
	var evs []Event
	var orgID string
	var readMoved, receiptsOn bool
	err = s.store.InTx(ctx, func(tx Tx) error {
		c, mem, err := membership(ctx, tx, req.ConversationID, uid)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, a, c.OrgID, "im.message", "use"); err != nil {
			return err
		}
		orgID = c.OrgID
		if c.Announcement && !mem.IsManager() {
			return core.Errorf(core.EForbidden, "this group is announcement-only: only the owner and admins post")
		}
		if req.MentionAll && c.Kind == Direct {
			return core.Invalid("mention_all", "@all is for groups")
		}
		for _, id := range mentions {
			if _, err := tx.Member(ctx, c.ID, id); err != nil {
				if core.IsCode(err, core.ENotFound) {
					return core.Invalid("mentions", "%s is not a member of this conversation", id).With("user_id", id)
				}
				return err
			}
		}
		m = Message{ID: core.NewID(), ConversationID: c.ID, SenderID: uid, ClientMsgID: req.ClientMsgID, Kind: req.Kind,
			Text: req.Text, Mentions: mentions, MentionAll: req.MentionAll, ReplyToID: req.ReplyToID, FileID: req.FileID, CreatedAt: s.clock.Now()}
		if m.FileID != "" {
			if err := attachFile(ctx, tx, &m); err != nil {
				return err
			}
		}
		if req.ReplyToID != "" {
			q, err := tx.Message(ctx, req.ReplyToID)
			if err != nil || q.ConversationID != c.ID {
				return core.Invalid("reply_to_id", "the quoted message is not in this conversation")
			}
			if q.Recalled() {
				return core.Invalid("reply_to_id", "the quoted message was recalled")
			}
			m.ReplyQuote = quote(q.Text)
		}
		var recipients []DingRecipient
		if req.Ding != nil {
			if recipients, err = s.resolveDing(ctx, tx, c, uid, req.Ding); err != nil {
				return err
			}
			m.Urgent = true
		}
		if m.Seq, err = tx.NextSeq(ctx, c.ID); err != nil {
			return err
		}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		// Replying means having read everything before: the sender's read
		// position moves, and the others see that as a receipt.
		if readMoved, err = tx.AdvanceRead(ctx, c.ID, uid, m.Seq); err != nil {
			return err
		}
		receiptsOn = !c.ReceiptsOff && !mem.IsBot() // a bot is no reader
		all := []Event{{Type: EvMessagePosted, ConversationID: c.ID, Data: mustJSON(m)}}
		if m.Urgent {
			d := Ding{MessageID: m.ID, ConversationID: c.ID, OrgID: c.OrgID, SenderID: uid, CreatedAt: m.CreatedAt,
				NextRemindAt: m.CreatedAt.Add(s.cfg.DingRemindEvery), Recipients: recipients}
			if err := tx.InsertDing(ctx, d); err != nil {
				return err
			}
			notice := mustJSON(DingNotice{Message: m})
			for _, r := range recipients {
				all = append(all, Event{Type: EvDing, ConversationID: c.ID, UserID: r.UserID, Data: notice})
			}
		}
		evs, err = tx.Append(ctx, all...)
		return err
	})
	if core.IsCode(err, core.EConflict) {
		// The same send raced itself; the other attempt won.
		return s.store.MessageByClientID(ctx, req.ConversationID, uid, req.ClientMsgID)
	}
	if err != nil {
		return Message{}, err
	}
	s.notify(ctx, evs)
	if s.observer != nil {
		s.observer.MessageSent(string(m.Kind), m.Urgent)
	}
	if readMoved && receiptsOn {
		s.queueReceipt(m.ConversationID, uid, m.Seq)
	}
	s.indexMessage(ctx, orgID, m)
	return m, nil
}

// Edit replaces the text of the actor's own text message.
func (s *Service) Edit(ctx context.Context, a core.Actor, messageID, text string) (Message, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Message{}, err
	}
	if !core.ValidID(messageID) {
		return Message{}, core.Invalid("message_id", "message_id is not a valid id")
	}
	if err := s.validText(text, true); err != nil {
		return Message{}, err
	}
	var m Message
	var evs []Event
	var orgID string
	err = s.store.InTx(ctx, func(tx Tx) error {
		if m, err = tx.Message(ctx, messageID); err != nil {
			return err
		}
		c, _, err := membership(ctx, tx, m.ConversationID, uid)
		if err != nil {
			return err
		}
		orgID = c.OrgID
		if m.SenderID != uid {
			return core.Errorf(core.EForbidden, "you can edit only your own messages")
		}
		if m.Recalled() {
			return core.Errorf(core.EConflict, "the message was recalled")
		}
		if m.Kind != KindText {
			return core.Invalid("message_id", "only text messages can be edited")
		}
		m.Text, m.EditedAt = text, s.clock.Now()
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvMessageEdited, ConversationID: m.ConversationID, Data: mustJSON(m)})
		return err
	})
	if err != nil {
		return Message{}, err
	}
	s.notify(ctx, evs)
	s.indexMessage(ctx, orgID, m)
	return m, nil
}

// Recall withdraws a message for everyone: its text, mentions, file,
// reactions and the quotes of it in replies are gone, and it leaves the
// search index. The sender may recall within the recall window; the group's
// owner and admins at any time.
func (s *Service) Recall(ctx context.Context, a core.Actor, messageID string) (Message, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Message{}, err
	}
	if !core.ValidID(messageID) {
		return Message{}, core.Invalid("message_id", "message_id is not a valid id")
	}
	var m Message
	var evs []Event
	var gone *File
	err = s.store.InTx(ctx, func(tx Tx) error {
		if m, err = tx.Message(ctx, messageID); err != nil {
			return err
		}
		c, mem, err := membership(ctx, tx, m.ConversationID, uid)
		if err != nil {
			return err
		}
		if m.Recalled() {
			return nil // already gone; recall is idempotent
		}
		manager := c.Kind != Direct && mem.IsManager()
		switch {
		case manager:
		case m.SenderID != uid:
			return core.Errorf(core.EForbidden, "you can recall only your own messages")
		case s.clock.Now().Sub(m.CreatedAt) > s.cfg.RecallWindow:
			return core.Errorf(core.EForbidden, "messages can be recalled only within %s", s.cfg.RecallWindow).With("window_seconds", int(s.cfg.RecallWindow.Seconds()))
		}
		if m.FileID != "" {
			if f, err := tx.File(ctx, m.FileID); err == nil {
				gone = &f
				if err := tx.DeleteFile(ctx, f.ID); err != nil {
					return err
				}
			}
		}
		m.Text, m.Mentions, m.MentionAll, m.ReplyQuote, m.FileID, m.Reactions = "", nil, false, "", "", nil
		m.RecalledAt, m.RecalledBy = s.clock.Now(), uid
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		if err := tx.ClearQuotes(ctx, m.ID); err != nil {
			return err
		}
		if err := tx.DeleteReactions(ctx, m.ID); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvMessageRecalled, ConversationID: m.ConversationID, Data: mustJSON(m)})
		return err
	})
	if err != nil {
		return Message{}, err
	}
	s.notify(ctx, evs)
	if gone != nil && s.files != nil {
		s.dropBlobs(ctx, *gone)
	}
	if s.index != nil && len(evs) > 0 && !s.indexFollowed.Load() {
		if err := s.index.Delete(context.WithoutCancel(ctx), m.ID); err != nil {
			// The message is recalled in the database; reindex repairs the
			// index, and search results are re-checked against the store.
			s.log.Warn("im: removing a recalled message from search failed", "message_id", m.ID, "err", err)
		}
	}
	return m, nil
}

// React adds (add=true) or removes the actor's emoji on a message.
func (s *Service) React(ctx context.Context, a core.Actor, messageID, emoji string, add bool) error {
	uid, err := actorUser(a)
	if err != nil {
		return err
	}
	if !core.ValidID(messageID) {
		return core.Invalid("message_id", "message_id is not a valid id")
	}
	if emoji == "" || len(emoji) > maxEmojiBytes || !utf8.ValidString(emoji) || strings.ContainsAny(emoji, " \t\r\n") {
		return core.Invalid("emoji", "emoji must be 1 to %d bytes without spaces", maxEmojiBytes)
	}
	var evs []Event
	err = s.store.InTx(ctx, func(tx Tx) error {
		m, err := tx.Message(ctx, messageID)
		if err != nil {
			return err
		}
		if _, _, err := membership(ctx, tx, m.ConversationID, uid); err != nil {
			return err
		}
		if m.Recalled() {
			return core.Errorf(core.EConflict, "the message was recalled")
		}
		changed, err := tx.SetReaction(ctx, m.ID, uid, emoji, add)
		if err != nil || !changed {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvReaction, ConversationID: m.ConversationID,
			Data: mustJSON(ReactionChange{MessageID: m.ID, Seq: m.Seq, UserID: uid, Emoji: emoji, Added: add})})
		return err
	})
	if err != nil {
		return err
	}
	s.notify(ctx, evs)
	return nil
}

// History returns a page of a conversation's messages (see HistoryQuery).
func (s *Service) History(ctx context.Context, a core.Actor, convID string, q HistoryQuery) ([]Message, error) {
	uid, err := actorUser(a)
	if err != nil {
		return nil, err
	}
	if q.Before < 0 || q.After < 0 {
		return nil, core.Invalid("before", "before and after must not be negative")
	}
	if q.Before > 0 && q.After > 0 {
		return nil, core.Invalid("after", "give before or after, not both")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > core.MaxPageLimit {
		q.Limit = core.MaxPageLimit
	}
	if _, _, err := membership(ctx, s.store, convID, uid); err != nil {
		return nil, err
	}
	return s.store.Messages(ctx, convID, q)
}

// Message returns one message the actor may see.
func (s *Service) Message(ctx context.Context, a core.Actor, messageID string) (Message, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Message{}, err
	}
	if !core.ValidID(messageID) {
		return Message{}, core.Invalid("message_id", "message_id is not a valid id")
	}
	m, err := s.store.Message(ctx, messageID)
	if err != nil {
		return m, err
	}
	if _, _, err := membership(ctx, s.store, m.ConversationID, uid); err != nil {
		return Message{}, err
	}
	return m, nil
}

// maxCardBytes bounds a card's JSON.
const maxCardBytes = 4096

// validCard accepts a JSON object with a string "type".
func validCard(text string) error {
	if len(text) > maxCardBytes {
		return core.Invalid("text", "a card is at most %d bytes of JSON", maxCardBytes)
	}
	var c struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(text), &c); err != nil || c.Type == "" {
		return core.Invalid("text", `a card is a JSON object with a "type"`)
	}
	return nil
}

// searchable reports whether a message belongs in the search index:
// recalled, empty and card messages do not.
func searchable(m Message) bool {
	return !m.Recalled() && strings.TrimSpace(m.Text) != "" && m.Kind != KindCard
}

// messageDoc is a message as the search index holds it.
func messageDoc(orgID string, m Message) search.Doc {
	return search.Doc{ID: m.ID, Kind: "message", OrgID: orgID, Scope: m.ConversationID, AuthorID: m.SenderID, Text: m.Text, At: m.CreatedAt}
}

func (s *Service) indexMessage(ctx context.Context, orgID string, m Message) {
	if s.index == nil || s.indexFollowed.Load() || !searchable(m) {
		return
	}
	if err := s.index.Put(context.WithoutCancel(ctx), messageDoc(orgID, m)); err != nil {
		s.log.Warn("im: indexing a message failed; rounds reindex repairs it", "message_id", m.ID, "err", err)
	}
}
