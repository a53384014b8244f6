package im

import (
	"context"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
)

// OnDutyResolver answers "who is on duty for target now" — the seam the
// rostering area fills. target names a duty such as a ward's department id;
// the implementation applies the fallback (on call → backup → head nurse)
// and returns the people to reach, never an empty list without an error.
type OnDutyResolver interface {
	OnDuty(ctx context.Context, orgID, target string, at time.Time) ([]string, error)
}

// Managers finds whom to escalate to: the org chart's ManagerOf (levelsUp 1
// is the sender's department head).
type Managers interface {
	ManagerOf(ctx context.Context, orgID, userID string, levelsUp int) ([]string, error)
}

// DingRequest makes a message urgent: the listed people (and whoever is on
// duty for each OnDuty target) must acknowledge it.
type DingRequest struct {
	UserIDs []string `json:"user_ids,omitempty"`
	OnDuty  []string `json:"on_duty,omitempty"`
}

// Ding is an urgent message's acknowledgement state, as its sender sees it.
type Ding struct {
	MessageID      string          `json:"message_id"`
	ConversationID string          `json:"conversation_id"`
	OrgID          string          `json:"org_id"`
	SenderID       string          `json:"sender_id"`
	CreatedAt      time.Time       `json:"created_at"`
	Reminders      int             `json:"reminders"`
	NextRemindAt   time.Time       `json:"next_remind_at,omitzero"`
	EscalatedTo    string          `json:"escalated_to,omitempty"`
	EscalatedAt    time.Time       `json:"escalated_at,omitzero"`
	Recipients     []DingRecipient `json:"recipients"`
}

// DingRecipient is one person who must acknowledge.
type DingRecipient struct {
	UserID  string    `json:"user_id"`
	Via     string    `json:"via,omitempty"` // "" when named, "on_duty:<target>" when resolved
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// DingNotice is the data of the personal ding, ding.reminder and
// ding.escalated events: the message itself travels with it, because an
// on-duty recipient need not be a member of the conversation.
type DingNotice struct {
	Message  Message `json:"message"`
	Reminder int     `json:"reminder,omitempty"`
	// Unacked lists who has not acknowledged (escalation only).
	Unacked []string `json:"unacked,omitempty"`
}

// DingAck is the data of ding.ack, sent to the sender.
type DingAck struct {
	MessageID string    `json:"message_id"`
	UserID    string    `json:"user_id"`
	AckedAt   time.Time `json:"acked_at"`
}

// Ding event types (personal).
const (
	EvDing          = "ding"           // to each recipient
	EvDingReminder  = "ding.reminder"  // to those who have not acknowledged
	EvDingAck       = "ding.ack"       // to the sender
	EvDingEscalated = "ding.escalated" // to the escalation target and the sender
)

const maxDingRecipients = 500

// resolveDing turns a request into recipients (deduplicated, sender
// excluded). Named people must be members of the conversation (bots among
// them are left out); on-duty people are reached wherever they are.
func (s *Service) resolveDing(ctx context.Context, r Reader, c Conversation, sender string, d *DingRequest) ([]DingRecipient, error) {
	named, err := cleanIDs(d.UserIDs, "ding.user_ids")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{sender: true}
	var out []DingRecipient
	for _, u := range named {
		if seen[u] {
			continue
		}
		mem, err := r.Member(ctx, c.ID, u)
		if err != nil {
			if core.IsCode(err, core.ENotFound) {
				return nil, core.Invalid("ding.user_ids", "%s is not a member of this conversation", u).With("user_id", u)
			}
			return nil, err
		}
		seen[u] = true
		if mem.IsBot() {
			continue // a bot cannot acknowledge: "everyone" leaves it out
		}
		out = append(out, DingRecipient{UserID: u})
	}
	for _, target := range d.OnDuty {
		target = strings.TrimSpace(target)
		if target == "" || len(target) > 128 {
			return nil, core.Invalid("ding.on_duty", "name the duty (for example a ward's department id)")
		}
		if s.onDuty == nil {
			return nil, core.Errorf(core.EUnavailable, "on-duty recipients need rostering, which is not configured")
		}
		us, err := s.onDuty.OnDuty(ctx, c.OrgID, target, s.clock.Now())
		if err != nil {
			return nil, err
		}
		if len(us) == 0 {
			return nil, core.Invalid("ding.on_duty", "nobody is on duty for %s", target).With("target", target)
		}
		for _, u := range us {
			if !seen[u] {
				seen[u] = true
				out = append(out, DingRecipient{UserID: u, Via: "on_duty:" + target})
			}
		}
	}
	if len(out) == 0 {
		return nil, core.Invalid("ding.user_ids", "an urgent message needs at least one recipient besides you")
	}
	if len(out) > maxDingRecipients {
		return nil, core.Invalid("ding.user_ids", "at most %d recipients", maxDingRecipients)
	}
	return out, nil
}

// AckDing acknowledges an urgent message; the sender gets a ding.ack event.
// Acknowledging twice is harmless.
func (s *Service) AckDing(ctx context.Context, a core.Actor, messageID string) (DingRecipient, error) {
	uid, err := actorUser(a)
	if err != nil {
		return DingRecipient{}, err
	}
	if !core.ValidID(messageID) {
		return DingRecipient{}, core.Invalid("message_id", "message_id is not a valid id")
	}
	var rec DingRecipient
	var evs []Event
	err = s.store.InTx(ctx, func(tx Tx) error {
		d, err := tx.Ding(ctx, messageID)
		if err != nil {
			return err
		}
		found := false
		for _, r := range d.Recipients {
			if r.UserID == uid {
				rec, found = r, true
			}
		}
		if !found {
			return core.Errorf(core.EForbidden, "this urgent message is not addressed to you")
		}
		if !rec.AckedAt.IsZero() {
			return nil
		}
		rec.AckedAt = s.clock.Now()
		if err := tx.AckDing(ctx, messageID, uid, rec.AckedAt); err != nil {
			return err
		}
		evs, err = tx.Append(ctx, Event{Type: EvDingAck, ConversationID: d.ConversationID, UserID: d.SenderID,
			Data: mustJSON(DingAck{MessageID: messageID, UserID: uid, AckedAt: rec.AckedAt})})
		return err
	})
	if err != nil {
		return DingRecipient{}, err
	}
	s.notify(ctx, evs)
	return rec, nil
}

// DingStatus shows who acknowledged an urgent message and when. The sender
// and the recipients may look.
func (s *Service) DingStatus(ctx context.Context, a core.Actor, messageID string) (Ding, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Ding{}, err
	}
	if !core.ValidID(messageID) {
		return Ding{}, core.Invalid("message_id", "message_id is not a valid id")
	}
	d, err := s.store.Ding(ctx, messageID)
	if err != nil {
		return Ding{}, err
	}
	if d.SenderID == uid {
		return d, nil
	}
	for _, r := range d.Recipients {
		if r.UserID == uid {
			return d, nil
		}
	}
	return Ding{}, core.Errorf(core.ENotFound, "urgent message not found")
}

