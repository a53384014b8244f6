package im

import (
	"context"
	"encoding/json"

	"github.com/roundshq/rounds/core"
)

// TypingSignal is published on SubjectTyping; it is never stored.
type TypingSignal struct {
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
}

// Typing tells the other members that the actor is typing. Only members
// may; the signal goes over the bus only.
func (s *Service) Typing(ctx context.Context, a core.Actor, convID string) error {
	uid, err := actorUser(a)
	if err != nil {
		return err
	}
	if _, _, err := membership(ctx, s.store, convID, uid); err != nil {
		return err
	}
	if s.bus == nil {
		return nil
	}
	b, _ := json.Marshal(TypingSignal{ConversationID: convID, UserID: uid})
	return s.bus.Publish(ctx, SubjectTyping, b)
}

// Kick cuts a person off chat on every node at once (their connections
// close); used when they leave the organisation.
func (s *Service) Kick(ctx context.Context, userID string) error {
	if s.bus == nil {
		return nil
	}
	b, _ := json.Marshal(struct {
		UserID string `json:"user_id"`
	}{userID})
	return s.bus.Publish(ctx, SubjectKick, b)
}