// RemindDings sends the reminders that are due: each unacknowledged
// recipient gets a ding.reminder; after MaxDingReminders reminders the
// sender's department head (Managers) gets ding.escalated and reminders
// stop. Safe to run on several nodes at once: each step is claimed with a
// conditional update, so a reminder goes out once.
func (s *Service) RemindDings(ctx context.Context) (int, error) {
	now := s.clock.Now()
	due, err := s.store.DueDings(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		var unacked []string
		for _, r := range d.Recipients {
			if r.AckedAt.IsZero() {
				unacked = append(unacked, r.UserID)
			}
		}
		escalate := len(unacked) > 0 && d.Reminders >= s.cfg.MaxDingReminders
		var target string
		if escalate && s.managers != nil {
			ms, err := s.managers.ManagerOf(ctx, d.OrgID, d.SenderID, 1)
			if err != nil {
				s.log.Warn("im: finding whom to escalate a ding to failed", "message_id", d.MessageID, "err", err)
			} else if len(ms) > 0 {
				target = ms[0]
			}
		}
		var evs []Event
		err := s.store.InTx(ctx, func(tx Tx) error {
			m, err := tx.Message(ctx, d.MessageID)
			if err != nil {
				return err
			}
			next := d
			switch {
			case len(unacked) == 0 || m.Recalled():
				next.NextRemindAt = time.Time{}
			case escalate:
				next.NextRemindAt, next.EscalatedTo, next.EscalatedAt = time.Time{}, target, now
			default:
				next.Reminders++
				next.NextRemindAt = now.Add(s.cfg.DingRemindEvery)
			}
			claimed, err := tx.ClaimDingStep(ctx, d, next)
			if err != nil || !claimed {
				return err
			}
			if len(unacked) == 0 || m.Recalled() {
				return nil
			}
			var out []Event
			if escalate {
				notice := mustJSON(DingNotice{Message: m, Unacked: unacked})
				for _, u := range []string{target, d.SenderID} {
					if u != "" {
						out = append(out, Event{Type: EvDingEscalated, ConversationID: d.ConversationID, UserID: u, Data: notice})
					}
				}
			} else {
				notice := mustJSON(DingNotice{Message: m, Reminder: next.Reminders})
				for _, u := range unacked {
					out = append(out, Event{Type: EvDingReminder, ConversationID: d.ConversationID, UserID: u, Data: notice})
				}
			}
			evs, err = tx.Append(ctx, out...)
			return err
		})
		if err != nil {
			s.log.Warn("im: ding reminder failed", "message_id", d.MessageID, "err", err)
			continue
		}
		sent += len(evs)
		s.notify(ctx, evs)
	}
	return sent, nil
}
